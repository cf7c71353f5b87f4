#!/usr/bin/env python3
"""
NAME
	t_targrey_capacity - tarpits never take all of Postfix's smtpd
	processes (tarpit_max_share of smtpd_process_limit)
DESCRIPTION
	Postfix with default_process_limit = 20 (so smtpd's maxproc is 20);
	the milter with smtpd_process_limit = 0 (the default: it asks the
	rig's Postfix with postconf and must learn 20), tarpit_max_share =
	50 (at most 10 tarpits), tarpit_max_sessions = 500 (the default, which
	alone would let tarpits hold every smtpd), tarpit_delay = 12s,
	log_level = 2.
	  burst        40 suspicious clients (no reverse name: S25R rule 0)
	               connect at once and go to RCPT, waiting patiently.
	               Once 10 tarpits run, 5 clean clients (forward-
	               confirmed names) arrive one after another: each gets
	               its banner and its RCPT 250 within a second. At most
	               10 tarpits ran at once; the other burst clients were
	               greylisted with "tarpit=full limit=tarpit_max_share"
	               and their lines count them (tarpit_full_total), as
	               does targreyctl stats (events: tarpit_full=N).
	  off          after a reload to tarpit_max_sessions = 0 a
	               suspicious client is greylisted with tarpit=off
	               (the line used to say tarpit=full).
"""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

BURST = 40
CAP = 10
CLEAN = ["127.0.2.%d" % n for n in range(1, 6)]


def suspicious(r, ip, out):
	"""One burst client: up to the RCPT reply, then QUIT."""
	t0 = time.monotonic()
	try:
		with r.smtp(source=ip, timeout=60) as c:
			c.banner(timeout=60)
			c.command("EHLO client.example.com")
			c.command("MAIL FROM:<s-%s@example.com>" % ip)
			rep = c.command("RCPT TO:<bob@example.org>", timeout=60)
			out[ip] = (rep.code, time.monotonic() - t0)
			c.command("QUIT")
	except Exception as e:  # recorded, checked below
		out[ip] = (str(e), time.monotonic() - t0)


def clean(r, ip):
	"""A clean client's session to RCPT: (banner time, RCPT time)."""
	t0 = time.monotonic()
	with r.smtp(source=ip, timeout=30) as c:
		check(c.banner().code == 220, "banner for clean %s" % ip)
		banner = time.monotonic() - t0
		c.command("EHLO mail.example.net")
		c.command("MAIL FROM:<a@example.net>")
		rep = c.command("RCPT TO:<bob@example.org>")
		took = time.monotonic() - t0
		check(rep.code == 250, "clean client's RCPT", rep, 250)
		c.command("QUIT")
	return banner, took


def test_burst(r):
	"""40 suspicious clients at once; clean ones still answered in 1 s."""
	learned = r.milter.log.grep(r"tarpit: smtpd_process_limit")
	check(len(learned) == 1 and "smtpd_process_limit 20 (postconf: smtpd maxproc 20"
	    in learned[0], "smtpd_process_limit learned at start", learned,
	    "smtpd_process_limit 20 (postconf: smtpd maxproc 20 ...)")
	since = r.milter.log.mark()
	out = {}
	threads = [threading.Thread(target=suspicious, args=(r, "127.0.1.%d" % n, out))
	    for n in range(1, BURST + 1)]
	for t in threads:
		t.start()
	r.milter.log.wait(r"tarpit: start client=", 60, since, count=CAP)
	times = [clean(r, ip) for ip in CLEAN]
	running = len(r.milter.log.grep(r"tarpit: start client=", since))
	for t in threads:
		t.join(90)
	print("  clean clients while %d tarpits ran: banner %s s, RCPT 250 %s s" % (
	    running, " ".join("%.2f" % b for b, _ in times),
	    " ".join("%.2f" % t for _, t in times)))
	check(max(t for _, t in times) < 1.0, "slowest clean session to RCPT",
	    round(max(t for _, t in times), 2), "< 1.0 s")
	starts = r.milter.log.grep(r"tarpit: start client=", since)
	most = max(int(re.search(r"running=(\d+)", l).group(1)) for l in starts)
	check(most <= CAP, "tarpits running (the new one counted)", most, "<= %d" % CAP)
	full = [d for d in r.milter.decisions(since) if d["action"] == "greylist"]
	check(all("tarpit=full limit=tarpit_max_share" in d["extra"] for d in full)
	    and len(full) >= BURST - 2 * CAP, "greylist lines of the burst",
	    [d["line"] for d in full], ">= %d lines with tarpit=full" % (BURST - 2 * CAP))
	totals = [int(re.search(r"tarpit_full_total=(\d+)", d["extra"]).group(1))
	    for d in full]
	check(max(totals) == len(full), "tarpit_full_total", max(totals), len(full))
	# the daemon flushes its counters into the state every second
	def stats_full():
		o = r.milter.ctl("stats")
		m = re.search(r"tarpit_full=(\d+)", o.stdout)
		return m and int(m.group(1)) == len(full) and m.group(0)
	try:
		got = rig.wait_until(stats_full, 15, "targreyctl stats tarpit_full")
	except rig.RigError:
		got = r.milter.ctl("stats").stdout
	check(got == "tarpit_full=%d" % len(full), "targreyctl stats", got,
	    "tarpit_full=%d" % len(full))
	codes = sorted(str(v[0]) for v in out.values())
	print("  burst replies: %s" % ", ".join("%s x%d" % (c, codes.count(c))
	    for c in sorted(set(codes))))
	check(len(out) == BURST and set(codes) <= {"250", "450"}, "burst replies",
	    codes, "250 or 450 for all %d" % BURST)


def test_off(r):
	"""tarpit_max_sessions = 0: greylist lines say tarpit=off, not full."""
	ip = "127.0.1.99"
	since = r.milter.log.mark()
	r.milter.reload(tarpit_max_sessions="0")
	r.milter.log.wait(r"reload: configuration .* loaded", 30, since)
	res = r.swaks(source=ip, sender="x@example.com", to="bob@example.org", timeout=30)
	check(res.rc != 0, "swaks with the tarpit off (greylisted)", res.rc, "non-zero",
	    res.transcript)
	d = r.milter.wait_decision(since, addr=ip, action="greylist")
	check("tarpit=off limit=tarpit_max_sessions" in d["extra"]
	    and "tarpit=full" not in d["extra"], "greylist line with the tarpit off",
	    d["line"], "tarpit=off limit=tarpit_max_sessions, no tarpit=full")


def main(r):
	for ip in CLEAN:
		r.dns.add_host("mail%s.example.net" % ip.split(".")[-1], ip)
	r.start()
	for t in (test_burst, test_off):
		t(r)
		print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=240, milter_params={
	"log_level": "2", "tarpit_delay": "12s", "tarpit_poll_interval": "250ms",
	"tarpit_max_share": "50",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"},
	postfix_params={"default_process_limit": "20"})
