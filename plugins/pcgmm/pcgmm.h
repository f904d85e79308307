/* pcgmm.h — the pcgmm plugin's model and retrieval rules, exported from
 * engram-model-pcgmm.so so tests can dlsym them (the plugin's own API, not part
 * of the SDK). The PC-GMM associative memory of Annabi, Pitti & Quoy
 * (NeurIPS 2022, arXiv 2210.08013; appendix equations cited by number);
 * implementer's notes: reference/models-pcgmm-hopfield-bwdam.md §1.
 *
 * States are rows: Z [Q, k] holds Q codes (or pictures), M [N, k] the stored
 * patterns (encoder means of the clean images, or raw pixels for `gmm`).
 *
 *   balanced GMM prior   F(z) = -logsumexp_i(-|z - m_i|^2 / 2 sigma^2)          (eq. 29)
 *   GMM update           z <- softmax_i(-|z - m_i|^2 / 2 sigma^2) M              (eq. 45)
 *   MCHN prior           F(z) = 1/2 z.z - beta^-1 logsumexp_i(beta z.m_i)        (eq. 24, 46)
 *   GMM* update          z <- softmax_i(-1/2 (z - m_i)^T P (z - m_i)) M, P = diag(exp p)
 *   BP (Algorithm 2)     Adam on z of mean_pix (dec(z) - x)^2 + gamma F(z)
 *   PC (Algorithm 1)     one prediction error per decoder layer (eq. 31-32)     */
#ifndef PCGMM_H
#define PCGMM_H

#include "engram/nn.h"
#include "engram/plugin.h"
#include "engram/retrieval.h"

typedef enum pcg_variant {
    PCG_GMM = 0,        /* eq. 45 on raw pixels */
    PCG_VAE_GMM,        /* eq. 45 on encoder means */
    PCG_VAE_GMM_STAR,   /* learned diagonal precision */
    PCG_BP_GMM,         /* Algorithm 2 from z = 0 (no encoder initialisation) */
    PCG_VAE_BP_GMM,     /* Algorithm 2 from the encoder mean */
    PCG_VAE_PC_GMM,     /* Algorithm 1 */
    PCG_VAE_HOPFIELD,   /* MCHN on the latent */
    PCG_VAE_BP_HOPFIELD /* Algorithm 2 with the MCHN prior (eq. 46) */
} pcg_variant;

/* ---- the VAE (pcgmm_vae.c) ---- */
enum { PCG_MAX_STAGES = 6 };

/* one decoder stage: y = act(linear(x)) [reshaped to an image], or y = act(conv3x3(upsample2(x))) */
typedef struct pcg_stage {
    int upconv; /* 0 linear, 1 nearest x2 upsample + 3x3 conv */
    eg_linear lin;
    eg_conv conv;
    eg_activation act;
    int64_t c, h, w; /* output image shape (linear stage of a conv decoder), or c = 0 for flat */
    int bn;          /* 1: batch norm between the conv and the activation (conv decoder, notes §1.3) */
    eg_batch_norm norm;
} pcg_stage;

typedef struct pcg_vae {
    eg_params *ps;
    int conv;                   /* 1 conv, 0 mlp */
    int64_t c, h, w, d, latent; /* data geometry, code size */
    int n_enc_conv;             /* conv: stride-2 3x3 convs (+ relu) then a linear to 2 latent */
    eg_conv enc_conv[4];
    int n_enc_lin; /* mlp: hidden linears + the head; conv: the head only */
    eg_linear enc_lin[3];
    int n_stages; /* decoder, top (from z) to bottom (pixels, sigmoid) */
    pcg_stage dec[PCG_MAX_STAGES];
    int bn;                  /* conv: batch norm after every encoder conv (which then has no bias) */
    eg_batch_norm enc_bn[4]; /* ... and after the decoder's inner upconvs (dec[s].norm) */
} pcg_vae;

typedef struct pcg_vae_cfg {
    int conv;
    int64_t latent, hidden, features;
    eg_dtype dtype; /* of the parameters: EG_F32 (runs) or EG_F64 (gradient tests) */
    int batch_norm; /* conv only: the authors' batch norm (vae.batch_norm; 0 leaves it out) */
} pcg_vae_cfg;

/* builds the VAE for data of c x h x w (conv needs h, w divisible by 4; 3 stages when divisible by 8) */
eg_status pcg_vae_init(pcg_vae *v, eg_ctx *ctx, const pcg_vae_cfg *cfg, int64_t c, int64_t h, int64_t w, eg_rng *rng,
                       char *err, size_t cap);
void pcg_vae_free(pcg_vae *v);
/* x [n, d] -> mu [n, latent], logvar [n, latent] (either out pointer may be NULL) */
void pcg_encode(const pcg_vae *v, eg_tensor *x, eg_tensor **mu, eg_tensor **logvar);
/* the encoder mean only: x [n, d] -> mu [n, latent] (the head's first `latent` rows, one GEMM less) */
eg_tensor *pcg_encode_mean(const pcg_vae *v, eg_tensor *x);
/* the intermediate encoder activations' shapes, for the shapes oracle: shapes[i] = [c, h, w] or [n, 0, 0] */
int pcg_encoder_shapes(const pcg_vae *v, int64_t shapes[][3], int cap);
/* decoder stage s applied to its input (stage 0 takes z [n, latent]) */
eg_tensor *pcg_stage_forward(const pcg_vae *v, int s, eg_tensor *x);
/* z [n, latent] -> x [n, d] in (0, 1) */
eg_tensor *pcg_decode(const pcg_vae *v, eg_tensor *z);
/* per-sample VAE loss terms: squared error summed over pixels [n] and KL [n] (one reparameterised draw) */
void pcg_vae_terms(const pcg_vae *v, eg_tensor *x, eg_rng *rng, eg_tensor **sq_err, eg_tensor **kl);
void pcg_vae_requires_grad(pcg_vae *v, int on);
/* batch norm layers: 1 batch statistics (VAE training), 0 running statistics (the default) */
void pcg_vae_train_mode(pcg_vae *v, int on);

/* ---- priors and fixed-point rules (pcgmm_prior.c) ---- */
/* F(z) [Q] of the balanced GMM (differentiable in z) */
eg_tensor *pcg_gmm_energy(eg_tensor *Z, eg_tensor *M, double sigma);
/* F(z) [Q] of the MCHN prior 1/2 z.z - beta^-1 lse(beta M z) (differentiable in z) */
eg_tensor *pcg_mchn_energy(eg_tensor *Z, eg_tensor *M, double beta);
/* -|m_i|^2 / 2 sigma^2 as [1, N] ([G, 1, N] for batched blocks): the gmm logits' row term */
eg_tensor *pcg_gmm_bias(eg_tensor *M, double sigma);
/* gmm logits Z M^T / sigma^2 + bias [.., Q, N]; bias from pcg_gmm_bias (NULL: computed here) */
eg_tensor *pcg_gmm_logits(eg_tensor *Z, eg_tensor *M, double sigma, eg_tensor *bias);
/* softmax weights [Q, N]: kind 0 gmm (sigma), 1 mchn (beta), 2 gmm* (log precision p [k]) */
eg_tensor *pcg_weights(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp);
/* up to `steps` updates z <- weights(z) M, stopping once every state changed by less than
 * PCG_TOL (max abs change); *steps_out [Q] per-state counts; energies to r when not NULL */
#define PCG_TOL 1e-6
eg_tensor *pcg_fixed_point(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp, int steps,
                           eg_tensor **steps_out, eg_retrieval *r);

/* ---- Algorithm 2 (pcgmm_bp.c) ---- */
typedef struct pcg_bp_cfg {
    int hopfield; /* prior: 0 balanced GMM (sigma), 1 MCHN (beta, eq. 46) */
    double sigma, beta, gamma, lr;
    int steps;
} pcg_bp_cfg;
/* objective per query [Q]: mean_pix (dec(z) - x)^2 + gamma F(z) */
eg_tensor *pcg_bp_objective(const pcg_vae *v, const pcg_bp_cfg *c, eg_tensor *Z, eg_tensor *X, eg_tensor *M);
/* Adam on z for c->steps steps, all queries at once; returns the final codes [Q, latent] */
eg_tensor *pcg_bp_retrieve(const pcg_vae *v, const pcg_bp_cfg *c, eg_tensor *Z0, eg_tensor *X, eg_tensor *M,
                           eg_retrieval *r);

/* ---- Algorithm 1 (pcgmm_pc.c) ---- */
/* u[0] = z, u[1..S-1] the decoder's hidden layers, u[S] the clamped observation */
typedef struct pcg_pc_state {
    int n; /* S = v->n_stages */
    eg_tensor *u[PCG_MAX_STAGES + 1];
} pcg_pc_state;
/* u[0] = Z, hidden layers from a forward pass, u[S] = X reshaped to the decoder's output */
void pcg_pc_init(const pcg_vae *v, pcg_pc_state *st, eg_tensor *Z, eg_tensor *X);
/* VFE of eq. 29 per query [Q]: sum_l 1/2 |u_{l+1} - f_l(u_l)|^2 + F_gmm(z) */
eg_tensor *pcg_pc_energy(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma);
/* one step of Algorithm 1 (errors from the old states, then every layer updated):
 *   u_l += alpha (J_l(u_l)^T e_{l+1} - e_l),   e_{l+1} = u_{l+1} - f_l(u_l)
 *   z   += alpha (J_0(z)^T e_1 - (z - softmax(...) M))     (the authors' code: top-down error sigma^2 grad F)
 * bottom_up = 0 drops every J^T e term. Returns a new state in the current scope. */
pcg_pc_state pcg_pc_step(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma, double alpha,
                         int bottom_up);
/* the same step (bottom-up on) also returning the VFE of eq. 29 of the input state per query
 * (*energy [Q], equal to pcg_pc_energy(st), from the step's own errors and logits) */
pcg_pc_state pcg_pc_step_energy(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma, double alpha,
                                eg_tensor **energy);
/* steps of Algorithm 1 from the encoder mean Z0; returns z [Q, latent]. M may be [G, N, k]
 * (batched blocks, Z0 [G*Q, latent]); energies to r (from the steps) when not NULL */
eg_tensor *pcg_pc_retrieve(const pcg_vae *v, eg_tensor *Z0, eg_tensor *X, eg_tensor *M, double sigma, double alpha,
                           int steps, eg_retrieval *r);

/* ---- the plugin object (pcgmm_plugin.c, pcgmm_fit.c) ---- */
typedef struct pcg_model {
    pcg_variant variant;
    double sigma, beta, alpha, gamma, bp_lr;
    int steps, bp_steps;
    int star_epochs;
    double star_lr;
    pcg_vae_cfg vcfg;
    double kl_weight, vae_lr;
    int vae_epochs;
    int64_t vae_batch, vae_train_items;
    int has_vae, vae_loaded;
    pcg_vae vae;
    eg_tensor *star_logp; /* [latent] GMM* log precision, persistent */
} pcg_model;

/* ---- batched blocks (pcgmm_blocks.c; retrieval of a group: pcgmm_eval.c) ----
 * The latent variants retrieve G consecutive blocks at once: the memories of the group are
 * [G, N, k] and every prior product is one batched GEMM (block g's queries against block
 * g's codes only); the encoder and the decoder see all G*N or G*Q rows in one pass. */
enum { PCG_GROUP_ROWS = 4096, PCG_MAX_GROUP = 64 };
/* blocks per group for blocks of `memories` + `queries` items: about GROUP_ROWS rows, 1 .. MAX_GROUP */
int64_t pcg_group_blocks(int64_t memories, int64_t queries, int64_t blocks);
/* [G*Q, k] -> [G, Q, k] view when M is [G, N, k]; Z unchanged otherwise */
eg_tensor *pcg_as_blocks(eg_tensor *Z, eg_tensor *M);
/* retrieval of G blocks of a latent variant: X [G*N, d] the blocks' clean items, q [G*Q, d]
 * their corrupted queries (query j of block g targets item j of block g). *Mz [G*N, latent]
 * receives the stored codes, *steps the per-query update counts [G*Q] (or one value);
 * returns the final codes [G*Q, latent]. r (may be NULL) receives the energies. */
eg_tensor *pcg_retrieve_blocks(const pcg_model *m, int64_t G, eg_tensor *X, eg_tensor *q, eg_tensor **Mz,
                               eg_tensor **steps, eg_retrieval *r);

eg_status pcg_fit(void *self, eg_run *run);
eg_status pcg_save(void *self, eg_run *run);
eg_status pcg_load(void *self, eg_run *run);
eg_status pcg_eval(void *self, eg_run *run);

#endif
