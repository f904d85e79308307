"""cli/hostile_data — hostile data files (tests/hostile/data/make_hostile.py: gzip bombs,
lying headers, truncation, trailing garbage, bad element types, labels out of range,
NaN/inf, HDF5 datasets of huge declared size in a 2 KB file, string/compound/enum
dtypes, external links and storage, FIFOs, directories, symlink loops, ragged CSV,
...) each through `engram run`, whose preflight reads the data in the parent. Each
must be refused with exit 2 and a message naming the file and the offset or index,
within 10 s (60 s under sanitizers), without a signal, with the peak memory of the
run bounded (RLIMIT_AS 1 GiB; not under AddressSanitizer, which reserves terabytes of
address space: there only the peak RSS is reported), and nothing written under --out."""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "hostile", "data"))
from engram_test import ENGRAM, check, finish  # noqa: E402
import make_hostile  # noqa: E402

AS_LIMIT = 1 << 30
RSS_LIMIT_KB = 512 << 10


def sanitized():
    """1 when the engram binary is built with AddressSanitizer (EG_SANITIZE in its build's cache)"""
    cache = os.path.join(os.environ.get("ENGRAM_BUILD", ""), "CMakeCache.txt")
    try:
        if any(l.startswith("EG_SANITIZE:") and l.strip().endswith("=ON") for l in open(cache)):
            return True
    except OSError:
        pass
    return "ASAN_OPTIONS" in os.environ or "asan" in subprocess.run(["ldd", ENGRAM], capture_output=True,
                                                                    text=True).stdout


ASAN = sanitized()
TIMEOUT = 60 if ASAN else 10


def limit():
    if not ASAN:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def yaml_value(v):
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def spec_for(tmp, case):
    data = "".join("  %s: %s\n" % (k, yaml_value(v)) for k, v in case.opts.items())
    path = os.path.join(tmp, case.name + ".yaml")
    with open(path, "w") as f:
        f.write("experiment: hostile\nmodel: hopfield\nbackend: cpu\ndata:\n  source: %s\n%s"
                "task: {kind: retrieve, memories: 2, queries: 1}\n" % (case.source, data))
    return path


def run(spec, out):
    """(exit status or -signal, stderr, seconds, peak RSS in KiB) of `engram run spec --out out`"""
    errf = tempfile.TemporaryFile()
    t0 = time.time()
    p = subprocess.Popen([ENGRAM, "run", spec, "--out", out, "--plain"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=errf, preexec_fn=limit)
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.time() - t0 > TIMEOUT:
            p.kill()
            pid, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.02)
    p.returncode = 0  # reaped here; keep Popen from waiting again
    errf.seek(0)
    err = errf.read().decode(errors="replace")
    rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    return rc, err, time.time() - t0, usage.ru_maxrss


def main():
    tmp = tempfile.mkdtemp(prefix="eg-hostile-")
    try:
        cases = make_hostile.all_cases(os.path.join(tmp, "data"))
        root = os.geteuid() == 0
        ran, worst = 0, (0, "")
        for case in cases:
            if case.root_only_skip and root:
                print("skip %s: running as root, which bypasses file permissions" % case.name)
                continue
            out = os.path.join(tmp, "out-" + case.name)
            rc, err, secs, rss = run(spec_for(tmp, case), out)
            ran += 1
            worst = max(worst, (rss, case.name))
            missing = [w for w in case.want if w not in err]
            ok = rc == 2 and not missing and secs < TIMEOUT and not os.path.exists(out) and \
                (ASAN or rss < RSS_LIMIT_KB)
            detail = "" if ok else "\n  rc %d, %.1f s, peak %d MiB, missing %r, out exists %s\n  stderr: %s" % (
                rc, secs, rss >> 10, missing, os.path.exists(out), err.strip()[-600:])
            check(ok, "%-30s exit %d in %.2f s, peak %d MiB%s" % (case.name, rc, secs, rss >> 10, detail))
        check(ran >= 30, "at least 30 hostile inputs ran (%d)" % ran)
        print("%d hostile data inputs: each refused with exit 2 naming the file and offset/index, no signal, "
              "under %d s, peak RSS at most %d MiB (%s)%s" % (ran, TIMEOUT, worst[0] >> 10, worst[1],
                                                              ", sanitizer build: no RLIMIT_AS" if ASAN else
                                                              ", RLIMIT_AS 1 GiB"))
    finally:
        for dirpath, dirs, files in os.walk(tmp):
            for n in files:
                try:
                    os.chmod(os.path.join(dirpath, n), 0o600)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
