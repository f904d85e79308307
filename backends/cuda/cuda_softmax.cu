/* cuda_softmax.cu — softmax / log-softmax over the middle axis of [outer, len, inner]
 * and their backward (same formulas as cpu_softmax.c):
 *   softmax(x)_j = e^(x_j - m) / sum_k e^(x_k - m),   m = max_k x_k
 *   log_softmax(x)_j = x_j - m - log sum_k e^(x_k - m)
 *   backward, y the forward output, g = dy:
 *     softmax:     dx_j = y_j (g_j - sum_k g_k y_k)
 *     log-softmax: dx_j = g_j - e^(y_j) sum_k g_k
 *
 * Rows (inner == 1, the hot path: a Hopfield retrieval is a softmax over each row of
 * a [B, M] score matrix): one warp per row up to ROW_WARP_MAX, else one block per
 * row. The forward reads the row once for max and normaliser together (online
 * softmax, Milakov & Gimelshein 2018: s <- s e^(m_old - m_new) + e^(x - m_new)) and
 * once more to write. A row whose max is infinite falls back to the CPU backend's
 * convention (m = +inf kept, m = -inf replaced by 0), so NaN/inf rows match it.
 * Columns (inner > 1): one thread per (outer, inner) column, sums in double. */
#include "cuda_device.h"
#include "cuda_internal.h"

#define ROW_WARP_MAX 2048

/* (m, s) pair combination; a -inf max carries no mass (avoids -inf - -inf) */
template <typename T> static __device__ __forceinline__ void ms_merge(T &m, T &s, T m2, T s2) {
    T M = m > m2 ? m : m2;
    T a = m == -(T)INFINITY ? (T)0 : s * d_exp(m - M);
    T b = m2 == -(T)INFINITY ? (T)0 : s2 * d_exp(m2 - M);
    m = M;
    s = a + b;
}

template <bool BLOCK, typename T> static __device__ void group_ms(T &m, T &s, T *shm, T *shs) {
    for (int off = 16; off > 0; off >>= 1) {
        T m2 = __shfl_xor_sync(0xffffffffu, m, off), s2 = __shfl_xor_sync(0xffffffffu, s, off);
        ms_merge(m, s, m2, s2);
    }
    if (BLOCK) {
        int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
        __syncthreads();
        if (lane == 0) shm[wid] = m, shs[wid] = s;
        __syncthreads();
        m = lane < nw ? shm[lane] : -(T)INFINITY;
        s = lane < nw ? shs[lane] : (T)0;
        for (int off = 16; off > 0; off >>= 1) {
            T m2 = __shfl_xor_sync(0xffffffffu, m, off), s2 = __shfl_xor_sync(0xffffffffu, s, off);
            ms_merge(m, s, m2, s2);
        }
    }
    /* the butterfly leaves each lane a sum in its own order: take lane 0's everywhere */
    m = __shfl_sync(0xffffffffu, m, 0);
    s = __shfl_sync(0xffffffffu, s, 0);
}

template <bool BLOCK> static __device__ __forceinline__ double group_sum(double v, double *sh) {
    return BLOCK ? block_reduce<EG_RSUM>(v, sh) : warp_reduce<EG_RSUM>(v);
}
template <bool BLOCK, typename T>
__global__ void k_softmax_rows(int lg, int64_t outer, int64_t len, const T *x, T *y) {
    __shared__ T shm[32], shs[32];
    __shared__ double shd[32];
    int gsize = BLOCK ? blockDim.x : 32;
    int lane = BLOCK ? threadIdx.x : (threadIdx.x & 31);
    int64_t per_block = BLOCK ? 1 : blockDim.x / 32;
    int64_t row0 = (int64_t)blockIdx.x * per_block + (BLOCK ? 0 : threadIdx.x / 32);
    for (int64_t o = row0; o < outer; o += (int64_t)gridDim.x * per_block) {
        const T *xr = x + o * len;
        T *yr = y + o * len;
        T m = -(T)INFINITY, s = 0;
        for (int64_t j = lane; j < len; j += gsize) {
            T v = xr[j];
            if (v > m) {
                s = (m == -(T)INFINITY ? (T)0 : s * d_exp(m - v)) + (T)1;
                m = v;
            } else if (v != -(T)INFINITY || v != v) {
                s += d_exp(v - m); /* NaN v: s becomes NaN, as on the CPU */
            }
        }
        group_ms<BLOCK, T>(m, s, shm, shs);
        if (isinf(m)) { /* CPU convention: the max of the finite-or-not row, with -inf -> 0 */
            T mm = m > 0 ? m : (T)0; /* m is the same in every lane */
            double acc = 0;
            for (int64_t j = lane; j < len; j += gsize)
                acc += (double)d_exp(xr[j] - mm);
            s = (T)group_sum<BLOCK>(acc, shd);
            m = mm;
        }
        if (lg) {
            T lse = m + d_log(s);
            for (int64_t j = lane; j < len; j += gsize)
                yr[j] = xr[j] - lse;
        } else {
            T inv = (T)1 / s;
            for (int64_t j = lane; j < len; j += gsize)
                yr[j] = d_exp(xr[j] - m) * inv;
        }
    }
}

template <bool BLOCK, typename T>
__global__ void k_softmax_bw_rows(int lg, int64_t outer, int64_t len, const T *y, const T *g, T *dx) {
    __shared__ double sh[32];
    int gsize = BLOCK ? blockDim.x : 32;
    int lane = BLOCK ? threadIdx.x : (threadIdx.x & 31);
    int64_t per_block = BLOCK ? 1 : blockDim.x / 32;
    int64_t row0 = (int64_t)blockIdx.x * per_block + (BLOCK ? 0 : threadIdx.x / 32);
    for (int64_t o = row0; o < outer; o += (int64_t)gridDim.x * per_block) {
        const T *yr = y + o * len, *gr = g + o * len;
        T *dr = dx + o * len;
        double acc = 0;
        for (int64_t j = lane; j < len; j += gsize)
            acc += lg ? (double)gr[j] : (double)gr[j] * (double)yr[j];
        T s = (T)group_sum<BLOCK>(acc, sh);
        for (int64_t j = lane; j < len; j += gsize)
            dr[j] = lg ? gr[j] - d_exp(yr[j]) * s : yr[j] * (gr[j] - s);
    }
}

/* one thread per column; the same three passes as cpu_softmax.c's block version */
template <typename T>
__global__ void k_softmax_cols(int lg, int64_t outer, int64_t len, int64_t inner, const T *x, T *y) {
    EG_GRID_LOOP(t, outer * inner) {
        int64_t o = t / inner, i = t % inner;
        const T *xp = x + o * len * inner + i;
        T *yp = y + o * len * inner + i;
        double m = -INFINITY, s = 0;
        for (int64_t j = 0; j < len; j++)
            m = (double)xp[j * inner] > m ? (double)xp[j * inner] : m;
        if (isinf(m)) m = m > 0 ? m : 0;
        for (int64_t j = 0; j < len; j++)
            s += exp((double)xp[j * inner] - m);
        s = lg ? m + log(s) : 1.0 / s;
        for (int64_t j = 0; j < len; j++)
            yp[j * inner] = lg ? (T)((double)xp[j * inner] - s) : (T)(exp((double)xp[j * inner] - m) * s);
    }
}

template <typename T>
__global__ void k_softmax_bw_cols(int lg, int64_t outer, int64_t len, int64_t inner, const T *y, const T *g, T *dx) {
    EG_GRID_LOOP(t, outer * inner) {
        int64_t o = t / inner, i = t % inner, base = o * len * inner + i;
        double s = 0;
        for (int64_t j = 0; j < len; j++) {
            int64_t k = base + j * inner;
            s += lg ? (double)g[k] : (double)g[k] * (double)y[k];
        }
        for (int64_t j = 0; j < len; j++) {
            int64_t k = base + j * inner;
            dx[k] = lg ? (T)((double)g[k] - exp((double)y[k]) * s) : (T)((double)y[k] * ((double)g[k] - s));
        }
    }
}

static eg_status check(eg_dtype dt, int64_t outer, int64_t len, int64_t inner) {
    if (outer < 0 || len < 0 || inner < 0) return EG_ERR_INVALID;
    return eg_cuda_float_dtype(dt);
}

template <typename T>
static void launch_fw(eg_cuda_ctx *c, int lg, int64_t outer, int64_t len, int64_t inner, const T *x, T *y) {
    if (inner > 1) {
        k_softmax_cols<T><<<eg_cuda_blocks(outer * inner, 128), 128, 0, c->stream>>>(lg, outer, len, inner, x, y);
    } else if (len <= ROW_WARP_MAX) {
        k_softmax_rows<false, T><<<eg_cuda_blocks(outer, 8), 256, 0, c->stream>>>(lg, outer, len, x, y);
    } else {
        int threads = outer < 2 * (int64_t)c->sm_count ? 1024 : 256;
        k_softmax_rows<true, T><<<eg_cuda_blocks(outer, 1), threads, 0, c->stream>>>(lg, outer, len, x, y);
    }
}

template <typename T>
static void launch_bw(eg_cuda_ctx *c, int lg, int64_t outer, int64_t len, int64_t inner, const T *y, const T *g,
                      T *dx) {
    if (inner > 1) {
        k_softmax_bw_cols<T><<<eg_cuda_blocks(outer * inner, 128), 128, 0, c->stream>>>(lg, outer, len, inner, y, g,
                                                                                          dx);
    } else if (len <= ROW_WARP_MAX) {
        k_softmax_bw_rows<false, T><<<eg_cuda_blocks(outer, 8), 256, 0, c->stream>>>(lg, outer, len, y, g, dx);
    } else {
        int threads = outer < 2 * (int64_t)c->sm_count ? 1024 : 256;
        k_softmax_bw_rows<true, T><<<eg_cuda_blocks(outer, 1), threads, 0, c->stream>>>(lg, outer, len, y, g, dx);
    }
}

eg_status eg_cuda_softmax(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                          const void *x, void *y) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    eg_status st = check(dt, outer, len, inner);
    if (st != EG_OK || outer * len * inner == 0) return st;
    if (!x || !y) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    int lg = log_softmax != 0;
    if (dt == EG_F32)
        launch_fw<float>(c, lg, outer, len, inner, (const float *)x, (float *)y);
    else
        launch_fw<double>(c, lg, outer, len, inner, (const double *)x, (double *)y);
    EG_LAUNCHED(c, "softmax");
    return EG_OK;
}

eg_status eg_cuda_softmax_backward(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len,
                                   int64_t inner, const void *y, const void *dy, void *dx) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    eg_status st = check(dt, outer, len, inner);
    if (st != EG_OK || outer * len * inner == 0) return st;
    if (!y || !dy || !dx) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    int lg = log_softmax != 0;
    if (dt == EG_F32)
        launch_bw<float>(c, lg, outer, len, inner, (const float *)y, (const float *)dy, (float *)dx);
    else
        launch_bw<double>(c, lg, outer, len, inner, (const double *)y, (const double *)dy, (double *)dx);
    EG_LAUNCHED(c, "softmax_backward");
    return EG_OK;
}
