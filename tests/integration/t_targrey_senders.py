#!/usr/bin/env python3
"""
NAME
	t_targrey_senders - Postfix's own smtp client as the sending MTA
	through the tarpit, and one decision line per recipient
DESCRIPTION
	A second private Postfix instance is the sending MTA: it relays
	everything to the rig's Postfix ([127.0.0.1]:port) from a suspicious
	address (smtp_bind_address; the address has an S25R-like name, rule
	1), with PIPELINING on (Postfix's default): it writes MAIL, every
	RCPT and DATA in one batch. tarpit_delay = 5s, log_level = 2.
	  one          1 recipient: delivered, tarpit passed, eom rcpts=1.
	  thirty       30 recipients from another address: delivered to
	               all 30, tarpit passed once, eom rcpts=30 naming the
	               first recipient, no greylist line.
	  per_rcpt     a direct client (127.0.0.63) after the tarpit failed
	               for it gets 450 for three recipients: three greylist
	               lines, each with its own to= (the bug was: every
	               line said the first recipient).
	  many_rcpts   a client that failed its tarpit sends one message
	               to 25 recipients: greylist_rcpt_replies = 5 (the
	               default) get 450 at RCPT, the other 20 are recorded
	               and accepted, and the message gets one 450 4.7.1 at
	               its end; all 25 triplets are stored, and smtpd's
	               error limits (soft 10, hard 20) are never reached.
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check
from rig_postfix import Postfix

RCPTS = ["user%02d@example.org" % n for n in range(1, 31)]


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def sending_mta(r, bind):
	"""A second Postfix that relays all mail to the rig's smtpd."""
	return Postfix(os.path.join(r.dir, "sender"), None, ("sender.test",),
	    main_cf={
		"syslog_name": "postfix-tgsend",
		"myhostname": "sender.example.net",
		"relayhost": "[127.0.0.1]:%d" % r.postfix.port,
		"smtp_bind_address": bind,
		"default_transport": "smtp", "relay_transport": "smtp",
		"smtp_tls_security_level": "none",
	    }, master_extra=["smtp unix - - n - - smtp"])


def relay(r, mta, ip, rcpts):
	"""Send via the sending MTA; the rig's queue id of the relayed copy."""
	since = mta.log.mark()
	res = rig.swaks(mta.port, source="127.0.0.1", sender="alice@sender.test",
	    to=rcpts, timeout=30)
	check(res.rc == 0, "swaks to the sending MTA", res.rc, 0, res.transcript)
	line = mta.log.wait(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent"
	    r" \(250 [0-9.]+ Ok: queued as ([0-9A-F]+)\)" % r.postfix.port, 60, since)
	m = re.search(r"queued as ([0-9A-F]+)\)", line[-1])
	return m.group(1)


def run_mta(r, ip, rcpts):
	since = r.milter.log.mark()
	mta = sending_mta(r, ip)
	try:
		mta.start()
		t0 = time.monotonic()
		qid = relay(r, mta, ip, rcpts)
		took = time.monotonic() - t0
	finally:
		mta.stop()
	r.postfix.wait_delivered(qid)
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "passed", "tarpit outcome of Postfix's smtp client",
	    d["reason"], "passed", d["line"])
	e = r.milter.wait_decision(since, queue_id=qid, stage="eom")
	want = "rcpts=%d" % len(rcpts)
	check(want in e["extra"] and e["to"] == rcpts[0], "eom line", e["line"],
	    "%s to=<%s>" % (want, rcpts[0]))
	grey = [x for x in r.milter.decisions(since) if x["action"] == "greylist"]
	check(grey == [], "greylist lines", grey, [])
	print("  %d recipient(s): relayed in %.1f s, %s" % (len(rcpts), took,
	    d["extra"]))


def fail_tarpit(r, ip):
	"""Make ip fail its tarpit (reset during the wait)."""
	since = r.milter.log.mark()
	c = r.smtp(source=ip)
	c.banner()
	c.command("EHLO client.example.com")
	c.command("MAIL FROM:<bot@example.com>")
	c.send("RCPT TO:<%s>\r\n" % RCPTS[0])
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 60, since)
	c.reset()
	r.milter.wait_decision(since, addr=ip, action="tarpit")


def test_one(r):
	"""Postfix's smtp client, 1 recipient, pipelining: passes."""
	run_mta(r, "127.0.0.61", RCPTS[:1])


def test_thirty(r):
	"""Postfix's smtp client, 30 recipients, pipelining: passes."""
	run_mta(r, "127.0.0.62", RCPTS)


def test_per_rcpt(r):
	"""Each greylisted recipient is logged with its own address."""
	ip = "127.0.0.63"
	fail_tarpit(r, ip)
	since = r.milter.log.mark()
	with r.smtp(source=ip) as c:
		c.banner()
		c.command("EHLO client.example.com")
		c.command("MAIL FROM:<bot@example.com>")
		for rc in RCPTS[:3]:
			rep = c.command("RCPT TO:<%s>" % rc)
			check(rep.code == 450, "RCPT %s after the failure" % rc, rep, 450)
		c.command("QUIT")
	for rc in RCPTS[:3]:
		d = r.milter.wait_decision(since, addr=ip, action="greylist", to=rc)
		check(d["to"] == rc, "greylist line's to=", d["to"], rc, d["line"])


def test_many_rcpts(r):
	"""25 greylisted recipients: 5 x 450, then one deferral at the end."""
	ip = "127.0.0.64"
	fail_tarpit(r, ip)
	since, msince = r.milter.log.mark(), r.postfix.log.mark()
	with r.smtp(source=ip) as c:
		c.banner()
		c.command("EHLO client.example.com")
		c.command("MAIL FROM:<many@example.com>")
		codes = [c.command("RCPT TO:<%s>" % x).code for x in RCPTS[:25]]
		check(codes == [450] * 5 + [250] * 20, "RCPT replies", codes,
		    "450 x5, then 250 x20")
		check(c.command("DATA").code == 354, "DATA")
		c.send(c.message())
		rep = c.reply()
		check((rep.code, rep.text) == (450, "4.7.1 Greylisted, please try again later"),
		    "end of message", rep, "450 4.7.1")
		c.command("QUIT")
	d = r.milter.wait_decision(since, addr=ip, action="greylist", stage="eom")
	check(d["reason"] == "deferred_recipients" and "greylisted=20" in d["extra"],
	    "eom line", d["line"], "reason=deferred_recipients ... greylisted=20")
	out = r.milter.ctl("list", "greylist")
	mine = [l for l in out.stdout.splitlines() if l.startswith(ip + "/many@")]
	check(len(mine) == 25, "triplets recorded", len(mine), 25, out.stdout)
	bad = r.postfix.log.grep(r"too many errors|error limit", msince)
	check(bad == [], "smtpd's error limits", bad, [])


def main(r):
	for n in (61, 62, 63, 64):
		ip = "127.0.0.%d" % n
		r.dns.add_host(name_of(ip), ip)
	r.start()
	for t in (test_one, test_thirty, test_per_rcpt, test_many_rcpts):
		t0 = time.monotonic()
		t(r)
		print("ok - %s: %s (%.1f s)" % (t.__name__, t.__doc__, time.monotonic() - t0))


rig.main(main, timeout=300, milter_params={
	"log_level": "2", "tarpit_delay": "5s", "tarpit_poll_interval": "250ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"})
