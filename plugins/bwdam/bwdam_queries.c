/* bwdam_queries.c — query perturbations at an exact W2 radius (reference §3.4).
 *
 * dilate: N(m, Σ) -> N(s m, s² Σ) with s = 1 + r / R, R = W2(δ0, X) = √(|m|² + tr Σ).
 *   W2² = (s-1)² |m|² + tr Σ (1 + s² - 2s) = (s-1)² R² = r²: exact, for full and diagonal Σ.
 * random: W2² splits exactly into a mean part and a covariance part, so the mean moves
 *   by √share·r along a uniform unit vector u and the covariance follows the curve
 *   Σ(t) = Σ^½ expm(t H) Σ^½ (positive definite for every t; H a random symmetric
 *   direction of unit Frobenius norm, diagonal for diagonal Σ, its sign chosen so that
 *   λ_max(H) > 0) to the t where W2(Σ, Σ(t)) = √(1-share)·r. W2(Σ, Σ(0)) = 0 and it
 *   grows without bound (tr Σ(t) does), so doubling brackets a root and bisection (60
 *   halvings, all rows at once) finds it to double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bwdam_internal.h"

bw_gauss bw_dilate(bw_gauss g, double r) {
    int64_t n = bw_gauss_n(g);
    eg_tensor *tr = g.full ? bw_trace(g.cov) : eg_sum(g.cov, 1, 0);
    eg_tensor *R = eg_sqrt(eg_add(eg_sum(eg_square(g.mean), 1, 0), tr));
    eg_tensor *s = eg_add_scalar(eg_scale(eg_recip(R), r), 1.0); /* [n] */
    bw_gauss out = {eg_mul(g.mean, eg_reshape(s, EG_DIMS(n, 1))), NULL, g.full};
    eg_tensor *s2 = eg_square(s);
    out.cov = g.full ? eg_mul(g.cov, eg_reshape(s2, EG_DIMS(n, 1, 1))) : eg_mul(g.cov, eg_reshape(s2, EG_DIMS(n, 1)));
    return out;
}

/* covariance at parameter t [n]: diag λ e^{t h}; full Σh U diag(e^{t μ}) Uᵀ Σh */
static eg_tensor *cov_at(bw_gauss g, eg_tensor *Sh, eg_tensor *U, eg_tensor *mu, const double *t, int64_t n) {
    eg_ctx *ctx = eg_tensor_ctx(g.mean);
    eg_tensor *tt = eg_from_host(ctx, EG_F64, EG_DIMS(n, 1), t);
    if (eg_dtype_of(g.mean) != EG_F64) tt = eg_cast(tt, eg_dtype_of(g.mean));
    eg_tensor *e = eg_exp(eg_mul(mu, tt)); /* [n, d] */
    if (!g.full) return eg_mul(g.cov, e);
    eg_tensor *Et = bw_recompose(U, e);
    return bw_sym(eg_matmul(eg_matmul(Sh, Et), Sh));
}

bw_gauss bw_random(bw_gauss g, double r, double share, eg_rng *rng, double floor) {
    eg_ctx *ctx = eg_tensor_ctx(g.mean);
    eg_dtype dt = eg_dtype_of(g.mean);
    int64_t n = bw_gauss_n(g), d = bw_gauss_d(g);
    share = share < 0 ? 0 : share > 1 ? 1 : share;
    /* mean: a uniform direction */
    eg_tensor *u = eg_rand_normal(ctx, rng, dt, EG_DIMS(n, d), 0, 1);
    u = eg_mul(u, eg_rsqrt(eg_sum(eg_square(u), 1, 1)));
    bw_gauss out = {eg_add(g.mean, eg_scale(u, sqrt(share) * r)), g.cov, g.full};
    double rc = sqrt(1 - share) * r;
    /* covariance direction: mu [n, d] the eigenvalues of H (diag: its diagonal), U its eigenvectors */
    eg_tensor *mu, *U = NULL, *Sh = NULL;
    if (g.full) {
        eg_tensor *H = bw_sym(eg_rand_normal(ctx, rng, dt, EG_DIMS(n, d, d), 0, 1));
        eg_syev(H, &mu, &U);
        Sh = bw_sqrtm(g.cov, floor, NULL);
    } else
        mu = eg_rand_normal(ctx, rng, dt, EG_DIMS(n, d), 0, 1);
    if (rc <= 0) return out;
    double *host = malloc(sizeof(double) * (size_t)(n * d + 5 * n));
    if (!host) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory for %lld random queries", (long long)n);
        return out;
    }
    double *hm = host, *lo = host + n * d, *hi = lo + n, *t = hi + n, *f = t + n, *sign = f + n;
    /* unit Frobenius norm and λ_max > 0 (flip the sign of H otherwise) */
    if (eg_to_host_f64(mu, hm) != EG_OK) {
        free(host);
        return out;
    }
    for (int64_t i = 0; i < n; i++) {
        double ss = 0, mx = -INFINITY;
        for (int64_t k = 0; k < d; k++)
            ss += hm[i * d + k] * hm[i * d + k], mx = fmax(mx, hm[i * d + k]);
        double norm = sqrt(ss) > 0 ? sqrt(ss) : 1;
        sign[i] = (mx > 0 ? 1.0 : -1.0) / norm;
    }
    eg_tensor *sg = eg_from_host(ctx, EG_F64, EG_DIMS(n, 1), sign);
    mu = eg_mul(mu, dt == EG_F64 ? sg : eg_cast(sg, dt));
    bw_gauss base = {eg_zeros(ctx, dt, EG_DIMS(n, d)), g.cov, g.full}, moved = base;
    /* f(t) = W2(Σ, Σ(t)) - rc, batched over rows */
#define EVAL(tv)                                                                                                       \
    do {                                                                                                               \
        eg_scope *sc_ = eg_scope_open(ctx);                                                                            \
        moved.cov = cov_at(g, Sh, U, mu, tv, n);                                                                       \
        eg_status st_ = eg_to_host_f64(bw_w2sq_rows(base, moved, floor), f);                                           \
        eg_scope_close(sc_);                                                                                           \
        if (st_ != EG_OK) goto out;                                                                                    \
        for (int64_t i = 0; i < n; i++)                                                                                \
            f[i] = sqrt(f[i] > 0 ? f[i] : 0) - rc;                                                                     \
    } while (0)
    for (int64_t i = 0; i < n; i++)
        lo[i] = 0, hi[i] = 1;
    for (int it = 0;; it++) {
        EVAL(hi);
        int open = 0;
        for (int64_t i = 0; i < n; i++)
            if (f[i] < 0) lo[i] = hi[i], hi[i] *= 2, open = 1;
        if (!open) break;
        if (it == 200) {
            eg_ctx_fail(ctx, EG_ERR_INVALID, "bwdam: random query: no covariance at W2 %g found along the curve", rc);
            goto out;
        }
    }
    for (int it = 0; it < 60; it++) {
        for (int64_t i = 0; i < n; i++)
            t[i] = 0.5 * (lo[i] + hi[i]);
        EVAL(t);
        for (int64_t i = 0; i < n; i++)
            if (f[i] < 0)
                lo[i] = t[i];
            else
                hi[i] = t[i];
    }
    for (int64_t i = 0; i < n; i++)
        t[i] = 0.5 * (lo[i] + hi[i]);
    out.cov = cov_at(g, Sh, U, mu, t, n);
out:
#undef EVAL
    free(host);
    return out;
}
