"""A real single-node Slurm on localhost for the cluster tests: installs Debian's
slurm-wlm and munge when missing (as root), writes a munge key and a minimal
slurm.conf into a temporary directory (free ports on 127.0.0.1, the node declared with
4 CPUs), starts munged, slurmctld and slurmd in the foreground as children of this
process, and stops exactly those (by pid) in stop(). start() returns None with the
reason when the daemons cannot start; tests skip only then."""
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _install():
    need = [b for b in ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch")
            if not os.path.exists(b)]
    if not need:
        return None
    if os.geteuid() != 0:
        return "Slurm or munge is not installed (%s) and this is not root" % ", ".join(need)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"]):
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            return "%s failed: %s" % (" ".join(cmd), (p.stderr or p.stdout)[-300:])
    return None


class Slurm:
    def __init__(self):
        self.procs = []
        self.dir = None
        self.env = None

    def start(self):
        why = _install()
        if why:
            return why
        if os.geteuid() != 0:
            return "the test daemons run as root (SlurmUser=root) and this is not root"
        self.dir = tempfile.mkdtemp(prefix="engram-slurm-")
        d = self.dir
        for sub in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o700)
        key = os.path.join(d, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        sock = os.path.join(d, "munge", "munge.socket")
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write("""ClusterName=engramtest
SlurmctldHost=localhost
SlurmctldPort=%d
SlurmdPort=%d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%s
StateSaveLocation=%s/state
SlurmdSpoolDir=%s/spool
SlurmctldPidFile=%s/slurmctld.pid
SlurmdPidFile=%s/slurmd.pid
SlurmctldLogFile=%s/log/slurmctld.log
SlurmdLogFile=%s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""" % (_free_port(), _free_port(), sock, d, d, d, d, d, d))
        self.env = dict(os.environ, SLURM_CONF=conf)
        log = open(os.path.join(d, "log", "daemons.out"), "w")
        starts = [
            ["/usr/sbin/munged", "-F", "-f", "--socket=" + sock, "--key-file=" + key,
             "--pid-file=%s/munge/munged.pid" % d, "--log-file=%s/log/munged.log" % d,
             "--seed-file=%s/munge/seed" % d],
            ["/usr/sbin/slurmctld", "-D", "-c", "-f", conf],
            ["/usr/sbin/slurmd", "-D", "-f", conf, "-N", "localhost"],
        ]
        for i, cmd in enumerate(starts):
            self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log,
                                               stdin=subprocess.DEVNULL))
            time.sleep(0.5 if i == 0 else 0.2)
        deadline = time.time() + 30
        while time.time() < deadline:
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead:
                return "%s exited at start: %s" % (dead[0], self.log_tail())
            p = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True)
            if p.returncode == 0 and p.stdout.strip() in ("idle", "mixed", "allocated"):
                return None
            time.sleep(0.5)
        return "the node did not come up in 30 s: " + self.log_tail()

    def log_tail(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log", "daemons.out"):
            try:
                with open(os.path.join(self.dir, "log", name)) as f:
                    out.append(name + ": " + f.read()[-600:])
            except OSError:
                pass
        return "\n".join(out)

    def run(self, *args, **kw):
        return subprocess.run(list(args), env=kw.pop("env", self.env), capture_output=True, text=True,
                              timeout=kw.pop("timeout", 60), **kw)

    def stop(self):
        if self.env:
            self.run("scancel", "--user=root", "--full")
            time.sleep(1)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
