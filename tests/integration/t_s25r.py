#!/usr/bin/env python3
"""
NAME
	t_s25r - S25R classification through the real Postfix and DNS
DESCRIPTION
	Postfix runs with smtpd_peername_lookup = no, so every client reaches
	the milter as [ADDR] and the milter does its own forward-confirmed
	reverse lookup against the rig's nsd. For each client the message's
	decision line must carry the S25R verdict (s25r=REASON):
	  127.0.0.21  p1-2.dyn.example.jp       suspicious, s25r_rule_1
	  127.0.0.22  mail.example.com          clean, no_match
	  127.0.0.23  dsl-pool7.example.net     client_whitelist (list:), skipped
	  127.0.0.24  no PTR record             suspicious, s25r_rule_0
	  127.0.0.25  static1-2.example.net     s25r_client_access OK, clean
	  127.0.0.26  mail-ed1-f41.google.com   default builtin:s25r_whitelist
	The suspicious ones are tarpitted (2 s) and, having waited, delivered.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

CLIENTS = [
	# source, PTR name or None, want s25r= prefix, suspicious
	("127.0.0.21", "p1-2.dyn.example.jp", "s25r_rule_1", True),
	("127.0.0.22", "mail.example.com", "no_match", False),
	("127.0.0.23", "dsl-pool7.example.net", "whitelist", False),
	("127.0.0.24", None, "s25r_rule_0", True),
	("127.0.0.25", "static1-2.example.net", "regexp:", False),
	("127.0.0.26", "mail-ed1-f41.google.com", "whitelist", False),
]


def write(path, text):
	with open(path, "w") as f:
		f.write(text)
	os.chmod(path, 0o644)


def s25r_fact(extra):
	"""The value of s25r= in a decision line's extra fields."""
	for word in extra.split():
		if word.startswith("s25r="):
			return word[len("s25r="):]
	return None


def main(r):
	wl = os.path.join(r.milter.dir, "client_whitelist")
	access = os.path.join(r.milter.dir, "s25r_access")
	write(wl, "# Postgrey whitelist_clients format\ndsl-pool7.example.net\n")
	write(access, "/^static1-2\\.example\\.net$/ OK\n")
	r.milter.params.update(client_whitelist="list:" + wl,
	    s25r_client_access="regexp:" + access)
	for source, name, _, _ in CLIENTS:
		if name:
			r.dns.add_host(name, source)
	r.start()
	for source, name, want, suspicious in CLIENTS:
		res = r.swaks(source=source, sender="alice@example.com",
		    to="bob@example.org", helo="client.example.com", timeout=60)
		check(res.rc == 0, "swaks exit status from %s (%s)" % (source, name),
		    res.rc, 0, res.transcript)
		r.postfix.wait_delivered(res.queue_id)
		d = r.milter.wait_decision(queue_id=res.queue_id, addr=source)
		got = s25r_fact(d["extra"])
		check(got is not None and got.startswith(want),
		    "s25r verdict of %s (%s)" % (source, name), got, want + "...", d["line"])
		if want == "regexp:":
			check(got.endswith(access + ":1"), "reason names table and line",
			    got, "regexp:%s:1" % access, d["line"])


rig.main(main, timeout=180, milter_params={"tarpit_delay": "2s"})
