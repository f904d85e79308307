/* cpu_layout.c — permute, slice (with accumulate), gather and scatter-add.
 * Data movement is done on 4- or 8-byte words so F32/I32 share one path. */
#include <string.h>

#include "cpu_internal.h"

/* ---- permute: out dim j is x dim perm[j] ---- */

#define PERM_ROW(T)                                                                                                    \
    do {                                                                                                               \
        const T *xs = (const T *)x + xo;                                                                               \
        T *os = (T *)out + r * L;                                                                                      \
        if (is == 1)                                                                                                   \
            memcpy(os, xs, (size_t)L * sizeof(T));                                                                     \
        else                                                                                                           \
            for (int64_t i = 0; i < L; i++)                                                                            \
                os[i] = xs[i * is];                                                                                    \
    } while (0)

eg_status eg_cpu_permute(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                         void *out) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    size_t es = eg_cpu_dtype_size(dt);
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
    /* out dims with their strides in x, size-1 dims dropped, contiguous runs merged */
    int64_t os[EG_MAX_DIMS], st[EG_MAX_DIMS];
    int nd = 0;
    for (int j = 0; j < ndim; j++) {
        int64_t n = shape[perm[j]], s = xstride[perm[j]];
        if (n == 1) continue;
        if (nd > 0 && st[nd - 1] == s * n) {
            os[nd - 1] *= n;
            st[nd - 1] = s;
            continue;
        }
        os[nd] = n;
        st[nd] = s;
        nd++;
    }
    if (nd == 0) os[0] = 1, st[0] = 1, nd = 1;
    int64_t L = os[nd - 1], is = st[nd - 1], rows = total / L;
#pragma omp parallel for num_threads(nt) if (total > EG_CPU_PAR_MIN && rows > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t xo = 0, rem = r;
        for (int d = nd - 2; d >= 0; d--) {
            xo += (rem % os[d]) * st[d];
            rem /= os[d];
        }
        if (es == 8)
            PERM_ROW(uint64_t);
        else
            PERM_ROW(uint32_t);
    }
    return EG_OK;
}

/* ---- slice: dst[o, dst_off + j, i] (+)= src[o, src_off + j, i] ---- */

#define SLICE_ADD(T)                                                                                                   \
    do {                                                                                                               \
        _Pragma("omp parallel for num_threads(nt) if (big && outer > 1)") for (int64_t o = 0; o < outer; o++) {        \
            const T *s = (const T *)src + (o * src_len + src_off) * inner;                                             \
            T *d = (T *)dst + (o * dst_len + dst_off) * inner;                                                         \
            for (int64_t k = 0; k < run; k++)                                                                          \
                d[k] += s[k];                                                                                          \
        }                                                                                                              \
    } while (0)

eg_status eg_cpu_slice(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                       int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    size_t es = eg_cpu_dtype_size(dt);
    if (!es || outer < 0 || inner < 0 || len < 0 || src_off < 0 || dst_off < 0 || src_off + len > src_len ||
        dst_off + len > dst_len)
        return EG_ERR_INVALID;
    int64_t run = len * inner;
    if (outer == 0 || run == 0) return EG_OK;
    if (!src || !dst) return EG_ERR_INVALID;
    int big = outer * run > EG_CPU_PAR_MIN;
    if (!accumulate) {
#pragma omp parallel for num_threads(nt) if (big && outer > 1)
        for (int64_t o = 0; o < outer; o++)
            memmove((char *)dst + (size_t)((o * dst_len + dst_off) * inner) * es,
                    (const char *)src + (size_t)((o * src_len + src_off) * inner) * es, (size_t)run * es);
        return EG_OK;
    }
    if (dt == EG_F32)
        SLICE_ADD(float);
    else if (dt == EG_F64)
        SLICE_ADD(double);
    else
        SLICE_ADD(int32_t);
    return EG_OK;
}

/* ---- gather / scatter-add along the middle axis ---- */

static eg_status index_args(eg_dtype dt, int64_t outer, int64_t len, int64_t inner, int64_t idx_outer, int64_t n_idx) {
    if (!eg_cpu_dtype_size(dt) || outer < 0 || len < 0 || inner < 0 || n_idx < 0) return EG_ERR_INVALID;
    if (idx_outer != 1 && idx_outer != outer) return EG_ERR_INVALID;
    return EG_OK;
}

#define GATHER(T)                                                                                                      \
    do {                                                                                                               \
        _Pragma(                                                                                                       \
            "omp parallel for num_threads(nt) if (big) collapse(2) reduction(| : bad)") for (int64_t o = 0; o < outer; \
                                                                                             o++) for (int64_t j = 0;  \
                                                                                                       j < n_idx;      \
                                                                                                       j++) {          \
            int64_t k = idx[(idx_outer == 1 ? 0 : o) * n_idx + j];                                                     \
            T *d = (T *)out + (o * n_idx + j) * inner;                                                                 \
            if (k < 0 || k >= len) {                                                                                   \
                bad = 1;                                                                                               \
                continue;                                                                                              \
            }                                                                                                          \
            const T *s = (const T *)x + (o * len + k) * inner;                                                         \
            if (inner == 1)                                                                                            \
                d[0] = s[0];                                                                                           \
            else                                                                                                       \
                memcpy(d, s, (size_t)inner * sizeof(T));                                                               \
        }                                                                                                              \
    } while (0)

eg_status eg_cpu_gather(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                        int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    eg_status st = index_args(dt, outer, len, inner, idx_outer, n_idx);
    if (st != EG_OK) return st;
    if (outer * n_idx * inner == 0) return EG_OK;
    if (!x || !idx || !out) return EG_ERR_INVALID;
    int big = outer * n_idx * inner > EG_CPU_PAR_MIN, bad = 0;
    if (eg_cpu_dtype_size(dt) == 8)
        GATHER(uint64_t);
    else
        GATHER(uint32_t);
    return bad ? EG_ERR_INVALID : EG_OK;
}

/* Rows o are independent (disjoint output rows); within a row, repeated indices
 * accumulate in order, so the inner dimension is what gets split over threads
 * when there are few rows. */
#define SCATTER(T)                                                                                                     \
    do {                                                                                                               \
        _Pragma(                                                                                                       \
            "omp parallel for num_threads(nt) if (big) collapse(2) reduction(| : bad)") for (int64_t o = 0; o < outer; \
                                                                                             o++) for (int64_t b = 0;  \
                                                                                                       b < nblk;       \
                                                                                                       b++) {          \
            int64_t i0 = b * blk, nb = inner - i0 < blk ? inner - i0 : blk;                                            \
            for (int64_t j = 0; j < n_idx; j++) {                                                                      \
                int64_t k = idx[(idx_outer == 1 ? 0 : o) * n_idx + j];                                                 \
                if (k < 0 || k >= len) {                                                                               \
                    bad = 1;                                                                                           \
                    continue;                                                                                          \
                }                                                                                                      \
                const T *s = (const T *)src + (o * n_idx + j) * inner + i0;                                            \
                T *d = (T *)out + (o * len + k) * inner + i0;                                                          \
                for (int64_t i = 0; i < nb; i++)                                                                       \
                    d[i] += s[i];                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

eg_status eg_cpu_scatter_add(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                             int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    eg_status st = index_args(dt, outer, len, inner, idx_outer, n_idx);
    if (st != EG_OK) return st;
    if (outer * n_idx * inner == 0) return EG_OK;
    if (!src || !idx || !out) return EG_ERR_INVALID;
    int big = outer * n_idx * inner > EG_CPU_PAR_MIN, bad = 0;
    /* split inner into blocks only when rows alone cannot feed the threads */
    int64_t blk = (big && outer < 4 * nt && inner >= 1024) ? (inner + 4 * nt - 1) / (4 * nt) : inner;
    int64_t nblk = (inner + blk - 1) / blk;
    if (dt == EG_F32)
        SCATTER(float);
    else if (dt == EG_F64)
        SCATTER(double);
    else
        SCATTER(int32_t);
    return bad ? EG_ERR_INVALID : EG_OK;
}
