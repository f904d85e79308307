"""test_bwdam_cli.py — the bwdam plugin end to end through `engram run`.

1. The smoke config (configs/smoke/bwdam-sphere.yaml): every run ok, bw at beta 1
   retrieves every query (success 1, final W2 tiny), bw at beta 0.05 collapses
   (final W2 far above the radius), the W2 series starts at the query radius exactly.
2. Exact replication: small bring-your-own Gaussians (gaussians-hdf5, diagonal and
   full covariances), dilated queries (deterministic), and the whole protocol
   recomputed in numpy (blocks, Φ steps through eigh / eu-dam MCHN steps, per-query
   step counts, W2 scoring): every metric, the W2 series and the energy series must
   match what engram wrote.
3. The energy landscape (Fig. 2) against numpy on a 1-D memory.
4. Image embeddings (configs/smoke/bwdam-digits.yaml): a VAE trained in fit, saved,
   reloaded through init_from with identical results; clean queries retrieve all.
5. Refusals: pixel-dam on Gaussians, cov diag on full covariances, a missing init_from.
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


def run(spec, out, *overrides):
    p = subprocess.run([BIN, "run", spec, "--out", out, *overrides], capture_output=True, text=True, timeout=300)
    return p


def load_runs(exp_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5"))):
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            metrics = {}
            if "metrics" in f:
                f["metrics"].visititems(
                    lambda n, o: metrics.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
            series = {}
            for name in ("retrieval/w2", "retrieval/energy"):
                if "series/" + name in f:
                    series[name] = f["series/" + name][()]["value"]
            log = f["log"][()] if "log" in f else b""
            runs.append(dict(attrs=attrs, metrics=metrics, series=series,
                             log=log.decode() if isinstance(log, bytes) else str(log)))
    return runs


# ---------------------------------------------------------------- numpy reference
FLOOR = 1e-10


def sqrtm(S, floor=FLOOR, inv=False):
    w, V = np.linalg.eigh((S + S.T) / 2)
    w = np.maximum(w, floor)
    R = (V * (w ** (-0.5 if inv else 0.5))) @ V.T
    return (R + R.T) / 2


def w2sq(m1, S1, m2, S2):
    h = sqrtm(S1)
    C = h @ S2 @ h
    w = np.linalg.eigvalsh((C + C.T) / 2)
    v = np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * np.sum(np.sqrt(np.maximum(w, 0)))
    return max(v, 0.0)


def lse(x):
    mx = np.max(x)
    return mx + np.log(np.sum(np.exp(x - mx)))


def phi(m, S, Xm, XS, beta):
    """one Φ step of one query; returns (m', S', energy before)"""
    D = np.array([w2sq(m, S, Xm[i], XS[i]) for i in range(len(Xm))])
    L = -beta * D
    E = -lse(L) / beta
    w = np.exp(L - lse(L))
    Oh, Oi = sqrtm(S), sqrtm(S, inv=True)
    B = sum(w[i] * sqrtm(Oh @ XS[i] @ Oh, floor=0) for i in range(len(Xm)))
    B = (B + B.T) / 2
    S2 = Oi @ B @ B @ Oi
    return w @ Xm, (S2 + S2.T) / 2, E


def embed(m, S):
    return np.concatenate([m, sqrtm(S).ravel()])


def unembed(v, d):
    R = v[d:].reshape(d, d)
    R = (R + R.T) / 2
    S = R @ R
    return v[:d], (S + S.T) / 2


def mchn(V, E, beta):
    L = beta * V @ E.T
    e = -np.array([lse(l) for l in L]) / beta + 0.5 * np.sum(V * V, 1) + np.log(len(E)) / beta + 0.5 * np.max(
        np.sum(E * E, 1))
    W = np.exp(L - np.array([lse(l) for l in L])[:, None])
    return W @ E, e


def protocol(means, covs, M, Q, beta, steps, tol, radius, tolerance, variant):
    """the whole retrieve task in numpy; covs [N, d, d]"""
    N, d = means.shape
    blocks = N // M
    succ = conv = w2s = w2sq_s = nsteps = 0.0
    w2_series = np.zeros(steps + 1)
    e_series = np.zeros(steps + 1)
    for b in range(blocks):
        Xm, XS = means[b * M:(b + 1) * M], covs[b * M:(b + 1) * M]
        # dilate: s = 1 + r / sqrt(|m|² + tr Σ)
        qm, qS = [], []
        for j in range(Q):
            s = 1 + radius / np.sqrt(np.sum(Xm[j] ** 2) + np.trace(XS[j]))
            qm.append(s * Xm[j]), qS.append(s * s * XS[j])
        state = [(qm[j], qS[j]) for j in range(Q)]
        count = np.zeros(Q)
        done = np.zeros(Q, bool)
        t = 0
        if variant == "eu-dam":
            V = np.array([embed(*st) for st in state])
            EX = np.array([embed(Xm[i], XS[i]) for i in range(M)])
        while t < steps:
            if variant == "eu-dam":
                Vn, E = mchn(V, EX, beta)
                change = np.sqrt(np.sum((Vn - V) ** 2, 1))
                nxt = [unembed(v, d) for v in Vn]
                V = Vn
            else:
                res = [phi(m, S, Xm, XS, beta) for (m, S) in state]
                nxt = [(r[0], r[1]) for r in res]
                E = np.array([r[2] for r in res])
                change = np.array([np.sqrt(w2sq(*state[j], *nxt[j])) for j in range(Q)])
            e_series[t] += E.sum()
            w2_series[t] += sum(np.sqrt(w2sq(*state[j], Xm[j], XS[j])) for j in range(Q))
            state = nxt
            t += 1
            for j in range(Q):
                if not done[j]:
                    if change[j] < tol:
                        done[j] = True
                    else:
                        count[j] = t
            if done.all():
                break
        if variant == "eu-dam":
            _, E = mchn(V, EX, beta)
        else:
            E = np.array([phi(m, S, Xm, XS, beta)[2] for (m, S) in state])
        for s in range(t, steps + 1):
            e_series[s] += E.sum()
            w2_series[s] += sum(np.sqrt(w2sq(*state[j], Xm[j], XS[j])) for j in range(Q))
        for j in range(Q):
            D = np.array([w2sq(*state[j], Xm[i], XS[i]) for i in range(M)])
            succ += all(D[i] > D[j] for i in range(M) if i != j)
            w = np.sqrt(D[j])
            conv += w < tolerance
            w2s += w
            w2sq_s += D[j]
        nsteps += count.sum()
    n = blocks * Q
    return dict(success=succ / n, converged=conv / n, within_tol=conv / n, w2_final=w2s / n, mse=w2sq_s / n,
                steps=nsteps / n), w2_series / n, e_series / n


# ---------------------------------------------------------------- tests
def smoke(out):
    p = run(os.path.join(SRC, "configs/smoke/bwdam-sphere.yaml"), out)
    check(p.returncode == 0, "smoke: exit code %d: %s" % (p.returncode, p.stderr[-2000:]))
    runs = load_runs(os.path.join(out, "smoke-bwdam-sphere"))
    check(len(runs) == 3, "smoke: %d run files, expected 3" % len(runs))
    for r in runs:
        a, m = r["attrs"], r["metrics"]
        key = (a.get("params.variant"), float(a.get("params.beta", 0)))
        check(a.get("status") == "ok", "smoke %s: status %s" % (key, a.get("status")))
        for k in ("success", "converged", "within_tol", "w2_final", "mse", "steps"):
            check("retrieval/" + k in m, "smoke %s: metric retrieval/%s missing" % (key, k))
        w2 = r["series"].get("retrieval/w2")
        check(w2 is not None and len(w2) == 6 and abs(w2[0] - 0.05) < 1e-9,
              "smoke %s: W2 series starts at the radius 0.05: %s" % (key, w2))
        if key == ("bw", 1.0):
            check(m.get("retrieval/success") == 1.0, "smoke bw beta 1: success %s" % m.get("retrieval/success"))
            check(m.get("retrieval/converged") == 1.0, "smoke bw beta 1: converged %s" % m.get("retrieval/converged"))
            check(m.get("retrieval/w2_final", 1) < 1e-3, "smoke bw beta 1: final W2 %s" % m.get("retrieval/w2_final"))
            e = r["series"].get("retrieval/energy")
            check(e is not None and np.all(np.diff(e) <= 1e-9), "smoke bw beta 1: energy never increases %s" % e)
        if key == ("bw", 0.05):
            check(m.get("retrieval/success", 1) < 0.1, "smoke bw beta 0.05: success %s" % m.get("retrieval/success"))
            check(m.get("retrieval/w2_final", 0) > 2.0, "smoke bw beta 0.05 collapses: %s" % m.get("retrieval/w2_final"))


def write_spec(path, experiment, data, params, task, cases):
    lines = ["experiment: %s" % experiment, "model: bwdam", "backend: cpu", "seeds: [0]", "data:"]
    lines += ["  %s: %s" % kv for kv in data.items()]
    lines += ["params:"] + ["  %s: %s" % kv for kv in params.items()]
    lines += ["task:", "  kind: retrieve"] + ["  %s: %s" % kv for kv in task.items()]
    if cases:
        lines += ["sweep:", "  cases:"] + ["    - {%s}" % c for c in cases]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replicate(tmp):
    rng = np.random.default_rng(5)
    N, d, M, Q = 12, 3, 6, 3
    means = rng.normal(0, 1.5, (N, d)).astype(np.float32)
    A = rng.normal(0, 1, (N, d, d))
    full = (A @ A.transpose(0, 2, 1) / d + 0.3 * np.eye(d)).astype(np.float32)
    full = (full + full.transpose(0, 2, 1)) / 2
    variances = rng.uniform(0.5, 2.0, (N, d)).astype(np.float32)
    for kind, covs in (("diag", variances), ("full", full)):
        h5 = os.path.join(tmp, "g-%s.h5" % kind)
        with h5py.File(h5, "w") as f:
            f["means"] = means
            f["covariances"] = covs
        m64 = means.astype(np.float64)
        c64 = covs.astype(np.float64)
        if kind == "diag":
            c64 = np.array([np.diag(v) for v in c64])
        spec = os.path.join(tmp, "rep-%s.yaml" % kind)
        beta, steps, tol, radius, tolerance = 1.5, 4, 1e-6, 0.4, 0.05
        cases = ["params.variant: bw, params.cov: full", "params.variant: eu-dam, params.cov: full"]
        if kind == "diag":
            cases += ["params.variant: bw, params.cov: diag", "params.variant: eu-dam, params.cov: diag"]
        write_spec(spec, "rep-" + kind, {"source": "gaussians-hdf5", "path": h5},
                   {"beta": beta, "steps": steps, "tol": tol},
                   {"memories": M, "queries": Q, "tolerance": tolerance, "corrupt": "{kind: none}",
                    "query": "{kind: dilate, radius: %g}" % radius}, cases)
        out = os.path.join(tmp, "out")
        p = run(spec, out)
        check(p.returncode == 0, "replicate %s: exit code %d: %s" % (kind, p.returncode, p.stderr[-2000:]))
        runs = load_runs(os.path.join(out, "rep-" + kind))
        check(len(runs) == len(cases), "replicate %s: %d runs" % (kind, len(runs)))
        refs = {}
        for r in runs:
            variant = r["attrs"].get("params.variant")
            if variant not in refs:
                refs[variant] = protocol(m64, c64, M, Q, beta, steps, tol, radius, tolerance, variant)
            want, w2_series, e_series = refs[variant]
            tag = "%s %s cov %s" % (kind, variant, r["attrs"].get("params.cov"))
            check(r["attrs"].get("status") == "ok", "replicate %s: status %s" % (tag, r["attrs"].get("status")))
            for k, v in want.items():
                got = r["metrics"].get("retrieval/" + k)
                check(got is not None and abs(got - v) <= 1e-7 * (1 + abs(v)),
                      "replicate %s: retrieval/%s = %s, numpy %s" % (tag, k, got, v))
            got_w2 = r["series"].get("retrieval/w2")
            check(got_w2 is not None and np.allclose(got_w2, w2_series, rtol=1e-7, atol=1e-9),
                  "replicate %s: W2 series %s vs %s" % (tag, got_w2, w2_series))
            got_e = r["series"].get("retrieval/energy")
            check(got_e is not None and np.allclose(got_e, e_series, rtol=1e-7, atol=1e-9),
                  "replicate %s: energy series %s vs %s" % (tag, got_e, e_series))
        # a random query sits at W2 = radius exactly (series step 0)
        p = run(spec, os.path.join(tmp, "rnd-" + kind), "task.query.kind=random", "task.query.mean_share=0.3")
        check(p.returncode == 0, "random %s: exit code %d" % (kind, p.returncode))
        for r in load_runs(os.path.join(tmp, "rnd-" + kind, "rep-" + kind)):
            w2 = r["series"].get("retrieval/w2")
            check(w2 is not None and abs(w2[0] - radius) < 1e-9, "random %s: W2 at step 0 = %s" % (kind, w2))


def landscape(tmp):
    """Fig. 2: the saved 200 x 200 energies equal the numpy energy over the same grid"""
    mu = np.array([-2.5, -0.7, 0.4, 1.9, 2.8], np.float32)
    sd = np.array([0.3, 0.9, 0.5, 0.25, 0.7], np.float32)
    h5 = os.path.join(tmp, "g-1d.h5")
    with h5py.File(h5, "w") as f:
        f["means"] = mu[:, None]
        f["covariances"] = (sd * sd)[:, None]
    spec = os.path.join(tmp, "land.yaml")
    write_spec(spec, "land", {"source": "gaussians-hdf5", "path": h5}, {"steps": 3},
               {"memories": 5, "queries": 5, "corrupt": "{kind: none}"},
               ["params.beta: 0.1", "params.beta: 1000"])
    p = run(spec, os.path.join(tmp, "land"))
    check(p.returncode == 0, "landscape: exit code %d" % p.returncode)
    m64, s64 = mu.astype(np.float64), np.sqrt((sd * sd).astype(np.float64))
    G = np.linspace(-4, 4, 200)[None, :].repeat(200, 0)
    S = np.linspace(2, 0.01, 200)[:, None].repeat(200, 1)
    files = sorted(glob.glob(os.path.join(tmp, "land", "land", "runs", "*.h5")))
    check(len(files) == 2, "landscape: 2 runs")
    for path in files:
        with h5py.File(path, "r") as f:
            beta = float(f.attrs["params.beta"])
            E = f["weights/landscape/energy"][()]
            pic = f["artifacts/retrieval/landscape"]
            check(pic.shape == (1, 200, 200, 3) and pic.dtype == np.uint8, "landscape picture shape %s" % (pic.shape,))
        D = (G[..., None] - m64) ** 2 + (S[..., None] - s64) ** 2
        L = -beta * D
        mx = L.max(-1, keepdims=True)
        want = -(mx[..., 0] + np.log(np.exp(L - mx).sum(-1))) / beta
        check(np.all(np.isfinite(E)), "landscape beta %g: finite" % beta)
        check(np.allclose(E, want, rtol=1e-5, atol=1e-6), "landscape beta %g: max error %g" %
              (beta, np.max(np.abs(E - want))))


def images(tmp):
    """Gaussian embeddings of images: a VAE trained in fit, saved, reused through init_from"""
    spec = os.path.join(SRC, "configs/smoke/bwdam-digits.yaml")
    out = os.path.join(tmp, "img")
    p = run(spec, out)
    check(p.returncode == 0, "digits smoke: exit code %d %s" % (p.returncode, p.stderr[-1500:]))
    runs = {r["attrs"].get("params.variant"): r for r in load_runs(os.path.join(out, "smoke-bwdam-digits"))}
    check(set(runs) == {"bw", "eu-dam", "pixel-dam"}, "digits smoke: variants %s" % list(runs))
    files = sorted(glob.glob(os.path.join(out, "smoke-bwdam-digits", "runs", "*.h5")))
    bw_file = None
    for path in files:
        with h5py.File(path, "r") as f:
            v = f.attrs["params.variant"]
            v = v.decode() if isinstance(v, bytes) else v
            g = f["artifacts/retrieval/grid"][()] if "artifacts/retrieval/grid" in f else None
            check(g is not None and g.shape == (30, 8, 8, 1), "digits %s: query/retrieved/target grid %s" %
                  (v, None if g is None else g.shape))
            if v != "pixel-dam":
                check("weights/vae/enc.lin0.weight" in f and f["weights/vae/enc.lin0.weight"].shape == (64, 64),
                      "digits %s: VAE weights saved" % v)
                check("weights/vae/dec.lin2.bias" in f, "digits %s: decoder saved" % v)
            if v == "bw":
                bw_file = path
    for v, r in runs.items():
        m = r["metrics"]
        check(0 <= m.get("retrieval/success", -1) <= 1, "digits %s: success in [0, 1]" % v)
        if v != "pixel-dam":
            check("VAE epoch 3" in r["log"], "digits %s: VAE trained 3 epochs" % v)
    # init_from: the same VAE, not retrained, so the same numbers; clean queries retrieve all
    if bw_file:
        out2 = os.path.join(tmp, "img2")
        p = run(spec, out2, "init_from=" + bw_file)
        check(p.returncode == 0, "digits init_from: exit code %d %s" % (p.returncode, p.stderr[-1500:]))
        again = {r["attrs"].get("params.variant"): r for r in load_runs(os.path.join(out2, "smoke-bwdam-digits"))}
        for v in ("bw", "eu-dam"):
            r = again.get(v)
            check(r is not None and "not retrained" in r["log"], "digits init_from %s: VAE loaded" % v)
            if r is not None:
                for k, val in runs[v]["metrics"].items():
                    check(abs(r["metrics"].get(k, -9) - val) < 1e-12, "digits init_from %s: %s %s vs %s" %
                          (v, k, r["metrics"].get(k), val))
        out3 = os.path.join(tmp, "img3")
        p = run(spec, out3, "init_from=" + bw_file, "task.corrupt.kind=none")
        for r in load_runs(os.path.join(out3, "smoke-bwdam-digits")):
            if r["attrs"].get("params.variant") == "bw":
                check(r["metrics"].get("retrieval/success") == 1.0, "digits clean queries: %s" % r["metrics"])


def refusals(tmp):
    h5 = os.path.join(tmp, "g-full.h5")
    spec = os.path.join(tmp, "bad.yaml")
    write_spec(spec, "bad", {"source": "gaussians-hdf5", "path": h5}, {"cov": "diag"},
               {"memories": 6, "queries": 3}, [])
    p = run(spec, os.path.join(tmp, "bad1"))
    check(p.returncode == 1, "cov diag on full data: exit code %d" % p.returncode)
    logs = "".join(r["log"] for r in load_runs(os.path.join(tmp, "bad1", "bad"))) + p.stdout + p.stderr
    check("set params.cov: full" in logs, "cov diag on full data: message missing")
    p = run(spec, os.path.join(tmp, "bad2"), "params.variant=pixel-dam")
    logs = "".join(r["log"] for r in load_runs(os.path.join(tmp, "bad2", "bad"))) + p.stdout + p.stderr
    check(p.returncode == 1 and "pixel-dam retrieves raw items" in logs, "pixel-dam on Gaussians refused")
    write_spec(spec, "bad3", {"source": "random-patterns", "n": 20, "dim": 6}, {}, {"memories": 10, "queries": 2}, [])
    p = run(spec, os.path.join(tmp, "bad3"), "init_from=" + os.path.join(tmp, "nope.h5"))
    check(p.returncode != 0, "init_from a missing file refused (exit %d)" % p.returncode)
    p = subprocess.run([BIN, "describe", "bwdam"], capture_output=True, text=True)
    check(p.returncode == 0 and "eig_floor" in p.stdout and "query.radius" in p.stdout, "describe bwdam")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        smoke(os.path.join(tmp, "smoke"))
        replicate(tmp)
        landscape(tmp)
        images(tmp)
        refusals(tmp)
    finish()


if __name__ == "__main__":
    sys.exit(main())
