"""What comes out of the run files: series, artifacts, weights, config, log; and the
ways to name a run (id, unique prefix, row of .runs)."""
import os

import h5py
import numpy as np
import pytest

import engram


def test_series_equal_run_files(hop_dir):
    exp = engram.open(hop_dir)
    assert exp.series() == ["retrieval/energy"]
    s = exp.series("retrieval/energy")
    assert list(s.columns) == ["run_id", "seed"] + exp.swept + ["step", "value", "wall_s"]
    assert s["step"].dtype == np.int64 and s["value"].dtype == np.float64
    assert list(dict.fromkeys(s["run_id"])) == exp.runs["run_id"].tolist()  # runs in .runs order
    runs = exp.runs.set_index("run_id")
    total = 0
    for rid, part in s.groupby("run_id", sort=False):
        with h5py.File(os.path.join(hop_dir, "runs", rid + ".h5"), "r") as f:
            a = f["series/retrieval/energy"][()]
        assert part["step"].tolist() == a["step"].tolist()
        assert part["value"].tolist() == a["value"].tolist()
        assert part["wall_s"].tolist() == a["wall_s"].tolist()
        for c in exp.swept + ["seed"]:
            assert (part[c] == runs.loc[rid, c]).all()
        total += len(a)
    assert total == len(s) > 0
    one = exp.series("retrieval/energy", runs=exp.runs.iloc[:2])
    assert one["run_id"].nunique() == 2
    with pytest.raises(engram.ColumnError, match="retrieval/energy"):
        exp.series("no/such")


def test_faulty_series(faulty_dir):
    exp = engram.open(faulty_dir)
    assert "fault/loss" in exp.series()
    ok = exp.runs[exp.runs.status == "ok"]
    s = exp.series("fault/loss", runs=ok)
    for rid, part in s.groupby("run_id"):
        x = ok.set_index("run_id").loc[rid, "params.x"]
        assert part["step"].tolist() == [0, 1, 2, 3, 4]
        assert part["value"].tolist() == [x / (k + 1) for k in range(5)]


def test_artifact(hop_dir):
    exp = engram.open(hop_dir)
    rid = exp.runs.run_id[0]
    assert exp.artifact(rid) == ["retrieval/grid"]
    a = exp.artifact(rid, "retrieval/grid")
    with h5py.File(os.path.join(hop_dir, "runs", rid + ".h5"), "r") as f:
        d = f["artifacts/retrieval/grid"]
        want, kind = d[()], d.attrs["kind"]
        tile_rows = int(d.attrs["tile_rows"])
        labels = d.attrs["row_labels"].split("|")
    assert a.data.dtype == np.uint8 and a.data.ndim == 4 and a.shape == want.shape
    assert np.array_equal(a.data, want)
    assert a.kind == kind == "image-grid"
    assert a.tile_rows == tile_rows and a.row_labels == labels
    assert a.run_id == rid and "image-grid" in repr(a)
    with pytest.raises(engram.ColumnError, match="retrieval/grid"):
        exp.artifact(rid, "nope")


def test_weights(faulty_dir):
    exp = engram.open(faulty_dir)
    row = exp.runs.query("%s == 'ok'" % engram.col("params.mode")).iloc[0]
    assert exp.weights(row) == ["w"]
    w = exp.weights(row, "w")
    assert w.dtype == np.float32 and w.shape == (2, 3)
    assert w.reshape(-1).tolist() == [np.float32(row["params.x"] * i) for i in range(6)]


def test_config_values(hop_dir):
    exp = engram.open(hop_dir)
    for _, row in exp.runs.iterrows():
        c = exp.config(row)
        assert c["model"] == "hopfield" and c["seed"] == row["seed"]
        assert c["params"]["variant"] == row["params.variant"]
        assert c["task"]["corrupt"]["sigma"] == row["task.corrupt.sigma"]
        assert c["data"]["n"] == 64 and c["task"]["memories"] == 16 and c["params"]["steps"] == 3
        attrs = exp.attrs(row)
        flat = {}

        def walk(d, pre=""):
            for k, v in d.items():
                if isinstance(v, dict):
                    walk(v, pre + k + ".")
                else:
                    flat[pre + k] = v
        walk(c)
        for k, v in flat.items():  # every parameter of the config equals its attribute
            if k.split(".")[0] in ("params", "task", "data") and v is not None:
                assert attrs[k] == v, k


def test_config_without_yaml(hop_dir, monkeypatch):
    from engram import runfile
    monkeypatch.setattr(runfile, "yaml", None)
    exp = engram.open(hop_dir)
    c = exp.config(exp.runs.iloc[0])
    assert c["params"]["variant"] == exp.runs["params.variant"][0] and c["data"]["n"] == 64


def test_log(faulty_dir):
    exp = engram.open(faulty_dir)
    ok = exp.runs[exp.runs.status == "ok"].iloc[0]
    text = exp.log(ok)
    with h5py.File(os.path.join(faulty_dir, "runs", ok.run_id + ".h5"), "r") as f:
        assert text == f["log"].asstr()[()]
    assert "faulty: plain stderr line, x = %g" % ok["params.x"] in text


def test_run_arguments(faulty_dir):
    exp = engram.open(faulty_dir)
    ids = exp.runs.run_id.tolist()
    rid = ids[0]
    n = next(k for k in range(1, 17) if sum(i.startswith(rid[:k]) for i in ids) == 1)
    assert exp.run_id(rid) == rid
    assert exp.run_id(rid[:n]) == rid
    assert exp.run_id(exp.runs.iloc[0]) == rid
    assert exp.run_id(exp.runs.iloc[[0]]) == rid
    with pytest.raises(engram.RunNotFoundError, match="no run"):
        exp.run_id("zzzz")
    with pytest.raises(engram.RunNotFoundError, match="fits"):
        exp.run_id(_common_prefix(ids))
    with pytest.raises(TypeError):
        exp.run_id(3)


def _common_prefix(ids):
    """A prefix that at least two run ids share."""
    for a in ids:
        for b in ids:
            if a != b and a[0] == b[0]:
                return a[0]
    pytest.skip("no two run ids share a first character")
