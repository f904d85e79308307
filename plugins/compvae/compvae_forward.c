/* compvae_forward.c — the CompVAE's reparametrised forward pass and its three losses
 * (models-nem-compvae.md §2.5), on one batch or on several sub-batches with their own K
 * at once: the per-whole networks (encoder, q(z | x), p(z | w~), p(x | w~, z)) see all
 * wholes in one pass and the per-part networks (label features, GraphBlocks, p(w | l)) all
 * parts as rows, so a training update makes a few large GEMMs instead of one small set per
 * sub-batch. Only the posterior over w (rho is a softmax over each whole's parts) is taken
 * per sub-batch, on views of the part rows. */
#include <stdlib.h>
#include <string.h>

#include "compvae.h"

cv_noise cv_noise_draw(const compvae *m, const cv_batch *b, eg_rng *rng) {
    eg_dtype dt = m->cfg.dtype;
    cv_noise n;
    n.z = eg_rand_normal(m->ctx, rng, dt, EG_DIMS(b->B, m->cfg.z_dim), 0, 1);
    n.lab = m->cfg.problem == CV_SINES ? eg_rand_normal(m->ctx, rng, dt, EG_DIMS(b->B, b->K, m->lab), 0, 1) : NULL;
    n.w = eg_rand_normal(m->ctx, rng, dt, EG_DIMS(b->B, b->K, m->cfg.w_dim), 0, 1);
    return n;
}

cv_losses cv_forward(const compvae *m, const cv_batch *b, eg_rng *rng) {
    cv_noise n = cv_noise_draw(m, b, rng);
    return cv_forward_multi(m, 1, b, &n);
}

cv_losses cv_forward_with(const compvae *m, const cv_batch *b, const cv_noise *n) {
    return cv_forward_multi(m, 1, b, n);
}

/* xs[0..n) concatenated along axis 0 (the tensor itself when n == 1) */
static eg_tensor *cat0(eg_tensor **xs, int n) {
    return n == 1 ? xs[0] : eg_concat(xs, n, 0);
}

cv_losses cv_forward_multi(const compvae *m, int n, const cv_batch *bs, const cv_noise *noise) {
    eg_ctx *ctx = m->ctx;
    int64_t W = m->cfg.w_dim, dim = cv_x_dim(m), Bt = 0, P = 0;
    int dots = m->cfg.problem == CV_DOTS;
    cv_losses L;
    if (n < 1 || n > CV_MAX_SUB) {
        eg_ctx_fail(ctx, EG_ERR_INVALID, "compvae: %d sub-batches in one pass (1..%d)", n, CV_MAX_SUB);
        L.lw = L.lz = L.lx = eg_empty(ctx, m->cfg.dtype, EG_DIMS(1));
        return L;
    }
    for (int j = 0; j < n; j++)
        Bt += bs[j].B, P += bs[j].B * bs[j].K;
    /* host rows of every sub-batch, back to back: wholes, part labels and locations, part owners */
    size_t xb = sizeof(float) * (size_t)(Bt * dim), lb = sizeof(int32_t) * (size_t)P;
    size_t cb = dots ? sizeof(float) * 2 * (size_t)P : 0;
    char *buf = malloc(xb + 2 * lb + cb + 1);
    if (!buf) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "compvae: host rows of %lld wholes", (long long)Bt);
        L.lw = L.lz = L.lx = eg_empty(ctx, m->cfg.dtype, EG_DIMS(1));
        return L;
    }
    float *xs = (float *)buf, *locs = (float *)(buf + xb + 2 * lb);
    int32_t *labs = (int32_t *)(buf + xb), *own = (int32_t *)(buf + xb + lb);
    int64_t w0 = 0, p0 = 0;
    for (int j = 0; j < n; j++) {
        int64_t np = bs[j].B * bs[j].K;
        memcpy(xs + (size_t)w0 * dim, bs[j].x, sizeof(float) * (size_t)(bs[j].B * dim));
        memcpy(labs + p0, bs[j].lab, sizeof(int32_t) * (size_t)np);
        if (dots) memcpy(locs + 2 * (size_t)p0, bs[j].loc, sizeof(float) * 2 * (size_t)np);
        for (int64_t i = 0; i < np; i++)
            own[p0 + i] = (int32_t)(w0 + i / bs[j].K);
        w0 += bs[j].B, p0 += np;
    }
    eg_tensor *x = eg_from_f32(ctx, m->cfg.dtype, EG_DIMS(Bt, dim), xs);
    eg_tensor *owner = eg_from_host(ctx, EG_I32, 1, &P, own);
    eg_tensor *lab = cv_label_rows(m, labs, P), *loc = cv_loc_rows(m, locs, P);
    free(buf);

    eg_tensor *parts[CV_MAX_SUB];
    /* q(z | x), z = mu + sigma eps */
    eg_tensor *hx = cv_encode(m, x), *mz, *lz;
    cv_qz(m, hx, &mz, &lz);
    for (int j = 0; j < n; j++)
        parts[j] = noise[j].z;
    eg_tensor *z = eg_add(mz, eg_mul(eg_exp(eg_scale(lz, 0.5)), cat0(parts, n)));
    /* q(w | x, z, l) and p(w | l) on the part rows */
    eg_tensor *lab_noise = NULL;
    if (!dots) {
        for (int j = 0; j < n; j++)
            parts[j] = eg_reshape(noise[j].lab, EG_DIMS(bs[j].B * bs[j].K, m->lab));
        lab_noise = cat0(parts, n);
    }
    eg_tensor *mq, *lq, *r, *mp, *lp;
    cv_qw_rows(m, cv_q_label_rows(m, lab, loc, lab_noise), hx, z, owner, &mq, &lq, &r);
    cv_pw_rows(m, lab, loc, &mp, &lp);
    /* per sub-batch (rho couples the parts of a whole): w~ = sum_i w_i and L_w (eq. 9) */
    eg_tensor *lws[CV_MAX_SUB];
    p0 = 0;
    for (int j = 0; j < n; j++) {
        int64_t B = bs[j].B, K = bs[j].K, np = B * K;
#define PART(t) eg_reshape(eg_narrow(t, 0, p0, np), EG_DIMS(B, K, W))
        eg_tensor *mqj = PART(mq), *lqj = PART(lq), *rho, *rest;
        cv_rho(PART(r), &rho, &rest);
        parts[j] = eg_sum(cv_sample_w(mqj, lqj, rho, noise[j].w), 1, 0);
        lws[j] = cv_kl_w_rho(mqj, lqj, rho, rest, PART(mp), PART(lp));
#undef PART
        p0 += np;
    }
    eg_tensor *wsum = cat0(parts, n);
    L.lw = cat0(lws, n);
    /* p(z | w~) and p(x | w~, z) on all wholes */
    eg_tensor *mpz, *lpz, *mx, *lx;
    cv_pz(m, wsum, &mpz, &lpz);
    L.lz = cv_loss_z(z, lz, mpz, lpz);
    cv_px(m, wsum, z, &mx, &lx);
    L.lx = cv_loss_x(x, mx, lx, m->cfg.sigma_min);
    return L;
}
