/* core_internal.h — private structures of libengram's numerical core: the
 * context, its arenas and scopes, tensors, tape nodes, and the helpers the op
 * files share. Not installed; plugins see only include/engram/tensor.h.
 *
 * Memory model
 *  - Scoped tensors: header and tape nodes in the host arena, data in the device
 *    arena (large chunks from backend->alloc). A scope records both arenas' marks
 *    and the tape tail; closing it resets them. Chunks are kept, so a step that
 *    repeats the same allocations never calls backend->alloc in steady state.
 *  - With no scope open, ops allocate into the implicit root scope (depth 0),
 *    which lives until eg_ctx_destroy.
 *  - Persistent tensors (eg_persistent, eg_param, gradients of persistent
 *    leaves) are malloc'ed headers with their own backend allocation, kept on a
 *    list in the context and freed by eg_tensor_free or eg_ctx_destroy.
 *
 * Autograd
 *  - A node is recorded (host arena, linked to the previous tape tail) only when
 *    an input needs a gradient and no no-grad region is active.
 *  - eg_backward walks the tape backwards from the loss's node. A node's output
 *    gradient is final when the walk reaches it (consumers are always recorded
 *    later). Gradients of intermediates are dropped after the walk; gradients of
 *    scoped leaves live in the scope current at backward time (eg_grad returns
 *    NULL once that scope closed); gradients of persistent leaves are persistent
 *    and accumulate until eg_zero_grad. Backward functions run with recording
 *    disabled and may use the public ops. */
#ifndef EG_CORE_INTERNAL_H
#define EG_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "engram/nn.h"
#include "engram/tensor.h"
#include "registry/loader.h"

/* ---- arenas ---- */
typedef struct eg_arena_chunk {
    void *ptr;
    size_t size;
} eg_arena_chunk;

typedef struct eg_arena_mark {
    int chunk;
    size_t off;
} eg_arena_mark;

typedef struct eg_arena {
    eg_arena_chunk *chunks;
    int n, cap;
    int cur;       /* chunk being filled */
    size_t off;    /* bytes used in chunks[cur] */
    size_t align;  /* power of two */
    size_t min_chunk;
    size_t reserved; /* sum of chunk sizes */
    int64_t grows;   /* chunk allocations ever made */
    /* chunk provider: returns 0 on success */
    int (*get)(void *user, size_t bytes, void **ptr);
    void (*put)(void *user, void *ptr);
    void *user;
} eg_arena;

void eg__arena_init(eg_arena *a, size_t align, size_t min_chunk, int (*get)(void *, size_t, void **),
                    void (*put)(void *, void *), void *user);
/* NULL when the provider fails */
void *eg__arena_alloc(eg_arena *a, size_t bytes);
eg_arena_mark eg__arena_mark(const eg_arena *a);
void eg__arena_reset(eg_arena *a, eg_arena_mark m);
void eg__arena_release(eg_arena *a); /* returns every chunk to the provider */
size_t eg__arena_used(const eg_arena *a); /* bytes below the current position (incl. skipped tails) */

/* ---- tensors ---- */
enum {
    EG_TF_PERSISTENT = 1u,
    EG_TF_REQUIRES_GRAD = 2u,
    EG_TF_VIEW = 4u, /* shares another tensor's data */
    EG_TF_PLACEHOLDER = 8u
};

typedef struct eg_node eg_node;

struct eg_tensor {
    eg_ctx *ctx;
    void *data;
    int64_t shape[EG_MAX_DIMS];
    int64_t numel;
    int ndim;
    eg_dtype dtype;
    unsigned flags;
    int grad_live;       /* persistent: reached by a backward since the last zero_grad */
    eg_tensor *grad;
    uint64_t grad_scope; /* scoped leaf: id of the scope holding grad */
    int grad_depth;
    eg_node *node;       /* producing op, NULL for leaves */
    eg_tensor *pnext, *pprev; /* persistent list */
};

/* ---- tape ---- */
typedef void (*eg_backward_fn)(eg_node *n, eg_tensor *gy);

struct eg_node {
    eg_node *prev;
    eg_backward_fn backward;
    const char *op;
    eg_tensor *out;
    eg_tensor **in;
    int n_in;
    eg_tensor *aux; /* an extra saved tensor (indices) */
    union {
        struct {
            double f[4];
            int64_t i[8];
        } s;
        eg_conv_args conv;
        eg_upsample_args up;
    } p;
};

struct eg_scope {
    eg_ctx *ctx;
    eg_scope *parent;
    eg_arena_mark host_mark, dev_mark;
    eg_node *tape_mark;
    int depth;
    uint64_t id;
};

struct eg_ctx {
    eg_backend *backend;
    const eg_backend_desc *be;
    void *bi; /* backend instance */
    eg_status status;
    char message[1024];
    eg_arena dev, host;
    eg_scope *top; /* innermost open scope, NULL = root */
    int depth;
    uint64_t *scope_ids; /* id of the open scope at each depth; [0] = root */
    int scope_cap;
    uint64_t next_scope_id;
    eg_node *tape;
    int no_grad;
    int64_t bw_pending; /* intermediates holding a gradient not yet propagated */
    eg_tensor *placeholder;
    eg_tensor *persist; /* list head */
    void *consts;       /* device: f32 {0, 1}, f64 {0, 1} */
    void *staging;      /* host scratch for conversions */
    size_t staging_cap;
    int64_t persist_allocs; /* backend allocations made for persistent tensors */
};

/* ---- helpers shared by the op files ---- */
size_t eg__dtype_size(eg_dtype dt);
const char *eg__dtype_name(eg_dtype dt);
static inline int eg__is_float(eg_dtype dt) { return dt == EG_F32 || dt == EG_F64; }
int64_t eg__numel(int ndim, const int64_t *shape);
/* "[3,4]" into buf */
const char *eg__shape_str(const eg_tensor *t, char *buf, size_t cap);
const char *eg__dims_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* records an error (first wins) and returns the context's placeholder */
eg_tensor *eg__fail(eg_ctx *ctx, eg_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* when ctx is failed: returns 1 (caller returns the placeholder) */
static inline int eg__failed(const eg_ctx *ctx) { return ctx->status != EG_OK; }
/* checks a backend status: 1 when OK, else records "<op>: backend <kernel> failed: ..." */
/* the backend's raw table: for the host's own layers (and tests), never a plugin */
const eg_backend_desc *eg_ctx_backend_desc(eg_ctx *ctx);

int eg__be_ok(eg_ctx *ctx, eg_status st, const char *op, const char *kernel);
/* a missing kernel slot: records EG_ERR_UNSUPPORTED, returns 0 */
int eg__be_has(eg_ctx *ctx, const void *fn, const char *op, const char *kernel);
#define EG_BE_HAS(ctx, kernel, op) eg__be_has((ctx), (const void *)(ctx)->be->kernel, (op), #kernel)

/* a new tensor of the current scope (uninitialised data); placeholder on failure */
eg_tensor *eg__new(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape);
/* a view header of the current scope on t's data with a new shape (same numel) */
eg_tensor *eg__view(eg_tensor *t, int ndim, const int64_t *shape);
/* persistent tensor (uninitialised data) */
eg_tensor *eg__new_persistent(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape);
/* persistent gradient buffer for t, owned by t (not on the context's list); NULL on failure */
eg_tensor *eg__new_persistent_grad(eg_tensor *t);
void *eg__staging(eg_ctx *ctx, size_t bytes);
/* device scalar 0 or 1 of a float dtype */
const void *eg__const(eg_ctx *ctx, eg_dtype dt, int one);
/* ctx of the first non-NULL tensor */
eg_ctx *eg__ctx_of(int n, eg_tensor *const *ts);
int eg__norm_axis(int axis, int ndim);
/* outer = prod(shape[:axis]), inner = prod(shape[axis+1:]) */
void eg__split(const eg_tensor *t, int axis, int64_t *outer, int64_t *len, int64_t *inner);

/* raw broadcasting binary: out (shape os, nd on) = a op b; shapes must broadcast to out */
int eg__binary_raw(eg_ctx *ctx, const char *opname, eg_binary_op op, eg_dtype dt, int na, const int64_t *sa,
                   const void *a, int nb, const int64_t *sb, const void *b, int no, const int64_t *so, void *out);
/* numpy broadcast of two shapes; 0 when incompatible */
int eg__bcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb, int *no, int64_t *so);

/* fills t from the stream and advances rng->offset by numel (rng.c) */
eg_status eg__rand_fill(eg_tensor *t, eg_rng *rng, eg_rand_kind kind, double a, double b, const char *op);

/* the context of a parameter set (nn_params.c) */
eg_ctx *eg__params_ctx(const eg_params *ps);

/* ---- autograd ---- */
int eg__any_needs_grad(int n, eg_tensor *const *in);
/* records a node for out when some input needs grad; returns it or NULL */
eg_node *eg__record(eg_tensor *out, eg_backward_fn bw, const char *op, int n_in, eg_tensor *const *in);
/* t's gradient buffer for a kernel to write into; *fresh = 1 when it was just
 * created (contents undefined: overwrite), 0 when it must be accumulated into */
eg_tensor *eg__grad_slot(eg_tensor *t, int *fresh);
/* same, zero-filled when fresh (for accumulate-only kernels) */
eg_tensor *eg__grad_zeroed(eg_tensor *t);
/* adds g into t's gradient. g's shape may equal t's, be a broadcast of t's
 * (summed back) or broadcast to t's (expanded). adopt: g is a dead temporary
 * that t may keep as its gradient without a copy. */
void eg__grad_add(eg_tensor *t, eg_tensor *g, int adopt);
int eg__grad_valid(const eg_tensor *t);

/* ---- scopes (for internal multi-op updates) ---- */
int eg__scope_alive(const eg_ctx *ctx, int depth, uint64_t id);


#endif
