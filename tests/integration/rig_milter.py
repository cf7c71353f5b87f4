"""
NAME
    rig_milter - targrey-milter under test, with its log and targreyctl
DESCRIPTION
    Part of the integration rig; see rig.py.
"""

import os
import pwd
import re
import socket
import struct
import subprocess
import time
from signal import SIGHUP, SIGKILL, SIGTERM

from rig_base import (BUILDDIR, RigError, TestFailure, _Daemon, free_port,
    tcp_listening, unprivileged_user, wait_until)


_DECISION_RX = re.compile(r"(?P<queue_id>\S+): action=(?P<action>\S+) "
    r"reason=(?P<reason>\S*) client=(?P<name>[^\s\[]*)\[(?P<addr>[^\]]*)\] "
    r"helo=<(?P<helo>[^>]*)> from=<(?P<from>[^>]*)> to=<(?P<to>[^>]*)> "
    r"stage=(?P<stage>\S+) delay=(?P<delay>[0-9.]+) ?(?P<extra>.*)$")

class Milter(_Daemon):
    """targrey-milter -f -c CONF, on inet:PORT@127.0.0.1."""

    def __init__(self, workdir, dns_server=None, params=None, binary=None):
        super().__init__("targrey-milter", os.path.join(workdir,
            "milter.log"))
        self.dir = workdir
        self.binary = binary or os.path.join(BUILDDIR, "src",
            "targrey-milter")
        self.conf = os.path.join(workdir, "targrey-milter.conf")
        self.signalled = False  # the test sent a signal that ends it
        self.wrapper = []  # argv prefix, e.g. unshare(1) for a private mount
        self.port = free_port()
        os.makedirs(os.path.join(workdir, "state"), exist_ok=True)
        os.chmod(workdir, 0o755)
        self.params = {
            "config_directory": workdir,
            "milter_socket": "inet:%d@127.0.0.1" % self.port,
            "pid_file": os.path.join(workdir, "targrey-milter.pid"),
            "state_directory": os.path.join(workdir, "state"),
            "trusted_networks": "[::1]/128",
            "tarpit_delay": "6s",
            "shutdown_timeout": "5s",
            "log_level": "1",
            "syslog_name": "targrey-milter-rig",
        }
        if dns_server:
            self.params["dns_servers"] = dns_server
        if os.geteuid() == 0:
            user, group, uid, gid = unprivileged_user()
            self.params.update(user=user, group=group)
            for d in (workdir, os.path.join(workdir, "state")):
                os.chown(d, uid, gid)
        self.params.update(params or {})

    def write_config(self):
        """Write self.params as the milter's configuration file."""
        with open(self.conf, "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))
        os.chmod(self.conf, 0o644)

    def start(self, timeout=15, new_port=False):
        """Start in the foreground; wait until it listens on its port.

        When new_port and the port was taken meanwhile, choose another
        (up to three times; only before Postfix is configured).
        """
        if not os.access(self.binary, os.X_OK):
            raise RigError("%s not built (TG_BUILDDIR=%s)" %
                (self.binary, BUILDDIR))
        for attempt in range(3):
            self.write_config()
            since = self.log.mark()
            self.signalled = False
            self._spawn(self.wrapper + [self.binary, "-f", "-c", self.conf])
            def ready():
                if not self.running():
                    raise RigError("targrey-milter exited (status %s):"
                        "\n%s" % (self.proc.returncode,
                        self.log.tail(since)))
                return tcp_listening(self.proc.pid, self.port)
            try:
                wait_until(ready, timeout, "targrey-milter to listen"
                    " on %d" % self.port)
                return
            except RigError:
                _Daemon.stop(self)
                if not new_port or attempt == 2 or "cannot listen" \
                    not in self.log.text(since):
                    raise
                self.set_port(free_port())

    def set_port(self, port):
        """Listen on another port (takes effect at the next start)."""
        self.port = port
        self.params["milter_socket"] = "inet:%d@127.0.0.1" % port

    def stop(self, timeout=15):
        """SIGTERM; RigError if it was running and did not exit 0, or if
        its log holds a sanitizer report."""
        was_running = self.running()
        status = super().stop(timeout)
        bad = self.log.grep(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
            r"runtime error: |ThreadSanitizer")
        if bad:
            raise RigError("sanitizer report in %s:\n%s" % (self.log.path,
                self.log.tail(lines=60)))
        if was_running and status != 0:
            raise RigError("targrey-milter exit status %s on SIGTERM:\n%s"
                % (status, self.log.tail()))
        if not was_running and status not in (None, 0) and \
            not self.signalled:
            raise RigError("targrey-milter died by itself (status %s):\n%s"
                % (status, self.log.tail()))
        return status

    def signal(self, sig):
        """Send sig; a later exit then counts as expected."""
        if sig != SIGHUP:
            self.signalled = True
        super().signal(sig)

    def status(self):
        """Threads and VmRSS (kB) of the running milter, from /proc/PID/status."""
        out = {}
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in ("Threads", "VmRSS"):
                    out[key] = int(val.split()[0])
        return out

    def decisions(self, since=0):
        """Decision lines (from since) parsed into dicts: queue_id, action,
        reason, name, addr, helo, from, to, stage, delay, extra, line."""
        out = []
        for line in self.log.text(since).splitlines():
            m = _DECISION_RX.search(line)
            if m:
                d = m.groupdict()
                d["line"] = line
                out.append(d)
        return out

    def wait_decision(self, since=0, timeout=10, **want):
        """Wait for a decision line whose fields equal want (e.g.
        queue_id="ABC", addr="127.0.0.9", action="accept"); its dict."""
        def found():
            for d in self.decisions(since):
                if all(d.get(k) == v for k, v in want.items()):
                    return d
            return None
        try:
            return wait_until(found, timeout, "decision %r" % want)
        except RigError as e:
            raise TestFailure("%s\n--- %s (tail) ---\n%s" % (e,
                self.log.path, self.log.tail(since)))

    def ctl(self, *args, timeout=60, stdin=None):
        """Run targreyctl -c CONF ARGS as the milter's user; the
        CompletedProcess (text). Running as that user keeps files it
        creates in the state directory usable by the daemon."""
        argv = [os.path.join(os.path.dirname(self.binary), "targreyctl"),
            "-c", self.conf] + list(args)
        user = self.params.get("user") if os.geteuid() == 0 else None
        kw = {}
        if user:
            pw = pwd.getpwnam(user)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid,
                "extra_groups": []}
        return subprocess.run(argv, capture_output=True, text=True,
            timeout=timeout, input=stdin, **kw)

    def reload(self, **params):
        """Change parameters, rewrite the configuration, send SIGHUP."""
        self.params.update(params)
        self.write_config()
        self.signal(SIGHUP)

    def kill(self, sig=SIGKILL, timeout=10):
        """Send sig and wait for the exit; the exit status."""
        self.signal(sig)
        return self.wait_exit(timeout)

    def restart(self, sig=SIGTERM):
        """Stop with sig (SIGTERM or SIGKILL), start again on the same port."""
        if self.running():
            self.kill(sig, 15)
        self.start()


def milterload(port, *args, timeout=90):
    """Run $TG_BUILDDIR/tests/bench/milterload -s inet:PORT@127.0.0.1
    ARGS; the CompletedProcess (text). See tests/bench/README.md."""
    argv = [os.path.join(BUILDDIR, "tests", "bench", "milterload"), "-s",
        "inet:%d@127.0.0.1" % port] + [str(a) for a in args]
    if not os.access(argv[0], os.X_OK):
        raise RigError("%s not built" % argv[0])
    return subprocess.run(argv, capture_output=True, text=True,
        timeout=timeout)


class MilterClient:
    """The MTA side of the milter protocol (version 6) over TCP, packet
    by packet, for hostile-input tests: MilterClient(port) connects and
    negotiates like Postfix (every action and protocol flag offered);
    connect(), helo(), mail(), rcpt() send one event (after an empty
    macro packet, or MACROS) and return the milter's final reply
    command ('c', 't', 'y', ...), None when the milter asked for no
    reply, "skip" when it declined the event; raw() sends bytes as
    they are; closed() tells whether the milter hung up."""

    FINAL = set(b"acrtyds4f")
    # event command -> (SMFIP_NO* flag, SMFIP_NR_* flag)
    FLAGS = {b"C": (0x1, 0x1000), b"H": (0x2, 0x2000), b"M": (0x4, 0x4000),
        b"R": (0x8, 0x8000)}

    def __init__(self, port, timeout=10, negotiate=True):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.pflags = 0
        if negotiate:
            self.send(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))
            cmd, data = self.reply()
            if cmd != b"O" or len(data) < 12:
                raise RigError("milter option negotiation: got %r %r" %
                    (cmd, data[:16]))
            self.pflags = struct.unpack(">III", data[:12])[2]

    def raw(self, data):
        """Send bytes as they are."""
        self.sock.sendall(data)

    def send(self, cmd, data=b""):
        """Send one packet: length, command, data."""
        self.raw(struct.pack(">I", len(data) + 1) + cmd + data)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def reply(self):
        """The next packet from the milter (cmd, data); (None, None) on EOF."""
        self.sock.settimeout(self.timeout)
        head = self._read(4)
        if head is None:
            return None, None
        n = struct.unpack(">I", head)[0]
        body = self._read(n)
        if body is None or n == 0:
            return None, None
        return body[:1], body[1:]

    def event(self, cmd, data, macros=None):
        """Macro packet plus event; the final reply command (see class)."""
        mac = b"".join(k + b"\0" + v + b"\0" for k, v in (macros or {}).items())
        self.send(b"D", cmd + mac)
        skip, noreply = self.FLAGS.get(cmd, (0, 0))
        if self.pflags & skip:
            return "skip"
        self.send(cmd, data)
        if self.pflags & noreply:
            return None
        while True:
            rcmd, _ = self.reply()
            if rcmd is None or rcmd[0] in self.FINAL:
                return rcmd

    def connect(self, name, addr, port=40000, macros=None):
        """SMFIC_CONNECT for an IPv4 client."""
        return self.event(b"C", _z(name) + b"4" + struct.pack(">H", port) +
            _z(addr), macros)

    def helo(self, name, macros=None):
        return self.event(b"H", _z(name), macros)

    def mail(self, *args, macros=None):
        return self.event(b"M", b"".join(_z(a) for a in args), macros)

    def rcpt(self, *args, macros=None):
        return self.event(b"R", b"".join(_z(a) for a in args), macros)

    def quit(self):
        """SMFIC_QUIT, then close."""
        try:
            self.send(b"Q")
        except OSError:
            pass
        self.close()

    def closed(self, timeout=10):
        """True when the milter closed the connection within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
        return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _z(s):
    """s (str or bytes) as a NUL-terminated byte string."""
    return (s if isinstance(s, bytes) else s.encode()) + b"\0"
