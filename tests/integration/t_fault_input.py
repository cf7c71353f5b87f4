#!/usr/bin/env python3
"""
NAME
	t_fault_input - hostile input through Postfix and straight to the
	milter protocol: clean one-line log, the milter stays up
DESCRIPTION
	Through the rig's Postfix (raw SMTP from clean clients with
	forward-confirmed names, so the milter logs one accept line at the
	end of each message), what Postfix 3.7 does is asserted:
	  helo-1mb     EHLO with a 1 MiB name: smtpd keeps the first 2048
	               bytes of the line (warning "request longer than 2048"
	               in the maillog) and answers 250; the message is
	               delivered; the milter's decision line has helo= cut to
	               252 characters and "...", one line, printable ASCII;
	  mail-nul     MAIL FROM with a NUL byte: smtpd answers 501 5.1.7 and
	  rcpt-nul     RCPT TO with a NUL byte: 501 5.1.3 - both before the
	               milter is asked (smtpd checks the address first); a
	               valid transaction in the same session is delivered and
	               its decision is the only line the milter logs for that
	               client after the connect classification;
	  utf8-helo    invalid UTF-8 in EHLO and MAIL FROM with Postfix's
	  utf8-mail    default smtputf8_enable = yes: 500 5.5.2 Error: bad
	               UTF-8 syntax from smtpd itself, nothing logged by the
	               milter for it (as for the NUL bytes);
	  8bit-helo    with smtputf8_enable = no (Postfix reloaded) the same
	               bytes, an ESC sequence included, reach the milter: the
	               message is delivered and the decision line shows each
	               byte outside printable ASCII as "?".
	Straight to the milter (rig.MilterClient, no Postfix), one suspicious
	client per case (tarpit_max_sessions = 0: greylisted at RCPT, one
	decision line), while a bystander session stays open throughout:
	  helo-1mb     SMFIC_HELO packet of 1 MiB: above libmilter's 64 KiB
	               packet limit, libmilter closes that connection;
	  helo-60k     60,000-byte HELO (below the limit): greylisted, helo=
	               cut to 252 characters and "...";
	  nul          MAIL "<a" NUL "b@example.com>" (one address split into
	               two arguments) and RCPT "<c" NUL "d@example.org>": the
	               milter sees the first argument only; logged "?a", "?c";
	  bytes        HELO, MAIL and RCPT with invalid UTF-8, ESC, CR LF and a
	               fake "key: value": logged on one line, each as "?";
	  len-2gb      a packet announcing 2 GiB (0x80000000) and one
	  len-4gb      announcing 0xFFFFFFFF: the connection is closed, nothing
	               is allocated (RSS stays below 64 MB);
	  truncated    a packet announcing 100 bytes, 5 sent, then FIN: closed;
	  held         the same but left open (a worker waits for the rest):
	               the bystander's MAIL and RCPT are answered and 20
	               milterload sessions complete meanwhile.
	Then: the milter still runs; every line of its log is printable ASCII,
	at most 1,000 characters, with no error, fatal or panic line.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import MilterClient, check

RCPT = "bob@example.org"
CUT = "h" * 252 + "..."
CLEAN = re.compile(r"^[\x20-\x7e]*$")


def client(n):
	"""127.0.0.N (given a forward-confirmed clean name in main())."""
	return "127.0.0.%d" % n


def log_lines_for(r, since, ip):
	"""Milter log lines (from SINCE) that name client IP."""
	return [l for l in r.milter.log.text(since).splitlines()
	    if "[%s]" % ip in l]


def deliver(r, c, helo=None, sender="alice@example.com"):
	"""A valid transaction on SmtpClient C; its queue id once delivered."""
	if helo:
		rep = c.command("EHLO " + helo)
		check(rep.code == 250, "EHLO", rep.code, 250, rep.text)
	for line, code in (("RSET", 250), ("MAIL FROM:<%s>" % sender, 250),
	    ("RCPT TO:<%s>" % RCPT, 250), ("DATA", 354)):
		rep = c.command(line)
		check(rep.code == code, line, (rep.code, rep.text), code)
	c.send(c.message(["Subject: hostile input"]))
	rep = c.reply()
	check(rep.code == 250, "end of DATA", (rep.code, rep.text), 250)
	qid = rep.text.rsplit(" ", 1)[-1]
	r.postfix.wait_delivered(qid)
	return qid


def raw(c, data):
	"""Send DATA (bytes, CRLF added) on SmtpClient C; (code, text)."""
	c.send(data + b"\r\n")
	rep = c.reply()
	return rep.code, rep.text


def clean_decision(r, qid, what):
	"""The milter's one decision line for QID, printable ASCII."""
	d = r.milter.wait_decision(queue_id=qid)
	lines = [x for x in r.milter.decisions() if x["queue_id"] == qid]
	check(len(lines) == 1, "%s: decision lines for %s" % (what, qid),
	    len(lines), 1)
	check(CLEAN.match(d["line"]) is not None and len(d["line"]) < 1000,
	    "%s: decision line printable ASCII, < 1000 characters" % what,
	    d["line"], "clean")
	check(d["action"] == "accept", "%s: action" % what, d["action"], "accept")
	return d


def smtp_helo_1mb(r):
	"""1 MiB EHLO through Postfix."""
	ip = client(51)
	since = r.postfix.log.mark()
	with r.smtp(source=ip) as c:
		check(c.banner().code == 220, "banner")
		code, text = raw(c, b"EHLO " + b"h" * (1 << 20))
		check(code == 250, "helo-1mb: EHLO reply", (code, text), 250)
		qid = deliver(r, c)
	r.postfix.log.wait(r"warning: unknown\[%s\]: request longer than 2048: "
	    r"EHLO hhh" % re.escape(ip), 10, since)
	d = clean_decision(r, qid, "helo-1mb")
	check(d["helo"] == CUT, "helo-1mb: helo in the decision line",
	    d["helo"][:20] + "...(%d)" % len(d["helo"]), "252 h and ...")
	print("ok - helo-1mb: Postfix cut the line at 2048, 250; milter: %s..."
	    % d["line"][:90])


def smtp_rejected(r, n, what, first, want):
	"""A command smtpd rejects itself, then a valid message."""
	ip = client(n)
	since = r.milter.log.mark()
	with r.smtp(source=ip) as c:
		check(c.banner().code == 220, "banner")
		for line in first:
			got = raw(c, line)
		check(got == want, "%s: Postfix's reply" % what, got, want)
		qid = deliver(r, c)
	clean_decision(r, qid, what)
	mine = [l for l in log_lines_for(r, since, ip) if "stage=connect" not in l]
	check(len(mine) == 1 and qid in mine[0], "%s: milter lines for %s after"
	    " connect" % (what, ip), mine, "only the decision of %s" % qid)
	print("ok - %s: Postfix answers %d %s; the milter saw only the valid"
	    " message" % (what, want[0], want[1]))


def smtp_8bit(r):
	"""smtputf8_enable = no: 8-bit and ESC in HELO and MAIL FROM."""
	r.postfix.reload(smtputf8_enable="no")
	ip = client(56)
	with r.smtp(source=ip) as c:
		check(c.banner().code == 220, "banner")
		got = raw(c, b"EHLO \xff\xfe\x1b[31m.example.com")
		check(got[0] == 250, "8bit-helo: EHLO reply", got, 250)
		got = raw(c, b"MAIL FROM:<\xc3\x28\xff@example.com>")
		check(got[0] == 250, "8bit-mail: MAIL reply", got, 250)
		for line, code in (("RCPT TO:<%s>" % RCPT, 250), ("DATA", 354)):
			rep = c.command(line)
			check(rep.code == code, line, (rep.code, rep.text), code)
		c.send(c.message(["Subject: 8bit"]))
		rep = c.reply()
		check(rep.code == 250, "8bit: end of DATA", rep.code, 250, rep.text)
		qid = rep.text.rsplit(" ", 1)[-1]
	r.postfix.wait_delivered(qid)
	d = clean_decision(r, qid, "8bit")
	want = ("???[31m.example.com", "?(?@example.com")
	check((d["helo"], d["from"]) == want, "8bit: helo and from logged",
	    (d["helo"], d["from"]), want, d["line"])
	print("ok - 8bit: delivered; milter: helo=<%s> from=<%s>" % want)


def through_postfix(r):
	smtp_helo_1mb(r)
	smtp_rejected(r, 52, "mail-nul", [b"EHLO mail.example.com",
	    b"MAIL FROM:<a\x00b@example.com>"], (501, "5.1.7 Bad sender address "
	    "syntax"))
	smtp_rejected(r, 53, "rcpt-nul", [b"EHLO mail.example.com",
	    b"MAIL FROM:<a@example.com>", b"RCPT TO:<b\x00ob@example.org>"],
	    (501, "5.1.3 Bad recipient address syntax"))
	smtp_rejected(r, 54, "utf8-helo", [b"EHLO \xff\xfe.example.com"],
	    (500, "5.5.2 Error: bad UTF-8 syntax"))
	smtp_rejected(r, 55, "utf8-mail", [b"EHLO mail.example.com",
	    b"MAIL FROM:<\xc3\x28@example.com>"],
	    (500, "5.5.2 Error: bad UTF-8 syntax"))
	smtp_8bit(r)


def mclient(r, n):
	"""A milter session for suspicious client 127.0.2.N, connected."""
	c = MilterClient(r.milter.port)
	got = c.connect("dyn-127-0-2-%d.pool.example.net" % n, "127.0.2.%d" % n)
	check(got == b"c", "connect reply for 127.0.2.%d" % n, got, b"c")
	return c


def greylisted(r, n, what, helo, mail, rcpt):
	"""HELO, MAIL, RCPT of client N; the decision line at RCPT."""
	since = r.milter.log.mark()
	with mclient(r, n) as c:
		c.helo(helo)
		check(c.mail(*mail) == b"c", "%s: MAIL reply" % what)
		got = c.rcpt(*rcpt)
		check(got == b"y", "%s: RCPT reply (greylist 450)" % what, got, b"y")
		c.quit()
	d = r.milter.wait_decision(since, addr="127.0.2.%d" % n, stage="rcpt")
	check(CLEAN.match(d["line"]) is not None and len(d["line"]) < 1000,
	    "%s: decision line printable ASCII" % what, d["line"], "clean")
	return d


def closes(r, n, what, data, shut=False):
	"""Client N sends DATA raw; the milter closes the connection."""
	with mclient(r, n) as c:
		try:
			c.raw(data)
			if shut:
				c.sock.shutdown(1)
			gone = c.closed(10)
		except (ConnectionResetError, BrokenPipeError):
			gone = True	# closed while we were still sending
		check(gone, "%s: connection closed by the milter" % what, False, True)
	check(r.milter.running(), "%s: milter running" % what)
	print("ok - %s: connection closed, milter up" % what)


def direct(r):
	"""Hostile packets straight to the milter."""
	by = mclient(r, 1)
	by.helo("bystander.example.com")
	closes(r, 2, "helo-1mb", b"\x00\x10\x00\x01H" + b"h" * (1 << 20))
	d = greylisted(r, 3, "helo-60k", "h" * 60000, ["<a@example.com>"],
	    ["<b@example.org>"])
	check(d["helo"] == CUT, "helo-60k: helo logged", len(d["helo"]), len(CUT))
	print("ok - helo-60k: helo cut to %d characters" % len(d["helo"]))
	d = greylisted(r, 4, "nul", "x.example.com", ["<a", "b@example.com>"],
	    [b"<c\x00d@example.org>"])
	check((d["from"], d["to"]) == ("?a", "?c"), "nul: from and to logged",
	    (d["from"], d["to"]), ("?a", "?c"), d["line"])
	print("ok - nul: from=<%s> to=<%s>" % (d["from"], d["to"]))
	d = greylisted(r, 5, "bytes", b"\xff\xfe\x1b[31m\r\nfake: line",
	    [b"<\xc3\x28\x01\r\n@example.com>"], [b"<\xff@example.org>"])
	want = ("???[31m??fake:_line", "?(???@example.com", "?@example.org")
	check((d["helo"], d["from"], d["to"]) == want, "bytes: fields logged",
	    (d["helo"], d["from"], d["to"]), want, d["line"])
	print("ok - bytes: helo=<%s> from=<%s> to=<%s>" % want)
	closes(r, 6, "len-2gb", b"\x80\x00\x00\x00H" + b"x" * 100)
	closes(r, 7, "len-4gb", b"\xff\xff\xff\xffH" + b"x" * 100)
	check(r.milter.status()["VmRSS"] < 65536, "RSS after the huge lengths",
	    r.milter.status()["VmRSS"], "< 65536 kB")
	closes(r, 8, "truncated", b"\x00\x00\x00\x64Hxxxx", shut=True)
	held = mclient(r, 9)
	held.raw(b"\x00\x00\x00\x64Hxxxx")
	check(by.mail("<a@example.com>") == b"c", "bystander MAIL reply")
	check(by.rcpt("<bob@example.org>") == b"y", "bystander RCPT reply")
	res = rig.milterload(r.milter.port, "-c", "4", "-n", "20",
	    "-a", "127.0.3.1-127.0.3.20", "-N", "mail%n.example.com", "-P",
	    "-e", "rcpt=c", "-e", "eom=c")
	check(res.returncode == 0 and "completed 20 failed 0 unexpected 0" in
	    res.stdout, "20 sessions while a packet is held", res.returncode, 0,
	    res.stdout + res.stderr)
	held.close()
	by.quit()
	print("ok - held: bystander answered, 20 sessions completed")


def main(r):
	for n in range(51, 57):
		r.dns.add_host("mx%d.example.com" % n, client(n))
	r.start()
	through_postfix(r)
	direct(r)
	check(r.milter.running(), "milter running at the end")
	lines = r.milter.log.text().splitlines()
	bad = [l for l in lines if not CLEAN.match(l) or len(l) > 1000 or
	    re.search(r"(error|fatal|panic): ", l)]
	check(bad == [], "milter log lines not clean", [b[:120] for b in bad[:3]],
	    [])
	print("ok - %d milter log lines, all printable ASCII, none over 1000"
	    " characters, no error" % len(lines))


rig.main(main, timeout=90, milter_params={"tarpit_max_sessions": "0"})
