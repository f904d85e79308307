"""cli/adaptive_asha — adaptive search, sweep.adaptive (ASHA, issue 21 item 4), on the asha
fixture model, whose curve quality * (1 - exp(-step / tau)) is known from its parameters:

- with -j 1 (a known order) exactly the runs the rule prunes are pruned, at the rung it says
  (the expected outcome is simulated here from the rule, with numpy's quantile); pruned runs
  have status pruned, their curves end at the rung, and the rung, value, cutoff and peer count
  are root attributes; the best run is never pruned; the rung files are in
  adaptive/<metric>/rung-<r>/<run id>; run ids do not depend on sweep.adaptive;
- `engram plan` says pruned, `engram show` counts them, `show RUN` says why, `engram report`
  counts them, `engram verify` finds nothing wrong; goal min mirrors goal max;
- resume does not rerun pruned runs; a run without its file (interrupted before it finished)
  is rerun and re-decides against every value recorded since;
- --shard 0/2 then 1/2 decide from the same files (exactly the rule in shard order);
- -j 2: the best run survives and every pruned run was below a cutoff its peers allow;
- a run that ends before a rung is fine, a NaN value is pruned, a metric the run never logs
  is warned about once in its log and never prunes, a point past several rungs decides each;
- bad sweep.adaptive inputs exit 2 naming FILE:LINE:COL."""
import math
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

QUALITY = [0.6, 1.0, 0.8, 0.4]
TAU = [3, 12, 30]
RUNGS = [5, 15, 45]
ETA = 3

HEAD = """experiment: {exp}
model: asha
backend: cpu
seeds: [0]
data: {{source: random-patterns, n: 20, dim: 8}}
task: {{kind: retrieve, memories: 10, queries: 2}}
params: {{steps: 50, step_s: {step_s}}}
sweep:
  grid: {{params.quality: {q}, params.tau: {t}}}
"""
ADAPTIVE = "  adaptive: {method: asha, metric: asha/score, goal: max, rungs: [5, 15, 45], eta: 3, unit: step}\n"


def curve(q, tau, steps=50, stride=1, nan_at=0):
    return {s: (math.nan if nan_at and s >= nan_at else q * (1 - math.exp(-s / tau)))
            for s in range(stride, steps + 1, stride)}


def simulate(order, curves, rungs=RUNGS, eta=ETA, min_peers=1, goal_max=True, recorded=None):
    """The rule, independently: for each run in order and each rung r it reaches, the value at its
    first step >= r; not finite: pruned; else recorded, and with >= min_peers values of other runs
    there, pruned when below their (1 - 1/eta) quantile (goal min: above the 1/eta quantile)."""
    recorded = recorded if recorded is not None else {r: {} for r in rungs}
    out = {}
    for rid in order:
        c = curves[rid]
        res = {"status": "ok"}
        for r in rungs:
            recorded[r].pop(rid, None)
        for r in rungs:
            first = next((s for s in sorted(c) if s >= r), None)
            if first is None:
                break
            v = c[first]
            if not math.isfinite(v):
                res = {"status": "pruned", "rung": r, "step": first, "value": v, "cutoff": math.nan, "peers": 0}
                break
            others = [x for k, x in recorded[r].items() if k != rid]
            recorded[r][rid] = v
            if len(others) >= min_peers:
                cut = float(np.quantile(others, 1 - 1 / eta if goal_max else 1 / eta))
                res.setdefault("margins", []).append(abs(v - cut))
                if (v < cut) if goal_max else (v > cut):
                    res = {"status": "pruned", "rung": r, "step": first, "value": v, "cutoff": cut,
                           "peers": len(others), "margins": res["margins"]}
                    break
        out[rid] = res
    return out, recorded


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="eg-asha-")
        plugdir = os.path.join(self.tmp, "plugins")
        os.makedirs(plugdir)
        os.symlink(os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "asha_model.so"),
                   os.path.join(plugdir, "engram-model-asha.so"))
        self.env = dict(os.environ, ENGRAM_PLUGIN_PATH=plugdir + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))

    def engram(self, *args):
        return subprocess.run([ENGRAM] + list(args), env=self.env, capture_output=True, text=True, timeout=300)

    def spec(self, name, text):
        path = os.path.join(self.tmp, name)
        write(path, text)
        return path


def read_runs(exp_dir, series="asha/score"):
    """run id -> index, status, params, the attributes of pruning, the curve's steps"""
    runs = {}
    d = os.path.join(exp_dir, "runs")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".h5") or name.endswith(".live.h5"):
            continue
        with h5py.File(os.path.join(d, name), "r") as f:
            a = dict(f.attrs)
            steps = f["series/" + series][()]["step"].tolist() if ("series/" + series) in f else []
            log = f["log"].asstr()[()] if "log" in f else ""
        runs[name[:16]] = {"index": int(a["run_index"]), "status": str(a["status"]), "attrs": a, "steps": steps,
                           "log": log, "mtime": os.stat(os.path.join(d, name)).st_mtime_ns}
    return runs


def curves_of(runs, **kw):
    return {rid: curve(float(r["attrs"]["params.quality"]), float(r["attrs"]["params.tau"]), **kw)
            for rid, r in runs.items()}


def compare(runs, expected, what):
    """every run's outcome equals the rule's; returns the number pruned"""
    bad = []
    for rid, e in expected.items():
        r = runs[rid]
        if r["status"] != e["status"]:
            bad.append("%s (index %d): %s, expected %s" % (rid, r["index"], r["status"], e["status"]))
            continue
        if e["status"] != "pruned":
            continue
        a = r["attrs"]
        got = (float(a["pruned_rung"]), int(a["pruned_step"]), int(a["pruned_peers"]))
        if got != (e["rung"], e["step"], e["peers"]):
            bad.append("%s: rung/step/peers %s, expected %s" % (rid, got, (e["rung"], e["step"], e["peers"])))
        cut = float(a["pruned_cutoff"])
        if not (math.isnan(cut) and math.isnan(e["cutoff"])) and abs(cut - e["cutoff"]) > 1e-9:
            bad.append("%s: cutoff %r, expected %r" % (rid, cut, e["cutoff"]))
        if r["steps"] and r["steps"][-1] != e["step"]:
            bad.append("%s: its curve ends at step %d, not at the rung's step %d" % (rid, r["steps"][-1], e["step"]))
    n = sum(e["status"] == "pruned" for e in expected.values())
    check(not bad, "%s: exactly the runs the rule prunes are pruned (%d of %d), at its rungs and cutoffs%s" % (
        what, n, len(expected), "".join("\n  " + b for b in bad)))
    return n


def ordered(runs):
    return [rid for rid, _ in sorted(runs.items(), key=lambda kv: kv[1]["index"])]


def best_run(runs, goal_max=True):
    key = (lambda rid: (float(runs[rid]["attrs"]["params.quality"]), -float(runs[rid]["attrs"]["params.tau"])))
    return max(runs, key=key) if goal_max else min(runs, key=key)


def sequential(e):
    spec = e.spec("asha.yaml", HEAD.format(exp="asha", step_s=0, q=QUALITY, t=TAU) + ADAPTIVE)
    out = os.path.join(e.tmp, "r1")
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain")
    exp = os.path.join(out, "asha")
    check(p.returncode == 0, "a sweep with pruned runs exits 0 (pruned is an outcome, not a failure):\n" + p.stderr[-800:])
    runs = read_runs(exp)
    check(len(runs) == 12, "12 run files, pruned ones kept (%d)" % len(runs))
    curves = curves_of(runs)
    expected, recorded = simulate(ordered(runs), curves)
    margins = [m for x in expected.values() for m in x.get("margins", [])]
    check(min(margins) > 1e-6, "(the fixture keeps every value %.3g away from its cutoff)" % min(margins))
    n = compare(runs, expected, "-j 1")
    check(0 < n < 12, "some but not all runs are pruned (%d)" % n)
    check(re.search(r"\b%d pruned \(sweep\.adaptive\)" % n, p.stderr) is not None,
          "the closing line counts the pruned runs:\n" + p.stderr[-300:])
    check(runs[best_run(runs)]["status"] == "ok" and len(runs[best_run(runs)]["steps"]) == 50,
          "the best run is never pruned and runs all 50 steps")
    ok_full = all(len(r["steps"]) == 50 for r in runs.values() if r["status"] == "ok")
    check(ok_full, "every ok run ran to its end")
    for r in RUNGS:
        d = os.path.join(exp, "adaptive", "asha", "score", "rung-%d" % r)
        files = sorted(os.listdir(d)) if os.path.isdir(d) else []
        check(files == sorted(recorded[r]), "rung %d: a value file per run that reached it (%d)" % (r, len(files)))
    some = sorted(recorded[5])[0]
    with open(os.path.join(exp, "adaptive", "asha", "score", "rung-5", some)) as f:
        words = f.read().split()
    check(abs(float(words[0]) - recorded[5][some]) < 1e-12 and words[1] == "5", "a rung file holds 'value step'")
    pruned = [rid for rid in runs if runs[rid]["status"] == "pruned"]
    a = runs[pruned[0]]["attrs"]
    check("pruned" in a and str(a["pruned"]).startswith("at step ") and "cutoff" in str(a["pruned"]) and
          "error" not in a, "a pruned run says why in its 'pruned' attribute, and has no error: %s" % a.get("pruned"))
    check("adaptive: pruned at step" in runs[pruned[0]]["log"], "and in its log")
    check(all("cpu_s" in r["attrs"] for r in runs.values()), "every run file records cpu_s")

    # run ids do not depend on sweep.adaptive
    plain = e.spec("plain.yaml", HEAD.format(exp="asha", step_s=0, q=QUALITY, t=TAU))
    ids_plain = re.findall(r"^\d+\s+([0-9a-f]{16})\s", e.engram("plan", plain).stdout, re.M)
    q = e.engram("plan", spec, "--out", out)
    check(ids_plain == ordered(runs), "run ids are the same with and without sweep.adaptive")
    states = dict(re.findall(r"^\d+\s+([0-9a-f]{16})\s.*\s(\w+)\s*$", q.stdout, re.M))
    check(all(states.get(rid) == ("pruned" if r["status"] == "pruned" else "done") for rid, r in runs.items()),
          "engram plan's state column says pruned:\n" + q.stdout)

    # show, show RUN, report, verify
    s = e.engram("show", exp)
    check(s.returncode == 0 and "1 pruned" in s.stdout, "engram show counts pruned runs:\n" + s.stdout)
    s = e.engram("show", exp, pruned[0])
    check(s.returncode == 0 and re.search(r"^status\s+pruned$", s.stdout, re.M) and
          re.search(r"^pruned\s+at step \d+ \(rung \d+\)", s.stdout, re.M), "engram show RUN says pruned and why")
    rep = e.engram("report", exp)
    page = open(os.path.join(exp, "report", "index.html")).read() if rep.returncode == 0 else ""
    check("%d pruned (adaptive search)" % n in page, "engram report counts them")
    check(re.search(r"<b>pruned</b> — at step \d+ \(rung \d+\): asha/score [0-9.]+ &lt; cutoff", page) is not None,
          "and gives each pruned run's reason")
    v = e.engram("verify", exp)
    check(v.returncode == 0, "engram verify finds nothing wrong:\n" + v.stdout[-400:] + v.stderr[-400:])

    # resume: nothing runs again
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain")
    again = read_runs(exp)
    check(p.returncode == 0 and "12 runs already done" in p.stderr and
          all(again[k]["mtime"] == runs[k]["mtime"] for k in runs), "resume reruns no pruned run:\n" + p.stderr[-300:])

    q = e.engram("plan", spec, "--out", out)
    check("%d pruned (sweep.adaptive), 0 pending, 0 to re-run" % n in q.stdout,
          "engram plan's closing line counts pruned runs apart from those to re-run:\n" + q.stdout[-300:])
    # --rerun pruned: exactly the pruned runs run again (and decide again)
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain", "--rerun", "pruned")
    again = read_runs(exp)
    touched = sorted(k for k in runs if again[k]["mtime"] != runs[k]["mtime"])
    check(p.returncode == 0 and touched == sorted(pruned), "--rerun pruned runs the %d pruned runs and no other "
          "(%d touched):\n%s" % (len(pruned), len(touched), p.stderr[-300:]))
    runs = again
    recorded = {r: {} for r in RUNGS}
    for r in RUNGS:
        d = os.path.join(exp, "adaptive", "asha", "score", "rung-%d" % r)
        for rid in os.listdir(d):
            with open(os.path.join(d, rid)) as f:
                recorded[r][rid] = float(f.read().split()[0])

    # a run without its file (interrupted before it finished) runs again and re-decides
    first = ordered(runs)[0]
    os.unlink(os.path.join(exp, "runs", first + ".h5"))
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain")
    again = read_runs(exp)
    redo, _ = simulate([first], curves, recorded={r: dict(v) for r, v in recorded.items()})
    check(p.returncode == 0 and "11 runs already done" in p.stderr and
          all(again[k]["mtime"] == runs[k]["mtime"] for k in runs if k != first), "only that run runs again")
    compare({first: again[first]}, redo, "re-decided against every recorded value (was ok, now %s)" %
            redo[first]["status"])
    return runs


def goal_min(e):
    spec = e.spec("asha.yaml", HEAD.format(exp="asha", step_s=0, q=QUALITY, t=TAU) + ADAPTIVE)
    out = os.path.join(e.tmp, "rmin")
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain", "sweep.adaptive.goal=min")
    check(p.returncode == 0, "goal min by an override runs")
    runs = read_runs(os.path.join(out, "asha"))
    expected, _ = simulate(ordered(runs), curves_of(runs), goal_max=False)
    compare(runs, expected, "goal min")
    check(runs[best_run(runs, goal_max=False)]["status"] == "ok", "the lowest curve is never pruned with goal min")


def shards(e):
    spec = e.spec("asha.yaml", HEAD.format(exp="asha", step_s=0, q=QUALITY, t=TAU) + ADAPTIVE)
    out = os.path.join(e.tmp, "rshard")
    p0 = e.engram("run", spec, "--out", out, "-j", "1", "--plain", "--shard", "0/2")
    p1 = e.engram("run", spec, "--out", out, "-j", "1", "--plain", "--shard", "1/2")
    check(p0.returncode == 0 and p1.returncode == 0, "two shards run one after the other on one directory")
    runs = read_runs(os.path.join(out, "asha"))
    order = ordered(runs)
    expected, _ = simulate(order[0::2] + order[1::2], curves_of(runs))
    compare(runs, expected, "--shard 0/2 then 1/2 (the second decides from the first's files)")


def parallel(e):
    spec = e.spec("asha.yaml", HEAD.format(exp="asha", step_s=0.01, q=QUALITY, t=TAU) + ADAPTIVE)
    out = os.path.join(e.tmp, "rj2")
    p = e.engram("run", spec, "--out", out, "-j", "2", "--plain")
    runs = read_runs(os.path.join(out, "asha"))
    check(p.returncode == 0 and len(runs) == 12 and all(r["status"] in ("ok", "pruned") for r in runs.values()),
          "-j 2: every run ok or pruned")
    check(runs[best_run(runs)]["status"] == "ok", "-j 2: the best run survives")
    curves = curves_of(runs)
    pruned = [rid for rid in runs if runs[rid]["status"] == "pruned"]
    check(1 <= len(pruned) <= 11, "-j 2: %d pruned, between 1 and 11" % len(pruned))
    bad = []
    for rid in pruned:
        a = runs[rid]["attrs"]
        r, step, cut, peers = float(a["pruned_rung"]), int(a["pruned_step"]), float(a["pruned_cutoff"]), \
            int(a["pruned_peers"])
        v = curves[rid][step]
        others = [curves[k][step] for k in runs if k != rid]
        if not (v < cut and min(others) - 1e-12 <= cut <= max(others) + 1e-12 and 1 <= peers <= 11 and
                runs[rid]["steps"][-1] == step and step == r):
            bad.append("%s: value %g cutoff %g peers %d step %d" % (rid, v, cut, peers, step))
    check(not bad, "-j 2: each pruned run was below a cutoff within its peers' values" + "".join("\n  " + b for b in bad))


def edge_cases(e):
    text = """experiment: edges
model: asha
backend: cpu
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
params: {steps: 50, quality: 0.8, tau: 10}
sweep:
  cases:
    - {params.series: asha/other}
    - {params.nan_at: 3}
    - {params.steps: 10, params.quality: 0.9}
    - {params.quality: 0.5}
    - {params.stride: 20, params.quality: 0.9}
    - {params.quality: 0.85, params.tau: 2}
  adaptive:
    method: asha
    metric: asha/score
    goal: max
    rungs: [5, 15, 45]
"""
    spec = e.spec("edges.yaml", text)
    out = os.path.join(e.tmp, "redges")
    p = e.engram("run", spec, "--out", out, "-j", "1", "--plain")
    check(p.returncode == 0, "edge cases run:\n" + p.stderr[-600:])
    runs = read_runs(os.path.join(out, "edges"))
    order = ordered(runs)
    params = [dict(), dict(nan_at=3), dict(steps=10), dict(), dict(stride=20), dict()]
    curves = {}
    for rid, kw in zip(order, params):
        a = runs[rid]["attrs"]
        curves[rid] = {} if rid == order[0] else curve(float(a["params.quality"]), float(a["params.tau"]), **kw)
    expected, _ = simulate(order, curves)
    compare(runs, expected, "edge cases")
    check(runs[order[0]]["status"] == "ok" and runs[order[0]]["log"].count("adaptive: warning: the run never logged "
                                                                           "the series 'asha/score'") == 1,
          "a run that never logs the metric is ok and warned about once in its log")
    check(runs[order[1]]["status"] == "pruned" and math.isnan(float(runs[order[1]]["attrs"]["pruned_value"])),
          "a NaN value at a rung is pruned (not diverged)")
    check(runs[order[2]]["status"] == "ok" and len(runs[order[2]]["steps"]) == 10, "a run that ends before a rung is ok")
    log = runs[order[4]]["log"]
    check("adaptive: rung 5 at step 20:" in log and "adaptive: rung 15 at step 20:" in log,
          "a point past several rungs decides each of them (stride 20):\n" + log[-600:])


BAD = """experiment: bad
model: asha
backend: cpu
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
sweep:
  grid: {params.quality: [0.5, 1.0]}
  adaptive:
"""
GOOD = {"method": "asha", "metric": "asha/score", "goal": "max", "rungs": "[5, 15, 45]"}


def bad_inputs(e):
    cases = [  # (block lines, key, line, col, text the message must hold)
        ({"method": "hyperband"}, "method", 9, 13, "method 'hyperband' is not implemented"),
        ({"method": "ahsa"}, "method", 9, 13, "did you mean 'asha'?"),
        ({"goal": "maximum"}, "goal", 11, 11, "expected max or min"),
        ({"rungs": "[5, 5, 45]"}, "rungs", 12, 16, "rungs must increase strictly"),
        ({"rungs": "[0, 5]"}, "rungs", 12, 13, "expected a positive number of steps"),
        ({"rungs": "5"}, "rungs", 12, 12, "expected a list of steps"),
        ({"eta": "1"}, "eta", 13, 10, "expected a number > 1"),
        ({"min_peers": "0"}, "min_peers", 13, 16, "expected an integer >= 1"),
        ({"etta": "2"}, "etta", 13, 5, "did you mean 'eta'?"),
        ({"metric": None}, "metric", 9, 5, "required"),
        ({"metric": '""'}, "metric", 10, 13, "expected the name of a series"),
        ({"unit": '"two words"'}, "unit", 13, 11, "expected a word"),
    ]
    for i, (change, key, line, col, want) in enumerate(cases):
        block = dict(GOOD)
        for k, v in change.items():
            if v is None:
                block.pop(k)
            else:
                block[k] = v
        text = BAD + "".join("    %s: %s\n" % kv for kv in block.items())
        spec = e.spec("bad%d.yaml" % i, text)
        p = e.engram("plan", spec)
        head = "%s:%d:%d: sweep.adaptive.%s: " % (spec, line, col, key)
        check(p.returncode == 2 and head in p.stderr,
              "bad %s exits 2 at %d:%d: %s" % (change, line, col, p.stderr.strip()))
        check(want in p.stderr, "  ... saying %r" % want)
    spec = e.spec("scalar.yaml", BAD.replace("  adaptive:\n", "  adaptive: asha\n"))
    p = e.engram("plan", spec)
    check(p.returncode == 2 and "%s:8:13: sweep.adaptive: expected a mapping" % spec in p.stderr,
          "sweep.adaptive: asha exits 2 at its place: " + p.stderr.strip())
    spec = e.spec("ok.yaml", BAD + "".join("    %s: %s\n" % kv for kv in GOOD.items()))
    p = e.engram("plan", spec, "sweep.adaptive.eta=0.5")
    check(p.returncode == 2 and "<command line>: override 'sweep.adaptive.eta=0.5': expected a number > 1" in p.stderr,
          "a bad override exits 2 naming it: " + p.stderr.strip())
    p = e.engram("plan", spec)
    check(p.returncode == 0, "the good block plans: " + p.stderr.strip())


def main():
    e = Env()
    bad_inputs(e)
    sequential(e)
    goal_min(e)
    shards(e)
    edge_cases(e)
    parallel(e)
    finish()


if __name__ == "__main__":
    main()
