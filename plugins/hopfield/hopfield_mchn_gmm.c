/* hopfield_mchn_gmm.c — the continuous rules: MCHN and the balanced GMM.
 *
 * Both are "S <- softmax(L) X" with logits L [Q, M] from one GEMM:
 *   mchn: L = beta S X^T                                  (Ramsauer et al. 2020)
 *   gmm:  L = (S X^T - 1/2 |x_i|^2) / sigma^2             (Annabi et al. 2022, eq. 45)
 * The gmm logits drop -|s|^2 / 2 sigma^2 from -|s - x_i|^2 / 2 sigma^2: it is the
 * same for every i of a row, so it cancels in the softmax (it is added back for
 * the energy). With equal-norm memories the two rules coincide at beta = 1/sigma^2. */
#include <math.h>

#include "hopfield.h"

/* |x_i|^2 of every stored pattern, as a row [1, M] (one pass: sum of squares) */
eg_tensor *hop_row_norms(eg_tensor *X) {
    return eg_reshape(eg_sumsq(X, 1, 0), EG_DIMS(1, eg_dim(X, 0)));
}

static eg_tensor *logits(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *xsq) {
    if (h->variant == HOP_MCHN) return eg_gemm(S, X, 0, 1, h->beta);
    double inv = 1.0 / (h->sigma * h->sigma);
    return eg_add(eg_gemm(S, X, 0, 1, inv), eg_scale(xsq, -0.5 * inv));
}

/* energy [Q] of the states S given their logits L */
static eg_tensor *energy_from(const hop_net *h, eg_tensor *S, eg_tensor *L, eg_tensor *xsq) {
    eg_tensor *lse = eg_logsumexp(L, 1, 0); /* [Q] */
    eg_tensor *half_ss = eg_scale(eg_sumsq(S, 1, 0), 0.5);
    if (h->variant == HOP_MCHN) {
        /* E = -lse(beta, X s) + 1/2 s.s + beta^-1 ln M + 1/2 M_max^2; lse(beta, v) = beta^-1 log sum exp(beta v) */
        double M = (double)eg_dim(L, 1);
        eg_tensor *e = eg_add(eg_scale(lse, -1.0 / h->beta), half_ss);
        e = eg_add_scalar(e, log(M) / h->beta);
        return eg_add(e, eg_scale(eg_max(eg_reshape(xsq, EG_DIMS(eg_dim(L, 1))), 0, 0), 0.5));
    }
    /* F = -logsumexp_i(L_i - |s|^2 / 2 sigma^2) */
    return eg_add(eg_neg(lse), eg_scale(half_ss, 1.0 / (h->sigma * h->sigma)));
}

eg_tensor *hop_mchn_gmm_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *xsq, eg_tensor **energy) {
    if (!xsq) xsq = hop_row_norms(X);
    eg_tensor *L = logits(h, S, X, xsq);
    if (energy) *energy = energy_from(h, S, L, xsq);
    return eg_matmul(eg_softmax(L, 1), X);
}

eg_tensor *hop_mchn_gmm_energy(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *xsq) {
    if (!xsq) xsq = hop_row_norms(X);
    return energy_from(h, S, logits(h, S, X, xsq), xsq);
}
