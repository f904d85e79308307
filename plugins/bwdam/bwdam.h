/* bwdam.h — the bwdam plugin's geometry and retrieval rules, exported from
 * engram-model-bwdam.so so tests can dlsym them (the plugin's own API, not part
 * of the SDK). Dense associative memory over Gaussians N(m, Σ) in the
 * Bures–Wasserstein geometry (Tankala & Balasubramanian 2025;
 * reference/models-pcgmm-hopfield-bwdam.md §3).
 *
 * A batch of n Gaussians in dimension d is an eg_gauss: means [n, d] and
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
#ifndef EG_PLUGIN_BWDAM_H
#define EG_PLUGIN_BWDAM_H

#include "engram/plugin.h"
#include "engram/retrieval.h"

typedef enum eg_bwdam_variant { EG_BWDAM_BW = 0, EG_BWDAM_EU, EG_BWDAM_PIXEL } eg_bwdam_variant;

typedef struct eg_bwdam {
    eg_bwdam_variant variant;
    double beta;      /* inverse temperature */
    int steps;        /* maximum Φ updates */
    double tol;       /* a query has converged when an update moves it by less (W2; eu-dam: Euclidean) */
    int full;         /* 1: full covariances (eigendecompositions), 0: diagonal (closed forms) */
    double eig_floor; /* eigenvalues are clipped to >= eig_floor before square roots */
    int64_t budget;   /* elements of one [Qc, M(, d, d)] temporary per query chunk; 0 = default (2^22) */
    int no_prune;     /* full: 1 = eigendecompose every (query, memory) pair; 0 (default) = only the pairs whose
                       * cheap W2² bounds leave them within 60/β of the row's nearest (bwdam_geometry.c) */
} eg_bwdam;

typedef struct eg_gauss {
    eg_tensor *mean; /* [n, d] */
    eg_tensor *cov;  /* full: [n, d, d]; diag: [n, d] variances */
    int full;
} eg_gauss;

/* ---- layout: dataset rows [m (d), Σ (d*d row-major) | variances (d)] ---- */
eg_gauss eg_gauss_from_rows(eg_tensor *rows, int64_t d, int full);
eg_tensor *eg_gauss_to_rows(eg_gauss g);
/* diag -> full (diagonal matrices); full stays as it is */
eg_gauss eg_gauss_to_full(eg_gauss g);
/* full -> diag (the diagonals); diag stays */
eg_gauss eg_gauss_to_diag(eg_gauss g);
eg_gauss eg_gauss_narrow(eg_gauss g, int64_t start, int64_t len);
int64_t eg_gauss_n(eg_gauss g);
int64_t eg_gauss_d(eg_gauss g);

/* ---- geometry ---- */
/* (A + Aᵀ)/2 over the last two axes */
eg_tensor *eg_bwdam_sym(eg_tensor *A);
/* principal square roots of symmetric PSD matrices [..., d, d] (eigenvalues clipped at floor);
 * *inv_sqrt (may be NULL) receives the inverse square roots */
eg_tensor *eg_bwdam_sqrtm(eg_tensor *S, double floor, eg_tensor **inv_sqrt);
/* W2² of every pair (a_q, b_i): [na, nb]. Both full or both diag. */
eg_tensor *eg_bwdam_w2sq(eg_gauss a, eg_gauss b, double floor);
/* W2² of row pairs (a_k, b_k): [n] */
eg_tensor *eg_bwdam_w2sq_rows(eg_gauss a, eg_gauss b, double floor);
/* OT map matrices from N(., Ω_k) to N(., Σ_k), rowwise: [n, d, d] (symmetric, A Ω A = Σ) */
eg_tensor *eg_bwdam_ot_map(eg_tensor *Omega, eg_tensor *Sigma, double floor);

/* ---- retrieval ---- */
/* energy [Q] of the queries (bw: the log-sum-exp of -β W2²; eu-dam: the MCHN energy of the embedding) */
eg_tensor *eg_bwdam_energy(const eg_bwdam *h, eg_gauss q, eg_gauss X);
/* One Φ step of every query; *energy (may be NULL) receives the energy [Q] before the step,
 * *weights (may be NULL) the Gibbs weights [Q, M]. bw variant only. */
eg_gauss eg_bwdam_step(const eg_bwdam *h, eg_gauss q, eg_gauss X, eg_tensor **energy, eg_tensor **weights);
/* eu-dam: (m, vec Σ^½) (full) or (m, √λ) (diag) per row, and back (Σ = R Rᵀ of the symmetrised root) */
eg_tensor *eg_bwdam_eu_embed(eg_gauss g, double floor);
eg_gauss eg_bwdam_eu_unembed(eg_tensor *v, int64_t d, int full);
/* eu-dam: one MCHN step on embeddings V [Q, k] against memories E [M, k]: softmax(β V Eᵀ) E */
eg_tensor *eg_bwdam_eu_step(const eg_bwdam *h, eg_tensor *V, eg_tensor *E, eg_tensor **energy);

/* Per-step hook of eg_bwdam_retrieve: the states after `step` updates (0 = the queries)
 * and their energy [Q]. */
typedef void (*eg_bwdam_hook)(void *user, int step, eg_gauss state, eg_tensor *energy);

/* Up to h->steps updates (bw or eu-dam), stopping once every query moved by less than
 * h->tol in one update. *steps_out (may be NULL) receives per-query update counts [Q]
 * (updates before the first one that moved it less than tol). The hook (may be NULL) sees
 * the states after every update, and the final states again for the remaining steps
 * after an early stop, so per-step means always have steps + 1 points. */
eg_gauss eg_bwdam_retrieve(const eg_bwdam *h, eg_gauss q, eg_gauss X, eg_tensor **steps_out, eg_bwdam_hook hook,
                           void *user);

/* ---- queries ---- */
/* radial dilation from δ0: m -> s m, Σ -> s² Σ with s = 1 + r / W2(δ0, X); W2(X, result) = r exactly */
eg_gauss eg_bwdam_dilate(eg_gauss g, double r);
/* random direction: the mean moves by √share·r along a uniform unit vector, the covariance
 * along Σ(t) = Σ^½ expm(t H) Σ^½ (H a random symmetric unit direction; diag: H diagonal) to
 * covariance W2 √(1-share)·r, t by bisection (batched over rows). W2(X, result) = r. */
eg_gauss eg_bwdam_random(eg_gauss g, double r, double share, eg_rng *rng, double floor);

#endif
