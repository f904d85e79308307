/* test_backend_layout.c — conformance of every available backend: permute, slice
 * (copy and accumulate), gather and scatter_add (shared and per-row indices) and
 * the Philox random fill. Tolerances: the table in backend_ops.h. */
#include "backend_ops.h"
#include "engram/philox.h"

/* ------------------------------------------------------------------ permute */

static void permute_case(tb *t, eg_dtype dt, int nd, const int64_t *shape, const int *perm) {
    int64_t n = 1, xs[EG_MAX_DIMS], os[EG_MAX_DIMS];
    for (int d = nd - 1; d >= 0; d--)
        xs[d] = n, n *= shape[d];
    int64_t c = 1;
    for (int j = nd - 1; j >= 0; j--)
        os[j] = c, c *= shape[perm[j]];
    double *x = randv(n, -100, 100);
    void *dx = dev_from(t, dt, x, n), *dout = dev_alloc(t, (size_t)n * dt_size(dt));
    char what[128] = "permute [";
    for (int d = 0; d < nd; d++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%lld", d ? "," : "", (long long)shape[d]);
    snprintf(what + strlen(what), sizeof what - strlen(what), "] perm (");
    for (int d = 0; d < nd; d++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%d", d ? "," : "", perm[d]);
    snprintf(what + strlen(what), sizeof what - strlen(what), ")%s", dt == EG_I32 ? " i32" : "");
    tb tt = *t;
    tt.dt = dt;
    if (st_ok(&tt, t->d->permute(t->ctx, dt, nd, shape, perm, dx, dout), what)) {
        double *got = to_host(t, dt, dout, n), *ref = malloc((size_t)n * sizeof *ref);
        for (int64_t i = 0; i < n; i++) { /* x index i -> out index sum_j i[perm[j]] * os[j] */
            int64_t o = 0;
            for (int j = 0; j < nd; j++)
                o += ((i / xs[perm[j]]) % shape[perm[j]]) * os[j];
            ref[o] = x[i];
        }
        cmp(&tt, what, got, ref, n, tol_exact());
        free(got), free(ref);
    }
    dev_free(t, dx), dev_free(t, dout);
    free(x);
}

static int next_perm(int *p, int n) { /* lexicographic next permutation */
    int i = n - 2;
    while (i >= 0 && p[i] > p[i + 1])
        i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] < p[i])
        j--;
    int tmp = p[i];
    p[i] = p[j], p[j] = tmp;
    for (int a = i + 1, b = n - 1; a < b; a++, b--)
        tmp = p[a], p[a] = p[b], p[b] = tmp;
    return 1;
}

static void test_permute(tb *t) {
    static const int64_t s3[] = {3, 7, 5}, s4[] = {2, 3, 1, 17}, s4b[] = {4, 5, 6, 7}, big[] = {64, 130, 33};
    int p[4] = {0, 1, 2};
    do
        permute_case(t, t->dt, 3, s3, p);
    while (next_perm(p, 3));
    for (int i = 0; i < 4; i++)
        p[i] = i;
    do
        permute_case(t, t->dt, 4, s4b, p);
    while (next_perm(p, 4));
    static const int pa[] = {3, 1, 0, 2}, pb[] = {0, 2, 1, 3}, pc[] = {2, 0, 1}, pd[] = {1, 0};
    permute_case(t, t->dt, 4, s4, pa);
    permute_case(t, t->dt, 4, s4, pb);
    permute_case(t, t->dt, 3, big, pc);
    static const int64_t s2[] = {130, 257}, s1[] = {33};
    static const int p0[] = {0};
    permute_case(t, t->dt, 2, s2, pd);
    permute_case(t, t->dt, 1, s1, p0);
    if (t->dt == EG_F32) permute_case(t, EG_I32, 3, s3, pc);
    static const int bad[] = {0, 0, 1};
    eg_status st = t->d->permute(t->ctx, t->dt, 3, s3, bad, NULL, NULL);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && t->dt == EG_F64),
              "%s: permute with a repeated axis returned %s", t->name, eg_strerror(st));
}

/* ------------------------------------------------------------------ slice */

static void test_slice(tb *t) {
    static const int64_t cs[][7] = {
        /* outer, src_len, src_off, dst_len, dst_off, len, inner */
        {1, 1, 0, 1, 0, 1, 1},        {3, 7, 2, 5, 1, 4, 1},      {2, 17, 0, 17, 0, 17, 3},    {5, 10, 9, 3, 2, 1, 33},
        {4, 130, 3, 200, 60, 127, 7}, {1, 33, 5, 40, 0, 20, 130}, {300, 64, 0, 128, 64, 64, 2}};
    eg_dtype dt = t->dt;
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++)
        for (int acc = 0; acc < 2; acc++) {
            int64_t O = cs[c][0], SL = cs[c][1], SO = cs[c][2], DL = cs[c][3], DO = cs[c][4], L = cs[c][5],
                    I = cs[c][6];
            double *src = randv(O * SL * I, -1, 1), *dst = randv(O * DL * I, -1, 1);
            void *ds = dev_from(t, dt, src, O * SL * I), *dd = dev_from(t, dt, dst, O * DL * I);
            char what[128];
            snprintf(what, sizeof what, "slice outer=%lld src %lld@%lld dst %lld@%lld len=%lld inner=%lld acc=%d",
                     (long long)O, (long long)SL, (long long)SO, (long long)DL, (long long)DO, (long long)L,
                     (long long)I, acc);
            if (st_ok(t, t->d->slice(t->ctx, dt, O, SL, SO, DL, DO, L, I, ds, dd, acc), what)) {
                double *got = to_host(t, dt, dd, O * DL * I);
                for (int64_t o = 0; o < O; o++)
                    for (int64_t j = 0; j < L; j++)
                        for (int64_t i = 0; i < I; i++) {
                            double v = src[(o * SL + SO + j) * I + i];
                            double *d = &dst[(o * DL + DO + j) * I + i];
                            *d = acc ? *d + v : v;
                        }
                cmp(t, what, got, dst, O * DL * I, acc ? tol_accum(dt) : tol_exact());
                free(got);
            }
            dev_free(t, ds), dev_free(t, dd);
            free(src), free(dst);
        }
    eg_status st = t->d->slice(t->ctx, dt, 1, 5, 3, 5, 0, 3, 1, NULL, NULL, 0);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && dt == EG_F64), "%s: slice past the end returned %s",
              t->name, eg_strerror(st));
}

/* ------------------------------------------------------------------ gather / scatter_add */

static void index_case(tb *t, eg_dtype dt, int64_t O, int64_t L, int64_t I, int64_t io, int64_t ni, int dups) {
    int32_t *idx = malloc((size_t)(io * ni) * sizeof *idx);
    int64_t step = L % 7 ? 7 : 11; /* coprime to L: j*step + row is distinct mod L for j < L */
    for (int64_t k = 0; k < io * ni; k++)
        idx[k] = dups ? (int32_t)(urand(0, (double)L)) : (int32_t)((k % ni * step + k / ni) % L);
    double *x = randv(O * L * I, -10, 10), *init = randv(O * L * I, -10, 10);
    void *dx = dev_from(t, dt, x, O * L * I), *di = dev_idx(t, idx, io * ni);
    void *dg = dev_alloc(t, (size_t)(O * ni * I) * dt_size(dt));
    char what[128];
    snprintf(what, sizeof what, "gather [%lld,%lld,%lld] idx [%lld,%lld]%s%s", (long long)O, (long long)L, (long long)I,
             (long long)io, (long long)ni, dups ? " repeated" : "", dt == EG_I32 ? " i32" : "");
    tb tt = *t;
    tt.dt = dt;
    double *gref = malloc((size_t)(O * ni * I) * sizeof *gref);
    for (int64_t o = 0; o < O; o++)
        for (int64_t j = 0; j < ni; j++)
            for (int64_t i = 0; i < I; i++)
                gref[(o * ni + j) * I + i] = x[(o * L + idx[(io == 1 ? 0 : o) * ni + j]) * I + i];
    if (st_ok(&tt, t->d->gather(t->ctx, dt, O, L, I, dx, io, ni, di, dg), what)) {
        double *got = to_host(t, dt, dg, O * ni * I);
        cmp(&tt, what, got, gref, O * ni * I, tol_exact());
        free(got);
    }
    if (dt != EG_I32) { /* scatter_add the gathered values back on top of init */
        void *dout = dev_from(t, dt, init, O * L * I), *dsrc = dev_from(t, dt, gref, O * ni * I);
        snprintf(what, sizeof what, "scatter_add [%lld,%lld,%lld] idx [%lld,%lld]%s", (long long)O, (long long)L,
                 (long long)I, (long long)io, (long long)ni, dups ? " repeated" : "");
        if (st_ok(&tt, t->d->scatter_add(t->ctx, dt, O, L, I, dsrc, io, ni, di, dout), what)) {
            double *got = to_host(t, dt, dout, O * L * I);
            for (int64_t o = 0; o < O; o++)
                for (int64_t j = 0; j < ni; j++)
                    for (int64_t i = 0; i < I; i++)
                        init[(o * L + idx[(io == 1 ? 0 : o) * ni + j]) * I + i] += gref[(o * ni + j) * I + i];
            cmp(&tt, what, got, init, O * L * I, tol_accum(dt));
            free(got);
        }
        dev_free(t, dout), dev_free(t, dsrc);
    }
    dev_free(t, dx), dev_free(t, di), dev_free(t, dg);
    free(idx), free(x), free(init), free(gref);
}

static void test_index(tb *t) {
    static const int64_t cs[][5] = {/* outer, len, inner, n_idx */
                                    {1, 1, 1, 1, 0},     {3, 7, 1, 5, 0},       {2, 17, 3, 17, 0},
                                    {4, 33, 130, 7, 0},  {1, 1000, 1, 3000, 0}, {64, 10, 1, 1, 0},
                                    {5, 130, 33, 64, 0}, {2, 50, 2000, 40, 0}};
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++)
        for (int per_row = 0; per_row < 2; per_row++)
            for (int dups = 0; dups < 2; dups++) {
                int64_t O = cs[c][0], ni = cs[c][3];
                if (!dups && ni > cs[c][1]) continue;
                index_case(t, t->dt, O, cs[c][1], cs[c][2], per_row ? O : 1, ni, dups);
            }
    if (t->dt == EG_F32) index_case(t, EG_I32, 3, 7, 5, 3, 4, 1);
    /* an index outside [0, len) is rejected */
    int32_t bad[2] = {0, 7};
    double x[7] = {0};
    void *dx = dev_from(t, t->dt, x, 7), *di = dev_idx(t, bad, 2), *dg = dev_alloc(t, 2 * dt_size(t->dt));
    eg_status st = t->d->gather(t->ctx, t->dt, 1, 7, 1, dx, 1, 2, di, dg);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && t->dt == EG_F64),
              "%s: gather index 7 of 7 returned %s", t->name, eg_strerror(st));
    st = t->d->scatter_add(t->ctx, t->dt, 1, 7, 1, dg, 1, 2, di, dx);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && t->dt == EG_F64),
              "%s: scatter_add index 7 of 7 returned %s", t->name, eg_strerror(st));
    dev_free(t, dx), dev_free(t, di), dev_free(t, dg);
}

/* ------------------------------------------------------------------ rand */

static void test_rand(tb *t) {
    static const struct {
        eg_rand_kind kind;
        const char *name;
        double a, b;
    } ks[] = {{EG_RAND_UNIFORM, "uniform", -2, 3},
              {EG_RAND_NORMAL, "normal", 1, 0.5},
              {EG_RAND_BERNOULLI, "bernoulli", 0.3, 0}};
    eg_dtype dt = t->dt;
    size_t es = dt_size(dt);
    for (size_t k = 0; k < 3; k++) {
        int64_t n = 100003;                                                          /* odd and large: threaded path */
        uint64_t seed = 0x123456789abcdefull, stream = 5, offset = (1ull << 32) - 7; /* crosses the 32-bit word */
        void *d1 = dev_alloc(t, (size_t)n * es), *d2 = dev_alloc(t, (size_t)n * es), *d3 = dev_alloc(t, (size_t)n * es);
        char what[96];
        snprintf(what, sizeof what, "rand %s n=%lld", ks[k].name, (long long)n);
        if (!st_ok(t, t->d->rand(t->ctx, ks[k].kind, dt, d1, n, seed, stream, offset, ks[k].a, ks[k].b), what)) {
            dev_free(t, d1), dev_free(t, d2), dev_free(t, d3);
            continue;
        }
        double *got = to_host(t, dt, d1, n), *ref = malloc((size_t)n * sizeof *ref);
        for (int64_t i = 0; i < n; i++) {
            double v = eg_philox_value((int)ks[k].kind, seed, stream, offset + (uint64_t)i, ks[k].a, ks[k].b);
            ref[i] = dt == EG_F32 ? (double)(float)v : v;
        }
        cmp(t, what, got, ref, n, tol_exact());
        /* same (seed, stream, offset) -> identical bits; a sub-range at offset+37 matches */
        CHECK(t->d->rand(t->ctx, ks[k].kind, dt, d2, n, seed, stream, offset, ks[k].a, ks[k].b) == EG_OK);
        char *h1 = malloc((size_t)n * es), *h2 = malloc((size_t)n * es);
        t->d->download(t->ctx, h1, d1, (size_t)n * es);
        t->d->download(t->ctx, h2, d2, (size_t)n * es);
        CHECK_MSG(memcmp(h1, h2, (size_t)n * es) == 0, "%s/%s %s: same seed twice differs", t->name, dt_name(dt), what);
        CHECK(t->d->rand(t->ctx, ks[k].kind, dt, d2, 20, seed, stream, offset + 37, ks[k].a, ks[k].b) == EG_OK);
        t->d->download(t->ctx, h2, d2, 20 * es);
        CHECK_MSG(memcmp(h1 + 37 * es, h2, 20 * es) == 0, "%s/%s %s: fill at offset+37 != elements 37..56", t->name,
                  dt_name(dt), what);
        /* another stream gives other numbers */
        CHECK(t->d->rand(t->ctx, ks[k].kind, dt, d3, n, seed, stream + 1, offset, ks[k].a, ks[k].b) == EG_OK);
        double *other = to_host(t, dt, d3, n);
        int64_t same = 0;
        for (int64_t i = 0; i < n; i++)
            same += other[i] == got[i];
        /* bernoulli(0.3) agrees by chance 58% of the time; continuous values essentially never */
        double limit = ks[k].kind == EG_RAND_BERNOULLI ? 0.62 * (double)n : 0.001 * (double)n;
        CHECK_MSG((double)same < limit, "%s/%s %s: stream+1 equals stream in %lld of %lld", t->name, dt_name(dt), what,
                  (long long)same, (long long)n);
        free(got), free(ref), free(other), free(h1), free(h2);
        dev_free(t, d1), dev_free(t, d2), dev_free(t, d3);
    }
}

static void suite(tb *t) {
    test_permute(t);
    test_slice(t);
    test_index(t);
    test_rand(t);
}

int main(void) {
    return tb_main("backend layout+rand", suite);
}
