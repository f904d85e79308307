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

/* ---- composition (spec_include.c) ---- */
#define SPEC_MAX_INCLUDE_DEPTH 16 /* files in one chain of includes */
#define SPEC_MAX_FILES 256        /* files one spec composes (an included file counts each time) */

typedef struct spec_incl_item {
    char *name;     /* a path as written, or a group's option */
    char *group;    /* NULL for a path; "data", "params/vae" for a group choice */
    int line, col;  /* where the item is written */
} spec_incl_item;

typedef struct spec_incl_list {
    spec_incl_item *it;
    int n;
    int line, col; /* where the list is written */
} spec_incl_list;
void spec_incl_list_free(spec_incl_list *l);

/* where each included file was included from (errors in it name the chain) */
typedef struct spec_incl_site {
    const char *file, *parent; /* interned */
    int line, col;             /* of the include item in parent */
} spec_incl_site;

typedef struct spec_incls {
    spec_incl_site *s;
    int n, cap;
    size_t bytes; /* read over all files, at most SPEC_MAX_BYTES */
} spec_incls;
void spec_incls_free(spec_incls *t);
/* "included from P:L:C, which is included from Q:L:C" for an included file, "" otherwise */
void spec_include_chain(const spec_incls *t, const char *file, char *out, size_t cap);

/* ---- provenance (spec_trace.c): every value as it was merged, for `engram plan --explain` ---- */
typedef struct spec_trace_rec {
    char *key;        /* as merged: "params.beta", "sweep.grid.params.beta", "sweep.cases.2.params.x" */
    const char *file; /* interned; eg_spec_cmdline for an override */
    int line, col;    /* of the key (override: its 1-based position, col 0) */
    char *value;      /* canonical text ("null" for a removal) */
} spec_trace_rec;

typedef struct spec_trace {
    spec_trace_rec *r;
    int n, cap;
} spec_trace;
void spec_trace_free(spec_trace *t);

/* error context: the spec path and the overrides, to phrase positions; the include
 * sites (to name the chain of an included file) and the trace being recorded */
typedef struct spec_ctx {
    const char *path;
    const char *const *overrides;
    int n_overrides;
    char *err;
    size_t cap;
    spec_incls *incls;           /* NULL: no includes */
    spec_trace *trace;           /* NULL: nothing recorded */
    unsigned char *override_used; /* [n_overrides]: 1 for an override that chose a group option */
} spec_ctx;

/* record got's entries (keys prefixed by the first prefix_len chars of prefix) in ctx->trace */
eg_status spec_trace_ents(const spec_ctx *ctx, const spec_ents *got, const char *prefix, size_t prefix_len,
                          int override_line);

/* spec_read.c: read a spec file (at most SPEC_MAX_BYTES; what names the file in errors: `what`) */
eg_status spec_read_file(const char *path, const char *what, char **text, size_t *len, char *err, size_t cap);

/* spec_yaml.c: one file's text into out, its keys under prefix ("" or a group's package);
 * its top-level `include` list into incl (NULL: none allowed). included: an empty file is fine */
eg_status spec_yaml_parse_file(const spec_ctx *ctx, const char *file, const char *text, size_t len,
                               const char *prefix, int included, spec_ents *out, spec_incl_list *incl);
/* merge got into ents as an override merges: each key replaces the same key, the keys under
 * it and the value it lies under; a null only removes. Moves got's entries (zeroes them) */
eg_status spec_ents_merge(spec_ents *ents, spec_ents *got);

/* spec_include.c: the spec at ctx->path (its text given) with its includes, merged in order */
eg_status spec_compose(const spec_ctx *ctx, const char *text, size_t len, spec_ents *out);

/* spec_interp.c: ${path.to.key} in the values of one expanded run, in place */
eg_status spec_interpolate_run(const spec_ctx *ctx, eg_cfg *run);

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
/* spec_random.c: the samples of sweep.random, for spec_sweep.c: n samples of k keys (sorted
 * run keys); sample i's value of key j is v[i * k + j], a drawn number (in own) or a choice's item */
typedef struct spec_samples {
    int n, k;
    char **keys;
    const eg_value **v;
    eg_value *own;
} spec_samples;
/* sweep.random's samples and (at most) keys per sample (0, 0 without sweep.random), cheaply */
void spec_random_size(const spec_ents *ents, int *n, int *k);
/* dead[i] = 1 for an entry of sweep.random.space whose distribution a later override replaced */
eg_status spec_random_dead(const spec_ctx *ctx, const spec_ents *ents, unsigned char *dead);
/* draw them (after spec_check_top); s zeroed without sweep.random */
eg_status spec_random_sample(const spec_ctx *ctx, const spec_ents *ents, spec_samples *s);
void spec_samples_free(spec_samples *s);

/* spec_adaptive.c: adaptive search (sweep.adaptive): one entry under it, then the whole */
eg_status spec_check_adaptive_ent(const spec_ctx *ctx, const spec_ent *e);
eg_status spec_check_adaptive(const spec_ctx *ctx, const spec_ents *ents);

/* spec_sweep.c: expand the entries into unvalidated run configs (cases x grid x zip x seeds) */
eg_status spec_expand(const spec_ctx *ctx, const spec_ents *ents, eg_cfg **runs, int *n_runs, eg_cfg *base);

/* spec_runid.c: ids (model enters by its descriptor name), duplicate check, swept keys */
eg_status spec_finish_ids(const spec_ctx *ctx, const char *model_name, eg_spec *s);

/* small helpers (spec_util.c) */
int spec_str_in(const char *s, const char *const *list, int n);
const char *spec_axis_of(const char *key, const char **form); /* "params.beta" of "sweep.grid.params.beta" */
void spec_first_seg(const char *key, char *buf, size_t cap); /* "params" of "params.beta" */
/* "a|b|c" split into at most `max` pointers into buf; returns the count */
int spec_split_bar(const char *choices, char *buf, size_t cap, const char **out, int max);
void spec_join(const char *const *items, int n, const char *sep, char *buf, size_t cap); /* "a, b, c" */

/* spec_sweepable.c: "unknown top-level key" with the closest one, at entry e */
eg_status spec_unknown_top(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *top);
/* k (the run key an axis, case or random key sets; `full` names it) is sweepable: a key of
 * data, params or task, or backend, init_from, timeout; seed_hint is appended to the seeds error */
eg_status spec_check_sweepable(const spec_ctx *ctx, const spec_ent *e, const char *k, const char *full,
                               const char *seed_hint);

/* the valid top-level keys, in documentation order (spec_sweepable.c) */
extern const char *const eg_spec_top_keys[];
extern const int eg_spec_n_top_keys;

#endif
