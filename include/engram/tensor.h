/* engram/tensor.h — tensors, scopes and eager autograd.
 *
 * Every numeric op runs on the context's backend. Tensors are contiguous,
 * row-major, up to EG_MAX_DIMS dims, and owned by the innermost open scope
 * (freed when it closes) or, for parameters and state, by the context until
 * eg_tensor_free. Ops never return NULL: after a failure (out of memory, shape
 * mismatch, backend error) the context keeps the first error (sticky, like
 * cairo) and later ops return a placeholder and do nothing; check
 * eg_ctx_status() once at the end of a step.
 *
 * Autograd: an op records its backward on the context's tape only when an input
 * requires a gradient and no no-grad region is active. eg_backward(loss)
 * accumulates d loss / d leaf into eg_grad(leaf). */
#ifndef ENGRAM_TENSOR_H
#define ENGRAM_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_ctx eg_ctx;
typedef struct eg_tensor eg_tensor;
typedef struct eg_scope eg_scope;
typedef struct eg_backend eg_backend; /* a loaded, initialised backend plugin */

/* Counter-based random stream: value i of the stream is Philox(seed, stream, offset + i).
 * Plain data; drawing advances offset. */
typedef struct eg_rng {
    uint64_t seed, stream, offset;
} eg_rng;
EG_API eg_rng eg_rng_make(uint64_t seed, uint64_t stream);
/* stream id derived from a name (FNV-1a), so named streams are stable across versions */
EG_API eg_rng eg_rng_named(uint64_t seed, const char *name);
/* Sub-stream `index` of r: the range of r's counter that starts index * 2^span_bits
 * values after r's current offset. Iteration b of a loop that draws from its own
 * sub-stream gets the same numbers however many iterations run before it, and two
 * iterations never overlap while each draws fewer than 2^span_bits values. */
#define EG_RNG_SPAN_BLOCK 40 /* 2^40 values per retrieval block, 2^24 blocks */
#define EG_RNG_SPAN_STAGE 32 /* 2^32 values per training stage, 2^32 stages */
EG_API eg_rng eg_rng_substream(eg_rng r, uint64_t index, int span_bits);

/* clang-format off */
/* `EG_DIMS(3, 4)` expands to `2, (const int64_t[]){3, 4}` for the (ndim, shape) arguments. */
#define EG_DIMS(...) \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]) { __VA_ARGS__ }
/* clang-format on */

/* ---- context ---- */
EG_API eg_status eg_ctx_create(eg_backend *backend, eg_ctx **out);
EG_API void eg_ctx_destroy(eg_ctx *ctx);
EG_API eg_backend *eg_ctx_backend(eg_ctx *ctx);
/* What the context's backend can do, answered in one place for every caller (each
 * fused op checks here and otherwise composes the same result from the 1.0 kernels). */
typedef enum eg_feature {
    EG_FEATURE_SUMSQ = 0,     /* one-pass sum of squares (backend ABI 1.1) */
    EG_FEATURE_MIXTURE_ESTEP, /* fused spatial-mixture E-step and its backward (1.2) */
    EG_FEATURE_ADAM_STEP,     /* fused Adam / Adamax update (1.3, optional) */
    EG_FEATURE_HOST_MEMORY,   /* device memory is host memory: cache-sized blocks pay off (1.4) */
    EG_FEATURE_FAST_F64       /* float64 runs near float32 speed (1.4) */
} eg_feature;
EG_API int eg_ctx_has(eg_ctx *ctx, eg_feature feature);
/* A backend kernel beyond the table, by name (backend ABI 1.4 get_proc_address), or NULL.
 * Call it with eg_ctx_backend_instance(ctx) and tensors' eg_data() handles. */
EG_API void *eg_ctx_proc_address(eg_ctx *ctx, const char *name);
EG_API void *eg_ctx_backend_instance(eg_ctx *ctx);
EG_API eg_status eg_ctx_status(const eg_ctx *ctx);
EG_API const char *eg_ctx_message(const eg_ctx *ctx); /* "" when OK */
/* record an error (first one wins); returns status */
EG_API eg_status eg_ctx_fail(eg_ctx *ctx, eg_status status, const char *fmt, ...);
EG_API void eg_ctx_clear_error(eg_ctx *ctx);
EG_API eg_status eg_ctx_sync(eg_ctx *ctx);

/* ---- scopes ---- */
/* With no scope open, ops allocate into the context's implicit root scope, which
 * is released only by eg_ctx_destroy: open a scope per step or block in loops. */
EG_API eg_scope *eg_scope_open(eg_ctx *ctx);
/* frees every tensor, gradient and tape entry created since the matching open */
EG_API void eg_scope_close(eg_scope *scope);

/* ---- creation ---- */
EG_API eg_tensor *eg_empty(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape);
EG_API eg_tensor *eg_zeros(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape);
EG_API eg_tensor *eg_full(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, double value);
EG_API eg_tensor *eg_scalar(eg_ctx *ctx, eg_dtype dt, double value);
/* host data of dtype dt (float, double or int32_t) */
EG_API eg_tensor *eg_from_host(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, const void *data);
/* float32 host data converted to dt */
EG_API eg_tensor *eg_from_f32(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, const float *data);
EG_API eg_tensor *eg_rand_uniform(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double lo,
                                  double hi);
EG_API eg_tensor *eg_rand_normal(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double mean,
                                 double std);
EG_API eg_tensor *eg_rand_bernoulli(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double p);
/* persistent tensors (parameters, optimiser state, model state) outlive scopes */
EG_API eg_tensor *eg_persistent(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape); /* zero-filled */
/* persistent zero tensor with requires_grad set */
EG_API eg_tensor *eg_param(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape);
EG_API void eg_tensor_free(eg_tensor *t); /* persistent tensors only; no-op on scoped ones */

/* ---- data movement ---- */
EG_API eg_status eg_to_host(const eg_tensor *t, void *dst);       /* in t's dtype */
EG_API eg_status eg_to_host_f32(const eg_tensor *t, float *dst);  /* converted */
EG_API eg_status eg_to_host_f64(const eg_tensor *t, double *dst); /* converted */
EG_API double eg_item(const eg_tensor *t);                        /* first element; NaN on error */
EG_API eg_status eg_assign(eg_tensor *dst, const eg_tensor *src); /* copy data, same shape and dtype */
EG_API eg_status eg_fill(eg_tensor *dst, double value);
EG_API eg_tensor *eg_clone(const eg_tensor *t);             /* new tensor in current scope, no grad link */
EG_API eg_tensor *eg_cast(const eg_tensor *t, eg_dtype dt); /* differentiable for float dtypes */

/* ---- shape ---- */
EG_API int eg_ndim(const eg_tensor *t);
EG_API int64_t eg_dim(const eg_tensor *t, int axis); /* negative axis counts from the end */
EG_API const int64_t *eg_shape(const eg_tensor *t);
EG_API int64_t eg_numel(const eg_tensor *t);
EG_API eg_dtype eg_dtype_of(const eg_tensor *t);
EG_API eg_ctx *eg_tensor_ctx(const eg_tensor *t);
EG_API void *eg_data(eg_tensor *t); /* backend memory handle: pass only to the backend */

/* ---- autograd ---- */
EG_API void eg_requires_grad(eg_tensor *t, int on);
EG_API int eg_needs_grad(const eg_tensor *t);
EG_API eg_tensor *eg_grad(const eg_tensor *t); /* NULL until a backward reached t */
EG_API void eg_zero_grad(eg_tensor *t);        /* drops the gradient (zeroes it for persistent tensors) */
/* backpropagate from a scalar (or, with seed_grad, from any tensor with that upstream gradient) */
EG_API eg_status eg_backward(eg_tensor *loss);
EG_API eg_status eg_backward_with(eg_tensor *out, const eg_tensor *seed_grad);
EG_API eg_tensor *eg_detach(eg_tensor *t); /* same data, no gradient link */
EG_API void eg_no_grad_begin(eg_ctx *ctx);
EG_API void eg_no_grad_end(eg_ctx *ctx);

/* ---- elementwise (broadcasting for binary ops) ---- */
EG_API eg_tensor *eg_add(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_sub(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_mul(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_div(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_maximum(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_minimum(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_scale(eg_tensor *x, double s);
EG_API eg_tensor *eg_add_scalar(eg_tensor *x, double s);
EG_API eg_tensor *eg_affine(eg_tensor *x, double a, double b); /* a*x + b */
EG_API eg_tensor *eg_neg(eg_tensor *x);
EG_API eg_tensor *eg_exp(eg_tensor *x);
EG_API eg_tensor *eg_ln(eg_tensor *x); /* natural log (eg_log is the run's curve logger in plugin.h) */
EG_API eg_tensor *eg_log1p(eg_tensor *x);
EG_API eg_tensor *eg_sqrt(eg_tensor *x);
EG_API eg_tensor *eg_rsqrt(eg_tensor *x);
EG_API eg_tensor *eg_recip(eg_tensor *x);
EG_API eg_tensor *eg_square(eg_tensor *x);
EG_API eg_tensor *eg_pow(eg_tensor *x, double p);
EG_API eg_tensor *eg_abs(eg_tensor *x);
EG_API eg_tensor *eg_clamp(eg_tensor *x, double lo, double hi);
EG_API eg_tensor *eg_sin(eg_tensor *x);
EG_API eg_tensor *eg_cos(eg_tensor *x);
EG_API eg_tensor *eg_sigmoid(eg_tensor *x);
EG_API eg_tensor *eg_tanh(eg_tensor *x);
EG_API eg_tensor *eg_relu(eg_tensor *x);
EG_API eg_tensor *eg_elu(eg_tensor *x, double alpha);
EG_API eg_tensor *eg_softplus(eg_tensor *x);
/* not differentiable (results carry no gradient) */
EG_API eg_tensor *eg_sign(eg_tensor *x);
EG_API eg_tensor *eg_step(eg_tensor *x, double threshold); /* x > threshold ? 1 : 0 */
EG_API eg_tensor *eg_eq(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_gt(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_ge(eg_tensor *a, eg_tensor *b);

/* ---- reductions (axis may be negative; keepdim keeps a size-1 axis) ---- */
EG_API eg_tensor *eg_sum(eg_tensor *x, int axis, int keepdim);
EG_API eg_tensor *eg_mean(eg_tensor *x, int axis, int keepdim);
EG_API eg_tensor *eg_max(eg_tensor *x, int axis, int keepdim); /* gradient to the (first) maximum */
EG_API eg_tensor *eg_min(eg_tensor *x, int axis, int keepdim);
EG_API eg_tensor *eg_logsumexp(eg_tensor *x, int axis, int keepdim);
EG_API eg_tensor *eg_sumsq(eg_tensor *x, int axis, int keepdim); /* sum of x² in one pass */
EG_API eg_tensor *eg_sum_all(eg_tensor *x);                      /* scalar (ndim 0) */
EG_API eg_tensor *eg_mean_all(eg_tensor *x);                     /* scalar */
EG_API eg_tensor *eg_softmax(eg_tensor *x, int axis);
EG_API eg_tensor *eg_log_softmax(eg_tensor *x, int axis);
/* index of the maximum along axis as an EG_I32 tensor (no gradient) */
EG_API eg_tensor *eg_argmax(eg_tensor *x, int axis);

/* ---- linear algebra ---- */
/* a [..., m, k] @ b [..., k, n]; leading (batch) dims must match or one operand is 2-D */
EG_API eg_tensor *eg_matmul(eg_tensor *a, eg_tensor *b);
EG_API eg_tensor *eg_matmul_nt(eg_tensor *a, eg_tensor *b); /* a @ b^T (b is [..., n, k]) */
EG_API eg_tensor *eg_matmul_tn(eg_tensor *a, eg_tensor *b); /* a^T @ b (a is [..., k, m]) */
EG_API eg_tensor *eg_gemm(eg_tensor *a, eg_tensor *b, int trans_a, int trans_b, double alpha);
/* batched symmetric eigendecomposition of a [..., n, n]; not differentiable */
EG_API eg_status eg_syev(eg_tensor *a, eg_tensor **eigenvalues, eg_tensor **eigenvectors);

/* ---- layout ---- */
EG_API eg_tensor *eg_reshape(eg_tensor *x, int ndim, const int64_t *shape); /* one -1 allowed; a view */
EG_API eg_tensor *eg_flatten(eg_tensor *x, int start_axis);                 /* [a, b, c, d] -> [a, b*c*d] for 1 */
EG_API eg_tensor *eg_permute(eg_tensor *x, const int *perm);
EG_API eg_tensor *eg_transpose(eg_tensor *x, int axis0, int axis1);
/* a window of `len` along axis; when every axis before `axis` has size 1 (e.g. rows of a
 * matrix) the result is a view sharing x's memory, otherwise a copy */
EG_API eg_tensor *eg_narrow(eg_tensor *x, int axis, int64_t start, int64_t len);
EG_API eg_tensor *eg_concat(eg_tensor *const *xs, int n, int axis);
/* broadcast to shape (materialised; gradient sums back) */
EG_API eg_tensor *eg_expand(eg_tensor *x, int ndim, const int64_t *shape);
/* rows of x along axis picked by a 1-D EG_I32 index tensor (embedding lookup) */
EG_API eg_tensor *eg_index_select(eg_tensor *x, int axis, eg_tensor *index);
/* out[..., j, ...] = x[..., index[..., j], ...] where index has x's shape up to `axis`
 * followed by its own length (per-row picks, e.g. the log-probability of each label) */
EG_API eg_tensor *eg_take_along(eg_tensor *x, int axis, eg_tensor *index);
/* zeros of `like`'s shape with src rows added at index along axis (inverse of index_select) */
EG_API eg_tensor *eg_index_add(eg_tensor *like, int axis, eg_tensor *index, eg_tensor *src);

/* ---- convolution and resampling (NCHW / NCL) ---- */
typedef struct eg_conv_opts {
    int stride[2], pad[2], dilation[2], output_pad[2]; /* {h, w}; zeros mean stride 1, dilation 1 */
} eg_conv_opts;
/* x [n, c_in, h, w], w [c_out, c_in, kh, kw], bias [c_out] or NULL */
EG_API eg_tensor *eg_conv2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o);
/* x [n, c_in, h, w], w [c_in, c_out, kh, kw] (PyTorch layout), bias [c_out] or NULL */
EG_API eg_tensor *eg_conv_transpose2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o);
/* 1-d: x [n, c, l], w [c_out, c_in, k] / [c_in, c_out, k]; opts use index 1 */
EG_API eg_tensor *eg_conv1d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o);
EG_API eg_tensor *eg_conv_transpose1d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o);
/* x [n, c, h, w] -> [n, c, oh, ow] */
EG_API eg_tensor *eg_upsample2d(eg_tensor *x, int64_t oh, int64_t ow, eg_upsample_mode mode, int align_corners);

#ifdef __cplusplus
}
#endif
#endif
