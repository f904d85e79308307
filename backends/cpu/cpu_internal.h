/* cpu_internal.h — private declarations shared by the files of the CPU backend.
 * Everything here has hidden visibility: the plugin exports only eg_backend_entry. */
#ifndef EG_CPU_INTERNAL_H
#define EG_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engram/backend.h"

#pragma GCC visibility push(hidden)

/* Below this many elements an elementwise/reduction kernel runs on one thread:
 * an OpenMP fork/join costs more than the work. */
#define EG_CPU_PAR_MIN 32768

/* Kernels compiled for AVX-512, AVX2+FMA and the baseline; the loader picks one. */
#define EG_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

typedef struct eg_cpu_ctx {
    int threads;
    char name[256];
    void *ws;                 /* scratch shared by conv / upsample / syev, grown on demand */
    size_t ws_cap;            /* bytes */
    struct eg_cpu_pool *pool; /* worker threads, started by the first parallel kernel */
    int pool_failed;
} eg_cpu_ctx;

/* Scratch of at least `bytes` (64-byte aligned), valid until the next call; NULL on OOM. */
void *eg_cpu_workspace(eg_cpu_ctx *c, size_t bytes);

/* Runs fn(arg, lo, hi) over [0, n) cut into one contiguous chunk per thread, the
 * caller taking the first; serially (fn(arg, 0, n)) when par is 0. Returns when all
 * chunks are done. The split depends only on n and the thread count. */
typedef void (*eg_cpu_range_fn)(void *arg, int64_t lo, int64_t hi);
void eg_cpu_parallel(eg_cpu_ctx *c, int par, int64_t n, eg_cpu_range_fn fn, void *arg);
void eg_cpu_pool_destroy(eg_cpu_ctx *c);

static inline size_t eg_cpu_dtype_size(eg_dtype dt) {
    return dt == EG_F64 ? 8 : (dt == EG_F32 || dt == EG_I32) ? 4 : 0;
}

/* memory & fill */
eg_status eg_cpu_fill(void *ctx, eg_dtype dt, void *dst, int64_t n, double value);
/* gemm */
eg_status eg_cpu_gemm(void *ctx, const eg_gemm_args *g);
/* elementwise */
eg_status eg_cpu_unary(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a, double b);
eg_status eg_cpu_unary_backward(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, const void *y,
                                const void *dy, void *dx, double a, double b, int accumulate);
eg_status eg_cpu_binary(void *ctx, const eg_bcast_args *args);
/* reductions */
eg_status eg_cpu_reduce(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                        const void *x, void *y);
eg_status eg_cpu_softmax(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y);
eg_status eg_cpu_softmax_backward(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                                  const void *y, const void *dy, void *dx);
/* layout */
eg_status eg_cpu_permute(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                         void *out);
eg_status eg_cpu_slice(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                       int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate);
eg_status eg_cpu_gather(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                        int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);
eg_status eg_cpu_scatter_add(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                             int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);
/* convolution */
eg_status eg_cpu_conv_forward(void *ctx, const eg_conv_args *c, const void *x, const void *weight, void *y);
eg_status eg_cpu_conv_backward_input(void *ctx, const eg_conv_args *c, const void *weight, const void *dy, void *dx);
eg_status eg_cpu_conv_backward_weight(void *ctx, const eg_conv_args *c, const void *x, const void *dy, void *dweight);
/* upsampling */
eg_status eg_cpu_upsample(void *ctx, const eg_upsample_args *u, const void *x, void *y);
eg_status eg_cpu_upsample_backward(void *ctx, const eg_upsample_args *u, const void *dy, void *dx);
/* eigendecomposition */
eg_status eg_cpu_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v);
/* random */
eg_status eg_cpu_rand(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed, uint64_t stream,
                      uint64_t offset, double a, double b);
/* the float fills vectorised, same values (cpu_rand_vec.c; I32 and bad arguments go to eg_cpu_rand) */
eg_status eg_cpu_rand_vec(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed,
                          uint64_t stream, uint64_t offset, double a, double b);
/* Adam / Adamax step (ABI 1.3, cpu_adam.c) */
eg_status eg_cpu_adam_step(void *ctx, const eg_adam_args *a, void *p, void *m, void *v, const void *g);
/* mixture E-step and loss (ABI 1.2) */
eg_status eg_cpu_mixture_estep(void *ctx, const eg_mixture_args *a, const void *psi, const void *y, void *gamma,
                               void *loss);
eg_status eg_cpu_mixture_estep_backward(void *ctx, const eg_mixture_args *a, const void *psi, const void *y,
                                        const void *gamma, const void *dloss, void *dpsi, int accumulate);

#pragma GCC visibility pop

#endif
