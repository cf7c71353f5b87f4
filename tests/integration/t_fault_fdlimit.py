#!/usr/bin/env python3
"""
NAME
	t_fault_fdlimit - a tiny descriptor limit: tarpits greylist beyond
	what fits, DNS lookups fail at once, the daemon stays alive
DESCRIPTION
	The milter runs under prlimit --nofile=64:64 (soft = hard: nothing
	to raise). Real Postfix and nsd. Asserted:
	  start      the start log warns "tarpit_max_sessions 500 does not fit
	             the descriptor limit 64 ... at most 8 tarpits at once";
	             -t prints the same warning and exits 0;
	  tarpits    30 suspicious clients (dynamic-looking names) at once
	             through Postfix: every RCPT is answered 250 (tarpit
	             passed) or 450 4.7.1 greylisted, never Postfix's 451
	             "Service unavailable" (a milter failure); at most 8
	             tarpits run at once ("running=" of the tarpit start
	             lines); some clients are greylisted with tarpit=full and
	             the log says "tarpit: 8 sessions tarpitted fill the
	             descriptor limit 64: new tarpits greylist instead". The
	             peak of /proc/PID/fd is printed with the descriptors per
	             tarpit it implies;
	  dns        a session (milter protocol, client 192.0.2.7: libspf2
	             passes 127/8 without DNS) up to HELO; then every free
	             descriptor of the milter is taken by idle connections to
	             its port; MAIL FROM from an SPF domain is answered 451
	             4.7.24 (spf_temperror_defer = yes) in under 3 s although
	             spf_lookup_time is 20 s, and the log says "dns: cannot
	             open a socket (Too many open files)";
	  recovered  the idle connections closed, a clean client is
	             delivered and the milter still runs (stopped cleanly).
	Before the fix the start warning was missing, 30 tarpits exhausted
	the descriptors, and a lookup without a socket spun until
	spf_lookup_time.
"""
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import MilterClient, check

NOFILE = 64
CAP = 8			# (64 - FDLIMIT_RESERVE 48) / FDLIMIT_PER_TARPIT 2
CLIENTS = 30
SENDER = "alice@example.com"
RCPT = "bob@example.org"


def ip_of(n):
	return "127.0.3.%d" % n


def name_of(ip):
	return "dyn-%s.pool.example.net" % ip.replace(".", "-")


def fds(pid):
	try:
		return len(os.listdir("/proc/%d/fd" % pid))
	except OSError:
		return 0


def start_checks(r):
	"""The start line and -t both warn about the limit."""
	want = ("tarpit_max_sessions 500 does not fit the descriptor limit %d"
	    % NOFILE)
	r.milter.log.wait(re.escape(want) + r".* at most %d tarpits" % CAP, 10)
	import subprocess
	p = subprocess.run([rig.tool("prlimit"), "--nofile=%d:%d" % (NOFILE,
	    NOFILE), "--", r.milter.binary, "-t", "-c", r.milter.conf],
	    capture_output=True, text=True, timeout=30)
	check(p.returncode == 0 and want in p.stderr, "-t under the limit: exit"
	    " status and warning", (p.returncode, p.stderr.strip()), (0, want))
	print("ok - start: the log and -t warn: %s" % want)


def tarpits(r):
	"""30 suspicious clients at once: 8 tarpits at most, the rest greylisted."""
	since = r.milter.log.mark()
	results = [None] * CLIENTS
	def one(i):
		results[i] = r.swaks(source=ip_of(i + 1), sender=SENDER, to=RCPT,
		    helo="client.example.com", timeout=40)
	threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
	idle = fds(r.milter.pid)
	for t in threads:
		t.start()
	peak = idle
	while any(t.is_alive() for t in threads):
		peak = max(peak, fds(r.milter.pid))
		time.sleep(0.05)
	for t in threads:
		t.join()
	bad = []
	for i, res in enumerate(results):
		codes = [c for c, _ in res.replies]
		if 451 in codes or 421 in codes or len(codes) < 4 \
		    or codes[3] not in (250, 450):
			bad.append((ip_of(i + 1), res.replies))
	check(bad == [], "sessions failed (451/421 or no verdict)", bad, [])
	running = [int(x) for x in re.findall(r"tarpit: start client=\S+ "
	    r"delay=\S+ running=(\d+)", r.milter.log.text(since))]
	full = [d for d in r.milter.decisions(since)
	    if d["action"] == "greylist" and "tarpit=full" in d["extra"]]
	check(running and max(running) <= CAP, "tarpits at once", max(running or
	    [0]), "1..%d" % CAP)
	check(len(full) >= 1, "clients greylisted with tarpit=full", len(full),
	    ">= 1")
	r.milter.log.wait(r"tarpit: %d sessions tarpitted fill the descriptor "
	    r"limit %d: new tarpits greylist instead" % (CAP, NOFILE), 5, since)
	check(r.milter.running(), "milter alive after the tarpits")
	print("ok - tarpits: %d tarpitted (at most %d at once), %d greylisted with"
	    " tarpit=full; descriptors idle %d, peak %d (%.1f per tarpit above"
	    " idle)" % (len(running), max(running), len(full), idle, peak,
	    (peak - idle) / max(1, max(running))))


def dns(r):
	"""Out of descriptors: MAIL FROM's SPF lookup fails at once."""
	since = r.milter.log.mark()
	c = MilterClient(r.milter.port, timeout=30)
	c.connect("client.example.net", "192.0.2.7")
	c.helo("client.example.net")
	idle = []
	try:
		# One more idle connection while the milter has a descriptor free
		# (those it cannot accept wait in the listen backlog); bounded.
		deadline = time.monotonic() + 30
		while fds(r.milter.pid) < NOFILE and len(idle) < 2 * NOFILE \
		    and time.monotonic() < deadline:
			idle.append(socket.create_connection(("127.0.0.1",
			    r.milter.port), 5))
			time.sleep(0.05)
		rig.wait_until(lambda: fds(r.milter.pid) >= NOFILE, 10,
		    "the milter to use all %d descriptors" % NOFILE)
		# A few more wait in the backlog: a descriptor freed meanwhile (a
		# worker thread exiting) goes to one of them, not to the lookup.
		for _ in range(8):
			idle.append(socket.create_connection(("127.0.0.1",
			    r.milter.port), 5))
		check(fds(r.milter.pid) >= NOFILE, "milter descriptors in use",
		    fds(r.milter.pid), NOFILE)
		t0 = time.monotonic()
		got = c.mail("<%s>" % "someone@spf.example.com")
		took = time.monotonic() - t0
	finally:
		for s in idle:
			s.close()
		c.close()
	check(got == b"y" and took < 3, "MAIL FROM without descriptors: reply,"
	    " seconds", (got, round(took, 2)), (b"y", "< 3"))
	line = r.milter.log.wait(r"dns: cannot open a socket \(Too many open "
	    r"files\)", 5, since)
	print("ok - dns: %d idle connections fill the limit (8 of them wait); MAIL FROM deferred"
	    " in %.2f s; log: %s" % (len(idle), took, line[0].strip()))


def recovered(r):
	"""A clean client is delivered; the milter still runs."""
	rig.wait_until(lambda: fds(r.milter.pid) < NOFILE - 10, 30,
	    "the idle connections to close")
	res = r.swaks(source="127.0.3.200", sender=SENDER, to=RCPT,
	    helo="mail.example.com", timeout=30)
	check(res.rc == 0, "clean client after the fault: swaks exit", res.rc, 0,
	    res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	check(r.milter.running(), "milter alive at the end")
	print("ok - recovered: clean mail delivered, milter running")


def main(r):
	for n in range(1, CLIENTS + 1):
		r.dns.add_host(name_of(ip_of(n)), ip_of(n))
	r.dns.add_host("mail.example.com", "127.0.3.200")
	r.dns.add_zone("spf.example.com", [("@", "TXT", "v=spf1 ip4:198.51.100.0/24 -all")])
	r.milter.wrapper = [rig.tool("prlimit"), "--nofile=%d:%d" % (NOFILE,
	    NOFILE), "--"]
	r.start()
	start_checks(r)
	tarpits(r)
	dns(r)
	recovered(r)


rig.main(main, timeout=240, postfix_params={"default_process_limit": "150"},
    milter_params={
	"log_level": "2", "tarpit_delay": "10s", "tarpit_poll_interval": "500ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes",
	"spf_temperror_defer": "yes"})
