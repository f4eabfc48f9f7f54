#!/usr/bin/env python3
"""Prints every PromQL expression of warta's dashboard and alerting rules.

One JSON object per line:

    {"source": "deploy/grafana/warta.json panel 2 \"Pages consumed\" target A", "expr": "...", "panel": true}
    {"source": "deploy/prometheus/alerts.yml alert WartaNoOutput", "expr": "...", "panel": false}

Dashboard expressions come with Grafana's variables replaced so that they can
be sent to Prometheus's query API as they are: $__rate_interval, $__interval
and $__range become 1m, $instance becomes .* (the "All" value). The Rust
integration test and .ci/check-observability use this script.

Standard library only: alerts.yml is read line by line, without a YAML library.
It understands `expr:` on one line (plain or quoted) and `|` / `>` blocks,
which is all alerts.yml uses.

Usage: .ci/promql_exprs.py [--raw] [--dashboard FILE] [--alerts FILE]
  --raw   keep Grafana's variables as they are in the dashboard
"""

import json
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DASHBOARD = "deploy/grafana/warta.json"
ALERTS = "deploy/prometheus/alerts.yml"

# What the integration test substitutes; the order does not matter (no name is
# a prefix of another once the `$` is included), but longest first is safest.
SUBSTITUTIONS = [
    ("$__rate_interval", "1m"),
    ("${__rate_interval}", "1m"),
    ("$__interval", "1m"),
    ("${__interval}", "1m"),
    ("$__range", "1m"),
    ("${__range}", "1m"),
    ("${instance}", ".*"),
    ("$instance", ".*"),
]


def substitute(expr):
    for var, value in SUBSTITUTIONS:
        expr = expr.replace(var, value)
    return expr


def walk_panels(panels):
    """Yields every panel, including those nested in (collapsed) rows."""
    for panel in panels or []:
        yield panel
        yield from walk_panels(panel.get("panels"))


def dashboard_exprs(path, raw=False):
    """[(source, expr)] for every target of every panel, in dashboard order."""
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    rel = os.path.relpath(path, ROOT)
    out = []
    for panel in walk_panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            expr = target.get("expr", "")
            source = '%s panel %s "%s" target %s' % (
                rel, panel.get("id"), panel.get("title", ""), target.get("refId", "?"))
            out.append((source, expr if raw else substitute(expr)))
    return out


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def _strip_comment(value):
    # A plain (unquoted) scalar ends at " #"; PromQL has no " #".
    if value[:1] in ("'", '"'):
        return value
    return re.sub(r"\s+#.*$", "", value)


def alert_rules(path):
    """Rules of a Prometheus rules file, read line by line.

    Returns [{"kind": "alert"|"record", "name": ..., "expr": ..., "line": N,
    "keys": {key: value}}], where keys holds every other `key: value` line of
    the rule (labels and annotations included, flattened) for simple checks.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    rules = []
    rule = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)-\s+(alert|record):\s*(.*)$", line)
        if m:
            rule = {"kind": m.group(2), "name": _unquote(_strip_comment(m.group(3))),
                    "expr": None, "line": i + 1, "keys": {}}
            rules.append(rule)
            i += 1
            continue
        m = re.match(r"^(\s*)(-\s+)?([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", line)
        if m and rule is not None and not line.lstrip().startswith("#"):
            indent = len(m.group(1)) + len(m.group(2) or "")
            key, value = m.group(3), _strip_comment(m.group(4)).strip()
            if value[:1] in ("|", ">"):
                folded = value[0] == ">"
                block = []
                j = i + 1
                while j < len(lines):
                    nxt = lines[j]
                    if nxt.strip() and len(nxt) - len(nxt.lstrip(" ")) <= indent:
                        break
                    block.append(nxt)
                    j += 1
                width = min((len(b) - len(b.lstrip(" ")) for b in block if b.strip()), default=0)
                block = [b[width:] for b in block]
                while block and not block[-1].strip():
                    block.pop()
                text = (" " if folded else "\n").join(block)
                i = j
            else:
                text = _unquote(value)
                i += 1
            if key == "expr":
                rule["expr"] = text.strip()
            else:
                rule["keys"][key] = text
            continue
        i += 1
    return rules


def all_exprs(dashboard=None, alerts=None, raw=False):
    """[{"source", "expr", "panel"}] for the dashboard, then the rules."""
    dashboard = dashboard or os.path.join(ROOT, DASHBOARD)
    alerts = alerts or os.path.join(ROOT, ALERTS)
    out = [{"source": s, "expr": e, "panel": True} for s, e in dashboard_exprs(dashboard, raw)]
    rel = os.path.relpath(alerts, ROOT)
    for rule in alert_rules(alerts):
        out.append({"source": "%s %s %s" % (rel, rule["kind"], rule["name"]),
                    "expr": rule["expr"] or "", "panel": False})
    return out


def main(argv):
    raw = False
    dashboard = alerts = None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--raw":
            raw = True
        elif arg == "--dashboard" and args:
            dashboard = args.pop(0)
        elif arg == "--alerts" and args:
            alerts = args.pop(0)
        else:
            sys.stderr.write(__doc__.split("Usage: ")[1])
            return 2
    for item in all_exprs(dashboard, alerts, raw):
        print(json.dumps(item, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
