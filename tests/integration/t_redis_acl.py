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
	("new"), the retry after greylist_delay passes (pass_triplet) and
	is delivered, a new triplet of that client passes as pass_awl;
	targreyctl show, dump, stats (the counters the milter adds every
	second), whitelist add, delete. Redis's ACL LOG stays empty (no
	command refused) and no milter or Postfix log line, nor any
	targreyctl output, contains the password.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig_base import wait_until
from rig import RCPT, attempt, check
from rig_redis import MILTER_PARAMS, cli, load_tarpit_failed, with_redis

IP = "127.0.0.55"
PASSWORD = "acl-Secret-5150"
ADMIN = "admin-Secret-0451"
DELAY = 3
ACL_COMMANDS = ("+get +set +del +mget +incr +scan +evalsha +eval +script|load +select +role"
    " +hget +hset +hsetnx +hincrby +hgetall +hdel +pexpireat")
DOC = os.path.join(os.environ.get("TG_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "docs", "several-mx.md")


def ctl(r, *args, stdin=None):
	out = r.milter.ctl(*args, stdin=stdin)
	check(out.returncode == 0, "targreyctl %s as the ACL user" % args[0], out.returncode, 0,
	    out.stdout + out.stderr)
	check(PASSWORD not in out.stdout + out.stderr, "targreyctl %s output" % args[0])
	return out.stdout


def end_to_end(r):
	load_tarpit_failed(r, [IP])
	attempt(r, IP, "erin@example.com", "new")
	first = time.monotonic()
	time.sleep(max(0, first + DELAY + 0.5 - time.monotonic()))
	attempt(r, IP, "erin@example.com", None, "pass_triplet")
	attempt(r, IP, "frank@example.com", None, "pass_awl")
	check(IP in ctl(r, "show", IP), "targreyctl show")
	check("erin@example.com" in ctl(r, "dump"), "targreyctl dump has the triplet")
	wait_until(lambda: re.search(r"pass_triplet=[1-9]", ctl(r, "stats")), 10,
	    "the milter's counters in targreyctl stats")
	ctl(r, "whitelist", "add", "192.0.2.0/24")
	check("192.0.2.0/24" in ctl(r, "whitelist", "list"), "whitelist add")
	ctl(r, "delete", IP)
	r.milter.restart()
	report = ctl(r, "report", "--lang", "en")
	check(re.search(r"accepted\s+[1-9]", report), "targreyctl report after the milter's last flush",
	    report, "accepted N > 0")


def main(r, redis):
	for ip in (IP, "127.0.0.56"):
		r.dns.add_host("dyn-%s.pool.example.net" % ip.replace(".", "-"), ip)
	with open(DOC) as f:
		check(ACL_COMMANDS in f.read(), "docs/several-mx.md lists the ACL commands",
		    None, ACL_COMMANDS)
	r.start()
	since = r.milter.log.mark()
	end_to_end(r)
	log = cli(redis.port, "acl", "log", auth=redis.auth)
	check(log == "", "ACL LOG (commands refused to the user)", log, "empty")
	said = r.milter.log.grep(r"redis: |hourly counters", since)
	check(said == [], "no redis or report error logged", said)
	print("ok - ACL user with %s: decisions, counters and targreyctl work" % ACL_COMMANDS)
	wrong_password(r, redis)
	text = r.milter.log.text(0) + r.postfix.log.text(0)
	check(PASSWORD not in text, "no log line has the password")


def wrong_password(r, redis):
	"""The user's password changed on the server and its connections
	closed: the milter's AUTH fails, the mail is accepted, the log says so."""
	check(cli(redis.port, "acl", "setuser", "targrey", "resetpass", ">other-" + PASSWORD,
	    auth=redis.auth) == "OK", "ACL SETUSER (new password)")
	cli(redis.port, "client", "kill", "user", "targrey", auth=redis.auth)
	since = r.milter.log.mark()
	ip = "127.0.0.56"
	res = r.swaks(source=ip, sender="gina@example.com", to=RCPT,
	    helo="client.example.com", timeout=30)
	check(res.rc == 0, "mail with the wrong password", res.rc, 0, res.transcript)
	d = r.milter.wait_decision(since, addr=ip, stage="rcpt")
	check(d["reason"] == "store_unavailable", "decision with the wrong password",
	    d["line"], "accept store_unavailable")
	said = r.milter.log.wait(r"redis: 127\.0\.0\.1:%d: AUTH failed \(WRONGPASS" % redis.port,
	    10, since)
	print("ok - wrong password: mail accepted, logged without the secret: %s" % said)


ACL = ["--user", "default", "off",
    "--user", "admin", "on", ">" + ADMIN, "~*", "&*", "+@all",
    "--user", "targrey", "on", ">" + PASSWORD, "~acl:*", "resetchannels", "-@all"] \
    + ACL_COMMANDS.split()
rig.main(with_redis(main, ACL, ("admin", ADMIN)), timeout=180,
    milter_params=dict(MILTER_PARAMS,
	greylist_delay="%ds" % DELAY, greylist_retry_count="1", auto_whitelist_clients="1",
	redis_key_prefix="acl:", redis_username="targrey", redis_password=PASSWORD))
