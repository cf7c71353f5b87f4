"""
NAME
	rig_milter - targrey-milter under test, with its log and targreyctl
DESCRIPTION
	Part of the integration rig; see rig.py.
"""

import os
import pwd
import re
import signal
import subprocess

from rig_base import (BUILDDIR, RigError, TestFailure, _Daemon, unprivileged_user,
    free_port, tcp_listening, wait_until)


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
			user, group, uid, gid = unprivileged_user()
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
