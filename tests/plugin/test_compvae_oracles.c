/* plugin/test_compvae_oracles — the CompVAE (plugins/compvae) against the
 * oracles of models-nem-compvae.md §2.8: the closed-form KL of eq. 9 (value,
 * K = 1 and rho -> 0 limits, Monte Carlo with the full covariance), the
 * sampler's covariance, the variance floor, L_x, layer shapes of both problems,
 * permutation invariance in the order of the parts, the curriculum and lr
 * schedule, the spectral-line scorer, and the generators' statistics. The
 * plugin's code is linked in (the MODULE exports only its entry point). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "compvae.h"
#include "engram/philox.h"
#include "registry/loader.h"

static eg_ctx *ctx;

static eg_tensor *t3(int64_t B, int64_t K, int64_t W, const double *v) {
    return eg_from_host(ctx, EG_F64, EG_DIMS(B, K, W), v);
}

static double host1(eg_tensor *t, int64_t i) {
    double buf[4096];
    if (eg_numel(t) > 4096 || eg_to_host_f64(t, buf) != EG_OK) return NAN;
    return buf[i];
}

static void test_kl_oracle(void) {
    const double mq[3] = {0.3, -0.2, 0.5}, lq[3] = {-0.5, 0.2, 0}, r[3] = {0.4, -1.0, 0.1}, mp[3] = {0, 0.1, -0.3},
                 lp[3] = {0, -0.3, 0.4};
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *rho, *rest;
    cv_rho(t3(1, 3, 1, r), &rho, &rest);
    CHECK_NEAR(host1(rho, 0), 0.376260, 1e-6, 0);
    CHECK_NEAR(host1(rho, 1), 0.092785, 1e-6, 0);
    CHECK_NEAR(host1(rho, 2), 0.278740, 1e-6, 0);
    CHECK_NEAR(exp(host1(rest, 0)), 0.252215, 1e-6, 0);
    eg_tensor *kl = cv_kl_w(t3(1, 3, 1, mq), t3(1, 3, 1, lq), t3(1, 3, 1, r), t3(1, 3, 1, mp), t3(1, 3, 1, lp));
    CHECK_NEAR(host1(kl, 0), 1.520686, 2e-6, 0);
    /* ln det Sigma_q = sum lv_q + 2 ln(1 - sum rho) */
    CHECK_NEAR(-0.3 + 2 * host1(rest, 0), -3.054949, 2e-6, 0);

    /* Monte Carlo of E_q[ln q - ln p] with the full covariance D A A^T D, and the sampler's covariance */
    const int64_t N = 200000;
    eg_rng rng = eg_rng_named(11, "kl-mc");
    eg_tensor *eps = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(N, 3, 1), 0, 1);
    eg_tensor *mqN = eg_expand(t3(1, 3, 1, mq), EG_DIMS(N, 3, 1)), *lqN = eg_expand(t3(1, 3, 1, lq), EG_DIMS(N, 3, 1));
    eg_tensor *rhoN = eg_expand(rho, EG_DIMS(N, 3, 1));
    eg_tensor *w = cv_sample_w(mqN, lqN, rhoN, eps);
    double *wv = malloc(sizeof(double) * (size_t)N * 3), rv[3];
    CHECK(eg_to_host_f64(w, wv) == EG_OK);
    eg_to_host_f64(rho, rv);
    double sg[3], S[3][3], A[3][3];
    for (int i = 0; i < 3; i++)
        sg[i] = exp(0.5 * lq[i]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            A[i][j] = (i == j) - rv[i];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double a = 0;
            for (int k = 0; k < 3; k++)
                a += A[i][k] * A[j][k];
            S[i][j] = sg[i] * sg[j] * a;
        }
    /* inverse and log-determinant of S (3 x 3, by cofactors) */
    double det = S[0][0] * (S[1][1] * S[2][2] - S[1][2] * S[2][1]) - S[0][1] * (S[1][0] * S[2][2] - S[1][2] * S[2][0]) +
                 S[0][2] * (S[1][0] * S[2][1] - S[1][1] * S[2][0]);
    CHECK_NEAR(log(det), -3.054949, 1e-5, 0);
    double I[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            I[i][j] = (S[r0][c0] * S[r1][c1] - S[r0][c1] * S[r1][c0]) / det;
        }
    double acc = 0, acc2 = 0, cov[3][3] = {{0}}, mean[3] = {0}, vsum = 0, msum = 0;
    for (int64_t n = 0; n < N; n++) {
        const double *x = wv + n * 3;
        double d[3], q = 0, lpv = 0, sm = 0;
        for (int i = 0; i < 3; i++)
            d[i] = x[i] - mq[i], sm += x[i];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                q += d[i] * I[i][j] * d[j];
        for (int i = 0; i < 3; i++)
            lpv += -0.5 * (lp[i] + (x[i] - mp[i]) * (x[i] - mp[i]) * exp(-lp[i]));
        double lqv = -0.5 * (q + log(det)), v = lqv - lpv; /* the 2 pi terms cancel */
        acc += v, acc2 += v * v;
        for (int i = 0; i < 3; i++) {
            mean[i] += d[i];
            for (int j = 0; j < 3; j++)
                cov[i][j] += d[i] * d[j];
        }
        double smu = sm - (mq[0] + mq[1] + mq[2]);
        vsum += smu * smu, msum += smu;
    }
    double mc = acc / N, se = sqrt((acc2 / N - mc * mc) / N);
    CHECK_MSG(fabs(mc - 1.520686) < 4 * se + 1e-3, "Monte Carlo KL %.5f +- %.5f vs closed form 1.520686", mc, se);
    double worst = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            worst = fmax(worst, fabs(cov[i][j] / N - S[i][j]));
    CHECK_MSG(worst < 0.01, "sampler covariance: worst |Cov(w) - D A A^T D| = %.4f", worst);
    /* Var(sum_i w_i) = sum_j (sigma_j - sum_i rho_i sigma_i)^2 */
    double rs = rv[0] * sg[0] + rv[1] * sg[1] + rv[2] * sg[2], vt = 0;
    for (int j = 0; j < 3; j++)
        vt += (sg[j] - rs) * (sg[j] - rs);
    double ve = vsum / N - (msum / N) * (msum / N);
    CHECK_NEAR(ve, vt, 0.01 * vt + 1e-3, 0);
    free(wv);
    eg_scope_close(s);
}

static void test_kl_limits(void) {
    eg_scope *s = eg_scope_open(ctx);
    /* K = 1: the diagonal KL with lv_q replaced by lv_q + 2 ln(1 - rho) */
    const double mq[4] = {0.5, -1, 0.2, 0}, lq[4] = {-1, 0.3, 0, 0.7}, r[4] = {0.2, -2, 1.5, 0},
                 mp[4] = {0, 0.4, -0.5, 1}, lp[4] = {0.1, -0.2, 0.6, 0};
    eg_tensor *kl = cv_kl_w(t3(1, 1, 4, mq), t3(1, 1, 4, lq), t3(1, 1, 4, r), t3(1, 1, 4, mp), t3(1, 1, 4, lp));
    double want = 0;
    for (int d = 0; d < 4; d++) {
        double rho = exp(r[d]) / (1 + exp(r[d])), l = lq[d] + 2 * log(1 - rho);
        want += 0.5 * (lp[d] - l + (exp(l) + (mq[d] - mp[d]) * (mq[d] - mp[d])) / exp(lp[d]) - 1);
    }
    CHECK_NEAR(host1(kl, 0), want, 1e-10, 1e-10);
    /* r -> -inf: rho -> 0 and the KL is the sum of independent diagonal KLs */
    double mq2[6], lq2[6], r2[6], mp2[6], lp2[6];
    for (int i = 0; i < 6; i++)
        mq2[i] = 0.3 * i - 0.7, lq2[i] = 0.2 * i - 0.5, r2[i] = -80, mp2[i] = 0.1 * i, lp2[i] = 0.4 - 0.15 * i;
    eg_tensor *a = cv_kl_w(t3(1, 3, 2, mq2), t3(1, 3, 2, lq2), t3(1, 3, 2, r2), t3(1, 3, 2, mp2), t3(1, 3, 2, lp2));
    eg_tensor *b = eg_kl_diag_gaussians(t3(1, 3, 2, mq2), t3(1, 3, 2, lq2), t3(1, 3, 2, mp2), t3(1, 3, 2, lp2));
    CHECK_NEAR(host1(a, 0), host1(b, 0), 1e-9, 1e-9);
    /* q = p (and rho -> 0) gives 0 */
    eg_tensor *z = cv_kl_w(t3(1, 3, 2, mp2), t3(1, 3, 2, lp2), t3(1, 3, 2, r2), t3(1, 3, 2, mp2), t3(1, 3, 2, lp2));
    CHECK_NEAR(host1(z, 0), 0, 1e-9, 0);
    eg_scope_close(s);
}

static void test_floor_and_lx(void) {
    eg_scope *s = eg_scope_open(ctx);
    double sm = 0.001, c = 2 * log(sm);
    double u[6] = {c + 1, c + 5, 3.0, -50, c + 1 + 1e-6, c + 1 - 1e-6};
    eg_tensor *f = cv_floor_logvar(eg_from_host(ctx, EG_F64, EG_DIMS(6), u), sm);
    double fv[6];
    eg_to_host_f64(f, fv);
    CHECK_NEAR(fv[0], c + 1, 1e-12, 0);
    CHECK_NEAR(fv[1], c + 5, 1e-12, 0);
    CHECK_NEAR(fv[2], 3.0, 1e-12, 0);
    CHECK_NEAR(fv[3], c, 1e-12, 0);
    CHECK_NEAR((fv[4] - fv[5]) / 2e-6, 1.0, 1e-5, 0); /* slope 1 at c + 1: C^1 */
    /* L_x >= 0; = 0 when mu = x and lv = the floor c */
    double x[4] = {0.1, -2, 3, 0.5}, mu[4] = {0.1, -2, 3, 0.5}, lv[4] = {c, c, c, c};
    eg_tensor *X = eg_from_host(ctx, EG_F64, EG_DIMS(1, 4), x);
    CHECK_NEAR(host1(cv_loss_x(X, eg_from_host(ctx, EG_F64, EG_DIMS(1, 4), mu),
                               eg_from_host(ctx, EG_F64, EG_DIMS(1, 4), lv), sm),
                     0),
               0, 1e-9, 0);
    double lv2[4] = {c + 0.5, c + 3, c + 0.1, c}, mu2[4] = {0.2, -1.9, 3, 0.4};
    double l2 = host1(
        cv_loss_x(X, eg_from_host(ctx, EG_F64, EG_DIMS(1, 4), mu2), eg_from_host(ctx, EG_F64, EG_DIMS(1, 4), lv2), sm),
        0);
    double want = 0;
    for (int i = 0; i < 4; i++)
        want += 0.5 * ((x[i] - mu2[i]) * (x[i] - mu2[i]) * exp(-lv2[i]) + lv2[i] - c);
    CHECK_NEAR(l2, want, 1e-9, 1e-9);
    CHECK(l2 > 0);
    /* L_x = -ln(N(x | mu, s^2) Delta), Delta = sigma_min sqrt(2 pi) */
    double nll = 0;
    for (int i = 0; i < 4; i++)
        nll -= -0.5 * log(2 * M_PI) - 0.5 * lv2[i] - 0.5 * (x[i] - mu2[i]) * (x[i] - mu2[i]) * exp(-lv2[i]) +
               log(sm * sqrt(2 * M_PI));
    CHECK_NEAR(l2, nll, 1e-9, 1e-9);
    eg_scope_close(s);
}

static compvae make(int problem, int size, int64_t W) {
    cv_config c = {0};
    c.problem = problem;
    c.w_dim = W;
    c.z_dim = 3;
    c.hidden = 8;
    c.graph_blocks = 2;
    c.sigma_min = 0.001;
    c.dtype = EG_F64;
    if (problem == CV_SINES)
        c.channels[0] = 4, c.channels[1] = 6, c.channels[2] = 8, c.n_channels = 3;
    else
        c.channels[0] = 4, c.channels[1] = 5, c.channels[2] = 6, c.channels[3] = 7, c.n_channels = 4, c.size = size;
    eg_rng init = eg_rng_named(1, "shapes");
    compvae m;
    eg_status st = cv_create(&m, ctx, &c, &init);
    CHECK_MSG(st == EG_OK, "cv_create: %s", eg_ctx_message(ctx));
    return m;
}

static void test_shapes(void) {
    eg_scope *s = eg_scope_open(ctx);
    compvae m = make(CV_SINES, 0, 5);
    eg_tensor *h = eg_zeros(ctx, EG_F64, EG_DIMS(2, 1, 200));
    const int64_t enc_len[5] = {39, 39, 12, 12, 5}, dec_len[5] = {12, 12, 52, 52, 270};
    for (int i = 0; i < 5; i++) {
        h = eg_conv_forward(&m.enc[i], h);
        CHECK_MSG(eg_dim(h, 2) == enc_len[i], "sines encoder layer %d: length %lld, expected %lld", i,
                  (long long)eg_dim(h, 2), (long long)enc_len[i]);
    }
    CHECK(m.flat == 40 && eg_dim(h, 1) * eg_dim(h, 2) == 40);
    h = eg_zeros(ctx, EG_F64, EG_DIMS(2, 8, 5));
    for (int i = 0; i < 5; i++) {
        h = eg_conv_forward(&m.dec[i], h);
        CHECK_MSG(eg_dim(h, 2) == dec_len[i], "sines decoder layer %d: length %lld, expected %lld", i,
                  (long long)eg_dim(h, 2), (long long)dec_len[i]);
    }
    eg_tensor *mu, *lv;
    cv_px(&m, eg_zeros(ctx, EG_F64, EG_DIMS(2, 5)), eg_zeros(ctx, EG_F64, EG_DIMS(2, 3)), &mu, &lv);
    CHECK(eg_dim(mu, 0) == 2 && eg_dim(mu, 1) == 200 && eg_dim(lv, 1) == 200);
    cv_destroy(&m);
    /* colour: encoder 32 -> 16 -> 8 -> 4, decoder back to 32 with a 1-channel log-variance */
    m = make(CV_DOTS, 32, 6);
    h = eg_zeros(ctx, EG_F64, EG_DIMS(2, 3, 32, 32));
    const int64_t side[4] = {32, 16, 8, 4};
    CHECK(m.n_enc == 4);
    for (int i = 0; i < m.n_enc; i++) {
        h = eg_conv_forward(&m.enc[i], h);
        CHECK_MSG(eg_dim(h, 2) == side[i] && eg_dim(h, 3) == side[i], "dots encoder layer %d: %lld", i,
                  (long long)eg_dim(h, 2));
    }
    cv_px(&m, eg_zeros(ctx, EG_F64, EG_DIMS(2, 6)), eg_zeros(ctx, EG_F64, EG_DIMS(2, 3)), &mu, &lv);
    CHECK(eg_dim(mu, 1) == 3 * 32 * 32 && eg_dim(lv, 1) == 3 * 32 * 32);
    double lvh[3 * 32 * 32 * 2];
    eg_to_host_f64(lv, lvh);
    CHECK(lvh[5] == lvh[5 + 1024] && lvh[5] == lvh[5 + 2048]); /* shared over RGB */
    cv_destroy(&m);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_scope_close(s);
}

/* q({w_i}) and L_w are equivariant / invariant under a permutation of the parts */
static void test_permutation(int problem) {
    eg_scope *s = eg_scope_open(ctx);
    compvae m = make(problem, 16, 4);
    if (problem == CV_DOTS) m.cfg.channels[2] = 6; /* 16 -> 8 -> 4 uses channels 0..2 */
    eg_rng data = eg_rng_named(2, "perm");
    cv_batch b, p;
    const int K = 4, perm[4] = {2, 0, 3, 1};
    CHECK(cv_batch_make(&m, &data, 3, K, &b) == EG_OK);
    CHECK(cv_batch_make(&m, &data, 3, K, &p) == EG_OK);
    for (int64_t i = 0; i < 3; i++)
        for (int k = 0; k < K; k++) {
            p.lab[i * K + k] = b.lab[i * K + perm[k]];
            if (b.loc)
                p.loc[(i * K + k) * 2] = b.loc[(i * K + perm[k]) * 2],
                                    p.loc[(i * K + k) * 2 + 1] = b.loc[(i * K + perm[k]) * 2 + 1];
        }
    memcpy(p.x, b.x, sizeof(float) * (size_t)(3 * cv_x_dim(&m)));
    eg_tensor *hx = cv_encode(&m, cv_x_tensor(&m, &b)), *mz, *lz;
    cv_qz(&m, hx, &mz, &lz);
    eg_rng r1 = eg_rng_named(3, "noise");
    eg_tensor *e = cv_q_labels(&m, &b, &r1); /* sines adds noise: permute the same features */
    double ev[3 * 4 * 64], epv[3 * 4 * 64];
    int64_t L = m.lab;
    eg_to_host_f64(e, ev);
    for (int64_t i = 0; i < 3; i++)
        for (int k = 0; k < K; k++)
            memcpy(epv + (i * K + k) * L, ev + (i * K + perm[k]) * L, sizeof(double) * (size_t)L);
    eg_tensor *ep = eg_from_host(ctx, EG_F64, EG_DIMS(3, K, L), epv);
    eg_tensor *mq, *lq, *r, *mqp, *lqp, *rp;
    cv_qw(&m, e, hx, mz, &mq, &lq, &r);
    cv_qw(&m, ep, hx, mz, &mqp, &lqp, &rp);
    double a[3 * 4 * 4], c[3 * 4 * 4], worst = 0;
    eg_tensor *outs[3][2] = {{mq, mqp}, {lq, lqp}, {r, rp}};
    for (int o = 0; o < 3; o++) {
        eg_to_host_f64(outs[o][0], a);
        eg_to_host_f64(outs[o][1], c);
        for (int64_t i = 0; i < 3; i++)
            for (int k = 0; k < K; k++)
                for (int d = 0; d < 4; d++)
                    worst = fmax(worst, fabs(c[(i * K + k) * 4 + d] - a[(i * K + perm[k]) * 4 + d]));
    }
    CHECK_MSG(worst < 1e-10, "%s q(w) equivariance: worst difference %g", problem ? "dots" : "sines", worst);
    /* p(w_i | l_i) follows its part, and L_w is invariant */
    eg_tensor *mp, *lp, *mpp, *lpp;
    cv_pw(&m, &b, &mp, &lp);
    cv_pw(&m, &p, &mpp, &lpp);
    double k1 = host1(cv_kl_w(mq, lq, r, mp, lp), 1), k2 = host1(cv_kl_w(mqp, lqp, rp, mpp, lpp), 1);
    CHECK_NEAR(k1, k2, 1e-9, 1e-9);
    /* generation depends on the multiset only (w~ = sum w_i, posterior means) */
    eg_rng g1 = eg_rng_named(9, "gen"), g2 = g1;
    eg_tensor *x1 = cv_generate(&m, &b, &g1, 0), *x2 = cv_generate(&m, &p, &g2, 0);
    CHECK_NEAR(eg_item(eg_sum_all(eg_abs(eg_sub(x1, x2)))), 0, 1e-8, 0);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    cv_batch_free(&b);
    cv_batch_free(&p);
    cv_destroy(&m);
    eg_scope_close(s);
}

/* the losses of one batch composed from the public pieces, as the one-batch forward was written
 * before sub-batches were merged (dense [B, K, .] parts; the reference of test_multi) */
static cv_losses ref_forward(const compvae *m, const cv_batch *b, const cv_noise *n) {
    eg_tensor *x = cv_x_tensor(m, b), *hx = cv_encode(m, x), *mz, *lz;
    cv_qz(m, hx, &mz, &lz);
    eg_tensor *z = eg_add(mz, eg_mul(eg_exp(eg_scale(lz, 0.5)), n->z));
    eg_tensor *mq, *lq, *r, *rho, *rest, *mp, *lp, *mpz, *lpz, *mx, *lx;
    cv_qw(m, cv_q_labels_with(m, b, n->lab), hx, z, &mq, &lq, &r);
    cv_rho(r, &rho, &rest);
    eg_tensor *wsum = eg_sum(cv_sample_w(mq, lq, rho, n->w), 1, 0);
    cv_pw(m, b, &mp, &lp);
    cv_losses L;
    L.lw = cv_kl_w(mq, lq, r, mp, lp);
    cv_pz(m, wsum, &mpz, &lpz);
    L.lz = cv_loss_z(z, lz, mpz, lpz);
    cv_px(m, wsum, z, &mx, &lx);
    L.lx = cv_loss_x(x, mx, lx, m->cfg.sigma_min);
    return L;
}

/* sub-batches of different B and K in one pass (cv_forward_multi, what training runs) give every
 * whole the losses of the dense one-batch composition */
static void test_multi(int problem) {
    eg_scope *s = eg_scope_open(ctx);
    compvae m = make(problem, 8, 4);
    eg_rng data = eg_rng_named(4, "multi"), noise = eg_rng_named(5, "multi-noise");
    enum { N = 3 };
    const int64_t B[N] = {2, 3, 2};
    const int K[N] = {1, 3, 2};
    cv_batch bs[N];
    cv_noise nz[N];
    for (int j = 0; j < N; j++) {
        CHECK(cv_batch_make(&m, &data, B[j], K[j], &bs[j]) == EG_OK);
        nz[j] = cv_noise_draw(&m, &bs[j], &noise);
    }
    cv_losses all = cv_forward_multi(&m, N, bs, nz);
    CHECK(eg_dim(all.lw, 0) == 7 && eg_dim(all.lz, 0) == 7 && eg_dim(all.lx, 0) == 7);
    double worst = 0, lmax = 0;
    for (int j = 0, w0 = 0; j < N; w0 += (int)B[j], j++) {
        cv_losses one = ref_forward(&m, &bs[j], &nz[j]);
        eg_tensor *pa[3] = {all.lw, all.lz, all.lx}, *po[3] = {one.lw, one.lz, one.lx};
        for (int t = 0; t < 3; t++)
            for (int64_t i = 0; i < B[j]; i++) {
                double a = host1(pa[t], w0 + i), o = host1(po[t], i);
                worst = fmax(worst, fabs(a - o)), lmax = fmax(lmax, fabs(o));
            }
    }
    CHECK_MSG(lmax > 0 && worst <= 1e-10 * lmax, "%s multi-pass losses differ from the dense composition: %g (of %g)",
              problem ? "dots" : "sines", worst, lmax);
    for (int j = 0; j < N; j++)
        cv_batch_free(&bs[j]);
    cv_destroy(&m);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_scope_close(s);
}

static void test_schedule(void) {
    cv_train t = {0};
    t.lr = 1e-4, t.lr_floor = 0.01, t.lr_halve_every = 20000, t.k_start = 2, t.k_every = 2500, t.k_cap = 16;
    CHECK(cv_k_max(&t, 0) == 2 && cv_k_max(&t, 2499) == 2 && cv_k_max(&t, 5000) == 3 && cv_k_max(&t, 37500) == 16 &&
          cv_k_max(&t, 500000) == 16);
    CHECK_NEAR(cv_lr_at(&t, 0), 5e-5, 1e-15, 0);
    CHECK_NEAR(cv_lr_at(&t, 20000), 2.5e-5, 1e-15, 0);
    CHECK_NEAR(cv_lr_at(&t, 499999), 1e-6, 1e-15, 0); /* the floor 0.01 x base */
}

/* the scorer of generate/line_accuracy */
static void test_lines(void) {
    float x[200];
    for (int n = 0; n < 200; n++)
        x[n] = (float)(2.0 * cos(2 * M_PI * 3 * n / 100.0 + 0.4) + 1.0 * cos(2 * M_PI * 7 * n / 100.0 - 1) +
                       0.3 * cos(2 * M_PI * 1 * n / 100.0));
    CHECK(cv_lines(x, 200, 1) == (1u << 3));
    CHECK(cv_lines(x, 200, 2) == ((1u << 3) | (1u << 7)));
    CHECK(cv_lines(x, 200, 3) == ((1u << 3) | (1u << 7) | (1u << 1)));
}

static void test_sines_generator(void) {
    eg_rng rng = eg_rng_named(21, "sines-stats");
    const int Ks[5] = {1, 2, 4, 8, 16};
    const double rms_want[5] = {0.862, 1.529, 2.737, 4.774, 8.214};
    const int64_t n = 4000;
    float *x = malloc(sizeof(float) * 200 * n), *sp = malloc(sizeof(float) * 200 * n);
    int32_t *f = malloc(sizeof(int32_t) * n * 16);
    float *ph = malloc(sizeof(float) * n * 16), *am = malloc(sizeof(float) * n * 16);
    for (int j = 0; j < 5; j++) {
        int K = Ks[j];
        CHECK(eg_sines_generate(&rng, n, K, 200, x, f, am, ph, sp) == EG_OK);
        double ss = 0, s0 = 0, worst_sum = 0, maxabs = 0, fm = 0, am_m = 0, ph2 = 0;
        int fbad = 0;
        for (int64_t b = 0; b < n; b++) {
            double sum = 0;
            for (int t = 0; t < 200; t++) {
                sum += sp[b * 200 + t];
                ss += (double)x[b * 200 + t] * x[b * 200 + t];
                maxabs = fmax(maxabs, fabs(x[b * 200 + t]));
            }
            worst_sum = fmax(worst_sum, fabs(sum));
            s0 += sp[b * 200];
            for (int k = 0; k < K; k++) {
                fbad += f[b * K + k] < 1 || f[b * K + k] > 9;
                fm += f[b * K + k], am_m += am[b * K + k], ph2 += ph[b * K + k] * ph[b * K + k];
            }
        }
        double rms = sqrt(ss / (200.0 * n));
        CHECK_MSG(fabs(rms - rms_want[j]) < 0.025 * rms_want[j], "sines K = %d: RMS %.4f, expected %.3f", K, rms,
                  rms_want[j]);
        CHECK_MSG(worst_sum < 1e-3 * K, "sines K = %d: sum_n S(t_n) = %g, expected 0", K, worst_sum);
        CHECK_MSG(maxabs < K, "sines K = %d: max |x| %.4f must be < K", K, maxabs);
        CHECK(fbad == 0);
        if (K == 4) {
            CHECK_NEAR(s0 / n / K, exp(-0.32), 0.02, 0); /* E[S(0)] / K = E[a] E[cos phi] = e^{-0.32} */
            CHECK_NEAR(fm / (n * K), 5.0, 0.05, 0);
            CHECK_NEAR(am_m / (n * K), 1.0, 0.01, 0);
            CHECK_NEAR(sqrt(ph2 / (n * K)), 0.8, 0.01, 0);
        }
    }
    free(x), free(sp), free(f), free(ph), free(am);
}

static void test_dots_generator(void) {
    eg_rng rng = eg_rng_named(22, "dots-stats");
    float x[3 * 32 * 32], w[32 * 32 * 5];
    int32_t col[5];
    float cen[10], sh[5];
    /* K = 1: a constant image equal to the colour */
    for (int t = 0; t < 5; t++) {
        CHECK(eg_dots_generate(&rng, 1, 1, 32, x, col, cen, sh) == EG_OK);
        float rgb[3];
        eg_dots_colour(col[0], rgb);
        int bad = 0;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                bad += x[c * 1024 + p] != rgb[c];
        CHECK_MSG(bad == 0, "K = 1 image not constant colour %d (%d bad values)", col[0], bad);
        CHECK(sh[0] >= 5 && sh[0] < 10 && fabsf(cen[0]) <= 0.9f && fabsf(cen[1]) <= 0.9f);
    }
    /* weights sum to one, values in [0, 1] */
    CHECK(eg_dots_generate(&rng, 1, 5, 32, x, col, cen, sh) == EG_OK);
    eg_dots_render(5, 32, col, cen, sh, x, w);
    double worst = 0;
    int out = 0;
    for (int p = 0; p < 1024; p++) {
        double s = 0;
        for (int k = 0; k < 5; k++)
            s += w[p * 5 + k];
        worst = fmax(worst, fabs(s - 1));
    }
    for (int i = 0; i < 3 * 1024; i++)
        out += x[i] < 0 || x[i] > 1;
    CHECK(worst < 1e-6 && out == 0);
    /* the blob nearest a centre dominates there: pixel at a centre has that blob's largest weight */
    int col_ok = 0;
    for (int k = 0; k < 5; k++) {
        int c = (int)lround((cen[2 * k] + 1) * 31 / 2), r = (int)lround((cen[2 * k + 1] + 1) * 31 / 2);
        int arg = 0;
        for (int j = 1; j < 5; j++)
            if (w[(r * 32 + c) * 5 + j] > w[(r * 32 + c) * 5 + arg]) arg = j;
        col_ok += arg == k;
    }
    CHECK(col_ok >= 3);
    /* all white: all ones */
    int32_t white[3] = {4, 4, 4};
    eg_dots_render(3, 32, white, cen, sh, x, NULL);
    int notone = 0;
    for (int i = 0; i < 3 * 1024; i++)
        notone += fabsf(x[i] - 1.0f) > 1e-6f;
    CHECK(notone == 0);
}

int main(void) {
    char err[512];
    eg_backend *be = NULL;
    if (eg_backend_open_start("cpu", 1, &be, err, sizeof err) != EG_OK || eg_ctx_create(be, &ctx) != EG_OK) {
        fprintf(stderr, "cpu backend: %s\n", err);
        CHECK(0);
        return eg_test_finish();
    }
    test_kl_oracle();
    test_kl_limits();
    test_floor_and_lx();
    test_shapes();
    test_permutation(CV_SINES);
    test_permutation(CV_DOTS);
    test_multi(CV_SINES);
    test_multi(CV_DOTS);
    test_schedule();
    test_lines();
    test_sines_generator();
    test_dots_generator();
    if (eg_ctx_status(ctx) != EG_OK) fprintf(stderr, "context: %s\n", eg_ctx_message(ctx));
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
