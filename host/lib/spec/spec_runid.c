/* spec_runid.c — run ids and swept keys.
 * id = first 16 hex digits of SHA-256 of eg_cfg_canonical(resolved run) without
 * experiment, description and timeout (they do not change what is computed),
 * with `model` replaced by the plugin's descriptor name so that naming the
 * plugin by name or by path gives the same id. Values were normalised by their
 * schema types before, so 1 and 1.0 for a float parameter hash alike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "spec_internal.h"

static const char *const id_excluded[] = {"experiment", "description", "timeout"};

void eg_spec_run_id(const eg_cfg *resolved, const char *model_name, char id[17]) {
    eg_cfg c;
    id[0] = 0;
    if (eg_cfg_copy(&c, resolved) != EG_OK) return;
    if (model_name) {
        eg_value m = {0};
        m.kind = EG_VAL_STRING;
        m.s = (char *)model_name;
        eg_cfg_set(&c, "model", &m);
    }
    char *text = eg_cfg_canonical(&c, id_excluded, 3);
    eg_cfg_free(&c);
    if (!text) return;
    uint8_t digest[32];
    eg_sha256_sum(text, strlen(text), digest);
    free(text);
    eg_sha256_hex(digest, id, 16);
}

typedef struct idx_id {
    const char *id;
    int index;
} idx_id;

static int cmp_id(const void *a, const void *b) {
    const idx_id *x = a, *y = b;
    int r = strcmp(x->id, y->id);
    return r ? r : x->index - y->index;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* equal canonical text (eg_value_canonical), compared without writing it */
static int same_value(const eg_value *a, const eg_value *b) {
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case EG_VAL_NULL: return 1;
    case EG_VAL_BOOL: return !a->b == !b->b;
    case EG_VAL_INT: return a->i == b->i;
    case EG_VAL_FLOAT: return (isnan(a->f) && isnan(b->f)) || (a->f == b->f && !signbit(a->f) == !signbit(b->f));
    case EG_VAL_STRING: return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
    case EG_VAL_LIST:
        if (a->n_items != b->n_items) return 0;
        for (int i = 0; i < a->n_items; i++)
            if (!same_value(&a->items[i], &b->items[i])) return 0;
        return 1;
    }
    return 0;
}

/* keys whose value differs between runs (or that some run lacks), sorted. Each run's
 * sorted keys are walked beside run 0's: O(runs x keys), no lookups. */
static eg_status swept(eg_spec *s) {
    const eg_cfg *c0 = &s->runs[0].cfg;
    unsigned char *differs = calloc((size_t)c0->n + 1, 1);
    spec_map extra = {0}; /* keys some run has and run 0 lacks */
    char **out = NULL;
    eg_status st = differs ? EG_OK : EG_ERR_NOMEM;
    for (int r = 1; r < s->n_runs && st == EG_OK; r++) {
        const eg_cfg *c = &s->runs[r].cfg;
        int i = 0, j = 0;
        while ((i < c0->n || j < c->n) && st == EG_OK) {
            int cmp = i >= c0->n ? 1 : j >= c->n ? -1 : strcmp(c0->keys[i], c->keys[j]);
            if (cmp < 0)
                differs[i++] = 1;
            else if (cmp > 0)
                st = spec_map_put(&extra, c->keys[j++], 1);
            else {
                if (!differs[i] && !same_value(&c0->vals[i], &c->vals[j])) differs[i] = 1;
                i++, j++;
            }
        }
    }
    int n = 0;
    if (st == EG_OK && !(out = malloc(((size_t)c0->n + extra.live + 1) * sizeof *out))) st = EG_ERR_NOMEM;
    for (int i = 0; st == EG_OK && i < c0->n; i++)
        if (differs[i]) out[n++] = c0->keys[i];
    for (size_t k = 0; st == EG_OK && k < extra.cap; k++)
        if (extra.slot[k].key && *extra.slot[k].key) out[n++] = (char *)extra.slot[k].key;
    if (st == EG_OK) {
        qsort(out, (size_t)n, sizeof *out, cmp_str);
        s->swept_keys = malloc((size_t)(n ? n : 1) * sizeof *s->swept_keys);
        if (!s->swept_keys) st = EG_ERR_NOMEM;
    }
    for (int k = 0; st == EG_OK && k < n; k++) {
        char *copy = strdup(out[k]);
        if (!copy)
            st = EG_ERR_NOMEM;
        else
            s->swept_keys[s->n_swept++] = copy;
    }
    free(out);
    free(differs);
    spec_map_free(&extra);
    return st;
}

/* eg_spec_run_id without copying the run: its model value is swapped for the name */
static void run_id(eg_cfg *c, const char *model_name, char id[17]) {
    eg_value *m = (eg_value *)eg_cfg_get(c, "model");
    if (!m || !model_name) {
        eg_spec_run_id(c, model_name, id);
        return;
    }
    eg_value keep = *m;
    m->kind = EG_VAL_STRING;
    m->s = (char *)model_name;
    m->n_items = 0;
    m->items = NULL;
    char *text = eg_cfg_canonical(c, id_excluded, 3);
    *m = keep;
    id[0] = 0;
    if (!text) return;
    uint8_t digest[32];
    eg_sha256_sum(text, strlen(text), digest);
    free(text);
    eg_sha256_hex(digest, id, 16);
}

eg_status spec_finish_ids(const spec_ctx *ctx, const char *model_name, eg_spec *s) {
    for (int r = 0; r < s->n_runs; r++) {
        run_id(&s->runs[r].cfg, model_name, s->runs[r].id);
        if (!s->runs[r].id[0]) return EG_ERR_NOMEM;
    }
    idx_id *ids = malloc((size_t)s->n_runs * sizeof *ids);
    if (!ids) return EG_ERR_NOMEM;
    for (int r = 0; r < s->n_runs; r++)
        ids[r] = (idx_id){s->runs[r].id, r};
    qsort(ids, (size_t)s->n_runs, sizeof *ids, cmp_id);
    for (int r = 1; r < s->n_runs; r++)
        if (!strcmp(ids[r].id, ids[r - 1].id)) {
            int a = ids[r - 1].index, b = ids[r].index;
            free(ids);
            return spec_fail(ctx, NULL, "sweep",
                             "runs %d and %d resolve to the same configuration (run id %s): a sweep value, case or "
                             "seed is listed twice (values are compared after defaults and type normalisation, so 1 "
                             "and 1.0 for a float are the same)",
                             a, b, s->runs[a].id);
        }
    free(ids);
    return swept(s);
}
