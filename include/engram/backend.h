/* engram/backend.h — the backend plugin ABI.
 *
 * A backend is a shared object exporting `eg_backend_entry`, which returns a
 * const descriptor. The host loads it only when abi_major matches its own and
 * abi_minor is not newer. Fields are only ever appended; a host reads a field
 * only when struct_size covers it.
 *
 * All memory handles are opaque device pointers obtained from alloc(). Every
 * kernel takes contiguous row-major tensors and returns an eg_status; running
 * out of memory is EG_ERR_NOMEM, never an abort. Kernels may run
 * asynchronously; download() and sync() wait for queued work.
 *
 * Dtypes: every backend implements EG_F32; the CPU backend also EG_F64 (so
 * gradient checks run in double). Index arguments are EG_I32 buffers.
 * This header depends only on status.h: a backend never links libengram. */
#ifndef ENGRAM_BACKEND_H
#define ENGRAM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EG_BACKEND_ABI_MAJOR 1
#define EG_BACKEND_ABI_MINOR 4
#define EG_MAX_DIMS 6

typedef enum eg_dtype { EG_F32 = 0, EG_F64 = 1, EG_I32 = 2 } eg_dtype;

/* y = f(x; a, b). Parameters a, b are used where noted. */
typedef enum eg_unary_op {
    EG_UN_COPY = 0,
    EG_UN_NEG,
    EG_UN_AFFINE,   /* a*x + b */
    EG_UN_EXP,
    EG_UN_LOG,
    EG_UN_SQRT,
    EG_UN_RSQRT,
    EG_UN_RECIP,
    EG_UN_SQUARE,
    EG_UN_ABS,
    EG_UN_SIGN,
    EG_UN_SIGMOID,
    EG_UN_TANH,
    EG_UN_RELU,
    EG_UN_ELU,      /* x > 0 ? x : a*(exp(x)-1) */
    EG_UN_SOFTPLUS, /* log(1+exp(x)), stable */
    EG_UN_POW,      /* x^a */
    EG_UN_CLAMP,    /* min(max(x, a), b) */
    EG_UN_STEP,     /* x > a ? 1 : 0 */
    EG_UN_LOG1P,
    EG_UN_SIN,
    EG_UN_COS,
    EG_UN_COUNT
} eg_unary_op;

/* Binary ops with numpy broadcasting. Comparisons yield 1 or 0. */
typedef enum eg_binary_op {
    EG_BIN_ADD = 0,
    EG_BIN_SUB,
    EG_BIN_MUL,
    EG_BIN_DIV,
    EG_BIN_MAX,
    EG_BIN_MIN,
    EG_BIN_POW,
    EG_BIN_EQ,
    EG_BIN_GT,
    EG_BIN_GE,
    EG_BIN_COUNT
} eg_binary_op;

/* EG_RED_SUMSQ (ABI 1.1): sum of squares in one pass; a host must not ask a 1.0 backend for it. */
typedef enum eg_reduce_op {
    EG_RED_SUM = 0,
    EG_RED_MAX,
    EG_RED_LOGSUMEXP,
    EG_RED_MIN,
    EG_RED_SUMSQ,
    EG_RED_COUNT
} eg_reduce_op;

typedef enum eg_rand_kind {
    EG_RAND_UNIFORM = 0, /* U[a, b) */
    EG_RAND_NORMAL,      /* N(a, b^2) */
    EG_RAND_BERNOULLI    /* 1 with probability a, else 0 */
} eg_rand_kind;

/* Batched strided GEMM: for i < batch,
 *   C_i = alpha * op(A_i) op(B_i) + beta * C_i,   A_i = A + i*stride_a (elements)
 * op(A) is m x k, op(B) is k x n, C is m x n; all row-major with leading dims.
 * A stride of 0 broadcasts that operand across the batch. */
typedef struct eg_gemm_args {
    eg_dtype dtype;
    int trans_a, trans_b;
    int64_t m, n, k;
    double alpha, beta;
    const void *a; int64_t lda; int64_t stride_a;
    const void *b; int64_t ldb; int64_t stride_b;
    void *c; int64_t ldc; int64_t stride_c;
    int64_t batch;
} eg_gemm_args;

/* Elementwise binary with broadcasting: out has `ndim` dims of `shape`;
 * element strides of a and b per output dim (0 where broadcast). */
typedef struct eg_bcast_args {
    eg_dtype dtype;
    eg_binary_op op;
    int ndim;
    int64_t shape[EG_MAX_DIMS];
    int64_t stride_a[EG_MAX_DIMS];
    int64_t stride_b[EG_MAX_DIMS];
    const void *a, *b;
    void *out;
} eg_bcast_args;

/* Convolution, NCHW (1-d convolutions use h = 1, kernel_h = 1). Groups = 1.
 * x: [n, c_in, h, w]; weight: [c_out, c_in, kh, kw]; y: [n, c_out, oh, ow] with
 *   oh = (h + 2*pad_h - dil_h*(kh-1) - 1)/stride_h + 1 (same for w).
 * Kernels: forward (x, weight -> y), backward_input (weight, dy -> dx: this is
 * the transposed convolution's forward), backward_weight (x, dy -> dweight).
 * `accumulate` adds into the output instead of overwriting it. */
typedef struct eg_conv_args {
    eg_dtype dtype;
    int64_t n, c_in, h, w;
    int64_t c_out, kh, kw;
    int64_t oh, ow;
    int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int accumulate;
} eg_conv_args;

typedef enum eg_upsample_mode { EG_UPSAMPLE_NEAREST = 0, EG_UPSAMPLE_BILINEAR } eg_upsample_mode;

/* Upsampling [n*c, h, w] -> [n*c, oh, ow]. Backward maps dy -> dx (overwrites dx). */
typedef struct eg_upsample_args {
    eg_dtype dtype;
    eg_upsample_mode mode;
    int align_corners; /* bilinear only */
    int64_t nc, h, w, oh, ow;
} eg_upsample_args;

/* Spatial-mixture E-step and loss (ABI 1.2; N-EM, Greff et al. 2017, eq. 5) over psi
 * [batch, k, channels, pixels] (per-component means) and targets y [batch, channels, pixels]:
 *   per value: lik = y psi + (1 - y)(1 - psi)                  (gaussian = 0, Bernoulli)
 *                    exp(-(y - psi)^2 / 2 sigma^2) / sqrt(2 pi sigma^2)   (gaussian = 1)
 *   gamma[b, k, i] = (sum_c lik + eps) / sum_k' (sum_c lik + eps)            [batch, k, pixels]
 *   loss[b] = sum_{k, c, i} gamma nll + inter_weight (1 - gamma) kl           [batch]
 *     Bernoulli: nll = -(y ln q + (1 - y) ln(1 - q)), q = clamp(psi, eps, 1 - eps)
 *                (a term whose factor y or 1 - y is 0 is skipped), kl = -ln max(1 - psi, eps)
 *     Gaussian:  nll = (psi - y)^2 / 2, kl = psi^2 / 2
 * The backward treats gamma as a constant (stop-gradient):
 *   dpsi = dloss[b] (gamma dnll/dpsi + inter_weight (1 - gamma) dkl/dpsi), the clamps passing
 *   the gradient where eps <= psi <= 1 - eps (nll) and 1 - psi >= eps (kl), as EG_UN_CLAMP does.
 * eps in [1e-30, 0.5) (else EG_ERR_INVALID), sigma > 0 for Gaussian, k >= 1, channels >= 1.
 * A host must not ask a 1.0 / 1.1 backend (smaller struct_size) for these kernels. */
typedef struct eg_mixture_args {
    eg_dtype dtype;
    int gaussian;
    int64_t batch, k, channels, pixels;
    double sigma, inter_weight, eps;
} eg_mixture_args;

/* Adam / Adamax update of one parameter in one pass (ABI 1.3; PyTorch's rules), over n
 * elements of p, its state m, v and its gradient g, in the dtype's arithmetic:
 *   m = b1 m + (1 - b1) g
 *   EG_ADAM:   v = b2 v + (1 - b2) g^2,        p = p - step m / (sqrt(v) inv_sqrt_bc2 + eps)
 *   EG_ADAMAX: v = max(b2 v, |g| + eps),       p = p - step m / v      (NaN wins the max)
 * with step = lr / (1 - b1^t) and inv_sqrt_bc2 = 1 / sqrt(1 - b2^t) for step t (the host's). */
typedef enum eg_adam_kind { EG_ADAM = 0, EG_ADAMAX = 1 } eg_adam_kind;
typedef struct eg_adam_args {
    eg_dtype dtype;
    eg_adam_kind kind;
    int64_t n;
    double step, b1, b2, eps, inv_sqrt_bc2;
} eg_adam_args;

typedef struct eg_backend_config {
    size_t struct_size;
    int threads;      /* 0: backend default */
    int device_index; /* GPU ordinal; ignored by CPU */
} eg_backend_config;

typedef struct eg_backend_desc {
    /* ---- ABI 1.0 ---- */
    uint32_t abi_major, abi_minor;
    uint32_t struct_size;
    const char *name;    /* "cpu", "cuda" */
    const char *summary; /* one line */

    /* 1 when usable here; otherwise 0 and a reason in buf ("cuda: no device"). */
    int (*available)(char *reason, size_t reason_cap);
    eg_status (*init)(const eg_backend_config *cfg, void **ctx);
    void (*shutdown)(void *ctx);
    /* human-readable device ("OpenBLAS 0.3.21 pthread, 2 threads", "NVIDIA H100") */
    const char *(*device_name)(void *ctx);

    /* memory */
    eg_status (*alloc)(void *ctx, size_t bytes, void **ptr);
    void (*free)(void *ctx, void *ptr);
    eg_status (*upload)(void *ctx, void *dst, const void *host_src, size_t bytes);
    eg_status (*download)(void *ctx, void *host_dst, const void *src, size_t bytes);
    eg_status (*copy)(void *ctx, void *dst, const void *src, size_t bytes);
    eg_status (*fill)(void *ctx, eg_dtype dt, void *dst, int64_t n, double value);
    eg_status (*sync)(void *ctx);

    /* dense algebra */
    eg_status (*gemm)(void *ctx, const eg_gemm_args *g);

    /* elementwise */
    eg_status (*unary)(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a,
                       double b);
    /* dx = dy * f'(x) for differentiable unary ops; y = f(x) is given for ops whose
     * derivative is cheaper from y (sigmoid, tanh, exp, sqrt). accumulate adds into dx. */
    eg_status (*unary_backward)(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, const void *y,
                                const void *dy, void *dx, double a, double b, int accumulate);
    eg_status (*binary)(void *ctx, const eg_bcast_args *args);

    /* reductions over the middle axis of a [outer, len, inner] view -> [outer, inner] */
    eg_status (*reduce)(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                        const void *x, void *y);
    /* (log-)softmax over the middle axis of [outer, len, inner] */
    eg_status (*softmax)(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y);
    /* given y = (log)softmax(x) and dy, dx = J^T dy (overwrites dx) */
    eg_status (*softmax_backward)(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len,
                                  int64_t inner, const void *y, const void *dy, void *dx);

    /* layout */
    /* out[i_perm...] = x[i...]: out dim j has x dim perm[j] */
    eg_status (*permute)(void *ctx, eg_dtype dt, int ndim, const int64_t *shape, const int *perm, const void *x,
                         void *out);
    /* copy a window along the middle axis: dst[o, dst_off+j, i] (+)= src[o, src_off+j, i], j < len.
     * src is [outer, src_len, inner], dst is [outer, dst_len, inner]. */
    eg_status (*slice)(void *ctx, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off, int64_t dst_len,
                       int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst, int accumulate);
    /* out[o, j, i] = x[o, idx[o?, j], i] along the middle axis of x [outer, len, inner];
     * idx is I32 [idx_outer, n_idx] with idx_outer either 1 (shared) or outer. */
    eg_status (*gather)(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                        int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);
    /* out[o, idx[o?, j], i] += src[o, j, i]; the inverse of gather, accumulating */
    eg_status (*scatter_add)(void *ctx, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *src,
                             int64_t idx_outer, int64_t n_idx, const int32_t *idx, void *out);

    /* convolutions */
    eg_status (*conv_forward)(void *ctx, const eg_conv_args *c, const void *x, const void *weight, void *y);
    eg_status (*conv_backward_input)(void *ctx, const eg_conv_args *c, const void *weight, const void *dy,
                                     void *dx);
    eg_status (*conv_backward_weight)(void *ctx, const eg_conv_args *c, const void *x, const void *dy,
                                      void *dweight);

    /* upsampling */
    eg_status (*upsample)(void *ctx, const eg_upsample_args *u, const void *x, void *y);
    eg_status (*upsample_backward)(void *ctx, const eg_upsample_args *u, const void *dy, void *dx);

    /* batched symmetric eigendecomposition: a is [batch, n, n] (symmetric, only read);
     * eigenvalues ascending into w [batch, n], eigenvectors as columns into v [batch, n, n]. */
    eg_status (*syev)(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v);

    /* random fill from Philox4x32-10, key = (seed lo, seed hi), counter =
     * (offset + i lo, offset + i hi, stream lo, stream hi) for element i; see
     * docs/architecture.md "Random numbers" for the exact word-to-value mapping. */
    eg_status (*rand)(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed,
                      uint64_t stream, uint64_t offset, double a, double b);

    /* ---- ABI 1.2 ---- */
    /* mixture E-step and per-sample loss (eg_mixture_args): gamma [batch, k, pixels], loss [batch] */
    eg_status (*mixture_estep)(void *ctx, const eg_mixture_args *m, const void *psi, const void *y, void *gamma,
                               void *loss);
    /* dpsi (+)= its gradient given dloss [batch] and the forward's gamma (held constant) */
    eg_status (*mixture_estep_backward)(void *ctx, const eg_mixture_args *m, const void *psi, const void *y,
                                        const void *gamma, const void *dloss, void *dpsi, int accumulate);

    /* ---- ABI 1.3 ---- */
    /* Adam / Adamax step of one parameter (eg_adam_args): p, m, v updated in place; optional
     * (NULL: the host composes the update from elementwise kernels) */
    eg_status (*adam_step)(void *ctx, const eg_adam_args *a, void *p, void *m, void *v, const void *g);

    /* ---- ABI 1.4 ---- */
    /* what kind of device this is (EG_BACKEND_* flags below); a backend older than 1.4 has none */
    uint32_t features;
    /* Optional kernels beyond this table (ggml's get_proc_address): the function named `name`,
     * or NULL when the backend has none of that name. Extra kernels are added here rather
     * than to the table, so one model's kernel does not grow every backend's ABI. A name
     * states its own signature (documented where the kernel is defined); NULL entry = none. */
    void *(*get_proc_address)(const char *name);
} eg_backend_desc;

/* eg_backend_desc.features */
enum {
    EG_BACKEND_HOST_MEMORY = 1u << 0, /* device memory is host memory (a CPU): cache-sized blocks pay off */
    EG_BACKEND_FAST_F64 = 1u << 1     /* float64 kernels run near float32 speed (a CPU, not a GPU) */
};

/* The single exported symbol of a backend plugin: define it with EG_BACKEND_PLUGIN(desc). */
typedef const eg_backend_desc *(*eg_backend_entry_fn)(void);
#define EG_BACKEND_ENTRY_SYMBOL "eg_backend_entry"
EG_API const eg_backend_desc *eg_backend_entry(void);
#define EG_BACKEND_PLUGIN(desc) \
    EG_API const eg_backend_desc *eg_backend_entry(void) { return &(desc); }

#ifdef __cplusplus
}
#endif
#endif
