#!/usr/bin/env python3
"""
NAME
	t_targrey_postscreen - the tarpit behind postscreen, and behind a
	PROXY-protocol front
DESCRIPTION
	The rig's Postfix runs postscreen on the SMTP port (pregreet test
	enforced, postscreen_greet_wait = 1s, its cache in the rig's data
	directory) and smtpd as "smtpd pass", as taRgrey sites run it.
	postscreen hands smtpd the client's own socket, so the tarpit's
	4-tuple probe must find it. tarpit_delay = 4s, poll 250 ms,
	log_level = 2; clients have S25R-like names (rule 1).
	  patient      waits out the tarpit: delivered, reason=passed.
	  hangup       closes 1 s into the tarpit: reason=lost_connection
	               within 1 s of the close.
	  late         writes RSET 2.5 s into the tarpit (past the grace):
	               450 4.5.0, reason=pipelining.
	  proxy        through the PROXY-protocol smtpd (the client address
	               is the proxied one, no socket has that 4-tuple):
	               a client that hangs up during the tarpit is logged
	               reason=waited detection=off, never reason=passed or
	               tg=tarpit_passed; nothing is recorded as passed.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

SENDER = "alice@example.com"
RCPT = "bob@example.org"


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def to_rcpt(r, ip, proxy=None):
	"""A session up to a RCPT sent and tarpitted; (client, since, t0)."""
	since = r.milter.log.mark()
	c = r.smtp(source=ip, proxy=proxy)
	check(c.banner().code == 220, "banner through the front for %s" % ip)
	check(c.command("EHLO client.example.com").code == 250, "EHLO")
	check(c.command("MAIL FROM:<%s>" % SENDER).code == 250, "MAIL FROM")
	c.send("RCPT TO:<%s>\r\n" % RCPT)
	who = proxy[0] if proxy else ip
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(who), 60, since)
	return c, since, time.monotonic()


def test_patient(r):
	"""Behind postscreen, a patient client passes the tarpit."""
	ip = "127.0.0.71"
	since = r.milter.log.mark()
	res = r.swaks(source=ip, sender=SENDER, to=RCPT, helo="client.example.com",
	    timeout=30)
	check(res.rc == 0, "swaks through postscreen", res.rc, 0, res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "passed", "tarpit outcome", d["reason"], "passed", d["line"])
	check(r.postfix.log.grep(r"postscreen.*PASS NEW \[127\.0\.0\.71\]"),
	    "postscreen passed the client (maillog)")


def test_hangup(r):
	"""Behind postscreen, a hang-up during the tarpit is seen."""
	ip = "127.0.0.72"
	c, since, t0 = to_rcpt(r, ip)
	time.sleep(1.0)
	c.close()
	closed = time.monotonic()
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	seen = time.monotonic()
	check(d["reason"] == "lost_connection", "tarpit outcome", d["reason"],
	    "lost_connection", d["line"])
	print("  hang-up logged %.2f s after the close" % (seen - closed))
	check(seen - closed < 1.5, "detection latency", round(seen - closed, 2), "< 1.5 s")


def test_late(r):
	"""Behind postscreen, RSET 2.5 s into the tarpit: 450 4.5.0."""
	ip = "127.0.0.73"
	c, since, t0 = to_rcpt(r, ip)
	time.sleep(2.5)
	c.send("RSET\r\n")
	rep = c.reply(timeout=20)
	c.close()
	check((rep.code, rep.text.split()[0]) == (450, "4.5.0"), "RCPT reply", rep,
	    "450 4.5.0")
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "pipelining", "tarpit outcome", d["reason"], "pipelining",
	    d["line"])


def test_proxy(r):
	"""Behind a PROXY front a hang-up is not logged as passed."""
	claimed = "198.51.100.7"
	c, since, t0 = to_rcpt(r, "127.0.0.74", proxy=(claimed, 40123))
	time.sleep(0.5)
	c.close()
	d = r.milter.wait_decision(since, 30, addr=claimed, action="tarpit")
	check(d["reason"] == "waited" and "detection=off" in d["extra"]
	    and "tg=tarpit_passed" not in d["extra"], "tarpit line behind PROXY",
	    d["line"], "reason=waited ... detection=off, no tg=tarpit_passed")
	r.postfix.log.wait(r"lost connection after RCPT from .*\[%s\]" % re.escape(claimed), 20)
	out = r.milter.ctl("show", claimed)
	check("passes=1" not in out.stdout, "no pass recorded", out.stdout, "no passes=1")


def main(r):
	for n in range(71, 75):
		ip = "127.0.0.%d" % n
		r.dns.add_host(name_of(ip), ip)
	r.start()
	for t in (test_patient, test_hangup, test_late, test_proxy):
		t0 = time.monotonic()
		t(r)
		print("ok - %s: %s (%.1f s)" % (t.__name__, t.__doc__, time.monotonic() - t0))


rig.main(main, timeout=240, postscreen=True, milter_params={
	"log_level": "2", "tarpit_delay": "4s", "tarpit_poll_interval": "250ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"})
