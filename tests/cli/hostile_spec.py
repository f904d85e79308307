"""Hostile specs and overrides (docs/spec.md "Limits"): deep nesting, alias bombs,
huge key counts and sweeps, numbers that do not fit, NULs, odd encodings, garbage.
Each case runs `engram run` (or `engram plan` where the input is legal) under a
time limit and must: end by itself (no signal, no timeout), exit 2 with a message on
stderr naming the file (line:col and key where there is one) and what was expected,
write nothing under --out, or, where the input is legal, exit 0 and plan it right."""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

M = os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "spec_model.so")
if not os.path.exists(M):
    print("FAIL: fixture plugin %s missing" % M)
    sys.exit(1)


def instrumented(path):
    """a sanitizer build: slower, so the time limit is wider"""
    with open(os.path.realpath(path), "rb") as f:
        return b"__asan_init" in f.read()


SLOW = instrumented(ENGRAM) or os.environ.get("ENGRAM_SLOW_TESTS") == "1"
LIMIT = 60.0 if SLOW else 10.0  # seconds per case
TMP = tempfile.mkdtemp(prefix="engram-hostile-spec-")
OUT = os.path.join(TMP, "out")
HEAD = "experiment: t\nmodel: %s\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n" % M
n_cases = [0]


def run(name, text, args=(), cmd="run", rc=2, frags=(), names_file=True, cwd=None, limit=None, spec=None):
    """write text (str or bytes) to NAME.yaml, run `engram CMD SPEC ARGS --out OUT`, check"""
    n_cases[0] += 1
    path = spec or os.path.join(TMP, name + ".yaml")
    if text is not None:
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
    shutil.rmtree(OUT, ignore_errors=True)
    t0 = time.monotonic()
    try:
        p = subprocess.run([ENGRAM, cmd, path] + list(args) + ["--out", OUT], capture_output=True,
                           timeout=limit or LIMIT, cwd=cwd)
    except subprocess.TimeoutExpired:
        check(False, "%s: finishes within %.0f s" % (name, limit or LIMIT))
        return None
    dt = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    ok = p.returncode == rc
    why = [] if ok else ["exit %d, expected %d" % (p.returncode, rc)]
    if p.returncode < 0:
        why.append("killed by signal %d" % -p.returncode)
    if rc == 2:
        if names_file and os.path.basename(path) not in err:
            why.append("stderr does not name the file")
        if "AddressSanitizer" in err or "runtime error" in err:
            why.append("sanitizer report")
    for fr in frags:
        if fr not in err:
            why.append("stderr lacks %r" % fr)
    if os.path.isdir(OUT) and os.listdir(OUT):
        why.append("something was written under --out")
    check(not why, "%s (%.2f s)%s%s" % (name, dt, ": " if why else "", "; ".join(why)))
    if why:
        print("     stderr: %s" % err[:400].replace("\n", " | "))
    return p


def nest_flow(depth, open_, close, inner="1"):
    return open_ * depth + inner + close * depth


def laughs(levels=9, fan=10, mapping=False):
    lines = []
    for i in range(levels):
        items = ["x"] * fan if i == 0 else ["*a%d" % (i - 1)] * fan
        if mapping:
            body = "{" + ", ".join("k%d: %s" % (j, v) for j, v in enumerate(items)) + "}"
        else:
            body = "[" + ", ".join(items) + "]"
        lines.append("  l%d: &a%d %s" % (i, i, body))
    return "params:\n" + "\n".join(lines) + "\n"


def grid(axes, length):
    return "sweep:\n  grid:\n" + "".join(
        "    params.w%d: [%s]\n" % (a, ", ".join(str(i) for i in range(length))) for a in range(axes))


def seeds(n, dup_every=0):
    return "seeds: [%s]\n" % ", ".join(str(i % dup_every if dup_every else i) for i in range(n))


# ---- nesting ----
run("deep_map_flow", HEAD + "params: " + nest_flow(20000, "{a: ", "}"), frags=(":5:", "nested deeper than 64 levels"))
run("deep_map_block", HEAD + "params:\n" + "".join(" " * (i + 1) + "k%d:\n" % i for i in range(200)) + " " * 201 + "x: 1\n",
    frags=("nested deeper than 64 levels",))
run("deep_list_open", HEAD + "params: {dims: " + "[" * 100000 + "\n", frags=(":5:", "nested deeper than 64 levels"))
run("deep_list_closed", HEAD + "params: {dims: " + nest_flow(100000, "[", "]") + "}\n",
    frags=("nested deeper than 64 levels",))
run("deep_64_ok_levels", HEAD + "params: {dims: " + nest_flow(62, "[", "]") + "}\n",
    frags=("params.dims: expected a list of plain values, but item 1 is a list",))
run("deep_mixed", HEAD + "sweep: " + nest_flow(5000, "{grid: [", "]}"), frags=("nested deeper than 64 levels",))

# ---- aliases ----
run("billion_laughs", HEAD + laughs(), frags=("more than 1000000 YAML nodes",))
run("billion_laughs_maps", HEAD + laughs(mapping=True), frags=("more than 1000000 YAML nodes",))
run("laughs_in_sweep", HEAD + "sweep:\n  cases: &c0 [{params.beta: 1}, {params.beta: 2}]\n" +
    "".join("  x%d: &c%d [*c%d, *c%d, *c%d, *c%d]\n" % (i, i, i - 1, i - 1, i - 1, i - 1) for i in range(1, 14)),
    frags=("more than 1000000 YAML nodes",))
run("alias_deep_anchor", HEAD + "params:\n  a: &a " + nest_flow(40, "[", "]") + "\n  b: " + nest_flow(30, "[", "]", "*a") + "\n",
    frags=("alias *a nests deeper than 64 levels",))
run("alias_cycle_map", HEAD + "params: &p {a: *p}\n", frags=(":5:16: alias *p names a mapping or list that contains it",))
run("alias_cycle_list", HEAD + "sweep: {grid: {params.dims: &g [[1], *g]}}\n", frags=("alias *g names a mapping or list",))
run("alias_cycle_cases", HEAD + "sweep: {cases: &c [{params.beta: 1}, *c]}\n", frags=("alias *c names a mapping or list",))
run("alias_undefined", HEAD + "params: {beta: *nope}\n", frags=("YAML syntax error",))
p = run("alias_scalar_legal", HEAD + "params: {beta: &x 2.5, sigma: *x, dims: &d [1, 2], weights: *d}\n",
        args=("--resolved",), cmd="plan", rc=0)
check(p is not None and b"beta: 2.5" in p.stdout and b"sigma: 2.5" in p.stdout and b"weights: [1.0, 2.0]" in p.stdout,
      "alias_scalar_legal: aliases resolve to their anchors' values")
n_cases[0] -= 1  # the line above checks the case before it

# ---- many keys, many runs ----
t = HEAD + "params:\n" + "".join("  k%d: 1\n" % i for i in range(200000))
run("keys_200k", t, frags=(":100002:3: params.k99996: more than 100000 keys",), limit=LIMIT / 2)
run("keys_100k_unknown", HEAD + "params:\n" + "".join("  k%d: 1\n" % i for i in range(99996)),
    frags=(":6:7: params.k0: unknown parameter 'k0' for model spec_model",), limit=LIMIT / 2)
run("grid_2_pow_64", HEAD + grid(64, 2), frags=(": sweep: expands to more than 100000 runs",))
run("grid_1_8e19", HEAD + grid(19, 10) + "    params.z: [1, 2]\n", frags=("expands to more than 100000 runs",))
run("grid_times_seeds_wrap", HEAD + seeds(1000) + grid(3, 60) + "  zip: {params.beta: [%s]}\n" % ", ".join(
    str(i + 1) for i in range(1000)) + "  cases: [%s]\n" % ", ".join("{params.count: 1}" for _ in range(1000)),
    frags=("expands to more than 100000 runs (1000 cases x more than 100000 grid x 1000 zip x 1000 seeds)",))
run("runs_over_limit", HEAD + seeds(1001) + "sweep: {grid: {params.beta: [%s]}}\n" % ", ".join(
    str(i + 1) for i in range(100)), frags=("(1 cases x 100 grid x 1 zip x 1001 seeds)",))
p = run("runs_at_limit", HEAD + seeds(1000) + "sweep: {grid: {params.beta: [%s]}}\n" % ", ".join(
    str(i + 1) for i in range(100)), cmd="plan", rc=0, limit=LIMIT * 3)
check(p is not None and b"experiment t: 100000 runs" in p.stdout and p.stdout.count(b"pending") >= 100000,
      "runs_at_limit: all 100000 runs planned")
n_cases[0] -= 1
run("seeds_1000001", HEAD + seeds(1000001), frags=("more than 1000000 YAML nodes",))
run("seeds_100001", HEAD + seeds(100001, 60000), frags=(":5:8: seeds: 100001 seeds; a spec expands to at most 100000",))
run("seeds_duplicate", HEAD + seeds(50000) + "\n" if False else HEAD + "seeds: [%s, 17]\n" % ", ".join(
    str(i) for i in range(50000)), frags=("seeds: seed 17 is listed twice",))
run("cases_duplicate_runs", HEAD + "sweep: {cases: [{params.beta: 1}, {params.beta: 1.0}]}\n",
    frags=("resolve to the same configuration",))

# ---- values ----
run("float_overflow", HEAD + "params: {beta: 1e400}\n", frags=(":5:16: params.beta: number 1e400 is out of range",))
run("float_overflow_neg", HEAD + "params: {sigma: -1e400}\n", frags=(":5:17: params.sigma: number -1e400 is out of range",))
run("int_overflow", HEAD + "params: {count: 99999999999999999999}\n",
    frags=(":5:17: params.count: number 99999999999999999999 is out of range",))
run("hex_overflow", HEAD + "params: {count: 0xfffffffffffffffffff}\n", frags=("params.count: number 0xfff",))
run("inf_in_open_range", HEAD + "params: {beta: .inf}\n",
    frags=(":5:16: params.beta: .inf is infinite; expected a finite number > 0",))
run("neg_inf_in_range", HEAD + "params: {sigma: -.inf}\n", frags=("params.sigma: -.inf is infinite",))
run("nan_in_range", HEAD + "params: {sigma: .nan}\n", frags=(":5:17: params.sigma: .nan is not a number",))
run("nan_in_int_list", HEAD + "params: {dims: [1, .nan]}\n", frags=("params.dims: expected integers, got .nan",))
p = run("inf_unranged_legal", HEAD + "params: {weights: [.inf, -.inf, 1e-400]}\n", args=("--resolved",), cmd="plan", rc=0)
check(p is not None and b"weights: [.inf, -.inf, 0.0]" in p.stdout, "inf_unranged_legal: .inf kept, 1e-400 is 0.0")
n_cases[0] -= 1
run("nul_in_string", HEAD + 'params: {label: "a\\0b"}\n', frags=(":5:17: params.label: a value cannot contain a NUL",))
run("nul_in_key", HEAD + 'params: {"be\\x00ta": 1}\n', frags=(":5:10: params: a key cannot contain a NUL",))
run("raw_nul_byte", (HEAD + "params: {label: a").encode() + b"\x00" + b"b}\n", frags=("YAML syntax error",))
run("name_300", HEAD.replace("experiment: t", "experiment: " + "x" * 300),
    frags=(":1:13: experiment: 'xxxx", "at most 100 characters"))
run("name_path", HEAD.replace("experiment: t", "experiment: ../../etc"), frags=(":1:13: experiment: '../../etc'",))
run("key_2000_chars", HEAD + "params:\n  " + "k" * 2000 + ": 1\n", frags=(":6:2003: YAML syntax error",))
run("key_1100_chars_nested", HEAD + "params: " + nest_flow(55, "{" + "k" * 19 + ": ", "}") + "\n",
    frags=(":5:", "is longer than 1024 characters"))

# ---- encodings, files ----
run("invalid_utf8", HEAD.encode() + b"description: \xc3\x28\xff\n", frags=("YAML syntax error",))
p = run("bom_legal", b"\xef\xbb\xbf" + HEAD.encode(), cmd="plan", rc=0)
check(p is not None and b"experiment t: 1 run" in p.stdout, "bom_legal: planned")
n_cases[0] -= 1
p = run("crlf_legal", HEAD.replace("\n", "\r\n"), cmd="plan", rc=0)
run("tab_indent", HEAD + "params:\n\tbeta: 2\n", frags=(":6:1: YAML syntax error",))
run("empty_file", "", frags=(":1:1: the spec is empty",))
run("only_comments", "# nothing\n# here\n\n", frags=(":1:1: the spec is empty",))
random.seed(22)
run("binary_garbage", bytes(random.randrange(256) for _ in range(4096)), frags=("YAML syntax error",))
run("size_20_mib", HEAD + "description: '" + "x" * (20 << 20) + "'\n", frags=("larger than 16 MiB",))
run("multi_document", HEAD + "---\nexperiment: u\n", frags=(":5:1: a second YAML document",))
run("merge_key", HEAD + "params:\n  beta: 2\n  <<: {count: 3}\n", frags=(":7:15: params.<<.count: unknown parameter '<<.count'",))
run("key_set_twice", HEAD + "params: {beta: 1}\nparams:\n  beta: 2\n", frags=(":7:3: params.beta: set twice (first at",))
os.makedirs(os.path.join(TMP, "a_dir.yaml"), exist_ok=True)
run("spec_is_directory", None, spec=os.path.join(TMP, "a_dir.yaml"), frags=("Is a directory",))

# ---- overrides ----
run("override_float_overflow", HEAD, args=("params.beta=1e400",),
    frags=("<command line>: override 'params.beta=1e400': number 1e400 is out of range",), names_file=False)
run("override_nan", HEAD, args=("params.beta=.nan",), frags=("override 'params.beta=.nan'", "not a number"),
    names_file=False)
run("override_nul", HEAD, args=('params.label="a\\0b"',), frags=("a value cannot contain a NUL",), names_file=False)
# one argument holds at most 128 KiB (Linux's MAX_ARG_STRLEN): 60 000 levels
run("override_dots_60k", HEAD, args=("params." + ".".join("a" for _ in range(60000)) + "=1",),
    frags=("<command line>: override 'params.a.a.a", "longer than 1024 characters"), names_file=False)
run("override_dots_65", HEAD, args=("params." + ".".join("a" for _ in range(65)) + "=1",),
    frags=("more than 64 dotted names deep",), names_file=False)
run("override_deep_flow", HEAD, args=("params.dims=" + "[" * 100000,),
    frags=("override 'params.dims=[[[", "nested deeper than 64 levels"), names_file=False)
run("override_laughs", HEAD, args=("params.dims={%s}" % ", ".join(
    "l%d: &a%d [%s]" % (i, i, ", ".join(["x" if i == 0 else "*a%d" % (i - 1)] * 10)) for i in range(9)),),
    frags=("more than 1000000 YAML nodes",), names_file=False)
run("override_name_300", HEAD, args=("experiment=" + "y" * 300,), frags=("at most 100 characters",), names_file=False)
run("override_10001", HEAD, args=["params.beta=%d" % (i + 1) for i in range(10001)],
    frags=("more than 10000 overrides",), names_file=False)
run("override_multi_doc", HEAD, args=("params.beta=1\n---\n2",), frags=("a second YAML document",), names_file=False)

# ---- relative model paths: the spec's folder, overrides the working directory ----
sub = os.path.join(TMP, "specs", "deeper")
os.makedirs(os.path.join(TMP, "specs", "plug"), exist_ok=True)
os.makedirs(sub, exist_ok=True)
os.symlink(M, os.path.join(TMP, "specs", "plug", "m.so"))
rel = HEAD.replace(M, "../plug/m.so")
p = run("model_relative_to_spec", rel, cmd="plan", rc=0, cwd="/", spec=os.path.join(sub, "rel.yaml"))
p0 = run("model_absolute", HEAD, cmd="plan", rc=0)
check(p is not None and p0 is not None and p.stdout.split(b"\n")[2].split()[1] == p0.stdout.split(b"\n")[2].split()[1],
      "model_relative_to_spec: the run id is the one of the absolute path")
n_cases[0] -= 1
run("model_override_relative_to_cwd", rel, args=("model=specs/plug/m.so",), cmd="plan", rc=0, cwd=TMP,
    spec=os.path.join(sub, "rel.yaml"))
run("model_override_not_spec_relative", rel, args=("model=../plug/m.so",), cwd=TMP, spec=os.path.join(sub, "rel.yaml"),
    frags=("override 'model=../plug/m.so'", "no such file"), names_file=False)
run("model_relative_missing", HEAD.replace(M, "no/such.so"), frags=(":2:8: model: cannot load model",))

shutil.rmtree(TMP, ignore_errors=True)
print("%d hostile spec inputs: each refused with exit code 2 and its place, or planned when legal" % n_cases[0])
finish()
