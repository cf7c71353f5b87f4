#!/usr/bin/env python3
"""mkfixture.py - turn the RFC 7208 test suite (JSON) into the line fixture
read by spf_suite.c.

Usage: python3 mkfixture.py rfc7208-tests.json > rfc7208-tests.txt

Output lines, fields separated by tabs, every field percent-encoded
(bytes outside 0x21-0x7e, '%' and tab become %XX):
  S  description                                  a new scenario
  Z  name  TYPE  value                            a zone record
     TYPE is A AAAA PTR CNAME MX TXT or TIMEOUT; MX value is "pref name";
     TXT values are the character-strings joined (RFC 7208 3.3);
     TIMEOUT with an empty TYPE value times out every type.
  T  name  host  helo  mailfrom  results  explanation
     results: the acceptable results, comma separated;
     explanation: "-" when the test gives none.
As the pyspf driver does, SPF-type records are copied to TXT for names
that have no TXT entry, unless the name says TXT: NONE.
"""
import json
import sys


def enc(value):
    out = []
    for b in value.encode("utf-8"):
        if b < 0x21 or b > 0x7e or b in (0x25, 0x09):
            out.append("%%%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def line(*fields):
    return "\t".join([fields[0]] + [enc(str(f)) for f in fields[1:]])


def txt_value(v):
    return "".join(v) if isinstance(v, list) else v


def zone_lines(zonedata):
    lines = []
    for name, rrs in zonedata.items():
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in rrs)
        for rr in rrs:
            if isinstance(rr, str):
                lines.append(line("Z", name, "TIMEOUT", ""))
                continue
            for rtype, v in rr.items():
                if rtype == "TXT" and v == "NONE":
                    continue
                if v == "TIMEOUT":
                    lines.append(line("Z", name, "TIMEOUT", rtype))
                elif rtype == "MX":
                    lines.append(line("Z", name, "MX", "%d %s" % (v[0], v[1])))
                elif rtype == "SPF":
                    if not has_txt:
                        lines.append(line("Z", name, "TXT", txt_value(v)))
                elif rtype == "TXT":
                    lines.append(line("Z", name, "TXT", txt_value(v)))
                else:
                    lines.append(line("Z", name, rtype, v))
    return lines


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        suite = json.load(f)
    for scenario in suite:
        print(line("S", scenario.get("description", "")))
        for zl in zone_lines(scenario.get("zonedata", {})):
            print(zl)
        for name, t in scenario["tests"].items():
            res = t["result"]
            res = ",".join(res) if isinstance(res, list) else res
            print(line("T", name, t["host"], t.get("helo", ""),
                       t.get("mailfrom", ""), res, t.get("explanation", "-")))


if __name__ == "__main__":
    main()
