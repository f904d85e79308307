/* spec_internal.h — private plumbing shared by the spec loader's files
 * (spec.c, spec_yaml.c, spec_validate.c, spec_sweep.c, spec_runid.c).
 * Not installed, not part of any ABI. */
#ifndef EG_SPEC_INTERNAL_H
#define EG_SPEC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "base/cfg.h"
#include "engram/plugin.h"
#include "spec.h"

/* eg_value.file of every value that came from a command-line override; its
 * line is the override's 1-based position among the overrides, col is 0. */
extern const char eg_spec_cmdline[];

/* ---- the spec as read: ordered entries ---- */
struct spec_cases;

typedef struct spec_ent {
    char *key;                /* full dotted key ("params.beta", "sweep.grid.params.beta") */
    int kline, kcol;          /* where the key was written (0 for overrides) */
    eg_value v;               /* scalar or list; NULL kind for an empty value */
    struct spec_cases *cases; /* only for key "sweep.cases": the list of cases */
} spec_ent;

typedef struct spec_ents {
    spec_ent *e;
    int n, cap;
} spec_ents;

typedef struct spec_cases {
    spec_ents *items; /* one flattened mapping per case (keys relative to the run: "params.variant") */
    eg_value *at;     /* position of each case (kind NULL) */
    int n;
} spec_cases;

void spec_ents_free(spec_ents *l);
int spec_ents_find(const spec_ents *l, const char *key);
/* remove entry i (keeps order) */
void spec_ents_remove(spec_ents *l, int i);

/* error context: the spec path and the overrides, to phrase positions */
typedef struct spec_ctx {
    const char *path;
    const char *const *overrides;
    int n_overrides;
    char *err;
    size_t cap;
} spec_ctx;

/* Format "FILE:LINE:COL: KEY: message" (or "<command line>: override 'ARG': ...",
 * or "FILE: KEY: message" when `at` has no position) into ctx->err; returns EG_ERR_SPEC. */
eg_status spec_fail(const spec_ctx *ctx, const eg_value *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* same, at an explicit file/line/col */
eg_status spec_fail_at(const spec_ctx *ctx, const char *file, int line, int col, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* the same with a va_list (spec_blame.c phrases the runner's preflight errors with it) */
eg_status spec_vfail(const spec_ctx *ctx, const char *file, int line, int col, const char *key, const char *fmt,
                     va_list ap);
/* "F:L:C" (or "override 'ARG'") of a value, for messages that cite a second place */
void spec_where(const spec_ctx *ctx, const char *file, int line, int col, char *buf, size_t cap);

/* spec_yaml.c: parse the spec text into ordered flattened entries (duplicate keys are errors) */
eg_status spec_yaml_parse(const spec_ctx *ctx, const char *text, size_t len, spec_ents *out);
/* spec_yaml.c: parse one override "key=value" (index i) and merge it into ents */
eg_status spec_apply_override(const spec_ctx *ctx, int i, spec_ents *ents);

/* spec_validate.c: what validation needs besides the run itself */
typedef struct spec_env {
    const eg_model_desc *desc;
    char **backends; /* names found by eg_plugin_scan("backend"); loaded lazily */
    int n_backends;  /* -1 until scanned */
} spec_env;

/* checks of the spec as a whole (top-level keys, sections' shapes, seeds) before the model is opened */
eg_status spec_check_top(const spec_ctx *ctx, const spec_ents *ents);
/* validate one expanded run in place: unknown keys, types, ranges, defaults, cross-checks */
eg_status spec_validate_run(const spec_ctx *ctx, spec_env *env, eg_cfg *run);

/* spec_sweep.c: expand the entries into unvalidated run configs (cases x grid x zip x seeds) */
eg_status spec_expand(const spec_ctx *ctx, const spec_ents *ents, eg_cfg **runs, int *n_runs, eg_cfg *base);

/* spec_runid.c: ids (model enters by its descriptor name), duplicate check, swept keys */
eg_status spec_finish_ids(const spec_ctx *ctx, const char *model_name, eg_spec *s);

/* small helpers (spec_check.c) */
int spec_str_in(const char *s, const char *const *list, int n);
void spec_first_seg(const char *key, char *buf, size_t cap); /* "params" of "params.beta" */
/* "a|b|c" split into at most `max` pointers into buf; returns the count */
int spec_split_bar(const char *choices, char *buf, size_t cap, const char **out, int max);
void spec_join(const char *const *items, int n, const char *sep, char *buf, size_t cap); /* "a, b, c" */

/* the valid top-level keys, in documentation order */
extern const char *const eg_spec_top_keys[];
extern const int eg_spec_n_top_keys;

#endif
