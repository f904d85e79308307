"""cli/progress_eta — progress of a running run without a terminal: with --plain and
--progress-every 1, a one-run sweep whose run takes 8 epochs of 0.5 s prints lines
"run <id>: epoch k/8, 2.0 epoch/s, ETA Ns (elapsed)" while it runs; the ETA of each
line is within 1.5 s of the (8 - k) x 0.5 s actually left, and the rate near 2/s."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: progress-eta
model: faulty
backend: cpu
seeds: [0]
data: {source: random-patterns, n: 20, dim: 8}
params: {epochs: 8, epoch_s: 0.5}
task: {kind: retrieve, memories: 10, queries: 2}
"""


def main():
    tmp, env = setup("eg-progress-")
    spec = os.path.join(tmp, "spec.yaml")
    with open(spec, "w") as f:
        f.write(SPEC)
    p = subprocess.run([ENGRAM, "run", spec, "--out", os.path.join(tmp, "r"), "--plain", "--progress-every", "1"],
                       env=env, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "the run finishes")
    lines = re.findall(r"run [0-9a-f]{16}: epoch (\d)/8, ([0-9.]+) epoch/s, ETA (\d+)s", p.stderr)
    check(len(lines) >= 2, "at least two progress lines while it ran (%d):\n%s" % (len(lines), p.stderr[-600:]))
    for k, rate, eta in lines:
        left = (8 - int(k)) * 0.5
        check(abs(int(eta) - left) <= 1.5, "epoch %s/8: ETA %ss, %.1fs left" % (k, eta, left))
        check(1.2 <= float(rate) <= 2.5, "epoch %s/8: rate %s epoch/s (one per 0.5 s)" % (k, rate))
    finish()


if __name__ == "__main__":
    main()
