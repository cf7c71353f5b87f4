"""
NAME
    rig_postfix - a private Debian Postfix instance with a Maildir sink
DESCRIPTION
    Part of the integration rig; see rig.py.
"""

import email
import email.policy
import os
import pwd
import re
import signal
import subprocess

from rig_base import (LogFile, RigError, cmdline, descendants, _kill, unprivileged_user, check,
    free_port, have_ipv6, pid_alive, tcp_listening, tool, wait_until)


class Postfix:
    """A private Postfix instance: postfix -c DIR/etc start."""

    def __init__(self, workdir, milter_port=None, domains=("example.org",),
        main_cf=None, master_extra=(), postscreen=False):
        self.dir = workdir
        self.etc = os.path.join(workdir, "etc")
        self.queue = os.path.join(workdir, "queue")
        self.data = os.path.join(workdir, "data")
        self.sink = os.path.join(workdir, "sink")
        self.log = LogFile(os.path.join(workdir, "maillog"))
        self.port = free_port()
        self.proxy_port = free_port()
        self.milter_port = milter_port
        self.domains = list(domains)
        self.postscreen = postscreen
        self.main = self._main_cf()
        self.main.update(main_cf or {})
        self.master_extra = list(master_extra)
        self.started = False
        self._prepare_dirs()

    def _prepare_dirs(self):
        """Directories owned as postfix check wants them."""
        pf = pwd.getpwnam("postfix")
        _, _, nuid, ngid = unprivileged_user()
        for d, mode in ((self.dir, 0o755), (self.etc, 0o755),
            (self.queue, 0o755), (self.data, 0o700), (self.sink, 0o700)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        if os.geteuid() == 0:
            os.chown(self.data, pf.pw_uid, pf.pw_gid)
            os.chown(self.sink, nuid, ngid)

    def _main_cf(self):
        """main.cf settings; see the module comment for the reasons."""
        _, _, nuid, ngid = unprivileged_user()
        m = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "maillog_file": self.log.path,
            "maillog_file_prefixes": self.dir,
            "syslog_name": "postfix-tgrig",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "all" if have_ipv6() else "ipv4",
            "myhostname": "mx.rig.test",
            "mydomain": "rig.test",
            "mydestination": "",
            "mynetworks": "127.0.0.1/32",
            "alias_maps": "", "alias_database": "",
            "biff": "no",
            "smtpd_peername_lookup": "no",
            "smtpd_relay_restrictions":
            "permit_mynetworks, reject_unauth_destination",
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_error_sleep_time": "0",
            "in_flow_delay": "0",
            "virtual_mailbox_domains": ", ".join(self.domains),
            "virtual_mailbox_base": self.sink,
            "virtual_mailbox_maps": "static:Maildir/",
            "virtual_uid_maps": "static:%d" % nuid,
            "virtual_gid_maps": "static:%d" % ngid,
            "virtual_minimum_uid": "1",
            "default_transport": "error:no mail leaves the test rig",
            "relay_transport": "error:no mail leaves the test rig",
            "milter_default_action": "tempfail",
            "milter_connect_timeout": "10s",
            "milter_command_timeout": "30s",
        }
        if self.milter_port:
            m["smtpd_milters"] = "inet:127.0.0.1:%d" % self.milter_port
        if self.postscreen:
            m.update(self._postscreen_cf())
        return m

    def _postscreen_cf(self):
        """postscreen in front, as taRgrey sites run it: the pregreet
        test only (no DNSBL: no mail leaves loopback), a short greet wait,
        its cache in the rig's data directory, every client tested."""
        return {
            "postscreen_greet_wait": "1s",
            "postscreen_greet_action": "enforce",
            "postscreen_cache_map": "btree:$data_directory/postscreen_cache",
            "postscreen_access_list": "",
            "postscreen_dnsbl_sites": "",
        }

    def _smtp_listener(self):
        """The plain listener: smtpd, or postscreen + smtpd pass."""
        if not self.postscreen:
            return ["127.0.0.1:%d inet n - n - - smtpd" % self.port]
        return ["127.0.0.1:%d inet n - n - 1 postscreen" % self.port,
            "smtpd pass - - n - - smtpd",
            "dnsblog unix - - n - 0 dnsblog",
            "tlsproxy unix - - n - 0 tlsproxy"]

    def _master_cf(self):
        """master.cf: the two smtpd listeners and the services they need."""
        lines = self._smtp_listener() + [
            "127.0.0.1:%d inet n - n - - smtpd" % self.proxy_port,
            "  -o smtpd_upstream_proxy_protocol=haproxy",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "virtual unix - n n - - virtual",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        return "\n".join(lines + self.master_extra) + "\n"

    def _run(self, *args, timeout=60):
        """Run postfix -c ETC ARGS; CompletedProcess."""
        return subprocess.run([tool("postfix"), "-c", self.etc] + list(args),
            capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL)

    def write_config(self):
        """Write main.cf and master.cf from self.main / self.master_extra."""
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(self._master_cf())

    def master_pid(self):
        """Pid of the running master, or None."""
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None
        return pid if pid and pid_alive(pid) else None

    def check(self):
        """postfix check: RigError unless silent and warning-free."""
        since = self.log.mark()
        res = self._run("check")
        warn = self.log.grep(r"warning|fatal|error", since)
        if res.returncode != 0 or res.stdout or res.stderr or warn:
            raise RigError("postfix -c %s check (status %d):\n%s%s%s" %
                (self.etc, res.returncode, res.stdout, res.stderr,
                "\n".join(warn)))

    def start(self, timeout=30, new_ports=False):
        """Write the configuration, check it, start, wait for listeners.

        When new_ports and a listener port was taken meanwhile, choose
        new ones (up to three times).
        """
        if os.geteuid() != 0:
            raise RigError("the Postfix test instance needs root")
        for attempt in range(3):
            since = self.log.mark()
            try:
                return self._start_once(timeout)
            except RigError:
                self.stop()
                if not new_ports or attempt == 2 or "already in use" \
                    not in self.log.text(since):
                    raise
                self.port, self.proxy_port = free_port(), free_port()

    def _start_once(self, timeout):
        self.write_config()
        self.check()
        since = self.log.mark()
        res = self._run("start")
        self.started = True
        if res.returncode != 0:
            raise RigError("postfix -c %s start (status %d):\n%s%s\n%s" %
                (self.etc, res.returncode, res.stdout, res.stderr,
                self.log.tail(since)))
        def ready():
            pid = self.master_pid()
            return pid and tcp_listening(pid, self.port) and \
                tcp_listening(pid, self.proxy_port)
        try:
            wait_until(ready, timeout, "Postfix master listening")
        except RigError as e:
            raise RigError("%s\n%s" % (e, self.log.tail(since)))

    def reload(self, **params):
        """Change main.cf parameters and postfix reload; return once every
        process the master had before has exited. The master only asks
        them to exit, so an idle smtpd of the old configuration could
        otherwise take the next connection; and the master's "reload"
        log line is no sign either: postlogd restarts too, and under load
        that line once did not appear within 15 s. qmgr and pickup always run,
        so their exit shows that the master has read the new files. A
        test reloads between sessions, when every smtpd is idle."""
        self.main.update(params)
        self.write_config()
        master = self.master_pid()
        old = descendants(master) if master else []
        res = self._run("reload")
        if res.returncode != 0:
            raise RigError("postfix reload: %s%s" % (res.stdout,
                res.stderr))
        if not old:
            raise RigError("postfix reload: the master had no processes")
        wait_until(lambda: not any(pid_alive(p) for p in old), 30,
            "the processes of the old configuration to exit (%s)" %
            ", ".join("%d %s" % (p, cmdline(p)) for p in old))

    def stop(self, timeout=20):
        """postfix stop; wait for the master to go, kill what remains."""
        if not self.started:
            return
        pid = self.master_pid()
        kids = descendants(pid) if pid else []
        self._run("stop", timeout=timeout)
        if pid:
            try:
                wait_until(lambda: not pid_alive(pid), timeout,
                    "Postfix master to exit")
            except RigError:
                _kill(pid, signal.SIGKILL)
        for kid in kids:
            if pid_alive(kid):
                _kill(kid, signal.SIGKILL)
        self.started = False

    def messages(self):
        """Delivered messages: list of (path, email.message.Message)."""
        out = []
        new = os.path.join(self.sink, "Maildir", "new")
        try:
            names = sorted(os.listdir(new))
        except FileNotFoundError:
            return out
        for name in names:
            path = os.path.join(new, name)
            with open(path, "rb") as f:
                out.append((path, email.message_from_binary_file(f,
                    policy=email.policy.compat32)))
        return out

    def message(self, queue_id):
        """The delivered message Postfix queued as queue_id, or None."""
        rx = re.compile(r"\bid %s\b" % re.escape(queue_id))
        for _, msg in self.messages():
            if any(rx.search(h) for h in msg.get_all("Received", [])):
                return msg
        return None

    def wait_delivered(self, queue_id, timeout=20):
        """Wait until queue_id is delivered to the sink; its Message."""
        check(queue_id, "queue id of the message to wait for", queue_id,
            "a Postfix queue id")
        self.log.wait(r"\b%s: to=<.*relay=virtual.*status=sent" %
            re.escape(queue_id), timeout)
        msg = self.message(queue_id)
        check(msg is not None, "message %s in the sink" % queue_id)
        return msg
