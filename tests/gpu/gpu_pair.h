/* gpu_pair.h — shared helpers of the gpu tests: open the CUDA and the CPU backend
 * side by side (skip with the reason when CUDA cannot run here), move host arrays
 * onto either, and compare results. Header-only, included by one test each. */
#ifndef EG_TEST_GPU_PAIR_H
#define EG_TEST_GPU_PAIR_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engram/backend.h"
#include "engram/status.h"
#include "registry/loader.h"

typedef struct gp_backend {
    eg_backend *be;
    const eg_backend_desc *d;
    void *ctx;
} gp_backend;

typedef struct gp_pair {
    gp_backend gpu, cpu;
} gp_pair;

/* 0 when both backends started; otherwise the reason is in why (the caller skips) */
static inline int gp_open(gp_pair *p, char *why, size_t cap) {
    memset(p, 0, sizeof *p);
    const char *names[2] = {"cuda", "cpu"};
    gp_backend *slots[2] = {&p->gpu, &p->cpu};
    for (int i = 0; i < 2; i++) {
        eg_backend *b = NULL;
        char err[1024] = "";
        eg_status st = eg_backend_open(names[i], &b, err, sizeof err);
        if (st == EG_OK) {
            eg_backend_config cfg = {sizeof cfg, 0, 0};
            st = eg_backend_start(b, &cfg, err, sizeof err);
        }
        if (st != EG_OK) {
            snprintf(why, cap, "%s backend not usable here: %s", names[i], err[0] ? err : eg_strerror(st));
            eg_backend_close(b);
            if (i == 1) {
                eg_backend_close(p->gpu.be);
                p->gpu.be = NULL;
            }
            return -1;
        }
        slots[i]->be = b;
        slots[i]->d = b->desc;
        slots[i]->ctx = b->instance;
    }
    printf("gpu: %s\ncpu: %s\n", p->gpu.d->device_name(p->gpu.ctx), p->cpu.d->device_name(p->cpu.ctx));
    return 0;
}

static inline void gp_close(gp_pair *p) {
    eg_backend_close(p->gpu.be);
    eg_backend_close(p->cpu.be);
}

static inline size_t gp_es(eg_dtype dt) {
    return dt == EG_F64 ? 8 : 4;
}

/* deterministic test data (splitmix64) */
static uint64_t gp_rng = 0x2545F4914F6CDD1Dull;
static inline double gp_u(double lo, double hi) {
    uint64_t z = (gp_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* host array of n elements of dt, uniform in [lo, hi) */
static inline void *gp_host_rand(eg_dtype dt, int64_t n, double lo, double hi) {
    void *h = malloc((size_t)(n > 0 ? n : 1) * gp_es(dt));
    for (int64_t i = 0; i < n; i++) {
        double v = gp_u(lo, hi);
        if (dt == EG_F32)
            ((float *)h)[i] = (float)v;
        else if (dt == EG_F64)
            ((double *)h)[i] = v;
        else
            ((int32_t *)h)[i] = (int32_t)v;
    }
    return h;
}

/* device buffer on b holding host data h (or uninitialised when h is NULL); exits on failure */
static inline void *gp_dev(gp_backend *b, const void *h, size_t bytes) {
    void *p = NULL;
    eg_status st = b->d->alloc(b->ctx, bytes ? bytes : 1, &p);
    if (st != EG_OK) {
        fprintf(stderr, "%s: alloc(%zu): %s\n", b->d->name, bytes, eg_strerror(st));
        exit(1);
    }
    if (h && bytes) {
        st = b->d->upload(b->ctx, p, h, bytes);
        if (st != EG_OK) {
            fprintf(stderr, "%s: upload(%zu): %s\n", b->d->name, bytes, eg_strerror(st));
            exit(1);
        }
    }
    return p;
}

/* the n elements of p as doubles (malloc'ed) */
static inline double *gp_get(gp_backend *b, eg_dtype dt, const void *p, int64_t n) {
    size_t es = gp_es(dt);
    char *h = malloc((size_t)(n > 0 ? n : 1) * es);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    eg_status st = n ? b->d->download(b->ctx, h, p, (size_t)n * es) : EG_OK;
    CHECK_MSG(st == EG_OK, "%s: download: %s (%s)", b->d->name, eg_strerror(st), b->d->device_name(b->ctx));
    for (int64_t i = 0; i < n; i++)
        v[i] = dt == EG_F32 ? ((float *)h)[i] : dt == EG_F64 ? ((double *)h)[i] : ((int32_t *)h)[i];
    free(h);
    return v;
}

/* |gpu - cpu| <= atol + rtol |cpu| everywhere (NaN matches NaN); one CHECK */
static inline void gp_cmp(const char *what, const double *g, const double *c, int64_t n, double atol, double rtol) {
    int64_t bad = 0, at = -1;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        if (g[i] == c[i] || (isnan(g[i]) && isnan(c[i]))) continue;
        double e = fabs(g[i] - c[i]), lim = atol + rtol * fabs(c[i]);
        if (!(e <= lim)) {
            bad++;
            if (at < 0 || e - lim > worst) at = i, worst = e - lim;
        }
    }
    CHECK_MSG(bad == 0, "%s: %lld of %lld elements off; worst [%lld] gpu %.10g cpu %.10g", what, (long long)bad,
              (long long)n, (long long)at, at >= 0 ? g[at] : 0.0, at >= 0 ? c[at] : 0.0);
}

/* max |gpu - cpu| <= tol * max |cpu| (for sums of many products: GEMM, convolution) */
static inline void gp_cmp_scaled(const char *what, const double *g, const double *c, int64_t n, double tol) {
    double worst = 0, scale = 1e-300;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(g[i] - c[i]);
        if (!(e <= worst)) worst = e;
        if (fabs(c[i]) > scale) scale = fabs(c[i]);
    }
    CHECK_MSG(worst <= tol * scale, "%s: max error %.3g > %.3g * max|cpu| %.3g", what, worst, tol, scale);
}

#endif
