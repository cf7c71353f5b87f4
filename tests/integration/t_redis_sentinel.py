#!/usr/bin/env python3
"""
NAME
	t_redis_sentinel - the milter follows a Sentinel failover
DESCRIPTION
	A private Redis master, a replica of it and one redis-sentinel
	(quorum 1, down-after 1 s) on loopback; the milter has
	redis_sentinels = the sentinel and no redis_server of its own.
	127.0.0.51 hangs up in its tarpit (the tarpit-failed record is
	written through the master; the test waits until the replica has
	it). The master is killed (SIGKILL). Sessions from 127.0.0.51 are
	then sent one after the other: while there is no master they are
	accepted (store_unavailable); once Sentinel has promoted the replica
	and the milter has found it, the client is greylisted at once — the
	tarpit-failed record acknowledged before the kill survived. The
	time from the kill to the first greylisting is printed (the
	failover time) and must be under 20 s. /metrics counts the
	failover: targrey_redis_failovers_total 0 before the kill, 1 after.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import urllib.request

import rig
from rig import check, hang_up_in_tarpit
from rig_base import free_port
from rig_redis import cli, until_greylisted, with_sentinels


IP = "127.0.0.51"
METRICS_PORT = free_port()


def failovers():
	"""targrey_redis_failovers_total from the milter's /metrics."""
	url = "http://127.0.0.1:%d/metrics" % METRICS_PORT
	with urllib.request.urlopen(url, timeout=10) as resp:
		for line in resp.read().decode().splitlines():
			if line.startswith("targrey_redis_failovers_total "):
				return float(line.split()[1])
	return None


def wait_for(what, fn, timeout):
	deadline = time.monotonic() + timeout
	while not fn():
		check(time.monotonic() < deadline, what, "not yet", "within %d s" % timeout)
		time.sleep(0.2)


def main(r, master, replica, sentinels):
	sentinel = sentinels[0]
	r.dns.add_host("dyn-127-0-0-51.pool.example.net", IP)
	r.start()
	wait_for("sentinel sees the replica",
	    lambda: "slave" in cli(sentinel.port, "sentinel", "replicas", "mymaster"), 30)
	hang_up_in_tarpit(r, IP)
	key = "mx:tarpit:%s" % IP
	wait_for("the replica has the tarpit record",
	    lambda: cli(replica.port, "exists", key) == "1", 10)
	check(failovers() == 0, "failovers counted before the kill", failovers(), 0)
	master.stop()
	took, n, _ = until_greylisted(r, IP, 20)
	check(failovers() == 1, "failovers counted after the kill", failovers(), 1)
	check(cli(replica.port, "role").startswith("master"), "replica promoted",
	    cli(replica.port, "role"), "master")
	print("ok - failover followed: greylisted again %.1f s after the master was"
	    " killed (%d sessions, the others accepted)" % (took, n))


rig.main(with_sentinels(main), timeout=180, milter_params={
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "60s", "greylist_ipv4_prefix": "32",
	"s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_key_prefix": "mx:", "redis_timeout": "500ms",
	"redis_sentinel_master": "mymaster",
	"metrics_listen": "127.0.0.1:%d" % METRICS_PORT})
