#!/usr/bin/env python3
"""
NAME
    bench-e2e - messages/s and CPU per message through a real Postfix:
    no filter, targrey-milter, pypolicyd-spf + Postgrey
SYNOPSIS
    TG_BUILDDIR=... TG_SRCDIR=... python3 tests/bench/bench-e2e.py
    (make bench-e2e; part of make bench)
DESCRIPTION
    One private Postfix of the integration rig (tests/integration), one
    nsd, one run, three configurations in turn:
      none     no filter;
      milter   smtpd_milters = the built targrey-milter (default policy:
               SPF, S25R, tarpit and greylisting on);
      pair     check_policy_service unix:private/policyd-spf (Debian's
               postfix-policyd-spf-python, a master.cf spawn service with
               its own config file) and check_policy_service
               inet:127.0.0.1:PORT (Debian's postgrey with its own --dbdir,
               --lookup-by-host, --auto-whitelist-clients=0, --delay=2):
               every message pays an SPF check with DNS queries and a
               triplet lookup. The triplets are seeded by a first pass
               that is greylisted, then a pass after the delay.
    Workload (the issue's reference shape): smtp-source -s 20 -m N
    -l 1024, one message per session, sender alice@bench.example whose
    SPF record passes 198.51.100.0/24 through two levels of include,
    HELO relay.bench.example. smtp-source sends no PROXY header, so it
    connects to tests/bench/proxyfwd, which announces 198.51.100.1-200
    (one per connection, each with a forward-confirmed, S25R-clean name
    mail-N.example.com) to the rig's PROXY smtpd: libspf2 passes every
    127/8 client without a query. The forwarder is used in all three
    configurations; its CPU is printed apart. Per configuration two
    warm-up passes of 200 messages, the second timed, set N to about
    BENCH_E2E_SECONDS (20) seconds of work.

    Serial rows (after the milter's, tests/bench/e2e_serial.py): one
    message per session and one session at a time (smtp-source -s 1,
    BENCH_E2E_SERIAL messages, 300), through the same forwarder, with no
    filter, with the milter over inet: and with a second instance of it
    over unix: - the per-message latency a quiet site sees, where a
    Nagle/delayed-ACK stall shows in full (issue 17: 47.7 ms over inet:
    against 3.0 ms over unix:, before the milter answered DATA).

    CPU: every group of processes runs in its own cgroup (v2 cpu.stat
    usage_usec, else v1 cpuacct.usage), which also counts processes that
    exited during the run: Postfix (the master and everything it forks,
    moved there after start), the milter, policyd-spf (each spawned
    process moves itself there), postgrey. Without a writable cgroup
    hierarchy: /proc utime+stime of the processes plus cutime+cstime
    of the reaped (Postfix's master reaps its children; policyd-spf is
    then counted within Postfix). RSS: the milter's VmHWM; for the pair
    the peak over 0.5 s samples of the summed VmRSS of all policyd-spf
    processes and postgrey (shared pages count once per process).
    Figures are recorded with bench-note.sh (area e2e).
DIAGNOSTICS
    A configuration whose mail was not all delivered, or whose delivered
    mail lacks the SPF evidence (milter decision lines with spf=pass for
    198.51.100.x; Received-SPF pass headers), is reported "INVALID" and
    its figures marked so; a missing package skips its configuration
    with a line saying which. Exit 0 unless the rig itself fails: a
    benchmark never fails on time.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

SRCDIR = os.environ.get("TG_SRCDIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import rig  # noqa: E402
from rig_base import _kill, descendants, tcp_listening  # noqa: E402
from e2e_cpu import CpuGroups, proc_status_kb, proc_ticks  # noqa: E402
from e2e_serial import serial_rows  # noqa: E402

AREA = "e2e"
NET, CLIENTS = "198.51.100", 200
SENDER, RCPT, HELO = "alice@bench.example", "bob@example.org", \
    "relay.bench.example"
SESSIONS, SIZE, WARMUP = 20, 1024, 200
SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "20"))
MIN_N, MAX_N = 400, 12000
POSTGREY_DELAY = 2
SMTP_SOURCE = "/usr/sbin/smtp-source"
POLICYD_SPF = "/usr/bin/policyd-spf"
POSTGREY = "/usr/sbin/postgrey"


def note(figure, value, unit):
    """Record one figure for the make bench table."""
    subprocess.run(["sh", os.path.join(SRCDIR, "tests", "bench",
        "bench-note.sh"), AREA, figure, str(value), unit], check=False)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def zones(dns):
    """Client names, the sender's include chain, the HELO name."""
    for n in range(1, CLIENTS + 1):
        dns.add_host("mail-%d.example.com" % n, "%s.%d" % (NET, n))
    dns.add_zone("bench.example", [
        ("@", "TXT", "v=spf1 ip4:192.0.2.0/28 include:_a.bench.example -all"),
        ("_a", "TXT", "v=spf1 ip4:203.0.113.0/26 include:_b.bench.example ~all"),
        ("_b", "TXT", "v=spf1 a:relay.bench.example ip4:%s.0/24 -all" % NET),
        ("relay", "A", "192.0.2.77"),
        ("relay", "TXT", "v=spf1 ip4:%s.0/24 -all" % NET)])


class Forwarder:
    """tests/bench/proxyfwd to the rig's PROXY smtpd."""

    def __init__(self, upstream):
        binary = os.path.join(rig.BUILDDIR, "tests", "bench", "proxyfwd")
        self.proc = subprocess.Popen([binary, "-u", str(upstream), "-a",
            "%s.1-%s.%d" % (NET, NET, CLIENTS)], stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise rig.RigError("proxyfwd did not start: %r" % line)
        self.port = int(line.split()[1])

    def cpu(self):
        """utime + stime in seconds (exited threads included)."""
        return proc_ticks(self.proc.pid, children=False)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Postgrey:
    """Debian's postgrey on a free loopback port, all state in workdir."""

    def __init__(self, workdir, cpu):
        self.dir = workdir
        os.makedirs(os.path.join(workdir, "db"), exist_ok=True)
        user, group, uid, gid = rig.unprivileged_user()
        os.chown(os.path.join(workdir, "db"), uid, gid)
        lists = []
        for name in ("whitelist_clients", "whitelist_recipients"):
            path = os.path.join(workdir, name)  # a copy: never /etc itself
            if os.path.exists("/etc/postgrey/" + name):
                shutil.copy("/etc/postgrey/" + name, path)
            else:
                open(path, "w").close()
            lists.append(path)
        self.port = rig.free_port()
        self.log = rig.LogFile(os.path.join(workdir, "postgrey.log"))
        argv = [POSTGREY, "--inet=127.0.0.1:%d" % self.port,
            "--dbdir=" + os.path.join(workdir, "db"), "--user=" + user,
            "--group=" + group, "--delay=%d" % POSTGREY_DELAY,
            "--lookup-by-host", "--auto-whitelist-clients=0",
            "--whitelist-clients=" + lists[0],
            "--whitelist-recipients=" + lists[1], "--hostname=mx.rig.test"]
        with open(self.log.path, "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: cpu.enter("pair"))
        rig.wait_until(lambda: self._ready(), 30, "postgrey to listen")

    def _ready(self):
        if self.proc.poll() is not None:
            raise rig.RigError("postgrey exited (%s):\n%s" %
                (self.proc.returncode, self.log.tail()))
        return tcp_listening(self.proc.pid, self.port)

    def stop(self):
        if self.proc.poll() is None:
            kids = descendants(self.proc.pid)
            _kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                _kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            for k in kids:
                _kill(k, signal.SIGKILL)


SPF_WRAPPER = '''\
# policyd-spf for bench-e2e: joins its cgroup, asks only the rig's nsd.
import sys
try:
    with open(%(procs)r, "w") as f:
        f.write("%%d" %% __import__("os").getpid())
except OSError:
    pass
import DNS, spf  # spf imports DNS, which reads /etc/resolv.conf: override
DNS.Base.defaults["server"] = ["127.0.0.1"]
DNS.Base.defaults["port"] = %(port)d
from spf_engine.policyd_spf import main
sys.argv = ["policyd-spf", %(conf)r]
sys.exit(main())
'''

SPF_CONF = """\
debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
"""


def policyd_spf_service(r, cpu):
    """Write policyd-spf's private config and wrapper; master.cf line."""
    d = os.path.join(r.dir, "policyd-spf")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    conf, wrapper = os.path.join(d, "policyd-spf.conf"), \
        os.path.join(d, "policyd-spf-rig.py")
    with open(conf, "w") as f:
        f.write(SPF_CONF)
    with open(wrapper, "w") as f:
        f.write(SPF_WRAPPER % {"procs": cpu.procs_file("pair") or "/nonexistent",
            "port": r.dns.port, "conf": conf})
    for p in (conf, wrapper):
        os.chmod(p, 0o644)
    user = rig.unprivileged_user()[0]
    cpu.allow("pair", user)
    return ["policyd-spf unix - n n - 0 spawn",
        "  user=%s argv=%s %s" % (user, spf_python(), wrapper)]


def sent_count(r, since):
    return len(r.postfix.log.grep(r"relay=virtual.*status=sent", since))


def smtp_source(port, count, errors_ok=False):
    """Run smtp-source; (elapsed seconds, its output)."""
    argv = [SMTP_SOURCE, "-A", "-s", str(SESSIONS), "-m", str(count), "-l",
        str(SIZE), "-f", SENDER, "-t", RCPT, "-M", HELO,
        "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=150,
        stdin=subprocess.DEVNULL)
    return time.monotonic() - t0, res.stdout + res.stderr


def wait_sent(r, since, want, stall=8):
    """Wait until want messages are delivered or none for stall seconds."""
    last, t_last = -1, time.monotonic()
    while True:
        n = sent_count(r, since)
        if n >= want:
            return n
        if n != last:
            last, t_last = n, time.monotonic()
        elif time.monotonic() - t_last > stall:
            return n
        time.sleep(0.2)


class RssPeak(threading.Thread):
    """Peak of the summed VmRSS of the processes pids() names (0.5 s)."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, 0, threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            self.peak = max(self.peak, sum(proc_status_kb(p, "VmRSS")
                for p in self.pids()))

    def stop(self):
        self.done.set()
        self.join()
        return self.peak


def new_messages(r, before):
    new = os.path.join(r.postfix.sink, "Maildir", "new")
    return [os.path.join(new, n) for n in os.listdir(new) if n not in before]


def sink_names(r):
    try:
        return set(os.listdir(os.path.join(r.postfix.sink, "Maildir", "new")))
    except FileNotFoundError:
        return set()


def spf_evidence(r, paths, since_milter, config):
    """Problems with the SPF evidence of this configuration (list)."""
    bad = []
    rx = re.compile(r"^Received-SPF: *(pass|Pass)\b.*client-ip=%s\.\d+;" %
        re.escape(NET), re.M)
    if config == "none":
        return bad, 0
    sample = random.sample(paths, min(50, len(paths)))
    for p in sample:
        with open(p, "rb") as f:
            head = f.read(8192).decode("utf-8", "replace").split("\n\n")[0]
        head = re.sub(r"\n[ \t]+", " ", head)
        if not rx.search(head):
            bad.append("no Received-SPF pass for %s.x in %s" % (NET, p))
            break
    if config == "milter":
        ds = [d for d in r.milter.decisions(since_milter)
            if d["stage"] == "eom"]
        ok = [d for d in ds if d["action"] == "accept" and
            d["addr"].startswith(NET + ".") and "spf=pass" in d["extra"]]
        if not ds or len(ok) != len(ds):
            bad.append("milter eom decisions: %d, with accept + spf=pass "
                "for %s.x: %d (e.g. %s)" % (len(ds), NET, len(ok),
                ds[0]["line"] if ds else "none"))
    return bad, len(sample)


def measure(r, fwd, cpu, config, groups, rss_pids=None):
    """Warm-up, then the measured pass of one configuration; a dict."""
    for _ in range(2):  # warm caches and processes; time the second
        since = r.postfix.log.mark()
        el, _ = smtp_source(fwd.port, WARMUP)
        wait_sent(r, since, WARMUP)
    n = max(MIN_N, min(MAX_N, int(WARMUP / el * SECONDS)))
    before_names = sink_names(r)
    since, msince = r.postfix.log.mark(), r.milter.log.mark()
    rss = RssPeak(rss_pids) if rss_pids else None
    if rss:
        rss.start()
    load0 = loadavg()
    c0 = {g: cpu.usage(g) for g in groups}
    m0 = proc_ticks(r.milter.pid, children=False)
    f0 = fwd.cpu()
    elapsed, out = smtp_source(fwd.port, n)
    t0 = time.monotonic()
    sent = wait_sent(r, since, n)
    drain = time.monotonic() - t0
    c1 = {g: cpu.usage(g) for g in groups}
    m1 = proc_ticks(r.milter.pid, children=False)
    res = {"config": config, "n": n, "elapsed": elapsed, "sent": sent,
        "drain": drain, "fwd": fwd.cpu() - f0, "load": (load0, loadavg()),
        "rss": rss.stop() if rss else None, "smtp_source": out}
    res["cpu"] = {g: (c1[g] - c0[g]) if c0[g] is not None else None
        for g in groups}
    if config == "milter":
        print("milter: CPU %s s by its group, %.2f s by /proc/PID/stat"
            " (cross-check)" % (per1000(res["cpu"]["milter"], 1000),
            m1 - m0))
    res["rejects"] = len(r.postfix.log.grep(r"reject:", since))
    paths = new_messages(r, before_names)
    res["problems"], res["checked"] = spf_evidence(r, paths, msince, config)
    if sent != n or len(paths) != n:
        res["problems"].insert(0, "%d sent, %d delivered of %d, %d rejects"
            % (sent, len(paths), n, res["rejects"]))
    return res


def seed_pair(r, fwd):
    """One greylisted pass over every client, then wait out the delay."""
    since = r.postfix.log.mark()
    smtp_source(fwd.port, CLIENTS)
    grey = len(r.postfix.log.grep(r"reject: RCPT.*Greylisted", since))
    print("pair: seeding pass: %d of %d greylisted (postgrey --delay=%d)" %
        (grey, CLIENTS, POSTGREY_DELAY))
    time.sleep(POSTGREY_DELAY + 1)  # the delay itself is the condition


def spf_python():
    """The interpreter policyd-spf was packaged for (its #! line)."""
    try:
        with open(POLICYD_SPF) as f:
            line = f.readline()
    except OSError:
        return None
    return line[2:].strip().split()[0] if line.startswith("#!") else None


def pair_missing():
    """Names of the missing Debian packages of the pair, [] if none."""
    out = []
    py = spf_python()
    spf_ok = py is not None and subprocess.run([py, "-c",
        "import spf_engine.policyd_spf, DNS"],
        capture_output=True).returncode == 0
    if not spf_ok:
        out.append("postfix-policyd-spf-python")
    if not os.access(POSTGREY, os.X_OK):
        out.append("postgrey")
    return out


def per1000(sec, n):
    return "n/a" if sec is None else "%.2f" % (sec * 1000.0 / n)


def figures(x, base):
    """The printable figures of one result (strings), base: of none."""
    c, n, cpu = x["config"], x["n"], x["cpu"]
    rate = n / x["elapsed"]
    f = {"rate": "%.1f" % rate, "postfix": per1000(cpu["postfix"], n),
        "filter": "-", "rss": "-", "total": per1000(cpu["postfix"], n),
        "fwd": per1000(x["fwd"], n), "ratio": "-", "cpu_ratio": "-"}
    if base:
        f["ratio"] = "%.2f" % (rate * base["elapsed"] / base["n"])
    if c != "none" and cpu.get(c) is not None:
        f["filter"] = per1000(cpu[c], n)
        f["total"] = per1000(cpu["postfix"] + cpu[c], n)
    if x["rss"] is not None:
        f["rss"] = "%.1f" % (x["rss"] / 1024.0)
    if base and f["total"] != "n/a":
        f["cpu_ratio"] = "%.2f" % (float(f["total"]) /
            float(per1000(base["cpu"]["postfix"], base["n"])))
    return f


def report(results, cpu_kind):
    """Print the table and record the figures."""
    base = next((x for x in results if x["config"] == "none"), None)
    print("\n== bench-e2e: %d sessions at once, one %d-byte message each,"
        " through proxyfwd; CPU s per 1,000 messages from %s" %
        (SESSIONS, SIZE, cpu_kind))
    fmt = "%-7s %6s %7s %6s %8s %8s %8s %6s %8s %8s %6s  %s"
    print(fmt % ("config", "msgs", "msgs/s", "ratio", "postfix", "filter",
        "total", "ratio", "filter", "fwd", "drain", "load avg"))
    print(fmt % ("", "", "", "", "cpu", "cpu", "cpu", "cpu", "RSS MB", "cpu",
        "s", "before / after"))
    for x in results:
        c, f = x["config"], figures(x, base)
        tag = " [INVALID]" if x["problems"] else ""
        print(fmt % (c, x["n"], f["rate"], f["ratio"], f["postfix"],
            f["filter"], f["total"], f["cpu_ratio"], f["rss"], f["fwd"],
            "%.1f" % x["drain"], "%s / %s%s" % (x["load"] + (tag,))))
        for p in x["problems"]:
            print("!!! %s: INVALID FIGURE: %s" % (c, p))
        note("%s messages/s%s" % (c, tag), f["rate"], "msgs/s")
        note("%s postfix cpu per 1000 msgs" % c, f["postfix"], "cpu s")
        if c != "none":
            note("%s throughput vs no filter%s" % (c, tag), f["ratio"], "x")
            note("%s filter cpu per 1000 msgs" % c, f["filter"], "cpu s")
            note("%s postfix+filter cpu vs no filter" % c, f["cpu_ratio"],
                "x")
            note("%s filter %s" % (c, "VmHWM" if c == "milter" else
                "peak summed VmRSS"), f["rss"], "MB")
        note("%s forwarder cpu per 1000 msgs" % c, f["fwd"], "cpu s")
        note("%s load average before / after" % c, "%s / %s" % x["load"],
            "")


def run(r, cpu):
    """The three configurations; the list of their results."""
    missing = pair_missing()
    zones(r.dns)
    for p in ("tarpit_delay", "log_level"):  # the defaults, as deployed
        r.milter.params.pop(p, None)
    if not missing:
        r.postfix.master_extra += policyd_spf_service(r, cpu)
    r.start()
    master = r.postfix.master_pid()
    cpu.add("postfix", master)
    for pid in descendants(master):
        try:
            cpu.add("postfix", pid)
        except ProcessLookupError:
            pass  # exited meanwhile
    cpu.add("milter", r.milter.pid)
    fwd, pg, results = Forwarder(r.postfix.proxy_port), None, []
    try:
        r.postfix.reload(smtpd_milters="")
        results.append(measure(r, fwd, cpu, "none", ["postfix"]))
        r.postfix.reload(smtpd_milters="inet:127.0.0.1:%d" % r.milter.port)
        x = measure(r, fwd, cpu, "milter", ["postfix", "milter"])
        x["rss"] = proc_status_kb(r.milter.pid, "VmHWM")
        results.append(x)
        serial_rows(r, fwd.port, note, SENDER, RCPT, HELO)
        if missing:
            print("pair: SKIPPED: Debian package(s) not installed: %s "
                "(contrib/quickstart.sh bench installs them)" %
                " ".join(missing))
            note("pair (skipped: %s not installed)" % " ".join(missing),
                "-", "")
            return results
        pg = Postgrey(os.path.join(r.dir, "postgrey"), cpu)
        cpu.added["pair"].append(pg.proc.pid)
        r.postfix.reload(smtpd_milters="", **{
            "smtpd_recipient_restrictions": "permit_mynetworks, "
            "reject_unauth_destination, check_policy_service "
            "unix:private/policyd-spf, check_policy_service "
            "inet:127.0.0.1:%d" % pg.port,
            "policyd-spf_time_limit": "3600s"})
        seed_pair(r, fwd)
        wrapper = "policyd-spf-rig.py"
        def pair_pids():
            found = {p for p in descendants(master) if wrapper in
                rig.cmdline(p)}
            return cpu.pids("pair") | found | {pg.proc.pid}
        results.append(measure(r, fwd, cpu, "pair", ["postfix", "pair"],
            pair_pids))
    finally:
        fwd.stop()
        if pg:
            pg.stop()
    return results


def main():
    """Run in a fresh rig under a watchdog; exit 0 unless the rig fails."""
    def interrupted(signum, frame):
        raise rig.RigInterrupted("signal %d" % signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
        signal.SIGALRM):
        signal.signal(sig, interrupted)
    signal.alarm(int(os.environ.get("BENCH_E2E_TIMEOUT", "200")))
    if not os.access(SMTP_SOURCE, os.X_OK):
        print("bench-e2e: SKIPPED: %s missing (Debian package postfix)" %
            SMTP_SOURCE)
        return 0
    print("bench-e2e: load average %s, %d cores" % (loadavg(),
        os.cpu_count()))
    cpu = CpuGroups(["postfix", "milter", "pair"])
    kind = {"v2": "cgroup v2 cpu.stat", "v1": "cgroup v1 cpuacct.usage",
        None: "/proc utime+stime+cutime+cstime (no writable cgroup; "
        "policyd-spf counted within Postfix)"}[cpu.kind]
    status = 1
    try:
        with rig.Rig() as r:
            try:
                results = run(r, cpu)
                report(results, kind)
                status = 0
            except (Exception, rig.RigInterrupted):
                import traceback
                traceback.print_exc()
                print(r.logs())
    finally:
        signal.alarm(0)
        cpu.close()
    print("bench-e2e: load average %s at the end" % loadavg())
    return status


if __name__ == "__main__":
    sys.exit(main())
