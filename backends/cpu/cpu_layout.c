/* cpu_layout.c — permute, slice (with accumulate), gather and scatter-add.
 * Data movement is done on 4- or 8-byte words so F32/I32 share one path. */
#include <string.h>

#include "cpu_internal.h"

/* ---- permute: out dim j is x dim perm[j] ---- */

typedef struct perm_job {
    int nd;
    size_t es;
    int64_t os[EG_MAX_DIMS], st[EG_MAX_DIMS]; /* simplified out dims and their strides in x */
    const void *x;
    void *out;
} perm_job;

#define PERM_ROWS(T)                                                                                                   \
    for (int64_t r = lo; r < hi; r++) {                                                                                \
        int64_t xo = 0, rem = r;                                                                                       \
        for (int d = j->nd - 2; d >= 0; d--) {                                                                         \
            xo += (rem % j->os[d]) * j->st[d];                                                                         \
            rem /= j->os[d];                                                                                           \
        }                                                                                                              \
        const T *xs = (const T *)j->x + xo;                                                                            \
        T *o = (T *)j->out + r * L;                                                                                    \
        if (is == 1)                                                                                                   \
            memcpy(o, xs, (size_t)L * sizeof(T));                                                                      \
        else                                                                                                           \
            for (int64_t i = 0; i < L; i++)                                                                            \
                o[i] = xs[i * is];                                                                                     \
    }

static void perm_range(void *arg, int64_t lo, int64_t hi) {
    const perm_job *j = arg;
    int64_t L = j->os[j->nd - 1], is = j->st[j->nd - 1];
    if (j->es == 8) {
        PERM_ROWS(uint64_t)
    } else {
        PERM_ROWS(uint32_t)
    }
}

eg_status eg_cpu_permute(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                         void *out) {
    size_t es = eg_cpu_dtype_size(dt);
    if (!es || ndim < 0 || ndim > EG_MAX_DIMS || (ndim && (!shape || !perm))) return EG_ERR_INVALID;
    int64_t xstride[EG_MAX_DIMS], total = 1;
    int seen = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] < 0) return EG_ERR_INVALID;
        xstride[d] = total;
        total *= shape[d];
    }
    for (int k = 0; k < ndim; k++) {
        if (perm[k] < 0 || perm[k] >= ndim || (seen >> perm[k]) & 1) return EG_ERR_INVALID;
        seen |= 1 << perm[k];
    }
    if (total == 0) return EG_OK;
    if (!x || !out) return EG_ERR_INVALID;
    /* out dims with their strides in x, size-1 dims dropped, contiguous runs merged */
    perm_job j = {.es = es, .x = x, .out = out};
    int nd = 0;
    for (int k = 0; k < ndim; k++) {
        int64_t n = shape[perm[k]], s = xstride[perm[k]];
        if (n == 1) continue;
        if (nd > 0 && j.st[nd - 1] == s * n) {
            j.os[nd - 1] *= n;
            j.st[nd - 1] = s;
            continue;
        }
        j.os[nd] = n;
        j.st[nd] = s;
        nd++;
    }
    if (nd == 0) j.os[0] = 1, j.st[0] = 1, nd = 1;
    j.nd = nd;
    eg_cpu_parallel(ctx, total > EG_CPU_PAR_MIN, total / j.os[nd - 1], perm_range, &j);
    return EG_OK;
}

/* ---- slice: dst[o, dst_off + j, i] (+)= src[o, src_off + j, i] ---- */

typedef struct slice_job {
    eg_dtype dt;
    int acc;
    int64_t src_len, src_off, dst_len, dst_off, inner, run;
    const void *src;
    void *dst;
} slice_job;

#define SLICE_ADD(T)                                                                                                   \
    for (int64_t o = lo; o < hi; o++) {                                                                                \
        const T *s = (const T *)j->src + (o * j->src_len + j->src_off) * j->inner;                                     \
        T *d = (T *)j->dst + (o * j->dst_len + j->dst_off) * j->inner;                                                 \
        for (int64_t k = 0; k < j->run; k++)                                                                           \
            d[k] += s[k];                                                                                              \
    }

static void slice_range(void *arg, int64_t lo, int64_t hi) {
    const slice_job *j = arg;
    size_t es = eg_cpu_dtype_size(j->dt);
    if (!j->acc) {
        for (int64_t o = lo; o < hi; o++)
            memmove((char *)j->dst + (size_t)((o * j->dst_len + j->dst_off) * j->inner) * es,
                    (const char *)j->src + (size_t)((o * j->src_len + j->src_off) * j->inner) * es,
                    (size_t)j->run * es);
    } else if (j->dt == EG_F32) {
        SLICE_ADD(float)
    } else if (j->dt == EG_F64) {
        SLICE_ADD(double)
    } else {
        SLICE_ADD(int32_t)
    }
}

eg_status eg_cpu_slice(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                       int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate) {
    if (!eg_cpu_dtype_size(dt) || outer < 0 || inner < 0 || len < 0 || src_off < 0 || dst_off < 0 ||
        src_off + len > src_len || dst_off + len > dst_len)
        return EG_ERR_INVALID;
    slice_job j = {dt, accumulate != 0, src_len, src_off, dst_len, dst_off, inner, len * inner, src, dst};
    if (outer == 0 || j.run == 0) return EG_OK;
    if (!src || !dst) return EG_ERR_INVALID;
    eg_cpu_parallel(ctx, outer * j.run > EG_CPU_PAR_MIN, outer, slice_range, &j);
    return EG_OK;
}

/* ---- gather / scatter-add along the middle axis ---- */

/* validates the arguments and every index before anything is written */
static eg_status index_args(eg_dtype dt, int64_t outer, int64_t len, int64_t inner, int64_t idx_outer, int64_t n_idx,
                            const int32_t *idx) {
    if (!eg_cpu_dtype_size(dt) || outer < 0 || len < 0 || inner < 0 || n_idx < 0) return EG_ERR_INVALID;
    if (idx_outer != 1 && idx_outer != outer) return EG_ERR_INVALID;
    if (outer * n_idx * inner == 0) return EG_OK;
    if (!idx) return EG_ERR_INVALID;
    int bad = 0;
    for (int64_t k = 0; k < idx_outer * n_idx; k++)
        bad |= idx[k] < 0 || idx[k] >= len;
    return bad ? EG_ERR_INVALID : EG_OK;
}

typedef struct index_job {
    eg_dtype dt;
    int64_t len, inner, idx_outer, n_idx, blk, nblk;
    const int32_t *idx;
    const void *src; /* x for gather */
    void *out;
} index_job;

#define GATHER_ROWS(T)                                                                                                 \
    for (int64_t t = lo; t < hi; t++) {                                                                                \
        int64_t o = t / j->n_idx, jj = t % j->n_idx;                                                                   \
        int64_t k = j->idx[(j->idx_outer == 1 ? 0 : o) * j->n_idx + jj];                                               \
        const T *s = (const T *)j->src + (o * j->len + k) * j->inner;                                                  \
        T *d = (T *)j->out + t * j->inner;                                                                             \
        if (j->inner == 1)                                                                                             \
            d[0] = s[0];                                                                                               \
        else                                                                                                           \
            memcpy(d, s, (size_t)j->inner * sizeof(T));                                                                \
    }

static void gather_range(void *arg, int64_t lo, int64_t hi) {
    const index_job *j = arg;
    if (eg_cpu_dtype_size(j->dt) == 8) {
        GATHER_ROWS(uint64_t)
    } else {
        GATHER_ROWS(uint32_t)
    }
}

eg_status eg_cpu_gather(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                        int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    eg_status st = index_args(dt, outer, len, inner, idx_outer, n_idx, idx);
    if (st != EG_OK || outer * n_idx * inner == 0) return st;
    if (!x || !out) return EG_ERR_INVALID;
    index_job j = {dt, len, inner, idx_outer, n_idx, 0, 0, idx, x, out};
    eg_cpu_parallel(ctx, outer * n_idx * inner > EG_CPU_PAR_MIN, outer * n_idx, gather_range, &j);
    return EG_OK;
}

/* Tasks are (row o, block of inner positions): rows write disjoint outputs, and
 * within a task repeated indices accumulate in index order (deterministic). */
#define SCATTER_TASKS(T)                                                                                               \
    for (int64_t t = lo; t < hi; t++) {                                                                                \
        int64_t o = t / j->nblk, i0 = (t % j->nblk) * j->blk, nb = j->inner - i0 < j->blk ? j->inner - i0 : j->blk;    \
        for (int64_t jj = 0; jj < j->n_idx; jj++) {                                                                    \
            int64_t k = j->idx[(j->idx_outer == 1 ? 0 : o) * j->n_idx + jj];                                           \
            const T *s = (const T *)j->src + (o * j->n_idx + jj) * j->inner + i0;                                      \
            T *d = (T *)j->out + (o * j->len + k) * j->inner + i0;                                                     \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                d[i] += s[i];                                                                                          \
        }                                                                                                              \
    }

static void scatter_range(void *arg, int64_t lo, int64_t hi) {
    const index_job *j = arg;
    if (j->dt == EG_F32) {
        SCATTER_TASKS(float)
    } else if (j->dt == EG_F64) {
        SCATTER_TASKS(double)
    } else {
        SCATTER_TASKS(int32_t)
    }
}

eg_status eg_cpu_scatter_add(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                             int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out) {
    eg_status st = index_args(dt, outer, len, inner, idx_outer, n_idx, idx);
    if (st != EG_OK || outer * n_idx * inner == 0) return st;
    if (!src || !out) return EG_ERR_INVALID;
    int nt = ((eg_cpu_ctx *)ctx)->threads, big = outer * n_idx * inner > EG_CPU_PAR_MIN;
    /* split inner into blocks only when rows alone cannot feed the threads */
    int64_t blk = (big && outer < 4 * nt && inner >= 1024) ? (inner + 4 * nt - 1) / (4 * nt) : inner;
    index_job j = {dt, len, inner, idx_outer, n_idx, blk, (inner + blk - 1) / blk, idx, src, out};
    eg_cpu_parallel(ctx, big, outer * j.nblk, scatter_range, &j);
    return EG_OK;
}
