"""The informational commands and usage errors of the `engram` CLI: --help,
--version, list (cpu backend available), describe (text and --json that
parses), datasets, and exit code 2 with a one-line hint for usage errors and
for a backend that cannot run here (nothing written)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["ENGRAM_SOURCE"], "tests", "common"))
from engram_test import ENGRAM, check, failures, finish, setup, text  # noqa: E402

tmp, env = setup("engram-cli-", backends=[("faulty_backend.so", "nodev")])


def engram(*args):
    p = subprocess.run([ENGRAM] + list(args), cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


rc, out, _ = engram("--help")
check(rc == 0 and "usage: engram" in out, "--help exit 0")
for cmd in ("run", "plan", "list", "describe", "datasets", "show", "collect"):
    rc, out, _ = engram(cmd, "--help")
    check(rc == 0 and ("usage: engram " + cmd) in out, cmd + " --help exit 0 with its usage")
rc, out, _ = engram("--version")
check(rc == 0 and out.startswith("engram ") and "git" in out, "--version")

rc, out, err = engram("list")
check(rc == 0, "list exit 0")
lines = out.splitlines()
check(any(l.split()[:2] == ["cpu", "available"] for l in lines), "list shows the cpu backend available")
check(any(l.split()[:2] == ["faulty", "0.1.0"] for l in lines), "list shows the faulty model with its version")
check("random-patterns" in out, "list shows the dataset sources")

check(any(l.split()[:2] == ["nodev", "unavailable"] and "no device (test backend)" in l for l in lines),
      "list shows an unavailable backend with its reason")

rc, out, err = engram("describe", "faulty")
check(rc == 0, "describe exit 0")
for needle in ("mode", "ok|segv|nan", "seconds", "fault/score", "max", "retrieve", "task.memories"):
    check(needle in out, "describe text shows " + needle)
rc, out, err = engram("describe", "faulty", "--json")
check(rc == 0, "describe --json exit 0")
try:
    d = json.loads(out)
except ValueError as e:
    d = {}
    check(False, "describe --json parses: %s" % e)
check(d.get("name") == "faulty" and d.get("version") == "0.1.0", "json name and version")
params = {p["key"]: p for p in d.get("params", [])}
check(params.get("mode", {}).get("choices", [None])[0] == "ok", "json enum choices")
check(params.get("seconds", {}).get("min") == 0 and params["seconds"]["unit"] == "s", "json range and unit")
check(params.get("x", {}).get("default") == "1.0", "json default")
check([m["goal"] for m in d.get("metrics", [])][:1] == ["max"], "json metric goal")
check(d.get("tasks") == ["retrieve"], "json tasks")
check("memories" in [p["key"] for p in d.get("task_schemas", {}).get("retrieve", [])], "json task schema")

rc, out, err = engram("describe", "faulyt")
check(rc == 2 and "did you mean 'faulty'" in err, "describe of a misspelt model suggests the name: " + err)

rc, out, err = engram("datasets")
check(rc == 0 and "random-patterns" in out and "data.n" in out, "datasets lists sources and options")

usage_errors = [
    ("frobnicate",),
    ("run",),
    ("run", "spec.yaml", "-j", "0"),
    ("run", "spec.yaml", "--shard", "2/2"),
    ("run", "spec.yaml", "--timeout", "-1"),
    ("run", "spec.yaml", "--bogus"),
    ("plan",),
    ("show",),
    ("show", "no/such/dir"),
    ("describe",),
]
for args in usage_errors:
    rc, out, err = engram(*args)
    check(rc == 2 and err.strip() != "", "%s: exit 2 with a message (got %d: %s)" % (" ".join(args), rc,
                                                                                    err.strip()[:120]))
    check(len(err.strip().splitlines()) <= 2, "%s: short hint" % " ".join(args))

with open(os.path.join(tmp, "spec.yaml"), "w") as f:
    f.write("""experiment: nocuda
model: faulty
backend: cuda
seed: 0
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve}
""")
with open(os.path.join(tmp, "nodev.yaml"), "w") as f:
    f.write("""experiment: nodev
model: faulty
backend: nodev
seed: 0
data: {source: random-patterns, n: 8, dim: 4}
task: {kind: retrieve}
""")
rc, out, err = engram("run", "nodev.yaml")
check(rc == 2 and "backend 'nodev' is not available here: nodev: no device" in err,
      "a backend without a device: exit 2 with its reason: " + err)
check(not os.path.exists(os.path.join(tmp, "results")), "nothing written when the backend cannot run")

rc_list, out_list, _ = engram("list")
cuda_ok = any(l.split()[:2] == ["cuda", "available"] for l in out_list.splitlines())
if not cuda_ok:
    rc, out, err = engram("run", "spec.yaml")
    check(rc == 2 and "cuda" in err, "backend cuda without a device: exit 2 with the reason: " + err)
    check(not os.path.exists(os.path.join(tmp, "results")), "nothing written when the backend cannot run")

print("%d failed" % len(failures))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for a look when something failed
else:
    print("files kept in " + tmp)
finish()
