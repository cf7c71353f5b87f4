#!/usr/bin/env python3
"""
NAME
    t_log_examples - the sample log lines of the documentation are what
    the daemon writes
DESCRIPTION
    Through the rig's Postfix (PROXY listener, TEST-NET clients): a clean
    client (forward-confirmed name, SPF pass for MAIL FROM and HELO) is
    accepted, and a client whose sender's domain has "-all" is
    rejected at MAIL FROM. Then:
      - the sample decision line of README.md and of docs/README.ja.md
        ("4XyZ1234: action=accept ...") has the same fields, in the same
        order, as the real accept line, and the same values of action,
        reason and the tail (s25r=, spf=, helo_spf=);
      - the real SPF-fail reason appears in targrey-milter(8)'s list of
        example reasons;
      - the real reasons logged (the accept line's and the SPF
        reject's) and every example reason of that list are reason words
        of the table the code logs from, src/base/words.def (a
        WK_PREFIX word matches with its number: s25r_rule_3).
    So "reason=clean" (logged: passed) or "spf_fail" (logged:
    mailfrom_fail) cannot come back into the documentation.
DIAGNOSTICS
    Exit 0 when all holds, 1 with "got X, want Y" and the logs' tails.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

SRC = os.environ.get("TG_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")


def fields(line):
    """The key=value pairs of a decision line, after the queue id."""
    return re.findall(r"(?:^|\s)([a-z_0-9]+)=(\S*)", line.split(": ", 1)[1])


def doc_samples(path):
    with open(path) as f:
        return [l.strip() for l in f if l.startswith("4XyZ1234: action=")]


def man_reasons():
    """The .Ql words between "why" and the next .Pc in the REASON text."""
    with open(os.path.join(SRC, "docs", "targrey-milter.8")) as f:
        text = f.read()
    part = text[text.index(".Ar REASON\nwhy"):]
    part = part[:part.index(".Pc")]
    return re.findall(r"^\.Ql ([a-z_0-9]+)", part, re.M)


def table_reasons():
    """{word: is a prefix} of the reason words of src/base/words.def."""
    with open(os.path.join(SRC, "src", "base", "words.def")) as f:
        rows = re.findall(r'^WORD\(\w+, "([a-z0-9_]+)", ([A-Z_ |]+),', f.read(), re.M)
    return {w: "WK_PREFIX" in k for w, k in rows if "WK_REASON" in k}


def code_can_log(reason, table):
    """Is REASON a reason word of the table (a prefix word with its tail)?"""
    return any(reason == w or (prefix and reason.startswith(w) and len(reason) > len(w))
        for w, prefix in table.items())


def main(r):
    r.dns.add_host("mx7.client.example", "203.0.113.7")
    r.dns.add_host("mx8.client.example", "203.0.113.8")
    r.dns.add_zone("fail.example", [("@", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")])
    r.dns.add_zone("pass.example", [("@", "TXT", "v=spf1 ip4:203.0.113.0/24 -all")])
    r.dns.add_record("mx8.client.example", "TXT", "v=spf1 ip4:203.0.113.8 -all")
    r.start()
    with r.smtp(source="127.0.0.20", proxy=("203.0.113.8", 40000)) as c:
        c.banner()
        replies = c.transaction("alice@pass.example", ["bob@example.org"],
            helo="mx8.client.example")
        c.command("QUIT")
    check(replies[-1].code == 250, "clean message accepted", replies, "250")
    qid = replies[-1].text.rsplit(" ", 1)[-1]
    real = r.milter.wait_decision(queue_id=qid)["line"]
    real = real[real.index(qid):]
    with r.smtp(source="127.0.0.20", proxy=("203.0.113.7", 40000)) as c:
        c.banner()
        c.transaction("alice@fail.example", ["bob@example.org"],
            helo="mx7.client.example")
        c.command("QUIT")
    spf = r.milter.wait_decision(addr="203.0.113.7", action="reject")
    print("real accept line: %s" % real)
    print("real SPF fail reason: %s" % spf["reason"])

    want = fields(real)
    for doc in ("README.md", os.path.join("docs", "README.ja.md")):
        samples = doc_samples(os.path.join(SRC, doc))
        check(len(samples) >= 1, "%s: a sample decision line" % doc, samples, "one")
        for s in samples:
            got = fields(s)
            check([k for k, _ in got] == [k for k, _ in want],
                "%s: sample fields" % doc, [k for k, _ in got], [k for k, _ in want], s)
            check(got[:2] == want[:2], "%s: sample action and reason" % doc,
                got[:2], want[:2], s)
            check(got[8:] == want[8:], "%s: sample tail (s25r, SPF results)" % doc,
                got[8:], want[8:], s)
    reasons, table = man_reasons(), table_reasons()
    check(len(table) >= 10, "reason words of src/base/words.def", len(table), ">= 10")
    check(spf["reason"] in reasons, "targrey-milter(8) example reasons",
        reasons, "including %s" % spf["reason"])
    for reason in reasons + [spf["reason"], dict(want)["reason"]]:
        check(code_can_log(reason, table), "reason %s" % reason,
            "not a reason word of src/base/words.def", "one")
    print("ok - the documented samples match the daemon's lines")


rig.main(main, timeout=120)
