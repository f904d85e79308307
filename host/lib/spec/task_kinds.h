/* task_kinds.h — the built-in task kinds: each kind's `task.*` schema (keys relative
 * to `task.`, validated by the spec loader, defaults filled) and its cross-key
 * checks. A model plugin lists the kinds it supports in eg_model_desc.tasks and
 * may add keys with eg_model_desc.task_params, or define kinds of its own
 * (eg_model_desc.task_kinds, model ABI 1.3). Adding a built-in kind = one schema
 * table plus one row in the kinds table of task_kinds.c. */
#ifndef EG_TASKS_H
#define EG_TASKS_H

#include <stddef.h>

#include "base/cfg.h"
#include "engram/host.h"
#include "engram/plugin.h"

/* eg_task_def: engram/plugin.h; eg_task_def_count/at/find, eg_model_task_def*: engram/host.h */
/* the schema of a kind as model d sees it (keys relative to `task.`; a built-in kind or
 * one d defines), NULL and *n = 0 for an unknown kind */
const eg_param_spec *eg_task_schema(const eg_model_desc *d, const char *kind, int *n);

#endif
