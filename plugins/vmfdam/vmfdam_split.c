/* vmfdam_split.c — splitting steepest descent (paper Alg. 2 and App. K;
 * reference/model-vmfdam.md §6 "u" and §7).
 *
 * Eigenvectors: u_mu minimises the Rayleigh quotient u^T S_mu u of the
 * splitting matrix S_mu = -mean_x R_mu(x) [be^2 (x - m w)(x - m w)^T - be m (I - w w^T)]
 * on the sphere; its gradient comes from the forward pass with the split term
 * (vmfdam_forward.c). The update is RMSProp-like per unit:
 *   r2 <- mu r2 + (1 - mu) |grad|^2,  grad~ = (grad - (u.grad) u)/sqrt(r2),
 *   v <- mu v - lr grad~,  u <- normalize(u + lr v).
 * Split of the selected units (Alg. 2 steps 6–11): the copy is appended with
 * w - delta u, the original becomes w + delta u (both renormalised); their g rows
 * and row targets G are halved and duplicated, the null row stays last, and
 * every row (null included) is multiplied by P'/P, which keeps sum_mu G_mu = P'
 * and G_null = P'/P_max. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmfdam.h"

eg_status vmf_u_step(vmf_model *m) {
    eg_ctx *ctx = m->ctx;
    double lr = m->cfg.lr, mu = m->cfg.momentum;
    eg_tensor *gu = eg_grad(m->split.u);
    if (!gu) return eg_ctx_status(ctx);
    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(m->split.r2u, eg_add(eg_scale(m->split.r2u, mu), eg_scale(eg_sum(eg_square(gu), 1, 1), 1.0 - mu)));
    eg_tensor *tg = eg_sub(gu, eg_mul(eg_sum(eg_mul(m->split.u, gu), 1, 1), m->split.u));
    tg = eg_mul(tg, eg_rsqrt(eg_maximum(m->split.r2u, eg_scalar(ctx, m->dtype, 1e-30))));
    eg_assign(m->split.vu, eg_sub(eg_scale(m->split.vu, mu), eg_scale(tg, lr)));
    eg_assign(m->split.u, vmf_normalize_rows(eg_add(m->split.u, eg_scale(m->split.vu, lr))));
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    eg_zero_grad(m->split.u);
    return eg_ctx_status(ctx);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

eg_status vmf_split_select(const double *lambda, int64_t p, int64_t p_max, double fraction, double thres,
                           unsigned char *mask, int64_t *count) {
    *count = 0;
    memset(mask, 0, (size_t)p);
    int64_t k = (int64_t)llround(fraction * (double)p);
    if (k > p) k = p;
    if (k > p_max - p) k = p_max - p;
    if (k <= 0) return EG_OK;
    /* the (k+1)-th smallest over all P_max columns, unused ones counting as 0 */
    double *sorted = p_max <= PTRDIFF_MAX / (int64_t)sizeof(double) ? malloc((size_t)p_max * sizeof *sorted) : NULL;
    if (!sorted) return EG_ERR_NOMEM;
    for (int64_t i = 0; i < p_max; i++)
        sorted[i] = i < p ? lambda[i] : 0.0;
    qsort(sorted, (size_t)p_max, sizeof *sorted, cmp_double);
    double cut = sorted[k] < thres ? sorted[k] : thres;
    free(sorted);
    int64_t n = 0;
    for (int64_t i = 0; i < p; i++)
        if (lambda[i] < cut && n < k) mask[i] = 1, n++;
    *count = n;
    return EG_OK;
}

eg_status vmf_split_units(vmf_model *m, const double *lambda, double fraction, double thres, double delta, eg_rng rng,
                          int64_t *grown) {
    eg_ctx *ctx = m->ctx;
    int64_t before = m->hidden, k = 0;
    *grown = 0;
    unsigned char *mask = malloc((size_t)before);
    if (!mask)
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam split: out of memory for a mask of %lld units",
                           (long long)before);
    eg_status st = vmf_split_select(lambda, before, m->hidden_max, fraction, thres, mask, &k);
    if (st != EG_OK)
        st = eg_ctx_fail(ctx, st, "vmfdam split: out of memory choosing which of the %lld units split (P_max = %lld)",
                         (long long)before, (long long)m->hidden_max);
    if (st == EG_OK && k > 0) {
        eg_rng r = eg_rng_substream(rng, (uint64_t)before, EG_RNG_SPAN_STAGE); /* a fresh range per stage */
        st = vmf_split_apply(m, mask, delta, &r);
    }
    free(mask);
    if (st == EG_OK) *grown = m->hidden - before;
    return st;
}

int vmf_growth_schedule(int64_t p0, int64_t p_max, double fraction, int64_t *sizes, int cap) {
    int n = 0;
    int64_t p = p0;
    if (n < cap) sizes[n++] = p;
    while (p < p_max && n < cap) {
        int64_t k = (int64_t)llround(fraction * (double)p);
        if (k > p) k = p;
        if (k > p_max - p) k = p_max - p;
        if (k <= 0) break;
        p += k;
        sizes[n++] = p;
    }
    return n;
}

/* replaces *t by a new persistent tensor holding src (requires_grad as given) */
static void replace(eg_ctx *ctx, eg_tensor **t, eg_tensor *src, int param) {
    eg_tensor *n = param ? eg_param(ctx, eg_dtype_of(src), eg_ndim(src), eg_shape(src))
                         : eg_persistent(ctx, eg_dtype_of(src), eg_ndim(src), eg_shape(src));
    eg_assign(n, src);
    eg_tensor_free(*t);
    *t = n;
}

eg_status vmf_split_apply(vmf_model *m, const unsigned char *mask, double delta, eg_rng *rng) {
    eg_ctx *ctx = m->ctx;
    int64_t P = m->hidden, R = 0, N = m->n;
    for (int64_t i = 0; i < P; i++)
        R += mask[i] != 0;
    if (R == 0) return EG_OK;
    int64_t P2 = P + R;
    /* row maps: memories [0, P2) and g rows [0, P2] (null last) */
    int32_t *idx = malloc((size_t)(P2 + 1) * sizeof *idx);
    double *sign = malloc((size_t)P2 * sizeof *sign), *keep = malloc((size_t)(P2 + 1) * sizeof *keep);
    double *gscale = malloc((size_t)(P2 + 1) * sizeof *gscale), *G2 = malloc((size_t)(P2 + 1) * sizeof *G2);
    if (!idx || !sign || !keep || !gscale || !G2) {
        free(idx), free(sign), free(keep), free(gscale), free(G2);
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam split: out of memory");
    }
    double grow = (double)P2 / (double)P;
    int64_t j = P;
    for (int64_t i = 0; i < P; i++) {
        idx[i] = (int32_t)i, keep[i] = 1.0;
        sign[i] = mask[i] ? 1.0 : 0.0;
        gscale[i] = (mask[i] ? 0.5 : 1.0) * grow;
        G2[i] = m->par.G[i] * gscale[i];
        if (mask[i]) {
            idx[j] = (int32_t)i, keep[j] = 0.0, sign[j] = -1.0;
            gscale[j] = 0.5 * grow;
            G2[j] = m->par.G[i] * gscale[j];
            j++;
        }
    }
    idx[P2] = (int32_t)P, keep[P2] = 1.0, gscale[P2] = grow, G2[P2] = m->par.G[P] * grow;

    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *iw = eg_from_host(ctx, EG_I32, EG_DIMS(P2), idx);
    eg_tensor *ig = eg_from_host(ctx, EG_I32, EG_DIMS(P2 + 1), idx);
    eg_tensor *sg = eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P2, 1), sign), m->dtype);
    eg_tensor *kw = eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P2, 1), keep), m->dtype);
    eg_tensor *kg = eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P2 + 1, 1), keep), m->dtype);
    eg_tensor *gs = eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P2 + 1, 1), gscale), m->dtype);
    eg_tensor *U = eg_index_select(m->split.u, 0, iw);
    eg_tensor *W = vmf_normalize_rows(eg_add(eg_index_select(m->par.w, 0, iw), eg_mul(U, eg_scale(sg, delta))));
    replace(ctx, &m->par.w, W, 1);
    replace(ctx, &m->par.g, eg_mul(eg_index_select(m->par.g, 0, ig), gs), 1);
    replace(ctx, &m->opt.vw, eg_mul(eg_index_select(m->opt.vw, 0, iw), kw), 0);
    replace(ctx, &m->opt.vg, eg_mul(eg_index_select(m->opt.vg, 0, ig), kg), 0);
    replace(ctx, &m->split.r2u, eg_mul(eg_index_select(m->split.r2u, 0, iw), kw), 0);
    replace(ctx, &m->split.vu, eg_zeros(ctx, m->dtype, EG_DIMS(P2, N)), 0);
    replace(ctx, &m->split.u, vmf_normalize_rows(eg_rand_normal(ctx, rng, m->dtype, EG_DIMS(P2, N), 0.0, 1.0)), 0);
    replace(ctx, &m->par.rows, eg_zeros(ctx, m->dtype, EG_DIMS(P2 + 1, 1)), 0);
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    free(idx), free(sign), free(keep), free(gscale);
    free(m->par.G);
    m->par.G = G2;
    m->hidden = P2;
    eg_status st = eg_ctx_status(ctx);
    if (st == EG_OK) st = vmf_sync_targets(m);
    return st;
}
