#!/usr/bin/python3
"""make_corpus.py — writes the seed corpora of the data-reader fuzz targets
(tests/fuzz/fuzz_data_<reader>.c) into tests/fuzz/corpus/data_<reader>/: a few small
valid files of each format and a few near misses, each under 16 KB. Run it again
after changing a format; the regress-* inputs found by fuzzing are kept.
    /usr/bin/python3 tests/hostile/data/make_corpus.py [CORPUS_ROOT]"""
import gzip
import os
import struct
import sys

import zlib

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "fuzz", "corpus")


def put(reader, name, data):
    d = os.path.join(ROOT, "data_" + reader)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 16384, (reader, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def idx3(n, rows=28, cols=28, pixels=None, magic=0x803):
    body = bytes((i * 7) % 256 for i in range(n * rows * cols)) if pixels is None else pixels
    return struct.pack(">IIII", magic, n, rows, cols) + body


def idx1(labels, n=None, magic=0x801):
    return struct.pack(">II", magic, len(labels) if n is None else n) + bytes(labels)


def pair(labels, images):
    """the fuzz_data_idx input: u16le labels length, labels, images"""
    return struct.pack("<H", len(labels)) + labels + images


def idx_seeds():
    lab, img = idx1([3, 1, 4]), idx3(3)
    put("idx", "valid-3-raw", pair(lab, img))
    put("idx", "valid-3-gzip", pair(gz(lab), gz(img)))
    put("idx", "valid-1-gzip-labels-raw-images", pair(gz(idx1([7])), idx3(1)))
    put("idx", "near-truncated", pair(lab, img[:-100]))
    put("idx", "near-trailing", pair(lab, img + b"\0" * 10))
    put("idx", "near-label-10", pair(idx1([3, 10, 4]), img))
    put("idx", "near-count-mismatch", pair(idx1([3, 1]), img))
    put("idx", "near-huge-count", pair(lab, struct.pack(">IIII", 0x803, 0x7fffffff, 28, 28) + b"\0" * 64))
    put("idx", "near-float-type", pair(lab, idx3(3, magic=0x0D03)))
    put("idx", "near-gzip-cut", pair(lab, gz(img)[:200]))


def cifar_seeds():
    def rec(label, k):
        return bytes([label]) + bytes((i * k) % 256 for i in range(3072))
    two = rec(3, 5) + rec(9, 11)
    put("cifar", "valid-2-raw", two)
    put("cifar", "valid-3-gzip", gz(two + rec(0, 1)))
    put("cifar", "near-partial-record", two[:-50])
    put("cifar", "near-label-10", rec(10, 3))
    put("cifar", "near-empty", b"")


def digits_seeds():
    row = lambda k: ",".join(str((i * k) % 17) for i in range(64)) + ",%d" % (k % 10)
    text = "\n".join(row(k) for k in range(6)) + "\n"
    put("digits", "valid-6-raw", text.encode())
    put("digits", "valid-6-gzip-crlf", gz(text.replace("\n", "\r\n").encode()))
    put("digits", "near-ragged", (row(1) + "\n" + row(2)[:-4] + "\n").encode())
    put("digits", "near-nan", (row(1) + "\n" + row(2).replace("0,", "nan,", 1) + "\n").encode())
    put("digits", "near-1e400", (row(3).replace("1,", "1e400,", 1) + "\n").encode())
    put("digits", "near-label-10", (row(3)[:-1] + "10\n").encode())
    put("digits", "near-blank-lines", ("\n\n" + row(4) + "\n  \n").encode())


# HDF5 targets read a recipe (tests/fuzz/fuzz_data_h5build.h), not a file
F32, F64, U8, I32, I64, STR, COMPOUND, ENUM = 0, 1, 4, 6, 7, 9, 10, 11
CONTIGUOUS, COMPACT, CHUNKED = 0, 4, 8
SHUFFLE, DEFLATE, FLETCHER, RAW = 16, 32, 64, 128


def ds(type_, dims, values=b"", layout=CONTIGUOUS, chunk=None, huge=False, raw=None):
    """one dataset of the recipe: values (bytes) written whole, or raw = [(pick, mask, payload)] chunks"""
    flags = 1 | layout | (2 if huge else 0) | (RAW if raw is not None else 0)
    out = bytes([flags, type_, len(dims)])
    for d in dims:
        out += struct.pack("<H", d >> 8) if huge else bytes([d])
    if layout & CHUNKED:
        out += bytes(c - 1 for c in chunk)
    if raw is not None:
        out += bytes([len(raw)])
        for pick, mask, payload in raw:
            payload += b"\0" * (-len(payload) % 4)
            out += bytes([pick, mask, len(payload) // 4]) + payload
    return out + values


def absent():
    return b"\0"


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def hdf5_seeds():
    x = f32(*[i / 10 for i in range(12)])
    put("hdf5", "valid-labelled", b"\1" + ds(F32, [4, 3], x) + ds(I32, [4], struct.pack("<4i", 0, 1, 2, 1)))
    put("hdf5", "valid-uint8-images", b"\0" + ds(U8, [3, 4, 4], bytes(range(48))))
    put("hdf5", "valid-chunked-deflate", b"\0" + ds(F64, [16, 8], struct.pack("<128d", *[1.5] * 128),
                                                   CHUNKED | DEFLATE | SHUFFLE | FLETCHER, [4, 8]))
    put("hdf5", "valid-compact-int64-labels", b"\1" + ds(F32, [2, 2], f32(1, 2, 3, 4), COMPACT) +
        ds(I64, [2], struct.pack("<2q", 1, 0)))
    put("hdf5", "near-nan", b"\0" + ds(F32, [2, 2], f32(1, 2, float("nan"), 3)))
    put("hdf5", "near-string", b"\0" + ds(STR, [3], b"abcdefghijkl"))
    put("hdf5", "near-compound", b"\0" + ds(COMPOUND, [2], bytes(16)))
    put("hdf5", "near-enum-labels", b"\1" + ds(F32, [2, 1], f32(1, 2)) + ds(ENUM, [2], b"\0\1"))
    put("hdf5", "near-rank5", b"\0" + ds(F32, [1, 1, 1, 1, 2], f32(1, 2)))
    put("hdf5", "near-huge-unwritten", b"\0" + ds(F32, [1 << 20, 1 << 12], layout=CHUNKED | DEFLATE, chunk=[8, 8],
                                                  huge=True))
    put("hdf5", "near-labels-negative", b"\1" + ds(F32, [2, 1], f32(1, 2)) + ds(I32, [2], struct.pack("<2i", 0, -3)))
    # the crashes fuzzing found inside H5Dread (a chunk that decodes short; a chunk stored with its filters skipped)
    short = zlib.compress(bytes(17))
    put("hdf5", "regress-chunk-decodes-short", b"\0" + ds(F64, [16, 8], layout=CHUNKED | DEFLATE, chunk=[4, 8],
                                                          raw=[(0, 0, short), (2, 0, zlib.compress(bytes(256)))]))
    put("hdf5", "regress-chunk-filters-skipped", b"\0" + ds(F64, [16, 8], layout=CHUNKED | DEFLATE, chunk=[4, 8],
                                                            raw=[(2, 1, b"\x01" * 17)]))


def gaussians_seeds():
    full = ds(F32, [2, 2], f32(0, 1, 2, 3)) + ds(F32, [2, 2, 2], f32(1, 0.5, 0.5, 2, 1, 0, 0, 1))
    put("gaussians_hdf5", "valid-full", b"\0" + full)
    diag = ds(F64, [1, 3], struct.pack("<3d", 0, 1, 2)) + ds(F64, [1, 3], struct.pack("<3d", 1, 2, 3))
    put("gaussians_hdf5", "valid-diag-labelled", b"\1" + diag + ds(I32, [1], struct.pack("<i", 4)))
    put("gaussians_hdf5", "near-not-psd", b"\0" + ds(F32, [1, 2], f32(0, 1)) + ds(F32, [1, 2, 2], f32(1, 2, 2, 1)))
    put("gaussians_hdf5", "near-inf", b"\0" + ds(F32, [1, 2], f32(0, float("inf"))) + ds(F32, [1, 2], f32(1, 1)))
    put("gaussians_hdf5", "near-no-covariances", b"\0" + ds(F32, [1, 2], f32(0, 1)) + absent())
    put("gaussians_hdf5", "regress-chunk-decodes-short", b"\0" + ds(F32, [4, 2], f32(*range(8))) +
        ds(F32, [4, 2, 2], layout=CHUNKED | DEFLATE, chunk=[2, 2, 2], raw=[(1, 0, zlib.compress(bytes(5)))]))


if __name__ == "__main__":
    idx_seeds()
    cifar_seeds()
    digits_seeds()
    hdf5_seeds()
    gaussians_seeds()
    print("seeds written under", os.path.abspath(ROOT))
