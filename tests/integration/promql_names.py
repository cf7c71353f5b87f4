"""
NAME
    promql_names - the metric names contrib/'s dashboard and rules use
DESCRIPTION
    used_metrics(srcdir) reads contrib/grafana-targrey-milter.json (every
    "expr" of every panel and template, JSON-parsed) and the "expr:"
    lines of contrib/targrey-milter.rules.yml, and returns
    {metric name: [where it is used]} for each name their PromQL
    expressions select: string literals, label matchers {...}, ranges
    [...], the label lists of by/without/on/ignoring/group_left/
    group_right, function names, keywords and numbers are not names.
    exported(text) returns the series names an exposition (text format)
    can be queried by: every "# TYPE" family, and _bucket, _sum and
    _count of each histogram. missing(used, text, ignore_prefix=None)
    lists the used names the exposition lacks, except Prometheus's own
    ("up", "scrape_...") and, when given, those under ignore_prefix.
"""
import json
import os
import re

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "offset", "and", "or", "unless", "inf", "nan"}
PROMETHEUS_OWN = re.compile(r"^(up|scrape_\w+)$")


def names_in(expr):
    """The metric names PromQL expression expr selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue    # 5m, 1e3
        names.add(word)
    return names


def _exprs_json(node, where, out):
    if isinstance(node, dict):
        title = node.get("title", where)
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                out.append((value, title))
            elif key == "query" and isinstance(value, str) and "label_values(" in value:
                out.append((re.sub(r"label_values\((.*),\s*\w+\s*\)", r"\1", value),
                    "template " + node.get("name", "?")))
            else:
                _exprs_json(value, title, out)
    elif isinstance(node, list):
        for value in node:
            _exprs_json(value, where, out)


def used_metrics(srcdir):
    """{name: [panel titles / rule lines]} for contrib/'s dashboard and rules."""
    exprs = []
    with open(os.path.join(srcdir, "contrib", "grafana-targrey-milter.json")) as f:
        _exprs_json(json.load(f), "dashboard", exprs)
    rules = os.path.join(srcdir, "contrib", "targrey-milter.rules.yml")
    with open(rules) as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"\s*expr:\s*(.*)$", line)
            if m:
                exprs.append((m.group(1), "rules line %d" % n))
    used = {}
    for expr, where in exprs:
        for name in names_in(expr):
            used.setdefault(name, []).append(where)
    return used


def exported(text):
    """The series names an exposition can be queried by."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)", text, re.M):
        names.add(name)
        if kind == "histogram":
            names |= {name + "_bucket", name + "_sum", name + "_count"}
    return names


def missing(used, text, ignore_prefix=None):
    """Used names (with where) the exposition text does not export."""
    have = exported(text)
    return sorted("%s (%s)" % (n, ", ".join(sorted(set(w))))
        for n, w in used.items()
        if n not in have and not PROMETHEUS_OWN.match(n)
        and not (ignore_prefix and n.startswith(ignore_prefix)))
