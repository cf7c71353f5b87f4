#!/usr/bin/env python3
"""
NAME
    deb_session.py - one mail session through a private Postfix and an
    installed targrey-milter binary
SYNOPSIS
    python3 deb_session.py /usr/sbin/targrey-milter
DESCRIPTION
    Helper of t_deb.sh (not a test by itself). Starts the integration
    rig (nsd, a private Postfix on loopback) with the given milter
    binary instead of the build's, in the foreground on a free test port,
    sends one message from a clean client and checks that it is
    delivered and that the milter logged one "accept" decision for it.
DIAGNOSTICS
    Exit 0 when both hold; 1 with "got X, want Y" and the logs' tails.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("TG_SRCDIR") or
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
    "tests", "integration"))
import rig
from rig import check

BINARY = sys.argv[1]


def main(r):
    r.milter.binary = BINARY
    r.dns.add_host("mail10.example.com", "127.0.0.10")
    r.start()
    check(os.path.realpath("/proc/%d/exe" % r.milter.pid) == BINARY,
        "the milter that runs", os.path.realpath("/proc/%d/exe" %
        r.milter.pid), BINARY)
    res = r.swaks(source="127.0.0.10", sender="alice@example.com",
        to="bob@example.org", helo="mail10.example.com")
    check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
    r.postfix.wait_delivered(res.queue_id)
    d = r.milter.wait_decision(queue_id=res.queue_id)
    check(d["action"] == "accept", "decision of the installed milter",
        d["action"], "accept", d["line"])
    print("ok - one session through Postfix and %s (queue id %s)" %
        (BINARY, res.queue_id))


rig.main(main, timeout=120)
