/* spec_internal.h — private plumbing shared by the spec loader's files
 * (spec.c, spec_yaml.c, spec_validate.c, spec_sweep.c, spec_runid.c).
 * Not installed, not part of any ABI. */
#ifndef EG_SPEC_INTERNAL_H
#define EG_SPEC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfg.h"
#include "engram/plugin.h"
#include "spec.h"

/* eg_value.file of every value that came from a command-line override; its
 * line is the override's 1-based position among the overrides, col is 0. */
extern const char eg_spec_cmdline[];

/* ---- limits (docs/spec.md "Limits"); each is refused with exit code 2 and the place ---- */
#define SPEC_MAX_BYTES (16u << 20)  /* spec file size */
#define SPEC_MAX_DEPTH 64           /* nesting of mappings and lists; names in a dotted key */
#define SPEC_MAX_NODES 1000000      /* YAML nodes, counted after alias expansion */
#define SPEC_MAX_KEYS 100000        /* flattened keys of the spec and its overrides */
#define SPEC_MAX_KEY_LEN 1024       /* characters of one flattened key */
#define SPEC_MAX_OVERRIDES 10000    /* command-line overrides */
#define SPEC_MAX_RUNS 100000        /* runs one spec expands to */
#define SPEC_MAX_NAME 100           /* characters of the experiment name */

/* ---- hash maps (spec_keymap.c) ---- */
typedef struct spec_map_slot {
    const char *key; /* not owned; NULL: empty */
    uint64_t hash;
    int val;
} spec_map_slot;

typedef struct spec_map { /* string -> int, zero-initialised = empty */
    spec_map_slot *slot;
    size_t cap, used, live;
} spec_map;

typedef struct spec_hc_slot {
    uint64_t hash;
    long count;
    int seen;
} spec_hc_slot;

typedef struct spec_hcount { /* 64-bit hash -> count, zero-initialised = empty */
    spec_hc_slot *slot;
    size_t cap, used;
} spec_hcount;

uint64_t spec_hash(const char *s, size_t n);
int spec_map_get(const spec_map *m, const char *key);             /* -1 if absent */
int spec_map_getn(const spec_map *m, const char *key, size_t n);  /* the first n chars of key */
eg_status spec_map_put(spec_map *m, const char *key, int val);    /* replaces */
void spec_map_del(spec_map *m, const char *key);
void spec_map_free(spec_map *m);
eg_status spec_hcount_add(spec_hcount *c, uint64_t h, int delta);
long spec_hcount_get(const spec_hcount *c, uint64_t h);
void spec_hcount_free(spec_hcount *c);

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
    int dead;          /* entries removed (key NULL) until spec_ents_compact */
    spec_map ix;       /* key -> index of the live entries */
    spec_hcount under; /* hash of "a.b" -> live keys strictly under it */
} spec_ents;

typedef struct spec_cases {
    spec_ents *items; /* one flattened mapping per case (keys relative to the run: "params.variant") */
    eg_value *at;     /* position of each case (kind NULL) */
    int n;
} spec_cases;

void spec_ents_free(spec_ents *l);
int spec_ents_find(const spec_ents *l, const char *key); /* index of a live entry, or -1 */
/* does some live key lie strictly under key ("a.b" for "a")? (may say yes wrongly, never no) */
int spec_ents_has_under(const spec_ents *l, const char *key);
/* remove entry i: its key becomes NULL until spec_ents_compact drops it (keeps order) */
void spec_ents_kill(spec_ents *l, int i);
eg_status spec_ents_compact(spec_ents *l);

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

/* spec_limits.c: before libyaml builds the document, walk its events and refuse nesting
 * deeper than SPEC_MAX_DEPTH and more than SPEC_MAX_NODES nodes after alias expansion
 * (a few lines of anchors can stand for billions of nodes). line_override as load_doc's. */
eg_status spec_prescan(const spec_ctx *ctx, const char *text, size_t len, const char *file, int line_override);

/* spec_yaml.c: parse the spec text into ordered flattened entries (duplicate keys are errors) */
eg_status spec_yaml_parse(const spec_ctx *ctx, const char *text, size_t len, spec_ents *out);
/* spec_yaml.c: parse one override "key=value" (index i) and merge it into ents */
eg_status spec_apply_override(const spec_ctx *ctx, int i, spec_ents *ents);

/* spec_validate.c: what validation needs besides the run itself */
typedef struct spec_env {
    const eg_model_desc *desc;
    char **backends; /* names found by eg_plugin_scan("backend"); loaded lazily */
    int n_backends;  /* -1 until scanned */
    /* the schema defaults, parsed and type-checked once ("TYPE|TEXT" -> value), not per run */
    spec_map dflt_ix;
    char **dflt_key;
    eg_value *dflt_val;
    int n_dflt, cap_dflt;
} spec_env;
void spec_env_free(spec_env *env);

/* checks of the spec as a whole (top-level keys, sections' shapes, seeds) before the model is opened */
eg_status spec_check_top(const spec_ctx *ctx, const spec_ents *ents);
/* validate one expanded run in place: unknown keys, types, ranges, defaults, cross-checks */
eg_status spec_validate_run(const spec_ctx *ctx, spec_env *env, eg_cfg *run);

/* spec_multirun.c: a Hydra multirun override ("key=a,b,c", "key=range(0,10,2)",
 * "key=choice(a,b)", a distribution "key=loguniform(0.1,100)") rewritten as the spec key it
 * stands for ("sweep.grid.key=[a, b, c]", ...) in *out (malloc'd); *out = NULL and EG_OK when
 * arg (override i, 0-based) is a plain override. Errors name the argument. */
eg_status spec_multirun_rewrite(const spec_ctx *ctx, int i, const char *arg, char **out);

/* spec_random.c: random search (sweep.random): one entry under sweep.random, then the whole */
eg_status spec_check_random_ent(const spec_ctx *ctx, const spec_ent *e);
eg_status spec_check_random(const spec_ctx *ctx, const spec_ents *ents);

/* spec_adaptive.c: adaptive search (sweep.adaptive): one entry under it, then the whole */
eg_status spec_check_adaptive_ent(const spec_ctx *ctx, const spec_ent *e);
eg_status spec_check_adaptive(const spec_ctx *ctx, const spec_ents *ents);

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
