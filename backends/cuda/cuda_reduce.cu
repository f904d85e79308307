/* cuda_reduce.cu — sum / sum of squares / max / min / logsumexp over the middle axis of
 * [outer, len, inner] -> [outer, inner].
 *
 * Rows (inner == 1): one warp per row for rows up to ROW_WARP_MAX elements (eight
 * rows per block), else one block per row. Columns (inner > 1): a block of 32 x 8
 * threads takes 32 neighbouring inner positions (coalesced loads) and splits the
 * axis eight ways. Partial results are combined in double: sums of float data are
 * accumulated in double (as on the CPU), and max/min are exact in any precision.
 * max/min propagate NaN. logsumexp is max-shifted, m + log(sum exp(x - m)), and
 * returns m itself when m is infinite or NaN (cpu_reduce.c does the same). */
#include "cuda_device.h"
#include "cuda_internal.h"

#define ROW_WARP_MAX 2048

template <typename T> static __device__ __forceinline__ double first_pass(int op, double acc, T v) {
    if (op == EG_RED_SUM) return acc + (double)v;
    if (op == EG_RED_SUMSQ) return acc + (double)v * (double)v;
    if (op == EG_RED_MIN) return d_nanmin(acc, (double)v);
    return d_nanmax(acc, (double)v); /* max, and the max of logsumexp */
}
static __device__ __forceinline__ double init_of(int op) {
    return op == EG_RED_SUM || op == EG_RED_SUMSQ ? 0.0 : op == EG_RED_MIN ? (double)INFINITY : -(double)INFINITY;
}

/* reduce `v` over the group: a warp (BLOCK = false) or the whole block */
template <bool BLOCK, int OP> static __device__ __forceinline__ double group_reduce(double v, double *sh) {
    return BLOCK ? block_reduce<OP>(v, sh) : warp_reduce<OP>(v);
}

template <bool BLOCK, typename T>
__global__ void k_reduce_rows(int op, int64_t outer, int64_t len, const T *x, T *y) {
    __shared__ double sh[32];
    int gsize = BLOCK ? blockDim.x : 32;
    int lane = BLOCK ? threadIdx.x : (threadIdx.x & 31);
    int64_t per_block = BLOCK ? 1 : blockDim.x / 32;
    int64_t row0 = (int64_t)blockIdx.x * per_block + (BLOCK ? 0 : threadIdx.x / 32);
    for (int64_t o = row0; o < outer; o += (int64_t)gridDim.x * per_block) {
        const T *xr = x + o * len;
        double acc = init_of(op);
        for (int64_t j = lane; j < len; j += gsize)
            acc = first_pass<T>(op, acc, xr[j]);
        double r;
        if (op == EG_RED_SUM || op == EG_RED_SUMSQ) r = group_reduce<BLOCK, EG_RSUM>(acc, sh);
        else if (op == EG_RED_MIN) r = group_reduce<BLOCK, EG_RMIN>(acc, sh);
        else r = group_reduce<BLOCK, EG_RMAX>(acc, sh);
        if (op == EG_RED_LOGSUMEXP && !isinf(r) && !isnan(r)) {
            T m = (T)r;
            double s = 0;
            for (int64_t j = lane; j < len; j += gsize)
                s += (double)d_exp(xr[j] - m);
            r = r + log(group_reduce<BLOCK, EG_RSUM>(s, sh));
        }
        if (lane == 0) y[o] = (T)r;
    }
}

/* blockDim (32, 8): x over 32 inner positions, y splits the reduced axis */
template <typename T>
__global__ void k_reduce_cols(int op, int64_t outer, int64_t len, int64_t inner, const T *x, T *y) {
    __shared__ double sh[8][33];
    int tx = threadIdx.x, ty = threadIdx.y;
    int64_t tiles = (inner + 31) / 32, ntiles = outer * tiles;
    for (int64_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
        int64_t o = t / tiles, i = (t % tiles) * 32 + tx;
        int ok = i < inner;
        const T *xp = x + o * len * inner + i;
        double acc = init_of(op);
        if (ok)
            for (int64_t j = ty; j < len; j += 8)
                acc = first_pass<T>(op, acc, xp[j * inner]);
        sh[ty][tx] = acc;
        __syncthreads();
        double r = sh[0][tx];
        for (int k = 1; k < 8; k++)
            r = op == EG_RED_SUM || op == EG_RED_SUMSQ ? r + sh[k][tx] : op == EG_RED_MIN ? d_nanmin(r, sh[k][tx]) : d_nanmax(r, sh[k][tx]);
        __syncthreads();
        if (op == EG_RED_LOGSUMEXP) { /* every ty has the same r; the syncs are reached by all */
            int fin = !isinf(r) && !isnan(r);
            T m = (T)r;
            double s = 0;
            if (ok && fin)
                for (int64_t j = ty; j < len; j += 8)
                    s += (double)d_exp(xp[j * inner] - m);
            sh[ty][tx] = s;
            __syncthreads();
            s = 0;
            for (int k = 0; k < 8; k++)
                s += sh[k][tx];
            if (fin) r += log(s);
            __syncthreads();
        }
        if (ok && ty == 0) y[o * inner + i] = (T)r;
    }
}

template <typename T>
static eg_status launch(eg_cuda_ctx *c, int op, int64_t outer, int64_t len, int64_t inner, const T *x, T *y) {
    if (inner == 1) {
        if (len <= ROW_WARP_MAX) {
            unsigned g = eg_cuda_blocks(outer, 8);
            k_reduce_rows<false, T><<<g, 256, 0, c->stream>>>(op, outer, len, x, y);
        } else {
            int threads = outer < 2 * (int64_t)c->sm_count ? 1024 : 256; /* few long rows: wide blocks */
            k_reduce_rows<true, T><<<eg_cuda_blocks(outer, 1), threads, 0, c->stream>>>(op, outer, len, x, y);
        }
    } else {
        dim3 blk(32, 8);
        k_reduce_cols<T><<<eg_cuda_blocks(outer * ((inner + 31) / 32), 1), blk, 0, c->stream>>>(op, outer, len, inner,
                                                                                               x, y);
    }
    EG_LAUNCHED(c, "reduce");
    return EG_OK;
}

eg_status eg_cuda_reduce(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (outer < 0 || len < 0 || inner < 0 || (unsigned)op >= EG_RED_COUNT) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(dt));
    if (outer == 0 || inner == 0) return EG_OK;
    if (!y || (len && !x)) return EG_ERR_INVALID;
    if (len == 0) { /* empty reduction: the identity */
        double id = op == EG_RED_SUM || op == EG_RED_SUMSQ ? 0.0 : op == EG_RED_MIN ? INFINITY : -INFINITY;
        return eg_cuda_fill(ctx, dt, y, outer * inner, id);
    }
    EG_TRY(eg_cuda_enter(c));
    if (dt == EG_F32) return launch<float>(c, (int)op, outer, len, inner, (const float *)x, (float *)y);
    return launch<double>(c, (int)op, outer, len, inner, (const double *)x, (double *)y);
}
