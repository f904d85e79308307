"""cli/report — `engram report` against the numbers it reports:

1. a faulty-model sweep (params.x in {0.5, 1, 4, 100} x mode {ok, fail} x 3 seeds): every
   table cell equals mean ± sd over seeds computed from summary.h5 (2x + 1 ± 1 for ok,
   '-' for the failed setting), the best row by the metric's goal is marked, one plot
   per metric against x with two lines (one per mode) on a log axis (x spans 200x),
   the curves, and every failed run listed with its error;
2. a hopfield sweep on digits: one picture per setting, laid out as the task says
   (3 rows: corrupted query / retrieved / target, 5 columns of 8x8 tiles upscaled 8x:
   352 x 208 pixels, read from the PNG header), reused unchanged on a second report;
3. two experiments in one report: an index page linking a page per experiment;
4. nothing refers to the network (no http(s) in src or href).
"""
import html.parser
import math
import os
import re
import shutil
import struct
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

FAULTY = """experiment: report-faulty
model: faulty
backend: cpu
seeds: [0, 1, 2]
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
sweep: {grid: {params.x: [0.5, 1, 4, 100], params.mode: [ok, fail]}}
"""

DIGITS = """experiment: report-digits
model: hopfield
backend: cpu
seeds: [0, 1]
data: {source: digits}
params: {variant: mchn, beta: 8.0, steps: 3}
task: {kind: retrieve, memories: 50, queries: 5, blocks: 2, corrupt: {kind: noise, sigma: 0.2}}
sweep: {grid: {task.corrupt.sigma: [0.2, 0.5]}}
"""


class Page(html.parser.HTMLParser):
    """the summary table's cells, the figures with their line labels, images, failures"""

    def __init__(self):
        super().__init__()
        self.rows, self.head, self.figures, self.imgs, self.failures = [], [], [], [], 0
        self.refs, self.in_summary, self.cell, self.text, self.fig = [], False, None, "", None
        self.xlabels = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.refs.append(a[k])
        if tag == "table" and "summary" in a.get("class", ""):
            self.in_summary = True
        if self.in_summary and tag == "tr":
            self.rows.append([])
        if self.in_summary and tag in ("td", "th"):
            self.cell, self.text = tag, ""
        if tag == "figure" and "plot" in a.get("class", ""):
            self.fig = {"kind": a.get("data-kind"), "lines": []}
            self.figures.append(self.fig)
        if tag == "g" and a.get("class") == "line" and self.fig is not None:
            self.fig["lines"].append(a.get("data-label"))
        if tag == "img":
            self.imgs.append(a.get("src"))
        if tag == "details" and "failure" in a.get("class", ""):
            self.failures += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_summary = False
        if self.in_summary and tag in ("td", "th") and self.cell:
            self.rows[-1].append((self.cell, self.text.strip()))
            self.cell = None
        if tag == "figure":
            self.fig = None

    def handle_data(self, data):
        if self.cell:
            self.text += data


def parse(path):
    p = Page()
    with open(path) as f:
        text = f.read()
    p.feed(text)
    return p, text


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is a PNG" % os.path.basename(path))
    return struct.unpack(">II", head[16:24])


def run(args, env):
    return subprocess.run([ENGRAM] + args, env=env, capture_output=True, text=True, timeout=600)


def main():
    tmp, env = setup("eg-report-")
    out = os.path.join(tmp, "results")
    for name, text in (("faulty", FAULTY), ("digits", DIGITS)):
        spec = os.path.join(tmp, name + ".yaml")
        with open(spec, "w") as f:
            f.write(text)
        p = run(["run", spec, "--out", out, "-j", "2"], env)
        check(p.returncode in (0, 1), "sweep %s ran (%d)" % (name, p.returncode))

    # 1. the faulty sweep
    exp = os.path.join(out, "report-faulty")
    p = run(["report", exp], env)
    page = os.path.join(exp, "report", "index.html")
    check(p.returncode == 0 and os.path.exists(page), "report writes DIR/report/index.html")
    doc, text = parse(page)
    with h5py.File(os.path.join(exp, "summary.h5"), "r") as f:
        rows = f["summary"][()]
    metrics = [n for n in rows.dtype.names if "/" in n]
    head = [t for _, t in doc.rows[0]]
    check(sorted(head[:2]) == ["mode", "x"] and head[2] == "n", "table columns: the swept parameters, then n %s" %
          head[:3])
    xi, mi = head.index("x"), head.index("mode")
    body = doc.rows[1:]
    check(len(body) == 8, "one table row per setting (%d)" % len(body))
    status = np.array([s.decode() for s in rows["status"]])
    mode = np.array([s.decode() for s in rows["params.mode"]])
    checked = 0
    for r in body:
        cells = [t for _, t in r]
        x, m = float(cells[xi]), cells[mi]
        sel = (rows["params.x"] == x) & (mode == m)
        n_ok = int(((status == "ok") & sel).sum())
        check(cells[2] == "%d/%d" % (n_ok, sel.sum()), "x=%g %s: n %s" % (x, m, cells[2]))
        for k, name in enumerate(metrics):
            v = rows[name][sel & (status == "ok")]
            v = v[np.isfinite(v)]
            if len(v) == 0:
                want = "- ± -"
            else:
                mean, sd = v.mean(), v.std(ddof=1) if len(v) > 1 else float("nan")
                a = "%.1f" % mean if 1e3 <= abs(mean) < 1e6 else "%.4g" % mean
                b = "-" if len(v) < 2 else "%.2g" % (0 if sd <= 1e-12 * abs(mean) else sd)
                want = "%s ± %s" % (a, b)
            got = cells[3 + head[3:].index([h for h in head[3:] if h.startswith(name)][0])]
            checked += got == want
            if got != want:
                check(False, "x=%g %s %s: %s, want %s" % (x, m, name, got, want))
    check(checked == 8 * len(metrics), "every metric cell equals mean ± sd of summary.h5 (%d cells)" % checked)
    score_col = 3 + [i for i, h in enumerate(head[3:]) if h.startswith("fault/score")][0]
    best = [r for r in body if r[score_col][1].startswith("201")]
    check(bool(best) and "<b>201" in text, "the best fault/score (x = 100: 2x + 1 = 201, goal max) is bold")
    params = [f for f in doc.figures if f["kind"] == "param"]
    check(len(params) == len(metrics), "one plot per metric against x (%d, %d metrics)" % (len(params), len(metrics)))
    check(all(sorted(f["lines"]) == ["mode=fail", "mode=ok"] for f in params),
          "each has two lines, mode=ok and mode=fail %s" % [f["lines"] for f in params][:1])
    check("x (log scale)" in text, "x spans 200x: a log axis")
    series = [f for f in doc.figures if f["kind"] == "series"]
    check(len(series) >= 1 and all(len(f["lines"]) >= 4 for f in series),
          "curves: one line per ok setting at least %s" % [len(f["lines"]) for f in series])
    check(doc.failures == 12, "the 12 failed runs are listed (%d)" % doc.failures)
    check("runs</th><td>24: " in text and "12 ok</span>, 12 failed" in text, "the header counts the runs")

    # 2. pictures, laid out by the task
    exp2 = os.path.join(out, "report-digits")
    p = run(["report", exp2], env)
    doc2, text2 = parse(os.path.join(exp2, "report", "index.html"))
    check(p.returncode == 0 and len(doc2.imgs) == 2, "one picture per setting (%d)" % len(doc2.imgs))
    for src in doc2.imgs:
        w, h = png_size(os.path.join(exp2, "report", src))
        check((w, h) == (352, 208), "%s: 5 columns x 3 rows of 64-pixel tiles, 352 x 208 (%d x %d)" % (src, w, h))
    check("rows, top to bottom: corrupted query / retrieved / target" in text2, "the caption names the rows")
    mt = {s: os.stat(os.path.join(exp2, "report", s)).st_mtime_ns for s in doc2.imgs}
    run(["report", exp2], env)
    check(all(os.stat(os.path.join(exp2, "report", s)).st_mtime_ns == t for s, t in mt.items()),
          "a second report reuses the pictures of unchanged runs")

    # 3. several experiments
    both = os.path.join(tmp, "both")
    p = run(["report", exp, exp2, "-o", both], env)
    check(p.returncode == 0 and os.path.exists(os.path.join(both, "report-faulty", "index.html")) and
          os.path.exists(os.path.join(both, "report-digits", "index.html")), "two DIRs: a page each")
    idx, _ = parse(os.path.join(both, "index.html"))
    check(sorted(idx.refs) == ["report-digits/index.html", "report-faulty/index.html"], "and an index linking them")

    # 4. self-contained
    net = [r for r in doc.refs + doc2.refs if re.match(r"\s*(https?:)?//", r)]
    check(not net, "no src or href to the network %s" % net[:3])
    p = run(["report", os.path.join(tmp, "nope")], env)
    check(p.returncode == 2 and "not an experiment directory" in p.stderr, "a missing DIR: exit 2")
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
