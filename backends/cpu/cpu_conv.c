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
    /* col[r, g*P + p] for images g < G; row stride ld */                                                              \
    static void im2col_##SFX(const conv_geom *q, const T *x, int64_t G, T *col, int64_t ld, int nt) {                  \
        int big = q->K * G * q->P > EG_CPU_PAR_MIN;                                                                    \
        _Pragma(                                                                                                       \
            "omp parallel for num_threads(nt) if (big) collapse(2) schedule(static)") for (int64_t gi = 0; gi < G;     \
                                                                                           gi++) for (int64_t r = 0;   \
                                                                                                      r < q->K; r++) { \
            int64_t c = r / (q->kh * q->kw), ki = (r / q->kw) % q->kh, kj = r % q->kw;                                 \
            const T *xc = x + (gi * q->ci + c) * q->h * q->w;                                                          \
            T *dst = col + r * ld + gi * q->P;                                                                         \
            int64_t lo, hi;                                                                                            \
            valid_range(q->ow, q->w, q->sw, q->pw, kj * q->dw, &lo, &hi);                                              \
            for (int64_t oy = 0; oy < q->oh; oy++) {                                                                   \
                T *d = dst + oy * q->ow;                                                                               \
                int64_t iy = oy * q->sh - q->ph + ki * q->dh;                                                          \
                if (iy < 0 || iy >= q->h) {                                                                            \
                    memset(d, 0, (size_t)q->ow * sizeof(T));                                                           \
                    continue;                                                                                          \
                }                                                                                                      \
                const T *xr = xc + iy * q->w;                                                                          \
                int64_t off = kj * q->dw - q->pw;                                                                      \
                for (int64_t ox = 0; ox < lo; ox++)                                                                    \
                    d[ox] = 0;                                                                                         \
                if (q->sw == 1 && hi > lo)                                                                             \
                    memcpy(d + lo, xr + lo + off, (size_t)(hi - lo) * sizeof(T));                                      \
                else                                                                                                   \
                    for (int64_t ox = lo; ox < hi; ox++)                                                               \
                        d[ox] = xr[ox * q->sw + off];                                                                  \
                for (int64_t ox = hi; ox < q->ow; ox++)                                                                \
                    d[ox] = 0;                                                                                         \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
    /* dx[g] += col2im(col[:, g*P ...]); one (image, channel) plane per iteration: no races */                         \
    static void col2im_##SFX(const conv_geom *q, const T *col, int64_t ld, int64_t G, T *dx, int nt) {                 \
        int big = q->K * G * q->P > EG_CPU_PAR_MIN;                                                                    \
        _Pragma("omp parallel for num_threads(nt) if (big) collapse(2) schedule(static)") for (int64_t gi = 0; gi < G; \
                                                                                               gi++) for (int64_t c =  \
                                                                                                              0;       \
                                                                                                          c < q->ci;   \
                                                                                                          c++) {       \
            T *xc = dx + (gi * q->ci + c) * q->h * q->w;                                                               \
            for (int64_t ki = 0; ki < q->kh; ki++)                                                                     \
                for (int64_t kj = 0; kj < q->kw; kj++) {                                                               \
                    const T *src = col + ((c * q->kh + ki) * q->kw + kj) * ld + gi * q->P;                             \
                    int64_t lo, hi;                                                                                    \
                    valid_range(q->ow, q->w, q->sw, q->pw, kj * q->dw, &lo, &hi);                                      \
                    for (int64_t oy = 0; oy < q->oh; oy++) {                                                           \
                        int64_t iy = oy * q->sh - q->ph + ki * q->dh;                                                  \
                        if (iy < 0 || iy >= q->h) continue;                                                            \
                        T *xr = xc + iy * q->w;                                                                        \
                        int64_t off = kj * q->dw - q->pw;                                                              \
                        const T *s = src + oy * q->ow;                                                                 \
                        for (int64_t ox = lo; ox < hi; ox++)                                                           \
                            xr[ox * q->sw + off] += s[ox];                                                             \
                    }                                                                                                  \
                }                                                                                                      \
        }                                                                                                              \
    }

CONV_KERNELS(float, f32)
CONV_KERNELS(double, f64)

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

static void im2col(const conv_geom *q, const void *x, int64_t G, void *col, int nt) {
    if (q->es == 4)
        im2col_f32(q, x, G, col, G * q->P, nt);
    else
        im2col_f64(q, x, G, col, G * q->P, nt);
}

/* [G, co, P] <-> [co, G*P] (to_cols = 1: gather dy into columns; 0: scatter back, optionally adding) */
static void regroup(const conv_geom *q, int64_t G, const void *src, void *dst, int to_cols, int add, int nt) {
    int big = q->co * G * q->P > EG_CPU_PAR_MIN;
#pragma omp parallel for num_threads(nt) if (big) collapse(2)
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t c = 0; c < q->co; c++) {
            int64_t img = (gi * q->co + c) * q->P, cols = c * G * q->P + gi * q->P;
            int64_t so = to_cols ? img : cols, dof = to_cols ? cols : img;
            if (!add) {
                memcpy((char *)dst + dof * q->es, (const char *)src + so * q->es, (size_t)q->P * q->es);
            } else if (q->es == 4) {
                float *d = (float *)dst + dof;
                const float *s = (const float *)src + so;
                for (int64_t p = 0; p < q->P; p++)
                    d[p] += s[p];
            } else {
                double *d = (double *)dst + dof;
                const double *s = (const double *)src + so;
                for (int64_t p = 0; p < q->P; p++)
                    d[p] += s[p];
            }
        }
}

static void *workspace(void *ctx, const conv_geom *q, void **dycols) {
    size_t col = (size_t)(q->direct ? 0 : q->K * q->G * q->P), dyc = (size_t)(q->G > 1 ? q->co * q->G * q->P : 0);
    char *ws = eg_cpu_workspace(ctx, (col + dyc) * q->es + 64);
    if (ws && dycols) *dycols = ws + ((col * q->es + 63) & ~(size_t)63);
    return ws;
}

eg_status eg_cpu_conv_forward(void *ctx, const eg_conv_args *c, const void *x, const void *weight, void *y) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
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
        im2col(&q, xn, G, col, nt);
        if (G == 1) {
            mm(&q, 0, 0, q.co, q.P, q.K, weight, q.K, col, q.P, c->accumulate ? 1.0 : 0.0, yn, q.P);
        } else {
            mm(&q, 0, 0, q.co, G * q.P, q.K, weight, q.K, col, G * q.P, 0.0, tmp, G * q.P);
            regroup(&q, G, tmp, yn, 0, c->accumulate, nt);
        }
    }
    return EG_OK;
}

eg_status eg_cpu_conv_backward_input(void *ctx, const eg_conv_args *c, const void *weight, const void *dy, void *dx) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
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
            regroup(&q, G, dyn, dyc, 1, 0, nt);
            b = dyc;
        }
        mm(&q, 1, 0, q.K, G * q.P, q.co, weight, q.K, b, G * q.P, 0.0, col, G * q.P);
        if (q.es == 4)
            col2im_f32(&q, (const float *)col, G * q.P, G, (float *)dxn, nt);
        else
            col2im_f64(&q, (const double *)col, G * q.P, G, (double *)dxn, nt);
    }
    return EG_OK;
}

eg_status eg_cpu_conv_backward_weight(void *ctx, const eg_conv_args *c, const void *x, const void *dy, void *dweight) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
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
        im2col(&q, xn, G, col, nt);
        const void *a = dyn;
        if (G > 1) {
            regroup(&q, G, dyn, dyc, 1, 0, nt);
            a = dyc;
        }
        mm(&q, 0, 1, q.co, q.K, G * q.P, a, G * q.P, col, G * q.P, beta, dweight, q.K);
    }
    return EG_OK;
}
