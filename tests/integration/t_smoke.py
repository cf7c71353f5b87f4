#!/usr/bin/env python3
"""
NAME
    t_smoke - mail flows through Postfix and targrey-milter end to end
DESCRIPTION
    With the rig's Postfix (smtpd_milters = the milter under test,
    milter_default_action = tempfail), nsd and targrey-milter:
    a message from a clean client (127.0.0.10, forward-confirmed name in
    the test DNS) is delivered to the sink and the milter logs exactly
    one decision line for its queue id; clients behind the PROXY
    listener reach the milter with the address the header claims (IPv4,
    and IPv6 where ::1 exists); a client authenticated through XCLIENT
    LOGIN= is skipped; the daemon runs unprivileged;
    after SIGKILL of the milter, a session already past MAIL FROM gets
    451 4.7.1 at RCPT and a new session gets 451 4.7.1 at MAIL FROM
    (Postfix's tempfail default action), nothing is queued; once the
    milter is started again mail flows again.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

TEMPFAIL = (451, "4.7.1 Service unavailable - try again later")


def send_clean(r, source, rcpt):
    """Send from source; assert delivery and the milter's decision line."""
    res = r.swaks(source=source, sender="alice@example.com", to=rcpt,
        helo="mail.example.com", headers=["X-Smoke: %s" % source])
    check(res.rc == 0, "swaks exit status from %s" % source, res.rc, 0,
        res.transcript)
    msg = r.postfix.wait_delivered(res.queue_id)
    check(msg["X-Smoke"] == source, "X-Smoke header of the delivered message",
        msg["X-Smoke"], source)
    d = r.milter.wait_decision(queue_id=res.queue_id, addr=source)
    want = {"action": "accept", "helo": "mail.example.com",
        "from": "alice@example.com", "to": rcpt}
    got = {k: d[k] for k in want}
    check(got == want, "decision line fields", got, want, d["line"])
    lines = [x for x in r.milter.decisions() if x["queue_id"] == res.queue_id]
    check(len(lines) == 1, "decision lines for %s" % res.queue_id, lines,
        "exactly one")
    return res


def test_flow(r):
    """A clean client's message is delivered and logged once."""
    send_clean(r, "127.0.0.10", "bob@example.org")


def test_proxied_clients(r):
    """Through the PROXY listener the milter sees the claimed address."""
    clients = ["203.0.113.7"] + (["2001:db8::25"] if rig.have_ipv6() else [])
    for ip in clients:
        with r.smtp(source="127.0.0.14", proxy=(ip, 40123)) as c:
            check(c.banner().code == 220, "banner after PROXY %s" % ip)
            replies = c.transaction("alice@example.com", ["bob@example.org"],
                helo="mail.example.com")
            check(replies[-1].code == 250, "message via PROXY %s" % ip,
                replies, "250 at the end")
            c.command("QUIT")
        qid = replies[-1].text.rsplit(" ", 1)[-1]
        r.postfix.wait_delivered(qid)
        d = r.milter.wait_decision(queue_id=qid)
        check(d["addr"] == ip, "client address the milter saw", d["addr"],
            ip, d["line"])


def test_authenticated_skipped(r):
    """An authenticated client (XCLIENT LOGIN=) skips every check."""
    since = r.milter.log.mark()
    with r.smtp(source="127.0.0.15") as c:
        check(c.banner().code == 220, "banner")
        check(c.command("EHLO mail.example.com").code == 250, "EHLO")
        rep = c.xclient(LOGIN="alice", ADDR="198.51.100.7")
        check(rep.code == 220, "XCLIENT reply", rep, 220)
        replies = c.transaction("alice@example.com", ["bob@example.org"])
        check(replies[-1].code == 250, "authenticated message", replies,
            "250 at the end")
        c.command("QUIT")
    d = r.milter.wait_decision(since, addr="198.51.100.7", stage="mail")
    want = ("skip", "authenticated")
    check((d["action"], d["reason"]) == want, "decision for an "
        "authenticated client", (d["action"], d["reason"]), want, d["line"])


def test_unprivileged(r):
    """Started as root, the daemon keeps nothing of root: the configured
    user and group only (no supplementary groups), no capabilities."""
    _, _, uid, gid = rig.unprivileged_user()
    with open("/proc/%d/status" % r.milter.pid) as f:
        st = dict(l.rstrip("\n").split(":", 1) for l in f if ":" in l)
    got = st["Uid"].split()
    check(set(got) == {str(uid)}, "milter real/effective/saved/fs uids", got,
        [str(uid)] * 4)
    got = st["Gid"].split()
    check(set(got) == {str(gid)}, "milter real/effective/saved/fs gids", got,
        [str(gid)] * 4)
    got = st["Groups"].split()
    check(got in ([], [str(gid)]), "milter supplementary groups", got,
        [str(gid)])
    for cap in ("CapPrm", "CapEff"):
        check(int(st[cap], 16) == 0, "milter " + cap, st[cap].strip(), 0)


def test_killed_mid_session(r):
    """SIGKILL after MAIL FROM: the RCPT gets the default action."""
    with r.smtp(source="127.0.0.11") as c:
        check(c.banner().code == 220, "banner")
        check(c.command("EHLO mail.example.com").code == 250, "EHLO")
        rep = c.command("MAIL FROM:<alice@example.com>")
        check(rep.code == 250, "MAIL FROM with the milter up", rep, 250)
        status = r.milter.kill(signal.SIGKILL)
        check(status == -signal.SIGKILL, "milter exit status", status,
            -signal.SIGKILL)
        rep = c.command("RCPT TO:<bob@example.org>")
        check((rep.code, rep.text) == TEMPFAIL, "RCPT after the milter died",
            rep, TEMPFAIL)
        c.command("QUIT")


def test_killed_new_session(r):
    """Milter down: a new session is refused 451 at MAIL FROM."""
    since = r.postfix.log.mark()
    before = len(r.postfix.messages())
    res = r.swaks(source="127.0.0.12", sender="alice@example.com",
        to="bob@example.org")
    check(res.rc == 23 and TEMPFAIL in res.replies,
        "MAIL FROM with the milter down", res.replies, TEMPFAIL,
        res.transcript)
    check(res.queue_id is None, "queue id with the milter down",
        res.queue_id, None)
    r.postfix.log.wait(r"connect to Milter service inet:127\.0\.0\.1:%d: "
        r"Connection refused" % r.milter.port, 5, since)
    r.postfix.log.wait(r"NOQUEUE: milter-reject: MAIL from "
        r"unknown\[127\.0\.0\.12\]: 451 4\.7\.1", 5, since)
    check(len(r.postfix.messages()) == before, "messages in the sink",
        len(r.postfix.messages()), before)


def test_restarted(r):
    """Started again, the milter takes mail again."""
    r.milter.start()
    send_clean(r, "127.0.0.13", "carol@example.org")


def main(r):
    for i in (10, 11, 12, 13):
        r.dns.add_host("mail%d.example.com" % i, "127.0.0.%d" % i)
    r.start()
    for t in (test_flow, test_proxied_clients, test_authenticated_skipped,
        test_unprivileged, test_killed_mid_session,
        test_killed_new_session, test_restarted):
        t(r)
        print("ok - %s: %s" % (t.__name__, t.__doc__))


rig.main(main, timeout=180)
