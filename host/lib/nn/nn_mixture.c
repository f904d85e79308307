/* nn_mixture.c — eg_mixture_estep_loss: the E-step and eq. (5) loss of a spatial
 * mixture (Greff et al. 2017, "Neural Expectation Maximization") as one op with one
 * backend kernel each way (ABI 1.2, formulas in backend.h at eg_mixture_args). On a
 * backend older than 1.2 the same function is composed from elementary ops. */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "core/core_internal.h"

static void mixture_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *psi = n->in[0], *y = n->in[1], *gamma = n->aux;
    eg_ctx *ctx = psi->ctx;
    if (!eg_needs_grad(psi)) return;
    eg_mixture_args a = {psi->dtype, (int)n->p.s.i[0], psi->shape[0], psi->shape[1], psi->shape[2], psi->shape[3],
                         n->p.s.f[0], n->p.s.f[1], n->p.s.f[2]};
    int fresh;
    eg_tensor *dpsi = eg__grad_slot(psi, &fresh);
    if (!dpsi) return;
    eg__be_ok(ctx, ctx->be->mixture_estep_backward(ctx->bi, &a, psi->data, y->data, gamma->data, gy->data, dpsi->data,
                                                   !fresh),
              n->op, "mixture_estep_backward");
}

/* the backend has the 1.2 kernels */
static int have_kernels(eg_ctx *ctx) {
    return eg_ctx_has(ctx, EG_FEATURE_MIXTURE_ESTEP);
}

/* the same function from elementary ops (backends before ABI 1.2) */
static eg_tensor *composite(eg_tensor *psi, eg_tensor *y4, int gaussian, double sigma, double lam, double eps,
                            eg_tensor **gamma) {
    eg_tensor *lik, *nll, *kl;
    if (gaussian) {
        double s2 = sigma * sigma;
        lik = eg_scale(eg_exp(eg_scale(eg_square(eg_sub(y4, psi)), -0.5 / s2)), 1.0 / sqrt(2 * M_PI * s2));
        nll = eg_scale(eg_square(eg_sub(psi, y4)), 0.5);
        kl = eg_scale(eg_square(psi), 0.5);
    } else {
        eg_tensor *y1 = eg_affine(y4, -1, 1), *q = eg_clamp(psi, eps, 1 - eps);
        lik = eg_add(eg_mul(y4, psi), eg_mul(y1, eg_affine(psi, -1, 1)));
        nll = eg_neg(eg_add(eg_mul(y4, eg_ln(q)), eg_mul(y1, eg_ln(eg_affine(q, -1, 1)))));
        kl = eg_neg(eg_ln(eg_clamp(eg_affine(psi, -1, 1), eps, DBL_MAX)));
    }
    eg_no_grad_begin(psi->ctx);
    eg_tensor *p = eg_add_scalar(eg_sum(lik, 2, 1), eps);
    eg_tensor *g = eg_div(p, eg_sum(p, 1, 1)); /* [B, K, 1, P] */
    eg_no_grad_end(psi->ctx);
    *gamma = g;
    eg_tensor *t = eg_add(eg_mul(g, nll), eg_scale(eg_mul(eg_affine(g, -1, 1), kl), lam));
    return eg_sum(eg_reshape(t, EG_DIMS(psi->shape[0], -1)), 1, 0);
}

eg_tensor *eg_mixture_estep_loss(eg_tensor *psi, eg_tensor *y, int gaussian, double sigma, double inter_weight,
                                 double eps, eg_tensor **gamma) {
    eg_ctx *ctx = psi ? psi->ctx : y ? y->ctx : NULL;
    if (!ctx) return NULL;
    if (gamma) *gamma = ctx->placeholder;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!psi || !y) return eg__fail(ctx, EG_ERR_INVALID, "eg_mixture_estep_loss: psi and y are required");
    char sp[128], sy[128];
    int64_t B = psi->ndim == 4 ? psi->shape[0] : 0, K = B ? psi->shape[1] : 0, C = B ? psi->shape[2] : 0,
            P = B ? psi->shape[3] : 0;
    if (psi->ndim != 4 || !eg__is_float(psi->dtype) || y->dtype != psi->dtype || y->numel != B * C * P || K < 1 ||
        C < 1)
        return eg__fail(ctx, EG_ERR_INVALID,
                        "eg_mixture_estep_loss: expected psi [batch, k, channels, pixels] (f32 or f64) and y of the "
                        "same dtype with batch*channels*pixels elements, got psi %s %s and y %s %s",
                        eg__dtype_name(psi->dtype), eg__shape_str(psi, sp, sizeof sp), eg__dtype_name(y->dtype),
                        eg__shape_str(y, sy, sizeof sy));
    if (!(eps >= 1e-30 && eps < 0.5) || (gaussian && !(sigma > 0)))
        return eg__fail(ctx, EG_ERR_INVALID,
                        "eg_mixture_estep_loss: eps = %g (expected 1e-30 <= eps < 0.5), sigma = %g (expected > 0)",
                        eps, sigma);
    if (eg_needs_grad(y))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_mixture_estep_loss: y requires a gradient; the op gives none to y "
                                             "(detach it)");
    eg_tensor *y4 = eg_reshape(y, EG_DIMS(B, 1, C, P));
    if (!have_kernels(ctx)) {
        eg_tensor *g = NULL, *l = composite(psi, y4, gaussian, sigma, inter_weight, eps, &g);
        if (gamma) *gamma = g;
        return l;
    }
    eg_tensor *g = eg__new(ctx, psi->dtype, EG_DIMS(B, K, 1, P)), *loss = eg__new(ctx, psi->dtype, EG_DIMS(B));
    if (eg__failed(ctx)) return ctx->placeholder;
    eg_mixture_args a = {psi->dtype, gaussian != 0, B, K, C, P, sigma, inter_weight, eps};
    if (!eg__be_ok(ctx, ctx->be->mixture_estep(ctx->bi, &a, psi->data, y4->data, g->data, loss->data),
                   "eg_mixture_estep_loss", "mixture_estep"))
        return ctx->placeholder;
    eg_tensor *in[2] = {psi, y4};
    eg_node *nd = eg__record(loss, mixture_backward, "eg_mixture_estep_loss", 2, in);
    if (nd) {
        nd->aux = g;
        nd->p.s.i[0] = a.gaussian;
        nd->p.s.f[0] = sigma, nd->p.s.f[1] = inter_weight, nd->p.s.f[2] = eps;
    }
    if (gamma) *gamma = g;
    return loss;
}
