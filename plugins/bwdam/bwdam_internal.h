/* bwdam_internal.h — helpers shared by the bwdam plugin's files (not for tests). */
#ifndef EG_PLUGIN_BWDAM_INTERNAL_H
#define EG_PLUGIN_BWDAM_INTERNAL_H

#include "bwdam.h"

/* queries per chunk so that one temporary of per_query elements each stays within budget */
int64_t eg_bwdam__chunk(int64_t budget, int64_t per_query);
eg_tensor *eg_bwdam__eye(eg_ctx *ctx, eg_dtype dt, int64_t d);
/* diagonals [..., d] and traces [...] of [..., d, d] */
eg_tensor *eg_bwdam__diagonal(eg_tensor *S);
eg_tensor *eg_bwdam__trace(eg_tensor *S);
/* V diag(f) Vᵀ, symmetrised */
eg_tensor *eg_bwdam__recompose(eg_tensor *V, eg_tensor *f);
/* |a_q - b_i|² [na, nb] */
eg_tensor *eg_bwdam__sqdist(eg_tensor *a, eg_tensor *b);
/* (m, √λ) rows of diagonal Gaussians [n, 2d] */
eg_tensor *eg_bwdam__stack_root(eg_gauss g);

/* memory-side quantities of the full-covariance pair computations, made once per call
 * (not per query chunk) */
typedef struct eg_bwdam_mems {
    eg_gauss X;
    eg_tensor *trS; /* [M] traces */
    eg_tensor *T;   /* [d, M·d]: T[b, (i, c)] = Σ_i[b, c] (eg_bwdam__pair_layout) */
    eg_tensor *Sh;  /* [M, d, d] Σ^½ for the pruning bounds, or NULL */
} eg_bwdam_mems;
eg_bwdam_mems eg_bwdam__mems(eg_gauss X, double floor, int roots);
eg_tensor *eg_bwdam__pair_layout(eg_tensor *Sigma);
/* eigendecompositions of the pair products C_qi = Ω_q^½ Σ_i Ω_q^½ of a query chunk: s = √λ
 * [qc, M, d] and the eigenvectors as rows, Vt [qc, M, d, d] (Vt[q, i, k, :] = k-th vector) */
typedef struct eg_bwdam_eig {
    eg_tensor *s, *Vt;
} eg_bwdam_eig;
/* tr C_qi^½ [qc, M]; *eig (may be NULL) receives the decompositions */
eg_tensor *eg_bwdam__pair_roots(eg_tensor *Oh, eg_tensor *T, eg_bwdam_eig *eig);
/* Σ_i W_qi C_qi^½ [qc, d, d] for weights W [qc, M] (symmetric up to rounding) */
eg_tensor *eg_bwdam__pair_mix(const eg_bwdam_eig *eig, eg_tensor *W);
/* W2² [qc, M] of full queries (means mq, covariance roots Oh, traces trO) against the memories */
eg_tensor *eg_bwdam__w2sq_full_chunk(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const eg_bwdam_mems *mx,
                                     eg_bwdam_eig *eig);

/* pairs kept by eg_bwdam__w2sq_pruned: query index [P] (I32), flat index j·M + i [P] (I32),
 * and (Ω_j^½ Σ_i Ω_j^½)^½ [P, d, d] (not symmetrised). When most pairs were kept, every pair
 * was computed: row = flat = root = NULL, n = qc·M and eig holds the decompositions of all
 * (the dropped pairs' W2² is +inf, so their weights are 0). */
typedef struct eg_bwdam_pairs {
    int64_t n;
    eg_tensor *row, *flat, *root;
    eg_bwdam_eig eig;
} eg_bwdam_pairs;
/* W2² [qc, M] of full queries against the memories (mx->Sh needed), exact for the pairs within
 * slack of the row's minimum (bounded cheaply first), +inf for the others */
eg_tensor *eg_bwdam__w2sq_pruned(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const eg_bwdam_mems *mx,
                                 double slack, eg_bwdam_pairs *pairs);
/* pairwise W2² for nearest-memory decisions: exact where a pair can be the row's nearest, +inf elsewhere */
eg_tensor *eg_bwdam__w2sq_nearest(eg_gauss a, eg_gauss b, double floor);

#endif
