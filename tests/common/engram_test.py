"""Shared helpers of engram's Python tests (CLI, fault): checks that print and
count, a temporary plugin directory holding the faulty test model, and the
closing "N passed, N failed" line."""
import glob
import os
import re
import subprocess
import sys
import tempfile

ENGRAM = os.environ["ENGRAM_BIN"]
failures = []
_passed = [0]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        _passed[0] += 1
    else:
        failures.append(what)


def setup(prefix="engram-test-", backends=()):
    """A temp dir whose plugins/ holds the faulty model as engram-model-faulty.so
    (and each (fixture, name) of `backends` as engram-backend-<name>.so); the
    environment puts it first on ENGRAM_PLUGIN_PATH."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    plugdir = os.path.join(tmp, "plugins")
    os.makedirs(plugdir)
    fixtures = os.environ["ENGRAM_TEST_PLUGINS"]
    os.symlink(os.path.join(fixtures, "faulty_model.so"), os.path.join(plugdir, "engram-model-faulty.so"))
    for fixture, name in backends:
        os.symlink(os.path.join(fixtures, fixture), os.path.join(plugdir, "engram-backend-%s.so" % name))
    env = dict(os.environ, ENGRAM_PLUGIN_PATH=plugdir + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))
    # under AddressSanitizer a segv-mode run must still die of the signal, not of ASan's report
    env["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS"), "handle_segv=0") if x)
    return tmp, env


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def finish():
    print("%d passed, %d failed" % (_passed[0], len(failures)))
    sys.exit(1 if failures or not _passed[0] else 0)


def skip(reason):
    """A component the test needs is missing (a plugin, a dataset): exit code 77
    (ctest: skipped), except under CI (CI=true), where everything must be present
    and the test fails. GPU tests that find no device exit 77 themselves."""
    if os.environ.get("CI") == "true":
        print("FAILED: %s (CI=true: every plugin and dataset the test needs must be present)" % reason)
        print("%d passed, %d failed" % (_passed[0], len(failures) + 1))
        sys.exit(1)
    print("SKIPPED: %s" % reason)
    sys.exit(77)


def sdk_functions(src):
    """The functions the SDK headers (include/engram/*.h under src) mark EG_API,
    without the plugins' entry points (a plugin defines them, libengram does not)."""
    names = set()
    for h in glob.glob(os.path.join(src, "include", "engram", "*.h")):
        for decl in re.findall(r"EG_API[^;{]*", open(h).read()):
            m = re.findall(r"\b(eg_[a-z0-9_]+)\s*\(", decl)
            if m:
                names.add(m[0])
    return names - {"eg_model_entry", "eg_backend_entry", "eg_data_entry"}


def nm_symbols(path, dynamic=False):
    """(defined, undefined) symbol names of an object or library from `nm` (`nm -D` with
    dynamic): defined = external definitions (T D B R C G S; static and inline functions
    are local, lower case), undefined = U."""
    out = subprocess.run(["nm"] + (["-D"] if dynamic else []) + [path], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSVWi":
            defined.add(parts[2])
    return defined, undefined
