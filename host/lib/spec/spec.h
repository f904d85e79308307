/* spec.h — loading an experiment spec, applying overrides, validating every
 * key, expanding the sweep into runs with content-hashed ids. */
#ifndef EG_SPEC_H
#define EG_SPEC_H

#include "base/cfg.h"
#include "engram/host.h"

struct eg_run_plan {
    char id[17]; /* 16 hex chars of the hash of the canonical resolved config */
    int index;   /* position in the plan */
    eg_cfg cfg;  /* fully resolved: experiment, description, model, backend, seed,
                    data.*, params.* (defaults filled), task.*, init_from, timeout */
};

struct eg_spec {
    char *path;
    char *experiment;
    char *model;
    eg_cfg base; /* the spec after overrides, before sweep expansion, flattened as written:
                    sweep axes as "sweep.grid.<key>" / "sweep.zip.<key>" lists, cases as
                    "sweep.cases.<n>.<key>" (n from 1); no defaults */
    eg_run_plan *runs;
    int n_runs;
    char **swept_keys; /* keys whose value differs between runs (seed included when varied) */
    int n_swept;
    char **overrides;  /* the command-line overrides ("key=value"), as given */
    int n_overrides;
    struct spec_incls *includes; /* where each included file was included from (spec_internal.h) */
    struct spec_trace *trace;    /* every value as merged, for eg_spec_explain */
};

/* eg_spec_load, eg_spec_free and the accessors: engram/host.h */

/* ---- errors found after the spec loaded (the runner's preflight: spec_blame.c) ----
 * Phrased as the loader's are (spec_diag.c): "FILE:LINE:COL: KEY: message", or
 * "<command line>: override 'ARG': message". Both return EG_ERR_SPEC. */
/* at the value `at` (a value of one of s's runs, or NULL: "FILE: KEY: message") */
eg_status eg_spec_fail_value(const eg_spec *s, const eg_value *at, const char *key, char *err, size_t cap,
                             const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* at key of the run config `run`. A key the spec does not set (its default applies) has no
 * position: the error is then placed at the nearest key above it that the spec sets, its
 * section's `kind` or `source` ("task.corrupt.size" -> task.corrupt.kind, else task.kind;
 * "data.path" -> data.source; "params.x" -> model), and says "KEY (not set; default V): ". */
eg_status eg_spec_fail_key(const eg_spec *s, const eg_cfg *run, const char *key, char *err, size_t cap,
                           const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The id of a resolved run: 16 hex chars of SHA-256 of its canonical config
 * without experiment, description and timeout, `model` taken as model_name
 * (the plugin's descriptor name; NULL keeps the cfg's value). */
void eg_spec_run_id(const eg_cfg *resolved, const char *model_name, char id[17]);

#endif
