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

ENGRAM = os.environ["ENGRAM_BIN"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def setup():
    tmp = tempfile.mkdtemp(prefix="engram-fault-")
    plugdir = os.path.join(tmp, "plugins")
    os.makedirs(plugdir)
    os.symlink(os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "faulty_model.so"),
               os.path.join(plugdir, "engram-model-faulty.so"))
    env = dict(os.environ, ENGRAM_PLUGIN_PATH=plugdir + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))
    # under AddressSanitizer the segv mode must still die of the signal, not of ASan's report
    env["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS"), "handle_segv=0") if x)
    return tmp, env


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


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
sys.exit(1 if failures else 0)
