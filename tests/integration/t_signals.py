#!/usr/bin/env python3
"""
NAME
	t_signals - SIGHUP reload and SIGTERM drain of targrey-milter
DESCRIPTION
	Through the rig's Postfix: SIGHUP with a changed trusted_networks
	makes the next session of that client skip (reason trusted_network)
	while a session opened before the reload keeps the old snapshot;
	SIGHUP with a broken file logs FILE:LINE and keeps the running
	configuration; SIGTERM lets an open session finish its message,
	then the daemon exits 0, logs "stopped" and removes its pid file.
"""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check


def reload_and_wait(r, since):
	"""Send SIGHUP; the generation number of the reload log line."""
	r.milter.signal(signal.SIGHUP)
	line = r.milter.log.wait(r"reload: configuration .* loaded|reload: .*"
	    r"keeping the running one", 10, since)[0]
	m = re.search(r"generation (\d+)", line)
	return int(m.group(1)) if m else None


def test_reload(r):
	"""A new snapshot applies to new sessions, not to a running one."""
	old = r.smtp(source="127.0.0.21")
	check(old.banner().code == 220, "banner of the session opened first")
	check(old.command("EHLO mail.example.com").code == 250, "EHLO")
	since = r.milter.log.mark()
	r.milter.params["trusted_networks"] = "127.0.0.20/31"
	r.milter.write_config()
	gen = reload_and_wait(r, since)
	check(gen == 2, "generation after the first reload", gen, 2)
	res = r.swaks(source="127.0.0.20", to="bob@example.org")
	check(res.rc == 0, "mail from a newly trusted client", res.rc, 0,
	    res.transcript)
	r.milter.log.wait(r"action=skip reason=trusted_network "
	    r"client=\S*\[127\.0\.0\.20\]", 10, since)
	replies = old.transaction("alice@example.com", ["bob@example.org"])
	check(replies[-1].code == 250, "message of the older session", replies,
	    "250 at the end")
	old.command("QUIT")
	old.close()
	qid = replies[-1].text.rsplit(" ", 1)[-1]
	line = r.milter.log.wait(r"\b%s: action=" % qid, 10)[0]
	check("action=accept" in line and "client=" in line and
	    "[127.0.0.21]" in line, "decision of the session opened before the"
	    " reload", line, "action=accept (old snapshot: not trusted)")


def test_bad_reload(r):
	"""A broken file is reported with FILE:LINE; the old config stays."""
	since = r.milter.log.mark()
	with open(r.milter.conf, "a") as f:
		f.write("trusted_networkz = 127.0.0.0/8\n")
	lineno = sum(1 for _ in open(r.milter.conf))
	gen = reload_and_wait(r, since)
	check(gen is None, "reload of a broken file refused", gen, None)
	r.milter.log.wait(r"%s:%d: .*trusted_networkz" % (re.escape(
	    r.milter.conf), lineno), 5, since)
	res = r.swaks(source="127.0.0.20", to="bob@example.org")
	check(res.rc == 0, "mail after the refused reload", res.rc, 0,
	    res.transcript)
	r.milter.log.wait(r"action=skip reason=trusted_network "
	    r"client=\S*\[127\.0\.0\.20\]", 10, since)
	r.milter.write_config()


def test_sigterm(r):
	"""SIGTERM: the open session finishes, then exit 0 and no pid file."""
	pid_file = r.milter.params["pid_file"]
	check(os.path.exists(pid_file), "pid file while running", pid_file,
	    "present")
	since = r.milter.log.mark()
	with r.smtp(source="127.0.0.22") as c:
		check(c.banner().code == 220, "banner")
		check(c.command("EHLO mail.example.com").code == 250, "EHLO")
		check(c.command("MAIL FROM:<alice@example.com>").code == 250, "MAIL")
		r.milter.signal(signal.SIGTERM)
		r.milter.log.wait(r"stopping: waiting up to \d+s for 1 session",
		    10, since)
		check(c.command("RCPT TO:<bob@example.org>").code == 250,
		    "RCPT while the milter drains")
		check(c.command("DATA").code == 354, "DATA while it drains")
		c.send(c.message())
		rep = c.reply()
		check(rep.code == 250, "end of DATA while it drains", rep, 250)
		c.command("QUIT")
	status = r.milter.wait_exit(15)
	check(status == 0, "exit status after SIGTERM", status, 0,
	    r.milter.log.tail(since))
	r.milter.log.wait(r"targrey-milter: stopped$", 2, since)
	check(not os.path.exists(pid_file), "pid file after exit", pid_file,
	    "removed")


def main(r):
	r.start()
	for t in (test_reload, test_bad_reload, test_sigterm):
		t(r)
		print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=180)
