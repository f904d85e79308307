"""A sweep with a crashing, a diverging, a failing and a buggy run goes on:
exit code 1, ok runs recorded ok, segv -> failed with SIGSEGV and the child's
output in /log, nan -> diverged, fail -> failed with the plugin's message,
badkey -> failed naming the key, and summary.h5 holds every row."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402





tmp, env = setup()
with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: faults
model: faulty
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve, memories: 4, queries: 2}
params: {x: 1.5}
sweep:
  cases:
    - {params.mode: ok}
    - {params.mode: segv}
    - {params.mode: nan}
    - {params.mode: fail}
    - {params.mode: badkey}
""")
p = subprocess.run([ENGRAM, "run", "spec.yaml", "-j", "2"], cwd=tmp, env=env, capture_output=True, text=True,
                   timeout=300)
print(p.stderr)
check(p.returncode == 1, "exit code 1 when some runs fail (got %d)" % p.returncode)
check("failed: SIGSEGV" in p.stderr, "the crash is reported on stderr with its signal")
check("/log)" in p.stderr, "the report points at the run file's /log")

runs = sorted(glob.glob(os.path.join(tmp, "results/faults/runs/*.h5")))
check(len(runs) == 10, "10 run files (got %d)" % len(runs))
check(not glob.glob(os.path.join(tmp, "results/faults/runs/*.tmp-*")), "no temporary files left")
by_mode = {}
for path in runs:
    with h5py.File(path, "r") as f:
        mode = text(f.attrs["params.mode"])
        seed = int(f.attrs["seed"])
        status = text(f.attrs["status"])
        log = text(f["log"][()]) if "log" in f else ""
        metrics = {"fault/" + k: float(f["metrics/fault"][k][()]) for k in f["metrics/fault"]} if "metrics/fault" in f else {}
        by_mode.setdefault(mode, []).append((seed, status, log, metrics, path))
        if mode == "ok":
            check(text(f.attrs["run_id"]) == os.path.basename(path)[:-3], "run_id attribute matches the file name")
            check(text(f.attrs["model"]) == "faulty" and text(f.attrs["backend"]) == "cpu", "model and backend attrs")
            check(float(f.attrs["wall_s"]) >= 0 and text(f.attrs["engram_version"]) != "", "version and wall_s")
            w = f["weights/w"][()]
            check(w.shape == (2, 3) and abs(float(w[1, 2]) - 1.5 * 5) < 1e-6, "weight w saved as float32 2x3")
            s = f["series/fault/loss"][()]
            check(len(s) == 5, "series fault/loss has 5 points")
            check("config" in f, "/config present")

for mode in ("ok", "segv", "nan", "fail", "badkey"):
    check(len(by_mode.get(mode, [])) == 2, "two runs of mode %s" % mode)
for seed, status, log, metrics, _ in by_mode.get("ok", []):
    check(status == "ok", "ok run status ok")
    check("faulty: plain stderr line, x = 1.5" in log and "(index " in log, "/log holds the run's output: " + log)
    check(abs(metrics.get("fault/score", -1) - (3.0 + seed)) < 1e-12, "fault/score = 2x + seed")
    check(0 <= metrics.get("fault/rand", -1) < 1, "fault/rand is a uniform draw")
for seed, status, log, metrics, _ in by_mode.get("segv", []):
    check(status == "failed", "segv run status failed (got %s)" % status)
    check("SIGSEGV" in log, "segv run /log names SIGSEGV")
    check("about to crash" in log, "segv run /log holds the tail of the child's output")
for seed, status, log, metrics, _ in by_mode.get("nan", []):
    check(status == "diverged", "nan run status diverged (got %s)" % status)
for seed, status, log, metrics, _ in by_mode.get("fail", []):
    check(status == "failed", "fail run status failed")
    check("faulty model asked to fail" in log, "fail run /log has the plugin's message")
for seed, status, log, metrics, _ in by_mode.get("badkey", []):
    check(status == "failed", "badkey run status failed")
    check("params.no_such_key" in log and "SIGABRT" in log, "badkey run aborts naming the key")

with h5py.File(os.path.join(tmp, "results/faults/summary.h5"), "r") as f:
    rows = f["summary"][()]
    check(len(rows) == 10, "summary has 10 rows (got %d)" % len(rows))
    statuses = sorted(text(r["status"]) for r in rows)
    check(statuses == sorted(["ok"] * 2 + ["failed"] * 6 + ["diverged"] * 2), "summary statuses: %s" % statuses)

# a re-run skips the ok runs and repeats the others
p = subprocess.run([ENGRAM, "run", "spec.yaml", "--plain"], cwd=tmp, env=env, capture_output=True, text=True,
                   timeout=300)
check(p.returncode == 1, "re-run exit code 1")
check("2 runs already done" in p.stderr and "8 to run" in p.stderr, "re-run skips the 2 ok runs: " + p.stderr[:200])

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
