"""cli/spec_clash — two spec files with one experiment name never mix silently: after a.yaml
ran, `engram run b.yaml` (same `experiment:`) is exit 2 naming both files and writes nothing;
`experiment=other` or `--mix-specs` lets it run; a.yaml again with an override is its own
sweep growing and runs."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup  # noqa: E402

SPEC = """experiment: shared-name
model: faulty
backend: cpu
seeds: [0]
data: {source: random-patterns, n: 20, dim: 8}
task: {kind: retrieve, memories: 10, queries: 2}
params: {x: %s}
"""


def main():
    tmp, env = setup("eg-spec-clash-")
    out = os.path.join(tmp, "r")
    paths = []
    for name, x in (("a.yaml", "1.0"), ("b.yaml", "2.0")):
        paths.append(os.path.join(tmp, name))
        with open(paths[-1], "w") as f:
            f.write(SPEC % x)
    a, b = paths

    def run(*args):
        return subprocess.run([ENGRAM, "run"] + list(args) + ["--out", out, "--plain"], env=env,
                              capture_output=True, text=True)

    runs = os.path.join(out, "shared-name", "runs")
    check(run(a).returncode == 0, "a.yaml runs")
    before = sorted(os.listdir(runs))
    p = run(b)
    check(p.returncode == 2 and a in p.stderr and b in p.stderr and "--mix-specs" in p.stderr,
          "b.yaml with the same experiment name: exit 2 naming both specs:\n" + p.stderr)
    check(sorted(os.listdir(runs)) == before, "and nothing was written")
    p = run(b, "experiment=shared-name-b")
    check(p.returncode == 0 and os.path.isdir(os.path.join(out, "shared-name-b", "runs")),
          "experiment=NAME puts it in its own directory")
    p = run(a, "seeds=[0,1]")
    check(p.returncode == 0 and len(os.listdir(runs)) == len(before) + 1, "a.yaml with an override grows its sweep")
    p = run(b, "--mix-specs")
    check(p.returncode == 0 and len(os.listdir(runs)) == len(before) + 2, "--mix-specs adds b's run anyway")
    finish()


if __name__ == "__main__":
    main()
