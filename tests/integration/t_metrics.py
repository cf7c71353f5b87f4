#!/usr/bin/env python3
"""
NAME
    t_metrics - the Prometheus endpoint, checked by promtool and scraped
    by a real Prometheus server
DESCRIPTION
    The milter runs with metrics_listen on a free loopback port. After
    N clean sessions through the rig's Postfix (127.0.0.10, forward-
    confirmed name), GET /metrics answers 200 with the text exposition
    format, `promtool check metrics` accepts it, and the accepted-at-
    end-of-message counter equals N (and the number of such decision
    lines in the milter's log). A Prometheus server (Debian's
    prometheus, its own data directory, scrape interval 1s, loopback)
    scrapes the milter, and its query API returns N for that counter.
    After SIGHUP and one more session the counter is N+1 (counters
    survive a reload) and targrey_reloads_total{result="ok"} is 1.
    One suspicious client (dyn-127-0-0-21.pool.example.net, S25R rule 1)
    waits out a 2s tarpit: the tarpit outcome, the greylist verdict, the
    S25R result and the wait histogram each count exactly 1, as its
    decision line says.
    Unknown paths answer 404. Every metric the PromQL expressions of the
    Grafana dashboard and the alerting rules in contrib/ select
    (promql_names.py) is in the exposition, but for the Redis families
    (t_metrics_redis checks those), and `promtool check rules` accepts
    the rules. Prometheus is stopped at the end.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names
import rig
from rig import check, send_clean
from rig_base import _Daemon, free_port, wait_until

SESSIONS = 3
ACCEPTED = 'targrey_decisions_total{stage="eom",action="accept",reason="passed"}'
PROM_QUERY = 'sum(targrey_decisions_total{stage="eom",action="accept",reason="passed"})'
METRICS_PORT = free_port()


def fetch(url):
    """(status, content type, body) of GET url."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def value(text, series):
    """The value of one series in an exposition, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def start_prometheus(r):
    """A Prometheus server scraping the milter every second."""
    path = shutil.which("prometheus")
    check(path is not None, "prometheus not found: install the Debian package prometheus")
    pdir = os.path.join(r.dir, "prometheus")
    os.makedirs(os.path.join(pdir, "data"))
    with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: targrey\n    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n" % METRICS_PORT)
    port = free_port()
    prom = _Daemon("prometheus", os.path.join(pdir, "prometheus.log"))
    prom._spawn([path, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
        "--storage.tsdb.path=" + os.path.join(pdir, "data"),
        "--web.listen-address=127.0.0.1:%d" % port])
    return prom, "http://127.0.0.1:%d" % port


def prom_value(api, query):
    """The scalar value Prometheus returns for query, or None."""
    try:
        status, _, body = fetch(api + "/api/v1/query?" +
            urllib.parse.urlencode({"query": query}))
    except OSError:
        return None
    if status != 200:
        return None
    result = json.loads(body)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def check_tarpit(r, base):
    """A suspicious client's tarpit shows in four families."""
    res = r.swaks(source="127.0.0.21", sender="alice@example.com",
        to="bob@example.org", helo="client.example.com", timeout=30)
    check(res.rc == 0, "swaks exit status (tarpit)", res.rc, 0, res.transcript)
    d = r.milter.wait_decision(addr="127.0.0.21", action="tarpit", stage="rcpt")
    check(d["reason"] == "passed", "tarpit outcome line", d["reason"], "passed")
    text = fetch(base + "/metrics")[2]
    want = {'targrey_tarpit_outcomes_total{outcome="passed"}': 1,
        'targrey_greylist_outcomes_total{verdict="tarpit",reason="new_client"}': 1,
        'targrey_s25r_results_total{result="suspicious",rule="s25r_rule_1"}': 1,
        'targrey_decisions_total{stage="rcpt",action="tarpit",reason="passed"}': 1,
        'targrey_tarpit_wait_seconds_count': 1,
        'targrey_tarpit_wait_seconds_bucket{le="1"}': 0,
        'targrey_tarpit_wait_seconds_bucket{le="5"}': 1}
    got = {k: value(text, k) for k in want}
    check(got == want, "tarpit series", got, want, text)


def check_contrib(text):
    """The dashboard and the rules use only metrics the daemon exports
    (the Redis families only with state_backend = redis: t_metrics_redis)."""
    src = os.environ.get("TG_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    rules = os.path.join(src, "contrib", "targrey-milter.rules.yml")
    lint = subprocess.run(["promtool", "check", "rules", rules],
        capture_output=True, text=True, timeout=30)
    check(lint.returncode == 0, "promtool check rules", lint.stdout + lint.stderr, 0)
    used = promql_names.used_metrics(src)
    check(len(used) > 10, "metric names found in contrib/", sorted(used), "more than 10")
    check(promql_names.missing(used, text, "targrey_redis_") == [],
        "metrics used in contrib/ but not exported",
        promql_names.missing(used, text, "targrey_redis_"), [])


def main(r):
    r.dns.add_host("mail.example.com", "127.0.0.10")
    r.dns.add_host("dyn-127-0-0-21.pool.example.net", "127.0.0.21")
    r.start()
    base = "http://127.0.0.1:%d" % METRICS_PORT
    send_clean(r, SESSIONS)
    status, ctype, text = fetch(base + "/metrics")
    check(status == 200, "GET /metrics status", status, 200, text)
    check(ctype.startswith("text/plain; version=0.0.4"), "content type", ctype)
    lint = subprocess.run(["promtool", "check", "metrics"], input=text,
        capture_output=True, text=True, timeout=30)
    check(lint.returncode == 0, "promtool check metrics", lint.stdout + lint.stderr,
        "no problems", text)
    lines = [d for d in r.milter.decisions() if d["action"] == "accept"
        and d["stage"] == "eom"]
    check(value(text, ACCEPTED) == SESSIONS == len(lines), "accepted counter",
        (value(text, ACCEPTED), len(lines)), SESSIONS, text)
    check(value(text, 'targrey_store_state{state="healthy"}') == 1, "store state")
    check(fetch(base + "/nothing")[0] == 404, "status of an unknown path")
    check_contrib(text)

    prom, api = start_prometheus(r)
    try:
        got = wait_until(lambda: prom_value(api, PROM_QUERY) == SESSIONS, 60,
            "Prometheus to scrape %d accepted sessions" % SESSIONS, interval=0.5)
        check(got, "Prometheus query %s" % PROM_QUERY)
        since = r.milter.log.mark()
        r.milter.signal(signal.SIGHUP)
        r.milter.log.wait("reload: configuration", since=since, timeout=20)
        send_clean(r, 1)
        wait_until(lambda: prom_value(api, PROM_QUERY) == SESSIONS + 1, 60,
            "Prometheus to see %d sessions after SIGHUP" % (SESSIONS + 1), interval=0.5)
        text = fetch(base + "/metrics")[2]
        check(value(text, 'targrey_reloads_total{result="ok"}') == 1, "reloads",
            value(text, 'targrey_reloads_total{result="ok"}'), 1, text)
        check_tarpit(r, base)
    finally:
        code = prom.stop(15)
        print("prometheus stopped (exit %r)" % code)


rig.main(main, timeout=240, milter_params={
    "metrics_listen": "127.0.0.1:%d" % METRICS_PORT, "tarpit_delay": "2s",
    "tarpit_poll_interval": "250ms", "s25r_reverse_lookup": "yes"})
