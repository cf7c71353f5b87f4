#!/usr/bin/env python3
"""
NAME
    t_metrics_redis - the Redis link's series on /metrics, and every
    metric contrib/'s dashboard and rules use
DESCRIPTION
    A private redis-server (free loopback port, rig_redis.py) and the
    milter with state_backend = redis, metrics_listen on a free loopback
    port, a 2s tarpit. Two suspicious clients (S25R rule 1, forward-
    confirmed dyn-... names) wait out the tarpit and are accepted, and
    two clean clients pass. Then the exposition passes `promtool check
    metrics` and shows: link state connected (and only that state at 1),
    command round trips counted at least once per greylist outcome (each
    reached Redis), none failed, none of them slower than redis_timeout
    on average, one connection or more and none failed, no failover; and
    every metric the PromQL expressions of contrib/'s Grafana dashboard
    and alerting rules select is exported, the Redis panels' included
    (promql_names.py). Redis is killed: the next suspicious client is
    accepted with store=redis on its decision line, and the link state
    turns to reconnecting with a failed command or connection counted.
    Redis starts again on the same port: within 20 s a suspicious client
    is tarpitted again and the state is connected, with one more
    connection counted.
"""
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names
import rig
from rig import check
from rig_base import free_port
from rig_redis import Redis

METRICS_PORT = free_port()
STATES = ("connecting", "connected", "reconnecting")


def scrape():
    """The exposition text of the milter's /metrics."""
    url = "http://127.0.0.1:%d/metrics" % METRICS_PORT
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


def series(text):
    """{series: value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, v = line.rpartition(" ")
            out[name] = float(v)
    return out


def total(s, family):
    """Sum of every series of a family."""
    return sum(v for k, v in s.items() if k == family or k.startswith(family + "{"))


def check_state(s, want, text):
    got = {st: s.get('targrey_redis_link_state{state="%s"}' % st) for st in STATES}
    check(got == {st: 1 if st == want else 0 for st in STATES}, "link state", got, want, text)


SENDERS = iter("sender%d@example.com" % n for n in range(1000))


def suspicious(r, ip):
    """A suspicious client (a new triplet) waits out the tarpit and is
    accepted; its rcpt line."""
    since = r.milter.log.mark()
    res = r.swaks(source=ip, sender=next(SENDERS), to="bob@example.org",
        helo="client.example.com", timeout=30)
    check(res.rc == 0, "swaks from %s" % ip, res.rc, 0, res.transcript)
    return r.milter.wait_decision(since, addr=ip, stage="rcpt")


def check_running(r, src):
    """Series after four sessions with Redis up; the dashboard's names."""
    for ip in ("127.0.0.21", "127.0.0.22"):
        d = suspicious(r, ip)
        check(d["action"] == "tarpit", "decision of %s" % ip, d["line"], "tarpit")
    for _ in range(2):
        res = r.swaks(source="127.0.0.10", sender="alice@example.com",
            to="bob@example.org", helo="mail.example.com")
        check(res.rc == 0, "swaks (clean)", res.rc, 0, res.transcript)
        r.milter.wait_decision(queue_id=res.queue_id, action="accept")
    text = scrape()
    lint = subprocess.run(["promtool", "check", "metrics"], input=text,
        capture_output=True, text=True, timeout=30)
    check(lint.returncode == 0, "promtool check metrics", lint.stdout + lint.stderr, 0, text)
    s = series(text)
    check_state(s, "connected", text)
    outcomes = total(s, "targrey_greylist_outcomes_total")
    count = s.get("targrey_redis_command_seconds_count", 0)
    check(outcomes >= 2 and count >= outcomes, "round trips >= greylist outcomes",
        (count, outcomes), ">= 2 each", text)
    check(s.get('targrey_redis_command_seconds_bucket{le="+Inf"}') == count,
        "+Inf bucket equals the count", s.get('targrey_redis_command_seconds_bucket{le="+Inf"}'), count)
    check(0 < s["targrey_redis_command_seconds_sum"] / count < 0.5, "mean round trip",
        s["targrey_redis_command_seconds_sum"] / count, "0 < mean < redis_timeout")
    want = {"targrey_redis_command_failures_total": 0,
        'targrey_redis_connects_total{result="failed"}': 0,
        "targrey_redis_failovers_total": 0}
    got = {k: s.get(k) for k in want}
    check(got == want, "no failures yet", got, want, text)
    check(s.get('targrey_redis_connects_total{result="ok"}', 0) >= 1, "connections",
        s.get('targrey_redis_connects_total{result="ok"}'), ">= 1")
    used = promql_names.used_metrics(src)
    check(any(n.startswith("targrey_redis_") for n in used), "Redis panels in contrib/",
        sorted(used), "targrey_redis_* names")
    check(promql_names.missing(used, text) == [], "metrics used in contrib/ but not exported",
        promql_names.missing(used, text), [])
    return s


def check_down_and_back(r, redis, before):
    """Redis killed: reconnecting; started again: connected."""
    redis.stop()
    d = suspicious(r, "127.0.0.23")
    check(d["action"] == "accept" and "store=redis" in d["line"], "decision with Redis down",
        d["line"], "accept ... store=redis")
    text = scrape()
    s = series(text)
    check_state(s, "reconnecting", text)
    failed = s["targrey_redis_command_failures_total"] + s['targrey_redis_connects_total{result="failed"}']
    check(failed >= 1, "failures counted", failed, ">= 1", text)
    redis.start()
    deadline = time.monotonic() + 20
    while suspicious(r, "127.0.0.24")["action"] != "tarpit":
        check(time.monotonic() < deadline, "tarpit again after Redis restarted",
            "none", "a tarpit within 20 s")
        time.sleep(0.5)
    text = scrape()
    s = series(text)
    check_state(s, "connected", text)
    ok = 'targrey_redis_connects_total{result="ok"}'
    check(s[ok] > before[ok], "a reconnection counted", (before[ok], s[ok]), "more")


def main(r):
    src = os.environ.get("TG_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    redis = Redis(os.path.join(r.dir, "redis"))
    redis.start()
    try:
        r.milter.params.update(redis_server="127.0.0.1:%d" % redis.port)
        r.dns.add_host("mail.example.com", "127.0.0.10")
        for n in range(21, 25):
            r.dns.add_host("dyn-127-0-0-%d.pool.example.net" % n, "127.0.0.%d" % n)
        r.start()
        before = check_running(r, src)
        check_down_and_back(r, redis, before)
    finally:
        redis.stop()


rig.main(main, timeout=240, milter_params={
    "metrics_listen": "127.0.0.1:%d" % METRICS_PORT, "tarpit_delay": "2s",
    "tarpit_poll_interval": "250ms", "s25r_reverse_lookup": "yes",
    "state_backend": "redis", "redis_key_prefix": "m:", "redis_timeout": "500ms"})
