/* tasks.h — the tasks layer's functions for the host (not SDK): the built-in task
 * kinds' rules that only the data can decide (an option against the loaded items'
 * count and shape). The run applies them when its task begins; the runner's
 * preflight applies the same functions to the dataset it loaded, before any run starts. */
#ifndef EG_TASKS_H
#define EG_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfg.h"
#include "engram/data.h"
#include "engram/retrieval.h"

/* task.corrupt.* of a resolved run config (eg_corruption_from_task reads the run's) */
eg_corruption eg_corruption_from_cfg(const eg_cfg *run);

/* The rules below return 0 when the options fit ds, else 1 with *key = the full key to
 * blame ("task.corrupt.size") and msg = what was expected, without the key. */

/* the corruption against the items' shape: the mask's square within an image, a shift
 * less than the width, rotate-rgb on 3 channels (eg_corruption_check's message is
 * "KEY: msg") */
int eg_corruption_problem(const eg_corruption *c, const eg_dataset *ds, const char **key, char *msg, size_t cap);
/* retrieve: at least one block of `memories` items, `blocks` <= the full blocks, and the
 * corruption (eg_retrieval_begin) */
int eg_retrieve_problem(int64_t memories, int64_t queries, int64_t blocks, const eg_corruption *c, const eg_dataset *ds,
                        const char **key, char *msg, size_t cap);
/* every data rule of the run's task kind (built-in kinds; a kind a plugin defines has none
 * here), ds being the split data.split names; splits: the source's '|'-separated splits
 * (task.train_split and task.test_split must be among them), NULL = not checked */
int eg_task_data_problem(const eg_cfg *run, const eg_dataset *ds, const char *splits, const char **key, char *msg,
                         size_t cap);

#endif
