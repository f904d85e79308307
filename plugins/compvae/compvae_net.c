/* compvae_net.c — the CompVAE networks for both problems (models-nem-compvae.md
 * §2.4), with widths as parameters: w_dim W, z_dim Z, hidden H (GraphBlocks and
 * the MLPs), graph_blocks, conv channels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compvae.h"

#define QLAB_DOTS 32 /* colour-problem label embedding width (colour and location halves) */

int64_t cv_x_dim(const compvae *m) {
    return m->cfg.problem == CV_SINES ? EG_SINES_LEN : 3 * (int64_t)m->cfg.size * m->cfg.size;
}

static eg_status build_sines(compvae *m, eg_rng *rng) {
    const cv_config *c = &m->cfg;
    eg_params *ps = m->ps;
    int64_t c1 = c->channels[0], c2 = c->channels[1], c3 = c->channels[2], c0 = c1 / 2 > 0 ? c1 / 2 : 1;
    int64_t W = c->w_dim, Z = c->z_dim, H = c->hidden;
    eg_status st = EG_OK;
    /* encoder: lengths 200 -> 39 -> 39 -> 12 -> 12 -> 5 */
    const int64_t ein[5] = {1, c1, c1, c2, c2}, eout[5] = {c1, c1, c2, c2, c3};
    const int ek[5] = {10, 7, 6, 7, 4}, es[5] = {5, 1, 3, 1, 2}, ep[5] = {0, 3, 0, 3, 0};
    char name[64];
    for (int i = 0; i < 5 && st == EG_OK; i++) {
        snprintf(name, sizeof name, "enc.%d", i);
        st = cv_conv(&m->enc[i], ps, name, 1, 0, ein[i], eout[i], ek[i], es[i], ep[i], rng);
    }
    m->n_enc = 5;
    m->flat = 5 * c3;
    m->lab = W;
    if (st == EG_OK) st = cv_res_init(&m->enc_res, ps, "enc.res", m->flat, rng);
    /* q(z | x) */
    if (st == EG_OK) st = cv_linear(&m->qz_in, ps, "qz.in", m->flat, H, rng);
    if (st == EG_OK) st = cv_res_init(&m->qz_r1, ps, "qz.r1", H, rng);
    if (st == EG_OK) st = cv_res_init(&m->qz_r2, ps, "qz.r2", H, rng);
    if (st == EG_OK) st = cv_linear(&m->qz_mu, ps, "qz.mu", H, Z, rng);
    if (st == EG_OK) st = cv_linear(&m->qz_lv, ps, "qz.lv", H, Z, rng);
    /* q(w | .): label embedding (10 rows, f - 1) */
    if (st == EG_OK) st = eg_embedding_init(&m->qw_emb, ps, "qw.emb", EG_SINES_FREQS + 1, W, rng);
    /* p(w | f): two embedding tables */
    if (st == EG_OK) st = eg_embedding_init(&m->pw_mu, ps, "pw.mu", EG_SINES_FREQS + 1, W, rng);
    if (st == EG_OK) st = eg_embedding_init(&m->pw_lv, ps, "pw.lv", EG_SINES_FREQS + 1, W, rng);
    /* p(z | w) */
    if (st == EG_OK) st = cv_linear(&m->pz_in, ps, "pz.in", W, H, rng);
    if (st == EG_OK) st = cv_linear(&m->pz_mu, ps, "pz.mu", H, Z, rng);
    if (st == EG_OK) st = cv_linear(&m->pz_lv, ps, "pz.lv", H, Z, rng);
    /* p(x | w, z): lengths 5 -> 12 -> 12 -> 52 -> 52 -> 270, crop [35 : 235] */
    if (st == EG_OK) st = cv_linear(&m->px_in, ps, "px.in", W + Z, m->flat, rng);
    for (int i = 0; i < 3 && st == EG_OK; i++) {
        snprintf(name, sizeof name, "px.r%d", i);
        st = cv_res_init(&m->px_r[i], ps, name, m->flat, rng);
    }
    const int64_t din[5] = {c3, c2, c2, c1, c1}, dout[5] = {c2, c2, c1, c1, c0};
    const int dk[5] = {4, 7, 8, 7, 15}, ds[5] = {2, 1, 4, 1, 5}, dp[5] = {0, 3, 0, 3, 0}, dt[5] = {1, 0, 1, 0, 1};
    for (int i = 0; i < 5 && st == EG_OK; i++) {
        snprintf(name, sizeof name, "dec.%d", i);
        st = cv_conv(&m->dec[i], ps, name, 1, dt[i], din[i], dout[i], dk[i], ds[i], dp[i], rng);
    }
    m->n_dec = 5;
    if (st == EG_OK) st = cv_conv(&m->px_mu, ps, "px.mu", 1, 0, c0, 1, 7, 1, 3, rng);
    if (st == EG_OK) st = cv_conv(&m->px_lv, ps, "px.lv", 1, 0, c0, 1, 7, 1, 3, rng);
    return st;
}

static eg_status build_dots(compvae *m, eg_rng *rng) {
    const cv_config *c = &m->cfg;
    eg_params *ps = m->ps;
    int64_t W = c->w_dim, Z = c->z_dim, H = c->hidden;
    int nd = 0;
    for (int s = c->size; s > 4; s /= 2)
        nd++;
    if ((4 << nd) != c->size || nd < 1 || nd + 1 > c->n_channels)
        return eg_ctx_fail(
            m->ctx, EG_ERR_INVALID,
            "compvae dots: image size %d must be 4 * 2^n (n >= 1) with params.channels holding n + 1 = %d "
            "widths (got %d)",
            c->size, nd + 1, c->n_channels);
    m->n_down = nd;
    eg_status st = EG_OK;
    char name[64];
    /* encoder: conv 3 -> ch0 (k5 p2), then nd stride-2 convs (k4 s2 p1) down to 4 x 4 */
    st = cv_conv(&m->enc[0], ps, "enc.0", 2, 0, 3, c->channels[0], 5, 1, 2, rng);
    for (int j = 1; j <= nd && st == EG_OK; j++) {
        snprintf(name, sizeof name, "enc.%d", j);
        st = cv_conv(&m->enc[j], ps, name, 2, 0, c->channels[j - 1], c->channels[j], 4, 2, 1, rng);
    }
    m->n_enc = nd + 1;
    int64_t top = c->channels[nd];
    m->flat = 16 * top;
    m->lab = 2 * QLAB_DOTS;
    if (st == EG_OK) st = cv_res_init(&m->enc_res, ps, "enc.res", m->flat, rng);
    /* q(z | x): elu(Res) -> mu, logvar */
    if (st == EG_OK) st = cv_res_init(&m->qz_r1, ps, "qz.r1", m->flat, rng);
    if (st == EG_OK) st = cv_linear(&m->qz_mu, ps, "qz.mu", m->flat, Z, rng);
    if (st == EG_OK) st = cv_linear(&m->qz_lv, ps, "qz.lv", m->flat, Z, rng);
    /* q labels: [Emb(colour), L(2 -> 32)(loc)] */
    if (st == EG_OK) st = eg_embedding_init(&m->qw_emb, ps, "qw.emb", EG_DOTS_COLOURS, QLAB_DOTS, rng);
    if (st == EG_OK) st = cv_linear(&m->qw_loc, ps, "qw.loc", 2, QLAB_DOTS, rng);
    /* p(w | l): [Emb(colour), elu(L(loc))] -> elu(L 64 -> H) -> mu, logvar */
    if (st == EG_OK) st = eg_embedding_init(&m->pw_emb, ps, "pw.emb", EG_DOTS_COLOURS, QLAB_DOTS, rng);
    if (st == EG_OK) st = cv_linear(&m->pw_loc, ps, "pw.loc", 2, QLAB_DOTS, rng);
    if (st == EG_OK) st = cv_linear(&m->pw_in, ps, "pw.in", 2 * QLAB_DOTS, H, rng);
    if (st == EG_OK) st = cv_linear(&m->pw_hmu, ps, "pw.mu", H, W, rng);
    if (st == EG_OK) st = cv_linear(&m->pw_hlv, ps, "pw.lv", H, W, rng);
    /* p(z | w): elu(L) -> elu(Res) -> mu, logvar */
    if (st == EG_OK) st = cv_linear(&m->pz_in, ps, "pz.in", W, H, rng);
    if (st == EG_OK) st = cv_res_init(&m->pz_r, ps, "pz.r", H, rng);
    if (st == EG_OK) st = cv_linear(&m->pz_mu, ps, "pz.mu", H, Z, rng);
    if (st == EG_OK) st = cv_linear(&m->pz_lv, ps, "pz.lv", H, Z, rng);
    /* p(x | w, z): h = elu(Res(w) + L(z)); tanh(Res); elu(Res); L -> (top, 4, 4); nd x (up 2, conv k5) */
    for (int i = 0; i < 3 && st == EG_OK; i++) {
        snprintf(name, sizeof name, "px.r%d", i);
        st = cv_res_init(&m->px_r[i], ps, name, W, rng);
    }
    if (st == EG_OK) st = cv_linear(&m->px_z, ps, "px.z", Z, W, rng);
    if (st == EG_OK) st = cv_linear(&m->px_out, ps, "px.out", W, m->flat, rng);
    for (int j = 0; j < nd && st == EG_OK; j++) {
        snprintf(name, sizeof name, "dec.%d", j);
        st = cv_conv(&m->dec[j], ps, name, 2, 0, c->channels[nd - j], c->channels[nd - j - 1], 5, 1, 2, rng);
    }
    m->n_dec = nd;
    if (st == EG_OK) st = cv_conv(&m->px_mu, ps, "px.mu", 2, 0, c->channels[0], 3, 5, 1, 2, rng);
    if (st == EG_OK) st = cv_conv(&m->px_lv, ps, "px.lv", 2, 0, c->channels[0], 1, 5, 1, 2, rng);
    return st;
}

eg_status cv_create(compvae *m, eg_ctx *ctx, const cv_config *cfg, eg_rng *init) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->ctx = ctx;
    m->ps = eg_params_new(ctx);
    if (!m->ps) return EG_ERR_NOMEM;
    eg_params_set_dtype(m->ps, cfg->dtype ? cfg->dtype : EG_F32);
    if (cfg->graph_blocks < 1 || cfg->graph_blocks > 8)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "compvae: graph_blocks %d must be in 1..8", cfg->graph_blocks);
    eg_status st = cfg->problem == CV_SINES ? build_sines(m, init) : build_dots(m, init);
    int colour = cfg->problem == CV_DOTS;
    int64_t in = m->lab + m->flat + cfg->z_dim;
    char name[64];
    for (int g = 0; g < cfg->graph_blocks && st == EG_OK; g++) {
        snprintf(name, sizeof name, "qw.gb%d", g);
        st = cv_graph_init(&m->gb[g], m->ps, name, g ? cfg->hidden : in, cfg->hidden, colour, init);
    }
    if (st == EG_OK) st = cv_linear(&m->qw_mu, m->ps, "qw.mu", cfg->hidden, cfg->w_dim, init);
    if (st == EG_OK) st = cv_linear(&m->qw_lv, m->ps, "qw.lv", cfg->hidden, cfg->w_dim, init);
    if (st == EG_OK) st = cv_linear(&m->qw_r, m->ps, "qw.rho", cfg->hidden, cfg->w_dim, init);
    return st;
}

void cv_destroy(compvae *m) {
    if (m->ps) eg_params_free(m->ps);
    m->ps = NULL;
}

/* ---- forward passes ---- */

eg_tensor *cv_encode(const compvae *m, eg_tensor *x) {
    int64_t B = eg_dim(x, 0);
    eg_tensor *h;
    if (m->cfg.problem == CV_SINES)
        h = eg_reshape(x, EG_DIMS(B, 1, EG_SINES_LEN));
    else
        h = eg_reshape(eg_affine(x, 2.0, -1.0), EG_DIMS(B, 3, m->cfg.size, m->cfg.size)); /* sees 2x - 1 */
    for (int i = 0; i < m->n_enc; i++)
        h = cv_elu(eg_conv_forward(&m->enc[i], h));
    return cv_elu(cv_res_forward(&m->enc_res, eg_flatten(h, 1)));
}

void cv_qz(const compvae *m, eg_tensor *hx, eg_tensor **mu, eg_tensor **lv) {
    eg_tensor *h;
    if (m->cfg.problem == CV_SINES) {
        h = cv_elu(eg_linear_forward(&m->qz_in, hx));
        h = cv_elu(cv_res_forward(&m->qz_r1, h));
        h = cv_elu(cv_res_forward(&m->qz_r2, h));
    } else {
        h = cv_elu(cv_res_forward(&m->qz_r1, hx));
    }
    *mu = eg_linear_forward(&m->qz_mu, h);
    *lv = eg_linear_forward(&m->qz_lv, h); /* encoder log-variances are not floored */
}

eg_tensor *cv_label_rows(const compvae *m, const int32_t *lab, int64_t P) {
    if (m->cfg.problem != CV_SINES) return eg_from_host(m->ctx, EG_I32, 1, &P, lab);
    int32_t *f = malloc(sizeof(int32_t) * (size_t)(P > 0 ? P : 1));
    if (!f) return eg_from_host(m->ctx, EG_I32, 1, &P, lab); /* caught by the range check */
    for (int64_t i = 0; i < P; i++)
        f[i] = lab[i] - 1; /* embedding row f - 1 */
    eg_tensor *t = eg_from_host(m->ctx, EG_I32, 1, &P, f);
    free(f);
    return t;
}

eg_tensor *cv_loc_rows(const compvae *m, const float *loc, int64_t P) {
    return m->cfg.problem == CV_SINES ? NULL : eg_from_f32(m->ctx, m->cfg.dtype, EG_DIMS(P, 2), loc);
}

eg_tensor *cv_q_label_rows(const compvae *m, eg_tensor *lab, eg_tensor *loc, eg_tensor *noise) {
    /* sines: fresh N(0, 1) noise on the embedding, in training and reconstruction alike */
    if (m->cfg.problem == CV_SINES) return eg_add(eg_embedding_forward(&m->qw_emb, lab), noise);
    eg_tensor *parts[2] = {eg_embedding_forward(&m->qw_emb, lab), eg_linear_forward(&m->qw_loc, loc)};
    return eg_concat(parts, 2, 1);
}

eg_tensor *cv_q_labels_with(const compvae *m, const cv_batch *b, eg_tensor *noise) {
    int64_t P = b->B * b->K;
    if (noise) noise = eg_reshape(noise, EG_DIMS(P, m->lab));
    eg_tensor *e = cv_q_label_rows(m, cv_label_rows(m, b->lab, P), cv_loc_rows(m, b->loc, P), noise);
    return eg_reshape(e, EG_DIMS(b->B, b->K, m->lab));
}

eg_tensor *cv_q_labels(const compvae *m, const cv_batch *b, eg_rng *rng) {
    eg_tensor *noise = NULL;
    if (m->cfg.problem == CV_SINES)
        noise = eg_rand_normal(m->ctx, rng, m->cfg.dtype, EG_DIMS(b->B, b->K, m->lab), 0, 1);
    return cv_q_labels_with(m, b, noise);
}

void cv_qw_rows(const compvae *m, eg_tensor *e, eg_tensor *hx, eg_tensor *z, eg_tensor *owner, eg_tensor **mu,
                eg_tensor **lv, eg_tensor **r) {
    /* per part: [label features, h_x of its whole, z of its whole] */
    eg_tensor *parts[3] = {e, eg_index_select(hx, 0, owner), eg_index_select(z, 0, owner)};
    eg_tensor *h = eg_concat(parts, 3, 1);
    int64_t wholes = eg_dim(hx, 0);
    for (int g = 0; g < m->cfg.graph_blocks; g++)
        h = cv_elu(cv_graph_rows(&m->gb[g], h, owner, wholes));
    *mu = eg_linear_forward(&m->qw_mu, h);
    *lv = eg_linear_forward(&m->qw_lv, h);
    *r = eg_linear_forward(&m->qw_r, h);
}

void cv_qw(const compvae *m, eg_tensor *e, eg_tensor *hx, eg_tensor *z, eg_tensor **mu, eg_tensor **lv, eg_tensor **r) {
    int64_t B = eg_dim(e, 0), K = eg_dim(e, 1), W = m->cfg.w_dim;
    cv_qw_rows(m, eg_reshape(e, EG_DIMS(B * K, m->lab)), hx, z, cv_owner_dense(m->ctx, B, K), mu, lv, r);
    *mu = eg_reshape(*mu, EG_DIMS(B, K, W));
    *lv = eg_reshape(*lv, EG_DIMS(B, K, W));
    *r = eg_reshape(*r, EG_DIMS(B, K, W));
}

void cv_pw_rows(const compvae *m, eg_tensor *lab, eg_tensor *loc, eg_tensor **mu, eg_tensor **lv) {
    if (m->cfg.problem == CV_SINES) {
        *mu = eg_embedding_forward(&m->pw_mu, lab);
        *lv = eg_embedding_forward(&m->pw_lv, lab);
    } else {
        eg_tensor *parts[2] = {eg_embedding_forward(&m->pw_emb, lab), cv_elu(eg_linear_forward(&m->pw_loc, loc))};
        eg_tensor *h = cv_elu(eg_linear_forward(&m->pw_in, eg_concat(parts, 2, 1)));
        *mu = eg_linear_forward(&m->pw_hmu, h);
        *lv = eg_linear_forward(&m->pw_hlv, h);
    }
    *lv = cv_floor_logvar(*lv, m->cfg.sigma_min);
}

void cv_pw(const compvae *m, const cv_batch *b, eg_tensor **mu, eg_tensor **lv) {
    int64_t P = b->B * b->K, W = m->cfg.w_dim;
    cv_pw_rows(m, cv_label_rows(m, b->lab, P), cv_loc_rows(m, b->loc, P), mu, lv);
    *mu = eg_reshape(*mu, EG_DIMS(b->B, b->K, W));
    *lv = eg_reshape(*lv, EG_DIMS(b->B, b->K, W));
}

void cv_pz(const compvae *m, eg_tensor *w, eg_tensor **mu, eg_tensor **lv) {
    eg_tensor *h = cv_elu(eg_linear_forward(&m->pz_in, w));
    if (m->cfg.problem == CV_DOTS) h = cv_elu(cv_res_forward(&m->pz_r, h));
    *mu = eg_linear_forward(&m->pz_mu, h);
    *lv = cv_floor_logvar(eg_linear_forward(&m->pz_lv, h), m->cfg.sigma_min);
}

void cv_px(const compvae *m, eg_tensor *w, eg_tensor *z, eg_tensor **mu, eg_tensor **lv) {
    int64_t B = eg_dim(w, 0);
    eg_tensor *h;
    if (m->cfg.problem == CV_SINES) {
        eg_tensor *wz[2] = {w, z};
        h = cv_elu(eg_linear_forward(&m->px_in, eg_concat(wz, 2, 1)));
        for (int i = 0; i < 3; i++)
            h = cv_elu(cv_res_forward(&m->px_r[i], h));
        h = eg_reshape(h, EG_DIMS(B, m->cfg.channels[2], 5));
        for (int i = 0; i < m->n_dec; i++)
            h = cv_elu(eg_conv_forward(&m->dec[i], h)); /* -> 270 */
        /* crop [35 : 235] to the 200 samples */
        *mu = eg_reshape(eg_narrow(eg_conv_forward(&m->px_mu, h), 2, 35, EG_SINES_LEN), EG_DIMS(B, EG_SINES_LEN));
        eg_tensor *l =
            eg_reshape(eg_narrow(eg_conv_forward(&m->px_lv, h), 2, 35, EG_SINES_LEN), EG_DIMS(B, EG_SINES_LEN));
        *lv = cv_floor_logvar(l, m->cfg.sigma_min);
        return;
    }
    h = cv_elu(eg_add(cv_res_forward(&m->px_r[0], w), eg_linear_forward(&m->px_z, z)));
    h = eg_tanh(cv_res_forward(&m->px_r[1], h));
    h = cv_elu(cv_res_forward(&m->px_r[2], h));
    int64_t top = m->cfg.channels[m->n_down], s = 4;
    h = eg_reshape(eg_linear_forward(&m->px_out, h), EG_DIMS(B, top, 4, 4));
    for (int j = 0; j < m->n_dec; j++) {
        s *= 2;
        h = eg_upsample2d(h, s, s, EG_UPSAMPLE_BILINEAR, 1); /* align_corners = True */
        h = cv_elu(eg_conv_forward(&m->dec[j], h));
    }
    *mu = eg_reshape(eg_conv_forward(&m->px_mu, h), EG_DIMS(B, 3 * s * s));
    /* one log-variance per pixel, shared over RGB */
    eg_tensor *l = cv_floor_logvar(eg_conv_forward(&m->px_lv, h), m->cfg.sigma_min); /* [B, 1, s, s] */
    *lv = eg_reshape(eg_expand(l, EG_DIMS(B, 3, s, s)), EG_DIMS(B, 3 * s * s));
}

eg_tensor *cv_x_tensor(const compvae *m, const cv_batch *b) {
    return eg_from_f32(m->ctx, m->cfg.dtype, EG_DIMS(b->B, cv_x_dim(m)), b->x);
}

eg_tensor *cv_generate(const compvae *m, const cv_batch *b, eg_rng *rng, int sample_w) {
    eg_dtype dt = m->cfg.dtype;
    eg_tensor *mp, *lp;
    cv_pw(m, b, &mp, &lp);
    eg_tensor *w = mp;
    if (sample_w)
        w = eg_add(mp, eg_mul(eg_exp(eg_scale(lp, 0.5)),
                              eg_rand_normal(m->ctx, rng, dt, EG_DIMS(b->B, b->K, m->cfg.w_dim), 0, 1)));
    eg_tensor *wsum = eg_sum(w, 1, 0);
    eg_tensor *mz, *lz;
    cv_pz(m, wsum, &mz, &lz);
    eg_tensor *z = eg_add(
        mz, eg_mul(eg_exp(eg_scale(lz, 0.5)), eg_rand_normal(m->ctx, rng, dt, EG_DIMS(b->B, m->cfg.z_dim), 0, 1)));
    eg_tensor *mx, *lx;
    cv_px(m, wsum, z, &mx, &lx);
    return mx;
}

eg_status cv_batch_make(const compvae *m, eg_rng *rng, int64_t B, int K, cv_batch *b) {
    memset(b, 0, sizeof *b);
    b->B = B;
    b->K = K;
    int64_t n = B * K;
    b->x = malloc(sizeof(float) * (size_t)(B * cv_x_dim(m)));
    b->lab = malloc(sizeof(int32_t) * (size_t)n);
    if (m->cfg.problem == CV_SINES) {
        b->amp = malloc(sizeof(float) * (size_t)n);
        b->phase = malloc(sizeof(float) * (size_t)n);
        if (!b->x || !b->lab || !b->amp || !b->phase) return EG_ERR_NOMEM;
        return eg_sines_generate(rng, B, K, EG_SINES_LEN, b->x, b->lab, b->amp, b->phase, NULL);
    }
    b->loc = malloc(sizeof(float) * 2 * (size_t)n);
    b->sharp = malloc(sizeof(float) * (size_t)n);
    if (!b->x || !b->lab || !b->loc || !b->sharp) return EG_ERR_NOMEM;
    return eg_dots_generate(rng, B, K, m->cfg.size, b->x, b->lab, b->loc, b->sharp);
}

void cv_batch_free(cv_batch *b) {
    free(b->x), free(b->lab), free(b->loc), free(b->amp), free(b->phase), free(b->sharp);
    memset(b, 0, sizeof *b);
}
