/* ctx.c — the tensor context: backend binding, sticky errors, scopes.
 *
 * Errors are sticky (cairo's model): the first failure is kept with a message
 * naming the op and the shapes, and every later op returns the context's
 * placeholder (a scalar) without doing anything, so model code can check
 * eg_ctx_status() once per step. eg_ctx_clear_error() resumes.
 *
 * Scopes form a stack. Ops called with no scope open allocate into the
 * implicit root scope, which lives until eg_ctx_destroy: open a scope per step
 * (or per block) so a loop does not accumulate memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

#define EG_DEV_MIN_CHUNK ((size_t)16 << 20)
#define EG_HOST_MIN_CHUNK ((size_t)256 << 10)

/* ---- small shared helpers ---- */
size_t eg__dtype_size(eg_dtype dt) { return dt == EG_F64 ? 8 : 4; }

const char *eg__dtype_name(eg_dtype dt) {
    switch (dt) {
    case EG_F32: return "f32";
    case EG_F64: return "f64";
    case EG_I32: return "i32";
    }
    return "?";
}

int64_t eg__numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

const char *eg__dims_str(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld", (long long)shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

const char *eg__shape_str(const eg_tensor *t, char *buf, size_t cap) {
    if (!t) {
        snprintf(buf, cap, "NULL");
        return buf;
    }
    return eg__dims_str(t->ndim, t->shape, buf, cap);
}

int eg__norm_axis(int axis, int ndim) {
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return -1;
    return axis;
}

void eg__split(const eg_tensor *t, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    int64_t o = 1, in = 1;
    for (int i = 0; i < axis; i++) o *= t->shape[i];
    for (int i = axis + 1; i < t->ndim; i++) in *= t->shape[i];
    *outer = o;
    *len = t->shape[axis];
    *inner = in;
}

eg_ctx *eg__ctx_of(int n, eg_tensor *const *ts) {
    for (int i = 0; i < n; i++)
        if (ts[i]) return ts[i]->ctx;
    return NULL;
}

/* ---- errors ---- */
static void vfail(eg_ctx *ctx, eg_status st, const char *fmt, va_list ap) {
    if (ctx->status != EG_OK) return;
    ctx->status = st;
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
}

eg_status eg_ctx_fail(eg_ctx *ctx, eg_status status, const char *fmt, ...) {
    if (!ctx) return status;
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, status == EG_OK ? EG_ERR_INTERNAL : status, fmt, ap);
    va_end(ap);
    return status;
}

eg_tensor *eg__fail(eg_ctx *ctx, eg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, st, fmt, ap);
    va_end(ap);
    return ctx->placeholder;
}

int eg__be_ok(eg_ctx *ctx, eg_status st, const char *op, const char *kernel) {
    if (st == EG_OK) return 1;
    eg__fail(ctx, st, "%s: backend %s: kernel %s failed: %s", op, ctx->be->name, kernel, eg_strerror(st));
    return 0;
}

int eg__be_has(eg_ctx *ctx, const void *fn, const char *op, const char *kernel) {
    if (fn) return 1;
    eg__fail(ctx, EG_ERR_UNSUPPORTED, "%s: backend %s has no %s kernel", op, ctx->be->name, kernel);
    return 0;
}

eg_status eg_ctx_status(const eg_ctx *ctx) { return ctx ? ctx->status : EG_ERR_INVALID; }
const char *eg_ctx_message(const eg_ctx *ctx) { return ctx ? ctx->message : "no context"; }

void eg_ctx_clear_error(eg_ctx *ctx) {
    if (!ctx) return;
    ctx->status = EG_OK;
    ctx->message[0] = 0;
}

eg_status eg_ctx_sync(eg_ctx *ctx) {
    if (!ctx) return EG_ERR_INVALID;
    if (ctx->status) return ctx->status;
    if (!ctx->be->sync) return EG_OK;
    eg_status st = ctx->be->sync(ctx->bi);
    if (st) eg_ctx_fail(ctx, st, "eg_ctx_sync: backend %s: %s", ctx->be->name, eg_strerror(st));
    return st;
}

/* ---- arena providers ---- */
static int dev_get(void *u, size_t bytes, void **p) {
    eg_ctx *ctx = u;
    return ctx->be->alloc(ctx->bi, bytes, p) == EG_OK ? 0 : 1;
}
static void dev_put(void *u, void *p) {
    eg_ctx *ctx = u;
    ctx->be->free(ctx->bi, p);
}
static int host_get(void *u, size_t bytes, void **p) {
    (void)u;
    *p = malloc(bytes);
    return *p ? 0 : 1;
}
static void host_put(void *u, void *p) {
    (void)u;
    free(p);
}

void *eg__staging(eg_ctx *ctx, size_t bytes) {
    if (bytes > ctx->staging_cap) {
        size_t cap = ctx->staging_cap ? ctx->staging_cap : 4096;
        while (cap < bytes) cap *= 2;
        void *p = realloc(ctx->staging, cap);
        if (!p) {
            eg__fail(ctx, EG_ERR_NOMEM, "host staging buffer of %zu bytes", bytes);
            return NULL;
        }
        ctx->staging = p;
        ctx->staging_cap = cap;
    }
    return ctx->staging;
}

const void *eg__const(eg_ctx *ctx, eg_dtype dt, int one) {
    size_t off = dt == EG_F64 ? 8 + (one ? 8 : 0) : (one ? 4 : 0);
    return (const char *)ctx->consts + off;
}

/* ---- lifetime ---- */
eg_status eg_ctx_create(eg_backend *backend, eg_ctx **out) {
    if (!out) return EG_ERR_INVALID;
    *out = NULL;
    if (!backend || !backend->desc) return EG_ERR_INVALID;
    const eg_backend_desc *d = backend->desc;
    if (!d->alloc || !d->free || !d->upload || !d->download || !d->copy || !d->fill) return EG_ERR_ABI;
    eg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return EG_ERR_NOMEM;
    ctx->backend = backend;
    ctx->be = d;
    ctx->bi = backend->instance;
    eg__arena_init(&ctx->dev, 256, EG_DEV_MIN_CHUNK, dev_get, dev_put, ctx);
    eg__arena_init(&ctx->host, 16, EG_HOST_MIN_CHUNK, host_get, host_put, ctx);
    ctx->scope_cap = 16;
    ctx->scope_ids = calloc((size_t)ctx->scope_cap, sizeof *ctx->scope_ids);
    ctx->next_scope_id = 1;
    if (!ctx->scope_ids) {
        free(ctx);
        return EG_ERR_NOMEM;
    }
    /* constants: f32 {0, 1} at 0, f64 {0, 1} at 8 */
    unsigned char host[24];
    float f[2] = {0.0f, 1.0f};
    double g[2] = {0.0, 1.0};
    memcpy(host, f, 8);
    memcpy(host + 8, g, 16);
    eg_status st = d->alloc(ctx->bi, sizeof host, &ctx->consts);
    if (st == EG_OK) st = d->upload(ctx->bi, ctx->consts, host, sizeof host);
    if (st == EG_OK) {
        int64_t one = 1;
        ctx->placeholder = eg__new_persistent(ctx, EG_F32, 0, &one);
        if (ctx->status != EG_OK || !ctx->placeholder) st = ctx->status ? ctx->status : EG_ERR_NOMEM;
    }
    if (st != EG_OK) {
        ctx->status = EG_OK;
        eg_ctx_destroy(ctx);
        return st;
    }
    ctx->placeholder->flags |= EG_TF_PLACEHOLDER;
    d->fill(ctx->bi, EG_F32, ctx->placeholder->data, 1, 0.0);
    *out = ctx;
    return EG_OK;
}

void eg_ctx_destroy(eg_ctx *ctx) {
    if (!ctx) return;
    ctx->top = NULL;
    ctx->depth = 0;
    ctx->tape = NULL;
    while (ctx->persist) {
        eg_tensor *t = ctx->persist;
        t->flags &= ~(unsigned)EG_TF_PLACEHOLDER;
        eg_tensor_free(t);
    }
    eg__arena_release(&ctx->dev);
    eg__arena_release(&ctx->host);
    if (ctx->consts) ctx->be->free(ctx->bi, ctx->consts);
    free(ctx->staging);
    free(ctx->scope_ids);
    free(ctx);
}

eg_backend *eg_ctx_backend(eg_ctx *ctx) { return ctx ? ctx->backend : NULL; }
const eg_backend_desc *eg_ctx_backend_desc(eg_ctx *ctx) { return ctx ? ctx->be : NULL; }
void *eg_ctx_backend_instance(eg_ctx *ctx) { return ctx ? ctx->bi : NULL; }

/* ---- scopes ---- */
int eg__scope_alive(const eg_ctx *ctx, int depth, uint64_t id) {
    return depth <= ctx->depth && ctx->scope_ids[depth] == id;
}

eg_scope *eg_scope_open(eg_ctx *ctx) {
    if (!ctx) return NULL;
    if (ctx->depth + 1 >= ctx->scope_cap) {
        int cap = ctx->scope_cap * 2;
        uint64_t *ids = realloc(ctx->scope_ids, (size_t)cap * sizeof *ids);
        if (!ids) {
            eg__fail(ctx, EG_ERR_NOMEM, "eg_scope_open: scope stack of depth %d", cap);
            return NULL;
        }
        ctx->scope_ids = ids;
        ctx->scope_cap = cap;
    }
    /* the marks are taken before the scope record itself, so closing frees it too */
    eg_arena_mark hm = eg__arena_mark(&ctx->host), dm = eg__arena_mark(&ctx->dev);
    eg_scope *s = eg__arena_alloc(&ctx->host, sizeof *s);
    if (!s) {
        eg__fail(ctx, EG_ERR_NOMEM, "eg_scope_open: host arena");
        return NULL;
    }
    s->ctx = ctx;
    s->parent = ctx->top;
    s->host_mark = hm;
    s->dev_mark = dm;
    s->tape_mark = ctx->tape;
    s->depth = ctx->depth + 1;
    s->id = ctx->next_scope_id++;
    ctx->top = s;
    ctx->depth = s->depth;
    ctx->scope_ids[s->depth] = s->id;
    return s;
}

void eg_scope_close(eg_scope *scope) {
    if (!scope) return;
    eg_ctx *ctx = scope->ctx;
    /* closing an outer scope also closes the ones opened inside it */
    if (scope->depth > ctx->depth || ctx->scope_ids[scope->depth] != scope->id) return; /* already closed */
    eg_scope s = *scope; /* the record lives in the region being released */
    ctx->top = s.parent;
    ctx->depth = s.depth - 1;
    ctx->tape = s.tape_mark;
    eg__arena_reset(&ctx->host, s.host_mark);
    eg__arena_reset(&ctx->dev, s.dev_mark);
}
