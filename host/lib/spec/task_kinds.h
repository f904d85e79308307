/* task_kinds.h — the built-in task kinds: each kind's `task.*` schema (keys relative
 * to `task.`, validated by the spec loader, defaults filled) and its cross-key
 * checks. A model plugin lists the kinds it supports in eg_model_desc.tasks and
 * may add keys with eg_model_desc.task_params. Adding a kind = one schema table
 * plus one row in the kinds table of task_kinds.c. */
#ifndef EG_TASKS_H
#define EG_TASKS_H

#include <stddef.h>

#include "base/cfg.h"
#include "engram/plugin.h"

/* Rules between keys, run after types, ranges and defaults. `run` is the whole
 * resolved run config (task.* keys with their prefix). Returns 0 when fine, else
 * 1 with *key set to the full key to blame ("task.queries") and msg filled. */
typedef int (*eg_task_check_fn)(const eg_cfg *run, const char **key, char *msg, size_t cap);

typedef struct eg_task_def {
    const char *name;    /* "retrieve" */
    const char *summary; /* one line */
    const eg_param_spec *params;
    int n_params;
    eg_task_check_fn check; /* NULL when there is nothing to cross-check */
} eg_task_def;

int eg_task_def_count(void);
const eg_task_def *eg_task_def_at(int i);
const eg_task_def *eg_task_def_find(const char *name);
/* the built-in schema of a kind (keys relative to `task.`), NULL and *n = 0 for an unknown kind */
const eg_param_spec *eg_task_schema(const char *kind, int *n);

#endif
