#!/usr/bin/env python3
"""
NAME
    t_report - targreyctl report: hourly counters after a known run,
    as text and as an HTML page checked by tidy and headless Chromium
DESCRIPTION
    Through the rig's Postfix (greylist_delay 2s, greylist_retry_count
    1, tarpit_delay 2s, an s25r_client_access regexp table):
      127.0.0.10 (mail.example.com) x3   clean, accepted (no S25R count)
      127.0.0.25 static1-2.example.net   s25r_client_access OK: a table hit
      127.0.0.26 mail-ed1-f41.google.com the built-in s25r_whitelist
      127.0.0.21 dyn-...                 suspicious, waits out the tarpit
      127.0.0.22 dyn-..., .23 (no name, rule 0), loaded as tarpit-failed:
                 greylisted once each; .23 passes after 2 s, .22's
                 triplet is loaded 1200 s back first and passes then.
    After the milter stops (its last flush), `targreyctl report` shows
    the numbers of the log's decision lines (accepted, tarpit passed,
    greylisted), the S25R answers by source (rule hits as the s25r=
    facts of the lines say: rule 0 = 2, table = 1, whitelist = 1),
    greylist returns 2 (under 5 min 1, under 1 h 1, none between), the
    store's records per database equal to `targreyctl list` and a map
    size, and 127.0.0.0/24 as the only top suspicious network with the
    suspicious clients' count; in Japanese the same; the HTML page's
    numbers (id total-N cells, the networks table) are the same. The
    page passes `tidy -e`, has no script and no external reference, and
    holds the five charts. Chromium (--headless, no network) renders it:
    the hour chart region has at least 1000 clearly coloured pixels, and
    the same check says "fails" (under 1000) on a blank page and on the
    page without its charts (negative controls); on a tall screenshot each
    of the other charts adds at least 200 coloured pixels (the page with
    that chart removed has fewer). The screenshot is kept as
    docs/report-screenshot.png when TG_REPORT_SHOT is set.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import attempt, check

N = 3


def png_rows(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), "PNG type", (depth, ctype), "8-bit RGB(A)")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, prev, i = zlib.decompress(idat), [], bytearray(w * bpp), 0
    for _ in range(h):
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + w * bpp])
        i += 1 + w * bpp
        for x in range(len(line)):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def coloured_pixels(path, top, bottom, left, right):
    """How many pixels of the region are clearly coloured (bars), not
    white, grey or black (background, frame, text)."""
    w, h, bpp, rows = png_rows(path)
    n = 0
    for y in range(top, min(bottom, h)):
        row = rows[y]
        for x in range(left, min(right, w)):
            px = row[x * bpp:x * bpp + 3]
            n += max(px) - min(px) > 60
    return n


def shoot(page, tmp, name, height=1000):
    """Chromium's screenshot (960 x HEIGHT) of PAGE, as a path."""
    path = os.path.join(tmp, name + ".html")
    with open(path, "w") as f:
        f.write(page)
    shot = os.path.join(tmp, name + ".png")
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "chr"),
        "--window-size=960,%d" % height, "--screenshot=" + shot, "file://" + path],
        capture_output=True, timeout=120)
    check(os.path.exists(shot), "Chromium wrote a screenshot of the %s page" % name)
    return shot


def hour_chart_pixels(shot):
    # the hour chart sits below the two headings, 30..870 px wide, 240 px high
    return coloured_pixels(shot, 120, 380, 40, 900)


def without_svg(page, ids):
    """PAGE with the charts of the given ids removed."""
    for i in ids:
        page = re.sub(r'<svg id="%s".*?</svg>\n' % i, "", page, flags=re.S)
    return page


CHARTS = ("hours", "tarpit", "returns", "s25r", "store")


def check_html(page, tmp):
    """tidy accepts it; Chromium renders charts that are not blank, and
    the same checks say so of a blank page and of pages without charts."""
    path = os.path.join(tmp, "report.html")
    with open(path, "w") as f:
        f.write(page)
    check("<script" not in page and not re.search(r"(src|href)=\"(https?:)?//", page),
        "no script and no external reference in the page")
    tidy = subprocess.run(["tidy", "-e", "-q", path], capture_output=True, text=True, timeout=60)
    check(tidy.returncode in (0, 1) and "Error:" not in tidy.stderr, "tidy -e",
        tidy.stderr, "no errors")
    for i in CHARTS:
        check(page.count('<svg id="%s"' % i) == 1, "chart %s in the page" % i)
    shot = shoot(page, tmp, "report")
    n = hour_chart_pixels(shot)
    check(n >= 1000, "coloured pixels in the hour chart", n, ">= 1000")
    # negative controls: the same check on a blank page and on the page
    # without its charts must fail
    for name, other in (("blank", "<!DOCTYPE html>\n<html><body></body></html>\n"),
            ("nocharts", without_svg(page, CHARTS))):
        n = hour_chart_pixels(shoot(other, tmp, name))
        check(n < 1000, "the hour chart check on the %s page" % name, n, "< 1000 (fails)")
    # the whole page, tall: every chart adds coloured pixels of its own
    # (left of x = 40 sit the table legends, not counted)
    full = coloured_pixels(shoot(page, tmp, "tall", 2600), 0, 2600, 40, 960)
    for i in CHARTS[1:]:
        rest = coloured_pixels(shoot(without_svg(page, [i]), tmp, "no-" + i, 2600),
            0, 2600, 40, 960)
        check(full - rest >= 200, "coloured pixels of chart %s" % i, full - rest, ">= 200")
    if os.environ.get("TG_REPORT_SHOT"):
        shutil.copy(shoot(page, tmp, "doc", 2500), os.environ["TG_REPORT_SHOT"])


def total(text, label):
    m = re.search(r"^  %s\s+(\d+)$" % re.escape(label), text, re.M)
    return int(m.group(1)) if m else None


def s25r_of(lines, ip):
    """The s25r= fact of ip's decision lines (one client, one answer)."""
    for d in lines:
        m = re.search(r"\bs25r=(\S+)", d["extra"])
        if d["addr"] == ip and m:
            return m.group(1)
    return None


def s25r_category(fact):
    """The report's label of an s25r= fact, or None (no_match)."""
    if fact.startswith("s25r_rule_"):
        return "S25R rule " + fact[len("s25r_rule_"):]
    if fact.startswith("whitelist"):
        return "S25R whitelist"
    return None if fact == "no_match" else "client_access table"


def plant(r, text):
    out = r.milter.ctl("load", "-", stdin="# targrey-milter dump 1\n" + text)
    check(out.returncode == 0, "targreyctl load", out.returncode, 0, out.stdout + out.stderr)


def greylist_returns(r):
    """127.0.0.22 and .23, tarpit-failed: greylisted once each; .23
    returns after greylist_delay (2 s), .22's triplet is set 20 min back
    first and returns after 1200 s."""
    now = int(time.time())
    plant(r, "".join("tarpit\t%s\tfirst=%d last=%d count=1\n" % (ip, now, now)
        for ip in ("127.0.0.22", "127.0.0.23")))
    attempt(r, "127.0.0.22", "carol@example.com", "new")
    first = time.monotonic()
    attempt(r, "127.0.0.23", "dave@example.com", "new")
    key = [l for l in r.milter.ctl("list", "greylist").stdout.splitlines()
        if "carol@example.com" in l]
    check(len(key) == 1, "greylist record of 127.0.0.22", key, "one line")
    back = int(time.time()) - 1200
    plant(r, "greylist\t%s\tfirst=%d last=%d retries=0 passed=0\n"
        % (key[0].split("\t")[0].split()[0], back, back))
    time.sleep(max(0, first + 2.5 - time.monotonic()))
    attempt(r, "127.0.0.23", "dave@example.com", None, "pass_triplet")
    attempt(r, "127.0.0.22", "carol@example.com", None, "pass_triplet")


def records(r, db):
    out = r.milter.ctl("list", db)
    check(out.returncode == 0, "targreyctl list " + db, out.returncode, 0, out.stderr)
    return len([l for l in out.stdout.splitlines() if l.strip()])


def main(r):
    access = os.path.join(r.milter.dir, "s25r_access")
    with open(access, "w") as f:
        f.write("/^static1-2\\.example\\.net$/ OK\n")
    os.chmod(access, 0o644)
    r.milter.params["s25r_client_access"] = "regexp:" + access
    for name, ip in (("mail.example.com", "127.0.0.10"),
            ("dyn-127-0-0-21.pool.example.net", "127.0.0.21"),
            ("dyn-127-0-0-22.pool.example.net", "127.0.0.22"),
            ("static1-2.example.net", "127.0.0.25"),
            ("mail-ed1-f41.google.com", "127.0.0.26")):
        r.dns.add_host(name, ip)   # 127.0.0.23 has no name: rule 0
    r.start()
    sessions = {}
    for ip in ["127.0.0.10"] * N + ["127.0.0.25", "127.0.0.26"]:
        res = r.swaks(source=ip, sender="alice@example.com",
            to="bob@example.org", helo="mail.example.com")
        check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
        r.milter.wait_decision(queue_id=res.queue_id, action="accept")
        sessions[ip] = sessions.get(ip, 0) + 1
    res = r.swaks(source="127.0.0.21", sender="alice@example.com",
        to="bob@example.org", helo="client.example.com", timeout=30)
    check(res.rc == 0, "swaks exit status (tarpit)", res.rc, 0, res.transcript)
    r.milter.wait_decision(queue_id=res.queue_id, action="accept")
    sessions["127.0.0.21"] = 1
    greylist_returns(r)
    sessions["127.0.0.22"] = sessions["127.0.0.23"] = 2
    lines = r.milter.decisions()
    accepted = len([d for d in lines if d["action"] == "accept" and d["stage"] == "eom"])
    tarpit = len([d for d in lines if d["action"] == "tarpit" and d["reason"] == "passed"])
    grey = len([d for d in lines if d["action"] == "greylist"])
    check((tarpit, grey) == (1, 2), "decision lines (tarpit passed, greylisted)",
        (tarpit, grey), (1, 2))
    want_s25r = {}
    for ip, n in sessions.items():
        fact = s25r_of(lines, ip)
        check(fact is not None, "s25r= of %s in its decision lines" % ip)
        label = s25r_category(fact)
        if label:
            want_s25r[label] = want_s25r.get(label, 0) + n
    check(want_s25r.get("S25R rule 0") == 2 and want_s25r.get("client_access table") == 1
        and want_s25r.get("S25R whitelist") == 1, "S25R answers of the run", want_s25r,
        "rule 0: 2, table: 1, whitelist: 1, and the dyn- names' rule")
    r.milter.stop()
    store = {db: records(r, db) for db in ("greylist", "clients", "tarpit")}
    check(store["greylist"] >= 2 and store["tarpit"] >= 2, "records after the run", store,
        ">= 2 greylist, >= 2 tarpit")
    out = r.milter.ctl("report", "--lang", "en")
    check(out.returncode == 0, "targreyctl report", out.returncode, 0, out.stderr)
    text = out.stdout
    got = (total(text, "accepted"), total(text, "tarpit passed"),
        total(text, "greylisted"), total(text, "suspicious clients"), total(text, "decisions"))
    want = (accepted, tarpit, grey, got[3], got[4])
    check(got == want and got[3] >= 5, "report totals (accepted, tarpit passed, greylisted, "
        "suspicious, decisions)", got, want, text)
    got = {l: total(text, l) for l in want_s25r}
    check(got == want_s25r, "report S25R answers", got, want_s25r, text)
    got = [total(text, l) for l in ("greylist returned", "under 5 min", "under 15 min",
        "under 1 h", "under 4 h")]
    check(got == [2, 1, 0, 1, 0], "report greylist returns (all, <5 min, <15 min, <1 h, <4 h)",
        got, [2, 1, 0, 1, 0], text)
    part = text[text.index("\nStore size"):].split("\n\n")[0]
    m = re.findall(r"^\d{4}-\d\d-\d\d\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+(\d+)$", part, re.M)
    got = m and tuple(int(x) for x in m[-1])
    check(got and got[:3] == (store["greylist"], store["clients"], store["tarpit"]) and got[3] > 0,
        "report store size (greylist, clients, tarpit, KiB)", got,
        (store["greylist"], store["clients"], store["tarpit"], "> 0"), text)
    suspicious = total(text, "suspicious clients")
    part = text[text.index("\nTop suspicious networks"):].split("\n\n")[0]
    got = re.findall(r"^(?:\d{4}-\d\d-\d\d)?\s+(\S+/\d+)\s+(\d+)$", part, re.M)
    check(got == [("127.0.0.0/24", str(suspicious))], "report top suspicious networks",
        got, [("127.0.0.0/24", str(suspicious))], text)
    ja = r.milter.ctl("report", "--lang", "ja").stdout
    got = (total(ja, "受理"), total(ja, "tarpit 通過"), total(ja, "5 分未満"), total(ja, "1 時間未満"),
        total(ja, "S25R 規則 0"))
    check(got == (accepted, tarpit, 1, 1, 2), "report totals (ja)", got,
        (accepted, tarpit, 1, 1, 2), ja)
    html = r.milter.ctl("report", "--html", "-", "--lang", "en")
    check(html.returncode == 0, "targreyctl report --html", html.returncode, 0, html.stderr)
    for label in ("accepted", "tarpit passed", "greylisted", "under 5 min", "under 1 h",
            "S25R rule 0", "client_access table", "S25R whitelist", "greylist", "clients"):
        cells = re.findall(r"<td>%s</td><td class=\"n\" id=\"total-\d+\">(\d+)<"
            % re.escape(label), html.stdout)
        want = store.get(label, None)
        if want is None:
            want = total(text, label)
        check(cells and int(cells[-1]) == want, "HTML total of %s" % label, cells, want)
    rows = re.findall(r"<tr><td>[-0-9]+</td><td>([^<]+)</td><td class=\"n\">(\d+)</td></tr>",
        html.stdout)
    check(rows == [("127.0.0.0/24", str(suspicious))], "HTML top suspicious networks",
        rows, [("127.0.0.0/24", str(suspicious))])
    with tempfile.TemporaryDirectory(prefix="tg-report-") as tmp:
        check_html(html.stdout, tmp)


rig.main(main, timeout=400, milter_params={"tarpit_delay": "2s",
    "tarpit_poll_interval": "250ms", "s25r_reverse_lookup": "yes",
    "greylist_delay": "2s", "greylist_retry_count": "1"})
