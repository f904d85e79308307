/* pcgmm_pc.c — Algorithm 1 (VAE-PC-GMM): predictive coding through every
 * decoder layer, eq. 31-32.
 *
 * Layers u_0 = z, u_1 .. u_{S-1} (the decoder's hidden activations), u_S = x
 * (clamped to the observation); stage l predicts u_{l+1} = f_l(u_l). Errors
 * e_{l+1} = u_{l+1} - f_l(u_l) (all computed first), then with rate alpha
 *   u_l <- u_l + alpha (f_l'(u_l)^T e_{l+1} - e_l)                        (eq. 31)
 *   z   <- z   + alpha (f_0'(z)^T e_1 - (z - softmax(-|z - M|^2 / 2 sigma^2) M))
 * The z rule is the authors' code (notes §1.1): its top-down error is
 * sigma^2 grad F_prior, i.e. eq. 32 with the prior term's alpha/sigma^2 read as
 * alpha; with alpha = 1 and no bottom-up term it is exactly the GMM update.
 * Predictions are recomputed every step (no fixed-prediction assumption).
 * The bottom-up terms J^T e are vector-Jacobian products of one stage each,
 * taken by autograd on a leaf copy of u_l, so they hold for any decoder. */
#include <string.h>

#include "pcgmm.h"

void eg_pcgmm_pc_init(const eg_pcgmm_vae *v, eg_pcgmm_pc_state *st, eg_tensor *Z, eg_tensor *X) {
    memset(st, 0, sizeof *st);
    st->n = v->n_stages;
    st->u[0] = Z;
    for (int l = 0; l < v->n_stages - 1; l++)
        st->u[l + 1] = eg_pcgmm_stage_forward(v, l, st->u[l]);
    const eg_pcgmm_stage *last = &v->dec[v->n_stages - 1];
    int64_t Q = eg_dim(X, 0);
    st->u[st->n] = last->upconv ? eg_reshape(X, EG_DIMS(Q, v->c, v->h, v->w)) : X;
}

/* per-query sum of squares of t [Q, ...] */
static eg_tensor *sq_rows(eg_tensor *t) {
    return eg_sum(eg_square(eg_flatten(t, 1)), 1, 0);
}

eg_tensor *eg_pcgmm_pc_energy(const eg_pcgmm_vae *v, const eg_pcgmm_pc_state *st, eg_tensor *M, double sigma) {
    eg_tensor *F = eg_pcgmm_gmm_energy(st->u[0], M, sigma);
    for (int l = 0; l < st->n; l++) {
        eg_tensor *e = eg_sub(st->u[l + 1], eg_pcgmm_stage_forward(v, l, st->u[l]));
        F = eg_add(F, eg_scale(sq_rows(e), 0.5));
    }
    return F;
}

eg_pcgmm_pc_state eg_pcgmm_pc_step(const eg_pcgmm_vae *v, const eg_pcgmm_pc_state *st, eg_tensor *M, double sigma,
                                   double alpha, int bottom_up) {
    int S = st->n;
    eg_tensor *err[EG_PCGMM_MAX_STAGES + 1] = {0}, *up[EG_PCGMM_MAX_STAGES + 1] = {0};
    for (int l = 0; l < S; l++) {
        eg_tensor *leaf = eg_clone(st->u[l]);
        if (bottom_up) eg_requires_grad(leaf, 1);
        eg_tensor *pred = eg_pcgmm_stage_forward(v, l, leaf);
        err[l + 1] = eg_sub(st->u[l + 1], eg_detach(pred));
        if (bottom_up) {
            eg_backward_with(pred, err[l + 1]); /* grad(leaf) = f_l'(u_l)^T e_{l+1} */
            up[l] = eg_grad(leaf);
        }
    }
    eg_pcgmm_pc_state out = *st;
    for (int l = 1; l < S; l++) {
        eg_tensor *d = up[l] ? eg_sub(up[l], err[l]) : eg_neg(err[l]);
        out.u[l] = eg_add(st->u[l], eg_scale(d, alpha));
    }
    /* top-down error of the code: z - sum_i w_i m_i */
    eg_tensor *z = st->u[0];
    eg_tensor *e0 = eg_sub(z, eg_matmul(eg_pcgmm_weights(0, z, M, sigma, 0, NULL), M));
    eg_tensor *d0 = up[0] ? eg_sub(up[0], e0) : eg_neg(e0);
    out.u[0] = eg_add(z, eg_scale(d0, alpha));
    return out;
}

eg_tensor *eg_pcgmm_pc_retrieve(const eg_pcgmm_vae *v, eg_tensor *Z0, eg_tensor *X, eg_tensor *M, double sigma,
                                double alpha, int steps, eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(Z0);
    eg_pcgmm_pc_state st, cur;
    eg_pcgmm_pc_init(v, &st, Z0, X);
    /* the states live in the caller's scope; each step computes in its own and copies back */
    cur = st;
    for (int l = 0; l < st.n; l++)
        cur.u[l] = eg_clone(st.u[l]);
    for (int t = 0; t < steps && eg_ctx_status(ctx) == EG_OK; t++) {
        eg_scope *s = eg_scope_open(ctx);
        if (r) {
            eg_no_grad_begin(ctx);
            eg_retrieval_energy(r, t, eg_pcgmm_pc_energy(v, &cur, M, sigma));
            eg_no_grad_end(ctx);
        }
        eg_pcgmm_pc_state next = eg_pcgmm_pc_step(v, &cur, M, sigma, alpha, 1);
        for (int l = 0; l < st.n; l++)
            eg_assign(cur.u[l], eg_detach(next.u[l]));
        eg_scope_close(s);
    }
    if (r) {
        eg_scope *s = eg_scope_open(ctx);
        eg_no_grad_begin(ctx);
        eg_retrieval_energy(r, steps, eg_pcgmm_pc_energy(v, &cur, M, sigma));
        eg_no_grad_end(ctx);
        eg_scope_close(s);
    }
    return cur.u[0];
}
