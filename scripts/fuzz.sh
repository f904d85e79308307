#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan, coverage on
# the whole library) and fuzzes each for a fixed time, on top of its committed corpus.
#   scripts/fuzz.sh [TOTAL_SECONDS] [NAME...]     (default: 180 s shared by all targets)
# A target's new inputs go to BUILD/corpus-work/<name> (never into the repository);
# a crash, leak, timeout or out-of-memory input lands in BUILD/crashes/ and the script
# exits 1 naming it: fix the bug, then commit the input as
# tests/fuzz/corpus/<name>/regress-<what> so the replay test fuzz/<name> keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-180}
shift || true
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in tests/fuzz/fuzz_*.c; do n=$(basename "$f" .c); names+=("${n#fuzz_}"); done
fi
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no targets in tests/fuzz/"; exit 1; }
per=$(( TOTAL / ${#names[@]} ))
[ "$per" -ge 5 ] || per=5

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DEG_FUZZ=ON -DEG_CUDA=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target $(printf 'fuzz-%s ' "${names[@]}") >/dev/null

mkdir -p "$BUILD/crashes"
# a small quarantine keeps the fuzzer's memory, and so the guarded readers' fork, small
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export HDF5_USE_FILE_LOCKING=FALSE
# the spec target validates against the schema fixture, a plugin of the normal build
# (plugins cannot link into the instrumented build): `make test` builds it in build/
if [ -z "${ENGRAM_TEST_PLUGINS:-}" ] && [ -d build/test-plugins ]; then export ENGRAM_TEST_PLUGINS=$PWD/build/test-plugins; fi
failed=()
for n in "${names[@]}"; do
  seeds=tests/fuzz/corpus/$n
  work=$BUILD/corpus-work/$n
  mkdir -p "$work"
  log=$BUILD/fuzz-$n.log
  echo "fuzz: $n for ${per}s (seeds: $(ls "$seeds" | wc -l) files)"
  if ! "$BUILD/tests/fuzz/fuzz-$n" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$n-" "$work" "$seeds" >"$log" 2>&1; then
    echo "fuzz: $n FAILED — see $log; inputs:"; ls -1 "$BUILD/crashes/" | grep "^$n-" | sed 's/^/  /' || true
    grep -m5 -E "ERROR: |SUMMARY: |runtime error" "$log" | sed 's/^/  /' || true
    failed+=("$n")
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tail -2 | tr -s ' ' | tr '\n' ' ' | sed "s/^/  $n: /"; echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#names[@]} target(s) ran ${per}s each with no crash"
