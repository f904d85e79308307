"""cli/python_package — the Python analysis package (python/, import name engram) passes its
pytest suite (python/tests) against this build's engram binary: summary() bit-identical
to `engram show --json`, .runs against h5py reads of the run files, series, artifacts,
weights, config, log, best(), live runs, stale summaries, the 1000-run .runs timing, and
an offline `pip install` into a throwaway venv. Any pytest exit code but 0 fails the test,
"no tests collected" (5) included."""
import os
import subprocess
import sys

src = os.environ.get("ENGRAM_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
tests = os.path.join(src, "python", "tests")
env = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [os.path.join(src, "python")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the source tree
# -p no:cacheprovider: no .pytest_cache in the source tree; -s: the timings the tests print
cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", tests]
print(" ".join(cmd), flush=True)
rc = subprocess.run(cmd, env=env, cwd=os.getcwd()).returncode
if rc != 0:
    print("FAILED: pytest exited with %d%s" % (rc, " (no tests collected)" if rc == 5 else ""))
sys.exit(1 if rc != 0 else 0)
