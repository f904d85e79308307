/* bwdam_internal.h — helpers shared by the bwdam plugin's files (not for tests). */
#ifndef BWDAM_INTERNAL_H
#define BWDAM_INTERNAL_H

#include "bwdam.h"

/* queries per chunk so that one temporary of per_query elements each stays within budget */
int64_t bw_chunk_size(int64_t budget, int64_t per_query);
eg_tensor *bw_eye(eg_ctx *ctx, eg_dtype dt, int64_t d);
/* diagonals [..., d] and traces [...] of [..., d, d] */
eg_tensor *bw_diagonal(eg_tensor *S);
eg_tensor *bw_trace(eg_tensor *S);
/* V diag(f) Vᵀ, symmetrised */
eg_tensor *bw_recompose(eg_tensor *V, eg_tensor *f);
/* |a_q - b_i|² [na, nb] */
eg_tensor *bw_sqdist(eg_tensor *a, eg_tensor *b);
/* (m, √λ) rows of diagonal Gaussians [n, 2d] */
eg_tensor *bw_stack_root(bw_gauss g);

/* memory-side quantities of the full-covariance pair computations, made once per call
 * (not per query chunk) */
typedef struct bw_mems {
    bw_gauss X;
    eg_tensor *trS; /* [M] traces */
    eg_tensor *T;   /* [d, M·d]: T[b, (i, c)] = Σ_i[b, c] (bw_pair_layout) */
    eg_tensor *Sh;  /* [M, d, d] Σ^½ for the pruning bounds, or NULL */
} bw_mems;
bw_mems bw_mems_of(bw_gauss X, double floor, int roots);
eg_tensor *bw_pair_layout(eg_tensor *Sigma);
/* eigendecompositions of the pair products C_qi = Ω_q^½ Σ_i Ω_q^½ of a query chunk: s = √λ
 * [qc, M, d] and the eigenvectors as rows, Vt [qc, M, d, d] (Vt[q, i, k, :] = k-th vector) */
typedef struct bw_eig {
    eg_tensor *s, *Vt;
} bw_eig;
/* tr C_qi^½ [qc, M]; *eig (may be NULL) receives the decompositions */
eg_tensor *bw_pair_roots(eg_tensor *Oh, eg_tensor *T, bw_eig *eig);
/* Σ_i W_qi C_qi^½ [qc, d, d] for weights W [qc, M] (symmetric up to rounding) */
eg_tensor *bw_pair_mix(const bw_eig *eig, eg_tensor *W);
/* W2² [qc, M] of full queries (means mq, covariance roots Oh, traces trO) against the memories */
eg_tensor *bw_w2sq_full_chunk(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const bw_mems *mx, bw_eig *eig);

/* pairs kept by bw_w2sq_pruned: query index [P] (I32), flat index j·M + i [P] (I32),
 * and (Ω_j^½ Σ_i Ω_j^½)^½ [P, d, d] (not symmetrised). When most pairs were kept, every pair
 * was computed: row = flat = root = NULL, n = qc·M and eig holds the decompositions of all
 * (the dropped pairs' W2² is +inf, so their weights are 0). */
typedef struct bw_pairs {
    int64_t n;
    eg_tensor *row, *flat, *root;
    bw_eig eig;
} bw_pairs;
/* W2² [qc, M] of full queries against the memories (mx->Sh needed), exact for the pairs within
 * slack of the row's minimum (bounded cheaply first), +inf for the others */
eg_tensor *bw_w2sq_pruned(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const bw_mems *mx, double slack,
                          bw_pairs *pairs);
/* pairwise W2² for nearest-memory decisions: exact where a pair can be the row's nearest, +inf elsewhere */
eg_tensor *bw_w2sq_nearest(bw_gauss a, bw_gauss b, double floor);

#endif
