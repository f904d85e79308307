"""test_cuda_smoke.py — every model plugin's smoke config runs with `backend: cuda`
and agrees with the same config on the CPU backend.

For each configs/smoke/*.yaml: `engram run SPEC backend=cpu` and `backend=cuda` into
two fresh roots; runs are paired by run_index (the override changes run ids, not the
sweep). Every run must be ok on both, the cuda runs must name the GPU in their
`device` attribute, and every metric must agree:
    |cuda - cpu| <= atol + rtol * |cpu|
Tolerances: retrieval-only models (hopfield, bwdam) rtol 1e-3, atol 1e-4 — the same
iterations on float data, differing only by rounding; models trained by gradient
steps (pcgmm, vmfdam, compvae, nem) rtol 5e-2, atol 2e-2 — rounding differences
grow through training; for those, fractions of a few dozen queries or items
(success, within_tol, accuracy) may differ by two items' worth, atol 0.1, since
one query that lands the other way moves them by 1/Q. Mean update counts
(*/steps) are discrete per query — a state whose change crosses `tol` one step
earlier in float32 than in float64 counts one update less — so they get atol 0.25
on every model. Wall-clock metrics (names with "seconds" or "time") are not
compared. Skips (77) with the reason when the CUDA backend is not available here.
"""
import glob
import os
import subprocess
import sys
import tempfile

import h5py

BIN = os.environ.get("ENGRAM_BIN", "./engram")
SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
TIGHT = (1e-4, 1e-3)  # atol, rtol
LOOSE = (2e-2, 5e-2)
TOLERANCE = {"hopfield": TIGHT, "bwdam": TIGHT}
FRACTION_ATOL = 0.1  # trained models: fraction metrics over few queries are quantised
STEPS_ATOL = 0.25  # mean update counts: discrete per query


def is_fraction(key):
    return any(w in key for w in ("success", "within_tol", "accuracy"))
failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def cuda_status():
    p = subprocess.run([BIN, "list"], capture_output=True, text=True, timeout=120)
    for line in p.stdout.splitlines():
        f = line.split(None, 2)
        if len(f) >= 2 and f[0] == "cuda":
            return f[1] == "available", (f[2] if len(f) > 2 else "")
    return False, "no CUDA backend plugin was built (nvcc not found at configure time?)"


def load(root):
    runs = {}
    for path in glob.glob(os.path.join(root, "*", "runs", "*.h5")):
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            metrics = {}
            if "metrics" in f:
                f["metrics"].visititems(
                    lambda n, o: metrics.__setitem__(n, float(o[()])) if isinstance(o, h5py.Dataset) else None)
            runs[int(attrs["run_index"])] = (attrs, metrics)
    return runs


def run(spec, root, backend):
    p = subprocess.run([BIN, "run", spec, "backend=" + backend, "--out", root, "--plain"], capture_output=True,
                       text=True, timeout=1800)
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p.returncode


def main():
    ok, why = cuda_status()
    if not ok:
        print("SKIPPED: cuda backend unavailable:", why)
        return 77
    specs = sorted(glob.glob(os.path.join(SRC, "configs", "smoke", "*.yaml")))
    check(len(specs) > 0, "no smoke configs found")
    for spec in specs:
        name = os.path.basename(spec)
        with tempfile.TemporaryDirectory() as tmp:
            rc_cpu = run(spec, os.path.join(tmp, "cpu"), "cpu")
            rc_gpu = run(spec, os.path.join(tmp, "cuda"), "cuda")
            check(rc_cpu == 0 and rc_gpu == 0, f"{name}: engram run exit codes cpu {rc_cpu}, cuda {rc_gpu}")
            cpu, gpu = load(os.path.join(tmp, "cpu")), load(os.path.join(tmp, "cuda"))
            check(len(cpu) > 0 and sorted(cpu) == sorted(gpu),
                  f"{name}: run indices differ: cpu {sorted(cpu)}, cuda {sorted(gpu)}")
            for idx in sorted(set(cpu) & set(gpu)):
                (ca, cm), (ga, gm) = cpu[idx], gpu[idx]
                model = ga.get("model", "")
                atol, rtol = TOLERANCE.get(model, LOOSE)
                check(ca.get("status") == "ok" and ga.get("status") == "ok",
                      f"{name} run {idx}: status cpu {ca.get('status')}, cuda {ga.get('status')}")
                check(ga.get("backend") == "cuda" and "(sm_" in str(ga.get("device", "")),
                      f"{name} run {idx}: cuda run records backend {ga.get('backend')!r} device {ga.get('device')!r}")
                check(sorted(cm) == sorted(gm), f"{name} run {idx}: metric names differ")
                worst = []
                for key in sorted(set(cm) & set(gm)):
                    if "seconds" in key or "time" in key:
                        continue
                    c, g = cm[key], gm[key]
                    a = max(atol, FRACTION_ATOL) if model not in TOLERANCE and is_fraction(key) else atol
                    if key.endswith("steps"):
                        a = max(a, STEPS_ATOL)
                    if not (abs(g - c) <= a + rtol * abs(c)):
                        worst.append(f"{key}: cuda {g:.8g} cpu {c:.8g}")
                check(not worst, f"{name} run {idx} ({model}, atol {atol}, rtol {rtol}): " + "; ".join(worst))
        print(f"{name}: compared {len(set(cpu) & set(gpu))} runs")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
