#!/usr/bin/env python3
"""
NAME
	t_fault_pidfile - the pid file cannot be turned against root, is
	created in a missing directory and is removed at stop
DESCRIPTION
	The rig runs the milter as root; it drops privileges to nobody. No
	Postfix needed. Asserted:
	  symlink    a directory owned by nobody (as the old init script made
	             it) where nobody planted targrey-milter.pid as a symbolic
	             link to a root-owned file: the daemon exits 1 within 30 s
	             with "pid file PATH is a symbolic link (or not a regular
	             file): not following it; not starting", and root's file
	             is unchanged (content, owner, mode);
	  missing    pid_file in two directories that do not exist: the daemon
	             creates them (root-owned, 0755: nobody cannot write
	             them), writes its pid there (a regular root-owned file);
	  removed    after SIGTERM the pid file is gone within 10 s, although
	             the daemon ran as nobody and the directory is root's;
	  killed     the same after SIGKILL (nothing left for the next start
	             to trip over), and a stale regular pid file left by
	             someone else is replaced at the next start.
	Each fails before the fix: the daemon followed the link (fopen "w"),
	failed on the missing directory, and could not remove the file after
	the privilege drop.
"""
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check


def run_refused(r):
	"""Run the daemon in the foreground; (exit status, output)."""
	try:
		p = subprocess.run([r.milter.binary, "-f", "-c", r.milter.conf],
		    stdin=subprocess.DEVNULL, capture_output=True, text=True,
		    timeout=30)
	except subprocess.TimeoutExpired:
		raise rig.TestFailure("the daemon started through a planted link"
		    " (still running after 30 s)")
	return p.returncode, p.stdout + p.stderr


def symlink(r, uid, gid):
	"""nobody's directory, nobody's link to root's file: refused."""
	d = os.path.join(r.milter.dir, "userrun")
	os.mkdir(d, 0o755)
	os.chown(d, uid, gid)
	target = os.path.join(r.milter.dir, "root-secret")
	with open(target, "w") as f:
		f.write("root's file\n")
	os.chmod(target, 0o600)
	before = os.stat(target)
	pid_file = os.path.join(d, "targrey-milter.pid")
	os.symlink(target, pid_file)
	os.lchown(pid_file, uid, gid)
	r.milter.params["pid_file"] = pid_file
	r.milter.write_config()
	rc, out = run_refused(r)
	check(rc == 1, "symlink: exit status", rc, 1, out)
	want = "pid file %s is a symbolic link (or not a regular file): not " \
	    "following it; not starting" % pid_file
	check(want in out, "symlink: the log says why", out.strip(), want)
	with open(target) as f:
		got = f.read()
	after = os.stat(target)
	check(got == "root's file\n", "symlink: root's file content", got,
	    "root's file\\n")
	check((after.st_uid, after.st_mode) == (before.st_uid, before.st_mode),
	    "symlink: root's file owner and mode", (after.st_uid,
	    oct(after.st_mode)), (before.st_uid, oct(before.st_mode)))
	check(os.path.islink(pid_file), "symlink: the link left alone",
	    False, True)
	print("ok - symlink: refused, root's file untouched: %s" % want)


def gone(path, what):
	"""The pid file disappears within 10 s."""
	try:
		rig.wait_until(lambda: not os.path.lexists(path), 10, what)
	except rig.RigError:
		check(False, what, "still there", "removed")


def missing_and_removed(r):
	"""Missing directories created root-owned; file removed at stop."""
	d = os.path.join(r.milter.dir, "rootrun", "targrey-milter")
	pid_file = os.path.join(d, "targrey-milter.pid")
	r.milter.params["pid_file"] = pid_file
	r.milter.start()
	for p in (d, os.path.dirname(d)):
		st = os.stat(p)
		check((st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o755),
		    "missing: %s owner and mode" % p, (st.st_uid,
		    oct(stat.S_IMODE(st.st_mode))), (0, "0o755"))
	st = os.lstat(pid_file)
	check(stat.S_ISREG(st.st_mode) and st.st_uid == 0, "missing: pid file"
	    " is a regular file of root", oct(st.st_mode), "regular, uid 0")
	with open(pid_file) as f:
		got = f.read()
	check(got == "%d\n" % r.milter.pid, "missing: pid file content", got,
	    "%d\\n" % r.milter.pid)
	print("ok - missing: directories created root-owned 0755, pid written")
	r.milter.stop()
	gone(pid_file, "removed: pid file after SIGTERM")
	print("ok - removed: pid file gone after a clean stop as nobody")
	r.milter.start()
	r.milter.kill()
	gone(pid_file, "killed: pid file after SIGKILL")
	with open(pid_file, "w") as f:
		f.write("99999999\n")
	r.milter.start()
	with open(pid_file) as f:
		got = f.read()
	check(got == "%d\n" % r.milter.pid, "killed: stale pid file replaced",
	    got, "%d\\n" % r.milter.pid)
	r.milter.stop()
	gone(pid_file, "killed: pid file after the next stop")
	print("ok - killed: pid file gone after SIGKILL; a stale one replaced")


def main(r):
	if os.geteuid() != 0:
		raise rig.TestFailure("this test must run as root")
	_, _, uid, gid = rig.unprivileged_user()
	r.dns.start(new_port=True)
	r.milter.params["dns_servers"] = r.dns.server
	symlink(r, uid, gid)
	missing_and_removed(r)


rig.main(main, timeout=120)
