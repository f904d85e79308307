"""test_pcgmm_cli.py — the pcgmm plugin end to end through `engram run`.

1. The smoke config (configs/smoke/pcgmm-digits.yaml): every variant runs ok,
   reports the retrieval and VAE metrics, and the VAE (same seed) is identical in
   every run; the decoded grid is saved.
2. `gmm` on pixels gives exactly the hopfield plugin's gmm metrics on the same task.
3. init_from round trip: a run reusing the trained VAE gives the same retrieval and
   VAE metrics as the run that trained it, without retraining.
4. Recomputation: vae-hopfield and vae-gmm on clean queries recomputed in numpy
   from the saved encoder weights (encoder means, MCHN / GMM iterations, scoring).
5. The conv VAE (with batch norm) and the colour scenarios (configs/smoke/pcgmm-colour.yaml).
"""
import glob
import gzip
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BIN = os.environ.get("ENGRAM_BIN", "./engram")
SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
sys.path.insert(0, os.path.join(SRC, "tests", "common"))
from engram_test import check, finish  # noqa: E402


def run(spec, out, *overrides):
    p = subprocess.run([BIN, "run", spec, "--out", out, *overrides], capture_output=True, text=True, timeout=500)
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p.returncode


def load_runs(exp_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5"))):
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            metrics, weights = {}, {}
            f["metrics"].visititems(lambda n, o: metrics.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
            if "weights" in f:
                f["weights"].visititems(lambda n, o: weights.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
            grid = f["artifacts/retrieval/grid"][()] if "artifacts/retrieval/grid" in f else None
            log = f["log"][()]
            log = log.decode() if isinstance(log, bytes) else str(log)
            runs.append(dict(path=path, attrs=attrs, metrics=metrics, weights=weights, grid=grid, log=log))
    return runs


def write_spec(path, body):
    with open(path, "w") as f:
        f.write(body)
    return path


TASK = "task: {kind: retrieve, memories: 50, queries: 5, blocks: 4, tolerance: 2.0, corrupt: %s}\n"


def smoke(out):
    rc = run(os.path.join(SRC, "configs/smoke/pcgmm-digits.yaml"), out)
    check(rc == 0, "smoke: exit code %d" % rc)
    runs = load_runs(os.path.join(out, "smoke-pcgmm-digits"))
    check(len(runs) == 8, "smoke: %d runs, expected 8" % len(runs))
    by = {r["attrs"]["params.variant"]: r for r in runs}
    recon = set()
    for v, r in by.items():
        m = r["metrics"]
        check(r["attrs"].get("status") == "ok", "%s: status %s" % (v, r["attrs"].get("status")))
        for k in ("retrieval/success", "retrieval/within_tol", "retrieval/mse", "retrieval/steps"):
            check(k in m and np.isfinite(m[k]), "%s: metric %s" % (v, k))
        check(0 <= m.get("retrieval/success", -1) <= 1, "%s: success in [0, 1]" % v)
        check(r["grid"] is not None and r["grid"].shape == (15, 8, 8, 1), "%s: grid [15, 8, 8, 1]" % v)
        if v == "gmm":
            check("vae/recon" not in m and not r["weights"], "gmm: no VAE")
            continue
        check("vae/recon" in m and 0 < m["vae/recon"] < 0.1, "%s: vae/recon %s" % (v, m.get("vae/recon")))
        check(m.get("vae/kl", 0) > 0, "%s: vae/kl > 0" % v)
        check("vae/dec.lin2.weight" in r["weights"], "%s: VAE weights saved" % v)
        recon.add(m.get("vae/recon"))
    check(len(recon) == 1, "every variant trained the same VAE (seed 0): vae/recon %s" % recon)
    if "vae-gmm-star" in by:
        check("star/log_precision" in by["vae-gmm-star"]["weights"], "gmm*: precision saved")
    # the memory-based variants beat the prior-free start on noisy digits
    if "bp-gmm" in by and "vae-bp-gmm" in by:
        check(by["vae-bp-gmm"]["metrics"]["retrieval/success"] >= by["bp-gmm"]["metrics"]["retrieval/success"],
              "vae-bp-gmm >= bp-gmm (encoder initialisation helps)")
    return by


def hopfield_equal(tmp, out):
    spec = write_spec(os.path.join(tmp, "eq.yaml"),
                      "experiment: eq\nmodel: %s\nbackend: cpu\nseeds: [3]\ndata: {source: digits, split: test}\n"
                      "params: {variant: gmm, sigma: 0.35, steps: 5%s}\n" + TASK % "{kind: noise, sigma: 0.3}")
    txt = open(spec).read()
    write_spec(spec, txt % ("pcgmm", ""))
    rc1 = run(spec, os.path.join(out, "p"))
    write_spec(spec, txt % ("hopfield", ", tol: 1e-6"))
    rc2 = run(spec, os.path.join(out, "h"))
    check(rc1 == 0 and rc2 == 0, "gmm equality runs: exit codes %d %d" % (rc1, rc2))
    a, b = load_runs(os.path.join(out, "p", "eq")), load_runs(os.path.join(out, "h", "eq"))
    if len(a) == 1 and len(b) == 1:
        ma, mb = a[0]["metrics"], b[0]["metrics"]
        for k in ("retrieval/success", "retrieval/within_tol", "retrieval/mse", "retrieval/steps"):
            check(ma.get(k) == mb.get(k), "pcgmm gmm vs hopfield gmm: %s %s vs %s" % (k, ma.get(k), mb.get(k)))
        check(0 < ma.get("retrieval/success", 0) < 1, "gmm equality case is not trivial: %s" % ma)
        check(np.array_equal(a[0]["grid"], b[0]["grid"]), "pcgmm gmm grid equals hopfield's")
    else:
        check(False, "gmm equality: run files %d %d" % (len(a), len(b)))


def init_from(by, out):
    src = by.get("vae-pc-gmm")
    if not src:
        check(False, "init_from: no vae-pc-gmm smoke run")
        return
    text = open(os.path.join(SRC, "configs/smoke/pcgmm-digits.yaml")).read().split("sweep:")[0]
    spec = write_spec(os.path.join(out, "init.yaml"), text + "init_from: %s\n" % src["path"] +
                      "sweep: {cases: [{params.variant: vae-pc-gmm}, {params.variant: vae-bp-gmm}]}\n")
    rc = run(spec, os.path.join(out, "i"))
    check(rc == 0, "init_from run: exit code %d" % rc)
    runs = load_runs(os.path.join(out, "i", "smoke-pcgmm-digits"))
    check(len(runs) == 2, "init_from: %d runs" % len(runs))
    for r in runs:
        v = r["attrs"]["params.variant"]
        check("not retrained" in r["log"], "init_from %s: log says the VAE was not retrained" % v)
        check("training the" not in r["log"], "init_from %s: no VAE training" % v)
        for k, val in by[v]["metrics"].items():
            check(r["metrics"].get(k) == val, "init_from %s: %s %s vs %s" % (v, k, r["metrics"].get(k), val))
        for k, w in by[v]["weights"].items():
            check(np.array_equal(r["weights"].get(k), w), "init_from %s: weight %s identical" % (v, k))


def digits_test():
    rows = np.loadtxt(gzip.open(DIGITS, "rt"), delimiter=",")
    x = rows[:, :64] / 16.0
    n_test = (len(x) + 3) // 4
    return x[len(x) - n_test:]


def encode_mu(w, x, latent):
    h = np.maximum(x @ w["vae/enc.lin0.weight"].T + w["vae/enc.lin0.bias"], 0)
    h = np.maximum(h @ w["vae/enc.lin1.weight"].T + w["vae/enc.lin1.bias"], 0)
    return (h @ w["vae/enc.head.weight"].T + w["vae/enc.head.bias"])[:, :latent]


def recompute(by, tmp, out):
    src = by.get("vae-gmm")
    if not src or not os.path.exists(DIGITS):
        check(False, "recompute: no vae-gmm smoke run or no digits file")
        return
    w = {k: v.astype(np.float64) for k, v in src["weights"].items()}
    X = digits_test()
    spec = write_spec(os.path.join(tmp, "rc.yaml"),
                      "experiment: rc\nmodel: pcgmm\nbackend: cpu\nseeds: [0]\ndata: {source: digits, split: test}\n"
                      "init_from: %s\n" % src["path"] +
                      "params: {sigma: 0.1, beta: 0.5, steps: 4, vae: {arch: mlp, latent: 16, hidden: 64}}\n" +
                      TASK % "{kind: none}" + "sweep: {cases: [{params.variant: vae-hopfield}, {params.variant: vae-gmm}]}\n")
    rc = run(spec, os.path.join(out, "rc"))
    check(rc == 0, "recompute runs: exit code %d" % rc)
    runs = {r["attrs"]["params.variant"]: r for r in load_runs(os.path.join(out, "rc", "rc"))}
    for variant, r in runs.items():
        succ, within, mse = [], [], []
        for b in range(4):
            M = encode_mu(w, X[b * 50:(b + 1) * 50], 16)
            z = M[:5].copy()
            for _ in range(4):
                if variant == "vae-hopfield":
                    L = 0.5 * z @ M.T
                else:
                    L = (z @ M.T - 0.5 * (M * M).sum(1)) / 0.01
                L -= L.max(1, keepdims=True)
                p = np.exp(L)
                z = (p / p.sum(1, keepdims=True)) @ M
            D = ((z[:, None, :] - M[None]) ** 2).sum(-1)
            for j in range(5):
                succ.append(all(D[j, i] > D[j, j] for i in range(50) if i != j))
                within.append(np.sqrt(D[j, j]) < 2.0)
                mse.append(D[j, j] / 16)
        m = r["metrics"]
        check(abs(m["retrieval/success"] - np.mean(succ)) < 1e-9,
              "%s: success %s vs numpy %s" % (variant, m["retrieval/success"], np.mean(succ)))
        check(abs(m["retrieval/within_tol"] - np.mean(within)) < 1e-9,
              "%s: within_tol %s vs numpy %s" % (variant, m["retrieval/within_tol"], np.mean(within)))
        check(abs(m["retrieval/mse"] - np.mean(mse)) <= 1e-4 * (1e-3 + np.mean(mse)),
              "%s: mse %s vs numpy %s" % (variant, m["retrieval/mse"], np.mean(mse)))
    if "vae-gmm" in runs and "vae-hopfield" in runs:
        check(runs["vae-gmm"]["metrics"]["retrieval/success"] == 1.0, "vae-gmm retrieves every clean query")
        check(runs["vae-hopfield"]["metrics"]["retrieval/success"] < 1.0, "vae-hopfield (beta 0.5) does not")


def colour(out):
    rc = run(os.path.join(SRC, "configs/smoke/pcgmm-colour.yaml"), out)
    check(rc == 0, "colour smoke: exit code %d" % rc)
    runs = load_runs(os.path.join(out, "smoke-pcgmm-colour"))
    check(len(runs) == 6, "colour smoke: %d runs, expected 6" % len(runs))
    for r in runs:
        what = "colour %s %s" % (r["attrs"]["params.variant"], r["attrs"]["task.corrupt.kind"])
        check(r["attrs"].get("status") == "ok", what + ": ok")
        check(r["grid"] is not None and r["grid"].shape == (15, 16, 16, 3), what + ": grid [15, 16, 16, 3]")
        check(np.isfinite(r["metrics"].get("retrieval/mse", np.nan)), what + ": finite mse")
        check("vae/enc.conv2.weight" in r["weights"] and r["weights"]["vae/enc.conv2.weight"].shape == (32, 16, 3, 3),
              what + ": conv encoder of 3 stages (8, 16, 32 channels)")
        # vae.batch_norm (default): BN after the encoder convs and the inner decoder upconvs, whose
        # running statistics moved during training (init 0 / 1) and are saved with the weights
        w = r["weights"]
        rm, rv = w.get("vae/enc.bn0.running_mean"), w.get("vae/dec.bn1.running_var")
        check(rm is not None and rm.shape == (8,) and np.abs(rm).max() > 1e-4, what + ": trained BN running mean")
        check(rv is not None and rv.shape == (8,) and np.abs(rv - 1).max() > 1e-4, what + ": trained BN running var")
        check("vae/enc.conv0.bias" not in w and "vae/dec.conv2.bias" in w and "vae/dec.bn2.gain" not in w,
              what + ": convs before a BN have no bias; the pixel layer has no BN")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "res")
        by = smoke(out)
        hopfield_equal(tmp, os.path.join(tmp, "eq"))
        init_from(by, out)
        recompute(by, tmp, os.path.join(tmp, "rcout"))
        colour(os.path.join(tmp, "colour"))
    finish()


if __name__ == "__main__":
    sys.exit(main())
