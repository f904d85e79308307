"""SIGTERM (and SIGINT) to `engram run` stop it cleanly: exit code 130, the
children are stopped, no partial run file and no temporary file is left."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402




def children(pid):
    out = []
    for d in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


tmp, env = setup()
with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: term
model: faulty
backend: cpu
seed: 0
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve, memories: 4, queries: 2}
params: {mode: sleep, seconds: 30}
sweep:
  grid:
    params.x: [1, 2, 3, 4]
""")

for sig in (signal.SIGTERM, signal.SIGINT):
    out = "out-%d" % sig
    proc = subprocess.Popen([ENGRAM, "run", "spec.yaml", "--out", out, "-j", "2", "--plain"], cwd=tmp, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    kids = []
    while time.time() < deadline and len(kids) < 2:
        time.sleep(0.1)
        kids = children(proc.pid)
    time.sleep(0.5)  # the children are inside their runs
    check(len(kids) == 2, "%s: two children running (%d)" % (sig.name, len(kids)))
    t0 = time.time()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    print(err)
    check(proc.returncode == 130, "%s: exit code 130 (got %s)" % (sig.name, proc.returncode))
    check(time.time() - t0 < 10, "%s: stopped promptly (%.1fs)" % (sig.name, time.time() - t0))
    check("interrupted" in err, "%s: says it was interrupted" % sig.name)
    check(not any(alive(k) for k in kids), "%s: the children are gone" % sig.name)
    files = glob.glob(os.path.join(tmp, out, "**", "*"), recursive=True)
    check(not [x for x in files if x.endswith(".h5")], "%s: no partial run file: %s" % (sig.name, files))
    check(not [x for x in files if ".tmp-" in x], "%s: no temporary file" % sig.name)

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
