/* vmfdam.h — the vmfdam plugin's model (Thériault & Tantari, "Saddle hierarchy
 * in dense associative memory", arXiv 2508.19151; implementer notes in
 * reference/model-vmfdam.md). The plugin's internal API: its tests and bench are
 * linked with the plugin's code and call these directly; not part of the SDK (the
 * .so exports only eg_model_entry).
 *
 * Data x on S^{N-1} (rows), memories w^mu on S^{N-1} (rows of W [P, N]), class
 * weights g [P+1, C+1] on the transportation polytope (row P is the null unit
 * gamma = 0, column C the extra class), inverse temperature beta, ς = varsigma:
 *   h_mu  = ς beta x.w^mu - tau(beta),  h_null = 0,  tau = ln Omega_N(beta)/Omega_N(0)
 *   out_y = ln( sum_mu g_{mu y} e^{h_mu} + g_{P y} )                        (eq. 12)
 * evaluated as c + ln(sum_gamma g e^{h_gamma - c}), c = max(max_mu h_mu, 0).
 * Supervised loss (eq. 4 / 12): L = -mean_x sum_y T_y out_y with targets
 *   T = (1 - s) onehot + s/(C+1) over the C+1 columns.
 * Unsupervised loss (eq. 15): q = (1 - eps) softmax(out) + eps/(C+1),
 *   L = -mean_x sum_y q_y out_y (no stop-gradient through q). */
#ifndef VMF_VMFDAM_H
#define VMF_VMFDAM_H

#include "engram/plugin.h"

/* hyperparameters: fixed for a run */
typedef struct vmf_config {
    /* objective */
    double varsigma;  /* ς: the exponent uses ς beta, tau uses beta (eq. 12) */
    double softening; /* s: label softening of the training targets (supervised) */
    double epsilon;   /* eps: prediction softening (unsupervised, eq. 15) */
    int unsupervised;
    int debye;          /* tau from the reference code's leading-order formula */
    int beta_trainable; /* beta is trained by SMD */
    /* optimiser (SMD, reference/model-vmfdam.md §6) */
    double lr, momentum;
    int sinkhorn_iters;
} vmf_config;

/* the trained parameters and the polytope g lives on: persistent tensors of the model's dtype */
typedef struct vmf_params {
    eg_tensor *w;    /* [P, N] unit rows */
    eg_tensor *g;    /* [P+1, C+1] class weights, positive */
    eg_tensor *beta; /* [1] */
    eg_tensor *rows; /* [P+1, 1] row targets G_gamma */
    eg_tensor *cols; /* [1, C+1] column targets (P + G_P) p_q(y) */
    double *G;       /* host copy of the row targets [P+1] */
    double *pq;      /* class prior p_q [C+1] */
} vmf_params;

/* SMD's state */
typedef struct vmf_optim_state {
    eg_tensor *vw, *vg, *vbeta; /* velocities of w, g, beta */
    int last_sinkhorn_passes;   /* Sinkhorn passes of the last step */
} vmf_optim_state;

/* splitting steepest descent's state (vmfdam_split.c) */
typedef struct vmf_split_state {
    eg_tensor *u;   /* [P, N] eigenvectors, unit rows */
    eg_tensor *vu;  /* [P, N] their velocity */
    eg_tensor *r2u; /* [P, 1] RMS statistic of their gradient */
} vmf_split_state;

typedef struct vmf_model {
    eg_ctx *ctx;
    eg_dtype dtype;
    /* sizes */
    int64_t n;          /* N: values per input (pixels, or patch*patch) */
    int64_t classes;    /* C: outputs have C+1 columns, the last is the extra class */
    int64_t hidden;     /* P: memories now */
    int64_t hidden_max; /* P_max: memories after growth (= P without growth) */
    vmf_config cfg;
    vmf_params par;
    vmf_optim_state opt;
    vmf_split_state split;
    struct vmf_fast *fast; /* scratch of the fused training step (vmfdam_fast.c); NULL until used */
} vmf_model;

/* ---- log-normalizer (vmfdam_lognorm.c) ---- */
/* tau(beta) = ln Omega_N(beta)/Omega_N(0) = ln 0F1(; N/2; beta^2/4) and tau' = I_{N/2}/I_{N/2-1} */
void vmf_tau_exact(double n, double beta, double *tau, double *dtau);
/* the reference code's leading-order Debye + Stirling formula (N >= 3) */
void vmf_tau_debye(double n, double beta, double *tau, double *dtau);
/* the model's choice (m->cfg.debye) at its N */
void vmf_tau(const vmf_model *m, double beta, double *tau, double *dtau);
/* ln Omega_N(0) = ln(2 pi^{N/2} / Gamma(N/2)) */
double vmf_log_omega0(double n);

/* ---- constraint projections (vmfdam_project.c; calls nothing else of the plugin) ---- */
/* rows of t [R, C] scaled to unit L2 norm (zero rows stay zero) */
eg_tensor *vmf_normalize_rows(eg_tensor *t);
/* AltOneNorm Sinkhorn on g [R, K] in place: at most max_iters passes; each
 * pass computes the row sums, flags |r/G - 1| > 1e-6, rescales rows to
 * `rows` [R,1] and columns to `cols` [1,K]; the loop exits after the first pass
 * whose flag was false. Returns the number of passes (or a negative status). */
int vmf_sinkhorn(eg_tensor *g, eg_tensor *rows, eg_tensor *cols, int max_iters);

/* ---- state (vmfdam_state.c) ---- */
/* Allocates every tensor for P memories (zeros) and the host arrays; sets
 * m->ctx/dtype/n/classes/hidden. pq (C+1 values) is copied when not NULL. */
eg_status vmf_alloc(vmf_model *m, eg_ctx *ctx, eg_dtype dt, int64_t n, int64_t classes, int64_t hidden,
                    const double *pq);
void vmf_release(vmf_model *m);
/* The reference initialisation: w and u rows iid N(0, 1) then normalised; g rows
 * mu < P = p_q, null row = P/(P_max+1) p_q; G_mu = 1, G_P = P/P_max; beta = beta0;
 * velocities 0. Uses the "init" rng. */
eg_status vmf_init(vmf_model *m, double beta0, eg_rng *rng);
/* rewrites the device row/column targets from m->par.G and m->par.pq */
eg_status vmf_sync_targets(vmf_model *m);
double vmf_beta(const vmf_model *m); /* host value of beta */
/* p_q = (1 - s) counts/sum + s/(C+1) over C+1 entries (the extra class has count 0) */
void vmf_class_prior(const double *counts, int64_t classes, double s, double *pq);

/* ---- forward and losses (vmfdam_forward.c) ---- */
/* out [B, C+1] for x [B, N]. When h_out is not NULL it receives h [B, P] (with
 * the split perturbation when u is given). u [P, N] (may be NULL) adds the
 * splitting objective F_mu(x; u) with forward value 0 and gradient dF/du
 * (reference §7); beta, m and w are then stop-gradient inside F. */
eg_tensor *vmf_forward(const vmf_model *m, eg_tensor *x, eg_tensor *u, eg_tensor **h_out);
/* the intermediate tensors of one forward pass */
typedef struct vmf_parts {
    eg_tensor *m;  /* overlaps x.w [B, P] */
    eg_tensor *h;  /* exponents [B, P] */
    eg_tensor *e;  /* e^{h_mu - c} [B, P] */
    eg_tensor *e0; /* e^{-c}, the null unit [B, 1] */
    eg_tensor *s;  /* e g_mem + e0 g_null [B, C+1], so out = c + ln s */
    eg_tensor *c;  /* shifts max(max_mu h_mu, 0) [B, 1] (detached) */
} vmf_parts;
eg_tensor *vmf_forward_ex(const vmf_model *m, eg_tensor *x, eg_tensor *u, vmf_parts *parts);
/* targets [B, C+1] = (1 - s) onehot(labels) + s/(C+1); labels host int32 [count] */
eg_tensor *vmf_targets(eg_ctx *ctx, eg_dtype dt, const int32_t *labels, int64_t count, int64_t classes, double s);
/* -mean_x sum_y T_y out_y (eq. 4 / 12) */
eg_tensor *vmf_loss_supervised(eg_tensor *out, eg_tensor *targets);
/* -mean_x sum_y [(1 - eps) softmax(out)_y + eps/(C+1)] out_y (eq. 15) */
eg_tensor *vmf_loss_unsupervised(eg_tensor *out, double eps);
/* the model's loss for a batch (targets ignored when unsupervised) */
eg_tensor *vmf_loss(const vmf_model *m, eg_tensor *out, eg_tensor *targets);

/* ---- optimiser (vmfdam_smd.c) ---- */
/* One SMD step from the gradients of w, g (and beta when trainable):
 *   w: v <- mu v - lr (grad - (w.grad) w); w <- normalize(w + lr v)
 *   g: v <- mu v - lr (grad - rowsum(g grad)/G); ln g <- ln g + lr v;
 *      g <- exp(ln g - max_y ln g); Sinkhorn
 *   beta: v <- mu v - lr grad; beta <- beta + lr v
 * Note the doubled lr (reference §6). */
eg_status vmf_smd_step(vmf_model *m);

/* ---- fused training step and epochs (vmfdam_fast.c, vmfdam_epoch.c) ---- */
/* One memorisation step on rows idx[0..bs) of x [n, N] with targets t [n, C+1] (NULL when
 * unsupervised): the forward pass, the hand-derived gradients and the SMD update of w, g
 * (and beta when trainable), with the same mathematics as vmf_forward + vmf_loss
 * + eg_backward + vmf_smd_step but as a few large backend kernels on reused buffers
 * (GEMM-shaped, no autograd tape). idx is a device EG_I32 buffer (eg_data of an I32 tensor,
 * possibly offset). out [bs, C+1] (device, may be NULL) receives the outputs. *loss gets the
 * batch loss. Returns EG_ERR_UNSUPPORTED when the step needs the general path (beta <= 0). */
eg_status vmf_fast_step(vmf_model *m, eg_tensor *x, eg_tensor *t, const void *idx, int64_t bs, void *out, double *loss);
/* the forward pass and loss of rows [start, start+bs) of x (t may be NULL when unsupervised;
 * with neither t nor unsupervised *loss is NaN); out as above. No gradients, no update. */
eg_status vmf_fast_eval(vmf_model *m, eg_tensor *x, eg_tensor *t, int64_t start, int64_t bs, void *out, double *loss);
void vmf_fast_release(vmf_model *m);

/* Fisher–Yates permutation of 0..n-1 from Philox(r.seed, r.stream) at offset r.offset + epoch*n */
void vmf_shuffle(int32_t *perm, int64_t n, eg_rng r, uint64_t epoch);

/* One pass over the fitted rows in the order `perm` (n_fit indices into x), minibatches of
 * `batch`: the fused step for memorisation (vmf_fast_step; the autograd path when it
 * does not apply), or with split_phase the eigenvector training of u. */
typedef struct vmf_epoch {
    eg_tensor *x;        /* [n, N] items on the sphere */
    eg_tensor *t;        /* [n, C+1] soft targets, or NULL (unsupervised) */
    const int32_t *y;    /* [n] host labels for the training accuracy, or NULL */
    const int32_t *perm; /* [n_fit] row order */
    int64_t n_fit, batch;
    int split_phase;
    /* called after every batch; a non-OK status ends the epoch with it (cancellation) */
    eg_status (*check)(void *arg);
    void *check_arg;
    double *batch_loss; /* optional: losses of the first n_batch_loss batches */
    int64_t n_batch_loss;
    /* results */
    double loss;       /* mean training loss over the items */
    double acc;        /* training accuracy (NaN without y or in the split phase) */
    double rayleigh;   /* split phase: mean over batches of min_mu 1/2 u_mu.dL/du_mu */
    int64_t bad_batch; /* 1-based batch whose loss was not finite (EG_ERR_DIVERGED), else 0 */
    double bad_loss;
} vmf_epoch;
eg_status vmf_train_epoch(vmf_model *m, vmf_epoch *e);
/* mean loss and accuracy over rows [start, start+count) of x in blocks of `block` items
 * (t NULL: loss only when unsupervised; y NULL: no accuracy). No gradients. */
eg_status vmf_evaluate(vmf_model *m, eg_tensor *x, eg_tensor *t, const int32_t *y, int64_t start, int64_t count,
                       int64_t block, double *loss, double *acc);

/* ---- data (vmfdam_data.c) ---- */
/* Per item: subtract the item's mean, divide by its L2 norm; a zero vector stays 0.
 * Patches (patch > 0): every VALID patch*patch window with stride `stride` of
 * each channel-0 image h x w becomes an item (count * per-image patches rows). */
int64_t vmf_patches_per_image(int64_t h, int64_t w, int64_t patch, int64_t stride);
void vmf_preprocess(const float *x, int64_t count, int64_t dim, int center, float *out);
void vmf_extract_patches(const float *x, int64_t count, int64_t c, int64_t h, int64_t w, int64_t patch, int64_t stride,
                         float *out);

/* ---- splitting steepest descent (vmfdam_split.c) ---- */
/* One RMS-normalised tangent SMD step of u from its gradient (reference §6 "u"). */
eg_status vmf_u_step(vmf_model *m);
/* Which units to split from lambda [P] (host): units with lambda < min(lambda_(k+1), thres)
 * where k = min(round(fraction P), P, P_max - P) and lambda_(k+1) is the (k+1)-th smallest
 * of lambda padded with zeros to P_max. Writes 0/1 into mask [P] and the count into *count;
 * EG_ERR_NOMEM (count 0) when the P_max values to sort cannot be allocated. */
eg_status vmf_split_select(const double *lambda, int64_t p, int64_t p_max, double fraction, double thres,
                           unsigned char *mask, int64_t *count);
/* One growth stage's split: selects from lambda [P] (vmf_split_select with P_max = m->hidden_max)
 * and applies it (vmf_split_apply) with the draws of rng at offset rng.offset + (P << 32);
 * *grown = the units added. A failure (an allocation included) is a negative status with the
 * context's message; *grown stays 0. */
eg_status vmf_split_units(vmf_model *m, const double *lambda, double fraction, double thres, double delta, eg_rng rng,
                          int64_t *grown);
/* Splits the masked units: copies get normalize(w - delta u), originals normalize(w + delta u);
 * g rows and G of split units are halved and duplicated, the null row moves to the end,
 * every row is multiplied by P'/P. Velocities of new rows start at 0; u is redrawn. */
eg_status vmf_split_apply(vmf_model *m, const unsigned char *mask, double delta, eg_rng *rng);
/* the memory counts of the growth schedule when every eligible unit splits:
 * p0, min(2 p0, pmax), ...; returns the number of stages written (<= cap) */
int vmf_growth_schedule(int64_t p0, int64_t p_max, double fraction, int64_t *sizes, int cap);

/* ---- diagnostics (vmfdam_stationarity.c) ---- */
typedef struct vmf_stationarity {
    double w;    /* RMS over mu of |w_mu - wbar_mu/|wbar_mu|| (eq. 6, first line) */
    double g;    /* |Sinkhorn(g o D) - g|_F / |g|_F (eq. 6, second line; D = mean e^{h}/Z weights) */
    double beta; /* (A_N(beta) - ς <m>_R) / A_N(beta), condition (ii) of reference §6 */
} vmf_stationarity;

/* sums over the data of the quantities in eq. (6), built batch by batch */
typedef struct vmf_stat_acc {
    eg_tensor *wbar; /* [P, N]     sum_x R_mu(x) x */
    eg_tensor *d;    /* [P+1, C+1] sum_x T_y e^{h_gamma}/Z_y */
    eg_tensor *rho;  /* [P]        sum_x R_mu(x) */
    eg_tensor *rm;   /* [P]        sum_x R_mu(x) m_mu(x) */
    int64_t n;
} vmf_stat_acc;
eg_status vmf_stat_begin(const vmf_model *m, vmf_stat_acc *a);
/* one batch: x [B, N], its forward parts, and the loss weights T [B, C+1]
 * (soft labels, or the softened predictions of eq. 15) */
void vmf_stat_add(const vmf_model *m, vmf_stat_acc *a, eg_tensor *x, const vmf_parts *parts, eg_tensor *weights);
/* the residuals; frees the accumulators */
eg_status vmf_stat_end(const vmf_model *m, vmf_stat_acc *a, vmf_stationarity *out);

#endif
