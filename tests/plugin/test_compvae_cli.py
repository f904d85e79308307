"""plugin/test_compvae_cli — the compvae plugin end to end through `engram run`:
the sines and colour-dots smoke specs train a few updates and write the
held-out losses in bits and nats (consistent with each other), the size-
generality table, the generation accuracies, the loss curves and the pictures;
`engram describe` shows the issue's parameter names; a problem/data mismatch
is refused with a message naming both."""
import glob
import math
import os
import subprocess
import sys
import tempfile

import h5py

BIN = os.environ.get("ENGRAM_BIN", "./engram")
SRC = os.environ.get("ENGRAM_SOURCE", "..")
sys.path.insert(0, os.path.join(SRC, "tests", "common"))
from engram_test import check, finish  # noqa: E402


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=500, **kw)


out = tempfile.mkdtemp(prefix="compvae-cli-")

# describe: the parameter names of issue 8
d = run(["describe", "compvae"])
check(d.returncode == 0, "describe compvae: rc %d %s" % (d.returncode, d.stderr))
for key in ["problem", "w_dim", "z_dim", "hidden", "graph_blocks", "sigma_min", "lr", "lr_halve_every", "lr_floor",
            "batch", "sub_batches", "iterations", "k_start", "k_every", "k_cap"]:
    check(key in d.stdout, "describe lists %s" % key)
ds = run(["datasets"])
check("sines" in ds.stdout and "colour-dots" in ds.stdout, "engram datasets lists sines and colour-dots")

for spec, problem in [("compvae-sines.yaml", "sines"), ("compvae-dots.yaml", "dots")]:
    r = run(["run", os.path.join(SRC, "configs/smoke", spec), "--out", out])
    check(r.returncode == 0, "%s: rc %d\n%s%s" % (spec, r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    files = glob.glob(os.path.join(out, "smoke-compvae-" + problem, "runs", "*.h5"))
    check(len(files) == 1, "%s: one run file" % spec)
    if not files:
        continue
    with h5py.File(files[0], "r") as f:
        check(f.attrs["status"] in (b"ok", "ok"), "%s: status ok" % spec)
        mm = {}
        def walk(g, p=""):
            for k in g:
                if isinstance(g[k], h5py.Group):
                    walk(g[k], p + k + "/")
                else:
                    mm[p + k] = float(g[k][()])
        walk(f["metrics"])
        for term in ["L_w", "L_z", "L_x", "total"]:
            check("elbo/" + term in mm, "%s: metric elbo/%s" % (spec, term))
            if "elbo/" + term in mm and "elbo/%s_nats" % term in mm:
                check(abs(mm["elbo/" + term] * math.log(2) - mm["elbo/%s_nats" % term]) < 1e-6 * (1 + abs(mm["elbo/" + term])),
                      "%s: %s bits * ln 2 = nats" % (spec, term))
        if all("elbo/" + t in mm for t in ["L_w", "L_z", "L_x", "total"]):
            check(abs(mm["elbo/L_w"] + mm["elbo/L_z"] + mm["elbo/L_x"] - mm["elbo/total"]) < 1e-6 * abs(mm["elbo/total"]),
                  "%s: total = L_w + L_z + L_x" % spec)
            check(mm["elbo/L_w"] > 0 and mm["elbo/L_x"] > 0, "%s: L_w and L_x positive" % spec)
        ks = [1, 8] if problem == "sines" else [1, 6]
        for k in ks:
            check("generality/L_x@%d" % k in mm, "%s: generality/L_x@%d" % (spec, k))
        if problem == "sines":
            for k in [1, 2]:
                v = mm.get("generate/line_accuracy@%d" % k, -1)
                check(0 <= v <= 1, "%s: line_accuracy@%d in [0, 1] (%g)" % (spec, k, v))
        else:
            v = mm.get("generate/site_colour_accuracy", -1)
            check(0 <= v <= 1, "%s: site_colour_accuracy in [0, 1] (%g)" % (spec, v))
        for term in ["L_w", "L_z", "L_x"]:
            s = f["series/loss/" + term][()] if "series/loss/" + term in f else []
            check(len(s) > 0, "%s: series loss/%s" % (spec, term))
        for name in ["reconstructions", "generations", "recomposition"]:
            check("artifacts/" + name in f, "%s: artifact %s" % (spec, name))
        if "artifacts/recomposition" in f:
            a = f["artifacts/recomposition"]
            check(a.ndim == 4 and a.shape[-1] == 3 and a.dtype.name == "uint8", "%s: recomposition is uint8 NxHxWx3" % spec)
            check(a[()].min() < a[()].max(), "%s: recomposition is not blank" % spec)
        check("weights/qw.rho.weight" in f, "%s: weights saved" % spec)

# generate with init_from: no training, the fit run's weights give the same generation accuracies
fit = glob.glob(os.path.join(out, "smoke-compvae-sines", "runs", "*.h5"))
if fit:
    r = run(["run", os.path.join(SRC, "configs/smoke/compvae-sines.yaml"), "task.kind=generate", "init_from=" + fit[0],
             "--out", out + "/gen"])
    check(r.returncode == 0, "generate with init_from: rc %d %s" % (r.returncode, r.stderr[-1000:]))
    gen = glob.glob(os.path.join(out, "gen", "smoke-compvae-sines", "runs", "*.h5"))
    if gen:
        with h5py.File(fit[0], "r") as a, h5py.File(gen[0], "r") as b:
            for k in [1, 2]:
                key = "metrics/generate/line_accuracy@%d" % k
                check(key in b and float(a[key][()]) == float(b[key][()]), "generate reproduces %s" % key)
            check("metrics/elbo/L_x" not in b and "series/loss/L_x" not in b, "generate does not train or score the ELBO")

# problem / data mismatch
r = run(["run", os.path.join(SRC, "configs/smoke/compvae-sines.yaml"), "params.problem=dots", "--out", out + "/bad"])
check(r.returncode != 0, "problem dots on sines data must fail")
logs = glob.glob(os.path.join(out, "bad", "*", "runs", "*.h5"))
text = r.stdout + r.stderr
for fn in logs:
    with h5py.File(fn, "r") as f:
        text += f["log"][()].decode() if "log" in f else ""
check("colour-dots" in text, "the mismatch message names the needed source: %s" % text[-500:])

finish()
