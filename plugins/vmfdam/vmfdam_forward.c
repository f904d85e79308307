/* vmfdam_forward.c — the forward pass out_y(x) and the losses (reference/model-vmfdam.md §2, §4).
 *
 *   m     = x W^T                               one GEMM [B, P]
 *   h     = ς beta m - tau(beta)                (eq. 12: tau at beta, exponent at ς beta)
 *   c     = max(max_mu h_mu, 0)                 the null unit has exponent 0
 *   out_y = c + ln( e^{h - c} g_mem + e^{-c} g_null )   GEMM [B, P] x [P, C+1]
 *
 * Every op is an autograd op, so d loss/d{W, g, beta} come from eg_backward. The
 * shift c is detached: out does not depend on it, so its gradient is exactly 0.
 * tau(beta) is a scalar function computed on the host (vmfdam_lognorm.c); it
 * enters the graph as tau(beta0) + tau'(beta0) (beta - beta0) evaluated at
 * beta = beta0, whose value is exactly tau(beta0) and whose gradient is tau'. */
#include <stdlib.h>

#include "vmfdam.h"

static eg_tensor *tau_tensor(const vmf_model *m, double beta0) {
    double t = 0, d = 0;
    vmf_tau(m, beta0, &t, &d);
    eg_tensor *zero = eg_sub(m->par.beta, eg_detach(m->par.beta)); /* value 0, gradient 1 */
    return eg_affine(zero, d, t);
}

/* The splitting objective (reference §7, paper App. K): F_mu(x; u) =
 * be^2 (x.u - m (w.u))^2 + be m ((w.u)^2 - 1) with be = ς beta, m and w stop-gradient.
 * Returned as F - detach(F): forward value exactly 0, gradient dF/du, so that
 * d loss/d u_mu = mean_x (d loss/d h_mu) dF/du_mu = 2 S_mu u_mu. */
static eg_tensor *split_term(const vmf_model *m, eg_tensor *x, eg_tensor *u, eg_tensor *M, double beta0) {
    double be = m->cfg.varsigma * beta0;
    int64_t P = eg_dim(u, 0);
    eg_tensor *Md = eg_detach(M);
    eg_tensor *a = eg_matmul_nt(x, u);                                                      /* x.u [B, P] */
    eg_tensor *b = eg_reshape(eg_sum(eg_mul(eg_detach(m->par.w), u), 1, 0), EG_DIMS(1, P)); /* w.u [1, P] */
    eg_tensor *r = eg_sub(a, eg_mul(Md, b));
    eg_tensor *F = eg_add(eg_scale(eg_square(r), be * be), eg_scale(eg_mul(Md, eg_add_scalar(eg_square(b), -1.0)), be));
    return eg_sub(F, eg_detach(F));
}

eg_tensor *vmf_forward_ex(const vmf_model *m, eg_tensor *x, eg_tensor *u, vmf_parts *parts) {
    int64_t P = eg_dim(m->par.w, 0);
    double beta0 = eg_item(m->par.beta);
    eg_tensor *M = eg_matmul_nt(x, m->par.w); /* overlaps m_mu = x.w_mu [B, P] */
    eg_tensor *h;
    if (eg_needs_grad(m->par.beta)) {
        h = eg_sub(eg_mul(M, eg_scale(m->par.beta, m->cfg.varsigma)), tau_tensor(m, beta0));
    } else { /* fixed beta: one pass */
        double t = 0;
        vmf_tau(m, beta0, &t, NULL);
        h = eg_affine(M, m->cfg.varsigma * beta0, -t);
    }
    if (u) h = eg_add(h, split_term(m, x, u, M, beta0));
    eg_tensor *c = eg_detach(eg_relu(eg_max(h, 1, 1))); /* max(max_mu h_mu, 0): the null unit's exponent is 0 */
    eg_tensor *E = eg_exp(eg_sub(h, c));                /* [B, P] */
    eg_tensor *E0 = eg_exp(eg_neg(c));                  /* the null unit, e^{0 - c} [B, 1] */
    eg_tensor *S =
        eg_add(eg_matmul(E, eg_narrow(m->par.g, 0, 0, P)), eg_mul(E0, eg_narrow(m->par.g, 0, P, 1))); /* [B, C+1] */
    if (parts) *parts = (vmf_parts){M, h, E, E0, S, c};
    return eg_add(eg_ln(S), c);
}

eg_tensor *vmf_forward(const vmf_model *m, eg_tensor *x, eg_tensor *u, eg_tensor **h_out) {
    vmf_parts parts;
    eg_tensor *out = vmf_forward_ex(m, x, u, &parts);
    if (h_out) *h_out = parts.h;
    return out;
}

eg_tensor *vmf_targets(eg_ctx *ctx, eg_dtype dt, const int32_t *labels, int64_t count, int64_t classes, double s) {
    int64_t K = classes + 1;
    double *t = malloc((size_t)(count * K) * sizeof *t);
    if (!t) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory for %lld targets", (long long)count);
        return eg_zeros(ctx, dt, EG_DIMS(count, K));
    }
    for (int64_t i = 0; i < count; i++)
        for (int64_t y = 0; y < K; y++)
            t[i * K + y] = (y == labels[i] ? 1.0 - s : 0.0) + s / (double)K;
    eg_tensor *r = eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(count, K), t), dt);
    free(t);
    return r;
}

eg_tensor *vmf_loss_supervised(eg_tensor *out, eg_tensor *targets) {
    double B = (double)eg_dim(out, 0);
    return eg_scale(eg_sum_all(eg_mul(targets, out)), -1.0 / B);
}

eg_tensor *vmf_loss_unsupervised(eg_tensor *out, double eps) {
    double B = (double)eg_dim(out, 0), K = (double)eg_dim(out, 1);
    eg_tensor *q = eg_affine(eg_softmax(out, 1), 1.0 - eps, eps / K); /* no stop-gradient (reference §4) */
    return eg_scale(eg_sum_all(eg_mul(q, out)), -1.0 / B);
}

eg_tensor *vmf_loss(const vmf_model *m, eg_tensor *out, eg_tensor *targets) {
    return m->cfg.unsupervised ? vmf_loss_unsupervised(out, m->cfg.epsilon) : vmf_loss_supervised(out, targets);
}
