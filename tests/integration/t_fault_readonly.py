#!/usr/bin/env python3
"""
NAME
	t_fault_readonly - a state directory the milter cannot write
DESCRIPTION
	The milter runs as nobody (the rig runs it as root, it drops
	privileges), so a root-owned 0555 directory is read-only for it; a
	read-only bind mount (made in a private mount namespace by
	unshare(1), gone when the process ends) is read-only for everyone.
	The daemon checks, as its user and before it binds the socket,
	writes its pid file or detaches, that it can open the store; -t runs
	the same check. Asserted for each case (no Postfix needed):
	  fresh-0555     empty root-owned 0555 directory: -t and the daemon
	                 exit 1 with exactly one line "error: cannot use the
	                 state in DIR as user nobody: DIR: Permission denied
	                 (cannot create the database files); not starting",
	                 no "starting" line, no pid file;
	  fresh-ro-mount empty directory on a read-only mount: the same with
	                 "Read-only file system";
	  store-ro-mount a store written by the milter (records listed),
	                 then mounted read-only: exit 1, the line names
	                 DIR/data.mdb and "Read-only file system";
	  store-0555     the same store in a root-owned 0555 directory: LMDB
	                 only writes its two existing files, which still
	                 belong to nobody, so the milter starts (-t exits 0),
	                 greylists new sessions and their records are
	                 written: a directory without write permission is no
	                 fault for an existing store;
	  recovered      directory given back to nobody: the milter starts
	                 and every record written before is still listed.
	Every run is bounded (a daemon that neither starts nor refuses within
	30 s fails the test: no hang).
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

CLIENTS = "127.0.1.1-127.0.1.50"
NAME = "dyn-%d.pool.example.net"
RO_MOUNT = ['mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" &&'
    ' exec "$@"']


def run(r, args, state, ro_mount=False):
	"""Run the milter with ARGS and the rig's configuration (state_directory
	= STATE), on a read-only bind mount of STATE when asked; (rc, output)."""
	argv = [r.milter.binary] + args + ["-c", r.milter.conf]
	if ro_mount:
		argv = [rig.tool("unshare"), "-m", "--propagation", "private",
		    "sh", "-c"] + RO_MOUNT + [state] + argv
	try:
		p = subprocess.run(argv, stdin=subprocess.DEVNULL,
		    capture_output=True, text=True, timeout=30)
	except subprocess.TimeoutExpired:
		raise rig.TestFailure("%s neither started nor refused within 30 s"
		    % " ".join(argv))
	return p.returncode, p.stdout + p.stderr


def refused(r, what, state, reason, ro_mount=False):
	"""-t and the daemon exit 1 with one clear line; nothing started."""
	r.milter.params["state_directory"] = state
	r.milter.write_config()
	pid_file = r.milter.params["pid_file"]
	if os.path.exists(pid_file):
		os.unlink(pid_file)
	want = re.compile(r"^targrey-milter: error: cannot use the state in %s "
	    r"as user nobody: %s; not starting$" % (re.escape(state), reason))
	for args in (["-t"], ["-f"]):
		rc, out = run(r, args, state, ro_mount)
		lines = out.splitlines()
		check(rc == 1, "%s: exit status of %s" % (what, args[0]), rc, 1, out)
		check(len(lines) == 1 and want.match(lines[0]), "%s: output of %s"
		    % (what, args[0]), lines, want.pattern)
	check(not os.path.exists(pid_file), "%s: pid file written" % what,
	    True, False)
	print("ok - %s: -t and the daemon refuse: %s" % (what, lines[0]))


def greylist_some(r, tag, n):
	"""N new sessions get the greylist reply; the records are listed."""
	res = rig.milterload(r.milter.port, "-c", "2", "-n", n, "-a", CLIENTS,
	    "-N", NAME, "-f", "%s-%%n@example.com" % tag, "-e", "rcpt=y", "-P")
	check(res.returncode == 0 and "completed %d failed 0" % n in res.stdout,
	    "milterload %s (exit, summary)" % tag, res.returncode, 0,
	    res.stdout + res.stderr)
	return listed(r)


def listed(r):
	"""The keys of targreyctl list greylist."""
	out = r.milter.ctl("list", "greylist")
	check(out.returncode == 0, "targreyctl list greylist", out.returncode, 0,
	    out.stderr)
	return {l.split("\t", 1)[0] for l in out.stdout.splitlines() if l}


def fresh(r, uid, gid):
	"""Empty directories: 0555 root-owned, and a read-only mount."""
	d = os.path.join(r.milter.dir, "fresh-0555")
	os.mkdir(d)
	os.chmod(d, 0o555)
	refused(r, "fresh-0555", d,
	    re.escape(d) + r": Permission denied \(cannot create the database "
	    r"files\)")
	d = os.path.join(r.milter.dir, "fresh-ro")
	os.mkdir(d)
	os.chown(d, uid, gid)
	refused(r, "fresh-ro-mount", d,
	    re.escape(d) + r": Read-only file system \(cannot create the "
	    r"database files\)", ro_mount=True)


def existing(r, uid, gid):
	"""A store with records: read-only mount, 0555 directory, back."""
	d = r.milter.params["state_directory"]
	r.milter.start()
	first = greylist_some(r, "before", 5)
	check(len(first) == 5, "records written by 5 sessions", len(first), 5)
	r.milter.stop()
	refused(r, "store-ro-mount", d, re.escape(d + "/data.mdb") +
	    r": Read-only file system", ro_mount=True)
	os.chown(d, 0, 0)
	os.chmod(d, 0o555)
	rc, out = run(r, ["-t"], d)
	check(rc == 0, "store-0555: -t exit status", rc, 0, out)
	r.milter.start()
	second = greylist_some(r, "in0555", 5)
	check(first < second and len(second) == 10, "store-0555: records after 5"
	    " more sessions", len(second), 10)
	r.milter.stop()
	print("ok - store-0555: the milter runs and writes its existing files")
	os.chown(d, uid, gid)
	os.chmod(d, 0o750)
	r.milter.start()
	check(listed(r) == second, "recovered: records listed", len(listed(r)), 10)
	greylist_some(r, "after", 2)
	print("ok - recovered: the milter starts, %d records kept" % len(second))


def main(r):
	_, _, uid, gid = rig.unprivileged_user()
	r.dns.start(new_port=True)
	r.milter.params["dns_servers"] = r.dns.server
	state = r.milter.params["state_directory"]
	fresh(r, uid, gid)
	r.milter.params["state_directory"] = state
	r.milter.write_config()
	existing(r, uid, gid)


rig.main(main, timeout=90, milter_params={
	"tarpit_max_sessions": "0", "greylist_ipv4_prefix": "32"})
