/* vmfdam_smd.c — the constrained optimiser `SMD` of the reference code
 * (reference/model-vmfdam.md §5–6, paper App. C) and the AltOneNorm Sinkhorn.
 *
 * For every variable v <- mu v - lr grad~ and then theta <- theta + lr v: the
 * learning rate is applied twice (effective step lr^2, steady-state gain
 * lr^2/(1 - mu) = 1 at lr 0.1, mu 0.99). Porting it as plain momentum SGD with
 * lr = 0.1 would take steps 10x too large.
 *   w    grad~ = grad - (w.grad) w (tangent projection), then rows renormalised
 *   g    grad~_{gy} = grad_{gy} - sum_y' g_{gy'} grad_{gy'} / G_g  ("x (delta - p/p_h)"),
 *        exponentiated: ln g <- ln g + lr v, row-max rescale, then Sinkhorn
 *   beta plain (only when trainable) */
#include <math.h>
#include <stdlib.h>

#include "vmfdam.h"

#define SINKHORN_TOL 1e-6 /* (C+1-1) x Keras epsilon 1e-7 at C = 10; fixed, as the oracles use */

int vmf_sinkhorn(eg_tensor *g, eg_tensor *rows, eg_tensor *cols, int max_iters) {
    eg_ctx *ctx = eg_tensor_ctx(g);
    int64_t R = eg_dim(g, 0);
    double *r = malloc((size_t)R * sizeof *r), *G = malloc((size_t)R * sizeof *G);
    if (!r || !G) {
        free(r), free(G);
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam sinkhorn: out of memory");
    }
    eg_status st = eg_to_host_f64(rows, G);
    int passes = 0, flag = 1;
    while (st == EG_OK && passes < max_iters && flag) {
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *rs = eg_sum(g, 1, 1); /* [R, 1] */
        st = eg_to_host_f64(rs, r);
        flag = 0;
        for (int64_t i = 0; st == EG_OK && i < R; i++)
            if (!(fabs(r[i] / G[i] - 1.0) <= SINKHORN_TOL)) flag = 1; /* NaN counts as unconverged */
        eg_tensor *g1 = eg_mul(g, eg_div(rows, rs));
        eg_assign(g, eg_mul(g1, eg_div(cols, eg_sum(g1, 0, 1))));
        eg_scope_close(s);
        passes++;
        if (st == EG_OK) st = eg_ctx_status(ctx);
    }
    free(r), free(G);
    return st == EG_OK ? passes : st;
}

eg_status vmf_smd_step(vmf_model *m) {
    eg_ctx *ctx = m->ctx;
    double lr = m->lr, mu = m->momentum;
    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *gw = eg_grad(m->w), *gg = eg_grad(m->g), *gb = m->beta_trainable ? eg_grad(m->beta) : NULL;
    if (gw) {
        eg_tensor *tg = eg_sub(gw, eg_mul(eg_sum(eg_mul(m->w, gw), 1, 1), m->w));
        eg_assign(m->vw, eg_sub(eg_scale(m->vw, mu), eg_scale(tg, lr)));
        eg_assign(m->w, vmf_normalize_rows(eg_add(m->w, eg_scale(m->vw, lr))));
    }
    if (gg) {
        eg_tensor *tg = eg_sub(gg, eg_div(eg_sum(eg_mul(m->g, gg), 1, 1), m->rows));
        eg_assign(m->vg, eg_sub(eg_scale(m->vg, mu), eg_scale(tg, lr)));
        eg_tensor *lg = eg_add(eg_ln(m->g), eg_scale(m->vg, lr));
        eg_assign(m->g, eg_exp(eg_sub(lg, eg_max(lg, 1, 1))));
    }
    if (gb) {
        eg_assign(m->vbeta, eg_sub(eg_scale(m->vbeta, mu), eg_scale(gb, lr)));
        eg_assign(m->beta, eg_add(m->beta, eg_scale(m->vbeta, lr)));
    }
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    eg_status st = eg_ctx_status(ctx);
    if (st == EG_OK && gg) {
        int passes = vmf_sinkhorn(m->g, m->rows, m->cols, m->sinkhorn_iters);
        if (passes < 0) return (eg_status)passes;
        m->last_sinkhorn_passes = passes;
    }
    eg_zero_grad(m->w), eg_zero_grad(m->g), eg_zero_grad(m->beta);
    return eg_ctx_status(ctx);
}
