"""
NAME
    rig_base - errors, waits, ports, processes and log files of the rig
DESCRIPTION
    Part of the integration rig; see rig.py.
"""

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDDIR = os.environ.get("TG_BUILDDIR") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


class RigError(Exception):
    """The harness could not do what was asked (not a test verdict)."""


class TestFailure(Exception):
    """A test assertion failed."""


class RigInterrupted(BaseException):
    """A signal or the watchdog ended the test."""


def check(cond, what, got=None, want=None, detail=None):
    """Fail the test with "WHAT: got X, want Y" unless cond holds."""
    if cond:
        return
    msg = what if got is None and want is None else \
        "%s: got %r, want %r" % (what, got, want)
    if detail:
        msg += "\n--- detail ---\n" + str(detail)
    raise TestFailure(msg)


def tool(name):
    """Full path of a required program, or RigError naming its package."""
    packages = {"postfix": "postfix", "postconf": "postfix", "nsd": "nsd",
        "nsd-checkconf": "nsd", "swaks": "swaks", "dig": "dnsutils"}
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":" +
        ":".join(SBIN))
    if path is None:
        raise RigError("%s not found: install the Debian package %s" %
            (name, packages.get(name, name)))
    return path


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until it returns a true value (returned) or time out."""
    deadline = time.monotonic() + timeout
    while True:
        val = pred()
        if val:
            return val
        if time.monotonic() >= deadline:
            raise RigError("timed out after %.1fs waiting for %s" %
                (timeout, what))
        time.sleep(interval)


def free_port(udp=False):
    """A currently free loopback port (TCP, and UDP too when udp)."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if not udp:
                return port
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
            finally:
                u.close()
        finally:
            t.close()
    raise RigError("no free loopback port found")


def have_ipv6():
    """True when ::1 can be bound (Postfix then takes inet_protocols=all)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.bind(("::1", 0))
        return True
    except OSError:
        return False


def _proc_children(pid):
    """Pids of the direct children of pid (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def terminate(proc, timeout=20):
    """SIGTERM a subprocess.Popen, then SIGKILL it after TIMEOUT seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def descendants(pid):
    """All descendants of pid, children first."""
    out = []
    for kid in _proc_children(pid):
        out.append(kid)
        out.extend(descendants(kid))
    return out


def cmdline(pid):
    """The command line of pid, arguments separated by spaces; "" once
    it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().rstrip(b"\0").replace(b"\0", b" ").decode(
                "utf-8", "replace")
    except OSError:
        return ""


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _socket_inodes(pid):
    """Inodes of the sockets process pid holds open."""
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def tcp_listening(pid, port):
    """True when process pid has a TCP socket listening on port."""
    mine = _socket_inodes(pid)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            lport = int(cols[1].rsplit(":", 1)[1], 16)
            if lport == port and cols[3] == "0A" and cols[9] in mine:
                return True
    return False


class LogFile:
    """A log file that grows; tests mark a position and wait for lines."""

    def __init__(self, path):
        self.path = path

    def text(self, since=0):
        """The file's contents from byte offset since ('' if absent)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        """Current size: pass it as since= to look only at newer lines."""
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def grep(self, pattern, since=0):
        """Lines (from since) matching the regular expression."""
        rx = re.compile(pattern)
        return [l for l in self.text(since).splitlines() if rx.search(l)]

    def wait(self, pattern, timeout=10, since=0, count=1):
        """Wait until count lines match; return them (RigError on time out)."""
        def found():
            hits = self.grep(pattern, since)
            return hits if len(hits) >= count else None
        try:
            return wait_until(found, timeout, "%r in %s" %
                (pattern, self.path))
        except RigError as e:
            raise TestFailure("%s\n--- %s (tail) ---\n%s" %
                (e, self.path, self.tail(since)))

    def tail(self, since=0, lines=40):
        """The last lines of the file (from since), for diagnostics."""
        return "\n".join(self.text(since).splitlines()[-lines:])


class _Daemon:
    """A foreground child process with its output in a log file."""

    def __init__(self, name, logpath):
        self.name = name
        self.log = LogFile(logpath)
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv):
        with open(self.log.path, "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def signal(self, sig):
        """Send sig to the process."""
        if self.running():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout):
        """Wait for the process to exit; its exit status (RigError if not)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise RigError("%s (pid %d) still running after %.1fs" %
                (self.name, self.proc.pid, timeout))

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL it and its children; None or exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            kids = descendants(self.proc.pid)
            _kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            for kid in kids:
                if pid_alive(kid):
                    _kill(kid, signal.SIGKILL)
        return self.proc.returncode


def unprivileged_user():
    """(user, group, uid, gid) of the unprivileged account the rig uses."""
    pw = pwd.getpwnam("nobody")
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid
