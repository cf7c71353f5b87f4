"""
NAME
	rig - integration test harness for targrey-milter

SYNOPSIS
	import rig

	def test(r):
		r.dns.add_host("dyn-1-2-3-4.example.net", "127.0.0.9")
		r.start()
		res = r.swaks(source="127.0.0.9", sender="a@example.com",
		    to="bob@example.org")
		rig.check(res.rc == 0, "swaks exit", res.rc, 0, res.transcript)
		r.postfix.wait_delivered(res.queue_id)

	rig.main(test, timeout=120)

DESCRIPTION
	Starts, on loopback only and inside one private temporary directory
	(/tmp/tg-rig-*), three real programs:

	Dns	nsd(8) from Debian, authoritative for zones the test gives as
		Python data, on 127.0.0.1 at a free high port (UDP and TCP).
	Milter	$TG_BUILDDIR/src/targrey-milter -f -c CONF with a generated
		configuration (dns_servers points at the Dns port); its stderr
		goes to a file the test can wait on.
	Postfix	Debian's Postfix as a private instance (postfix -c DIR start):
		its own config, queue and data directories; an smtpd on a free
		high loopback port and a second one that expects a PROXY v1
		header; smtpd_milters = the Milter; mail for the test domains is
		delivered by virtual(8) into one Maildir (the sink).

	Clients: swaks(1) bound to chosen 127.0.0.x source addresses, and
	SmtpClient, a raw socket client that can send a PROXY v1 header,
	pipeline commands and hang up (FIN or RST) at any point.

	Everything started is stopped and the directory removed when the
	Rig's with-block ends, at interpreter exit, and on SIGTERM, SIGINT,
	SIGHUP and the watchdog alarm of main(). Every wait is bounded.

	Postfix settings chosen (see Postfix._main_cf):
	milter_default_action = tempfail: the production-safe value (mail is
	neither lost nor accepted unchecked) and Postfix's own default, set
	explicitly. In tests it makes a broken milter loud: mail that should
	pass gets 451 instead of silently passing unchecked.
	smtpd_peername_lookup = no: Postfix would resolve client names with
	the system resolver, which cannot be pointed at the test nsd and may
	hang without network; every client reaches the milter as [ADDR] and
	the milter does its own reverse lookups against the test DNS.
	mynetworks = 127.0.0.1/32 with reject_unauth_destination: loopback
	test clients are not relay-trusted (other than 127.0.0.1); only the
	test domains are accepted; default/relay transport is error:, so no
	mail ever leaves the machine.

	Environment: TG_BUILDDIR (build tree, default ../.. of this file),
	TG_RIG_KEEP=1 keeps the temporary directory for inspection.

DIAGNOSTICS
	RigError for harness problems (a program missing or failing to
	start), TestFailure for failed assertions; main() prints either, the
	tails of every log, and exits 1. 77 is never used: a missing tool is
	a failure.
"""

import atexit
import email
import email.policy
import errno
import ipaddress
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDDIR = os.environ.get("TG_BUILDDIR") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


class RigError(Exception):
	"""The harness could not do what was asked (not a test verdict)."""


class TestFailure(Exception):
	"""A test assertion failed."""


class RigInterrupted(BaseException):
	"""A signal or the watchdog ended the test."""


# ---------------------------------------------------------------- helpers

def check(cond, what, got=None, want=None, detail=None):
	"""Fail the test with "WHAT: got X, want Y" unless cond holds."""
	if cond:
		return
	msg = what if got is None and want is None else \
	    "%s: got %r, want %r" % (what, got, want)
	if detail:
		msg += "\n--- detail ---\n" + str(detail)
	raise TestFailure(msg)


def tool(name):
	"""Full path of a required program, or RigError naming its package."""
	packages = {"postfix": "postfix", "postconf": "postfix", "nsd": "nsd",
	    "swaks": "swaks", "dig": "dnsutils"}
	path = shutil.which(name, path=os.environ.get("PATH", "") + ":" +
	    ":".join(SBIN))
	if path is None:
		raise RigError("%s not found: install the Debian package %s" %
		    (name, packages.get(name, name)))
	return path


def wait_until(pred, timeout, what, interval=0.05):
	"""Poll pred() until it returns a true value (returned) or time out."""
	deadline = time.monotonic() + timeout
	while True:
		val = pred()
		if val:
			return val
		if time.monotonic() >= deadline:
			raise RigError("timed out after %.1fs waiting for %s" %
			    (timeout, what))
		time.sleep(interval)


def free_port(udp=False):
	"""A currently free loopback port (TCP, and UDP too when udp)."""
	for _ in range(50):
		t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		try:
			t.bind(("127.0.0.1", 0))
			port = t.getsockname()[1]
			if not udp:
				return port
			u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			try:
				u.bind(("127.0.0.1", port))
				return port
			except OSError:
				continue
			finally:
				u.close()
		finally:
			t.close()
	raise RigError("no free loopback port found")


def have_ipv6():
	"""True when ::1 can be bound (Postfix then takes inet_protocols=all)."""
	try:
		with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
			s6.bind(("::1", 0))
		return True
	except OSError:
		return False


def _proc_children(pid):
	"""Pids of the direct children of pid (from /proc)."""
	kids = []
	for d in os.listdir("/proc"):
		if not d.isdigit():
			continue
		try:
			with open("/proc/%s/stat" % d) as f:
				stat = f.read()
		except OSError:
			continue
		fields = stat[stat.rfind(")") + 2:].split()
		if int(fields[1]) == pid:
			kids.append(int(d))
	return kids


def _descendants(pid):
	"""All descendants of pid, children first."""
	out = []
	for kid in _proc_children(pid):
		out.append(kid)
		out.extend(_descendants(kid))
	return out


def pid_alive(pid):
	"""True while pid exists and is not a zombie."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			stat = f.read()
	except OSError:
		return False
	return stat[stat.rfind(")") + 2] != "Z"


def _kill(pid, sig):
	try:
		os.kill(pid, sig)
	except ProcessLookupError:
		pass


def _socket_inodes(pid):
	"""Inodes of the sockets process pid holds open."""
	inodes = set()
	try:
		fds = os.listdir("/proc/%d/fd" % pid)
	except OSError:
		return inodes
	for fd in fds:
		try:
			link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
		except OSError:
			continue
		if link.startswith("socket:["):
			inodes.add(link[8:-1])
	return inodes


def tcp_listening(pid, port):
	"""True when process pid has a TCP socket listening on port."""
	mine = _socket_inodes(pid)
	for table in ("/proc/net/tcp", "/proc/net/tcp6"):
		try:
			with open(table) as f:
				lines = f.readlines()[1:]
		except OSError:
			continue
		for line in lines:
			cols = line.split()
			lport = int(cols[1].rsplit(":", 1)[1], 16)
			if lport == port and cols[3] == "0A" and cols[9] in mine:
				return True
	return False


class LogFile:
	"""A log file that grows; tests mark a position and wait for lines."""

	def __init__(self, path):
		self.path = path

	def text(self, since=0):
		"""The file's contents from byte offset since ('' if absent)."""
		try:
			with open(self.path, "rb") as f:
				f.seek(since)
				return f.read().decode("utf-8", "replace")
		except FileNotFoundError:
			return ""

	def mark(self):
		"""Current size: pass it as since= to look only at newer lines."""
		try:
			return os.path.getsize(self.path)
		except FileNotFoundError:
			return 0

	def grep(self, pattern, since=0):
		"""Lines (from since) matching the regular expression."""
		rx = re.compile(pattern)
		return [l for l in self.text(since).splitlines() if rx.search(l)]

	def wait(self, pattern, timeout=10, since=0, count=1):
		"""Wait until count lines match; return them (RigError on time out)."""
		def found():
			hits = self.grep(pattern, since)
			return hits if len(hits) >= count else None
		try:
			return wait_until(found, timeout, "%r in %s" %
			    (pattern, self.path))
		except RigError as e:
			raise TestFailure("%s\n--- %s (tail) ---\n%s" %
			    (e, self.path, self.tail(since)))

	def tail(self, since=0, lines=40):
		"""The last lines of the file (from since), for diagnostics."""
		return "\n".join(self.text(since).splitlines()[-lines:])


class _Daemon:
	"""A foreground child process with its output in a log file."""

	def __init__(self, name, logpath):
		self.name = name
		self.log = LogFile(logpath)
		self.proc = None

	@property
	def pid(self):
		return self.proc.pid if self.proc else None

	def running(self):
		"""True while the process runs."""
		return self.proc is not None and self.proc.poll() is None

	def _spawn(self, argv):
		with open(self.log.path, "ab") as out:
			self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
			    stdout=out, stderr=subprocess.STDOUT,
			    start_new_session=True)

	def signal(self, sig):
		"""Send sig to the process."""
		if self.running():
			os.kill(self.proc.pid, sig)

	def wait_exit(self, timeout):
		"""Wait for the process to exit; its exit status (RigError if not)."""
		try:
			return self.proc.wait(timeout)
		except subprocess.TimeoutExpired:
			raise RigError("%s (pid %d) still running after %.1fs" %
			    (self.name, self.proc.pid, timeout))

	def stop(self, timeout=10):
		"""SIGTERM, then SIGKILL it and its children; None or exit status."""
		if self.proc is None:
			return None
		if self.proc.poll() is None:
			kids = _descendants(self.proc.pid)
			_kill(self.proc.pid, signal.SIGTERM)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				_kill(self.proc.pid, signal.SIGKILL)
				self.proc.wait(5)
			for kid in kids:
				if pid_alive(kid):
					_kill(kid, signal.SIGKILL)
		return self.proc.returncode


# ---------------------------------------------------------------- DNS

def _zone_name(name):
	return name.lower().rstrip(".")


def _txt_rdata(data):
	"""TXT rdata in zone-file syntax: quoted strings of at most 255 bytes."""
	parts = [data] if isinstance(data, (str, bytes)) else list(data)
	out = []
	for part in parts:
		raw = part.encode() if isinstance(part, str) else part
		chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
		for chunk in chunks:
			s = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92)
			    else "\\%03d" % b for b in chunk)
			out.append('"%s"' % s)
	return " ".join(out)


class Dns(_Daemon):
	"""nsd serving test zones on 127.0.0.1:port (UDP and TCP)."""

	def __init__(self, workdir):
		super().__init__("nsd", os.path.join(workdir, "nsd.log"))
		self.dir = workdir
		os.makedirs(workdir, exist_ok=True)
		self.port = free_port(udp=True)
		self.zones = {}		# origin -> list of (name, type, rdata, ttl)

	@property
	def server(self):
		"""ADDRESS:PORT, the form of targrey-milter's dns_servers."""
		return "127.0.0.1:%d" % self.port

	def add_zone(self, origin, records=(), ttl=300):
		"""Add (or extend) a zone; records are (name, type, rdata[, ttl]).

		Names: "@" is the origin, a name ending in "." is absolute,
		others are relative to the origin. TXT rdata is a str (split
		into 255-byte strings) or a list of strings. SOA and NS are
		added unless given. Call restart() after start() to apply.
		"""
		origin = _zone_name(origin)
		zone = self.zones.setdefault(origin, [])
		for rec in records:
			name, rtype, rdata = rec[0], rec[1].upper(), rec[2]
			rttl = rec[3] if len(rec) > 3 else ttl
			zone.append((self._abs(name, origin), rtype, rdata, rttl))
		return origin

	@staticmethod
	def _abs(name, origin):
		if name == "@":
			return origin + "."
		if name.endswith("."):
			return name
		return "%s.%s." % (name, origin)

	def _zone_for(self, fqdn):
		"""The longest existing zone holding fqdn, else a new one."""
		name = _zone_name(fqdn)
		best = None
		for origin in self.zones:
			if name == origin or name.endswith("." + origin):
				if best is None or len(origin) > len(best):
					best = origin
		if best:
			return best
		keep = 2	# a new zone: the last two labels, a /24 or a /64
		if name.endswith(".in-addr.arpa"):
			keep = 5
		elif name.endswith(".ip6.arpa"):
			keep = 18
		return self.add_zone(".".join(name.split(".")[-keep:]))

	def add_record(self, fqdn, rtype, rdata, ttl=300):
		"""Add one record by absolute name, in the zone that holds it."""
		origin = self._zone_for(fqdn)
		self.zones[origin].append((_zone_name(fqdn) + ".", rtype.upper(),
		    rdata, ttl))

	def add_ptr(self, ip, name, ttl=300):
		"""Add the PTR record ip -> name (zone = the /24 or /64)."""
		rev = ipaddress.ip_address(ip).reverse_pointer
		self.add_record(rev, "PTR", _zone_name(name) + ".", ttl)

	def add_host(self, name, ip, ptr=True, ttl=300):
		"""A (or AAAA) record name -> ip, and its PTR unless ptr=False."""
		rtype = "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"
		self.add_record(name, rtype, ip, ttl)
		if ptr:
			self.add_ptr(ip, name, ttl)

	def _zone_text(self, origin, serial):
		recs = self.zones[origin]
		lines = ["$ORIGIN %s." % origin, "$TTL 300"]
		if not any(r[1] == "SOA" and r[0] == origin + "." for r in recs):
			lines.append("@ 300 IN SOA ns.rig.invalid. hostmaster.rig."
			    "invalid. %d 3600 600 86400 60" % serial)
		if not any(r[1] == "NS" and r[0] == origin + "." for r in recs):
			lines.append("@ 300 IN NS ns.rig.invalid.")
		for name, rtype, rdata, ttl in recs:
			if rtype == "TXT" or rtype == "SPF":
				rdata = _txt_rdata(rdata)
			lines.append("%s %d IN %s %s" % (name, ttl, rtype, rdata))
		return "\n".join(lines) + "\n"

	def _write(self):
		serial = int(time.time())
		conf = ["server:",
		    "\tip-address: 127.0.0.1@%d" % self.port,
		    "\tport: %d" % self.port,
		    "\tdo-ip6: no", '\tusername: ""', '\tchroot: ""',
		    '\tzonesdir: "%s"' % self.dir,
		    '\tpidfile: "%s/nsd.pid"' % self.dir,
		    '\tdatabase: ""',
		    '\txfrdfile: "%s/xfrd.state"' % self.dir,
		    '\txfrdir: "%s"' % self.dir,
		    '\tzonelistfile: "%s/zone.list"' % self.dir,
		    '\tlogfile: "%s"' % self.log.path,
		    "\tserver-count: 1", "\treuseport: no", "\tverbosity: 1",
		    "\thide-version: yes", "\tzonefiles-check: no",
		    "remote-control:", "\tcontrol-enable: no"]
		for i, origin in enumerate(sorted(self.zones)):
			fname = "zone%d.zone" % i
			with open(os.path.join(self.dir, fname), "w") as f:
				f.write(self._zone_text(origin, serial))
			conf += ["zone:", '\tname: "%s"' % origin,
			    '\tzonefile: "%s"' % fname]
		path = os.path.join(self.dir, "nsd.conf")
		with open(path, "w") as f:
			f.write("\n".join(conf) + "\n")
		res = subprocess.run([tool("nsd-checkconf"), path],
		    capture_output=True, text=True, timeout=20)
		if res.returncode != 0:
			raise RigError("nsd-checkconf %s: %s" % (path,
			    res.stdout + res.stderr))
		return path

	def start(self, timeout=20, new_port=False):
		"""Write the configuration and zones, start nsd, wait until ready.

		When new_port and the port was taken meanwhile (another test
		grabbed it), a new port is chosen, up to three times.
		"""
		for attempt in range(3):
			conf = self._write()
			since = self.log.mark()
			self._spawn([tool("nsd"), "-d", "-c", conf])
			def ready():
				if not self.running():
					raise RigError("nsd exited (status %s):\n%s" %
					    (self.proc.returncode, self.log.tail(since)))
				return "nsd started" in self.log.text(since)
			try:
				wait_until(ready, timeout, "nsd to start")
				break
			except RigError:
				self.stop()
				if not new_port or attempt == 2 or "already in use" \
				    not in self.log.text(since):
					raise
				self.port = free_port(udp=True)
		for origin in self.zones:
			if "zone %s read with success" % origin not in \
			    self.log.text(since):
				raise RigError("nsd did not load zone %s:\n%s" %
				    (origin, self.log.tail(since)))

	def restart(self):
		"""Apply zones added since start(): restart on the same port."""
		self.stop()
		self.start()

	def query(self, name, rtype="A", tcp=False):
		"""Answer records (dig +short) of name/rtype from this server."""
		argv = [tool("dig"), "+short", "+time=2", "+tries=2", "-p",
		    str(self.port), "@127.0.0.1", name, rtype]
		if tcp:
			argv.insert(1, "+tcp")
		res = subprocess.run(argv, capture_output=True, text=True,
		    timeout=15)
		if res.returncode != 0:
			raise RigError("dig %s %s: %s" % (name, rtype, res.stdout +
			    res.stderr))
		return [l for l in res.stdout.splitlines() if l]


# ---------------------------------------------------------------- Postfix

def _nobody():
	"""(user, group, uid, gid) of the unprivileged account the rig uses."""
	pw = pwd.getpwnam("nobody")
	return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid


class Postfix:
	"""A private Postfix instance: postfix -c DIR/etc start."""

	def __init__(self, workdir, milter_port=None, domains=("example.org",),
	    main_cf=None, master_extra=()):
		self.dir = workdir
		self.etc = os.path.join(workdir, "etc")
		self.queue = os.path.join(workdir, "queue")
		self.data = os.path.join(workdir, "data")
		self.sink = os.path.join(workdir, "sink")
		self.log = LogFile(os.path.join(workdir, "maillog"))
		self.port = free_port()
		self.proxy_port = free_port()
		self.milter_port = milter_port
		self.domains = list(domains)
		self.main = self._main_cf()
		self.main.update(main_cf or {})
		self.master_extra = list(master_extra)
		self.started = False
		self._prepare_dirs()

	def _prepare_dirs(self):
		"""Directories owned as postfix check wants them."""
		pf = pwd.getpwnam("postfix")
		_, _, nuid, ngid = _nobody()
		for d, mode in ((self.dir, 0o755), (self.etc, 0o755),
		    (self.queue, 0o755), (self.data, 0o700), (self.sink, 0o700)):
			os.makedirs(d, exist_ok=True)
			os.chmod(d, mode)
		if os.geteuid() == 0:
			os.chown(self.data, pf.pw_uid, pf.pw_gid)
			os.chown(self.sink, nuid, ngid)

	def _main_cf(self):
		"""main.cf settings; see the module comment for the reasons."""
		_, _, nuid, ngid = _nobody()
		m = {
		    "compatibility_level": "3.6",
		    "queue_directory": self.queue,
		    "data_directory": self.data,
		    "maillog_file": self.log.path,
		    "maillog_file_prefixes": self.dir,
		    "syslog_name": "postfix-tgrig",
		    "inet_interfaces": "127.0.0.1",
		    "inet_protocols": "all" if have_ipv6() else "ipv4",
		    "myhostname": "mx.rig.test",
		    "mydomain": "rig.test",
		    "mydestination": "",
		    "mynetworks": "127.0.0.1/32",
		    "alias_maps": "", "alias_database": "",
		    "biff": "no",
		    "smtpd_peername_lookup": "no",
		    "smtpd_relay_restrictions":
			"permit_mynetworks, reject_unauth_destination",
		    "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
		    "smtpd_client_connection_count_limit": "0",
		    "smtpd_error_sleep_time": "0",
		    "in_flow_delay": "0",
		    "virtual_mailbox_domains": ", ".join(self.domains),
		    "virtual_mailbox_base": self.sink,
		    "virtual_mailbox_maps": "static:Maildir/",
		    "virtual_uid_maps": "static:%d" % nuid,
		    "virtual_gid_maps": "static:%d" % ngid,
		    "virtual_minimum_uid": "1",
		    "default_transport": "error:no mail leaves the test rig",
		    "relay_transport": "error:no mail leaves the test rig",
		    "milter_default_action": "tempfail",
		    "milter_connect_timeout": "10s",
		    "milter_command_timeout": "30s",
		}
		if self.milter_port:
			m["smtpd_milters"] = "inet:127.0.0.1:%d" % self.milter_port
		return m

	def _master_cf(self):
		"""master.cf: the two smtpd listeners and the services they need."""
		lines = [
		    "127.0.0.1:%d inet n - n - - smtpd" % self.port,
		    "127.0.0.1:%d inet n - n - - smtpd" % self.proxy_port,
		    "  -o smtpd_upstream_proxy_protocol=haproxy",
		    "pickup unix n - n 60 1 pickup",
		    "cleanup unix n - n - 0 cleanup",
		    "qmgr unix n - n 300 1 qmgr",
		    "rewrite unix - - n - - trivial-rewrite",
		    "bounce unix - - n - 0 bounce",
		    "defer unix - - n - 0 bounce",
		    "trace unix - - n - 0 bounce",
		    "verify unix - - n - 1 verify",
		    "flush unix n - n 1000? 0 flush",
		    "proxymap unix - - n - - proxymap",
		    "showq unix n - n - - showq",
		    "error unix - - n - - error",
		    "retry unix - - n - - error",
		    "discard unix - - n - - discard",
		    "virtual unix - n n - - virtual",
		    "anvil unix - - n - 1 anvil",
		    "scache unix - - n - 1 scache",
		    "postlog unix-dgram n - n - 1 postlogd",
		]
		return "\n".join(lines + self.master_extra) + "\n"

	def _run(self, *args, timeout=60):
		"""Run postfix -c ETC ARGS; CompletedProcess."""
		return subprocess.run([tool("postfix"), "-c", self.etc] + list(args),
		    capture_output=True, text=True, timeout=timeout,
		    stdin=subprocess.DEVNULL)

	def write_config(self):
		"""Write main.cf and master.cf from self.main / self.master_extra."""
		with open(os.path.join(self.etc, "main.cf"), "w") as f:
			for k, v in self.main.items():
				f.write("%s = %s\n" % (k, v))
		with open(os.path.join(self.etc, "master.cf"), "w") as f:
			f.write(self._master_cf())

	def master_pid(self):
		"""Pid of the running master, or None."""
		try:
			with open(os.path.join(self.queue, "pid", "master.pid")) as f:
				pid = int(f.read().strip() or 0)
		except (OSError, ValueError):
			return None
		return pid if pid and pid_alive(pid) else None

	def check(self):
		"""postfix check: RigError unless silent and warning-free."""
		since = self.log.mark()
		res = self._run("check")
		warn = self.log.grep(r"warning|fatal|error", since)
		if res.returncode != 0 or res.stdout or res.stderr or warn:
			raise RigError("postfix -c %s check (status %d):\n%s%s%s" %
			    (self.etc, res.returncode, res.stdout, res.stderr,
			    "\n".join(warn)))

	def start(self, timeout=30, new_ports=False):
		"""Write the configuration, check it, start, wait for listeners.

		When new_ports and a listener port was taken meanwhile, choose
		new ones (up to three times).
		"""
		if os.geteuid() != 0:
			raise RigError("the Postfix test instance needs root")
		for attempt in range(3):
			since = self.log.mark()
			try:
				return self._start_once(timeout)
			except RigError:
				self.stop()
				if not new_ports or attempt == 2 or "already in use" \
				    not in self.log.text(since):
					raise
				self.port, self.proxy_port = free_port(), free_port()

	def _start_once(self, timeout):
		self.write_config()
		self.check()
		since = self.log.mark()
		res = self._run("start")
		self.started = True
		if res.returncode != 0:
			raise RigError("postfix -c %s start (status %d):\n%s%s\n%s" %
			    (self.etc, res.returncode, res.stdout, res.stderr,
			    self.log.tail(since)))
		def ready():
			pid = self.master_pid()
			return pid and tcp_listening(pid, self.port) and \
			    tcp_listening(pid, self.proxy_port)
		try:
			wait_until(ready, timeout, "Postfix master listening")
		except RigError as e:
			raise RigError("%s\n%s" % (e, self.log.tail(since)))

	def reload(self, **params):
		"""Change main.cf parameters and postfix reload."""
		self.main.update(params)
		self.write_config()
		since = self.log.mark()
		res = self._run("reload")
		if res.returncode != 0:
			raise RigError("postfix reload: %s%s" % (res.stdout,
			    res.stderr))
		self.log.wait(r"reload -- version", 15, since)

	def stop(self, timeout=20):
		"""postfix stop; wait for the master to go, kill what remains."""
		if not self.started:
			return
		pid = self.master_pid()
		kids = _descendants(pid) if pid else []
		self._run("stop", timeout=timeout)
		if pid:
			try:
				wait_until(lambda: not pid_alive(pid), timeout,
				    "Postfix master to exit")
			except RigError:
				_kill(pid, signal.SIGKILL)
		for kid in kids:
			if pid_alive(kid):
				_kill(kid, signal.SIGKILL)
		self.started = False

	def messages(self):
		"""Delivered messages: list of (path, email.message.Message)."""
		out = []
		new = os.path.join(self.sink, "Maildir", "new")
		try:
			names = sorted(os.listdir(new))
		except FileNotFoundError:
			return out
		for name in names:
			path = os.path.join(new, name)
			with open(path, "rb") as f:
				out.append((path, email.message_from_binary_file(f,
				    policy=email.policy.compat32)))
		return out

	def message(self, queue_id):
		"""The delivered message Postfix queued as queue_id, or None."""
		rx = re.compile(r"\bid %s\b" % re.escape(queue_id))
		for _, msg in self.messages():
			if any(rx.search(h) for h in msg.get_all("Received", [])):
				return msg
		return None

	def wait_delivered(self, queue_id, timeout=20):
		"""Wait until queue_id is delivered to the sink; its Message."""
		check(queue_id, "queue id of the message to wait for", queue_id,
		    "a Postfix queue id")
		self.log.wait(r"\b%s: to=<.*relay=virtual.*status=sent" %
		    re.escape(queue_id), timeout)
		msg = self.message(queue_id)
		check(msg is not None, "message %s in the sink" % queue_id)
		return msg


# ---------------------------------------------------------------- milter

_DECISION_RX = re.compile(r"(?P<queue_id>\S+): action=(?P<action>\S+) "
    r"reason=(?P<reason>\S*) client=(?P<name>[^\s\[]*)\[(?P<addr>[^\]]*)\] "
    r"helo=<(?P<helo>[^>]*)> from=<(?P<from>[^>]*)> to=<(?P<to>[^>]*)> "
    r"stage=(?P<stage>\S+) delay=(?P<delay>[0-9.]+) ?(?P<extra>.*)$")

class Milter(_Daemon):
	"""targrey-milter -f -c CONF, on inet:PORT@127.0.0.1."""

	def __init__(self, workdir, dns_server=None, params=None, binary=None):
		super().__init__("targrey-milter", os.path.join(workdir,
		    "milter.log"))
		self.dir = workdir
		self.binary = binary or os.path.join(BUILDDIR, "src",
		    "targrey-milter")
		self.conf = os.path.join(workdir, "targrey-milter.conf")
		self.port = free_port()
		os.makedirs(os.path.join(workdir, "state"), exist_ok=True)
		os.chmod(workdir, 0o755)
		self.params = {
		    "config_directory": workdir,
		    "milter_socket": "inet:%d@127.0.0.1" % self.port,
		    "pid_file": os.path.join(workdir, "targrey-milter.pid"),
		    "state_directory": os.path.join(workdir, "state"),
		    "trusted_networks": "[::1]/128",
		    "tarpit_delay": "6s",
		    "shutdown_timeout": "5s",
		    "log_level": "1",
		    "syslog_name": "targrey-milter-rig",
		}
		if dns_server:
			self.params["dns_servers"] = dns_server
		if os.geteuid() == 0:
			user, group, uid, gid = _nobody()
			self.params.update(user=user, group=group)
			for d in (workdir, os.path.join(workdir, "state")):
				os.chown(d, uid, gid)
		self.params.update(params or {})

	def write_config(self):
		"""Write self.params as the milter's configuration file."""
		with open(self.conf, "w") as f:
			for k, v in self.params.items():
				f.write("%s = %s\n" % (k, v))
		os.chmod(self.conf, 0o644)

	def start(self, timeout=15, new_port=False):
		"""Start in the foreground; wait until it listens on its port.

		When new_port and the port was taken meanwhile, choose another
		(up to three times; only before Postfix is configured).
		"""
		if not os.access(self.binary, os.X_OK):
			raise RigError("%s not built (TG_BUILDDIR=%s)" %
			    (self.binary, BUILDDIR))
		for attempt in range(3):
			self.write_config()
			since = self.log.mark()
			self._spawn([self.binary, "-f", "-c", self.conf])
			def ready():
				if not self.running():
					raise RigError("targrey-milter exited (status %s):"
					    "\n%s" % (self.proc.returncode,
					    self.log.tail(since)))
				return tcp_listening(self.proc.pid, self.port)
			try:
				wait_until(ready, timeout, "targrey-milter to listen"
				    " on %d" % self.port)
				return
			except RigError:
				_Daemon.stop(self)
				if not new_port or attempt == 2 or "cannot listen" \
				    not in self.log.text(since):
					raise
				self.set_port(free_port())

	def set_port(self, port):
		"""Listen on another port (takes effect at the next start)."""
		self.port = port
		self.params["milter_socket"] = "inet:%d@127.0.0.1" % port

	def stop(self, timeout=15):
		"""SIGTERM; RigError if it was running and did not exit 0, or if
		its log holds a sanitizer report."""
		was_running = self.running()
		status = super().stop(timeout)
		bad = self.log.grep(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
		    r"runtime error: |ThreadSanitizer")
		if bad:
			raise RigError("sanitizer report in %s:\n%s" % (self.log.path,
			    self.log.tail(lines=60)))
		if was_running and status != 0:
			raise RigError("targrey-milter exit status %s on SIGTERM:\n%s"
			    % (status, self.log.tail()))
		return status

	def decisions(self, since=0):
		"""Decision lines (from since) parsed into dicts: queue_id, action,
		reason, name, addr, helo, from, to, stage, delay, extra, line."""
		out = []
		for line in self.log.text(since).splitlines():
			m = _DECISION_RX.search(line)
			if m:
				d = m.groupdict()
				d["line"] = line
				out.append(d)
		return out

	def wait_decision(self, since=0, timeout=10, **want):
		"""Wait for a decision line whose fields equal want (e.g.
		queue_id="ABC", addr="127.0.0.9", action="accept"); its dict."""
		def found():
			for d in self.decisions(since):
				if all(d.get(k) == v for k, v in want.items()):
					return d
			return None
		try:
			return wait_until(found, timeout, "decision %r" % want)
		except RigError as e:
			raise TestFailure("%s\n--- %s (tail) ---\n%s" % (e,
			    self.log.path, self.log.tail(since)))

	def ctl(self, *args, timeout=60, stdin=None):
		"""Run targreyctl -c CONF ARGS as the milter's user; the
		CompletedProcess (text). Running as that user keeps files it
		creates in the state directory usable by the daemon."""
		argv = [os.path.join(os.path.dirname(self.binary), "targreyctl"),
		    "-c", self.conf] + list(args)
		user = self.params.get("user") if os.geteuid() == 0 else None
		kw = {}
		if user:
			pw = pwd.getpwnam(user)
			kw = {"user": pw.pw_uid, "group": pw.pw_gid,
			    "extra_groups": []}
		return subprocess.run(argv, capture_output=True, text=True,
		    timeout=timeout, input=stdin, **kw)

	def reload(self, **params):
		"""Change parameters, rewrite the configuration, send SIGHUP."""
		self.params.update(params)
		self.write_config()
		self.signal(signal.SIGHUP)

	def kill(self, sig=signal.SIGKILL, timeout=10):
		"""Send sig and wait for the exit; the exit status."""
		self.signal(sig)
		return self.wait_exit(timeout)

	def restart(self, sig=signal.SIGTERM):
		"""Stop with sig (SIGTERM or SIGKILL), start again on the same port."""
		if self.running():
			self.kill(sig, 15)
		self.start()


# ---------------------------------------------------------------- clients

_REPLY_RX = re.compile(r"^<[-*~]+\s+(\d{3})([ -])(.*)$")
_QUEUED_RX = re.compile(r"queued as ([0-9A-Za-z]+)")


class SmtpResult:
	"""What swaks did: rc, transcript, replies [(code, text)], queue_id."""

	def __init__(self, rc, transcript):
		self.rc = rc
		self.transcript = transcript
		self.replies = []
		for line in transcript.splitlines():
			m = _REPLY_RX.match(line)
			if m and m.group(2) == " ":
				self.replies.append((int(m.group(1)), m.group(3)))
		m = _QUEUED_RX.search(transcript)
		self.queue_id = m.group(1) if m else None

	def codes(self):
		"""The final reply codes, in order (banner first)."""
		return [c for c, _ in self.replies]

	def __repr__(self):
		return "SmtpResult(rc=%d, replies=%r)" % (self.rc, self.replies)


def swaks(port, source="127.0.0.1", sender="sender@example.com",
    to="rcpt@example.org", helo=None, server="127.0.0.1", timeout=60,
    headers=(), body=None, extra=()):
	"""Send one message with swaks from source; an SmtpResult.

	to may be a list. headers are "Name: value" strings. extra is passed
	to swaks as is (e.g. ["--quit-after", "RCPT"]). timeout bounds the
	whole run (swaks' own per-read timeout is the same).
	"""
	rcpts = to if isinstance(to, str) else ",".join(to)
	argv = [tool("swaks"), "--server", server, "--port", str(port),
	    "--local-interface", source, "--from", sender, "--to", rcpts,
	    "--helo", helo or "client.example.net", "--timeout",
	    "%ds" % timeout, "--hide-informational"]
	for h in headers:
		argv += ["--add-header", h]
	if body is not None:
		argv += ["--body", body]
	argv += list(extra)
	try:
		res = subprocess.run(argv, capture_output=True, text=True,
		    timeout=timeout + 10, stdin=subprocess.DEVNULL)
	except subprocess.TimeoutExpired as e:
		raise RigError("swaks did not finish in %ds: %s" % (timeout + 10,
		    e.stdout))
	return SmtpResult(res.returncode, res.stdout + res.stderr)


class Reply:
	"""One SMTP reply: code (int), lines (texts), text (last line)."""

	def __init__(self, code, lines):
		self.code = code
		self.lines = lines
		self.text = lines[-1] if lines else ""

	def __repr__(self):
		return "Reply(%d, %r)" % (self.code, "|".join(self.lines))


class SmtpClient:
	"""A raw SMTP client: PROXY v1 header, pipelining, FIN or RST hang-up.

	SmtpClient(port, source="127.0.0.9") connects from source; proxy=
	(client_ip, client_port) first sends "PROXY TCP4|TCP6 ..." claiming
	that client (for Postfix's proxy listener). Every read is bounded by
	timeout.
	"""

	def __init__(self, port, source=None, proxy=None, host="127.0.0.1",
	    timeout=30):
		self.timeout = timeout
		self.buf = b""
		self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self.sock.settimeout(timeout)
		if source:
			self.sock.bind((source, 0))
		self.sock.connect((host, port))
		if proxy:
			ip, cport = proxy
			fam = "TCP6" if ipaddress.ip_address(ip).version == 6 \
			    else "TCP4"
			dst = host if fam == "TCP4" else "::1"
			self.send("PROXY %s %s %s %d %d\r\n" % (fam, ip, dst, cport,
			    port))

	@property
	def local(self):
		"""(address, port) of this end of the connection."""
		return self.sock.getsockname()

	def send(self, data):
		"""Send a str or bytes as is (no line ending added)."""
		self.sock.sendall(data.encode() if isinstance(data, str) else data)

	def _line(self, deadline):
		while b"\n" not in self.buf:
			left = deadline - time.monotonic()
			if left <= 0:
				raise socket.timeout("no SMTP reply in %.1fs" %
				    self.timeout)
			self.sock.settimeout(left)
			chunk = self.sock.recv(65536)
			if not chunk:
				raise ConnectionError("connection closed by server"
				    " (pending %r)" % self.buf)
			self.buf += chunk
		line, self.buf = self.buf.split(b"\n", 1)
		return line.rstrip(b"\r").decode("utf-8", "replace")

	def reply(self, timeout=None):
		"""Read one (multi-line) reply; a Reply."""
		deadline = time.monotonic() + (timeout or self.timeout)
		lines = []
		while True:
			line = self._line(deadline)
			if len(line) < 3 or not line[:3].isdigit():
				raise ConnectionError("bad SMTP reply line %r" % line)
			lines.append(line[4:])
			if len(line) == 3 or line[3] == " ":
				return Reply(int(line[:3]), lines)

	def command(self, line, timeout=None):
		"""Send one command line (CRLF added) and read its reply."""
		self.send(line + "\r\n")
		return self.reply(timeout)

	def banner(self, timeout=None):
		"""Read the greeting."""
		return self.reply(timeout)

	def message(self, headers=None, body="test message"):
		"""Message text (CRLF, dot-stuffed, with the final dot)."""
		hdrs = headers or ["Subject: rig test"]
		text = "\r\n".join(hdrs) + "\r\n\r\n" + body.replace("\n", "\r\n")
		lines = ["." + l if l.startswith(".") else l
		    for l in text.split("\r\n")]
		return "\r\n".join(lines) + "\r\n.\r\n"

	def transaction(self, sender, rcpts, helo="client.example.net"):
		"""EHLO, MAIL, RCPT..., DATA, message; list of every Reply.

		Stops at the first reply that is not 2xx/3xx as expected.
		"""
		out = []
		steps = [("EHLO " + helo, 2), ("MAIL FROM:<%s>" % sender, 2)]
		steps += [("RCPT TO:<%s>" % r, 2) for r in rcpts]
		steps += [("DATA", 3)]
		for line, want in steps:
			r = self.command(line)
			out.append(r)
			if r.code // 100 != want:
				return out
		self.send(self.message())
		out.append(self.reply())
		return out

	def closed(self, timeout=5):
		"""True when the server closes the connection within timeout."""
		self.sock.settimeout(timeout)
		try:
			while True:
				chunk = self.sock.recv(65536)
				if not chunk:
					return True
				self.buf += chunk
		except (socket.timeout, ConnectionResetError):
			return False

	def close(self):
		"""Hang up with FIN (orderly close)."""
		try:
			self.sock.close()
		except OSError:
			pass

	def reset(self):
		"""Hang up with RST (SO_LINGER 0)."""
		try:
			self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
			    b"\x01\x00\x00\x00\x00\x00\x00\x00")
			self.sock.close()
		except OSError:
			pass

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()


# ---------------------------------------------------------------- rig

_live = []
RIG_PREFIX = "/tmp/tg-rig-"


def _start_time(pid):
	"""Start time of pid (clock ticks since boot), or None."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			stat = f.read()
	except OSError:
		return None
	return stat[stat.rfind(")") + 2:].split()[19]


def _pid_in(path, pidfile, by_cwd):
	"""The pid in pidfile if that process still belongs to path: its
	working directory (by_cwd) or its command line lies there."""
	try:
		with open(pidfile) as f:
			pid = int(f.read().split()[0])
		if by_cwd:
			where = os.readlink("/proc/%d/cwd" % pid)
		else:
			with open("/proc/%d/cmdline" % pid, "rb") as f:
				where = f.read().decode("utf-8", "replace")
	except (OSError, ValueError, IndexError):
		return None
	return pid if path + "/" in where + "/" else None


def reap_stale():
	"""Stop what rigs of dead test processes left, remove their dirs.

	Only processes proven to belong to such a directory are signalled:
	a Postfix master whose working directory is in it, an nsd or a
	milter whose pid file is there and whose command line names it.
	"""
	import glob
	for path in glob.glob(RIG_PREFIX + "*"):
		try:
			with open(os.path.join(path, "owner")) as f:
				pid, started = f.read().split()
		except (OSError, ValueError):
			continue
		if _start_time(int(pid)) == started:
			continue	# its test still runs
		for pidfile, by_cwd in (("postfix/queue/pid/master.pid", True),
		    ("dns/nsd.pid", False), ("milter/targrey-milter.pid", False)):
			victim = _pid_in(path, os.path.join(path, pidfile), by_cwd)
			if victim:
				for p in [victim] + _descendants(victim):
					_kill(p, signal.SIGKILL)
		shutil.rmtree(path, ignore_errors=True)


class Rig:
	"""Dns + Milter + Postfix in one temporary directory.

	Rig(milter=True, domains=("example.org",), milter_params={},
	postfix_params={}) creates the directory and chooses the ports;
	add zones to r.dns, then r.start(). Use as a context manager (or
	call stop()); main() does both.
	"""

	def __init__(self, milter=True, domains=("example.org",),
	    milter_params=None, postfix_params=None, milter_port=None):
		for name in ("postfix", "postconf", "nsd", "nsd-checkconf", "swaks"):
			tool(name)
		reap_stale()
		self.dir = tempfile.mkdtemp(prefix=os.path.basename(RIG_PREFIX),
		    dir=os.path.dirname(RIG_PREFIX))
		os.chmod(self.dir, 0o755)
		with open(os.path.join(self.dir, "owner"), "w") as f:
			f.write("%d %s\n" % (os.getpid(), _start_time(os.getpid())))
		_live.append(self)
		self.dns = Dns(os.path.join(self.dir, "dns"))
		self.milter = Milter(os.path.join(self.dir, "milter"),
		    self.dns.server, milter_params) if milter else None
		port = self.milter.port if self.milter else milter_port
		self.postfix = Postfix(os.path.join(self.dir, "postfix"), port,
		    domains, postfix_params)

	def start(self):
		"""Start nsd, the milter (if any), then Postfix. A port another
		test took meanwhile is replaced and the others told of it."""
		self.dns.start(new_port=True)
		if self.milter:
			self.milter.params["dns_servers"] = self.dns.server
			self.milter.start(new_port=True)
			self.postfix.main["smtpd_milters"] = "inet:127.0.0.1:%d" % \
			    self.milter.port
		self.postfix.start(new_ports=True)

	def stop(self):
		"""Stop everything started and remove the directory."""
		sigs = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
		    signal.SIGALRM}
		old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
		try:
			self._stop_parts()
		finally:
			signal.pthread_sigmask(signal.SIG_SETMASK, old)

	def _stop_parts(self):
		errors = []
		for part in (self.postfix, self.milter, self.dns):
			if part is None:
				continue
			try:
				part.stop()
			except Exception as e:	# keep stopping the others
				errors.append("%s: %s" % (type(part).__name__, e))
		if self in _live:
			_live.remove(self)
		if os.environ.get("TG_RIG_KEEP"):
			print("rig: kept %s" % self.dir, file=sys.stderr)
		else:
			shutil.rmtree(self.dir, ignore_errors=True)
		if errors:
			raise RigError("; ".join(errors))

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.stop()

	def swaks(self, **kw):
		"""swaks() against the plain smtpd listener."""
		return swaks(self.postfix.port, **kw)

	def smtp(self, source=None, proxy=None, timeout=30):
		"""SmtpClient to smtpd, or to the PROXY listener when proxy given."""
		port = self.postfix.proxy_port if proxy else self.postfix.port
		return SmtpClient(port, source=source, proxy=proxy,
		    timeout=timeout)

	def logs(self, lines=60):
		"""Tails of every log, for failure reports."""
		out = []
		parts = [("maillog", self.postfix.log), ("nsd", self.dns.log)]
		if self.milter:
			parts.insert(0, ("milter", self.milter.log))
		for name, log in parts:
			out.append("--- %s: %s ---\n%s" % (name, log.path,
			    log.tail(lines=lines)))
		return "\n".join(out)


def _stop_all():
	"""atexit: stop any rig still running."""
	for r in list(_live):
		try:
			r.stop()
		except Exception as e:
			print("rig: cleanup: %s" % e, file=sys.stderr)


def _on_signal(signum, frame):
	raise RigInterrupted("signal %d (%s)" % (signum,
	    signal.Signals(signum).name))


atexit.register(_stop_all)


def main(test, timeout=300, **rig_kwargs):
	"""Run test(rig) in a fresh Rig; exit 0 on pass, 1 on failure.

	A watchdog alarm ends the test after timeout seconds; SIGTERM,
	SIGINT and SIGHUP end it too; everything is stopped either way. On
	failure the reason and the tails of all logs are printed.
	"""
	for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
	    signal.SIGALRM):
		signal.signal(sig, _on_signal)
	signal.alarm(timeout)
	name = os.path.basename(sys.argv[0])
	status = 1
	r = None
	try:
		r = Rig(**rig_kwargs)
		with r:
			try:
				test(r)
				status = 0
			except (Exception, RigInterrupted):
				traceback.print_exc()
				print(r.logs())
	except (Exception, RigInterrupted):
		traceback.print_exc()
		status = 1
	finally:
		signal.alarm(0)
	print("%s: %s" % (name, "PASS" if status == 0 else "FAIL"))
	sys.stdout.flush()
	sys.exit(status)
