/* engram/source.h — writing a data source: a named loader of `data.*` options
 * that fills an eg_dataset (engram/data.h). Each source declares its options as a
 * static schema (validated by the spec loader, listed by `engram datasets`), its
 * splits, the shape of an item and a loader; every reader checks magic numbers,
 * sizes and truncation and reports the file and byte offset.
 *
 * Two ways in, one struct: the sources in datasets/ are compiled into libengram;
 * a data-source plugin is a shared object engram-data-<name>.so exporting
 * eg_data_entry (define it with EG_DATA_DEFINE), found on the plugin search path
 * like a model. Both are written against this header and the rest of the SDK only,
 * and the spec layer validates, and the runner preflights, both the same way. */
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
    /* ---- data ABI 1.0 (NULL = not said; the built-in sources are engram's own) ---- */
    /* an item's shape as C x H x W: "1x28x28"; names an option where one decides it
       ("1x1xdim"). The preflight checks a loaded dataset against the numbers given. */
    const char *shape;
    const char *version; /* the plugin's version, "1.0.0" */
    const char *license; /* SPDX identifier */
    const char *url;     /* where its source is */
    const char *authors;
} eg_data_source;

/* ---- data-source plugins ----
 * Version rule (as for models): the host loads a plugin whose abi_major equals
 * EG_DATA_ABI_MAJOR and whose abi_minor is not newer than the host's. Fields of
 * eg_data_desc and of eg_data_source are only ever appended, and the host reads a
 * field only when the plugin's struct_size (source_size) covers it. */
#define EG_DATA_ABI_MAJOR 1
#define EG_DATA_ABI_MINOR 0
typedef struct eg_data_desc {
    uint32_t abi_major, abi_minor;
    uint32_t struct_size; /* sizeof(eg_data_desc) when the plugin was built */
    uint32_t source_size; /* sizeof(eg_data_source) when the plugin was built */
    const eg_data_source *source;
} eg_data_desc;

typedef const eg_data_desc *(*eg_data_entry_fn)(void);
#define EG_DATA_ENTRY_SYMBOL "eg_data_entry"
/* a data plugin's one exported symbol */
EG_API const eg_data_desc *eg_data_entry(void);
/* clang-format off */
/* The source, its descriptor and the entry point in one go:
 *     EG_DATA_DEFINE(ramps, .summary = "...", .options = ramps_opts, .n_options = EG_COUNT(ramps_opts),
 *                    .splits = "train|test", .shape = "1x1xdim", .load = ramps_load, .version = "1.0.0")
 * names the source after its first argument (a C identifier; the file is engram-data-<id>.so)
 * and defines <id>_data_source. A source whose name is not an identifier ("my-set") writes its
 * eg_data_source by hand and uses EG_DATA_PLUGIN(source). */
#define EG_DATA_PLUGIN(src)                                                                       \
    static const eg_data_desc eg_data_desc_of_plugin = {EG_DATA_ABI_MAJOR, EG_DATA_ABI_MINOR,     \
                                                        sizeof(eg_data_desc), sizeof(eg_data_source), &(src)}; \
    EG_API const eg_data_desc *eg_data_entry(void) { return &eg_data_desc_of_plugin; }
#define EG_DATA_DEFINE(id, ...)                                                                   \
    static const eg_data_source id##_data_source = {.name = #id, __VA_ARGS__};                    \
    EG_DATA_PLUGIN(id##_data_source)
/* clang-format on */

/* ---- helpers for a loader ---- */
/* option `key` (relative to `data.`) of cfg, falling back to the source's schema default
 * when absent (a loader may be called with a partial cfg: tests, tools): string, path or
 * enum text, "" when empty or absent without a default */
EG_API const char *eg_source_text(const eg_cfg *c, const eg_data_source *src, const char *key);
/* the same as a number; err names data.<key> and what was found */
EG_API eg_status eg_source_int(const eg_cfg *c, const eg_data_source *src, const char *key, int64_t *out, char *err,
                               size_t cap);
EG_API eg_status eg_source_float(const eg_cfg *c, const eg_data_source *src, const char *key, double *out,
                                 char *err, size_t cap);
/* the split to load: `split` when given, else data.split, else the first of src->splits;
 * checked against src->splits. *out points to static or cfg-owned text. */
EG_API eg_status eg_source_split(const eg_cfg *c, const eg_data_source *src, const char *split, const char **out,
                                 char *err, size_t cap);

/* an empty dataset with n x (c*h*w) floats (and n labels when labelled); NULL when out of memory */
EG_API eg_dataset *eg_dataset_alloc(const char *source, const char *split, int64_t n, int c, int h, int w,
                                    int labelled);
/* frees a dataset returned by a loader (x, y, strings and the struct) */
EG_API void eg_dataset_free(eg_dataset *ds);

/* ---- the registry: the built-in sources, then the plugins on the search path ---- */
/* every source, in `engram datasets` order: the built-in ones, then the data plugins
 * that load (by name; the search path is scanned once per process) */
EG_API int eg_data_source_count(void);
EG_API const eg_data_source *eg_data_source_at(int i);
/* by name (built-in first, then engram-data-<name>.so on the search path) or by the
 * path of a plugin file (contains '/'); NULL when there is none or it does not load */
EG_API const eg_data_source *eg_data_source_find(const char *name);
/* the same with the reason when there is none: a plugin that does not load (its dlopen
 * message, its ABI against the host's, a source that names itself differently from its
 * file, a name a built-in source has), or the names there are */
EG_API eg_status eg_data_source_lookup(const char *name, const eg_data_source **out, char *err, size_t cap);
/* the plugin file a source came from, NULL for a built-in one */
EG_API const char *eg_data_source_origin(const eg_data_source *src);

/* Preflight for the spec layer / runner: loads (and frees) the split named by
 * cfg's data.split (or the source's default) of the source named by data.source,
 * so a missing, truncated or malformed file is reported before any run starts; also
 * checks what a loader returned (its item count and shape against the source's
 * declared shape, its arrays present, labels in range, every value finite), so a plugin's bug is caught
 * here and not inside a model.
 * cfg may be a whole run config (only data.* keys are read). On failure err is
 * the loader's message ("file: truncated at byte offset ..."). */
EG_API eg_status eg_data_check(const eg_cfg *cfg, char *err, size_t cap);
/* The same, keeping what it loaded: on EG_OK *out is the checked dataset (free it with
 * eg_dataset_free), so a caller can check options against the data's shape (the runner's
 * preflight: task.corrupt.size against the image, task.memories against the items) without
 * loading it twice; *out is NULL on failure. */
EG_API eg_status eg_data_check_load(const eg_cfg *cfg, eg_dataset **out, char *err, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
