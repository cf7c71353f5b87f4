#!/usr/bin/env python3
"""
NAME
	t_rig_selftest - the integration rig itself: nsd, Postfix, clients
DESCRIPTION
	Without the milter: nsd answers the zones given as data (UDP and
	TCP, long TXT records, PTR, records added after start); Postfix
	delivers a message from a chosen 127.0.0.x source to the sink,
	refuses relaying, accepts a PROXY v1 client as that client's address,
	applies milter_default_action (tempfail) when its milter does not
	answer; stopping the rig ends every process and removes the
	directory.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

LONG_SPF = "v=spf1 " + " ".join("ip4:198.51.100.%d" % i
    for i in range(1, 40)) + " -all"


def test_dns(r):
	"""Zones served as given, over UDP and TCP."""
	d = r.dns
	got = d.query("example.com", "TXT")
	check(got == ['"v=spf1 ip4:203.0.113.0/24 -all"'], "TXT example.com",
	    got, "the SPF record")
	got = d.query("mx1.example.com", "A", tcp=True)
	check(got == ["127.0.0.5"], "A mx1.example.com over TCP", got,
	    ["127.0.0.5"])
	got = d.query("5.0.0.127.in-addr.arpa", "PTR")
	check(got == ["mx1.example.com."], "PTR 127.0.0.5", got,
	    ["mx1.example.com."])
	got = d.query("7.113.0.203.in-addr.arpa", "PTR")
	check(got == ["dyn-203-0-113-7.pool.example.net."], "PTR 203.0.113.7",
	    got, ["dyn-203-0-113-7.pool.example.net."])
	got = d.query("long.example.com", "TXT")
	joined = "".join(p.strip('"') for p in got[0].split('" "')) if got \
	    else None
	check(joined == LONG_SPF, "long TXT reassembled", joined, LONG_SPF)
	got = d.query("nothing.example.com", "A")
	check(got == [], "A of a name that does not exist", got, [])
	port = d.port
	d.add_record("late.example.com", "A", "192.0.2.99")
	d.restart()
	check(d.port == port, "nsd port after restart", d.port, port)
	got = d.query("late.example.com", "A")
	check(got == ["192.0.2.99"], "record added after start", got,
	    ["192.0.2.99"])


def test_delivery(r):
	"""A message from 127.0.0.5 reaches the sink."""
	res = r.swaks(source="127.0.0.5", sender="alice@example.com",
	    to="bob@example.org", headers=["X-Rig: selftest"])
	check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
	msg = r.postfix.wait_delivered(res.queue_id)
	check(msg["X-Rig"] == "selftest", "X-Rig header in the sink",
	    msg["X-Rig"], "selftest")
	r.postfix.log.wait(r"connect from unknown\[127\.0\.0\.5\]", 5)


def test_relay_refused(r):
	"""A domain outside the test domains is refused."""
	res = r.swaks(source="127.0.0.6", to="someone@elsewhere.invalid")
	check(res.rc == 24, "swaks exit status for a relay attempt", res.rc, 24,
	    res.transcript)
	check(554 in res.codes(), "554 Relay access denied", res.codes(),
	    "554 among them", res.transcript)


def test_proxy(r):
	"""The PROXY listener takes the client address from the header."""
	with r.smtp(source="127.0.0.8", proxy=("203.0.113.7", 40123)) as c:
		check(c.banner().code == 220, "banner after PROXY header")
		replies = c.transaction("carol@example.com", ["dave@example.org"])
		last = replies[-1]
		check(last.code == 250, "end of DATA via PROXY", replies, "250")
		c.command("QUIT")
	qid = last.text.rsplit(" ", 1)[-1]
	r.postfix.wait_delivered(qid)
	hits = r.postfix.log.grep(r"%s: client=unknown\[203\.0\.113\.7\]" % qid)
	check(len(hits) == 1, "Postfix saw the proxied client", hits,
	    "one client=unknown[203.0.113.7] line")


def test_default_action(r):
	"""A milter that does not answer: milter_default_action = tempfail."""
	dead = rig.free_port()
	since = r.postfix.log.mark()
	r.postfix.reload(smtpd_milters="inet:127.0.0.1:%d" % dead)
	res = r.swaks(source="127.0.0.9", to="erin@example.org")
	want = (451, "4.7.1 Service unavailable - try again later")
	check(res.rc == 23 and want in res.replies,
	    "MAIL FROM refused when the milter is unreachable", res.replies,
	    want, res.transcript)
	r.postfix.log.wait(r"warning: connect to Milter service "
	    r"inet:127\.0\.0\.1:%d: Connection refused" % dead, 5, since)
	r.postfix.log.wait(r"milter-reject: MAIL from unknown\[127\.0\.0\.9\]: "
	    r"451 4\.7\.1", 5, since)
	check(res.queue_id is None, "no message queued", res.queue_id, None)
	r.postfix.reload(smtpd_milters="")


def test_cleanup(r):
	"""stop() ends master, its children and nsd, and removes the directory."""
	master = r.postfix.master_pid()
	kids = rig.descendants(master)
	nsd = r.dns.pid
	check(master and kids and nsd, "processes before stop", (master, kids,
	    nsd), "all running")
	r.stop()
	alive = [p for p in [master, nsd] + kids if rig.pid_alive(p)]
	check(alive == [], "processes alive after stop", alive, [])
	check(not os.path.exists(r.dir), "rig directory removed", r.dir,
	    "gone")


ORPHAN = """
import sys, time
sys.path.insert(0, %r)
import rig
r = rig.Rig(milter=False)
r.start()
print(r.dir, r.postfix.master_pid(), r.dns.pid, flush=True)
time.sleep(60)
""" % os.path.dirname(os.path.abspath(__file__))


def test_reap_stale(r):
	"""A rig whose test was killed with SIGKILL is cleaned up later."""
	p = subprocess.Popen([sys.executable, "-c", ORPHAN],
	    stdout=subprocess.PIPE, text=True)
	try:
		line = p.stdout.readline().split()
	finally:
		p.kill()
		p.wait(10)
	check(len(line) == 3, "orphan rig started", line, "DIR MASTER NSD")
	path, pids = line[0], [int(x) for x in line[1:]]
	check(all(rig.pid_alive(x) for x in pids), "orphan processes running",
	    pids, "alive")
	rig.reap_stale()
	alive = [x for x in pids if rig.pid_alive(x)]
	check(alive == [], "orphan processes after reap_stale", alive, [])
	check(not os.path.exists(path), "orphan directory removed", path, "gone")
	check(os.path.exists(r.dir), "own live rig left alone", r.dir, "kept")


def main(r):
	r.dns.add_zone("example.com", [
	    ("@", "TXT", "v=spf1 ip4:203.0.113.0/24 -all"),
	    ("long", "TXT", LONG_SPF)])
	r.dns.add_host("mx1.example.com", "127.0.0.5")
	r.dns.add_ptr("203.0.113.7", "dyn-203-0-113-7.pool.example.net")
	r.start()
	for t in (test_dns, test_delivery, test_relay_refused, test_proxy,
	    test_default_action, test_reap_stale, test_cleanup):
		t(r)
		print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=180, milter=False)
