/* spec_validate.c — checking one expanded run, in this order: unknown keys
 * (with the closest valid key), types (normalised: an int for a float becomes
 * a float), ranges, defaults for every schema key, and the task's cross-key
 * rules. (The spec as a whole was checked by spec_check.c.) */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram/source.h"
#include "registry/loader.h"
#include "spec_internal.h"
#include "task_kinds.h"

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

static eg_value *get_mut(eg_cfg *c, const char *key) {
    return (eg_value *)eg_cfg_get(c, key);
}

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
        int n = spec_split_bar(sp->choices, buf, sizeof buf, ch, 64);
        spec_join(ch, n, ", ", all, sizeof all);
        if (v->kind == EG_VAL_LIST || v->kind == EG_VAL_NULL || !spec_str_in(v->s, ch, n)) {
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
    int lo = sp->range_flags & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL),
        hi = sp->range_flags & (EG_RANGE_MAX | EG_RANGE_MAX_EXCL);
    int lox = sp->range_flags & EG_RANGE_MIN_EXCL, hix = sp->range_flags & EG_RANGE_MAX_EXCL;
    if (lo && hi)
        snprintf(buf, cap, "in %s%g, %g%s", lox ? "(" : "[", sp->min, sp->max, hix ? ")" : "]");
    else if (lo)
        snprintf(buf, cap, "%s %g", lox ? ">" : ">=", sp->min);
    else
        snprintf(buf, cap, "%s %g", hix ? "<" : "<=", sp->max);
}

/* A ranged key takes finite numbers only: a bound of infinity (no upper bound) does
 * not let .inf in, and .nan is never in a range. */
static int in_range(const eg_param_spec *sp, double x) {
    unsigned f = sp->range_flags;
    if (!(f & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL | EG_RANGE_MAX | EG_RANGE_MAX_EXCL))) return 1;
    if (!isfinite(x)) return 0;
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
        double d = x->kind == EG_VAL_INT ? (double)x->i : x->f;
        if ((x->kind == EG_VAL_INT || x->kind == EG_VAL_FLOAT) && !in_range(sp, d)) {
            char r[128];
            range_text(sp, r, sizeof r);
            if (!isfinite(d))
                return spec_fail(ctx, x, key, "%s is %s; expected a finite number %s%s%s", shown(x),
                                 isnan(d) ? "not a number" : "infinite", r, sp->unit && *sp->unit ? " " : "",
                                 sp->unit ? sp->unit : "");
            return spec_fail(ctx, x, key, "%s is out of range; expected %s%s%s", shown(x), r,
                             sp->unit && *sp->unit ? " " : "", sp->unit ? sp->unit : "");
        }
    }
    return EG_OK;
}

void spec_env_free(spec_env *env) {
    for (int i = 0; i < env->n_backends; i++)
        free(env->backends[i]);
    free(env->backends);
    for (int i = 0; i < env->n_dflt; i++) {
        free(env->dflt_key[i]);
        eg_value_free(&env->dflt_val[i]);
    }
    free(env->dflt_key);
    free(env->dflt_val);
    spec_map_free(&env->dflt_ix);
}

/* remember a parsed default (takes key and v) */
static eg_status default_keep(spec_env *env, char *key, eg_value *v) {
    if (env->n_dflt == env->cap_dflt) {
        int cap = env->cap_dflt ? 2 * env->cap_dflt : 32;
        char **k = realloc(env->dflt_key, (size_t)cap * sizeof *k);
        if (k) env->dflt_key = k;
        eg_value *vv = k ? realloc(env->dflt_val, (size_t)cap * sizeof *vv) : NULL;
        if (!vv) {
            free(key);
            return EG_ERR_NOMEM;
        }
        env->dflt_val = vv;
        env->cap_dflt = cap;
    }
    env->dflt_key[env->n_dflt] = key;
    env->dflt_val[env->n_dflt] = *v;
    memset(v, 0, sizeof *v);
    return spec_map_put(&env->dflt_ix, key, env->n_dflt++);
}

/* parse the schema default into the run (type-normalised); each distinct default once */
static eg_status fill_default(const spec_ctx *ctx, spec_env *env, eg_cfg *run, const char *key,
                              const eg_param_spec *sp, const char *owner) {
    /* the cache key "TYPE|CHOICES|DEFAULT", built without printf: this runs for every
     * default of every run */
    const char *ch = sp->choices ? sp->choices : "", *dv = sp->default_value ? sp->default_value : "";
    size_t lc = strlen(ch), ld = strlen(dv);
    char *ck = malloc(lc + ld + 4);
    if (!ck) return EG_ERR_NOMEM;
    ck[0] = (char)('A' + (int)sp->type);
    ck[1] = '|';
    memcpy(ck + 2, ch, lc);
    ck[2 + lc] = '|';
    memcpy(ck + 3 + lc, dv, ld + 1);
    int i = spec_map_get(&env->dflt_ix, ck);
    if (i >= 0) {
        free(ck);
        return eg_cfg_set(run, key, &env->dflt_val[i]);
    }
    eg_value v;
    if (eg_value_parse(sp->default_value, &v) != EG_OK) {
        free(ck);
        return spec_fail(ctx, NULL, key, "%s declares an unreadable default '%s'", owner, sp->default_value);
    }
    if (v.kind == EG_VAL_NULL && (sp->type == EG_PARAM_STRING || sp->type == EG_PARAM_PATH)) {
        v.kind = EG_VAL_STRING;
        if (!v.s) v.s = strdup("");
    }
    eg_status st = v.kind == EG_VAL_NULL ? EG_OK : check_type(ctx, key, sp, &v);
    if (st == EG_OK) st = eg_cfg_set(run, key, &v);
    if (st == EG_OK) {
        st = default_keep(env, ck, &v);
        ck = NULL;
    }
    free(ck);
    eg_value_free(&v);
    return st;
}

static eg_status check_backend(const spec_ctx *ctx, spec_env *env, const char *key, const eg_value *v) {
    if (!strcmp(v->s, "auto")) return EG_OK;
    if (env->n_backends < 0) env->n_backends = eg_plugin_scan("backend", &env->backends);
    if (env->n_backends > 0 && spec_str_in(v->s, (const char *const *)env->backends, env->n_backends)) return EG_OK;
    char found[300];
    spec_join((const char *const *)env->backends, env->n_backends > 0 ? env->n_backends : 0, ", ", found, sizeof found);
    const char *best =
        eg_did_you_mean(v->s, (const char *const *)env->backends, env->n_backends > 0 ? env->n_backends : 0);
    return spec_fail(ctx, v, key,
                     "no backend plugin named '%s' (found: %s; 'auto' picks cuda when a device is "
                     "present, else cpu)%s%s%s",
                     v->s, found[0] ? found : "none", best ? "; did you mean '" : "", best ? best : "",
                     best ? "'?" : "");
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
    /* the list of every source (which opens the data plugins on the search path) only for an error */
    if (!src) {
        sources_list(list, sizeof list);
        return spec_fail(ctx, NULL, "data.source",
                         "required: the dataset to use, one of %s (`engram datasets` lists "
                         "their options)",
                         list);
    }
    const eg_data_source *ds = NULL;
    char why[2048] = "";
    eg_status found = src->kind == EG_VAL_LIST ? EG_ERR_NOTFOUND : eg_data_source_lookup(src->s, &ds, why, sizeof why);
    if (found != EG_OK && found != EG_ERR_NOTFOUND) /* a plugin that is there but does not load */
        return spec_fail(ctx, src, "data.source", "%s", why);
    if (!ds) {
        const char *names[64];
        int n = 0;
        for (int i = 0; i < eg_data_source_count() && n < 64; i++)
            names[n++] = eg_data_source_at(i)->name;
        const char *best = src->kind == EG_VAL_LIST ? NULL : eg_did_you_mean(src->s, names, n);
        if (best)
            snprintf(msg, sizeof msg, "unknown dataset '%s'; did you mean '%s'?", shown(src), best);
        else {
            sources_list(list, sizeof list);
            snprintf(msg, sizeof msg, "unknown dataset '%s'; known datasets: %s", shown(src), list);
        }
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
        spec_split_bar(ds->splits, buf, sizeof buf, first, 1);
        snprintf(sec[0].split_default, sizeof sec[0].split_default, "%s", first[0] ? first[0] : "");
        sec[0].split = (eg_param_spec){
            "split", EG_PARAM_ENUM, sec[0].split_default, 0, 0, 0, ds->splits, "", "which part of the dataset"};
        st = section_add(&sec[0], &sec[0].split, 1);
    }
    /* params */
    sec[1].name = "params";
    sec[1].noun = "parameter";
    snprintf(sec[1].owner, sizeof sec[1].owner, "model %s", d->name);
    if (st == EG_OK) st = section_add(&sec[1], d->params, d->n_params);
    /* task */
    const eg_value *kind = eg_cfg_get(run, "task.kind");
    spec_join(d->tasks, d->n_tasks, ", ", list, sizeof list);
    if (st != EG_OK) return st;
    if (!kind)
        return spec_fail(ctx, NULL, "task.kind", "required: the task to run; model %s supports: %s", d->name,
                         d->n_tasks ? list : "none");
    if (kind->kind == EG_VAL_LIST || !spec_str_in(kind->s, d->tasks, d->n_tasks)) {
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
    const eg_param_spec *builtin = eg_task_schema(d, kind->s, &nb);
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
    for (int i = 0; i < s->n; i++)
        cands[n++] = s->specs[i]->key;
    if (!strcmp(s->name, "data")) cands[n++] = "source";
    if (!strcmp(s->name, "task")) cands[n++] = "kind";
    const char *best = eg_did_you_mean(rel, cands, n);
    char all[600];
    spec_join(cands, n, ", ", all, sizeof all);
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
            int n = spec_split_bar(ds->splits, buf, sizeof buf, sp_list, 32);
            if (!spec_str_in(run->vals[i].s, sp_list, n)) {
                spec_join(sp_list, n, ", ", all, sizeof all);
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
        if (!top_schema[i].default_value) return spec_fail(ctx, NULL, top_schema[i].key, "required key missing");
        if ((st = fill_default(ctx, env, run, top_schema[i].key, &top_schema[i], "engram")) != EG_OK) return st;
    }
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < sec[s].n; i++) {
            const eg_param_spec *sp = sec[s].specs[i];
            snprintf(key, sizeof key, "%s.%s", sec[s].name, sp->key);
            if (eg_cfg_get(run, key)) continue;
            if (!sp->default_value)
                return spec_fail(ctx, NULL, key, "required %s missing (%s%s%s)", sec[s].noun, sec[s].owner,
                                 sp->doc && *sp->doc ? ": " : "", sp->doc ? sp->doc : "");
            if ((st = fill_default(ctx, env, run, key, sp, sec[s].owner)) != EG_OK) return st;
        }
    /* 5. the task's rules between keys */
    const eg_task_def *tk = eg_model_task_def(env->desc, eg_cfg_get(run, "task.kind")->s);
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
    for (int s = 0; s < 3; s++)
        free(sec[s].specs);
    return st;
}
