/* ops_index.c — gathers and scatters along an axis (embedding lookups, per-row
 * picks), with backward through the gather/scatter_add kernels. */
#include <string.h>

#include "core_internal.h"

static int check_index(eg_ctx *ctx, const char *op, const eg_tensor *x, int axis, const eg_tensor *idx, int *a) {
    char sx[128];
    if (!idx) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: NULL index", op);
        return 0;
    }
    if (idx->dtype != EG_I32) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: index dtype %s (expected i32)", op, eg__dtype_name(idx->dtype));
        return 0;
    }
    *a = eg__norm_axis(axis, x->ndim);
    if (*a < 0) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: axis %d out of range for %s", op, axis, eg__shape_str(x, sx, sizeof sx));
        return 0;
    }
    return 1;
}

/* idx_outer = 1 (shared row list) or outer (per-row picks) */
static void gather_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0], *idx = n->aux;
    eg_ctx *ctx = x->ctx;
    int64_t outer, len, inner;
    eg__split(x, (int)n->p.s.i[0], &outer, &len, &inner);
    eg_tensor *dx = eg__grad_zeroed(x);
    if (!dx || !gy->numel || !EG_BE_HAS(ctx, scatter_add, n->op)) return;
    eg__be_ok(ctx,
              ctx->be->scatter_add(ctx->bi, x->dtype, outer, len, inner, gy->data, n->p.s.i[1], n->p.s.i[2],
                                   idx->data, dx->data),
              n->op, "scatter_add");
}

static eg_tensor *gather(eg_tensor *x, int a, eg_tensor *idx, int64_t idx_outer, int64_t n_idx, const char *op) {
    eg_ctx *ctx = x->ctx;
    int64_t outer, len, inner, s[EG_MAX_DIMS];
    eg__split(x, a, &outer, &len, &inner);
    memcpy(s, x->shape, sizeof s);
    s[a] = n_idx;
    eg_tensor *y = eg__new(ctx, x->dtype, x->ndim, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (y->numel) {
        if (!EG_BE_HAS(ctx, gather, op)) return ctx->placeholder;
        if (!eg__be_ok(ctx,
                       ctx->be->gather(ctx->bi, x->dtype, outer, len, inner, x->data, idx_outer, n_idx, idx->data,
                                       y->data),
                       op, "gather"))
            return ctx->placeholder;
    }
    if (eg__is_float(x->dtype)) {
        eg_node *nd = eg__record(y, gather_backward, op, 1, &x);
        if (nd) {
            nd->aux = idx;
            nd->p.s.i[0] = a;
            nd->p.s.i[1] = idx_outer;
            nd->p.s.i[2] = n_idx;
        }
    }
    return y;
}

eg_tensor *eg_index_select(eg_tensor *x, int axis, eg_tensor *index) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    int a;
    if (!check_index(ctx, "eg_index_select", x, axis, index, &a)) return ctx->placeholder;
    if (index->ndim != 1) {
        char si[128];
        return eg__fail(ctx, EG_ERR_INVALID, "eg_index_select: index must be 1-D, got %s",
                        eg__shape_str(index, si, sizeof si));
    }
    return gather(x, a, index, 1, index->shape[0], "eg_index_select");
}

eg_tensor *eg_take_along(eg_tensor *x, int axis, eg_tensor *index) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    int a;
    if (!check_index(ctx, "eg_take_along", x, axis, index, &a)) return ctx->placeholder;
    int ok = index->ndim == a + 1;
    for (int i = 0; ok && i < a; i++) ok = index->shape[i] == x->shape[i];
    if (!ok) {
        char sx[128], si[128];
        return eg__fail(ctx, EG_ERR_INVALID,
                        "eg_take_along: index %s must have the shape of %s up to axis %d plus its own length",
                        eg__shape_str(index, si, sizeof si), eg__shape_str(x, sx, sizeof sx), a);
    }
    int64_t outer, len, inner;
    eg__split(x, a, &outer, &len, &inner);
    return gather(x, a, index, outer, index->shape[a], "eg_take_along");
}

/* ---- index_add: zeros of like's shape, src rows added at index ---- */
static void index_add_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *src = n->in[0];
    int a = (int)n->p.s.i[0];
    eg_ctx *ctx = src->ctx;
    int64_t outer, len, inner;
    eg__split(gy, a, &outer, &len, &inner);
    eg_tensor *g = eg__new(ctx, src->dtype, src->ndim, src->shape);
    if (eg__failed(ctx) || !g->numel || !EG_BE_HAS(ctx, gather, n->op)) return;
    if (!eg__be_ok(ctx,
                   ctx->be->gather(ctx->bi, gy->dtype, outer, len, inner, gy->data, 1, src->shape[a], n->aux->data,
                                   g->data),
                   n->op, "gather"))
        return;
    eg__grad_add(src, g, 1);
}

eg_tensor *eg_index_add(eg_tensor *like, int axis, eg_tensor *index, eg_tensor *src) {
    if (!like || !src) return like ? like->ctx->placeholder : src ? src->ctx->placeholder : NULL;
    eg_ctx *ctx = like->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    int a;
    if (!check_index(ctx, "eg_index_add", like, axis, index, &a)) return ctx->placeholder;
    char sl[128], ss[128], si[128];
    int ok = index->ndim == 1 && src->ndim == like->ndim && src->dtype == like->dtype;
    for (int i = 0; ok && i < like->ndim; i++) ok = i == a ? src->shape[i] == index->shape[0] : src->shape[i] == like->shape[i];
    if (!ok)
        return eg__fail(ctx, EG_ERR_INVALID, "eg_index_add: src %s and index %s do not fit %s along axis %d",
                        eg__shape_str(src, ss, sizeof ss), eg__shape_str(index, si, sizeof si),
                        eg__shape_str(like, sl, sizeof sl), a);
    eg_tensor *y = eg_zeros(ctx, like->dtype, like->ndim, like->shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    int64_t outer, len, inner;
    eg__split(like, a, &outer, &len, &inner);
    if (src->numel) {
        if (!EG_BE_HAS(ctx, scatter_add, "eg_index_add")) return ctx->placeholder;
        if (!eg__be_ok(ctx,
                       ctx->be->scatter_add(ctx->bi, src->dtype, outer, len, inner, src->data, 1, index->shape[0],
                                            index->data, y->data),
                       "eg_index_add", "scatter_add"))
            return ctx->placeholder;
    }
    if (eg__is_float(src->dtype)) {
        eg_node *nd = eg__record(y, index_add_backward, "eg_index_add", 1, &src);
        if (nd) {
            nd->aux = index;
            nd->p.s.i[0] = a;
        }
    }
    return y;
}
