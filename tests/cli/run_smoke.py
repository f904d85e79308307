"""End to end through the CLI with the faulty test model in ok mode: plan lists
the run ids, run exits 0, a re-run skips everything, --shard 0/2 + 1/2 make the
full set, show prints mean ± sd, --no-fork works, init_from loads a weight,
and data.seed = -1 follows the run's seed."""
import glob
import os
import shutil
import re
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402





tmp, env = setup()


def engram(*args):
    p = subprocess.run([ENGRAM] + list(args), cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def ids(root):
    return sorted(os.path.basename(x)[:-3] for x in glob.glob(os.path.join(tmp, root, "smoke/runs/*.h5")))


with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: smoke
model: faulty
backend: cpu
seeds: [0, 1, 2]
data: {source: random-patterns, n: 8, dim: 4, kind: gaussian}
task: {kind: retrieve, memories: 4, queries: 2}
params: {mode: data}
sweep:
  grid:
    params.x: [1, 2.5]
""")

rc, out, err = engram("plan", "spec.yaml")
check(rc == 0, "plan exit 0: " + err)
plan_ids = sorted(re.findall(r"\b[0-9a-f]{16}\b", out))
check(len(plan_ids) == 6 and len(set(plan_ids)) == 6, "plan lists 6 distinct run ids")
check(len([l for l in out.splitlines() if l.endswith(" pending")]) == 6, "every run pending before the run")
check("params.x" in out and "seed" in out, "plan shows the swept parameters")

rc, out, err = engram("run", "spec.yaml", "-j", "2")
check(rc == 0, "run exit 0 (got %d): %s" % (rc, err[-400:]))
check(ids("results") == plan_ids, "run files are the planned ids")
check(os.path.exists(os.path.join(tmp, "results/smoke/summary.h5")), "summary.h5 written")
for path in glob.glob(os.path.join(tmp, "results/smoke/runs/*.h5")):
    with h5py.File(path, "r") as f:
        seed, x = int(f.attrs["seed"]), float(f.attrs["params.x"])
        check(text(f.attrs["status"]) == "ok", "status ok")
        check(abs(float(f["metrics/fault/score"][()]) - (2 * x + seed)) < 1e-12, "score = 2x + seed")
        check(float(f["metrics/fault/items"][()]) == 8, "the dataset was loaded (8 items)")

x0 = {}
for path in glob.glob(os.path.join(tmp, "results/smoke/runs/*.h5")):
    with h5py.File(path, "r") as f:
        x0[(int(f.attrs["seed"]), float(f.attrs["params.x"]))] = float(f["metrics/fault/x0"][()])
check(len({x0[(s, 1.0)] for s in range(3)}) == 3, "data.seed -1: each seed draws its own patterns")
check(all(x0[(s, 1.0)] == x0[(s, 2.5)] for s in range(3)), "data.seed -1: same seed, same patterns")

rc, out, err = engram("plan", "spec.yaml")
check(out.count("done") >= 6 and "pending" not in out.split("results in")[0].replace("0 pending", ""),
      "plan shows every run done")
mtimes = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(tmp, "results/smoke/runs/*.h5"))}
rc, out, err = engram("run", "spec.yaml", "--plain")
check(rc == 0, "re-run exit 0")
check("6 runs already done" in err and "0 to run" in err, "re-run skips everything: " + err[:200])
check(all(os.path.getmtime(p) == t for p, t in mtimes.items()), "re-run rewrote no run file")

rc0, _, err0 = engram("run", "spec.yaml", "--out", "sharded", "--shard", "0/2")
shard0 = ids("sharded")
rc1, _, err1 = engram("run", "spec.yaml", "--out", "sharded", "--shard", "1/2")
check(rc0 == 0 and rc1 == 0, "both shards exit 0")
check(len(shard0) == 3, "shard 0/2 ran 3 runs (got %d)" % len(shard0))
check(ids("sharded") == plan_ids, "shards 0/2 + 1/2 produce the full set")
rc, _, _ = engram("collect", "sharded/smoke")
with h5py.File(os.path.join(tmp, "sharded/smoke/summary.h5"), "r") as f:
    check(len(f["summary"][()]) == 6, "collect merges the shards into 6 rows")

rc, out, err = engram("show", "results/smoke")
check(rc == 0, "show exit 0: " + err)
check("±" in out and "score" in out and "3 ± 1" in out, "show prints mean ± sd (score 2x + seed: 3 ± 1)")
rc2, out2, _ = engram("show", "smoke")
check(rc2 == 0 and out2 == out, "show accepts the experiment name under ./results")

rc, out, err = engram("run", "spec.yaml", "--out", "nofork", "--no-fork", "seeds=[4]", "sweep.grid.params.x=[3]")
check(rc == 0, "--no-fork run exit 0: " + err[-300:])
nf = glob.glob(os.path.join(tmp, "nofork/smoke/runs/*.h5"))
check(len(nf) == 1, "--no-fork with overrides ran one run")
with h5py.File(nf[0], "r") as f:
    check(float(f["metrics/fault/score"][()]) == 10.0, "overrides applied (2*3 + 4)")

# init_from: a run id of the same experiment, resolved under the results root
src = os.path.basename(nf[0])[:-3]
rc, out, err = engram("run", "spec.yaml", "--out", "nofork", "seeds=[0]", "sweep.grid.params.x=[1]", "init_from=" + src)
check(rc == 0, "init_from run exit 0: " + err[-300:])
loaded = []
for path in glob.glob(os.path.join(tmp, "nofork/smoke/runs/*.h5")):
    with h5py.File(path, "r") as f:
        if text(f.attrs.get("init_from", "")) == src:
            loaded.append(float(f["metrics/fault/init_sum"][()]))
check(len(loaded) == 1 and abs(loaded[0] - 45.0) < 1e-5, "init_from loaded w (sum 15 x = 45): %s" % loaded)
rc, out, err = engram("run", "spec.yaml", "--out", "missing", "init_from=0123456789abcdef")
check(rc == 2 and "init_from" in err, "init_from of a missing run: exit 2 naming init_from: " + err)
check(not os.path.exists(os.path.join(tmp, "missing")), "nothing written for a bad init_from")

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
