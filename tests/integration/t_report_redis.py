#!/usr/bin/env python3
# Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
"""
NAME
	t_report_redis - targreyctl report with state_backend = redis: the
	hourly counters of two daemon runs add up in one Redis hash
DESCRIPTION
	A private redis-server (rig_redis) and the rig's Postfix; the milter
	with state_backend = redis, redis_key_prefix = rep:. First run: two
	clean sessions (accepted), then SIGTERM (the last flush). Second run
	of the milter on the same Redis (as a second MX host would): one
	more clean session, SIGTERM. Then `targreyctl report` shows accepted
	= 3 and decisions = 3 (the sum of both runs' decision lines), the
	HTML total the same; the hour's hash rep:report:HOUR in Redis holds
	field 0 (accepted) = 3 and a TTL at most report_history + 1 h away;
	and neither milter log says it could not write the hourly counters.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check
from rig_redis import Redis, cli


def clean_sessions(r, n):
	for _ in range(n):
		res = r.swaks(source="127.0.0.10", sender="alice@example.com",
		    to="bob@example.org", helo="mail.example.com")
		check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
		r.milter.wait_decision(queue_id=res.queue_id, action="accept")


def total(text, label):
	m = re.search(r"^  %s\s+(\d+)$" % re.escape(label), text, re.M)
	return int(m.group(1)) if m else None


def main(r):
	redis = Redis(os.path.join(r.dir, "redis"))
	redis.start()
	try:
		r.milter.params["redis_server"] = "127.0.0.1:%d" % redis.port
		r.dns.add_host("mail.example.com", "127.0.0.10")
		r.start()
		since = r.milter.log.mark()
		clean_sessions(r, 2)
		r.milter.stop()
		r.milter.start()
		clean_sessions(r, 1)
		r.milter.stop()
		accepted = len([d for d in r.milter.decisions(since)
		    if d["action"] == "accept" and d["stage"] == "eom"])
		check(accepted == 3, "accepted decision lines over both runs", accepted, 3)
		out = r.milter.ctl("report", "--lang", "en")
		check(out.returncode == 0, "targreyctl report", out.returncode, 0, out.stderr)
		got = (total(out.stdout, "accepted"), total(out.stdout, "decisions"))
		check(got == (3, 3), "report (accepted, decisions) from Redis", got, (3, 3),
		    out.stdout)
		html = r.milter.ctl("report", "--html", "-", "--lang", "en").stdout
		m = re.search(r'id="total-0">(\d+)<', html)
		check(m and int(m.group(1)) == 3, "HTML accepted total", m and m.group(1), 3)
		hour = int(time.time()) // 3600
		keys = [k for k in cli(redis.port, "--scan", "--pattern", "rep:report:*").split()]
		check(len(keys) >= 1 and all(re.fullmatch(r"rep:report:\d{10}", k) for k in keys),
		    "report hashes in Redis", keys, "rep:report:HHHHHHHHHH")
		summed = sum(int(cli(redis.port, "hget", k, "0") or 0) for k in keys)
		check(summed == 3, "accepted summed over the hashes", summed, 3)
		ttl = int(cli(redis.port, "pttl", "rep:report:%010d" % hour) or -2)
		keep = (35 * 24 + 2) * 3600 * 1000
		check(0 < ttl <= keep or hour not in [int(k[-10:]) for k in keys],
		    "TTL of the hour's hash (ms)", ttl, "0 < ttl <= report_history + 1 h")
		bad = r.milter.log.grep(r"cannot write the hourly counters")
		check(not bad, "no flush warning", bad, "none")
	finally:
		redis.stop()


rig.main(main, timeout=300, milter_params={"state_backend": "redis",
    "redis_key_prefix": "rep:", "redis_timeout": "500ms"})
