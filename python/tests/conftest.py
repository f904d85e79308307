"""Fixtures: small experiments made by the real `engram` binary in a temporary directory.

The binary and plugins come from the environment ctest sets (tests/CMakeLists.txt
EG_TEST_ENV): ENGRAM_BIN, ENGRAM_TEST_PLUGINS (the faulty test model), ENGRAM_PLUGIN_PATH;
without them, from <repo>/build."""
import json
import os
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ENGRAM_BUILD", os.path.join(REPO, "build"))
ENGRAM = os.environ.get("ENGRAM_BIN", os.path.join(BUILD, "engram"))
TEST_PLUGINS = os.environ.get("ENGRAM_TEST_PLUGINS", os.path.join(BUILD, "test-plugins"))
PLUGINS = os.environ.get("ENGRAM_PLUGIN_PATH", os.path.join(BUILD, "plugins"))

COMMON = """model: faulty
backend: cpu
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
"""

# x in {0.5, 3} x mode {ok, nan} x seeds {0, 1, 2}: fault/score = 2x + seed for ok runs;
# mode nan makes fault/score NaN and the run "diverged" (never counted in the statistics)
FAULTY = "experiment: faulty\nseeds: [0, 1, 2]\n" + COMMON + """sweep:
  grid: {params.x: [0.5, 3]}
  cases:
    - {params.mode: ok}
    - {params.mode: nan}
"""

# real curves and pictures: both Hopfield memories on random +/-1 patterns, 2 seeds
HOPFIELD = """experiment: hop
model: hopfield
backend: cpu
seeds: [0, 1]
data: {source: random-patterns, n: 64, dim: 32}
params: {steps: 3}
task: {kind: retrieve, memories: 16, queries: 4, blocks: 2, corrupt: {kind: noise, sigma: 0.8}}
sweep:
  grid: {task.corrupt.sigma: [0.8, 1.6]}
  cases:
    - {params.variant: mchn, params.beta: 1.0}
    - {params.variant: gmm, params.sigma: 1.0}
"""

# 1000 runs: 10 x values x 10 epoch counts x 10 seeds
BIG = "experiment: big\nseeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + COMMON + """sweep:
  grid:
    params.x: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    params.epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"""


@pytest.fixture(scope="session")
def engram_env(tmp_path_factory):
    """The environment `engram` runs in: a plugin dir holding the faulty model first."""
    if not os.access(ENGRAM, os.X_OK):
        pytest.fail("no engram binary at %s (set ENGRAM_BIN or build the project)" % ENGRAM)
    plug = tmp_path_factory.mktemp("plugins")
    os.symlink(os.path.join(TEST_PLUGINS, "faulty_model.so"), str(plug / "engram-model-faulty.so"))
    env = dict(os.environ, ENGRAM_PLUGIN_PATH="%s:%s" % (plug, PLUGINS), HDF5_USE_FILE_LOCKING="FALSE",
               OMP_NUM_THREADS="1")
    return env


def run_engram(env, *args, check=True):
    p = subprocess.run([ENGRAM] + [str(a) for a in args], env=env, capture_output=True, text=True)
    if check and p.returncode not in (0, 1):  # 1: some run failed (the faulty sweeps fail on purpose)
        raise AssertionError("engram %s: exit %d\n%s\n%s" % (" ".join(map(str, args)), p.returncode, p.stdout,
                                                            p.stderr))
    return p


def show_json(env, exp_dir):
    return json.loads(run_engram(env, "show", exp_dir, "--json").stdout)


def make(tmp_path_factory, env, name, spec, *extra):
    root = tmp_path_factory.mktemp(name)
    path = root / "spec.yaml"
    path.write_text(spec)
    run_engram(env, "run", path, "--out", root / "results", "-j", "2", "--plain", *extra)
    return str(root / "results" / name)


@pytest.fixture(scope="session")
def faulty_dir(tmp_path_factory, engram_env):
    return make(tmp_path_factory, engram_env, "faulty", FAULTY)


@pytest.fixture(scope="session")
def hop_dir(tmp_path_factory, engram_env):
    return make(tmp_path_factory, engram_env, "hop", HOPFIELD)


@pytest.fixture(scope="session")
def big_dir(tmp_path_factory, engram_env):
    return make(tmp_path_factory, engram_env, "big", BIG)


@pytest.fixture
def faulty_copy(tmp_path, faulty_dir):
    """A copy of the faulty experiment a test may change."""
    dst = tmp_path / "results" / "faulty"
    shutil.copytree(faulty_dir, str(dst))
    os.utime(str(dst / "summary.h5"))  # copytree may stamp runs/ after summary.h5
    return str(dst)
