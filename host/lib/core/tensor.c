/* tensor.c — tensor creation, persistent tensors, data movement, accessors,
 * clone and cast. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

static int check_shape(eg_ctx *ctx, const char *op, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > EG_MAX_DIMS) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: %d dims (at most %d)", op, ndim, EG_MAX_DIMS);
        return 0;
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) {
            char b[128];
            eg__fail(ctx, EG_ERR_INVALID, "%s: negative dim in %s", op, eg__dims_str(ndim, shape, b, sizeof b));
            return 0;
        }
    return 1;
}

static void init_header(eg_tensor *t, eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->numel = eg__numel(ndim, shape);
}

eg_tensor *eg__new(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!check_shape(ctx, "eg_empty", ndim, shape)) return ctx->placeholder;
    eg_tensor *t = eg__arena_alloc(&ctx->host, sizeof *t);
    if (!t) return eg__fail(ctx, EG_ERR_NOMEM, "host arena: tensor header");
    init_header(t, ctx, dt, ndim, shape);
    size_t bytes = (size_t)t->numel * eg__dtype_size(dt);
    t->data = eg__arena_alloc(&ctx->dev, bytes);
    if (!t->data) {
        char b[128];
        return eg__fail(ctx, EG_ERR_NOMEM, "device arena: %zu bytes for a %s %s tensor (backend %s)", bytes,
                        eg__dtype_name(dt), eg__dims_str(ndim, shape, b, sizeof b), ctx->be->name);
    }
    return t;
}

eg_tensor *eg__view(eg_tensor *x, int ndim, const int64_t *shape) {
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    eg_tensor *t = eg__arena_alloc(&ctx->host, sizeof *t);
    if (!t) return eg__fail(ctx, EG_ERR_NOMEM, "host arena: tensor header");
    init_header(t, ctx, x->dtype, ndim, shape);
    t->data = x->data;
    t->flags = EG_TF_VIEW;
    return t;
}

static eg_tensor *persistent_alloc(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, int link) {
    eg_tensor *t = malloc(sizeof *t);
    if (!t) return eg__fail(ctx, EG_ERR_NOMEM, "persistent tensor header");
    init_header(t, ctx, dt, ndim, shape);
    t->flags = EG_TF_PERSISTENT;
    size_t bytes = (size_t)t->numel * eg__dtype_size(dt);
    eg_status st = ctx->be->alloc(ctx->bi, bytes ? bytes : 1, &t->data);
    if (st != EG_OK || !t->data) {
        free(t);
        char b[128];
        return eg__fail(ctx, st ? st : EG_ERR_NOMEM, "eg_persistent: %zu bytes for a %s %s tensor (backend %s)",
                        bytes, eg__dtype_name(dt), eg__dims_str(ndim, shape, b, sizeof b), ctx->be->name);
    }
    ctx->persist_allocs++;
    if (link) {
        t->pnext = ctx->persist;
        if (ctx->persist) ctx->persist->pprev = t;
        ctx->persist = t;
    }
    return t;
}

eg_tensor *eg__new_persistent(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!check_shape(ctx, "eg_persistent", ndim, shape)) return ctx->placeholder;
    return persistent_alloc(ctx, dt, ndim, shape, 1);
}

eg_tensor *eg__new_persistent_grad(eg_tensor *t) {
    if (eg__failed(t->ctx)) return NULL;
    eg_tensor *g = persistent_alloc(t->ctx, t->dtype, t->ndim, t->shape, 0);
    return g == t->ctx->placeholder ? NULL : g;
}

void eg_tensor_free(eg_tensor *t) {
    if (!t || !(t->flags & EG_TF_PERSISTENT) || (t->flags & EG_TF_PLACEHOLDER)) return;
    eg_ctx *ctx = t->ctx;
    if (t->grad && (t->grad->flags & EG_TF_PERSISTENT)) {
        ctx->be->free(ctx->bi, t->grad->data);
        free(t->grad);
    }
    if (t->pprev) t->pprev->pnext = t->pnext;
    else if (ctx->persist == t) ctx->persist = t->pnext;
    if (t->pnext) t->pnext->pprev = t->pprev;
    ctx->be->free(ctx->bi, t->data);
    free(t);
}

static int fill_raw(eg_ctx *ctx, eg_tensor *t, double v, const char *op) {
    if (t->numel == 0) return 1;
    return eg__be_ok(ctx, ctx->be->fill(ctx->bi, t->dtype, t->data, t->numel, v), op, "fill");
}

eg_tensor *eg_empty(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) { return eg__new(ctx, dt, ndim, shape); }

eg_tensor *eg_full(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, double value) {
    eg_tensor *t = eg__new(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!fill_raw(ctx, t, value, "eg_full")) return ctx->placeholder;
    return t;
}

eg_tensor *eg_zeros(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    return eg_full(ctx, dt, ndim, shape, 0.0);
}

eg_tensor *eg_scalar(eg_ctx *ctx, eg_dtype dt, double value) { return eg_full(ctx, dt, 0, NULL, value); }

eg_tensor *eg_from_host(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, const void *data) {
    eg_tensor *t = eg__new(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    size_t bytes = (size_t)t->numel * eg__dtype_size(dt);
    if (bytes && !eg__be_ok(ctx, ctx->be->upload(ctx->bi, t->data, data, bytes), "eg_from_host", "upload"))
        return ctx->placeholder;
    return t;
}

/* converts n values between host representations */
static void convert(eg_dtype from, const void *src, eg_dtype to, void *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = from == EG_F32 ? ((const float *)src)[i]
                 : from == EG_F64 ? ((const double *)src)[i]
                                  : (double)((const int32_t *)src)[i];
        if (to == EG_F32) ((float *)dst)[i] = (float)v;
        else if (to == EG_F64) ((double *)dst)[i] = v;
        else ((int32_t *)dst)[i] = (int32_t)v;
    }
}

static int upload_converted(eg_ctx *ctx, eg_tensor *t, eg_dtype from, const void *src, const char *op) {
    if (t->numel == 0) return 1;
    if (from == t->dtype)
        return eg__be_ok(ctx, ctx->be->upload(ctx->bi, t->data, src, (size_t)t->numel * eg__dtype_size(from)),
                         op, "upload");
    size_t bytes = (size_t)t->numel * eg__dtype_size(t->dtype);
    void *buf = eg__staging(ctx, bytes);
    if (!buf) return 0;
    convert(from, src, t->dtype, buf, t->numel);
    return eg__be_ok(ctx, ctx->be->upload(ctx->bi, t->data, buf, bytes), op, "upload");
}

eg_tensor *eg_from_f32(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape, const float *data) {
    eg_tensor *t = eg__new(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!upload_converted(ctx, t, EG_F32, data, "eg_from_f32")) return ctx->placeholder;
    return t;
}

eg_tensor *eg_persistent(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    eg_tensor *t = eg__new_persistent(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!fill_raw(ctx, t, 0.0, "eg_persistent")) return ctx->placeholder;
    return t;
}

eg_tensor *eg_param(eg_ctx *ctx, eg_dtype dt, int ndim, const int64_t *shape) {
    eg_tensor *t = eg_persistent(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!eg__is_float(dt)) {
        eg_tensor_free(t);
        return eg__fail(ctx, EG_ERR_INVALID, "eg_param: dtype %s cannot require a gradient", eg__dtype_name(dt));
    }
    t->flags |= EG_TF_REQUIRES_GRAD;
    return t;
}

/* ---- data movement ---- */
eg_status eg_to_host(const eg_tensor *t, void *dst) {
    if (!t) return EG_ERR_INVALID;
    eg_ctx *ctx = t->ctx;
    if (ctx->status) return ctx->status;
    size_t bytes = (size_t)t->numel * eg__dtype_size(t->dtype);
    if (!bytes) return EG_OK;
    eg_status st = ctx->be->download(ctx->bi, dst, t->data, bytes);
    if (st) eg__be_ok(ctx, st, "eg_to_host", "download");
    return st;
}

static eg_status to_host_as(const eg_tensor *t, eg_dtype to, void *dst, const char *op) {
    if (!t) return EG_ERR_INVALID;
    eg_ctx *ctx = t->ctx;
    if (ctx->status) return ctx->status;
    if (t->dtype == to) return eg_to_host(t, dst);
    size_t bytes = (size_t)t->numel * eg__dtype_size(t->dtype);
    if (!bytes) return EG_OK;
    void *buf = eg__staging(ctx, bytes);
    if (!buf) return ctx->status;
    eg_status st = ctx->be->download(ctx->bi, buf, t->data, bytes);
    if (st) {
        eg__be_ok(ctx, st, op, "download");
        return st;
    }
    convert(t->dtype, buf, to, dst, t->numel);
    return EG_OK;
}

eg_status eg_to_host_f32(const eg_tensor *t, float *dst) { return to_host_as(t, EG_F32, dst, "eg_to_host_f32"); }
eg_status eg_to_host_f64(const eg_tensor *t, double *dst) { return to_host_as(t, EG_F64, dst, "eg_to_host_f64"); }

double eg_item(const eg_tensor *t) {
    if (!t || t->ctx->status || t->numel < 1) return NAN;
    eg_ctx *ctx = t->ctx;
    unsigned char buf[8];
    eg_status st = ctx->be->download(ctx->bi, buf, t->data, eg__dtype_size(t->dtype));
    if (st) {
        eg__be_ok(ctx, st, "eg_item", "download");
        return NAN;
    }
    double v;
    convert(t->dtype, buf, EG_F64, &v, 1);
    return v;
}

eg_status eg_assign(eg_tensor *dst, const eg_tensor *src) {
    if (!dst || !src) return EG_ERR_INVALID;
    eg_ctx *ctx = dst->ctx;
    if (ctx->status) return ctx->status;
    if (dst->dtype != src->dtype || dst->numel != src->numel) {
        char a[128], b[128];
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_assign: %s %s <- %s %s: dtype or size differ",
                           eg__dtype_name(dst->dtype), eg__shape_str(dst, a, sizeof a), eg__dtype_name(src->dtype),
                           eg__shape_str(src, b, sizeof b));
    }
    if (dst->data == src->data || !dst->numel) return EG_OK;
    eg_status st = ctx->be->copy(ctx->bi, dst->data, src->data, (size_t)dst->numel * eg__dtype_size(dst->dtype));
    if (st) eg__be_ok(ctx, st, "eg_assign", "copy");
    return st;
}

eg_status eg_fill(eg_tensor *dst, double value) {
    if (!dst) return EG_ERR_INVALID;
    eg_ctx *ctx = dst->ctx;
    if (ctx->status) return ctx->status;
    return fill_raw(ctx, dst, value, "eg_fill") ? EG_OK : ctx->status;
}

eg_tensor *eg_clone(const eg_tensor *t) {
    if (!t) return NULL;
    eg_ctx *ctx = t->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    eg_tensor *c = eg__new(ctx, t->dtype, t->ndim, t->shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (eg_assign(c, t) != EG_OK) return ctx->placeholder;
    return c;
}

/* ---- cast: through host memory (the backend ABI has no conversion kernel) ---- */
static int cast_raw(eg_ctx *ctx, const eg_tensor *x, eg_tensor *y) {
    if (!x->numel) return 1;
    size_t bx = (size_t)x->numel * eg__dtype_size(x->dtype), by = (size_t)x->numel * eg__dtype_size(y->dtype);
    size_t bx_al = (bx + 15) & ~(size_t)15; /* the converted values start aligned */
    char *buf = eg__staging(ctx, bx_al + by);
    if (!buf) return 0;
    if (!eg__be_ok(ctx, ctx->be->download(ctx->bi, buf, x->data, bx), "eg_cast", "download")) return 0;
    convert(x->dtype, buf, y->dtype, buf + bx_al, x->numel);
    return eg__be_ok(ctx, ctx->be->upload(ctx->bi, y->data, buf + bx_al, by), "eg_cast", "upload");
}

static void cast_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    eg_tensor *g = eg__new(x->ctx, x->dtype, x->ndim, x->shape);
    if (eg__failed(x->ctx) || !cast_raw(x->ctx, gy, g)) return;
    eg__grad_add(x, g, 1);
}

eg_tensor *eg_cast(const eg_tensor *t, eg_dtype dt) {
    if (!t) return NULL;
    eg_ctx *ctx = t->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (t->dtype == dt) {
        /* a view, so the gradient still flows */
        eg_tensor *x = (eg_tensor *)t;
        return eg_reshape(x, x->ndim, x->shape);
    }
    eg_tensor *y = eg__new(ctx, dt, t->ndim, t->shape);
    if (eg__failed(ctx) || !cast_raw(ctx, t, y)) return ctx->placeholder;
    if (eg__is_float(dt) && eg__is_float(t->dtype)) {
        eg_tensor *in = (eg_tensor *)t;
        eg__record(y, cast_backward, "eg_cast", 1, &in);
    }
    return y;
}

/* ---- accessors ---- */
int eg_ndim(const eg_tensor *t) { return t ? t->ndim : 0; }
int64_t eg_dim(const eg_tensor *t, int axis) {
    if (!t) return 0;
    int a = eg__norm_axis(axis, t->ndim);
    return a < 0 ? 0 : t->shape[a];
}
const int64_t *eg_shape(const eg_tensor *t) { return t ? t->shape : NULL; }
int64_t eg_numel(const eg_tensor *t) { return t ? t->numel : 0; }
eg_dtype eg_dtype_of(const eg_tensor *t) { return t ? t->dtype : EG_F32; }
eg_ctx *eg_tensor_ctx(const eg_tensor *t) { return t ? t->ctx : NULL; }
void *eg_data(eg_tensor *t) { return t ? t->data : NULL; }
