#!/usr/bin/env bash
# Installs every Debian package engram's build, tests, demo and benchmarks need,
# only when something is missing. Safe to run repeatedly; needs root (or sudo).
set -euo pipefail
PKGS=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libyaml-dev
      libhdf5-dev hdf5-tools zlib1g-dev libpng-dev
      python3-h5py python3-pandas python3-numpy python3-pytest python3-yaml
      clang libclang-rt-dev # libFuzzer targets and the sanitizer build
      dataset-fashion-mnist python3-sklearn valgrind
      chromium # headless, for the report's browser test
      slurm-wlm munge) # the cluster tests start a real single-node Slurm (tests/common/slurm_local.py)
# The benchmark peer (PyTorch) is large; install it only when asked.
if [ "${ENGRAM_BENCH_DEPS:-0}" = 1 ]; then PKGS+=(python3-torch); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
