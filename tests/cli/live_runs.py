"""cli/live_runs — a running run's curve is on disk before it ends: with
ENGRAM_LIVE_EVERY=0.3, a run of 12 epochs of 0.4 s (a point of fault/epoch_loss per
epoch) writes runs/<id>.live.h5; while it runs `engram show` counts it as running and
`engram report` says "1 running" and draws its curve so far, dashed, with fewer than 12
points; once it ends the snapshot is gone and both show the finished run."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: live
model: faulty
backend: cpu
seeds: [0]
data: {source: random-patterns, n: 20, dim: 8}
params: {epochs: 12, epoch_s: 0.4}
task: {kind: retrieve, memories: 10, queries: 2}
"""


def main():
    tmp, env = setup("eg-live-")
    env["ENGRAM_LIVE_EVERY"] = "0.3"
    spec = os.path.join(tmp, "spec.yaml")
    with open(spec, "w") as f:
        f.write(SPEC)
    out = os.path.join(tmp, "r")
    exp = os.path.join(out, "live")
    proc = subprocess.Popen([ENGRAM, "run", spec, "--out", out, "--plain"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    live = []
    for _ in range(100):  # up to 10 s for the first snapshot
        time.sleep(0.1)
        runs = os.path.join(exp, "runs")
        live = [f for f in os.listdir(runs)] if os.path.isdir(runs) else []
        live = [f for f in live if f.endswith(".live.h5")]
        if live:
            break
    check(len(live) == 1, "a snapshot runs/<id>.live.h5 appears while the run goes %s" % live)
    time.sleep(1.0)
    show = subprocess.run([ENGRAM, "show", exp], env=env, capture_output=True, text=True)
    check(proc.poll() is None, "the run is still going when show and report read it")
    check(show.returncode == 0 and "1 running" in show.stdout, "show counts the running run:\n%s" % show.stdout)
    rep = subprocess.run([ENGRAM, "report", exp], env=env, capture_output=True, text=True)
    page = open(os.path.join(exp, "report", "index.html")).read() if rep.returncode == 0 else ""
    check("<b>1 running</b>" in page, "the report's header says 1 running")
    fig = re.search(r'<figure class="plot" data-kind="series">(.*?)</figure>', page, re.S)
    dashed = fig and re.search(r'data-label="[^"]*\(running\)".*?stroke-dasharray="6 4" points="([^"]*)"', fig.group(1),
                               re.S)
    n = len(dashed.group(1).split()) if dashed else 0
    check(dashed is not None and 1 <= n < 12, "its curve so far is drawn dashed with %d of 12 points" % n)
    out_s, err_s = proc.communicate(timeout=60)
    check(proc.returncode == 0, "the run finishes ok")
    left = [f for f in os.listdir(os.path.join(exp, "runs")) if f.endswith(".live.h5")]
    check(not left, "the snapshot is removed once the run file is written %s" % left)
    show = subprocess.run([ENGRAM, "show", exp], env=env, capture_output=True, text=True)
    check("1 runs in 1 group, 1 ok" in show.stdout or "1 run in 1 group, 1 ok" in show.stdout,
          "afterwards show has the finished run:\n%s" % show.stdout)
    finish()


if __name__ == "__main__":
    main()
