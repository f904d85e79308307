"""Shared pieces of the PyTorch peers of engram's benchmarks (bench/*.py).

Same methodology and data as bench/common.c: 3 warm-up calls, then N timed
calls with N about seconds / (one call's time), at least 5; the median. Data
from value(i, seed) = (((t*t) mod p * 7919 + t*104729 + (seed+1)*1299709) mod p) / p
with p = 16777213, t = i mod p, rounded to float32, so both sides hold identical
bits. Each peer prints exactly one JSON line on stdout (the C benchmark parses it);
anything else goes to stderr.
"""
import argparse
import json
import os
import sys
import time


def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    if extra:
        extra(ap)
    return ap.parse_args()


def emit(d):
    print(json.dumps(d), flush=True)


def fail(msg):
    emit({"error": msg})
    sys.exit(0)


def import_torch(threads):
    try:
        import numpy  # noqa: F401
        import torch
    except Exception as e:  # the benchmark reports the peer as unavailable
        fail("cannot import torch/numpy (%s); install python3-torch" % e)
    torch.set_num_threads(threads)
    return torch


def values(shape, seed):
    """float32 numpy array of value(i, seed) over the flat index i."""
    import numpy as np
    n = 1
    for s in shape:
        n *= s
    p = 16777213
    t = np.arange(n, dtype=np.int64) % p
    v = ((t * t) % p * 7919 + t * 104729 + (seed + 1) * 1299709) % p
    return (v.astype(np.float64) / float(p)).astype(np.float32).reshape(shape)


def median_time(fn, seconds):
    """(median seconds of one fn() call, repetitions, fastest call)."""
    est = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        est = time.perf_counter() - t0
    n = int(seconds / est) if est > 0 else 100000
    n = max(5, min(n, 100000))
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
    return med, n, ts[0]


def blas_library():
    """Path of the BLAS library mapped into this process (what torch.mm calls)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return "unknown"
    hits = sorted(l for l in libs if "blas" in os.path.basename(l).lower())
    return ",".join(os.path.realpath(l) for l in hits) or "none"


def info(torch, threads):
    """Facts recorded with every peer result."""
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                      "OMP_NUM_THREADS") if k in os.environ}
    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads(), "threads": threads,
            "blas": blas_library(), "env": " ".join("%s=%s" % kv for kv in env.items())}
