#!/usr/bin/env python3
"""
NAME
	t_secret - redis_password never shows in clear
DESCRIPTION
	Runs the real targrey-milter and targreyctl (no Postfix needed):
	-n (all, and -n redis_password) prints the password as (hidden), with
	the file and with -o; -t warns in one line naming the file when the
	file that sets redis_password is readable by every user (0644) or
	(as root) by a group other than root and the daemon's group, and is
	quiet for 0600, 0640 group root and 0640 of the daemon's group; a
	running daemon warns in its log_file at start, and a SIGHUP that
	changes the password says so without either value. targreyctl
	against a real redis-server (unix socket in a temp dir) with a
	wrong password says "AUTH failed" and not the password.
DIAGNOSTICS
	"ok"/"FAILED" lines; exit 1 when one failed.
"""
import grp
import os
import pwd
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from rig_base import RigError, terminate, wait_until

BUILD = os.environ.get("TG_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DAEMON = os.path.join(BUILD, "src", "targrey-milter")
CTL = os.path.join(BUILD, "src", "targreyctl")
SECRET = "Wh1teRabbit-7f3a"
failures = []


def check(cond, what, got=""):
	print(("ok     " if cond else "FAILED ") + what + ("" if cond else " (got %r)" % (got,)))
	if not cond:
		failures.append(what)


def run(prog, *args):
	p = subprocess.run([prog, *args], capture_output=True, text=True, timeout=30)
	return p.returncode, p.stdout, p.stderr


def wait_for(pred, timeout=15.0):
	"""True when pred() holds within TIMEOUT seconds."""
	try:
		return bool(wait_until(pred, timeout, "a condition"))
	except RigError:
		return False


def read(path):
	try:
		with open(path) as f:
			return f.read()
	except OSError:
		return ""


def write_conf(path, mode, extra=""):
	with open(path, "w") as f:
		f.write("state_backend = redis\nredis_password = %s\n%s" % (SECRET, extra))
	os.chmod(path, mode)


def test_print(tmp):
	conf = os.path.join(tmp, "p.conf")
	write_conf(conf, 0o600)
	rc, out, err = run(DAEMON, "-c", conf, "-n")
	check(rc == 0 and "redis_password = (hidden)\n" in out, "-n masks redis_password", out)
	check(SECRET not in out + err, "-n never prints the password", out)
	rc, out, err = run(DAEMON, "-c", conf, "-n", "redis_password")
	check(out == "redis_password = (hidden)\n", "-n redis_password masks it", out)
	rc, out, err = run(DAEMON, "-c", conf, "-o", "redis_password=" + SECRET + "x", "-n")
	check("redis_password = (hidden)\n" in out and SECRET not in out, "-o value masked", out)
	rc, out, err = run(DAEMON, "-c", conf, "-d", "redis_password")
	check(out == "redis_password = \n", "-d shows the empty default", out)


def warned(conf, mode, extra="", gid=None):
	write_conf(conf, mode, extra)
	if gid is not None:
		os.chown(conf, -1, gid)
	rc, out, err = run(DAEMON, "-c", conf, "-t")
	lines = [l for l in err.splitlines() if "redis_password" in l]
	check(SECRET not in out + err, "-t never prints the password (mode %o)" % mode, err)
	return lines


def test_mode(tmp):
	conf = os.path.join(tmp, "m.conf")
	me = "user = %s\ngroup = %s\n" % (pwd.getpwuid(os.getuid()).pw_name,
	    grp.getgrgid(os.getgid()).gr_name)
	lines = warned(conf, 0o644, me)
	check(len(lines) == 1 and conf in lines[0] and "every user" in lines[0],
	    "-t warns once, naming the file, for mode 0644", lines)
	check(warned(conf, 0o600, me) == [], "-t quiet for mode 0600")
	check(warned(conf, 0o640, me) == [], "-t quiet for 0640 of the daemon's group")
	if os.getuid() != 0:
		print("skip   group cases need root")
		return
	other = grp.getgrnam("nogroup").gr_gid
	lines = warned(conf, 0o640, "user = nobody\ngroup = root\n", other)
	check(len(lines) == 1 and "another group" in lines[0],
	    "-t warns for 0640 of a group other than root and the daemon's", lines)
	check(warned(conf, 0o640, "user = nobody\ngroup = nogroup\n", other) == [],
	    "-t quiet for 0640 of the daemon's group (nogroup)")
	check(warned(conf, 0o640, "user = nobody\ngroup = nogroup\n", 0) == [],
	    "-t quiet for 0640 group root")


def test_daemon(tmp):
	"""The start warning in log_file; a reload that changes the password."""
	conf = os.path.join(tmp, "d.conf")
	log = os.path.join(tmp, "d.log")
	me = "user = %s\ngroup = %s\n" % (pwd.getpwuid(os.getuid()).pw_name,
	    grp.getgrgid(os.getgid()).gr_name)
	base = me + "state_directory = %s\npid_file = %s/d.pid\nlog_file = %s\n" \
	    "milter_socket = unix:%s/d.sock\n" % (tmp, tmp, log, tmp)
	write_conf(conf, 0o644, base)
	err = open(os.path.join(tmp, "d.err"), "w")
	p = subprocess.Popen([DAEMON, "-f", "-c", conf], stdout=err, stderr=subprocess.STDOUT)
	try:
		check(wait_for(lambda: "starting targrey-milter" in read(log)), "daemon started",
		    read(os.path.join(tmp, "d.err")))
		check("%s sets redis_password but is readable by every user" % conf in read(log),
		    "start warning in log_file", read(log))
		with open(conf, "a") as f:
			f.write("redis_password = %s-new\n" % SECRET)
		p.send_signal(signal.SIGHUP)
		check(wait_for(lambda: "reload: redis_password changed" in read(log)),
		    "reload says redis_password changed", read(log))
	finally:
		terminate(p)
		err.close()
	text = read(log) + read(os.path.join(tmp, "d.err"))
	check(SECRET not in text, "no log line has the password", text)


def test_auth_failed(tmp):
	d = os.path.join(tmp, "redis")
	os.mkdir(d)
	sock = os.path.join(d, "s")
	r = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
	    "--requirepass", SECRET, "--save", "", "--appendonly", "no", "--dir", d],
	    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	try:
		check(wait_for(lambda: os.path.exists(sock)), "redis-server started")
		rc, out, err = run(CTL, "-c", "/dev/null", "-o", "state_backend=redis",
		    "-o", "redis_server=unix:" + sock, "-o", "redis_password=" + SECRET + "-wrong",
		    "stats")
		check(rc != 0 and "AUTH failed (WRONGPASS" in err, "wrong password: AUTH failed", err)
		check(SECRET not in out + err, "wrong password: not in the output", out + err)
		rc, out, err = run(CTL, "-c", "/dev/null", "-o", "state_backend=redis",
		    "-o", "redis_server=unix:" + sock, "-o", "redis_password=" + SECRET, "stats")
		check(rc == 0 and SECRET not in out + err, "right password: stats work", out + err)
	finally:
		r.kill()
		r.wait(10)


def main():
	with tempfile.TemporaryDirectory(prefix="tg-secret-") as tmp:
		os.chmod(tmp, 0o755)
		for test in (test_print, test_mode, test_daemon, test_auth_failed):
			test(tmp)
	print("%d failed" % len(failures))
	return 1 if failures else 0


if __name__ == "__main__":
	sys.exit(main())
