"""cli/override_shadowing — an override never loses silently (issue 15, item 4):

- an override of a key a grid axis sweeps (quickstart: task.corrupt.sigma=0.9) is exit 2,
  naming the override, the axis and its file:line, and the form that works;
- the same for a key a case sets (hopfield-digits: params.beta=100, set by case 1) and for
  a zip axis;
- the forms that do change the sweep work: sweep.grid.KEY=[...] replaces the axis, and
  sweep.cases.N.KEY=V changes case N only (the other case keeps its run id);
- sweep.cases.N with N out of range is exit 2; an override of a key no sweep sets still works.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
QUICK = os.path.join(SRC, "configs", "quickstart.yaml")
CASES = os.path.join(SRC, "configs", "smoke", "hopfield-digits.yaml")


def plan(*args):
    return subprocess.run([ENGRAM, "plan"] + list(args), capture_output=True, text=True)


def rows(out):
    """(run id, rest of the row) per planned run"""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^\d+\s+([0-9a-f]{16})\s+(.*)$", out, re.M)]


def main():
    p = plan(QUICK, "task.corrupt.sigma=0.9")
    check(p.returncode == 2, "quickstart task.corrupt.sigma=0.9: exit 2")
    check("override 'task.corrupt.sigma=0.9'" in p.stderr and "swept by sweep.grid (%s:" % QUICK in p.stderr and
          "sweep.grid.task.corrupt.sigma=[...]" in p.stderr, "names the override, the axis's file:line and the fix:\n" +
          p.stderr)
    p = plan(CASES, "params.beta=100")
    check(p.returncode == 2 and "sweep.cases item 1 sets params.beta (%s:" % CASES in p.stderr and
          "sweep.cases.1.params.beta=..." in p.stderr, "a key case 1 sets: exit 2, naming the case:\n" + p.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        zspec = os.path.join(tmp, "zip.yaml")
        with open(QUICK) as f:
            text = f.read()
        text = re.sub(r"^sweep:.*", "sweep:\n  zip:\n    params.steps: [1, 2]\n    task.queries: [5, 6]\n", text,
                      flags=re.S | re.M)
        with open(zspec, "w") as f:
            f.write(text)
        p = plan(zspec, "params.steps=3")
        check(p.returncode == 2 and "swept by sweep.zip (%s:" % zspec in p.stderr, "a zip axis too:\n" + p.stderr)
    p = plan(QUICK, "sweep.grid.task.corrupt.sigma=[0.9]")
    check(p.returncode == 0 and len(rows(p.stdout)) == 6, "sweep.grid.KEY=[0.9] replaces the axis (6 runs)")
    base = rows(plan(CASES).stdout)
    p = plan(CASES, "sweep.cases.1.params.beta=100")
    changed = rows(p.stdout)
    check(p.returncode == 0 and len(changed) == 2 and "1.0e+02" in changed[0][1], "sweep.cases.1.params.beta=100 "
          "sets beta in case 1:\n" + p.stdout)
    check(len(base) == 2 and changed[1][0] == base[1][0] and changed[0][0] != base[0][0],
          "case 2 keeps its run id, case 1 gets a new one")
    p = plan(CASES, "sweep.cases.3.params.beta=1")
    check(p.returncode == 2 and "N in 1..2" in p.stderr, "sweep.cases.3 of 2 cases: exit 2")
    p = plan(QUICK, "params.steps=5")
    check(p.returncode == 0 and len(rows(p.stdout)) == 24, "a key no sweep sets is overridden as before")
    finish()


if __name__ == "__main__":
    main()
