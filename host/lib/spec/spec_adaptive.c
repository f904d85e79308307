/* spec_adaptive.c — adaptive search: sweep.adaptive (ASHA, stop-based asynchronous
 * successive halving). The loader checks each key under sweep.adaptive where it is
 * written (spec_check_adaptive_ent), then the whole block (spec_check_adaptive);
 * eg_spec_adaptive reads the checked block back from the spec's base config for the
 * runner, which hands it to every run (host/lib/run/run_adaptive.c does the rest).
 * The block is no run key, so run ids do not depend on it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_adaptive.h"
#include "spec_internal.h"

static const char *const keys[] = {"method", "metric", "goal", "rungs", "eta", "min_peers", "unit"};
enum { N_KEYS = 7 };
static const char block_form[] = "sweep.adaptive: {method: asha, metric: NAME, goal: max|min, rungs: [5, 15, 45]}";

/* methods that other tools have and engram does not (yet): named, so the refusal can say so */
static const char *const other_methods[] = {"hyperband", "bohb", "median", "pbt", "percentile", "threshold"};
enum { N_OTHER = 6 };

/* local helpers: spec_check.c calls this file, so it must not call spec_check.c back
 * (tests/unit/test_layers.py refuses circles of files calling each other) */
static int in_list(const char *s, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

static int is_number(const eg_value *v) {
    return v->kind == EG_VAL_INT || v->kind == EG_VAL_FLOAT;
}

static const char *text_of(const eg_value *v) {
    return v->kind == EG_VAL_LIST ? "a list" : v->kind == EG_VAL_NULL || !v->s ? "nothing" : v->s;
}

/* a series name as eg_log takes it: non-empty '/'-separated parts, none "." or ".." */
static int valid_metric(const char *s) {
    size_t n = strlen(s);
    if (!n || n >= EG_ADAPTIVE_MAX_METRIC || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//")) return 0;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return 0;
        p += len + (e ? 1 : 0);
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20) return 0;
    return 1;
}

static int valid_unit(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 31) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

static eg_status check_method(const spec_ctx *ctx, const spec_ent *e) {
    const eg_value *v = &e->v;
    if (v->kind == EG_VAL_STRING && !strcmp(v->s, "asha")) return EG_OK;
    if (v->kind == EG_VAL_STRING && in_list(v->s, other_methods, N_OTHER))
        return spec_fail(ctx, v, e->key,
                         "method '%s' is not implemented; engram's adaptive search is asha (asynchronous "
                         "successive halving: a run stops at a rung unless it is in the best 1/eta there)",
                         v->s);
    static const char *const methods[] = {"asha"};
    const char *best = v->kind == EG_VAL_STRING ? eg_did_you_mean(v->s, methods, 1) : NULL;
    return spec_fail(ctx, v, e->key, "expected asha, got '%s'%s", text_of(v), best ? "; did you mean 'asha'?" : "");
}

static eg_status check_rungs(const spec_ctx *ctx, const spec_ent *e) {
    const eg_value *v = &e->v;
    if (v->kind != EG_VAL_LIST)
        return spec_fail(ctx, v, e->key,
                         "expected a list of steps at which runs are compared (e.g. [5, 15, 45]), got '%s'%s%s%s",
                         text_of(v), is_number(v) ? " (write [" : "", is_number(v) ? v->s : "",
                         is_number(v) ? "] for one rung)" : "");
    if (v->n_items == 0) return spec_fail(ctx, v, e->key, "empty list; give at least one rung (e.g. [5, 15, 45])");
    if (v->n_items > EG_ADAPTIVE_MAX_RUNGS)
        return spec_fail(ctx, v, e->key, "%d rungs; at most %d", v->n_items, EG_ADAPTIVE_MAX_RUNGS);
    for (int i = 0; i < v->n_items; i++) {
        const eg_value *it = &v->items[i];
        if (!is_number(it) || !isfinite(it->f) || it->f <= 0 || it->f > 9.0e18)
            return spec_fail(ctx, it, e->key, "expected a positive number of steps, got '%s'", text_of(it));
        if (i > 0 && it->f <= v->items[i - 1].f)
            return spec_fail(ctx, it, e->key, "rungs must increase strictly, but %s follows %s", it->s,
                             v->items[i - 1].s);
    }
    return EG_OK;
}

/* the value of one key under sweep.adaptive (k: the part after "sweep.adaptive.") */
static eg_status check_value(const spec_ctx *ctx, const spec_ent *e, const char *k) {
    const eg_value *v = &e->v;
    if (!strcmp(k, "method")) return check_method(ctx, e);
    if (!strcmp(k, "rungs")) return check_rungs(ctx, e);
    if (v->kind == EG_VAL_LIST) return spec_fail(ctx, v, e->key, "expected a single value, got a list");
    if (!strcmp(k, "metric")) {
        if (v->kind != EG_VAL_STRING || !valid_metric(v->s))
            return spec_fail(ctx, v, e->key,
                             "expected the name of a series the runs log with eg_log (e.g. train/val_accuracy: "
                             "non-empty parts separated by '/'), got '%s'",
                             text_of(v));
        return EG_OK;
    }
    if (!strcmp(k, "goal")) {
        static const char *const goals[] = {"max", "min"};
        if (v->kind == EG_VAL_STRING && in_list(v->s, goals, 2)) return EG_OK;
        const char *best = v->kind == EG_VAL_STRING ? eg_did_you_mean(v->s, goals, 2) : NULL;
        if (!best && v->kind == EG_VAL_STRING && !strncmp(v->s, "max", 3)) best = "max";
        if (!best && v->kind == EG_VAL_STRING && !strncmp(v->s, "min", 3)) best = "min";
        return spec_fail(ctx, v, e->key, "expected max or min (is a higher or a lower value better?), got '%s'%s%s%s",
                         text_of(v), best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
    }
    if (!strcmp(k, "eta")) {
        if (!is_number(v) || !isfinite(v->f) || v->f <= 1 || v->f > 1e6)
            return spec_fail(ctx, v, e->key,
                             "expected a number > 1 (the reduction factor: about 1/eta of the runs pass each "
                             "rung; 3 is usual), got '%s'",
                             text_of(v));
        return EG_OK;
    }
    if (!strcmp(k, "min_peers")) {
        int whole = v->kind == EG_VAL_INT || (v->kind == EG_VAL_FLOAT && v->f == floor(v->f));
        if (!whole || v->f < 1 || v->f > 1e6)
            return spec_fail(ctx, v, e->key,
                             "expected an integer >= 1 (values other runs must have recorded at a rung before it "
                             "prunes a run), got '%s'",
                             text_of(v));
        return EG_OK;
    }
    /* unit */
    if (v->kind != EG_VAL_STRING || !valid_unit(v->s))
        return spec_fail(ctx, v, e->key,
                         "expected a word naming what a step counts (epoch, step, iteration: letters, digits, '_' "
                         "or '-', at most 31), got '%s'",
                         text_of(v));
    return EG_OK;
}

eg_status spec_check_adaptive_ent(const spec_ctx *ctx, const spec_ent *e) {
    if (!strcmp(e->key, "sweep.adaptive")) {
        if (e->v.kind == EG_VAL_NULL) return EG_OK; /* "adaptive:" with nothing: no adaptive search */
        return spec_fail(ctx, &e->v, e->key, "expected a mapping (%s), got '%s'", block_form, text_of(&e->v));
    }
    const char *k = e->key + 15; /* after "sweep.adaptive." */
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(k, "."), k);
    int known = in_list(first, keys, N_KEYS);
    if (known && strcmp(first, k) != 0)
        return spec_fail_at(ctx, e->v.file, e->kline, e->kcol, e->key, "expected a value, not a mapping");
    if (!known) {
        const char *best = eg_did_you_mean(first, keys, N_KEYS);
        static const char list[] = "method, metric, goal, rungs, eta, min_peers, unit";
        return spec_fail_at(ctx, e->v.file, e->kline, e->kcol, e->key,
                            "unknown key '%.60s' of sweep.adaptive%s%s%s (it has: %s)", first,
                            best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "", list);
    }
    if (e->v.kind == EG_VAL_NULL && strcmp(first, "method") && strcmp(first, "eta") && strcmp(first, "min_peers") &&
        strcmp(first, "unit"))
        return spec_fail(ctx, &e->v, e->key, "empty value; %s", !strcmp(first, "metric") ? "name the series to compare"
                                                                : !strcmp(first, "goal")  ? "give max or min"
                                                                                          : "give a list of steps");
    if (e->v.kind == EG_VAL_NULL) return EG_OK; /* an optional key left empty takes its default */
    return check_value(ctx, e, first);
}

eg_status spec_check_adaptive(const spec_ctx *ctx, const spec_ents *ents) {
    const spec_ent *first = NULL;
    int have[N_KEYS] = {0};
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->key || strncmp(e->key, "sweep.adaptive.", 15) != 0) continue;
        if (!first) first = e;
        for (int k = 0; k < N_KEYS; k++)
            if (!strcmp(e->key + 15, keys[k]) && e->v.kind != EG_VAL_NULL) have[k] = 1;
    }
    if (!first) return EG_OK;
    /* a missing required key is placed at the first key the block has */
    static const char *const why[] = {"", "the series to compare at the rungs (e.g. metric: train/val_accuracy)",
                                      "max or min: whether a higher or a lower value of the metric is better",
                                      "the steps at which runs are compared (e.g. rungs: [5, 15, 45])"};
    for (int k = 1; k <= 3; k++)
        if (!have[k]) {
            char key[64];
            snprintf(key, sizeof key, "sweep.adaptive.%s", keys[k]);
            return spec_fail_at(ctx, first->v.file, first->kline, first->kcol, key, "required: %s", why[k]);
        }
    return EG_OK;
}

/* ---- reading the checked block back (the runner) ---- */

static const eg_value *base_get(const eg_spec *s, const char *k) {
    char key[64];
    snprintf(key, sizeof key, "sweep.adaptive.%s", k);
    const eg_value *v = eg_cfg_get(&s->base, key);
    return v && v->kind != EG_VAL_NULL ? v : NULL;
}

eg_status eg_spec_adaptive(const eg_spec *s, eg_adaptive *out) {
    memset(out, 0, sizeof *out);
    const eg_value *metric = base_get(s, "metric"), *goal = base_get(s, "goal"), *rungs = base_get(s, "rungs");
    if (!metric && !goal && !rungs) return EG_OK;
    if (!metric || !goal || !rungs || metric->kind != EG_VAL_STRING || goal->kind != EG_VAL_STRING ||
        rungs->kind != EG_VAL_LIST || rungs->n_items < 1 || rungs->n_items > EG_ADAPTIVE_MAX_RUNGS)
        return EG_ERR_INTERNAL;
    const eg_value *eta = base_get(s, "eta"), *peers = base_get(s, "min_peers"), *unit = base_get(s, "unit");
    out->on = 1;
    snprintf(out->method, sizeof out->method, "asha");
    snprintf(out->metric, sizeof out->metric, "%s", metric->s);
    out->goal_max = strcmp(goal->s, "max") == 0;
    out->n_rungs = rungs->n_items;
    for (int i = 0; i < rungs->n_items; i++)
        out->rungs[i] = rungs->items[i].f;
    out->eta = eta && is_number(eta) ? eta->f : EG_ADAPTIVE_DEFAULT_ETA;
    out->min_peers = peers && is_number(peers) ? (int)peers->f : EG_ADAPTIVE_DEFAULT_MIN_PEERS;
    snprintf(out->unit, sizeof out->unit, "%s", unit && unit->kind == EG_VAL_STRING ? unit->s : EG_ADAPTIVE_DEFAULT_UNIT);
    return EG_OK;
}
