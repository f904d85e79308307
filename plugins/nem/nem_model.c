/* nem_model.c — the N-EM / RNN-EM mixture: parameters, initial state, one EM
 * step (reference notes §1.2–1.5, paper eq. 3–5), the input noise (§1.6), the
 * frames of an item and the T unrolled steps that training and scoring share.
 * All K components of all B samples run as one batch of B*K rows. */
#include <math.h>
#include <string.h>

#include "engram/nn.h"
#include "nem.h"

#define NEM_PROB_EPS 1e-6 /* added to the E-step probabilities; clip of psi in the loss */

eg_status nem_init(nem_model *m, eg_ctx *ctx, const nem_cfg *cfg, int C, int H, int W, eg_dtype dt, eg_rng *rng) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->ctx = ctx;
    m->C = C, m->H = H, m->W = W;
    m->P = (int64_t)H * W, m->D = (int64_t)C * H * W;
    m->ps = eg_params_new(ctx);
    if (!m->ps) return eg_ctx_fail(ctx, EG_ERR_NOMEM, "nem: out of memory for the parameter set");
    eg_params_set_dtype(m->ps, dt);
    int64_t hd = cfg->hidden;
    if (cfg->variant == NEM_NEM) {
        /* psi = f(W sigmoid(theta)), W [D, Hd] without bias, tied with the encoder (notes §1.4) */
        m->w_tied = eg_params_create(m->ps, "nem", "w", dt, EG_DIMS(m->D, hd));
        m->eta = eg_params_create(m->ps, "nem", "eta", dt, EG_DIMS(1));
        eg_init_glorot(m->w_tied, rng, hd, m->D);
        eg_fill(m->eta, cfg->eta0);
        return eg_ctx_status(ctx);
    }
    m->in_dim = m->D;
    if (cfg->conv) {
        eg_status st = nem_conv_init(m, rng);
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

void nem_free(nem_model *m) {
    if (m->ps) eg_params_free(m->ps);
    m->ps = NULL;
}

nem_state nem_init_state(const nem_model *m, int64_t B, eg_dtype dt, eg_rng *rng) {
    nem_state s;
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

static eg_tensor *as4(const nem_model *m, eg_tensor *x, int64_t k) {
    return eg_reshape(x, EG_DIMS(-1, k, m->C, m->P));
}

/* Bernoulli likelihood of y under psi, per value: y psi + (1 - y)(1 - psi) = (1 - y) + psi (2y - 1),
 * with the two y factors formed on [B, 1, C, P] (K times smaller than psi) */
static eg_tensor *bern_p(eg_tensor *psi, eg_tensor *y4) {
    return eg_add(eg_mul(psi, eg_affine(y4, 2, -1)), eg_affine(y4, -1, 1));
}

/* gamma from per-value probabilities: sum over channels, epsilon on the probability, normalise over k */
static eg_tensor *gamma_of(const nem_model *m, eg_tensor *p) {
    if (m->C > 1) p = eg_sum(p, 2, 1);
    p = eg_add_scalar(p, NEM_PROB_EPS);
    return eg_div(p, eg_sum(p, 1, 1));
}

static eg_tensor *estep_p(const nem_model *m, eg_tensor *psi, eg_tensor *y4, eg_tensor **praw) {
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

eg_tensor *nem_estep(const nem_model *m, eg_tensor *psi, eg_tensor *y) {
    return estep_p(m, psi, as4(m, y, 1), NULL);
}

/* Per-value log-likelihood ln p(y | psi) (Bernoulli with psi clipped to [eps, 1 - eps]) and the log term
 * of the inter-cluster KL (Bernoulli prior p = 0: KL = -ln max(1 - psi, eps)); both returned un-negated.
 * For binary targets ln(clip(p)) with p = y psi + (1 - y)(1 - psi) equals y ln clip(psi) + (1 - y)
 * ln(1 - clip(psi)) and reuses the E-step's p. Gaussian (unit variance): -(psi - y)^2 / 2 and KL psi^2 / 2. */
static void loglik_kl(const nem_model *m, eg_tensor *psi, eg_tensor *y4, eg_tensor *praw, eg_tensor **ll,
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
static eg_tensor *loss_impl(const nem_model *m, eg_tensor *psi, eg_tensor *gamma, eg_tensor *y4, eg_tensor *praw) {
    eg_tensor *ll, *nkl;
    int64_t B = eg_dim(psi, 0);
    loglik_kl(m, psi, y4, praw, &ll, m->cfg.inter_weight != 0 ? &nkl : NULL);
    eg_tensor *sum = eg_sum_all(eg_mul(gamma, ll));
    if (m->cfg.inter_weight != 0)
        sum = eg_add(sum, eg_scale(eg_sum_all(eg_mul(eg_affine(gamma, -1, 1), nkl)), m->cfg.inter_weight));
    return eg_scale(sum, -1.0 / (double)B);
}

eg_tensor *nem_loss(const nem_model *m, eg_tensor *psi, eg_tensor *gamma, eg_tensor *y) {
    return loss_impl(m, psi, gamma, as4(m, y, 1), NULL);
}

eg_tensor *nem_bce_upper(const nem_model *m, eg_tensor *psi, eg_tensor *y) {
    eg_tensor *ll, *y4 = as4(m, y, 1);
    loglik_kl(m, eg_max(psi, 1, 1), y4, NULL, &ll, NULL);
    return eg_scale(eg_sum_all(ll), -1.0 / (double)eg_dim(psi, 0));
}

eg_tensor *nem_decode(const nem_model *m, eg_tensor *theta) {
    eg_tensor *logits = eg_matmul_nt(eg_sigmoid(theta), m->w_tied); /* [N, Hd] x [D, Hd]^T */
    return m->cfg.gaussian ? logits : eg_sigmoid(logits);
}

void nem_mstep(const nem_model *m, eg_tensor *theta, eg_tensor *r, eg_tensor **theta_out, eg_tensor **psi_out) {
    if (m->cfg.variant == NEM_NEM) {
        /* generalised M-step: theta' = theta + eta sigma'(theta) (.) W^T r, a gradient step on Q (eq. 3-4) */
        eg_tensor *s = eg_sigmoid(theta);
        eg_tensor *g = eg_mul(eg_mul(s, eg_affine(s, -1, 1)), eg_matmul(r, m->w_tied));
        *theta_out = eg_add(theta, eg_mul(g, m->eta));
        *psi_out = nem_decode(m, *theta_out);
        return;
    }
    /* RNN-EM: a = W_x enc(r) + W_h theta + b; theta' = sigmoid(a); decoder sees sigmoid(LN(a)) */
    eg_tensor *in = m->cfg.conv ? nem_conv_encode(m, r) : r;
    eg_tensor *a = eg_matmul_nt(in, m->w_x);
    if (theta) a = eg_add(a, eg_matmul_nt(theta, m->w_h)); /* NULL: theta = 0 (the first step) */
    a = eg_add(a, m->b_h);
    *theta_out = eg_sigmoid(a);
    eg_tensor *h = m->cfg.layer_norm ? eg_sigmoid(eg_layer_norm_forward(&m->ln, a)) : *theta_out;
    eg_tensor *logits = m->cfg.conv ? nem_conv_decode(m, h) : eg_linear_forward(&m->out, h);
    *psi_out = m->cfg.gaussian ? logits : eg_sigmoid(logits);
}

nem_state nem_step(const nem_model *m, nem_state s, eg_tensor *x, eg_tensor *y, eg_tensor **loss) {
    int64_t K = m->cfg.k;
    eg_tensor *g_old = m->cfg.gamma_grad ? s.gamma : eg_detach(s.gamma);
    eg_tensor *delta = s.psi ? eg_sub(as4(m, x, 1), s.psi) : as4(m, x, 1); /* [B, K, C, P]; NULL psi: 0 */
    eg_tensor *r = eg_reshape(eg_mul(g_old, delta), EG_DIMS(-1, m->D));    /* [B*K, D] */
    nem_state out;
    eg_tensor *psi;
    nem_mstep(m, s.theta, r, &out.theta, &psi);
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

eg_tensor *nem_noise(const nem_model *m, eg_tensor *x, eg_rng *rng) {
    double p = m->cfg.noise_p;
    if (m->cfg.noise == NEM_NOISE_NONE || p <= 0) return x;
    eg_dtype dt = eg_dtype_of(x);
    eg_tensor *b = eg_rand_bernoulli(m->ctx, rng, dt, eg_ndim(x), eg_shape(x), p);
    if (m->cfg.noise == NEM_NOISE_BITFLIP) /* x XOR b for binary x */
        return eg_sub(eg_add(x, b), eg_scale(eg_mul(x, b), 2.0));
    /* masked uniform: with probability p the value becomes U(0, 1) */
    eg_tensor *u = eg_rand_uniform(m->ctx, rng, dt, eg_ndim(x), eg_shape(x), 0.0, 1.0);
    return eg_add(x, eg_mul(b, eg_sub(u, x)));
}

int nem_binary_data(const eg_dataset *ds) {
    int64_t n = ds->n * ds->dim;
    for (int64_t i = 0; i < n; i++)
        if (ds->x[i] != 0.0f && ds->x[i] != 1.0f) return 0;
    return 1;
}

void nem_frames(const eg_dataset *ds, int *frames, int *channels) {
    int f = ds->frames > 1 ? ds->frames : 1;
    *frames = ds->frames > 0 ? ds->frames : 0;
    *channels = ds->channels / f > 0 ? ds->channels / f : 1;
}

eg_tensor *nem_frame(eg_tensor *rows, int frames, int64_t D, int t) {
    if (frames <= 1) return rows;
    return eg_narrow(eg_reshape(rows, EG_DIMS(eg_dim(rows, 0), frames, D)), 1, t, 1);
}

/* the T steps of training and scoring (nem.h): x is frame t (noisy), y frame t + 1, or the image */
eg_tensor *nem_unroll(const nem_model *m, eg_tensor *rows, int frames, eg_rng *gamma_rng, eg_rng *noise_rng,
                      nem_state *final, eg_tensor **bce, nem_trace *trace) {
    int64_t B = eg_dim(rows, 0);
    eg_dtype dt = eg_dtype_of(rows);
    nem_state s = nem_init_state(m, B, dt, gamma_rng);
    s.psi = NULL; /* = 0: the first step skips the work on zeros */
    if (m->cfg.variant == NEM_RNN) s.theta = NULL;
    eg_tensor *total = NULL, *y = rows, *flips = NULL, *xn_all = NULL;
    int T = m->cfg.steps;
    if (m->cfg.noise == NEM_NOISE_BITFLIP && m->cfg.noise_p > 0) {
        /* the bit flips of all T steps in one draw: the same stream values as T draws of [B, D] */
        flips = eg_rand_bernoulli(m->ctx, noise_rng, dt, EG_DIMS(T, B, m->D), m->cfg.noise_p);
        if (frames <= 1) /* static: x XOR b = x + b (1 - 2x) for all steps at once */
            xn_all = eg_add(rows, eg_mul(flips, eg_affine(rows, -2, 1)));
    }
    for (int t = 0; t < T; t++) {
        eg_tensor *x = rows, *xn;
        if (frames > 1) {
            x = eg_reshape(nem_frame(rows, frames, m->D, t), EG_DIMS(B, m->D));
            y = eg_reshape(nem_frame(rows, frames, m->D, t + 1), EG_DIMS(B, m->D));
        }
        if (xn_all)
            xn = eg_reshape(eg_narrow(xn_all, 0, t, 1), EG_DIMS(B, m->D));
        else if (flips)
            xn = eg_add(x, eg_mul(eg_reshape(eg_narrow(flips, 0, t, 1), EG_DIMS(B, m->D)), eg_affine(x, -2, 1)));
        else
            xn = nem_noise(m, x, noise_rng);
        eg_tensor *loss = NULL;
        s = nem_step(m, s, xn, y, &loss);
        if (m->cfg.loss_all || t == m->cfg.steps - 1) total = total ? eg_add(total, loss) : loss;
        if (trace) trace->step(trace, t, &s, x, y);
    }
    if (bce) {
        eg_no_grad_begin(m->ctx);
        *bce = nem_bce_upper(m, eg_detach(s.psi), y);
        eg_no_grad_end(m->ctx);
    }
    if (final) *final = s;
    return total;
}
