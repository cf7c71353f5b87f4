#!/usr/bin/env python3
"""
NAME
    t_unix_socket - Postfix's smtpd, running as postfix, uses the milter
    over a unix socket when milter_socket_group names Postfix's group
DESCRIPTION
    The rig's nsd and Postfix (smtpd as the unprivileged mail_owner
    postfix, which Postfix leaves with no supplementary groups) and a
    targrey-milter started here as root on unix:DIR/milter.sock, dropping
    to nobody, dry_run = yes (no tarpit for loopback test clients):
      1. without milter_socket_group the socket is nobody:nogroup 0660
         and smtpd cannot connect: "Permission denied" in the maillog,
         the message gets 451 4.7.1 (milter_default_action = tempfail) -
         the problem the parameter solves;
      2. with milter_socket_group = postfix the socket is nobody:postfix
         0660, the message is queued and the milter logs its decision.
    The milter is stopped after each part, whatever happens.
DIAGNOSTICS
    Exit 0 when all holds, 1 with "got X, want Y" and the logs' tails.
"""
import grp
import os
import pwd
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check, wait_until, BUILDDIR


def run_milter(r, sock, group):
    """Start the build's milter on unix:SOCK; returns (process, log path)."""
    d = os.path.join(r.dir, "umilter")
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    user, ugroup, uid, gid = rig.unprivileged_user()
    for p in (d, os.path.join(d, "state")):
        os.chown(p, uid, gid)
    os.chmod(d, 0o755)
    conf = os.path.join(d, "milter.conf")
    with open(conf, "w") as f:
        f.write("milter_socket = unix:%s\n" % sock)
        f.write("milter_socket_group = %s\n" % group)
        f.write("pid_file = %s/milter.pid\nstate_directory = %s/state\n" % (d, d))
        f.write("user = %s\ngroup = %s\n" % (user, ugroup))
        f.write("trusted_networks =\ndry_run = yes\ns25r_builtin_rules = no\n")
        f.write("s25r_reverse_lookup = no\ndns_servers = %s\n" % r.dns.server)
    log = os.path.join(d, "milter-%s.log" % (group or "default"))
    if os.path.exists(sock):
        os.unlink(sock)
    with open(log, "w") as out:
        p = subprocess.Popen([os.path.join(BUILDDIR, "src", "targrey-milter"),
            "-f", "-c", conf], stdout=out, stderr=subprocess.STDOUT)
    wait_until(lambda: "starting targrey-milter" in open(log).read()
        or p.poll() is not None, 15, "the milter to listen on %s" % sock)
    check(p.poll() is None, "milter running", p.poll(), None, open(log).read())
    return p, log


def stop_milter(p):
    p.terminate()
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def socket_owner(sock):
    st = os.stat(sock)
    return "%s:%s %o" % (pwd.getpwuid(st.st_uid).pw_name,
        grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode))


def main(r):
    sock = os.path.join(r.dir, "milter.sock")
    r.postfix.main["smtpd_milters"] = "unix:%s" % sock
    r.dns.add_host("mail10.example.com", "127.0.0.10")
    r.start()
    user = rig.unprivileged_user()[0]

    p, log = run_milter(r, sock, "")
    try:
        check(socket_owner(sock) == "%s:%s 660" % (user, rig.unprivileged_user()[1]),
            "socket without milter_socket_group", socket_owner(sock), "nobody's group")
        since = r.postfix.log.mark()
        res = r.swaks(source="127.0.0.10", sender="alice@example.com",
            to="bob@example.org", helo="mail10.example.com")
        check(res.queue_id is None, "queued without access to the socket",
            res.queue_id, None, res.transcript)
        check("451 4.7.1" in res.transcript, "tempfail without access",
            "", "451 4.7.1", res.transcript)
        r.postfix.log.wait(r"connect to Milter service unix:%s: Permission denied"
            % sock, 10, since)
    finally:
        stop_milter(p)
    print("ok - without milter_socket_group smtpd gets Permission denied")

    p, log = run_milter(r, sock, "postfix")
    try:
        check(socket_owner(sock) == "%s:postfix 660" % user,
            "socket with milter_socket_group = postfix", socket_owner(sock),
            "%s:postfix 660" % user)
        res = r.swaks(source="127.0.0.10", sender="alice@example.com",
            to="bob@example.org", helo="mail10.example.com")
        check(res.rc == 0 and res.queue_id, "swaks through the unix socket",
            res.rc, 0, res.transcript)
        found = wait_until(lambda: "%s: action=" % res.queue_id in open(log).read(),
            10, "the milter's decision for %s" % res.queue_id)
        check(found, "decision logged")
    finally:
        stop_milter(p)
    print("ok - with milter_socket_group = postfix smtpd uses the unix socket")


rig.main(main, timeout=120, milter=False)
