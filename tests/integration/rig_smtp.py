"""
NAME
	rig_smtp - SMTP clients: swaks(1) and a raw socket client
DESCRIPTION
	Part of the integration rig; see rig.py.
"""

import ipaddress
import re
import socket
import subprocess
import time

from rig_base import RigError, tool


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
