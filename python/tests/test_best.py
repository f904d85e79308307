"""best(): the best group or run by the metric's declared goal (summary.h5 `goals`), and
a clear error when the metric declares none and no goal is given."""
import pytest

import engram


def test_max_goal(faulty_dir):
    exp = engram.open(faulty_dir)
    assert exp.goals["fault/score"] == "max"
    b = exp.best("fault/score")
    assert (b["params.mode"], b["params.x"], b["fault/score:mean"]) == ("ok", 3.0, 7.0)
    assert len(b["run_ids"]) == 3
    assert exp.best("score")["params.x"] == 3.0  # short name, as engram show --best
    r = exp.best("fault/score", level="run")
    assert (r["params.x"], r["seed"], r["fault/score"]) == (3.0, 2, 8.0)


def test_min_goal(hop_dir):
    exp = engram.open(hop_dir)
    assert exp.goals["retrieval/mse"] == "min"
    s = exp.summary()
    b = exp.best("retrieval/mse")
    assert b["retrieval/mse:mean"] == s["retrieval/mse:mean"].min()
    assert b.name == s["retrieval/mse:mean"].idxmin()
    r = exp.best("retrieval/mse", level="run")
    assert r["retrieval/mse"] == exp.runs["retrieval/mse"].min()
    worst = exp.best("retrieval/mse", goal="max")  # an explicit goal overrides the declared one
    assert worst["retrieval/mse:mean"] == s["retrieval/mse:mean"].max()


def test_by(faulty_dir):
    b = engram.open(faulty_dir).best("fault/score", by="seed")
    assert b["seed"] == 2 and b["fault/score:mean"] == (2 * 0.5 + 2 + 2 * 3 + 2) / 2


def test_no_goal_needs_one(faulty_dir):
    exp = engram.open(faulty_dir)
    assert exp.goals["fault/rand"] is None
    with pytest.raises(engram.GoalError, match="goal='max' or goal='min'"):
        exp.best("fault/rand")
    assert exp.best("fault/rand", goal="min")["fault/rand:n"] == 3
    with pytest.raises(engram.GoalError):
        exp.best("fault/rand", goal="up")
    with pytest.raises(engram.ColumnError, match="fault/score"):
        exp.best("nope")


def test_goals_missing_from_summary(faulty_copy):
    """A summary.h5 without the `goals` attribute (older engram): every goal is None."""
    import h5py
    with h5py.File(faulty_copy + "/summary.h5", "a") as f:
        del f.attrs["goals"]
    exp = engram.open(faulty_copy)
    assert set(exp.goals.values()) == {None}
    with pytest.raises(engram.GoalError):
        exp.best("fault/score")
    assert exp.best("fault/score", goal="max")["params.x"] == 3.0
