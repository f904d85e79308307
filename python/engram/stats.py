"""mean ± sd over seeds, computed exactly as `engram show` does (host/lib/results/
results_group.c), so the numbers are bit-identical to `engram show DIR --json`:

- groups: runs whose grouping columns are equal (numbers compare as numbers, NaN equals
  NaN, strings as text), in the order of their first run;
- per metric: the group's runs with status "ok" and a finite value, summed left to right
  in float64, mean = sum / n; sd = sqrt(sum of squared deviations, in the same order,
  / (n - 1)); NaN for a single value; 0 when sd <= 1e-12 |mean| (rounding noise of
  identical values); mean NaN for none;
- ok = runs with status "ok", total = runs in the group.

numpy's sum is pairwise and its var another order, so these are plain Python loops."""
import math

import numpy as np
import pandas as pd

from .columns import resolve
from .errors import ColumnError

_NAN = object()  # NaN as a group-key part: NaN equals NaN when grouping, as in C


def _key_part(v):
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return _NAN
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list):
        return tuple(v)
    return v


def group_rows(df, by):
    """[(first_row_position, [row positions])] in order of first appearance."""
    cols = [df[c].tolist() for c in by]
    index = {}
    groups = []
    for r in range(len(df)):
        key = tuple(_key_part(c[r]) for c in cols)
        g = index.get(key)
        if g is None:
            index[key] = g = len(groups)
            groups.append((r, []))
        groups[g][1].append(r)
    return groups


def mean_sd(values):
    """(mean, sd, n) of finite floats in the given order, as eg_sum_stat computes them."""
    n = len(values)
    total = 0.0
    for v in values:
        total += v
    mean = total / n if n else math.nan
    sd = math.nan
    if n >= 2:
        sq = 0.0
        for v in values:
            d = v - mean
            sq += d * d
        sd = math.sqrt(sq / (n - 1))
        if sd <= 1e-12 * abs(mean):
            sd = 0.0
    return mean, sd, n


def summarize(runs, by, metrics, status="status"):
    """Groups of a runs DataFrame (Experiment.runs or any subset of it) by the columns `by`,
    one row each: the `by` values (of the group's first run), ok, total, then per metric
    `NAME:mean`, `NAME:sd`, `NAME:n` (the columns of `engram show --csv`), then run_ids
    (a tuple of the group's run ids, when runs has run_id)."""
    by = [by] if isinstance(by, str) else list(by)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for c in by + metrics:
        if c not in runs.columns:
            raise ColumnError("no column %r (%s)" % (c, ", ".join(map(str, runs.columns))))
    groups = group_rows(runs, by)
    st = runs[status].tolist() if status in runs.columns else ["ok"] * len(runs)
    ok = [s == "ok" for s in st]
    out = runs[by].iloc[[g[0] for g in groups]].reset_index(drop=True)
    out["ok"] = np.array([sum(ok[r] for r in rows) for _, rows in groups], dtype=np.int64)
    out["total"] = np.array([len(rows) for _, rows in groups], dtype=np.int64)
    for m in metrics:
        vals = [float(v) for v in runs[m].tolist()]
        stats = [mean_sd([vals[r] for r in rows if ok[r] and math.isfinite(vals[r])]) for _, rows in groups]
        out[m + ":mean"] = np.array([s[0] for s in stats], dtype=np.float64)
        out[m + ":sd"] = np.array([s[1] for s in stats], dtype=np.float64)
        out[m + ":n"] = np.array([s[2] for s in stats], dtype=np.int64)
    if "run_id" in runs.columns:
        ids = runs["run_id"].tolist()
        out["run_ids"] = pd.Series([tuple(ids[r] for r in rows) for _, rows in groups], dtype=object)
    return out


def pick_best(values, goal):
    """Position of the best finite value (the first of equal ones, as `engram show --best`);
    None when there is none."""
    best = None
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            continue
        if best is None or (v > values[best] if goal == "max" else v < values[best]):
            best = i
    return best


def resolve_by(by, columns, metrics=()):
    by = [by] if isinstance(by, str) else list(by)
    return [resolve(b, columns, metrics) for b in by]
