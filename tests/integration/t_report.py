#!/usr/bin/env python3
"""
NAME
    t_report - targreyctl report: hourly counters after a known run,
    as text and as an HTML page checked by tidy and headless Chromium
DESCRIPTION
    Through the rig's Postfix: N clean sessions (accepted) and one
    suspicious client that waits out a 2s tarpit. After the milter
    stops (its last flush), `targreyctl report` prints accepted = N+1
    and tarpit passed = 1 (the numbers of those decision lines in the
    log), decisions = N+2 and suspicious clients = 1, in English and in
    Japanese; `--html -` gives a page whose
    totals are the same, which `tidy -e` accepts without errors and
    which has no script and no external reference; Chromium
    (--headless, no network) renders it, and the screenshot's chart
    region is not blank (at least 1000 clearly coloured pixels: bars). The screenshot is
    kept as docs/report-screenshot.png when TG_REPORT_SHOT is set.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig
from rig import check

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


def check_html(page, tmp):
    """tidy accepts it; Chromium renders charts that are not blank."""
    path = os.path.join(tmp, "report.html")
    with open(path, "w") as f:
        f.write(page)
    check("<script" not in page and not re.search(r"(src|href)=\"(https?:)?//", page),
        "no script and no external reference in the page")
    tidy = subprocess.run(["tidy", "-e", "-q", path], capture_output=True, text=True, timeout=60)
    check(tidy.returncode in (0, 1) and "Error:" not in tidy.stderr, "tidy -e",
        tidy.stderr, "no errors")
    shot = os.path.join(tmp, "shot.png")
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "chr"),
        "--window-size=960,1000", "--screenshot=" + shot, "file://" + path],
        capture_output=True, timeout=120)
    check(os.path.exists(shot), "Chromium wrote a screenshot")
    # the hour chart sits below the two headings, 30..870 px wide, 240 px high
    n = coloured_pixels(shot, 120, 380, 40, 900)
    check(n >= 1000, "coloured pixels in the hour chart", n, ">= 1000")
    if os.environ.get("TG_REPORT_SHOT"):
        shutil.copy(shot, os.environ["TG_REPORT_SHOT"])


def total(text, label):
    m = re.search(r"^  %s\s+(\d+)$" % re.escape(label), text, re.M)
    return int(m.group(1)) if m else None


def main(r):
    r.dns.add_host("mail.example.com", "127.0.0.10")
    r.dns.add_host("dyn-127-0-0-21.pool.example.net", "127.0.0.21")
    r.start()
    for _ in range(N):
        res = r.swaks(source="127.0.0.10", sender="alice@example.com",
            to="bob@example.org", helo="mail.example.com")
        check(res.rc == 0, "swaks exit status", res.rc, 0, res.transcript)
        r.milter.wait_decision(queue_id=res.queue_id, action="accept")
    res = r.swaks(source="127.0.0.21", sender="alice@example.com",
        to="bob@example.org", helo="client.example.com", timeout=30)
    check(res.rc == 0, "swaks exit status (tarpit)", res.rc, 0, res.transcript)
    r.milter.wait_decision(queue_id=res.queue_id, action="accept")
    lines = r.milter.decisions()
    accepted = len([d for d in lines if d["action"] == "accept" and d["stage"] == "eom"])
    tarpit = len([d for d in lines if d["action"] == "tarpit" and d["reason"] == "passed"])
    check((accepted, tarpit) == (N + 1, 1), "decision lines", (accepted, tarpit), (N + 1, 1))
    r.milter.stop()
    out = r.milter.ctl("report", "--lang", "en")
    check(out.returncode == 0, "targreyctl report", out.returncode, 0, out.stderr)
    got = (total(out.stdout, "accepted"), total(out.stdout, "tarpit passed"),
        total(out.stdout, "suspicious clients"), total(out.stdout, "decisions"))
    want = (accepted, tarpit, 1, accepted + tarpit)
    check(got == want, "report totals (accepted, tarpit passed, suspicious, decisions)",
        got, want, out.stdout)
    ja = r.milter.ctl("report", "--lang", "ja").stdout
    got = (total(ja, "受理"), total(ja, "tarpit 通過"))
    check(got == (accepted, tarpit), "report totals (ja)", got, (accepted, tarpit), ja)
    html = r.milter.ctl("report", "--html", "-", "--lang", "en")
    check(html.returncode == 0, "targreyctl report --html", html.returncode, 0, html.stderr)
    for cat, want in ((0, accepted), (2, tarpit)):
        m = re.search(r'id="total-%d">(\d+)<' % cat, html.stdout)
        check(m and int(m.group(1)) == want, "HTML total %d" % cat,
            m and m.group(1), want)
    with tempfile.TemporaryDirectory(prefix="tg-report-") as tmp:
        check_html(html.stdout, tmp)


rig.main(main, timeout=300, milter_params={"tarpit_delay": "2s",
    "tarpit_poll_interval": "250ms", "s25r_reverse_lookup": "yes"})
