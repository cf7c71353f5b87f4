"""
NAME
    rig - integration test harness for targrey-milter

SYNOPSIS
    import rig

    def test(r):
        r.dns.add_host("dyn-1-2-3-4.example.net", "127.0.0.9")
        r.start()
        res = r.swaks(source="127.0.0.9", sender="a@example.com",
            to="bob@example.org")
        rig.check(res.rc == 0, "swaks exit", res.rc, 0, res.transcript)
        r.postfix.wait_delivered(res.queue_id)

    rig.main(test, timeout=120)

DESCRIPTION
    Starts, on loopback only and inside one private temporary directory
    (/tmp/tg-rig-*), three real programs:

    Dns      nsd(8) from Debian, authoritative for zones the test gives
             as Python data, on 127.0.0.1 at a free high port (UDP, TCP).
    Milter   $TG_BUILDDIR/src/targrey-milter -f -c CONF with a generated
             configuration (dns_servers points at the Dns port); its
             stderr goes to a file the test can wait on.
    Postfix  Debian's Postfix as a private instance (postfix -c DIR
             start): its own config, queue and data directories; an
             smtpd on a free high loopback port and a second one that
             expects a PROXY v1 header; smtpd_milters = the Milter; mail
             for the test domains is delivered by virtual(8) into one
             Maildir (the sink), so tests can read the headers the milter
             added.

    Clients: swaks(1) bound to chosen 127.0.0.x source addresses, and
    SmtpClient, a raw socket client that can send a PROXY v1 header,
    pipeline commands and hang up (FIN or RST) at any point.

    Everything started is stopped and the directory removed when the
    Rig's with-block ends, at interpreter exit, and on SIGTERM, SIGINT,
    SIGHUP and the watchdog alarm of main(). Every wait is bounded.

    Postfix settings chosen (see Postfix._main_cf):
    milter_default_action = tempfail: the production-safe value (mail is
    neither lost nor accepted unchecked) and Postfix's own default, set
    explicitly. In tests it makes a broken milter loud: mail that should
    pass gets 451 instead of silently passing unchecked.
    smtpd_peername_lookup = no: Postfix would resolve client names with
    the system resolver, which cannot be pointed at the test nsd and may
    hang without network; every client reaches the milter as [ADDR] and
    the milter does its own reverse lookups against the test DNS.
    mynetworks = 127.0.0.1/32 with reject_unauth_destination: loopback
    test clients are not relay-trusted (other than 127.0.0.1); only the
    test domains are accepted; default/relay transport is error:, so no
    mail ever leaves the machine.

    The full API and every Postfix setting with its reason:
    tests/integration/README.md.

    Environment: TG_BUILDDIR (build tree, default ../.. of this file),
    TG_RIG_KEEP=1 keeps the temporary directory for inspection.

DIAGNOSTICS
    RigError for harness problems (a program missing or failing to
    start), TestFailure for failed assertions; main() prints either, the
    tails of every log, and exits 1. 77 is never used: a missing tool is
    a failure.
"""

import atexit
import glob
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rig_base import (BUILDDIR, LogFile, RigError, RigInterrupted,  # noqa: F401
    TestFailure, check, cmdline, descendants, free_port, have_ipv6, pid_alive,
    tcp_listening, tool, unprivileged_user, wait_until, _kill)
from rig_dns import BlackholeDns, Dns  # noqa: F401
from rig_milter import Milter, MilterClient, milterload  # noqa: F401
from rig_postfix import Postfix
from rig_smtp import Reply, SmtpClient, SmtpResult, swaks


_live = []
RIG_PREFIX = "/tmp/tg-rig-"


def _start_time(pid):
    """Start time of pid (clock ticks since boot), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()[19]


def _pid_in(path, pidfile, by_cwd):
    """The pid in pidfile if that process still belongs to path: its
    working directory (by_cwd) or its command line lies there."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
        if by_cwd:
            where = os.readlink("/proc/%d/cwd" % pid)
        else:
            where = cmdline(pid)
    except (OSError, ValueError, IndexError):
        return None
    return pid if path + "/" in where + "/" else None


def reap_stale():
    """Stop what rigs of dead test processes left, remove their dirs
    (except those a TG_RIG_KEEP=1 run marked "kept").

    Only processes proven to belong to such a directory are signalled:
    a Postfix master whose working directory is in it, an nsd or a
    milter whose pid file is there and whose command line names it.
    """
    for path in glob.glob(RIG_PREFIX + "*"):
        try:
            with open(os.path.join(path, "owner")) as f:
                pid, started = f.read().split()
        except (OSError, ValueError):
            continue
        if _start_time(int(pid)) == started:
            continue  # its test still runs
        for pidfile, by_cwd in (("postfix/queue/pid/master.pid", True),
            ("dns/nsd.pid", False), ("milter/targrey-milter.pid", False)):
            victim = _pid_in(path, os.path.join(path, pidfile), by_cwd)
            if victim:
                for p in [victim] + descendants(victim):
                    _kill(p, signal.SIGKILL)
        if not os.path.exists(os.path.join(path, "kept")):  # TG_RIG_KEEP
            shutil.rmtree(path, ignore_errors=True)


class Rig:
    """Dns + Milter + Postfix in one temporary directory.

    Rig(milter=True, domains=("example.org",), milter_params={},
    postfix_params={}) creates the directory and chooses the ports;
    add zones to r.dns, then r.start(). Use as a context manager (or
    call stop()); main() does both.
    """

    def __init__(self, milter=True, domains=("example.org",),
        milter_params=None, postfix_params=None, milter_port=None,
        postscreen=False):
        for name in ("postfix", "postconf", "nsd", "nsd-checkconf", "swaks"):
            tool(name)
        reap_stale()
        self.dir = tempfile.mkdtemp(prefix=os.path.basename(RIG_PREFIX),
            dir=os.path.dirname(RIG_PREFIX))
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "owner"), "w") as f:
            f.write("%d %s\n" % (os.getpid(), _start_time(os.getpid())))
        _live.append(self)
        self.dns = Dns(os.path.join(self.dir, "dns"))
        self.milter = Milter(os.path.join(self.dir, "milter"),
            self.dns.server, milter_params) if milter else None
        port = self.milter.port if self.milter else milter_port
        self.postfix = Postfix(os.path.join(self.dir, "postfix"), port,
            domains, postfix_params, postscreen=postscreen)
        if self.milter:  # smtpd_process_limit 0: it asks this Postfix
            self.milter.params.setdefault("postfix_config_directory",
                self.postfix.etc)

    def start(self, postfix=True):
        """Start nsd, the milter (if any), then Postfix (unless postfix
        is false: tests that talk to the milter directly). A port another
        test took meanwhile is replaced and the others told of it."""
        self.dns.start(new_port=True)
        self.postfix.write_config()  # the milter's postconf reads it
        if self.milter:
            self.milter.params["dns_servers"] = self.dns.server
            self.milter.start(new_port=True)
            self.postfix.main["smtpd_milters"] = "inet:127.0.0.1:%d" % \
                self.milter.port
        if postfix:
            self.postfix.start(new_ports=True)

    def stop(self):
        """Stop everything started and remove the directory."""
        sigs = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
            signal.SIGALRM}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        try:
            self._stop_parts()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _stop_parts(self):
        errors = []
        for part in (self.postfix, self.milter, self.dns):
            if part is None:
                continue
            try:
                part.stop()
            except Exception as e:  # keep stopping the others
                errors.append("%s: %s" % (type(part).__name__, e))
        if self in _live:
            _live.remove(self)
        if os.environ.get("TG_RIG_KEEP"):
            open(os.path.join(self.dir, "kept"), "w").close()
            print("rig: kept %s" % self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise RigError("; ".join(errors))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def swaks(self, **kw):
        """swaks() against the plain smtpd listener."""
        return swaks(self.postfix.port, **kw)

    def smtp(self, source=None, proxy=None, timeout=30):
        """SmtpClient to smtpd, or to the PROXY listener when proxy given."""
        port = self.postfix.proxy_port if proxy else self.postfix.port
        return SmtpClient(port, source=source, proxy=proxy,
            timeout=timeout)

    def logs(self, lines=60):
        """Tails of every log, for failure reports."""
        out = []
        parts = [("maillog", self.postfix.log), ("nsd", self.dns.log)]
        if self.milter:
            parts.insert(0, ("milter", self.milter.log))
        for name, log in parts:
            out.append("--- %s: %s ---\n%s" % (name, log.path,
                log.tail(lines=lines)))
        return "\n".join(out)


RCPT = "bob@example.org"
GREYLISTED = (450, "4.7.1 Greylisted, please try again later")


def attempt(r, ip, sender, want_reason, want_tg=None):
	"""One delivery attempt at rig r from ip: greylisted with want_reason,
	or (want_tg given) delivered with tg=want_tg on the eom line."""
	since = r.milter.log.mark()
	res = r.swaks(source=ip, sender=sender, to=RCPT,
	    helo="client.example.com", timeout=30)
	if want_tg is None:
		check(GREYLISTED in res.replies, "attempt from %s <%s>" % (ip, sender),
		    res.replies, GREYLISTED, res.transcript)
		d = r.milter.wait_decision(since, addr=ip, action="greylist")
		check(d["reason"] == want_reason, "greylist reason", d["reason"],
		    want_reason, d["line"])
		return d
	check(res.rc == 0, "swaks exit status from %s <%s>" % (ip, sender),
	    res.rc, 0, res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, queue_id=res.queue_id)
	check(d["action"] == "accept" and ("tg=%s" % want_tg) in d["extra"],
	    "eom decision", d["line"], "action=accept ... tg=%s" % want_tg)
	return d


def hang_up_in_tarpit(r, ip):
	"""Reset the connection 0.5 s into its tarpit at rig r."""
	since = r.milter.log.mark()
	c = r.smtp(source=ip)
	check(c.banner().code == 220, "banner")
	check(c.command("EHLO client.example.com").code == 250, "EHLO")
	check(c.command("MAIL FROM:<alice@example.com>").code == 250, "MAIL")
	c.send("RCPT TO:<%s>\r\n" % RCPT)
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 60, since)
	time.sleep(0.5)
	c.reset()
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "lost_connection", "tarpit outcome after RST",
	    d["reason"], "lost_connection", d["line"])


def retry_until_pass(rigs, ip, sender, delay):
	"""The greylisting of a client whose tarpit failed, one attempt at
	each of the four rigs (the same rig four times, or alternating MX
	hosts): new (2 retries left), an early retry, after DELAY seconds a
	counted retry (1 left), then the pass."""
	g = attempt(rigs[0], ip, sender, "new")
	check("retries_left=2" in g["extra"], "retries left", g["extra"],
	    "retries_left=2")
	first = time.monotonic()
	attempt(rigs[1], ip, sender, "early_retry")
	time.sleep(max(0, first + delay + 0.5 - time.monotonic()))
	g = attempt(rigs[2], ip, sender, "retry_counted")
	check("retries_left=1" in g["extra"], "retries left", g["extra"],
	    "retries_left=1")
	attempt(rigs[3], ip, sender, None, "pass_triplet")


def send_clean(r, n, source="127.0.0.10"):
	"""Send n messages from a clean client and wait for each accept line."""
	for _ in range(n):
		res = r.swaks(source=source, sender="alice@example.com", to=RCPT,
		    helo="mail.example.com")
		check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
		r.milter.wait_decision(queue_id=res.queue_id, action="accept")


def _stop_all():
    """atexit: stop any rig still running."""
    for r in list(_live):
        try:
            r.stop()
        except Exception as e:
            print("rig: cleanup: %s" % e, file=sys.stderr)


def _on_signal(signum, frame):
    raise RigInterrupted("signal %d (%s)" % (signum,
        signal.Signals(signum).name))


atexit.register(_stop_all)


def main(test, timeout=300, **rig_kwargs):
    """Run test(rig) in a fresh Rig; exit 0 on pass, 1 on failure.

    A watchdog alarm ends the test after timeout seconds; SIGTERM,
    SIGINT and SIGHUP end it too; everything is stopped either way. On
    failure the reason and the tails of all logs are printed.
    """
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
        signal.SIGALRM):
        signal.signal(sig, _on_signal)
    signal.alarm(timeout)
    t0 = time.monotonic()
    name = os.path.basename(sys.argv[0])
    status = 1
    r = None
    try:
        r = Rig(**rig_kwargs)
        with r:
            try:
                test(r)
                status = 0
            except (Exception, RigInterrupted):
                traceback.print_exc()
                print(r.logs())
    except (Exception, RigInterrupted):
        traceback.print_exc()
        status = 1
    finally:
        signal.alarm(0)
    print("%s: %s in %.1f s (limit %d s)" % (name, "PASS" if status == 0
        else "FAIL", time.monotonic() - t0, timeout))
    sys.stdout.flush()
    sys.exit(status)
