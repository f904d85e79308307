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
/* tr (Oh_q Σ_i Oh_q)^½ [qc, M]; *root (may be NULL) the roots [qc, M, d, d] */
eg_tensor *eg_bwdam__pair_roots(eg_tensor *Oh, eg_tensor *Sigma, eg_tensor **root);
/* |a_q - b_i|² [na, nb] */
eg_tensor *eg_bwdam__sqdist(eg_tensor *a, eg_tensor *b);
/* (m, √λ) rows of diagonal Gaussians [n, 2d] */
eg_tensor *eg_bwdam__stack_root(eg_gauss g);
/* W2² [qc, M] of full queries (means mq, covariance roots Oh, traces trO) against X (traces trS) */
eg_tensor *eg_bwdam__w2sq_full_chunk(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, eg_gauss X, eg_tensor *trS,
                                     eg_tensor **root);

/* pairs kept by eg_bwdam__w2sq_pruned: query index [P] (I32), flat index j·M + i [P] (I32),
 * and (Ω_j^½ Σ_i Ω_j^½)^½ [P, d, d] */
typedef struct eg_bwdam_pairs {
    int64_t n;
    eg_tensor *row, *flat, *root;
} eg_bwdam_pairs;
/* W2² [qc, M] of full queries against X, exact for the pairs within slack of the row's
 * minimum (bounded cheaply first), +inf for the others; Sh = X's covariance roots */
eg_tensor *eg_bwdam__w2sq_pruned(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, eg_gauss X, eg_tensor *Sh,
                                 eg_tensor *trS, double slack, eg_bwdam_pairs *pairs);
/* pairwise W2² for nearest-memory decisions: exact where a pair can be the row's nearest, +inf elsewhere */
eg_tensor *eg_bwdam__w2sq_nearest(eg_gauss a, eg_gauss b, double floor);

#endif
