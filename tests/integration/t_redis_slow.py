#!/usr/bin/env python3
"""
NAME
	t_redis_slow - a Redis that answers slowly, through a real Postfix
DESCRIPTION
	A private redis-server (no persistence) and one rig whose milter has
	state_backend = redis, redis_timeout = 500ms. The server is made slow
	without being stopped: CLIENT PAUSE 6000 ALL (Redis 7) holds every
	command for 6 s while connections are still accepted, the case that
	a stopped server does not test. During the pause, 3 clients at once,
	then 3 more one after the other, each known as tarpit-failed (so a
	working store greylists them at once), send one mail through
	Postfix. Asserted: every RCPT is answered 250 (no 4xx) within
	redis_timeout + 1 s, every mail is delivered, every rcpt decision
	says action=accept reason=store_unavailable store=redis, and the
	"mail passes without greylisting" line is logged once (rate-limited)
	for the 6 sessions. When the pause is over, a new tarpit-failed
	client is greylisted again within 15 s, without a daemon restart.
	The RCPT reply times are printed.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import RCPT, check
from rig_redis import MILTER_PARAMS, cli, load_tarpit_failed, until_greylisted, with_redis

TIMEOUT_MS = 500
PAUSE_MS = 6000
SLOW = ["127.0.0.%d" % i for i in range(71, 77)]
AFTER = "127.0.0.79"


def session(r, ip, out):
	"""One mail from ip; out[ip] = (RCPT reply, its seconds, last reply)."""
	with r.smtp(source=ip, timeout=30) as c:
		c.banner()
		c.command("EHLO client.example.com")
		c.command("MAIL FROM:<slow@example.com>")
		t0 = time.monotonic()
		rc = c.command("RCPT TO:<%s>" % RCPT)
		took = time.monotonic() - t0
		last = rc
		if rc.code == 250 and c.command("DATA").code == 354:
			c.send(c.message())
			last = c.reply()
		c.command("QUIT")
	out[ip] = (rc, took, last)


def during_pause(r):
	out = {}
	threads = [threading.Thread(target=session, args=(r, ip, out)) for ip in SLOW[:3]]
	for t in threads:
		t.start()
	for t in threads:
		t.join(60)
	for ip in SLOW[3:]:
		session(r, ip, out)
	return out


def main(r, redis):
	for ip in SLOW + [AFTER]:
		r.dns.add_host("dyn-%s.pool.example.net" % ip.replace(".", "-"), ip)
	r.start()
	load_tarpit_failed(r, SLOW + [AFTER])
	since = r.milter.log.mark()
	check(cli(redis.port, "client", "pause", str(PAUSE_MS), "all") == "OK",
	    "CLIENT PAUSE ALL")
	paused = time.monotonic()
	out = during_pause(r)
	check(time.monotonic() - paused < PAUSE_MS / 1000.0,
	    "the sessions ran while Redis was paused", round(time.monotonic() - paused, 2),
	    "< %d s" % (PAUSE_MS / 1000))
	times = []
	for ip in SLOW:
		check(ip in out, "session from %s finished" % ip)
		rc, took, last = out[ip]
		times.append(took)
		check(rc.code == 250, "RCPT from %s with Redis slow" % ip, rc, 250)
		check(took < TIMEOUT_MS / 1000.0 + 1, "RCPT reply time from %s (s)" % ip,
		    round(took, 3), "< redis_timeout + 1 s")
		check(last.code == 250, "mail from %s accepted" % ip, last, 250)
		d = r.milter.wait_decision(since, addr=ip, stage="rcpt")
		check(d["action"] == "accept" and d["reason"] == "store_unavailable"
		    and "store=redis" in d["line"], "rcpt decision for %s" % ip, d["line"],
		    "action=accept reason=store_unavailable store=redis")
	said = r.milter.log.grep(r"mail passes without greylisting", since)
	check(len(said) == 1, "store_unavailable lines for 6 sessions (rate-limited)",
	    len(said), 1, r.logs())
	print("  RCPT reply times with Redis paused (s): %s; max %.3f, redis_timeout %.3f"
	    % (" ".join("%.3f" % t for t in times), max(times), TIMEOUT_MS / 1000.0))
	time.sleep(max(0, paused + PAUSE_MS / 1000.0 + 0.2 - time.monotonic()))
	took, n, _ = until_greylisted(r, AFTER, 15)
	print("ok - filtering resumed %.1f s after the pause ended (%d session(s))" % (took, n))


rig.main(with_redis(main), timeout=180, milter_params=dict(MILTER_PARAMS,
	greylist_delay="60s", redis_key_prefix="slow:", redis_timeout="%dms" % TIMEOUT_MS))
