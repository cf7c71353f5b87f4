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
	more clean session, SIGTERM. Each run also has one suspicious client
	(127.0.0.21: a 1 s tarpit, then known). Then `targreyctl report`
	shows accepted = 5, tarpit passed as logged, suspicious clients = 2 (the
	sum of both runs' decision lines) and 127.0.0.0/24 with 2 among the
	top suspicious networks, the HTML total the same; the hour's hash
	rep:report:HOUR in Redis holds field 0 (accepted) = 5 and a TTL at
	most report_history + 1 h away, rep:report-net:HOUR 127.0.0.0/24 = 2;
	and neither milter log says it could not write the hourly counters.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check, send_clean
from rig_redis import Redis, cli


def suspicious_session(r):
	res = r.swaks(source="127.0.0.21", sender="alice@example.com",
	    to="bob@example.org", helo="client.example.com", timeout=30)
	check(res.rc == 0, "swaks exit status (tarpit)", res.rc, 0, res.transcript)
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
		r.dns.add_host("dyn-127-0-0-21.pool.example.net", "127.0.0.21")
		r.start()
		since = r.milter.log.mark()
		send_clean(r, 2)
		suspicious_session(r)
		r.milter.stop()
		r.milter.start()
		send_clean(r, 1)
		suspicious_session(r)
		r.milter.stop()
		accepted = len([d for d in r.milter.decisions(since)
		    if d["action"] == "accept" and d["stage"] == "eom"])
		check(accepted == 5, "accepted decision lines over both runs", accepted, 5)
		tarpit = len([d for d in r.milter.decisions(since)
		    if d["action"] == "tarpit" and d["reason"] == "passed"])
		out = r.milter.ctl("report", "--lang", "en")
		check(out.returncode == 0, "targreyctl report", out.returncode, 0, out.stderr)
		got = (total(out.stdout, "accepted"), total(out.stdout, "tarpit passed"),
		    total(out.stdout, "suspicious clients"))
		check(got == (5, tarpit, 2), "report (accepted, tarpit passed, suspicious) from Redis",
		    got, (5, tarpit, 2), out.stdout)
		check(re.search(r"^\S*\s+127\.0\.0\.0/24\s+2$", out.stdout, re.M),
		    "top suspicious network from Redis", out.stdout, "127.0.0.0/24 2")
		html = r.milter.ctl("report", "--html", "-", "--lang", "en").stdout
		m = re.search(r'id="total-0">(\d+)<', html)
		check(m and int(m.group(1)) == 5, "HTML accepted total", m and m.group(1), 5)
		hour = int(time.time()) // 3600
		keys = [k for k in cli(redis.port, "--scan", "--pattern", "rep:report:*").split()]
		check(len(keys) >= 1 and all(re.fullmatch(r"rep:report:\d{10}", k) for k in keys),
		    "report hashes in Redis", keys, "rep:report:HHHHHHHHHH")
		summed = sum(int(cli(redis.port, "hget", k, "0") or 0) for k in keys)
		check(summed == 5, "accepted summed over the hashes", summed, 5)
		nets = [k for k in cli(redis.port, "--scan", "--pattern", "rep:report-net:*").split()]
		got = sum(int(cli(redis.port, "hget", k, "127.0.0.0/24") or 0) for k in nets)
		check(got == 2, "suspicious clients of 127.0.0.0/24 in rep:report-net:HOUR", got, 2)
		ttl = int(cli(redis.port, "pttl", "rep:report:%010d" % hour) or -2)
		keep = (35 * 24 + 2) * 3600 * 1000
		check(0 < ttl <= keep or hour not in [int(k[-10:]) for k in keys],
		    "TTL of the hour's hash (ms)", ttl, "0 < ttl <= report_history + 1 h")
		bad = r.milter.log.grep(r"cannot write the hourly counters")
		check(not bad, "no flush warning", bad, "none")
	finally:
		redis.stop()


rig.main(main, timeout=300, milter_params={"state_backend": "redis",
    "redis_key_prefix": "rep:", "redis_timeout": "500ms", "tarpit_delay": "1s",
    "tarpit_poll_interval": "250ms", "s25r_reverse_lookup": "yes"})
