/* spec.h — loading an experiment spec, applying overrides, validating every
 * key, expanding the sweep into runs with content-hashed ids. */
#ifndef EG_SPEC_H
#define EG_SPEC_H

#include "base/cfg.h"

typedef struct eg_run_plan {
    char id[17]; /* 16 hex chars of the hash of the canonical resolved config */
    int index;   /* position in the plan */
    eg_cfg cfg;  /* fully resolved: experiment, description, model, backend, seed,
                    data.*, params.* (defaults filled), task.*, init_from, timeout */
} eg_run_plan;

typedef struct eg_spec {
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
} eg_spec;

/* Load, override (argv-style "key=value"), validate and expand (docs/spec.md).
 * Runs are ordered cases x grid x zip x seeds: index = ((case*G + grid)*Z + zip)*S + seed,
 * the grid's last-written axis varying fastest. On failure: EG_ERR_SPEC (EG_ERR_IO for an
 * unreadable file) with err = "file:line:col: key: what was expected[; did you mean 'x'?]",
 * "<command line>: override 'ARG': ..." for an override, "file: key: ..." for a missing key. */
eg_status eg_spec_load(const char *path, const char *const *overrides, int n_overrides, eg_spec **out, char *err,
                       size_t cap);
void eg_spec_free(eg_spec *s);
/* The id of a resolved run: 16 hex chars of SHA-256 of its canonical config
 * without experiment, description and timeout, `model` taken as model_name
 * (the plugin's descriptor name; NULL keeps the cfg's value). */
void eg_spec_run_id(const eg_cfg *resolved, const char *model_name, char id[17]);
/* closest candidate within edit distance, or NULL */
const char *eg_did_you_mean(const char *word, const char *const *candidates, int n);

#endif
