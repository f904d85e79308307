"""HDF5 values as Python values, and the text engram's C code gives them.

h5py returns strings inside compound tables as bytes, attribute strings as str,
1-d attributes as numpy arrays and scalars as numpy scalars; `py_value` turns each
into a plain str / int / float / bool / list. `c_text` is `eg_rval_text` of
host/lib/results: the text summary.h5 stores for a list-valued column, so a list
reads the same whether it is a column (swept) or a constant."""
import math

import numpy as np


def decode(v):
    """bytes -> str (UTF-8); anything else unchanged."""
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else v


def py_value(v):
    """An attribute value as a plain Python value: str, int, float, bool or a list of them."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return py_value(v[()])
        return [py_value(x) for x in v.reshape(-1)]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    return v


def decode_column(col):
    """A column of a structured array: strings (h5py: bytes) decoded to str, numbers as they are."""
    if col.dtype.kind in ("O", "S"):
        return np.array([decode(x) for x in col], dtype=object)
    return col


def num_text(x):
    """%.15g .. %.17g, the shortest that reads back as x (C's num_text)."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    for prec in (15, 16, 17):
        s = "%.*g" % (prec, x)
        if float(s) == x:
            return s
    return s


def c_text(v):
    """The text engram writes for a value in summary.h5 (lists: "[64, 32]", "[a, b]")."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(c_text(x) for x in v) + "]"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return "%d" % v
    if isinstance(v, (float, np.floating)):
        return num_text(float(v))
    return str(decode(v))
