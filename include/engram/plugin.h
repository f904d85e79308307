/* engram/plugin.h — the model plugin ABI and the run context.
 *
 * A model plugin is a shared object exporting `eg_model_entry`, returning a
 * const eg_model_desc. The host loads it only when abi_major equals
 * EG_MODEL_ABI_MAJOR and abi_minor is not newer than the host's; fields are
 * only ever appended and read only when struct_size covers them. Parameter
 * schemas are static data, so `engram describe` needs no device.
 *
 * Life of a run (in its own child process):
 *   create -> [load (init_from)] -> [fit] -> eval -> save -> destroy
 * Callbacks return EG_OK or a negative status after eg_run_fail() explained it. */
#ifndef ENGRAM_PLUGIN_H
#define ENGRAM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "data.h"
#include "export.h"
#include "nn.h"
#include "optim.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EG_MODEL_ABI_MAJOR 1
/* 1.1: the SDK of the layered layout (host.h, config.h, source.h, kernels.h, clock.h,
 *      eg_converge_*, eg_rng_substream, eg_ctx_has);
 * 1.2: the descriptor's license, url and authors; EG_MODEL_DEFINE;
 * 1.3: task kinds defined by a plugin (task_kinds, n_task_kinds, task_def_size); init_from_models */
#define EG_MODEL_ABI_MINOR 3

typedef enum eg_param_type {
    EG_PARAM_BOOL = 0,
    EG_PARAM_INT,
    EG_PARAM_FLOAT,
    EG_PARAM_STRING,
    EG_PARAM_ENUM, /* one of `choices` ("mchn|gmm|dense") */
    EG_PARAM_INT_LIST,
    EG_PARAM_FLOAT_LIST,
    EG_PARAM_PATH
} eg_param_type;

enum { EG_RANGE_MIN = 1, EG_RANGE_MAX = 2, EG_RANGE_MIN_EXCL = 4, EG_RANGE_MAX_EXCL = 8 };

/* One parameter. `default_value` is YAML scalar text ("8.0", "mchn", "[1, 2]");
 * NULL means required. Ranges apply to numbers and to each list element. */
typedef struct eg_param_spec {
    const char *key; /* dotted, relative to `params.` (or `task.` for task_params) */
    eg_param_type type;
    const char *default_value;
    unsigned range_flags; /* EG_RANGE_* */
    double min, max;
    const char *choices; /* enum only: '|'-separated */
    const char *unit;    /* "" when dimensionless */
    const char *doc;     /* one line */
} eg_param_spec;

typedef enum eg_goal { EG_GOAL_NONE = 0, EG_GOAL_MIN, EG_GOAL_MAX } eg_goal;

typedef struct eg_metric_spec {
    const char *name; /* "retrieval/success" */
    eg_goal goal;
    const char *unit;
    const char *doc;
} eg_metric_spec;

typedef struct eg_run eg_run;

/* A task kind: the `task.*` keys a spec of `task.kind: <name>` may set (keys relative to
 * `task.`, validated and defaulted by the spec layer) and the rules between them. The
 * built-in kinds (retrieve, classify, cluster, segment: `engram describe`) live in
 * libengram; a plugin may define its own (eg_model_desc.task_kinds) and list them in its
 * `tasks`. Scoring is the model's eval, as for the built-in kinds, whose shared scoring
 * helpers are in engram/retrieval.h. */
/* Rules between keys, run after types, ranges and defaults: 0 when fine, else 1 with
 * *key set to the full key to blame ("task.queries") and msg filled. */
typedef int (*eg_task_check_fn)(const eg_cfg *run, const char **key, char *msg, size_t cap);
typedef struct eg_task_def {
    const char *name;            /* "retrieve" */
    const char *summary;         /* one line */
    const eg_param_spec *params; /* keys relative to `task.` */
    int n_params;
    eg_task_check_fn check; /* NULL when there is nothing to cross-check */
} eg_task_def;

typedef struct eg_model_desc {
    /* ---- ABI 1.0 ---- */
    uint32_t abi_major, abi_minor;
    uint32_t struct_size;
    const char *name;    /* "hopfield" */
    const char *version; /* "1.0.0" */
    const char *summary; /* one line */
    const eg_param_spec *params;
    int n_params;
    const char *const *tasks; /* task kinds the model supports ("retrieve") */
    int n_tasks;
    /* extra `task.*` keys beyond libengram's built-in task schema, or NULL */
    const eg_param_spec *task_params;
    int n_task_params;
    const eg_metric_spec *metrics;
    int n_metrics;

    eg_status (*create)(eg_run *run, void **self);
    eg_status (*fit)(void *self, eg_run *run); /* NULL when there is nothing to train */
    eg_status (*eval)(void *self, eg_run *run);
    eg_status (*save)(void *self, eg_run *run); /* writes weights with eg_save_tensor; may be NULL */
    eg_status (*load)(void *self, eg_run *run); /* reads weights with eg_load_tensor (init_from); may be NULL */
    void (*destroy)(void *self);

    /* ---- ABI 1.2: what a user needs to trust a plugin (NULL = not said) ---- */
    const char *license; /* SPDX identifier: "MIT", "GPL-3.0-or-later" */
    const char *url;     /* where its source is */
    const char *authors; /* "Ada Lovelace <ada@example.org>, ..." */

    /* ---- ABI 1.3: task kinds this plugin defines (NULL / 0 = none) ---- */
    const eg_task_def *task_kinds;
    int n_task_kinds;
    uint32_t task_def_size; /* sizeof(eg_task_def) where the plugin was built: the host steps by it */

    /* ---- appended in 1.3: whose weights `load` reads (NULL = this model's runs only) ---- */
    /* '|'-separated other models whose run files may be this model's init_from ("pcgmm": the
       same network under the same weight names); the runner refuses any other model's before
       a run starts. Read only when struct_size covers it. */
    const char *init_from_models;
} eg_model_desc;

typedef const eg_model_desc *(*eg_model_entry_fn)(void);
#define EG_MODEL_ENTRY_SYMBOL "eg_model_entry"
/* The plugin's one exported symbol; define it with EG_MODEL_PLUGIN(desc) (GStreamer's
 * GST_PLUGIN_DEFINE): the rest of a plugin is built with hidden visibility. */
EG_API const eg_model_desc *eg_model_entry(void);
/* clang-format off */
#define EG_MODEL_PLUGIN(desc) \
    EG_API const eg_model_desc *eg_model_entry(void) { return &(desc); }

/* The descriptor and the entry point in one go, the version fields filled in:
 *     EG_MODEL_DEFINE(hopfield, .version = "1.0.0", .summary = "...",
 *                     .params = hopfield_params, .n_params = EG_COUNT(hopfield_params), ...,
 *                     .create = hopfield_create, .eval = hopfield_eval, .destroy = hopfield_destroy)
 * names the model after its first argument (a C identifier) and defines the static
 * descriptor <id>_model_desc. */
#define EG_COUNT(array) ((int)(sizeof(array) / sizeof *(array)))
#define EG_MODEL_DEFINE(id, ...)                                                                 \
    static const eg_model_desc id##_model_desc = {.abi_major = EG_MODEL_ABI_MAJOR,               \
                                                   .abi_minor = EG_MODEL_ABI_MINOR,              \
                                                   .struct_size = sizeof(eg_model_desc),         \
                                                   .task_def_size = sizeof(eg_task_def),         \
                                                   .name = #id, __VA_ARGS__};                    \
    EG_MODEL_PLUGIN(id##_model_desc)
/* clang-format on */

/* ---- the run context ---- */
EG_API eg_ctx *eg_run_ctx(eg_run *run);
EG_API uint64_t eg_run_seed(const eg_run *run);
/* a Philox stream named for its purpose ("init", "corrupt", "batches"), keyed by the run's seed */
EG_API eg_rng eg_run_rng(const eg_run *run, const char *name);

/* Typed values of the resolved config, by dotted key relative to `params.`
 * (eg_param_*) or `task.` (eg_task_*). The host validated types and filled
 * defaults before the run started, so these cannot fail for schema keys; an
 * unknown key is a plugin bug and aborts the run with its name. */
EG_API int eg_param_bool(const eg_run *run, const char *key);
EG_API int64_t eg_param_int(const eg_run *run, const char *key);
EG_API double eg_param_float(const eg_run *run, const char *key);
EG_API const char *eg_param_str(const eg_run *run, const char *key);                 /* string, enum or path */
EG_API int eg_param_is(const eg_run *run, const char *key, const char *value);       /* enum/string equality */
EG_API int eg_param_list(const eg_run *run, const char *key, const double **values); /* returns the count */
EG_API int eg_task_has(const eg_run *run, const char *key);
EG_API int64_t eg_task_int(const eg_run *run, const char *key);
EG_API double eg_task_float(const eg_run *run, const char *key);
EG_API const char *eg_task_str(const eg_run *run, const char *key);
EG_API const char *eg_task_kind(const eg_run *run);

/* the configured data source; split NULL = the spec's data.split, else "train" / "test" */
EG_API const eg_dataset *eg_run_dataset(eg_run *run, const char *split);

/* curves: (step, value, wall seconds since run start) appended to /series/<name> */
EG_API void eg_log(eg_run *run, const char *name, int64_t step, double value);
/* final scalar written to /metrics/<name> (a later call replaces an earlier one) */
EG_API void eg_metric(eg_run *run, const char *name, double value);
/* float32 copy of t saved to /weights/<name> */
EG_API eg_status eg_save_tensor(eg_run *run, const char *name, const eg_tensor *t);
/* uint8 picture [n, h, w, c] saved to /artifacts/<name> with attribute kind ("image-grid", "mask") */
EG_API eg_status eg_save_picture(eg_run *run, const char *name, const char *kind, const uint8_t *pixels, int64_t n,
                                 int64_t h, int64_t w, int64_t c);
/* How the tiles of a saved picture are laid out (`engram report` draws it so): every
 * `tile_rows` consecutive tiles form one column, top to bottom, and row_labels names the
 * rows ('|'-separated, e.g. "corrupted query|retrieved|target"; NULL = unnamed).
 * Without it the report lays tiles out in rows of 10. Model ABI 1.3. */
EG_API eg_status eg_picture_layout(eg_run *run, const char *name, int tile_rows, const char *row_labels);
/* init_from: 1 when the run was given weights of an earlier run */
EG_API int eg_run_has_init(const eg_run *run);
/* persistent tensor (dtype dt) loaded from the init_from run's /weights/<name>; NULL and a run error if absent */
EG_API eg_tensor *eg_load_tensor(eg_run *run, const char *name, eg_dtype dt);
/* every tensor of ps saved as /weights/<prefix><name> (prefix may be NULL or "") */
EG_API eg_status eg_save_params(eg_run *run, const char *prefix, const eg_params *ps);
/* every tensor of ps loaded from the init_from run's /weights/<prefix><name>; a missing weight or
 * one of another shape fails the run with the name and both shapes */
EG_API eg_status eg_load_params(eg_run *run, const char *prefix, eg_params *ps);

/* progress of the current phase in its unit ("epoch", "block", "step") */
EG_API void eg_progress(eg_run *run, int64_t done, int64_t total, const char *unit);
/* EG_ERR_CANCELLED once the run was interrupted or passed its deadline, else EG_OK */
EG_API eg_status eg_run_check(eg_run *run);
/* line to the run's /log (and stderr) */
EG_API void eg_run_log(eg_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* record the run's failure reason; returns status for `return eg_run_fail(...)` */
EG_API eg_status eg_run_fail(eg_run *run, eg_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
