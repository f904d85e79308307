"""A running run (runs/<id>.live.h5, status "running"): collect lists it, .runs shows it as
running, summary() leaves it out of ok and of every statistic, exactly as engram show, and
its curve so far can be read."""
import os

import h5py

import engram
from conftest import run_engram
from test_summary import assert_same_as_show


def test_live_run(faulty_copy, engram_env):
    exp = engram.open(faulty_copy)
    row = exp.runs.query("%s == 'ok' and %s == 3" % (engram.col("params.mode"), engram.col("params.x"))).iloc[0]
    rid = row.run_id
    runs = os.path.join(faulty_copy, "runs")
    live = os.path.join(runs, rid + ".live.h5")
    os.rename(os.path.join(runs, rid + ".h5"), live)  # the run "has not finished": only its snapshot exists
    with h5py.File(live, "a") as f:
        f.attrs["status"] = "running"
    run_engram(engram_env, "collect", faulty_copy)
    exp = engram.open(faulty_copy)
    r = exp.runs.set_index("run_id")
    assert len(r) == 12 and r.loc[rid, "status"] == "running"
    s = exp.summary()
    g = s[s.run_ids.map(lambda ids: rid in ids)].iloc[0]
    assert (g["ok"], g["total"], g["fault/score:n"]) == (2, 3, 2)
    assert g["fault/score:mean"] == (6 + 7 + 8 - (6 + row.seed)) / 2  # the other two seeds
    assert assert_same_as_show(faulty_copy, engram_env) > 0
    assert exp.run_path(rid) == live
    assert exp.series("fault/loss", runs=rid)["value"].tolist() == [3.0 / (k + 1) for k in range(5)]
    assert "1 running" in repr(exp)
    best = exp.best("fault/score", level="run")
    assert best.run_id != rid or best.status == "ok"  # a running run is never best
