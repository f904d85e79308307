/* spec_sweep.c — expanding a spec into its runs.
 *
 * runs = cases x grid x zip x seeds, in this order (docs/spec.md):
 *   index = ((case * G + grid) * Z + zip) * S + seed
 * cases vary slowest, in the order listed; the grid is the cartesian product of
 * its axes in the order written, the last axis varying fastest; zip steps its
 * equal-length lists together; seeds vary fastest, so a configuration's
 * replicates are consecutive. A run = the spec's keys, then the case's keys,
 * then the grid values, then the zip values, then `seed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

#define EG_MAX_RUNS 1000000

typedef struct axis {
    const char *key;   /* run key ("params.beta") */
    const eg_value *v; /* the LIST of values */
} axis;

/* a null value in a case or axis means "not given": the default applies */
static eg_status put(eg_cfg *run, const char *key, const eg_value *v) {
    if (v->kind == EG_VAL_NULL) {
        eg_cfg_remove(run, key);
        return EG_OK;
    }
    return eg_cfg_set(run, key, v);
}

static eg_status make_base(const spec_ents *ents, eg_cfg *base) {
    eg_cfg_init(base);
    eg_status st = EG_OK;
    char key[600];
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->cases) {
            st = eg_cfg_set(base, e->key, &e->v);
            continue;
        }
        for (int c = 0; c < e->cases->n && st == EG_OK; c++)
            for (int j = 0; j < e->cases->items[c].n && st == EG_OK; j++) {
                snprintf(key, sizeof key, "sweep.cases.%d.%s", c + 1, e->cases->items[c].e[j].key);
                st = eg_cfg_set(base, key, &e->cases->items[c].e[j].v);
            }
    }
    return st;
}

eg_status spec_expand(const spec_ctx *ctx, const spec_ents *ents, eg_cfg **runs_out, int *n_out, eg_cfg *base) {
    *runs_out = NULL;
    *n_out = 0;
    eg_status st = make_base(ents, base);
    if (st != EG_OK) return st;

    axis *grid = calloc((size_t)ents->n + 1, sizeof *grid), *zip = calloc((size_t)ents->n + 1, sizeof *zip);
    eg_cfg common;
    eg_cfg_init(&common);
    if (!grid || !zip) st = EG_ERR_NOMEM;
    int n_grid = 0, n_zip = 0;
    const spec_cases *cases = NULL;
    const eg_value *seeds = NULL;
    eg_value seed0 = {0};
    seed0.kind = EG_VAL_INT;
    seed0.s = "0";
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (!strncmp(e->key, "sweep.grid.", 11))
            grid[n_grid++] = (axis){e->key + 11, &e->v};
        else if (!strncmp(e->key, "sweep.zip.", 10))
            zip[n_zip++] = (axis){e->key + 10, &e->v};
        else if (e->cases)
            cases = e->cases;
        else if (!strcmp(e->key, "seeds") || !strcmp(e->key, "seed"))
            seeds = &e->v;
        else if (strcmp(e->key, "sweep") && strncmp(e->key, "sweep.", 6))
            st = eg_cfg_set(&common, e->key, &e->v);
    }
    if (!seeds) seeds = &seed0;
    int S = seeds->kind == EG_VAL_LIST ? seeds->n_items : 1;
    long long C = cases ? cases->n : 1, G = 1, Z = n_zip ? zip[0].v->n_items : 1;
    for (int a = 0; a < n_grid && G <= EG_MAX_RUNS; a++)
        G *= grid[a].v->n_items;
    long long total = C * G * Z * S;
    if (st == EG_OK && (G > EG_MAX_RUNS || total > EG_MAX_RUNS))
        st = spec_fail(ctx, NULL, "sweep",
                       "expands to more than %d runs (%lld cases x %lld grid x %lld zip x %d "
                       "seeds); split the spec",
                       EG_MAX_RUNS, C, G, Z, S);
    eg_cfg *runs = NULL;
    if (st == EG_OK && !(runs = calloc((size_t)total, sizeof *runs))) st = EG_ERR_NOMEM;
    int made = 0;
    for (long long r = 0; r < total && st == EG_OK; r++) {
        long long t = r;
        int s = (int)(t % S);
        t /= S;
        int z = (int)(t % Z);
        t /= Z;
        long long g = t % G;
        int c = (int)(t / G);
        eg_cfg *run = &runs[r];
        st = eg_cfg_copy(run, &common);
        made = (int)r + 1;
        for (int j = 0; cases && st == EG_OK && j < cases->items[c].n; j++)
            st = put(run, cases->items[c].e[j].key, &cases->items[c].e[j].v);
        /* grid index: the last axis varies fastest */
        for (int a = n_grid - 1; a >= 0 && st == EG_OK; a--) {
            int len = grid[a].v->n_items;
            st = put(run, grid[a].key, &grid[a].v->items[g % len]);
            g /= len;
        }
        for (int a = 0; a < n_zip && st == EG_OK; a++)
            st = put(run, zip[a].key, &zip[a].v->items[z]);
        if (st == EG_OK) st = eg_cfg_set(run, "seed", seeds->kind == EG_VAL_LIST ? &seeds->items[s] : seeds);
    }
    free(grid);
    free(zip);
    eg_cfg_free(&common);
    if (st != EG_OK) {
        for (int i = 0; i < made; i++)
            eg_cfg_free(&runs[i]);
        free(runs);
        return st;
    }
    *runs_out = runs;
    *n_out = (int)total;
    return EG_OK;
}
