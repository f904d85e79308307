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
 * The bottom-up terms J^T e are vector-Jacobian products of one stage each:
 * written out for linear stages (W^T (act' * e), as the authors' code) and
 * taken by autograd on a leaf copy of u_l for the conv stages, so they hold for
 * any decoder. M may be batched blocks [G, N, k] (states [G*Q, ...]). The step
 * also yields the VFE of the state it started from (from its own errors), so
 * recording the energy costs no extra decoder pass. */
#include <string.h>

#include "pcgmm.h"

void pcg_pc_init(const pcg_vae *v, pcg_pc_state *st, eg_tensor *Z, eg_tensor *X) {
    memset(st, 0, sizeof *st);
    st->n = v->n_stages;
    st->u[0] = Z;
    for (int l = 0; l < v->n_stages - 1; l++)
        st->u[l + 1] = pcg_stage_forward(v, l, st->u[l]);
    const pcg_stage *last = &v->dec[v->n_stages - 1];
    int64_t Q = eg_dim(X, 0);
    st->u[st->n] = last->upconv ? eg_reshape(X, EG_DIMS(Q, v->c, v->h, v->w)) : X;
}

/* per-query sum of squares of t [Q, ...] */
static eg_tensor *sq_rows(eg_tensor *t) {
    return eg_sum(eg_square(eg_flatten(t, 1)), 1, 0);
}

eg_tensor *pcg_pc_energy(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma) {
    eg_tensor *F = pcg_gmm_energy(pcg_as_blocks(st->u[0], M), M, sigma);
    F = eg_reshape(F, EG_DIMS(eg_numel(F)));
    for (int l = 0; l < st->n; l++) {
        eg_tensor *e = eg_sub(st->u[l + 1], pcg_stage_forward(v, l, st->u[l]));
        F = eg_add(F, eg_scale(sq_rows(e), 0.5));
    }
    return F;
}

/* stage l's prediction error e = u_{l+1} - f_l(u_l) into *err, and (bottom_up) s f_l'(u_l)^T e.
 * Linear stages with relu / sigmoid (every MLP stage, the conv decoder's first) have the
 * product written out, s (e * act') W with s folded into the GEMM (act' from the prediction:
 * relu' = [y > 0], sigmoid' = y (1 - y)); other stages take it from autograd on a leaf copy. */
static eg_tensor *stage_error(const pcg_vae *v, int l, eg_tensor *u, eg_tensor *unext, double s, int bottom_up,
                              eg_tensor **err) {
    const pcg_stage *st = &v->dec[l];
    if (!st->upconv && (st->act == EG_ACT_RELU || st->act == EG_ACT_SIGMOID)) {
        eg_tensor *pred = pcg_stage_forward(v, l, u);
        *err = eg_sub(unext, pred);
        if (!bottom_up) return NULL;
        int64_t n = eg_dim(u, 0), out = st->lin.out;
        eg_tensor *y = eg_reshape(pred, EG_DIMS(n, out)), *e = eg_reshape(*err, EG_DIMS(n, out));
        eg_tensor *d = st->act == EG_ACT_RELU ? eg_mul(e, eg_step(y, 0)) : eg_mul(e, eg_mul(y, eg_affine(y, -1, 1)));
        return eg_gemm(d, st->lin.weight, 0, 0, s); /* [n, out] @ [out, in] */
    }
    eg_tensor *leaf = eg_clone(u);
    if (bottom_up) eg_requires_grad(leaf, 1);
    eg_tensor *pred = pcg_stage_forward(v, l, leaf);
    *err = eg_sub(unext, eg_detach(pred));
    if (!bottom_up) return NULL;
    eg_backward_with(pred, *err); /* grad(leaf) = f_l'(u_l)^T e_{l+1} */
    return eg_scale(eg_grad(leaf), s);
}

/* one step; bias: pcg_gmm_bias(M, sigma) or NULL; energy (may be NULL): the VFE of the
 * input state per query (eq. 29), from the step's own errors and logits */
static pcg_pc_state pc_step(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, eg_tensor *bias, double sigma,
                            double alpha, int bottom_up, eg_tensor **energy) {
    int S = st->n;
    eg_tensor *err[PCG_MAX_STAGES + 1] = {0}, *up[PCG_MAX_STAGES + 1] = {0};
    for (int l = 0; l < S; l++) /* every error from the old states first */
        up[l] = stage_error(v, l, st->u[l], st->u[l + 1], alpha, bottom_up, &err[l + 1]);
    pcg_pc_state out = *st;
    /* u_l + alpha (f'^T e_{l+1} - e_l), the first product already scaled by alpha */
    for (int l = 1; l < S; l++) {
        eg_tensor *t = eg_sub(st->u[l], eg_scale(err[l], alpha));
        out.u[l] = up[l] ? eg_add(t, up[l]) : t;
    }
    /* the code: z + alpha (f_0'^T e_1 - (z - sum_i w_i m_i)) = (1 - alpha) z + alpha sum_i w_i m_i + ... */
    eg_tensor *z = st->u[0], *zb = pcg_as_blocks(z, M);
    eg_tensor *L = pcg_gmm_logits(zb, M, sigma, bias);
    eg_tensor *mix = eg_gemm(eg_softmax(L, -1), M, 0, 0, alpha);
    eg_tensor *z1 = eg_add(eg_scale(z, 1 - alpha), eg_reshape(mix, eg_ndim(z), eg_shape(z)));
    out.u[0] = up[0] ? eg_add(z1, up[0]) : z1;
    if (energy) { /* F_gmm(z) = -lse(L) + |z|^2 / 2 sigma^2, plus 1/2 |e_l|^2 per layer */
        eg_tensor *F = eg_add(eg_neg(eg_logsumexp(L, -1, 0)), eg_scale(eg_sumsq(zb, -1, 0), 0.5 / (sigma * sigma)));
        F = eg_reshape(F, EG_DIMS(eg_numel(F)));
        eg_tensor *se = NULL;
        for (int l = 1; l <= S; l++) {
            eg_tensor *q = eg_sumsq(eg_flatten(err[l], 1), 1, 0);
            se = se ? eg_add(se, q) : q;
        }
        *energy = eg_add(F, eg_scale(se, 0.5));
    }
    return out;
}

pcg_pc_state pcg_pc_step(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma, double alpha,
                         int bottom_up) {
    return pc_step(v, st, M, NULL, sigma, alpha, bottom_up, NULL);
}

pcg_pc_state pcg_pc_step_energy(const pcg_vae *v, const pcg_pc_state *st, eg_tensor *M, double sigma, double alpha,
                                eg_tensor **energy) {
    return pc_step(v, st, M, NULL, sigma, alpha, 1, energy);
}

eg_tensor *pcg_pc_retrieve(const pcg_vae *v, eg_tensor *Z0, eg_tensor *X, eg_tensor *M, double sigma, double alpha,
                           int steps, eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(Z0);
    pcg_pc_state st, cur;
    pcg_pc_init(v, &st, Z0, X);
    eg_tensor *bias = pcg_gmm_bias(M, sigma); /* in the caller's scope, once */
    /* the states live in the caller's scope; each step computes in its own and copies back */
    cur = st;
    for (int l = 0; l < st.n; l++)
        cur.u[l] = eg_clone(st.u[l]);
    for (int t = 0; t < steps && eg_ctx_status(ctx) == EG_OK; t++) {
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *E = NULL;
        pcg_pc_state next = pc_step(v, &cur, M, bias, sigma, alpha, 1, r ? &E : NULL);
        if (r) eg_retrieval_energy(r, t, eg_detach(E));
        for (int l = 0; l < st.n; l++)
            eg_assign(cur.u[l], eg_detach(next.u[l]));
        eg_scope_close(s);
    }
    if (r) {
        eg_scope *s = eg_scope_open(ctx);
        eg_no_grad_begin(ctx);
        eg_retrieval_energy(r, steps, pcg_pc_energy(v, &cur, M, sigma));
        eg_no_grad_end(ctx);
        eg_scope_close(s);
    }
    return cur.u[0];
}
