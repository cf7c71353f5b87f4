#!/usr/bin/env python3
"""
NAME
	t_redis_persist - greylisting state survives a Redis restart
DESCRIPTION
	A private redis-server with the persistence docs/several-mx.md
	recommends (appendonly yes, appendfsync everysec, RDB snapshots at
	Redis's default save points). 127.0.0.54, loaded as tarpit-failed,
	is greylisted ("new", retries_left=2); Redis is stopped with SHUTDOWN
	and started again on the same port and directory (the milter keeps
	running); after greylist_delay the same triplet is "retry_counted"
	with retries_left=1: the record was kept. Without persistence the
	retry would be "new" again.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import attempt, check
from rig_redis import MILTER_PARAMS, cli, load_tarpit_failed, with_redis

IP = "127.0.0.54"
DELAY = 4
# what docs/several-mx.md recommends
PERSIST = ("--appendonly", "yes", "--appendfsync", "everysec",
    "--save", "3600 1 300 100 60 10000")


def main(r, redis):
	r.dns.add_host("dyn-127-0-0-54.pool.example.net", IP)
	r.start()
	check(cli(redis.port, "config", "get", "appendonly").split() == ["appendonly", "yes"],
	    "appendonly on", cli(redis.port, "config", "get", "appendonly"))
	load_tarpit_failed(r, [IP])
	g = attempt(r, IP, "dora@example.com", "new")
	first = time.monotonic()
	check("retries_left=2" in g["extra"], "retries left", g["extra"], "retries_left=2")
	cli(redis.port, "shutdown")
	redis.proc.wait(10)
	redis.proc = None
	redis.start()
	time.sleep(max(0, first + DELAY + 0.5 - time.monotonic()))
	deadline = time.monotonic() + 15
	while True:	# the milter reconnects after its back-off
		since = r.milter.log.mark()
		res = r.swaks(source=IP, sender="dora@example.com", to=rig.RCPT,
		    helo="client.example.com", timeout=30)
		d = r.milter.wait_decision(since, addr=IP, stage="rcpt")
		if d["reason"] != "store_unavailable":
			break
		check(time.monotonic() < deadline, "the milter reconnects", d["line"],
		    "a decision within 15 s")
		time.sleep(0.3)
	check(d["action"] == "greylist" and d["reason"] == "retry_counted"
	    and "retries_left=1" in d["extra"], "the retry after the Redis restart",
	    d["line"], "greylist retry_counted retries_left=1")
	print("ok - the triplet survived SHUTDOWN and restart of Redis (%s)" % d["reason"])


rig.main(with_redis(main, PERSIST), timeout=180, milter_params=dict(MILTER_PARAMS,
	greylist_delay="%ds" % DELAY, greylist_retry_count="2", redis_key_prefix="p:"))
