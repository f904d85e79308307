/* spec_check.c — checks of a spec as a whole, before the model is opened:
 * top-level keys (with the closest valid key), the shape of sections, required
 * experiment and model, seeds, and the sweep (forms, sweepable keys, non-empty
 * axes, equal zip lengths, one axis per key). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

static const char *const sections[3] = {"data", "params", "task"};

static eg_status ent_fail(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *msg) {
    const char *file = e->v.file ? e->v.file : eg_intern(ctx->path);
    return spec_fail_at(ctx, file, e->kline, e->kcol, key, "%s", msg);
}


static eg_status check_sweep_ent(const spec_ctx *ctx, const spec_ent *e) {
    static const char *const forms[] = {"grid", "zip", "cases", "random", "adaptive"};
    if (!strncmp(e->key, "sweep.random", 12) && (e->key[12] == '.' || !e->key[12])) return spec_check_random_ent(ctx, e);
    if (!strncmp(e->key, "sweep.adaptive", 14) && (e->key[14] == '.' || !e->key[14]))
        return spec_check_adaptive_ent(ctx, e);
    char msg[400];
    const char *form;
    const char *k = spec_axis_of(e->key, &form);
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
                eg_status st = spec_check_sweepable(ctx, &cs->e[j], cs->e[j].key, full, NULL);
                if (st != EG_OK) return st;
            }
        }
        return EG_OK;
    }
    if (!k) {
        char form_name[64];
        spec_first_seg(e->key + 6, form_name, sizeof form_name);
        if (!strcmp(form_name, "cases"))
            return ent_fail(ctx, e, e->key, "cases are given as a whole list (sweep.cases: [{params.x: 1}, ...])");
        const char *best = eg_did_you_mean(form_name, forms, 5);
        snprintf(msg, sizeof msg,
                 "unknown sweep form '%s'%s%s%s (sweep: {grid: ..., zip: ..., cases: [...], random: ..., adaptive: ...})",
                 form_name, best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
        return ent_fail(ctx, e, e->key, msg);
    }
    eg_status st = spec_check_sweepable(ctx, e, k, e->key, NULL);
    if (st != EG_OK) return st;
    if (e->v.kind != EG_VAL_LIST) {
        snprintf(msg, sizeof msg, "expected a list of values to sweep over, got '%s' (write [%s] for one value)",
                 e->v.s ? e->v.s : "null", e->v.s ? e->v.s : "null");
        return spec_fail(ctx, &e->v, e->key, "%s", msg);
    }
    if (e->v.n_items == 0) return spec_fail(ctx, &e->v, e->key, "empty list; a sweep axis needs at least one value");
    return EG_OK;
}

static eg_status check_sweep(const spec_ctx *ctx, const spec_ents *ents) {
    const spec_ent *zip0 = NULL, *cases = NULL;
    int ci = spec_ents_find(ents, "sweep.cases");
    if (ci >= 0) cases = &ents->e[ci];
    /* the keys cases set -> (case, entry), first case first */
    spec_map case_keys = {0}, axes = {0};
    eg_status st = EG_OK;
    for (int c = cases ? cases->cases->n - 1 : -1; c >= 0 && st == EG_OK; c--)
        for (int j = 0; j < cases->cases->items[c].n && st == EG_OK; j++)
            st = spec_map_put(&case_keys, cases->cases->items[c].e[j].key, c);
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        const char *form;
        const char *k = spec_axis_of(e->key, &form);
        if (!k) continue;
        char msg[600], w1[300];
        if (!strcmp(form, "zip")) {
            if (!zip0)
                zip0 = e;
            else if (zip0->v.n_items != e->v.n_items) {
                snprintf(msg, sizeof msg,
                         "%.200s has %d values but %.200s has %d; zip pairs values by position, so its "
                         "lists need equal lengths",
                         zip0->key + 10, zip0->v.n_items, k, e->v.n_items);
                st = ent_fail(ctx, e, "sweep.zip", msg);
                break;
            }
        }
        /* one key, one axis */
        int j = spec_map_get(&axes, k);
        if (j >= 0) {
            const char *f2;
            spec_axis_of(ents->e[j].key, &f2);
            spec_where(ctx, ents->e[j].v.file, ents->e[j].kline, ents->e[j].kcol, w1, sizeof w1);
            snprintf(msg, sizeof msg, "%.200s is swept twice (also by sweep.%s at %s)", k, f2, w1);
            st = ent_fail(ctx, e, e->key, msg);
            break;
        }
        if ((st = spec_map_put(&axes, k, i)) != EG_OK) break;
        int c = spec_map_get(&case_keys, k);
        if (c >= 0) {
            const spec_ent *ce = &cases->cases->items[c].e[spec_ents_find(&cases->cases->items[c], k)];
            spec_where(ctx, ce->v.file, ce->kline, ce->kcol, w1, sizeof w1);
            snprintf(msg, sizeof msg, "%.200s is swept by sweep.%s and also set by case %d (at %s); keep one of them",
                     k, form, c + 1, w1);
            st = ent_fail(ctx, e, e->key, msg);
            break;
        }
    }
    spec_map_free(&case_keys);
    spec_map_free(&axes);
    return st;
}

typedef struct seed_at {
    double f;
    int i;
} seed_at;

static int cmp_seed(const void *a, const void *b) {
    const seed_at *x = a, *y = b;
    return x->f < y->f ? -1 : x->f > y->f ? 1 : x->i - y->i;
}

/* a seed listed twice, found by sorting; the error names the later one */
static eg_status seeds_unique(const spec_ctx *ctx, const eg_value *sv) {
    seed_at *s = malloc((size_t)sv->n_items * sizeof *s);
    if (!s) return EG_ERR_NOMEM;
    for (int i = 0; i < sv->n_items; i++)
        s[i] = (seed_at){sv->items[i].f, i};
    qsort(s, (size_t)sv->n_items, sizeof *s, cmp_seed);
    int dup = -1;
    for (int i = 1; i < sv->n_items; i++)
        if (s[i].f == s[i - 1].f && (dup < 0 || s[i].i < dup)) dup = s[i].i;
    free(s);
    if (dup < 0) return EG_OK;
    return spec_fail(ctx, &sv->items[dup], "seeds", "seed %s is listed twice", sv->items[dup].s);
}

static int valid_experiment(const char *s) {
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > SPEC_MAX_NAME) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
            return 0;
    return 1;
}

eg_status spec_check_top(const spec_ctx *ctx, const spec_ents *ents) {
    char top[64];
    eg_status st;
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        spec_first_seg(e->key, top, sizeof top);
        if (!spec_str_in(top, eg_spec_top_keys, eg_spec_n_top_keys)) return spec_unknown_top(ctx, e, e->key, top);
        if (!strcmp(top, "sweep")) {
            if ((st = check_sweep_ent(ctx, e)) != EG_OK) return st;
        } else if (spec_str_in(top, sections, 3)) {
            if (!strcmp(e->key, top) && e->v.kind != EG_VAL_NULL) {
                if (e->v.kind == EG_VAL_LIST)
                    return spec_fail(ctx, &e->v, top,
                                     "expected a mapping of keys to values (%s: {key: value}), got "
                                     "a list",
                                     top);
                return spec_fail(ctx, &e->v, top, "expected a mapping of keys to values (%s: {key: value}), got '%s'",
                                 top, e->v.s ? e->v.s : "");
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
                         "'%.60s%s' is not a valid name: it names a directory, so use at most %d characters, only "
                         "letters, digits, '.', '_' and '-'",
                         ev->kind == EG_VAL_LIST ? "[...]" : ev->s,
                         ev->kind != EG_VAL_LIST && ev->s && strlen(ev->s) > 60 ? "..." : "", SPEC_MAX_NAME);
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
        if (n > SPEC_MAX_RUNS)
            return spec_fail(ctx, sv, "seeds", "%d seeds; a spec expands to at most %d runs", n, SPEC_MAX_RUNS);
        for (int i = 0; i < n; i++) {
            const eg_value *it = sv->kind == EG_VAL_LIST ? &sv->items[i] : sv;
            int integral = it->kind == EG_VAL_INT || (it->kind == EG_VAL_FLOAT && it->f == floor(it->f));
            if (!integral || it->f < 0 || it->f > 9.0e18)
                return spec_fail(ctx, it, "seeds", "expected a list of integers >= 0, got '%s'",
                                 it->s ? it->s : "a list");
        }
        if (sv->kind == EG_VAL_LIST) {
            eg_status st = seeds_unique(ctx, sv);
            if (st != EG_OK) return st;
        }
    }
    if ((st = check_sweep(ctx, ents)) != EG_OK) return st;
    if ((st = spec_check_random(ctx, ents)) != EG_OK) return st;
    return spec_check_adaptive(ctx, ents);
}
