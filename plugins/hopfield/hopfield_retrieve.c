/* hopfield_retrieve.c — the iteration shared by the variants: up to `steps`
 * batched updates of all Q states, per-state convergence counts and the
 * energy after every update. */
#include <math.h>
#include <stdlib.h>

#include "hopfield.h"

eg_tensor *eg_hopfield_energy(const eg_hopfield *h, eg_tensor *S, eg_tensor *X) {
    if (h->variant == EG_HOPFIELD_DENSE) return eg_hopfield_dense_energy(h, S, X);
    return eg_hopfield_mchn_gmm_energy(h, S, X, NULL);
}

eg_tensor *eg_hopfield_step(const eg_hopfield *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **energy) {
    if (h->variant == EG_HOPFIELD_DENSE) return eg_hopfield_dense_step(h, S, X, rng, energy);
    return eg_hopfield_mchn_gmm_step(h, S, X, NULL, energy);
}

eg_tensor *eg_hopfield_retrieve(const eg_hopfield *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **steps_out,
                                eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(S);
    int64_t Q = eg_dim(S, 0);
    float *count = calloc((size_t)Q, sizeof(float));
    float *change = malloc(sizeof(float) * (size_t)Q);
    char *done = calloc((size_t)Q, 1);
    if (!count || !change || !done) {
        free(count), free(change), free(done);
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "hopfield: out of host memory for %lld states", (long long)Q);
        if (steps_out) *steps_out = eg_zeros(ctx, EG_F32, EG_DIMS(Q));
        return eg_clone(S);
    }
    int dense = h->variant == EG_HOPFIELD_DENSE;
    eg_tensor *xsq = dense ? NULL : eg_hopfield_row_norms(X); /* once for all updates */
    int t = 0;
    while (t < h->steps) {
        eg_tensor *E = NULL;
        eg_tensor *next = dense ? eg_hopfield_dense_step(h, S, X, rng, r ? &E : NULL)
                                : eg_hopfield_mchn_gmm_step(h, S, X, xsq, r ? &E : NULL);
        if (r) eg_retrieval_energy(r, t, E);
        /* max abs change of each state; a state stops counting at its first update below tol */
        eg_tensor *delta = eg_max(eg_abs(eg_sub(next, S)), 1, 0);
        if (eg_to_host_f32(delta, change) != EG_OK) break;
        S = next;
        t++;
        int all = 1;
        for (int64_t q = 0; q < Q; q++) {
            if (!done[q]) {
                if (change[q] < h->tol)
                    done[q] = 1;
                else
                    count[q] = (float)t;
            }
            all &= done[q];
        }
        if (all) break; /* every state is a fixed point (to tol): later updates change nothing */
    }
    if (r) {
        eg_tensor *E = dense ? eg_hopfield_dense_energy(h, S, X) : eg_hopfield_mchn_gmm_energy(h, S, X, xsq);
        /* after an early stop the energy stays put for the remaining steps */
        for (int s = t; s <= h->steps; s++)
            eg_retrieval_energy(r, s, E);
    }
    if (steps_out) *steps_out = eg_from_f32(ctx, EG_F32, EG_DIMS(Q), count);
    free(count), free(change), free(done);
    return S;
}
