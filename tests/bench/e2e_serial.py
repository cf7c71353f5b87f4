"""
NAME
    e2e_serial - one session at a time through the real Postfix, for bench-e2e
SYNOPSIS
    from e2e_serial import UnixMilter, serial_probe, serial_rows
DESCRIPTION
    serial_rows(r, port, note, ...) is what bench-e2e prints: no filter,
    the rig's milter over inet:, the same daemon over unix:, each with
    serial_probe(); every message must be delivered (else the row says
    INVALID). The figures go to the make bench table through note().

    serial_probe(r, port, count, pid) runs `smtp-source -s 1` (one session
    at a time, one message each) against port (the forwarder in front of
    the rig's Postfix) and returns a dict: ms per message (smtp-source's
    wall time over count), the milter's CPU s per 1,000 messages from
    /proc/PID/stat (pid None: not measured) and smtp-source's output. A
    warm-up of WARMUP messages comes first. Stalls show here and not in
    concurrent runs, where other sessions fill the wait: over TCP a
    delayed ACK meeting Nagle costs ~40 ms per message.

    UnixMilter is the rig's Milter on a unix socket in its own directory
    (mode 0666, so Postfix's smtpd user can connect): the daemon and
    configuration the rig runs, only the socket form differs.
DIAGNOSTICS
    RigError when the unix-socket milter does not come up.
"""
import os
import subprocess
import time

from rig_base import RigError, wait_until
from rig_milter import Milter
from e2e_cpu import proc_ticks

SMTP_SOURCE = "/usr/sbin/smtp-source"
WARMUP = 20


class UnixMilter(Milter):
    """The rig's milter, listening on unix:DIR/milter.sock."""

    def __init__(self, workdir, dns_server, params):
        super().__init__(workdir, dns_server, params)
        for k, v in (("config_directory", workdir), ("pid_file",
            os.path.join(workdir, "targrey-milter.pid")),
            ("state_directory", os.path.join(workdir, "state"))):
            self.params[k] = v  # its own, not the copied ones
        self.path = os.path.join(workdir, "milter.sock")
        self.params["milter_socket"] = "unix:" + self.path
        self.params["milter_socket_mode"] = "0666"
        self.spec = "unix:" + self.path

    def start(self, timeout=15, new_port=False):
        """Start; wait until the socket exists."""
        self.write_config()
        since = self.log.mark()
        self._spawn([self.binary, "-f", "-c", self.conf])

        def ready():
            if not self.running():
                raise RigError("targrey-milter (unix) exited:\n%s" %
                    self.log.tail(since))
            return os.path.exists(self.path) and \
                "starting" in self.log.text(since)
        wait_until(ready, timeout, "targrey-milter to listen on %s" %
            self.path)


def smtp_source_serial(port, count, sender, rcpt, helo, size):
    """smtp-source -s 1 -m count; (seconds, output)."""
    argv = [SMTP_SOURCE, "-s", "1", "-m", str(count), "-l", str(size),
        "-f", sender, "-t", rcpt, "-M", helo, "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL)
    return time.monotonic() - t0, res.stdout + res.stderr


def serial_probe(port, count, pid, sender, rcpt, helo, size=1024):
    """One message per session, one session at a time; a dict."""
    smtp_source_serial(port, WARMUP, sender, rcpt, helo, size)
    c0 = proc_ticks(pid, children=False) if pid else 0.0
    elapsed, out = smtp_source_serial(port, count, sender, rcpt, helo, size)
    c1 = proc_ticks(pid, children=False) if pid else 0.0
    return {"ms": 1000.0 * elapsed / count, "n": count,
        "cpu1000": (c1 - c0) * 1000.0 / count if pid else None,
        "out": out}


SERIAL_N = int(os.environ.get("BENCH_E2E_SERIAL", "300"))


def delivered(r, since, want, timeout=20):
    """Wait until want messages are delivered since the mark; how many."""
    def count():
        return len(r.postfix.log.grep(r"relay=virtual.*status=sent", since))
    t_end = time.monotonic() + timeout
    while count() < want and time.monotonic() < t_end:
        time.sleep(0.2)
    return count()


def serial_row(r, port, label, pid, env):
    """One probe with Postfix's milters as they are now; prints its row."""
    since = r.postfix.log.mark()
    x = serial_probe(port, SERIAL_N, pid, *env)
    got = delivered(r, since, SERIAL_N + WARMUP)
    bad = "" if got == SERIAL_N + WARMUP else "  [INVALID: %d of %d " \
        "delivered]" % (got, SERIAL_N + WARMUP)
    cpu = "" if x["cpu1000"] is None else \
        ", milter %.2f CPU s per 1,000" % x["cpu1000"]
    print("serial %-14s %7.2f ms per message (%d, one at a time)%s%s" %
        (label, x["ms"], SERIAL_N, cpu, bad))
    return x, bad


def serial_rows(r, port, note, sender, rcpt, helo):
    """No filter, inet:, unix: one message at a time; notes the figures."""
    env = (sender, rcpt, helo)
    rows = {}
    r.postfix.reload(smtpd_milters="")
    rows["none"] = serial_row(r, port, "no filter", None, env)
    r.postfix.reload(smtpd_milters="inet:127.0.0.1:%d" % r.milter.port)
    rows["inet"] = serial_row(r, port, "milter inet:", r.milter.pid, env)
    um = UnixMilter(os.path.join(r.dir, "milter-unix"), r.dns.server,
        dict(r.milter.params))
    try:
        um.start()
        r.postfix.reload(smtpd_milters=um.spec)
        rows["unix"] = serial_row(r, port, "milter unix:", um.pid, env)
    finally:
        r.postfix.reload(smtpd_milters="")
        um.stop()
    for k, (x, bad) in rows.items():
        note("serial %s%s" % (k, " INVALID" if bad else ""),
            "%.2f" % x["ms"], "ms/msg")
    gap = rows["inet"][0]["ms"] - rows["unix"][0]["ms"]
    print("serial inet: minus unix: %+.2f ms per message (goal: within 1 ms)"
        % gap)
    note("serial inet-unix", "%+.2f" % gap, "ms/msg")
    return rows
