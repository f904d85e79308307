/* test_vmfdam_grad.c — gradients of the vmfdam losses and the optimiser step.
 *   1. d loss/d{w, g, beta} from autograd against central finite differences,
 *      for the supervised (eq. 4/12) and unsupervised (eq. 15) losses, with the
 *      exact and the Debye log-normalizer, in double precision.
 *   2. The splitting objective: d loss/d u (forward value 0) against the closed
 *      form mean_x (dL/dh_mu) [2 be^2 r (x - m w) + 2 be m (w.u) w], r = x.u - m (w.u);
 *      its tangent part vanishes at u = w (S_mu w_mu = 0).
 *   3. One SMD step against a host re-implementation of the update rules
 *      (doubled lr, tangent projection, exponentiated g step, row-max rescale,
 *      Sinkhorn).
 *   4. Full-batch SMD on a small clustered problem drives the eq. (6)
 *      stationarity residuals towards 0 and beta to A_N(beta) = ς <m>_R. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h"
#include "vmfdam.h"

static eg_ctx *ctx;

enum { N = 5, P = 3, C = 3, K = C + 1, B = 4 };
static double X[B * N];
static int32_t Y[B] = {0, 2, 1, 2};

static void host(eg_tensor *t, double *out) {
    CHECK(eg_to_host_f64(t, out) == EG_OK);
}

static void setup(vmf_model *m, int debye, int unsup, uint64_t seed) {
    memset(m, 0, sizeof *m);
    const double pq[K] = {0.3, 0.25, 0.35, 0.1};
    m->cfg.varsigma = 0.7, m->cfg.debye = debye, m->cfg.unsupervised = unsup, m->cfg.epsilon = 0.05,
    m->cfg.softening = 0.1;
    m->cfg.beta_trainable = 1, m->hidden_max = P, m->cfg.lr = 0.1, m->cfg.momentum = 0.9, m->cfg.sinkhorn_iters = 10;
    CHECK(vmf_alloc(m, ctx, EG_F64, N, C, P, pq) == EG_OK);
    eg_rng r = eg_rng_make(seed, 9);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *w = eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P, N), 0, 1);
    eg_assign(m->par.w, eg_mul(w, eg_rsqrt(eg_sum(eg_square(w), 1, 1))));
    eg_assign(m->par.g, eg_rand_uniform(ctx, &r, EG_F64, EG_DIMS(P + 1, K), 0.2, 1.0));
    eg_tensor *u = eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P, N), 0, 1);
    eg_assign(m->split.u, eg_mul(u, eg_rsqrt(eg_sum(eg_square(u), 1, 1))));
    eg_tensor *x = eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(B, N), 0, 1);
    host(eg_mul(x, eg_rsqrt(eg_sum(eg_square(x), 1, 1))), X);
    eg_scope_close(s);
    eg_fill(m->par.beta, 4.0);
    for (int i = 0; i < P; i++)
        m->par.G[i] = 1.0;
    m->par.G[P] = 0.6;
    CHECK(vmf_sync_targets(m) == EG_OK);
}

static double loss_value(vmf_model *m) {
    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x = eg_from_host(ctx, EG_F64, EG_DIMS(B, N), X);
    eg_tensor *out = vmf_forward_ex(m, x, NULL, NULL);
    double v = eg_item(vmf_loss(m, out, vmf_targets(ctx, EG_F64, Y, B, C, m->cfg.softening)));
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    return v;
}

/* central differences of every element of t against the autograd gradient ga */
static void fd_check(vmf_model *m, eg_tensor *t, const double *ga, const char *what) {
    int64_t n = eg_numel(t);
    double *v = malloc((size_t)n * sizeof *v), worst = 0;
    host(t, v);
    for (int64_t i = 0; i < n; i++) {
        double h = 1e-6, keep = v[i];
        v[i] = keep + h;
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(t, eg_from_host(ctx, EG_F64, eg_ndim(t), eg_shape(t), v));
        double lp = loss_value(m);
        v[i] = keep - h;
        eg_assign(t, eg_from_host(ctx, EG_F64, eg_ndim(t), eg_shape(t), v));
        double lm = loss_value(m);
        v[i] = keep;
        eg_assign(t, eg_from_host(ctx, EG_F64, eg_ndim(t), eg_shape(t), v));
        eg_scope_close(s);
        double fd = (lp - lm) / (2 * h), err = fabs(fd - ga[i]) / (1e-6 + fabs(fd));
        worst = fmax(worst, err);
        CHECK_MSG(err < 1e-6, "%s[%lld]: autograd %.12g, finite difference %.12g", what, (long long)i, ga[i], fd);
    }
    printf("%-28s worst relative gradient error %.2e\n", what, worst);
    free(v);
}

static void test_loss_gradients(int debye, int unsup, int fixed_beta) {
    vmf_model m;
    setup(&m, debye, unsup, 11 + (uint64_t)(2 * debye + unsup + 4 * fixed_beta));
    if (fixed_beta) eg_requires_grad(m.par.beta, 0); /* the forward's one-pass path for a fixed beta */
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *out = vmf_forward_ex(&m, eg_from_host(ctx, EG_F64, EG_DIMS(B, N), X), NULL, NULL);
    CHECK(eg_backward(vmf_loss(&m, out, vmf_targets(ctx, EG_F64, Y, B, C, m.cfg.softening))) == EG_OK);
    double gw[P * N], gg[(P + 1) * K], gb[1] = {0};
    host(eg_grad(m.par.w), gw);
    host(eg_grad(m.par.g), gg);
    if (!fixed_beta)
        host(eg_grad(m.par.beta), gb);
    else
        CHECK(eg_grad(m.par.beta) == NULL);
    eg_scope_close(s);
    eg_zero_grad(m.par.w), eg_zero_grad(m.par.g), eg_zero_grad(m.par.beta);
    char name[64];
    const char *bt = fixed_beta ? " fixed-beta" : "";
    snprintf(name, sizeof name, "%s %s%s dL/dw", unsup ? "unsup" : "sup", debye ? "debye" : "exact", bt);
    fd_check(&m, m.par.w, gw, name);
    snprintf(name, sizeof name, "%s %s%s dL/dg", unsup ? "unsup" : "sup", debye ? "debye" : "exact", bt);
    fd_check(&m, m.par.g, gg, name);
    if (!fixed_beta) {
        snprintf(name, sizeof name, "%s %s dL/dbeta", unsup ? "unsup" : "sup", debye ? "debye" : "exact");
        fd_check(&m, m.par.beta, gb, name);
    }
    vmf_release(&m);
}

/* the splitting gradient against its closed form */
static void test_split_gradient(void) {
    vmf_model m;
    setup(&m, 0, 0, 5);
    eg_requires_grad(m.par.w, 0), eg_requires_grad(m.par.g, 0), eg_requires_grad(m.par.beta, 0);
    eg_requires_grad(m.split.u, 1);
    double be = m.cfg.varsigma * 4.0;
    for (int at_w = 0; at_w < 2; at_w++) {
        if (at_w) eg_assign(m.split.u, m.par.w);
        eg_scope *s = eg_scope_open(ctx);
        vmf_parts parts, p0;
        eg_tensor *x = eg_from_host(ctx, EG_F64, EG_DIMS(B, N), X);
        eg_tensor *T = vmf_targets(ctx, EG_F64, Y, B, C, m.cfg.softening);
        eg_tensor *out = vmf_forward_ex(&m, x, m.split.u, &parts);
        eg_tensor *out0 = vmf_forward_ex(&m, x, NULL, &p0);
        double o[B * K], o0[B * K];
        host(out, o), host(out0, o0);
        for (int i = 0; i < B * K; i++)
            CHECK(o[i] == o0[i]); /* the split term's forward value is 0 */
        CHECK(eg_backward(vmf_loss(&m, out, T)) == EG_OK);
        double gu[P * N], R[B * P], M[B * P], w[P * N], u[P * N];
        host(eg_grad(m.split.u), gu);
        host(eg_mul(parts.e, eg_matmul_nt(eg_div(T, parts.s), eg_narrow(m.par.g, 0, 0, P))), R);
        host(parts.m, M), host(m.par.w, w), host(m.split.u, u);
        double worst = 0, tangent = 0;
        for (int mu = 0; mu < P; mu++) {
            double b = 0, want[N] = {0}, dot = 0;
            for (int i = 0; i < N; i++)
                b += w[mu * N + i] * u[mu * N + i];
            for (int xi = 0; xi < B; xi++) {
                double mm = M[xi * P + mu], a = 0, D = -R[xi * P + mu] / B;
                for (int i = 0; i < N; i++)
                    a += X[xi * N + i] * u[mu * N + i];
                double r = a - mm * b;
                for (int i = 0; i < N; i++)
                    want[i] +=
                        D * (2 * be * be * r * (X[xi * N + i] - mm * w[mu * N + i]) + 2 * be * mm * b * w[mu * N + i]);
            }
            for (int i = 0; i < N; i++) {
                worst = fmax(worst, fabs(gu[mu * N + i] - want[i]));
                dot += u[mu * N + i] * gu[mu * N + i];
            }
            for (int i = 0; i < N; i++)
                tangent = fmax(tangent, fabs(gu[mu * N + i] - dot * u[mu * N + i]));
        }
        CHECK_MSG(worst < 1e-12, "split gradient off by %g (u %s)", worst, at_w ? "= w" : "random");
        if (at_w) CHECK_MSG(tangent < 1e-12, "tangent split gradient at u = w is %g, expected 0", tangent);
        eg_scope_close(s);
        eg_zero_grad(m.split.u);
    }
    vmf_release(&m);
}

/* one SMD step against the rules written out on the host */
static void test_smd_step(void) {
    vmf_model m;
    setup(&m, 0, 0, 7);
    double lr = m.cfg.lr, mu = m.cfg.momentum;
    /* nonzero velocities so the momentum terms matter */
    eg_rng r = eg_rng_make(1, 2);
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(m.opt.vw, eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P, N), 0, 0.1));
    eg_assign(m.opt.vg, eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P + 1, K), 0, 0.1));
    eg_fill(m.opt.vbeta, 0.05);
    eg_tensor *out = vmf_forward_ex(&m, eg_from_host(ctx, EG_F64, EG_DIMS(B, N), X), NULL, NULL);
    CHECK(eg_backward(vmf_loss(&m, out, vmf_targets(ctx, EG_F64, Y, B, C, m.cfg.softening))) == EG_OK);
    double w[P * N], vw[P * N], gw[P * N], g[(P + 1) * K], vg[(P + 1) * K], gg[(P + 1) * K], b, vb, gb;
    host(m.par.w, w), host(m.opt.vw, vw), host(eg_grad(m.par.w), gw);
    host(m.par.g, g), host(m.opt.vg, vg), host(eg_grad(m.par.g), gg);
    b = eg_item(m.par.beta), vb = eg_item(m.opt.vbeta), gb = eg_item(eg_grad(m.par.beta));
    eg_scope_close(s);
    CHECK(vmf_smd_step(&m) == EG_OK);
    /* w */
    for (int k = 0; k < P; k++) {
        double dot = 0, n2 = 0, nw[N];
        for (int i = 0; i < N; i++)
            dot += w[k * N + i] * gw[k * N + i];
        for (int i = 0; i < N; i++) {
            vw[k * N + i] = mu * vw[k * N + i] - lr * (gw[k * N + i] - dot * w[k * N + i]);
            nw[i] = w[k * N + i] + lr * vw[k * N + i], n2 += nw[i] * nw[i];
        }
        for (int i = 0; i < N; i++)
            w[k * N + i] = nw[i] / sqrt(n2);
    }
    /* g: projected gradient, exponentiated step, row-max rescale */
    for (int k = 0; k <= P; k++) {
        double dot = 0, mx = -INFINITY, lg[K];
        for (int y = 0; y < K; y++)
            dot += g[k * K + y] * gg[k * K + y];
        for (int y = 0; y < K; y++) {
            vg[k * K + y] = mu * vg[k * K + y] - lr * (gg[k * K + y] - dot / m.par.G[k]);
            lg[y] = log(g[k * K + y]) + lr * vg[k * K + y];
            mx = fmax(mx, lg[y]);
        }
        for (int y = 0; y < K; y++)
            g[k * K + y] = exp(lg[y] - mx);
    }
    vb = mu * vb - lr * gb, b += lr * vb;
    double w1[P * N], vw1[P * N], g1[(P + 1) * K], vg1[(P + 1) * K];
    host(m.par.w, w1), host(m.opt.vw, vw1), host(m.par.g, g1), host(m.opt.vg, vg1);
    for (int i = 0; i < P * N; i++) {
        CHECK_NEAR(w1[i], w[i], 1e-13, 0);
        CHECK_NEAR(vw1[i], vw[i], 1e-13, 0);
    }
    for (int i = 0; i < (P + 1) * K; i++)
        CHECK_NEAR(vg1[i], vg[i], 1e-13, 0);
    CHECK_NEAR(eg_item(m.par.beta), b, 1e-13, 0);
    CHECK_NEAR(eg_item(m.opt.vbeta), vb, 1e-13, 0);
    /* Sinkhorn of the host g with the same passes */
    s = eg_scope_open(ctx);
    eg_tensor *gt = eg_persistent(ctx, EG_F64, EG_DIMS(P + 1, K));
    eg_assign(gt, eg_from_host(ctx, EG_F64, EG_DIMS(P + 1, K), g));
    CHECK(vmf_sinkhorn(gt, m.par.rows, m.par.cols, 10) == m.opt.last_sinkhorn_passes);
    host(gt, g);
    for (int i = 0; i < (P + 1) * K; i++)
        CHECK_NEAR(g1[i], g[i], 1e-13, 0);
    eg_tensor_free(gt);
    eg_scope_close(s);
    CHECK(eg_grad(m.par.w) == NULL || eg_item(eg_sum_all(eg_square(eg_grad(m.par.w)))) == 0);
    vmf_release(&m);
}

/* full-batch SMD on 3 labelled clusters: the residuals of eq. (6) fall */
static void test_stationarity(void) {
    enum { NS = 8, PS = 4, CS = 3, BS = 60 };
    vmf_model m;
    memset(&m, 0, sizeof m);
    double counts[CS] = {20, 20, 20}, pq[CS + 1];
    for (int y = 0; y <= CS; y++)
        pq[y] = (y < CS ? 0.9 * counts[y] / 60 : 0) + 0.1 / (CS + 1);
    m.cfg.varsigma = 0.5, m.cfg.softening = 0.1, m.cfg.beta_trainable = 1, m.hidden_max = PS;
    m.cfg.lr = 0.1, m.cfg.momentum = 0.9, m.cfg.sinkhorn_iters = 50;
    CHECK(vmf_alloc(&m, ctx, EG_F64, NS, CS, PS, pq) == EG_OK);
    double x[BS * NS];
    int32_t y[BS];
    eg_rng r = eg_rng_make(21, 3);
    eg_scope *s = eg_scope_open(ctx);
    double noise[BS * NS], w0[PS * NS];
    host(eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(BS, NS), 0, 0.3), noise);
    host(eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(PS, NS), 0, 1), w0);
    eg_scope_close(s);
    for (int i = 0; i < BS; i++) {
        y[i] = i % CS;
        double n2 = 0;
        for (int j = 0; j < NS; j++) {
            x[i * NS + j] = (j == 2 * y[i] ? 1.0 : 0.0) + noise[i * NS + j];
            n2 += x[i * NS + j] * x[i * NS + j];
        }
        for (int j = 0; j < NS; j++)
            x[i * NS + j] /= sqrt(n2);
    }
    double g0[(PS + 1) * (CS + 1)];
    for (int k = 0; k <= PS; k++)
        for (int c = 0; c <= CS; c++)
            g0[k * (CS + 1) + c] = (k < PS ? 1.0 : 1.0 / (PS + 1)) * pq[c];
    for (int k = 0; k < PS; k++)
        m.par.G[k] = 1;
    m.par.G[PS] = 1;
    s = eg_scope_open(ctx);
    eg_tensor *W0 = eg_from_host(ctx, EG_F64, EG_DIMS(PS, NS), w0);
    eg_assign(m.par.w, eg_mul(W0, eg_rsqrt(eg_sum(eg_square(W0), 1, 1))));
    eg_assign(m.par.g, eg_from_host(ctx, EG_F64, EG_DIMS(PS + 1, CS + 1), g0));
    eg_scope_close(s);
    eg_fill(m.par.beta, 2.0);
    CHECK(vmf_sync_targets(&m) == EG_OK);
    vmf_stationarity first = {0}, last = {0};
    for (int step = 0; step <= 8000; step++) {
        s = eg_scope_open(ctx);
        eg_tensor *xt = eg_from_host(ctx, EG_F64, EG_DIMS(BS, NS), x);
        eg_tensor *T = vmf_targets(ctx, EG_F64, y, BS, CS, m.cfg.softening);
        if (step == 0 || step == 8000) {
            vmf_stat_acc a;
            vmf_parts parts;
            CHECK(vmf_stat_begin(&m, &a) == EG_OK);
            eg_no_grad_begin(ctx);
            vmf_forward_ex(&m, xt, NULL, &parts);
            vmf_stat_add(&m, &a, xt, &parts, T);
            eg_no_grad_end(ctx);
            CHECK(vmf_stat_end(&m, &a, step ? &last : &first) == EG_OK);
        }
        if (step < 8000) {
            eg_tensor *out = vmf_forward_ex(&m, xt, NULL, NULL);
            CHECK(eg_backward(vmf_loss(&m, out, T)) == EG_OK);
            CHECK(vmf_smd_step(&m) == EG_OK);
        }
        eg_scope_close(s);
    }
    printf("stationarity w %.3g -> %.3g, g %.3g -> %.3g, beta %.3g -> %.3g (beta = %.4g)\n", first.w, last.w, first.g,
           last.g, first.beta, last.beta, eg_item(m.par.beta));
    CHECK(first.w > 0.1 && first.g > 1e-3);
    CHECK_MSG(last.w < 1e-5, "w residual %g", last.w);
    CHECK_MSG(last.g < 1e-5, "g residual %g", last.g);
    CHECK_MSG(fabs(last.beta) < 1e-5, "beta residual %g", last.beta);
    vmf_release(&m);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(1, &be);
    if (!ctx) return eg_test_finish();
    for (int debye = 0; debye < 2; debye++)
        for (int unsup = 0; unsup < 2; unsup++)
            test_loss_gradients(debye, unsup, 0);
    test_loss_gradients(0, 0, 1);
    test_loss_gradients(0, 1, 1);
    test_split_gradient();
    test_smd_step();
    test_stationarity();
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
