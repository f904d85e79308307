/* bench/common.h — shared pieces of engram's benchmarks: options, timing,
 * deterministic data, the engram backend/context, and the PyTorch peer.
 *
 * Methodology (docs/benchmarks.md): each measurement warms up (3 calls), then
 * estimates one call's time and repeats the call N times, N chosen so the
 * measurement takes about `seconds` (default 2 s, env BENCH_SECONDS or
 * --seconds); the figure is the median of the N per-call times. The PyTorch
 * peer (bench/<name>.py, run with /usr/bin/python3 in the same invocation)
 * uses the same shapes, the same data formula and the same methodology and
 * prints one JSON line, which the C side parses. */
#ifndef EG_BENCH_COMMON_H
#define EG_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "engram/tensor.h"

typedef struct bench_opts {
    double seconds;     /* target duration of one measurement */
    int threads;        /* engram backend threads, torch.set_num_threads, OpenBLAS threads */
    int peer;           /* 0 with --no-peer: skip PyTorch */
    const char *python; /* interpreter for the peer (BENCH_PYTHON, default /usr/bin/python3) */
    const char *dir;    /* directory of the peer scripts (BENCH_DIR, default the source's bench/) */
    const char *only;   /* --only a,b: run only these cases (NULL: all) */
    const char *backend; /* --backend NAME: the engram backend timed (default "cpu", env BENCH_BACKEND) */
} bench_opts;

/* 1 when case `name` is selected by --only (or no --only was given) */
int bench_selected(const bench_opts *o, const char *name);

/* Parses --seconds S, --threads T, --only LIST, --no-peer, --help; returns 0, or 1 after printing usage/errors
 * (exit status in *status). */
int bench_parse(int argc, char **argv, const char *name, const char *what, bench_opts *o, int *status);

double bench_now(void); /* monotonic seconds */

typedef void (*bench_fn)(void *arg);
/* Median seconds of one fn(arg) call: 3 warm-up calls, then N timed calls, N about
 * seconds / (estimated time of one call), at least 5. *reps receives N and *best the
 * fastest call (either may be NULL); the minimum is printed beside the median because
 * it is the figure least disturbed by other processes on a shared machine. */
double bench_median(bench_fn fn, void *arg, double seconds, int *reps, double *best);

/* The deterministic data formula both sides use, for flat index i (int64 arithmetic, exact
 * in numpy too), p = 16777213 (prime), t = i mod p:
 *   value(i, seed) = ((t² mod p)·7919 + t·104729 + (seed + 1)·1299709) mod p) / p
 * rounded to float32; in [0, 1). Quadratic in t, so neighbouring values look unrelated. */
float bench_value(int64_t i, int64_t seed);
void bench_fill(float *dst, int64_t n, int64_t seed);
double bench_checksum(const float *x, int64_t n); /* sum in double */

/* Opens backend o->backend (threads = o->threads for the CPU) and a context on it; prints the
 * reason and returns nonzero on failure (a CUDA build without a device says so here). */
int bench_open(const bench_opts *o, eg_backend **backend, eg_ctx **ctx);
void bench_close(eg_backend *backend, eg_ctx *ctx);
/* Prints machine, thread and environment facts (OPENBLAS_* / OMP_* variables that are set). */
void bench_print_env(const bench_opts *o, eg_ctx *ctx);

/* The PyTorch peer: runs `python dir/script --threads T --seconds S extra` and keeps the
 * last stdout line that starts with '{'. ok = 0 with a reason when it could not run. */
typedef struct bench_peer {
    int ok;
    char line[8192];
    char why[512];
} bench_peer;
void bench_peer_run(const bench_opts *o, const char *script, const char *extra, bench_peer *p);
/* Prints "# torch VERSION, N threads, BLAS LIB[, env ...]" from a peer that ran. */
void bench_peer_print_info(const bench_peer *p);
/* Value of "key": number in the peer's JSON line; NAN when absent. */
double bench_peer_num(const bench_peer *p, const char *key);
/* Value of "key": "string"; "" when absent. */
void bench_peer_str(const bench_peer *p, const char *key, char *buf, size_t cap);

/* Prints the machine-readable line "result: CASE backend=NAME seconds=S" for one timed engram
 * case (S: median seconds per call). bench/run.sh pairs these lines across backends
 * (BENCH_BACKENDS="cpu cuda") and prints the GPU/CPU ratio of each case. */
void bench_result(const bench_opts *o, const char *case_name, double seconds);

/* relative difference |a - b| / max(|b|, tiny) */
double bench_reldiff(double a, double b);

#endif
