#!/usr/bin/env python3
"""t_daemon - the daemon's command line, configuration errors and signals.

Starts the real targrey-milter binary (no Postfix needed): -t/-n/-d, the
"FILE:LINE: parameter NAME: reason" errors, SIGHUP reload (good and bad
file), new sessions refused while draining, SIGTERM exit status and pid file;
reload warnings about start-only parameters compare with what runs; log_file
(format, reopened on SIGHUP and by targreyctl reopen); "running as root" said
once.
Every process started here is killed at the end; every wait is bounded.
"""
import grp
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from rig_base import terminate

BUILD = os.environ.get("TG_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DAEMON = os.path.join(BUILD, "src", "targrey-milter")
failures = []


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    p = subprocess.run([DAEMON, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_cli(tmp):
    rc, out, _ = run("-V")
    check(rc == 0 and out.startswith("targrey-milter "), "-V prints the version")
    rc, out, _ = run("-c", "/nonexistent.conf", "-d")
    check(rc != 0, "-c with a missing file is an error")
    rc, out, _ = run("-d")
    check(rc == 0 and "tarpit_delay = 125s\n" in out and "greylist_delay = 300s\n" in out,
          "-d prints every default")
    conf = os.path.join(tmp, "good.conf")
    with open(conf, "w") as f:
        f.write("# test\ntarpit_delay = 6s\nclient_whitelist =\n    \n")
    rc, out, _ = run("-c", conf, "-n")
    check(rc == 0 and out == "client_whitelist = \ntarpit_delay = 6s\n", "-n prints what the file sets: %r" % out)
    rc, out, err = run("-c", conf, "-t")
    check(rc == 0 and err == "", "-t accepts a good file")
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("tarpit_delay = 6s\n\ngreylist_dealy = 5m\ntrusted_networks = 10.0.0.1/8\n")
    rc, out, err = run("-c", bad, "-t")
    check(rc == 1, "-t rejects a bad file (rc %d)" % rc)
    check("%s:3: parameter greylist_dealy: unknown parameter (did you mean greylist_delay?)" % bad in err,
          "unknown parameter error names file, line and a suggestion: %r" % err)
    rc, out, err = run("-c", conf, "-p", "inet:nonsense", "-t")
    check(rc == 1 and "parameter milter_socket: bad value" in err, "-t checks the socket syntax: %r" % err)
    rc, out, err = run("-c", conf, "-o", "syslog_facility=kern", "-t")
    check(rc == 1 and "parameter syslog_facility" in err, "-t checks the syslog facility: %r" % err)
    table = os.path.join(tmp, "access.regexp")
    with open(table, "w") as f:
        f.write("/ok/ OK\n/dyn[/ REJECT\n")
    rc, out, err = run("-c", conf, "-o", "s25r_client_access=regexp:" + table, "-t")
    check(rc == 1 and "%s:2:" % table in err, "-t fails on a bad table line and names it: %r" % err)
    rc, out, err = run("-c", conf, "-o", "tarpit_delay=soon", "-t")
    check(rc == 1 and "parameter tarpit_delay" in err, "-o values are checked")


def start(tmp, conf, port):
    log = open(os.path.join(tmp, "milter.log"), "w")
    p = subprocess.Popen([DAEMON, "-f", "-c", conf, "-p", "inet:%d@127.0.0.1" % port],
                         stdout=log, stderr=subprocess.STDOUT)
    return p


def log_text(tmp):
    with open(os.path.join(tmp, "milter.log")) as f:
        return f.read()


def test_signals(tmp):
    port = free_port()
    conf = os.path.join(tmp, "run.conf")
    pid_file = os.path.join(tmp, "milter.pid")
    base = "state_directory = %s\npid_file = %s\nuser = %s\ngroup = %s\n" % (
        tmp, pid_file, pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)
    with open(conf, "w") as f:
        f.write(base + "tarpit_delay = 6s\n")
    p = start(tmp, conf, port)
    try:
        check(wait_for(lambda: "starting targrey-milter" in log_text(tmp)), "daemon starts")
        check(wait_for(lambda: os.path.exists(pid_file)), "pid file written")
        with open(pid_file) as f:
            check(int(f.read()) == p.pid, "pid file holds the daemon's pid")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        check(True, "daemon listens on the configured port")
        # A good reload.
        with open(conf, "w") as f:
            f.write(base + "tarpit_delay = 7s\nshutdown_timeout = 9s\n")
        p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "(generation 2)" in log_text(tmp)), "SIGHUP reloads a good file")
        check(p.poll() is None, "daemon still runs after SIGHUP")
        check('reload: shutdown_timeout changed to "9s"; it takes effect at the next restart'
              in log_text(tmp), "a start-only parameter's change is reported at reload")
        check("tarpit_delay changed" not in log_text(tmp),
              "a reloadable parameter's change is not reported as waiting for a restart")
        # A bad reload keeps the old configuration.
        with open(conf, "w") as f:
            f.write(base + "tarpit_delay = later\n")
        p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "keeping the running one" in log_text(tmp)), "SIGHUP with a bad file is logged")
        check("run.conf:5: parameter tarpit_delay: bad value" in log_text(tmp),
              "bad reload names file and line")
        check(p.poll() is None, "daemon still runs after a bad reload")
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "SIGTERM: exit status 0 (got %r)" % rc)
        check(not os.path.exists(pid_file), "pid file removed at exit")
        check("stopped" in log_text(tmp), "stop is logged")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_reload_socket(tmp):
    """milter_socket changed by one SIGHUP and back by the next: the
    warnings compare with the socket the daemon listens on."""
    p1, p2 = free_port(), free_port()
    conf = os.path.join(tmp, "sock.conf")
    base = "state_directory = %s\npid_file = %s\nuser = %s\ngroup = %s\n" % (
        tmp, os.path.join(tmp, "sock.pid"), pwd.getpwuid(os.getuid()).pw_name,
        grp.getgrgid(os.getgid()).gr_name)
    sock = lambda port: "inet:%d@127.0.0.1" % port
    with open(conf, "w") as f:
        f.write(base + "milter_socket = %s\n" % sock(p1))
    log = open(os.path.join(tmp, "milter.log"), "w")
    p = subprocess.Popen([DAEMON, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        check(wait_for(lambda: "starting targrey-milter" in log_text(tmp)), "daemon starts on %d" % p1)
        for gen, port in ((2, p2), (3, p1)):
            with open(conf, "w") as f:
                f.write(base + "milter_socket = %s\n" % sock(port))
            mark = len(log_text(tmp))
            p.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "(generation %d)" % gen in log_text(tmp)), "reload %d" % gen)
            new = log_text(tmp)[mark:]
            if port == p2:
                want = ('reload: milter_socket changed to "%s"; it takes effect at the next'
                        ' restart (running with "%s")' % (sock(p2), sock(p1)))
                check(want in new, "first reload: %r in %r" % (want, new))
            else:
                check("changed to" not in new and sock(p2) not in new,
                      "reload back to the running socket: no warning naming %d: %r" % (p2, new))
                check('milter_socket is "%s" again, the value running' % sock(p1) in new,
                      "reload back to the running socket is said: %r" % new)
        with socket.create_connection(("127.0.0.1", p1), timeout=5):
            pass
        check(True, "still listens on %d" % p1)
    finally:
        terminate(p)
        log.close()


def test_log_file(tmp):
    """log_file: lines in Postfix's maillog_file format, opened again on
    SIGHUP after a rotation; as root, "running as root" is said once."""
    import re
    port = free_port()
    logdir = os.path.join(tmp, "logs")
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, "targrey-milter.log")
    conf = os.path.join(tmp, "logfile.conf")
    with open(conf, "w") as f:
        f.write("state_directory = %s\npid_file = %s\nuser = %s\ngroup = %s\n" % (
            tmp, os.path.join(tmp, "lf.pid"), pwd.getpwuid(os.getuid()).pw_name,
            grp.getgrgid(os.getgid()).gr_name))
        f.write("milter_socket = inet:%d@127.0.0.1\nlog_file = %s\n" % (port, path))
    read = lambda p: open(p).read() if os.path.exists(p) else ""
    err = open(os.path.join(tmp, "milter.log"), "w")
    p = subprocess.Popen([DAEMON, "-f", "-c", conf], stdout=err, stderr=subprocess.STDOUT)
    try:
        check(wait_for(lambda: "starting targrey-milter" in read(path)), "log_file gets the start line")
        line = [l for l in read(path).splitlines() if "starting targrey-milter" in l][:1]
        want = r"^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \S+ targrey-milter\[%d\]: starting " % p.pid
        check(line and re.match(want, line[0]) is not None,
              "maillog_file format: %r matches %r" % (line, want))
        os.rename(path, path + ".1")
        p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "(generation 2)" in read(path)), "after SIGHUP the new file gets the lines")
        check("(generation 2)" not in read(path + ".1"), "the rotated file gets no new line")
        # logrotate's way: targreyctl reopen (the pid from pid_file).
        os.rename(path, path + ".2")
        ctl = subprocess.run([os.path.join(BUILD, "src", "targreyctl"), "-c", conf, "reopen"],
                             capture_output=True, text=True, timeout=30)
        check(ctl.returncode == 0 and "targrey-milter[%d]: SIGHUP sent" % p.pid in ctl.stdout,
              "targreyctl reopen: %r %r" % (ctl.stdout, ctl.stderr))
        check(wait_for(lambda: "(generation 3)" in read(path)), "after targreyctl reopen the new file gets the lines")
        ctl = subprocess.run([os.path.join(BUILD, "src", "targreyctl"), "-c", conf,
                              "-o", "pid_file=" + os.path.join(tmp, "none.pid"), "reopen"],
                             capture_output=True, text=True, timeout=30)
        check(ctl.returncode == 1 and "none.pid" in ctl.stderr,
              "targreyctl reopen without a pid file: exit 1 naming it: %r" % ctl.stderr)
        if os.geteuid() == 0:
            n = log_text(tmp).count("running as root")
            check(n == 1, "\"running as root\" said once (got %d)" % n)
    finally:
        terminate(p)
        err.close()


def main():
    with tempfile.TemporaryDirectory(prefix="tg-daemon-") as tmp:
        os.chmod(tmp, 0o755)
        test_cli(tmp)
        test_signals(tmp)
        test_reload_socket(tmp)
        test_log_file(tmp)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
