#!/usr/bin/env python3
"""
NAME
    t_spf - SPF at HELO and MAIL FROM through the real Postfix and nsd
DESCRIPTION
    Clients are presented through the rig's PROXY smtpd with TEST-NET
    addresses (libspf2 passes every 127/8 client, and 127/8 is in
    spf_skip_addresses), each with a forward-confirmed name so that S25R
    calls it clean. Domains in nsd: pass.example lists 203.0.113.0/24
    (-all), fail.example, expfail.example and helofail.example list only 192.0.2.0/24
    (-all), soft.example ~all, none.example has no record.
    Asserted: a Fail sender is rejected 550 5.7.23 with a decision line
    action=reject reason=mailfrom_fail, the reply carries the domain's
    own exp= text (expfail.example), its '%' intact, and no built-in
    explanation; a Pass is delivered with one
    one-line Received-SPF (pass, identity=mailfrom, client-ip=, helo=,
    envelope-from=, receiver=); softfail and none are delivered; a HELO
    whose SPF fails is rejected 550 5.7.23 (spf_helo_reject = fail);
    a client in spf_whitelist and an XCLIENT LOGIN= client are accepted
    for a Fail domain without a header; a HELO full of quotes,
    semicolons and parentheses leaves each header one line with exactly
    the expected fields; with spf_header = both an Authentication-Results
    with smtp.mailfrom is added; with dns_servers a name server that
    never answers and spf_lookup_time = 2s, MAIL FROM is answered
    (well) within the deadline plus slack with temperror: accepted by
    default, 451 4.7.24 with spf_temperror_defer = yes.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

RCPT = "bob@example.org"
AUTHSERV = "mx.rig.example"
LOOKUP_S = 2          # spf_lookup_time in the DNS-down tests
SLACK_S = 8           # generous: a loaded machine, Postfix, the milter
FIELDS = ["client-ip", "envelope-from", "helo", "receiver", "identity"]


def client(n, net="203.0.113"):
    """TEST-NET client n: (address, its forward-confirmed name)."""
    return "%s.%d" % (net, n), "mx%d.client.example" % n


def session(r, ip, helo, sender):
    """One PROXY session from ip; (replies, queue id or None)."""
    with r.smtp(source="127.0.0.20", proxy=(ip, 40000)) as c:
        check(c.banner().code == 220, "banner for %s" % ip)
        replies = c.transaction(sender, [RCPT], helo=helo)
        c.command("QUIT")
    last = replies[-1]
    qid = last.text.rsplit(" ", 1)[-1] if last.code == 250 and \
        len(replies) == 5 else None
    return replies, qid


def mail_reply(replies):
    """The reply to MAIL FROM (after EHLO)."""
    check(len(replies) >= 2, "replies up to MAIL FROM", replies, ">= 2")
    return replies[1]


def delivered(r, ip, helo, sender):
    """Send; assert delivery; (message, eom decision line)."""
    since = r.milter.log.mark()
    replies, qid = session(r, ip, helo, sender)
    check(qid is not None, "message from %s <%s> accepted" % (ip, sender),
        replies, "250 at the end of DATA")
    msg = r.postfix.wait_delivered(qid)
    d = r.milter.wait_decision(since, queue_id=qid, stage="eom")
    check(d["action"] == "accept" and d["addr"] == ip, "eom decision",
        (d["action"], d["addr"]), ("accept", ip), d["line"])
    return msg, d


def rejected(r, ip, helo, sender, reason, code=550, xcode="5.7.23"):
    """Send; assert the MAIL FROM reply and the decision line."""
    since = r.milter.log.mark()
    replies, qid = session(r, ip, helo, sender)
    rep = mail_reply(replies)
    check((rep.code, rep.text.split(" ", 1)[0]) == (code, xcode),
        "MAIL FROM reply for <%s> from %s" % (sender, ip), rep,
        (code, xcode))
    check(qid is None and len(replies) == 2, "transaction stops at MAIL",
        replies, "EHLO, MAIL")
    action = "reject" if code // 100 == 5 else "defer"
    d = r.milter.wait_decision(since, addr=ip, stage="mail")
    check((d["action"], d["reason"]) == (action, reason), "decision line",
        (d["action"], d["reason"]), (action, reason), d["line"])
    return rep, d


def parse_received_spf(value):
    """RESULT (COMMENT) key=value; ...: (result, comment, [(k, v)])."""
    check("\r" not in value and "\n" not in value,
        "Received-SPF is one line", repr(value), "no CR/LF")
    m = re.match(r"\s*([a-z]+) \(", value)
    check(m is not None, "Received-SPF starts with result and comment",
        value)
    depth, i = 1, m.end()
    while depth and i < len(value):
        depth += {"(": 1, ")": -1}.get(value[i], 0)
        i += 1
    comment, pairs = value[m.end():i - 1], []
    rx = re.compile(r'\s*([A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[^\s;"]*);?')
    while i < len(value) and value[i:].strip():
        pm = rx.match(value, i)
        check(pm is not None, "key=value at %r" % value[i:], value)
        pairs.append((pm.group(1), pm.group(2)))
        i = pm.end()
    return m.group(1), comment, pairs


def spf_headers(msg, name="Received-SPF"):
    """The values of every header of msg called name (raw)."""
    return msg.get_all(name, [])


def one_received_spf(msg, result, identity, ip, helo_value, count=2):
    """Count Received-SPF headers (one per check), each one line with
    exactly FIELDS; the one of identity has these values: its fields
    dict and comment."""
    hdrs = spf_headers(msg)
    check(len(hdrs) == count, "Received-SPF headers", hdrs, count)
    mine = []
    for h in hdrs:
        res, comment, pairs = parse_received_spf(h)
        keys = [k for k, _ in pairs]
        check(keys == FIELDS, "Received-SPF fields", keys, FIELDS, h)
        f = dict(pairs)
        if f["identity"] == identity:
            mine.append((res, comment, f, h))
    check(len(mine) == 1, "Received-SPF with identity=" + identity, hdrs,
        "exactly one")
    res, comment, f, h = mine[0]
    want = {"result": result, "client-ip": ip, "receiver": AUTHSERV,
        "helo": helo_value}
    got = {"result": res, "client-ip": f["client-ip"],
        "receiver": f["receiver"], "helo": f["helo"]}
    check(got == want, "Received-SPF values", got, want, h)
    return f, comment


def test_fail_rejected(r):
    """-all domain not listing the client: 550 5.7.23 at MAIL FROM."""
    ip, name = client(10)
    rep, d = rejected(r, ip, name, "alice@fail.example", "mailfrom_fail")
    check("fail.example" in rep.text and "SPF fail" in rep.text,
        "reject text names the result and domain", rep.text,
        "SPF fail ... fail.example")
    # No exp=: no built-in explanation (libspf2's is an openspf.org URL).
    check("?" not in rep.text and "http" not in rep.text,
        "reject text without an explanation", rep.text, "no '?', no URL")
    # The domain's own exp= text is used, expanded; its '%' (a URL escape
    # from %{S}, a literal %%) reaches the client as '%' (the milter
    # doubles it, Postfix reads %% as %).
    ip, name = client(21)
    rep, d = rejected(r, ip, name, "alice@expfail.example", "mailfrom_fail")
    want = ("Mail from expfail.example must come from its servers (100% "
        "sure): http://why.example/?s=alice%40expfail.example")
    check(rep.text.endswith(" - " + want), "reject text with exp=",
        rep.text, "... - " + want)


def test_pass_header(r):
    """Pass: delivered with Received-SPF pass, identity=mailfrom."""
    ip, name = client(11)
    msg, d = delivered(r, ip, name, "alice@pass.example")
    f, comment = one_received_spf(msg, "pass", "mailfrom", ip, name)
    check(f["envelope-from"] == '"alice@pass.example"', "envelope-from",
        f["envelope-from"], '"alice@pass.example"')
    check("designates %s as permitted sender" % ip in comment,
        "Received-SPF comment", comment, "designates ... permitted")
    check("spf=pass" in d["extra"], "decision line spf=", d["extra"],
        "spf=pass")
    check(spf_headers(msg, "Authentication-Results") == [],
        "Authentication-Results with spf_header = received_spf",
        spf_headers(msg, "Authentication-Results"), [])


def test_softfail_none_accepted(r):
    """~all (softfail) and no record (none) are accepted."""
    for n, dom, result in ((12, "soft.example", "softfail"),
            (13, "none.example", "none")):
        ip, name = client(n)
        msg, d = delivered(r, ip, name, "alice@" + dom)
        one_received_spf(msg, result, "mailfrom", ip, name)
        check("spf=%s" % result in d["extra"], "decision line for " + dom,
            d["extra"], "spf=" + result)


def test_helo_fail_rejected(r):
    """HELO name whose SPF fails: rejected (spf_helo_reject = fail)."""
    ip, _ = client(14)
    rep, d = rejected(r, ip, "helofail.example", "alice@pass.example",
        "helo_fail")
    check("HELO" in rep.text, "reject text names the HELO identity",
        rep.text, "HELO")


def test_whitelisted_client(r):
    """A client in spf_whitelist: a Fail sender passes, no header."""
    ip, name = client(15, net="198.51.100")
    msg, d = delivered(r, ip, name, "alice@fail.example")
    check("spf=whitelisted" in d["extra"], "decision line", d["extra"],
        "spf=whitelisted")
    check(spf_headers(msg) == [], "Received-SPF for a whitelisted client",
        spf_headers(msg), [])


def test_authenticated_skipped(r):
    """XCLIENT LOGIN=: a Fail sender passes, SPF is not checked."""
    ip, name = client(16)
    since = r.milter.log.mark()
    # XCLIENT is allowed from 127/8 only: the plain listener, ADDR= sets
    # the client address the milter sees.
    with r.smtp(source="127.0.0.21") as c:
        check(c.banner().code == 220, "banner")
        check(c.command("EHLO " + name).code == 250, "EHLO before XCLIENT")
        rep = c.xclient(LOGIN="alice", ADDR=ip)
        check(rep.code == 220, "XCLIENT reply", rep, 220)
        replies = c.transaction("alice@fail.example", [RCPT], helo=name)
        c.command("QUIT")
    check(replies[-1].code == 250 and len(replies) == 5,
        "authenticated message accepted", replies, "250 at the end")
    qid = replies[-1].text.rsplit(" ", 1)[-1]
    msg = r.postfix.wait_delivered(qid)
    d = r.milter.wait_decision(since, addr=ip, stage="mail")
    check((d["action"], d["reason"]) == ("skip", "authenticated"),
        "decision line", (d["action"], d["reason"]),
        ("skip", "authenticated"), d["line"])
    check(spf_headers(msg) == [], "Received-SPF for an authenticated client",
        spf_headers(msg), [])


def test_header_injection(r):
    """A HELO with quotes, semicolons, parentheses stays inside helo=."""
    ip, _ = client(17)
    evil = 'evil"; identity=pass; x="(y) \\ z'
    # With a sender: identity=mailfrom, the HELO in helo= only.
    msg, _ = delivered(r, ip, evil, "alice@pass.example")
    one_received_spf(msg, "pass", "mailfrom", ip, f_helo(evil))
    # Null sender: identity=helo, the HELO in the comment as well.
    msg, _ = delivered(r, ip, evil, "")
    f, comment = one_received_spf(msg, "none", "helo", ip, f_helo(evil), 1)
    check(f["envelope-from"] == '""', "envelope-from of <>",
        f["envelope-from"], '""')
    for bad in '"();\\':
        check(bad not in comment, "%r in the comment" % bad, comment,
            "sanitised")


def f_helo(helo):
    """The helo= value the sanitiser should produce (quoted-string)."""
    return '"%s"' % re.sub(r'["\\;()%]', "?", helo)


def test_authres_both(r):
    """spf_header = both: Received-SPF and Authentication-Results."""
    reload(r, spf_header="both")
    ip, name = client(18)
    msg, _ = delivered(r, ip, name, "alice@pass.example")
    one_received_spf(msg, "pass", "mailfrom", ip, name)
    ar = spf_headers(msg, "Authentication-Results")
    check(len(ar) == 1, "Authentication-Results headers", ar, "one")
    want = "%s; spf=pass smtp.mailfrom=pass.example; spf=none smtp.helo=%s" \
        % (AUTHSERV, name)
    check(ar[0].strip() == want, "Authentication-Results", ar[0], want)


def test_dns_down(r, blackhole):
    """Name server never answers: temperror within spf_lookup_time."""
    reload(r, dns_servers=blackhole.server, spf_lookup_time="%ds" %
        LOOKUP_S, spf_header="received_spf")
    ip, _ = client(19)
    helo = "[%s]" % ip   # an address literal: no HELO check, no DNS
    since = r.milter.log.mark()
    replies, qid = session(r, ip, helo, "alice@pass.example")
    rep = mail_reply(replies)
    print("# MAIL FROM answered in %.2fs with DNS down (lookup time %ds)"
        % (rep.elapsed, LOOKUP_S))
    check(rep.elapsed < LOOKUP_S + SLACK_S, "MAIL FROM reply time (s)",
        "%.2f" % rep.elapsed, "< %d" % (LOOKUP_S + SLACK_S))
    check(qid is not None, "temperror accepted by default", replies,
        "250 at the end")
    msg = r.postfix.wait_delivered(qid)
    d = r.milter.wait_decision(since, queue_id=qid, stage="eom")
    check("spf=temperror" in d["extra"], "decision line", d["extra"],
        "spf=temperror")
    one_received_spf(msg, "temperror", "mailfrom", ip, '"%s"' % helo)


def test_dns_down_defer(r):
    """spf_temperror_defer = yes: temperror gets 451 4.7.24."""
    reload(r, spf_temperror_defer="yes")
    ip, _ = client(20)
    rep, _ = rejected(r, ip, "[%s]" % ip, "alice@soft.example",
        "mailfrom_temperror", 451, "4.7.24")
    print("# MAIL FROM deferred in %.2fs" % rep.elapsed)
    check(rep.elapsed < LOOKUP_S + SLACK_S, "MAIL FROM reply time (s)",
        "%.2f" % rep.elapsed, "< %d" % (LOOKUP_S + SLACK_S))


def reload(r, **params):
    """Reload the milter with params; wait until it says so."""
    since = r.milter.log.mark()
    r.milter.reload(**params)
    r.milter.log.wait(r"reload: configuration .* loaded", 10, since)


def main(r):
    for n in range(10, 22):
        ip, name = client(n)
        r.dns.add_host(name, ip)
    ip, name = client(15, net="198.51.100")
    r.dns.add_host(name, ip)
    other = "v=spf1 ip4:192.0.2.0/24 %sall"
    r.dns.add_zone("pass.example",
        [("@", "TXT", "v=spf1 ip4:203.0.113.0/24 -all")])
    r.dns.add_zone("fail.example", [("@", "TXT", other % "-")])
    r.dns.add_zone("expfail.example", [
        ("@", "TXT", other % "-" + " exp=why.expfail.example"),
        ("why", "TXT", "Mail from %{d} must come from its servers (100%% "
            "sure): http://why.example/?s=%{S}")])
    r.dns.add_zone("helofail.example", [("@", "TXT", other % "-")])
    r.dns.add_zone("soft.example", [("@", "TXT", other % "~")])
    r.dns.add_zone("none.example", [("@", "A", "192.0.2.1")])
    r.start()
    for t in (test_fail_rejected, test_pass_header,
            test_softfail_none_accepted, test_helo_fail_rejected,
            test_whitelisted_client, test_authenticated_skipped,
            test_header_injection, test_authres_both):
        t(r)
        print("ok - %s: %s" % (t.__name__, t.__doc__))
    blackhole = rig.BlackholeDns()
    try:
        test_dns_down(r, blackhole)
        print("ok - test_dns_down: %s" % test_dns_down.__doc__)
        test_dns_down_defer(r)
        print("ok - test_dns_down_defer: %s" % test_dns_down_defer.__doc__)
    finally:
        blackhole.stop()


rig.main(main, timeout=150, milter_params={
    "authserv_id": AUTHSERV,
    "spf_whitelist": "198.51.100.0/24",
})
