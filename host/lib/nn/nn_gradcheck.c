/* nn_gradcheck.c — eg_gradcheck (engram/gradcheck.h): autograd against central finite
 * differences of L = sum(f(x) * R) for a plugin's tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engram/gradcheck.h"

/* the upstream gradient: non-uniform, deterministic, away from zero */
static double upstream(int64_t j) {
    return 0.6 + 0.5 * sin(1.7 * (double)j + 0.3);
}

/* L(x) with the inputs holding vals; NAN when f failed */
static double loss_at(eg_ctx *ctx, eg_gradcheck_fn f, void *user, int n, eg_tensor *const *in, double *const *vals) {
    eg_scope *s = eg_scope_open(ctx);
    for (int i = 0; i < n; i++)
        eg_assign(in[i], eg_from_host(ctx, EG_F64, eg_ndim(in[i]), eg_shape(in[i]), vals[i]));
    eg_tensor *y = f(in, user);
    double L = NAN;
    int64_t m = y ? eg_numel(y) : 0;
    double *yv = y ? malloc(sizeof *yv * (size_t)(m ? m : 1)) : NULL;
    if (yv && eg_to_host_f64(y, yv) == EG_OK) {
        L = 0;
        for (int64_t j = 0; j < m; j++)
            L += yv[j] * upstream(j);
    }
    free(yv);
    eg_scope_close(s);
    return L;
}

static void free_all(double **a, int n) {
    for (int i = 0; a && i < n; i++)
        free(a[i]);
    free(a);
}

/* y = f(x), seeded backward; each input's gradient into grads (zeros where none reached) */
static eg_status autograd_pass(eg_ctx *ctx, eg_gradcheck_fn f, void *user, int n, eg_tensor *const *in,
                               double **grads) {
    eg_scope *s = eg_scope_open(ctx);
    for (int i = 0; i < n; i++)
        eg_zero_grad(in[i]);
    eg_tensor *y = f(in, user);
    eg_status st = y ? EG_OK : eg_ctx_status(ctx);
    if (st == EG_OK) {
        int64_t m = eg_numel(y);
        double *r = malloc(sizeof *r * (size_t)(m ? m : 1));
        if (!r) st = EG_ERR_NOMEM;
        for (int64_t j = 0; r && j < m; j++)
            r[j] = upstream(j);
        if (r) st = eg_backward_with(y, eg_from_host(ctx, EG_F64, eg_ndim(y), eg_shape(y), r));
        free(r);
    }
    for (int i = 0; i < n && st == EG_OK; i++) {
        eg_tensor *g = eg_grad(in[i]);
        if (g) st = eg_to_host_f64(g, grads[i]);
    }
    eg_scope_close(s);
    return st != EG_OK ? st : eg_ctx_status(ctx);
}

eg_status eg_gradcheck(eg_ctx *ctx, eg_gradcheck_fn f, void *user, int n, eg_tensor *const *in,
                       const eg_gradcheck_opts *opts, eg_gradcheck_result *out) {
    memset(out, 0, sizeof *out);
    out->worst_input = -1;
    if (!ctx || !f || n < 0 || (n > 0 && !in)) return EG_ERR_INVALID;
    for (int i = 0; i < n; i++)
        if (!in[i] || eg_dtype_of(in[i]) != EG_F64 || !eg_needs_grad(in[i]))
            return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_gradcheck: input %d is not an f64 parameter (eg_param)", i);
    const double eps = opts && opts->eps > 0 ? opts->eps : 1e-6, rtol = opts && opts->rtol > 0 ? opts->rtol : 1e-6;
    double **base = calloc((size_t)(n ? n : 1), sizeof *base), **grads = calloc((size_t)(n ? n : 1), sizeof *grads);
    eg_status st = base && grads ? EG_OK : EG_ERR_NOMEM;
    for (int i = 0; i < n && st == EG_OK; i++) {
        size_t k = (size_t)eg_numel(in[i]);
        base[i] = malloc(sizeof **base * (k ? k : 1));
        grads[i] = calloc(k ? k : 1, sizeof **grads);
        st = base[i] && grads[i] ? eg_to_host_f64(in[i], base[i]) : EG_ERR_NOMEM;
    }
    if (st == EG_OK) st = autograd_pass(ctx, f, user, n, in, grads);
    if (st == EG_OK) {
        eg_no_grad_begin(ctx);
        double L0 = loss_at(ctx, f, user, n, in, base);
        double atol = 1e-8 * (1.0 + fabs(L0));
        for (int i = 0; i < n && isfinite(L0); i++) {
            for (int64_t j = 0; j < eg_numel(in[i]); j++) {
                double v = base[i][j];
                base[i][j] = v + eps;
                double lp = loss_at(ctx, f, user, n, in, base);
                base[i][j] = v - eps;
                double lm = loss_at(ctx, f, user, n, in, base);
                base[i][j] = v;
                double fd = (lp - lm) / (2 * eps), a = grads[i][j], err = fabs(fd - a);
                out->checked++;
                if (!(err <= atol + rtol * fmax(fabs(fd), fabs(a)))) out->mismatched++;
                if (!(err <= out->max_abs_error) || out->worst_input < 0) {
                    out->max_abs_error = isnan(err) ? INFINITY : err;
                    out->worst_input = i;
                    out->worst_element = j;
                    out->worst_autograd = a;
                    out->worst_finite_difference = fd;
                }
            }
        }
        loss_at(ctx, f, user, n, in, base); /* the inputs hold the point again */
        eg_no_grad_end(ctx);
        st = isfinite(L0) ? eg_ctx_status(ctx) : (eg_ctx_status(ctx) != EG_OK ? eg_ctx_status(ctx) : EG_ERR_DIVERGED);
    }
    free_all(base, n);
    free_all(grads, n);
    return st;
}
