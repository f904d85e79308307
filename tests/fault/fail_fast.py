"""--fail-fast stops the sweep at the first run that is not ok: the running
runs are cancelled without run files, the rest never start, exit code 1.
Without it the same sweep runs to the end."""
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
cases = "\n".join("    - {params.mode: %s, params.x: %d}" % ("segv" if i == 0 else "sleep", i) for i in range(6))
with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: ff
model: faulty
backend: cpu
seed: 0
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve, memories: 4, queries: 2}
params: {seconds: 0.2}
sweep:
  cases:
%s
""" % cases)

plan = subprocess.run([ENGRAM, "plan", "spec.yaml"], cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
check(plan.returncode == 0, "plan exit 0")
first = [l.split() for l in plan.stdout.splitlines() if re.match(r"\d+\s+[0-9a-f]{16}\s", l)]
check(len(first) == 6, "plan lists 6 runs")

p = subprocess.run([ENGRAM, "run", "spec.yaml", "-j", "1", "--fail-fast"], cwd=tmp, env=env, capture_output=True,
                   text=True, timeout=120)
print(p.stderr)
check(p.returncode == 1, "--fail-fast: exit code 1 (got %d)" % p.returncode)
check("fail-fast" in p.stderr, "--fail-fast: says it stops the sweep")
files = glob.glob(os.path.join(tmp, "results/ff/runs/*.h5"))
statuses = []
for path in files:
    with h5py.File(path, "r") as f:
        statuses.append((text(f.attrs["params.mode"]), text(f.attrs["status"])))
check(("segv", "failed") in statuses, "the crashed run is recorded")
check(len(files) < 6, "the sweep stopped early (%d of 6 run files)" % len(files))
check(not glob.glob(os.path.join(tmp, "results/ff/runs/*.tmp-*")), "no temporary files")

p = subprocess.run([ENGRAM, "run", "spec.yaml", "-j", "2"], cwd=tmp, env=env, capture_output=True, text=True,
                   timeout=120)
check(p.returncode == 1, "without --fail-fast: exit code 1")
files = glob.glob(os.path.join(tmp, "results/ff/runs/*.h5"))
check(len(files) == 6, "without --fail-fast the sweep goes on to all 6 runs (got %d)" % len(files))

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
