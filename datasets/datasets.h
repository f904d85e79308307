/* datasets.h — dataset sources compiled into libengram. Each source declares
 * its `data.*` options as a static schema (validated by the spec loader and
 * listed by `engram datasets`) and a loader. Every reader checks magic
 * numbers, sizes and truncation and reports the file and byte offset. */
#ifndef EG_DATASETS_H
#define EG_DATASETS_H

#include <stddef.h>

#include "base/cfg.h"
#include "engram/data.h"
#include "engram/plugin.h"

typedef struct eg_data_source {
    const char *name;    /* "fashion-mnist" */
    const char *summary; /* one line */
    const eg_param_spec *options; /* keys relative to `data.` (excluding `source`) */
    int n_options;
    const char *splits;  /* '|'-separated valid values of data.split, e.g. "train|test" */
    /* load split; data_cfg holds the resolved data.* keys (with the `data.` prefix) */
    eg_status (*load)(const eg_cfg *data_cfg, const char *split, eg_dataset **out, char *err, size_t cap);
} eg_data_source;

int eg_data_source_count(void);
const eg_data_source *eg_data_source_at(int i);
const eg_data_source *eg_data_source_find(const char *name);
/* frees a dataset returned by a loader (x, y, strings and the struct) */
void eg_dataset_free(eg_dataset *ds);
/* allocate an empty dataset with n x dim floats (and labels when labelled) */
eg_dataset *eg_dataset_alloc(const char *source, const char *split, int64_t n, int c, int h, int w, int labelled);

/* Preflight for the spec layer / runner: loads (and frees) the split named by
 * cfg's data.split (or the source's default) of the source named by
 * data.source, so a missing, truncated or malformed file is reported before any
 * run starts. cfg may be a whole run config (only data.* keys are read). On
 * failure err is the loader's message ("file: truncated at byte offset ..."). */
eg_status eg_data_check(const eg_cfg *cfg, char *err, size_t cap);

#endif
