/* runner.h — executing a plan: one child process per run (`-j N` at a time,
 * cores divided), timeouts, crash and NaN handling, resume, shards, progress.
 *
 * The parent never initialises OpenMP, OpenBLAS or a GPU: it parses the spec,
 * opens model plugins (static schemas) and probes backends in short-lived
 * children; only run children load a backend. */
#ifndef EG_RUNNER_H
#define EG_RUNNER_H

#include <stddef.h>
#include <stdio.h>

#include "run/run_internal.h"
#include "spec/spec.h"

/* exit codes of `engram run` */
enum { EG_EXIT_OK = 0, EG_EXIT_RUNS_FAILED = 1, EG_EXIT_USAGE = 2, EG_EXIT_INTERRUPTED = 130 };

typedef struct eg_runner_opts {
    const char *out_root; /* results root ("results") */
    int jobs;             /* concurrent runs, >= 1 */
    double timeout_s;     /* > 0 overrides every run's `timeout`; 0 = the spec's */
    int fail_fast;        /* stop at the first run that is not ok */
    int shard_i, shard_n; /* run plan entries with index % shard_n == shard_i; shard_n <= 1 = all */
    int no_fork;          /* run in this process, one after another (debugging) */
    int display;          /* -1 auto (terminal when stderr is a tty), 0 plain lines, 1 terminal */
} eg_runner_opts;

/* Validate (models, backends, init_from), skip finished runs, execute, collect.
 * Returns an EG_EXIT_* code; messages go to stderr. */
int eg_runner_run(const eg_spec *spec, const eg_runner_opts *opts);

/* One run's state on disk: "ok", "failed", "diverged", "timeout", or "pending" (no file). */
void eg_runner_run_state(const char *out_root, const eg_run_plan *plan, char *buf, size_t cap);

/* Probe a backend in a short-lived child (so this process stays free of BLAS
 * threads and GPU contexts). Returns 1 available, 0 unavailable, -1 cannot be
 * loaded; reason gets the backend's reason or the loader's message, resolved
 * gets the backend's name ("auto" resolves to "cuda" or "cpu"). When summary is
 * non-NULL an available backend is also started so the summary names its device;
 * pass NULL where only availability matters (a run's preflight). */
int eg_backend_probe(const char *name, char *resolved, size_t rcap, char *summary, size_t scap, char *reason,
                     size_t cap);

/* threads each of `jobs` concurrent children gets: max(1, cores / jobs), capped by OMP_NUM_THREADS */
int eg_runner_threads(int jobs);

/* signal name ("SIGSEGV") */
const char *eg_signal_name(int sig);

#endif
