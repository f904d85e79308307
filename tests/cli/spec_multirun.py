"""cli/spec_multirun — Hydra's command-line multirun (issue 21, item 2; docs/spec.md
"Command-line multirun"), with `engram plan` on the spec_model fixture:

- key=a,b,c adds the grid axis sweep.grid.key, last (varying fastest); an axis the spec
  has is replaced in place; range() (ints, floats, descending, named args), choice(),
  quoted items keeping their comma, a\\,b and 'a,b' as one string, [1,2] as one list,
  [1,2],[3] as a sweep of lists, seed=0,1,2 as the seeds; the same run ids as the
  spelled-out sweep.grid.key=[...]; -m / --multirun accepted; +key=, ++key=, ~key=;
- bad arguments exit 2 naming the argument, and `engram run` writes nothing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

M = os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "spec_model.so")
TMP = tempfile.mkdtemp(prefix="engram-multirun-")
OUT = os.path.join(TMP, "out")
SPEC = os.path.join(TMP, "mr.yaml")
CASES = os.path.join(TMP, "cases.yaml")

HEAD = "experiment: mr\nmodel: %s\ndata: {source: random-patterns}\ntask: {kind: retrieve}\nparams: {beta: 2.0}\n" % M


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def plan(spec, *args):
    return subprocess.run([ENGRAM, "plan", spec, "--out", OUT] + list(args), capture_output=True, text=True,
                          timeout=60)


def table(out):
    """(swept keys, rows): rows are (run id, {key: value text}) in index order; columns are
    cut at the header's offsets (values such as [1, 2] hold spaces)"""
    lines = out.splitlines()
    head = next((l for l in lines if l.startswith("index")), None)
    if head is None:
        return [], []
    cols = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", head)]
    keys = [c[1] for c in cols[2:-1]]
    rows = []
    for l in lines:
        if not re.match(r"^\d+\s+[0-9a-f]{16}\s", l):
            continue
        cells = [l[cols[i][0]:cols[i + 1][0] if i + 1 < len(cols) else len(l)].strip() for i in range(len(cols))]
        rows.append((cells[1], dict(zip(keys, cells[2:-1]))))
    return keys, rows


def values(rows, key):
    return [r[1].get(key) for r in rows]


def expect_rows(name, args, n, columns, spec=SPEC):
    """plan SPEC ARGS: exit 0, n runs, and for each key of columns its value per run, in order"""
    p = plan(spec, *args)
    keys, rows = table(p.stdout)
    ok = p.returncode == 0 and len(rows) == n and all(values(rows, k) == v for k, v in columns.items())
    check(ok, "%s: %d runs, in order %s" % (name, n, columns))
    if not ok:
        print("     rc %d, keys %s\n     stdout: %s\n     stderr: %s" % (p.returncode, keys, p.stdout[-1500:],
                                                                       p.stderr[-500:]))
    return rows


def resolved(spec, *args):
    p = subprocess.run([ENGRAM, "plan", spec, "--resolved"] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def goldens():
    write(SPEC, HEAD + "sweep:\n  grid:\n    params.count: [1, 2]\n    params.sigma: [0.1, 0.2]\n")
    base = expect_rows("the spec itself", [], 4, {"params.count": ["1", "1", "2", "2"],
                                                    "params.sigma": ["0.1", "0.2", "0.1", "0.2"]})
    # a new axis goes last: it varies fastest
    rows = expect_rows("params.beta=1,2,3 (a new axis, last)", ["params.beta=1,2,3"], 12, {
        "params.count": ["1"] * 6 + ["2"] * 6,
        "params.sigma": (["0.1"] * 3 + ["0.2"] * 3) * 2,
        "params.beta": ["1.0", "2.0", "3.0"] * 4})
    spelled = table(plan(SPEC, "sweep.grid.params.beta=[1, 2, 3]").stdout)[1]
    check([r[0] for r in rows] == [r[0] for r in spelled] and len(rows) == 12,
          "params.beta=1,2,3 gives the run ids of sweep.grid.params.beta=[1, 2, 3]")
    # an axis the spec has keeps its place
    expect_rows("params.count=5,6,7 replaces the spec's axis in place", ["params.count=5,6,7"], 6, {
        "params.count": ["5", "5", "6", "6", "7", "7"], "params.sigma": ["0.1", "0.2"] * 3})
    expect_rows("range(1,10,3) (ints, stop excluded)", ["params.count=range(1,10,3)"], 6, {
        "params.count": ["1", "1", "4", "4", "7", "7"]})
    expect_rows("range(1, 4), spaces after commas", ["params.count=range(1, 4)"], 6, {
        "params.count": ["1", "1", "2", "2", "3", "3"]})
    expect_rows("range(start=1, stop=8, step=3)", ["params.count=range(start=1, stop=8, step=3)"], 6, {
        "params.count": ["1", "1", "4", "4", "7", "7"]})
    expect_rows("descending range(3,0,-1)", ["params.count=range(3,0,-1)"], 6, {
        "params.count": ["3", "3", "2", "2", "1", "1"]})
    expect_rows("float range(0,1,0.25)", ["params.sigma=range(0,1,0.25)"], 8, {
        "params.sigma": ["0.0", "0.25", "0.5", "0.75"] * 2})
    expect_rows("float range(0,0.3,0.1): 3 values, no 0.30000000000000004", ["params.sigma=range(0,0.3,0.1)"], 6, {
        "params.sigma": ["0.0", "0.1", "0.2"] * 2})
    expect_rows("choice(mchn, gmm) with -m", ["-m", "params.variant=choice(mchn, gmm)"], 8, {
        "params.variant": ["mchn", "gmm"] * 4})
    expect_rows("--multirun is accepted too", ["--multirun", "params.variant=dense,gmm"], 8, {
        "params.variant": ["dense", "gmm"] * 4})
    expect_rows("quoted items keep their comma", ["params.label='x,y',z,\"u,v\""], 12, {
        "params.label": ["x,y", "z", "u,v"] * 4})
    expect_rows("choice('a,b', c)", ["params.label=choice('a,b', c)"], 8, {"params.label": ["a,b", "c"] * 4})
    expect_rows("[1,2],[3]: a sweep of two lists", ["params.dims=[1,2],[3]"], 8, {
        "params.dims": ["[1, 2]", "[3]"] * 4})
    expect_rows("seed=0,1,2: the seeds, fastest", ["seed=0,1,2"], 12, {"seed": ["0", "1", "2"] * 4})
    expect_rows("seeds=range(2)", ["seeds=range(2)"], 8, {"seed": ["0", "1"] * 4})
    expect_rows("++params.beta=1,2 (Hydra's force-add)", ["++params.beta=1,2"], 8, {"params.beta": ["1.0", "2.0"] * 4})
    for arg, what in (("params.label=a\\,b", "a\\,b"), ("params.label='a,b'", "'a,b'"),
                      ('params.label="a,b"', '"a,b"')):
        rc, text = resolved(SPEC, arg)
        labels = re.findall(r"^  label: (.*)$", text, re.M)
        check(rc == 0 and labels == ['"a,b"'] * 4, "%s is the one string a,b (4 runs, no new axis): %s" %
              (what, labels))
    rc, text = resolved(SPEC, "params.dims=[1,2]")
    check(rc == 0 and re.findall(r"^  dims: (.*)$", text, re.M) == ["[1, 2]"] * 4, "[1,2] stays one list value")
    rc, text = resolved(SPEC, "+params.label=added")
    check(rc == 0 and re.findall(r"^  label: (.*)$", text, re.M) == ["added"] * 4, "+params.label=added sets it")
    rc, text = resolved(SPEC, "params.beta=7", "~params.beta=")
    check(rc == 0 and re.findall(r"^  beta: (.*)$", text, re.M) == ["1.0"] * 4,
          "~params.beta= removes the key (the schema default 1.0)")
    # a key the spec's cases set is swept in every case only by its own axis
    write(CASES, HEAD + "sweep:\n  cases:\n    - {params.variant: mchn}\n    - {params.variant: gmm}\n")
    expect_rows("params.beta=1,2 crossed with 2 cases", ["params.beta=1,2"], 4, {
        "params.variant": ["mchn", "mchn", "gmm", "gmm"], "params.beta": ["1.0", "2.0"] * 2}, spec=CASES)
    del base


BAD = [
    ("params.beta=1,,2", "empty item 2"),
    ("params.beta=1,2,", "empty item 3"),
    ("params.beta=range(1,5", "unbalanced parentheses"),
    ("params.beta=choice(a,b]", "unbalanced parentheses"),
    ("params.label='a,b", "is not closed"),
    ("params.beta=range(a,5)", "range(): argument 1 is 'a'; expected a finite number"),
    ("params.beta=range(1,5,0)", "the step is 0"),
    ("params.beta=range(5,1)", "range(): empty"),
    ("params.beta=range(0,1000000)", "at most 100000 runs"),
    ("params.beta=rnage(1,5)", "unknown function 'rnage'; did you mean 'range'?"),
    ("params.beta=logunifrom(1,5)", "did you mean 'loguniform'?"),
    ("params.beta=choice()", "choice() needs at least one value"),
    ("params.beta=choice(range(1,3),4)", "item 1 of choice() is a call of range()"),
    ("params.beta=uniform(1,2,3)", "uniform() takes 2 numbers"),
    ("params.beta=uniform(1,2)", "sweep.random.n: required"),
    ("description=a, b", "description cannot be swept"),
    ("experiment=a,b", "experiment cannot be swept"),
    ("sweep.grid.params.count=1,2", "sweep.grid.params.count=[1,2]"),
    ("~params.beta=3", "write ~params.beta"),
    ("seed=uniform(0,1)", "seeds are the replicate axis"),
]


def bad_arguments():
    write(SPEC, HEAD + "sweep:\n  grid:\n    params.count: [1, 2]\n")
    for arg, frag in BAD + [("sweep.cases.1.params.beta=1,2", "cannot go inside a case")]:
        spec = CASES if arg.startswith("sweep.cases") else SPEC
        shutil.rmtree(OUT, ignore_errors=True)
        p = subprocess.run([ENGRAM, "run", "-m", spec, arg, "--out", OUT], capture_output=True, text=True,
                           timeout=60)
        named = "<command line>: override '%s': " % arg in p.stderr
        written = os.path.isdir(OUT) and os.listdir(OUT)
        ok = p.returncode == 2 and named and frag in p.stderr and not written
        check(ok, "run -m %s: exit 2 naming the argument (%s), nothing written" % (arg, frag))
        if not ok:
            print("     rc %d, stderr: %s" % (p.returncode, p.stderr[-600:]))
    check(len(BAD) >= 6, "at least 6 bad arguments")


def main():
    goldens()
    bad_arguments()
    shutil.rmtree(TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
