#!/usr/bin/env python3
"""
NAME
	t_redis_sentinel3 - three Sentinels, quorum 2, one of them down
DESCRIPTION
	A private Redis master, a replica and three redis-sentinel processes
	(quorum 2, down-after 1 s) on loopback; the third sentinel is never
	started. The milter has redis_sentinels = the down sentinel first,
	then the other two, and no redis_server: discovery must skip the
	dead one. 127.0.0.53 (loaded as tarpit-failed) is greylisted: the
	triplet record is written through the master, and the test waits
	until the replica's replication offset has reached the master's.
	The master is killed (SIGKILL). Sessions from 127.0.0.53 with the
	same triplet follow one another: while there is no master they are
	accepted (store_unavailable); once the two live sentinels (quorum 2)
	have promoted the replica and the milter has found it, the same
	triplet is greylisted as "early-retry": the record written before
	the kill is there. The time from the kill to that decision is
	printed and must be under 30 s; the time until the replica reports
	ROLE master is printed beside it.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import GREYLISTED, RCPT, check
from rig_redis import Redis, Sentinel, cli

IP = "127.0.0.53"
SENDER = "carol@example.com"


def wait_for(what, fn, timeout):
	deadline = time.monotonic() + timeout
	while not fn():
		check(time.monotonic() < deadline, what, "not yet", "within %d s" % timeout)
		time.sleep(0.1)


def offset(port, field):
	for line in cli(port, "info", "replication").splitlines():
		if line.startswith(field + ":"):
			return int(line.split(":", 1)[1])
	return -1


def send(r):
	return r.swaks(source=IP, sender=SENDER, to=RCPT, helo="client.example.com",
	    timeout=30)


def failover(r, master, replica):
	"""Kill the master; sessions until greylisted again; the two times."""
	killed = time.monotonic()
	master.stop()
	promoted = None
	n = 0
	while True:
		n += 1
		since = r.milter.log.mark()
		res = send(r)
		if promoted is None and cli(replica.port, "role").startswith("master"):
			promoted = time.monotonic() - killed
		if GREYLISTED in res.replies:
			break
		check(res.rc == 0, "session %d during the failover" % n, res.rc, 0,
		    res.transcript)
		check(time.monotonic() - killed < 30, "greylisting again after the failover",
		    "not within 30 s", "< 30 s", r.logs())
		time.sleep(0.2)
	took = time.monotonic() - killed
	d = r.milter.wait_decision(since, addr=IP, action="greylist")
	check(d["reason"] == "early-retry", "the triplet after the failover", d["reason"],
	    "early-retry (the record written before the kill)", d["line"])
	return took, promoted, n


def main(r, master, replica, sentinels):
	r.dns.add_host("dyn-127-0-0-53.pool.example.net", IP)
	r.start()
	wait_for("both live sentinels see the replica and each other", lambda: all(
	    "slave" in cli(s.port, "sentinel", "replicas", "mymaster")
	    and cli(s.port, "sentinel", "sentinels", "mymaster") != ""
	    for s in sentinels[:2]), 60)
	now = int(time.time())
	out = r.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n"
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (IP, now, now))
	check(out.returncode == 0, "targreyctl load", out.returncode, 0, out.stderr)
	rig.attempt(r, IP, SENDER, "new")
	target = offset(master.port, "master_repl_offset")
	wait_for("the replica has every write", lambda: offset(replica.port,
	    "slave_repl_offset") >= target, 10)
	took, promoted, n = failover(r, master, replica)
	check(promoted is not None, "replica promoted", cli(replica.port, "role"), "master")
	print("ok - 3 sentinels (one down), quorum 2: replica ROLE master %.1f s and the"
	    " milter greylisting the old triplet %.1f s after the master was killed"
	    " (%d sessions)" % (promoted, took, n))


def run(r):
	base = os.path.join(r.dir, "redis")
	master = Redis(os.path.join(base, "master"))
	master.start()
	replica = Redis(os.path.join(base, "replica"),
	    ("--replicaof", "127.0.0.1", str(master.port)))
	sentinels = [Sentinel(os.path.join(base, "sentinel%d" % i), master.port, quorum=2)
	    for i in range(3)]
	try:
		replica.start()
		for s in sentinels[:2]:		# the third stays down
			s.start()
		r.milter.params["redis_sentinels"] = ", ".join("127.0.0.1:%d" % s.port
		    for s in (sentinels[2], sentinels[0], sentinels[1]))
		main(r, master, replica, sentinels)
	finally:
		for p in sentinels + [replica, master]:
			p.stop()


rig.main(run, timeout=240, milter_params={
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "60s", "greylist_ipv4_prefix": "32",
	"s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_key_prefix": "s3:", "redis_timeout": "500ms",
	"redis_sentinel_master": "mymaster"})
