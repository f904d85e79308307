"""cli/show_formats — `engram show --json` and `--csv` carry the table's numbers exactly:
on a faulty-model sweep (x in {0.5, 3} x seeds {0, 1, 2}; fault/score = 2x + seed), every
group's mean, sd and n in the JSON equal numpy's over summary.h5, the CSV has the same
values, the text table prints them rounded, and --json --csv together is a usage error."""
import csv
import io
import json
import os
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: formats
model: faulty
backend: cpu
seeds: [0, 1, 2]
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
sweep: {grid: {params.x: [0.5, 3]}}
"""


def main():
    tmp, env = setup("eg-show-formats-")
    spec = os.path.join(tmp, "s.yaml")
    with open(spec, "w") as f:
        f.write(SPEC)
    out = os.path.join(tmp, "r")
    exp = os.path.join(out, "formats")
    p = subprocess.run([ENGRAM, "run", spec, "--out", out, "-j", "2"], env=env, capture_output=True, text=True)
    check(p.returncode == 0, "the sweep runs")
    js = subprocess.run([ENGRAM, "show", exp, "--json"], env=env, capture_output=True, text=True)
    doc = json.loads(js.stdout) if js.returncode == 0 else {"groups": []}
    check(js.returncode == 0 and len(doc["groups"]) == 2, "--json: two groups")
    with h5py.File(os.path.join(exp, "summary.h5"), "r") as f:
        rows = f["summary"][()]
    for g in doc["groups"]:
        x = g["params"]["params.x"]
        v = rows["fault/score"][rows["params.x"] == x]
        m = g["metrics"]["fault/score"]
        check(g["ok"] == g["total"] == 3 and m["n"] == 3, "x=%g: 3 of 3 runs" % x)
        check(m["mean"] == v.mean() and abs(m["sd"] - v.std(ddof=1)) < 1e-15, "x=%g: mean %r sd %r equal numpy's "
              "(%r, %r)" % (x, m["mean"], m["sd"], v.mean(), v.std(ddof=1)))
        check(m["mean"] == 2 * x + 1, "x=%g: the mean is 2x + 1" % x)
    cs = subprocess.run([ENGRAM, "show", exp, "--csv"], env=env, capture_output=True, text=True)
    table = list(csv.DictReader(io.StringIO(cs.stdout)))
    check(cs.returncode == 0 and len(table) == 2, "--csv: two rows")
    for r, g in zip(table, doc["groups"]):
        check(float(r["params.x"]) == g["params"]["params.x"] and
              float(r["fault/score:mean"]) == g["metrics"]["fault/score"]["mean"] and
              int(r["fault/score:n"]) == 3, "csv row x=%s matches the json" % r["params.x"])
    text = subprocess.run([ENGRAM, "show", exp], env=env, capture_output=True, text=True).stdout
    check("2 ± 1" in text and "7 ± 1" in text, "the table prints the same means rounded:\n" + text)
    bad = subprocess.run([ENGRAM, "show", exp, "--json", "--csv"], env=env, capture_output=True, text=True)
    check(bad.returncode == 2, "--json with --csv: exit 2")
    finish()


if __name__ == "__main__":
    main()
