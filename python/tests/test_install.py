"""`pip install ./python` works offline into a throwaway venv that sees Debian's numpy,
h5py and pandas (--system-site-packages), and `import engram` from outside the source tree
then gives the installed package and its version. The command is the one python/README.md
gives; pip runs with --no-index and no find-links, so it cannot download anything."""
import os
import shutil
import subprocess
import sys
import time

import engram

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)


def test_pip_install_offline(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(PKG, str(src), ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".pytest_cache"))
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_NO_INDEX"] = "1"  # offline: nothing from an index
    t = time.perf_counter()
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True, env=env)
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-deps", str(src)],
                       capture_output=True, text=True, env=env)
    print("\nvenv + pip install: %.1f s" % (time.perf_counter() - t))
    assert p.returncode == 0, p.stdout + p.stderr
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import engram, h5py, pandas; print(engram.__version__); print(engram.__file__)"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    version, where = out.stdout.split()
    assert version == engram.__version__
    assert where.startswith(str(venv)) and "site-packages" in where
    assert sys.executable  # the suite itself runs from the source tree (PYTHONPATH)
