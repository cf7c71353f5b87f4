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
	(or quorum=N), down-after 1000 ms. cli(port, *args) runs redis-cli and returns its
	output. hang_up_in_tarpit() (and rig.attempt()) drive one SMTP session
	at a rig, as the two-MX tests need them.
"""
import os
import re
import socket
import subprocess
import time

from rig_base import RigError
from rig import RCPT, check



def free_port():
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def cli(port, *args):
	out = subprocess.run(["redis-cli", "-p", str(port)] + list(args),
	    capture_output=True, text=True, timeout=10)
	return out.stdout.strip()


class Redis:
	"""A private redis-server."""
	program = "redis-server"

	def __init__(self, directory, args=()):
		self.dir = directory
		os.makedirs(directory, exist_ok=True)
		self.port = free_port()
		self.args = list(args)
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
			if cli(self.port, "ping") == "PONG":
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


def hang_up_in_tarpit(r, ip):
	"""Reset the connection 0.5 s into its tarpit at rig r."""
	since = r.milter.log.mark()
	c = r.smtp(source=ip)
	check(c.banner().code == 220, "banner")
	check(c.command("EHLO client.example.com").code == 250, "EHLO")
	check(c.command("MAIL FROM:<alice@example.com>").code == 250, "MAIL")
	c.send("RCPT TO:<%s>\r\n" % RCPT)
	r.milter.log.wait(r"tarpit: start client=\[%s\]" % re.escape(ip), 60, since)
	time.sleep(0.5)
	c.reset()
	d = r.milter.wait_decision(since, addr=ip, action="tarpit")
	check(d["reason"] == "lost_connection", "tarpit outcome after RST",
	    d["reason"], "lost_connection", d["line"])
