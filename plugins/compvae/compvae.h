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
/* the same on the parts of several wholes as rows: h [P, hin], owner [P] (EG_I32) the whole (0..wholes-1)
 * of each part; wholes may have different numbers of parts -> [P, hout] */
eg_tensor *cv_graph_rows(const cv_graph *g, eg_tensor *h, eg_tensor *owner, int64_t wholes);
/* owner index of B wholes of K parts each, part rows in (whole, part) order: i / K */
eg_tensor *cv_owner_dense(eg_ctx *ctx, int64_t B, int64_t K);
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
/* the same from rho and ln(1 - sum rho) (cv_rho) */
eg_tensor *cv_kl_w_rho(eg_tensor *mu_q, eg_tensor *lv_q, eg_tensor *rho, eg_tensor *log_rest, eg_tensor *mu_p,
                       eg_tensor *lv_p);
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
/* the same on part rows: e [P, lab], hx [wholes, flat], z [wholes, Z], owner [P] -> heads [P, W] */
void cv_qw_rows(const compvae *m, eg_tensor *e, eg_tensor *hx, eg_tensor *z, eg_tensor *owner, eg_tensor **mu,
                eg_tensor **lv, eg_tensor **r);
/* part-row label tensors: lab [P] EG_I32 (sines: embedding row f - 1; dots: the colour), loc [P, 2] (dots) */
eg_tensor *cv_label_rows(const compvae *m, const int32_t *lab, int64_t P);
eg_tensor *cv_loc_rows(const compvae *m, const float *loc, int64_t P);
/* q label features [P, lab] of part rows (noise [P, lab] added for sines; NULL for dots) */
eg_tensor *cv_q_label_rows(const compvae *m, eg_tensor *lab, eg_tensor *loc, eg_tensor *noise);
/* p(w | l) of part rows: [P, W], lv floored */
void cv_pw_rows(const compvae *m, eg_tensor *lab, eg_tensor *loc, eg_tensor **mu, eg_tensor **lv);
eg_tensor *cv_q_labels(const compvae *m, const cv_batch *b, eg_rng *rng);                 /* [B, K, lab] */
void cv_pw(const compvae *m, const cv_batch *b, eg_tensor **mu, eg_tensor **lv);          /* [B, K, W], floored */
void cv_pz(const compvae *m, eg_tensor *w, eg_tensor **mu, eg_tensor **lv);               /* floored */
void cv_px(const compvae *m, eg_tensor *w, eg_tensor *z, eg_tensor **mu, eg_tensor **lv); /* [B, dim], lv floored */
/* the standard-normal noise of one forward pass: z [B, Z]; label noise [B, K, lab] (sines; NULL for
 * dots); eps of the w sampler [B, K, W] */
typedef struct cv_noise {
    eg_tensor *z, *lab, *w;
} cv_noise;
/* draws the noise of a batch from rng (in the order z, label, w) */
cv_noise cv_noise_draw(const compvae *m, const cv_batch *b, eg_rng *rng);
/* q label features with the given noise (NULL for dots) added */
eg_tensor *cv_q_labels_with(const compvae *m, const cv_batch *b, eg_tensor *noise);
/* the three losses of a batch (reparametrised samples from rng) */
cv_losses cv_forward(const compvae *m, const cv_batch *b, eg_rng *rng);
/* the same with the noise given (the benchmark's check feeds both implementations identical noise) */
cv_losses cv_forward_with(const compvae *m, const cv_batch *b, const cv_noise *n);
/* n sub-batches (each with its own K) in one pass: the per-whole networks run on all wholes at once,
 * the per-part networks on all parts at once, the posterior over w per sub-batch; the losses are
 * per whole [sum_j B_j], in sub-batch order. n <= CV_MAX_SUB. */
enum { CV_MAX_SUB = 64 };
cv_losses cv_forward_multi(const compvae *m, int n, const cv_batch *bs, const cv_noise *noise);
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
/* the result of one update: the objective and its three terms (nats, averaged over sub-batches) */
typedef struct cv_step {
    double loss, lw, lz, lx;
    int skipped; /* 1: the loss was not finite or >= 1e8, no update was made */
} cv_step;
/* one update on n given sub-batches: losses averaged over them, one backward pass on L_w + L_z + L_x
 * and an optimiser step (skipped when the loss is not finite or >= 1e8). Noise from `noise`, or, when
 * `given` is not NULL, given[j] for sub-batch j. Opens and closes its own scope. */
eg_status cv_update(compvae *m, eg_optim *opt, int n, const cv_batch *bs, eg_rng *noise, const cv_noise *given,
                    cv_step *out);
/* one training update as cv_fit makes it: t->sub_batches sub-batches of t->batch / t->sub_batches wholes
 * drawn from `data`, sub-batch j with K = ks[j] or, when ks is NULL, K ~ U{1..kmax} */
eg_status cv_train_step(compvae *m, const cv_train *t, eg_optim *opt, eg_rng *data, eg_rng *noise, int kmax,
                        const int *ks, cv_step *out);
eg_status cv_fit(compvae *m, const cv_train *t, eg_run *run);
eg_status cv_eval(compvae *m, const cv_train *t, eg_run *run);
/* the k strongest integer spectral lines (1..9) of a sines whole, as a 9-bit mask */
unsigned cv_lines(const float *x, int len, int k);
/* line plot of curves (n curves of len values, colours rgb) into a h x w x 3 picture */
void cv_plot(uint8_t *pix, int h, int w, const float *const *curves, int n, int len, const uint8_t (*rgb)[3], double lo,
             double hi);

#endif
