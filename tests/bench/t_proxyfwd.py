#!/usr/bin/env python3
"""
NAME
    t_proxyfwd - the PROXY forwarder of bench-e2e presents TEST-NET clients
DESCRIPTION
    tests/bench/proxyfwd sits between swaks (which sends no PROXY header)
    and the rig's PROXY-protocol smtpd, announcing 198.51.100.1 for the
    first connection and 198.51.100.2 for the second. Asserted for each:
    swaks completes (250 at the end of DATA), the message is delivered,
    the milter's end-of-message decision names the announced address and
    accepts, and the delivered message's Received-SPF is a pass for that
    client-ip (the sender domain lists 198.51.100.0/24 through an include,
    so libspf2 had to ask the rig's name server: no loopback shortcut).
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "integration"))
import rig
from rig import check

FIRST, COUNT = 1, 2


def start_forwarder(r):
    """proxyfwd to the rig's PROXY smtpd; (process, its port)."""
    binary = os.path.join(rig.BUILDDIR, "tests", "bench", "proxyfwd")
    if not os.access(binary, os.X_OK):
        raise rig.RigError("%s not built" % binary)
    proc = subprocess.Popen([binary, "-u", str(r.postfix.proxy_port),
        "-a", "198.51.100.%d-198.51.100.%d" % (FIRST, FIRST + COUNT - 1)],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("port "):
        proc.kill()
        proc.wait()
        raise rig.RigError("proxyfwd did not start: %r" % line)
    return proc, int(line.split()[1])


def main(r):
    for n in range(FIRST, FIRST + COUNT):
        r.dns.add_host("mail-%d.example.com" % n, "198.51.100.%d" % n)
    r.dns.add_zone("sender.example", [
        ("@", "TXT", "v=spf1 include:_spf.sender.example -all"),
        ("_spf", "TXT", "v=spf1 ip4:198.51.100.0/24 -all")])
    r.start()
    proc, port = start_forwarder(r)
    try:
        for n in range(FIRST, FIRST + COUNT):
            ip = "198.51.100.%d" % n
            since = r.milter.log.mark()
            res = rig.swaks(port, source="127.0.0.1",
                sender="alice@sender.example", to="bob@example.org",
                helo="mail-%d.example.com" % n)
            check(res.rc == 0 and res.queue_id, "swaks through proxyfwd",
                (res.rc, res.queue_id), (0, "a queue id"), res.transcript)
            msg = r.postfix.wait_delivered(res.queue_id)
            d = r.milter.wait_decision(since, queue_id=res.queue_id,
                stage="eom")
            check((d["addr"], d["action"]) == (ip, "accept"),
                "eom decision", (d["addr"], d["action"]), (ip, "accept"),
                d["line"])
            spf = msg.get("Received-SPF", "")
            check(spf.lower().startswith("pass") and
                ("client-ip=%s;" % ip) in spf, "Received-SPF", spf,
                "pass ... client-ip=%s;" % ip)
    finally:
        proc.kill()
        proc.wait()


rig.main(main, timeout=90)
