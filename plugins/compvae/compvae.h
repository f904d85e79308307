/* compvae.h — the Compositional VAE (Berger & Sebag, ECML-PKDD 2019; notes:
 * models-nem-compvae.md §2). A whole x is made of an unordered multiset of K
 * parts with labels l_1..l_K:
 *   generative  w_i ~ p(w_i | l_i),  w~ = sum_i w_i,  z ~ p(z | w~),  x ~ p(x | z, w~);
 *   inference   z ~ q(z | x), then (w_1..w_K) ~ q(w | x, z, {l_i}), a correlated
 *               Gaussian built by GraphBlocks with the rho parametrisation (eq. 6-9).
 * Shared declarations of the plugin's files. */
#ifndef COMPVAE_H
#define COMPVAE_H

#include <stdint.h>

#include "engram/plugin.h"
#include "engram/synth.h"

enum { CV_SINES = 0, CV_DOTS = 1 };

/* ---- building blocks (compvae_blocks.c) ---- */
/* Residual(N): y = x + L2(elu(L1(x))), no activation after the sum */
typedef struct cv_res {
    eg_linear l1, l2;
} cv_res;

/* GraphBlock(h_in, h_out) on [B, K, h_in], permutation-equivariant for any K:
 * e_j = elu(Res_g1(h_j)); m_i = sum_{j != i} e_j; m_i <- Res_g3(tanh(Res_g2(m_i)));
 * sines: out_i = L3(elu(Res_f2(elu(L1([h_i, m_i])))));  colour: out_i = Res_f2(elu(L1([h_i, m_i]))). */
typedef struct cv_graph {
    cv_res g1, g2, g3, f2;
    eg_linear l1, l3;
    int colour;
    int64_t hin, hout;
} cv_graph;

/* linear layer with PyTorch's default init U(+-1/sqrt(fan_in)) for weight and bias */
eg_status cv_linear(eg_linear *l, eg_params *ps, const char *name, int64_t in, int64_t out, eg_rng *rng);
eg_status cv_conv(eg_conv *c, eg_params *ps, const char *name, int dims, int transposed, int64_t cin, int64_t cout,
                  int64_t k, int stride, int pad, eg_rng *rng);
eg_status cv_res_init(cv_res *r, eg_params *ps, const char *name, int64_t n, eg_rng *rng);
eg_tensor *cv_res_forward(const cv_res *r, eg_tensor *x);
eg_status cv_graph_init(cv_graph *g, eg_params *ps, const char *name, int64_t hin, int64_t hout, int colour,
                        eg_rng *rng);
eg_tensor *cv_graph_forward(const cv_graph *g, eg_tensor *h); /* [B, K, hin] -> [B, K, hout] */
eg_tensor *cv_elu(eg_tensor *x);

/* ---- the posterior over w and the losses (compvae_kl.c) ---- */
/* soft variance floor of the prior / generator log-variances:
 * f(u) = elu(u - c - 1) + 1 + c with c = 2 ln sigma_min (identity above c + 1, -> c below) */
eg_tensor *cv_floor_logvar(eg_tensor *u, double sigma_min);
/* rho from the logits r [B, K, W]: a fixed zero logit is appended along K and a
 * softmax taken over the K + 1 entries; *rho = [B, K, W], *log_rest = ln(1 - sum_i rho_i) [B, W] */
void cv_rho(eg_tensor *r, eg_tensor **rho, eg_tensor **log_rest);
/* w_i = mu_i + sigma_i (eps_i - rho_i sum_j eps_j), eps [B, K, W] ~ N(0, 1) */
eg_tensor *cv_sample_w(eg_tensor *mu, eg_tensor *logvar, eg_tensor *rho, eg_tensor *eps);
/* eq. 9: KL(q({w_i}) || prod_i p(w_i | l_i)) per sample [B], summed over i and the W coordinates:
 * 1/2 sum_d [ sum_i (lv_p - lv_q) - 2 ln(1 - sum rho) + sum_i (mu_q - mu_p)^2 / s_p^2
 *             + sum_i (1 - 2 rho_i + K rho_i^2) s_q^2 / s_p^2 - K ] */
eg_tensor *cv_kl_w(eg_tensor *mu_q, eg_tensor *lv_q, eg_tensor *r, eg_tensor *mu_p, eg_tensor *lv_p);
/* L_z per sample [B]: 1/2 sum [(z - mu_p)^2 / s_p^2 + lv_p - lv_q - 1] (log p sampled, entropy analytic) */
eg_tensor *cv_loss_z(eg_tensor *z, eg_tensor *lv_q, eg_tensor *mu_p, eg_tensor *lv_p);
/* L_x per sample [B]: 1/2 sum [(x - mu)^2 e^-lv + lv - 2 ln sigma_min] = -ln(N(x | mu, s^2) Delta),
 * Delta = sigma_min sqrt(2 pi); lv broadcastable to mu's shape */
eg_tensor *cv_loss_x(eg_tensor *x, eg_tensor *mu, eg_tensor *lv, double sigma_min);

/* ---- the model (compvae_net.c) ---- */
typedef struct cv_config {
    int problem;
    int64_t w_dim, z_dim, hidden;
    int graph_blocks;
    int64_t channels[5]; /* sines: c1, c2, c3 (decoder last = c1 / 2); dots: encoder widths */
    int n_channels;
    int size; /* dots: image side (a power of two >= 8) */
    double sigma_min;
    eg_dtype dtype; /* parameters and activations (EG_F32; EG_F64 in gradient checks) */
} cv_config;

typedef struct compvae {
    cv_config cfg;
    eg_ctx *ctx;
    eg_params *ps;
    int64_t flat; /* h_x width */
    int64_t lab;  /* q label-embedding width */
    int n_down;   /* dots: stride-2 stages */
    /* encoder of x */
    eg_conv enc[6];
    int n_enc;
    cv_res enc_res;
    /* q(z | x) */
    eg_linear qz_in, qz_mu, qz_lv;
    cv_res qz_r1, qz_r2;
    /* q(w | x, z, l) */
    eg_embedding qw_emb;
    eg_linear qw_loc;
    cv_graph gb[8];
    eg_linear qw_mu, qw_lv, qw_r;
    /* p(w | l) */
    eg_embedding pw_mu, pw_lv, pw_emb;
    eg_linear pw_loc, pw_in, pw_hmu, pw_hlv;
    /* p(z | w) */
    eg_linear pz_in, pz_mu, pz_lv;
    cv_res pz_r;
    /* p(x | w, z) */
    eg_linear px_in, px_z, px_out;
    cv_res px_r[3];
    eg_conv dec[8];
    int n_dec;
    eg_conv px_mu, px_lv;
} compvae;

/* one sub-batch: B wholes of K parts; labels on the host */
typedef struct cv_batch {
    int64_t B;
    int K;
    float *x;                   /* [B, dim] (sines: 200; dots: 3 x size x size, values in [0, 1]) */
    int32_t *lab;               /* [B, K] sines: frequency 1..9; dots: colour 0..4 */
    float *loc;                 /* dots: [B, K, 2] centres; NULL for sines */
    float *amp, *phase, *sharp; /* generator extras */
} cv_batch;

typedef struct cv_losses {
    eg_tensor *lw, *lz, *lx; /* per-sample [B], nats */
} cv_losses;

eg_status cv_create(compvae *m, eg_ctx *ctx, const cv_config *cfg, eg_rng *init);
void cv_destroy(compvae *m);
int64_t cv_x_dim(const compvae *m);
/* host batch generation (allocates the arrays; cv_batch_free) */
eg_status cv_batch_make(const compvae *m, eg_rng *rng, int64_t B, int K, cv_batch *b);
void cv_batch_free(cv_batch *b);
/* tensors of a batch on the model's backend */
eg_tensor *cv_x_tensor(const compvae *m, const cv_batch *b);
/* networks */
eg_tensor *cv_encode(const compvae *m, eg_tensor *x); /* [B, dim] -> h_x [B, flat] */
void cv_qz(const compvae *m, eg_tensor *hx, eg_tensor **mu, eg_tensor **lv);
/* q(w): e [B, K, lab] label features (noise already added), hx [B, flat], z [B, Z] -> heads [B, K, W] */
void cv_qw(const compvae *m, eg_tensor *e, eg_tensor *hx, eg_tensor *z, eg_tensor **mu, eg_tensor **lv, eg_tensor **r);
eg_tensor *cv_q_labels(const compvae *m, const cv_batch *b, eg_rng *rng);                 /* [B, K, lab] */
void cv_pw(const compvae *m, const cv_batch *b, eg_tensor **mu, eg_tensor **lv);          /* [B, K, W], floored */
void cv_pz(const compvae *m, eg_tensor *w, eg_tensor **mu, eg_tensor **lv);               /* floored */
void cv_px(const compvae *m, eg_tensor *w, eg_tensor *z, eg_tensor **mu, eg_tensor **lv); /* [B, dim], lv floored */
/* the three losses of a batch (reparametrised samples from rng) */
cv_losses cv_forward(const compvae *m, const cv_batch *b, eg_rng *rng);
/* generation from parts: w_i ~ p, z ~ p(z | w~), x = mean of p(x | z, w~); [B, dim] */
eg_tensor *cv_generate(const compvae *m, const cv_batch *b, eg_rng *rng, int sample_w);

/* ---- training and evaluation (compvae_train.c, compvae_eval.c) ---- */
typedef struct cv_train {
    double lr, lr_floor;
    int64_t lr_halve_every, batch, sub_batches, iterations, k_start, k_every, k_cap;
} cv_train;
/* K_max at iteration it: min(k_cap, max(k_start, 1 + floor(it / k_every))) */
int cv_k_max(const cv_train *t, int64_t it);
/* lr at iteration it: lr * max(0.5^(1 + floor(it / lr_halve_every)), lr_floor) (the paper's
 * scheduler is stepped at iteration 0 too) */
double cv_lr_at(const cv_train *t, int64_t it);
eg_status cv_fit(compvae *m, const cv_train *t, eg_run *run);
eg_status cv_eval(compvae *m, const cv_train *t, eg_run *run);
/* the k strongest integer spectral lines (1..9) of a sines whole, as a 9-bit mask */
unsigned cv_lines(const float *x, int len, int k);
/* line plot of curves (n curves of len values, colours rgb) into a h x w x 3 picture */
void cv_plot(uint8_t *pix, int h, int w, const float *const *curves, int n, int len, const uint8_t (*rgb)[3], double lo,
             double hi);

#endif
