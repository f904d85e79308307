"""test_hopfield_cli.py — the hopfield plugin end to end through `engram run`.

1. The smoke configs (configs/smoke/hopfield-*.yaml) run, every run file is ok,
   metrics, the energy series and the query/retrieved/target grid are as specified.
2. Exact replication: a small bring-your-own HDF5 dataset, deterministic
   corruptions (shift, none), and the whole retrieve protocol recomputed in numpy
   (blocks, mchn / gmm / dense sync updates, per-query steps, scoring): every
   metric and the energy series must match what engram wrote.
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
from engram_test import check, finish, skip  # noqa: E402


def run(spec, out, *overrides, expect=0):
    p = subprocess.run([BIN, "run", spec, "--out", out, *overrides], capture_output=True, text=True, timeout=300)
    if p.returncode != expect:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p.returncode


def load_runs(exp_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5"))):
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            metrics = {}
            f["metrics"].visititems(lambda n, o: metrics.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
            energy = f["series/retrieval/energy"][()] if "series/retrieval/energy" in f else None
            grid = None
            if "artifacts/retrieval/grid" in f:
                g = f["artifacts/retrieval/grid"]
                kind = g.attrs.get("kind")
                grid = (g[()], kind.decode() if isinstance(kind, bytes) else kind)
            runs.append(dict(path=path, attrs=attrs, metrics=metrics, energy=energy, grid=grid))
    return runs


def param(r, key):
    v = r["attrs"].get(key)
    return v.decode() if isinstance(v, bytes) else v


# ---------------------------------------------------------------- smoke configs
def smoke(out):
    rc = run(os.path.join(SRC, "configs/smoke/hopfield-digits.yaml"), out)
    check(rc == 0, "smoke digits: exit code %d" % rc)
    runs = load_runs(os.path.join(out, "smoke-hopfield-digits"))
    check(len(runs) == 2, "smoke digits: %d run files, expected 2" % len(runs))
    for r in runs:
        m, variant = r["metrics"], param(r, "params.variant")
        check(r["attrs"].get("status") == "ok", "digits %s: status %s" % (variant, r["attrs"].get("status")))
        for k in ("retrieval/success", "retrieval/within_tol", "retrieval/mse", "retrieval/steps"):
            check(k in m, "digits %s: metric %s missing" % (variant, k))
        check(0 <= m.get("retrieval/success", -1) <= 1, "digits success in [0, 1]")
        check(0 <= m.get("retrieval/steps", -1) <= 3, "digits steps in [0, 3]")
        e = r["energy"]
        check(e is not None and len(e) == 4, "digits %s: energy series of 4 steps" % variant)
        if e is not None:
            v = e["value"]
            check(np.all(np.diff(v) <= 1e-5 * (1 + np.abs(v[:-1]))), "digits %s: energy never increases %s" % (variant, v))
            check(list(e["step"]) == [0, 1, 2, 3], "digits %s: energy steps %s" % (variant, list(e["step"])))
        check(r["grid"] is not None, "digits %s: retrieval/grid artifact" % variant)
        if r["grid"] is not None:
            pix, kind = r["grid"]
            check(pix.shape == (15, 8, 8, 1) and pix.dtype == np.uint8, "grid shape %s %s" % (pix.shape, pix.dtype))
            check(kind == "image-grid", "grid kind %s" % kind)
        if variant == "gmm":
            check(m.get("retrieval/success", 0) >= 0.9, "digits gmm sigma 0.5 noise 0.2: success %s" % m)

    rc = run(os.path.join(SRC, "configs/smoke/hopfield-dense.yaml"), out)
    check(rc == 0, "smoke dense: exit code %d" % rc)
    runs = load_runs(os.path.join(out, "smoke-hopfield-dense"))
    check(len(runs) == 4, "smoke dense: %d run files, expected 4" % len(runs))
    for r in runs:
        m = r["metrics"]
        tag = "dense n=%s %s" % (param(r, "params.n"), param(r, "params.update"))
        check(r["attrs"].get("status") == "ok", tag + ": status ok")
        check(m.get("retrieval/success", 0) >= 0.9, tag + ": success %s" % m.get("retrieval/success"))
        e = r["energy"]["value"] if r["energy"] is not None else None
        if param(r, "params.update") == "async":
            check(e is not None and np.all(np.diff(e) <= 0), tag + ": async energy never increases")


# ------------------------------------------------------- numpy replication
def softmax(L):
    L = L - L.max(axis=1, keepdims=True)
    w = np.exp(L)
    return w / w.sum(axis=1, keepdims=True)


def lse(L):
    mx = L.max(axis=1, keepdims=True)
    return (mx + np.log(np.exp(L - mx).sum(axis=1, keepdims=True)))[:, 0]


def update(variant, S, X, beta=1.0, sigma=1.0, n=2):
    if variant == "mchn":
        L = beta * S @ X.T
        E = -lse(L) / beta + 0.5 * (S * S).sum(1) + np.log(len(X)) / beta + 0.5 * (X * X).sum(1).max()
        return softmax(L) @ X, E
    if variant == "gmm":
        L = (S @ X.T - 0.5 * (X * X).sum(1)[None]) / sigma**2
        return softmax(L) @ X, -lse(L) + 0.5 * (S * S).sum(1) / sigma**2
    m = S @ X.T  # dense, synchronous, direct field
    new = S.copy()
    for i in range(S.shape[1]):
        h = m - X[None, :, i] * S[:, i:i + 1]
        field = ((h + X[None, :, i]) ** n - (h - X[None, :, i]) ** n).sum(1)
        new[:, i] = np.where(field > 0, 1, np.where(field < 0, -1, S[:, i]))
    return new, -(m**n).sum(1)


def shift(Q, c, h, w, p):
    q = Q.reshape(len(Q), c, h, w)
    out = np.zeros_like(q)
    out[..., p:] = q[..., :w - p]
    return out.reshape(len(Q), -1)


def replicate(items, geom, cfg):
    M, Q, blocks, tol_dist = cfg["memories"], cfg["queries"], cfg["blocks"], cfg["tolerance"]
    variant, steps, tol = cfg["variant"], cfg["steps"], cfg["tol"]
    succ, within, mse, nsteps = [], [], [], []
    energy = np.zeros(steps + 1)
    for b in range(blocks):
        X = items[b * M:(b + 1) * M].astype(np.float64)
        S = X[:Q].copy()
        if cfg["pixels"]:
            S = shift(S, *geom, cfg["pixels"])
        Xs = X
        if variant == "dense":
            X = np.where(X > 0.5, 1.0, -1.0)
            S = np.where(S > 0.5, 1.0, -1.0)
        count = np.zeros(Q)
        done = np.zeros(Q, bool)
        t = 0
        while t < steps:
            new, E = update(variant, S, X, cfg["beta"], cfg["sigma"], cfg["n"])
            energy[t] += E.sum()
            change = np.abs(new - S).max(1)
            S = new
            t += 1
            newly = ~done & (change < tol)
            count[~done & ~newly] = t
            done |= newly
            if done.all():
                break
        E = update(variant, S, X, cfg["beta"], cfg["sigma"], cfg["n"])[1]
        for s in range(t, steps + 1):
            energy[s] += E.sum()
        F, T = S, X
        if variant == "dense":
            F, T = (S + 1) / 2, (X + 1) / 2
        D = ((F[:, None, :] - T[None, :, :]) ** 2).sum(2)
        # strictly nearest: a tie with another stored pattern is a failure, but an
        # exact duplicate of the target is the target (dark items binarise to all -1)
        own = D[np.arange(Q), np.arange(Q)]
        others = D.copy()
        dup = (T[:Q, None, :] == T[None, :, :]).all(2)
        others[dup] = np.inf
        succ += list(own < others.min(1))
        err = ((F - T[:Q]) ** 2).sum(1)
        within += list(np.sqrt(err) < tol_dist)
        mse += list(err / F.shape[1])
        nsteps += list(count)
    n = blocks * Q
    return dict(success=np.mean(succ), within_tol=np.mean(within), mse=np.mean(mse), steps=np.mean(nsteps),
                energy=energy / n)


def exact(out):
    rng = np.random.default_rng(5)
    c, h, w, n = 1, 4, 5, 90
    # smooth-ish random images in [0, 1] with varied brightness, so mchn and gmm differ
    items = np.clip(rng.random((n, c, h, w)) * rng.uniform(0.2, 1.0, (n, 1, 1, 1)), 0, 1).astype(np.float32)
    path = os.path.join(out, "items.h5")
    with h5py.File(path, "w") as f:
        f["x"] = items
    flat = items.reshape(n, -1)
    base = dict(memories=30, queries=6, blocks=3, tolerance=0.9, steps=3, tol=1e-6, beta=1.0, sigma=1.0, n=2,
                pixels=0)
    cases = [
        dict(variant="mchn", beta=3.0, pixels=0),
        dict(variant="mchn", beta=20.0, pixels=0, steps=8),
        dict(variant="gmm", sigma=0.4, pixels=0),
        dict(variant="gmm", sigma=0.15, pixels=0, steps=6),
        dict(variant="mchn", beta=0.5, pixels=1, steps=5),
        dict(variant="gmm", sigma=0.5, pixels=1),
        dict(variant="dense", n=3, pixels=1, steps=4),
        dict(variant="dense", n=2, pixels=0, steps=4),
    ]
    for k, case in enumerate(cases):
        cfg = dict(base, **case)
        spec = os.path.join(out, "exact%d.yaml" % k)
        with open(spec, "w") as f:
            f.write("experiment: exact%d\nmodel: hopfield\nbackend: cpu\nseeds: [0]\n" % k)
            f.write("data: {source: hdf5, path: %s, x: x}\n" % path)
            f.write("params: {variant: %s, beta: %r, sigma: %r, n: %d, update: sync, steps: %d, tol: %r}\n"
                    % (cfg["variant"], cfg["beta"], cfg["sigma"], cfg["n"], cfg["steps"], cfg["tol"]))
            kind = "{kind: shift, pixels: %d}" % cfg["pixels"] if cfg["pixels"] else "{kind: none}"
            f.write("task: {kind: retrieve, memories: %d, queries: %d, blocks: %d, tolerance: %r, corrupt: %s}\n"
                    % (cfg["memories"], cfg["queries"], cfg["blocks"], cfg["tolerance"], kind))
        rc = run(spec, out)
        tag = "exact %s %s" % (cfg["variant"], case)
        check(rc == 0, tag + ": exit code %d" % rc)
        runs = load_runs(os.path.join(out, "exact%d" % k))
        if len(runs) != 1:
            check(False, tag + ": no run file")
            continue
        got, want = runs[0]["metrics"], replicate(flat, (c, h, w), cfg)
        print(tag, {kk: round(float(v), 6) for kk, v in got.items()}, "numpy:",
              {kk: round(float(v), 6) for kk, v in want.items() if kk != "energy"})
        check(abs(got["retrieval/success"] - want["success"]) < 1e-9, tag + ": success")
        check(abs(got["retrieval/within_tol"] - want["within_tol"]) < 1e-9, tag + ": within_tol")
        check(abs(got["retrieval/mse"] - want["mse"]) <= 1e-5 * (1e-3 + want["mse"]), tag + ": mse")
        check(abs(got["retrieval/steps"] - want["steps"]) < 1e-9, tag + ": steps")
        e = runs[0]["energy"]
        check(e is not None and np.allclose(e["value"], want["energy"], rtol=1e-4, atol=1e-4),
              tag + ": energy %s vs %s" % (None if e is None else e["value"], want["energy"]))


# ------------------------------------------------ task errors only the data can refute
def task_errors(out):
    """Options that only the data can refute are found in the preflight, before any run starts:
    exit 2, the override that set the option, the expected range, nothing written."""
    spec = os.path.join(out, "bad.yaml")
    with open(spec, "w") as f:
        f.write("experiment: bad\nmodel: hopfield\nbackend: cpu\ndata: {source: digits}\n"
                "task: {kind: retrieve, memories: 50, queries: 5, corrupt: {kind: none}}\n")
    cases = [
        (["task.corrupt.kind=rotate-rgb"], "override 'task.corrupt.kind=rotate-rgb': rotate-rgb needs colour "
         "(3-channel) items"),
        (["task.corrupt.kind=mask", "task.corrupt.size=9"], "override 'task.corrupt.size=9': expected a square side "
         "between 1 and 8"),
        (["task.blocks=36"], "override 'task.blocks=36': expected 0 (all) to 35"),
        (["task.memories=2000", "task.queries=5"], "override 'task.memories=2000': digits has 1797 items"),
    ]
    for k, (overrides, message) in enumerate(cases):
        root = os.path.join(out, "bad%d" % k)
        p = subprocess.run([BIN, "run", spec, "--out", root] + overrides, capture_output=True, text=True, timeout=300)
        check(p.returncode == 2, "%s: exit code %d, expected 2" % (overrides, p.returncode))
        check(not os.path.exists(root), "%s: nothing written" % overrides)
        check(message in p.stderr, "%s: stderr %r lacks %r" % (overrides, p.stderr, message))


def main():
    if not os.path.exists(BIN):
        skip("engram binary not built: %s" % BIN)
    with tempfile.TemporaryDirectory(prefix="eg-hopfield-") as out:
        smoke(out)
        exact(out)
        task_errors(out)
    finish()


if __name__ == "__main__":
    sys.exit(main())
