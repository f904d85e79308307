"""cli/spec_random — random search, sweep.random (issue 21, item 3; docs/spec.md "Random
search"), with `engram plan` on the spec_model fixture and `engram run` on hopfield:

- the draws are the documented ones: Philox4x32-10 keyed by sweep.random.seed, stream =
  the first 8 bytes of SHA-256(key), counter = the sample index, mapped as the docs say
  and floats rounded to 6 significant digits (recomputed here in Python);
- the same spec gives the same run ids twice; n 4 -> 8 keeps the first 4; a key added to
  the space leaves the other keys' values alone; another seed changes them;
- values lie in their ranges, randint reaches both ends, loguniform's log is roughly
  uniform, a small discrete space gives n distinct samples (redrawn, not repeated);
- runs = cases x grid x random x zip x seeds, in that order; the command-line forms
  (params.beta=loguniform(0.1,100), interval()) give the ids of the spec-file form;
- resume: `engram run` with n=2, then n=4, runs only the 2 new runs;
- bad sweep.random inputs exit 2 with FILE:LINE:COL and what was expected.
"""
import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

M = os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "spec_model.so")
TMP = tempfile.mkdtemp(prefix="engram-random-")
OUT = os.path.join(TMP, "out")
HEAD = "experiment: rs\nmodel: %s\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n" % M
MASK = 0xFFFFFFFF


# ---------------------------------------------------------------- the reference draws
def philox(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK
        k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
    return c0, c1, c2, c3


def u(seed, key, i):
    stream = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    r = philox((i & MASK, i >> 32, stream & MASK, stream >> 32), (seed & MASK, seed >> 32))
    return ((r[0] >> 5) * 67108864.0 + (r[1] >> 6)) / 9007199254740992.0


def ref_uniform(seed, key, i, lo, hi):
    return float("%.6g" % (lo + (hi - lo) * u(seed, key, i)))


def ref_loguniform(seed, key, i, lo, hi):
    return float("%.6g" % math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u(seed, key, i)))


def ref_randint(seed, key, i, lo, hi):
    return min(lo + int(math.floor(u(seed, key, i) * (hi - lo + 1))), hi)


def ref_choice(seed, key, i, items):
    return items[min(int(u(seed, key, i) * len(items)), len(items) - 1)]


# ---------------------------------------------------------------- helpers
def write(name, text):
    path = os.path.join(TMP, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def random_spec(name, n, space, seed=None, extra=""):
    """HEAD + extra + sweep.random {n, seed, space: {key: {dist: args}}} (space: list of (key, dist, args))"""
    lines = [HEAD + extra + "sweep:"]
    if "  grid:" in extra or "  zip:" in extra or "  cases:" in extra:
        lines = [HEAD + extra.rstrip("\n")]
    lines.append("  random:")
    if n is not None:
        lines.append("    n: %s" % n)
    if seed is not None:
        lines.append("    seed: %s" % seed)
    lines.append("    space:")
    for key, dist, args in space:
        lines.append("      %s: {%s: %s}" % (key, dist, args))
    return write(name, "\n".join(lines) + "\n")


def plan(spec, *args):
    return subprocess.run([ENGRAM, "plan", spec, "--out", OUT] + list(args), capture_output=True, text=True,
                          timeout=120)


def table(out):
    """rows (run id, {swept key: value text}) in index order, cut at the header's offsets"""
    lines = out.splitlines()
    head = next((l for l in lines if l.startswith("index")), None)
    if head is None:
        return []
    cols = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", head)]
    keys = [c[1] for c in cols[2:-1]]
    rows = []
    for l in lines:
        if re.match(r"^\d+\s+[0-9a-f]{16}\s", l):
            cells = [l[cols[i][0]:cols[i + 1][0] if i + 1 < len(cols) else len(l)].strip() for i in range(len(cols))]
            rows.append((cells[1], dict(zip(keys, cells[2:-1]))))
    return rows


def rows_of(spec, *args):
    p = plan(spec, *args)
    if p.returncode != 0:
        print("     plan %s %s: rc %d: %s" % (os.path.basename(spec), args, p.returncode, p.stderr[-600:]))
        return []
    return table(p.stdout)


def col(rows, key):
    return [r[1].get(key) for r in rows]


def sig_digits(text):
    m = re.match(r"^-?(\d+)(?:\.(\d*))?(?:e[-+]?\d+)?$", text, re.I)
    if not m:
        return 99
    digits = (m.group(1) + (m.group(2) or "")).lstrip("0").rstrip("0")
    return len(digits)


# ---------------------------------------------------------------- checks
def reference_draws():
    space = [("params.sigma", "uniform", "[0, 9.5]"), ("params.count", "randint", "[1, 10]"),
             ("params.variant", "choice", "[mchn, gmm, dense]"), ("params.beta", "loguniform", "[0.1, 100]")]
    spec = random_spec("ref", 50, space, seed=5)
    rows = rows_of(spec)
    check(len(rows) == 50, "n: 50 gives 50 runs (%d)" % len(rows))
    bad = []
    for i, (_, v) in enumerate(rows):
        want = (ref_uniform(5, "params.sigma", i, 0, 9.5), ref_randint(5, "params.count", i, 1, 10),
                ref_choice(5, "params.variant", i, ["mchn", "gmm", "dense"]),
                ref_loguniform(5, "params.beta", i, 0.1, 100))
        got = (float(v["params.sigma"]), int(v["params.count"]), v["params.variant"], float(v["params.beta"]))
        if got[:3] != want[:3] or abs(got[3] / want[3] - 1) > 1e-5:
            bad.append((i, got, want))
    check(rows and not bad, "every value is the documented Philox draw (uniform, randint, choice exact; "
          "loguniform to 1e-5): %s" % bad[:3])
    texts = col(rows, "params.sigma") + col(rows, "params.beta")
    check(rows and all(sig_digits(t) <= 6 for t in texts), "floats have at most 6 significant digits: %s" %
          [t for t in texts if sig_digits(t) > 6][:3])
    again = rows_of(spec)
    check(rows and [r[0] for r in again] == [r[0] for r in rows], "the same spec gives the same run ids twice")


def stability():
    space = [("params.beta", "loguniform", "[0.1, 100]")]
    spec = random_spec("grow", 4, space)
    four, eight = rows_of(spec), rows_of(spec, "sweep.random.n=8")
    check(len(four) == 4 and len(eight) == 8 and [r[0] for r in eight[:4]] == [r[0] for r in four],
          "n 4 -> 8 keeps the first 4 run ids")
    two = rows_of(random_spec("two", 8, space + [("params.sigma", "uniform", "[0, 5]")]))
    check(len(two) == 8 and col(two, "params.beta") == col(eight, "params.beta") and
          len(set(col(two, "params.sigma"))) == 8, "a key added to the space leaves params.beta's values alone")
    other = rows_of(spec, "sweep.random.seed=1")
    check(len(other) == 4 and not set(col(other, "params.beta")) & set(col(four, "params.beta")),
          "sweep.random.seed=1 draws other values")
    cl = rows_of(write("plain", HEAD), "params.beta=loguniform(0.1,100)", "sweep.random.n=4")
    check([r[0] for r in cl] == [r[0] for r in four] and len(cl) == 4,
          "params.beta=loguniform(0.1,100) sweep.random.n=4 gives the spec-file form's run ids")
    rep = rows_of(random_spec("other", 4, [("params.beta", "uniform", "[0, 1]")]), "params.beta=uniform(5,6)",
                  "params.beta=loguniform(0.1,100)")
    check([r[0] for r in rep] == [r[0] for r in four] and len(rep) == 4,
          "a distribution on the command line replaces the spec's (and an earlier override's) for its key")
    iv = rows_of(write("plain", HEAD), "-m", "params.sigma=interval(0,5)", "sweep.random.n=8")
    un = rows_of(random_spec("uni", 8, [("params.sigma", "uniform", "[0, 5]")]))
    check(len(iv) == 8 and [r[0] for r in iv] == [r[0] for r in un], "interval(0,5) is uniform [0, 5]")


def ranges():
    n = 3000
    space = [("params.sigma", "uniform", "[2, 3]"), ("params.count", "randint", "[1, 5]"),
             ("params.beta", "loguniform", "[0.1, 100]"), ("params.variant", "choice", "[mchn, gmm, dense]"),
             ("params.dims", "choice", "[[1], [2, 3]]")]
    rows = rows_of(random_spec("ranges", n, space, seed=11))
    check(len(rows) == n, "%d samples" % n)
    if len(rows) != n:
        return
    sigma = [float(x) for x in col(rows, "params.sigma")]
    count = [int(x) for x in col(rows, "params.count")]
    beta = [float(x) for x in col(rows, "params.beta")]
    check(all(2 <= x <= 3 for x in sigma) and abs(sum(sigma) / n - 2.5) < 0.03,
          "uniform [2, 3]: in range, mean %.4f ~ 2.5" % (sum(sigma) / n))
    check(set(count) == {1, 2, 3, 4, 5}, "randint [1, 5]: integers 1..5, both ends reached: %s" % sorted(set(count)))
    check(all(0.1 <= x <= 100 for x in beta), "loguniform [0.1, 100]: in range")
    decades = [sum(1 for x in beta if lo <= math.log10(x) < lo + 1) / n for lo in (-1, 0, 1)]
    check(all(0.28 < f < 0.39 for f in decades), "loguniform: a third of the samples per decade: %s" % decades)
    check(set(col(rows, "params.variant")) == {"mchn", "gmm", "dense"} and
          set(col(rows, "params.dims")) == {"[1]", "[2, 3]"}, "choice: every item, lists kept as lists")
    perm = rows_of(random_spec("perm", 5, [("params.count", "randint", "[1, 5]")]))
    check(sorted(int(x) for x in col(perm, "params.count")) == [1, 2, 3, 4, 5],
          "randint [1, 5] with n: 5 gives 5 distinct samples (a repeat is drawn again)")


def combination():
    extra = ("sweep:\n  grid:\n    params.variant: [mchn, gmm]\n  zip:\n    params.count: [1, 2]\n"
             "    params.sigma: [0.1, 0.2]\n")
    spec = random_spec("combo", 3, [("params.beta", "loguniform", "[0.1, 100]")], extra="seeds: [0, 1]\n" + extra)
    rows = rows_of(spec)
    R, Z, S = 3, 2, 2
    ok = len(rows) == 2 * R * Z * S
    samples = [rows[q * Z * S][1]["params.beta"] for q in range(R)] if ok else []
    for idx, (_, v) in enumerate(rows if ok else []):
        s, z, q, g = idx % S, idx // S % Z, idx // (S * Z) % R, idx // (S * Z * R)
        ok = ok and v["seed"] == str(s) and v["params.count"] == str(z + 1) and \
            v["params.variant"] == ["mchn", "gmm"][g] and v["params.beta"] == samples[q]
    check(ok and len(set(samples)) == 3, "grid 2 x random 3 x zip 2 x seeds 2 = 24 runs, "
          "index = ((grid * R + sample) * Z + zip) * S + seed")
    cases = random_spec("cases", 3, [("params.beta", "uniform", "[1, 2]")],
                        extra="sweep:\n  cases:\n    - {params.variant: mchn}\n    - {params.variant: gmm}\n")
    rows = rows_of(cases)
    check(len(rows) == 6 and col(rows, "params.variant") == ["mchn"] * 3 + ["gmm"] * 3 and
          col(rows, "params.beta")[:3] == col(rows, "params.beta")[3:], "2 cases x 3 samples, the same samples "
          "in each case")


def resume():
    spec = write("resume", "experiment: rs-resume\nmodel: hopfield\nbackend: cpu\nseeds: [0]\n"
                 "data: {source: random-patterns, n: 60, dim: 64}\nparams: {steps: 2, variant: mchn}\n"
                 "task: {kind: retrieve, memories: 50, queries: 5, blocks: 1}\n"
                 "sweep:\n  random:\n    n: 2\n    seed: 3\n    space:\n      params.beta: {loguniform: [0.5, 50]}\n")
    out = os.path.join(TMP, "resume-out")
    runs = os.path.join(out, "rs-resume", "runs")
    p = subprocess.run([ENGRAM, "run", spec, "--out", out], capture_output=True, text=True, timeout=300)
    first = sorted(os.listdir(runs)) if os.path.isdir(runs) else []
    check(p.returncode == 0 and len(first) == 2, "engram run with n: 2 runs 2 (rc %d)%s" %
          (p.returncode, "" if p.returncode == 0 else ": " + p.stderr[-400:]))
    p = subprocess.run([ENGRAM, "run", spec, "sweep.random.n=4", "--out", out], capture_output=True, text=True,
                       timeout=300)
    after = sorted(os.listdir(runs)) if os.path.isdir(runs) else []
    text = p.stdout + p.stderr
    check(p.returncode == 0 and len(after) == 4 and set(first) <= set(after) and
          "2 runs already done" in text and "2 to run" in text and len(re.findall(r"\] run [0-9a-f]{16} ok", text)) == 2,
          "then sweep.random.n=4 runs only the 2 new runs (4 run files, the first 2 kept)")
    if p.returncode != 0 or len(after) != 4:
        print("     " + text[-600:])


def where(text, marker, sub):
    """'L:C' of sub in the first line of text's sweep that contains marker"""
    lines = text.splitlines()
    for k in range(lines.index("sweep:"), len(lines)):
        line = lines[k]
        if marker in line and sub in line:
            return "%d:%d" % (k + 1, line.index(sub) + 1)
    return "?"


BAD = [  # name, sweep.random's lines (n, seed, space under it), (marker, sub), fragment
    ("n 0", "    n: 0\n    space:\n      params.beta: {uniform: [0, 1]}", ("n: 0", "0"),
     "sweep.random.n: expected the number of samples, an integer in 1..100000, got 0"),
    ("n 2.5", "    n: 2.5\n    space:\n      params.beta: {uniform: [0, 1]}", ("n: 2.5", "2.5"),
     "sweep.random.n: expected the number of samples"),
    ("n beyond the run limit", "    n: 100001\n    space:\n      params.beta: {uniform: [0, 1]}", ("n: 1", "1"),
     "an integer in 1..100000, got 100001"),
    ("seed -1", "    n: 3\n    seed: -1\n    space:\n      params.beta: {uniform: [0, 1]}", ("seed:", "-1"),
     "sweep.random.seed: expected an integer >= 0"),
    ("loguniform lo 0", "    n: 3\n    space:\n      params.beta: {loguniform: [0, 1]}", ("loguniform", "0,"),
     "lo must be > 0"),
    ("uniform lo = hi", "    n: 3\n    space:\n      params.beta: {uniform: [1, 1]}", ("uniform", "1]"),
     "hi must be greater than lo, got [1, 1]"),
    ("uniform of 3 numbers", "    n: 3\n    space:\n      params.beta: {uniform: [0, 1, 2]}", ("uniform", "["),
     "expected uniform: [lo, hi] (2 numbers), got 3 values"),
    ("infinite bound", "    n: 3\n    space:\n      params.beta: {uniform: [0, .inf]}", ("uniform", ".inf"),
     "expected a finite number, got '.inf'"),
    ("unknown distribution", "    n: 3\n    space:\n      params.beta: {unifrom: [0, 1]}", ("unifrom", "unifrom"),
     "unknown distribution 'unifrom'; did you mean 'uniform'?"),
    ("no distribution", "    n: 3\n    space:\n      params.beta: [0, 1]", ("params.beta", "params.beta"),
     "expected a distribution for params.beta"),
    ("randint of a float", "    n: 3\n    space:\n      params.count: {randint: [0.5, 3]}", ("randint", "0.5"),
     "randint [lo, hi]: expected an integer"),
    ("empty choice", "    n: 3\n    space:\n      params.beta: {choice: []}", ("choice", "["),
     "a non-empty list of values, got an empty list"),
    ("choice repeats", "    n: 3\n    space:\n      params.beta: {choice: [1, 2, 1]}", ("choice", "1]"),
     "choice: item 3 repeats item 1"),
    ("normal sd 0", "    n: 3\n    space:\n      params.beta: {normal: [0, 0]}", ("normal", "0]"),
     "sd must be > 0"),
    ("quniform without a multiple", "    n: 1\n    space:\n      params.beta: {quniform: [0.1, 0.2, 0.3]}",
     ("quniform", "0.3"), "no multiple of q = 0.3"),
    ("unknown key", "    n: 3\n    spaec:\n      params.beta: {uniform: [0, 1]}", ("params.beta", "uniform"),
     "unknown key 'spaec' of sweep.random; did you mean 'space'?"),
    ("model in the space", "    n: 3\n    space:\n      model: {choice: [a, b]}", ("model:", "choice"),
     "'model' cannot be swept"),
    ("n missing", "    space:\n      params.beta: {uniform: [0, 1]}", ("params.beta", "uniform"),
     "sweep.random.n: required"),
    ("space missing", "    n: 3", ("n: 3", "3"), "sweep.random.space: required"),
    ("two distributions", "    n: 3\n    space:\n      params.beta: {uniform: [0, 1], loguniform: [1, 2]}",
     ("params.beta", "loguniform"), "params.beta has two distributions (also uniform at "),
    ("fewer points than n", "    n: 6\n    space:\n      params.count: {randint: [1, 5]}", ("n: 6", "6"),
     "6 samples, but the space has only 5 distinct points"),
    ("a float range too narrow for 6 digits", "    n: 5\n    space:\n      params.beta: {uniform: [1, 1.00001]}",
     ("n: 5", "5"), "draws in a row gave configurations drawn already"),
    ("a drawn value out of the schema's range", "    n: 20\n    space:\n      params.sigma: {uniform: [0, 20]}",
     ("uniform", "["), "params.sigma: "),
]


def bad_inputs():
    for name, body, (marker, sub), frag in BAD:
        text = HEAD + "sweep:\n  random:\n" + body + "\n"
        spec = write("bad", text)
        shutil.rmtree(OUT, ignore_errors=True)
        p = subprocess.run([ENGRAM, "run", spec, "--out", OUT], capture_output=True, text=True, timeout=60)
        at = "%s:%s: " % (spec, where(text, marker, sub))
        ok = p.returncode == 2 and at in p.stderr and frag in p.stderr and not (os.path.isdir(OUT) and os.listdir(OUT))
        check(ok, "%s: exit 2 at %s %s" % (name, at, frag))
        if not ok:
            print("     rc %d, stderr: %s" % (p.returncode, p.stderr[-500:]))
    # clashes name both places
    text = HEAD + "sweep:\n  grid:\n    params.beta: [1, 2]\n  random:\n    n: 3\n    space:\n" \
        "      params.beta: {uniform: [0, 1]}\n"
    spec = write("clash", text)
    p = plan(spec)
    check(p.returncode == 2 and "%s:%s: " % (spec, where(text, "{uniform", "uniform")) in p.stderr and
          "also swept by sweep.grid.params.beta (at %s:%s)" % (spec, where(text, "[1, 2]", "params.beta")) in p.stderr,
          "a key both drawn and on a grid axis: exit 2 naming both places:\n" + p.stderr)
    p = plan(random_spec("lost", 3, [("params.beta", "uniform", "[1, 2]")]), "params.beta=3")
    check(p.returncode == 2 and "override 'params.beta=3'" in p.stderr and "would be lost" in p.stderr,
          "an override of a drawn key would be lost: exit 2:\n" + p.stderr)
    p = plan(write("plain", HEAD), "params.beta=uniform(1,2)")
    check(p.returncode == 2 and "override 'params.beta=uniform(1,2)': sweep.random.n: required" in p.stderr and
          "sweep.random.n=20" in p.stderr, "a distribution without n says how to give n:\n" + p.stderr)
    check(len(BAD) >= 6, "at least 6 bad sweep.random inputs")


def main():
    reference_draws()
    stability()
    ranges()
    combination()
    resume()
    bad_inputs()
    shutil.rmtree(TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
