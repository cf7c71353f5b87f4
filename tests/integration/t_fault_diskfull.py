#!/usr/bin/env python3
"""
NAME
	t_fault_diskfull - the file system under state_directory fills up
DESCRIPTION
	The milter runs in a private mount namespace (unshare(1); the mount
	goes away with the process) where state_directory is a 1 MiB tmpfs.
	tarpit_max_sessions = 0, greylist_ipv4_prefix = 32: every new
	suspicious triplet is a write.
	  full      a file written next to data.mdb (through
	            /proc/PID/root) takes every free block; milterload then
	            sends 400 sessions with new triplets: all complete, the
	            milter keeps running (it used to die of SIGBUS inside
	            mdb_put with a writable map over a sparse file); the
	            sessions whose write is refused are accepted at RCPT as
	            store_unavailable with store=write_error; the log has
	            exactly one "error: store: cannot write the state: ...:
	            No space left on device" line (once a minute at most);
	            a new client through Postfix is accepted and delivered
	            the same way;
	  space     the file is removed: without a restart or a signal the
	            next new client is greylisted (450) and the log says
	            "store: writing again (the store was write_error)".
"""
import errno
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

NAME = "dyn-%d.pool.example.net"
RCPT = "bob@example.org"
GREYLISTED = (450, "4.7.1 Greylisted, please try again later")
MOUNT = 'mount -t tmpfs -o size=1m,mode=0750,uid=%d,gid=%d tmpfs "$0" && exec "$@"'


def filler(r):
	return "/proc/%d/root%s/filler" % (r.milter.pid,
	    r.milter.params["state_directory"])


def fill(r):
	"""Write FILLER until the tmpfs is full; bytes written."""
	n = 0
	fd = os.open(filler(r), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
	try:
		while n < 4 << 20:	# bounded: the tmpfs is 1 MiB
			n += os.write(fd, b"\0" * 4096)
	except OSError as e:
		check(e.errno == errno.ENOSPC, "filler write error", e.errno,
		    errno.ENOSPC)
	finally:
		os.close(fd)
	check(n < 4 << 20, "filler stopped by ENOSPC", n, "< 4 MiB")
	return n


def swaks(r, ip, sender):
	r.dns.add_host("dyn-%s.pool.example.net" % ip.replace(".", "-"), ip)
	since = r.milter.log.mark()
	res = r.swaks(source=ip, sender=sender, to=RCPT,
	    helo="client.example.com", timeout=30)
	return since, res


def full(r):
	"""No space: every refused write passes mail; one error line."""
	since = r.milter.log.mark()
	n = fill(r)
	res = rig.milterload(r.milter.port, "-c", "4", "-n", 400, "-a",
	    "127.0.2.1-127.0.2.250", "-N", NAME, "-f", "full-%n@example.com", "-P",
	    timeout=120)
	check(res.returncode == 0 and "completed 400 failed 0 unexpected 0"
	    in res.stdout, "milterload: exit status and summary", res.returncode, 0,
	    res.stdout + res.stderr)
	check(r.milter.running(), "milter running after the disk filled")
	def all_logged():
		ds = [d for d in r.milter.decisions(since) if d["stage"] == "rcpt"
		    and d["from"].startswith("full-")]
		return ds if len(ds) >= 400 else None
	ds = rig.wait_until(all_logged, 30, "400 rcpt decisions")
	failed = [d for d in ds if d["action"] == "accept"]
	check(failed and all(d["reason"] == "store_unavailable" and
	    "store=write_error" in d["extra"] for d in failed),
	    "decisions of refused writes", [d["line"] for d in failed[:2]],
	    "accept store_unavailable ... store=write_error")
	errs = r.milter.log.grep(r"error: ", since)
	check(len(errs) == 1 and "error: store: cannot write the state: " in errs[0]
	    and "No space left on device" in errs[0], "error lines", errs,
	    "one: store: cannot write the state: ...: No space left on device")
	since, res = swaks(r, "127.0.3.1", "full@example.com")
	check(res.rc == 0, "swaks while full", res.rc, 0, res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, addr="127.0.3.1", stage="rcpt")
	check(d["reason"] == "store_unavailable" and "store=write_error" in d["extra"],
	    "decision while full", d["line"], "store_unavailable store=write_error")
	print("ok - full: filler %d bytes; %d of 400 sessions accepted as "
	    "store=write_error, the milter runs; %s" % (n, len(failed),
	    errs[0].split("error: ", 1)[1][:90]))


def space(r):
	"""Space returns: writing resumes by itself."""
	os.unlink(filler(r))
	since, res = swaks(r, "127.0.3.2", "space@example.com")
	check(GREYLISTED in res.replies, "reply once space returned", res.replies,
	    GREYLISTED, res.transcript)
	d = r.milter.wait_decision(since, addr="127.0.3.2", action="greylist")
	check(d["reason"] == "new", "greylist reason", d["reason"], "new")
	r.milter.log.wait(r"store: writing again \(the store was write_error\)",
	    since=since, timeout=10)
	print("ok - space: greylisting again without a restart")


def main(r):
	_, _, uid, gid = rig.unprivileged_user()
	r.milter.wrapper = [rig.tool("unshare"), "-m", "--propagation", "private",
	    "sh", "-c", MOUNT % (uid, gid), r.milter.params["state_directory"]]
	r.start()
	since, res = swaks(r, "127.0.3.3", "first@example.com")
	check(GREYLISTED in res.replies, "reply before the disk filled",
	    res.replies, GREYLISTED, res.transcript)
	full(r)
	space(r)


rig.main(main, timeout=240, milter_params={
	"tarpit_max_sessions": "0", "greylist_ipv4_prefix": "32"})
