/* cpu_conv.c — 2-d convolution (1-d is h = 1) as im2col + GEMM, NCHW, groups = 1.
 *   forward:         y_n  = W  col(x_n)                 W: [c_out, K], K = c_in*kh*kw
 *   backward_input:  dx_n = col2im(W^T dy_n)            (the transposed convolution)
 *   backward_weight: dW   = sum_n dy_n col(x_n)^T
 * Small feature maps are processed G images at a time ([K, G*P] columns, P = oh*ow)
 * so each GEMM is large enough to be efficient. The column buffer lives in the
 * backend instance and only grows. 1x1 stride-1 unpadded convolutions skip im2col. */
#include <cblas.h>
#include <string.h>

#include "cpu_internal.h"

typedef struct conv_geom {
    int64_t n, ci, h, w, co, kh, kw, oh, ow, K, P, G;
    int64_t sh, sw, ph, pw, dh, dw;
    int direct; /* 1x1, stride 1, no padding: col(x_n) is x_n itself */
    size_t es;
} conv_geom;

static eg_status geom(const eg_conv_args *c, conv_geom *g) {
    if (!c) return EG_ERR_INVALID;
    if (c->dtype != EG_F32 && c->dtype != EG_F64) return c->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (c->n < 0 || c->c_in < 1 || c->h < 1 || c->w < 1 || c->c_out < 1 || c->kh < 1 || c->kw < 1 || c->stride_h < 1 ||
        c->stride_w < 1 || c->pad_h < 0 || c->pad_w < 0 || c->dil_h < 1 || c->dil_w < 1)
        return EG_ERR_INVALID;
    int64_t eh = c->h + 2 * (int64_t)c->pad_h - (int64_t)c->dil_h * (c->kh - 1) - 1;
    int64_t ew = c->w + 2 * (int64_t)c->pad_w - (int64_t)c->dil_w * (c->kw - 1) - 1;
    if (eh < 0 || ew < 0 || c->oh != eh / c->stride_h + 1 || c->ow != ew / c->stride_w + 1) return EG_ERR_INVALID;
    *g = (conv_geom){.n = c->n,
                     .ci = c->c_in,
                     .h = c->h,
                     .w = c->w,
                     .co = c->c_out,
                     .kh = c->kh,
                     .kw = c->kw,
                     .oh = c->oh,
                     .ow = c->ow,
                     .sh = c->stride_h,
                     .sw = c->stride_w,
                     .ph = c->pad_h,
                     .pw = c->pad_w,
                     .dh = c->dil_h,
                     .dw = c->dil_w,
                     .es = c->dtype == EG_F64 ? 8 : 4};
    g->K = g->ci * g->kh * g->kw;
    g->P = g->oh * g->ow;
    g->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
    g->G = g->P >= 1024 ? 1 : (1024 + g->P - 1) / g->P;
    if (g->G > g->n) g->G = g->n > 0 ? g->n : 1;
    while (g->G > 1 && (g->K + g->co) * g->G * g->P > ((int64_t)1 << 24))
        g->G /= 2;
    if (g->direct) g->G = 1;
    return EG_OK;
}

/* output columns [ox0, ox1) read input column ix = ox*sw - pw + kj*dw inside [0, w) */
static void valid_range(int64_t out, int64_t in, int64_t s, int64_t p, int64_t off, int64_t *lo, int64_t *hi) {
    int64_t a = p - off; /* need ox*s >= a and ox*s < in + a */
    int64_t l = a > 0 ? (a + s - 1) / s : 0;
    int64_t u = in + a > 0 ? (in + a + s - 1) / s : 0;
    *lo = l < out ? l : out;
    *hi = u < out ? u : out;
    if (*hi < *lo) *hi = *lo;
}

#define CONV_KERNELS(T, SFX)                                                                                           \
    /* row r of image gi's columns: col[r, gi*P + p], row stride ld */                                                 \
    static void im2col_row_##SFX(const conv_geom *q, const T *x, int64_t gi, int64_t r, T *col, int64_t ld) {          \
        int64_t c = r / (q->kh * q->kw), ki = (r / q->kw) % q->kh, kj = r % q->kw;                                     \
        const T *xc = x + (gi * q->ci + c) * q->h * q->w;                                                              \
        T *dst = col + r * ld + gi * q->P;                                                                             \
        int64_t lo, hi, off = kj * q->dw - q->pw;                                                                      \
        valid_range(q->ow, q->w, q->sw, q->pw, kj * q->dw, &lo, &hi);                                                  \
        for (int64_t oy = 0; oy < q->oh; oy++) {                                                                       \
            T *d = dst + oy * q->ow;                                                                                   \
            int64_t iy = oy * q->sh - q->ph + ki * q->dh;                                                              \
            if (iy < 0 || iy >= q->h) {                                                                                \
                memset(d, 0, (size_t)q->ow * sizeof(T));                                                               \
                continue;                                                                                              \
            }                                                                                                          \
            const T *xr = xc + iy * q->w;                                                                              \
            for (int64_t ox = 0; ox < lo; ox++)                                                                        \
                d[ox] = 0;                                                                                             \
            if (q->sw == 1 && hi > lo)                                                                                 \
                memcpy(d + lo, xr + lo + off, (size_t)(hi - lo) * sizeof(T));                                          \
            else                                                                                                       \
                for (int64_t ox = lo; ox < hi; ox++)                                                                   \
                    d[ox] = xr[ox * q->sw + off];                                                                      \
            for (int64_t ox = hi; ox < q->ow; ox++)                                                                    \
                d[ox] = 0;                                                                                             \
        }                                                                                                              \
    }                                                                                                                  \
    /* dx plane (gi, c) += its taps from col: each plane is written by one task only */                                \
    static void col2im_plane_##SFX(const conv_geom *q, const T *col, int64_t ld, int64_t gi, int64_t c, T *dx) {       \
        T *xc = dx + (gi * q->ci + c) * q->h * q->w;                                                                   \
        for (int64_t ki = 0; ki < q->kh; ki++)                                                                         \
            for (int64_t kj = 0; kj < q->kw; kj++) {                                                                   \
                const T *src = col + ((c * q->kh + ki) * q->kw + kj) * ld + gi * q->P;                                 \
                int64_t lo, hi, off = kj * q->dw - q->pw;                                                              \
                valid_range(q->ow, q->w, q->sw, q->pw, kj * q->dw, &lo, &hi);                                          \
                for (int64_t oy = 0; oy < q->oh; oy++) {                                                               \
                    int64_t iy = oy * q->sh - q->ph + ki * q->dh;                                                      \
                    if (iy < 0 || iy >= q->h) continue;                                                                \
                    T *xr = xc + iy * q->w;                                                                            \
                    const T *s = src + oy * q->ow;                                                                     \
                    for (int64_t ox = lo; ox < hi; ox++)                                                               \
                        xr[ox * q->sw + off] += s[ox];                                                                 \
                }                                                                                                      \
            }                                                                                                          \
    }

CONV_KERNELS(float, f32)
CONV_KERNELS(double, f64)

typedef struct conv_job {
    const conv_geom *q;
    int64_t G, ld;
    const void *src;
    void *dst;
    int to_cols, add; /* regroup only */
} conv_job;

static void im2col_range(void *arg, int64_t lo, int64_t hi) { /* tasks (gi, r) */
    const conv_job *j = arg;
    for (int64_t t = lo; t < hi; t++) {
        if (j->q->es == 4)
            im2col_row_f32(j->q, j->src, t / j->q->K, t % j->q->K, j->dst, j->ld);
        else
            im2col_row_f64(j->q, j->src, t / j->q->K, t % j->q->K, j->dst, j->ld);
    }
}

static void col2im_range(void *arg, int64_t lo, int64_t hi) { /* tasks (gi, c) */
    const conv_job *j = arg;
    for (int64_t t = lo; t < hi; t++) {
        if (j->q->es == 4)
            col2im_plane_f32(j->q, j->src, j->ld, t / j->q->ci, t % j->q->ci, j->dst);
        else
            col2im_plane_f64(j->q, j->src, j->ld, t / j->q->ci, t % j->q->ci, j->dst);
    }
}

/* [G, co, P] <-> [co, G*P] (to_cols = 1: gather dy into columns; 0: scatter back, optionally adding) */
static void regroup_range(void *arg, int64_t lo, int64_t hi) { /* tasks (gi, c) */
    const conv_job *j = arg;
    const conv_geom *q = j->q;
    for (int64_t t = lo; t < hi; t++) {
        int64_t gi = t / q->co, c = t % q->co;
        int64_t img = (gi * q->co + c) * q->P, cols = c * j->G * q->P + gi * q->P;
        int64_t so = j->to_cols ? img : cols, dof = j->to_cols ? cols : img;
        if (!j->add) {
            memcpy((char *)j->dst + dof * q->es, (const char *)j->src + so * q->es, (size_t)q->P * q->es);
        } else if (q->es == 4) {
            float *d = (float *)j->dst + dof;
            const float *s = (const float *)j->src + so;
            for (int64_t p = 0; p < q->P; p++)
                d[p] += s[p];
        } else {
            double *d = (double *)j->dst + dof;
            const double *s = (const double *)j->src + so;
            for (int64_t p = 0; p < q->P; p++)
                d[p] += s[p];
        }
    }
}

/* row-major C = alpha op(A) op(B) + beta C in the geometry's dtype */
static void mm(const conv_geom *q, int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
               const void *b, int64_t ldb, double beta, void *c, int64_t ldc) {
    enum CBLAS_TRANSPOSE A = ta ? CblasTrans : CblasNoTrans, B = tb ? CblasTrans : CblasNoTrans;
    if (q->es == 4)
        cblas_sgemm(CblasRowMajor, A, B, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, (float)beta, c,
                    (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, A, B, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static void im2col(void *ctx, const conv_geom *q, const void *x, int64_t G, void *col) {
    conv_job j = {q, G, G * q->P, x, col, 0, 0};
    eg_cpu_parallel(ctx, q->K * G * q->P > EG_CPU_PAR_MIN, G * q->K, im2col_range, &j);
}

static void col2im(void *ctx, const conv_geom *q, const void *col, int64_t G, void *dx) {
    conv_job j = {q, G, G * q->P, col, dx, 0, 0};
    eg_cpu_parallel(ctx, q->K * G * q->P > EG_CPU_PAR_MIN, G * q->ci, col2im_range, &j);
}

static void regroup(void *ctx, const conv_geom *q, int64_t G, const void *src, void *dst, int to_cols, int add) {
    conv_job j = {q, G, 0, src, dst, to_cols, add};
    eg_cpu_parallel(ctx, q->co * G * q->P > EG_CPU_PAR_MIN, G * q->co, regroup_range, &j);
}

static void *workspace(void *ctx, const conv_geom *q, void **dycols) {
    size_t col = (size_t)(q->direct ? 0 : q->K * q->G * q->P), dyc = (size_t)(q->G > 1 ? q->co * q->G * q->P : 0);
    char *ws = eg_cpu_workspace(ctx, (col + dyc) * q->es + 64);
    if (ws && dycols) *dycols = ws + ((col * q->es + 63) & ~(size_t)63);
    return ws;
}

eg_status eg_cpu_conv_forward(void *ctx, const eg_conv_args *c, const void *x, const void *weight, void *y) {
    conv_geom q;
    eg_status st = geom(c, &q);
    if (st != EG_OK || q.n == 0) return st;
    if (!x || !weight || !y) return EG_ERR_INVALID;
    void *tmp = NULL;
    char *col = workspace(ctx, &q, &tmp);
    if (!col && !q.direct) return EG_ERR_NOMEM;
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    for (int64_t n0 = 0; n0 < q.n; n0 += q.G) {
        int64_t G = q.n - n0 < q.G ? q.n - n0 : q.G;
        const char *xn = (const char *)x + n0 * xs;
        char *yn = (char *)y + n0 * ys;
        if (q.direct) {
            mm(&q, 0, 0, q.co, q.P, q.K, weight, q.K, xn, q.P, c->accumulate ? 1.0 : 0.0, yn, q.P);
            continue;
        }
        im2col(ctx, &q, xn, G, col);
        if (G == 1) {
            mm(&q, 0, 0, q.co, q.P, q.K, weight, q.K, col, q.P, c->accumulate ? 1.0 : 0.0, yn, q.P);
        } else {
            mm(&q, 0, 0, q.co, G * q.P, q.K, weight, q.K, col, G * q.P, 0.0, tmp, G * q.P);
            regroup(ctx, &q, G, tmp, yn, 0, c->accumulate);
        }
    }
    return EG_OK;
}

eg_status eg_cpu_conv_backward_input(void *ctx, const eg_conv_args *c, const void *weight, const void *dy, void *dx) {
    conv_geom q;
    eg_status st = geom(c, &q);
    if (st != EG_OK || q.n == 0) return st;
    if (!weight || !dy || !dx) return EG_ERR_INVALID;
    void *dyc = NULL;
    char *col = workspace(ctx, &q, &dyc);
    if (!col && !q.direct) return EG_ERR_NOMEM;
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    if (!c->accumulate && !q.direct) memset(dx, 0, (size_t)q.n * xs);
    for (int64_t n0 = 0; n0 < q.n; n0 += q.G) {
        int64_t G = q.n - n0 < q.G ? q.n - n0 : q.G;
        const char *dyn = (const char *)dy + n0 * ys;
        char *dxn = (char *)dx + n0 * xs;
        if (q.direct) { /* dx_n = W^T dy_n */
            mm(&q, 1, 0, q.K, q.P, q.co, weight, q.K, dyn, q.P, c->accumulate ? 1.0 : 0.0, dxn, q.P);
            continue;
        }
        const void *b = dyn;
        if (G > 1) {
            regroup(ctx, &q, G, dyn, dyc, 1, 0);
            b = dyc;
        }
        mm(&q, 1, 0, q.K, G * q.P, q.co, weight, q.K, b, G * q.P, 0.0, col, G * q.P);
        col2im(ctx, &q, col, G, dxn);
    }
    return EG_OK;
}

eg_status eg_cpu_conv_backward_weight(void *ctx, const eg_conv_args *c, const void *x, const void *dy, void *dweight) {
    conv_geom q;
    eg_status st = geom(c, &q);
    if (st != EG_OK) return st;
    if (!dweight) return EG_ERR_INVALID;
    if (q.n == 0) return c->accumulate ? EG_OK : eg_cpu_fill(ctx, c->dtype, dweight, q.co * q.K, 0.0);
    if (!x || !dy) return EG_ERR_INVALID;
    void *dyc = NULL;
    char *col = workspace(ctx, &q, &dyc);
    if (!col && !q.direct) return EG_ERR_NOMEM;
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    double beta = c->accumulate ? 1.0 : 0.0;
    for (int64_t n0 = 0; n0 < q.n; n0 += q.G, beta = 1.0) {
        int64_t G = q.n - n0 < q.G ? q.n - n0 : q.G;
        const char *xn = (const char *)x + n0 * xs, *dyn = (const char *)dy + n0 * ys;
        if (q.direct) { /* dW += dy_n x_n^T */
            mm(&q, 0, 1, q.co, q.K, q.P, dyn, q.P, xn, q.P, beta, dweight, q.K);
            continue;
        }
        im2col(ctx, &q, xn, G, col);
        const void *a = dyn;
        if (G > 1) {
            regroup(ctx, &q, G, dyn, dyc, 1, 0);
            a = dyc;
        }
        mm(&q, 0, 1, q.co, q.K, G * q.P, a, G * q.P, col, G * q.P, beta, dweight, q.K);
    }
    return EG_OK;
}
