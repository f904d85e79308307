#!/usr/bin/env bash
# unit/scope_valgrind — runs the scope test under valgrind: no invalid reads or
# writes and no definite or indirect leaks. OpenMP/OpenBLAS thread pools leave
# "still reachable" and "possibly lost" blocks; those are not failures.
set -u
if ! command -v valgrind >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "FAILED: valgrind is not installed (CI=true: scripts/setup-deps.sh installs it)"
        exit 1
    fi
    echo "SKIPPED: valgrind is not installed"
    exit 77
fi
build=${ENGRAM_BUILD:-$(pwd)}
bin=$build/tests/test-unit-test_scope
if [ ! -x "$bin" ]; then
    echo "missing $bin (build the test-unit-test_scope target)" >&2
    exit 1
fi
# an AddressSanitizer build cannot run under valgrind; there LeakSanitizer checks the same
if ldd "$bin" 2>/dev/null | grep -q libasan; then
    echo "SKIPPED: $bin is built with AddressSanitizer (its LeakSanitizer covers this check)"
    exit 77
fi
export ENGRAM_PLUGIN_PATH=${ENGRAM_PLUGIN_PATH:-$build/plugins}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
log=$(mktemp)
supp=$(mktemp)
trap 'rm -f "$log" "$supp"' EXIT
# library constructors run by dlopen (OpenBLAS, libgomp) keep small blocks we cannot free
cat >"$supp" <<'SUPP'
{
   shared-library-constructor
   Memcheck:Leak
   match-leak-kinds: definite,indirect,possible
   fun:*alloc
   ...
   fun:call_init
   ...
   fun:_dl_init
}
SUPP
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --track-origins=yes --suppressions="$supp" "$bin" >"$log" 2>&1
rc=$?
tail -n 25 "$log"
if [ $rc -ne 0 ]; then
    echo "valgrind reported errors (exit $rc)" >&2
    exit 1
fi
grep -q "0 failed" "$log" || { echo "the scope test did not pass under valgrind" >&2; exit 1; }
echo "valgrind: clean"
