/* bwdam.h — the bwdam plugin's geometry and retrieval rules, exported from
 * engram-model-bwdam.so so tests can dlsym them (the plugin's own API, not part
 * of the SDK). Dense associative memory over Gaussians N(m, Σ) in the
 * Bures–Wasserstein geometry (Tankala & Balasubramanian 2025;
 * reference/models-pcgmm-hopfield-bwdam.md §3).
 *
 * A batch of n Gaussians in dimension d is an bw_gauss: means [n, d] and
 * covariances [n, d, d] (full) or variances [n, d] (diag). Every function works
 * on whole batches; pairwise functions return [Q, M] for Q queries against M
 * memories, row functions [n] for n pairs.
 *
 *   W2²(N(m1,Σ1), N(m2,Σ2)) = |m1 - m2|² + tr Σ1 + tr Σ2 - 2 tr (Σ1^½ Σ2 Σ1^½)^½
 *     diag: |m1 - m2|² + |√λ1 - √λ2|²  (no eigendecomposition; one GEMM over the stacked (m, √λ))
 *   OT map ξ = N(m, Ω) -> X_i: x -> m_i + A_i (x - m),  A_i = Ω^-½ (Ω^½ Σ_i Ω^½)^½ Ω^-½
 *   energy  E(ξ) = -β⁻¹ ln Σ_i exp(-β W2²(X_i, ξ))           (max-shifted log-sum-exp)
 *   Φ step  w = softmax(-β W2²), m' = Σ w_i m_i, Ω' = Ā Ω Ā with Ā = Σ w_i A_i
 *           = Ω^-½ B² Ω^-½ with B = Σ_i w_i (Ω^½ Σ_i Ω^½)^½;  diag: √Ω' = Σ w_i √Σ_i
 * Matrix square roots go through the batched symmetric eigendecomposition
 * (eg_syev): eigenvalues are clipped below at eig_floor, and every product that
 * should be symmetric is re-symmetrised ((A + Aᵀ)/2). */
#ifndef BWDAM_H
#define BWDAM_H

#include "engram/plugin.h"
#include "engram/retrieval.h"


typedef enum bw_variant { BW_BW = 0, BW_EU, BW_PIXEL } bw_variant;

typedef struct bw_dam {
    bw_variant variant;
    double beta;      /* inverse temperature */
    int steps;        /* maximum Φ updates */
    double tol;       /* a query has converged when an update moves it by less (W2; eu-dam: Euclidean) */
    int full;         /* 1: full covariances (eigendecompositions), 0: diagonal (closed forms) */
    double eig_floor; /* eigenvalues are clipped to >= eig_floor before square roots */
    int64_t budget;   /* elements of one [Qc, M(, d, d)] temporary per query chunk; 0 = default (2^22) */
    int no_prune;     /* full: 1 = eigendecompose every (query, memory) pair; 0 (default) = only the pairs whose
                       * cheap W2² bounds leave them within 60/β of the row's nearest (bwdam_geometry.c) */
} bw_dam;

typedef struct bw_gauss {
    eg_tensor *mean; /* [n, d] */
    eg_tensor *cov;  /* full: [n, d, d]; diag: [n, d] variances */
    int full;
} bw_gauss;

/* ---- layout: dataset rows [m (d), Σ (d*d row-major) | variances (d)] ---- */
bw_gauss bw_gauss_from_rows(eg_tensor *rows, int64_t d, int full);
eg_tensor *bw_gauss_to_rows(bw_gauss g);
/* diag -> full (diagonal matrices); full stays as it is */
bw_gauss bw_gauss_to_full(bw_gauss g);
/* full -> diag (the diagonals); diag stays */
bw_gauss bw_gauss_to_diag(bw_gauss g);
bw_gauss bw_gauss_narrow(bw_gauss g, int64_t start, int64_t len);
int64_t bw_gauss_n(bw_gauss g);
int64_t bw_gauss_d(bw_gauss g);

/* ---- geometry ---- */
/* (A + Aᵀ)/2 over the last two axes */
eg_tensor *bw_sym(eg_tensor *A);
/* principal square roots of symmetric PSD matrices [..., d, d] (eigenvalues clipped at floor);
 * *inv_sqrt (may be NULL) receives the inverse square roots */
eg_tensor *bw_sqrtm(eg_tensor *S, double floor, eg_tensor **inv_sqrt);
/* W2² of every pair (a_q, b_i): [na, nb]. Both full or both diag. */
eg_tensor *bw_w2sq(bw_gauss a, bw_gauss b, double floor);
/* W2² of row pairs (a_k, b_k): [n] */
eg_tensor *bw_w2sq_rows(bw_gauss a, bw_gauss b, double floor);
/* OT map matrices from N(., Ω_k) to N(., Σ_k), rowwise: [n, d, d] (symmetric, A Ω A = Σ) */
eg_tensor *bw_ot_map(eg_tensor *Omega, eg_tensor *Sigma, double floor);

/* ---- retrieval ---- */
/* energy [Q] of the queries (bw: the log-sum-exp of -β W2²; eu-dam: the MCHN energy of the embedding) */
eg_tensor *bw_energy(const bw_dam *h, bw_gauss q, bw_gauss X);
/* One Φ step of every query; *energy (may be NULL) receives the energy [Q] before the step,
 * *weights (may be NULL) the Gibbs weights [Q, M]. bw variant only. */
bw_gauss bw_step(const bw_dam *h, bw_gauss q, bw_gauss X, eg_tensor **energy, eg_tensor **weights);
/* eu-dam: (m, vec Σ^½) (full) or (m, √λ) (diag) per row, and back (Σ = R Rᵀ of the symmetrised root) */
eg_tensor *bw_eu_embed(bw_gauss g, double floor);
bw_gauss bw_eu_unembed(eg_tensor *v, int64_t d, int full);
/* eu-dam: one MCHN step on embeddings V [Q, k] against memories E [M, k]: softmax(β V Eᵀ) E */
eg_tensor *bw_eu_step(const bw_dam *h, eg_tensor *V, eg_tensor *E, eg_tensor **energy);

/* Per-step hook of bw_retrieve: the states after `step` updates (0 = the queries)
 * and their energy [Q]. */
typedef void (*bw_hook)(void *user, int step, bw_gauss state, eg_tensor *energy);

/* Up to h->steps updates (bw or eu-dam), stopping once every query moved by less than
 * h->tol in one update. *steps_out (may be NULL) receives per-query update counts [Q]
 * (updates before the first one that moved it less than tol). The hook (may be NULL) sees
 * the states after every update, and the final states again for the remaining steps
 * after an early stop, so per-step means always have steps + 1 points. */
bw_gauss bw_retrieve(const bw_dam *h, bw_gauss q, bw_gauss X, eg_tensor **steps_out, bw_hook hook, void *user);

/* ---- queries ---- */
/* radial dilation from δ0: m -> s m, Σ -> s² Σ with s = 1 + r / W2(δ0, X); W2(X, result) = r exactly */
bw_gauss bw_dilate(bw_gauss g, double r);
/* random direction: the mean moves by √share·r along a uniform unit vector, the covariance
 * along Σ(t) = Σ^½ expm(t H) Σ^½ (H a random symmetric unit direction; diag: H diagonal) to
 * covariance W2 √(1-share)·r, t by bisection (batched over rows). W2(X, result) = r. */
bw_gauss bw_random(bw_gauss g, double r, double share, eg_rng *rng, double floor);

#endif
