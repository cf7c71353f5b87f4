"""
NAME
	rig_redis - private redis-server and redis-sentinel processes for tests
DESCRIPTION
	Redis(directory, args=()) picks a free loopback port; start() runs
	redis-server on it (own directory, no persistence, 127.0.0.1 only,
	extra ARGS such as ("--replicaof", "127.0.0.1", "6379")) and waits
	until it answers; stop() kills it; start() again reuses the port.
	Sentinel(directory, master_port, name) does the same for
	redis-sentinel watching the master at master_port with quorum 1
	(or quorum=N), down-after 1000 ms. cli(port, *args, auth=None) runs
	redis-cli and returns its output. load_tarpit_failed(r, ips),
	with_redis(test), with_sentinels(test), until_greylisted(r, ip,
	limit) and MILTER_PARAMS
	are what the Redis tests share.
	rig.hang_up_in_tarpit() and rig.attempt() drive one SMTP session
	at a rig, as the two-MX tests need them.
"""
import os
import socket
import subprocess
import time

from rig_base import RigError
from rig import GREYLISTED, RCPT, check



def free_port():
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def cli(port, *args, auth=None):
	"""redis-cli -p PORT ARGS (as auth = (user, password) when given)."""
	who = ["--user", auth[0], "--pass", auth[1], "--no-auth-warning"] if auth else []
	out = subprocess.run(["redis-cli", "-p", str(port)] + who + list(args),
	    capture_output=True, text=True, timeout=10)
	return out.stdout.strip()


class Redis:
	"""A private redis-server."""
	program = "redis-server"

	def __init__(self, directory, args=(), auth=None):
		self.dir = directory
		os.makedirs(directory, exist_ok=True)
		self.port = free_port()
		self.args = list(args)
		self.auth = auth	# (user, password) for cli() when default is off
		self.proc = None

	def argv(self):
		return [self.program, "--port", str(self.port), "--bind", "127.0.0.1",
		    "--dir", self.dir, "--save", "", "--appendonly", "no",
		    "--daemonize", "no"] + self.args

	def start(self):
		self.proc = subprocess.Popen(self.argv(),
		    stdout=open(os.path.join(self.dir, "log"), "a"),
		    stderr=subprocess.STDOUT)
		for _ in range(100):
			if cli(self.port, "ping", auth=self.auth) == "PONG":
				return
			time.sleep(0.1)
		raise RigError("%s on %d did not start" % (self.program, self.port))

	def stop(self):
		if self.proc and self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait(10)
		self.proc = None


class Sentinel(Redis):
	"""redis-sentinel watching one master (quorum 1)."""
	program = "redis-sentinel"

	def __init__(self, directory, master_port, name="mymaster", quorum=1):
		Redis.__init__(self, directory)
		self.conf = os.path.join(directory, "sentinel.conf")
		with open(self.conf, "w") as f:
			f.write("port %d\nbind 127.0.0.1\ndir %s\n"
			    "sentinel monitor %s 127.0.0.1 %d %d\n"
			    "sentinel down-after-milliseconds %s 1000\n"
			    "sentinel failover-timeout %s 5000\n"
			    % (self.port, directory, name, master_port, quorum, name, name))

	def argv(self):
		return [self.program, self.conf]


# Milter parameters the Redis tests share; each adds its own.
MILTER_PARAMS = {
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_timeout": "500ms",
}


def load_tarpit_failed(r, ips):
	"""targreyctl load at rig r: each of ips failed a tarpit just now, so
	a working store greylists its next session at once."""
	now = int(time.time())
	dump = "# targrey-milter dump 1\n" + "".join(
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (ip, now, now) for ip in ips)
	out = r.milter.ctl("load", "-", stdin=dump)
	check(out.returncode == 0, "targreyctl load", out.returncode, 0, out.stdout + out.stderr)


def with_redis(test, args=(), auth=None):
	"""A rig test function: starts a Redis (args, auth as Redis()), points
	the milter's redis_server at it, runs test(r, redis), stops it."""
	def run(r):
		redis = Redis(os.path.join(r.dir, "redis"), args, auth)
		redis.start()
		try:
			r.milter.params["redis_server"] = "127.0.0.1:%d" % redis.port
			test(r, redis)
		finally:
			redis.stop()
	return run


def until_greylisted(r, ip, limit, sender="s@example.com", each=None):
	"""Sessions from ip at rig r one after the other, each accepted, until
	one is greylisted, for at most limit seconds (each() after every
	session); (seconds taken, sessions, log mark before the last)."""
	start = time.monotonic()
	n = 0
	while True:
		n += 1
		since = r.milter.log.mark()
		res = r.swaks(source=ip, sender=sender, to=RCPT, helo="client.example.com",
		    timeout=30)
		if each:
			each()
		if GREYLISTED in res.replies:
			return time.monotonic() - start, n, since
		check(res.rc == 0, "session %d from %s, before greylisting again" % (n, ip),
		    res.rc, 0, res.transcript)
		check(time.monotonic() - start < limit, "greylisting again", "not yet",
		    "within %d s" % limit, r.logs())
		time.sleep(0.2)


def with_sentinels(test, count=1, quorum=1, down=0):
	"""A rig test function: a master, its replica and count sentinels, the
	last down of them never started but listed first in the milter's
	redis_sentinels; runs test(r, master, replica, sentinels), stops all."""
	def run(r):
		base = os.path.join(r.dir, "redis")
		master = Redis(os.path.join(base, "master"))
		replica = Redis(os.path.join(base, "replica"), ("--replicaof", "127.0.0.1",
		    str(master.port)))
		sentinels = [Sentinel(os.path.join(base, "sentinel%d" % i), master.port,
		    quorum=quorum) for i in range(count)]
		up = sentinels[:count - down]
		try:
			for p in [master, replica] + up:
				p.start()
			r.milter.params["redis_sentinels"] = ", ".join("127.0.0.1:%d" % s.port
			    for s in sentinels[count - down:] + up)
			test(r, master, replica, sentinels)
		finally:
			for p in up + [replica, master]:
				p.stop()
	return run
