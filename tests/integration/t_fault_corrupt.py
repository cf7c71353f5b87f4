#!/usr/bin/env python3
"""
NAME
	t_fault_corrupt - a damaged state file through the daemon and Postfix
DESCRIPTION
	tarpit_max_sessions = 0 (a suspicious client's new triplet is
	greylisted at once), greylist_ipv4_prefix = 32. Each phase damages
	data.mdb the way a bit flip or a tamperer would, then asserts that
	the milter runs, that mail gets the documented reply through
	Postfix (swaks), and that the log says what happened:
	  key-size  a record whose key size field says 4144 bytes (more
	            than any key buffer): -t exits 1 naming the record "out
	            of bounds"; the daemon starts, logs "state in DIR is
	            corrupt: ...; moved to DIR/data.mdb.corrupt-TIME;
	            starting on a fresh store", the moved file exists, and a
	            new suspicious client is greylisted (450);
	  run-time  while the daemon runs, the greylist database's leaf page
	            is given a wrong page type: the next suspicious client
	            is accepted and delivered (store_unavailable,
	            store=broken), the log names MDB_CORRUPTED once,
	            targreyctl stats exits 1 saying the daemon found the
	            store corrupt (data.mdb.broken); SIGHUP moves the file
	            aside and the next client is greylisted again;
	  pages     every page after the two meta pages has its header
	            scrambled (no page type left, bit flips in its bounds
	            and flags): -t exits 1, the daemon starts on
	            a fresh store and greylists;
	  hollow    the main tree's root page (the newer meta page names
	            it) reads as an empty leaf: no tree is found any more,
	            so a walk alone finds nothing wrong; -t exits 1 because
	            the main tree holds fewer records than the meta page
	            counts, and the daemon starts on a fresh store;
	  empty     a 0-byte data.mdb: -t exits 1 ("empty file (0 bytes)"),
	            the daemon moves it aside and greylists;
	  refuse    the same with state_corrupt_action = refuse: the daemon
	            exits 1 with the cause and "not starting".
"""
import glob
import os
import random
import re
import struct
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

PAGE = 4096
GREYLISTED = (450, "4.7.1 Greylisted, please try again later")
RCPT = "bob@example.org"
_n = [0]


def client(r):
	"""A new suspicious client (S25R-like, forward-confirmed name)."""
	_n[0] += 1
	ip = "127.0.1.%d" % _n[0]
	r.dns.add_host("dyn-127-0-1-%d.pool.example.net" % _n[0], ip)
	return ip


def data(r):
	return os.path.join(r.milter.params["state_directory"], "data.mdb")


def patch(r, fn):
	"""Apply fn(bytearray) to data.mdb: only the bytes it changed are
	written back (the daemon may be writing other pages meanwhile)."""
	with open(data(r), "r+b") as f:
		old = f.read()
		b = bytearray(old)
		fn(b)
		for i in range(len(b)):
			if b[i] != old[i]:
				os.pwrite(f.fileno(), bytes(b[i:i + 1]), i)


def greylisted(r, tag):
	"""A new suspicious client gets 450 and a greylist/new decision."""
	ip = client(r)
	since = r.milter.log.mark()
	res = r.swaks(source=ip, sender="%s@example.com" % tag, to=RCPT,
	    helo="client.example.com", timeout=30)
	check(GREYLISTED in res.replies, "%s: reply to a new client" % tag,
	    res.replies, GREYLISTED, res.transcript)
	d = r.milter.wait_decision(since, addr=ip, action="greylist")
	check(d["reason"] == "new", "%s: greylist reason" % tag, d["reason"], "new")
	return ip


def check_t(r, tag, want):
	"""targrey-milter -t exits 1 and names the cause."""
	p = subprocess.run([r.milter.binary, "-t", "-c", r.milter.conf],
	    capture_output=True, text=True, timeout=60)
	out = p.stdout + p.stderr
	check(p.returncode == 1 and re.search(want, out), "%s: -t" % tag,
	    (p.returncode, out), (1, want))


def started_fresh(r, tag, cause):
	"""Start; the move-aside line names CAUSE and the file exists."""
	since = r.milter.log.mark()
	before = set(glob.glob(data(r) + ".corrupt-*"))
	r.milter.start()
	lines = r.milter.log.grep(r"error: state in .* is corrupt: ", since)
	want = (r"error: state in %s is corrupt: %s; moved to (?P<to>\S+); starting on "
	    r"a fresh store$" % (re.escape(r.milter.params["state_directory"]), cause))
	m = [re.search(want, l) for l in lines]
	check(len(lines) == 1 and m[0], "%s: start-up line" % tag, lines, want)
	moved = set(glob.glob(data(r) + ".corrupt-*")) - before
	check(moved == {m[0].group("to")}, "%s: file moved aside" % tag, moved,
	    m[0].group("to"))
	check(r.milter.running(), "%s: milter running" % tag)
	greylisted(r, tag)
	print("ok - %s: moved aside, fresh store greylists: %s" % (tag,
	    lines[0].split("error: ", 1)[1]))


def key_size(r):
	"""A record's key size field beyond every key buffer."""
	key = "127.0.0.9/" + "k" * 390
	out = r.milter.ctl("load", "-", stdin="greylist\t%s\tfirst=1 last=2 "
	    "retries=0 passed=0\n" % key)
	check(out.returncode == 0, "key-size: targreyctl load", out.returncode, 0,
	    out.stderr)
	r.milter.stop()
	def fn(b):
		n, i = 0, b.find(key.encode())
		while i > 0:
			if b[i - 2:i] == (400).to_bytes(2, "little"):
				b[i - 2:i] = (4144).to_bytes(2, "little")
				n += 1
			i = b.find(key.encode(), i + 1)
		check(n > 0, "key-size: key size fields patched", n, "> 0")
	patch(r, fn)
	check_t(r, "key-size", r"state in .* is corrupt: .*data.mdb: 1 record\(s\)"
	    r" with a key or value out of bounds")
	started_fresh(r, "key-size", r"\S+/data.mdb: 1 record\(s\) with a key or"
	    r" value out of bounds")


def run_time(r):
	"""A leaf page of the wrong type under the running daemon."""
	ip = greylisted(r, "before")
	needle = ("%s/before@example.com/%s" % (ip, RCPT)).encode()
	def fn(b):
		n = 0
		for i in range(len(b)):
			i = b.find(needle, i)
			if i < 0:
				break
			page = i // PAGE * PAGE
			if b[page + 10] == 0x02:	# P_LEAF
				b[page + 10] = 0x04
				n += 1
		check(n > 0, "run-time: leaf pages patched", n, "> 0")
	patch(r, fn)
	since = r.milter.log.mark()
	ip2 = client(r)
	res = r.swaks(source=ip2, sender="broken@example.com", to=RCPT,
	    helo="client.example.com", timeout=30)
	check(res.rc == 0, "run-time: mail accepted", res.rc, 0, res.transcript)
	r.postfix.wait_delivered(res.queue_id)
	d = r.milter.wait_decision(since, addr=ip2, stage="rcpt")
	check(d["action"] == "accept" and d["reason"] == "store_unavailable"
	    and "store=broken" in d["extra"], "run-time: decision", d["line"],
	    "accept store_unavailable store=broken")
	errs = r.milter.log.grep(r"error: store: corrupt state", since)
	check(len(errs) == 1 and "MDB_CORRUPTED" in errs[0], "run-time: log",
	    errs, "one line naming MDB_CORRUPTED")
	out = r.milter.ctl("stats")
	check(out.returncode == 1 and "data.mdb.broken: the daemon found it corrupt "
	    "(check: MDB_CORRUPTED" in out.stderr, "run-time: targreyctl stats",
	    (out.returncode, out.stderr), (1, "... the daemon found it corrupt ..."))
	since = r.milter.log.mark()
	r.milter.signal(signal.SIGHUP)
	r.milter.log.wait(r"store: \S+/data.mdb moved to \S+/data.mdb.corrupt-\S+;"
	    r" starting on a fresh store", since=since, timeout=20)
	greylisted(r, "rebuilt")
	out = r.milter.ctl("stats")
	check(out.returncode == 0 and "state: healthy" in out.stdout,
	    "run-time: targreyctl stats after SIGHUP", out.returncode, 0,
	    out.stdout + out.stderr)
	print("ok - run-time: accepted as store=broken, %s; SIGHUP rebuilt it"
	    % errs[0].split("error: ", 1)[1][:80])


def pages(r):
	"""Every data page's header scrambled."""
	greylisted(r, "pages")
	r.milter.stop()
	rnd = random.Random(11)
	def fn(b):
		# the type byte loses its branch/leaf/overflow bits (a random
		# flip there could leave a valid type, and then whether -t
		# sees the damage would depend on which pages the trees use);
		# the bounds and the rest of the flags get random flips
		for page in range(2 * PAGE, len(b), PAGE):
			b[page + 10] &= ~0x07
			for off in (8, 11, 12, 14):
				b[page + off] ^= rnd.randrange(1, 256)
	patch(r, fn)
	check_t(r, "pages", r"state in .* is corrupt: ")
	started_fresh(r, "pages", r"\S+/data.mdb: (cannot walk \w+|cannot open|walking"
	    r" it crashed).*")


def hollow(r):
	"""The main tree's root made an empty leaf (lower = header size)."""
	greylisted(r, "hollow")
	r.milter.stop()
	def fn(b):
		# MDB_meta after the 16-byte page header: magic, version,
		# address, mapsize, then two MDB_db of 48 bytes (free, main):
		# main's md_entries at 120, md_root at 128; txnid at 144
		meta = max((0, PAGE), key=lambda m: struct.unpack_from("<Q", b, m + 144)[0])
		entries, root = struct.unpack_from("<QQ", b, meta + 120)
		check(entries > 0, "hollow: the main tree names the databases", entries, "> 0")
		struct.pack_into("<H", b, root * PAGE + 12, 16)
	patch(r, fn)
	check_t(r, "hollow", r"cannot walk the main tree: it holds another number of records")
	started_fresh(r, "hollow", r"\S+/data.mdb: cannot walk the main tree.*")


def empty(r):
	"""A 0-byte data.mdb, rebuilt; then refused when asked to."""
	r.milter.stop()
	open(data(r), "w").close()
	check_t(r, "empty", r"data.mdb: empty file \(0 bytes\)")
	started_fresh(r, "empty", r"\S+/data.mdb: empty file \(0 bytes\)")
	r.milter.stop()
	open(data(r), "w").close()
	r.milter.params["state_corrupt_action"] = "refuse"
	r.milter.write_config()
	p = subprocess.run([r.milter.binary, "-f", "-c", r.milter.conf],
	    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
	want = (r"error: state in \S+ is corrupt: \S+/data.mdb: empty file \(0 "
	    r"bytes\); not starting \(state_corrupt_action = refuse\)")
	check(p.returncode == 1 and re.search(want, p.stderr), "refuse: daemon",
	    (p.returncode, p.stderr), (1, want))
	check(os.path.getsize(data(r)) == 0, "refuse: file left in place",
	    os.path.getsize(data(r)), 0)
	print("ok - empty: moved aside and rebuilt; refused with "
	    "state_corrupt_action = refuse")


def main(r):
	r.start()
	key_size(r)
	run_time(r)
	pages(r)
	hollow(r)
	empty(r)


rig.main(main, timeout=240, milter_params={
	"tarpit_max_sessions": "0", "greylist_ipv4_prefix": "32"})
