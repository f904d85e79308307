/* test_hopfield_oracles.c — the hopfield plugin's update rules against known
 * answers (reference/models-pcgmm-hopfield-bwdam.md §5, items 10–14), the
 * dense associative memory against a direct host computation of its field,
 * and capacity sanity checks. The plugin's code is linked into this test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h" /* eg_backend_close */
#include "plugins/hopfield/hopfield.h"

static eg_ctx *ctx;

static eg_tensor *mat(eg_dtype dt, int64_t r, int64_t c, const double *v) {
    eg_tensor *t = eg_from_host(ctx, EG_F64, EG_DIMS(r, c), v);
    return dt == EG_F64 ? t : eg_cast(t, dt);
}

static void host(eg_tensor *t, double *out) {
    CHECK(eg_to_host_f64(t, out) == EG_OK);
}

static hop_net cfg(hop_variant v, double beta, double sigma) {
    hop_net h = {v, beta, sigma, 2, 0, 1, 1e-6};
    return h;
}

/* items 10–11: MCHN with X = [e1, e2], xi0 = e1 */
static void test_mchn(eg_dtype dt, double tol) {
    double xv[4] = {1, 0, 0, 1}, sv[2] = {1, 0}, out[2], e[1];
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *X = mat(dt, 2, 2, xv), *S = mat(dt, 1, 2, sv), *E = NULL;
    hop_net h = cfg(HOP_MCHN, 1.0, 1.0);
    eg_tensor *S1 = hop_step(&h, S, X, NULL, &E);
    host(S1, out);
    CHECK_NEAR(out[0], 0.7310586, tol, 0);
    CHECK_NEAR(out[1], 0.2689414, tol, 0);
    host(E, e);
    CHECK_NEAR(e[0], 0.3798855, tol, 0);
    host(hop_energy(&h, S, X), e);
    CHECK_NEAR(e[0], 0.3798855, tol, 0);
    host(hop_energy(&h, S1, X), e);
    CHECK_NEAR(e[0], 0.2769282, tol, 0);
    h.steps = 200, h.tol = 0;
    eg_tensor *Sinf = hop_retrieve(&h, S, X, NULL, NULL, NULL);
    host(Sinf, out);
    CHECK_NEAR(out[0], 0.5, 10 * tol, 0);
    CHECK_NEAR(out[1], 0.5, 10 * tol, 0);
    host(hop_energy(&h, Sinf, X), e);
    CHECK_NEAR(e[0], 0.25, 10 * tol, 0);

    h = cfg(HOP_MCHN, 8.0, 1.0);
    host(hop_step(&h, S, X, NULL, NULL), out);
    CHECK_NEAR(out[0], 0.9996646, tol, 0);
    CHECK_NEAR(out[1], 0.0003354, tol, 0);
    h.steps = 50, h.tol = 1e-6;
    eg_tensor *steps = NULL;
    host(hop_retrieve(&h, S, X, NULL, &steps, NULL), out);
    CHECK_NEAR(out[0], 0.9996628, tol, 0);
    CHECK_NEAR(out[1], 0.0003372, tol, 0);
    /* changes 3.4e-4, 1.8e-6, then 1e-8 < tol: two updates count */
    CHECK_NEAR(eg_item(steps), 2, 0, 0);
    eg_scope_close(sc);
}

/* item 11 (second half) and the GMM analogue: energy never increases along iterates */
static void test_monotone(eg_dtype dt, hop_variant v) {
    eg_rng rng = eg_rng_make(7, 1);
    const double temps[4] = {0.1, 1.0, 8.0, 50.0};
    int violations = 0;
    for (int k = 0; k < 4; k++) {
        eg_scope *sc = eg_scope_open(ctx);
        eg_tensor *X = eg_rand_normal(ctx, &rng, dt, EG_DIMS(20, 10), 0, 1);
        eg_tensor *S = eg_rand_normal(ctx, &rng, dt, EG_DIMS(16, 10), 0, 1);
        hop_net h = cfg(v, temps[k], 1.0 / sqrt(temps[k]));
        double prev[16], cur[16];
        host(hop_energy(&h, S, X), prev);
        for (int t = 0; t < 15; t++) {
            S = hop_step(&h, S, X, NULL, NULL);
            host(hop_energy(&h, S, X), cur);
            for (int q = 0; q < 16; q++) {
                double slack = (dt == EG_F64 ? 1e-9 : 2e-4) * (1 + fabs(prev[q]));
                if (cur[q] > prev[q] + slack) violations++;
                prev[q] = cur[q];
            }
        }
        eg_scope_close(sc);
    }
    CHECK_MSG(violations == 0, "%d energy increases (variant %d)", violations, (int)v);
}

/* GMM x-coordinate after `steps` updates from (z, 0), memories (0,0) and (1,0) */
static double gmm_iterate(eg_dtype dt, double sigma, double z, int steps) {
    double xv[4] = {0, 0, 1, 0}, sv[2] = {z, 0}, out[2];
    eg_scope *sc = eg_scope_open(ctx);
    hop_net h = cfg(HOP_GMM, 1, sigma);
    h.steps = steps, h.tol = 0;
    host(hop_retrieve(&h, mat(dt, 1, 2, sv), mat(dt, 2, 2, xv), NULL, NULL, NULL), out);
    eg_scope_close(sc);
    return out[0];
}

/* items 12–13 */
static void test_gmm(eg_dtype dt, double tol) {
    double z1 = gmm_iterate(dt, 0.5, 0.4, 1);
    CHECK_NEAR(z1, 0.4013123, tol, 0); /* weights (1 - z1, z1) */
    CHECK_NEAR(1 - z1, 0.5986877, tol, 0);
    CHECK_NEAR(gmm_iterate(dt, 0.3, 0.4, 200), 0.0040265, tol, 0);
    CHECK_NEAR(gmm_iterate(dt, 0.3, 0.6, 200), 0.9959735, tol, 0);
    CHECK_NEAR(gmm_iterate(dt, 1.0, 0.9, 200), 0.5, 10 * tol, 0);
    CHECK(fabs(gmm_iterate(dt, 0.1, 0.4, 10)) < 1e-6);
    /* the energy F = -logsumexp(-|z - m_i|^2 / 2 sigma^2) at z = 0.4, sigma = 0.5 */
    double xv[4] = {0, 0, 1, 0}, sv[2] = {0.4, 0}, e[1];
    eg_scope *sc = eg_scope_open(ctx);
    hop_net h = cfg(HOP_GMM, 1, 0.5);
    host(hop_energy(&h, mat(dt, 1, 2, sv), mat(dt, 2, 2, xv)), e);
    CHECK_NEAR(e[0], -log(exp(-0.16 / 0.5) + exp(-0.36 / 0.5)), tol, 0);
    eg_scope_close(sc);
}

/* item 14: equal-norm memories make GMM(sigma) and MCHN(1/sigma^2) identical */
static void test_equivalence(eg_dtype dt, double tol) {
    eg_rng rng = eg_rng_make(11, 2);
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *X = eg_rand_normal(ctx, &rng, dt, EG_DIMS(12, 8), 0, 1);
    X = eg_scale(eg_mul(X, eg_rsqrt(eg_sum(eg_square(X), 1, 1))), 1.5); /* every |x_i| = 1.5 */
    eg_tensor *S = eg_rand_normal(ctx, &rng, dt, EG_DIMS(6, 8), 0, 1);
    const double sigmas[3] = {0.3, 0.7, 2.0};
    double worst = 0, a[48], b[48];
    for (int k = 0; k < 3; k++) {
        hop_net g = cfg(HOP_GMM, 1, sigmas[k]), m = cfg(HOP_MCHN, 1 / (sigmas[k] * sigmas[k]), 1);
        g.steps = m.steps = 5, g.tol = m.tol = 0;
        host(hop_retrieve(&g, S, X, NULL, NULL, NULL), a);
        host(hop_retrieve(&m, S, X, NULL, NULL, NULL), b);
        for (int i = 0; i < 48; i++)
            worst = fmax(worst, fabs(a[i] - b[i]));
    }
    CHECK_MSG(worst <= tol, "max |gmm - mchn| = %g", worst);
    eg_scope_close(sc);
}

/* ---- dense: the field by brute force on the host ---- */
static double ipow(double x, int n) {
    double r = 1;
    while (n-- > 0)
        r *= x;
    return r;
}

/* one unit's new value: sign sum_mu [F(h + x) - F(h - x)], zero keeps s_i */
static double host_unit(const double *X, int M, int d, const double *s, int i, int n) {
    double field = 0;
    for (int mu = 0; mu < M; mu++) {
        double m = 0;
        for (int j = 0; j < d; j++)
            m += X[mu * d + j] * s[j];
        double hh = m - X[mu * d + i] * s[i];
        field += ipow(hh + X[mu * d + i], n) - ipow(hh - X[mu * d + i], n);
    }
    return field > 0 ? 1 : field < 0 ? -1 : s[i];
}

static int cmp2(const void *a, const void *b) {
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static void test_dense_field(eg_dtype dt) {
    enum { M = 4, D = 9, Q = 6 };
    eg_rng rng = eg_rng_make(3, 3);
    int mismatches = 0;
    for (int n = 2; n <= 5; n++)
        for (int async = 0; async <= 1; async++) {
            eg_scope *sc = eg_scope_open(ctx);
            eg_tensor *X = eg_affine(eg_rand_bernoulli(ctx, &rng, dt, EG_DIMS(M, D), 0.5), 2, -1);
            eg_tensor *S = eg_affine(eg_rand_bernoulli(ctx, &rng, dt, EG_DIMS(Q, D), 0.5), 2, -1);
            double xh[M * D], sh[Q * D], got[Q * D], want[Q * D];
            host(X, xh), host(S, sh);
            hop_net h = {HOP_DENSE, 1, 1, n, async, 1, 0};
            eg_rng order = eg_rng_make(5, 9), copy = order;
            host(hop_step(&h, S, X, &order, NULL), got);
            /* the plugin's unit order: the sweep's uniform draw, sorted */
            double pairs[2 * D];
            float u[D];
            CHECK(eg_to_host_f32(eg_rand_uniform(ctx, &copy, EG_F32, EG_DIMS(D), 0, 1), u) == EG_OK);
            for (int i = 0; i < D; i++)
                pairs[2 * i] = u[i], pairs[2 * i + 1] = i;
            qsort(pairs, D, 2 * sizeof(double), cmp2);
            for (int q = 0; q < Q; q++) {
                double *s = sh + q * D;
                if (async) {
                    for (int t = 0; t < D; t++) {
                        int i = (int)pairs[2 * t + 1];
                        s[i] = host_unit(xh, M, D, s, i, n);
                    }
                    memcpy(want + q * D, s, sizeof(double) * D);
                } else
                    for (int i = 0; i < D; i++)
                        want[q * D + i] = host_unit(xh, M, D, s, i, n);
            }
            for (int i = 0; i < Q * D; i++)
                mismatches += got[i] != want[i];
            eg_scope_close(sc);
        }
    CHECK_MSG(mismatches == 0, "%d dense units differ from the direct field", mismatches);
}

/* patterns X [M, d] (+-1), queries = patterns with a fraction p of the bits flipped;
 * returns the fraction retrieved exactly and (nearest) the fraction nearest to their own pattern */
static double dense_recall(eg_dtype dt, int n, int async, int M, int d, double p, double *nearest,
                           double *energy_rise) {
    eg_rng rng = eg_rng_make(100 + n * 7 + M, 4), order = eg_rng_make(1, 5);
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *X = eg_affine(eg_rand_bernoulli(ctx, &rng, dt, EG_DIMS(M, d), 0.5), 2, -1);
    eg_tensor *flip = eg_rand_bernoulli(ctx, &rng, dt, EG_DIMS(M, d), p);
    eg_tensor *S = eg_mul(X, eg_affine(flip, -2, 1));
    hop_net h = {HOP_DENSE, 1, 1, n, async, 10, 0.5};
    double *e0 = malloc(sizeof(double) * M), *e1 = malloc(sizeof(double) * M);
    host(hop_energy(&h, S, X), e0);
    eg_tensor *F = hop_retrieve(&h, S, X, &order, NULL, NULL);
    host(hop_energy(&h, F, X), e1);
    *energy_rise = 0;
    for (int q = 0; q < M; q++)
        *energy_rise = fmax(*energy_rise, e1[q] - e0[q]);
    /* overlaps with every pattern: exact when m_qq = d, nearest when m_qq is the row's maximum */
    double *m = malloc(sizeof(double) * M * M);
    host(eg_matmul_nt(F, X), m);
    int exact = 0, near = 0;
    for (int q = 0; q < M; q++) {
        exact += m[q * M + q] == d;
        int best = 0;
        for (int j = 1; j < M; j++)
            if (m[q * M + j] > m[q * M + best]) best = j;
        near += best == q;
    }
    free(m), free(e0), free(e1);
    eg_scope_close(sc);
    *nearest = (double)near / M;
    return (double)exact / M;
}

static void test_dense_capacity(eg_dtype dt) {
    double near, rise;
    for (int async = 0; async <= 1; async++) {
        double r = dense_recall(dt, 2, async, 5, 100, 0.1, &near, &rise);
        CHECK_MSG(r == 1.0, "n=2 %s M=5 d=100: exact recall %.2f", async ? "async" : "sync", r);
        if (async) CHECK_MSG(rise <= 0, "async energy rose by %g", rise);
    }
    double r2 = dense_recall(dt, 2, 1, 30, 100, 0.1, &near, &rise);
    printf("dense n=2 M=30 d=100: exact %.3f, nearest %.3f\n", r2, near);
    CHECK_MSG(r2 <= 0.3, "n=2 M=0.3d should be past capacity, exact recall %.2f", r2);
    CHECK(rise <= 0);
    double r3 = dense_recall(dt, 3, 1, 30, 100, 0.1, &near, &rise);
    printf("dense n=3 M=30 d=100: exact %.3f, nearest %.3f\n", r3, near);
    CHECK_MSG(r3 >= 0.95, "n=3 M=0.3d should be within capacity, exact recall %.2f", r3);
    CHECK(rise <= 0);
    double r4 = dense_recall(dt, 4, 0, 100, 100, 0.1, &near, &rise);
    printf("dense n=4 sync M=100 d=100: exact %.3f, nearest %.3f\n", r4, near);
    CHECK_MSG(r4 >= 0.95, "n=4 M=d should be within capacity, exact recall %.2f", r4);
}

static void test_descriptor(void) {
    const eg_model_desc *d = eg_model_entry();
    CHECK(d && d->abi_major == EG_MODEL_ABI_MAJOR && d->struct_size == sizeof(eg_model_desc));
    CHECK_STR_CONTAINS(d->name, "hopfield");
    const char *want[7] = {"variant", "beta", "sigma", "n", "update", "steps", "tol"};
    const char *dflt[7] = {"mchn", "8", "1", "2", "async", "3", "1e-6"};
    CHECK(d->n_params == 7);
    for (int i = 0; i < 7 && i < d->n_params; i++) {
        CHECK(strcmp(d->params[i].key, want[i]) == 0);
        CHECK(strcmp(d->params[i].default_value, dflt[i]) == 0);
    }
    CHECK(d->n_tasks == 1 && strcmp(d->tasks[0], "retrieve") == 0);
    CHECK(d->fit == NULL && d->eval != NULL && d->create != NULL);
    CHECK(d->n_metrics == 4);
    for (int i = 0; i < d->n_metrics; i++)
        CHECK(strncmp(d->metrics[i].name, "retrieval/", 10) == 0);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_descriptor();
    const eg_dtype dts[2] = {EG_F64, EG_F32};
    const double tols[2] = {5e-7, 2e-6};
    for (int k = 0; k < 2; k++) {
        test_mchn(dts[k], tols[k]);
        test_monotone(dts[k], HOP_MCHN);
        test_monotone(dts[k], HOP_GMM);
        test_gmm(dts[k], tols[k]);
        test_equivalence(dts[k], dts[k] == EG_F64 ? 1e-10 : 1e-5);
        test_dense_field(dts[k]);
    }
    test_dense_capacity(EG_F32);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
