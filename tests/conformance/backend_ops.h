/* backend_ops.h — shared harness of the backend conformance tests
 * (test_backend_ops.c, test_backend_layout.c, test_backend_conv.c), in the style
 * of ggml's test-backend-ops: every backend found on the plugin path is opened
 * and every kernel is compared with a plain double-precision reference written
 * in the test. A backend that is not available here prints "SKIP <name>: <reason>"
 * and is not counted as passed; when no backend ran at all the test is skipped.
 *
 * Inputs are rounded to the kernel's dtype before the reference sees them, so
 * the comparison measures the kernel alone. One CHECK per compared array.
 *
 * Tolerances (|got - ref| <= atol + rtol * |ref| unless noted):
 *
 *   kernel                         F32                      F64
 *   ----------------------------   ----------------------   ----------------------
 *   fill, copy, permute, slice,    exact                    exact
 *   gather, scatter_add (no dups)
 *   scatter_add (repeated index)   rtol 1e-6, atol 1e-6     rtol 1e-13, atol 1e-13
 *   rand                           bit-exact vs eg_philox_value rounded to dtype
 *   unary, unary_backward          rtol 1e-5, atol 1e-6     rtol 1e-12, atol 1e-14
 *   binary                         rtol 1e-6, atol 1e-7     rtol 1e-14, atol 1e-15
 *   reduce (max/min/lse)           rtol 1e-5, atol 1e-5     rtol 1e-12, atol 1e-12
 *   reduce sum over len L          atol scaled by sqrt(L)   atol scaled by sqrt(L)
 *   softmax, log_softmax           rtol 1e-5, atol 1e-6     rtol 1e-12, atol 1e-13
 *     log_softmax with |x| <= 300  atol scaled by 300 (absolute error grows with |x|)
 *     backward over len L          atol scaled by sqrt(L)
 *   gemm, conv (all three)         max err <= 1e-4 * S      max err <= 1e-12 * S
 *                                  S = max_ij sum_k |a_ik b_kj| (+ |beta c_ij|): error
 *                                  relative to the norm of the products summed
 *   upsample fwd / bwd             rtol 1e-5, atol 1e-6     rtol 1e-12, atol 1e-13
 *   upsample adjoint <up x,dy> =
 *     <x, up_bw dy>                rel 1e-5 of sum|.|       rel 1e-12 of sum|.|
 *   syev: |A V - V diag(w)|_max, |V^T V - I|_max <= 1e-4 * max(1,|A|)  (F64: 1e-11),
 *         w ascending
 */
#ifndef EG_TEST_BACKEND_OPS_H
#define EG_TEST_BACKEND_OPS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engram/backend.h"
#include "engram/status.h"
#include "registry/loader.h"

typedef struct tb {
    eg_backend *be;
    const eg_backend_desc *d;
    void *ctx;
    const char *name;
    eg_dtype dt; /* dtype of the suite being run */
} tb;

typedef struct tol {
    double atol, rtol;
} tol;

/* ---- tolerances (see the table above) ---- */
static inline tol tol_unary(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-14, 1e-12} : (tol){1e-6, 1e-5};
}
static inline tol tol_binary(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-15, 1e-14} : (tol){1e-7, 1e-6};
}
static inline tol tol_reduce(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-12, 1e-12} : (tol){1e-5, 1e-5};
}
static inline tol tol_softmax(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-13, 1e-12} : (tol){1e-6, 1e-5};
}
static inline tol tol_upsample(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-13, 1e-12} : (tol){1e-6, 1e-5};
}
static inline tol tol_accum(eg_dtype dt) {
    return dt == EG_F64 ? (tol){1e-13, 1e-13} : (tol){1e-6, 1e-6};
}
static inline double tol_gemm(eg_dtype dt) {
    return dt == EG_F64 ? 1e-12 : 1e-4;
}
static inline tol tol_exact(void) {
    return (tol){0, 0};
}

static inline const char *dt_name(eg_dtype dt) {
    return dt == EG_F64 ? "f64" : dt == EG_F32 ? "f32" : "i32";
}
static inline size_t dt_size(eg_dtype dt) {
    return dt == EG_F64 ? 8 : 4;
}

/* ---- deterministic test data (splitmix64) ---- */
static uint64_t tb_rng_state = 0x9E3779B97F4A7C15ull;
static inline double urand(double lo, double hi) {
    uint64_t z = (tb_rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * (1.0 / 9007199254740992.0);
}
static inline double *randv(int64_t n, double lo, double hi) {
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = urand(lo, hi);
    return v;
}
static inline double *zerov(int64_t n) {
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

/* round host values to what the dtype can hold (so the reference sees the kernel's inputs) */
static inline void round_to(eg_dtype dt, double *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        v[i] = dt == EG_F32 ? (double)(float)v[i] : dt == EG_I32 ? (double)(int32_t)v[i] : v[i];
}

/* ---- device buffers ---- */
static inline void *dev_alloc(tb *t, size_t bytes) {
    void *p = NULL;
    eg_status st = t->d->alloc(t->ctx, bytes ? bytes : 1, &p);
    if (st != EG_OK) {
        fprintf(stderr, "%s: alloc of %zu bytes failed: %s\n", t->name, bytes, eg_strerror(st));
        exit(1);
    }
    return p;
}
static inline void dev_free(tb *t, void *p) {
    t->d->free(t->ctx, p);
}

/* rounds v in place to dt, uploads it converted */
static inline void *dev_from(tb *t, eg_dtype dt, double *v, int64_t n) {
    round_to(dt, v, n);
    size_t es = dt_size(dt);
    char *h = malloc((size_t)(n > 0 ? n : 1) * es);
    for (int64_t i = 0; i < n; i++) {
        if (dt == EG_F32)
            ((float *)h)[i] = (float)v[i];
        else if (dt == EG_F64)
            ((double *)h)[i] = v[i];
        else
            ((int32_t *)h)[i] = (int32_t)v[i];
    }
    void *p = dev_alloc(t, (size_t)n * es);
    if (n) t->d->upload(t->ctx, p, h, (size_t)n * es);
    free(h);
    return p;
}
static inline void *dev_idx(tb *t, const int32_t *idx, int64_t n) {
    void *p = dev_alloc(t, (size_t)n * 4);
    if (n) t->d->upload(t->ctx, p, idx, (size_t)n * 4);
    return p;
}
static inline double *to_host(tb *t, eg_dtype dt, const void *p, int64_t n) {
    size_t es = dt_size(dt);
    char *h = malloc((size_t)(n > 0 ? n : 1) * es);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    eg_status st = n ? t->d->download(t->ctx, h, p, (size_t)n * es) : EG_OK;
    CHECK_MSG(st == EG_OK, "%s: download: %s", t->name, eg_strerror(st));
    for (int64_t i = 0; i < n; i++)
        v[i] = dt == EG_F32 ? ((float *)h)[i] : dt == EG_F64 ? ((double *)h)[i] : ((int32_t *)h)[i];
    free(h);
    return v;
}

/* Status gate: EG_OK -> 1 (compare). F64 (or an I32 variant) unsupported on a non-CPU
 * backend -> 0 (skip, counted neither way). Anything else is a failure. */
static int tb_skipped_f64 = 0;
static inline int st_ok(tb *t, eg_status st, const char *what) {
    if (st == EG_OK) return 1;
    if (st == EG_ERR_UNSUPPORTED && t->dt != EG_F32 && strcmp(t->name, "cpu") != 0) {
        tb_skipped_f64++;
        return 0;
    }
    CHECK_MSG(0, "%s/%s %s: returned %s", t->name, dt_name(t->dt), what, eg_strerror(st));
    return 0;
}

/* one CHECK for a whole array; prints the worst element on failure */
static inline void cmp(tb *t, const char *what, const double *got, const double *ref, int64_t n, tol tl) {
    int64_t bad = -1, nbad = 0;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double err = fabs(got[i] - ref[i]), lim = tl.atol + tl.rtol * fabs(ref[i]);
        int same = got[i] == ref[i] || (isnan(got[i]) && isnan(ref[i]));
        if (!same && !(err <= lim)) {
            nbad++;
            if (bad < 0 || err - lim > worst) bad = i, worst = err - lim;
        }
    }
    CHECK_MSG(nbad == 0, "%s/%s %s: %lld of %lld elements off; worst [%lld] got %.10g want %.10g", t->name,
              dt_name(t->dt), what, (long long)nbad, (long long)n, (long long)bad, bad >= 0 ? got[bad] : 0.0,
              bad >= 0 ? ref[bad] : 0.0);
}

/* max |got - ref| <= tl * scale */
static inline void cmp_scaled(tb *t, const char *what, const double *got, const double *ref, int64_t n, double tl,
                              double scale) {
    double worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(got[i] - ref[i]);
        if (!(e <= worst)) worst = e, at = i;
    }
    CHECK_MSG(worst <= tl * scale, "%s/%s %s: max error %.3g at [%lld] (got %.10g want %.10g) > %.3g * %.3g", t->name,
              dt_name(t->dt), what, worst, (long long)at, n ? got[at] : 0.0, n ? ref[at] : 0.0, tl, scale);
}

/* ---- driver ---- */
typedef void (*tb_suite_fn)(tb *t);

/* Runs `suite` once per dtype (F32, then F64) on every available backend. */
static inline int tb_main(const char *title, tb_suite_fn suite) {
    char **names = NULL;
    int n = eg_plugin_scan("backend", &names), ran = 0;
    for (int i = 0; i < n; i++) {
        eg_backend *be = NULL;
        char err[1024] = "";
        eg_status st = eg_backend_open(names[i], &be, err, sizeof err);
        if (st == EG_OK) {
            eg_backend_config cfg = {sizeof cfg, 0, 0};
            st = eg_backend_start(be, &cfg, err, sizeof err);
        }
        if (st != EG_OK) {
            const char *why = err[0] ? err : eg_strerror(st);
            size_t nl = strlen(names[i]); /* reasons read "cuda: no device": do not repeat the name */
            if (strncmp(why, names[i], nl) == 0 && why[nl] == ':') why += nl + 1 + (why[nl + 1] == ' ');
            printf("SKIP %s: %s\n", names[i], why);
            eg_backend_close(be);
            free(names[i]);
            continue;
        }
        tb t = {be, be->desc, be->instance, be->desc->name, EG_F32};
        const char *dev = t.d->device_name ? t.d->device_name(t.ctx) : "?";
        printf("%s: backend %s (%s)\n", title, t.name, dev ? dev : "?");
        int before_fail = eg_test_failed, before_pass = eg_test_passed;
        for (int k = 0; k < 2; k++) {
            t.dt = k ? EG_F64 : EG_F32;
            tb_skipped_f64 = 0;
            suite(&t);
            if (tb_skipped_f64)
                printf("  %s/%s: %d kernel checks skipped (dtype unsupported)\n", t.name, dt_name(t.dt),
                       tb_skipped_f64);
        }
        printf("  %s: %d passed, %d failed\n", t.name, eg_test_passed - before_pass, eg_test_failed - before_fail);
        ran++;
        eg_backend_close(be);
        free(names[i]);
    }
    free(names);
    if (!ran) return eg_test_skip("no backend available to test");
    return eg_test_finish();
}

#endif
