#!/usr/bin/env python3
"""
NAME
	t_fault_kill - kill -9 of targrey-milter under load, 20 times: the
	store opens clean and no committed record is lost
DESCRIPTION
	The milter (no Postfix: milterload speaks the milter protocol to it)
	runs with tarpit_max_sessions = 0, so every session of an S25R-looking
	client (-N dyn-A-B-C-D.pool.example.net) is greylisted at its first
	RCPT and writes one new triplet record into LMDB. Each round:
	  - milterload starts a stream of such sessions (a sender per round,
	    so every session is a new triplet);
	  - once the milter has logged a random number (5-150) of this
	    round's greylist decisions, `targreyctl list greylist` is taken:
	    the committed records, read while the milter keeps writing;
	  - kill -9 of the milter in the middle of that load (exit status
	    -9 asserted), then the load is stopped;
	  - restart: the milter listens again and logs no error, fatal or
	    panic line (the store opened clean: LMDB needs no recovery);
	    `targreyctl list greylist` holds every record listed before the
	    kill (and the records of all earlier rounds), and the record of
	    every greylist decision the milter logged before it died (the
	    line is written after the commit): nothing committed is lost; the milter answers again: 4 new sessions all get the 450
	    greylist reply (milterload -e rcpt=y, exit 0) and their records
	    are there.
	Prints the records checked per round.
"""
import os
import random
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

ROUNDS = 20
CLIENTS = "127.0.1.1-127.0.1.250"
NAME = "dyn-%d.pool.example.net"


def greylist_keys(r):
	"""The keys `targreyctl list greylist` prints."""
	out = r.milter.ctl("list", "greylist")
	check(out.returncode == 0, "targreyctl list greylist exit status",
	    out.returncode, 0, out.stderr)
	return {l.split("\t", 1)[0] for l in out.stdout.splitlines() if l}


def start_load(r, tag):
	"""milterload in the background: new triplets, sender TAG-s%n."""
	argv = [os.path.join(rig.BUILDDIR, "tests", "bench", "milterload"),
	    "-s", "inet:%d@127.0.0.1" % r.milter.port, "-c", "8", "-d", "60",
	    "-r", "400", "-T", "5", "-a", CLIENTS, "-N", NAME,
	    "-f", "%s-s%%n@example.com" % tag, "-P"]
	return subprocess.Popen(argv, stdout=subprocess.DEVNULL,
	    stderr=subprocess.DEVNULL, start_new_session=True)


def stop_load(p):
	"""Stop our milterload (by its pid) and reap it."""
	if p.poll() is None:
		p.terminate()
	try:
		p.wait(10)
	except subprocess.TimeoutExpired:
		p.kill()
		p.wait(5)


def answers(r, tag):
	"""Four new sessions are greylisted; their records are written."""
	res = rig.milterload(r.milter.port, "-c", "2", "-n", "4", "-a", CLIENTS,
	    "-N", NAME, "-f", "%s-s%%n@example.com" % tag, "-e", "rcpt=y", "-P",
	    timeout=60)
	check(res.returncode == 0 and "completed 4 failed 0 unexpected 0" in
	    res.stdout, "milterload after restart (exit, summary)",
	    res.returncode, 0, res.stdout + res.stderr)


def one_round(r, i, rnd, committed):
	"""Load, list, kill -9, restart, compare; the keys now listed."""
	tag = "k%02d" % i
	since = r.milter.log.mark()
	load = start_load(r, tag)
	try:
		want = rnd.randint(5, 150)
		r.milter.log.wait(r"action=greylist .* from=<%s-s" % tag, 30, since,
		    count=want)
		before = greylist_keys(r)
		lost = committed - before
		check(not lost, "round %d: records of earlier rounds listed" % i,
		    sorted(lost)[:5], "none missing")
		status = r.milter.kill(signal.SIGKILL)
		check(status == -signal.SIGKILL, "round %d: milter exit status" % i,
		    status, -signal.SIGKILL)
	finally:
		stop_load(load)
	# a greylist line is logged after its record was committed
	logged = {"%s/%s/%s" % (d["addr"], d["from"], d["to"]) for d in
	    r.milter.decisions(since) if d["action"] == "greylist"}
	since = r.milter.log.mark()
	r.milter.start()
	answers(r, tag + "-after")
	bad = r.milter.log.grep(r"(error|fatal|panic): ", since)
	check(bad == [], "round %d: error lines after the restart" % i, bad, [])
	after = greylist_keys(r)
	lost = before - after
	check(not lost, "round %d: records listed before kill -9, missing after"
	    % i, sorted(lost)[:5], "none", "%d of %d missing" % (len(lost),
	    len(before)))
	lost = logged - after
	check(not lost, "round %d: records of greylist lines logged before the "
	    "kill, missing after" % i, sorted(lost)[:5], "none",
	    "%d of %d missing" % (len(lost), len(logged)))
	fresh = [k for k in after if "/%s-after-s" % tag in k]
	check(len(fresh) == 4, "round %d: records of the 4 sessions after the "
	    "restart" % i, len(fresh), 4)
	check(r.milter.running(), "round %d: milter still running" % i)
	print("  round %2d: killed after %3d decisions (%3d logged in all), %5d"
	    " records listed before, %5d after, none lost" % (i + 1, want,
	    len(logged), len(before), len(after)))
	return after


def main(r):
	seed = int.from_bytes(os.urandom(4), "big")
	print("  random seed %d" % seed)
	rnd = random.Random(seed)
	r.start(postfix=False)
	committed = set()
	for i in range(ROUNDS):
		committed = one_round(r, i, rnd, committed)
	print("ok - %d rounds of kill -9 under load, %d records at the end,"
	    " none lost" % (ROUNDS, len(committed)))


rig.main(main, timeout=90, milter_params={
	"tarpit_max_sessions": "0", "greylist_ipv4_prefix": "32",
	"log_level": "1"})
