/* nem_model.c — the N-EM / RNN-EM mixture: parameters, initial state, one EM
 * step (reference notes §1.2–1.5, paper eq. 3–5) and the input noise (§1.6).
 * All K components of all B samples run as one batch of B*K rows. */
#include <math.h>
#include <string.h>

#include "engram/nn.h"
#include "nem.h"

#define NEM_PROB_EPS 1e-6 /* added to the E-step probabilities; clip of psi in the loss */

eg_status eg_nem_init(eg_nem *m, eg_ctx *ctx, const eg_nem_cfg *cfg, int C, int H, int W, eg_dtype dt, eg_rng *rng) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->ctx = ctx;
    m->C = C, m->H = H, m->W = W;
    m->P = (int64_t)H * W, m->D = (int64_t)C * H * W;
    m->ps = eg_params_new(ctx);
    if (!m->ps) return eg_ctx_fail(ctx, EG_ERR_NOMEM, "nem: out of memory for the parameter set");
    eg_params_set_dtype(m->ps, dt);
    int64_t hd = cfg->hidden;
    if (cfg->variant == EG_NEM_NEM) {
        /* psi = f(W sigmoid(theta)), W [D, Hd] without bias, tied with the encoder (notes §1.4) */
        m->w_tied = eg_params_create(m->ps, "nem", "w", dt, EG_DIMS(m->D, hd));
        m->eta = eg_params_create(m->ps, "nem", "eta", dt, EG_DIMS(1));
        eg_init_glorot(m->w_tied, rng, hd, m->D);
        eg_fill(m->eta, cfg->eta0);
        return eg_ctx_status(ctx);
    }
    m->in_dim = m->D;
    if (cfg->conv) {
        eg_status st = eg_nem_conv_init(m, rng);
        if (st != EG_OK) return st;
    }
    /* a = W [r, theta] + b as two blocks of one Glorot-initialised matrix (fan_in = in + Hd) */
    m->w_x = eg_params_create(m->ps, "rnn", "w_x", dt, EG_DIMS(hd, m->in_dim));
    m->w_h = eg_params_create(m->ps, "rnn", "w_h", dt, EG_DIMS(hd, hd));
    m->b_h = eg_params_create(m->ps, "rnn", "b", dt, EG_DIMS(hd));
    eg_init_glorot(m->w_x, rng, m->in_dim + hd, hd);
    eg_init_glorot(m->w_h, rng, m->in_dim + hd, hd);
    if (cfg->layer_norm) eg_layer_norm_init(&m->ln, m->ps, "rnn.ln", hd, 1e-5);
    if (!cfg->conv) eg_linear_init(&m->out, m->ps, "out", hd, m->D, 1, rng);
    return eg_ctx_status(ctx);
}

void eg_nem_free(eg_nem *m) {
    if (m->ps) eg_params_free(m->ps);
    m->ps = NULL;
}

eg_nem_state eg_nem_init_state(const eg_nem *m, int64_t B, eg_dtype dt, eg_rng *rng) {
    eg_nem_state s;
    int64_t K = m->cfg.k;
    s.theta = eg_zeros(m->ctx, dt, EG_DIMS(B * K, m->cfg.hidden));
    s.psi = eg_zeros(m->ctx, dt, EG_DIMS(B, K, m->C, m->P)); /* pred_init = 0, not decoder(0) */
    if (K == 1) {
        s.gamma = eg_full(m->ctx, dt, EG_DIMS(B, 1, 1, m->P), 1.0);
        return s;
    }
    /* |n| / sum_k |n|: the only symmetry breaking between components */
    eg_tensor *n = eg_abs(eg_rand_normal(m->ctx, rng, dt, EG_DIMS(B, K, 1, m->P), 0.0, 1.0));
    s.gamma = eg_div(n, eg_sum(n, 1, 1));
    return s;
}

static eg_tensor *as4(const eg_nem *m, eg_tensor *x, int64_t k) {
    return eg_reshape(x, EG_DIMS(-1, k, m->C, m->P));
}

/* Bernoulli likelihood of y under psi, per value: y psi + (1 - y)(1 - psi) = (1 - y) + psi (2y - 1),
 * with the two y factors formed on [B, 1, C, P] (K times smaller than psi) */
static eg_tensor *bern_p(eg_tensor *psi, eg_tensor *y4) {
    return eg_add(eg_mul(psi, eg_affine(y4, 2, -1)), eg_affine(y4, -1, 1));
}

/* gamma from per-value probabilities: sum over channels, epsilon on the probability, normalise over k */
static eg_tensor *gamma_of(const eg_nem *m, eg_tensor *p) {
    if (m->C > 1) p = eg_sum(p, 2, 1);
    p = eg_add_scalar(p, NEM_PROB_EPS);
    return eg_div(p, eg_sum(p, 1, 1));
}

static eg_tensor *estep_p(const eg_nem *m, eg_tensor *psi, eg_tensor *y4, eg_tensor **praw) {
    eg_tensor *p;
    if (!m->cfg.gaussian) {
        p = bern_p(psi, y4);
        if (praw) *praw = p;
    } else {
        /* N(y; psi, sigma_E^2) with sigma_E a temperature */
        double s2 = m->cfg.e_sigma * m->cfg.e_sigma;
        p = eg_scale(eg_exp(eg_scale(eg_square(eg_sub(y4, psi)), -0.5 / s2)), 1.0 / sqrt(2 * M_PI * s2));
        if (praw) *praw = NULL;
    }
    return gamma_of(m, p);
}

eg_tensor *eg_nem_estep(const eg_nem *m, eg_tensor *psi, eg_tensor *y) {
    return estep_p(m, psi, as4(m, y, 1), NULL);
}

/* Per-value log-likelihood ln p(y | psi) (Bernoulli with psi clipped to [eps, 1 - eps]) and the log term
 * of the inter-cluster KL (Bernoulli prior p = 0: KL = -ln max(1 - psi, eps)); both returned un-negated.
 * For binary targets ln(clip(p)) with p = y psi + (1 - y)(1 - psi) equals y ln clip(psi) + (1 - y)
 * ln(1 - clip(psi)) and reuses the E-step's p. Gaussian (unit variance): -(psi - y)^2 / 2 and KL psi^2 / 2. */
static void loglik_kl(const eg_nem *m, eg_tensor *psi, eg_tensor *y4, eg_tensor *praw, eg_tensor **ll,
                      eg_tensor **kl) {
    if (!m->cfg.gaussian) {
        if (m->binary_targets) {
            *ll = eg_ln(eg_clamp(praw ? praw : bern_p(psi, y4), NEM_PROB_EPS, 1 - NEM_PROB_EPS));
        } else {
            eg_tensor *pc = eg_clamp(psi, NEM_PROB_EPS, 1 - NEM_PROB_EPS);
            *ll = eg_add(eg_mul(y4, eg_ln(pc)), eg_mul(eg_affine(y4, -1, 1), eg_ln(eg_affine(pc, -1, 1))));
        }
        if (kl) *kl = eg_ln(eg_clamp(eg_affine(psi, -1, 1), NEM_PROB_EPS, 1)); /* -KL */
    } else {
        *ll = eg_scale(eg_square(eg_sub(psi, y4)), -0.5);
        if (kl) *kl = eg_scale(eg_square(psi), -0.5); /* -KL */
    }
}

/* eq. (5): -(sum gamma ln p + lambda sum (1 - gamma)(-KL)) / B */
static eg_tensor *loss_impl(const eg_nem *m, eg_tensor *psi, eg_tensor *gamma, eg_tensor *y4, eg_tensor *praw) {
    eg_tensor *ll, *nkl;
    int64_t B = eg_dim(psi, 0);
    loglik_kl(m, psi, y4, praw, &ll, m->cfg.inter_weight != 0 ? &nkl : NULL);
    eg_tensor *sum = eg_sum_all(eg_mul(gamma, ll));
    if (m->cfg.inter_weight != 0)
        sum = eg_add(sum, eg_scale(eg_sum_all(eg_mul(eg_affine(gamma, -1, 1), nkl)), m->cfg.inter_weight));
    return eg_scale(sum, -1.0 / (double)B);
}

eg_tensor *eg_nem_loss(const eg_nem *m, eg_tensor *psi, eg_tensor *gamma, eg_tensor *y) {
    return loss_impl(m, psi, gamma, as4(m, y, 1), NULL);
}

eg_tensor *eg_nem_bce_upper(const eg_nem *m, eg_tensor *psi, eg_tensor *y) {
    eg_tensor *ll, *y4 = as4(m, y, 1);
    loglik_kl(m, eg_max(psi, 1, 1), y4, NULL, &ll, NULL);
    return eg_scale(eg_sum_all(ll), -1.0 / (double)eg_dim(psi, 0));
}

eg_tensor *eg_nem_decode(const eg_nem *m, eg_tensor *theta) {
    eg_tensor *logits = eg_matmul_nt(eg_sigmoid(theta), m->w_tied); /* [N, Hd] x [D, Hd]^T */
    return m->cfg.gaussian ? logits : eg_sigmoid(logits);
}

void eg_nem_mstep(const eg_nem *m, eg_tensor *theta, eg_tensor *r, eg_tensor **theta_out, eg_tensor **psi_out) {
    if (m->cfg.variant == EG_NEM_NEM) {
        /* generalised M-step: theta' = theta + eta sigma'(theta) (.) W^T r, a gradient step on Q (eq. 3-4) */
        eg_tensor *s = eg_sigmoid(theta);
        eg_tensor *g = eg_mul(eg_mul(s, eg_affine(s, -1, 1)), eg_matmul(r, m->w_tied));
        *theta_out = eg_add(theta, eg_mul(g, m->eta));
        *psi_out = eg_nem_decode(m, *theta_out);
        return;
    }
    /* RNN-EM: a = W_x enc(r) + W_h theta + b; theta' = sigmoid(a); decoder sees sigmoid(LN(a)) */
    eg_tensor *in = m->cfg.conv ? eg_nem_conv_encode(m, r) : r;
    eg_tensor *a = eg_matmul_nt(in, m->w_x);
    if (theta) a = eg_add(a, eg_matmul_nt(theta, m->w_h)); /* NULL: theta = 0 (the first step) */
    a = eg_add(a, m->b_h);
    *theta_out = eg_sigmoid(a);
    eg_tensor *h = m->cfg.layer_norm ? eg_sigmoid(eg_layer_norm_forward(&m->ln, a)) : *theta_out;
    eg_tensor *logits = m->cfg.conv ? eg_nem_conv_decode(m, h) : eg_linear_forward(&m->out, h);
    *psi_out = m->cfg.gaussian ? logits : eg_sigmoid(logits);
}

eg_nem_state eg_nem_step(const eg_nem *m, eg_nem_state s, eg_tensor *x, eg_tensor *y, eg_tensor **loss) {
    int64_t K = m->cfg.k;
    eg_tensor *g_old = m->cfg.gamma_grad ? s.gamma : eg_detach(s.gamma);
    eg_tensor *delta = s.psi ? eg_sub(as4(m, x, 1), s.psi) : as4(m, x, 1); /* [B, K, C, P]; NULL psi: 0 */
    eg_tensor *r = eg_reshape(eg_mul(g_old, delta), EG_DIMS(-1, m->D)); /* [B*K, D] */
    eg_nem_state out;
    eg_tensor *psi;
    eg_nem_mstep(m, s.theta, r, &out.theta, &psi);
    out.psi = as4(m, psi, K);
    if (!m->cfg.gamma_grad) {
        /* stop-gradient on gamma: the E-step and eq. (5) as one op (one pass each way) */
        eg_tensor *l = eg_mixture_estep_loss(out.psi, y, m->cfg.gaussian, m->cfg.e_sigma, m->cfg.inter_weight,
                                             NEM_PROB_EPS, &out.gamma);
        if (loss) *loss = eg_scale(eg_sum_all(l), 1.0 / (double)eg_dim(out.psi, 0));
        return out;
    }
    eg_tensor *y4 = as4(m, y, 1), *praw = NULL;
    out.gamma = estep_p(m, out.psi, y4, &praw); /* the E-step's p is reused by the loss */
    if (loss) *loss = loss_impl(m, out.psi, out.gamma, y4, praw);
    return out;
}

eg_tensor *eg_nem_noise(const eg_nem *m, eg_tensor *x, eg_rng *rng) {
    double p = m->cfg.noise_p;
    if (m->cfg.noise == EG_NEM_NOISE_NONE || p <= 0) return x;
    eg_dtype dt = eg_dtype_of(x);
    eg_tensor *b = eg_rand_bernoulli(m->ctx, rng, dt, eg_ndim(x), eg_shape(x), p);
    if (m->cfg.noise == EG_NEM_NOISE_BITFLIP) /* x XOR b for binary x */
        return eg_sub(eg_add(x, b), eg_scale(eg_mul(x, b), 2.0));
    /* masked uniform: with probability p the value becomes U(0, 1) */
    eg_tensor *u = eg_rand_uniform(m->ctx, rng, dt, eg_ndim(x), eg_shape(x), 0.0, 1.0);
    return eg_add(x, eg_mul(b, eg_sub(u, x)));
}

void eg_nem_frames(const eg_dataset *ds, int *frames, int *channels) {
    int f = ds->frames > 1 ? ds->frames : 1;
    *frames = ds->frames > 0 ? ds->frames : 0;
    *channels = ds->channels / f > 0 ? ds->channels / f : 1;
}

eg_tensor *eg_nem_frame(eg_tensor *rows, int frames, int64_t D, int t) {
    if (frames <= 1) return rows;
    return eg_narrow(eg_reshape(rows, EG_DIMS(eg_dim(rows, 0), frames, D)), 1, t, 1);
}
