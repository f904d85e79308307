#!/usr/bin/env bash
# fault-sweep.sh — build engram with fault injection under ASan + UBSan and run the
# fault sweep (docs/reliability.md, "Fault injection"): every allocation, file open,
# write, rename, fsync and HDF5 write call of a smoke sweep's `engram run`, `collect`,
# `show` and `report` is made to fail in turn, and engram must end with a clear error
# and nothing half-written, never crash or leak; then a real disk-full check on tmpfs.
#
#   scripts/fault-sweep.sh [fault_sweep.py options: --full, --stride N, --classes ...]
#   BUILD=build-fault JOBS=2 (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-fault}
JOBS=${JOBS:-2}
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DEG_SANITIZE=ON -DEG_CUDA=OFF -DEG_FAULT_INJECT=ON \
      -DEG_WERROR=ON ${CMAKE_FLAGS:-} > "$BUILD/configure.log" || { cat "$BUILD/configure.log"; exit 1; }
# the executable, the CPU backend and the plugin of the smoke sweep only, not the tests
cmake --build "$BUILD" -j "$JOBS" --target engram-cli engram-backend-cpu engram-model-hopfield
exec /usr/bin/python3 tests/faultsweep/fault_sweep.py --engram "$BUILD/engram" --jobs "$JOBS" \
     --work "${TMPDIR:-/tmp}/engram-fault-sweep" "$@"
