"""cli/show_options — `engram show` compares runs (issue 15, item 2): --where, --sort, --best,
--metrics, --width and `show DIR RUN_ID` on a faulty-model sweep whose metric is exact
(fault/score = 2x + seed, goal max); parameter columns only where they vary among the shown
runs, '-' where a case left a parameter to its default; the count column `runs` next to a
swept parameter called n; `plan --resolved` and the overrides a run file records."""
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: options
model: faulty
backend: cpu
seeds: [0, 1, 2]
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
sweep: {grid: {params.x: [0.5, 3, 1]}}
"""

CASES = """experiment: cases
model: faulty
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
sweep:
  cases:
    - {params.x: 2.0}
    - {params.epochs: 4}
"""

N_SWEPT = """experiment: nswept
model: hopfield
backend: cpu
seeds: [0]
data: {source: random-patterns, n: 40, dim: 16}
params: {variant: dense, steps: 2}
task: {kind: retrieve, memories: 20, queries: 4}
sweep: {grid: {params.n: [2, 3]}}
"""


def lines_of(text, first):
    """table lines whose first field is `first`"""
    return [l for l in text.splitlines() if l.split() and l.split()[0] == first]


def first_col(text, header_word):
    """the first field of every table row under the header line starting with header_word"""
    rows, on = [], False
    for l in text.splitlines():
        f = l.split()
        if f and f[0] == header_word:
            on = True
            continue
        if on:
            if not f or f[0].startswith("'") or f[0] == "best":
                break
            rows.append(f[0])
    return rows


def main():
    tmp, env = setup("eg-show-options-")
    out = os.path.join(tmp, "r")

    def sh(*args):
        return subprocess.run([ENGRAM] + list(args), env=env, capture_output=True, text=True)

    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    spec = write("s.yaml", SPEC)
    p = sh("run", spec, "params.epochs=2", "--out", out, "-j", "2")
    check(p.returncode == 0, "the sweep runs: " + p.stderr[-300:])
    exp = os.path.join(out, "options")
    with h5py.File(os.path.join(exp, "summary.h5"), "r") as f:
        rows = f["summary"][()]
        const = dict(f["constants"].attrs)
    ids = [i.decode() for i in rows["run_id"]]

    # the overrides are recorded, the same in every run: a constant
    check(list(const.get("overrides", [])) == ["params.epochs=2"], "run files record the overrides: %r" %
          const.get("overrides"))

    t = sh("show", exp).stdout
    hdr = [l for l in t.splitlines() if l.split()[:1] == ["x"]]
    check(bool(hdr) and " runs " in hdr[0] + " ", "the count column is 'runs':\n" + t)
    check(first_col(t, "x") == ["0.5", "3", "1"], "plan order without --sort: %r" % first_col(t, "x"))

    # --where
    w = sh("show", exp, "--where", "x>=1")
    check(w.returncode == 0 and first_col(w.stdout, "x") == ["3", "1"] and
          "6 runs in 2 groups, 6 ok (of 9 runs in the experiment)" in w.stdout, "--where x>=1:\n" + w.stdout)
    w = sh("show", exp, "--where", "params.x==0.5")
    check("the same in every run shown: x=0.5" in w.stdout and not lines_of(w.stdout, "x"),
          "a parameter --where fixes is no column, but named above the table:\n" + w.stdout)
    w = sh("show", exp, "--where", "x<3 and seed!=0", "--json")
    doc = json.loads(w.stdout)
    check([g["total"] for g in doc["groups"]] == [2, 2] and
          [g["metrics"]["fault/score"]["mean"] for g in doc["groups"]] == [2 * 0.5 + 1.5, 2 * 1 + 1.5],
          "--where with ' and ': seeds 1 and 2 of x < 3 (means 2x + 1.5)")
    w = sh("show", exp, "--where", "status==ok", "--where", "fault/score>7.5")
    check("x=3" in w.stdout and "1 run in 1 group" in w.stdout, "two --where, one on a metric:\n" + w.stdout)
    for bad, what in [("nope>1", "no column or constant 'nope'"), ("x>abc", "is a number, but 'abc' is not"),
                      ("x", "expected KEY OP VALUE")]:
        w = sh("show", exp, "--where", bad)
        check(w.returncode == 2 and what in w.stderr, "--where %s: exit 2, %r: %s" % (bad, what, w.stderr))

    # --sort: a metric with goal max sorts best first; +/- force the direction; parameters ascend
    for key, want in [("score", ["3", "1", "0.5"]), ("+score", ["0.5", "1", "3"]), ("x", ["0.5", "1", "3"]),
                      ("-x", ["3", "1", "0.5"]), ("fault/score", ["3", "1", "0.5"])]:
        s = sh("show", exp, "--sort", key)
        check(first_col(s.stdout, "x") == want, "--sort %s: %r" % (key, first_col(s.stdout, "x")))
    s = sh("show", exp, "--sort", "seed")
    check(s.returncode == 2 and "no such metric or swept parameter" in s.stderr, "--sort seed: exit 2")

    # --best
    b = sh("show", exp, "--best", "score")
    best_ids = sorted(ids[k] for k in range(len(ids)) if rows["params.x"][k] == 3)
    named = re.findall(r"its runs: (.*)", b.stdout)
    check(first_col(b.stdout, "x") == ["3"] and named and sorted(named[0].split()) == best_ids,
          "--best score: the x=3 group and its run ids:\n" + b.stdout)
    b = sh("show", exp, "--best", "rand")
    check(b.returncode == 2 and "declares no goal" in b.stderr and "rand:max" in b.stderr,
          "--best of a metric without a goal: exit 2 asking for :max or :min: " + b.stderr)
    b = sh("show", exp, "--best", "rand:min", "--json")
    doc = json.loads(b.stdout)
    means = {x: rows["fault/rand"][rows["params.x"] == x].mean() for x in (0.5, 1, 3)}
    want = min(means, key=means.get)
    check(len(doc["groups"]) == 1 and doc["groups"][0]["params"]["params.x"] == want and
          doc["best"] == {"metric": "fault/rand", "goal": "min"}, "--best rand:min picks x=%g" % want)

    # --metrics
    m = sh("show", exp, "--metrics", "score")
    check(m.returncode == 0 and "score" in m.stdout and "rand" not in m.stdout, "--metrics score:\n" + m.stdout)
    m = sh("show", exp, "--metrics", "rand,fault/sc*", "--json")
    doc = json.loads(m.stdout)
    check(list(doc["groups"][0]["metrics"]) == ["fault/rand", "fault/score"] and
          doc["goals"] == {"fault/rand": "none", "fault/score": "max"}, "--metrics in the order asked, with globs")
    m = sh("show", exp, "--metrics", "nope")
    check(m.returncode == 2 and "no metric 'nope'" in m.stderr and "fault/score" in m.stderr,
          "--metrics nope: exit 2 listing the metrics")

    # --width: blocks of metric columns that fit
    narrow = sh("show", exp, "--width", "40").stdout
    widest = max(len(l) for l in narrow.splitlines() if lines_of(l, "x") or l.startswith(" "))
    check(widest <= 40 or narrow.count("\nx ") >= 2, "--width 40 splits the table:\n" + narrow)
    check(sh("show", exp, "--width", "5").returncode == 2, "--width 5: exit 2")

    # show DIR RUN_ID
    one = sh("show", exp, ids[4][:6])
    check(one.returncode == 0 and ("run " + ids[4]) in one.stdout and "fault/score" in one.stdout and
          "(max)" in one.stdout and "config (resolved):" in one.stdout and "overrides" in one.stdout,
          "show DIR RUN_ID-prefix: the run in full:\n" + one.stdout[:600])
    score = float(re.search(r"fault/score\s+(\S+)", one.stdout).group(1))
    check(score == rows["fault/score"][4], "its metric is the run's: %r" % score)
    amb = sh("show", exp, "")
    nope = sh("show", exp, "zzzz")
    check(amb.returncode == 2 and "start of 9 run ids" in amb.stderr, "an ambiguous prefix: exit 2: " + amb.stderr)
    check(nope.returncode == 2 and "no run 'zzzz'" in nope.stderr, "an unknown run: exit 2")
    check(sh("show", exp, ids[0], "--json").returncode == 2, "RUN_ID with --json: usage error")

    # cases: a parameter a case leaves to the default shows '-'
    cspec = write("c.yaml", CASES)
    check(sh("run", cspec, "--out", out).returncode == 0, "the cases sweep runs")
    cexp = os.path.join(out, "cases")
    c = sh("show", cexp)
    xs = first_col(c.stdout, "epochs")
    check(xs == ["-", "4"] and "'-' in a parameter column: the spec did not set it" in c.stdout,
          "epochs: '-' where case 1 left it to its default:\n" + c.stdout)
    rows_c = [l.split() for l in c.stdout.splitlines() if l.split()[:1] in (["-"], ["4"])]
    check(len(rows_c) == 2 and rows_c[0][1] == "2" and rows_c[1][1] == "-", "x: '-' for case 2: %r" % rows_c)
    doc = json.loads(sh("show", cexp, "--json").stdout)
    check([g["defaulted"] for g in doc["groups"]] == [["params.epochs"], ["params.x"]] and
          doc["groups"][1]["params"]["params.x"] == 1.0, "JSON: the real value and the defaulted keys")

    # a swept parameter called n next to the count column
    nspec = write("n.yaml", N_SWEPT)
    check(sh("run", nspec, "--out", out).returncode == 0, "the n sweep runs")
    t = sh("show", os.path.join(out, "nswept")).stdout
    hdr = [l.split() for l in t.splitlines() if l.split()[:1] == ["n"]]
    check(bool(hdr) and hdr[0][:2] == ["n", "runs"] and first_col(t, "n") == ["2", "3"],
          "params.n is column 'n', the count is 'runs':\n" + t)

    # plan --resolved: one YAML document per run, what the run records in /config
    r = sh("plan", spec, "params.epochs=2", "--resolved")
    docs = list(yaml.safe_load_all(r.stdout))
    check(r.returncode == 0 and len(docs) == 9, "plan --resolved: 9 documents")
    with h5py.File(os.path.join(exp, "runs", ids[4] + ".h5"), "r") as f:
        recorded = yaml.safe_load(f["config"].asstr()[()])
    idx = [k for k, d in enumerate(docs) if d["params"]["x"] == rows["params.x"][4] and d["seed"] == rows["seed"][4]]
    check(len(idx) == 1 and docs[idx[0]] == recorded, "a run's document equals its recorded /config")
    check(docs[0]["params"]["epochs"] == 2 and "mode" in docs[0]["params"], "overrides and defaults resolved")
    finish()


if __name__ == "__main__":
    main()
