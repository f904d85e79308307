/* vmfdam_stationarity.c — how far the trained weights are from a stationary
 * point of the loss (paper eq. 6 and reference/model-vmfdam.md §6). With the
 * responsibilities R_gamma(x) = sum_y T_y g_{gamma y} e^{h_gamma}/Z_y (sum 1 over
 * gamma, null included) and D_{gamma y} = mean_x T_y e^{h_gamma}/Z_y = -dL/dg:
 *   (i)   w_mu = wbar_mu/|wbar_mu|, wbar_mu = sum_x R_mu(x) x.
 *         Residual: sqrt(sum_mu rho_mu sin^2(w_mu, wbar_mu) / sum_mu rho_mu),
 *         rho_mu = sum_x R_mu(x) (dead units weigh nothing).
 *   (ii)  A_N(beta) = ς sum R_mu m_mu / sum R_mu (only a condition when beta is trained).
 *   (iii) p = pbar/zeta(pbar) with pbar = p o D (eq. 6, App. C eq. 20), i.e.
 *         D_{gamma y} = a_gamma + b_y on the support of g. Residual: the g-weighted
 *         least-squares misfit sqrt(sum g (D - a - b)^2 / sum g D^2), a and b
 *         fitted by alternating exact minimisation (the normal equations are
 *         the row and column conditions sum_y g (D - a - b) = 0, sum_gamma ... = 0). */
#include <math.h>
#include <stdlib.h>

#include "vmfdam.h"

eg_status vmf_stat_begin(const vmf_model *m, vmf_stat_acc *a) {
    int64_t P = m->hidden, K = m->classes + 1;
    a->wbar = eg_persistent(m->ctx, m->dtype, EG_DIMS(P, m->n));
    a->d = eg_persistent(m->ctx, m->dtype, EG_DIMS(P + 1, K));
    a->rho = eg_persistent(m->ctx, m->dtype, EG_DIMS(P));
    a->rm = eg_persistent(m->ctx, m->dtype, EG_DIMS(P));
    a->n = 0;
    return eg_ctx_status(m->ctx);
}

void vmf_stat_add(const vmf_model *m, vmf_stat_acc *a, eg_tensor *x, const vmf_parts *parts, eg_tensor *weights) {
    int64_t P = m->hidden;
    eg_no_grad_begin(m->ctx);
    eg_scope *s = eg_scope_open(m->ctx);
    eg_tensor *wt = eg_div(weights, parts->s);                                       /* T_y e^{c}/Z_y [B, C+1] */
    eg_tensor *R = eg_mul(parts->e, eg_matmul_nt(wt, eg_narrow(m->par.g, 0, 0, P))); /* R_mu(x) [B, P] */
    eg_assign(a->wbar, eg_add(a->wbar, eg_matmul_tn(R, x)));
    eg_tensor *dd[2] = {eg_matmul_tn(parts->e, wt), eg_matmul_tn(parts->e0, wt)}; /* [P, C+1], null [1, C+1] */
    eg_assign(a->d, eg_add(a->d, eg_concat(dd, 2, 0)));
    eg_assign(a->rho, eg_add(a->rho, eg_sum(R, 0, 0)));
    eg_assign(a->rm, eg_add(a->rm, eg_sum(eg_mul(R, parts->m), 0, 0)));
    eg_scope_close(s);
    eg_no_grad_end(m->ctx);
    a->n += eg_dim(x, 0);
}

static double residual_g(const double *g, const double *D, int64_t R, int64_t K) {
    double *a = calloc((size_t)R, sizeof *a), *b = calloc((size_t)K, sizeof *b);
    double *rs = calloc((size_t)R, sizeof *rs), *cs = calloc((size_t)K, sizeof *cs);
    if (!a || !b || !rs || !cs) {
        free(a), free(b), free(rs), free(cs);
        return NAN;
    }
    for (int64_t i = 0; i < R; i++)
        for (int64_t y = 0; y < K; y++)
            rs[i] += g[i * K + y], cs[y] += g[i * K + y];
    for (int sweep = 0; sweep < 2000; sweep++) {
        for (int64_t i = 0; i < R; i++) {
            double t = 0;
            for (int64_t y = 0; y < K; y++)
                t += g[i * K + y] * (D[i * K + y] - b[y]);
            a[i] = rs[i] > 0 ? t / rs[i] : 0;
        }
        for (int64_t y = 0; y < K; y++) {
            double t = 0;
            for (int64_t i = 0; i < R; i++)
                t += g[i * K + y] * (D[i * K + y] - a[i]);
            b[y] = cs[y] > 0 ? t / cs[y] : 0;
        }
    }
    double num = 0, den = 0;
    for (int64_t i = 0; i < R; i++)
        for (int64_t y = 0; y < K; y++) {
            double r = D[i * K + y] - a[i] - b[y];
            num += g[i * K + y] * r * r;
            den += g[i * K + y] * D[i * K + y] * D[i * K + y];
        }
    free(a), free(b), free(rs), free(cs);
    return den > 0 ? sqrt(num / den) : 0.0;
}

eg_status vmf_stat_end(const vmf_model *m, vmf_stat_acc *a, vmf_stationarity *out) {
    int64_t P = m->hidden, N = m->n, K = m->classes + 1;
    double *wbar = malloc((size_t)(P * N) * sizeof *wbar), *w = malloc((size_t)(P * N) * sizeof *w);
    double *d = malloc((size_t)((P + 1) * K) * sizeof *d), *g = malloc((size_t)((P + 1) * K) * sizeof *g);
    double *rho = malloc((size_t)P * sizeof *rho), *rm = malloc((size_t)P * sizeof *rm);
    eg_status st =
        (!wbar || !w || !d || !g || !rho || !rm) ? eg_ctx_fail(m->ctx, EG_ERR_NOMEM, "vmfdam: out of memory") : EG_OK;
    if (st == EG_OK) st = eg_to_host_f64(a->wbar, wbar);
    if (st == EG_OK) st = eg_to_host_f64(m->par.w, w);
    if (st == EG_OK) st = eg_to_host_f64(a->d, d);
    if (st == EG_OK) st = eg_to_host_f64(m->par.g, g);
    if (st == EG_OK) st = eg_to_host_f64(a->rho, rho);
    if (st == EG_OK) st = eg_to_host_f64(a->rm, rm);
    if (st == EG_OK) {
        double num = 0, den = 0, srm = 0, srho = 0;
        for (int64_t mu = 0; mu < P; mu++) {
            const double *wb = wbar + mu * N, *wm = w + mu * N;
            double dot = 0, nb = 0, perp = 0;
            for (int64_t i = 0; i < N; i++)
                dot += wm[i] * wb[i], nb += wb[i] * wb[i];
            for (int64_t i = 0; i < N; i++) {
                double r = wb[i] - dot * wm[i];
                perp += r * r;
            }
            if (nb > 0 && rho[mu] > 0) num += rho[mu] * perp / nb, den += rho[mu];
            srm += rm[mu], srho += rho[mu];
        }
        out->w = den > 0 ? sqrt(num / den) : 0.0;
        for (int64_t i = 0; i < (P + 1) * K; i++)
            d[i] /= (double)(a->n > 0 ? a->n : 1);
        out->g = residual_g(g, d, P + 1, K);
        double A = 0;
        vmf_tau(m, vmf_beta(m), NULL, &A);
        out->beta = srho > 0 && A != 0 ? (A - m->cfg.varsigma * srm / srho) / A : 0.0;
    }
    free(wbar), free(w), free(d), free(g), free(rho), free(rm);
    eg_tensor_free(a->wbar), eg_tensor_free(a->d), eg_tensor_free(a->rho), eg_tensor_free(a->rm);
    a->wbar = a->d = a->rho = a->rm = NULL;
    return st;
}
