/* report_runs.h — what the report reads from each run file: status, error, wall time,
 * provenance attributes, every series, the log's tail, and (on request) artifacts. */
#ifndef EG_REPORT_RUNS_H
#define EG_REPORT_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "engram/status.h"

typedef struct rp_series {
    char *name;
    int64_t n;
    int64_t *step;
    double *value;
} rp_series;

typedef struct rp_artifact {
    char *name, *kind;
    int64_t shape[4]; /* n, h, w, c */
    int tile_rows;    /* from eg_picture_layout: tiles per column (0 = not said) */
    char *row_labels; /* '|'-separated, or NULL */
    uint8_t *pix;
} rp_artifact;

typedef struct rp_run {
    char id[17];
    char status[16];
    char *error, *log_tail;
    double wall_s;
    /* provenance: engram_version, git_commit, model, model_version, model_build_id,
       backend, device, spec, command_line (absent ones are NULL) */
    char *attr[9];
    rp_series *series;
    int n_series;
} rp_run;

extern const char *const rp_attr_names[9];

/* one run file; EG_ERR_FORMAT with err when it is not readable */
eg_status rp_run_read(const char *path, rp_run *run, char *err, size_t cap);
void rp_run_free(rp_run *run);
/* every artifact of a run file (uint8 [n, h, w, c]; 3-d ones get c = 1) */
eg_status rp_artifacts_read(const char *path, rp_artifact **out, int *n, char *err, size_t cap);
void rp_artifacts_free(rp_artifact *a, int n);

#endif
