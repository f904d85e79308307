"""cli/show_grouping — runs are averaged only with their true seed replicates: two seeds
from scratch and the same two seeds started from one of them (init_from) in one
experiment are two groups in `engram show` (and in summary.h5's init_from column), not
one group of four (issue 15, item 2)."""
import os
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: grouping
model: faulty
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 20, dim: 8}
params: {x: 2.0}
task: {kind: retrieve, memories: 10, queries: 2}
"""


def main():
    tmp, env = setup("eg-grouping-")
    spec = os.path.join(tmp, "s.yaml")
    with open(spec, "w") as f:
        f.write(SPEC)
    out = os.path.join(tmp, "r")
    p = subprocess.run([ENGRAM, "run", spec, "--out", out], env=env, capture_output=True, text=True)
    check(p.returncode == 0, "two runs from scratch")
    runs = os.path.join(out, "grouping", "runs")
    first = sorted(os.listdir(runs))[0][:16]
    p = subprocess.run([ENGRAM, "run", spec, "--out", out, "init_from=" + first], env=env, capture_output=True,
                       text=True)
    check(p.returncode == 0, "the same seeds from run %s's weights" % first)
    p = subprocess.run([ENGRAM, "show", os.path.join(out, "grouping")], env=env, capture_output=True, text=True)
    check("4 runs in 2 groups, 4 ok" in p.stdout, "show: 4 runs in 2 groups\n" + p.stdout)
    check("init_from" in p.stdout.splitlines()[2] and first in p.stdout, "the init_from column tells them apart")
    with h5py.File(os.path.join(out, "grouping", "summary.h5"), "r") as f:
        names = f["summary"].dtype.names
    check("init_from" in names, "summary.h5 has an init_from column %s" % (names,))
    finish()


if __name__ == "__main__":
    main()
