/* cuda_elementwise.cu — unary ops and their backward (dx = dy * f'(x)), and binary
 * ops with numpy broadcasting.
 *
 * One kernel per dtype with the op switched inside: the switch is uniform across
 * the grid (no divergence) and these kernels are bound by memory bandwidth, so this
 * costs nothing measurable and keeps compile time and code size down. The formulas
 * are those of the CPU backend (cpu_unary.c) op for op.
 *
 * Binary: the shape is simplified on the host (size-1 axes dropped, neighbouring
 * axes merged where both operands walk them contiguously, as in cpu_binary.c); each
 * thread then maps its output index to the two input offsets, with 32-bit index
 * arithmetic whenever the output has fewer than 2^31 elements. */
#include "cuda_device.h"
#include "cuda_internal.h"

/* ------------------------------------------------------------------ unary */

template <typename T> static __device__ __forceinline__ T un_fwd(int op, T v, T A, T B) {
    switch (op) {
    case EG_UN_COPY: return v;
    case EG_UN_NEG: return -v;
    case EG_UN_AFFINE: return A * v + B;
    case EG_UN_EXP: return d_exp(v);
    case EG_UN_LOG: return d_log(v);
    case EG_UN_SQRT: return d_sqrt(v);
    case EG_UN_RSQRT: return (T)1 / d_sqrt(v);
    case EG_UN_RECIP: return (T)1 / v;
    case EG_UN_SQUARE: return v * v;
    case EG_UN_ABS: return d_abs(v);
    case EG_UN_SIGN: return v != v ? v : (T)((v > 0) - (v < 0));
    case EG_UN_SIGMOID: return d_sigmoid(v);
    case EG_UN_TANH: return d_tanh(v);
    case EG_UN_RELU: return v > 0 ? v : (T)0;
    case EG_UN_ELU: return v > 0 ? v : A * d_expm1(v);
    case EG_UN_SOFTPLUS: return (v > 0 ? v : (T)0) + d_log1p(d_exp(-d_abs(v))); /* max(x,0) + log1p(e^-|x|) */
    case EG_UN_POW: return d_pow(v, A);
    case EG_UN_CLAMP: return v < A ? A : (v > B ? B : v);
    case EG_UN_STEP: return v > A ? (T)1 : (T)0;
    case EG_UN_LOG1P: return d_log1p(v);
    case EG_UN_SIN: return d_sin(v);
    case EG_UN_COS: return d_cos(v);
    default: return v;
    }
}

/* f'(x) * g; yv = f(x) where given (NULL y: recomputed) */
template <typename T> static __device__ __forceinline__ T un_bwd(int op, T v, const T *Y, int64_t i, T g, T A, T B) {
    switch (op) {
    case EG_UN_COPY: return g;
    case EG_UN_NEG: return -g;
    case EG_UN_AFFINE: return A * g;
    case EG_UN_EXP: return g * (Y ? Y[i] : d_exp(v));
    case EG_UN_LOG: return g / v;
    case EG_UN_SQRT: return g * (T)0.5 / (Y ? Y[i] : d_sqrt(v));
    case EG_UN_RSQRT: { /* d/dx x^-1/2 = -1/2 x^-3/2 */
        T r = (T)1 / d_sqrt(v);
        return (T)-0.5 * g * r * r * r;
    }
    case EG_UN_RECIP: return -g / (v * v);
    case EG_UN_SQUARE: return (T)2 * v * g;
    case EG_UN_ABS: return v > 0 ? g : (v < 0 ? -g : (T)0);
    case EG_UN_SIGN: return (T)0;
    case EG_UN_SIGMOID: {
        T s = Y ? Y[i] : d_sigmoid(v);
        return g * s * ((T)1 - s);
    }
    case EG_UN_TANH: {
        T t = Y ? Y[i] : d_tanh(v);
        return g * ((T)1 - t * t);
    }
    case EG_UN_RELU: return v > 0 ? g : (T)0;
    case EG_UN_ELU: return v > 0 ? g : g * A * d_exp(v);
    case EG_UN_SOFTPLUS: return g * d_sigmoid(v); /* derivative is sigmoid(x) */
    case EG_UN_POW: return A == 0 ? (T)0 : g * A * d_pow(v, A - (T)1);
    case EG_UN_CLAMP: return (v >= A && v <= B) ? g : (T)0;
    case EG_UN_STEP: return (T)0;
    case EG_UN_LOG1P: return g / ((T)1 + v);
    case EG_UN_SIN: return g * d_cos(v);
    case EG_UN_COS: return -g * d_sin(v);
    default: return g;
    }
}

template <typename T> __global__ void k_unary(int op, int64_t n, const T *x, T *y, T A, T B) {
    EG_GRID_LOOP(i, n) y[i] = un_fwd<T>(op, x[i], A, B);
}

template <typename T>
__global__ void k_unary_bw(int op, int64_t n, const T *x, const T *y, const T *dy, T *dx, T A, T B, int acc) {
    EG_GRID_LOOP(i, n) {
        T d = un_bwd<T>(op, x[i], y, i, dy[i], A, B);
        dx[i] = acc ? dx[i] + d : d;
    }
}

__global__ void k_unary_i32(int neg, int64_t n, const int32_t *x, int32_t *y) {
    EG_GRID_LOOP(i, n) y[i] = neg ? -x[i] : x[i];
}

eg_status eg_cuda_unary(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a,
                        double b) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (n < 0 || (unsigned)op >= EG_UN_COUNT) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    if (dt == EG_I32 && op != EG_UN_COPY && op != EG_UN_NEG) return EG_ERR_UNSUPPORTED;
    if (n == 0) return EG_OK;
    if (!x || !y) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    if (dt == EG_F32)
        k_unary<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>((int)op, n, (const float *)x, (float *)y, (float)a,
                                                               (float)b);
    else if (dt == EG_F64)
        k_unary<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>((int)op, n, (const double *)x, (double *)y, a, b);
    else
        k_unary_i32<<<g, EG_CUDA_THREADS, 0, c->stream>>>(op == EG_UN_NEG, n, (const int32_t *)x, (int32_t *)y);
    EG_LAUNCHED(c, "unary");
    return EG_OK;
}

eg_status eg_cuda_unary_backward(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, const void *y,
                                 const void *dy, void *dx, double a, double b, int accumulate) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (n < 0 || (unsigned)op >= EG_UN_COUNT) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(dt));
    if (n == 0) return EG_OK;
    if (!x || !dy || !dx) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    int acc = accumulate != 0;
    if (dt == EG_F32)
        k_unary_bw<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>((int)op, n, (const float *)x, (const float *)y,
                                                                  (const float *)dy, (float *)dx, (float)a, (float)b,
                                                                  acc);
    else
        k_unary_bw<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>((int)op, n, (const double *)x, (const double *)y,
                                                                   (const double *)dy, (double *)dx, a, b, acc);
    EG_LAUNCHED(c, "unary_backward");
    return EG_OK;
}

/* ------------------------------------------------------------------ binary */

typedef struct bin_geom {
    int nd;
    int64_t shape[EG_MAX_DIMS], sa[EG_MAX_DIMS], sb[EG_MAX_DIMS];
} bin_geom;

template <typename T> static __device__ __forceinline__ T bin_op(int op, T x, T y) {
    switch (op) {
    case EG_BIN_ADD: return x + y;
    case EG_BIN_SUB: return x - y;
    case EG_BIN_MUL: return x * y;
    case EG_BIN_DIV: return x / y;
    case EG_BIN_MAX: return (x > y || x != x) ? x : y;
    case EG_BIN_MIN: return (x < y || x != x) ? x : y;
    case EG_BIN_POW: return d_pow(x, y);
    case EG_BIN_EQ: return x == y ? (T)1 : (T)0;
    case EG_BIN_GT: return x > y ? (T)1 : (T)0;
    case EG_BIN_GE: return x >= y ? (T)1 : (T)0;
    default: return x;
    }
}

/* I: index type for the decomposition (uint32_t when the output is small enough) */
template <typename T, typename I>
__global__ void k_binary(int op, bin_geom g, int64_t total, const T *a, const T *b,
                         T *out) {
    EG_GRID_LOOP(i, total) {
        I rem = (I)i, oa = 0, ob = 0;
        for (int d = g.nd - 1; d > 0; d--) {
            I n = (I)g.shape[d], k = rem % n;
            rem /= n;
            oa += k * (I)g.sa[d];
            ob += k * (I)g.sb[d];
        }
        oa += rem * (I)g.sa[0];
        ob += rem * (I)g.sb[0];
        out[i] = bin_op<T>(op, a[oa], b[ob]);
    }
}

eg_status eg_cuda_binary(void *ctx, const eg_bcast_args *p) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (!p || p->ndim < 0 || p->ndim > EG_MAX_DIMS || (unsigned)p->op >= EG_BIN_COUNT) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(p->dtype));
    bin_geom g;
    int nd = 0;
    int64_t total = 1, reach_a = 0, reach_b = 0;
    for (int d = 0; d < p->ndim; d++) {
        if (p->shape[d] < 0) return EG_ERR_INVALID;
        if (p->shape[d] == 0) return EG_OK;
        total *= p->shape[d];
        reach_a += (p->shape[d] - 1) * (p->stride_a[d] < 0 ? -p->stride_a[d] : p->stride_a[d]);
        reach_b += (p->shape[d] - 1) * (p->stride_b[d] < 0 ? -p->stride_b[d] : p->stride_b[d]);
        if (p->shape[d] == 1) continue;
        if (nd > 0 && g.sa[nd - 1] == p->stride_a[d] * p->shape[d] && g.sb[nd - 1] == p->stride_b[d] * p->shape[d]) {
            g.shape[nd - 1] *= p->shape[d];
            g.sa[nd - 1] = p->stride_a[d];
            g.sb[nd - 1] = p->stride_b[d];
            continue;
        }
        g.shape[nd] = p->shape[d];
        g.sa[nd] = p->stride_a[d];
        g.sb[nd] = p->stride_b[d];
        nd++;
    }
    if (!p->a || !p->b || !p->out) return EG_ERR_INVALID;
    if (nd == 0) { /* a single element */
        g.shape[0] = 1;
        g.sa[0] = g.sb[0] = 0;
        nd = 1;
    }
    g.nd = nd;
    for (int d = 0; d < nd; d++) /* negative strides would need signed offsets: not part of the ABI */
        if (g.sa[d] < 0 || g.sb[d] < 0) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned grid = eg_cuda_blocks(total, EG_CUDA_THREADS);
    int small = total < INT32_MAX && reach_a < INT32_MAX && reach_b < INT32_MAX;
    int op = (int)p->op;
    if (p->dtype == EG_F32) {
        const float *A = (const float *)p->a, *B = (const float *)p->b;
        if (small)
            k_binary<float, uint32_t><<<grid, EG_CUDA_THREADS, 0, c->stream>>>(op, g, total, A, B, (float *)p->out);
        else
            k_binary<float, int64_t><<<grid, EG_CUDA_THREADS, 0, c->stream>>>(op, g, total, A, B, (float *)p->out);
    } else {
        const double *A = (const double *)p->a, *B = (const double *)p->b;
        if (small)
            k_binary<double, uint32_t><<<grid, EG_CUDA_THREADS, 0, c->stream>>>(op, g, total, A, B, (double *)p->out);
        else
            k_binary<double, int64_t><<<grid, EG_CUDA_THREADS, 0, c->stream>>>(op, g, total, A, B, (double *)p->out);
    }
    EG_LAUNCHED(c, "binary");
    return EG_OK;
}
