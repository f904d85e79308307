/* pcgmm_bp.c — Algorithm 2 (BP-GMM) and its MCHN twin (eq. 46): iterative
 * inference of the code z by backpropagation through the decoder.
 *
 *   L(z) = mean_pix (dec(z) - x_obs)^2 + gamma F(z)
 *
 * with F the balanced-GMM prior energy (eq. 29's prior term) or the MCHN energy
 * 1/2 z.z - beta^-1 lse(beta M z). As in the authors' code the pixel error is
 * mean-reduced (so gamma depends on the image size) and z is optimised with
 * Adam (lr bp_lr, bp_steps steps). All queries are optimised at once: the loss
 * is the sum of the per-query objectives, and Adam is elementwise, so every
 * query follows its own trajectory. */
#include "pcgmm.h"

eg_tensor *pcg_bp_objective(const pcg_vae *v, const pcg_bp_cfg *c, eg_tensor *Z, eg_tensor *X, eg_tensor *M) {
    eg_tensor *rec = eg_mean(eg_square(eg_sub(pcg_decode(v, Z), X)), 1, 0); /* [Q] */
    eg_tensor *Zb = pcg_as_blocks(Z, M);
    eg_tensor *prior = c->hopfield ? pcg_mchn_energy(Zb, M, c->beta) : pcg_gmm_energy(Zb, M, c->sigma);
    return eg_add(rec, eg_scale(eg_reshape(prior, EG_DIMS(eg_numel(prior))), c->gamma));
}

eg_tensor *pcg_bp_retrieve(const pcg_vae *v, const pcg_bp_cfg *c, eg_tensor *Z0, eg_tensor *X, eg_tensor *M,
                           eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(Z0);
    eg_params *ps = eg_params_new(ctx);
    if (!ps) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "pcgmm: out of memory for the codes");
        return eg_clone(Z0);
    }
    eg_tensor *z = eg_param(ctx, eg_dtype_of(Z0), EG_DIMS(eg_dim(Z0, 0), eg_dim(Z0, 1)));
    eg_assign(z, Z0);
    eg_params_add(ps, "z", z);
    eg_optim *opt = eg_adam(ps, c->lr, 0.9, 0.999, 1e-8);
    for (int t = 0; t < c->steps && eg_ctx_status(ctx) == EG_OK; t++) {
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *obj = pcg_bp_objective(v, c, z, X, M);
        if (r) eg_retrieval_energy(r, t, eg_detach(obj));
        eg_backward(eg_sum_all(obj));
        eg_optim_step(opt);
        eg_optim_zero_grad(opt);
        eg_scope_close(s);
    }
    eg_tensor *out = eg_clone(z);
    if (r) {
        eg_scope *s = eg_scope_open(ctx);
        eg_no_grad_begin(ctx);
        eg_retrieval_energy(r, c->steps, pcg_bp_objective(v, c, out, X, M));
        eg_no_grad_end(ctx);
        eg_scope_close(s);
    }
    eg_optim_free(opt);
    eg_params_free(ps);
    return out;
}
