/* run_internal.h — the run context (struct eg_run) behind plugin.h's run API,
 * and eg_run_execute, the body of one run: create -> [load] -> [fit] -> eval ->
 * save, then the run file. It runs in a child process forked by the runner, or
 * in-process (`engram run --no-fork`, tests). */
#ifndef EG_RUN_INTERNAL_H
#define EG_RUN_INTERNAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/version.h"
#include "engram/plugin.h"
#include "registry/loader.h"
#include "results/results.h"
#include "run_adaptive.h"
#include "spec/spec.h"

/* Exit codes of a run's child process (and return values of eg_run_execute).
 * Distinct from 1 and 2, which sanitizers, exit(1) in a plugin or a library use:
 * the runner trusts a "file written" code only when the file says the same status. */
enum {
    EG_RUN_EXIT_OK = 0,
    EG_RUN_EXIT_FAILED = 65,      /* run file written with status failed */
    EG_RUN_EXIT_DIVERGED = 66,    /* run file written with status diverged */
    EG_RUN_EXIT_TIMEOUT = 67,     /* run file written with status timeout */
    EG_RUN_EXIT_NOWRITE = 68,     /* the run file could not be written (message on stderr) */
    EG_RUN_EXIT_PRUNED = 69,      /* run file written with status pruned (sweep.adaptive stopped it) */
    EG_RUN_EXIT_INTERRUPTED = 130 /* cancelled by a signal before the deadline: nothing written */
};

typedef struct eg_run_opts {
    const char *out_root;         /* results root; the file goes to <out_root>/<experiment>/runs/<id>.h5 */
    const eg_model_plugin *model; /* opened by the caller */
    int threads;                  /* backend threads; 0 = backend default */
    double deadline;              /* absolute CLOCK_MONOTONIC seconds; 0 = none */
    int progress_fd;              /* "progress <done> <total> <unit>\n" lines; -1 = none */
    int install_signals;          /* SIGINT/SIGTERM set the cancel flag */
    int capture_fd;               /* the child's stdout+stderr file: it becomes /log; -1 = none */
    const eg_adaptive *adaptive;  /* sweep.adaptive (ASHA rungs), NULL = none */
} eg_run_opts;

typedef struct eg_run_split {
    char *split;
    eg_dataset *ds;
} eg_run_split;

typedef struct eg_run_list {
    char *key;
    double *values;
    int n;
} eg_run_list;

struct eg_run {
    const eg_run_plan *plan;
    const eg_cfg *cfg;
    const eg_model_plugin *model;
    eg_backend *backend;
    eg_ctx *ctx;
    eg_record *record;
    double t0;       /* monotonic start */
    double deadline; /* monotonic, 0 = none */
    int progress_fd;
    int capture_fd;       /* >= 0: log lines go to stderr only, and /log is this file at the end */
    double last_progress; /* monotonic time of the last progress line */
    char live_path[4200]; /* runs/<id>.live.h5: the record so far, rewritten every EG_LIVE_EVERY_S; "" = none */
    double last_live;     /* monotonic time of the last snapshot */
    char init_path[4096]; /* resolved init_from run file, "" when none */
    eg_run_split *splits;
    int n_splits;
    eg_run_list *lists; /* eg_param_list storage */
    int n_lists;
    eg_status fail_status; /* first eg_run_fail status, EG_OK when none */
    char fail_msg[2048];
    eg_run_asha asha; /* sweep.adaptive: the rungs this run reached, and whether one pruned it */
};

/* A running run's series are on disk at most this many seconds late (ENGRAM_LIVE_EVERY
 * overrides it): its record so far, status "running", in runs/<id>.live.h5, replaced
 * atomically and removed once the run file is written. `engram show`/`report` read it. */
#define EG_LIVE_EVERY_S 5.0
void eg_run_live_snapshot(eg_run *run, int force);

/* Execute one run and write its file (except when interrupted). Returns an EG_RUN_EXIT_* code. */
int eg_run_execute(const eg_run_plan *plan, const eg_run_opts *opts);

/* Write the run file of a run whose child could not (crash, killed after a timeout):
 * status, config, root attributes, `error`, and /log = log (the child's output tail). */
eg_status eg_run_write_failure(const eg_run_plan *plan, const eg_model_plugin *model, const char *out_root,
                               const char *status, const char *message, const char *log, double start_wall,
                               double wall_s, char *err, size_t cap);

/* the cancel flag shared with the signal handlers (also set by eg_run_request_cancel) */
void eg_run_request_cancel(void);
int eg_run_cancel_requested(void);
void eg_run_install_signals(void);

/* <out_root>/<experiment>/runs/<id>.h5 into buf */
void eg_run_file_path(const char *out_root, const char *experiment, const char *id, char *buf, size_t cap);
/* init_from resolution: a path (contains '/' or ends in .h5) or a run id of the same experiment */
void eg_run_init_path(const char *out_root, const eg_cfg *cfg, char *buf, size_t cap);


#endif
