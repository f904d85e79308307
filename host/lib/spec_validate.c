/* spec_validate.c — checking a spec: its top-level shape (before the model is
 * opened), then every expanded run in this order: unknown keys (with the
 * closest valid key), types (normalised: an int for a float becomes a float),
 * ranges, defaults for every schema key, and the task's cross-key rules. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/datasets.h"
#include "loader.h"
#include "spec_internal.h"
#include "tasks.h"

const char *const eg_spec_top_keys[] = {"experiment", "description", "model", "backend", "seeds",    "seed",
                                        "data",       "params",      "task",  "sweep",   "init_from", "timeout"};
const int eg_spec_n_top_keys = (int)(sizeof eg_spec_top_keys / sizeof *eg_spec_top_keys);

/* top-level keys of a resolved run (seeds become one `seed` per run) */
static const eg_param_spec top_schema[] = {
    {"experiment", EG_PARAM_STRING, NULL, 0, 0, 0, NULL, "", "names the results directory"},
    {"description", EG_PARAM_STRING, "''", 0, 0, 0, NULL, "", "free text"},
    {"model", EG_PARAM_STRING, NULL, 0, 0, 0, NULL, "", "model plugin name or path to its .so"},
    {"backend", EG_PARAM_STRING, "auto", 0, 0, 0, NULL, "", "cpu | cuda | auto"},
    {"seed", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "", "the run's seed"},
    {"init_from", EG_PARAM_PATH, "''", 0, 0, 0, NULL, "", "run file or run id whose weights are loaded"},
    {"timeout", EG_PARAM_FLOAT, "0", EG_RANGE_MIN, 0, 0, NULL, "s", "wall-clock limit per run, 0 = none"},
};
#define N_TOP ((int)(sizeof top_schema / sizeof *top_schema))

static const char *const sections[] = {"data", "params", "task"};

static int str_in(const char *s, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return 1;
    return 0;
}

/* first segment of a dotted key */
static void first_seg(const char *key, char *buf, size_t cap) {
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    if (n >= cap) n = cap - 1;
    memcpy(buf, key, n);
    buf[n] = 0;
}

/* "a|b|c" split into at most `max` pointers into buf */
static int split_bar(const char *choices, char *buf, size_t cap, const char **out, int max) {
    snprintf(buf, cap, "%s", choices ? choices : "");
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "|", &save); t && n < max; t = strtok_r(NULL, "|", &save)) out[n++] = t;
    return n;
}

/* "a, b, c" */
static void join(const char *const *items, int n, const char *sep, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < n && off < cap; i++) off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? sep : "", items[i]);
}

static eg_status ent_fail(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *msg) {
    const char *file = e->v.file ? e->v.file : eg_intern(ctx->path);
    return spec_fail_at(ctx, file, e->kline, e->kcol, key, "%s", msg);
}

static eg_status unknown_top(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *top) {
    char msg[600];
    const char *best = eg_did_you_mean(top, eg_spec_top_keys, eg_spec_n_top_keys);
    if (best) snprintf(msg, sizeof msg, "unknown top-level key '%s'; did you mean '%s'?", top, best);
    else {
        char all[300];
        join(eg_spec_top_keys, eg_spec_n_top_keys, ", ", all, sizeof all);
        snprintf(msg, sizeof msg, "unknown top-level key '%s'; valid keys: %s", top, all);
    }
    return ent_fail(ctx, e, key, msg);
}

/* a key set by a sweep axis or a case: must be a sweepable leaf */
static eg_status check_swept_key(const spec_ctx *ctx, const spec_ent *e, const char *k, const char *full) {
    char top[64], msg[400];
    first_seg(k, top, sizeof top);
    if (!str_in(top, eg_spec_top_keys, eg_spec_n_top_keys)) return unknown_top(ctx, e, full, top);
    if (!strcmp(top, "experiment") || !strcmp(top, "description") || !strcmp(top, "model")) {
        snprintf(msg, sizeof msg, "'%s' cannot be swept (one spec is one experiment of one model); sweepable: "
                 "backend, init_from, timeout, data.*, params.*, task.*", top);
        return ent_fail(ctx, e, full, msg);
    }
    if (!strcmp(top, "seed") || !strcmp(top, "seeds"))
        return ent_fail(ctx, e, full, "seeds are not a sweep axis here; list them at the top level (seeds: [0, 1, 2])");
    if (!strcmp(top, "sweep")) return ent_fail(ctx, e, full, "a sweep cannot set sweep keys");
    if (str_in(top, sections, 3) && !strcmp(k, top)) {
        snprintf(msg, sizeof msg, "name a key inside %s (e.g. %s.<key>), not the whole section", top, top);
        return ent_fail(ctx, e, full, msg);
    }
    return EG_OK;
}

static const char *axis_of(const char *key, const char **form) {
    if (!strncmp(key, "sweep.grid.", 11)) {
        *form = "grid";
        return key + 11;
    }
    if (!strncmp(key, "sweep.zip.", 10)) {
        *form = "zip";
        return key + 10;
    }
    *form = NULL;
    return NULL;
}

static eg_status check_sweep_ent(const spec_ctx *ctx, const spec_ent *e) {
    static const char *const forms[] = {"grid", "zip", "cases"};
    char msg[400];
    const char *form;
    const char *k = axis_of(e->key, &form);
    if (!strcmp(e->key, "sweep") || !strcmp(e->key, "sweep.grid") || !strcmp(e->key, "sweep.zip")) {
        if (e->v.kind == EG_VAL_NULL) return EG_OK;
        return ent_fail(ctx, e, e->key,
                        !strcmp(e->key, "sweep") ? "expected a mapping with grid, zip and/or cases"
                                                 : "expected a mapping of keys to lists of values");
    }
    if (!strcmp(e->key, "sweep.cases")) {
        if (!e->cases || e->cases->n == 0) {
            const eg_value *at = &e->v;
            return spec_fail_at(ctx, at->file, at->line, at->col, "sweep.cases",
                                "empty list; a sweep axis needs at least one value");
        }
        for (int c = 0; c < e->cases->n; c++) {
            const spec_ents *cs = &e->cases->items[c];
            for (int j = 0; j < cs->n; j++) {
                char full[300];
                snprintf(full, sizeof full, "sweep.cases[%d].%s", c + 1, cs->e[j].key);
                eg_status st = check_swept_key(ctx, &cs->e[j], cs->e[j].key, full);
                if (st != EG_OK) return st;
            }
        }
        return EG_OK;
    }
    if (!k) {
        char form_name[64];
        first_seg(e->key + 6, form_name, sizeof form_name);
        if (!strcmp(form_name, "cases"))
            return ent_fail(ctx, e, e->key, "cases are given as a whole list (sweep.cases: [{params.x: 1}, ...])");
        const char *best = eg_did_you_mean(form_name, forms, 3);
        snprintf(msg, sizeof msg, "unknown sweep form '%s'%s%s%s (sweep: {grid: ..., zip: ..., cases: [...]})",
                 form_name, best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
        return ent_fail(ctx, e, e->key, msg);
    }
    eg_status st = check_swept_key(ctx, e, k, e->key);
    if (st != EG_OK) return st;
    if (e->v.kind != EG_VAL_LIST) {
        snprintf(msg, sizeof msg, "expected a list of values to sweep over, got '%s' (write [%s] for one value)",
                 e->v.s ? e->v.s : "null", e->v.s ? e->v.s : "null");
        return spec_fail(ctx, &e->v, e->key, "%s", msg);
    }
    if (e->v.n_items == 0) return spec_fail(ctx, &e->v, e->key, "empty list; a sweep axis needs at least one value");
    return EG_OK;
}

/* is `key` set by a case, and where */
static const spec_ent *case_sets(const spec_ent *cases, const char *key, int *which) {
    for (int c = 0; cases && c < cases->cases->n; c++) {
        int j = spec_ents_find(&cases->cases->items[c], key);
        if (j >= 0) {
            *which = c + 1;
            return &cases->cases->items[c].e[j];
        }
    }
    return NULL;
}

static eg_status check_sweep(const spec_ctx *ctx, const spec_ents *ents) {
    const spec_ent *zip0 = NULL, *cases = NULL;
    int ci = spec_ents_find(ents, "sweep.cases");
    if (ci >= 0) cases = &ents->e[ci];
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        const char *form;
        const char *k = axis_of(e->key, &form);
        if (!k) continue;
        char msg[600], w1[300];
        if (!strcmp(form, "zip")) {
            if (!zip0) zip0 = e;
            else if (zip0->v.n_items != e->v.n_items) {
                snprintf(msg, sizeof msg, "%s has %d values but %s has %d; zip pairs values by position, so its "
                         "lists need equal lengths", zip0->key + 10, zip0->v.n_items, k, e->v.n_items);
                return ent_fail(ctx, e, "sweep.zip", msg);
            }
        }
        /* one key, one axis */
        for (int j = 0; j < i; j++) {
            const char *f2;
            const char *k2 = axis_of(ents->e[j].key, &f2);
            if (k2 && !strcmp(k, k2)) {
                spec_where(ctx, ents->e[j].v.file, ents->e[j].kline, ents->e[j].kcol, w1, sizeof w1);
                snprintf(msg, sizeof msg, "%s is swept twice (also by sweep.%s at %s)", k, f2, w1);
                return ent_fail(ctx, e, e->key, msg);
            }
        }
        int which = 0;
        const spec_ent *c = case_sets(cases, k, &which);
        if (c) {
            spec_where(ctx, c->v.file, c->kline, c->kcol, w1, sizeof w1);
            snprintf(msg, sizeof msg, "%s is swept by sweep.%s and also set by case %d (at %s); keep one of them", k,
                     form, which, w1);
            return ent_fail(ctx, e, e->key, msg);
        }
    }
    return EG_OK;
}

static int valid_experiment(const char *s) {
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
            return 0;
    return 1;
}

eg_status spec_check_top(const spec_ctx *ctx, const spec_ents *ents) {
    char top[64], msg[400];
    eg_status st;
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        first_seg(e->key, top, sizeof top);
        if (!str_in(top, eg_spec_top_keys, eg_spec_n_top_keys)) return unknown_top(ctx, e, e->key, top);
        if (!strcmp(top, "sweep")) {
            if ((st = check_sweep_ent(ctx, e)) != EG_OK) return st;
        } else if (str_in(top, sections, 3)) {
            if (!strcmp(e->key, top) && e->v.kind != EG_VAL_NULL) {
                char got[300];
                if (e->v.kind == EG_VAL_LIST) snprintf(got, sizeof got, "a list");
                else snprintf(got, sizeof got, "'%s'", e->v.s ? e->v.s : "");
                snprintf(msg, sizeof msg, "expected a mapping of keys to values (%s: {key: value}), got %s", top, got);
                return spec_fail(ctx, &e->v, top, "%s", msg);
            }
        } else if (strcmp(e->key, top) != 0) {
            return ent_fail(ctx, e, top, "expected a single value, not a mapping");
        }
    }
    int ie = spec_ents_find(ents, "experiment"), im = spec_ents_find(ents, "model");
    if (ie < 0 || ents->e[ie].v.kind == EG_VAL_NULL)
        return spec_fail(ctx, ie < 0 ? NULL : &ents->e[ie].v, "experiment",
                         "required: a name for the results directory (results/<experiment>/)");
    const eg_value *ev = &ents->e[ie].v;
    if (ev->kind == EG_VAL_LIST || !valid_experiment(ev->s))
        return spec_fail(ctx, ev, "experiment",
                         "'%s' is not a valid name: it names a directory, so use only letters, digits, '.', '_' and "
                         "'-'", ev->kind == EG_VAL_LIST ? "[...]" : ev->s);
    if (im < 0 || ents->e[im].v.kind == EG_VAL_NULL)
        return spec_fail(ctx, im < 0 ? NULL : &ents->e[im].v, "model",
                         "required: a model plugin name (`engram list` shows them) or a path to its .so");
    if (ents->e[im].v.kind == EG_VAL_LIST)
        return spec_fail(ctx, &ents->e[im].v, "model", "expected one model name or path, got a list");
    int is = spec_ents_find(ents, "seed"), iss = spec_ents_find(ents, "seeds");
    if (is >= 0 && iss >= 0) {
        const spec_ent *later = is > iss ? &ents->e[is] : &ents->e[iss];
        return ent_fail(ctx, later, later->key, "give either seed (one) or seeds (a list), not both");
    }
    if (iss >= 0) {
        const eg_value *sv = &ents->e[iss].v;
        if (sv->kind == EG_VAL_LIST && sv->n_items == 0)
            return spec_fail(ctx, sv, "seeds", "empty list; give at least one seed");
        int n = sv->kind == EG_VAL_LIST ? sv->n_items : 1;
        for (int i = 0; i < n; i++) {
            const eg_value *it = sv->kind == EG_VAL_LIST ? &sv->items[i] : sv;
            int integral = it->kind == EG_VAL_INT || (it->kind == EG_VAL_FLOAT && it->f == floor(it->f));
            if (!integral || it->f < 0 || it->f > 9.0e18)
                return spec_fail(ctx, it, "seeds", "expected a list of integers >= 0, got '%s'",
                                 it->s ? it->s : "a list");
            for (int j = 0; j < i; j++)
                if (sv->items[j].f == it->f) return spec_fail(ctx, it, "seeds", "seed %s is listed twice", it->s);
        }
    }
    return check_sweep(ctx, ents);
}

/* ---------------- one run ---------------- */

typedef struct section {
    const char *name; /* "params" */
    const eg_param_spec **specs;
    int n;
    char owner[200]; /* "parameter '%s' for model hopfield" is built from noun + owner */
    const char *noun;
    eg_param_spec split; /* data only: synthetic split spec when the source has none */
    char split_default[64];
} section;

static const eg_param_spec *section_find(const section *s, const char *rel) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->specs[i]->key, rel)) return s->specs[i];
    return NULL;
}

static eg_status section_add(section *s, const eg_param_spec *specs, int n) {
    if (n <= 0 || !specs) return EG_OK;
    const eg_param_spec **grown = realloc(s->specs, (size_t)(s->n + n) * sizeof *grown);
    if (!grown) return EG_ERR_NOMEM;
    s->specs = grown;
    for (int i = 0; i < n; i++)
        if (!section_find(s, specs[i].key)) s->specs[s->n++] = &specs[i];
    return EG_OK;
}

static eg_value *get_mut(eg_cfg *c, const char *key) { return (eg_value *)eg_cfg_get(c, key); }

static const char *type_name(eg_param_type t) {
    switch (t) {
    case EG_PARAM_BOOL: return "true or false";
    case EG_PARAM_INT: return "an integer";
    case EG_PARAM_FLOAT: return "a number";
    case EG_PARAM_STRING: return "a string";
    case EG_PARAM_ENUM: return "one of its choices";
    case EG_PARAM_INT_LIST: return "a list of integers";
    case EG_PARAM_FLOAT_LIST: return "a list of numbers";
    case EG_PARAM_PATH: return "a path";
    }
    return "a value";
}

static const char *shown(const eg_value *v) {
    return v->kind == EG_VAL_LIST ? "a list" : v->kind == EG_VAL_NULL ? "null" : v->s ? v->s : "?";
}

/* a scalar as int / float (normalised in place) */
static eg_status to_number(const spec_ctx *ctx, const char *key, eg_value *v, int integer, const char *what) {
    if (v->kind != EG_VAL_INT && v->kind != EG_VAL_FLOAT)
        return spec_fail(ctx, v, key, "expected %s, got '%s'", what, shown(v));
    if (integer && v->kind == EG_VAL_FLOAT) {
        if (v->f != floor(v->f) || fabs(v->f) > 9.0e18)
            return spec_fail(ctx, v, key, "expected %s, got %s (not a whole number)", what, shown(v));
        v->kind = EG_VAL_INT;
        v->i = (int64_t)v->f;
    } else if (!integer && v->kind == EG_VAL_INT) {
        v->kind = EG_VAL_FLOAT;
        v->f = (double)v->i;
    }
    return EG_OK;
}

static eg_status check_type(const spec_ctx *ctx, const char *key, const eg_param_spec *sp, eg_value *v) {
    const char *what = type_name(sp->type);
    switch (sp->type) {
    case EG_PARAM_BOOL:
        if (v->kind != EG_VAL_BOOL) return spec_fail(ctx, v, key, "expected true or false, got '%s'", shown(v));
        return EG_OK;
    case EG_PARAM_INT: return to_number(ctx, key, v, 1, what);
    case EG_PARAM_FLOAT: return to_number(ctx, key, v, 0, what);
    case EG_PARAM_STRING:
    case EG_PARAM_PATH:
        if (v->kind == EG_VAL_LIST) return spec_fail(ctx, v, key, "expected %s, got a list", what);
        v->kind = EG_VAL_STRING; /* a scalar's raw text: `name: 2024` is the string "2024" */
        return EG_OK;
    case EG_PARAM_ENUM: {
        char buf[512], all[512];
        const char *ch[64];
        int n = split_bar(sp->choices, buf, sizeof buf, ch, 64);
        join(ch, n, ", ", all, sizeof all);
        if (v->kind == EG_VAL_LIST || v->kind == EG_VAL_NULL || !str_in(v->s, ch, n)) {
            const char *best = v->kind == EG_VAL_LIST ? NULL : eg_did_you_mean(v->s, ch, n);
            return spec_fail(ctx, v, key, "expected one of %s, got '%s'%s%s%s", all, shown(v),
                             best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
        }
        v->kind = EG_VAL_STRING;
        return EG_OK;
    }
    case EG_PARAM_INT_LIST:
    case EG_PARAM_FLOAT_LIST: {
        int integer = sp->type == EG_PARAM_INT_LIST;
        if (v->kind != EG_VAL_LIST) { /* one number is a list of one */
            eg_status st = to_number(ctx, key, v, integer, what);
            if (st != EG_OK) return st;
            eg_value one = *v;
            eg_value *items = malloc(sizeof *items);
            if (!items) return EG_ERR_NOMEM;
            items[0] = one;
            memset(v, 0, sizeof *v);
            v->kind = EG_VAL_LIST;
            v->items = items;
            v->n_items = 1;
            v->file = one.file;
            v->line = one.line;
            v->col = one.col;
            return EG_OK;
        }
        for (int i = 0; i < v->n_items; i++) {
            eg_status st = to_number(ctx, key, &v->items[i], integer, integer ? "integers" : "numbers");
            if (st != EG_OK) return st;
        }
        return EG_OK;
    }
    }
    return EG_OK;
}

static void range_text(const eg_param_spec *sp, char *buf, size_t cap) {
    int lo = sp->range_flags & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL), hi = sp->range_flags & (EG_RANGE_MAX | EG_RANGE_MAX_EXCL);
    int lox = sp->range_flags & EG_RANGE_MIN_EXCL, hix = sp->range_flags & EG_RANGE_MAX_EXCL;
    if (lo && hi) snprintf(buf, cap, "in %s%g, %g%s", lox ? "(" : "[", sp->min, sp->max, hix ? ")" : "]");
    else if (lo) snprintf(buf, cap, "%s %g", lox ? ">" : ">=", sp->min);
    else snprintf(buf, cap, "%s %g", hix ? "<" : "<=", sp->max);
}

static int in_range(const eg_param_spec *sp, double x) {
    unsigned f = sp->range_flags;
    if (isnan(x)) return !(f & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL | EG_RANGE_MAX | EG_RANGE_MAX_EXCL));
    if ((f & EG_RANGE_MIN_EXCL) && !(x > sp->min)) return 0;
    if ((f & EG_RANGE_MIN) && !(x >= sp->min)) return 0;
    if ((f & EG_RANGE_MAX_EXCL) && !(x < sp->max)) return 0;
    if ((f & EG_RANGE_MAX) && !(x <= sp->max)) return 0;
    return 1;
}

static eg_status check_range(const spec_ctx *ctx, const char *key, const eg_param_spec *sp, const eg_value *v) {
    if (!sp->range_flags) return EG_OK;
    int n = v->kind == EG_VAL_LIST ? v->n_items : 1;
    for (int i = 0; i < n; i++) {
        const eg_value *x = v->kind == EG_VAL_LIST ? &v->items[i] : v;
        if ((x->kind == EG_VAL_INT || x->kind == EG_VAL_FLOAT) && !in_range(sp, x->kind == EG_VAL_INT ? (double)x->i : x->f)) {
            char r[128];
            range_text(sp, r, sizeof r);
            return spec_fail(ctx, x, key, "%s is out of range; expected %s%s%s", shown(x), r, sp->unit && *sp->unit ? " " : "",
                             sp->unit ? sp->unit : "");
        }
    }
    return EG_OK;
}

/* parse the schema default into the run (type-normalised) */
static eg_status fill_default(const spec_ctx *ctx, eg_cfg *run, const char *key, const eg_param_spec *sp,
                              const char *owner) {
    eg_value v;
    if (eg_value_parse(sp->default_value, &v) != EG_OK)
        return spec_fail(ctx, NULL, key, "%s declares an unreadable default '%s'", owner, sp->default_value);
    if (v.kind == EG_VAL_NULL && (sp->type == EG_PARAM_STRING || sp->type == EG_PARAM_PATH)) {
        v.kind = EG_VAL_STRING;
        if (!v.s) v.s = strdup("");
    }
    eg_status st = v.kind == EG_VAL_NULL ? EG_OK : check_type(ctx, key, sp, &v);
    if (st == EG_OK) st = eg_cfg_set(run, key, &v);
    eg_value_free(&v);
    return st;
}

static eg_status check_backend(const spec_ctx *ctx, spec_env *env, const char *key, const eg_value *v) {
    if (!strcmp(v->s, "auto")) return EG_OK;
    if (env->n_backends < 0) env->n_backends = eg_plugin_scan("backend", &env->backends);
    if (env->n_backends > 0 && str_in(v->s, (const char *const *)env->backends, env->n_backends)) return EG_OK;
    char found[300];
    join((const char *const *)env->backends, env->n_backends > 0 ? env->n_backends : 0, ", ", found, sizeof found);
    const char *best = eg_did_you_mean(v->s, (const char *const *)env->backends, env->n_backends > 0 ? env->n_backends : 0);
    return spec_fail(ctx, v, key, "no backend plugin named '%s' (found: %s; 'auto' picks cuda when a device is "
                     "present, else cpu)%s%s%s", v->s, found[0] ? found : "none", best ? "; did you mean '" : "",
                     best ? best : "", best ? "'?" : "");
}

static void sources_list(char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < eg_data_source_count() && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", eg_data_source_at(i)->name);
}

/* data.source and task.kind pick the schemas of their sections */
static eg_status pick_schemas(const spec_ctx *ctx, const spec_env *env, eg_cfg *run, section sec[3]) {
    const eg_model_desc *d = env->desc;
    char msg[1200], list[600];
    /* data */
    const eg_value *src = eg_cfg_get(run, "data.source");
    sources_list(list, sizeof list);
    if (!src)
        return spec_fail(ctx, NULL, "data.source", "required: the dataset to use, one of %s (`engram datasets` lists "
                         "their options)", list);
    const eg_data_source *ds = src->kind == EG_VAL_LIST ? NULL : eg_data_source_find(src->s);
    if (!ds) {
        const char *names[64];
        int n = 0;
        for (int i = 0; i < eg_data_source_count() && n < 64; i++) names[n++] = eg_data_source_at(i)->name;
        const char *best = src->kind == EG_VAL_LIST ? NULL : eg_did_you_mean(src->s, names, n);
        if (best) snprintf(msg, sizeof msg, "unknown dataset '%s'; did you mean '%s'?", shown(src), best);
        else snprintf(msg, sizeof msg, "unknown dataset '%s'; known datasets: %s", shown(src), list);
        return spec_fail(ctx, src, "data.source", "%s", msg);
    }
    get_mut(run, "data.source")->kind = EG_VAL_STRING;
    sec[0].name = "data";
    sec[0].noun = "option";
    snprintf(sec[0].owner, sizeof sec[0].owner, "dataset %s", ds->name);
    eg_status st = section_add(&sec[0], ds->options, ds->n_options);
    if (st == EG_OK && !section_find(&sec[0], "split")) {
        const char *first[1];
        char buf[256];
        split_bar(ds->splits, buf, sizeof buf, first, 1);
        snprintf(sec[0].split_default, sizeof sec[0].split_default, "%s", first[0] ? first[0] : "");
        sec[0].split = (eg_param_spec){"split", EG_PARAM_ENUM, sec[0].split_default, 0, 0, 0, ds->splits, "",
                                       "which part of the dataset"};
        st = section_add(&sec[0], &sec[0].split, 1);
    }
    /* params */
    sec[1].name = "params";
    sec[1].noun = "parameter";
    snprintf(sec[1].owner, sizeof sec[1].owner, "model %s", d->name);
    if (st == EG_OK) st = section_add(&sec[1], d->params, d->n_params);
    /* task */
    const eg_value *kind = eg_cfg_get(run, "task.kind");
    join(d->tasks, d->n_tasks, ", ", list, sizeof list);
    if (st != EG_OK) return st;
    if (!kind)
        return spec_fail(ctx, NULL, "task.kind", "required: the task to run; model %s supports: %s", d->name,
                         d->n_tasks ? list : "none");
    if (kind->kind == EG_VAL_LIST || !str_in(kind->s, d->tasks, d->n_tasks)) {
        const char *best = kind->kind == EG_VAL_LIST ? NULL : eg_did_you_mean(kind->s, d->tasks, d->n_tasks);
        return spec_fail(ctx, kind, "task.kind", "task kind '%s' is not supported by model %s (it supports: %s)%s%s%s",
                         shown(kind), d->name, d->n_tasks ? list : "none", best ? "; did you mean '" : "",
                         best ? best : "", best ? "'?" : "");
    }
    get_mut(run, "task.kind")->kind = EG_VAL_STRING;
    sec[2].name = "task";
    sec[2].noun = "option";
    snprintf(sec[2].owner, sizeof sec[2].owner, "task %s of model %s", kind->s, d->name);
    int nb = 0;
    const eg_param_spec *builtin = eg_task_schema(kind->s, &nb);
    st = section_add(&sec[2], builtin, nb);
    if (st == EG_OK) st = section_add(&sec[2], d->task_params, d->n_task_params);
    return st;
}

/* the schema entry of a run key (NULL for data.source / task.kind); *secp its section or NULL (top level) */
static const eg_param_spec *spec_of(const section sec[3], const char *key, const section **secp) {
    *secp = NULL;
    for (int s = 0; s < 3; s++) {
        size_t n = strlen(sec[s].name);
        if (!strncmp(key, sec[s].name, n) && key[n] == '.') {
            *secp = &sec[s];
            return section_find(&sec[s], key + n + 1);
        }
    }
    for (int i = 0; i < N_TOP; i++)
        if (!strcmp(top_schema[i].key, key)) return &top_schema[i];
    return NULL;
}

static eg_status unknown_in_section(const spec_ctx *ctx, const section *s, const char *key, const eg_value *v) {
    const char *rel = key + strlen(s->name) + 1;
    const char **cands = malloc((size_t)(s->n + 2) * sizeof *cands);
    if (!cands) return EG_ERR_NOMEM;
    int n = 0;
    for (int i = 0; i < s->n; i++) cands[n++] = s->specs[i]->key;
    if (!strcmp(s->name, "data")) cands[n++] = "source";
    if (!strcmp(s->name, "task")) cands[n++] = "kind";
    const char *best = eg_did_you_mean(rel, cands, n);
    char all[600];
    join(cands, n, ", ", all, sizeof all);
    eg_status st;
    if (best)
        st = spec_fail(ctx, v, key, "unknown %s '%s' for %s; did you mean '%s'?", s->noun, rel, s->owner, best);
    else
        st = spec_fail(ctx, v, key, "unknown %s '%s' for %s (valid: %s)", s->noun, rel, s->owner, all);
    free(cands);
    return st;
}

static eg_status validate(const spec_ctx *ctx, spec_env *env, eg_cfg *run, section sec[3]) {
    eg_status st;
    /* null means "not given": the default applies */
    for (int i = run->n - 1; i >= 0; i--)
        if (run->vals[i].kind == EG_VAL_NULL) eg_cfg_remove(run, run->keys[i]);
    if ((st = pick_schemas(ctx, env, run, sec)) != EG_OK) return st;

    /* 1. unknown keys */
    for (int i = 0; i < run->n; i++) {
        const char *k = run->keys[i];
        if (!strcmp(k, "data.source") || !strcmp(k, "task.kind")) continue;
        const section *s;
        if (!spec_of(sec, k, &s)) {
            if (s) return unknown_in_section(ctx, s, k, &run->vals[i]);
            return spec_fail(ctx, &run->vals[i], k, "unknown key"); /* excluded by spec_check_top */
        }
    }
    /* 2. types */
    for (int i = 0; i < run->n; i++) {
        const section *s;
        const eg_param_spec *sp = spec_of(sec, run->keys[i], &s);
        if (!sp) continue;
        if ((st = check_type(ctx, run->keys[i], sp, &run->vals[i])) != EG_OK) return st;
        if (!strcmp(run->keys[i], "backend") && (st = check_backend(ctx, env, "backend", &run->vals[i])) != EG_OK)
            return st;
        if (!strcmp(run->keys[i], "data.split")) {
            const eg_data_source *ds = eg_data_source_find(eg_cfg_get(run, "data.source")->s);
            char buf[256], all[256];
            const char *sp_list[32];
            int n = split_bar(ds->splits, buf, sizeof buf, sp_list, 32);
            if (!str_in(run->vals[i].s, sp_list, n)) {
                join(sp_list, n, ", ", all, sizeof all);
                return spec_fail(ctx, &run->vals[i], "data.split", "split '%s' is not one of %s for dataset %s",
                                 run->vals[i].s, all, ds->name);
            }
        }
    }
    /* 3. ranges */
    for (int i = 0; i < run->n; i++) {
        const section *s;
        const eg_param_spec *sp = spec_of(sec, run->keys[i], &s);
        if (sp && (st = check_range(ctx, run->keys[i], sp, &run->vals[i])) != EG_OK) return st;
    }
    /* 4. defaults for every schema key */
    char key[512];
    for (int i = 0; i < N_TOP; i++) {
        if (eg_cfg_get(run, top_schema[i].key)) continue;
        if (!top_schema[i].default_value)
            return spec_fail(ctx, NULL, top_schema[i].key, "required key missing");
        if ((st = fill_default(ctx, run, top_schema[i].key, &top_schema[i], "engram")) != EG_OK) return st;
    }
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < sec[s].n; i++) {
            const eg_param_spec *sp = sec[s].specs[i];
            snprintf(key, sizeof key, "%s.%s", sec[s].name, sp->key);
            if (eg_cfg_get(run, key)) continue;
            if (!sp->default_value)
                return spec_fail(ctx, NULL, key, "required %s missing (%s%s%s)", sec[s].noun, sec[s].owner,
                                 sp->doc && *sp->doc ? ": " : "", sp->doc ? sp->doc : "");
            if ((st = fill_default(ctx, run, key, sp, sec[s].owner)) != EG_OK) return st;
        }
    /* 5. the task's rules between keys */
    const eg_task_def *tk = eg_task_def_find(eg_cfg_get(run, "task.kind")->s);
    const char *bad = NULL;
    char msg[512];
    if (tk && tk->check && tk->check(run, &bad, msg, sizeof msg))
        return spec_fail(ctx, bad ? eg_cfg_get(run, bad) : NULL, bad ? bad : "task", "%s", msg);
    return EG_OK;
}

eg_status spec_validate_run(const spec_ctx *ctx, spec_env *env, eg_cfg *run) {
    section sec[3];
    memset(sec, 0, sizeof sec);
    eg_status st = validate(ctx, env, run, sec);
    for (int s = 0; s < 3; s++) free(sec[s].specs);
    return st;
}
