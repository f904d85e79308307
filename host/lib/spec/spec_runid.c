/* spec_runid.c — run ids and swept keys.
 * id = first 16 hex digits of SHA-256 of eg_cfg_canonical(resolved run) without
 * experiment, description and timeout (they do not change what is computed),
 * with `model` replaced by the plugin's descriptor name so that naming the
 * plugin by name or by path gives the same id. Values were normalised by their
 * schema types before, so 1 and 1.0 for a float parameter hash alike. */
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

/* keys whose value differs between runs (or that some run lacks), sorted */
static eg_status swept(eg_spec *s) {
    int total = 0;
    for (int r = 0; r < s->n_runs; r++)
        total += s->runs[r].cfg.n;
    char **all = malloc((size_t)(total ? total : 1) * sizeof *all);
    if (!all) return EG_ERR_NOMEM;
    int n = 0;
    for (int r = 0; r < s->n_runs; r++)
        for (int i = 0; i < s->runs[r].cfg.n; i++)
            all[n++] = s->runs[r].cfg.keys[i];
    qsort(all, (size_t)n, sizeof *all, cmp_str);
    s->swept_keys = malloc((size_t)(n ? n : 1) * sizeof *s->swept_keys);
    if (!s->swept_keys) {
        free(all);
        return EG_ERR_NOMEM;
    }
    char first[4096], other[4096];
    for (int i = 0; i < n; i++) {
        if (i && !strcmp(all[i], all[i - 1])) continue;
        const char *k = all[i];
        const eg_value *v0 = eg_cfg_get(&s->runs[0].cfg, k);
        if (v0) eg_value_canonical(v0, first, sizeof first);
        int differs = !v0;
        for (int r = 1; r < s->n_runs && !differs; r++) {
            const eg_value *v = eg_cfg_get(&s->runs[r].cfg, k);
            if (!v)
                differs = 1;
            else {
                eg_value_canonical(v, other, sizeof other);
                differs = strcmp(first, other) != 0;
            }
        }
        if (differs) {
            char *copy = strdup(k);
            if (!copy) {
                free(all);
                return EG_ERR_NOMEM;
            }
            s->swept_keys[s->n_swept++] = copy;
        }
    }
    free(all);
    return EG_OK;
}

eg_status spec_finish_ids(const spec_ctx *ctx, const char *model_name, eg_spec *s) {
    for (int r = 0; r < s->n_runs; r++) {
        eg_spec_run_id(&s->runs[r].cfg, model_name, s->runs[r].id);
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
