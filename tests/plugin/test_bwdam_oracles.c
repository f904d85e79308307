/* test_bwdam_oracles.c — the bwdam plugin's geometry and retrieval rules against
 * known answers (reference/models-pcgmm-hopfield-bwdam.md §5, items 1–9), plus
 * cross-checks: pairwise (GEMM-shaped, chunked) against rowwise computations, the
 * diagonal closed forms against the full eigendecomposition path, random queries at
 * their exact radius, and eu-dam against the mchn step of the hopfield plugin
 * (recomputed here with the same ops) on the same vectors. The plugin's code is
 * linked into this test. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plugins/bwdam/bwdam.h"
#include "registry/loader.h"

static eg_ctx *ctx;

static eg_tensor *t64(int ndim, const int64_t *shape, const double *v) {
    return eg_from_host(ctx, EG_F64, ndim, shape, v);
}

static void host(eg_tensor *t, double *out) {
    CHECK(eg_to_host_f64(t, out) == EG_OK);
}

static bw_gauss full1(const double *m, const double *S, int64_t n, int64_t d) {
    bw_gauss g = {t64(EG_DIMS(n, d), m), t64(EG_DIMS(n, d, d), S), 1};
    return g;
}

static bw_gauss diag1(const double *m, const double *v, int64_t n, int64_t d) {
    bw_gauss g = {t64(EG_DIMS(n, d), m), t64(EG_DIMS(n, d), v), 0};
    return g;
}

static bw_dam cfg(double beta, int full) {
    bw_dam h = {BW_BW, beta, 1, 0, full, 1e-12, 0, 0};
    return h;
}

static double w2sq1(bw_gauss a, bw_gauss b) {
    double v[1];
    host(bw_w2sq(a, b, 1e-12), v);
    return v[0];
}

/* items 1–3 */
static void test_w2(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double m0[2] = {0, 0}, m1[2] = {3, 4};
    double v0[2] = {1, 4}, v1[2] = {4, 1};
    bw_gauss a = diag1(m0, v0, 1, 2), b = diag1(m1, v1, 1, 2);
    CHECK_NEAR(w2sq1(a, b), 27, 1e-12, 0);
    CHECK_NEAR(w2sq1(bw_gauss_to_full(a), bw_gauss_to_full(b)), 27, 1e-10, 0);
    double r[1];
    host(bw_w2sq_rows(bw_gauss_to_full(a), bw_gauss_to_full(b), 1e-12), r);
    CHECK_NEAR(r[0], 27, 1e-10, 0);
    double I[4] = {1, 0, 0, 1}, S[4] = {2, 1, 1, 2}, D13[4] = {1, 0, 0, 3};
    bw_gauss gi = full1(m0, I, 1, 2), gs = full1(m0, S, 1, 2), gd = full1(m0, D13, 1, 2);
    CHECK_NEAR(w2sq1(gi, gs), 6 - 2 * (sqrt(3) + 1), 1e-10, 0);
    CHECK_NEAR(w2sq1(gi, gs), 0.5358984, 1e-7, 0);
    CHECK_NEAR(w2sq1(gs, gd), 0.5166852, 1e-7, 0);
    CHECK_NEAR(w2sq1(gd, gs), 0.5166852, 1e-7, 0);
    CHECK_NEAR(w2sq1(gs, gs), 0, 1e-12, 0);
    host(bw_w2sq_rows(gd, gs, 1e-12), r);
    CHECK_NEAR(r[0], 0.5166852, 1e-7, 0);
    eg_scope_close(sc);
}

/* item 4 */
static void test_ot_map(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double O[4] = {2, 1, 1, 2}, S[4] = {1, 0, 0, 3}, A[4], AOA[4];
    eg_tensor *Om = t64(EG_DIMS(1, 2, 2), O), *Sg = t64(EG_DIMS(1, 2, 2), S);
    eg_tensor *At = bw_ot_map(Om, Sg, 1e-12);
    host(At, A);
    host(eg_matmul(eg_matmul(At, Om), At), AOA);
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(AOA[k], S[k], 1e-12, 0);
    CHECK_NEAR(A[1], A[2], 1e-14, 0);
    host(bw_ot_map(Om, Om, 1e-12), A);
    double I[4] = {1, 0, 0, 1};
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(A[k], I[k], 1e-12, 0);
    /* the other closed form: Σ^½ (Σ^½ Ω Σ^½)^-½ Σ^½ */
    eg_tensor *Sh = bw_sqrtm(Sg, 0, NULL), *Ci = NULL;
    bw_sqrtm(eg_matmul(eg_matmul(Sh, Om), Sh), 1e-12, &Ci);
    double B[4];
    host(eg_matmul(eg_matmul(Sh, Ci), Sh), B);
    host(At, A);
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(A[k], B[k], 1e-12, 0);
    eg_scope_close(sc);
}

/* item 5 */
static void test_dilate(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double m[2] = {3, 4}, v[2] = {1, 2}, r[1];
    bw_gauss g = diag1(m, v, 1, 2);
    bw_gauss q = bw_dilate(g, 0.5);
    host(bw_w2sq_rows(q, g, 0), r);
    CHECK_NEAR(sqrt(r[0]), 0.5, 1e-12, 0);
    double qm[2];
    host(q.mean, qm);
    CHECK_NEAR(qm[0], 3 * (1 + 0.5 / sqrt(28)), 1e-12, 0);
    bw_gauss gf = bw_gauss_to_full(g);
    host(bw_w2sq_rows(bw_dilate(gf, 0.5), gf, 1e-12), r);
    CHECK_NEAR(sqrt(r[0]), 0.5, 1e-7, 0);
    eg_scope_close(sc);
}

/* item 6: one non-commuting Φ step */
static void test_step_noncommuting(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double xm[4] = {0, 0, 1, 0}, xs[8] = {2, 1, 1, 2, 1, 0, 0, 3};
    double qm[2] = {0.5, 0}, qs[4] = {1.5, 0.2, 0.2, 2};
    bw_gauss X = full1(xm, xs, 2, 2), q = full1(qm, qs, 1, 2);
    bw_dam h = cfg(0.5, 1);
    double D[2], W[2], m[2], O[4], E[1];
    host(bw_w2sq(q, X, 1e-12), D);
    CHECK_NEAR(D[0], 0.4397700, 1e-7, 0);
    CHECK_NEAR(D[1], 0.4124621, 1e-7, 0);
    eg_tensor *Et = NULL, *Wt = NULL;
    bw_gauss n = bw_step(&h, q, X, &Et, &Wt);
    host(Wt, W), host(n.mean, m), host(n.cov, O), host(Et, E);
    CHECK_NEAR(W[0], 0.4965866, 1e-7, 0);
    CHECK_NEAR(W[1], 0.5034134, 1e-7, 0);
    CHECK_NEAR(m[0], 0.5034134, 1e-7, 0);
    CHECK_NEAR(m[1], 0, 1e-12, 0);
    const double want[4] = {1.4229549, 0.5049773, 0.5049773, 2.4465633};
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(O[k], want[k], 1e-7, 0);
    CHECK_NEAR(E[0], -2.0 * log(exp(-0.5 * D[0]) + exp(-0.5 * D[1])), 1e-12, 0);
    eg_scope_close(sc);
}

/* item 7: commuting step; diag closed form = full path; √Ω' = Σ w √Σ */
static void test_step_commuting(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double xm[4] = {0, 0, 3, 4}, xv[4] = {1, 4, 4, 1}, qm[2] = {0.1, 0.2}, qv[2] = {1.2, 3.5};
    bw_gauss X = diag1(xm, xv, 2, 2), q = diag1(qm, qv, 1, 2);
    bw_dam hd = cfg(1, 0), hf = cfg(1, 1);
    eg_tensor *Wd = NULL, *Wf = NULL;
    bw_gauss nd = bw_step(&hd, q, X, NULL, &Wd);
    bw_gauss nf = bw_step(&hf, q, X, NULL, &Wf);
    double wd[2], wf[2], od[2], of[4], md[2], mf[2];
    host(Wd, wd), host(Wf, wf), host(nd.cov, od), host(nf.cov, of), host(nd.mean, md), host(nf.mean, mf);
    CHECK_NEAR(wd[1], 2.66e-11, 0.01e-11, 0);
    CHECK_NEAR(wd[0], 1 - wd[1], 1e-15, 0);
    CHECK_NEAR(wf[1], wd[1], 1e-14, 0);
    double s0 = wd[0] * 1 + wd[1] * 2, s1 = wd[0] * 2 + wd[1] * 1; /* Σ w √Σ */
    CHECK_NEAR(od[0], s0 * s0, 1e-12, 0);
    CHECK_NEAR(od[1], s1 * s1, 1e-12, 0);
    CHECK_NEAR(od[0], 1, 1e-9, 0);
    CHECK_NEAR(od[1], 4, 1e-9, 0);
    CHECK_NEAR(of[0], od[0], 1e-10, 0);
    CHECK_NEAR(of[3], od[1], 1e-10, 0);
    CHECK_NEAR(of[1], 0, 1e-12, 0);
    CHECK_NEAR(md[0], mf[0], 1e-12, 0);
    CHECK_NEAR(md[1], 3 * wd[1] * 4 / 3, 1e-12, 0);
    eg_scope_close(sc);
}

/* random SPD matrices [n, d, d]: A Aᵀ / d + 0.2 I */
static eg_tensor *rand_spd(eg_rng *rng, int64_t n, int64_t d) {
    eg_tensor *A = eg_rand_normal(ctx, rng, EG_F64, EG_DIMS(n, d, d), 0, 1);
    double *I = calloc((size_t)(d * d), sizeof(double));
    for (int64_t k = 0; k < d; k++)
        I[k * d + k] = 0.2;
    eg_tensor *out = eg_add(eg_scale(eg_matmul_nt(A, A), 1.0 / (double)d), t64(EG_DIMS(d, d), I));
    free(I);
    return out;
}

static double max_diff(eg_tensor *a, eg_tensor *b) {
    int64_t n = eg_numel(a);
    double *x = malloc(sizeof(double) * (size_t)n * 2), worst = 0;
    CHECK(eg_numel(b) == n);
    host(a, x), host(b, x + n);
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(x[i] - x[n + i]));
    free(x);
    return worst;
}

/* the pairwise GEMM-shaped step (chunked or not) against the rowwise OT maps */
static void test_step_pairs(void) {
    eg_scope *sc = eg_scope_open(ctx);
    enum { Q = 3, M = 4, D = 3 };
    eg_rng rng = eg_rng_make(5, 1);
    bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(M, D), 0, 1), rand_spd(&rng, M, D), 1};
    bw_gauss q = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(Q, D), 0, 1), rand_spd(&rng, Q, D), 1};
    bw_dam h = cfg(0.7, 1);
    eg_tensor *W = NULL, *E = NULL;
    bw_gauss n1 = bw_step(&h, q, X, &E, &W);
    h.budget = 1; /* one query per chunk */
    eg_tensor *W2 = NULL, *E2 = NULL;
    bw_gauss n2 = bw_step(&h, q, X, &E2, &W2);
    CHECK_MSG(max_diff(n1.cov, n2.cov) < 1e-12, "chunked cov differs");
    CHECK_MSG(max_diff(W, W2) < 1e-14 && max_diff(E, E2) < 1e-12, "chunked weights/energy differ");
    /* reference: every pair through the rowwise functions */
    double w[Q * M];
    host(W, w);
    double *Om = malloc(sizeof(double) * Q * D * D), *Sg = malloc(sizeof(double) * M * D * D);
    host(q.cov, Om), host(X.cov, Sg);
    double *Opair = malloc(sizeof(double) * Q * M * D * D), *Spair = malloc(sizeof(double) * Q * M * D * D);
    for (int a = 0; a < Q; a++)
        for (int i = 0; i < M; i++) {
            memcpy(Opair + (a * M + i) * D * D, Om + a * D * D, sizeof(double) * D * D);
            memcpy(Spair + (a * M + i) * D * D, Sg + i * D * D, sizeof(double) * D * D);
        }
    eg_tensor *A = bw_ot_map(t64(EG_DIMS(Q * M, D, D), Opair), t64(EG_DIMS(Q * M, D, D), Spair), 1e-12);
    /* Ā_q = Σ_i w_qi A_qi, Ω' = Ā Ω Ā */
    eg_tensor *Abar =
        eg_reshape(eg_matmul(eg_reshape(W, EG_DIMS(Q, 1, M)), eg_reshape(A, EG_DIMS(Q, M, D * D))), EG_DIMS(Q, D, D));
    eg_tensor *ref = eg_matmul(eg_matmul(Abar, q.cov), Abar);
    double dev = max_diff(n1.cov, ref);
    CHECK_MSG(dev < 1e-10, "pairwise Φ covariance vs rowwise OT maps: %g", dev);
    /* and the distances */
    bw_gauss qp = {eg_zeros(ctx, EG_F64, EG_DIMS(Q * M, D)), t64(EG_DIMS(Q * M, D, D), Opair), 1};
    bw_gauss xp = {eg_zeros(ctx, EG_F64, EG_DIMS(Q * M, D)), t64(EG_DIMS(Q * M, D, D), Spair), 1};
    eg_tensor *rows = bw_w2sq_rows(qp, xp, 1e-12);
    bw_gauss q0 = {eg_zeros(ctx, EG_F64, EG_DIMS(Q, D)), q.cov, 1},
             x0 = {eg_zeros(ctx, EG_F64, EG_DIMS(M, D)), X.cov, 1};
    CHECK(max_diff(eg_reshape(bw_w2sq(q0, x0, 1e-12), EG_DIMS(Q * M)), rows) < 1e-10);
    free(Om), free(Sg), free(Opair), free(Spair);
    eg_scope_close(sc);
}

/* pruning (the default for full covariances) changes nothing beyond rounding, also when it
 * drops most pairs (well separated memories, large beta) */
static void test_pruning(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(31, 7);
    enum { Q = 6, M = 40, D = 3 };
    bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(M, D), 0, 4), rand_spd(&rng, M, D), 1};
    bw_gauss q = bw_random(X, 1.0, 0.5, &rng, 1e-12);
    q.mean = eg_narrow(q.mean, 0, 0, Q), q.cov = eg_narrow(q.cov, 0, 0, Q);
    const double betas[3] = {0.05, 1.0, 20.0};
    for (int k = 0; k < 3; k++) {
        bw_dam a = cfg(betas[k], 1), b = a;
        b.no_prune = 1;
        a.steps = b.steps = 3;
        eg_tensor *Ea = NULL, *Eb = NULL, *Wa = NULL, *Wb = NULL;
        bw_gauss na = bw_step(&a, q, X, &Ea, &Wa), nb = bw_step(&b, q, X, &Eb, &Wb);
        CHECK_MSG(max_diff(na.mean, nb.mean) < 1e-12 && max_diff(na.cov, nb.cov) < 1e-11,
                  "beta %g: pruned step differs (%g, %g)", betas[k], max_diff(na.mean, nb.mean),
                  max_diff(na.cov, nb.cov));
        CHECK_MSG(max_diff(Ea, Eb) < 1e-10 && max_diff(Wa, Wb) < 1e-14, "beta %g: pruned energy/weights differ",
                  betas[k]);
        bw_gauss ra = bw_retrieve(&a, q, X, NULL, NULL, NULL), rb = bw_retrieve(&b, q, X, NULL, NULL, NULL);
        CHECK(max_diff(ra.cov, rb.cov) < 1e-10);
    }
    eg_scope_close(sc);
}

/* the full path on diagonal data equals the diagonal closed forms (retrieval over several steps) */
static void test_diag_vs_full(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(9, 2);
    bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(7, 4), 0, 1),
                  eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(7, 4), 0.3, 2.0), 0};
    bw_gauss q = bw_dilate(X, 0.8);
    q.mean = eg_narrow(q.mean, 0, 0, 5), q.cov = eg_narrow(q.cov, 0, 0, 5);
    bw_dam hd = cfg(2.0, 0), hf = cfg(2.0, 1);
    hd.steps = hf.steps = 4;
    bw_gauss a = bw_retrieve(&hd, q, X, NULL, NULL, NULL);
    bw_gauss b = bw_retrieve(&hf, q, X, NULL, NULL, NULL);
    CHECK(max_diff(a.mean, b.mean) < 1e-10);
    CHECK_MSG(max_diff(bw_gauss_to_full(a).cov, b.cov) < 1e-9, "diag vs full %g",
              max_diff(bw_gauss_to_full(a).cov, b.cov));
    CHECK(max_diff(bw_w2sq(q, X, 0), bw_w2sq(bw_gauss_to_full(q), bw_gauss_to_full(X), 1e-12)) < 1e-9);
    /* energies agree too */
    CHECK(max_diff(bw_energy(&hd, q, X), bw_energy(&hf, q, X)) < 1e-9);
    eg_scope_close(sc);
}

/* item 8: N = 1 retrieves X_1 in one step; β -> 0 gives the uniform barycenter */
static void test_single_and_barycenter(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(13, 3);
    bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(1, 3), 0, 1), rand_spd(&rng, 1, 3), 1};
    bw_gauss q = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(4, 3), 0, 2), rand_spd(&rng, 4, 3), 1};
    bw_dam h = cfg(3.0, 1);
    bw_gauss n = bw_step(&h, q, X, NULL, NULL);
    double r[4];
    host(bw_w2sq(n, X, 1e-12), r);
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(r[k], 0, 1e-10, 0);
    /* diag, β -> 0: m* = mean m_i, √Ω* = mean √Σ_i */
    double xm[6] = {0, 0, 2, 1, -1, 3}, xv[6] = {1, 4, 0.25, 1, 9, 1}, qm[2] = {5, 5}, qv[2] = {2, 2};
    bw_gauss Xd = diag1(xm, xv, 3, 2), qd = diag1(qm, qv, 1, 2);
    bw_dam hd = cfg(1e-12, 0);
    bw_gauss b = bw_step(&hd, qd, Xd, NULL, NULL);
    double bm[2], bv[2];
    host(b.mean, bm), host(b.cov, bv);
    CHECK_NEAR(bm[0], 1.0 / 3, 1e-9, 0);
    CHECK_NEAR(bm[1], 4.0 / 3, 1e-9, 0);
    CHECK_NEAR(sqrt(bv[0]), (1.0 + 0.5 + 3) / 3, 1e-9, 0);
    CHECK_NEAR(sqrt(bv[1]), (2.0 + 1 + 1) / 3, 1e-9, 0);
    /* the same fixed point through the full path (one step from anywhere at β -> 0) */
    bw_dam hf = cfg(1e-12, 1);
    bw_gauss bf = bw_step(&hf, bw_gauss_to_full(qd), bw_gauss_to_full(Xd), NULL, NULL);
    double bfv[4];
    host(bf.cov, bfv);
    CHECK_NEAR(bfv[0], bv[0], 1e-9, 0);
    CHECK_NEAR(bfv[3], bv[1], 1e-9, 0);
    eg_scope_close(sc);
}

/* item 9: d_min - ln N / β <= E <= d_min, finite at β·d = 1e4 */
static void test_energy_bounds(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(17, 4);
    enum { M = 6, Q = 5 };
    bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(M, 3), 0, 3), rand_spd(&rng, M, 3), 1};
    bw_gauss q = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(Q, 3), 0, 3), rand_spd(&rng, Q, 3), 1};
    double D[Q * M], E[Q];
    host(bw_w2sq(q, X, 1e-12), D);
    const double betas[4] = {0.01, 1, 100, 1e4};
    int bad = 0, nonfinite = 0;
    for (int k = 0; k < 4; k++)
        for (int full = 0; full <= 1; full++) {
            bw_dam h = cfg(betas[k], 1);
            bw_gauss qq = q, XX = X;
            if (!full) {
                h.full = 0, qq = bw_gauss_to_diag(q), XX = bw_gauss_to_diag(X);
                host(bw_w2sq(qq, XX, 0), D);
            } else
                host(bw_w2sq(q, X, 1e-12), D);
            host(bw_energy(&h, qq, XX), E);
            for (int a = 0; a < Q; a++) {
                double dmin = INFINITY;
                for (int i = 0; i < M; i++)
                    dmin = fmin(dmin, D[a * M + i]);
                nonfinite += !isfinite(E[a]);
                double slack = 1e-9 * (1 + dmin);
                if (E[a] > dmin + slack || E[a] < dmin - log((double)M) / betas[k] - slack) bad++;
            }
        }
    CHECK_MSG(bad == 0, "%d energies outside [d_min - ln N / beta, d_min]", bad);
    CHECK(nonfinite == 0);
    /* β·d = 1e4 exactly: one memory at W2² = 1, β = 1e4 */
    double xm[2] = {0, 0}, xv[2] = {1, 1}, qm[2] = {1, 0}, qv[2] = {1, 1}, e[1];
    bw_dam h = cfg(1e4, 0);
    host(bw_energy(&h, diag1(qm, qv, 1, 2), diag1(xm, xv, 1, 2)), e);
    CHECK(isfinite(e[0]));
    CHECK_NEAR(e[0], 1.0, 1e-12, 0);
    eg_tensor *W = NULL;
    bw_gauss n = bw_step(&h, diag1(qm, qv, 1, 2), diag1(xm, xv, 1, 2), NULL, &W);
    double m[2];
    host(n.mean, m);
    CHECK(isfinite(m[0]) && fabs(m[0]) < 1e-12);
    eg_scope_close(sc);
}

/* random queries sit at W2 = r exactly (diag and full), the mean carrying share·r² */
static void test_random_queries(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(21, 5);
    enum { N = 8, D = 4 };
    bw_gauss Xf = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(N, D), 0, 1), rand_spd(&rng, N, D), 1};
    bw_gauss Xd = {Xf.mean, eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(N, D), 0.5, 1.5), 0};
    const double radii[3] = {0.01414, 0.5, 3.162}, shares[3] = {0.5, 0.0, 1.0};
    double w[N], mm[N];
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 3; s++)
            for (int full = 0; full <= 1; full++) {
                bw_gauss X = full ? Xf : Xd;
                eg_rng qr = eg_rng_make(3, (uint64_t)(k * 10 + s));
                bw_gauss q = bw_random(X, radii[k], shares[s], &qr, 1e-12);
                host(bw_w2sq_rows(q, X, 1e-12), w);
                host(eg_sum(eg_square(eg_sub(q.mean, X.mean)), 1, 0), mm);
                double worst = 0, worst_m = 0;
                for (int i = 0; i < N; i++) {
                    worst = fmax(worst, fabs(sqrt(w[i]) - radii[k]));
                    worst_m = fmax(worst_m, fabs(mm[i] - shares[s] * radii[k] * radii[k]));
                }
                CHECK_MSG(worst < 1e-9 * (1 + radii[k] * 10), "random r=%g share=%g full=%d: |W2 - r| = %g", radii[k],
                          shares[s], full, worst);
                CHECK_MSG(worst_m < 1e-10, "random mean part off by %g", worst_m);
            }
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_scope_close(sc);
}

/* the hopfield plugin's mchn step (plugins/hopfield/hopfield_mchn_gmm.c), op for op:
 * S <- softmax(beta S X^T) X, and the energy of S before the step
 * E = -lse(beta S X^T) / beta + 1/2 |s|^2 + ln(M) / beta + 1/2 max_i |x_i|^2 */
static eg_tensor *mchn_step(eg_tensor *S, eg_tensor *X, double beta, eg_tensor **energy) {
    eg_tensor *xsq = eg_reshape(eg_sumsq(X, 1, 0), EG_DIMS(1, eg_dim(X, 0)));
    eg_tensor *L = eg_gemm(S, X, 0, 1, beta);
    eg_tensor *e = eg_add(eg_scale(eg_logsumexp(L, 1, 0), -1.0 / beta), eg_scale(eg_sumsq(S, 1, 0), 0.5));
    e = eg_add_scalar(e, log((double)eg_dim(L, 1)) / beta);
    *energy = eg_add(e, eg_scale(eg_max(eg_reshape(xsq, EG_DIMS(eg_dim(L, 1))), 0, 0), 0.5));
    return eg_matmul(eg_softmax(L, 1), X);
}

/* eu-dam's step is the mchn step on (m, vec Σ^½) */
static void test_eu_vs_mchn(void) {
    eg_scope *sc = eg_scope_open(ctx);
    eg_rng rng = eg_rng_make(23, 6);
    for (int full = 0; full <= 1; full++) {
        bw_gauss X = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(9, 3), 0, 1),
                      full ? rand_spd(&rng, 9, 3) : eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(9, 3), 0.5, 2), full};
        bw_gauss q = bw_dilate(X, 0.7);
        eg_tensor *V = bw_eu_embed(q, 1e-12), *E = bw_eu_embed(X, 1e-12);
        for (int k = 0; k < 3; k++) {
            double beta = k == 0 ? 0.1 : k == 1 ? 1.0 : 5.0;
            bw_dam h = cfg(beta, full);
            h.variant = BW_EU;
            eg_tensor *ea = NULL, *eb = NULL;
            eg_tensor *a = bw_eu_step(&h, V, E, &ea);
            eg_tensor *b = mchn_step(V, E, beta, &eb);
            CHECK_MSG(max_diff(a, b) < 1e-12, "eu-dam vs mchn step (beta %g, full %d)", beta, full);
            CHECK_MSG(max_diff(ea, eb) < 1e-10, "eu-dam vs mchn energy (beta %g, full %d)", beta, full);
        }
    }
    eg_scope_close(sc);
}

/* row layout round trip */
static void test_layout(void) {
    eg_scope *sc = eg_scope_open(ctx);
    double rows[2 * 6] = {1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23}, back[12];
    eg_tensor *R = t64(EG_DIMS(2, 6), rows);
    bw_gauss g = bw_gauss_from_rows(R, 2, 1);
    double c[8];
    host(g.cov, c);
    CHECK(c[1] == 11 && c[6] == 22);
    host(bw_gauss_to_rows(g), back);
    CHECK(memcmp(back, rows, sizeof rows) == 0);
    bw_gauss gd = bw_gauss_to_diag(g);
    host(gd.cov, c);
    CHECK(c[0] == 10 && c[1] == 13 && c[2] == 20 && c[3] == 23);
    eg_scope_close(sc);
}

static void test_descriptor(void) {
    const eg_model_desc *d = eg_model_entry();
    CHECK(d && d->abi_major == EG_MODEL_ABI_MAJOR && strcmp(d->name, "bwdam") == 0);
    const char *want[6] = {"variant", "beta", "steps", "tol", "cov", "eig_floor"};
    CHECK(d->n_params >= 6);
    for (int i = 0; i < 6 && i < d->n_params; i++)
        CHECK(strcmp(d->params[i].key, want[i]) == 0);
    CHECK_STR_CONTAINS(d->params[0].choices, "bw|eu-dam|pixel-dam");
    CHECK_STR_CONTAINS(d->params[4].choices, "full|diag");
    CHECK(d->n_tasks == 1 && strcmp(d->tasks[0], "retrieve") == 0 && d->n_task_params == 3);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_descriptor();
    test_layout();
    test_w2();
    test_ot_map();
    test_dilate();
    test_step_noncommuting();
    test_step_commuting();
    test_step_pairs();
    test_pruning();
    test_diag_vs_full();
    test_single_and_barycenter();
    test_energy_bounds();
    test_random_queries();
    test_eu_vs_mchn();
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
