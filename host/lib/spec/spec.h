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
};

/* eg_spec_load, eg_spec_free and the accessors: engram/host.h */

/* The id of a resolved run: 16 hex chars of SHA-256 of its canonical config
 * without experiment, description and timeout, `model` taken as model_name
 * (the plugin's descriptor name; NULL keeps the cfg's value). */
void eg_spec_run_id(const eg_cfg *resolved, const char *model_name, char id[17]);

#endif
