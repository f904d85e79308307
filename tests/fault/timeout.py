"""--timeout and the spec's `timeout`: a run that checks eg_run_check stops at
its deadline and records status timeout itself; a run that never checks is
SIGTERMed, then SIGKILLed after the grace, and the runner records the timeout."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402





SPEC = """experiment: %s
model: faulty
backend: cpu
seed: 0
%s
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve, memories: 4, queries: 2}
params: {seconds: 60}
sweep:
  cases:
    - {params.mode: sleep}
    - {params.mode: hang}
    - {params.mode: ok}
"""

tmp, env = setup()
env["ENGRAM_KILL_GRACE"] = "1"
with open(os.path.join(tmp, "cli.yaml"), "w") as f:
    f.write(SPEC % ("cli-timeout", ""))
with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write(SPEC % ("spec-timeout", "timeout: 1.5"))

for name, args in (("cli-timeout", ["cli.yaml", "--timeout", "1"]), ("spec-timeout", ["spec.yaml"])):
    t0 = time.time()
    p = subprocess.run([ENGRAM, "run"] + args + ["-j", "3"], cwd=tmp, env=env, capture_output=True, text=True,
                       timeout=120)
    took = time.time() - t0
    print(p.stderr)
    check(p.returncode == 1, "%s: exit code 1 (got %d)" % (name, p.returncode))
    check(took < 20, "%s: the sweep ends soon after the deadline (%.1fs)" % (name, took))
    files = glob.glob(os.path.join(tmp, "results", name, "runs", "*.h5"))
    check(len(files) == 3, "%s: three run files (got %d)" % (name, len(files)))
    check(not glob.glob(os.path.join(tmp, "results", name, "runs", "*.tmp-*")), name + ": no temporary files")
    for path in files:
        with h5py.File(path, "r") as f:
            mode, status = text(f.attrs["params.mode"]), text(f.attrs["status"])
            log = text(f["log"][()]) if "log" in f else ""
            want = "ok" if mode == "ok" else "timeout"
            check(status == want, "%s: mode %s has status %s (got %s)" % (name, mode, want, status))
            if mode == "sleep":
                check(float(f.attrs["wall_s"]) < 10, name + ": the cooperative run stopped at its deadline")
                check("deadline" in log, name + ": its /log says the deadline passed")
            if mode == "hang":
                check("timeout" in log and "SIGKILL" in log, name + ": the hung run was killed: " + log[-200:])
    check("timeout" in p.stderr, name + ": timeouts reported on stderr")

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
