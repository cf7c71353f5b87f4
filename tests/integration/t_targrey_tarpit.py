#!/usr/bin/env python3
"""
NAME
	t_targrey_tarpit - the taRgrey tarpit through the real Postfix
DESCRIPTION
	tarpit_delay = 4s, tarpit_poll_interval = 250ms,
	tarpit_max_sessions = 1, greylist_ipv4_prefix = 32 (each 127.0.0.x
	client is its own greylist network), log_level = 2 (the milter logs
	"tarpit: start client=[ADDR]"; every step that must happen during
	a tarpit waits for that line, never for a fixed time after RCPT).
	Every client has an S25R-like forward-confirmed name
	(dyn-127-0-0-N.pool.example.net, rule 1).
	  patient      waits out the tarpit; delivered; "tarpit passed" logged.
	  disconnect   closes (FIN) 1.5 s into the tarpit; the logged "lost
	               connection after N.N s" is at most 1.0 s after the
	               close (2 x poll interval plus slack), and not before
	               it; its next connection is greylisted (450 4.7.1,
	               reason=new) and targreyctl lists the tarpit failure.
	  restart      the milter is restarted: targreyctl still lists the
	               failure and the greylist entry, and the next attempt
	               is an early retry of the known triplet (not "new").
	  pipelining   RCPT, then (2.5 s after the tarpit started, past
	               tarpit_pipelining_grace = 2s, a second write) DATA and
	               the message, before the RCPT reply: 450 4.5.0 and
	               reason=pipelining. (Text written within the grace is
	               t_targrey_pipeline's early_text case.)
	  full         after a reload to tarpit_delay = 10s: while one client
	               is tarpitted, the next suspicious client (its session
	               opened up to MAIL FROM beforehand, so only its RCPT
	               has to fit in the first one's tarpit) is greylisted
	               with tarpit=full; the first one then passes.
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
GREYLISTED = (450, "4.7.1 Greylisted, please try again later")


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def open_mail(r, ip):
	"""A session from ip up to an accepted MAIL FROM."""
	c = r.smtp(source=ip)
	check(c.banner().code == 220, "banner for %s" % ip)
	check(c.command("EHLO client.example.com").code == 250, "EHLO")
	rep = c.command("MAIL FROM:<%s>" % SENDER)
	check(rep.code == 250, "MAIL FROM from %s" % ip, rep, 250)
	return c


def tarpit_started(r, ip, since):
	"""Wait until the milter logs that ip's tarpit began."""
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 60, since)


def open_rcpt(r, ip):
	"""A session from ip up to a RCPT sent, not answered, and tarpitted."""
	since = r.milter.log.mark()
	c = open_mail(r, ip)
	c.send("RCPT TO:<%s>\r\n" % RCPT)
	tarpit_started(r, ip, since)
	return c


def swaks_from(r, ip):
	return r.swaks(source=ip, sender=SENDER, to=RCPT,
	    helo="client.example.com", timeout=30)


def test_patient(r):
	"""A patient client waits out the tarpit and is delivered."""
	ip = "127.0.0.21"
	res = swaks_from(r, ip)
	check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
	print("  patient client's session took %.1f s" % res.elapsed)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(addr=ip, action="tarpit", stage="rcpt")
	check(d["reason"] == "passed", "tarpit outcome", d["reason"], "passed",
	    d["line"])
	check("s25r=s25r_rule_1" in d["extra"] and "tg=tarpit_passed" in d["extra"],
	    "tarpit line facts", d["extra"], "s25r=s25r_rule_1 ... tg=tarpit_passed")
	e = r.milter.wait_decision(queue_id=res.queue_id, addr=ip)
	check(e["action"] == "accept", "eom decision", e["action"], "accept",
	    e["line"])


def test_disconnect(r):
	"""A client hanging up 1.5 s into the tarpit is caught, then greylisted."""
	ip = "127.0.0.22"
	since = r.milter.log.mark()
	c = open_mail(r, ip)
	c.send("RCPT TO:<%s>\r\n" % RCPT)
	sent = time.monotonic()
	tarpit_started(r, ip, since)
	started = time.monotonic()
	time.sleep(1.5)
	early = [x for x in r.milter.decisions(since)
	    if x["addr"] == ip and x["action"] == "tarpit"]
	check(early == [], "tarpit outcome before the client closed", early, [])
	c.close()
	closed = time.monotonic()
	closed_after = closed - sent
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "lost_connection", "tarpit outcome", d["reason"],
	    "lost_connection", d["line"])
	m = re.search(r"\(lost connection after ([0-9.]+) s\)", d["extra"])
	check(m is not None, "lost connection time in the line", d["extra"],
	    "(lost connection after N.N s)")
	lost = float(m.group(1))
	print("  closed %.2f s after RCPT (%.2f s after the tarpit start was"
	    " seen), detected at %.1f s" % (closed_after, closed - started, lost))
	# The tarpit began between the RCPT write and the moment its start
	# line was seen, so its clock read between closed - started and
	# closed_after at the close: lost is at least the former (0.1 s of
	# rounding, 0.1 s between the start line and the tarpit's clock), and
	# lost - closed_after underestimates the latency.
	check(lost >= closed - started - 0.2, "detected no earlier than the close",
	    lost, ">= %.2f" % (closed - started - 0.2), d["line"])
	check(lost - closed_after < 1.0, "detection latency after the close",
	    round(lost - closed_after, 2), "< 1.0 s (2 x 250 ms poll + slack)",
	    d["line"])
	res = swaks_from(r, ip)
	check(GREYLISTED in res.replies, "next connection after a failed tarpit",
	    res.replies, GREYLISTED, res.transcript)
	g = r.milter.wait_decision(since, addr=ip, action="greylist")
	check(g["reason"] == "new", "greylist reason", g["reason"], "new", g["line"])
	out = r.milter.ctl("list", "tarpit")
	check(out.returncode == 0 and ip in out.stdout, "targreyctl list tarpit",
	    out.stdout + out.stderr, "a line for %s" % ip)


def test_restart(r):
	"""After a restart the failure and the greylist entry are still there."""
	ip = "127.0.0.22"
	r.milter.restart()
	out = r.milter.ctl("list", "tarpit")
	check(out.returncode == 0 and ip in out.stdout,
	    "targreyctl list tarpit after restart", out.stdout + out.stderr, ip)
	out = r.milter.ctl("list", "greylist")
	check(out.returncode == 0 and ip in out.stdout,
	    "targreyctl list greylist after restart", out.stdout + out.stderr, ip)
	since = r.milter.log.mark()
	res = swaks_from(r, ip)
	check(GREYLISTED in res.replies, "attempt after the restart",
	    res.replies, GREYLISTED, res.transcript)
	g = r.milter.wait_decision(since, addr=ip, action="greylist")
	check(g["reason"] == "early_retry", "greylist reason after restart",
	    g["reason"], "early_retry (the stored triplet)", g["line"])


def test_pipelining(r):
	"""DATA and the message sent before the RCPT reply: 450 4.5.0."""
	ip = "127.0.0.23"
	since = r.milter.log.mark()
	with r.smtp(source=ip) as c:
		check(c.banner().code == 220, "banner")
		check(c.command("EHLO client.example.com").code == 250, "EHLO")
		check(c.command("MAIL FROM:<%s>" % SENDER).code == 250, "MAIL FROM")
		# two writes: smtpd reads the RCPT line, and what arrives while
		# it waits for the milter stays in the kernel's receive queue,
		# where the tarpit's probe sees it. (Bytes sent in the same
		# segment as the RCPT are already in smtpd's own buffer and
		# invisible to the probe: Postfix's reject_unauth_pipelining
		# covers that case.)
		c.send("RCPT TO:<%s>\r\n" % RCPT)
		tarpit_started(r, ip, since)
		time.sleep(2.5)		# past the grace: not a batch's tail
		c.send("DATA\r\n%s" % c.message())
		rep = c.reply(timeout=20)
		check((rep.code, rep.text.split()[0]) == (450, "4.5.0"),
		    "RCPT reply to a pipelining client", rep, "450 4.5.0")
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "pipelining", "tarpit outcome", d["reason"],
	    "pipelining", d["line"])


def test_full(r):
	"""tarpit_max_sessions = 1: the second suspicious client is greylisted."""
	first, second = "127.0.0.24", "127.0.0.25"
	since = r.milter.log.mark()
	r.milter.reload(tarpit_delay="10s")
	r.milter.log.wait(r"reload: configuration .* loaded", 30, since)
	c2 = open_mail(r, second)
	c = None
	try:
		c = open_rcpt(r, first)
		rep = c2.command("RCPT TO:<%s>" % RCPT, timeout=30)
		check((rep.code, rep.text) == GREYLISTED,
		    "second client's RCPT while the tarpit is full", rep, GREYLISTED)
		g = r.milter.wait_decision(since, addr=second, action="greylist")
		check("tarpit=full" in g["extra"], "greylist line of the second",
		    g["extra"], "... tarpit=full", g["line"])
		rep = c.reply(timeout=30)
		check(rep.code == 250, "first client's RCPT after the tarpit", rep, 250)
		c.command("QUIT")
	finally:
		c2.close()
		if c is not None:
			c.close()
	d = r.milter.wait_decision(since, addr=first, action="tarpit")
	check(d["reason"] == "passed", "first client's tarpit", d["reason"],
	    "passed", d["line"])


def main(r):
	for n in range(21, 26):
		ip = "127.0.0.%d" % n
		r.dns.add_host(name_of(ip), ip)
	r.start()
	for t in (test_patient, test_disconnect, test_restart, test_pipelining,
	    test_full):
		t(r)
		print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=240, milter_params={
	"log_level": "2",
	"tarpit_delay": "4s", "tarpit_poll_interval": "250ms",
	"tarpit_max_sessions": "1", "greylist_delay": "30s",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"})
