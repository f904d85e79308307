"""plugin/test_abi_frozen — a model plugin built against a frozen copy of the model
ABI 1.1 headers (tests/fixtures/abi-1.1) loads, describes itself and runs a sweep with
the current host, whose minor is newer: the SDK's minor grows without breaking plugins
built before. Its descriptor is shorter than today's, so the host must not read the
fields appended since (license, url, authors show as absent, not as garbage)."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, skip  # noqa: E402

FIXTURES = os.environ.get("ENGRAM_TEST_PLUGINS", "test-plugins")
FROZEN = os.path.join(FIXTURES, "abi-1.1")

SPEC = """experiment: frozen-abi
model: frozen
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, kind: binary, n: 100, dim: 64}
params: {steps: 5}
task: {kind: retrieve, memories: 20, queries: 10, corrupt: {kind: bitflip, p: 0.1}}
sweep: {grid: {params.beta: [0.001, 1.0]}}
"""


def main():
    if not os.path.exists(os.path.join(FROZEN, "engram-model-frozen.so")):
        skip("the frozen-ABI fixture is not built (%s)" % FROZEN)
    env = dict(os.environ, ENGRAM_PLUGIN_PATH=FROZEN + ":" + os.environ.get("ENGRAM_PLUGIN_PATH", ""))
    p = subprocess.run([ENGRAM, "--version"], capture_output=True, text=True)
    host_minor = int(p.stdout.split("model ABI 1.")[1].split(",")[0])
    check(host_minor > 1, "the host's model ABI minor (1.%d) is newer than the fixture's 1.1" % host_minor)
    p = subprocess.run([ENGRAM, "describe", "frozen"], env=env, capture_output=True, text=True)
    check(p.returncode == 0 and "(model ABI 1.1, build id " in p.stdout, "describe loads the 1.1 plugin")
    check("license  - (not said" in p.stdout and "authors  - (not said" in p.stdout,
          "fields appended after 1.1 are not read from its shorter descriptor")
    with tempfile.TemporaryDirectory(prefix="eg-frozen-") as tmp:
        spec = os.path.join(tmp, "frozen.yaml")
        with open(spec, "w") as f:
            f.write(SPEC)
        p = subprocess.run([ENGRAM, "run", spec, "--out", tmp, "-j", "2"], env=env, capture_output=True, text=True)
        check(p.returncode == 0, "a sweep with the 1.1 plugin finishes (exit %d) %s" % (p.returncode, p.stderr[-400:]))
        if p.returncode == 0:
            with h5py.File(os.path.join(tmp, "frozen-abi", "summary.h5"), "r") as f:
                rows = f["summary"][()]
            beta, success = rows["params.beta"], rows["retrieval/success"]
            check(len(rows) == 4 and (rows["status"] == b"ok").all(), "4 runs ok")
            check(np.all(success[beta == 1.0] == 1.0), "success 1 at beta 1: %s" % success[beta == 1.0])
            check(np.all(success[beta < 0.01] < 0.2), "near chance at beta 0.001: %s" % success[beta < 0.01])
    finish()


if __name__ == "__main__":
    main()
