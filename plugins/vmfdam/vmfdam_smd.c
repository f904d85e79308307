/* vmfdam_smd.c — the constrained optimiser `SMD` of the reference code
 * (reference/model-vmfdam.md §5–6, paper App. C); its projections (row
 * normalisation, Sinkhorn) are vmfdam_project.c's.
 *
 * For every variable v <- mu v - lr grad~ and then theta <- theta + lr v: the
 * learning rate is applied twice (effective step lr^2, steady-state gain
 * lr^2/(1 - mu) = 1 at lr 0.1, mu 0.99). Porting it as plain momentum SGD with
 * lr = 0.1 would take steps 10x too large.
 *   w    grad~ = grad - (w.grad) w (tangent projection), then rows renormalised
 *   g    grad~_{gy} = grad_{gy} - sum_y' g_{gy'} grad_{gy'} / G_g  ("x (delta - p/p_h)"),
 *        exponentiated: ln g <- ln g + lr v, row-max rescale, then Sinkhorn
 *   beta plain (only when trainable) */
#include "vmfdam.h"

eg_status vmf_smd_step(vmf_model *m) {
    eg_ctx *ctx = m->ctx;
    double lr = m->cfg.lr, mu = m->cfg.momentum;
    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *gw = eg_grad(m->par.w), *gg = eg_grad(m->par.g),
              *gb = m->cfg.beta_trainable ? eg_grad(m->par.beta) : NULL;
    if (gw) {
        eg_tensor *tg = eg_sub(gw, eg_mul(eg_sum(eg_mul(m->par.w, gw), 1, 1), m->par.w));
        eg_assign(m->opt.vw, eg_sub(eg_scale(m->opt.vw, mu), eg_scale(tg, lr)));
        eg_assign(m->par.w, vmf_normalize_rows(eg_add(m->par.w, eg_scale(m->opt.vw, lr))));
    }
    if (gg) {
        eg_tensor *tg = eg_sub(gg, eg_div(eg_sum(eg_mul(m->par.g, gg), 1, 1), m->par.rows));
        eg_assign(m->opt.vg, eg_sub(eg_scale(m->opt.vg, mu), eg_scale(tg, lr)));
        eg_tensor *lg = eg_add(eg_ln(m->par.g), eg_scale(m->opt.vg, lr));
        eg_assign(m->par.g, eg_exp(eg_sub(lg, eg_max(lg, 1, 1))));
    }
    if (gb) {
        eg_assign(m->opt.vbeta, eg_sub(eg_scale(m->opt.vbeta, mu), eg_scale(gb, lr)));
        eg_assign(m->par.beta, eg_add(m->par.beta, eg_scale(m->opt.vbeta, lr)));
    }
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    eg_status st = eg_ctx_status(ctx);
    if (st == EG_OK && gg) {
        int passes = vmf_sinkhorn(m->par.g, m->par.rows, m->par.cols, m->cfg.sinkhorn_iters);
        if (passes < 0) return (eg_status)passes;
        m->opt.last_sinkhorn_passes = passes;
    }
    eg_zero_grad(m->par.w), eg_zero_grad(m->par.g), eg_zero_grad(m->par.beta);
    return eg_ctx_status(ctx);
}
