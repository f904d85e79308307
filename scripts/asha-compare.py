#!/usr/bin/python3
"""asha-compare.py — what adaptive search (sweep.adaptive: ASHA) found and what it cost,
against the full grid of the same runs.

    python3 scripts/asha-compare.py GRID_DIR ASHA_DIR [--select train/val_accuracy]
                                    [--score classify/accuracy] [--epochs-series train/loss]

GRID_DIR and ASHA_DIR are experiment directories (results/<experiment>) of two specs that
differ only in the adaptive block (configs/adaptive/vmfdam-grid.yaml, vmfdam-asha.yaml).
In each, the chosen setting is the finished (status ok) run with the best last value of
the --select series (what the search compares, measured on the validation split); its
--score metric (the test accuracy) is what the two are compared by. Compute is the epochs
summed over all runs (the last step of --epochs-series; a pruned run's curve ends at its
rung) and the CPU seconds (the run files' cpu_s attribute) and wall seconds (wall_s)
summed over all runs, pruned ones included. Prints both, the ratios, and whether ASHA's
choice is within 1 point (0.01) of the grid's at under half of its compute.
Needs numpy and h5py (Debian's python3-numpy, python3-h5py)."""
import argparse
import glob
import math
import os
import sys

import h5py


def load(exp_dir, select, score, epochs_series):
    runs = []
    files = sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5")))
    files = [p for p in files if not p.endswith(".live.h5")]
    if not files:
        sys.exit("asha-compare: no run files in %s/runs" % exp_dir)
    for path in files:
        with h5py.File(path, "r") as f:
            a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            sel = f["series/" + select][()]["value"] if "series/" + select in f else []
            ep = f["series/" + epochs_series][()]["step"] if "series/" + epochs_series in f else []
            sc = float(f["metrics/" + score][()]) if "metrics/" + score in f else math.nan
        runs.append({
            "id": os.path.basename(path)[:16],
            "status": str(a.get("status", "ok")),
            "params": {k: a[k] for k in a if k.startswith("params.")},
            "select": float(sel[-1]) if len(sel) else math.nan,
            "score": sc,
            "epochs": int(max(ep)) if len(ep) else 0,
            "cpu": float(a.get("cpu_s", math.nan)),
            "wall": float(a.get("wall_s", math.nan)),
            "pruned": str(a.get("pruned", "")),
        })
    return runs


def swept(runs):
    keys = sorted({k for r in runs for k in r["params"]})
    return [k for k in keys if len({repr(r["params"].get(k)) for r in runs}) > 1]


def setting(r, keys):
    return ", ".join("%s=%s" % (k[len("params."):], r["params"].get(k)) for k in keys)


def best(runs):
    done = [r for r in runs if r["status"] == "ok" and math.isfinite(r["select"])]
    return max(done, key=lambda r: r["select"]) if done else None


def totals(runs):
    counts = {}
    for r in runs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"epochs": sum(r["epochs"] for r in runs), "cpu": sum(r["cpu"] for r in runs),
            "wall": sum(r["wall"] for r in runs), "counts": counts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("grid")
    ap.add_argument("asha")
    ap.add_argument("--select", default="train/val_accuracy", help="series whose last value chooses (max)")
    ap.add_argument("--score", default="classify/accuracy", help="metric the choices are compared by (max)")
    ap.add_argument("--epochs-series", default="train/loss", help="series with a point per epoch")
    o = ap.parse_args()
    grid = load(o.grid, o.select, o.score, o.epochs_series)
    asha = load(o.asha, o.select, o.score, o.epochs_series)
    keys = swept(grid + asha)
    gb, ab = best(grid), best(asha)
    gt, at = totals(grid), totals(asha)
    oracle = max((r for r in grid if r["status"] == "ok" and math.isfinite(r["score"])), key=lambda r: r["score"],
                 default=None)

    def status_text(t):
        return ", ".join("%d %s" % (n, s) for s, n in sorted(t["counts"].items()))

    print("grid  %s: %d runs (%s)" % (o.grid, len(grid), status_text(gt)))
    if gb:
        print("  best by %s: %s  %s %.4f, %s %.4f" % (o.select, setting(gb, keys), o.select, gb["select"], o.score,
                                                      gb["score"]))
    if oracle:
        print("  best by %s (hindsight): %s  %.4f" % (o.score, setting(oracle, keys), oracle["score"]))
    print("  compute: %d epochs, %.1f CPU s, %.1f wall s" % (gt["epochs"], gt["cpu"], gt["wall"]))
    print("asha  %s: %d runs (%s)" % (o.asha, len(asha), status_text(at)))
    if ab:
        print("  best by %s: %s  %s %.4f, %s %.4f" % (o.select, setting(ab, keys), o.select, ab["select"], o.score,
                                                      ab["score"]))
    print("  compute: %d epochs, %.1f CPU s, %.1f wall s" % (at["epochs"], at["cpu"], at["wall"]))
    for r in sorted(asha, key=lambda r: r["epochs"]):
        if r["status"] == "pruned":
            print("    pruned %s (%s): %s" % (r["id"], setting(r, keys), r["pruned"]))
    er = at["epochs"] / gt["epochs"] if gt["epochs"] else math.nan
    cr = at["cpu"] / gt["cpu"] if gt["cpu"] else math.nan
    wr = at["wall"] / gt["wall"] if gt["wall"] else math.nan
    print("ratio asha/grid: epochs %.3f, CPU s %.3f, wall s %.3f" % (er, cr, wr))
    if gb and ab:
        gap = gb["score"] - ab["score"]
        within, half = gap <= 0.01, er < 0.5 and cr < 0.5
        print("%s: %.2f points below the grid's choice (%s), at %.0f%% of its epochs and %.0f%% of its CPU time "
              "(%s)" % (o.score, 100 * gap, "within 1 point" if within else "NOT within 1 point", 100 * er, 100 * cr,
                        "under half" if half else "NOT under half"))
        return 0 if within and half else 1
    print("no finished run to compare in %s" % (o.grid if not gb else o.asha))
    return 1


if __name__ == "__main__":
    sys.exit(main())
