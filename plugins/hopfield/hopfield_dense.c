/* hopfield_dense.c — the Krotov–Hopfield dense associative memory, F(x) = x^n,
 * on +-1 states (Krotov & Hopfield 2016, eq. 3; n = 2 is the classical network).
 *
 * The field on unit i of state s, with overlaps m_mu = x_mu . s and
 * h_mu = m_mu - x_mu,i s_i (the overlap without unit i), is
 *   D_i = sum_mu [F(h_mu + x_mu,i) - F(h_mu - x_mu,i)]
 *       = 2 sum_mu x_mu,i sum_{k odd} C(n,k) h_mu^(n-k)            (x_mu,i = +-1)
 * and s_i <- sign(D_i) (a zero field keeps s_i).
 *
 * Synchronous: expanding h^j = sum_l C(j,l) m^(j-l) (-x s_i)^l and using x^2 = 1,
 *   D_i / 2 = [G_A(m) X]_i + s_i sum_mu G_S(m_mu)
 * with polynomials G_A (terms with even l) and G_S (odd l) in m applied
 * elementwise to m = S X^T [Q, M]: one GEMM for m, one for G_A(m) X.
 * Asynchronous: unit by unit in a random order per sweep, each update
 * vectorised over the Q states, the overlaps updated in place (rank one).
 * Magnitudes: D_i is scaled by a^-(n-1), a = the power of two >= d (the sign
 * is unchanged), so the polynomials see m / a in [-1, 1] and nothing overflows
 * for large d and n. Scaling by a power of two is exact: integer fields stay
 * exact while they fit the mantissa, so a zero field (a tie) is seen as zero. */
#include <math.h>
#include <stdlib.h>

#include "hopfield.h"

#define HOP_DENSE_MAX_N 32

/* the power of two >= d */
static double scale_of(int64_t d) {
    double a = 1;
    while (a < (double)d)
        a *= 2;
    return a;
}

static double binom(int n, int k) {
    double c = 1;
    for (int i = 1; i <= k; i++)
        c = c * (n - k + i) / i;
    return c;
}

/* c[p] * u^p summed for p = 0..deg, u elementwise (Horner) */
static eg_tensor *poly(eg_tensor *u, const double *c, int deg) {
    if (deg < 0) return eg_scale(u, 0.0);
    if (deg == 0) return eg_affine(u, 0.0, c[0]);
    eg_tensor *acc = eg_affine(u, c[deg], c[deg - 1]);
    for (int p = deg - 2; p >= 0; p--)
        acc = eg_affine(eg_mul(acc, u), 1.0, c[p]);
    return acc;
}

/* sign(field), keeping the old value where the field is exactly zero */
static eg_tensor *sign_keep(eg_tensor *field, eg_tensor *old) {
    eg_tensor *s = eg_sign(field);
    eg_tensor *zero = eg_affine(eg_square(s), -1.0, 1.0); /* 1 where s == 0 */
    return eg_add(s, eg_mul(zero, old));
}

eg_tensor *hop_dense_energy(const hop_net *h, eg_tensor *S, eg_tensor *X) {
    return eg_neg(eg_sum(eg_pow(eg_matmul_nt(S, X), (double)h->n), 1, 0));
}

static eg_tensor *sync_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *m) {
    int n = h->n;
    double a = scale_of(eg_dim(S, 1));
    double cA[HOP_DENSE_MAX_N] = {0}, cS[HOP_DENSE_MAX_N] = {0};
    for (int k = 1; k <= n; k += 2) {
        int j = n - k;
        for (int l = 0; l <= j; l++) {
            int p = j - l;
            /* scaled by a^-(n-1), with u = m / a: m^p = a^p u^p */
            double c = binom(n, k) * binom(j, l) * (l % 2 ? -1.0 : 1.0) * pow(a, p - (n - 1));
            if (l % 2 == 0)
                cA[p] += c;
            else
                cS[p] += c;
        }
    }
    eg_tensor *u = eg_scale(m, 1.0 / a);
    eg_tensor *field = eg_matmul(poly(u, cA, n - 1), X); /* [Q, d] */
    if (n >= 2) field = eg_add(field, eg_mul(S, eg_sum(poly(u, cS, n - 2), 1, 1)));
    return sign_keep(field, S);
}

static int cmp_key(const void *a, const void *b) {
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static eg_tensor *async_sweep(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *m, eg_rng *rng) {
    eg_ctx *ctx = eg_tensor_ctx(S);
    eg_dtype dt = eg_dtype_of(S);
    int n = h->n;
    int64_t Q = eg_dim(S, 0), d = eg_dim(S, 1);
    /* f(h) = sum_{k odd} C(n,k) h^(n-k), scaled by a^-(n-1) with v = h / a */
    double a = scale_of(d), b[HOP_DENSE_MAX_N] = {0};
    for (int k = 1; k <= n; k += 2)
        b[n - k] = binom(n, k) * pow(a, (n - k) - (n - 1));
    /* one random order per sweep, shared by the Q states: sort (u_i, i) by u */
    double *pairs = malloc(sizeof(double) * 2 * (size_t)d);
    float *u = malloc(sizeof(float) * (size_t)d);
    eg_tensor **cols = malloc(sizeof(eg_tensor *) * (size_t)d);
    if (!pairs || !u || !cols) {
        free(pairs), free(u), free(cols);
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "hopfield dense: out of host memory for d = %lld", (long long)d);
        return eg_clone(S);
    }
    eg_tensor *draw = eg_rand_uniform(ctx, rng, EG_F32, EG_DIMS(d), 0.0, 1.0);
    if (eg_to_host_f32(draw, u) != EG_OK)
        for (int64_t i = 0; i < d; i++)
            u[i] = (float)i;
    for (int64_t i = 0; i < d; i++)
        pairs[2 * i] = u[i], pairs[2 * i + 1] = (double)i;
    qsort(pairs, (size_t)d, 2 * sizeof(double), cmp_key);
    eg_tensor *XT = eg_transpose(X, 0, 1); /* [d, M] */
    eg_tensor *over = eg_clone(m);         /* overlaps, updated in place after every unit */
    double inv_a = 1.0 / a;
    for (int64_t t = 0; t < d; t++) {
        int64_t i = (int64_t)pairs[2 * t + 1];
        /* unit i changes once per sweep, so S's column i is still the current s_i */
        cols[i] = eg_empty(ctx, dt, EG_DIMS(Q, 1));
        eg_scope *sc = eg_scope_open(ctx);
        eg_tensor *xi = eg_narrow(XT, 0, i, 1);                       /* [1, M]: x_mu,i */
        eg_tensor *si = eg_narrow(S, 1, i, 1);                        /* [Q, 1] */
        eg_tensor *v = eg_scale(eg_sub(over, eg_mul(si, xi)), inv_a); /* h / a, [Q, M] */
        eg_tensor *field = eg_matmul_nt(poly(v, b, n - 1), xi);       /* [Q, 1] */
        eg_tensor *next = sign_keep(field, si);
        eg_assign(over, eg_add(over, eg_mul(eg_sub(next, si), xi))); /* m_mu += x_mu,i (s_i' - s_i) */
        eg_assign(cols[i], next);
        eg_scope_close(sc);
    }
    eg_tensor *state = eg_concat(cols, (int)d, 1);
    free(pairs), free(u), free(cols);
    return state;
}

eg_tensor *hop_dense_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **energy) {
    if (h->n < 2 || h->n >= HOP_DENSE_MAX_N) {
        eg_ctx_fail(eg_tensor_ctx(S), EG_ERR_INVALID, "hopfield dense: n = %d outside [2, %d]", h->n,
                    HOP_DENSE_MAX_N - 1);
        return eg_clone(S);
    }
    eg_tensor *m = eg_matmul_nt(S, X); /* overlaps [Q, M] */
    if (energy) *energy = eg_neg(eg_sum(eg_pow(m, (double)h->n), 1, 0));
    if (h->async && rng) return async_sweep(h, S, X, m, rng);
    return sync_step(h, S, X, m);
}

eg_tensor *hop_binarize(eg_tensor *x) {
    return eg_affine(eg_step(x, 0.5), 2.0, -1.0);
}
