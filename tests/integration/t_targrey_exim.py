#!/usr/bin/env python3
"""
NAME
	t_targrey_exim - Debian 12's real Exim 4.96 as the sending MTA
	through the tarpit (CHUNKING: BDAT, then a half-close)
DESCRIPTION
	Needs Debian's exim4-daemon-light, exim4-base and libidn12 packages
	as .deb files in $TG_EXIM_DEBS (default: exim-debs in the build
	directory's tests/integration), e.g. fetched with
	"apt-get download exim4-daemon-light exim4-base libidn12". Exim is
	not installed (it conflicts with Postfix): the packages are unpacked
	with dpkg -x into the rig directory and Exim runs from there with its
	own configuration (-C), in a private mount namespace (unshare -m)
	where /etc/passwd and /etc/group have the Debian-exim user it was
	built for, /usr/sbin is the unpacked one (Exim re-executes
	/usr/sbin/exim4 for each delivery) and the system's library
	directory is overlaid with the unpacked libidn12 (read-only
	overlayfs). Without the .debs the test is skipped (exit 77); the
	Python client that does what Exim does is t_targrey_pipeline's exim
	case, which always runs.

	Exim (-odf, foreground delivery) sends one message from 127.0.0.81
	(an S25R-like name) to the rig's Postfix, which offers CHUNKING:
	Exim writes MAIL, RCPT, BDAT LAST, the body and QUIT, half-closes,
	and reads the replies. tarpit_delay = 4s. Asserted: Exim delivers
	(its log says Completed, Postfix's sink has the message), the
	tarpit line says half_closed, the eom line tg=tarpit_passed, and
	127.0.0.81 is not listed as tarpit-failed.
"""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

DEBS = os.environ.get("TG_EXIM_DEBS") or os.path.join(rig.BUILDDIR, "tests",
    "integration", "exim-debs")
WANT = ("exim4-daemon-light_*.deb", "exim4-base_*.deb", "libidn12_*.deb")
IP = "127.0.0.81"

CONF = """primary_hostname = dyn-127-0-0-81.pool.example.net
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
keep_environment =
begin routers
rig:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = rig_smtp
begin transports
rig_smtp:
  driver = smtp
  port = {port}
  interface = {ip}
  allow_localhost
  hosts_avoid_tls = *
  hosts_try_chunking = *
begin retry
* * F,1m,1m
"""


def debs():
	"""The three .debs, or None when one is missing."""
	found = [sorted(glob.glob(os.path.join(DEBS, w))) for w in WANT]
	return [f[-1] for f in found] if all(found) else None


def unpack(r, files):
	"""dpkg -x into the rig; the Exim directory."""
	d = os.path.join(r.dir, "exim")
	os.makedirs(os.path.join(d, "root"))
	for f in files:
		subprocess.run(["dpkg", "-x", f, os.path.join(d, "root")], check=True,
		    timeout=60)
	for sub in ("spool", "log"):
		os.makedirs(os.path.join(d, sub), exist_ok=True)
		os.chown(os.path.join(d, sub), 65534, 65534)
	for name, extra in (("passwd", "Debian-exim:x:65534:65534::/nonexistent:"
	    "/usr/sbin/nologin\n"), ("group", "Debian-exim:x:65534:\n")):
		with open("/etc/" + name) as f, open(os.path.join(d, name), "w") as g:
			g.write(f.read() + extra)
	with open(os.path.join(d, "exim.conf"), "w") as f:
		f.write(CONF.format(dir=d, port=r.postfix.port, ip=IP))
	return d


def send(d):
	"""Run Exim once in the foreground; CompletedProcess."""
	lib = "/usr/lib/x86_64-linux-gnu"
	script = ("mount -t overlay overlay -o lowerdir={lib}:{d}/root{lib} {lib} && "
	    "mount --bind {d}/passwd /etc/passwd && "
	    "mount --bind {d}/group /etc/group && "
	    "mount --bind {d}/root/usr/sbin /usr/sbin && "
	    "exec /usr/sbin/exim4 -C {d}/exim.conf "
	    "-odf -f alice@example.com bob@example.org").format(d=d, lib=lib)
	msg = "Subject: exim through the tarpit\n\nhello from exim\n"
	return subprocess.run(["unshare", "-m", "sh", "-c", script], input=msg,
	    capture_output=True, text=True, timeout=90)


def main(r):
	r.dns.add_host("dyn-127-0-0-81.pool.example.net", IP)
	r.start()
	d = unpack(r, debs())
	since = r.milter.log.mark()
	res = send(d)
	log = open(os.path.join(d, "log", "mainlog")).read() if os.path.exists(
	    os.path.join(d, "log", "mainlog")) else ""
	check(res.returncode == 0 and "Completed" in log, "Exim's delivery",
	    (res.returncode, res.stderr, log), "status 0, Completed in its log")
	m = re.search(r"C=\"250 [0-9.]+ Ok: .*queued as ([0-9A-F]+)\"", log)
	check(m is not None, "Postfix's queue id in Exim's log", log, "C=\"250 ... queued as ID\"")
	check("K" in log.split("=>", 1)[1].split("\n", 1)[0] if "=>" in log else False,
	    "Exim used CHUNKING (K in its delivery line)", log, "=> ... K")
	r.postfix.wait_delivered(m.group(1))
	t = r.milter.wait_decision(since, addr=IP, action="tarpit")
	check(t["reason"] == "half_closed", "tarpit outcome for Exim", t["reason"],
	    "half_closed", t["line"])
	e = r.milter.wait_decision(since, addr=IP, stage="eom")
	check("tg=tarpit_passed" in e["extra"], "eom line", e["line"], "tg=tarpit_passed")
	out = r.milter.ctl("list", "tarpit")
	check(IP not in out.stdout, "Exim not tarpit-failed", out.stdout, "no " + IP)
	print("ok - Exim 4.96 with CHUNKING passes the tarpit: %s" % t["extra"])


if debs() is None:
	print("SKIP: no %s in %s (apt-get download exim4-daemon-light exim4-base"
	    " libidn12)" % (", ".join(WANT), DEBS))
	sys.exit(77)
rig.main(main, timeout=180, milter_params={
	"log_level": "2", "tarpit_delay": "4s", "tarpit_poll_interval": "250ms",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes"})
