/* cuda_internal.h — private declarations shared by the files of the CUDA backend.
 * Host side: the instance, error recording, the caching allocator, scratch, and the
 * kernel entry points that the descriptor in cuda_backend.cu points at. Device
 * helpers (warp reductions, math overloads) are in cuda_device.h.
 *
 * Everything is compiled with hidden visibility (CMake: CUDA_VISIBILITY_PRESET);
 * the plugin exports only eg_backend_entry.
 *
 * Error policy: every CUDA / cuBLAS / cuSOLVER failure becomes an eg_status through
 * eg_cuda_fail(), which keeps "file:line: what: text" in the instance (shown by
 * device_name() and printed once per distinct message to stderr). Out-of-memory maps
 * to EG_ERR_NOMEM, everything else to EG_ERR_BACKEND. Nothing in the backend aborts.
 *
 * Ordering: all work of an instance is queued on its one stream (c->stream), cuBLAS
 * and cuSOLVER included, so a buffer freed on the host may be handed out again at
 * once: any later use is queued behind every earlier use. */
#ifndef EG_CUDA_INTERNAL_H
#define EG_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>
#include <stddef.h>
#include <stdint.h>

#include "engram/backend.h"

/* ---- caching device allocator (cuda_alloc.cu) ----
 * Requests are rounded up to a size class (512 B, then four classes per power of
 * two); a freed block goes onto its class's free list and is reused by the next
 * request of that class, so steady-state training loops never call cudaMalloc. */
#define EG_CUDA_NCLASS 168

typedef struct eg_cuda_stack {
    void **v;
    int n, cap;
} eg_cuda_stack;

typedef struct eg_cuda_heap {
    eg_cuda_stack free_list[EG_CUDA_NCLASS];
    uintptr_t *keys;  /* live blocks: open addressing, 0 empty, 1 tombstone */
    unsigned char *cls;
    size_t cap, used, tomb;
    size_t live_bytes, cached_bytes, peak_bytes;
} eg_cuda_heap;

typedef struct eg_cuda_ctx {
    int dev, cc_major, cc_minor, sm_count;
    size_t total_mem;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_ws;                      /* cuBLAS workspace (from the heap) */
    cusolverDnHandle_t solver;          /* created by the first syev */
    cusolverDnParams_t solver_params;
    syevjInfo_t syevj;
    eg_cuda_heap heap;
    void *scratch;                      /* im2col columns, syev copies; grows, never shrinks */
    size_t scratch_cap;
    void *host_ws;                      /* cuSOLVER host workspace */
    size_t host_ws_cap;
    int *flag_host, *flag_dev;          /* mapped pinned word: bad index seen by gather/scatter */
    int tf32;                           /* ENGRAM_CUDA_TF32=1: TF32 tensor cores for F32 GEMM */
    char dev_name[256];                 /* "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" */
    char last_error[512];
    char shown[800];                    /* dev_name plus the last error, for device_name() */
} eg_cuda_ctx;

/* ---- errors (cuda_backend.cu) ---- */
eg_status eg_cuda_fail(eg_cuda_ctx *c, eg_status st, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
eg_status eg_cuda_err(eg_cuda_ctx *c, cudaError_t e, const char *file, int line, const char *what);
eg_status eg_cuda_blas_err(eg_cuda_ctx *c, cublasStatus_t s, const char *file, int line, const char *what);
eg_status eg_cuda_solver_err(eg_cuda_ctx *c, cusolverStatus_t s, const char *file, int line, const char *what);

/* return the status of a failed CUDA runtime call */
#define EG_CU(c, expr)                                                                                                 \
    do {                                                                                                               \
        cudaError_t eg_e_ = (expr);                                                                                    \
        if (eg_e_ != cudaSuccess) return eg_cuda_err((c), eg_e_, __FILE__, __LINE__, #expr);                           \
    } while (0)
#define EG_BLAS(c, expr)                                                                                               \
    do {                                                                                                               \
        cublasStatus_t eg_s_ = (expr);                                                                                 \
        if (eg_s_ != CUBLAS_STATUS_SUCCESS) return eg_cuda_blas_err((c), eg_s_, __FILE__, __LINE__, #expr);            \
    } while (0)
#define EG_SOLVER(c, expr)                                                                                             \
    do {                                                                                                               \
        cusolverStatus_t eg_s_ = (expr);                                                                               \
        if (eg_s_ != CUSOLVER_STATUS_SUCCESS) return eg_cuda_solver_err((c), eg_s_, __FILE__, __LINE__, #expr);        \
    } while (0)
/* after a <<<...>>> launch: a bad configuration or a sticky earlier fault */
#define EG_LAUNCHED(c, name)                                                                                           \
    do {                                                                                                               \
        cudaError_t eg_e_ = cudaGetLastError();                                                                        \
        if (eg_e_ != cudaSuccess) return eg_cuda_err((c), eg_e_, __FILE__, __LINE__, "launch " name);                  \
    } while (0)
/* propagate a status */
#define EG_TRY(expr)                                                                                                   \
    do {                                                                                                               \
        eg_status eg_t_ = (expr);                                                                                      \
        if (eg_t_ != EG_OK) return eg_t_;                                                                              \
    } while (0)

/* make the instance's device current for this thread (cheap when it already is) */
eg_status eg_cuda_enter(eg_cuda_ctx *c);

/* ---- memory (cuda_alloc.cu) ---- */
void eg_cuda_heap_init(eg_cuda_heap *h);
eg_status eg_cuda_heap_alloc(eg_cuda_ctx *c, size_t bytes, void **ptr);
void eg_cuda_heap_free(eg_cuda_ctx *c, void *ptr);
void eg_cuda_heap_release_cached(eg_cuda_ctx *c); /* cudaFree every cached block */
void eg_cuda_heap_destroy(eg_cuda_ctx *c);         /* cudaFree everything, live blocks included */
/* scratch of at least `bytes`, valid until the next scratch call (queued work keeps order) */
eg_status eg_cuda_scratch(eg_cuda_ctx *c, size_t bytes, void **p);

/* ---- launch geometry ---- */
#define EG_CUDA_THREADS 256
static inline unsigned eg_cuda_blocks(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    return (unsigned)(b > (1 << 20) ? (1 << 20) : b); /* the kernels loop over the rest (grid stride) */
}
static inline size_t eg_cuda_dtype_size(eg_dtype dt) {
    return dt == EG_F64 ? 8 : (dt == EG_F32 || dt == EG_I32) ? 4 : 0;
}
/* F32 and F64 are the float dtypes; I32 where a kernel has no integer form */
static inline eg_status eg_cuda_float_dtype(eg_dtype dt) {
    return dt == EG_F32 || dt == EG_F64 ? EG_OK : dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
}

/* ---- internal building blocks ---- */
/* row-major strided-batched GEMM (cuda_gemm.cu); arguments already validated */
eg_status eg_cuda_gemm_rm(eg_cuda_ctx *c, eg_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                          const void *a, int64_t lda, int64_t sa, const void *b, int64_t ldb, int64_t sb, double beta,
                          void *cc, int64_t ldc, int64_t sc, int64_t batch);
/* out[b, j, i] = in[b, i, j] for `batch` rows x cols matrices (cuda_layout.cu) */
eg_status eg_cuda_transpose(eg_cuda_ctx *c, eg_dtype dt, int64_t batch, int64_t rows, int64_t cols, const void *in,
                            void *out);

/* ---- the descriptor's kernels ---- */
eg_status eg_cuda_fill(void *ctx, eg_dtype dt, void *dst, int64_t n, double value);
eg_status eg_cuda_gemm(void *ctx, const eg_gemm_args *g);
eg_status eg_cuda_unary(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a,
                        double b);
eg_status eg_cuda_unary_backward(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, const void *y,
                                 const void *dy, void *dx, double a, double b, int accumulate);
eg_status eg_cuda_binary(void *ctx, const eg_bcast_args *args);
eg_status eg_cuda_reduce(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y);
eg_status eg_cuda_softmax(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                          const void *x, void *y);
eg_status eg_cuda_softmax_backward(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len,
                                   int64_t inner, const void *y, const void *dy, void *dx);
eg_status eg_cuda_permute(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                          void *out);
eg_status eg_cuda_slice(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                        int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate);
eg_status eg_cuda_gather(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                         int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);
eg_status eg_cuda_scatter_add(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                              int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);
eg_status eg_cuda_conv_forward(void *ctx, const eg_conv_args *c, const void *x, const void *weight, void *y);
eg_status eg_cuda_conv_backward_input(void *ctx, const eg_conv_args *c, const void *weight, const void *dy,
                                      void *dx);
eg_status eg_cuda_conv_backward_weight(void *ctx, const eg_conv_args *c, const void *x, const void *dy,
                                       void *dweight);
eg_status eg_cuda_upsample(void *ctx, const eg_upsample_args *u, const void *x, void *y);
eg_status eg_cuda_upsample_backward(void *ctx, const eg_upsample_args *u, const void *dy, void *dx);
eg_status eg_cuda_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v);
eg_status eg_cuda_rand(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed,
                       uint64_t stream, uint64_t offset, double a, double b);
/* mixture E-step and loss (ABI 1.2, cuda_mixture.cu) */
eg_status eg_cuda_mixture_estep(void *ctx, const eg_mixture_args *a, const void *psi, const void *y, void *gamma,
                                void *loss);
eg_status eg_cuda_mixture_estep_backward(void *ctx, const eg_mixture_args *a, const void *psi, const void *y,
                                         const void *gamma, const void *dloss, void *dpsi, int accumulate);

#endif
