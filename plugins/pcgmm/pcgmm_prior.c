/* pcgmm_prior.c — the memory priors and their fixed-point rules.
 *
 * Every rule is "Z <- softmax(L) M" with logits L [Q, N] from one GEMM:
 *   gmm  (eq. 45):  L = (Z M^T - 1/2 |m_i|^2) / sigma^2      (the -|z|^2 / 2 sigma^2 part cancels)
 *   mchn (eq. 28):  L = beta Z M^T
 *   gmm* (notes §1.1, GMMStar diag): L = (Z * P) M^T - 1/2 (M * M) P, P = exp(logp)
 * The gmm logits and update are computed with exactly the ops of the hopfield
 * plugin's gmm, so on pixels both give bit-identical states.
 *
 * Blocks may be batched: Z [G, Q, k] against M [G, N, k] (block g's queries
 * against block g's memories, one batched GEMM per product); 2-D Z, M are one
 * block. Energies are [Q] or [G, Q]. The row-norm term -|m_i|^2 / 2 sigma^2
 * does not depend on Z: the fixed point computes it once per call. */
#include "pcgmm.h"

eg_tensor *pcg_gmm_bias(eg_tensor *M, double sigma) {
    int nd = eg_ndim(M);
    int64_t s[3] = {eg_dim(M, 0), 1, eg_dim(M, -2)};
    if (nd == 2) s[0] = 1, s[1] = eg_dim(M, 0);
    return eg_scale(eg_reshape(eg_sum(eg_square(M), -1, 0), nd == 3 ? 3 : 2, s), -0.5 / (sigma * sigma));
}

/* the logits; bias = pcg_gmm_bias(M, sigma) for kind 0 (NULL: computed here) */
static eg_tensor *logits_b(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp,
                           eg_tensor *bias) {
    if (kind == 1) return eg_gemm(Z, M, 0, 1, beta);
    if (kind == 2) {
        int nd = eg_ndim(M);
        int64_t s[3] = {eg_dim(M, 0), 1, eg_dim(M, -2)};
        if (nd == 2) s[0] = 1, s[1] = eg_dim(M, 0);
        eg_tensor *P = eg_exp(logp);                                                         /* [k] */
        eg_tensor *mpm = eg_matmul_nt(eg_square(M), eg_reshape(P, EG_DIMS(1, eg_numel(P)))); /* [.., N, 1] */
        eg_tensor *zp = eg_mul(Z, P);
        return eg_sub(eg_matmul_nt(zp, M), eg_scale(eg_reshape(mpm, nd == 3 ? 3 : 2, s), 0.5));
    }
    return eg_add(eg_gemm(Z, M, 0, 1, 1.0 / (sigma * sigma)), bias ? bias : pcg_gmm_bias(M, sigma));
}

eg_tensor *pcg_gmm_logits(eg_tensor *Z, eg_tensor *M, double sigma, eg_tensor *bias) {
    return logits_b(0, Z, M, sigma, 0, NULL, bias);
}

static eg_tensor *logits(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp) {
    return logits_b(kind, Z, M, sigma, beta, logp, NULL);
}

eg_tensor *pcg_weights(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp) {
    return eg_softmax(logits(kind, Z, M, sigma, beta, logp), -1);
}

eg_tensor *pcg_gmm_energy(eg_tensor *Z, eg_tensor *M, double sigma) {
    eg_tensor *L = logits(0, Z, M, sigma, 0, NULL);
    eg_tensor *zz = eg_sum(eg_square(Z), -1, 0);
    /* F = -logsumexp_i(-|z - m_i|^2 / 2 sigma^2) = -lse(L) + |z|^2 / 2 sigma^2 */
    return eg_add(eg_neg(eg_logsumexp(L, -1, 0)), eg_scale(zz, 0.5 / (sigma * sigma)));
}

eg_tensor *pcg_mchn_energy(eg_tensor *Z, eg_tensor *M, double beta) {
    eg_tensor *lse = eg_logsumexp(eg_gemm(Z, M, 0, 1, beta), -1, 0);
    return eg_sub(eg_scale(eg_sum(eg_square(Z), -1, 0), 0.5), eg_scale(lse, 1.0 / beta));
}

static eg_tensor *energy(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *L) {
    if (kind == 1) return pcg_mchn_energy(Z, M, beta);
    /* gmm and gmm*: -logsumexp of the full logits (the row constant put back) */
    eg_tensor *zz = kind == 0 ? eg_scale(eg_sum(eg_square(Z), -1, 0), 0.5 / (sigma * sigma)) : NULL;
    eg_tensor *e = eg_neg(eg_logsumexp(L, -1, 0));
    return zz ? eg_add(e, zz) : e;
}

eg_tensor *pcg_fixed_point(int kind, eg_tensor *Z, eg_tensor *M, double sigma, double beta, eg_tensor *logp, int steps,
                           eg_tensor **steps_out, eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(Z);
    int64_t Q = eg_numel(Z) / eg_dim(Z, -1); /* states, over every block */
    eg_converge c;
    if (eg_converge_init(&c, Q, PCG_TOL, 0) != EG_OK) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "pcgmm: out of host memory for %lld states", (long long)Q);
        if (steps_out) *steps_out = eg_zeros(ctx, EG_F32, EG_DIMS(Q));
        return eg_clone(Z);
    }
    int t = 0;
    eg_tensor *bias = kind == 0 ? pcg_gmm_bias(M, sigma) : NULL;
    while (t < steps) {
        eg_tensor *L = logits_b(kind, Z, M, sigma, beta, logp, bias);
        if (r) eg_retrieval_energy(r, t, energy(kind, Z, M, sigma, beta, L));
        eg_tensor *next = eg_matmul(eg_softmax(L, -1), M);
        /* max abs change of each state; a state stops counting at its first update below tol */
        int all = eg_converge_update(&c, eg_max(eg_abs(eg_sub(next, Z)), -1, 0));
        if (all < 0) break;
        Z = next;
        t++;
        if (all) break;
    }
    if (r) {
        eg_tensor *E = energy(kind, Z, M, sigma, beta, logits_b(kind, Z, M, sigma, beta, logp, bias));
        for (int s = t; s <= steps; s++)
            eg_retrieval_energy(r, s, E);
    }
    if (steps_out) *steps_out = eg_converge_steps(&c, ctx);
    eg_converge_free(&c);
    return Z;
}
