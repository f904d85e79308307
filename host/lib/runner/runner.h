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
#include "engram/host.h"
#include "base/signame.h"
#include "spec/spec.h"

/* EG_EXIT_*, eg_runner_opts, eg_runner_run, eg_runner_run_state, eg_backend_probe: engram/host.h */

/* threads each of `jobs` concurrent children gets: max(1, cores / jobs), capped by OMP_NUM_THREADS */
int eg_runner_threads(int jobs);


#endif
