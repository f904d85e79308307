"""test_nem_cli.py — the nem plugin end to end through `engram run`.

1. configs/smoke/nem-shapes.yaml (RNN-EM, 2 static shapes, K = 2) trains; its
   test AMI must rise well above that of the untrained model (random
   responsibilities give AMI about 0), the loss must fall, and the run file must
   hold every declared metric, the series, the mask and prediction artifacts
   (shapes and kinds) and the weights; the K predictions together reconstruct
   the target.
2. N-EM and the conv network (flying shapes, flying Fashion-MNIST) run a few
   updates and finish ok with finite metrics.
3. Bad inputs fail before training with a message naming the problem.
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
SMOKE = os.path.join(SRC, "configs", "smoke", "nem-shapes.yaml")
sys.path.insert(0, os.path.join(SRC, "tests", "common"))
from engram_test import check, finish  # noqa: E402


def run(spec, out, *overrides, expect=0):
    p = subprocess.run([BIN, "run", spec, "--out", out, *overrides], capture_output=True, text=True, timeout=600)
    if p.returncode != expect:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p.returncode, p.stdout + p.stderr


def load_runs(exp_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5"))):
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            metrics, series, arts, weights = {}, {}, {}, {}
            f["metrics"].visititems(lambda n, o: metrics.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
            if "series" in f:
                f["series"].visititems(lambda n, o: series.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
            if "artifacts" in f:
                def art(n, o):
                    if isinstance(o, h5py.Dataset):
                        k = o.attrs.get("kind")
                        arts[n] = (o[()], k.decode() if isinstance(k, bytes) else k)
                f["artifacts"].visititems(art)
            if "weights" in f:
                f["weights"].visititems(lambda n, o: weights.__setitem__(n, o.shape) if isinstance(o, h5py.Dataset) else None)
            log = f["log"][()].decode() if "log" in f else ""
            runs.append(dict(path=path, attrs=attrs, metrics=metrics, series=series, arts=arts, weights=weights, log=log))
    return runs


def smoke(tmp):
    rc, _ = run(SMOKE, os.path.join(tmp, "trained"))
    check(rc == 0, "smoke run exit code 0")
    rc0, _ = run(SMOKE, os.path.join(tmp, "untrained"), "params.epochs=0")
    check(rc0 == 0, "untrained run exit code 0")
    tr = load_runs(os.path.join(tmp, "trained", "nem-smoke"))
    un = load_runs(os.path.join(tmp, "untrained", "nem-smoke"))
    check(len(tr) == 1 and len(un) == 1, "one run file each")
    if len(tr) != 1 or len(un) != 1:
        return
    r, u = tr[0], un[0]
    check(r["attrs"].get("status") == "ok", "trained status ok")
    m = r["metrics"]
    for k in ["segment/ami", "segment/ami_mean", "segment/confidence", "segment/loss", "segment/bce_upper",
              "train/loss", "train/bce_upper", "train/updates", "train/seconds", "train/best_epoch"]:
        check(k in m and np.isfinite(m[k]), "metric %s present and finite" % k)
    ami, ami0 = m.get("segment/ami", np.nan), u["metrics"].get("segment/ami", np.nan)
    print("smoke: trained AMI %.4f (mean over steps %.4f), untrained AMI %.4f, loss %.1f vs %.1f" %
          (ami, m.get("segment/ami_mean", np.nan), ami0, m.get("segment/loss", np.nan), u["metrics"].get("segment/loss", np.nan)))
    check(abs(ami0) < 0.1, "untrained (random gamma) AMI near 0, got %.4f" % ami0)
    check(ami > 0.3 and ami > ami0 + 0.25, "trained AMI well above random: %.4f vs %.4f" % (ami, ami0))
    check(m.get("segment/loss", 1e9) < 0.8 * u["metrics"].get("segment/loss", 0), "training lowers the test loss")
    check(m.get("train/updates") == 400, "the update cap: %s" % m.get("train/updates"))
    lu = r["series"].get("train/loss_update")
    check(lu is not None and len(lu) == 400, "per-update loss series")
    if lu is not None and len(lu) == 400:
        v = np.array([x[1] for x in lu])
        check(v[-50:].mean() < 0.7 * v[:50].mean(), "train loss falls: %.1f -> %.1f" % (v[:50].mean(), v[-50:].mean()))
    st = r["series"].get("segment/ami_step")
    check(st is not None and len(st) == 5, "per-step AMI series has T entries")
    if st is not None and len(st) == 5:
        check(abs(st[-1][1] - ami) < 1e-9, "last step of the series is segment/ami")
        check(abs(np.mean([x[1] for x in st]) - m["segment/ami_mean"]) < 1e-9, "ami_mean is the mean over steps")
    masks, kind = r["arts"].get("segment/masks", (None, None))
    check(masks is not None and masks.shape == (2 * 5, 28, 28, 3) and masks.dtype == np.uint8 and kind == "mask",
          "masks artifact [show*T, 28, 28, 3] uint8 kind mask")
    preds, kind = r["arts"].get("segment/predictions", (None, None))
    check(preds is not None and preds.shape == (2 * 4, 28, 28, 1) and kind == "image-grid",
          "predictions artifact [show*(K+2), 28, 28, 1] kind image-grid")
    check(r["weights"].get("rnn.w_x") == (100, 784) and r["weights"].get("out.weight") == (784, 100),
          "weights saved under their names")
    if preds is not None and preds.shape[0] == 8:
        # row 1 is the clean target: binary shapes
        tgt = preds[1, :, :, 0]
        check(set(np.unique(tgt)) <= {0, 255} and (tgt == 255).sum() > 40, "target picture is a binary shapes image")
        # the predictions of the K components together explain the target better than a constant
        psi = preds[2:4, :, :, 0].astype(float) / 255
        err = np.abs(psi.max(0) - tgt / 255).mean()
        check(err < 0.2, "max_k psi reconstructs the target (mean abs error %.3f)" % err)


def others(tmp):
    small = ["params.updates=3", "params.epochs=1", "params.batch=8", "data.n_train=64", "data.n_valid=8",
             "data.n_test=16", "params.valid_size=8", "task.show=1"]
    rc, _ = run(SMOKE, os.path.join(tmp, "nem"), "params.variant=nem", *small)
    check(rc == 0, "N-EM smoke run ok")
    for r in load_runs(os.path.join(tmp, "nem", "nem-smoke")):
        check(r["attrs"].get("status") == "ok" and np.isfinite(r["metrics"].get("segment/ami", np.nan)), "N-EM finite AMI")
        check(r["weights"].get("nem.w") == (784, 100) and r["weights"].get("nem.eta") == (1,), "N-EM weights")
    conv = ["data.source=flying-shapes", "data.frames=4", "params.steps=3", "params.net=conv", "params.layer_norm=true",
            "params.k=3", "data.objects=3"]
    rc, _ = run(SMOKE, os.path.join(tmp, "conv"), *small, *conv)
    check(rc == 0, "conv RNN-EM on flying shapes ok")
    for r in load_runs(os.path.join(tmp, "conv", "nem-smoke")):
        check(r["attrs"].get("status") == "ok" and np.isfinite(r["metrics"].get("segment/ami_mean", np.nan)),
              "conv run finite AMI")
        check("enc.conv0.weight" in r["weights"] and "dec.conv1.weight" in r["weights"], "conv weights saved")
        check(r["arts"].get("segment/masks", (np.zeros(0),))[0].shape == (3, 28, 28, 3), "sequence masks: one per step")
    if os.path.exists("/usr/share/datasets/fashion-mnist"):
        fm = ["data.source=flying-fmnist", "data.frames=4", "params.steps=3", "params.net=conv", "params.likelihood=gaussian",
              "params.noise=masked-uniform", "params.inter_weight=0.2", "data.objects=2", "data.pool=20"]
        rc, _ = run(SMOKE, os.path.join(tmp, "fm"), *small, *fm)
        check(rc == 0, "conv RNN-EM on flying Fashion-MNIST ok")
        for r in load_runs(os.path.join(tmp, "fm", "nem-smoke")):
            check(r["attrs"].get("status") == "ok" and np.isfinite(r["metrics"].get("segment/loss", np.nan)),
                  "flying-fmnist finite loss")
            check(r["arts"].get("segment/masks", (np.zeros(0),))[0].shape == (3, 24, 24, 3), "24x24 masks")


def bad_inputs(tmp):
    spec = os.path.join(tmp, "digits.yaml")
    with open(spec, "w") as f:
        f.write("experiment: nem-digits\nmodel: nem\nbackend: cpu\ndata: {source: digits}\n"
                "params: {epochs: 0}\ntask: {kind: segment}\n")
    rc, out = run(spec, os.path.join(tmp, "bad1"), expect=2)
    check(rc == 2 and "%s:4:16: data.source: task.kind segment" % spec in out and "no ground-truth groups" in out and
          not os.path.exists(os.path.join(tmp, "bad1")),
          "a source without groups is refused before any run starts, at data.source, with a reason: " + out[-300:])
    rc, out = run(SMOKE, os.path.join(tmp, "bad1b"), "data.source=digits", expect=2)
    check(rc == 2 and "n_test" in out, "shapes options on another source are a spec error")
    rc, out = run(SMOKE, os.path.join(tmp, "bad2"), "data.source=flying-shapes", "data.frames=3", expect=1)
    check(rc == 1 and "need 6 frames" in out, "too few frames for the steps is refused: " + out[-300:])
    rc, out = run(SMOKE, os.path.join(tmp, "bad3"), "params.variant=nme", expect=2)
    check(rc == 2 and "variant" in out, "an unknown variant is a spec error")
    rc, out = run(SMOKE, os.path.join(tmp, "bad4"), "task.ami_norm=geometric", expect=2)
    check(rc == 2 and "ami_norm" in out, "an unknown AMI normalisation is a spec error")
    trained = sorted(glob.glob(os.path.join(tmp, "trained", "nem-smoke", "runs", "*.h5")))
    rc, out = run(SMOKE, os.path.join(tmp, "bad5"), "init_from=" + (trained[0] if trained else "missing.h5"),
                  "params.hidden=37", expect=1)
    check(rc == 1 and "has shape [100" in out and "this run's model expects [37" in out,
          "init_from weights of another size are refused with both shapes: " + out[-300:])


def main():
    with tempfile.TemporaryDirectory() as tmp:
        smoke(tmp)
        others(tmp)
        bad_inputs(tmp)
    finish()


if __name__ == "__main__":
    sys.exit(main())
