#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A strict reader of the text sriovd's GetMetrics returns: Prometheus'
text exposition format 0.0.4, or OpenMetrics 1.0 with --openmetrics.

    exposition.py [--openmetrics] FILE      checks FILE, prints one line per
                                            sample: NAME {labels} VALUE

Checked: every line is a HELP, TYPE, sample or (OpenMetrics) the closing
"# EOF"; a family's HELP and TYPE come once, before its samples, and its
samples are together; metric and label names are valid; label values
are quoted with \\\\, \\" and \\n escaped; values are numbers; a series
appears once; counters end in _total; histogram buckets are cumulative,
have le="+Inf" equal to _count, and come with _sum and _count. Exit
status 1 with the line at fault."""

import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped", "info", "unknown", "stateset", "gaugehistogram"}


def fail(n, line, why):
    print(f"line {n}: {why}: {line!r}", file=sys.stderr)
    sys.exit(1)


def parse_labels(n, line, text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            fail(n, line, "bad label")
        if m.group(1) in labels:
            fail(n, line, "label twice")
        labels[m.group(1)] = m.group(2)
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                fail(n, line, "labels not separated by ','")
            pos += 1
    return labels


def family_of(name, families):
    for suffix in ("_bucket", "_sum", "_count", "_total", "_info", "_created", ""):
        if suffix and not name.endswith(suffix):
            continue
        base = name[: len(name) - len(suffix)] if suffix else name
        if base in families:
            return base
    return None


def main():
    om = "--openmetrics" in sys.argv
    path = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    text = open(path, encoding="utf-8").read()
    if not text.endswith("\n"):
        fail(0, "", "no newline at the end")
    lines = text.split("\n")[:-1]
    families, types, done, series, current = {}, {}, set(), set(), None
    samples = []
    for n, line in enumerate(lines, 1):
        if om and line == "# EOF":
            if n != len(lines):
                fail(n, line, "# EOF before the end")
            break
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            name, _, value = rest.partition(" ")
            if not NAME.match(name):
                fail(n, line, "bad family name")
            if name in done:
                fail(n, line, "family again after its samples")
            if (name, kind) in families:
                fail(n, line, kind + " twice")
            families[(name, kind)] = value
            if kind == "TYPE":
                if value not in TYPES:
                    fail(n, line, "unknown type")
                if name in types:
                    fail(n, line, "TYPE twice")
                types[name] = value
            if current and current != name:
                done.add(current)
            current = name
            continue
        if line.startswith("#"):
            if om:
                fail(n, line, "a comment (OpenMetrics has none)")
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m:
            fail(n, line, "not a sample")
        name, labels = m.group(1), parse_labels(n, line, m.group(3) or "")
        try:
            value = float(m.group(4))
        except ValueError:
            fail(n, line, "value is not a number")
        fam = family_of(name, types)
        if fam is None:
            fail(n, line, "sample without a TYPE")
        if fam != current:
            fail(n, line, "sample away from its family")
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            fail(n, line, "series twice")
        series.add(key)
        t = types[fam]
        if t == "counter":
            if not name.endswith("_total"):
                fail(n, line, "counter sample without _total")
            if om and fam.endswith("_total"):
                fail(n, line, "OpenMetrics counter family named with _total")
            if not om and fam != name:
                fail(n, line, "counter family is not its sample's name")
            if value < 0:
                fail(n, line, "negative counter")
        samples.append((n, line, fam, t, name, labels, value))
    else:
        if om:
            fail(len(lines), "", "no # EOF at the end")
    check_histograms(samples)
    for _, _, _, _, name, labels, value in samples:
        print(name, "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}", repr(value))


def check_histograms(samples):
    groups = {}
    for n, line, fam, t, name, labels, value in samples:
        if t != "histogram":
            continue
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault((fam, rest), {"buckets": [], "sum": None, "count": None, "line": (n, line)})
        if name == fam + "_bucket":
            if "le" not in labels:
                fail(n, line, "bucket without le")
            g["buckets"].append((float(labels["le"]), value))
        elif name == fam + "_sum":
            g["sum"] = value
        elif name == fam + "_count":
            g["count"] = value
        else:
            fail(n, line, "not a histogram series")
    for (fam, rest), g in groups.items():
        n, line = g["line"]
        b = g["buckets"]
        if not b or b[-1][0] != float("inf"):
            fail(n, line, fam + ": no le=\"+Inf\" bucket last")
        if [x[0] for x in b] != sorted(x[0] for x in b):
            fail(n, line, fam + ": buckets not in order")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            fail(n, line, fam + ": buckets not cumulative")
        if g["count"] is None or g["sum"] is None or b[-1][1] != g["count"]:
            fail(n, line, fam + ": _count missing or not the +Inf bucket")


if __name__ == "__main__":
    main()
