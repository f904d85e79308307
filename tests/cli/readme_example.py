"""The README's Python example (the engram package from python/) runs as written against a real
quickstart run."""
import os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import skip  # noqa: E402

src = os.environ["ENGRAM_SOURCE"]
engram = os.environ["ENGRAM_BIN"]
readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
if len(blocks) != 1:
    print(f"expected one python block in README.md, found {len(blocks)}")
    print("0 passed, 1 failed")
    sys.exit(1)
if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    skip("Fashion-MNIST not installed (scripts/setup-deps.sh installs it)")

passed = failed = 0
with tempfile.TemporaryDirectory() as tmp:
    # a reduced quickstart: same experiment and sweep axes, fewer blocks and seeds
    r = subprocess.run([engram, "run", os.path.join(src, "configs/quickstart.yaml"), "task.blocks=3",
                        "seeds=[0]", "--out", os.path.join(tmp, "results")],
                       capture_output=True, text=True)
    ok = r.returncode == 0
    passed += ok; failed += not ok
    if not ok:
        print(r.stderr)
    env = dict(os.environ, PYTHONPATH=os.path.join(src, "python"), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run(["/usr/bin/python3", "-c", blocks[0]], cwd=tmp, capture_output=True, text=True, env=env)
    print(r.stdout)
    ok = r.returncode == 0 and "mchn" in r.stdout and "gmm" in r.stdout and "ok" in r.stdout
    passed += ok; failed += not ok
    if not ok:
        print(r.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
