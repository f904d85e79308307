#!/usr/bin/env bash
# Runs engram's core benchmarks from BUILD_DIR/bench (bench-gemm, bench-retrieval, bench-mlp;
# BENCH_ALL=1 adds every other bench-* there, e.g. the minutes-long bwdam_phi), each against
# its PyTorch peer in the same invocation,
# then prints one compact table of their "summary:" lines.
#   ./bench/run.sh [BUILD_DIR] [bench options: --seconds S --threads T --no-peer]
#   BENCH_ONLY="gemm mlp" ./bench/run.sh build     # a subset
#   BENCH_BACKENDS="cpu cuda" ./bench/run.sh build # each bench on each backend (the PyTorch peer
#                                                    # runs with the first only), then the
#                                                    # GPU/CPU ratio of every case
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
backends="${BENCH_BACKENDS:-cpu}"
for b in $benches; do
  first=1
  for be in $backends; do
    extra=()
    [ "$first" = 1 ] || extra=(--no-peer)
    first=0
    "$bin/bench-$b" --backend "$be" "${extra[@]}" "$@" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
      echo "run.sh: bench-$b --backend $be exited with status $rc" | tee -a "$log" >&2
      status=1
    fi
    echo | tee -a "$log"
  done
done
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
{
  echo "== summary ($(date '+%Y-%m-%d %H:%M'), $(nproc) cores, $cpu) =="
  grep '^summary: ' "$log" | sed 's/^summary: //'
  set -- $backends
  if [ $# -gt 1 ]; then
    # "result: CASE backend=NAME seconds=S" lines: each case on the first backend against the others
    echo "== per backend (seconds per call, median; ratio = $1 time / other time) =="
    grep '^result: ' "$log" | awk -v base="$1" '
      { c = $2; b = substr($3, 9); t = substr($4, 9); sec[c, b] = t; if (!(c in seen)) { seen[c] = 1; order[n++] = c } bs[b] = 1 }
      END { for (i = 0; i < n; i++) { c = order[i]; line = sprintf("%-26s", c)
              for (b in bs) if ((c, b) in sec) line = line sprintf("  %s %.4g s", b, sec[c, b])
              for (b in bs) if (b != base && (c, b) in sec && (c, base) in sec)
                line = line sprintf("  %s/%s %.1fx", b, base, sec[c, base] / sec[c, b])
              print line } }'
  fi
} > "$log.tmp"
cat "$log.tmp" | tee -a "$log"
rm -f "$log.tmp"
echo "(full log: $log)"
exit $status
