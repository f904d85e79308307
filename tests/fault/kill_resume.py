"""kill -9 of `engram run` in the middle of a sweep, then a re-run: no
temporary files are left, the orphaned child does not leave a partial run
file, and the summary equals that of an uninterrupted run (same run ids,
statuses and metric values)."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402





def summary(root):
    with h5py.File(os.path.join(root, "resume/summary.h5"), "r") as f:
        rows = f["summary"][()]
        names = rows.dtype.names
        out = {}
        for r in rows:
            metrics = tuple((n, float(r[n])) for n in names if n.startswith("fault/"))
            out[text(r["run_id"])] = (text(r["status"]), int(r["seed"]), metrics)
        return out


tmp, env = setup()
with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: resume
model: faulty
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve, memories: 4, queries: 2}
params: {mode: sleep, seconds: 0.4}
sweep:
  grid:
    params.x: [1, 2, 3, 4]
""")

ref = subprocess.run([ENGRAM, "run", "spec.yaml", "--out", "ref", "-j", "2"], cwd=tmp, env=env,
                     capture_output=True, text=True, timeout=300)
check(ref.returncode == 0, "uninterrupted run exit 0 (got %d): %s" % (ref.returncode, ref.stderr[-300:]))

proc = subprocess.Popen([ENGRAM, "run", "spec.yaml", "--out", "cut", "-j", "1"], cwd=tmp, env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + 60
while time.time() < deadline and len(glob.glob(os.path.join(tmp, "cut/resume/runs/*.h5"))) < 3:
    time.sleep(0.05)
time.sleep(0.15)  # into the middle of the next run
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
done_at_kill = len(glob.glob(os.path.join(tmp, "cut/resume/runs/*.h5")))
check(3 <= done_at_kill < 8, "killed in the middle of the sweep (%d of 8 runs done)" % done_at_kill)
time.sleep(1.0)  # the orphaned child gets SIGTERM from the kernel and stops without a run file
after = len(glob.glob(os.path.join(tmp, "cut/resume/runs/*.h5")))
check(after == done_at_kill, "the orphaned child left no run file (%d -> %d)" % (done_at_kill, after))

p = subprocess.run([ENGRAM, "run", "spec.yaml", "--out", "cut", "-j", "1", "--plain"], cwd=tmp, env=env,
                   capture_output=True, text=True, timeout=300)
check(p.returncode == 0, "re-run exit 0 (got %d): %s" % (p.returncode, p.stderr[-300:]))
check("%d runs already done" % after in p.stderr, "re-run skipped the %d finished runs" % after)
left = [x for x in glob.glob(os.path.join(tmp, "cut/**/*"), recursive=True) if ".tmp-" in x]
check(not left, "no temporary files after the re-run: %s" % left)

a, b = summary(os.path.join(tmp, "ref")), summary(os.path.join(tmp, "cut"))
check(len(a) == 8, "reference summary has 8 rows")
check(sorted(a) == sorted(b), "same run ids")
check(a == b, "same statuses, seeds and metric values")

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
