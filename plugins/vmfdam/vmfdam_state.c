/* vmfdam_state.c — allocation, the reference initialisation and the
 * transportation-polytope targets of the vmfdam model (reference/model-vmfdam.md §5):
 *   rows:    sum_y g_{gamma y} = G_gamma      (G_mu = 1, G_null = P/P_max initially)
 *   columns: sum_gamma g_{gamma y} = (P + G_null) p_q(y)
 * so g = (P + P_0) p(gamma, y) with p_h(gamma) = G_gamma/(P + P_0) (paper App. D). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vmfdam.h"

static void free_t(eg_tensor **t) {
    if (*t) eg_tensor_free(*t);
    *t = NULL;
}

void vmf_release(vmf_model *m) {
    vmf_fast_release(m);
    eg_tensor **all[] = {&m->par.w,  &m->par.g,     &m->par.beta, &m->par.rows, &m->par.cols, &m->opt.vw,
                         &m->opt.vg, &m->opt.vbeta, &m->split.u,  &m->split.vu, &m->split.r2u};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free_t(all[i]);
    free(m->par.G);
    free(m->par.pq);
    m->par.G = m->par.pq = NULL;
}

eg_status vmf_alloc(vmf_model *m, eg_ctx *ctx, eg_dtype dt, int64_t n, int64_t classes, int64_t hidden,
                    const double *pq) {
    m->ctx = ctx, m->dtype = dt, m->n = n, m->classes = classes, m->hidden = hidden;
    if (m->hidden_max < hidden) m->hidden_max = hidden;
    int64_t P = hidden, K = classes + 1;
    m->par.w = eg_param(ctx, dt, EG_DIMS(P, n));
    m->par.g = eg_param(ctx, dt, EG_DIMS(P + 1, K));
    m->par.beta = eg_param(ctx, dt, EG_DIMS(1));
    m->par.rows = eg_persistent(ctx, dt, EG_DIMS(P + 1, 1));
    m->par.cols = eg_persistent(ctx, dt, EG_DIMS(1, K));
    m->opt.vw = eg_persistent(ctx, dt, EG_DIMS(P, n));
    m->opt.vg = eg_persistent(ctx, dt, EG_DIMS(P + 1, K));
    m->opt.vbeta = eg_persistent(ctx, dt, EG_DIMS(1));
    m->split.u = eg_persistent(ctx, dt, EG_DIMS(P, n));
    m->split.vu = eg_persistent(ctx, dt, EG_DIMS(P, n));
    m->split.r2u = eg_persistent(ctx, dt, EG_DIMS(P, 1));
    m->par.G = calloc((size_t)(P + 1), sizeof *m->par.G);
    m->par.pq = calloc((size_t)K, sizeof *m->par.pq);
    if (!m->par.G || !m->par.pq)
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory for %lld memories", (long long)P);
    if (pq) memcpy(m->par.pq, pq, (size_t)K * sizeof *pq);
    eg_requires_grad(m->par.beta, m->cfg.beta_trainable);
    return eg_ctx_status(ctx);
}

void vmf_class_prior(const double *counts, int64_t classes, double s, double *pq) {
    double total = 0;
    for (int64_t y = 0; y < classes; y++)
        total += counts[y];
    for (int64_t y = 0; y <= classes; y++)
        pq[y] = (y < classes && total > 0 ? (1.0 - s) * counts[y] / total : 0.0) + s / (double)(classes + 1);
}

eg_status vmf_sync_targets(vmf_model *m) {
    int64_t P = m->hidden, K = m->classes + 1;
    double *col = malloc((size_t)K * sizeof *col);
    if (!col) return eg_ctx_fail(m->ctx, EG_ERR_NOMEM, "vmfdam: out of memory");
    for (int64_t y = 0; y < K; y++)
        col[y] = ((double)P + m->par.G[P]) * m->par.pq[y];
    eg_scope *s = eg_scope_open(m->ctx);
    eg_assign(m->par.rows, eg_cast(eg_from_host(m->ctx, EG_F64, EG_DIMS(P + 1, 1), m->par.G), m->dtype));
    eg_assign(m->par.cols, eg_cast(eg_from_host(m->ctx, EG_F64, EG_DIMS(1, K), col), m->dtype));
    eg_scope_close(s);
    free(col);
    return eg_ctx_status(m->ctx);
}

double vmf_beta(const vmf_model *m) {
    return eg_item(m->par.beta);
}

eg_status vmf_init(vmf_model *m, double beta0, eg_rng *rng) {
    eg_ctx *ctx = m->ctx;
    int64_t P = m->hidden, K = m->classes + 1, N = m->n;
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(m->par.w, vmf_normalize_rows(eg_rand_normal(ctx, rng, m->dtype, EG_DIMS(P, N), 0.0, 1.0)));
    eg_assign(m->split.u, vmf_normalize_rows(eg_rand_normal(ctx, rng, m->dtype, EG_DIMS(P, N), 0.0, 1.0)));
    eg_scope_close(s);
    double *g = malloc((size_t)((P + 1) * K) * sizeof *g);
    if (!g) return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory for g");
    for (int64_t r = 0; r <= P; r++)
        for (int64_t y = 0; y < K; y++)
            g[r * K + y] = (r < P ? 1.0 : (double)P / (double)(m->hidden_max + 1)) * m->par.pq[y];
    for (int64_t r = 0; r < P; r++)
        m->par.G[r] = 1.0;
    m->par.G[P] = (double)P / (double)m->hidden_max;
    s = eg_scope_open(ctx);
    eg_assign(m->par.g, eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P + 1, K), g), m->dtype));
    eg_scope_close(s);
    free(g);
    eg_fill(m->par.beta, beta0);
    eg_fill(m->opt.vw, 0), eg_fill(m->opt.vg, 0), eg_fill(m->opt.vbeta, 0), eg_fill(m->split.vu, 0),
        eg_fill(m->split.r2u, 0);
    return vmf_sync_targets(m);
}
