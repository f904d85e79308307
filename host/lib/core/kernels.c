/* kernels.c — engram/kernels.h: one backend kernel per call on device handles,
 * with the context's sticky error, and the capability answers (eg_ctx_has). */
#include "engram/kernels.h"
#include "core_internal.h"

/* 1 when the descriptor covers field `end` bytes in and is at least ABI minor `minor` */
static int covers(const eg_backend_desc *d, uint32_t minor, size_t end) {
    return d->abi_minor >= minor && d->struct_size >= end;
}
#define EG_HAS_SLOT(d, minor, field)                                                                                   \
    (covers(d, minor, offsetof(eg_backend_desc, field) + sizeof(d)->field) && (d)->field != NULL)

int eg_ctx_has(eg_ctx *ctx, eg_feature feature) {
    if (!ctx || !ctx->be) return 0;
    const eg_backend_desc *d = ctx->be;
    int has_features = covers(d, 4, offsetof(eg_backend_desc, features) + sizeof d->features);
    switch (feature) {
    case EG_FEATURE_SUMSQ: return d->abi_minor >= 1; /* a value of the reduce enum, not a slot */
    case EG_FEATURE_MIXTURE_ESTEP: return EG_HAS_SLOT(d, 2, mixture_estep) && EG_HAS_SLOT(d, 2, mixture_estep_backward);
    case EG_FEATURE_ADAM_STEP: return EG_HAS_SLOT(d, 3, adam_step);
    case EG_FEATURE_HOST_MEMORY: return has_features && (d->features & EG_BACKEND_HOST_MEMORY) != 0;
    case EG_FEATURE_FAST_F64: return has_features && (d->features & EG_BACKEND_FAST_F64) != 0;
    }
    return 0;
}

void *eg_ctx_proc_address(eg_ctx *ctx, const char *name) {
    if (!ctx || !ctx->be || !name) return NULL;
    const eg_backend_desc *d = ctx->be;
    if (!EG_HAS_SLOT(d, 4, get_proc_address)) return NULL;
    return d->get_proc_address(name);
}

void *eg_kernel_at(eg_tensor *t, int64_t offset) {
    if (!t) return NULL;
    return (char *)t->data + (size_t)offset * eg__dtype_size(t->dtype);
}

/* run one kernel unless the context has failed; a missing slot or a failure is recorded once */
#define EG_KERNEL(ctx, slot, what, ...)                                                                                \
    do {                                                                                                               \
        if (!(ctx) || eg__failed(ctx)) return;                                                                         \
        if (!eg__be_has((ctx), (const void *)(ctx)->be->slot, (what), #slot)) return;                                  \
        eg__be_ok((ctx), (ctx)->be->slot((ctx)->bi, __VA_ARGS__), (what), #slot);                                      \
    } while (0)

void eg_kernel_gemm(eg_ctx *ctx, const eg_gemm_args *g, const char *what) {
    EG_KERNEL(ctx, gemm, what, g);
}
void eg_kernel_unary(eg_ctx *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a, double b,
                     const char *what) {
    EG_KERNEL(ctx, unary, what, op, dt, n, x, y, a, b);
}
void eg_kernel_binary(eg_ctx *ctx, const eg_bcast_args *args, const char *what) {
    EG_KERNEL(ctx, binary, what, args);
}
void eg_kernel_reduce(eg_ctx *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                      const void *x, void *y, const char *what) {
    if (ctx && !eg__failed(ctx) && op == EG_RED_SUMSQ && !eg_ctx_has(ctx, EG_FEATURE_SUMSQ)) {
        eg__fail(ctx, EG_ERR_UNSUPPORTED, "%s: backend %s has no one-pass sum of squares", what, ctx->be->name);
        return;
    }
    EG_KERNEL(ctx, reduce, what, op, dt, outer, len, inner, x, y);
}
void eg_kernel_softmax(eg_ctx *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                       const void *x, void *y, const char *what) {
    EG_KERNEL(ctx, softmax, what, log_softmax, dt, outer, len, inner, x, y);
}
void eg_kernel_gather(eg_ctx *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                      int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out, const char *what) {
    EG_KERNEL(ctx, gather, what, dt, outer, len, inner, x, idx_outer, n_idx, idx, out);
}
void eg_kernel_download(eg_ctx *ctx, void *host_dst, const void *src, size_t bytes, const char *what) {
    EG_KERNEL(ctx, download, what, host_dst, src, bytes);
}
