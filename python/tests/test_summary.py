"""Experiment.summary() carries exactly the numbers of `engram show DIR --json`: the same
groups in the same order, the same parameters, ok/total and, per metric, mean, sd and n
equal as floats (not approximately)."""
import math

import numpy as np
import pytest

import engram
from conftest import show_json


def assert_same_as_show(exp_dir, env):
    doc = show_json(env, exp_dir)
    exp = engram.open(exp_dir)
    s = exp.summary()
    assert len(s) == len(doc["groups"]) > 0
    assert doc["runs"] == len(exp.runs)
    checked = 0
    for (_, row), g in zip(s.iterrows(), doc["groups"]):
        assert set(g["params"]) == set(exp.swept)
        for k, v in g["params"].items():
            if v is None:
                assert isinstance(row[k], float) and math.isnan(row[k]), k
            else:
                assert row[k] == v, (k, row[k], v)
        assert (row["ok"], row["total"]) == (g["ok"], g["total"])
        assert set(g["metrics"]) == set(exp.metrics)
        for m, st in g["metrics"].items():
            for q in ("mean", "sd"):
                got = row["%s:%s" % (m, q)]
                if st[q] is None:
                    assert math.isnan(got), (m, q, got)
                else:
                    assert got == st[q], (m, q, got, st[q])  # bit-identical, not approximate
                checked += 1
            assert row[m + ":n"] == st["n"]
    return checked


def test_faulty_equals_show_json(faulty_dir, engram_env):
    assert assert_same_as_show(faulty_dir, engram_env) > 0


def test_hopfield_equals_show_json(hop_dir, engram_env):
    assert assert_same_as_show(hop_dir, engram_env) > 0


def test_1000_runs_equal_show_json(big_dir, engram_env):
    assert assert_same_as_show(big_dir, engram_env) == 100 * 2 * 2  # 100 groups, 2 metrics, mean and sd


def test_known_values(faulty_dir):
    """fault/score = 2x + seed over seeds 0, 1, 2: mean 2x + 1, sd 1; the diverged runs
    (mode nan) count in total but not in ok nor in any statistic."""
    s = engram.open(faulty_dir).summary()
    assert list(s.columns[:4]) == ["params.mode", "params.x", "ok", "total"]
    assert s["run_ids"].map(len).tolist() == [3, 3, 3, 3]
    ok = s[s["params.mode"] == "ok"]
    assert ok["params.x"].tolist() == [0.5, 3.0]
    assert ok["fault/score:mean"].tolist() == [2.0, 7.0]
    assert ok["fault/score:sd"].tolist() == [1.0, 1.0]
    assert ok["ok"].tolist() == [3, 3]
    nan = s[s["params.mode"] == "nan"]
    assert nan["ok"].tolist() == [0, 0] and nan["total"].tolist() == [3, 3]
    assert nan["fault/score:n"].tolist() == [0, 0] and nan["fault/score:mean"].isna().all()
    assert nan["fault/rand:n"].tolist() == [0, 0]  # finite, but the run is not ok


def test_summary_by_other_columns(faulty_dir):
    exp = engram.open(faulty_dir)
    r = exp.runs
    s = exp.summary(by="seed")  # across the swept settings, per seed
    assert s["seed"].tolist() == [0, 1, 2]
    for _, row in s.iterrows():
        v = r[(r.seed == row.seed) & (r.status == "ok")]["fault/score"].to_numpy()
        assert row["fault/score:n"] == len(v) == 2
        assert row["fault/score:mean"] == pytest.approx(v.mean(), rel=1e-15)
        assert row["fault/score:sd"] == pytest.approx(v.std(ddof=1), rel=1e-12)
    one = exp.summary(by=[])
    assert len(one) == 1 and one["total"][0] == len(r) and one["ok"][0] == (r.status == "ok").sum()
    short = exp.summary(by="x", metrics="score")  # params.<name> and short metric names, as engram show
    assert list(short.columns) == ["params.x", "ok", "total", "fault/score:mean", "fault/score:sd", "fault/score:n",
                                   "run_ids"]


def test_naive_summation_order():
    """The mean is the left-to-right float sum / n, not numpy's pairwise sum: values
    where the two differ give C's answer."""
    vals = [1e16, 1.0, -1e16, 1.0] * 3
    mean, sd, n = engram.stats.mean_sd(vals)
    total = 0.0
    for v in vals:
        total += v
    assert (mean, n) == (total / len(vals), len(vals))
    assert np.isfinite(sd)
    assert engram.stats.mean_sd([2.5]) [1] != engram.stats.mean_sd([2.5])[1]  # NaN sd for one value
    assert engram.stats.mean_sd([0.1] * 7)[1] == 0.0  # rounding noise of identical values is 0
