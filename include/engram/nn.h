/* engram/nn.h — layers, initialisers and losses built from tensor ops.
 * Layers are plain structs holding persistent parameter tensors; each layer's
 * parameters are registered by name in an eg_params set (for optimisers,
 * saving and loading). */
#ifndef ENGRAM_NN_H
#define ENGRAM_NN_H

#include "export.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- named parameter sets ---- */
typedef struct eg_params eg_params;
EG_API eg_params *eg_params_new(eg_ctx *ctx);
EG_API void eg_params_free(eg_params *ps); /* frees the set and its tensors */
/* registers t under name (copied); the set takes ownership of t */
EG_API eg_status eg_params_add(eg_params *ps, const char *name, eg_tensor *t);
EG_API int eg_params_count(const eg_params *ps);
EG_API const char *eg_params_name(const eg_params *ps, int i);
EG_API eg_tensor *eg_params_get(const eg_params *ps, int i);
EG_API eg_tensor *eg_params_find(const eg_params *ps, const char *name);
EG_API int64_t eg_params_numel(const eg_params *ps);
EG_API void eg_params_zero_grad(eg_params *ps);
/* new persistent parameter of shape, registered as prefix + "." + name */
EG_API eg_tensor *eg_params_create(eg_params *ps, const char *prefix, const char *name, eg_dtype dt, int ndim,
                                   const int64_t *shape);
/* dtype of the parameters the layer initialisers create in this set (default EG_F32) */
EG_API void eg_params_set_dtype(eg_params *ps, eg_dtype dt);
EG_API eg_dtype eg_params_dtype(const eg_params *ps);

/* ---- initialisers (draw from the rng, advance it) ---- */
EG_API eg_status eg_init_uniform(eg_tensor *t, eg_rng *rng, double lo, double hi);
EG_API eg_status eg_init_normal(eg_tensor *t, eg_rng *rng, double mean, double std);
/* Glorot/Xavier uniform: U(-sqrt(6/(fan_in+fan_out)), +...) */
EG_API eg_status eg_init_glorot(eg_tensor *t, eg_rng *rng, int64_t fan_in, int64_t fan_out);
/* He/Kaiming normal: N(0, 2/fan_in) */
EG_API eg_status eg_init_he(eg_tensor *t, eg_rng *rng, int64_t fan_in);

/* ---- layers ---- */
typedef struct eg_linear {
    eg_tensor *weight; /* [out, in] */
    eg_tensor *bias;   /* [out] or NULL */
    int64_t in, out;
} eg_linear;
/* Glorot-initialised weight, zero bias */
EG_API eg_status eg_linear_init(eg_linear *l, eg_params *ps, const char *name, int64_t in, int64_t out, int bias,
                                eg_rng *rng);
EG_API eg_tensor *eg_linear_forward(const eg_linear *l, eg_tensor *x); /* x [..., in] -> [..., out] */

typedef struct eg_conv {
    eg_tensor *weight; /* conv: [c_out, c_in, k...]; transposed: [c_in, c_out, k...] */
    eg_tensor *bias;   /* [c_out] or NULL */
    int dims;          /* 1 or 2 */
    int transposed;
    eg_conv_opts opts;
} eg_conv;
/* He-initialised weight (fan_in = c_in * k * k), zero bias; kernel is square for 2-d */
EG_API eg_status eg_conv_init(eg_conv *c, eg_params *ps, const char *name, int dims, int transposed, int64_t c_in,
                              int64_t c_out, int64_t kernel, const eg_conv_opts *opts, int bias, eg_rng *rng);
EG_API eg_tensor *eg_conv_forward(const eg_conv *c, eg_tensor *x);

typedef struct eg_embedding {
    eg_tensor *weight; /* [n, dim] */
} eg_embedding;
EG_API eg_status eg_embedding_init(eg_embedding *e, eg_params *ps, const char *name, int64_t n, int64_t dim,
                                   eg_rng *rng);
EG_API eg_tensor *eg_embedding_forward(const eg_embedding *e, eg_tensor *index); /* EG_I32 [b] -> [b, dim] */

typedef struct eg_layer_norm {
    eg_tensor *gain, *bias; /* [dim] */
    double eps;
} eg_layer_norm;
EG_API eg_status eg_layer_norm_init(eg_layer_norm *ln, eg_params *ps, const char *name, int64_t dim, double eps);
EG_API eg_tensor *eg_layer_norm_forward(const eg_layer_norm *ln, eg_tensor *x); /* over the last axis */

typedef enum eg_activation {
    EG_ACT_NONE = 0,
    EG_ACT_RELU,
    EG_ACT_TANH,
    EG_ACT_SIGMOID,
    EG_ACT_ELU,
    EG_ACT_SOFTPLUS
} eg_activation;
EG_API eg_tensor *eg_activate(eg_tensor *x, eg_activation act);
/* parse "relu", "tanh", ...; returns -1 when unknown */
EG_API int eg_activation_parse(const char *name);

/* residual MLP block: x + lin2(act(lin1(act(x)))) with a hidden width */
typedef struct eg_residual {
    eg_linear l1, l2;
    eg_activation act;
} eg_residual;
EG_API eg_status eg_residual_init(eg_residual *r, eg_params *ps, const char *name, int64_t dim, int64_t hidden,
                                  eg_activation act, eg_rng *rng);
EG_API eg_tensor *eg_residual_forward(const eg_residual *r, eg_tensor *x);

/* ---- losses and likelihoods: per-sample values [batch], summed over the other axes ---- */
/* log p(x | logits) for Bernoulli pixels, computed stably from logits */
EG_API eg_tensor *eg_bernoulli_loglik(eg_tensor *logits, eg_tensor *x);
/* log N(x; mean, exp(logvar)); logvar may be NULL for unit variance, or broadcastable */
EG_API eg_tensor *eg_gaussian_loglik(eg_tensor *mean, eg_tensor *logvar, eg_tensor *x);
/* KL(N(mu, exp(logvar)) || N(0, I)) */
EG_API eg_tensor *eg_kl_diag_gaussian(eg_tensor *mu, eg_tensor *logvar);
/* KL(N(mu_q, exp(lv_q)) || N(mu_p, exp(lv_p))) */
EG_API eg_tensor *eg_kl_diag_gaussians(eg_tensor *mu_q, eg_tensor *logvar_q, eg_tensor *mu_p, eg_tensor *logvar_p);
/* mean squared error over all elements (scalar) */
EG_API eg_tensor *eg_mse(eg_tensor *a, eg_tensor *b);
/* mean over the batch of -log softmax(logits)[label]; labels EG_I32 [batch] (scalar) */
EG_API eg_tensor *eg_cross_entropy(eg_tensor *logits, eg_tensor *labels);

/* E-step and loss of a spatial mixture (N-EM, Greff et al. 2017, eq. 5) in one op: psi
 * [batch, k, channels, pixels] holds each component's pixel means, y (batch*channels*pixels
 * values, no gradient) the targets. *gamma (may be NULL) receives the responsibilities
 * [batch, k, 1, pixels] = (sum_c lik + eps) / sum_k (sum_c lik + eps), no gradient; returns the
 * per-sample loss [batch] = sum gamma nll + inter_weight (1 - gamma) kl over k, channels and
 * pixels, differentiable in psi with gamma held constant (stop-gradient). gaussian = 0:
 * lik = y psi + (1-y)(1-psi), nll = -(y ln q + (1-y) ln(1-q)) with q = clamp(psi, eps, 1-eps),
 * kl = -ln max(1-psi, eps); gaussian = 1: lik = N(y; psi, sigma^2), nll = (psi-y)^2/2,
 * kl = psi^2/2; 1e-30 <= eps < 0.5. One backend kernel each way (backend ABI 1.2), else composed
 * from ops. */
EG_API eg_tensor *eg_mixture_estep_loss(eg_tensor *psi, eg_tensor *y, int gaussian, double sigma, double inter_weight,
                                        double eps, eg_tensor **gamma);

/* ---- batch normalisation (Ioffe & Szegedy 2015), composed from tensor ops ----
 * x [n, C] or [n, C, ...] (NCHW): y = gain (x - mean) / sqrt(var + eps) + bias per channel.
 * Training (bn->training = 1, the default): mean and biased variance over the batch and the
 * spatial axes, differentiable; the running averages move as running = (1 - momentum)
 * running + momentum batch (the variance unbiased, n/(n-1), as PyTorch). Evaluation
 * (training = 0): the running statistics, held constant (detached). The running statistics
 * are registered in ps as "<name>.running_mean" / "<name>.running_var" (no gradient;
 * optimisers skip them), so saving and loading ps carries them. */
typedef struct eg_batch_norm {
    eg_tensor *gain, *bias;                /* [C] parameters "<name>.gain" (1) and "<name>.bias" (0) */
    eg_tensor *running_mean, *running_var; /* [C] state, 0 and 1 at init */
    int64_t channels;
    double eps, momentum; /* defaults (<= 0 given): 1e-5, 0.1 */
    int training;         /* 1: batch statistics (and running updates); 0: running statistics */
} eg_batch_norm;
EG_API eg_status eg_batch_norm_init(eg_batch_norm *bn, eg_params *ps, const char *name, int64_t channels, double eps,
                                    double momentum);
EG_API eg_tensor *eg_batch_norm_forward(eg_batch_norm *bn, eg_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
