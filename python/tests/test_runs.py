"""Experiment.runs: one row per run with every run attribute (swept, info, constants) and
every metric, equal to what h5py reads from the run files; queries with engram.col."""
import glob
import math
import os

import h5py
import numpy as np

import engram
from engram._values import c_text


def run_files(exp_dir):
    return sorted(glob.glob(os.path.join(exp_dir, "runs", "*.h5")))


def same(a, b):
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a)
    return a == b and type(a) is type(b)


def check_against_files(exp_dir):
    exp = engram.open(exp_dir)
    runs = exp.runs.set_index("run_id", drop=False)
    files = run_files(exp_dir)
    assert len(files) == len(runs)
    n_attrs = 0
    for path in files:
        with h5py.File(path, "r") as f:
            rid = f.attrs["run_id"]
            row = runs.loc[rid]
            for k, v in f.attrs.items():
                if k == "config_sha256":  # the file's integrity (engram verify), not a run property
                    continue
                if isinstance(v, np.ndarray):
                    v = c_text([x.decode() if isinstance(x, bytes) else x for x in v.tolist()])
                elif isinstance(v, np.generic):
                    v = v.item()
                got = row[k]
                got = got.item() if isinstance(got, np.generic) else got
                assert same(got, v), (rid, k, got, v)
                n_attrs += 1
            for name in exp.metrics:
                p = "metrics/" + name
                want = float(f[p][()]) if p in f else math.nan
                assert same(float(row[name]), want), (rid, name)
    return exp, n_attrs


def test_every_attribute_and_metric(faulty_dir):
    exp, n = check_against_files(faulty_dir)
    assert n > 30 * len(exp.runs)


def test_hopfield_every_attribute_and_metric(hop_dir):
    check_against_files(hop_dir)


def test_columns_and_roles(hop_dir):
    exp = engram.open(hop_dir)
    r = exp.runs
    cols = list(r.columns)
    assert cols[:3] == ["run_id", "status", "seed"]
    # mchn runs record beta 1, gmm runs the default 8; sigma is 1 in both: a constant
    assert exp.swept == ["params.beta", "params.variant", "task.corrupt.sigma"]
    assert cols[3:3 + len(exp.swept)] == exp.swept
    assert {"wall_s", "run_index"} <= set(exp.info)
    for c in ("start_time", "end_time"):  # whole seconds: equal in every run of a fast sweep, or not
        assert (c in exp.info) != (c in exp.constants) and c in cols
    for c in ("params.steps", "data.source", "data.n", "model", "model_version", "engram_version", "model_build_id",
              "backend_build_id", "command_line", "task.memories", "init_from"):
        assert c in exp.constants and c in cols, c
        assert (r[c] == exp.constants[c]).all(), c
    assert r["model"].iloc[0] == "hopfield" and r["data.n"].dtype == np.int64 and r["data.n"].iloc[0] == 64
    assert r["wall_s"].dtype == np.float64 and (r["wall_s"] > 0).all()
    assert r["run_index"].tolist() == list(range(len(r)))  # plan order
    for c in ("run_id", "status", "params.variant", "start_time", "model"):
        assert all(type(v) is str for v in r[c]), c  # decoded, not bytes
    assert set(exp.metrics) >= {"retrieval/success", "retrieval/mse"}
    assert exp.goals["retrieval/success"] == "max" and exp.goals["retrieval/mse"] == "min"


def test_query_with_col(hop_dir):
    exp = engram.open(hop_dir)
    r = exp.runs
    q = r.query("%s == 'gmm' and %s > 1" % (engram.col("params.variant"), engram.col("task.corrupt.sigma")))
    assert len(q) == 2 and set(q["params.variant"]) == {"gmm"} and (q["task.corrupt.sigma"] == 1.6).all()
    q = r.query("%s >= 0" % engram.col("retrieval/success"))
    assert len(q) == len(r)
    flat = exp.runs_flat
    assert "params_variant" in flat and "retrieval_success" in flat and "task_corrupt_sigma" in flat
    assert len(flat.query("params_variant == 'gmm' and task_corrupt_sigma > 1")) == 2
    assert engram.flat_name("retrieval/success:mean") == "retrieval_success_mean"


def test_list_constant_reads_like_a_list_column(faulty_dir):
    """`defaulted` (a list attribute) is a constant in the faulty sweep: its column holds the
    same text summary.h5 gives a list-valued column; .constants keeps the list."""
    exp = engram.open(faulty_dir)
    d = exp.constants.get("defaulted")
    if d is None:  # it differs between runs in this build: then it is an info column (text)
        assert "defaulted" in exp.info and exp.runs["defaulted"].map(lambda s: s.startswith("[")).all()
    else:
        assert isinstance(d, list) and (exp.runs["defaulted"] == c_text(d)).all()


def test_speed_1000_runs(big_dir):
    import time
    t = time.perf_counter()
    exp = engram.open(big_dir)
    r = exp.runs
    dt = time.perf_counter() - t
    t = time.perf_counter()
    s = exp.summary()
    ds = time.perf_counter() - t
    print("\n1000-run experiment: open + .runs %.3f s (%d x %d), .summary() %.3f s" % (dt, r.shape[0], r.shape[1], ds))
    assert len(r) == 1000 and len(s) == 100
    assert dt < 2.0
