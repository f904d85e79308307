"""engram.open(dir) -> Experiment: one experiment directory results/<experiment>/ (runs/*.h5
and summary.h5), read through summary.h5 for the table and through the run files for
curves, pictures, weights, configs and logs."""
import collections
import math
import os
import warnings

import h5py
import numpy as np
import pandas as pd

from . import _html, runfile
from .columns import flatten, resolve
from .errors import ColumnError, EngramError, GoalError, NotAnExperimentError, RunNotFoundError, StaleSummaryError
from .stats import pick_best, resolve_by, summarize
from .summary import Summary


class StaleSummaryWarning(UserWarning):
    """open(..., stale="warn") read a summary.h5 that is older than runs/."""


def _is_experiment(path):
    return os.path.isdir(os.path.join(path, "runs")) or os.path.isfile(os.path.join(path, "summary.h5"))


def open(path, stale="raise"):  # noqa: A001 - engram.open, like h5py.File / tarfile.open
    """The experiment in `path`: an experiment directory (results/<experiment>/, which holds
    runs/ and summary.h5) or a results root that holds exactly one experiment.

    summary.h5 must be at least as new as runs/ (the rule `engram show` uses before it
    collects): when it is missing, or older (runs finished, were added or removed since
    `engram collect` built it), StaleSummaryError says to run `engram collect DIR`.
    stale="warn" reads an older summary.h5 anyway, with a StaleSummaryWarning (e.g.
    while a sweep is running); a missing one always raises."""
    if stale not in ("raise", "warn"):
        raise ValueError("stale must be 'raise' or 'warn', not %r" % (stale,))
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise NotAnExperimentError("%s: no such directory" % path)
    if _is_experiment(path):
        return Experiment(path, stale=stale)
    subs = sorted(d for d in os.listdir(path) if _is_experiment(os.path.join(path, d)))
    if len(subs) == 1:
        return Experiment(os.path.join(path, subs[0]), stale=stale)
    if subs:
        raise NotAnExperimentError("%s is a results root with %d experiments (%s): open one of them, e.g. "
                                   "engram.open(%r)" % (path, len(subs), ", ".join(subs), os.path.join(path, subs[0])))
    raise NotAnExperimentError("%s is not an experiment directory: it has neither runs/ nor summary.h5 (engram run "
                               "SPEC --out ROOT writes ROOT/<experiment>/runs/*.h5 and summary.h5)" % path)


class Experiment:
    """An experiment directory. The table (runs, summary, best) comes from summary.h5, read
    once when the Experiment is made (reload() reads it again); runs' curves, pictures,
    weights, configs and logs are read from their run files on each call.

    A `run` argument is a run id, a prefix of one that fits a single run, or a row of .runs
    (a Series, or a DataFrame of one row)."""

    def __init__(self, path, stale="raise"):
        self.path = os.path.abspath(os.fspath(path))
        self._stale = stale
        self._links = None
        self.reload()

    # ---- the table ----

    def reload(self):
        """Read summary.h5 again (after `engram collect`), checking it is not stale."""
        sum_path = os.path.join(self.path, "summary.h5")
        runs_dir = os.path.join(self.path, "runs")
        if not os.path.isfile(sum_path):
            raise StaleSummaryError("%s has no summary.h5: run `engram collect %s` to build it from runs/"
                                    % (self.path, self.path))
        if os.path.isdir(runs_dir) and os.stat(runs_dir).st_mtime_ns > os.stat(sum_path).st_mtime_ns:
            msg = ("%s/summary.h5 is older than runs/ (runs were written, added or removed after it was built): run "
                   "`engram collect %s` (`engram show` collects too), or open with stale='warn' to read it as it is"
                   % (self.path, self.path))
            if self._stale == "raise":
                raise StaleSummaryError(msg)
            warnings.warn(msg, StaleSummaryWarning, stacklevel=3)
        try:
            self._sum = Summary(sum_path)
        except (OSError, ValueError) as e:
            raise EngramError("%s: not a readable summary.h5: %s" % (sum_path, e)) from None
        self._runs = self._sum.runs()
        self._ids = self._runs["run_id"].tolist() if "run_id" in self._runs else []
        self._id_set = set(self._ids)
        self._links = None
        return self

    @property
    def name(self):
        """The experiment's name (summary.h5's `experiment`, else the directory's name)."""
        return self._sum.attrs.get("experiment") or os.path.basename(self.path)

    @property
    def swept(self):
        """The swept parameters: the columns runs differ in, seeds aside (summary.h5 `swept`)."""
        return list(self._sum.swept)

    @property
    def info(self):
        """Other run attributes that differ between runs: wall_s, start_time, run_index, error, ..."""
        return list(self._sum.info)

    @property
    def metrics(self):
        """The final metrics, the metric columns of .runs."""
        return list(self._sum.metrics)

    @property
    def goals(self):
        """metric -> "max", "min", or None where the model declares no goal (summary.h5 `goals`)."""
        return dict(self._sum.goals)

    @property
    def constants(self):
        """The run attributes equal in every run (summary.h5 /constants), lists as lists."""
        return dict(self._sum.constants)

    @property
    def runs(self):
        """One row per run (a fresh copy): run_id, status, seed, the swept parameters, the info
        columns, the metrics, then every constant (sorted by name): constant parameters,
        model, model_version, engram_version, build ids, command_line, ... Columns keep their
        dotted names; in query/eval write them in backticks (engram.col)."""
        return self._runs.copy()

    @property
    def runs_flat(self):
        """.runs with identifier names: params_beta, retrieval_success (engram.flat_name)."""
        return flatten(self._runs)

    def __len__(self):
        return len(self._runs)

    def summary(self, by=None, metrics=None):
        """mean, sd and n over seeds per group, bit-identical to `engram show DIR --json`.

        by: the grouping columns (default: the swept parameters, as `engram show`); any
        columns of .runs, by full name or as params.<name>. metrics: which (default all).
        Columns: the `by` columns, ok, total, NAME:mean, NAME:sd, NAME:n per metric (the
        columns of `engram show --csv`), run_ids. Only runs with status "ok" and a finite
        value count; sd is NaN for one value."""
        by = self.swept if by is None else resolve_by(by, self._runs.columns, self.metrics)
        ms = self.metrics if metrics is None else resolve_by(metrics, self.metrics, self.metrics)
        return summarize(self._runs, by, ms)

    def best(self, metric, by=None, goal=None, level="group"):
        """The best group (level="group": a row of .summary(by)) or run (level="run": a row
        of .runs, among the ok runs) by the metric's mean (its value), with the goal the
        model declares for it (summary.h5 `goals`) or the one given: goal="max" / "min".
        Ties go to the first in plan order, as `engram show --best`."""
        m = resolve(metric, self.metrics, self.metrics, what="metric")
        g = goal if goal is not None else self._sum.goals.get(m)
        if g not in ("max", "min"):
            if goal is not None:
                raise GoalError("goal must be 'max' or 'min', not %r" % (goal,))
            raise GoalError("the model declares no goal for %s: pass goal='max' or goal='min'" % m)
        if level == "group":
            s = self.summary(by=by, metrics=[m])
            i = pick_best(s[m + ":mean"].tolist(), g)
            if i is None:
                raise EngramError("no group has a value of %s" % m)
            return s.iloc[i]
        if level == "run":
            r = self._runs
            vals = [v if st == "ok" else math.nan for v, st in zip(r[m].tolist(), r["status"].tolist())]
            i = pick_best(vals, g)
            if i is None:
                raise EngramError("no ok run has a value of %s" % m)
            return r.iloc[i]
        raise ValueError("level must be 'group' or 'run', not %r" % (level,))

    # ---- runs ----

    def run_id(self, run):
        """The full run id of a run id, a unique prefix of one, or a row of .runs."""
        if isinstance(run, pd.DataFrame):
            if len(run) != 1 or "run_id" not in run:
                raise RunNotFoundError("a DataFrame names one run only when it has one row with run_id (%d rows)"
                                       % len(run))
            run = run["run_id"].iloc[0]
        elif isinstance(run, pd.Series):
            if "run_id" not in run.index:
                raise RunNotFoundError("this row has no run_id: pass a row of .runs")
            run = run["run_id"]
        if not isinstance(run, str):
            raise TypeError("a run is a run id, a prefix of one or a row of .runs, not %s" % type(run).__name__)
        if run in self._id_set:
            return run
        hits = [i for i in self._ids if i.startswith(run)] if run else []
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise RunNotFoundError("run id prefix %r fits %d runs (%s%s)" % (run, len(hits), ", ".join(hits[:5]),
                                                                              ", ..." if len(hits) > 5 else ""))
        raise RunNotFoundError("no run %r in %s (%d runs)" % (run, self.path, len(self._ids)))

    def run_path(self, run):
        """The run's file: runs/<id>.h5, or runs/<id>.live.h5 while the run is still going."""
        rid = self.run_id(run)
        runs_dir = os.path.join(self.path, "runs")
        cands = [os.path.join(runs_dir, rid + ".h5")]
        link = self._link_targets().get(rid)
        if link:
            cands.append(os.path.join(self.path, link))
        cands.append(os.path.join(runs_dir, rid + ".live.h5"))
        for c in cands:
            if os.path.isfile(c):
                return c
        raise RunNotFoundError("run %s: its run file is gone (%s); run `engram collect %s`" % (rid, cands[0],
                                                                                             self.path))

    def _link_targets(self):
        """/runs/<id> external links of summary.h5 -> their file names (read once, when needed)."""
        if self._links is None:
            self._links = {}
            with h5py.File(os.path.join(self.path, "summary.h5"), "r") as f:
                if "runs" in f:
                    g = f["runs"]
                    for k in g:
                        ln = g.get(k, getlink=True)
                        if isinstance(ln, h5py.ExternalLink):
                            self._links[k] = ln.filename
        return self._links

    def _select(self, runs):
        """The rows of .runs that `runs` names: None (all), a DataFrame (its run_id column),
        a run (id, prefix, row) or a list of them."""
        if runs is None:
            return self._runs
        if isinstance(runs, pd.DataFrame):
            ids = [self.run_id(r) for r in runs["run_id"]]
        elif isinstance(runs, (str, pd.Series)):
            ids = [self.run_id(runs)]
        else:
            ids = [self.run_id(r) for r in runs]
        pos = {r: i for i, r in enumerate(self._ids)}
        return self._runs.iloc[[pos[i] for i in ids]]

    def series(self, name=None, runs=None):
        """A curve of every run (or of `runs`) as one long DataFrame: run_id, seed, the swept
        parameters, step, value, wall_s (seconds since that run started), runs in the order
        of .runs and each run's points in its file's order. Runs without the curve are left
        out. With no name: the sorted names of the curves the runs have (this opens every
        run file)."""
        rows = self._select(runs)
        if name is None:
            found = set()
            for rid in rows["run_id"]:
                found.update(runfile.names(self.run_path(rid), "series"))
            return sorted(found)
        parts, pos = [], []
        for i, rid in enumerate(rows["run_id"].tolist()):
            s = runfile.series(self.run_path(rid), name)
            if s is not None:
                parts.append(s)
                pos.append(i)
        if not parts:
            have = self.series(runs=runs) if len(rows) <= 50 else self.series(runs=rows.head(50))
            raise ColumnError("no run has the series %r (series: %s)" % (name, ", ".join(have) or "none"))
        lengths = [len(p[0]) for p in parts]
        meta_cols = [c for c in ["run_id", "seed"] + self.swept if c in rows.columns]
        rep = [p for p, n in zip(pos, lengths) for _ in range(n)]
        out = rows[meta_cols].iloc[rep].reset_index(drop=True)
        out["step"] = np.concatenate([p[0] for p in parts])
        out["value"] = np.concatenate([p[1] for p in parts])
        out["wall_s"] = np.concatenate([p[2] for p in parts])
        return out

    def artifact(self, run, name=None):
        """An Artifact (data, kind, tile_rows, row_labels) from /artifacts/<name> of the run;
        with no name, the names of the run's artifacts."""
        path = self.run_path(run)
        if name is None:
            return runfile.names(path, "artifacts")
        return runfile.artifact(path, self.run_id(run), name)

    def weights(self, run, name=None):
        """A saved tensor (/weights/<name>) as a float32 numpy array; with no name, the names."""
        path = self.run_path(run)
        if name is None:
            return runfile.names(path, "weights")
        return runfile.weight(path, self.run_id(run), name)

    def config(self, run):
        """The run's resolved config as a nested dict (its /config YAML)."""
        return runfile.config(self.run_path(run))

    def log(self, run):
        """The run's log text (/log); "" when it has none."""
        return runfile.text(self.run_path(run), "log") or ""

    def attrs(self, run):
        """Every root attribute of the run file (metadata and each resolved key, dotted)."""
        return runfile.attrs(self.run_path(run))

    # ---- display ----

    def headline(self):
        st = collections.Counter(self._runs["status"].tolist()) if "status" in self._runs else {}
        n = len(self._runs)
        groups = len(self.summary(metrics=[]))
        parts = ["%d ok" % st.get("ok", 0)] + ["%d %s" % (k, s) for s, k in sorted(st.items()) if s != "ok"]
        return "%d run%s in %d group%s: %s" % (n, "" if n == 1 else "s", groups, "" if groups == 1 else "s",
                                               ", ".join(parts))

    def __repr__(self):
        lines = ["<engram.Experiment %r at %s: %s" % (self.name, self.path, self.headline())]
        lines.append("  swept:   %s" % (", ".join(self.swept) or "(nothing: one group)"))
        lines.append("  metrics: %s>" % (", ".join("%s (%s)" % (m, self.goals[m] or "no goal") for m in self.metrics)
                                         or "(none)"))
        return "\n".join(lines)

    def _repr_html_(self):
        return _html.render(self)
