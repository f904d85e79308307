"""engram submit / status / collect against a real single-node Slurm (munged, slurmctld
and slurmd started on localhost by tests/common/slurm_local.py and stopped at the end):

1. a 24-run sweep submitted as a 4-task array finishes, and its summary equals a local
   `engram run` of the same spec in every run id, status and metric; status counts 24 done;
2. the array cancelled with scancel mid-sweep stays cancelled (not requeued), status counts
   the runs left as pending, a second submit lists only those, and the sweep completes with
   the same summary;
3. SIGTERM to one array task (scancel --signal=TERM --batch, what the time limit's warning and
   preemption send) stops it cleanly and requeues it; it finishes its runs; a run stopped by the
   time limit's warning of a 1-minute job is recorded as timeout (and not requeued at --max-requeue 0);
4. --dry-run prints the script and writes nothing; --runs refuses an id the spec does not plan;
   --shard slurm and SLURM_CPUS_PER_TASK; --gpus-per-run splits CUDA_VISIBLE_DEVICES per run;
   collect DIR SRC merges the run files of another directory.
Skipped (exit 77, with the reason) only when the daemons cannot start."""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import h5py

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup  # noqa: E402
from slurm_local import Slurm  # noqa: E402

tmp, env = setup(prefix="engram-slurm-test-")
slurm = Slurm()
why = slurm.start()
if why:
    slurm.stop()
    if os.environ.get("CI") == "true":
        print("FAIL: the Slurm daemons could not start under CI: " + why)
        sys.exit(1)
    print("SKIP: " + why)
    sys.exit(77)
env = dict(env, SLURM_CONF=slurm.env["SLURM_CONF"], ENGRAM_KILL_GRACE="3")


def engram(*args, extra_env=None):
    p = subprocess.run([ENGRAM] + list(args), cwd=tmp, env=dict(env, **(extra_env or {})), capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def sh(*args):
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=60)


def spec(name, seconds):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write("""experiment: %s
model: faulty
backend: cpu
seeds: [0, 1, 2, 3, 4, 5]
data: {source: random-patterns, n: 8, dim: 4, kind: gaussian}
task: {kind: retrieve, memories: 4, queries: 2}
params: {mode: sleep, seconds: %g}
sweep:
  grid:
    params.x: [1, 2.5, 4, 7]
""" % (name, seconds))
    return path


def summary(path):
    """run id -> (status, every metric column) of a summary.h5"""
    with h5py.File(path, "r") as f:
        rows = f["summary"][()]
        names = rows.dtype.names
        metrics = [n for n in names if n.startswith("fault/")]
        out = {}
        for r in rows:
            rid = r["run_id"].decode() if isinstance(r["run_id"], bytes) else str(r["run_id"])
            st = r["status"].decode() if isinstance(r["status"], bytes) else str(r["status"])
            out[rid] = (st,) + tuple(float(r[m]) for m in metrics)
        return out, metrics


def queue(job):
    """the job's array tasks as (id, state); squeue failing (a busy slurmctld) is asked again"""
    for _ in range(20):
        p = sh("squeue", "-h", "-r", "-j", job, "-o", "%i %T")
        if p.returncode == 0:
            return [l.split() for l in p.stdout.splitlines() if l.strip()]
        if "Invalid job id" in p.stderr:  # purged after MinJobAge: long gone
            return []
        time.sleep(0.5)
    return [("?", "squeue-failed")]


def ended(*jobs):
    """no task of jobs queued or running, seen twice a second apart"""
    if any(queue(j) for j in jobs if j):
        return False
    time.sleep(1)
    return not any(queue(j) for j in jobs if j)


def wait_for(cond, what, limit=150):
    t0 = time.time()
    while time.time() - t0 < limit:
        if cond():
            return True
        time.sleep(0.5)
    check(False, "timed out after %d s waiting for %s\n%s" % (limit, what, slurm.log_tail()))
    return False


def status(d):
    rc, out, err = engram("status", d, "--json")
    check(rc == 0, "status %s exit 0: %s" % (d, err))
    try:
        return json.loads(out)
    except ValueError:
        check(False, "status --json prints JSON: %r" % out)
        return {}


def submit(*args):
    rc, out, err = engram("submit", *args)
    check(rc == 0, "submit exit 0: %s" % err)
    return out.strip(), err


def subs(d):
    return sorted(glob.glob(os.path.join(d, "slurm", "*")))


def done_ids(d):
    return {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(d, "runs", "*.h5"))
            if not p.endswith(".live.h5")}


try:
    fast = spec("arr", 0.3)
    rc, _, err = engram("run", fast, "--out", "local", "-j", "2")
    check(rc == 0, "local run exit 0: " + err[-300:])
    local, metrics = summary(os.path.join(tmp, "local/arr/summary.h5"))
    check(len(local) == 24 and "fault/score" in metrics, "the local run has 24 runs with metrics")

    # 4. --dry-run writes nothing and shows the array, the signal and the requeue
    rc, out, err = engram("submit", fast, "--slurm", "--tasks", "4", "--out", "cl", "--dry-run", "--time", "10",
                          "--mem", "1G", "--sbatch", "--qos=normal")
    check(rc == 0 and "#SBATCH --array=0-3" in out and "#SBATCH --signal=B:TERM@120" in out and
          "#SBATCH --requeue" in out and "#SBATCH --time=10" in out and "#SBATCH --qos=normal" in out and
          "--shard slurm --no-collect" in out and "--runs " in out, "dry-run prints the batch script:\n" + out)
    check(not os.path.exists(os.path.join(tmp, "cl/arr/slurm")), "dry-run writes no submission")
    rc, _, err = engram("submit", fast, "--out", "cl")
    check(rc == 2 and "--slurm" in err, "submit without --slurm is a usage error: " + err)

    # 1. the 4-task array equals the local run
    job, err = submit(fast, "--slurm", "--tasks", "4", "--out", "cl")
    check(job.isdigit(), "submit prints the job id: %r %s" % (job, err))
    st = status("cl/arr")
    check(st.get("runs") == 24 and st.get("done", 0) + st.get("running", 0) + st.get("pending", 0) == 24,
          "status right after submit counts 24 runs: %s" % st)
    check(len(st.get("jobs", [])) == 1 and st["jobs"][0]["job"] == job, "status names the job: %s" % st)
    sub = subs(os.path.join(tmp, "cl/arr"))
    cjob = open(os.path.join(sub[0], "collect_job_id")).read().strip() if sub else ""
    wait_for(lambda: ended(job, cjob), "the array and its summary job to end")
    st = status("cl/arr")
    check(st.get("done") == 24 and st.get("pending") == 0 and st.get("failed") == 0, "status: 24 done: %s" % st)
    arr, _ = summary(os.path.join(tmp, "cl/arr/summary.h5"))
    check(arr == local, "the array's summary equals the local run's (ids, statuses, every metric)")
    outs = sorted(glob.glob(os.path.join(sub[0], "task-*.out"))) if sub else []
    check(len(outs) == 4, "one output file per task: %s" % outs)
    check(all("shard" in open(o).read() for o in outs), "each task ran its shard")
    rc, out, err = engram("submit", fast, "--slurm", "--out", "cl")
    check(rc == 0 and "nothing to submit" in err and not out.strip(), "a finished sweep submits nothing: " + err)

    # 2. scancel mid-sweep, then a second submit completes it
    slow = spec("cancel", 1.2)
    rc, _, err = engram("run", slow, "--out", "local", "-j", "2")
    local2, _ = summary(os.path.join(tmp, "local/cancel/summary.h5"))
    job, _ = submit(slow, "--slurm", "--tasks", "4", "--out", "cl")
    cdir = os.path.join(tmp, "cl/cancel")
    wait_for(lambda: len(done_ids(cdir)) >= 4, "4 runs of the second array")
    sh("scancel", job)
    wait_for(lambda: ended(job), "the cancelled array to leave the queue")
    time.sleep(3)
    check(not queue(job), "a cancelled array is not requeued")
    st = status("cl/cancel")
    n_done = st.get("done", 0)
    check(4 <= n_done < 24 and st.get("pending") == 24 - n_done and st.get("failed") == 0 and st.get("running") == 0,
          "status after scancel: done + pending = 24, nothing failed or running: %s" % st)
    before = done_ids(cdir)
    job2, err = submit(slow, "--slurm", "--tasks", "4", "--out", "cl")
    sub2 = subs(cdir)[-1]
    listed = [l.strip() for l in open(os.path.join(sub2, "runs.txt")) if l.strip() and not l.startswith("#")]
    check(len(listed) == 24 - n_done and not set(listed) & before,
          "the second submit lists only the %d runs left (got %d)" % (24 - n_done, len(listed)))
    cjob2 = open(os.path.join(sub2, "collect_job_id")).read().strip()
    wait_for(lambda: ended(job2, cjob2), "the second array and its summary job")
    again, _ = summary(os.path.join(cdir, "summary.h5"))
    check(again == local2, "cancelled + resubmitted summary equals the local run's")
    st = status("cl/cancel")
    check(st.get("done") == 24 and len(st.get("jobs", [])) == 2, "status: 24 done over two submissions: %s" % st)

    # 3. SIGTERM to one task: stopped cleanly, requeued, finished
    term = spec("term", 1.0)
    job, _ = submit(term, "--slurm", "--tasks", "2", "--out", "cl")
    tdir = os.path.join(tmp, "cl/term")
    wait_for(lambda: len(done_ids(tdir)) >= 2 and len(queue(job)) == 2 and
             all(s == "RUNNING" for _, s in queue(job)), "the two tasks running with runs done")
    sh("scancel", "--signal=TERM", "--batch", job + "_0")
    wait_for(lambda: any(i == job + "_0" and s == "PENDING" for i, s in queue(job)), "task 0 requeued", 60)
    # Slurm holds a requeued task back for a while (BeginTime) while its first instance is cleaned up;
    # starting it at once can fail at launch, so the test waits a few seconds, then brings it forward
    time.sleep(6)
    sh("scontrol", "update", "JobId=%s_0" % job, "StartTime=now")
    wait_for(lambda: ended(job), "the requeued array to finish", 200)
    out0 = open(glob.glob(os.path.join(subs(tdir)[0], "task-0.out"))[0]).read()
    check("interrupted" in out0 and "requeued" in out0, "task 0's log says it was interrupted and requeued:\n" +
          out0[-1500:])
    st = status("cl/term")
    check(st.get("done") == 24 and st.get("failed") == 0, "status after the requeue: 24 done: %s" % st)
    if st.get("done") != 24:
        print(sh("scontrol", "show", "job").stdout[-3000:])

    # 3b. the time limit's warning signal: the stopped run is recorded as timeout, not lost
    limit = spec("limit", 50)
    job, _ = submit(limit, "seeds=[0]", "sweep.grid.params.x=[1]", "--slurm", "--time", "1", "--max-requeue", "0",
                    "--out", "cl")
    ldir = os.path.join(tmp, "cl/limit")
    wait_for(lambda: ended(job), "the 1-minute job to reach its time limit", 150)
    st = status("cl/limit")
    runs = glob.glob(os.path.join(ldir, "runs", "*.h5"))
    statuses = []
    for p in runs:
        with h5py.File(p, "r") as f:
            statuses.append(f.attrs["status"].decode() if isinstance(f.attrs["status"], bytes) else f.attrs["status"])
    log = open(os.path.join(subs(ldir)[0], "task-0.out")).read()
    check(statuses == ["timeout"] and st.get("failed") == 1 and "time limit" in log and "not requeued" in log,
          "a run stopped by the time limit's signal is recorded as timeout (%s) and, at --max-requeue 0, not "
          "requeued:\n%s" % (statuses, log[-800:]))

    # 4. --runs and the id check
    ids = os.path.join(tmp, "ids.txt")
    with open(ids, "w") as f:
        f.write("# two runs\n%s\n0123456789abcdef\n" % sorted(local)[0])
    rc, _, err = engram("run", fast, "--out", "x", "--runs", ids)
    check(rc == 2 and "ids.txt:3" in err and "no longer planned" in err, "an unplanned id is refused: " + err)
    with open(ids, "w") as f:
        f.write("%s\nnot-an-id\n" % sorted(local)[0])
    rc, _, err = engram("run", fast, "--out", "x", "--runs", ids)
    check(rc == 2 and "ids.txt:2" in err, "a line that is not an id is refused at its line: " + err)
    # --shard slurm from the environment; SLURM_CPUS_PER_TASK
    with open(ids, "w") as f:
        f.write("".join(i + "\n" for i in sorted(local)[:6]))
    senv = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1",
            "SLURM_ARRAY_TASK_STEP": "2", "SLURM_CPUS_PER_TASK": "1"}
    rc, _, err = engram("run", fast, "--out", "sh", "--runs", ids, "params.seconds=0.3", extra_env=senv)
    got = done_ids(os.path.join(tmp, "sh/arr"))
    check(rc == 0 and "shard 1/2" in err and got == set(sorted(local)[1:6:2]),
          "inside array task 3 of 1,3: shard 1/2 of the list: %s %s" % (sorted(got), err[-300:]))
    rc, _, err = engram("run", fast, "--out", "sh", "--shard", "slurm")
    check(rc == 2 and "array task" in err, "--shard slurm outside an array task is an error: " + err)
    # --gpus-per-run: each concurrent run its own devices
    rc, _, err = engram("run", fast, "--out", "gpu", "-j", "2", "--gpus-per-run", "2",
                        extra_env={"CUDA_VISIBLE_DEVICES": "3,5,7,9"})
    check(rc == 0, "gpus-per-run run: " + err[-300:])
    gpus = set()
    for p in glob.glob(os.path.join(tmp, "gpu/arr/runs/*.h5")):
        with h5py.File(p, "r") as f:
            gpus.add(float(f["metrics/fault/gpu"][()]) if "metrics/fault/gpu" in f else -1)
    check(gpus == {3.0, 7.0}, "runs got devices 3,5 or 7,9: %s" % gpus)
    rc, _, err = engram("run", fast, "--out", "gpu2", "-j", "3", "--gpus-per-run", "2",
                        extra_env={"CUDA_VISIBLE_DEVICES": "0,1"})
    check(rc == 2 and "needs 6 devices" in err, "too few devices is an error before anything runs: " + err)
    # collect DIR SRC: the shards of two directories merged
    for i in range(2):
        rc, _, err = engram("run", fast, "--out", "part%d" % i, "--shard", "%d/2" % i)
    rc, _, err = engram("collect", "part0/arr", "part1/arr")
    merged, _ = summary(os.path.join(tmp, "part0/arr/summary.h5"))
    check(rc == 0 and merged == local, "collect DIR SRC merges two shards into the local run's summary: " + err)
finally:
    slurm.stop()
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
finish()
