/* cuda_conv.cu — 2-d convolution (1-d is h = 1), NCHW, groups = 1, as im2col + cuBLAS.
 *   forward:         y_n  = W col(x_n)           W: [c_out, K], K = c_in*kh*kw, P = oh*ow
 *   backward_input:  dx_n = col2im(W^T dy_n)     (the transposed convolution)
 *   backward_weight: dW   = sum_n dy_n col(x_n)^T
 * Images go G at a time, G bounded by a scratch budget: forward and backward_input
 * use one strided-batched GEMM per chunk (W broadcast with stride 0, columns
 * [G, K, P]); backward_weight lays the columns out as [K, G*P] and regroups dy to
 * [c_out, G*P] so the sum over images is the inner dimension of a single GEMM.
 * col2im gathers (each dx element sums the column entries that read it), so it is
 * deterministic and needs no atomics. 1x1 stride-1 unpadded convolutions skip
 * im2col in the forward and backward_input passes. */
#include "cuda_device.h"
#include "cuda_internal.h"

#define SCRATCH_BUDGET ((size_t)1 << 28) /* bytes of columns per chunk */

typedef struct conv_geom {
    int64_t n, ci, h, w, co, kh, kw, oh, ow, K, P;
    int sh, sw, ph, pw, dh, dw;
    int direct;
    size_t es;
} conv_geom;

static eg_status geom(const eg_conv_args *c, conv_geom *g) {
    if (!c) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(c->dtype));
    if (c->n < 0 || c->c_in < 1 || c->h < 1 || c->w < 1 || c->c_out < 1 || c->kh < 1 || c->kw < 1 || c->stride_h < 1 ||
        c->stride_w < 1 || c->pad_h < 0 || c->pad_w < 0 || c->dil_h < 1 || c->dil_w < 1)
        return EG_ERR_INVALID;
    int64_t eh = c->h + 2 * (int64_t)c->pad_h - (int64_t)c->dil_h * (c->kh - 1) - 1;
    int64_t ew = c->w + 2 * (int64_t)c->pad_w - (int64_t)c->dil_w * (c->kw - 1) - 1;
    if (eh < 0 || ew < 0 || c->oh != eh / c->stride_h + 1 || c->ow != ew / c->stride_w + 1) return EG_ERR_INVALID;
    g->n = c->n, g->ci = c->c_in, g->h = c->h, g->w = c->w, g->co = c->c_out, g->kh = c->kh, g->kw = c->kw;
    g->oh = c->oh, g->ow = c->ow, g->sh = c->stride_h, g->sw = c->stride_w, g->ph = c->pad_h, g->pw = c->pad_w;
    g->dh = c->dil_h, g->dw = c->dil_w;
    g->K = g->ci * g->kh * g->kw;
    g->P = g->oh * g->ow;
    g->es = c->dtype == EG_F64 ? 8 : 4;
    g->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
    /* GEMM dimensions are ints in cuBLAS */
    if (g->K > INT32_MAX || g->P > INT32_MAX || g->co > INT32_MAX) return EG_ERR_INVALID;
    return EG_OK;
}

/* images per chunk so that `per_image` bytes of scratch each stay within budget */
static int64_t chunk_of(const conv_geom *q, size_t per_image, int64_t int_limit_per_image) {
    int64_t G = (int64_t)(SCRATCH_BUDGET / (per_image ? per_image : 1));
    if (G < 1) G = 1;
    if (G > q->n) G = q->n;
    if (int_limit_per_image > 0 && G > INT32_MAX / int_limit_per_image) G = INT32_MAX / int_limit_per_image;
    return G < 1 ? 1 : G;
}

/* col[g*img_stride + r*row_stride + p] = x[g, c, iy, ix] (0 in the padding), r = (c, ki, kj), p = (oy, ox) */
template <typename T>
__global__ void k_im2col(conv_geom q, int64_t G, const T *x, T *col, int64_t img_stride, int64_t row_stride) {
    EG_GRID_LOOP(t, G * q.K * q.P) {
        int64_t p = t % q.P, r = (t / q.P) % q.K, g = t / (q.P * q.K);
        int64_t c = r / (q.kh * q.kw), ki = (r / q.kw) % q.kh, kj = r % q.kw;
        int64_t oy = p / q.ow, ox = p % q.ow;
        int64_t iy = oy * q.sh - q.ph + ki * q.dh, ix = ox * q.sw - q.pw + kj * q.dw;
        T v = (iy >= 0 && iy < q.h && ix >= 0 && ix < q.w) ? x[((g * q.ci + c) * q.h + iy) * q.w + ix] : (T)0;
        col[g * img_stride + r * row_stride + p] = v;
    }
}

/* dx[g, c, iy, ix] (+)= sum of col[g, r, p] over the (r, p) that read (iy, ix); col is [G, K, P] */
template <typename T> __global__ void k_col2im(conv_geom q, int64_t G, const T *col, T *dx, int acc) {
    EG_GRID_LOOP(t, G * q.ci * q.h * q.w) {
        int64_t ix = t % q.w, iy = (t / q.w) % q.h, c = (t / (q.w * q.h)) % q.ci, g = t / (q.w * q.h * q.ci);
        const T *cg = col + g * q.K * q.P;
        T s = 0;
        for (int64_t ki = 0; ki < q.kh; ki++) {
            int64_t ty = iy + q.ph - ki * q.dh; /* = oy * sh */
            if (ty < 0 || ty % q.sh) continue;
            int64_t oy = ty / q.sh;
            if (oy >= q.oh) continue;
            for (int64_t kj = 0; kj < q.kw; kj++) {
                int64_t tx = ix + q.pw - kj * q.dw;
                if (tx < 0 || tx % q.sw) continue;
                int64_t ox = tx / q.sw;
                if (ox >= q.ow) continue;
                s += cg[((c * q.kh + ki) * q.kw + kj) * q.P + oy * q.ow + ox];
            }
        }
        dx[t] = acc ? dx[t] + s : s;
    }
}

static eg_status im2col(eg_cuda_ctx *c, const conv_geom *q, int64_t G, const void *x, void *col, int64_t img_stride,
                        int64_t row_stride) {
    unsigned g = eg_cuda_blocks(G * q->K * q->P, EG_CUDA_THREADS);
    if (q->es == 4)
        k_im2col<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*q, G, (const float *)x, (float *)col, img_stride,
                                                                row_stride);
    else
        k_im2col<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*q, G, (const double *)x, (double *)col, img_stride,
                                                                 row_stride);
    EG_LAUNCHED(c, "im2col");
    return EG_OK;
}

static eg_dtype dt_of(const conv_geom *q) {
    return q->es == 8 ? EG_F64 : EG_F32;
}

eg_status eg_cuda_conv_forward(void *ctx, const eg_conv_args *a, const void *x, const void *weight, void *y) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    conv_geom q;
    EG_TRY(geom(a, &q));
    if (q.n == 0) return EG_OK;
    if (!x || !weight || !y) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    double beta = a->accumulate ? 1.0 : 0.0;
    if (q.direct) /* y_n = W x_n for every image: one batched GEMM, W broadcast */
        return eg_cuda_gemm_rm(c, dt_of(&q), 0, 0, q.co, q.P, q.K, 1.0, weight, q.K, 0, x, q.P, q.K * q.P, beta, y,
                               q.P, q.co * q.P, q.n);
    int64_t G = chunk_of(&q, (size_t)(q.K * q.P) * q.es, 0);
    void *col = NULL;
    EG_TRY(eg_cuda_scratch(c, (size_t)(G * q.K * q.P) * q.es, &col));
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    for (int64_t n0 = 0; n0 < q.n; n0 += G) {
        int64_t g = q.n - n0 < G ? q.n - n0 : G;
        EG_TRY(im2col(c, &q, g, (const char *)x + n0 * xs, col, q.K * q.P, q.P));
        EG_TRY(eg_cuda_gemm_rm(c, dt_of(&q), 0, 0, q.co, q.P, q.K, 1.0, weight, q.K, 0, col, q.P, q.K * q.P, beta,
                               (char *)y + n0 * ys, q.P, q.co * q.P, g));
    }
    return EG_OK;
}

eg_status eg_cuda_conv_backward_input(void *ctx, const eg_conv_args *a, const void *weight, const void *dy,
                                      void *dx) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    conv_geom q;
    EG_TRY(geom(a, &q));
    if (q.n == 0) return EG_OK;
    if (!weight || !dy || !dx) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    int acc = a->accumulate != 0;
    if (q.direct) /* dx_n = W^T dy_n */
        return eg_cuda_gemm_rm(c, dt_of(&q), 1, 0, q.K, q.P, q.co, 1.0, weight, q.K, 0, dy, q.P, q.co * q.P,
                               acc ? 1.0 : 0.0, dx, q.P, q.K * q.P, q.n);
    int64_t G = chunk_of(&q, (size_t)(q.K * q.P) * q.es, 0);
    void *col = NULL;
    EG_TRY(eg_cuda_scratch(c, (size_t)(G * q.K * q.P) * q.es, &col));
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    for (int64_t n0 = 0; n0 < q.n; n0 += G) {
        int64_t g = q.n - n0 < G ? q.n - n0 : G;
        EG_TRY(eg_cuda_gemm_rm(c, dt_of(&q), 1, 0, q.K, q.P, q.co, 1.0, weight, q.K, 0, (const char *)dy + n0 * ys,
                               q.P, q.co * q.P, 0.0, col, q.P, q.K * q.P, g));
        unsigned bl = eg_cuda_blocks(g * q.ci * q.h * q.w, EG_CUDA_THREADS);
        if (q.es == 4)
            k_col2im<float><<<bl, EG_CUDA_THREADS, 0, c->stream>>>(q, g, (const float *)col,
                                                                     (float *)((char *)dx + n0 * xs), acc);
        else
            k_col2im<double><<<bl, EG_CUDA_THREADS, 0, c->stream>>>(q, g, (const double *)col,
                                                                      (double *)((char *)dx + n0 * xs), acc);
        EG_LAUNCHED(c, "col2im");
    }
    return EG_OK;
}

eg_status eg_cuda_conv_backward_weight(void *ctx, const eg_conv_args *a, const void *x, const void *dy,
                                       void *dweight) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    conv_geom q;
    EG_TRY(geom(a, &q));
    if (!dweight) return EG_ERR_INVALID;
    if (q.n == 0) return a->accumulate ? EG_OK : eg_cuda_fill(ctx, a->dtype, dweight, q.co * q.K, 0.0);
    if (!x || !dy) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    /* per image: K*P column entries and co*P regrouped dy entries; G*P is a GEMM's k */
    int64_t G = chunk_of(&q, (size_t)((q.K + q.co) * q.P) * q.es, q.P);
    size_t col_bytes = ((size_t)(G * q.K * q.P) * q.es + 255) & ~(size_t)255;
    void *ws = NULL;
    EG_TRY(eg_cuda_scratch(c, col_bytes + (size_t)(G * q.co * q.P) * q.es, &ws));
    char *col = (char *)ws, *dyc = (char *)ws + col_bytes;
    size_t xs = (size_t)(q.ci * q.h * q.w) * q.es, ys = (size_t)(q.co * q.P) * q.es;
    double beta = a->accumulate ? 1.0 : 0.0;
    for (int64_t n0 = 0; n0 < q.n; n0 += G, beta = 1.0) {
        int64_t g = q.n - n0 < G ? q.n - n0 : G;
        /* columns as [K, g*P]: image stride P, row stride g*P */
        EG_TRY(im2col(c, &q, g, (const char *)x + n0 * xs, col, q.P, g * q.P));
        /* dy [g, co, P] -> [co, g, P] */
        int64_t shape[3] = {g, q.co, q.P};
        int perm[3] = {1, 0, 2};
        EG_TRY(eg_cuda_permute(c, dt_of(&q), 3, shape, perm, (const char *)dy + n0 * ys, dyc));
        /* dW [co, K] (+)= dyc [co, gP] col^T [gP, K] */
        EG_TRY(eg_cuda_gemm_rm(c, dt_of(&q), 0, 1, q.co, q.K, g * q.P, 1.0, dyc, g * q.P, 0, col, g * q.P, 0, beta,
                               dweight, q.K, 0, 1));
    }
    return EG_OK;
}
