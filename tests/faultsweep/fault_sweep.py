#!/usr/bin/env python3
"""fault_sweep.py — SQLite-style fault sweep of engram (docs/reliability.md, "Fault injection").

Needs an engram built with -DEG_FAULT_INJECT=ON (scripts/fault-sweep.sh builds one, with
ASan + UBSan). For each scenario (a fresh `engram run` of a 2-run smoke sweep, `engram
collect`, `engram show` and `engram report` of a finished result directory), each
process role (the engram process, or the processes it forks) and each fault class
(alloc, open, write, rename, fsync, h5), it first counts the calls of a fault-free
invocation, then makes the N-th call fail for every N (or a sample: the first --first,
the last --last and every --stride-th in between), and checks after each:

  * no signal, no sanitizer report (ASan, LeakSanitizer, UBSan; forked processes included);
  * exit 0 only with the fault-free result; otherwise a clear error line on stderr
    (no HDF5 stack dump, not a bare "HDF5 error");
  * nothing half-written: every runs/*.h5 opens and has its status, summary.h5 is absent
    or opens and lists exactly the run files with their statuses, no *.tmp* file is
    left, a report's index.html is absent or complete;
  * a clean `engram run` afterwards on the same directory exits 0 and gives the
    fault-free summary (memoised by the directory's state: run files and statuses).

Then, where tmpfs can be mounted (root), a real disk-full check: `engram run`, `collect`
and `report` on a full tmpfs must report "No space left on device" with the path.

Exit status: 0 all checks passed, 1 a check failed (each failure is listed), 2 usage.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    import h5py
except ImportError:  # pragma: no cover
    sys.exit("fault_sweep.py: needs h5py (python3-h5py)")

CLASSES = ["alloc", "open", "write", "rename", "fsync", "h5"]
SANITIZER = re.compile(r"Sanitizer|runtime error:|LeakSanitizer")
HDF5_DUMP = re.compile(r"HDF5-DIAG|^\s*#\d{3}:", re.M)
VAGUE = re.compile(r"HDF5 error\s*($|\(|;)", re.M)


class Sweep:
    def __init__(self, args):
        self.a = args
        self.bin = os.path.abspath(args.engram)
        self.spec = os.path.abspath(args.spec)
        self.work = os.path.abspath(args.work)
        self.failures = []
        self.notes = []
        self.lock = threading.Lock()
        self.memo = {}
        self.stats = {}
        self.seq = 0
        self.groups = {}
        self.sym_cache = {}
        self.src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    # ---- running engram ----

    def env(self, case_dir, fault=None, proc=None):
        san = os.path.join(case_dir, "san")
        os.makedirs(san, exist_ok=True)
        e = dict(os.environ)
        for k in ("ENGRAM_FAULT", "ENGRAM_FAULT_PROC", "ENGRAM_FAULT_COUNT"):
            e.pop(k, None)
        e.update({
            "HDF5_USE_FILE_LOCKING": "FALSE",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "ASAN_OPTIONS": f"detect_leaks=1:abort_on_error=0:exitcode=86:log_path={san}/asan",
            "UBSAN_OPTIONS": f"print_stacktrace=1:exitcode=87:log_path={san}/ubsan",
            "LSAN_OPTIONS": f"exitcode=88:log_path={san}/lsan",
            "ENGRAM_FAULT_COUNT": os.path.join(case_dir, "counts"),
            "NO_COLOR": "1",
        })
        if fault:
            e["ENGRAM_FAULT"] = fault
            e["ENGRAM_FAULT_PROC"] = proc
        return e

    def new_case(self, tag):
        with self.lock:
            self.seq += 1
            d = os.path.join(self.work, "cases", f"{self.seq:05d}-{tag}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def invoke(self, case_dir, argv, fault=None, proc=None):
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.bin] + argv, env=self.env(case_dir, fault, proc), cwd=case_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=self.a.timeout)
            rc, out, err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        res = {"rc": rc, "out": out, "err": err, "wall": time.monotonic() - t0, "counts": {}, "fired": 0, "site": ""}
        cp = os.path.join(case_dir, "counts")
        if os.path.exists(cp):
            for line in open(cp):
                w = line.split()
                if w[0] == "fired":
                    res["fired"], res["site"] = int(w[1]), " ".join(w[2:])
                elif len(w) == 3:
                    res["counts"][(w[0], w[1])] = int(w[2])
            os.unlink(cp)
        san = os.path.join(case_dir, "san")
        reports = []
        for f in sorted(os.listdir(san)):
            reports.append(open(os.path.join(san, f), errors="replace").read())
            os.unlink(os.path.join(san, f))
        res["sanitizer"] = "\n".join(reports)
        return res

    # ---- what a result directory holds ----

    @staticmethod
    def run_status(path):
        try:
            with h5py.File(path, "r") as f:
                s = f.attrs.get("status")
                return s.decode() if isinstance(s, bytes) else s
        except Exception:
            return None

    @staticmethod
    def read_summary(path):
        """{run_id: tuple of (column, value)} without the 'info' columns (times), or an error string"""
        try:
            with h5py.File(path, "r") as f:
                info = set(x.decode() if isinstance(x, bytes) else x for x in f.attrs.get("info", []))
                if "summary" not in f:
                    return "no /summary dataset"
                d = f["summary"][()]
                names = d.dtype.names or ()
                rows = {}
                for r in d:
                    rid = r["run_id"].decode() if isinstance(r["run_id"], bytes) else str(r["run_id"])
                    rows[rid] = tuple((n, r[n].decode() if isinstance(r[n], bytes) else r[n].item())
                                      for n in names if n not in info)
                return rows
        except Exception as e:
            return f"cannot read: {e}"

    def check_dir(self, exp, must_have_summary, allow_skipped=None):
        """problems of the experiment directory exp (nothing half-written)"""
        probs = []
        if not os.path.isdir(exp):
            return probs
        for root, dirs, files in os.walk(exp):
            for fn in files:
                if ".tmp" in fn:
                    probs.append(f"temporary file left: {os.path.relpath(os.path.join(root, fn), exp)}")
        runs = {}
        rd = os.path.join(exp, "runs")
        if os.path.isdir(rd):
            for fn in sorted(os.listdir(rd)):
                if fn.endswith(".h5"):
                    st = self.run_status(os.path.join(rd, fn))
                    if st is None:
                        probs.append(f"half-written run file: runs/{fn} (no status or unreadable)")
                    runs[fn[:-3]] = st
        sp = os.path.join(exp, "summary.h5")
        if os.path.exists(sp):
            s = self.read_summary(sp)
            if isinstance(s, str):
                probs.append(f"half-written summary.h5: {s}")
            else:
                sumst = {k: dict(v).get("status") for k, v in s.items()}
                want = {k: v for k, v in runs.items() if not (allow_skipped and k in allow_skipped)}
                got = {k: v for k, v in sumst.items() if not (allow_skipped and k in allow_skipped)}
                if got != want:
                    probs.append(f"summary.h5 does not match runs/: summary {sorted(sumst.items())}, "
                                 f"run files {sorted(runs.items())}")
        elif must_have_summary:
            probs.append("summary.h5 missing")
        rep = os.path.join(exp, "report", "index.html")
        if os.path.exists(rep):
            txt = open(rep, errors="replace").read()
            if not txt.rstrip().endswith("</html>"):
                probs.append("half-written report/index.html")
        return probs

    @staticmethod
    def page(exp):
        """report/index.html without its footer (the time) and with the directory as DIR"""
        p = os.path.join(exp, "report", "index.html")
        if not os.path.exists(p):
            return None
        txt = open(p, errors="replace").read().replace(exp, "DIR")
        return re.sub(r"<footer.*?</footer>", "", txt, flags=re.S)

    def state_key(self, exp):
        rd = os.path.join(exp, "runs")
        runs = tuple(sorted((fn, self.run_status(os.path.join(rd, fn)))
                            for fn in (os.listdir(rd) if os.path.isdir(rd) else []) if fn.endswith(".h5")))
        return (os.path.isdir(exp), os.path.isdir(rd), runs, os.path.exists(os.path.join(exp, "summary.h5")))

    # ---- scenarios ----

    def setup_run(self, case):
        return ["run", self.spec, "--out", os.path.join(case, "out"), "--plain"]

    def setup_copy(self, case, what):
        exp = os.path.join(case, "out", self.exp_name)
        shutil.copytree(self.ref_exp, exp, symlinks=True)
        if what == "show":
            os.unlink(os.path.join(exp, "summary.h5"))  # show collects first, then reads
            return ["show", exp]
        if what == "collect":
            return ["collect", exp]
        return ["report", exp]

    def argv_for(self, scen, case):
        return self.setup_run(case) if scen == "run" else self.setup_copy(case, scen)

    def judge(self, scen, proc, cls, n, case, res):
        tag = f"{scen} {proc} {cls}:{n}"
        exp = os.path.join(case, "out", self.exp_name)
        probs = []
        rc = res["rc"]
        if rc == "timeout":
            probs.append(f"no exit within {self.a.timeout}s")
        elif rc < 0:
            probs.append(f"killed by signal {-rc}")
        elif rc in (86, 87, 88) or res["sanitizer"]:
            probs.append("sanitizer report:\n" + res["sanitizer"][:3000])
        if SANITIZER.search(res["err"]):
            probs.append("sanitizer output on stderr")
        if res["fired"] == 0:
            with self.lock:
                self.notes.append(f"{tag}: the fault was not reached (fewer calls than in the count run)")
        if HDF5_DUMP.search(res["err"]):
            probs.append("HDF5 error stack printed")
        lines = [x for x in res["err"].splitlines() if x.strip()]
        if rc not in (0, "timeout") and not any(re.search(r"error|cannot|failed|out of memory|no space|not ok|"
                                                           r"unreadable|could not|: ", x, re.I) for x in lines):
            probs.append("non-zero exit without an error message")
        if VAGUE.search(res["err"]):
            probs.append("vague error message (bare 'HDF5 error')")
        skipped = None
        site = res["site"].split(" ")[0] if res["site"] else ""
        if scen in ("run", "show", "collect", "report"):
            # an injected H5Fopen failure looks like an unreadable run file: left out with a warning
            # (report: when its summary.h5 did not open either, it collects again and the same holds;
            # the page then warns about the run file the summary lacks, checked below)
            skipped = set(re.findall(r"runs/([0-9a-f]+)\.h5", "\n".join(x for x in lines if "warning" in x or
                                                                       "skipping" in x))) \
                if site == "H5Fopen" else None
            if site != "H5Fopen" and re.search(r"skipping unreadable|left out of the summary", res["err"]):
                probs.append(f"a readable run file was left out of the summary after a failed {site}")
        probs += self.check_dir(exp, must_have_summary=(rc == 0 and scen != "report"), allow_skipped=skipped)
        if rc == 0 and scen in ("run", "collect", "report") and not skipped:
            s = self.read_summary(os.path.join(exp, "summary.h5"))
            if s != self.ref_rows:
                probs.append("exit 0 but the summary differs from the fault-free one")
        if rc == 0 and scen == "show" and res["out"].replace(exp, "DIR") != self.ref_show and not skipped:
            probs.append("exit 0 but the output differs from the fault-free one")
        if rc == 0 and scen == "report":
            page = self.page(exp)
            if page is None:
                probs.append("exit 0 but no report/index.html")
            elif page != self.ref_page and 'class="warn"' not in page:
                probs.append("exit 0 but report/index.html differs from the fault-free one, without a warning")
        if scen == "run" and not probs:
            probs += self.rerun(exp, case)
        return tag, probs

    def rerun(self, exp, case):
        key = self.state_key(exp)
        with self.lock:
            if key in self.memo:
                return self.memo[key]
        res = self.invoke(case, self.setup_run(case))
        probs = []
        if res["rc"] != 0:
            probs.append(f"the clean re-run exited {res['rc']}: {res['err'][-800:]}")
        if res["sanitizer"]:
            probs.append("sanitizer report in the clean re-run:\n" + res["sanitizer"][:3000])
        probs += ["after the clean re-run: " + p for p in self.check_dir(exp, True)]
        if self.read_summary(os.path.join(exp, "summary.h5")) != self.ref_rows:
            probs.append("the clean re-run's summary differs from the fault-free one")
        with self.lock:
            self.memo[key] = probs
        return probs

    def one(self, scen, proc, cls, n):
        case = self.new_case(f"{scen}-{proc}-{cls}-{n}")
        res = self.invoke(case, self.argv_for(scen, case), f"{cls}:{n}", proc)
        tag, probs = self.judge(scen, proc, cls, n, case, res)
        with self.lock:
            key = (scen, proc, cls)
            st = self.stats.setdefault(key, {"n": 0, "exit0": 0, "exit1": 0, "fail": 0})
            st["n"] += 1
            st["exit0" if res["rc"] == 0 else "exit1"] += 1
            if probs:
                st["fail"] += 1
                where = self.symbolize(res["site"])
                msg = f"{tag} (fault in {where}, exit {res['rc']}):\n    " + "\n    ".join(probs)
                tail = "\n".join(res["err"].splitlines()[-4:])
                self.failures.append(msg + ("\n    stderr: " + tail.replace("\n", "\n            ") if tail else ""))
                self.group(probs, where, tag)
        if not probs and not self.a.keep:
            shutil.rmtree(case, ignore_errors=True)

    def symbolize(self, site):
        """'strdup /path/libengram.so.1+0x1234' -> 'strdup in func (file.c:123)'"""
        w = site.split()
        if len(w) < 2 or "+0x" not in w[1]:
            return site or "?"
        obj, off = w[1].rsplit("+", 1)
        if site in self.sym_cache:
            return self.sym_cache[site]
        try:
            out = subprocess.run(["addr2line", "-f", "-e", obj, hex(int(off, 16) - 1)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=30).stdout.decode().split("\n")
            where = f"{w[0]} in {out[0]} ({os.path.relpath(out[1].split(' ')[0], self.src)})"
        except Exception:
            where = site
        self.sym_cache[site] = where
        return where

    def group(self, probs, where, tag):
        """one line per distinct bug: the sanitizer's first frame in engram's code, or the problem and the site"""
        text = "\n".join(probs)
        m = re.search(r"(\S+\.c:\d+):\d+: runtime error: ([^\n]*)", text)
        if m:
            key = f"UBSan {os.path.relpath(m.group(1), self.src)}: {m.group(2)}"
        else:
            m = re.search(r"ERROR: (\w+Sanitizer: [\w-]+)", text)
            frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+) (" + re.escape(self.src) + r"/\S+:\d+)", text)
            frames = [f for f in frames if "faultsweep" not in f[1]]
            if m or frames:
                key = (m.group(1) if m else "sanitizer") + (f" at {frames[0][0]} {os.path.relpath(frames[0][1], self.src)}"
                                                            if frames else f" after a fault in {where}")
            else:
                first = re.sub(r"/\S+", "PATH", probs[0].splitlines()[0])
                first = re.sub(r"\b[0-9a-f]{16}\b", "RUN", first)
                key = f"{first} [fault in {where}]"
        g = self.groups.setdefault(key, [])
        g.append(tag)

    def sample(self, count):
        a = self.a
        if a.full or count <= a.first + a.last:
            return list(range(1, count + 1))
        ns = set(range(1, a.first + 1)) | set(range(count - a.last + 1, count + 1))
        ns |= set(range(a.first + a.stride, count - a.last + 1, a.stride))
        return sorted(ns)

    # ---- the real disk-full check (tmpfs) ----

    def disk_full(self):
        probe = os.path.join(self.work, "tmpfs-probe")
        os.makedirs(probe, exist_ok=True)
        ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe],
                                                  stderr=subprocess.DEVNULL).returncode == 0
        if not ok:
            self.notes.append("real disk-full check skipped: cannot mount a tmpfs here (needs root)")
            return 0
        subprocess.run(["umount", probe])
        done = 0
        ref_size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(self.ref_exp) for f in fs)
        # engram run into a tmpfs too small for the results: every size from a few KiB to just under the total
        for kib in range(4, ref_size // 1024 + 8, 4):
            done += self.full_case("run", kib)
        for scen in ("collect", "report"):
            for left in (0, 2, 6, 12):
                done += self.full_case(scen, 0, left)
        return done

    def full_case(self, scen, kib, left_kib=0):
        case = self.new_case(f"diskfull-{scen}-{kib}-{left_kib}")
        mnt = os.path.join(case, "out")
        os.makedirs(mnt)
        size = f"{kib}k" if scen == "run" else "2m"
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt], check=True)
        tag = f"disk full: {scen} on a tmpfs of {size}" + (f" with {left_kib} KiB left" if scen != "run" else "")
        try:
            if scen == "run":
                argv = self.setup_run(case)
            else:
                argv = self.setup_copy(case, scen)
                if scen == "report":
                    shutil.rmtree(os.path.join(mnt, self.exp_name, "report"), ignore_errors=True)
                filler = os.path.join(mnt, "filler")
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the file system, then free left_kib
                try:
                    while os.write(fd, b"\0" * 4096) > 0:
                        pass
                except OSError:
                    pass
                os.close(fd)
                os.truncate(filler, max(0, os.path.getsize(filler) - left_kib * 1024))
            res = self.invoke(case, argv)
            exp = os.path.join(mnt, self.exp_name)
            probs = []
            if res["rc"] == "timeout" or res["rc"] < 0 or res["sanitizer"]:
                probs.append(f"exit {res['rc']} {res['sanitizer'][:2000]}")
            if HDF5_DUMP.search(res["err"]):
                probs.append("HDF5 error stack printed")
            if VAGUE.search(res["err"] + "\n".join(self.errors_of(exp))):
                probs.append("vague error message (bare 'HDF5 error')")
            if res["rc"] != 0:
                text = res["err"]
                if scen == "run":  # a run's own error is in its failure record and on stderr
                    text += "\n".join(self.errors_of(exp))
                if not re.search(r"no space left on device", text, re.I):
                    probs.append("does not say 'No space left on device'")
                elif not re.search(re.escape(mnt) + r"\S*: .*no space left on device|no space left on device.*" +
                                   re.escape(mnt), text, re.I | re.S):
                    probs.append("'No space left on device' without the path")
            probs += self.check_dir(exp, must_have_summary=res["rc"] == 0 and scen != "report")
            if scen == "report" and res["rc"] == 0:
                pass
            elif scen == "run" and not probs:
                subprocess.run(["mount", "-o", "remount,size=16m", mnt], check=True)
                probs += self.rerun_fresh(exp, case)
            with self.lock:
                key = ("disk-full", "-", scen)
                st = self.stats.setdefault(key, {"n": 0, "exit0": 0, "exit1": 0, "fail": 0})
                st["n"] += 1
                st["exit0" if res["rc"] == 0 else "exit1"] += 1
                if probs:
                    st["fail"] += 1
                    tail = "\n".join(res["err"].splitlines()[-3:])
                    self.failures.append(f"{tag} (exit {res['rc']}):\n    " + "\n    ".join(probs) +
                                         ("\n    stderr: " + tail.replace("\n", "\n            ") if tail else ""))
        finally:
            subprocess.run(["umount", mnt])
        if not self.a.keep:
            shutil.rmtree(case, ignore_errors=True)
        return 1

    def rerun_fresh(self, exp, case):
        res = self.invoke(case, self.setup_run(case))
        probs = [] if res["rc"] == 0 else [f"the re-run with space exited {res['rc']}: {res['err'][-600:]}"]
        probs += self.check_dir(exp, True)
        if self.read_summary(os.path.join(exp, "summary.h5")) != self.ref_rows:
            probs.append("the re-run's summary differs from the fault-free one")
        return probs

    def errors_of(self, exp):
        out = []
        rd = os.path.join(exp, "runs")
        for fn in os.listdir(rd) if os.path.isdir(rd) else []:
            try:
                with h5py.File(os.path.join(rd, fn), "r") as f:
                    e = f.attrs.get("error", b"")
                    out.append(e.decode() if isinstance(e, bytes) else str(e))
            except Exception:
                pass
        return out

    # ---- main ----

    def main(self):
        t0 = time.monotonic()
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        # the fault-free reference: a run, its summary, show's output and counts of every scenario
        case = self.new_case("reference")
        res = self.invoke(case, self.setup_run(case))
        if res["rc"] != 0 or res["sanitizer"] or res["fired"]:
            print(f"fault_sweep: the fault-free run failed (exit {res['rc']}):\n{res['err']}\n{res['sanitizer']}")
            return 1
        if not res["counts"]:
            print("fault_sweep: no call counts: this engram was built without -DEG_FAULT_INJECT=ON")
            return 2
        outs = os.listdir(os.path.join(case, "out"))
        self.exp_name = outs[0]
        self.ref_exp = os.path.join(case, "out", self.exp_name)
        self.ref_rows = self.read_summary(os.path.join(self.ref_exp, "summary.h5"))
        # the reference report first, so that a report sweep replaces a complete one and its
        # count run sees what each swept case sees (pictures already there, not written again)
        r = self.invoke(case, ["report", self.ref_exp])
        if r["rc"] != 0:
            print(f"fault_sweep: fault-free report failed:\n{r['err']}")
            return 1
        self.ref_page = self.page(self.ref_exp)
        counts = {"run": res["counts"]}
        for scen in ("collect", "show", "report"):
            c = self.new_case(f"count-{scen}")
            r = self.invoke(c, self.setup_copy(c, scen))
            if r["rc"] != 0 or r["sanitizer"]:
                print(f"fault_sweep: fault-free `engram {scen}` failed (exit {r['rc']}):\n{r['err']}\n{r['sanitizer']}")
                return 1
            if scen == "show":
                self.ref_show = r["out"].replace(os.path.join(c, "out", self.exp_name), "DIR")
            counts[scen] = r["counts"]
        jobs = []
        for scen in [x for x in self.a.scenarios.split(",") if x]:
            # collect's and show's forked process is the guarded collect, which `run`'s child role covers
            for proc in ("parent", "child") if scen in ("run", "report") or self.a.full else ("parent",):
                for cls in self.a.classes.split(","):
                    n = counts[scen].get((proc, cls), 0)
                    for k in self.sample(n):
                        jobs.append((scen, proc, cls, k))
        plan = {}
        for scen, proc, cls, k in jobs:
            plan[(scen, proc, cls)] = plan.get((scen, proc, cls), 0) + 1
        print(f"fault_sweep: {len(jobs)} faulted invocations of {self.bin} over {self.spec}", flush=True)
        for (scen, proc, cls), k in sorted(plan.items()):
            total = counts[scen].get((proc, cls), 0)
            print(f"  {scen:8} {proc:6} {cls:6} {k:5} of {total} calls", flush=True)
        with concurrent.futures.ThreadPoolExecutor(self.a.jobs) as ex:
            futs = [ex.submit(self.one, *j) for j in jobs]
            for i, f in enumerate(concurrent.futures.as_completed(futs)):
                f.result()
                if (i + 1) % 100 == 0:
                    print(f"  ... {i + 1}/{len(jobs)} ({time.monotonic() - t0:.0f}s, "
                          f"{len(self.failures)} failed)", flush=True)
        n_full = 0 if self.a.no_disk_full else self.disk_full()
        print(f"fault_sweep: {len(jobs)} injected faults and {n_full} disk-full cases in "
              f"{time.monotonic() - t0:.0f}s; {len(self.memo)} distinct states re-run clean")
        for (scen, proc, cls), st in sorted(self.stats.items()):
            print(f"  {scen:9} {proc:6} {cls:6} {st['n']:5} swept, {st['exit0']:4} exit 0, "
                  f"{st['exit1']:4} error exit, {st['fail']:4} failed")
        for n in self.notes[:20]:
            print("note: " + n)
        if len(self.notes) > 20:
            print(f"note: ... and {len(self.notes) - 20} more")
        if self.a.verbose:
            for f in self.failures:
                print("FAIL " + f)
        for key, tags in sorted(self.groups.items(), key=lambda kv: -len(kv[1])):
            print(f"BUG ({len(tags)} cases, e.g. {tags[0]}): {key}")
        if self.failures:
            with open(os.path.join(self.work, "failures.txt"), "w") as f:
                f.write("\n".join(self.failures) + "\n")
            print(f"fault_sweep: every failed case in {self.work}/failures.txt, its directory under {self.work}/cases")
        print(f"fault_sweep: {'FAILED, ' + str(len(self.failures)) + ' cases' if self.failures else 'passed'}")
        return 1 if self.failures else 0


def main():
    src = os.environ.get("ENGRAM_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engram", default=os.environ.get("ENGRAM_BIN", "build-fault/engram"))
    ap.add_argument("--spec", default=os.path.join(src, "configs/smoke/hopfield-digits.yaml"))
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "engram-fault-sweep"))
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--first", type=int, default=100, help="always sweep the first N calls")
    ap.add_argument("--last", type=int, default=30, help="always sweep the last N calls")
    ap.add_argument("--stride", type=int, default=8, help="and every STRIDE-th call in between")
    ap.add_argument("--full", action="store_true", help="every N of every class")
    ap.add_argument("--scenarios", default="run,collect,show,report")
    ap.add_argument("--classes", default=",".join(CLASSES))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--no-disk-full", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every failed case, not one line per bug")
    ap.add_argument("--keep", action="store_true", help="keep every case directory, not only failed ones")
    return Sweep(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
