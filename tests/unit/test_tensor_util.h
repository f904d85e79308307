/* test_tensor_util.h — shared setup for the core's unit tests: open the CPU
 * backend (ENGRAM_PLUGIN_PATH or the build's plugin dir) and a context. */
#ifndef EG_TEST_TENSOR_UTIL_H
#define EG_TEST_TENSOR_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engram/nn.h"
#include "engram/optim.h"
#include "engram/tensor.h"
#include "registry/loader.h"

static eg_backend *tu_backend;

/* returns NULL (after printing why) when the CPU backend cannot be opened */
static inline eg_ctx *tu_open(void) {
    char err[512];
    if (eg_backend_open_start("cpu", 1, &tu_backend, err, sizeof err) != EG_OK) {
        fprintf(stderr, "cannot open the cpu backend: %s\n", err);
        return NULL;
    }
    eg_ctx *ctx = NULL;
    if (eg_ctx_create(tu_backend, &ctx) != EG_OK) {
        fprintf(stderr, "eg_ctx_create failed\n");
        return NULL;
    }
    return ctx;
}

static inline void tu_close(eg_ctx *ctx) {
    eg_ctx_destroy(ctx);
    if (tu_backend) eg_backend_close(tu_backend);
    tu_backend = NULL;
}

/* host copy as double (static buffer of up to 4096 values) */
static inline const double *tu_vals(const eg_tensor *t) {
    static double buf[4096];
    if (eg_numel(t) > 4096 || eg_to_host_f64(t, buf) != EG_OK) {
        for (int i = 0; i < 4096; i++) buf[i] = NAN;
    }
    return buf;
}

static inline eg_tensor *tu_f64(eg_ctx *ctx, int ndim, const int64_t *shape, const double *v) {
    return eg_from_host(ctx, EG_F64, ndim, shape, v);
}

/* 1 when every value of t is within tol of want */
static inline int tu_close_to(const eg_tensor *t, const double *want, int64_t n, double tol) {
    if (eg_numel(t) != n) {
        fprintf(stderr, "numel %lld, expected %lld\n", (long long)eg_numel(t), (long long)n);
        return 0;
    }
    const double *v = tu_vals(t);
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(v[i] - want[i]) <= tol * (1 + fabs(want[i])))) {
            fprintf(stderr, "  [%lld] = %.12g, expected %.12g\n", (long long)i, v[i], want[i]);
            return 0;
        }
    return 1;
}

#endif
