#!/usr/bin/env python3
"""
NAME
	t_redis_acl - the milter and targreyctl work as a Redis ACL user
	allowed only the commands docs/several-mx.md lists
DESCRIPTION
	A private redis-server whose default user is off; user "targrey" may
	run exactly ACL_COMMANDS on keys acl:* (the list in
	docs/several-mx.md; the test checks the two agree), user "admin"
	(for the test only) everything. The milter and targreyctl have
	redis_username = targrey and its password. End to end through
	Postfix: targreyctl load (a tarpit-failed client), a greylisting
	("new"), the retry after greylist_delay passes (pass-triplet) and
	is delivered, a new triplet of that client passes as pass-awl;
	targreyctl show, dump, stats (the counters the milter adds every
	second), whitelist add, delete. Redis's ACL LOG stays empty (no
	command refused) and no milter or Postfix log line, nor any
	targreyctl output, contains the password.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig_base import wait_until
from rig import RCPT, attempt, check
from rig_redis import Redis

IP = "127.0.0.55"
PASSWORD = "acl-Secret-5150"
ADMIN = "admin-Secret-0451"
DELAY = 3
ACL_COMMANDS = "+get +set +del +mget +incr +scan +evalsha +eval +script|load +select +role"
DOC = os.path.join(os.environ.get("TG_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "docs", "several-mx.md")


def admin(redis, *args):
	out = subprocess.run(["redis-cli", "-p", str(redis.port), "--user", "admin",
	    "--pass", ADMIN, "--no-auth-warning"] + list(args),
	    capture_output=True, text=True, timeout=10)
	return out.stdout.strip()


def ctl(r, *args, stdin=None):
	out = r.milter.ctl(*args, stdin=stdin)
	check(out.returncode == 0, "targreyctl %s as the ACL user" % args[0], out.returncode, 0,
	    out.stdout + out.stderr)
	check(PASSWORD not in out.stdout + out.stderr, "targreyctl %s output" % args[0])
	return out.stdout


def end_to_end(r):
	now = int(time.time())
	ctl(r, "load", "-", stdin="# targrey-milter dump 1\n"
	    "tarpit\t%s\tfirst=%d last=%d count=1\n" % (IP, now, now))
	attempt(r, IP, "erin@example.com", "new")
	first = time.monotonic()
	time.sleep(max(0, first + DELAY + 0.5 - time.monotonic()))
	attempt(r, IP, "erin@example.com", None, "pass-triplet")
	attempt(r, IP, "frank@example.com", None, "pass-awl")
	check(IP in ctl(r, "show", IP), "targreyctl show")
	check("erin@example.com" in ctl(r, "dump"), "targreyctl dump has the triplet")
	wait_until(lambda: re.search(r"pass-triplet=[1-9]", ctl(r, "stats")), 10,
	    "the milter's counters in targreyctl stats")
	ctl(r, "whitelist", "add", "192.0.2.0/24")
	check("192.0.2.0/24" in ctl(r, "whitelist", "list"), "whitelist add")
	ctl(r, "delete", IP)


def main(r, redis):
	r.dns.add_host("dyn-127-0-0-55.pool.example.net", IP)
	with open(DOC) as f:
		check(ACL_COMMANDS in f.read(), "docs/several-mx.md lists the ACL commands",
		    None, ACL_COMMANDS)
	r.start()
	since = r.milter.log.mark()
	end_to_end(r)
	log = admin(redis, "acl", "log")
	check(log == "", "ACL LOG (commands refused to the user)", log, "empty")
	text = r.milter.log.text(0) + r.postfix.log.text(0)
	check(PASSWORD not in text, "no log line has the password")
	check(r.milter.log.grep(r"redis: ", since) == [], "no redis error logged",
	    r.milter.log.grep(r"redis: ", since))
	print("ok - ACL user with %s: decisions, counters and targreyctl work" % ACL_COMMANDS)


def run(r):
	redis = Redis(os.path.join(r.dir, "redis"), ["--user", "default", "off",
	    "--user", "admin", "on", ">" + ADMIN, "~*", "&*", "+@all",
	    "--user", "targrey", "on", ">" + PASSWORD, "~acl:*", "resetchannels", "-@all"]
	    + ACL_COMMANDS.split())
	redis.start = lambda: start_with_auth(redis)
	redis.start()
	try:
		r.milter.params["redis_server"] = "127.0.0.1:%d" % redis.port
		main(r, redis)
	finally:
		redis.stop()


def start_with_auth(redis):
	"""Redis.start(), waiting with the admin user (default is off)."""
	redis.proc = subprocess.Popen(redis.argv(),
	    stdout=open(os.path.join(redis.dir, "log"), "a"), stderr=subprocess.STDOUT)
	wait_until(lambda: admin(redis, "ping") == "PONG", 10, "redis-server with ACL users")


rig.main(run, timeout=180, milter_params={
	"log_level": "2",
	"tarpit_delay": "3s", "tarpit_poll_interval": "250ms",
	"greylist_delay": "%ds" % DELAY, "greylist_retry_count": "1",
	"auto_whitelist_clients": "1",
	"greylist_ipv4_prefix": "32", "s25r_reverse_lookup": "yes",
	"state_backend": "redis", "redis_key_prefix": "acl:", "redis_timeout": "500ms",
	"redis_username": "targrey", "redis_password": PASSWORD})
