#!/usr/bin/env python3
"""
NAME
	t_targrey_grey - greylisting after a failed tarpit, auto-whitelist,
	dry run, through the real Postfix
DESCRIPTION
	tarpit_delay = 3s, greylist_delay = 10s (wide: the early retry, a
	whole swaks session, must reach the milter within it even on a
	loaded machine under ASan), greylist_retry_count = 2,
	auto_whitelist_clients = 2, greylist_ipv4_prefix = 32, log_level = 2
	(the milter logs "tarpit: start client=[ADDR]"). Clients have
	S25R-like forward-confirmed names (rule 1).
	  greylist     127.0.0.31 resets (RST) 0.5 s after the milter logged
	               its tarpit start (reason=lost_connection); afterwards
	               the triplet is greylisted: new (retries_left=2),
	               early_retry before the delay, retry_counted
	               (retries_left=1) after it,
	               and the next retry is accepted and delivered
	               (eom tg=pass_triplet); targreyctl shows passes=1.
	  awl          one pass is not enough: a new triplet of the same
	               client is greylisted. A client pass counts at most
	               once an hour, so the first pass is moved two hours
	               back with targreyctl dump/load (only its last_pass
	               time changes; the count stays the one the milter
	               wrote). The next real pass then counts (passes=2)
	               and the greylisted triplet is accepted as pass_awl.
	  dry_run      after a reload with dry_run = yes, a new suspicious
	               client gets would_tarpit, no tarpit line, and its
	               mail is delivered.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import RCPT, attempt, check, hang_up_in_tarpit, retry_until_pass

IP = "127.0.0.31"
GREY_DELAY = 10		# greylist_delay, s


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def client_line(r, ip):
	"""The clients line of targreyctl dump for ip."""
	out = r.milter.ctl("dump")
	check(out.returncode == 0, "targreyctl dump", out.returncode, 0, out.stderr)
	lines = [l for l in out.stdout.splitlines()
	    if l.startswith("clients\t%s\t" % ip)]
	check(len(lines) == 1, "clients record of %s" % ip, out.stdout, "one line")
	return lines[0]


def test_greylist(r):
	"""After a failed tarpit: greylisted, retried twice, accepted."""
	hang_up_in_tarpit(r, IP)
	retry_until_pass([r, r, r, r], IP, "alice@example.com", GREY_DELAY)
	line = client_line(r, IP)
	check(line.endswith(" passes=1"), "client passes after one pass", line,
	    "passes=1")


def test_awl(r):
	"""A second pass (an hour apart) auto-whitelists the client."""
	attempt(r, IP, "carol@example.com", "new")
	line = client_line(r, IP)
	m = re.search(r"last_pass=(\d+)", line)
	check(m is not None, "last_pass in the clients line", line, "last_pass=S")
	back = int(m.group(1)) - 7200
	moved = re.sub(r"last_pass=\d+", "last_pass=%d" % back, line)
	moved = re.sub(r"first=\d+", "first=%d" % back, moved)
	out = r.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n%s\n" % moved)
	check(out.returncode == 0, "targreyctl load", out.returncode, 0,
	    out.stdout + out.stderr)
	attempt(r, IP, "alice@example.com", None, "pass_triplet")
	line = client_line(r, IP)
	check(line.endswith(" passes=2"), "client passes after the second pass",
	    line, "passes=2")
	attempt(r, IP, "carol@example.com", None, "pass_awl")


def test_dry_run(r):
	"""dry_run = yes: would_tarpit, and the mail is accepted at once."""
	ip = "127.0.0.32"
	since = r.milter.log.mark()
	r.milter.reload(dry_run="yes")
	r.milter.log.wait(r"reload: configuration .* loaded", 10, since)
	res = r.swaks(source=ip, sender="dave@example.com", to=RCPT,
	    helo="client.example.com", timeout=30)
	check(res.rc == 0, "swaks exit status in dry run", res.rc, 0,
	    res.transcript)
	print("  dry-run session took %.1f s" % res.elapsed)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, addr=ip, stage="rcpt")
	check(d["action"] == "would_tarpit", "rcpt decision in dry run",
	    d["action"], "would_tarpit", d["line"])
	r.milter.wait_decision(since, queue_id=res.queue_id, action="accept")
	tarpits = [x for x in r.milter.decisions(since)
	    if x["addr"] == ip and x["action"] == "tarpit"]
	check(tarpits == [], "tarpit lines in dry run", tarpits, [])


def main(r):
	for ip in (IP, "127.0.0.32"):
		r.dns.add_host(name_of(ip), ip)
	r.start()
	for t in (test_greylist, test_awl, test_dry_run):
		t(r)
		print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=240, milter_params={
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "%ds" % GREY_DELAY, "greylist_retry_count": "2",
	"auto_whitelist_clients": "2", "greylist_ipv4_prefix": "32",
	"s25r_reverse_lookup": "yes"})
