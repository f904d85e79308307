"""cli/preflight_errors — errors that only the data or an earlier run can show are found in
the runner's preflight, before any run starts: exit 2, "FILE:LINE:COL: KEY: what was
expected" (or the override's form), and nothing written under --out (no runs/, no
summary.h5). One case per kind:

1. the data: a data.path that points nowhere (at data.path), a path left to its default
   (at data.source), a truncated file (at data.path, naming the file and byte offset);
2. options whose range depends on the loaded data: the mask's square larger than the image
   (written, and left to its default: then at task.corrupt.kind), a shift of the whole
   width, rotate-rgb on 1-channel items, task.memories above the items (a sweep value),
   task.blocks above the full blocks, a task.test_split the source lacks, segment on a
   source without ground-truth groups;
3. init_from: no run file, a run that did not finish ok, a model without load, a run of
   another model (naming both), a run whose items had another shape (naming both);
4. and the same specs, corrected, still run (init_from of a matching run included).
"""
import glob
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

TMP, ENV = setup(prefix="eg-preflight-")


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def pos(path, line_has, token):
    """"PATH:LINE:COL" of the first `token` on the first line containing `line_has`"""
    for n, line in enumerate(open(path).read().splitlines(), 1):
        if line_has in line:
            return "%s:%d:%d" % (path, n, line.index(token, line.index(line_has)) + 1)
    raise AssertionError("%r not in %s" % (line_has, path))


def run(spec, out, *overrides):
    p = subprocess.run([ENGRAM, "run", spec, "--out", out, "--plain"] + list(overrides), cwd=TMP, env=ENV,
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr


def refused(what, spec, overrides, want):
    """exit 2, stderr `engram: <want>` exactly, and nothing under the output directory"""
    out = os.path.join(TMP, "out-" + what.replace(" ", "-"))
    rc, err = run(spec, out, *overrides)
    check(rc == 2, "%s: exit 2 (got %d)" % (what, rc))
    got = err.strip()
    check(got == "engram: " + want, "%s: the message%s" % (
        what, "" if got == "engram: " + want else "\n  got:  %s\n  want: engram: %s" % (got, want)))
    check(not os.path.exists(out), "%s: nothing written under --out (no runs/, no summary.h5)" % what)


HOPFIELD = """experiment: pf
model: hopfield
backend: cpu
data:
  source: shapes
  n_test: 40
  size: 12
params: {variant: mchn, beta: 4.0, steps: 2}
task:
  kind: retrieve
  memories: 20
  queries: 5
  corrupt: {kind: mask, size: 6}
"""


def idx_files(directory, n, pixels):
    """an MNIST-style test split of n 28x28 images of which only `pixels` bytes of pixel data are present"""
    os.makedirs(directory)
    with open(os.path.join(directory, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(pixels))
    with open(os.path.join(directory, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(n))


def data_errors():
    spec = write("fmnist.yaml", "experiment: pf\nmodel: hopfield\nbackend: cpu\ndata:\n  source: fashion-mnist\n"
                 "  path: /nonexistent/fmnist\ntask: {kind: retrieve, memories: 20, queries: 5}\n")
    refused("data.path nowhere", spec, [],
            "%s: data.path: directory /nonexistent/fmnist does not exist (install Debian's dataset-fashion-mnist "
            "package, or set data.path to the directory of the IDX files)" % pos(spec, "path:", "/nonexistent"))
    refused("data.path nowhere, overridden", spec, ["data.path=/elsewhere"],
            "<command line>: override 'data.path=/elsewhere': directory /elsewhere does not exist (install "
            "Debian's dataset-fashion-mnist package, or set data.path to the directory of the IDX files)")
    spec = write("mnist.yaml", "experiment: pf\nmodel: hopfield\nbackend: cpu\ndata: {source: mnist}\n"
                 "task: {kind: retrieve, memories: 20, queries: 5}\n")
    refused("data.path left to its default", spec, [],
            "%s: data.source: data.path (not set; no default): mnist needs the directory of its IDX files" %
            pos(spec, "data:", "mnist"))
    short = os.path.join(TMP, "short-mnist")
    idx_files(short, 10, 100)
    spec = write("short.yaml", "experiment: pf\nmodel: hopfield\nbackend: cpu\ndata: {source: mnist, path: %s}\n"
                 "task: {kind: retrieve, memories: 5, queries: 2}\n" % short)
    refused("a truncated data file", spec, [],
            "%s: data.path: %s/t10k-images-idx3-ubyte: truncated at byte offset 116: expected 7840 bytes of pixel "
            "data after the 16-byte header, got 100" % (pos(spec, "data:", short), short))


def range_errors():
    spec = write("hopfield.yaml", HOPFIELD)
    refused("a mask larger than the image", spec, ["task.corrupt.size=13"],
            "<command line>: override 'task.corrupt.size=13': expected a square side between 1 and 12 for shapes "
            "items of 12x12 pixels, got 13 (or set task.corrupt.fraction > 0)")
    big = write("bigmask.yaml", HOPFIELD.replace("size: 6}", "size: 20}"))
    refused("a mask larger than the image, in the file", big, [],
            "%s: task.corrupt.size: expected a square side between 1 and 12 for shapes items of 12x12 pixels, got 20 "
            "(or set task.corrupt.fraction > 0)" % pos(big, "corrupt:", "20"))
    dflt = write("dfltmask.yaml", HOPFIELD.replace("{kind: mask, size: 6}", "{kind: mask}"))
    refused("a default mask larger than the image", dflt, [],
            "%s: task.corrupt.kind: task.corrupt.size (not set; default 14): expected a square side between 1 and 12 "
            "for shapes items of 12x12 pixels, got 14 (or set task.corrupt.fraction > 0)" % pos(dflt, "corrupt:",
                                                                                               "mask"))
    refused("a shift of the whole width", spec, ["task.corrupt={kind: shift, pixels: -12}"],
            "<command line>: override 'task.corrupt={kind: shift, pixels: -12}': task.corrupt.pixels: expected a "
            "shift between -11 and 11 pixels for shapes items 12 pixels wide, got -12 (the whole image would move "
            "out: every query all zeros)")
    refused("rotate-rgb on 1-channel items", spec, ["task.corrupt.kind=rotate-rgb"],
            "<command line>: override 'task.corrupt.kind=rotate-rgb': rotate-rgb needs colour (3-channel) items, "
            "but shapes has 1 channel")
    sweep = write("sweep.yaml", HOPFIELD + "sweep:\n  grid:\n    task.memories: [10, 41]\n")
    refused("task.memories above the items (a sweep value)", sweep, [],
            "%s: task.memories: shapes has 40 items, fewer than one block of task.memories = 41" %
            pos(sweep, "task.memories: [", "41"))
    refused("task.blocks above the full blocks", spec, ["task.blocks=3"],
            "<command line>: override 'task.blocks=3': expected 0 (all) to 2, the full blocks of task.memories = "
            "20 items in shapes; got 3")
    vmf = write("vmf.yaml", "experiment: pf\nmodel: vmfdam\nbackend: cpu\ndata: {source: teacher-student}\n"
                "task: {kind: classify, test_split: valid}\n")
    refused("a test split the source lacks", vmf, [],
            "%s: task.test_split: expected one of train, test, teacher (the splits of teacher-student), got 'valid'" %
            pos(vmf, "task:", "valid"))
    nem = write("nem.yaml", "experiment: pf\nmodel: nem\nbackend: cpu\ndata: {source: random-patterns}\n"
                "task: {kind: segment}\n")
    refused("segment without ground-truth groups", nem, [],
            "%s: data.source: task.kind segment scores each item's pixel groups against the true ones, but "
            "random-patterns has no ground-truth groups" % pos(nem, "data:", "random-patterns"))


FAULTY = """experiment: pf-init
model: faulty
backend: cpu
data: {source: random-patterns, n: 8, dim: 4}
params: {mode: data}
task: {kind: retrieve, memories: 4, queries: 2}
"""


def init_errors():
    out = os.path.join(TMP, "init-src")
    spec = write("faulty.yaml", FAULTY)
    rc, err = run(spec, out)
    files = glob.glob(os.path.join(out, "pf-init", "runs", "*.h5"))
    check(rc == 0 and len(files) == 1, "the run to start from finishes: " + err[-300:])
    good = files[0] if files else "missing.h5"
    rc, err = run(spec, out, "params.mode=fail")
    failed = [f for f in glob.glob(os.path.join(out, "pf-init", "runs", "*.h5")) if f != good]
    check(rc == 1 and len(failed) == 1, "a failed run to start from")
    failed = failed[0] if failed else "missing.h5"

    refused("init_from of no run", spec, ["init_from=0123456789abcdef"],
            "<command line>: override 'init_from=0123456789abcdef': no run file at %s/pf-init/runs/0123456789abcdef.h5 "
            "(init_from names a run file, or the id of a run of experiment pf-init)" % os.path.join(TMP, "out-init_from-of-no-run"))
    refused("init_from of a failed run", spec, ["init_from=" + failed],
            "<command line>: override 'init_from=%s': run %s has status failed, not ok: it saved no weights to start "
            "from" % (failed, failed))
    written = write("init-in-file.yaml", FAULTY + "init_from: %s\n" % failed)
    refused("init_from of a failed run, in the file", written, [],
            "%s: init_from: run %s has status failed, not ok: it saved no weights to start from" % (
                pos(written, "init_from:", failed), failed))
    hop = write("hop.yaml", HOPFIELD)
    refused("init_from for a model without load", hop, ["init_from=" + good],
            "<command line>: override 'init_from=%s': model hopfield cannot start from another run's weights (its "
            "plugin has no load)" % good)
    vmf = write("vmf-ok.yaml", "experiment: pf\nmodel: vmfdam\nbackend: cpu\ndata: {source: teacher-student}\n"
                "task: {kind: classify}\n")
    refused("init_from of another model", vmf, ["init_from=" + good],
            "<command line>: override 'init_from=%s': run %s is of model faulty, but this run's model is vmfdam, "
            "which starts only from runs of vmfdam" % (good, good))
    refused("init_from of items of another shape", spec, ["init_from=" + good, "data.dim=6"],
            "<command line>: override 'init_from=%s': run %s learnt its weights on items of shape 1x1x4 (data.source "
            "random-patterns), but this run's items are 1x1x6 (data.source random-patterns): the weights' shapes "
            "follow the data's, so they cannot be loaded" % (good, good))
    return spec, good


def still_runs(faulty, good):
    spec = write("hopfield-ok.yaml", HOPFIELD)
    out = os.path.join(TMP, "ok")
    for overrides in ([], ["task.corrupt={kind: shift, pixels: -11}"], ["task.memories=40"]):
        rc, err = run(spec, out, *overrides)
        check(rc == 0, "the corrected spec runs %s: %s" % (overrides, err[-300:]))
    check(len(glob.glob(os.path.join(out, "pf", "runs", "*.h5"))) == 3 and
          os.path.exists(os.path.join(out, "pf", "summary.h5")), "three run files and summary.h5")
    out = os.path.join(TMP, "ok-init")
    rc, err = run(faulty, out, "init_from=" + good, "data.seed=3")
    check(rc == 0 and len(glob.glob(os.path.join(out, "pf-init", "runs", "*.h5"))) == 1,
          "init_from of a run of the same model on items of the same shape runs: " + err[-300:])


def main():
    data_errors()
    range_errors()
    faulty, good = init_errors()
    still_runs(faulty, good)
    shutil.rmtree(TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
