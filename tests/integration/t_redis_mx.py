#!/usr/bin/env python3
"""
NAME
	t_redis_mx - two MX hosts, one taRgrey state in Redis
DESCRIPTION
	Starts a private redis-server (free loopback port, own directory, no
	persistence) and two rigs, mx1 and mx2: each its own nsd, Postfix and
	targrey-milter, both milters with state_backend = redis and the same
	redis_server and redis_key_prefix. tarpit_delay = 3s,
	greylist_delay = 8s, greylist_retry_count = 2,
	auto_whitelist_clients = 1, greylist_ipv4_prefix = 32,
	redis_timeout = 500ms.
	  shared       127.0.0.41 resets in mx1's tarpit (lost_connection);
	               mx2 greylists it at once ("new", not a tarpit); an
	               early retry at mx1 is "early_retry"; after the delay a
	               retry at mx2 is counted (retries_left=1), and the next
	               at mx1 passes (pass_triplet) and is delivered.
	  awl          the pass at mx1 whitelisted the client
	               (auto_whitelist_clients = 1): a new triplet of it at
	               mx2 is accepted as pass_awl.
	  concurrent   127.0.0.61 (tarpit-failed, loaded with targreyctl): one
	               milterload session through each milter ("new" and
	               "early_retry"); after the delay 200 sessions of the same
	               triplet through each milter at once (8 at a time each):
	               exactly one of the 400 is greylisted (retry_counted),
	               the rest pass, as one host would decide.
	  stopped_mid_load  milterload through mx2 (8 at a time, 4 s) from a
	               tarpit-failed client; redis-server killed after 1.5 s:
	               every session completes, the slowest rcpt reply is
	               under redis_timeout + 1 s, and the decisions are
	               greylist "new" before and store_unavailable after.
	  redis_down   redis-server killed: a new suspicious client at mx1 is
	               answered at once (under 5 s for the whole session),
	               its mail delivered, the decision says
	               store_unavailable store=redis and the milter log says
	               why ("redis: ..."). Started again on the same port:
	               a new client at mx2 is tarpitted again within 15 s,
	               without restarting the milter.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import RCPT, attempt, check, hang_up_in_tarpit, retry_until_pass
from rig_redis import Redis


GREY_DELAY = 8
IPS = ("127.0.0.41", "127.0.0.42", "127.0.0.43")


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def test_shared(mx1, mx2, redis):
	"""greylisted at mx1 after its tarpit, retried at mx2, passes at mx1"""
	ip = IPS[0]
	hang_up_in_tarpit(mx1, ip)
	retry_until_pass([mx2, mx1, mx2, mx1], ip, "alice@example.com", GREY_DELAY)


def test_awl(mx1, mx2, redis):
	"""the pass learned at mx1 auto-whitelists the client at mx2"""
	attempt(mx2, IPS[0], "carol@example.com", None, "pass_awl")


def load_both(mx1, mx2, ip, n):
	"""n sessions of one triplet from ip through each milter at once."""
	from concurrent.futures import ThreadPoolExecutor
	args = ("-c", 8, "-n", n, "-a", "127.0.0.2", "-A", ip, "-f", "zed@example.com",
	    "-t", RCPT)
	with ThreadPoolExecutor(2) as ex:
		runs = [ex.submit(rig.milterload, r.milter.port, *args, timeout=120)
		    for r in (mx1, mx2)]
		for run in runs:
			res = run.result()
			check(res.returncode in (0, 3), "milterload", res.returncode, 0,
			    res.stdout + res.stderr)


def greylisted(r, since, ip):
	return [d for d in r.milter.decisions(since)
	    if d["addr"] == ip and d["action"] == "greylist"]


def test_concurrent(mx1, mx2, redis):
	"""hundreds of decisions for one triplet from both hosts at once: one host's counts"""
	ip = "127.0.0.61"
	now = int(time.time())
	out = mx1.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n"
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (ip, now, now))
	check(out.returncode == 0, "targreyctl load tarpit", out.returncode, 0,
	    out.stdout + out.stderr)
	since1, since2 = mx1.milter.log.mark(), mx2.milter.log.mark()
	load_both(mx1, mx2, ip, 1)
	first = time.monotonic()
	new = greylisted(mx1, since1, ip) + greylisted(mx2, since2, ip)
	check(sorted(d["reason"] for d in new) == ["early_retry", "new"],
	    "first two decisions (one through each milter, at once)",
	    [d["line"] for d in new], "one new, one early_retry")
	time.sleep(max(0, first + GREY_DELAY + 0.5 - time.monotonic()))
	since1, since2 = mx1.milter.log.mark(), mx2.milter.log.mark()
	load_both(mx1, mx2, ip, 200)
	grey = greylisted(mx1, since1, ip) + greylisted(mx2, since2, ip)
	check([d["reason"] for d in grey] == ["retry_counted"],
	    "greylisted among 400 concurrent retries from both hosts",
	    [d["line"] for d in grey], "exactly one retry_counted")


def rcpt_max_ms(out):
	"""The max rcpt reply latency (ms) of milterload's report."""
	m = re.search(r"^reply\s+rcpt\s+\d+\s+\S+\s+\S+\s+\S+\s+(\S+)$", out, re.M)
	check(m is not None, "rcpt latency line", out, "reply rcpt ... max")
	return float(m.group(1))


def test_redis_stopped_mid_load(mx1, mx2, redis):
	"""Redis killed under load: every session answered in time, then back"""
	from concurrent.futures import ThreadPoolExecutor
	ip = "127.0.0.62"
	now = int(time.time())
	out = mx2.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n"
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (ip, now, now))
	check(out.returncode == 0, "targreyctl load tarpit", out.returncode, 0, out.stderr)
	since = mx2.milter.log.mark()
	with ThreadPoolExecutor(1) as ex:
		run = ex.submit(rig.milterload, mx2.milter.port, "-c", 8, "-d", 4,
		    "-a", "127.0.0.2", "-A", ip, timeout=120)
		time.sleep(1.5)
		redis.stop()
		res = run.result()
	check(res.returncode in (0, 3), "milterload across the kill", res.returncode, 0,
	    res.stdout + res.stderr)
	worst = rcpt_max_ms(res.stdout)
	check(worst < 500 + 1000, "slowest rcpt reply across the kill (ms)", worst,
	    "< redis_timeout + 1 s")
	actions = {d["reason"] for d in mx2.milter.decisions(since)
	    if d["addr"] == ip and d["stage"] == "rcpt"}
	check({"new", "store_unavailable"} <= actions, "decisions across the kill",
	    actions, "greylist new before, store_unavailable after")
	mx2.milter.log.wait(r"redis: ", 10, since)
	redis.start()
	print("  slowest rcpt reply across the kill: %.1f ms" % worst)


def test_redis_down(mx1, mx2, redis):
	"""Redis killed: mail accepted at once, logged; back: decisions resume"""
	ip = IPS[1]
	redis.stop()
	since = mx1.milter.log.mark()
	res = mx1.swaks(source=ip, sender="dave@example.com", to=RCPT,
	    helo="client.example.com", timeout=30)
	check(res.rc == 0, "swaks with Redis down", res.rc, 0, res.transcript)
	check(res.elapsed < 5, "session time with Redis down", round(res.elapsed, 2),
	    "< 5 s")
	mx1.postfix.wait_delivered(res.queue_id)
	d = mx1.milter.wait_decision(since, addr=ip, stage="rcpt")
	check(d["action"] == "accept" and "store=redis" in d["line"],
	    "rcpt decision with Redis down", d["line"], "accept ... store=redis")
	mx1.milter.log.wait(r"redis: ", 10, since)
	redis.start()
	ip = IPS[2]
	deadline = time.monotonic() + 15
	while True:
		since = mx2.milter.log.mark()
		c = mx2.smtp(source=ip)
		c.banner()
		c.command("EHLO client.example.com")
		c.command("MAIL FROM:<erin@example.com>")
		c.send("RCPT TO:<%s>\r\n" % RCPT)
		try:
			mx2.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 3, since)
			c.reset()
			return
		except Exception:
			c.reset()
		check(time.monotonic() < deadline, "tarpit again after Redis restarted",
		    mx2.milter.decisions(since), "a tarpit within 15 s")
		time.sleep(0.5)


def main(mx1):
	redis = Redis(os.path.join(mx1.dir, "redis"))
	redis.start()
	params = dict(PARAMS, redis_server="127.0.0.1:%d" % redis.port)
	mx1.milter.params.update(params)
	try:
		with rig.Rig(milter_params=params) as mx2:
			for r in (mx1, mx2):
				for ip in IPS:
					r.dns.add_host(name_of(ip), ip)
				r.start()
			for t in (test_shared, test_awl, test_concurrent, test_redis_stopped_mid_load,
			    test_redis_down):
				t(mx1, mx2, redis)
				print("ok - %s: %s" % (t.__name__, t.__doc__))
	finally:
		redis.stop()


PARAMS = {
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "%ds" % GREY_DELAY, "greylist_retry_count": "2",
	"auto_whitelist_clients": "1", "greylist_ipv4_prefix": "32",
	"s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_key_prefix": "mx:", "redis_timeout": "500ms",
}
rig.main(main, timeout=300, milter_params=dict(PARAMS))
