"""test_vmfdam_growth.py — splitting steepest descent and the teacher-student source end to end.

configs/smoke/vmfdam-teacher.yaml: a teacher DAM (P* = 8 memories on S^49, 4 classes)
emits labelled items; a student starts with 2 memories and grows by splitting to 8.
Checks: the growth schedule 2 -> 4 -> 8 in the series (model/hidden, split/units),
the recovered teacher memories (model/teacher_overlap), the test accuracy, the
saved bookkeeping (row targets G = 1 and G_null = P/P_max = 1 after growth; g on the
polytope), and init_from: a second run that loads the weights and trains 0 epochs
must reproduce the first run's test accuracy and nearest-memory fidelity exactly.
Also the cluster task (unsupervised loss, eq. 15) on the same data.
"""
import glob
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BIN = os.environ.get("ENGRAM_BIN", "./engram")
SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "common"))
from engram_test import check, finish  # noqa: E402


def run(spec, out, *extra):
    p = subprocess.run([BIN, "run", spec, "--out", out, "--plain", *extra], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, "engram run %s %s: exit %d" % (os.path.basename(spec), " ".join(extra), p.returncode))
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p.returncode


def metrics(f):
    m = {}
    f["metrics"].visititems(lambda n, o: m.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
    return m


def series(f, name):
    return [float(v[1]) for v in f["series/" + name][()]] if ("series/" + name) in f else []


def main():
    spec = os.path.join(SRC, "configs", "smoke", "vmfdam-teacher.yaml")
    with tempfile.TemporaryDirectory() as out:
        run(spec, out)
        files = glob.glob(os.path.join(out, "vmfdam-teacher-smoke", "runs", "*.h5"))
        check(len(files) == 1, "one run file")
        if not files:
            return 1
        with h5py.File(files[0], "r") as f:
            m = metrics(f)
            hidden = series(f, "model/hidden")
            units = series(f, "split/units")
            print("growth: hidden %s, split units %s, accuracy %.3f, teacher overlap %.4f, stationarity %.3g" % (
                sorted(set(hidden)), units, m.get("classify/accuracy", 0), m.get("model/teacher_overlap", 0),
                m.get("model/stationarity", -1)))
            check(sorted(set(hidden)) == [2.0, 4.0, 8.0], "memories grow 2 -> 4 -> 8 (got %s)" % sorted(set(hidden)))
            check(hidden == sorted(hidden), "P never shrinks")
            check(units == [2.0, 4.0], "every unit splits at each stage (got %s)" % units)
            check(all(v < -0.001 for v in series(f, "split/min_lambda")), "split eigenvalues below the threshold")
            check(m.get("model/hidden") == 8, "P = P_max = 8 at the end")
            check(m.get("model/teacher_overlap", 0) > 0.9, "teacher memories recovered (%.4f)" % m.get("model/teacher_overlap", 0))
            check(m.get("classify/accuracy", 0) > 0.9, "test accuracy %.3f" % m.get("classify/accuracy", 0))
            G = f["weights/row_targets"][()].ravel()
            g = f["weights/g"][()].astype(np.float64)
            pq = f["weights/class_prior"][()].astype(np.float64)
            check(g.shape == (9, 5) and np.allclose(G, 1.0, atol=1e-6), "after 2 -> 8 every G is 1 and G_null = 8/8")
            check(np.allclose(g.sum(0), (8 + G[-1]) * pq, rtol=1e-5), "g columns on the polytope")
            for k in ("model/stationarity_w", "model/stationarity_g", "model/stationarity_beta"):
                check(k in m and np.isfinite(m[k]), "%s reported" % k)
            acc, fid = m.get("classify/accuracy"), m.get("classify/nn_fidelity")
        # init_from: load the weights, no training, same predictions
        run(spec, out, "init_from=" + files[0], "params.epochs=0", "experiment=vmfdam-teacher-reload")
        files2 = glob.glob(os.path.join(out, "vmfdam-teacher-reload", "runs", "*.h5"))
        check(len(files2) == 1, "reloaded run file")
        if files2:
            with h5py.File(files2[0], "r") as f:
                m2 = metrics(f)
                check(m2.get("classify/accuracy") == acc and m2.get("classify/nn_fidelity") == fid,
                      "init_from reproduces accuracy %s / fidelity %s (got %s / %s)" % (
                          acc, fid, m2.get("classify/accuracy"), m2.get("classify/nn_fidelity")))
                check(m2.get("model/hidden") == 8 and "train/epochs" not in m2, "reloaded model has 8 memories, no training")
        # the cluster task: unsupervised loss on the same data, C = 4 latent classes
        run(spec, out, "experiment=vmfdam-teacher-cluster", "task.kind=cluster", "params.mode=unsupervised",
            "params.growth=none", "params.hidden=8", "params.classes=4", "params.sinkhorn_iters=100")
        files3 = glob.glob(os.path.join(out, "vmfdam-teacher-cluster", "runs", "*.h5"))
        check(len(files3) == 1, "cluster run file")
        if files3:
            with h5py.File(files3[0], "r") as f:
                m3 = metrics(f)
                print("cluster: loss %.4f, occupied %d, purity %.3f, teacher overlap %.4f" % (
                    m3.get("cluster/loss", 0), m3.get("cluster/occupied", 0), m3.get("cluster/purity", 0),
                    m3.get("model/teacher_overlap", 0)))
                check(np.isfinite(m3.get("cluster/loss", np.nan)), "cluster loss reported")
                check(m3.get("cluster/occupied", 0) >= 2, "more than one latent class used")
                check(m3.get("cluster/purity", 0) > 0.4, "purity above chance (0.25)")
                check("classify/accuracy" not in m3, "no classification metrics for the cluster task")
    finish()


if __name__ == "__main__":
    sys.exit(main())
