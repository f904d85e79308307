/* test_nem_oracles.c — the nem plugin's equations against the known answers of
 * the N-EM notes §1.13: the Bernoulli E-step, the loss terms of eq. (5), the
 * N-EM generalised M-step equal to the autograd gradient of Q, the RNN-EM
 * update against a host computation, the initial state and the input noise.
 * The plugin's code is linked into this test; it runs on the CPU backend. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plugins/nem/nem.h"
#include "registry/loader.h"

static eg_ctx *ctx;

/* a model shell for the pure functions (estep, loss): geometry and cfg only */
static nem_model shell(int k, int C, int H, int W, int gaussian, double inter) {
    nem_model m;
    memset(&m, 0, sizeof m);
    m.cfg.k = k, m.cfg.gaussian = gaussian, m.cfg.e_sigma = 0.25, m.cfg.inter_weight = inter;
    m.ctx = ctx, m.C = C, m.H = H, m.W = W, m.P = (int64_t)H * W, m.D = (int64_t)C * H * W;
    return m;
}

static eg_tensor *t64(int ndim, const int64_t *shape, const double *v) {
    return eg_from_host(ctx, EG_F64, ndim, shape, v);
}

static void test_estep(void) {
    eg_scope *s = eg_scope_open(ctx);
    nem_model m = shell(2, 1, 1, 1, 0, 1.0);
    double psi[2] = {0.9, 0.1}, g[2];
    for (int y = 0; y <= 1; y++) {
        double yv = y;
        eg_tensor *gam = nem_estep(&m, t64(EG_DIMS(1, 2, 1, 1), psi), t64(EG_DIMS(1, 1), &yv));
        CHECK(eg_to_host_f64(gam, g) == EG_OK);
        /* y = 1: (0.900001, 0.100001) / 1.000002; y = 0 swaps */
        CHECK_NEAR(g[y ? 0 : 1], 0.900001 / 1.000002, 1e-9, 0);
        CHECK_NEAR(g[y ? 1 : 0], 0.100001 / 1.000002, 1e-9, 0);
    }
    /* single precision as the training runs it */
    eg_tensor *gam = nem_estep(&m, eg_cast(t64(EG_DIMS(1, 2, 1, 1), psi), EG_F32),
                               eg_cast(t64(EG_DIMS(1, 1), (double[]){1}), EG_F32));
    CHECK(eg_to_host_f64(gam, g) == EG_OK);
    CHECK_NEAR(g[0], 0.8999992, 1e-6, 0);
    /* Gaussian: gamma proportional to N(y; psi, 0.25^2) + 1e-6, summed over channels */
    nem_model mg = shell(2, 2, 1, 1, 1, 1.0);
    double pg[4] = {0.2, 0.5, 0.6, 0.1}, yg[2] = {0.3, 0.4}; /* [1, K=2, C=2, P=1] */
    gam = nem_estep(&mg, t64(EG_DIMS(1, 2, 2, 1), pg), t64(EG_DIMS(1, 2), yg));
    CHECK(eg_to_host_f64(gam, g) == EG_OK);
    double nrm = 1 / sqrt(2 * M_PI * 0.0625), q[2];
    for (int k = 0; k < 2; k++)
        q[k] = nrm * (exp(-pow(yg[0] - pg[2 * k], 2) / 0.125) + exp(-pow(yg[1] - pg[2 * k + 1], 2) / 0.125)) + 1e-6;
    CHECK_NEAR(g[0], q[0] / (q[0] + q[1]), 1e-12, 0);
    CHECK_NEAR(g[1], q[1] / (q[0] + q[1]), 1e-12, 0);
    eg_scope_close(s);
}

static void test_loss(void) {
    eg_scope *s = eg_scope_open(ctx);
    /* K = 1: gamma = 1, the loss is the total BCE and the inter term vanishes */
    nem_model m1 = shell(1, 1, 1, 2, 0, 1.0);
    double psi[2] = {0.8, 0.3}, y[2] = {1, 0}, one[2] = {1, 1}, zero[2] = {0, 0};
    double L =
        eg_item(nem_loss(&m1, t64(EG_DIMS(1, 1, 1, 2), psi), t64(EG_DIMS(1, 1, 1, 2), one), t64(EG_DIMS(1, 2), y)));
    CHECK_NEAR(L, -log(0.8) - log(0.7), 1e-12, 0);
    /* inter-cluster Bernoulli term at psi = 0.5: ln 2 per value, times inter_weight */
    nem_model mi = shell(1, 1, 1, 1, 0, 0.5);
    double half = 0.5;
    L = eg_item(
        nem_loss(&mi, t64(EG_DIMS(1, 1, 1, 1), &half), t64(EG_DIMS(1, 1, 1, 1), zero), t64(EG_DIMS(1, 1), zero)));
    CHECK_NEAR(L, 0.5 * 0.693147180559945, 1e-12, 0);
    /* Gaussian inter term at psi = 0.3: 0.045; intra (psi - y)^2 / 2 */
    nem_model mg = shell(1, 1, 1, 1, 1, 1.0);
    double p3 = 0.3, y9 = 0.9, gh = 0.25;
    L = eg_item(nem_loss(&mg, t64(EG_DIMS(1, 1, 1, 1), &p3), t64(EG_DIMS(1, 1, 1, 1), zero), t64(EG_DIMS(1, 1), &y9)));
    CHECK_NEAR(L, 0.045, 1e-12, 0);
    L = eg_item(nem_loss(&mg, t64(EG_DIMS(1, 1, 1, 1), &p3), t64(EG_DIMS(1, 1, 1, 1), &gh), t64(EG_DIMS(1, 1), &y9)));
    CHECK_NEAR(L, 0.25 * 0.18 + 0.75 * 0.045, 1e-12, 0);
    /* divided by B, summed over k: B = 2 samples, K = 2, clipping of psi at 1 - 1e-6 */
    nem_model m2 = shell(2, 1, 1, 1, 0, 1.0);
    double p4[4] = {1.0, 0.2, 0.6, 0.0}, g4[4] = {0.7, 0.3, 0.4, 0.6}, y2[2] = {0, 1};
    L = eg_item(nem_loss(&m2, t64(EG_DIMS(2, 2, 1, 1), p4), t64(EG_DIMS(2, 2, 1, 1), g4), t64(EG_DIMS(2, 1), y2)));
    double e = 1e-6;
    double want = 0.7 * -log(e) + 0.3 * -log(e) + 0.3 * -log(0.8) + 0.7 * -log(0.8)      /* sample 0, y = 0 */
                  + 0.4 * -log(0.6) + 0.6 * -log(0.4) + 0.6 * -log(e) + 0.4 * -log(1.0); /* sample 1, y = 1 */
    CHECK_NEAR(L, want / 2, 1e-9, 1e-9);
    /* the binary-target path (ln of the clipped E-step probability) gives the same value */
    m2.binary_targets = 1;
    double Lb =
        eg_item(nem_loss(&m2, t64(EG_DIMS(2, 2, 1, 1), p4), t64(EG_DIMS(2, 2, 1, 1), g4), t64(EG_DIMS(2, 1), y2)));
    CHECK_NEAR(Lb, want / 2, 1e-9, 1e-9);
    m1.binary_targets = 1;
    L = eg_item(nem_loss(&m1, t64(EG_DIMS(1, 1, 1, 2), psi), t64(EG_DIMS(1, 1, 1, 2), one), t64(EG_DIMS(1, 2), y)));
    CHECK_NEAR(L, -log(0.8) - log(0.7), 1e-12, 0);
    /* BCE upper bound: max_k psi */
    double bu = eg_item(nem_bce_upper(&m2, t64(EG_DIMS(2, 2, 1, 1), p4), t64(EG_DIMS(2, 1), y2)));
    CHECK_NEAR(bu, (-log(e) - log(0.6)) / 2, 1e-9, 1e-9);
    eg_scope_close(s);
}

/* N-EM: (theta' - theta) / eta equals dQ/dtheta, Q = sum gamma log Bern(x | sigmoid(W sigmoid(theta))) */
static void test_nem_gradient(void) {
    nem_cfg c = {0};
    c.variant = NEM_NEM, c.k = 2, c.steps = 1, c.hidden = 5, c.eta0 = 0.37;
    nem_model m;
    eg_rng rng = eg_rng_named(5, "nem-oracle");
    CHECK(nem_init(&m, ctx, &c, 1, 3, 3, EG_F64, &rng) == EG_OK);
    eg_scope *s = eg_scope_open(ctx);
    int64_t N = 4, D = 9;
    eg_tensor *theta = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(N, 5), 0, 1);
    eg_tensor *x = eg_rand_bernoulli(ctx, &rng, EG_F64, EG_DIMS(N, D), 0.4);
    eg_tensor *gam = eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(N, D), 0, 1);
    /* the update with psi recomputed from theta */
    eg_tensor *psi = nem_decode(&m, theta), *theta1 = NULL, *psi1 = NULL;
    nem_mstep(&m, theta, eg_mul(gam, eg_sub(x, psi)), &theta1, &psi1);
    double up[20], gr[20], ps1[36], dec1[36];
    CHECK(eg_to_host_f64(eg_scale(eg_sub(theta1, theta), 1 / 0.37), up) == EG_OK);
    CHECK(eg_to_host_f64(psi1, ps1) == EG_OK);
    CHECK(eg_to_host_f64(nem_decode(&m, theta1), dec1) == EG_OK);
    /* autograd of Q */
    eg_tensor *th = eg_clone(theta);
    eg_requires_grad(th, 1);
    eg_tensor *pq = nem_decode(&m, th);
    eg_tensor *q =
        eg_sum_all(eg_mul(gam, eg_add(eg_mul(x, eg_ln(pq)), eg_mul(eg_affine(x, -1, 1), eg_ln(eg_affine(pq, -1, 1))))));
    CHECK(eg_backward(q) == EG_OK);
    CHECK(eg_grad(th) != NULL && eg_to_host_f64(eg_grad(th), gr) == EG_OK);
    int bad = 0;
    for (int i = 0; i < 20; i++)
        bad += !(fabs(up[i] - gr[i]) <= 1e-10 + 1e-9 * fabs(gr[i]));
    CHECK_MSG(bad == 0, "%d of 20 N-EM update elements differ from dQ/dtheta (e.g. %g vs %g)", bad, up[0], gr[0]);
    /* the M-step's psi is the decoder of the new theta */
    bad = 0;
    for (int i = 0; i < 36; i++)
        bad += !(fabs(ps1[i] - dec1[i]) <= 1e-12);
    CHECK(bad == 0);
    eg_scope_close(s);
    nem_free(&m);
}

static double sig(double a) {
    return 1 / (1 + exp(-a));
}

/* RNN-EM: theta' = sigmoid(W_x r + W_h theta + b), psi = sigmoid(W_o theta' + b_o), against host loops */
static void test_rnn_update(void) {
    nem_cfg c = {0};
    c.variant = NEM_RNN, c.k = 1, c.steps = 1, c.hidden = 3;
    nem_model m;
    eg_rng rng = eg_rng_named(6, "rnn-oracle");
    CHECK(nem_init(&m, ctx, &c, 1, 2, 2, EG_F64, &rng) == EG_OK);
    eg_init_uniform(m.b_h, &rng, -0.5, 0.5);
    eg_init_uniform(m.out.bias, &rng, -0.5, 0.5);
    eg_scope *s = eg_scope_open(ctx);
    double th[6] = {0.1, 0.5, 0.9, 0.3, 0.2, 0.7}, r[8] = {0.5, -0.3, 0.0, 1.0, -0.8, 0.2, 0.4, 0.1};
    double wx[12], wh[9], b[3], wo[12], bo[4], th1[6], ps1[8];
    eg_to_host_f64(m.w_x, wx), eg_to_host_f64(m.w_h, wh), eg_to_host_f64(m.b_h, b);
    eg_to_host_f64(m.out.weight, wo), eg_to_host_f64(m.out.bias, bo);
    eg_tensor *t1 = NULL, *p1 = NULL;
    nem_mstep(&m, t64(EG_DIMS(2, 3), th), t64(EG_DIMS(2, 4), r), &t1, &p1);
    CHECK(eg_to_host_f64(t1, th1) == EG_OK && eg_to_host_f64(p1, ps1) == EG_OK);
    for (int n = 0; n < 2; n++) {
        double h[3];
        for (int j = 0; j < 3; j++) {
            double a = b[j];
            for (int i = 0; i < 4; i++)
                a += wx[j * 4 + i] * r[n * 4 + i];
            for (int i = 0; i < 3; i++)
                a += wh[j * 3 + i] * th[n * 3 + i];
            h[j] = sig(a);
            CHECK_NEAR(th1[n * 3 + j], h[j], 1e-12, 0);
        }
        for (int d = 0; d < 4; d++) {
            double a = bo[d];
            for (int j = 0; j < 3; j++)
                a += wo[d * 3 + j] * h[j];
            CHECK_NEAR(ps1[n * 4 + d], sig(a), 1e-12, 0);
        }
    }
    eg_scope_close(s);
    nem_free(&m);
}

static void test_init_state_and_noise(void) {
    nem_model m = shell(3, 1, 10, 10, 0, 1.0);
    m.cfg.hidden = 7;
    eg_rng rng = eg_rng_named(1, "gamma");
    eg_scope *s = eg_scope_open(ctx);
    nem_state st = nem_init_state(&m, 4, EG_F64, &rng);
    CHECK(eg_ndim(st.gamma) == 4 && eg_dim(st.gamma, 0) == 4 && eg_dim(st.gamma, 1) == 3 && eg_dim(st.gamma, 3) == 100);
    CHECK(eg_dim(st.theta, 0) == 12 && eg_dim(st.theta, 1) == 7 && eg_dim(st.psi, 1) == 3);
    double g[1200], mn = 1, mx = 0, worst = 0;
    CHECK(eg_to_host_f64(st.gamma, g) == EG_OK);
    for (int b = 0; b < 4; b++)
        for (int p = 0; p < 100; p++) {
            double sum = 0;
            for (int k = 0; k < 3; k++) {
                double v = g[(b * 3 + k) * 100 + p];
                sum += v, mn = fmin(mn, v), mx = fmax(mx, v);
            }
            worst = fmax(worst, fabs(sum - 1));
        }
    CHECK(worst < 1e-12 && mn > 0 && mx < 1);
    CHECK(mx - mn > 0.5); /* random, not uniform */
    CHECK_NEAR(eg_item(eg_sum_all(eg_abs(st.psi))) + eg_item(eg_sum_all(eg_abs(st.theta))), 0, 0, 0);
    nem_model m1 = shell(1, 1, 3, 3, 0, 1.0);
    m1.cfg.hidden = 2;
    CHECK_NEAR(eg_item(eg_mean_all(nem_init_state(&m1, 2, EG_F64, &rng).gamma)), 1.0, 0, 0);

    /* bitflip changes a fraction p; masked-uniform replaces a fraction p with U(0, 1) */
    int64_t n = 200000;
    eg_tensor *x = eg_rand_bernoulli(ctx, &rng, EG_F64, EG_DIMS(1, n), 0.3);
    m.cfg.noise = NEM_NOISE_BITFLIP, m.cfg.noise_p = 0.2;
    eg_tensor *xb = nem_noise(&m, x, &rng);
    double changed = eg_item(eg_mean_all(eg_abs(eg_sub(xb, x))));
    CHECK_NEAR(changed, 0.2, 0.004, 0);
    CHECK_NEAR(eg_item(eg_mean_all(eg_mul(xb, eg_affine(xb, -1, 1)))), 0, 0, 0); /* still binary */
    m.cfg.noise = NEM_NOISE_MASKED_UNIFORM, m.cfg.noise_p = 0.25;
    eg_tensor *z = eg_full(ctx, EG_F64, EG_DIMS(1, n), -1.0); /* -1 marks untouched values */
    eg_tensor *zm = nem_noise(&m, z, &rng);
    eg_tensor *hit = eg_step(zm, -0.5);
    double frac = eg_item(eg_mean_all(hit));
    CHECK_NEAR(frac, 0.25, 0.004, 0);
    CHECK_NEAR(eg_item(eg_sum_all(eg_mul(hit, zm))) / (frac * (double)n), 0.5, 0.005, 0);
    m.cfg.noise = NEM_NOISE_NONE;
    CHECK(nem_noise(&m, x, &rng) == x);
    eg_scope_close(s);
}

int main(void) {
    char err[512];
    eg_backend *be = NULL;
    if (eg_backend_open_start("cpu", 1, &be, err, sizeof err) != EG_OK || eg_ctx_create(be, &ctx) != EG_OK) {
        fprintf(stderr, "cpu backend: %s\n", err);
        CHECK(0);
        return eg_test_finish();
    }
    test_estep();
    test_loss();
    test_nem_gradient();
    test_rnn_update();
    test_init_state_and_noise();
    if (eg_ctx_status(ctx) != EG_OK) fprintf(stderr, "context: %s\n", eg_ctx_message(ctx));
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
