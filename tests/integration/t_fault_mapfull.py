#!/usr/bin/env python3
"""
NAME
	t_fault_mapfull - LMDB map full through the daemon: fail-open, one
	clear rate-limited error, recovery after expiry and with a bigger map
DESCRIPTION
	state_max_size = 1m (the smallest allowed), tarpit_max_sessions = 0
	(every session of an S25R-looking client writes a new greylist
	triplet), greylist_retry_window = 1m and state_expire_interval = 1s.
	  seed     targreyctl load writes 7,000 greylist records dated 35 s
	           ago: they expire about 25 s later;
	  full     milterload sends 6,000 sessions with new triplets (more
	           than the rest of the map holds): all complete; the milter
	           keeps running; from some point on store_check cannot
	           commit and the policy is fail-open, as store.h documents
	           (greylisting only delays mail, so a full map must not turn
	           into a 4xx storm): the session gets "action=accept
	           reason=store_unavailable" at RCPT (a decision line each),
	           milterload sees continue at RCPT and at end of message; the
	           log says "error: store: map full at state_max_size 1048576
	           bytes", rate-limited (at most 10 problem lines a second,
	           asserted against the seconds the run took, +2);
	           targreyctl stats still works;
	  expiry   the expiry thread deletes the 7,000 seeded records even
	           though the map is full (an LMDB delete needs free pages
	           too); then 200 sessions with new triplets are all
	           greylisted again, none store_unavailable;
	  bigger   filled up again until sessions get store_unavailable,
	           then restarted with state_max_size = 4m: the map grows,
	           every record listed before is still listed and 200 new
	           triplets are all greylisted.
"""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

NAME = "dyn-%d.pool.example.net"
SEEDS = 7000


def load(r, tag, n, clients="127.0.1.1-127.0.1.250"):
	"""N sessions with new triplets; (decisions at RCPT, seconds taken)."""
	since = r.milter.log.mark()
	t0 = time.monotonic()
	res = rig.milterload(r.milter.port, "-c", "8", "-n", n, "-a", clients,
	    "-N", NAME, "-f", "%s-%%n@example.com" % tag, "-P", timeout=80)
	took = time.monotonic() - t0
	check(res.returncode == 0 and "completed %d failed 0 unexpected 0" % n
	    in res.stdout, "milterload %s: exit status and summary" % tag,
	    res.returncode, 0, res.stdout + res.stderr)
	check(r.milter.running(), "milter running after %s" % tag)
	want = "%s-" % tag
	def all_logged():
		ds = [d for d in r.milter.decisions(since) if d["stage"] == "rcpt"
		    and d["from"].startswith(want)]
		return ds if len(ds) >= n else None
	ds = rig.wait_until(all_logged, 20, "%d rcpt decisions of %s" % (n, tag))
	return ds, took, res.stdout


def tally(ds):
	"""Decisions counted by action/reason."""
	out = {}
	for d in ds:
		k = "%s/%s" % (d["action"], d["reason"])
		out[k] = out.get(k, 0) + 1
	return out


def greylist_count(r):
	"""Records in the greylist database (targreyctl stats)."""
	out = r.milter.ctl("stats")
	check(out.returncode == 0, "targreyctl stats", out.returncode, 0,
	    out.stderr)
	for line in out.stdout.splitlines():
		f = line.split()
		if f and f[0] == "greylist":
			return int(f[1])
	raise rig.TestFailure("no greylist line in targreyctl stats:\n" +
	    out.stdout)


def seed(r):
	"""SEEDS greylist records that expire 25 s from now."""
	t = int(time.time()) - 35
	lines = ["# targrey-milter dump 1"] + [
	    "greylist\t127.0.2.%d/seed%d@example.com/user@example.net\t"
	    "first=%d\tlast=%d\tretries=0\tpassed=0" % (i % 250 + 1, i, t, t)
	    for i in range(SEEDS)]
	out = r.milter.ctl("load", "-", stdin="\n".join(lines) + "\n")
	check(out.returncode == 0, "targreyctl load of the seeds",
	    out.returncode, 0, out.stdout + out.stderr)
	check(greylist_count(r) == SEEDS, "records after seeding",
	    greylist_count(r), SEEDS)


def fill(r, tag, n):
	"""Load until sessions get store_unavailable; assert the policy."""
	since = r.milter.log.mark()
	ds, took, out = load(r, tag, n)
	t = tally(ds)
	print("  %s: %d sessions in %.1f s: %s" % (tag, n, took, t))
	full = t.get("accept/store_unavailable", 0)
	check(full > 0, "%s: sessions accepted as store_unavailable" % tag,
	    full, "> 0", t)
	check(set(t) <= {"accept/store_unavailable", "greylist/new"},
	    "%s: decisions at RCPT" % tag, sorted(t),
	    "only greylist/new and accept/store_unavailable")
	check("replies  continue=%d  (eom)" % full in out,
	    "%s: continue at end of message for the accepted sessions" % tag,
	    out, "continue=%d (eom)" % full)
	errors = r.milter.log.grep(r"error: ", since)
	mapfull = [l for l in errors if "error: store: map full at "
	    "state_max_size 1048576 bytes" in l]
	check(mapfull, "%s: map-full error line" % tag, errors[:5],
	    "error: store: map full at state_max_size 1048576 bytes")
	limit = 10 * (math.ceil(took) + 2)
	check(len(errors) <= limit, "%s: error lines (rate limit 10/s, run %.1f s)"
	    % (tag, took), len(errors), "<= %d" % limit)
	print("  %s: %d error lines for %d failed commits, e.g. %s" % (tag,
	    len(errors), full, mapfull[0].split("error: ", 1)[1]))


def all_greylisted(r, tag, clients):
	"""200 sessions with new triplets are all greylisted."""
	ds, took, _ = load(r, tag, 200, clients)
	t = tally(ds)
	check(t == {"greylist/new": 200}, "%s: decisions of 200 new triplets"
	    % tag, t, {"greylist/new": 200})
	print("ok - %s: 200 new triplets greylisted (%.1f s)" % (tag, took))


def main(r):
	r.start(postfix=False)
	seed(r)
	fill(r, "full", 6000)
	print("ok - full: the milter runs, fails open, logs the map-full error")
	full = greylist_count(r)
	def expired_total():
		lines = r.milter.log.grep(r"store: expiry pass: .* [0-9]+ expired")
		n = sum(int(l.split()[-2]) for l in lines)
		return (n, len(lines)) if n >= SEEDS else None
	expired, passes = rig.wait_until(expired_total, 45,
	    "expiry pass lines for the %d seeded records" % SEEDS)
	left = greylist_count(r)
	check(left <= full - SEEDS, "records left after the expiry", left,
	    "<= %d" % (full - SEEDS))
	check(r.milter.running(), "milter running after the expiry")
	check(not r.milter.log.grep(r"error: store: expire"), "expiry errors",
	    r.milter.log.grep(r"error: store: expire")[:3], [])
	print("  expiry: %d records expired in %d pass(es), no expiry error" %
	    (expired, passes))
	all_greylisted(r, "after-expiry", "127.0.4.1-127.0.4.250")
	fill(r, "full-again", 6000)
	before = greylist_count(r)
	keys = r.milter.ctl("list", "greylist").stdout.splitlines()
	r.milter.stop()
	r.milter.params["state_max_size"] = "4m"
	r.milter.start()
	after = r.milter.ctl("list", "greylist").stdout.splitlines()
	check(len(keys) == before and after == keys,
	    "records after the restart with state_max_size = 4m",
	    len(after), len(keys))
	all_greylisted(r, "bigger-map", "127.0.5.1-127.0.5.250")
	stats = r.milter.ctl("stats").stdout
	check("(state_max_size 4194304)" in stats, "targreyctl stats map line",
	    stats, "... (state_max_size 4194304)")
	print("ok - bigger map: %d records kept, new triplets greylisted" % before)


rig.main(main, timeout=90, milter_params={
	"tarpit_max_sessions": "0", "state_max_size": "1m",
	"greylist_ipv4_prefix": "32", "greylist_retry_window": "1m",
	"state_expire_interval": "1s", "log_level": "1"})
