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
	running); after greylist_delay the same triplet is "retry-counted"
	with retries_left=1: the record was kept. Without persistence the
	retry would be "new" again.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import attempt, check
from rig_redis import Redis, cli

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
	now = int(time.time())
	out = r.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n"
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (IP, now, now))
	check(out.returncode == 0, "targreyctl load", out.returncode, 0, out.stderr)
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
	check(d["action"] == "greylist" and d["reason"] == "retry-counted"
	    and "retries_left=1" in d["extra"], "the retry after the Redis restart",
	    d["line"], "greylist retry-counted retries_left=1")
	print("ok - the triplet survived SHUTDOWN and restart of Redis (%s)" % d["reason"])


def run(r):
	redis = Redis(os.path.join(r.dir, "redis"), PERSIST)
	redis.start()
	try:
		r.milter.params["redis_server"] = "127.0.0.1:%d" % redis.port
		main(r, redis)
	finally:
		redis.stop()


rig.main(run, timeout=180, milter_params={
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "%ds" % DELAY, "greylist_retry_count": "2",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_key_prefix": "p:", "redis_timeout": "500ms"})
