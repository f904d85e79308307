/* spec_random.c — random search: sweep.random (docs/spec.md "Random search").
 *
 *   sweep:
 *     random:
 *       n: 40                                   # samples, 1..SPEC_MAX_RUNS
 *       seed: 0                                 # of the sampling (default 0), not of the runs
 *       space:
 *         params.beta: {loguniform: [0.1, 100]}
 *         params.hidden: {choice: [100, 300, 1000]}
 *
 * flattens to sweep.random.n, sweep.random.seed and sweep.random.space.KEY.DIST entries.
 * Each sample is one configuration, crossed with the cases and the grid and replicated
 * over the zip and the seeds (spec_sweep.c has the index formula).
 *
 * Determinism: sample i's value of key K is drawn from Philox4x32-10 (engram/philox.h)
 * with key = sweep.random.seed, stream = the first 8 bytes of SHA-256(K) read big-endian,
 * and counter index = i (+ attempt << 32, below), so a key's draws do not depend on the
 * other keys of the space, and sample i does not depend on n (raising n keeps the first
 * samples, so their run ids, and `engram run` resumes them). u = eg_philox_u53(r0, r1):
 *   uniform [lo, hi]          lo + (hi - lo) u
 *   loguniform [lo, hi]       exp(log lo + (log hi - log lo) u)
 *   normal [mu, sd]           eg_philox_value's normal (Box-Muller on IEEE-exact log/cos)
 *   randint [lo, hi]          lo + floor(u (hi - lo + 1)): integers, both ends included
 *   quniform [lo, hi, q]      k q, k uniform over the integers with k q in [lo, hi]
 *   qloguniform [lo, hi, q]   round(loguniform / q) q, clamped to those k
 *   choice [a, b, ...]        item floor(u n), as written (type kept; lists allowed)
 * Floats are rounded to 6 significant digits (q-forms: to the multiple of q, printed with
 * 15), then clamped into [lo, hi]: a last-bit difference of libm's exp/log between
 * machines cannot change a run id (except at a rounding tie, ~1e-10 per value).
 *
 * Two samples with equal values would be one run twice (an error of the duplicate-id
 * check): a sample equal to an earlier one is drawn again, at attempt a = 1, 2, ...
 * (counter i + a 2^32), so n samples are n distinct configurations, still independent of
 * the samples after them. A space of discrete keys only with fewer distinct points than n
 * is refused when the spec is checked. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "engram/philox.h"
#include "spec_internal.h"

enum { D_UNIFORM, D_LOGUNIFORM, D_RANDINT, D_CHOICE, D_NORMAL, D_QUNIFORM, D_QLOGUNIFORM };
static const char *const dist_names[] = {"uniform", "loguniform", "randint", "choice",
                                         "normal",  "quniform",   "qloguniform"};
#define N_DIST ((int)(sizeof dist_names / sizeof *dist_names))
#define DIST_LIST "uniform, loguniform, randint, choice, normal, quniform, qloguniform"
static const char *const dist_forms[] = {"[lo, hi]", "[lo, hi] with lo > 0", "[lo, hi] of integers, both included",
                                         "[a, b, ...]", "[mean, sd]", "[lo, hi, q]", "[lo, hi, q] with lo > 0"};
static const char *const random_keys[] = {"n", "seed", "space"};

#define SPACE_PREFIX "sweep.random.space."
#define SPACE_LEN 19
#define INT_EXACT 9007199254740992.0 /* 2^53 */

static const char example[] =
    "sweep.random: {n: 40, seed: 0, space: {params.beta: {loguniform: [0.1, 100]}, params.hidden: {choice: [100, "
    "300]}}}";

static eg_status ent_fail(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static eg_status ent_fail(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = e->v.file ? e->v.file : eg_intern(ctx->path);
    return spec_fail_at(ctx, file, e->kline, e->kcol, key, "%s", msg);
}

static int is_number(const eg_value *v) {
    return v->kind == EG_VAL_INT || v->kind == EG_VAL_FLOAT;
}

static int is_whole(const eg_value *v) {
    return v->kind == EG_VAL_INT || (v->kind == EG_VAL_FLOAT && isfinite(v->f) && v->f == floor(v->f));
}

static const char *text_of(const eg_value *v) {
    return v->kind == EG_VAL_LIST ? "a list" : v->kind == EG_VAL_NULL ? "nothing" : v->s ? v->s : "?";
}

/* ---- one distribution entry: sweep.random.space.KEY.DIST ---- */

typedef struct rdist {
    const spec_ent *e;
    char *key; /* KEY (owned) */
    int kind;
    double lo, hi, q;
    double kmin, kmax; /* quniform, qloguniform: the multiples k q that lie in [lo, hi] */
    uint64_t stream;
} rdist;

static int dist_of(const char *name) {
    for (int d = 0; d < N_DIST; d++)
        if (!strcmp(name, dist_names[d])) return d;
    return -1;
}

/* the multiples of q in [lo, hi], with a little slack for 0.7 / 0.1 = 6.999999999999999 */
static void q_range(double lo, double hi, double q, double *kmin, double *kmax) {
    *kmin = ceil(lo / q - 1e-9);
    *kmax = floor(hi / q + 1e-9);
}

/* the numbers of the list: count, finite; then the rules of the distribution */
static eg_status check_numbers(const spec_ctx *ctx, const spec_ent *e, int kind, rdist *d) {
    const eg_value *v = &e->v;
    int want = kind == D_QUNIFORM || kind == D_QLOGUNIFORM ? 3 : 2;
    const char *name = dist_names[kind];
    if (v->kind != EG_VAL_LIST)
        return spec_fail(ctx, v, e->key, "expected %s: %s, got %s", name, dist_forms[kind], text_of(v));
    if (v->n_items != want)
        return spec_fail(ctx, v, e->key, "expected %s: %s (%d numbers), got %d value%s", name, dist_forms[kind], want,
                         v->n_items, v->n_items == 1 ? "" : "s");
    for (int j = 0; j < want; j++) {
        const eg_value *it = &v->items[j];
        if (!is_number(it) || !isfinite(it->f))
            return spec_fail(ctx, it, e->key, "%s: expected a finite number, got '%s'", name, text_of(it));
    }
    const eg_value *lo = &v->items[0], *hi = &v->items[1];
    if (kind == D_NORMAL) {
        if (!(hi->f > 0)) return spec_fail(ctx, hi, e->key, "normal [mean, sd]: sd must be > 0, got %s", hi->s);
    } else if (!(lo->f < hi->f)) {
        return spec_fail(ctx, hi, e->key, "%s [lo, hi]: hi must be greater than lo, got [%s, %s]", name, lo->s, hi->s);
    }
    if ((kind == D_LOGUNIFORM || kind == D_QLOGUNIFORM) && !(lo->f > 0))
        return spec_fail(ctx, lo, e->key, "%s [lo, hi]: lo must be > 0 (log lo is taken), got %s", name, lo->s);
    if (kind == D_RANDINT)
        for (int j = 0; j < 2; j++)
            if (!is_whole(&v->items[j]) || fabs(v->items[j].f) > INT_EXACT)
                return spec_fail(ctx, &v->items[j], e->key, "randint [lo, hi]: expected an integer within +-2^53, "
                                 "got %s", v->items[j].s);
    if (d) {
        d->lo = lo->f;
        d->hi = hi->f;
    }
    if (kind == D_QUNIFORM || kind == D_QLOGUNIFORM) {
        const eg_value *q = &v->items[2];
        double kmin, kmax;
        if (!(q->f > 0)) return spec_fail(ctx, q, e->key, "%s [lo, hi, q]: q must be > 0, got %s", name, q->s);
        q_range(lo->f, hi->f, q->f, &kmin, &kmax);
        if (!(kmin <= kmax))
            return spec_fail(ctx, q, e->key, "%s [lo, hi, q]: no multiple of q = %s lies in [%s, %s]", name, q->s,
                             lo->s, hi->s);
        if (kmax - kmin > INT_EXACT)
            return spec_fail(ctx, q, e->key, "%s [lo, hi, q]: more than 2^53 multiples of q in [lo, hi]", name);
        if (d) {
            d->q = q->f;
            d->kmin = kmin;
            d->kmax = kmax;
        }
    }
    return EG_OK;
}

/* ---- structural hash and equality of values (choice items, samples) ---- */

static uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0x100000001B3ull;
}

static uint64_t vhash(const eg_value *v) {
    uint64_t h = mix(0xCBF29CE484222325ull, (uint64_t)v->kind);
    switch (v->kind) {
    case EG_VAL_BOOL: return mix(h, (uint64_t)!!v->b);
    case EG_VAL_INT: return mix(h, (uint64_t)v->i);
    case EG_VAL_FLOAT: return mix(h, isnan(v->f) ? 1 : eg_philox_dbits(v->f));
    case EG_VAL_STRING: return mix(h, spec_hash(v->s ? v->s : "", v->s ? strlen(v->s) : 0));
    case EG_VAL_LIST:
        for (int i = 0; i < v->n_items; i++)
            h = mix(h, vhash(&v->items[i]));
        return mix(h, (uint64_t)v->n_items);
    default: return h;
    }
}

static int veq(const eg_value *a, const eg_value *b) {
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case EG_VAL_BOOL: return !a->b == !b->b;
    case EG_VAL_INT: return a->i == b->i;
    case EG_VAL_FLOAT: return (isnan(a->f) && isnan(b->f)) || eg_philox_dbits(a->f) == eg_philox_dbits(b->f);
    case EG_VAL_STRING: return !strcmp(a->s ? a->s : "", b->s ? b->s : "");
    case EG_VAL_LIST:
        if (a->n_items != b->n_items) return 0;
        for (int i = 0; i < a->n_items; i++)
            if (!veq(&a->items[i], &b->items[i])) return 0;
        return 1;
    default: return 1;
    }
}

/* A set of rows of `width` value pointers, found by hash (open addressing). */
typedef struct rowset {
    int *slot; /* row index, -1 empty */
    uint64_t *hash;
    size_t cap;
    int width;
    const eg_value *const *rows;
} rowset;

static uint64_t row_hash(const eg_value *const *r, int width) {
    uint64_t h = 0x84222325CBF29CE4ull;
    for (int k = 0; k < width; k++)
        h = mix(h, vhash(r[k]));
    return h;
}

static eg_status rowset_init(rowset *s, int n_rows, int width, const eg_value *const *rows) {
    s->cap = 16;
    while (s->cap < 2 * (size_t)n_rows)
        s->cap *= 2;
    s->slot = malloc(s->cap * sizeof *s->slot);
    s->hash = calloc((size_t)n_rows + 1, sizeof *s->hash);
    s->width = width;
    s->rows = rows;
    if (!s->slot || !s->hash) return EG_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++)
        s->slot[i] = -1;
    return EG_OK;
}

static void rowset_free(rowset *s) {
    free(s->slot);
    free(s->hash);
}

/* the earlier row equal to row r, or -1 after adding r (the set never holds more rows than it was made for) */
static int rowset_add(rowset *s, int r) {
    const eg_value *const *row = s->rows + (size_t)r * (size_t)s->width;
    uint64_t h = row_hash(row, s->width);
    size_t at = (size_t)h & (s->cap - 1);
    for (; s->slot[at] >= 0; at = (at + 1) & (s->cap - 1)) {
        int o = s->slot[at];
        if (s->hash[o] != h) continue;
        const eg_value *const *other = s->rows + (size_t)o * (size_t)s->width;
        int same = 1;
        for (int k = 0; k < s->width && same; k++)
            same = veq(row[k], other[k]);
        if (same) return o;
    }
    s->slot[at] = r;
    s->hash[r] = h;
    return -1;
}

static eg_status check_choice(const spec_ctx *ctx, const spec_ent *e) {
    const eg_value *v = &e->v;
    if (v->kind != EG_VAL_LIST || v->n_items == 0)
        return spec_fail(ctx, v, e->key, "expected choice: [a, b, ...], a non-empty list of values, got %s",
                         v->kind == EG_VAL_LIST ? "an empty list" : text_of(v));
    const eg_value **rows = malloc((size_t)v->n_items * sizeof *rows);
    rowset set = {0};
    eg_status st = rows ? rowset_init(&set, v->n_items, 1, rows) : EG_ERR_NOMEM;
    for (int j = 0; j < v->n_items && st == EG_OK; j++) {
        rows[j] = &v->items[j];
        int o = rowset_add(&set, j);
        if (o >= 0)
            st = spec_fail(ctx, &v->items[j], e->key, "choice: item %d repeats item %d (%s); list each value once",
                           j + 1, o + 1, text_of(&v->items[j]));
    }
    rowset_free(&set);
    free(rows);
    return st;
}

/* KEY and DIST of sweep.random.space.KEY.DIST; key_out gets KEY (cap bytes) */
static eg_status split_space_key(const spec_ctx *ctx, const spec_ent *e, char *key_out, size_t cap, int *kind) {
    const char *rest = e->key + SPACE_LEN;
    const char *dot = strrchr(rest, '.');
    const char *dname = dot ? dot + 1 : rest;
    *kind = dist_of(dname);
    if (*kind < 0) {
        const char *all = DIST_LIST;
        const char *best = eg_did_you_mean(dname, dist_names, N_DIST);
        if (best && dot)
            return ent_fail(ctx, e, e->key, "unknown distribution '%s'; did you mean '%s'? (distributions: %s)",
                            dname, best, all);
        return ent_fail(ctx, e, e->key,
                        "expected a distribution for %s: write %s: {uniform: [lo, hi]} (or another of %s), a "
                        "mapping of one distribution name to its arguments",
                        rest, rest, all);
    }
    if (!dot) return ent_fail(ctx, e, e->key, "name the key to sample: sweep.random.space.params.beta: {%s: ...}",
                              dname);
    snprintf(key_out, cap, "%.*s", (int)(dot - rest), rest);
    return EG_OK;
}

static eg_status check_space_ent(const spec_ctx *ctx, const spec_ent *e, rdist *d) {
    char key[SPEC_MAX_KEY_LEN + 1];
    int kind;
    eg_status st = split_space_key(ctx, e, key, sizeof key, &kind);
    if (st == EG_OK) st = spec_check_sweepable(ctx, e, key, e->key, "; sweep.random.seed seeds the sampling");
    if (st == EG_OK) st = kind == D_CHOICE ? check_choice(ctx, e) : check_numbers(ctx, e, kind, d);
    if (st == EG_OK && d) {
        d->e = e;
        d->kind = kind;
        if (!(d->key = strdup(key))) return EG_ERR_NOMEM;
        uint8_t dig[32];
        eg_sha256_sum(key, strlen(key), dig);
        d->stream = 0;
        for (int b = 0; b < 8; b++)
            d->stream = d->stream << 8 | dig[b];
    }
    return st;
}

eg_status spec_check_random_ent(const spec_ctx *ctx, const spec_ent *e) {
    if (!strcmp(e->key, "sweep.random")) {
        if (e->v.kind == EG_VAL_NULL) return EG_OK;
        return spec_fail(ctx, &e->v, e->key, "expected a mapping, e.g. %s", example);
    }
    const char *rest = e->key + 13; /* after "sweep.random." */
    char seg[64];
    snprintf(seg, sizeof seg, "%.*s", (int)strcspn(rest, "."), rest);
    if (!spec_str_in(seg, random_keys, 3)) {
        const char *best = eg_did_you_mean(seg, random_keys, 3);
        return ent_fail(ctx, e, e->key, "unknown key '%s' of sweep.random%s%s%s (its keys: n, seed, space)", seg,
                        best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
    }
    if (strcmp(seg, "space") != 0) {
        if (strcmp(rest, seg) != 0) return ent_fail(ctx, e, "sweep.random", "%s: expected a single value, not a mapping", seg);
        const eg_value *v = &e->v;
        if (v->kind == EG_VAL_NULL) return EG_OK; /* not given */
        if (!strcmp(seg, "n") && (!is_whole(v) || v->f < 1 || v->f > SPEC_MAX_RUNS))
            return spec_fail(ctx, v, e->key, "expected the number of samples, an integer in 1..%d, got %s",
                             SPEC_MAX_RUNS, text_of(v));
        if (!strcmp(seg, "seed") && (!is_whole(v) || v->f < 0 || v->f > 9.0e18))
            return spec_fail(ctx, v, e->key, "expected an integer >= 0 (the seed of the sampling), got %s",
                             text_of(v));
        return EG_OK;
    }
    if (!strcmp(rest, "space")) {
        if (e->v.kind == EG_VAL_NULL) return EG_OK;
        return spec_fail(ctx, &e->v, e->key, "expected a mapping of keys to distributions, e.g. space: "
                         "{params.beta: {loguniform: [0.1, 100]}}");
    }
    return check_space_ent(ctx, e, NULL);
}

/* ---- the whole of sweep.random ---- */

typedef struct rspace {
    rdist *d;
    int n_d;
    const spec_ent *n_ent, *seed_ent, *first;
    long n;
    uint64_t seed;
    spec_map ix; /* KEY -> index in d */
} rspace;

static void rspace_free(rspace *r) {
    for (int k = 0; k < r->n_d; k++)
        free(r->d[k].key);
    free(r->d);
    spec_map_free(&r->ix);
    memset(r, 0, sizeof *r);
}

static int is_random_key(const char *k) {
    return !strncmp(k, "sweep.random", 12) && (k[12] == '.' || !k[12]);
}

static int from_cmdline(const spec_ent *e) {
    return e->v.file && !strcmp(e->v.file, eg_spec_cmdline);
}

/* a distribution a given on the command line replaces b of the same key, given in the file
 * or by an earlier override (as overrides replace: params.beta=loguniform(1,10) on a spec
 * that samples params.beta uniformly). Two in the file or in one override are an error. */
static int replaces(const spec_ent *a, const spec_ent *b) {
    return from_cmdline(a) && (!from_cmdline(b) || a->kline > b->kline);
}

/* read sweep.random (entries already checked one by one); a key with two distributions is an
 * error, unless a later override gave the second (it replaces the first) */
static eg_status rspace_read(const spec_ctx *ctx, const spec_ents *ents, rspace *r) {
    memset(r, 0, sizeof *r);
    int n_space = 0;
    for (int i = 0; i < ents->n; i++)
        if (ents->e[i].key && !strncmp(ents->e[i].key, SPACE_PREFIX, SPACE_LEN)) n_space++;
    if (n_space && !(r->d = calloc((size_t)n_space, sizeof *r->d))) return EG_ERR_NOMEM;
    eg_status st = EG_OK;
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->key || !is_random_key(e->key)) continue;
        if (!r->first && (e->v.kind != EG_VAL_NULL || strcmp(e->key, "sweep.random"))) r->first = e;
        if (!strcmp(e->key, "sweep.random.n") && e->v.kind != EG_VAL_NULL) {
            r->n_ent = e;
            r->n = (long)e->v.f;
        } else if (!strcmp(e->key, "sweep.random.seed") && e->v.kind != EG_VAL_NULL) {
            r->seed_ent = e;
            r->seed = (uint64_t)e->v.f;
        } else if (!strncmp(e->key, SPACE_PREFIX, SPACE_LEN)) {
            rdist *d = &r->d[r->n_d];
            if ((st = check_space_ent(ctx, e, d)) != EG_OK) break;
            r->n_d++;
            int o = spec_map_get(&r->ix, d->key);
            if (o >= 0 && replaces(e, r->d[o].e)) { /* the later override's distribution wins */
                char *old_key = r->d[o].key; /* the map's slot points at it until the put below */
                r->d[o] = *d;
                memset(d, 0, sizeof *d);
                r->n_d--;
                st = spec_map_put(&r->ix, r->d[o].key, o);
                free(old_key);
            } else if (o >= 0 && replaces(r->d[o].e, e)) { /* an earlier entry of a later override */
                free(d->key);
                memset(d, 0, sizeof *d);
                r->n_d--;
            } else if (o >= 0) {
                char w[300];
                const spec_ent *oe = r->d[o].e;
                spec_where(ctx, oe->v.file, oe->kline, oe->kcol, w, sizeof w);
                st = ent_fail(ctx, e, e->key, "%s has two distributions (also %s at %s); give one", d->key,
                              dist_names[r->d[o].kind], w);
                break;
            } else
                st = spec_map_put(&r->ix, d->key, r->n_d - 1);
        }
    }
    return st;
}

/* a key of the space equal to k, above it ("params.vae" of "params.vae.latent") or under it */
static int space_hit(const rspace *r, const char *k, int under_too) {
    if (spec_map_get(&r->ix, k) >= 0) return spec_map_get(&r->ix, k);
    for (const char *d = strchr(k, '.'); d; d = strchr(d + 1, '.')) {
        int o = spec_map_getn(&r->ix, k, (size_t)(d - k));
        if (o >= 0) return o;
    }
    if (under_too) {
        size_t n = strlen(k);
        for (int j = 0; j < r->n_d; j++)
            if (!strncmp(r->d[j].key, k, n) && r->d[j].key[n] == '.') return j;
    }
    return -1;
}

/* one key, one sweep: a space key also on a grid or zip axis, set by a case, or under another space key */
static eg_status check_clashes(const spec_ctx *ctx, const spec_ents *ents, const rspace *r) {
    char w[300];
    for (int j = 0; j < r->n_d; j++) {
        const rdist *d = &r->d[j];
        for (const char *p = strchr(d->key, '.'); p; p = strchr(p + 1, '.')) {
            int o = spec_map_getn(&r->ix, d->key, (size_t)(p - d->key));
            if (o < 0) continue;
            spec_where(ctx, r->d[o].e->v.file, r->d[o].e->kline, r->d[o].e->kcol, w, sizeof w);
            return ent_fail(ctx, d->e, d->e->key, "%s lies under %s, which the space also samples (at %s); keep one",
                            d->key, r->d[o].key, w);
        }
    }
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->key) continue;
        const char *form, *axis = spec_axis_of(e->key, &form);
        if (axis) {
            int o = space_hit(r, axis, 1);
            if (o < 0) continue;
            spec_where(ctx, e->v.file, e->kline, e->kcol, w, sizeof w);
            return ent_fail(ctx, r->d[o].e, r->d[o].e->key,
                            "%s is drawn by sweep.random and also swept by sweep.%s.%s (at %s); keep one of them "
                            "(on the command line, sweep.%s.%s= removes the axis and %s%s= the distribution)",
                            r->d[o].key, form, axis, w, form, axis, SPACE_PREFIX, r->d[o].key);
        }
        for (int c = 0; e->cases && c < e->cases->n; c++)
            for (int k = 0; k < e->cases->items[c].n; k++) {
                const spec_ent *ce = &e->cases->items[c].e[k];
                int o = space_hit(r, ce->key, 1);
                if (o < 0) continue;
                spec_where(ctx, ce->v.file, ce->kline, ce->kcol, w, sizeof w);
                return ent_fail(ctx, r->d[o].e, r->d[o].e->key,
                                "%s is drawn by sweep.random and also set by case %d (at %s); keep one of them",
                                r->d[o].key, c + 1, w);
            }
        /* a value typed on the command line that the draw would replace in every run */
        if (e->v.file && !strcmp(e->v.file, eg_spec_cmdline) && strncmp(e->key, "sweep", 5)) {
            int o = space_hit(r, e->key, 1);
            if (o < 0) continue;
            spec_where(ctx, r->d[o].e->v.file, r->d[o].e->kline, r->d[o].e->kcol, w, sizeof w);
            return ent_fail(ctx, e, e->key,
                            "would be lost: %s is drawn by sweep.random (%s), whose value wins in every run; "
                            "override the distribution instead (%s=uniform(lo,hi), or %s%s= to remove it)",
                            r->d[o].key, w, r->d[o].key, SPACE_PREFIX, r->d[o].key);
        }
    }
    return EG_OK;
}

/* the distinct values of one key (HUGE_VAL: a continuous distribution) */
static double distinct(const rdist *d) {
    switch (d->kind) {
    case D_RANDINT: return d->hi - d->lo + 1;
    case D_CHOICE: return d->e->v.n_items;
    case D_QUNIFORM:
    case D_QLOGUNIFORM: return d->kmax - d->kmin + 1;
    default: return HUGE_VAL;
    }
}

/* the distinct points of the space, at most 2^62 (HUGE_VAL when a key is continuous) */
static double space_points(const rspace *r) {
    double p = 1;
    for (int j = 0; j < r->n_d; j++) {
        p *= distinct(&r->d[j]);
        if (p > 4.6e18) return HUGE_VAL;
    }
    return p;
}

eg_status spec_check_random(const spec_ctx *ctx, const spec_ents *ents) {
    rspace r;
    eg_status st = rspace_read(ctx, ents, &r);
    if (st == EG_OK && r.first && !r.n_ent)
        st = ent_fail(ctx, r.first, "sweep.random.n",
                      "required: the number of samples to draw (n: 20 under sweep.random, or the override "
                      "sweep.random.n=20)");
    if (st == EG_OK && r.n_ent && !r.n_d)
        st = spec_fail(ctx, &r.n_ent->v, "sweep.random.space",
                       "required: the keys to sample and their distributions (space: {params.beta: {loguniform: "
                       "[0.1, 100]}}, or the override params.beta=loguniform(0.1,100))");
    if (st == EG_OK && r.n_d) st = check_clashes(ctx, ents, &r);
    if (st == EG_OK && r.n_d) {
        double p = space_points(&r);
        if (p < (double)r.n)
            st = spec_fail(ctx, &r.n_ent->v, "sweep.random.n",
                           "%ld samples, but the space has only %.0f distinct point%s (its keys are all discrete); "
                           "lower n to at most %.0f, or list the points with sweep.grid",
                           r.n, p, p == 1 ? "" : "s", p);
    }
    rspace_free(&r);
    return st;
}

/* ---- sampling ---- */

eg_status spec_random_dead(const spec_ctx *ctx, const spec_ents *ents, unsigned char *dead) {
    rspace r;
    eg_status st = rspace_read(ctx, ents, &r);
    for (int i = 0; i < ents->n && st == EG_OK; i++)
        dead[i] = ents->e[i].key && !strncmp(ents->e[i].key, SPACE_PREFIX, SPACE_LEN);
    for (int j = 0; j < r.n_d && st == EG_OK; j++)
        dead[r.d[j].e - ents->e] = 0;
    rspace_free(&r);
    return st;
}

void spec_random_size(const spec_ents *ents, int *n, int *k) {
    *n = *k = 0;
    int i = spec_ents_find(ents, "sweep.random.n");
    if (i < 0 || ents->e[i].v.kind == EG_VAL_NULL) return;
    *n = (int)ents->e[i].v.f;
    for (int j = 0; j < ents->n; j++) /* at most: a replaced distribution counts too */
        if (ents->e[j].key && !strncmp(ents->e[j].key, SPACE_PREFIX, SPACE_LEN)) ++*k;
}

/* x rounded to `digits` significant digits, as the text YAML reads back as that float */
static void float_text(double x, int digits, char *t, size_t cap) {
    snprintf(t, cap, "%.*g", digits, x); /* at most 24 characters */
    if (strtod(t, NULL) == 0) snprintf(t, cap, "0.0");
    else if (!strpbrk(t, ".e")) strncat(t, ".0", cap - strlen(t) - 1);
}

/* the value of x (rounded, clamped into [lo, hi] unless unbounded) as a float value at the distribution */
static eg_status put_float(const rdist *d, double x, int digits, int bounded, eg_value *out) {
    char t[64];
    float_text(x, digits, t, sizeof t);
    double y = strtod(t, NULL);
    if (bounded && (y < d->lo || y > d->hi)) float_text(y < d->lo ? d->lo : d->hi, 17, t, sizeof t);
    eg_status st = eg_scalar_resolve(t, 0, out);
    out->file = d->e->v.file;
    out->line = d->e->v.line;
    out->col = d->e->v.col;
    return st;
}

/* sample i's value of d at attempt a: a new float or int in *own, or a choice item in *pick */
static eg_status draw(const rdist *d, uint64_t seed, uint64_t i, uint32_t a, eg_value *own, const eg_value **pick) {
    uint64_t index = i + ((uint64_t)a << 32);
    uint32_t r[4];
    eg_philox_words(seed, d->stream, index, r);
    double u = eg_philox_u53(r[0], r[1]), x;
    char t[64];
    *pick = own;
    switch (d->kind) {
    case D_UNIFORM: return put_float(d, d->lo + (d->hi - d->lo) * u, 6, 1, own);
    case D_LOGUNIFORM: return put_float(d, exp(log(d->lo) + (log(d->hi) - log(d->lo)) * u), 6, 1, own);
    case D_NORMAL: return put_float(d, eg_philox_value(1, seed, d->stream, index, d->lo, d->hi), 6, 0, own);
    case D_RANDINT:
        x = floor(u * (d->hi - d->lo + 1));
        if (x > d->hi - d->lo) x = d->hi - d->lo;
        snprintf(t, sizeof t, "%lld", (long long)(d->lo + x));
        break;
    case D_QUNIFORM:
    case D_QLOGUNIFORM:
        if (d->kind == D_QUNIFORM)
            x = d->kmin + floor(u * (d->kmax - d->kmin + 1));
        else
            x = nearbyint(exp(log(d->lo) + (log(d->hi) - log(d->lo)) * u) / d->q);
        if (x < d->kmin) x = d->kmin;
        if (x > d->kmax) x = d->kmax;
        return put_float(d, x * d->q, 15, 1, own);
    default: { /* choice */
        int n = d->e->v.n_items, j = (int)(u * n);
        *pick = &d->e->v.items[j < n ? j : n - 1];
        return EG_OK;
    }
    }
    eg_status st = eg_scalar_resolve(t, 0, own);
    own->file = d->e->v.file;
    own->line = d->e->v.line;
    own->col = d->e->v.col;
    return st;
}

static int cmp_dist(const void *a, const void *b) {
    return strcmp(((const rdist *)a)->key, ((const rdist *)b)->key);
}

void spec_samples_free(spec_samples *s) {
    for (size_t i = 0; s->own && i < (size_t)s->n * (size_t)s->k; i++)
        eg_value_free(&s->own[i]);
    for (int j = 0; s->keys && j < s->k; j++)
        free(s->keys[j]);
    free(s->own);
    free(s->v);
    free(s->keys);
    memset(s, 0, sizeof *s);
}

/* draw row i until it differs from every earlier row (see the top of this file) */
static eg_status draw_row(const spec_ctx *ctx, const rspace *r, spec_samples *s, rowset *set, int i, uint32_t cap) {
    size_t base = (size_t)i * (size_t)s->k;
    for (uint32_t a = 0; a < cap; a++) {
        for (int j = 0; j < s->k; j++) {
            eg_value_free(&s->own[base + j]);
            eg_status st = draw(&r->d[j], r->seed, (uint64_t)i, a, &s->own[base + j], &s->v[base + j]);
            if (st != EG_OK) return st;
        }
        if (rowset_add(set, i) < 0) return EG_OK;
    }
    return spec_fail(ctx, &r->n_ent->v, "sweep.random.n",
                     "sample %d: %u draws in a row gave configurations drawn already; the space has too few "
                     "distinct points for n = %ld (floats are rounded to 6 significant digits; lower n, widen "
                     "the space, or list the points with sweep.grid)",
                     i + 1, cap, r->n);
}

eg_status spec_random_sample(const spec_ctx *ctx, const spec_ents *ents, spec_samples *s) {
    memset(s, 0, sizeof *s);
    rspace r;
    eg_status st = rspace_read(ctx, ents, &r);
    if (st != EG_OK || !r.n_ent || !r.n_d) {
        rspace_free(&r);
        return st;
    }
    qsort(r.d, (size_t)r.n_d, sizeof *r.d, cmp_dist); /* the run's keys, sorted (r.ix is stale now) */
    size_t cells = (size_t)r.n * (size_t)r.n_d;
    s->n = (int)r.n;
    s->k = r.n_d;
    s->keys = calloc((size_t)r.n_d, sizeof *s->keys);
    s->v = calloc(cells, sizeof *s->v);
    s->own = calloc(cells, sizeof *s->own);
    rowset set = {0};
    if (!s->keys || !s->v || !s->own) st = EG_ERR_NOMEM;
    for (int j = 0; j < r.n_d && st == EG_OK; j++)
        if (!(s->keys[j] = strdup(r.d[j].key))) st = EG_ERR_NOMEM;
    if (st == EG_OK) st = rowset_init(&set, s->n, s->k, s->v);
    /* a discrete space's last free points take about points / (points - i) draws each */
    double p = space_points(&r);
    uint32_t cap = p < 1e6 ? (uint32_t)(64 * p) + 1000 : 1000;
    for (int i = 0; i < s->n && st == EG_OK; i++)
        st = draw_row(ctx, &r, s, &set, i, cap);
    rowset_free(&set);
    rspace_free(&r);
    if (st != EG_OK) spec_samples_free(s);
    return st;
}
