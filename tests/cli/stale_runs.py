"""cli/stale_runs — results are not reused when the model plugin changed (issue 15,
item 3): a sweep with a copy of the hopfield plugin finishes; `plan` says done. The
plugin file is then rebuilt (here: bytes appended, which changes its SHA-256 and nothing
else); `plan` marks every run stale and `run` runs them again, and the new files record
the new build id; then `plan` says done again. `run --rerun failed` keeps stale runs (and says so), `--rerun stale` runs them;
`run --force` (= `--rerun all`) runs finished runs again; a bad `--rerun` is exit 2."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

SPEC = """experiment: stale
model: hopfield
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 40, dim: 32}
params: {variant: mchn, beta: 4.0, steps: 2}
task: {kind: retrieve, memories: 20, queries: 5}
"""


def states(out):
    return re.findall(r"^\d+\s+[0-9a-f]{16}\s+\S+\s+(\w+)\s*$", out, re.M)


def main():
    src = [os.path.join(d, "engram-model-hopfield.so") for d in os.environ.get("ENGRAM_PLUGIN_PATH", "").split(":")
           if d and os.path.exists(os.path.join(d, "engram-model-hopfield.so"))]
    check(bool(src), "the hopfield plugin is built")
    tmp = tempfile.mkdtemp(prefix="eg-stale-")
    plugdir = os.path.join(tmp, "plugins")
    os.makedirs(plugdir)
    so = os.path.join(plugdir, "engram-model-hopfield.so")
    shutil.copy(src[0], so)
    env = dict(os.environ, ENGRAM_PLUGIN_PATH=plugdir + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))
    spec = os.path.join(tmp, "s.yaml")
    with open(spec, "w") as f:
        f.write(SPEC)
    out = os.path.join(tmp, "r")

    def plan():
        return subprocess.run([ENGRAM, "plan", spec, "--out", out], env=env, capture_output=True, text=True)

    def run(*extra):
        return subprocess.run([ENGRAM, "run", spec, "--out", out, "--plain"] + list(extra), env=env,
                              capture_output=True, text=True)

    p = run()
    check(p.returncode == 0 and states(plan().stdout) == ["done", "done"], "first sweep: both runs done")
    with open(so, "ab") as f:
        f.write(b"\0rebuilt")
    new_id = hashlib.sha256(open(so, "rb").read()).hexdigest()[:16]
    q = plan()
    check(states(q.stdout) == ["stale", "stale"] and "2 to re-run" in q.stdout,
          "after a rebuild plan marks both runs stale:\n" + q.stdout)
    p = run("--rerun", "failed")
    check(p.returncode == 0 and "2 finished runs of another build of the model plugin (stale) kept" in p.stderr and
          "0 to run" in p.stderr, "--rerun failed keeps the stale runs and says so:\n" + p.stderr[-400:])
    check(states(plan().stdout) == ["stale", "stale"], "they are still stale")
    p = run("--rerun", "stale")
    check(p.returncode == 0 and "2 finished runs of another build of the model plugin (stale)" in p.stderr and
          "2 runs to run" in p.stderr, "--rerun stale says so and runs both again:\n" + p.stderr[-400:])
    runs = os.path.join(out, "stale", "runs")
    ids = []
    for name in sorted(os.listdir(runs)):
        with h5py.File(os.path.join(runs, name), "r") as f:
            ids.append(f.attrs["model_build_id"])
    check(ids == [new_id, new_id], "the new files record the new build id %s" % ids)
    check(states(plan().stdout) == ["done", "done"], "and plan says done again")
    p = run()
    check("2 runs already done" in p.stderr and "0 to run" in p.stderr, "a second run reuses them")
    p = run("--force")
    check(p.returncode == 0 and "2 runs to run" in p.stderr, "--force runs them again:\n" + p.stderr[-300:])
    p = run("--rerun", "all")
    check(p.returncode == 0 and "2 runs to run" in p.stderr, "--rerun all runs them again:\n" + p.stderr[-300:])
    p = run("--rerun", "sometimes")
    check(p.returncode == 2 and "--rerun needs stale, failed, pruned or all" in p.stderr, "a bad --rerun is exit 2: " +
          p.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
