"""Hostile files among an experiment's results: run files copied over another run's
name, altered /config, garbage, truncated and bit-flipped copies of real run files, a
FIFO or a directory under a run's name, a file that hangs HDF5 1.10 (from the fuzzer,
tests/fuzz/corpus/runfile/regress-hdf5-hang-vlen-global-heap.h5) as a run file, as
summary.h5, as `show RUN`'s file and as an init_from file; links planted at the names
of summary.h5's temporary file; two `engram run` processes on one experiment. For each:
no signal, no hang, a warning or a clear error naming the file, the damaged run
computed again, and `engram verify` clean afterwards (and reporting the damage before)."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, finish, text  # noqa: E402

SRC = os.environ["ENGRAM_SOURCE"]
SPEC = os.path.join(SRC, "configs", "smoke", "hopfield-dense.yaml")
HANG = os.path.join(SRC, "tests", "fuzz", "corpus", "runfile", "regress-hdf5-hang-vlen-global-heap.h5")
TMP = tempfile.mkdtemp(prefix="engram-hostile-runs-")
OUT = os.path.join(TMP, "out")
EXP = os.path.join(OUT, "smoke-hopfield-dense")
RUNS = os.path.join(EXP, "runs")
ENV = dict(os.environ, ENGRAM_GUARD_STALL_S="1")
ENV["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=1") if x)
n_cases = [0]


def engram(*args, timeout=120):
    p = subprocess.run([ENGRAM] + list(args), capture_output=True, env=ENV, timeout=timeout)
    return p.returncode, text(p.stdout), text(p.stderr)


def run_sweep():
    return engram("run", SPEC, "--out", OUT, "-j", "2")


def run_ids():
    return sorted(os.path.basename(f)[:-3] for f in glob.glob(os.path.join(RUNS, "*.h5")) if len(os.path.basename(f)) == 19)


def clean(what, rc, err):
    check(rc >= 0 and "Sanitizer" not in err and "runtime error" not in err, "%s: no signal, no sanitizer report (rc %d)" % (what, rc))


def healed(what):
    """after damage: a plain run computes the runs whose files it cannot read; damage it
    cannot see cheaply (a flipped byte inside a dataset) is verify's to find, and
    `verify --quarantine` + a run repair that; verify is clean at the end"""
    rc, _, err = run_sweep()
    clean(what + ", resumed", rc, err)
    check(rc == 0, "%s: the resumed sweep exits 0 (rc %d: %s)" % (what, rc, err.strip()[-300:]))
    rc, out, verr = engram("verify", EXP)
    clean(what + ", verify", rc, verr)
    if rc == 1:
        rc, out, verr = engram("verify", EXP, "--quarantine")
        check(rc == 1 and "moved " in out, "%s: verify --quarantine moves the unsound file aside (%s)" % (what, out.strip()[-300:]))
        rc2, _, err2 = run_sweep()
        clean(what + ", run after quarantine", rc2, err2)
        err += err2
        rc, out, _ = engram("verify", EXP)
    check(rc == 0 and "0 problems" in out, "%s: verify is clean afterwards (%s)" % (what, out.strip()[-300:]))
    return err


def case(what, damage, warn, verify_says=None):
    """damage() breaks something in EXP; the next run warns (fragment warn) and heals it"""
    n_cases[0] += 1
    damage()
    if verify_says is not None:
        rc, out, err = engram("verify", EXP)
        clean(what + ", verify", rc, err)
        check(rc == 1 and verify_says in out, "%s: verify exits 1 and says '%s' (rc %d: %s)" % (what, verify_says, rc, out.strip()[-300:]))
    err = healed(what)
    if warn:
        check(warn in err, "%s: the run warns '%s' (%s)" % (what, warn, err.strip()[-400:]))


rc, _, err = run_sweep()
check(rc == 0, "the reference sweep runs (rc %d: %s)" % (rc, err[-300:]))
ids = run_ids()
check(len(ids) == 4, "4 run files (%s)" % ids)
rc, out, _ = engram("verify", EXP)
check(rc == 0 and "4 run files, 0 problems" in out, "verify of a fresh sweep: 4 files, 0 problems (%s)" % out.strip())
REF = os.path.join(TMP, "ref.h5")
shutil.copy(os.path.join(RUNS, ids[0] + ".h5"), REF)
size = os.path.getsize(REF)


def put(name, data):
    def f():
        with open(os.path.join(RUNS, name), "wb") as fh:
            fh.write(data)
    return f


ref = open(REF, "rb").read()
# integrity: a run file under another run's name, an altered /config
case("run file copied over another's name",
     lambda: shutil.copy(os.path.join(RUNS, ids[1] + ".h5"), os.path.join(RUNS, ids[2] + ".h5")),
     "a copy under another run's name", "a copy under another run's name")


def alter_config():
    with h5py.File(os.path.join(RUNS, ids[3] + ".h5"), "r+") as f:
        c = f["config"][()]
        del f["config"]
        f["config"] = (c.decode() if isinstance(c, bytes) else c).replace("steps: 10", "steps: 11")


case("altered /config", alter_config, "was altered after it was written", "was altered after it was written")
# broken files under a run's name: each is recomputed (the run reads as pending)
case("zero-length run file", put(ids[0] + ".h5", b""), "", "unreadable")
case("garbage run file", put(ids[0] + ".h5", os.urandom(5000)), "", "unreadable")
case("HDF5 signature then zeros", put(ids[0] + ".h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 4000), "", "unreadable")
for cut in (8, 64, 512, size // 4, size // 2, size - 100):
    case("run file truncated at byte %d" % cut, put(ids[1] + ".h5", ref[:cut]), "", "")
for off in (16, 40, 96, 300, 800, 1500, size // 3, size // 2, 2 * size // 3, size - 200):
    flipped = bytearray(ref)
    flipped[off] ^= 0xFF
    flipped[min(off + 1, size - 1)] ^= 0x5A
    case("run file with bytes flipped at %d" % off, put(ids[0] + ".h5", bytes(flipped)), "", None)
case("a run file of the wrong run id, garbage .live.h5", put(ids[2] + ".live.h5", os.urandom(300)), "", None)
case("a FIFO under a run's name", lambda: (os.remove(os.path.join(RUNS, ids[3] + ".h5")), os.mkfifo(os.path.join(RUNS, ids[3] + ".h5"))), "", None)
case("the hang-inducing HDF5 file as a run file", lambda: shutil.copy(HANG, os.path.join(RUNS, ids[1] + ".h5")),
     "", "unreadable")

# a stray file that is no run of the plan: collect skips it with a warning, verify reports it
n_cases[0] += 1
shutil.copy(HANG, os.path.join(RUNS, "ffffffffffffffff.h5"))
rc, _, err = run_sweep()
clean("stray hang file", rc, err)
check(rc == 0 and "ffffffffffffffff.h5" in err, "stray hang file: the run warns naming it (rc %d)" % rc)
rc, out, err = engram("verify", EXP)
check(rc == 1 and "ffffffffffffffff.h5: unreadable" in out, "stray hang file: verify reports it (%s)" % out.strip()[-200:])
rc, out, err = engram("show", EXP, "ffffffffffffffff")
clean("show RUN of the hang file", rc, err)
check("ffffffffffffffff.h5" in err and "HDF5" in err, "show RUN of the hang file: an error or a warning naming it (rc %d: %s)" % (rc, err.strip()))
rc, out, err = engram("report", EXP, "--to", os.path.join(TMP, "page"))
clean("report with a hang file in runs/", rc, err)
os.remove(os.path.join(RUNS, "ffffffffffffffff.h5"))

# summary.h5 replaced by the hang file, newer than runs/: show warns, collects again, shows
n_cases[0] += 1
engram("collect", EXP)
shutil.copy(HANG, os.path.join(EXP, "summary.h5"))
os.utime(os.path.join(EXP, "summary.h5"), (time.time() + 5, time.time() + 5))
rc, out, err = engram("show", EXP)
clean("summary.h5 replaced", rc, err)
check(rc == 0 and "summary.h5" in err and "collecting the run files again" in err and "ok" in out,
      "summary.h5 replaced by a hostile file: show warns, rebuilds it and shows the runs (rc %d: %s)" % (rc, err.strip()[-300:]))
rc, out, _ = engram("verify", EXP)
check(rc == 0, "summary.h5 replaced: verify clean after show rebuilt it (%s)" % out.strip()[-200:])

# init_from naming the hang file: exit 2 naming the file, before anything runs
n_cases[0] += 1
vspec = os.path.join(SRC, "configs", "smoke", "vmfdam-teacher.yaml")
rc, out, err = engram("run", vspec, "--out", os.path.join(TMP, "out2"), "init_from=" + HANG, timeout=120)
clean("init_from of the hang file", rc, err)
check(rc == 2 and HANG in err and not os.path.exists(os.path.join(TMP, "out2")),
      "init_from of the hang file: exit 2 naming it, nothing written (rc %d: %s)" % (rc, err.strip()[-300:]))

# links planted at the names of summary.h5's temporary file never make engram write through them
n_cases[0] += 1
victim = os.path.join(TMP, "victim.txt")
with open(victim, "w") as f:
    f.write("precious\n")
start = int(subprocess.check_output(["sh", "-c", "echo $$"]))  # pids are handed out in order
planted = []
for pid in range(start, start + 400):
    link = os.path.join(EXP, "summary.h5.tmp-%d" % pid)
    if not os.path.lexists(link):
        os.symlink(victim, link)
        planted.append(link)
rc, _, err = engram("collect", EXP)
gone = [l for l in planted if not os.path.lexists(l)]
check(rc == 0 and open(victim).read() == "precious\n", "planted links at summary temp names: the target is untouched (rc %d)" % rc)
check(len(gone) >= 1, "planted links: removed (collect's own temp name and those of dead pids), never followed "
      "(%d of %d removed; a link named for a live process is left alone)" % (len(gone), len(planted)))
for l in planted:
    if os.path.lexists(l):
        os.remove(l)

# two engram run processes on one experiment: every run computed exactly once
n_cases[0] += 1
lk = os.path.join(TMP, "lock.yaml")
with open(lk, "w") as f:
    f.write("experiment: lk\nmodel: %s\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"
            "params: {mode: sleep, seconds: 0.3}\nseeds: [1, 2, 3, 4, 5, 6, 7, 8]\n"
            % os.path.join(os.environ["ENGRAM_TEST_PLUGINS"], "faulty_model.so"))
procs = [subprocess.Popen([ENGRAM, "run", lk, "--out", OUT], stderr=subprocess.PIPE, env=ENV) for _ in range(2)]
errs = [text(p.communicate(timeout=120)[1]) for p in procs]
done = [l.split()[2] for e in errs for l in e.splitlines() if l.startswith("[") and l.endswith("s") and " ok " in l]
check(all(p.returncode == 0 for p in procs), "two concurrent runs both exit 0 (%s)" % [p.returncode for p in procs])
check(len(done) == 8 and len(set(done)) == 8, "two concurrent runs: 8 runs computed, each once (%d computed: %s)" % (len(done), sorted(done)))
check(any("another engram process" in e for e in errs), "two concurrent runs: a process says which runs it left to the other")
rc, out, _ = engram("verify", os.path.join(OUT, "lk"))
check(rc == 0 and "8 run files, 0 problems" in out, "two concurrent runs: verify clean (%s)" % out.strip())

n_cases[0] += 1
rc, out, err = engram("verify", os.path.join(TMP, "nope"))
check(rc == 2 and "nope" in err, "verify of a missing directory: exit 2 naming it (rc %d: %s)" % (rc, err.strip()))

print("%d hostile result-file cases" % n_cases[0])
shutil.rmtree(TMP, ignore_errors=True)
finish()
