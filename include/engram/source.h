/* engram/source.h — writing a data source: a named loader of `data.*` options
 * that fills an eg_dataset (engram/data.h). Each source declares its options as a
 * static schema (validated by the spec loader, listed by `engram datasets`) and a
 * loader; every reader checks magic numbers, sizes and truncation and reports the
 * file and byte offset. The sources in datasets/ are compiled into libengram and
 * written against this header and the rest of the SDK only. */
#ifndef ENGRAM_SOURCE_H
#define ENGRAM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "data.h"
#include "export.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_data_source {
    const char *name;             /* "fashion-mnist" */
    const char *summary;          /* one line */
    const eg_param_spec *options; /* keys relative to `data.` (excluding `source`) */
    int n_options;
    const char *splits; /* '|'-separated valid values of data.split, e.g. "train|test" */
    /* load split; data_cfg holds the resolved data.* keys (with the `data.` prefix) */
    eg_status (*load)(const eg_cfg *data_cfg, const char *split, eg_dataset **out, char *err, size_t cap);
} eg_data_source;

/* an empty dataset with n x (c*h*w) floats (and n labels when labelled); NULL when out of memory */
EG_API eg_dataset *eg_dataset_alloc(const char *source, const char *split, int64_t n, int c, int h, int w,
                                    int labelled);
/* frees a dataset returned by a loader (x, y, strings and the struct) */
EG_API void eg_dataset_free(eg_dataset *ds);

/* the sources compiled into libengram, in `engram datasets` order */
EG_API int eg_data_source_count(void);
EG_API const eg_data_source *eg_data_source_at(int i);
EG_API const eg_data_source *eg_data_source_find(const char *name);

/* Preflight for the spec layer / runner: loads (and frees) the split named by
 * cfg's data.split (or the source's default) of the source named by data.source,
 * so a missing, truncated or malformed file is reported before any run starts.
 * cfg may be a whole run config (only data.* keys are read). On failure err is
 * the loader's message ("file: truncated at byte offset ..."). */
EG_API eg_status eg_data_check(const eg_cfg *cfg, char *err, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
