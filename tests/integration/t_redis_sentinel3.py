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
	triplet is greylisted as "early_retry": the record written before
	the kill is there. The time from the kill to that decision is
	printed and must be under 30 s; the time until the replica reports
	ROLE master is printed beside it.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check
from rig_base import wait_until
from rig_redis import (MILTER_PARAMS, cli, load_tarpit_failed, until_greylisted,
    with_sentinels)

IP = "127.0.0.53"
SENDER = "carol@example.com"


def offset(port, field):
	for line in cli(port, "info", "replication").splitlines():
		if line.startswith(field + ":"):
			return int(line.split(":", 1)[1])
	return -1


def failover(r, master, replica):
	"""Kill the master; sessions until greylisted again; the two times."""
	killed = time.monotonic()
	promoted = []

	def each():
		if not promoted and cli(replica.port, "role").startswith("master"):
			promoted.append(time.monotonic() - killed)
	master.stop()
	took, n, since = until_greylisted(r, IP, 30, SENDER, each)
	d = r.milter.wait_decision(since, addr=IP, action="greylist")
	check(d["reason"] == "early_retry", "the triplet after the failover", d["reason"],
	    "early_retry (the record written before the kill)", d["line"])
	check(promoted != [], "replica promoted", cli(replica.port, "role"), "master")
	return took, promoted[0], n


def main(r, master, replica, sentinels):
	r.dns.add_host("dyn-127-0-0-53.pool.example.net", IP)
	r.start()
	wait_until(lambda: all(
	    "slave" in cli(s.port, "sentinel", "replicas", "mymaster")
	    and cli(s.port, "sentinel", "sentinels", "mymaster") != ""
	    for s in sentinels[:2]), 60, "both live sentinels to see the replica and each other")
	load_tarpit_failed(r, [IP])
	rig.attempt(r, IP, SENDER, "new")
	target = offset(master.port, "master_repl_offset")
	wait_until(lambda: offset(replica.port, "slave_repl_offset") >= target, 10,
	    "the replica to have every write")
	took, promoted, n = failover(r, master, replica)
	print("ok - 3 sentinels (one down), quorum 2: replica ROLE master %.1f s and the"
	    " milter greylisting the old triplet %.1f s after the master was killed"
	    " (%d sessions)" % (promoted, took, n))


rig.main(with_sentinels(main, 3, quorum=2, down=1), timeout=240, milter_params=dict(MILTER_PARAMS, greylist_delay="60s",
	redis_key_prefix="s3:", redis_sentinel_master="mymaster"))
