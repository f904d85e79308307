#!/usr/bin/env bash
# Runs engram's core benchmarks from BUILD_DIR/bench (bench-gemm, bench-retrieval, bench-mlp;
# BENCH_ALL=1 adds every other bench-* there, e.g. the minutes-long bwdam_phi), each against
# its PyTorch peer in the same invocation,
# then prints one compact table of their "summary:" lines.
#   ./bench/run.sh [BUILD_DIR] [bench options: --seconds S --threads T --no-peer]
#   BENCH_ONLY="gemm mlp" ./bench/run.sh build     # a subset
# The full log is also written to BUILD_DIR/bench/results.txt.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-build}" 2>/dev/null && pwd)" || { echo "run.sh: no build directory ${1:-build}" >&2; exit 2; }
[ $# -gt 0 ] && shift
bin="$build/bench"
if [ -n "${BENCH_ONLY:-}" ]; then
  benches="$BENCH_ONLY"
else
  benches="gemm retrieval mlp"
  [ "${BENCH_ALL:-0}" = 1 ] && for f in "$bin"/bench-*; do
    n="${f##*/bench-}"
    [ -x "$f" ] && [ -f "$f" ] || continue
    case " $benches " in *" $n "*) ;; *) benches="$benches $n" ;; esac
  done
fi
for b in $benches; do
  if [ ! -x "$bin/bench-$b" ]; then
    echo "run.sh: $bin/bench-$b not found; build first (make, or cmake --build $build)" >&2
    exit 2
  fi
done
export ENGRAM_PLUGIN_PATH="${ENGRAM_PLUGIN_PATH:-$build/plugins}"
export BENCH_DIR="${BENCH_DIR:-$here}"
log="$bin/results.txt"
: > "$log"
status=0
for b in $benches; do
  "$bin/bench-$b" "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "run.sh: bench-$b exited with status $rc" | tee -a "$log" >&2
    status=1
  fi
  echo | tee -a "$log"
done
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
{
  echo "== summary ($(date '+%Y-%m-%d %H:%M'), $(nproc) cores, $cpu) =="
  grep '^summary: ' "$log" | sed 's/^summary: //'
} > "$log.tmp"
cat "$log.tmp" | tee -a "$log"
rm -f "$log.tmp"
echo "(full log: $log)"
exit $status
