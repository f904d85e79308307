"""Reading summary.h5 (docs/results.md): the /summary table, the root attributes that say
which columns are swept parameters, info and metrics (and each metric's goal), and the
/constants group (the run attributes equal in every run)."""
import h5py
import numpy as np
import pandas as pd

from ._values import c_text, decode_column, py_value

ROLE_COLUMNS = ("run_id", "status", "seed")


class Summary:
    """The content of one summary.h5, read in one go (the file is closed afterwards).

    table: the /summary rows as a DataFrame (strings decoded); swept, info, metrics:
    column names by role (as the C reader assigns them: a column that is neither
    run_id/status/seed nor listed in `swept` or `info` is a metric); goals: metric ->
    "max" / "min" / None; constants: attribute -> value (lists as lists); attrs: the
    root attributes."""

    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            if "summary" not in f:
                raise ValueError("%s has no /summary table" % path)
            arr = f["summary"][()]
            self.attrs = {k: py_value(v) for k, v in f.attrs.items()}
            self.constants = {}
            if "constants" in f:
                self.constants = {k: py_value(v) for k, v in f["constants"].attrs.items()}
        names = list(arr.dtype.names or ())
        swept = set(_as_list(self.attrs.get("swept")))
        info = set(_as_list(self.attrs.get("info")))
        self.columns = names
        self.swept = [c for c in names if c in swept and c not in ROLE_COLUMNS]
        self.info = [c for c in names if c in info and c not in swept and c not in ROLE_COLUMNS]
        self.metrics = [c for c in names if c not in ROLE_COLUMNS and c not in swept and c not in info]
        listed = _as_list(self.attrs.get("metrics"))
        goals = _as_list(self.attrs.get("goals"))
        self.goals = {}
        for m in self.metrics:
            g = goals[listed.index(m)] if m in listed and listed.index(m) < len(goals) else None
            self.goals[m] = g if g in ("max", "min") else None
        self.table = pd.DataFrame({c: decode_column(arr[c]) for c in names}, columns=names)
        self.n_runs = len(arr)

    def runs(self):
        """The /summary table with every constant broadcast to a column (after the table's
        own columns, sorted by name). A list-valued constant becomes the text summary.h5
        gives a list-valued column ("[64, 32]"), so its column reads the same either way."""
        n = self.n_runs
        cols = {c: self.table[c].values for c in self.columns}
        for k in sorted(self.constants):
            if k in cols:
                continue
            v = self.constants[k]
            if isinstance(v, list):
                v = c_text(v)
            if isinstance(v, str):
                cols[k] = np.array([v] * n, dtype=object)
            else:
                cols[k] = np.full(n, v)
        return pd.DataFrame(cols, columns=list(cols))


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [v]  # an attribute with one string is read as a scalar
