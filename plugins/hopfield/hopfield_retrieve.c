/* hopfield_retrieve.c — the iteration shared by the variants: up to `steps`
 * batched updates of all Q states, per-state convergence counts and the
 * energy after every update. */
#include "hopfield.h"

eg_tensor *hop_energy(const hop_net *h, eg_tensor *S, eg_tensor *X) {
    if (h->variant == HOP_DENSE) return hop_dense_energy(h, S, X);
    return hop_mchn_gmm_energy(h, S, X, NULL);
}

eg_tensor *hop_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **energy) {
    if (h->variant == HOP_DENSE) return hop_dense_step(h, S, X, rng, energy);
    return hop_mchn_gmm_step(h, S, X, NULL, energy);
}

eg_tensor *hop_retrieve(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **steps_out,
                        eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(S);
    int64_t Q = eg_dim(S, 0);
    eg_converge c;
    if (eg_converge_init(&c, Q, h->tol, 0) != EG_OK) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "hopfield: out of host memory for %lld states", (long long)Q);
        if (steps_out) *steps_out = eg_zeros(ctx, EG_F32, EG_DIMS(Q));
        return eg_clone(S);
    }
    int dense = h->variant == HOP_DENSE;
    eg_tensor *xsq = dense ? NULL : hop_row_norms(X); /* once for all updates */
    int t = 0;
    while (t < h->steps) {
        eg_tensor *E = NULL;
        eg_tensor *next =
            dense ? hop_dense_step(h, S, X, rng, r ? &E : NULL) : hop_mchn_gmm_step(h, S, X, xsq, r ? &E : NULL);
        if (r) eg_retrieval_energy(r, t, E);
        /* max abs change of each state; a state stops counting at its first update below tol */
        int all = eg_converge_update(&c, eg_max(eg_abs(eg_sub(next, S)), 1, 0));
        if (all < 0) break;
        S = next;
        t++;
        if (all) break; /* every state is a fixed point (to tol): later updates change nothing */
    }
    if (r) {
        eg_tensor *E = dense ? hop_dense_energy(h, S, X) : hop_mchn_gmm_energy(h, S, X, xsq);
        /* after an early stop the energy stays put for the remaining steps */
        for (int s = t; s <= h->steps; s++)
            eg_retrieval_energy(r, s, E);
    }
    if (steps_out) *steps_out = eg_converge_steps(&c, ctx);
    eg_converge_free(&c);
    return S;
}
