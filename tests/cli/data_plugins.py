"""cli/data_plugins — data-source plugins as the host meets them (fixtures from
tests/fixtures/data/fixture_data.c, one .so per variant):

1. `engram datasets` and `engram list` show a plugin source with its options, shape,
   version and the file it came from; plugins that do not load are listed with the
   reason (newer ABI with both versions, a name that differs from the file's, a
   built-in's name, no load callback, a short source struct); a file named like a
   built-in source is reported as ignored;
2. the spec layer validates a plugin's data.* options like a built-in's (unknown key
   with did-you-mean, range, split), exit 2 with the key named;
3. the preflight catches a loader that lies about its shape or returns labels out of
   range: exit 2, the spec, run and source named, no experiment directory written;
4. a sweep on a plugin source (by name, and by a path relative to the spec file) runs
   and its numbers are right: one-hot memories are retrieved at beta 50 (success 1)
   and not at beta 0.001.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, skip  # noqa: E402

FIXTURES = os.path.join(os.environ.get("ENGRAM_TEST_PLUGINS", "test-plugins"), "data")

SPEC = """experiment: %(name)s
model: hopfield
backend: cpu
seeds: [0, 1]
data: {source: %(source)s, n: 40, dim: 40, split: train}
params: {variant: mchn, steps: 3}
task: {kind: retrieve, memories: 20, queries: 5, corrupt: {kind: noise, sigma: 0.1}}
sweep: {grid: {params.beta: [0.001, 50.0]}}
"""


def engram(args, env, cwd=None):
    return subprocess.run([ENGRAM] + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def write_spec(tmp, name, source):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(SPEC % {"name": name, "source": source})
    return path


def build_id(path):
    """what engram records: the first 16 hex characters of the file's SHA-256"""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def success_by_beta(exp_dir):
    with h5py.File(os.path.join(exp_dir, "summary.h5"), "r") as f:
        rows = f["summary"][()]
    ok = rows["status"] == b"ok"
    return rows["params.beta"], ok, rows["retrieval/success"]


def main():
    onehot = os.path.join(FIXTURES, "engram-data-onehot.so")
    if not os.path.exists(onehot):
        skip("the data-plugin fixtures are not built (%s)" % FIXTURES)
    tmp = tempfile.mkdtemp(prefix="eg-data-plugins-")
    env = dict(os.environ, ENGRAM_PLUGIN_PATH=FIXTURES + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))

    # 1. listing
    p = engram(["datasets", "onehot"], env)
    want = "from %s (build id %s, version 2.5.0, license MIT" % (os.path.realpath(onehot), build_id(onehot))
    check(p.returncode == 0 and want in p.stdout, "datasets onehot: from the fixture file, build id, version, license")
    check("item shape: 1x1xdim" in p.stdout and "data.offset" in p.stdout and "data.split: train|test" in p.stdout,
          "datasets onehot: shape, options and splits")
    p = engram(["datasets", onehot], env)
    check(p.returncode == 0 and p.stdout.startswith("onehot\n"), "datasets <path of a data plugin>")
    p = engram(["datasets"], env)
    check(p.returncode == 0 and "\nonehot\n" in p.stdout and "\ndigits\n" in p.stdout,
          "datasets lists built-in and plugin sources")
    reasons = {
        "newer": "data plugin ABI 1.99 is newer than this engram's 1.0",
        "mismatch": "the file is named for source 'mismatch' but its descriptor names 'other'",
        "shadow": "data source 'digits' is built into engram",
        "noload": "lacks a load callback",
        "short": "short source (source_size 16",
    }
    for name, why in reasons.items():
        check(why in p.stderr, "datasets reports %s: %s" % (name, why))
        q = engram(["datasets", name], env)
        check(q.returncode == 1 and why in q.stderr, "datasets %s: exit 1 with the reason" % name)
    shadow_dir = os.path.join(tmp, "shadow")
    os.makedirs(shadow_dir)
    os.symlink(os.path.realpath(onehot), os.path.join(shadow_dir, "engram-data-digits.so"))
    senv = dict(env, ENGRAM_PLUGIN_PATH=shadow_dir + ":" + env["ENGRAM_PLUGIN_PATH"])
    q = engram(["datasets", "digits"], senv)
    check(q.returncode == 0 and "built into engram" in q.stdout and "ignored, the built-in source 'digits'" in q.stderr,
          "a file named engram-data-digits.so is reported as ignored; the built-in source wins")
    p = engram(["list"], env)
    check("onehot" in p.stdout and "from %s" % os.path.realpath(onehot) in p.stdout, "list: onehot and its file")
    check(reasons["newer"] in p.stdout, "list: the plugin that does not load, with the reason")

    # 2. validation of a plugin's options
    spec = write_spec(tmp, "dp-valid", "onehot")
    for override, want in (("data.ofset=1", "unknown option 'ofset' for dataset onehot; did you mean 'offset'?"),
                           ("data.n=0", "0 is out of range; expected in [1, 100000] items"),
                           ("data.split=valid", "expected one of train, test, got 'valid'"),
                           ("data.source=newer", reasons["newer"]),
                           ("data.source=onehott", "unknown dataset 'onehott'; did you mean 'onehot'?")):
        q = engram(["plan", spec, override], env)
        check(q.returncode == 2 and want in q.stderr and override in q.stderr,
              "plan %s: exit 2, %s" % (override, want))

    # 3. preflight: what the loader returned
    out = os.path.join(tmp, "results")
    for source, want in (("liar", "loaded items of shape 1x1x40, but the source declares 1x1x8"),
                         ("badlabels", "label 4 of item 39 is outside 0..3 (n_classes 4)")):
        spec = write_spec(tmp, "dp-" + source, source)
        q = engram(["run", spec, "--out", out], env)
        check(q.returncode == 2 and want in q.stderr and "%s:5:16: data.source: data source %s: " % (spec, source)
              in q.stderr, "run on %s: exit 2 in the preflight at the spec's data.source, naming the source (%s)" % (
                  source, q.stderr.strip()[:160]))
        check(not os.path.exists(os.path.join(out, "dp-" + source)), "run on %s: nothing written" % source)

    # 4. sweeps: by name, and by a path relative to the spec file (run from another directory)
    spec = write_spec(tmp, "dp-name", "onehot")
    q = engram(["run", spec, "--out", out, "-j", "2"], env)
    check(q.returncode == 0, "run with data.source: onehot")
    sub = os.path.join(tmp, "proj", "build")
    os.makedirs(sub)
    shutil.copy(onehot, sub)
    spec2 = write_spec(os.path.join(tmp, "proj"), "dp-path", "build/engram-data-onehot.so")
    q2 = engram(["run", spec2, "--out", out, "-j", "2"], dict(os.environ), cwd=tmp)  # no fixture dir on the path
    check(q2.returncode == 0, "run with data.source given relative to the spec file %s" % q2.stderr[-300:])
    for exp, proc in (("dp-name", q), ("dp-path", q2)):
        if proc.returncode != 0:
            continue
        beta, ok, success = success_by_beta(os.path.join(out, exp))
        check(len(beta) == 4 and ok.all(), "%s: 4 runs ok" % exp)
        check(np.all(success[beta > 10] == 1.0), "%s: one-hot memories retrieved at beta 50: %s" %
              (exp, success[beta > 10]))
        check(np.all(success[beta < 0.01] < 0.5), "%s: not at beta 0.001: %s" % (exp, success[beta < 0.01]))
    if q2.returncode == 0:
        runs = [f for f in os.listdir(os.path.join(out, "dp-path", "runs")) if f.endswith(".h5")]
        with h5py.File(os.path.join(out, "dp-path", "runs", runs[0]), "r") as f:
            recorded = {k: f.attrs[k] for k in f.attrs}
        copied = os.path.join(sub, "engram-data-onehot.so")
        check(recorded.get("data_build_id") == build_id(copied), "the run file records the data plugin's build id")
        plugdirs = os.environ.get("ENGRAM_PLUGIN_PATH", "").split(":")
        model_so = [os.path.join(d, "engram-model-hopfield.so") for d in plugdirs
                    if os.path.exists(os.path.join(d, "engram-model-hopfield.so"))]
        backend_so = [os.path.join(d, "engram-backend-cpu.so") for d in plugdirs
                      if os.path.exists(os.path.join(d, "engram-backend-cpu.so"))]
        check(bool(model_so) and recorded.get("model_build_id") == build_id(model_so[0]),
              "the run file records the model's build id (sha256 of %s)" % model_so[:1])
        check(bool(backend_so) and recorded.get("backend_build_id") == build_id(backend_so[0]),
              "the run file records the backend's build id")
        src = [v for k, v in recorded.items() if k.endswith("data.source")]
        check(any(os.path.realpath(os.path.join(sub, "engram-data-onehot.so")) in str(v) for v in src) or
              any(os.path.join(tmp, "proj", "build/engram-data-onehot.so") in str(v) for v in src),
              "the run file records the plugin's path %s" % src)
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
