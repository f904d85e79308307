"""plugin/test_task_kind_plugin — a task kind defined by a model plugin (model ABI 1.3),
with no edit of engram (fixture tests/fixtures/task_kind_model.c, kind `nearest-mean`):

- `engram describe` shows the kind's task.* schema, marked as defined by the plugin;
- the spec layer fills its defaults, refuses unknown keys with a did-you-mean and runs
  its cross-key rule (test_split == train_split is refused, exit 2, key named);
- a sweep on sklearn's digits scores it: the accuracy of the nearest class mean,
  euclidean and cosine, on all and on the first 100 training items, equals a numpy
  computation of the same classifier on the same split (first 1347 / last 450, pixels/16).
"""
import gzip
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, skip  # noqa: E402

FIXTURE = os.path.join(os.environ.get("ENGRAM_TEST_PLUGINS", "test-plugins"), "task_kind_model.so")
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

SPEC = """experiment: nearest-mean
model: %s
backend: cpu
seeds: [0]
data: {source: digits}
task: {kind: nearest-mean}
sweep: {grid: {params.distance: [euclidean, cosine], task.train_limit: [0, 100]}}
"""


def oracle(distance, limit):
    a = np.loadtxt(gzip.open(DIGITS), delimiter=",")
    x = (a[:, :-1] / 16).astype(np.float32).astype(np.float64)
    y = a[:, -1].astype(int)
    n_train = len(a) - (len(a) + 3) // 4
    xtr, ytr, xte, yte = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    if limit:
        xtr, ytr = xtr[:limit], ytr[:limit]
    means = np.stack([xtr[ytr == c].mean(0) for c in range(10)])
    if distance == "cosine":
        d = 1 - (xte @ means.T) / np.sqrt((xte ** 2).sum(1)[:, None] * (means ** 2).sum(1)[None])
    else:
        d = ((xte[:, None, :] - means[None]) ** 2).sum(-1)
    return (d.argmin(1) == yte).mean()


def main():
    if not os.path.exists(FIXTURE):
        skip("the task-kind fixture is not built (%s)" % FIXTURE)
    if not os.path.exists(DIGITS):
        skip("sklearn's digits.csv.gz is not installed (python3-sklearn)")
    tmp = tempfile.mkdtemp(prefix="eg-task-kind-")
    spec = os.path.join(tmp, "nm.yaml")
    with open(spec, "w") as f:
        f.write(SPEC % FIXTURE)
    p = subprocess.run([ENGRAM, "describe", FIXTURE], capture_output=True, text=True)
    check(p.returncode == 0 and "task.kind: nearest-mean" in p.stdout and "(defined by this plugin)" in p.stdout,
          "describe shows the plugin's own task kind")
    check("task.train_limit" in p.stdout and "default train" in p.stdout, "describe shows its task.* schema")
    plain = os.path.join(tmp, "plain.yaml")  # no sweep: an override of a swept key is issue 15's
    with open(plain, "w") as f:
        f.write(SPEC.split("sweep:")[0] % FIXTURE)
    for override, want in (("task.test_split=train", "task.test_split 'train' is the training split"),
                           ("task.trian_limit=3", "did you mean 'train_limit'?"),
                           ("task.train_limit=-1", "out of range")):
        q = subprocess.run([ENGRAM, "plan", plain, override], capture_output=True, text=True)
        check(q.returncode == 2 and want in q.stderr, "plan %s: exit 2, %s" % (override, want))
    out = os.path.join(tmp, "results")
    p = subprocess.run([ENGRAM, "run", spec, "--out", out, "-j", "2"], capture_output=True, text=True)
    check(p.returncode == 0, "a sweep of the plugin's task kind runs %s" % p.stderr[-400:])
    if p.returncode == 0:
        with h5py.File(os.path.join(out, "nearest-mean", "summary.h5"), "r") as f:
            rows = f["summary"][()]
        check(len(rows) == 4 and (rows["status"] == b"ok").all(), "4 runs ok")
        for r in rows:
            dist, limit = r["params.distance"].decode(), int(r["task.train_limit"])
            want = oracle(dist, limit)
            got = r["nearest_mean/accuracy"]
            check(abs(got - want) < 1e-12, "%s, train_limit %d: accuracy %.6f = numpy's %.6f" %
                  (dist, limit, got, want))
            check(want > 0.5, "%s, train_limit %d: well above chance (0.1)" % (dist, limit))
    finish()


if __name__ == "__main__":
    main()
