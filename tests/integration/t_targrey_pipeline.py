#!/usr/bin/env python3
"""
NAME
	t_targrey_pipeline - real senders' pipelining through the tarpit:
	Exim's BDAT half-close, split batches, talking out of turn
DESCRIPTION
	tarpit_delay = 6s, tarpit_poll_interval = 250ms,
	tarpit_pipelining_grace = 2s (the default), greylist_ipv4_prefix =
	32, log_level = 2 (the milter logs "tarpit: start client=[ADDR]");
	Postfix with smtpd_forbid_unauth_pipelining = yes (as documented
	for taRgrey sites). Every client has an S25R-like name (rule 1).
	  exim         does what Exim 4.96 does against a CHUNKING server:
	               EHLO, then in one write MAIL, RCPT, BDAT n LAST and
	               the body, then QUIT, then shutdown(SHUT_WR), then
	               reads every reply: all are 2xx, the message is
	               delivered, the tarpit line says half_closed (never
	               lost_connection), the eom line tg=tarpit_passed, and
	               targreyctl does not list the client as failed.
	  hangup_fin   writes MAIL + RCPT, shuts down its side at once and
	               closes: when its FIN is there at the first probe it
	               looks like Exim's, but the session ends before DATA:
	               logged reason=lost_connection stage=end (stage=rcpt
	               when the FIN came after the first probe); listed as
	               failed either way.
	  split        one batch in two writes (MAIL + RCPT, then RCPT,
	               RCPT, DATA) 0.1 s, 0.5 s and 1 s apart: 250 x4 and
	               354, delivered, tarpit passed (batch_tail=yes when
	               the tail came during the tarpit).
	  late         writes RSET 3 s into the tarpit: 450 4.5.0 within
	               a poll interval (plus slack) of the write.
	  early_text   writes DATA and the message right after the tarpit
	               began (before the RCPT reply): within the grace,
	               so the RCPT gets 250, but Postfix refuses the DATA
	               (554 5.5.0 synchronization) and the milter logs the
	               tarpit as failed (reason=pipelining stage=end).
	  swaks        swaks --pipeline (MAIL, RCPTs and DATA in one
	               write) to two recipients passes and is delivered.
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

SENDER = "alice@example.com"
RCPTS = ["bob@example.org", "carol@example.org", "dave@example.org"]
POLL = 0.25


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def tarpit_started(r, ip, since):
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 60, since)


def ehlo(r, ip):
	c = r.smtp(source=ip)
	check(c.banner().code == 220, "banner for %s" % ip)
	rep = c.command("EHLO client.example.com")
	check(rep.code == 250, "EHLO from %s" % ip, rep, 250)
	return c, rep


def listed_failed(r, ip):
	out = r.milter.ctl("list", "tarpit")
	check(out.returncode == 0, "targreyctl list tarpit", out.stderr, "status 0")
	return ip in out.stdout


def read_all(c, n, timeout=30):
	"""n replies, then whatever else the server says before it closes."""
	return [c.reply(timeout=timeout) for _ in range(n)]


def test_exim(r):
	"""Exim + CHUNKING: MAIL RCPT BDAT body QUIT, SHUT_WR, then replies."""
	ip = "127.0.0.51"
	since = r.milter.log.mark()
	c, rep = ehlo(r, ip)
	check("CHUNKING" in rep.lines, "CHUNKING offered", rep.lines, "CHUNKING")
	body = c.message().encode()[:-3]	# BDAT: no dot
	c.send(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nBDAT %d LAST\r\n" %
	    (SENDER.encode(), RCPTS[0].encode(), len(body)) + body)
	c.send("QUIT\r\n")
	c.sock.shutdown(socket.SHUT_WR)
	reps = read_all(c, 4)
	c.close()
	check([x.code for x in reps] == [250, 250, 250, 221], "replies to Exim",
	    reps, "250 250 250 221")
	qid = reps[2].text.split()[-1]
	r.postfix.wait_delivered(qid)
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "half_closed", "tarpit outcome", d["reason"],
	    "half_closed", d["line"])
	e = r.milter.wait_decision(since, addr=ip, stage="eom")
	check("tg=tarpit_passed" in e["extra"], "eom line", e["line"],
	    "tg=tarpit_passed")
	check(not listed_failed(r, ip), "Exim listed as tarpit-failed")


def test_hangup_fin(r):
	"""MAIL + RCPT then FIN and close: failed when the session ends."""
	ip = "127.0.0.52"
	since = r.milter.log.mark()
	c, _ = ehlo(r, ip)
	c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (SENDER, RCPTS[0]))
	c.sock.shutdown(socket.SHUT_WR)
	c.close()
	d = r.milter.wait_decision(since, 30, addr=ip, action="tarpit",
	    reason="lost_connection")
	# the FIN usually is there at the first probe (then the session's
	# end decides); when a slow machine probed first, the FIN alone
	# during the wait is a hang-up at once
	check(d["stage"] in ("end", "rcpt"), "stage of the hang-up's line",
	    d["stage"], "end (or rcpt)", d["line"])
	print("  hang-up after MAIL + RCPT + FIN: logged at stage %s" % d["stage"])
	check(listed_failed(r, ip), "hang-up listed as tarpit-failed")


def split_batch(r, ip, gap):
	since = r.milter.log.mark()
	c, _ = ehlo(r, ip)
	c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (SENDER, RCPTS[0]))
	time.sleep(gap)
	c.send("".join("RCPT TO:<%s>\r\n" % x for x in RCPTS[1:]) + "DATA\r\n")
	reps = read_all(c, 5)
	check([x.code for x in reps] == [250, 250, 250, 250, 354],
	    "replies to a batch split %.1f s apart" % gap, reps, "250 x4, 354")
	c.send(c.message())
	rep = c.reply()
	check(rep.code == 250, "end of message", rep, 250)
	c.command("QUIT")
	c.close()
	r.postfix.wait_delivered(rep.text.split()[-1])
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "passed", "tarpit outcome (gap %.1f s)" % gap,
	    d["reason"], "passed", d["line"])
	e = r.milter.wait_decision(since, addr=ip, stage="eom")
	check("rcpts=3" in e["extra"] and "tg=tarpit_passed" in e["extra"],
	    "eom line", e["line"], "rcpts=3 tg=tarpit_passed")
	check(not listed_failed(r, ip), "split batch listed as tarpit-failed")
	return d


def test_split(r):
	"""A batch written in two pieces 0.1, 0.5, 1 s apart passes."""
	for n, gap in enumerate((0.1, 0.5, 1.0)):
		d = split_batch(r, "127.0.0.%d" % (53 + n), gap)
		print("  gap %.1f s: %s" % (gap, d["extra"]))
		if gap >= 0.5:
			check("batch_tail=yes" in d["extra"], "tail seen during the tarpit",
			    d["extra"], "batch_tail=yes")


def test_late(r):
	"""RSET 3 s into the tarpit: 450 4.5.0 within a poll interval."""
	ip = "127.0.0.56"
	since = r.milter.log.mark()
	c, _ = ehlo(r, ip)
	c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (SENDER, RCPTS[0]))
	tarpit_started(r, ip, since)
	time.sleep(3.0)
	c.send("RSET\r\n")
	mail = c.reply(timeout=20)		# smtpd flushes MAIL's 250 with it
	rep = c.reply(timeout=20)
	took = rep.elapsed
	check(mail.code == 250, "MAIL reply", mail, 250)
	c.close()
	check((rep.code, rep.text.split()[0]) == (450, "4.5.0"),
	    "RCPT reply to a client talking 3 s in", rep, "450 4.5.0")
	print("  RSET 3 s into the tarpit: 450 %.2f s after the write" % took)
	check(took < 2 * POLL + 0.5, "detection latency", round(took, 2),
	    "< %.2f s" % (2 * POLL + 0.5))
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "pipelining", "tarpit outcome", d["reason"],
	    "pipelining", d["line"])


def test_early_text(r):
	"""DATA and the message before the RCPT reply: Postfix refuses the
	DATA, the milter fails the tarpit when the session ends."""
	ip = "127.0.0.57"
	since = r.milter.log.mark()
	c, _ = ehlo(r, ip)
	c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (SENDER, RCPTS[0]))
	tarpit_started(r, ip, since)
	c.send("DATA\r\n%s" % c.message())
	reps = []
	try:
		while True:
			reps.append(c.reply(timeout=20))
	except (ConnectionError, socket.timeout):
		pass
	c.close()
	codes = [x.code for x in reps]
	check(codes[:2] == [250, 250] and 354 not in codes and 250 not in codes[2:],
	    "replies to early message text", reps, "250 250, then no 354/250")
	d = r.milter.wait_decision(since, 30, addr=ip, action="tarpit", stage="end")
	check(d["reason"] == "pipelining", "outcome of early text", d["reason"],
	    "pipelining", d["line"])
	check(listed_failed(r, ip), "early text listed as tarpit-failed")


def test_swaks_pipeline(r):
	"""swaks --pipeline (MAIL, RCPT, DATA in one write) passes."""
	ip = "127.0.0.58"
	since = r.milter.log.mark()
	res = r.swaks(source=ip, sender=SENDER, to=RCPTS[:2], helo="client.example.com",
	    timeout=30, extra=["--pipeline"])
	check(res.rc == 0, "swaks --pipeline", res.rc, 0, res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "passed", "tarpit outcome", d["reason"], "passed", d["line"])
	print("  swaks --pipeline: %s" % d["extra"])


def main(r):
	for n in range(51, 59):
		ip = "127.0.0.%d" % n
		r.dns.add_host(name_of(ip), ip)
	r.start()
	for t in (test_exim, test_hangup_fin, test_split, test_late, test_early_text,
	    test_swaks_pipeline):
		t0 = time.monotonic()
		t(r)
		print("ok - %s: %s (%.1f s)" % (t.__name__, t.__doc__.split("\n")[0],
		    time.monotonic() - t0))


rig.main(main, timeout=300, milter_params={
	"log_level": "2",
	"tarpit_delay": "6s", "tarpit_poll_interval": "250ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"},
	postfix_params={"smtpd_forbid_unauth_pipelining": "yes"})
