/* spec_sweep.c — expanding a spec into its runs.
 *
 * runs = cases x grid x random x zip x seeds, in this order (docs/spec.md):
 *   index = (((case * G + grid) * R + sample) * Z + zip) * S + seed
 * cases vary slowest, in the order listed; the grid is the cartesian product of
 * its axes in the order written, the last axis varying fastest; then the R = n
 * samples of sweep.random (spec_random.c; R = 1 without it), in the order drawn;
 * zip steps its equal-length lists together; seeds vary fastest, so a
 * configuration's replicates are consecutive. A run = the spec's keys, then the
 * case's keys, then the grid values, then the zip values, then the sample's
 * values, then `seed` (a later one wins; a key is swept by one form only).
 *
 * The run count is computed with overflow checks before anything is allocated, and
 * each run is built in one pass: the spec's keys, the case's keys and the axes are
 * each sorted once, and a run's config is their merge (no per-key insertion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

/* runs x keys per run the expansion may hold (validation adds the schema's defaults) */
#define SPEC_MAX_VALUES 20000000LL

typedef struct axis {
    const char *key;   /* run key ("params.beta") */
    const eg_value *v; /* the LIST of values */
} axis;

typedef struct kv {
    const char *key;
    const eg_value *v;
    int order; /* position written: the later of two equal keys wins */
} kv;

static int cmp_kv(const void *a, const void *b) {
    const kv *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : x->order - y->order;
}

/* sort and keep the last of equal keys; returns the new count */
static int sort_unique(kv *p, int n) {
    qsort(p, (size_t)n, sizeof *p, cmp_kv);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m && !strcmp(p[m - 1].key, p[i].key))
            p[m - 1] = p[i];
        else
            p[m++] = p[i];
    }
    return m;
}

static eg_status cfg_from_kv(eg_cfg *c, const kv *p, int n, const char **keys, const eg_value **vals) {
    for (int i = 0; i < n; i++) {
        keys[i] = p[i].key;
        vals[i] = p[i].v;
    }
    return eg_cfg_from_sorted(c, keys, vals, n);
}

/* the spec after the overrides, cases as sweep.cases.N.KEY; without the distributions of
 * sweep.random.space that a later override replaced (dead) */
static eg_status make_base(const spec_ents *ents, const unsigned char *dead, eg_cfg *base) {
    eg_cfg_init(base);
    int n = 0;
    for (int i = 0; i < ents->n; i++)
        n += ents->e[i].cases ? 0 : 1;
    for (int i = 0; i < ents->n; i++)
        for (int c = 0; ents->e[i].cases && c < ents->e[i].cases->n; c++)
            n += ents->e[i].cases->items[c].n;
    kv *p = calloc((size_t)n + 1, sizeof *p);
    char **owned = calloc((size_t)n + 1, sizeof *owned); /* "sweep.cases.N.KEY" */
    const char **keys = calloc((size_t)n + 1, sizeof *keys);
    const eg_value **vals = calloc((size_t)n + 1, sizeof *vals);
    eg_status st = p && owned && keys && vals ? EG_OK : EG_ERR_NOMEM;
    int m = 0, n_owned = 0;
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (dead[i]) continue;
        if (!e->cases) {
            p[m] = (kv){e->key, &e->v, m};
            m++;
            continue;
        }
        for (int c = 0; c < e->cases->n && st == EG_OK; c++)
            for (int j = 0; j < e->cases->items[c].n && st == EG_OK; j++) {
                const spec_ent *ce = &e->cases->items[c].e[j];
                size_t len = strlen(ce->key) + 32;
                char *k = malloc(len);
                if (!k) {
                    st = EG_ERR_NOMEM;
                    break;
                }
                snprintf(k, len, "sweep.cases.%d.%s", c + 1, ce->key);
                owned[n_owned++] = k;
                p[m] = (kv){k, &ce->v, m};
                m++;
            }
    }
    if (st == EG_OK) st = cfg_from_kv(base, p, sort_unique(p, m), keys, vals);
    for (int i = 0; i < n_owned; i++)
        free(owned[i]);
    free(owned);
    free(p);
    free(keys);
    free(vals);
    return st;
}

/* multiply, saturating at SPEC_MAX_RUNS + 1 (so no product of counts can wrap) */
static long long mul_cap(long long a, long long b) {
    if (a == 0 || b == 0) return 0;
    if (a > (SPEC_MAX_RUNS + 1LL) / b) return SPEC_MAX_RUNS + 1LL;
    long long r = a * b;
    return r > SPEC_MAX_RUNS ? SPEC_MAX_RUNS + 1LL : r;
}

static void count_text(long long n, char *buf, size_t cap) {
    if (n > SPEC_MAX_RUNS)
        snprintf(buf, cap, "more than %d", SPEC_MAX_RUNS);
    else
        snprintf(buf, cap, "%lld", n);
}

/* The merge of a run's sorted sources; a later source wins a key it shares with an
 * earlier one; a null from a case or an axis means "not given" (the default applies). */
typedef struct source {
    const kv *p;
    int n, at;
} source;

static int merge_run(source *src, int n_src, const char **keys, const eg_value **vals) {
    int n = 0;
    for (;;) {
        const char *min = NULL;
        for (int s = 0; s < n_src; s++)
            if (src[s].at < src[s].n && (!min || strcmp(src[s].p[src[s].at].key, min) < 0))
                min = src[s].p[src[s].at].key;
        if (!min) return n;
        const eg_value *v = NULL;
        int from = -1;
        for (int s = 0; s < n_src; s++)
            if (src[s].at < src[s].n && !strcmp(src[s].p[src[s].at].key, min)) {
                v = src[s].p[src[s].at].v;
                from = s;
            }
        for (int s = 0; s < n_src; s++)
            if (src[s].at < src[s].n && !strcmp(src[s].p[src[s].at].key, min)) src[s].at++;
        if (v->kind == EG_VAL_NULL && from > 0) continue;
        keys[n] = min;
        vals[n] = v;
        n++;
    }
}

eg_status spec_expand(const spec_ctx *ctx, const spec_ents *ents, eg_cfg **runs_out, int *n_out, eg_cfg *base) {
    *runs_out = NULL;
    *n_out = 0;
    unsigned char *dead = calloc((size_t)ents->n + 1, 1);
    eg_status st = dead ? spec_random_dead(ctx, ents, dead) : EG_ERR_NOMEM;
    if (st == EG_OK) st = make_base(ents, dead, base);
    free(dead);
    if (st != EG_OK) return st;

    int n = ents->n;
    axis *grid = calloc((size_t)n + 1, sizeof *grid), *zip = calloc((size_t)n + 1, sizeof *zip);
    kv *common = calloc((size_t)n + 1, sizeof *common);
    if (!grid || !zip || !common) st = EG_ERR_NOMEM;
    int n_grid = 0, n_zip = 0, n_common = 0;
    const spec_cases *cases = NULL;
    const eg_value *seeds = NULL;
    eg_value seed0 = {0};
    seed0.kind = EG_VAL_INT;
    seed0.s = "0";
    for (int i = 0; i < n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (!strncmp(e->key, "sweep.grid.", 11))
            grid[n_grid++] = (axis){e->key + 11, &e->v};
        else if (!strncmp(e->key, "sweep.zip.", 10))
            zip[n_zip++] = (axis){e->key + 10, &e->v};
        else if (e->cases)
            cases = e->cases;
        else if (!strcmp(e->key, "seeds") || !strcmp(e->key, "seed"))
            seeds = &e->v;
        else if (strcmp(e->key, "sweep") && strncmp(e->key, "sweep.", 6)) {
            common[n_common] = (kv){e->key, &e->v, n_common};
            n_common++;
        }
    }
    if (!seeds) seeds = &seed0;
    int n_random = 0, k_random = 0;
    spec_random_size(ents, &n_random, &k_random);
    long long S = seeds->kind == EG_VAL_LIST ? seeds->n_items : 1;
    long long C = cases ? cases->n : 1, G = 1, Z = n_zip ? zip[0].v->n_items : 1, R = n_random ? n_random : 1;
    for (int a = 0; a < n_grid; a++)
        G = mul_cap(G, grid[a].v->n_items);
    long long total = mul_cap(mul_cap(mul_cap(mul_cap(C, G), R), Z), S);
    if (st == EG_OK && total > SPEC_MAX_RUNS) {
        char g[64], r[64] = "";
        count_text(G, g, sizeof g);
        if (n_random) snprintf(r, sizeof r, " x %lld random", R);
        st = spec_fail(ctx, NULL, "sweep",
                       "expands to more than %d runs (%lld cases x %s grid%s x %lld zip x %lld seeds); split the spec",
                       SPEC_MAX_RUNS, C, g, r, Z, S);
    }
    int max_case = 0;
    for (int c = 0; cases && c < cases->n; c++)
        if (cases->items[c].n > max_case) max_case = cases->items[c].n;
    long long per_run = n_common + max_case + n_grid + n_zip + k_random + 1;
    if (st == EG_OK && total * per_run > SPEC_MAX_VALUES)
        st = spec_fail(ctx, NULL, "sweep",
                       "%lld runs of up to %lld keys each are more than the %lld values a plan may hold; split the "
                       "spec",
                       total, per_run, SPEC_MAX_VALUES);

    /* every source sorted once: the spec's keys, each case's, the axes */
    int n_axes = n_grid + n_zip;
    kv **case_kv = NULL;
    int *case_n = NULL;
    kv *axes = NULL;
    const char **keys = NULL;
    const eg_value **vals = NULL;
    eg_cfg *runs = NULL;
    spec_samples smp = {0};
    kv *rnd = NULL; /* the sample's keys, sorted (spec_random_sample sorts them) */
    if (st == EG_OK) st = spec_random_sample(ctx, ents, &smp);
    if (st == EG_OK && !(rnd = calloc((size_t)smp.k + 1, sizeof *rnd))) st = EG_ERR_NOMEM;
    for (int j = 0; st == EG_OK && j < smp.k; j++)
        rnd[j] = (kv){smp.keys[j], NULL, j};
    if (st == EG_OK) {
        n_common = sort_unique(common, n_common);
        axes = calloc((size_t)n_axes + 1, sizeof *axes);
        keys = calloc((size_t)per_run + 1, sizeof *keys);
        vals = calloc((size_t)per_run + 1, sizeof *vals);
        case_kv = calloc((size_t)C, sizeof *case_kv);
        case_n = calloc((size_t)C, sizeof *case_n);
        runs = calloc((size_t)total, sizeof *runs);
        if (!axes || !keys || !vals || !case_kv || !case_n || !runs) st = EG_ERR_NOMEM;
    }
    for (int c = 0; cases && c < C && st == EG_OK; c++) {
        const spec_ents *ce = &cases->items[c];
        if (!(case_kv[c] = calloc((size_t)ce->n + 1, sizeof **case_kv))) {
            st = EG_ERR_NOMEM;
            break;
        }
        for (int j = 0; j < ce->n; j++)
            case_kv[c][j] = (kv){ce->e[j].key, &ce->e[j].v, j};
        case_n[c] = sort_unique(case_kv[c], ce->n);
    }
    /* axes: kv.order is the axis number (grid 0..n_grid-1, then zip); sorted by key */
    for (int a = 0; a < n_axes && st == EG_OK; a++)
        axes[a] = (kv){a < n_grid ? grid[a].key : zip[a - n_grid].key, NULL, a};
    if (st == EG_OK) qsort(axes, (size_t)n_axes, sizeof *axes, cmp_kv);
    int *pick = st == EG_OK ? calloc((size_t)n_axes + 1, sizeof *pick) : NULL; /* value index per axis */
    if (st == EG_OK && !pick) st = EG_ERR_NOMEM;
    kv seed_kv = {"seed", NULL, 0};
    int made = 0;
    for (long long r = 0; r < total && st == EG_OK; r++) {
        long long t = r;
        int s = (int)(t % S);
        t /= S;
        int z = (int)(t % Z);
        t /= Z;
        int q = (int)(t % R);
        t /= R;
        long long g = t % G;
        int c = (int)(t / G);
        /* grid index: the last axis varies fastest */
        for (int a = n_grid - 1; a >= 0; a--) {
            int len = grid[a].v->n_items;
            pick[a] = (int)(g % len);
            g /= len;
        }
        for (int a = 0; a < n_zip; a++)
            pick[n_grid + a] = z;
        for (int a = 0; a < n_axes; a++) {
            int o = axes[a].order;
            const axis *ax = o < n_grid ? &grid[o] : &zip[o - n_grid];
            axes[a].v = &ax->v->items[pick[o]];
        }
        for (int j = 0; j < smp.k; j++)
            rnd[j].v = smp.v[(size_t)q * (size_t)smp.k + (size_t)j];
        seed_kv.v = seeds->kind == EG_VAL_LIST ? &seeds->items[s] : seeds;
        source src[5] = {{common, n_common, 0},
                         {cases ? case_kv[c] : NULL, cases ? case_n[c] : 0, 0},
                         {axes, n_axes, 0},
                         {rnd, smp.k, 0},
                         {&seed_kv, 1, 0}};
        int k = merge_run(src, 5, keys, vals);
        st = eg_cfg_from_sorted(&runs[r], keys, vals, k);
        made = (int)r + 1;
    }
    for (int c = 0; case_kv && c < C; c++)
        free(case_kv[c]);
    free(case_kv);
    free(case_n);
    free(axes);
    free(pick);
    free(keys);
    free(vals);
    free(grid);
    free(zip);
    free(common);
    free(rnd);
    spec_samples_free(&smp);
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
