/* grad_harness.h — table-driven gradient checks by central finite differences.
 *
 * A case is a function f(inputs) -> tensor plus input specs. The harness
 * builds f64 inputs, runs f, back-propagates a fixed non-uniform upstream
 * gradient R with eg_backward_with, and compares every element of every
 * checked input's gradient with (L(x + eps e_j) - L(x - eps e_j)) / 2 eps,
 * where L = sum(f(x) * R), evaluated with recording off. Inputs may be fresh
 * tensors (random values in a range, optionally kept |v| >= gap away from a
 * kink, or explicit values), i32 index tensors, or existing persistent tensors
 * (layer parameters), which are perturbed in place.
 *
 * gh_phase is 0 while the autograd pass runs and 1 during finite differences,
 * for cases (eg_detach) that must freeze a value computed in the first pass. */
#ifndef EG_GRAD_HARNESS_H
#define EG_GRAD_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engram/nn.h"
#include "engram/tensor.h"
#include "registry/loader.h"

#define GH_MAX_IN 8

typedef struct gh_in {
    int ndim;
    int64_t shape[EG_MAX_DIMS];
    eg_dtype dt;          /* EG_F64 (default, 0 -> f32 is not used: set explicitly) or EG_I32 */
    const double *vals;   /* explicit values, else random in [lo, hi) */
    const int32_t *ivals; /* i32 inputs */
    double lo, hi;
    double gap;           /* > 0: random values with |v| >= gap */
    int constant;         /* f64 input whose gradient is not checked (and not required) */
    eg_tensor *ext;       /* an existing f64 tensor (parameter) */
} gh_in;

typedef eg_tensor *(*gh_fn)(eg_tensor *const *x, void *user);

static int gh_phase;
static int gh_quiet; /* count mismatches without recording CHECK failures */
static eg_backend *gh_backend;
static uint64_t gh_rng_state = 0x9E3779B97F4A7C15ull;

static inline double gh_uniform(void) {
    gh_rng_state = gh_rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(gh_rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static inline eg_ctx *gh_open(void) {
    char err[512];
    if (eg_backend_open_start("cpu", 1, &gh_backend, err, sizeof err) != EG_OK) {
        fprintf(stderr, "cannot open the cpu backend: %s\n", err);
        return NULL;
    }
    eg_ctx *ctx = NULL;
    if (eg_ctx_create(gh_backend, &ctx) != EG_OK) return NULL;
    return ctx;
}

static inline void gh_close(eg_ctx *ctx) {
    eg_ctx_destroy(ctx);
    if (gh_backend) eg_backend_close(gh_backend);
}

/* upstream weights R: non-uniform, deterministic, away from zero */
static inline double gh_r(int64_t i) { return 0.6 + 0.5 * sin(1.7 * (double)i + 0.3); }

static inline eg_tensor *gh_make(eg_ctx *ctx, const gh_in *in, const double *v) {
    if (in->ext) return in->ext;
    if (in->dt == EG_I32) return eg_from_host(ctx, EG_I32, in->ndim, in->shape, in->ivals);
    return eg_from_host(ctx, EG_F64, in->ndim, in->shape, v);
}

/* L = sum(f(x) * R) with the inputs' current host values */
static inline double gh_loss(eg_ctx *ctx, gh_fn f, void *user, int n, const gh_in *in, double **vals) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x[GH_MAX_IN];
    for (int i = 0; i < n; i++) {
        x[i] = gh_make(ctx, &in[i], vals[i]);
        if (in[i].ext) eg_assign(in[i].ext, eg_from_host(ctx, EG_F64, eg_ndim(in[i].ext), eg_shape(in[i].ext), vals[i]));
    }
    eg_tensor *y = f(x, user);
    int64_t m = eg_numel(y);
    double *yv = malloc(sizeof(double) * (size_t)(m ? m : 1));
    double L = NAN;
    if (eg_to_host_f64(y, yv) == EG_OK) {
        L = 0;
        for (int64_t j = 0; j < m; j++) L += yv[j] * gh_r(j);
    }
    free(yv);
    eg_scope_close(s);
    return L;
}

/* runs one case; returns the number of mismatching elements */
static inline int gh_check(eg_ctx *ctx, const char *name, gh_fn f, void *user, int n, gh_in *in) {
    const double eps = 1e-6, rtol = 1e-6;
    double *vals[GH_MAX_IN] = {0};
    int bad_total = 0;
    for (int i = 0; i < n; i++) {
        if (in[i].dt == EG_I32) continue;
        int64_t m = in[i].ext ? eg_numel(in[i].ext) : 1;
        if (!in[i].ext)
            for (int d = 0; d < in[i].ndim; d++) m *= in[i].shape[d];
        vals[i] = malloc(sizeof(double) * (size_t)(m ? m : 1));
        if (in[i].ext) eg_to_host_f64(in[i].ext, vals[i]);
        else if (in[i].vals) memcpy(vals[i], in[i].vals, sizeof(double) * (size_t)m);
        else
            for (int64_t j = 0; j < m; j++) {
                double lo = in[i].lo, hi = in[i].hi;
                if (lo == 0 && hi == 0) lo = -1, hi = 1;
                double v = lo + (hi - lo) * gh_uniform();
                if (in[i].gap > 0 && fabs(v) < in[i].gap) v = v < 0 ? v - in[i].gap : v + in[i].gap;
                vals[i][j] = v;
            }
    }
    /* autograd pass */
    gh_phase = 0;
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x[GH_MAX_IN];
    for (int i = 0; i < n; i++) {
        x[i] = gh_make(ctx, &in[i], vals[i]);
        if (in[i].ext) eg_zero_grad(in[i].ext);
        else if (in[i].dt != EG_I32 && !in[i].constant) eg_requires_grad(x[i], 1);
    }
    eg_tensor *y = f(x, user);
    int64_t m = eg_numel(y);
    double *r = malloc(sizeof(double) * (size_t)(m ? m : 1));
    for (int64_t j = 0; j < m; j++) r[j] = gh_r(j);
    eg_tensor *seed = eg_from_host(ctx, EG_F64, eg_ndim(y), eg_shape(y), r);
    free(r);
    eg_status st = eg_backward_with(y, seed);
    if (st != EG_OK) {
        fprintf(stderr, "%s: forward/backward failed: %s\n", name, eg_ctx_message(ctx));
        CHECK_MSG(st == EG_OK, "%s", name);
        eg_ctx_clear_error(ctx);
        eg_scope_close(s);
        for (int i = 0; i < n; i++) free(vals[i]);
        return 1;
    }
    double *ag[GH_MAX_IN] = {0};
    for (int i = 0; i < n; i++) {
        if (!vals[i] || in[i].constant) continue;
        int64_t k = eg_numel(x[i]);
        ag[i] = calloc((size_t)(k ? k : 1), sizeof(double));
        eg_tensor *g = eg_grad(x[i]);
        if (g) eg_to_host_f64(g, ag[i]); /* no gradient reached: zeros */
    }
    eg_scope_close(s);
    /* finite differences */
    gh_phase = 1;
    eg_no_grad_begin(ctx);
    double L0 = gh_loss(ctx, f, user, n, in, vals);
    double atol = 1e-8 * (1.0 + fabs(L0));
    for (int i = 0; i < n; i++) {
        if (!ag[i]) continue;
        int64_t k = in[i].ext ? eg_numel(in[i].ext) : eg_numel(x[i]);
        int bad = 0;
        double worst = 0;
        for (int64_t j = 0; j < k; j++) {
            double v = vals[i][j];
            vals[i][j] = v + eps;
            double lp = gh_loss(ctx, f, user, n, in, vals);
            vals[i][j] = v - eps;
            double lm = gh_loss(ctx, f, user, n, in, vals);
            vals[i][j] = v;
            double fd = (lp - lm) / (2 * eps), a = ag[i][j];
            double err = fabs(fd - a), lim = atol + rtol * fmax(fabs(fd), fabs(a));
            if (!(err <= lim)) {
                if (bad < 4 && !gh_quiet)
                    fprintf(stderr, "  %s: input %d element %lld: autograd %.12g, finite difference %.12g\n", name, i,
                            (long long)j, a, fd);
                bad++;
            }
            if (err > worst) worst = err;
        }
        if (!gh_quiet)
            CHECK_MSG(bad == 0, "%s: input %d: %d of %lld gradient elements differ (worst abs error %.3g)", name, i,
                      bad, (long long)k, worst);
        bad_total += bad;
    }
    if (n > 0) gh_loss(ctx, f, user, n, in, vals); /* restores ext tensors to their base values */
    eg_no_grad_end(ctx);
    if (eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "%s: %s\n", name, eg_ctx_message(ctx));
        CHECK_MSG(0, "%s: context error", name);
        eg_ctx_clear_error(ctx);
    }
    for (int i = 0; i < n; i++) {
        free(vals[i]);
        free(ag[i]);
    }
    gh_phase = 0;
    return bad_total;
}

/* spec helpers */
static inline gh_in gh_f64(int ndim, const int64_t *shape, double lo, double hi) {
    gh_in g;
    memset(&g, 0, sizeof g);
    g.ndim = ndim;
    for (int i = 0; i < ndim; i++) g.shape[i] = shape[i];
    g.dt = EG_F64;
    g.lo = lo;
    g.hi = hi;
    return g;
}
static inline gh_in gh_gap(gh_in g, double gap) {
    g.gap = gap;
    return g;
}
static inline gh_in gh_const(gh_in g) {
    g.constant = 1;
    return g;
}
static inline gh_in gh_i32(int ndim, const int64_t *shape, const int32_t *v) {
    gh_in g;
    memset(&g, 0, sizeof g);
    g.ndim = ndim;
    for (int i = 0; i < ndim; i++) g.shape[i] = shape[i];
    g.dt = EG_I32;
    g.ivals = v;
    return g;
}
static inline gh_in gh_ext(eg_tensor *t) {
    gh_in g;
    memset(&g, 0, sizeof g);
    g.dt = EG_F64;
    g.ext = t;
    return g;
}

#endif
