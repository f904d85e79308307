"""engram.open(): experiment directories, results roots, and the errors for everything
else; a missing or stale summary.h5 is never read silently."""
import os
import shutil
import time
import warnings

import pytest

import engram
from conftest import run_engram


def test_experiment_dir(faulty_dir):
    exp = engram.open(faulty_dir)
    assert exp.name == "faulty" and exp.path == os.path.abspath(faulty_dir) and len(exp) == 12


def test_results_root_with_one_experiment(faulty_dir):
    exp = engram.open(os.path.dirname(faulty_dir))
    assert exp.name == "faulty" and exp.path == os.path.abspath(faulty_dir)


def test_results_root_with_two(tmp_path, faulty_dir, hop_dir):
    shutil.copytree(faulty_dir, str(tmp_path / "faulty"))
    shutil.copytree(hop_dir, str(tmp_path / "hop"))
    with pytest.raises(engram.NotAnExperimentError, match=r"2 experiments \(faulty, hop\)"):
        engram.open(str(tmp_path))


def test_not_an_experiment(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(engram.NotAnExperimentError, match="not an experiment directory"):
        engram.open(str(tmp_path / "empty"))
    with pytest.raises(engram.NotAnExperimentError, match="no such directory"):
        engram.open(str(tmp_path / "missing"))
    (tmp_path / "file.h5").write_text("x")
    with pytest.raises(engram.NotAnExperimentError):
        engram.open(str(tmp_path / "file.h5"))
    assert issubclass(engram.NotAnExperimentError, engram.EngramError)


def test_unreadable_summary(tmp_path):
    d = tmp_path / "bad"
    (d / "runs").mkdir(parents=True)
    time.sleep(0.01)
    (d / "summary.h5").write_text("not hdf5")
    with pytest.raises(engram.EngramError, match="not a readable summary.h5"):
        engram.open(str(d))


def test_missing_summary(faulty_copy):
    os.remove(os.path.join(faulty_copy, "summary.h5"))
    with pytest.raises(engram.StaleSummaryError, match="engram collect"):
        engram.open(faulty_copy)
    with pytest.raises(engram.StaleSummaryError):
        engram.open(faulty_copy, stale="warn")  # nothing to read


def test_stale_summary(faulty_copy, engram_env):
    runs = os.path.join(faulty_copy, "runs")
    victim = sorted(os.listdir(runs))[0]
    os.remove(os.path.join(runs, victim))
    st = os.stat(os.path.join(faulty_copy, "summary.h5"))
    os.utime(runs, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))  # runs/ changed after the summary
    with pytest.raises(engram.StaleSummaryError, match="engram collect %s" % faulty_copy):
        engram.open(faulty_copy)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        old = engram.open(faulty_copy, stale="warn")
    assert any(issubclass(x.category, engram.StaleSummaryWarning) for x in w)
    assert len(old.runs) == 12  # the old summary, as it is
    run_engram(engram_env, "collect", faulty_copy)
    assert len(engram.open(faulty_copy).runs) == 11
    with pytest.raises(ValueError):
        engram.open(faulty_copy, stale="ignore")


def test_run_file_gone(faulty_copy):
    exp = engram.open(faulty_copy)
    rid = exp.runs.run_id[0]
    os.remove(os.path.join(faulty_copy, "runs", rid + ".h5"))
    with pytest.raises(engram.RunNotFoundError, match="run file is gone"):
        exp.log(rid)


def test_repr(faulty_dir):
    exp = engram.open(faulty_dir)
    text = repr(exp)
    assert "'faulty'" in text and "12 runs in 4 groups: 6 ok, 6 diverged" in text
    assert "params.mode, params.x" in text and "fault/score (max)" in text
    page = exp._repr_html_()
    assert page.startswith("<div") and "<table>" in page and page.count("<tr>") == 5
    assert "2 ± 1" in page and "7 ± 1" in page and "0/3" in page  # as engram show rounds them
