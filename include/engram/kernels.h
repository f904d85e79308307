/* engram/kernels.h — single backend kernels on tensors' memory, for hand-fused steps.
 *
 * A model whose inner loop is cheaper as a fixed chain of kernels than as tensor
 * ops (no autograd, no allocation, offsets into preallocated buffers) calls them
 * here rather than through the backend's function table, which is the host's to
 * read. Each call runs one kernel of the context's backend on device handles
 * (eg_data(t), eg_kernel_at), records no gradient and shares the context's sticky
 * error: after the first failure ("kernel gemm v_w failed: ...") later calls do
 * nothing, and eg_ctx_status reports it. `what` names the step in that message. */
#ifndef ENGRAM_KERNELS_H
#define ENGRAM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "export.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* the device handle of element `offset` of t (in t's dtype) */
EG_API void *eg_kernel_at(eg_tensor *t, int64_t offset);

EG_API void eg_kernel_gemm(eg_ctx *ctx, const eg_gemm_args *g, const char *what);
EG_API void eg_kernel_unary(eg_ctx *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a,
                            double b, const char *what);
EG_API void eg_kernel_binary(eg_ctx *ctx, const eg_bcast_args *args, const char *what);
/* EG_RED_SUMSQ on a backend without it (eg_ctx_has) is refused: compose it from square + sum */
EG_API void eg_kernel_reduce(eg_ctx *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                             const void *x, void *y, const char *what);
EG_API void eg_kernel_softmax(eg_ctx *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                              const void *x, void *y, const char *what);
EG_API void eg_kernel_gather(eg_ctx *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                             int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out, const char *what);
/* bytes from device handle src to host memory (waits for queued work) */
EG_API void eg_kernel_download(eg_ctx *ctx, void *host_dst, const void *src, size_t bytes, const char *what);

#ifdef __cplusplus
}
#endif
#endif
