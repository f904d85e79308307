/* results.h — the HDF5 results format (docs/results.md).
 * A run is recorded in memory while it executes (eg_record) and written in one
 * go under a temporary name, then renamed: a crash never leaves a half run. */
#ifndef EG_RESULTS_H
#define EG_RESULTS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "base/cfg.h"
#include "engram/host.h"
#include "engram/status.h"

typedef struct eg_record eg_record;

eg_record *eg_record_new(void);
void eg_record_free(eg_record *r);
/* root attributes */
void eg_record_attr_str(eg_record *r, const char *name, const char *value);
void eg_record_attr_num(eg_record *r, const char *name, double value);
void eg_record_attr_int(eg_record *r, const char *name, int64_t value);
void eg_record_attr_bool(eg_record *r, const char *name, int value); /* h5py-style bool (enum of int8) */
void eg_record_attr_strs(eg_record *r, const char *name, const char *const *items, int n); /* 1-d strings */
/* every resolved parameter as a root attribute under its dotted name, /config as YAML, and
 * `defaulted`: the params/task/data keys the spec left to their defaults */
void eg_record_config(eg_record *r, const eg_cfg *resolved);
void eg_record_metric(eg_record *r, const char *name, double value);
/* the declared goal ("max" | "min"; anything else: none) of a recorded metric: its dataset's
 * string attribute `goal`, which collect gathers into summary.h5's `goals` */
void eg_record_metric_goal(eg_record *r, const char *name, const char *goal);
void eg_record_series(eg_record *r, const char *name, int64_t step, double value, double wall_s);
eg_status eg_record_weight(eg_record *r, const char *name, int ndim, const int64_t *shape, const float *data);
eg_status eg_record_artifact(eg_record *r, const char *name, const char *kind, int ndim, const int64_t *shape,
                             const uint8_t *data);
/* how an artifact's tiles are laid out (eg_picture_layout); EG_ERR_NOTFOUND for no such artifact */
eg_status eg_record_artifact_layout(eg_record *r, const char *name, int tile_rows, const char *row_labels);
void eg_record_log(eg_record *r, const char *text, size_t len); /* appends */
/* the status attribute: "ok" | "failed" | "diverged" | "timeout" | "pruned" */
void eg_record_status(eg_record *r, const char *status);
/* NaN/Inf present in a metric or series value */
int eg_record_has_nonfinite(const eg_record *r);

/* write to <path>.tmp-<pid>, fsync, rename to path */
eg_status eg_record_write(const eg_record *r, const char *path, char *err, size_t cap);

/* string root attributes names[0..n) of a run file, in one open, into bufs[i] (cap bytes each;
 * "" for one it lacks); EG_ERR_NOTFOUND when there is no file, EG_ERR_FORMAT when unreadable */
eg_status eg_results_run_attrs(const char *path, int n, const char *const *names, char **bufs, size_t cap);
/* a pseudo attribute name for eg_results_run_attrs: its buffer gets "" when the file holds
 * the run its name says (eg_results_identity), else the reason it does not */
#define EG_RESULTS_IDENTITY "#identity"
/* SHA-256 of a text as 64 hex digits (the config_sha256 attribute of run files) */
void eg_results_text_sha256(const char *text, char hex[65]);
/* The same for many files, read in a guarded child process (results_guard.h): got(ctx, i,
 * status, values) is called for each path in order (values[k] holds names[k], cap bytes); a
 * file that crashes the reader gets EG_ERR_FORMAT and a warning on stderr; got returning
 * non-zero stops. EG_ERR_IO when no child could be started. n_names <= 64. */
typedef int (*eg_attrs_fn)(void *ctx, int i, eg_status st, char **values);
eg_status eg_results_attrs_many(const char *const *paths, int n, int n_names, const char *const *names,
                                size_t cap, eg_attrs_fn got, void *ctx);
/* Reads every object, attribute and dataset of each file in a guarded child: st[i] EG_OK
 * when the file reads cleanly, EG_ERR_NOTFOUND when absent, EG_ERR_FORMAT otherwise (a
 * warning on stderr when it crashed the reader). */
eg_status eg_results_vet_many(const char *const *paths, int n, eg_status *st);
/* what a file name in runs/ is: EG_RUNFILE_FINAL "<id>.h5", EG_RUNFILE_LIVE "<id>.live.h5" (a
 * running run's snapshot), or EG_RUNFILE_NONE (a *.tmp-* file, a dot file, anything else); the
 * stem (the id) is the name less ".h5" / ".live.h5" */
typedef enum { EG_RUNFILE_NONE = 0, EG_RUNFILE_FINAL, EG_RUNFILE_LIVE } eg_runfile_kind;
eg_runfile_kind eg_results_file_kind(const char *name, size_t *stem_len);
/* read a run file's status attribute ("ok", ...) into buf; EG_ERR_NOTFOUND when no file */
eg_status eg_results_run_status(const char *path, char *buf, size_t cap);
/* float32 tensor /weights/<name> of a run file; *data malloc'ed */
eg_status eg_results_read_weight(const char *path, const char *name, int *ndim, int64_t shape[6], float **data,
                                 char *err, size_t cap);
/* collect <exp_dir> again when summary.h5 is missing or older than the newest change to
 * runs/ (a finished run, a live snapshot); a read-only directory keeps its existing summary.
 * `engram show` and `engram report` read through it. */
eg_status eg_results_refresh(const char *exp_dir, char *err, size_t cap);
/* eg_results_collect, eg_results_show: engram/host.h */

#endif
