"""Reading one run file runs/<run-id>.h5 (docs/results.md, "Per-run file"): curves under
/series, pictures under /artifacts, tensors under /weights, the resolved config, the log.
Each call opens the file, reads and closes it: nothing is held open while engram writes."""
from dataclasses import dataclass, field
from typing import List, Optional

import h5py
import numpy as np

from ._values import py_value
from .errors import ColumnError

try:
    import yaml
except ImportError:  # PyYAML is optional: the config is then rebuilt from the attributes
    yaml = None

# root attributes that describe the run rather than configure it (docs/results.md)
META_ATTRS = {
    "format_version", "engram_version", "git_commit", "model_version", "model_license", "model_url",
    "model_authors", "model_build_id", "backend_build_id", "data_build_id", "spec", "command_line",
    "device", "run_id", "run_index", "status", "error", "start_time", "end_time", "wall_s", "defaulted",
}


@dataclass
class Artifact:
    """A picture or mask of a run: data is uint8 N x H x W x C for pictures; kind is
    "image-grid", "mask", "plot" or "image"; tile_rows and row_labels come with
    eg_picture_layout (every tile_rows consecutive tiles form one column, labelled by
    row_labels top to bottom), else None."""
    name: str
    run_id: str
    data: np.ndarray
    kind: str
    tile_rows: Optional[int] = None
    row_labels: Optional[List[str]] = None
    attrs: dict = field(default_factory=dict)

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        extra = ""
        if self.tile_rows is not None:
            extra += ", tile_rows=%d" % self.tile_rows
        if self.row_labels is not None:
            extra += ", row_labels=%r" % (self.row_labels,)
        return "Artifact(%r of run %s, kind=%r, %s %s%s)" % (self.name, self.run_id, self.kind,
                                                           "x".join(map(str, self.data.shape)), self.data.dtype, extra)


def _names(f, group):
    """Every dataset under /group, by its path relative to it ("retrieval/energy")."""
    if group not in f or not isinstance(f[group], h5py.Group):
        return []
    out = []
    f[group].visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(out)


def _dataset(f, group, name, run_id, what):
    path = "%s/%s" % (group, name)
    if path not in f or not isinstance(f[path], h5py.Dataset):
        have = _names(f, group)
        raise ColumnError("run %s has no %s %r (%s)" % (run_id, what, name, ", ".join(have) or "none"))
    return f[path]


def names(path, group):
    with h5py.File(path, "r") as f:
        return _names(f, group)


def series(path, name):
    """The curve as (step int64, value float64, wall_s float64) arrays, or None when absent."""
    with h5py.File(path, "r") as f:
        p = "series/" + name
        if p not in f or not isinstance(f[p], h5py.Dataset):
            return None
        a = f[p][()]
    return (np.asarray(a["step"], dtype=np.int64), np.asarray(a["value"], dtype=np.float64),
            np.asarray(a["wall_s"], dtype=np.float64))


def artifact(path, run_id, name):
    with h5py.File(path, "r") as f:
        d = _dataset(f, "artifacts", name, run_id, "artifact")
        attrs = {k: py_value(v) for k, v in d.attrs.items()}
        data = d[()]
    labels = attrs.get("row_labels")
    return Artifact(name=name, run_id=run_id, data=data, kind=attrs.get("kind", "image"),
                    tile_rows=int(attrs["tile_rows"]) if "tile_rows" in attrs else None,
                    row_labels=labels.split("|") if isinstance(labels, str) else None, attrs=attrs)


def weight(path, run_id, name):
    with h5py.File(path, "r") as f:
        return _dataset(f, "weights", name, run_id, "weight")[()]


def metrics(path):
    with h5py.File(path, "r") as f:
        return {n: float(f["metrics/" + n][()]) for n in _names(f, "metrics")}


def attrs(path):
    with h5py.File(path, "r") as f:
        return {k: py_value(v) for k, v in f.attrs.items()}


def text(path, name):
    with h5py.File(path, "r") as f:
        if name not in f:
            return None
        return f[name].asstr()[()]


def config(path):
    """The resolved config as a nested dict: /config parsed as YAML (PyYAML), or without
    PyYAML rebuilt from the root attributes (every resolved key is one, under its dotted
    name; null values and strings over 60000 bytes are then missing)."""
    doc = text(path, "config")
    if doc is not None and yaml is not None:
        return yaml.safe_load(doc) or {}
    out = {}
    for k, v in sorted(attrs(path).items()):
        if k in META_ATTRS:
            continue
        node = out
        parts = k.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = v
    return out
