#!/usr/bin/python3
"""make_hostile.py — hostile data files for the data readers, one case each: a
name, the data source and its data.* options (paths into the directory given), and
the fragments the refusal must contain (the file, and the offset or index). Used by
tests/cli/hostile_data.py, which runs each through `engram run`; standalone,
    /usr/bin/python3 tests/hostile/data/make_hostile.py DIR
writes the files into DIR and lists the cases.

Bombs are concatenated gzip members (zlib reads a multi-member gzip file as one
stream): a 16 MiB block of one byte compressed once and repeated, so a 2 MiB file
decodes to 2 GiB without the generator ever holding more than 16 MiB."""
import gzip
import os
import stat
import struct
import sys
import zlib

import h5py
import numpy as np

GiB = 1 << 30


class Case:
    def __init__(self, name, source, opts, want, root_only_skip=False):
        self.name, self.source, self.opts, self.want = name, source, opts, want
        self.root_only_skip = root_only_skip  # a permission case: meaningless when run as root


def bomb(path, byte, total, header=b""):
    """header (raw, in the first member) then `total` bytes of `byte`, as repeated gzip members"""
    block = 16 << 20
    member = gzip.compress(bytes([byte]) * block, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        if header:
            f.write(gzip.compress(header, mtime=0))
        for _ in range(total // block):
            f.write(member)
    return path


def idx3(n, rows=28, cols=28, body=None, magic=0x803, pixels=None):
    if body is None:
        body = bytes((i * 7) % 256 for i in range((n if pixels is None else 0) * rows * cols)) if pixels is None \
            else bytes(pixels)
    return struct.pack(">IIII", magic, n, rows, cols) + body


def idx1(labels, n=None, magic=0x801):
    return struct.pack(">II", magic, len(labels) if n is None else n) + bytes(labels)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def idx_dir(root, name, images=None, labels=None, gz_images=False):
    """<root>/<name>/ with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte (good ones by default)"""
    d = os.path.join(root, name)
    os.makedirs(d)
    img = os.path.join(d, "t10k-images-idx3-ubyte" + (".gz" if gz_images else ""))
    if images is None:
        images = idx3(3)
    if callable(images):
        images(img)
    else:
        write(img, gzip.compress(images, mtime=0) if gz_images else images)
    write(os.path.join(d, "t10k-labels-idx1-ubyte"), idx1([1, 2, 3]) if labels is None else labels)
    return d, img


def idx_cases(root):
    out = []

    def add(name, want, **kw):
        d, img = idx_dir(root, name, **kw)
        out.append(Case(name, "mnist", {"path": d}, [w.replace("IMG", img).replace("LAB", os.path.join(
            d, "t10k-labels-idx1-ubyte")) for w in want]))

    # header declares 1e6 images (784 MB, under the cap); the stream holds 2 GiB
    add("idx-gzip-bomb-trailing", ["IMG: unexpected data at byte offset 784000016", "1000000 images of 28x28"],
        images=lambda p: bomb(p, 0, 2 * GiB, struct.pack(">IIII", 0x803, 1000000, 28, 28)),
        labels=idx1([], n=1000000))
    add("idx-gzip-bomb-over-cap", ["IMG: 2147483647 images of 784 values each", "4 GiB"],
        images=lambda p: bomb(p, 0, 2 * GiB, struct.pack(">IIII", 0x803, 0x7fffffff, 28, 28)),
        labels=idx1([], n=0x7fffffff))
    add("idx-2^31-images-in-100-bytes", ["IMG: 2147483648 images of 784 values each"],
        images=struct.pack(">IIII", 0x803, 1 << 31, 28, 28) + bytes(84), labels=idx1([], n=1 << 31))
    add("idx-1e6-images-in-100-bytes", ["IMG: truncated at byte offset 100", "expected 784000000 bytes"],
        images=struct.pack(">IIII", 0x803, 1000000, 28, 28) + bytes(84), labels=idx1([], n=1000000))
    add("idx-truncated-body", ["IMG: truncated at byte offset 2016", "got 2000"], images=idx3(3, body=bytes(2000)))
    add("idx-trailing-garbage", ["IMG: unexpected data at byte offset 2368", "3 images"],
        images=idx3(3) + b"garbage")
    add("idx-zero-dims", ["IMG: image size 0x0 at byte offset 8"], images=idx3(3, rows=0, cols=0, body=b""))
    add("idx-zero-count", ["IMG: the header at byte offset 4 declares 0 images"], images=idx3(0, body=b""),
        labels=idx1([]))
    add("idx-dims-overflow", ["IMG: image size 4294967295x4294967295 at byte offset 8"],
        images=idx3(3, rows=0xffffffff, cols=0xffffffff, body=bytes(100)))
    add("idx-wrong-magic", ["IMG: bad magic 0x47494638 at offset 0", "first two bytes are not zero"],
        images=b"GIF89a" + bytes(200))
    add("idx-float-element-type", ["IMG: bad magic 0x00000d03", "element type 0x0d (float32) at byte offset 2"],
        images=idx3(3, magic=0xD03))
    add("idx-rank-mismatch", ["IMG: bad magic 0x00000801", "rank 1 at byte offset 3, expected 3"],
        images=idx1([1, 2, 3]))
    add("idx-header-cut", ["IMG: truncated at byte offset 10", "16-byte idx3 images header"],
        images=idx3(3)[:10])
    add("idx-label-out-of-range", ["LAB: label 200 at byte offset 9 is out of range"], labels=idx1([1, 200, 3]))
    add("idx-label-count-mismatch", ["LAB: label count 2 at byte offset 4 does not match the image count 3"],
        labels=idx1([1, 2]))
    add("idx-labels-trailing", ["LAB: unexpected data at byte offset 11", "3 labels"], labels=idx1([1, 2, 3]) + b"xx")
    add("idx-labels-truncated", ["LAB: truncated at byte offset 9", "expected 3 label bytes"],
        labels=idx1([1], n=3))
    raw = gzip.compress(idx3(3), mtime=0)
    add("idx-corrupt-gzip", ["IMG: corrupt gzip data (reading from decompressed byte offset"],
        images=lambda p: write(p, raw[:20] + bytes(b ^ 0x5A for b in raw[20:-8]) + raw[-8:]))
    add("idx-gzip-stream-cut", ["IMG: truncated at byte offset", "the gzip stream itself ends early"],
        images=lambda p: write(p, raw[:len(raw) // 2]))
    add("idx-images-directory", ["IMG: not a regular file (a directory)"], images=lambda p: os.mkdir(p), gz_images=True)
    add("idx-images-fifo", ["IMG: not a regular file (a FIFO)"], images=lambda p: os.mkfifo(p), gz_images=True)
    add("idx-images-symlink-loop", ["IMG: cannot open: Too many levels of symbolic links"],
        images=lambda p: (os.symlink(p + ".b", p), os.symlink(p, p + ".b")), gz_images=True)
    add("idx-images-dangling-symlink", ["IMG: cannot open: No such file or directory"],
        images=lambda p: os.symlink(p + ".missing", p), gz_images=True)
    d, img = idx_dir(root, "idx-permission-denied")
    os.chmod(img, 0)
    out.append(Case("idx-permission-denied", "mnist", {"path": d}, [img + ": cannot open: Permission denied"],
                    root_only_skip=True))
    return out


def cifar_cases(root):
    out = []

    def add(name, want, data):
        d = os.path.join(root, name)
        os.makedirs(d)
        p = os.path.join(d, "test_batch.bin")
        data(p) if callable(data) else write(p, data)
        out.append(Case(name, "cifar10", {"path": d}, [w.replace("BIN", p) for w in want]))

    rec = lambda label: bytes([label]) + bytes(range(256)) * 12
    add("cifar-size-not-multiple", ["BIN: truncated at byte offset 6139", "(record 1) has 3066 of 3073 bytes"],
        rec(1) + rec(2)[:-7])
    add("cifar-label-out-of-range", ["BIN: label 10 at byte offset 3073 (record 1) is out of range"],
        rec(1) + rec(10))
    add("cifar-empty", ["BIN: empty file"], b"")
    add("cifar-gzip-bomb", ["BIN: more than 349411 records", "4 GiB"], lambda p: bomb(p, 0, 2 * GiB))
    add("cifar-directory", ["BIN: not a regular file (a directory)"], lambda p: os.mkdir(p))
    return out


def digits_cases(root):
    out = []
    row = ",".join(str(i % 17) for i in range(64)) + ",3"

    def add(name, want, text, gz=False):
        p = os.path.join(root, name + (".csv.gz" if gz else ".csv"))
        if callable(text):
            text(p)
        else:
            write(p, gzip.compress(text, mtime=0) if gz else text)
        out.append(Case(name, "digits", {"path": p}, [w.replace("CSV", p) for w in want]))

    def line(k, v):
        f = row.split(",")
        f[k] = v
        return ",".join(f)

    good = (row + "\n") * 3
    add("csv-non-numeric", ["CSV:line 2: value 3 ('abc') is not a number"], (row + "\n" + line(2, "abc") + "\n").encode())
    add("csv-ragged-row", ["CSV:line 2: expected 65 comma-separated values, got 60"],
        (row + "\n" + ",".join(row.split(",")[:60]) + "\n").encode())
    add("csv-1e400", ["CSV:line 1: value 5 ('1e400') is out of range"], (line(4, "1e400") + "\n").encode())
    add("csv-huge-pixel", ["CSV:line 4: pixel 1 = 1e+30 is outside 0..16"], (good + line(0, "1e30") + "\n").encode())
    add("csv-nan-pixel", ["CSV:line 1: pixel 5 = nan is outside 0..16"], (line(4, "nan") + "\n").encode())
    add("csv-label-out-of-range", ["CSV:line 1: label 12 is not an integer in 0..9"], (line(64, "12") + "\n").encode())
    add("csv-negative-label", ["CSV:line 2: label -1 is not an integer in 0..9"],
        (row + "\n" + line(64, "-1") + "\n").encode())
    add("csv-nul-byte", ["CSV: byte offset %d (line 2): NUL byte in a text file" % (len(row) + 3)],
        (row + "\n" + "0,\0" + row[3:] + "\n").encode())
    add("csv-gzip-bomb-one-line", ["CSV:line 1: longer than 4096 bytes"], lambda p: bomb(p, ord("1"), 2 * GiB), gz=True)
    add("csv-no-rows", ["CSV: no data rows"], b"\n  \n\n")
    add("csv-fifo", ["CSV: not a regular file (a FIFO)"], lambda p: os.mkfifo(p))
    return out


def h5file(path, build):
    with h5py.File(path, "w") as f:
        build(f)
    return path


def hdf5_cases(root):
    os.makedirs(root, exist_ok=True)
    out = []

    def add(name, want, build, x="x", y="", source="hdf5", size_max=None):
        p = os.path.join(root, name + ".h5")
        if callable(build):
            h5file(p, build)
        else:
            write(p, build)
        opts = {"path": p}
        if source == "hdf5":
            opts["x"] = x
            if y:
                opts["y"] = y
        elif y:
            opts["y"] = y
        out.append(Case(name, source, opts, [w.replace("H5", p) for w in want]))
        if size_max:
            assert os.path.getsize(p) <= size_max, (name, os.path.getsize(p))

    def nan_at(f):
        x = np.ones((20, 100), np.float32)
        x[12, 34] = np.nan
        f["x"] = x

    add("h5-nan", ["H5: dataset 'x' (data.x) element 1234 (row 12, col 34) is NaN"], nan_at)

    def inf_at(f):
        x = np.zeros((4, 2, 3), np.float32)
        x.flat[5] = -np.inf
        f["x"] = x

    add("h5-inf", ["H5: dataset 'x' (data.x) element 5 (row 0, col 5) is -inf"], inf_at)
    add("h5-float64-beyond-float32", ["H5: dataset 'x' (data.x) element 3 (row 1, col 1) is +inf"],
        lambda f: f.create_dataset("x", data=np.array([[1, 2], [3, 1e300]], np.float64)))
    add("h5-rank7", ["H5: dataset 'x' (data.x) has rank 7 (expected 1 to 4)"],
        lambda f: f.create_dataset("x", data=np.zeros((2, 1, 1, 1, 1, 1, 2), np.float32)))
    add("h5-huge-chunked-2KB", ["H5: dataset 'x' (data.x) has shape [1048576, 1048576]", "more than 1073741824 values"],
        lambda f: f.create_dataset("x", shape=(1 << 20, 1 << 20), dtype=np.float32, chunks=(64, 64),
                                   compression="gzip"), size_max=4096)
    add("h5-unwritten-1GiB-2KB", ["H5: dataset 'x' (data.x) of shape [262144, 1024] declares 1073741824 bytes of "
                                  "values but stores 0", "fill values"],
        lambda f: f.create_dataset("x", shape=(1 << 18, 1 << 10), dtype=np.float32, chunks=(64, 64),
                                   compression="gzip"), size_max=4096)
    add("h5-unwritten-contiguous", ["H5: dataset 'x' (data.x) of shape [65536, 1024] declares 268435456 bytes",
                                    "stores 0"],
        lambda f: f.create_dataset("x", shape=(1 << 16, 1 << 10), dtype=np.float32), size_max=4096)
    add("h5-string-dtype", ["H5: dataset 'x' (data.x) holds string values (expected float or integer)"],
        lambda f: f.create_dataset("x", data=np.array([b"abc", b"def"])))
    add("h5-compound-dtype", ["H5: dataset 'x' (data.x) holds compound values"],
        lambda f: f.create_dataset("x", data=np.zeros(3, dtype=[("a", "f4"), ("b", "i4")])))
    add("h5-enum-labels", ["H5: dataset 'y' (data.y) holds enum values (expected integer labels)"],
        lambda f: (f.create_dataset("x", data=np.zeros((2, 2), np.float32)),
                   f.create_dataset("y", data=np.array([0, 1], np.int8), dtype=h5py.enum_dtype({"a": 0, "b": 1},
                                                                                                 basetype="i1"))),
        y="y")
    add("h5-empty-dataset", ["H5: dataset 'x' (data.x) is empty (shape [0, 5])"],
        lambda f: f.create_dataset("x", shape=(0, 5), dtype=np.float32))
    add("h5-scalar-dataset", ["H5: dataset 'x' (data.x) has rank 0 (expected 1 to 4)"],
        lambda f: f.create_dataset("x", data=np.float32(3)))
    add("h5-missing-dataset", ["H5: no dataset 'nope' (data.x) in the file (top-level objects: x)"],
        lambda f: f.create_dataset("x", data=np.zeros((2, 2), np.float32)), x="nope")
    add("h5-group-not-dataset", ["H5: 'g' (data.x) exists but is not a dataset"], lambda f: f.create_group("g"), x="g")
    lab = lambda y, dt=np.int32: lambda f: (f.create_dataset("x", data=np.zeros((4, 2), np.float32)),
                                             f.create_dataset("y", data=np.array(y, dt)))
    add("h5-negative-label", ["H5: dataset 'y' (data.y): label -1 at index 2 is negative"], lab([0, 1, -1, 2]), y="y")
    add("h5-label-above-limit", ["H5: dataset 'y' (data.y): label 2097152 at index 1", "1048576 classes"],
        lab([0, 1 << 21, 1, 2]), y="y")
    add("h5-label-beyond-int32", ["H5: reading dataset 'y' (data.y) failed", "beyond the range of int32"],
        lab([0, 1, 1 << 40, 2], np.int64), y="y")
    add("h5-float-labels", ["H5: dataset 'y' (data.y) holds float values (expected integer labels)"],
        lab([0.0, 1.0, 1.0, 2.0], np.float32), y="y")
    add("h5-label-count-mismatch", ["H5: dataset 'y' (data.y) has 3 labels but 'x' (data.x) has 4 items"],
        lab([0, 1, 2]), y="y")
    other = h5file(os.path.join(root, "h5-target.h5"), lambda f: f.create_dataset("x", data=np.ones((2, 2), "f4")))
    add("h5-external-link", ["H5: 'x' (data.x) is an external or user-defined link"],
        lambda f: f.__setitem__("x", h5py.ExternalLink(other, "/x")))
    rawp = write(os.path.join(root, "h5-external.raw"), bytes(64))
    add("h5-external-storage", ["H5: dataset 'x' (data.x) keeps its values outside the file"],
        lambda f: f.create_dataset("x", shape=(4, 4), dtype=np.float32, external=[(rawp, 0, 64)]))
    def chunks(payload, mask):
        def build(f):
            d = f.create_dataset("x", shape=(16, 8), dtype="f8", chunks=(4, 8), compression="gzip")
            for r in range(0, 16, 4):
                d.id.write_direct_chunk((r, 0), payload if r == 8 else zlib.compress(bytes(256)), mask if r == 8 else 0)
        return build

    add("h5-chunk-decodes-short", ["H5: dataset 'x' (data.x): the chunk at [8, 0]", "does not decode to the 256 bytes"],
        chunks(zlib.compress(bytes(17)), 0))
    add("h5-chunk-filters-skipped", ["H5: dataset 'x' (data.x): the chunk at [8, 0] (17 bytes stored) does not decode"],
        chunks(b"\1" * 17, 1))
    add("h5-chunk-not-deflate", ["H5: dataset 'x' (data.x): the chunk at [8, 0] (64 bytes stored) does not decode"],
        chunks(os.urandom(64), 0))
    def unfiltered(f):
        d = f.create_dataset("x", shape=(16, 8), dtype="f8", chunks=(4, 8))
        d.id.write_direct_chunk((0, 0), bytes(256))
        d.id.write_direct_chunk((4, 0), bytes(12))
    add("h5-unfiltered-chunk-short", ["H5: dataset 'x' (data.x): the chunk at [4, 0] stores 12 bytes, not the 256"],
        unfiltered)
    add("h5-lzf-filter", ["H5: dataset 'x' (data.x) uses HDF5 filter 32000", "deflate (gzip), shuffle and fletcher32 only"],
        lambda f: f.create_dataset("x", data=np.ones((8, 8), "f4"), chunks=(4, 4), compression="lzf"))
    add("h5-scaleoffset-filter", ["H5: dataset 'x' (data.x) uses HDF5 filter 6"],
        lambda f: f.create_dataset("x", data=np.ones((8, 8), "i4"), chunks=(4, 4), scaleoffset=0))
    add("h5-too-many-chunks", ["H5: dataset 'x' (data.x) is split into more than 1048576 chunks"],
        lambda f: f.create_dataset("x", shape=(1 << 21, 1), dtype="u1", chunks=(1, 1)).__setitem__(
            slice(0, 2000), np.ones((2000, 1), "u1")))
    add("h5-not-hdf5", ["H5: not an HDF5 file"], b"\x89HDF\r\n\x1a\n" + os.urandom(500))
    p = h5file(os.path.join(root, "h5-truncated-src.h5"), lambda f: f.create_dataset("x", data=np.ones((64, 64), "f4")))
    add("h5-truncated", ["H5: not an HDF5 file, or it cannot be opened"], open(p, "rb").read()[:3000])
    d = os.path.join(root, "h5-directory.h5")
    os.mkdir(d)
    out.append(Case("h5-directory", "hdf5", {"path": d, "x": "x"}, [d + ": not a regular file (a directory)"]))

    # gaussians-hdf5
    def gauss(means, covs):
        return lambda f: (f.create_dataset("means", data=np.array(means, np.float32)),
                          f.create_dataset("covariances", data=np.array(covs, np.float32)))

    add("gauss-nan-covariance", ["H5: dataset 'covariances' (data.covs) element 3 (row 1, col 1) is NaN"],
        gauss([[0, 1], [1, 2]], [[1, 1], [1, np.nan]]), source="gaussians-hdf5")
    add("gauss-inf-mean", ["H5: dataset 'means' (data.means) element 1 (row 0, col 1) is +inf"],
        gauss([[0, np.inf]], [[1, 1]]), source="gaussians-hdf5")
    add("gauss-rank4-covariances", ["H5: dataset 'covariances' (data.covs) has rank 4 (expected 1 to 3)"],
        gauss([[0, 1]], np.zeros((1, 2, 2, 1))), source="gaussians-hdf5")
    add("gauss-unwritten-huge", ["H5: dataset 'means' (data.means) of shape [1048576, 256]", "stores 0"],
        lambda f: (f.create_dataset("means", shape=(1 << 20, 256), dtype="f4", chunks=(64, 64), compression="gzip"),
                   f.create_dataset("covariances", shape=(1 << 20, 256), dtype="f4", chunks=(64, 64),
                                    compression="gzip")), source="gaussians-hdf5", size_max=8192)
    return out


def libhdf5_cases(root):
    """files that crash or leak inside libhdf5 1.10.8 itself (libhdf5/README.md): read in a
    guarded child before any run starts, so they are an error naming the file too"""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libhdf5")
    segv = os.path.join(here, "segv-h5lexists-local-heap.h5")
    leak = os.path.join(here, "leak-h5fopen-root-group.h5")
    return [Case("libhdf5-segv-gaussians", "gaussians-hdf5", {"path": segv}, [segv, "killed the reading process (SIGSEGV)"]),
            Case("libhdf5-segv-hdf5", "hdf5", {"path": segv, "x": "x"}, [segv]),
            Case("libhdf5-leak-open", "gaussians-hdf5", {"path": leak}, [leak])]


def all_cases(root):
    os.makedirs(root, exist_ok=True)
    return idx_cases(root) + cifar_cases(root) + digits_cases(root) + hdf5_cases(root) + libhdf5_cases(root)


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    for c in all_cases(sys.argv[1]):
        print("%-32s %-15s %s" % (c.name, c.source, " | ".join(c.want)))
