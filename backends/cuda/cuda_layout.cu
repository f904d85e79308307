/* cuda_layout.cu — permute, slice (copy or accumulate), gather and scatter-add along
 * the middle axis, and the batched transpose used by syev.
 *
 * Data movement works on 4- or 8-byte words, so F32 and I32 share one path.
 * permute: the output dims with their strides in x are simplified as in
 * cpu_layout.c (size-1 dims dropped, runs that stay contiguous merged). When the
 * innermost output dim does not walk x contiguously (a transpose), 32 x 32 tiles go
 * through shared memory so both the reads and the writes are coalesced.
 *
 * gather / scatter_add: every index is checked before anything is written (like
 * the CPU backend): a small kernel scans the index array and raises a flag in mapped
 * pinned memory, and the call waits for it. This costs one stream synchronisation per
 * call, the price of reporting EG_ERR_INVALID from the call that made the mistake.
 * scatter_add accumulates with atomicAdd, so with repeated indices the order of the
 * additions (and the last bits of float results) may differ from run to run. */
#include "cuda_device.h"
#include "cuda_internal.h"

/* ------------------------------------------------------------------ permute */

typedef struct perm_geom {
    int nd;
    int64_t os[EG_MAX_DIMS]; /* output shape (merged) */
    int64_t st[EG_MAX_DIMS]; /* stride in x of each output dim */
} perm_geom;

template <typename W, typename I> __global__ void k_permute(perm_geom g, int64_t total, const W *x, W *out) {
    EG_GRID_LOOP(i, total) {
        I rem = (I)i, xo = 0;
        for (int d = g.nd - 1; d > 0; d--) {
            I n = (I)g.os[d];
            xo += (rem % n) * (I)g.st[d];
            rem /= n;
        }
        xo += rem * (I)g.st[0];
        out[i] = x[xo];
    }
}

/* Batched 2-d transpose inside a permutation: output dim L = nd-1 is contiguous in
 * out, output dim q is contiguous in x. Each block moves 32 x 32 tiles (q, L); the
 * other dims are the batch. */
#define TILE 32
template <typename W>
__global__ void k_permute_tiled(perm_geom g, int q, int64_t nbatch, const W *x, W *out) {
    __shared__ W tile[TILE][TILE + 1];
    int L = g.nd - 1;
    int64_t ostr[EG_MAX_DIMS];
    ostr[L] = 1;
    for (int d = L - 1; d >= 0; d--)
        ostr[d] = ostr[d + 1] * g.os[d + 1];
    int64_t tq = (g.os[q] + TILE - 1) / TILE, tl = (g.os[L] + TILE - 1) / TILE, ntiles = nbatch * tq * tl;
    int tx = threadIdx.x, ty = threadIdx.y; /* blockDim (32, 8) */
    for (int64_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
        int64_t r = t / (tq * tl), a0 = (t / tl) % tq * TILE, b0 = t % tl * TILE;
        int64_t bx = 0, bo = 0; /* offsets of batch index r in x and out */
        for (int d = L - 1; d >= 0; d--) {
            if (d == q) continue;
            int64_t k = r % g.os[d];
            r /= g.os[d];
            bx += k * g.st[d];
            bo += k * ostr[d];
        }
        for (int k = ty; k < TILE; k += 8) { /* read along q: contiguous in x */
            int64_t a = a0 + tx, b = b0 + k;
            if (a < g.os[q] && b < g.os[L]) tile[k][tx] = x[bx + a + b * g.st[L]];
        }
        __syncthreads();
        for (int k = ty; k < TILE; k += 8) { /* write along L: contiguous in out */
            int64_t a = a0 + k, b = b0 + tx;
            if (a < g.os[q] && b < g.os[L]) out[bo + a * ostr[q] + b] = tile[tx][k];
        }
        __syncthreads();
    }
}

template <typename W> static void launch_permute(eg_cuda_ctx *c, const perm_geom &g, int64_t total, const void *x,
                                                 void *out) {
    int L = g.nd - 1, q = -1;
    for (int d = 0; d < L; d++)
        if (g.st[d] == 1) q = d;
    if (q >= 0 && g.st[L] != 1 && g.os[q] >= 8 && g.os[L] >= 8) {
        int64_t nbatch = total / (g.os[q] * g.os[L]);
        int64_t ntiles = nbatch * ((g.os[q] + TILE - 1) / TILE) * ((g.os[L] + TILE - 1) / TILE);
        k_permute_tiled<W><<<eg_cuda_blocks(ntiles, 1), dim3(TILE, 8), 0, c->stream>>>(g, q, nbatch, (const W *)x,
                                                                                      (W *)out);
    } else if (total < INT32_MAX) {
        k_permute<W, uint32_t><<<eg_cuda_blocks(total, EG_CUDA_THREADS), EG_CUDA_THREADS, 0, c->stream>>>(
            g, total, (const W *)x, (W *)out);
    } else {
        k_permute<W, int64_t><<<eg_cuda_blocks(total, EG_CUDA_THREADS), EG_CUDA_THREADS, 0, c->stream>>>(
            g, total, (const W *)x, (W *)out);
    }
}

eg_status eg_cuda_permute(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                          void *out) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    size_t es = eg_cuda_dtype_size(dt);
    if (!es || ndim < 0 || ndim > EG_MAX_DIMS || (ndim && (!shape || !perm))) return EG_ERR_INVALID;
    int64_t xstride[EG_MAX_DIMS], total = 1;
    int seen = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] < 0) return EG_ERR_INVALID;
        xstride[d] = total;
        total *= shape[d];
    }
    for (int j = 0; j < ndim; j++) {
        if (perm[j] < 0 || perm[j] >= ndim || (seen >> perm[j]) & 1) return EG_ERR_INVALID;
        seen |= 1 << perm[j];
    }
    if (total == 0) return EG_OK;
    if (!x || !out) return EG_ERR_INVALID;
    perm_geom g;
    int nd = 0;
    for (int j = 0; j < ndim; j++) {
        int64_t n = shape[perm[j]], s = xstride[perm[j]];
        if (n == 1) continue;
        if (nd > 0 && g.st[nd - 1] == s * n) {
            g.os[nd - 1] *= n;
            g.st[nd - 1] = s;
            continue;
        }
        g.os[nd] = n;
        g.st[nd] = s;
        nd++;
    }
    if (nd == 0) g.os[0] = 1, g.st[0] = 1, nd = 1;
    g.nd = nd;
    EG_TRY(eg_cuda_enter(c));
    if (nd == 1 && g.st[0] == 1) { /* nothing moves: a plain copy */
        EG_CU(c, cudaMemcpyAsync(out, x, (size_t)total * es, cudaMemcpyDeviceToDevice, c->stream));
        return EG_OK;
    }
    if (es == 8)
        launch_permute<uint64_t>(c, g, total, x, out);
    else
        launch_permute<uint32_t>(c, g, total, x, out);
    EG_LAUNCHED(c, "permute");
    return EG_OK;
}

eg_status eg_cuda_transpose(eg_cuda_ctx *c, eg_dtype dt, int64_t batch, int64_t rows, int64_t cols, const void *in,
                            void *out) {
    int64_t shape[3] = {batch, rows, cols};
    int perm[3] = {0, 2, 1};
    return eg_cuda_permute(c, dt, 3, shape, perm, in, out);
}

/* ------------------------------------------------------------------ slice */

template <typename T>
__global__ void k_slice(int64_t outer, int64_t run, int64_t src_step, int64_t dst_step, const T *src, T *dst,
                        int acc) {
    EG_GRID_LOOP(i, outer * run) {
        int64_t o = i / run, k = i % run;
        T v = src[o * src_step + k];
        T *d = dst + o * dst_step + k;
        *d = acc ? *d + v : v;
    }
}

eg_status eg_cuda_slice(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                        int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    size_t es = eg_cuda_dtype_size(dt);
    if (!es || outer < 0 || inner < 0 || len < 0 || src_off < 0 || dst_off < 0 || src_off + len > src_len ||
        dst_off + len > dst_len)
        return EG_ERR_INVALID;
    int64_t run = len * inner;
    if (outer == 0 || run == 0) return EG_OK;
    if (!src || !dst) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    const char *s = (const char *)src + (size_t)(src_off * inner) * es;
    char *d = (char *)dst + (size_t)(dst_off * inner) * es;
    int64_t ss = src_len * inner, ds = dst_len * inner;
    unsigned g = eg_cuda_blocks(outer * run, EG_CUDA_THREADS);
    int acc = accumulate != 0;
    if (dt == EG_F32 && acc)
        k_slice<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, run, ss, ds, (const float *)s, (float *)d, 1);
    else if (dt == EG_F64 && acc)
        k_slice<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, run, ss, ds, (const double *)s, (double *)d, 1);
    else if (dt == EG_I32 && acc)
        k_slice<int32_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, run, ss, ds, (const int32_t *)s, (int32_t *)d,
                                                                 1);
    else if (es == 8) /* plain copies move words */
        k_slice<uint64_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, run, ss, ds, (const uint64_t *)s,
                                                                  (uint64_t *)d, 0);
    else
        k_slice<uint32_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, run, ss, ds, (const uint32_t *)s,
                                                                  (uint32_t *)d, 0);
    EG_LAUNCHED(c, "slice");
    return EG_OK;
}

/* ------------------------------------------------------------------ gather / scatter_add */

__global__ void k_check_idx(int64_t n, const int32_t *idx, int64_t len, int *flag) {
    EG_GRID_LOOP(i, n) {
        if (idx[i] < 0 || idx[i] >= len) *flag = 1;
    }
}

/* every index in [0, len)? one pass over the indices and one wait */
static eg_status check_indices(eg_cuda_ctx *c, int64_t n, const int32_t *idx, int64_t len) {
    volatile int *flag = c->flag_host;
    *flag = 0;
    k_check_idx<<<eg_cuda_blocks(n, EG_CUDA_THREADS), EG_CUDA_THREADS, 0, c->stream>>>(n, idx, len, c->flag_dev);
    EG_LAUNCHED(c, "index check");
    EG_CU(c, cudaStreamSynchronize(c->stream));
    if (*flag) return EG_ERR_INVALID;
    return EG_OK;
}

template <typename W>
__global__ void k_gather(int64_t outer, int64_t len, int64_t inner, const W *x, int shared_idx, int64_t n_idx,
                         const int32_t *idx, W *out) {
    EG_GRID_LOOP(t, outer * n_idx * inner) {
        int64_t i = t % inner, oj = t / inner, o = oj / n_idx, j = oj % n_idx;
        int64_t k = idx[(shared_idx ? 0 : o) * n_idx + j];
        out[t] = x[(o * len + k) * inner + i];
    }
}

static __device__ __forceinline__ void atomic_add(float *p, float v) { atomicAdd(p, v); }
static __device__ __forceinline__ void atomic_add(double *p, double v) { atomicAdd(p, v); }
static __device__ __forceinline__ void atomic_add(int32_t *p, int32_t v) { atomicAdd((int *)p, (int)v); }

template <typename T>
__global__ void k_scatter_add(int64_t outer, int64_t len, int64_t inner, const T *src, int shared_idx, int64_t n_idx,
                              const int32_t *idx, T *out) {
    EG_GRID_LOOP(t, outer * n_idx * inner) {
        int64_t i = t % inner, oj = t / inner, o = oj / n_idx, j = oj % n_idx;
        int64_t k = idx[(shared_idx ? 0 : o) * n_idx + j];
        atomic_add(out + (o * len + k) * inner + i, src[t]);
    }
}

static eg_status index_args(eg_dtype dt, int64_t outer, int64_t len, int64_t inner, int64_t idx_outer,
                            int64_t n_idx) {
    if (!eg_cuda_dtype_size(dt) || outer < 0 || len < 0 || inner < 0 || n_idx < 0) return EG_ERR_INVALID;
    if (idx_outer != 1 && idx_outer != outer) return EG_ERR_INVALID;
    return EG_OK;
}

eg_status eg_cuda_gather(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                         int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    EG_TRY(index_args(dt, outer, len, inner, idx_outer, n_idx));
    int64_t total = outer * n_idx * inner;
    if (total == 0) return EG_OK;
    if (!x || !idx || !out) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_TRY(check_indices(c, idx_outer * n_idx, idx, len));
    unsigned g = eg_cuda_blocks(total, EG_CUDA_THREADS);
    int sh = idx_outer == 1;
    if (dt == EG_F64)
        k_gather<uint64_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, len, inner, (const uint64_t *)x, sh, n_idx,
                                                                  idx, (uint64_t *)out);
    else
        k_gather<uint32_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, len, inner, (const uint32_t *)x, sh, n_idx,
                                                                  idx, (uint32_t *)out);
    EG_LAUNCHED(c, "gather");
    return EG_OK;
}

eg_status eg_cuda_scatter_add(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                              int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    EG_TRY(index_args(dt, outer, len, inner, idx_outer, n_idx));
    int64_t total = outer * n_idx * inner;
    if (total == 0) return EG_OK;
    if (!src || !idx || !out) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_TRY(check_indices(c, idx_outer * n_idx, idx, len));
    unsigned g = eg_cuda_blocks(total, EG_CUDA_THREADS);
    int sh = idx_outer == 1;
    if (dt == EG_F32)
        k_scatter_add<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, len, inner, (const float *)src, sh, n_idx,
                                                                     idx, (float *)out);
    else if (dt == EG_F64)
        k_scatter_add<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, len, inner, (const double *)src, sh, n_idx,
                                                                      idx, (double *)out);
    else
        k_scatter_add<int32_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>(outer, len, inner, (const int32_t *)src, sh,
                                                                       n_idx, idx, (int32_t *)out);
    EG_LAUNCHED(c, "scatter_add");
    return EG_OK;
}
