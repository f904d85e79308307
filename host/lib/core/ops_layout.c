/* ops_layout.c — reshape (a view), permute, narrow, concat, expand; backward. */
#include <string.h>

#include "core_internal.h"

/* ---- reshape ---- */
static void reshape_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    eg__grad_add(x, eg__view(gy, x->ndim, x->shape), 1);
}

eg_tensor *eg_reshape(eg_tensor *x, int ndim, const int64_t *shape) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sx[128], ss[128];
    if (ndim < 0 || ndim > EG_MAX_DIMS)
        return eg__fail(ctx, EG_ERR_INVALID, "eg_reshape: %d dims (at most %d)", ndim, EG_MAX_DIMS);
    int64_t s[EG_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1) {
            if (infer >= 0)
                return eg__fail(ctx, EG_ERR_INVALID, "eg_reshape: more than one -1 in %s",
                                eg__dims_str(ndim, shape, ss, sizeof ss));
            infer = i;
        } else if (s[i] < 0) {
            return eg__fail(ctx, EG_ERR_INVALID, "eg_reshape: negative dim in %s",
                            eg__dims_str(ndim, shape, ss, sizeof ss));
        } else known *= s[i];
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known)
            return eg__fail(ctx, EG_ERR_INVALID, "eg_reshape: cannot reshape %s to %s", eg__shape_str(x, sx, sizeof sx),
                            eg__dims_str(ndim, shape, ss, sizeof ss));
        s[infer] = x->numel / known;
        known *= s[infer];
    }
    if (known != x->numel)
        return eg__fail(ctx, EG_ERR_INVALID, "eg_reshape: cannot reshape %s (%lld elements) to %s",
                        eg__shape_str(x, sx, sizeof sx), (long long)x->numel, eg__dims_str(ndim, shape, ss, sizeof ss));
    eg_tensor *y = eg__view(x, ndim, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    eg__record(y, reshape_backward, "eg_reshape", 1, &x);
    return y;
}

eg_tensor *eg_flatten(eg_tensor *x, int start_axis) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    int a = start_axis < 0 ? start_axis + x->ndim : start_axis;
    if (a < 0 || a > x->ndim) {
        char sx[128];
        return eg__fail(ctx, EG_ERR_INVALID, "eg_flatten: start axis %d out of range for %s", start_axis,
                        eg__shape_str(x, sx, sizeof sx));
    }
    if (a == x->ndim) return eg_reshape(x, x->ndim, x->shape);
    int64_t s[EG_MAX_DIMS];
    for (int i = 0; i < a; i++) s[i] = x->shape[i];
    int64_t rest = 1;
    for (int i = a; i < x->ndim; i++) rest *= x->shape[i];
    s[a] = rest;
    return eg_reshape(x, a + 1, s);
}

/* ---- permute ---- */
static void permute_backward(eg_node *n, eg_tensor *gy) {
    int perm[EG_MAX_DIMS], inv[EG_MAX_DIMS];
    int nd = n->out->ndim;
    for (int i = 0; i < nd; i++) perm[i] = (int)n->p.s.i[i];
    for (int i = 0; i < nd; i++) inv[perm[i]] = i;
    eg__grad_add(n->in[0], eg_permute(gy, inv), 1);
}

eg_tensor *eg_permute(eg_tensor *x, const int *perm) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sx[128];
    int seen[EG_MAX_DIMS] = {0}, identity = 1;
    int64_t s[EG_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        if (!perm || perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]++)
            return eg__fail(ctx, EG_ERR_INVALID, "eg_permute: invalid permutation for %s",
                            eg__shape_str(x, sx, sizeof sx));
        s[i] = x->shape[perm[i]];
        if (perm[i] != i) identity = 0;
    }
    if (identity) return eg_reshape(x, x->ndim, x->shape);
    if (!EG_BE_HAS(ctx, permute, "eg_permute")) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, x->dtype, x->ndim, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (x->numel && !eg__be_ok(ctx, ctx->be->permute(ctx->bi, x->dtype, x->ndim, x->shape, perm, x->data, y->data),
                               "eg_permute", "permute"))
        return ctx->placeholder;
    eg_node *nd = eg__record(y, permute_backward, "eg_permute", 1, &x);
    if (nd)
        for (int i = 0; i < x->ndim; i++) nd->p.s.i[i] = perm[i];
    return y;
}

eg_tensor *eg_transpose(eg_tensor *x, int axis0, int axis1) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    int a = eg__norm_axis(axis0, x->ndim), b = eg__norm_axis(axis1, x->ndim);
    if (a < 0 || b < 0) {
        char sx[128];
        return eg__fail(ctx, EG_ERR_INVALID, "eg_transpose: axes %d, %d out of range for %s", axis0, axis1,
                        eg__shape_str(x, sx, sizeof sx));
    }
    int perm[EG_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a] = b;
    perm[b] = a;
    return eg_permute(x, perm);
}

/* ---- narrow / concat (slice kernel along the middle axis of [outer, len, inner]) ---- */
static int slice_raw(eg_ctx *ctx, const char *op, eg_dtype dt, int64_t outer, int64_t src_len, int64_t src_off,
                     int64_t dst_len, int64_t dst_off, int64_t len, int64_t inner, const void *src, void *dst,
                     int acc) {
    if (!outer || !len || !inner) return 1;
    if (!EG_BE_HAS(ctx, slice, op)) return 0;
    return eg__be_ok(ctx,
                     ctx->be->slice(ctx->bi, dt, outer, src_len, src_off, dst_len, dst_off, len, inner, src, dst, acc),
                     op, "slice");
}

static void narrow_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    int axis = (int)n->p.s.i[0];
    int64_t start = n->p.s.i[1], len = n->p.s.i[2], outer, xl, inner;
    eg__split(x, axis, &outer, &xl, &inner);
    eg_tensor *dx = eg__grad_zeroed(x);
    if (!dx) return;
    slice_raw(x->ctx, n->op, x->dtype, outer, len, 0, xl, start, len, inner, gy->data, dx->data, 1);
}

eg_tensor *eg_narrow(eg_tensor *x, int axis, int64_t start, int64_t len) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sx[128];
    int a = eg__norm_axis(axis, x->ndim);
    if (a < 0 || start < 0 || len < 0 || start + len > x->shape[a])
        return eg__fail(ctx, EG_ERR_INVALID, "eg_narrow: axis %d, start %lld, length %lld out of range for %s", axis,
                        (long long)start, (long long)len, eg__shape_str(x, sx, sizeof sx));
    int64_t s[EG_MAX_DIMS], outer, xl, inner;
    memcpy(s, x->shape, sizeof s);
    s[a] = len;
    eg__split(x, a, &outer, &xl, &inner);
    eg_tensor *y;
    if (outer == 1) {
        /* a window of the leading axis is contiguous: a view at an offset, no copy
         * (backend handles are addresses, as the arena's sub-allocation assumes) */
        y = eg__view(x, x->ndim, s);
        if (eg__failed(ctx)) return ctx->placeholder;
        y->data = (char *)x->data + (size_t)(start * inner) * eg__dtype_size(x->dtype);
    } else {
        y = eg__new(ctx, x->dtype, x->ndim, s);
        if (eg__failed(ctx)) return ctx->placeholder;
        if (!slice_raw(ctx, "eg_narrow", x->dtype, outer, xl, start, len, 0, len, inner, x->data, y->data, 0))
            return ctx->placeholder;
    }
    eg_node *nd = eg__record(y, narrow_backward, "eg_narrow", 1, &x);
    if (nd) {
        nd->p.s.i[0] = a;
        nd->p.s.i[1] = start;
        nd->p.s.i[2] = len;
    }
    return y;
}

static void concat_backward(eg_node *n, eg_tensor *gy) {
    int axis = (int)n->p.s.i[0];
    int64_t outer, yl, inner, off = 0;
    eg__split(n->out, axis, &outer, &yl, &inner);
    for (int i = 0; i < n->n_in; i++) {
        eg_tensor *x = n->in[i];
        int64_t xl = x->shape[axis];
        if (eg_needs_grad(x)) {
            int fresh;
            eg_tensor *dx = eg__grad_slot(x, &fresh);
            if (!dx) return;
            slice_raw(x->ctx, n->op, x->dtype, outer, yl, off, xl, 0, xl, inner, gy->data, dx->data, !fresh);
        }
        off += xl;
    }
}

eg_tensor *eg_concat(eg_tensor *const *xs, int n, int axis) {
    if (!xs || n < 1 || !xs[0]) return NULL;
    eg_ctx *ctx = xs[0]->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    const eg_tensor *f = xs[0];
    char s0[128], si[128];
    int a = eg__norm_axis(axis, f->ndim);
    if (a < 0) return eg__fail(ctx, EG_ERR_INVALID, "eg_concat: axis %d out of range for %s", axis, eg__shape_str(f, s0, sizeof s0));
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        const eg_tensor *x = xs[i];
        int ok = x && x->ndim == f->ndim && x->dtype == f->dtype;
        for (int d = 0; ok && d < f->ndim; d++) ok = d == a || x->shape[d] == f->shape[d];
        if (!ok)
            return eg__fail(ctx, EG_ERR_INVALID, "eg_concat: input %d %s does not match input 0 %s along axis %d", i,
                            eg__shape_str(x, si, sizeof si), eg__shape_str(f, s0, sizeof s0), a);
        total += x->shape[a];
    }
    int64_t s[EG_MAX_DIMS];
    memcpy(s, f->shape, sizeof s);
    s[a] = total;
    eg_tensor *y = eg__new(ctx, f->dtype, f->ndim, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    int64_t outer, yl, inner, off = 0;
    eg__split(y, a, &outer, &yl, &inner);
    for (int i = 0; i < n; i++) {
        int64_t xl = xs[i]->shape[a];
        if (!slice_raw(ctx, "eg_concat", f->dtype, outer, xl, 0, yl, off, xl, inner, xs[i]->data, y->data, 0))
            return ctx->placeholder;
        off += xl;
    }
    if (eg__is_float(f->dtype)) {
        eg_node *nd = eg__record(y, concat_backward, "eg_concat", n, xs);
        if (nd) nd->p.s.i[0] = a;
    }
    return y;
}

/* ---- expand ---- */
static void expand_backward(eg_node *n, eg_tensor *gy) { eg__grad_add(n->in[0], gy, 1); }

eg_tensor *eg_expand(eg_tensor *x, int ndim, const int64_t *shape) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sx[128], ss[128];
    int no;
    int64_t so[EG_MAX_DIMS];
    if (ndim < 0 || ndim > EG_MAX_DIMS || !eg__bcast_shape(x->ndim, x->shape, ndim, shape, &no, so) ||
        no != ndim || eg__numel(no, so) != eg__numel(ndim, shape))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_expand: %s does not broadcast to %s", eg__shape_str(x, sx, sizeof sx),
                        eg__dims_str(ndim, shape, ss, sizeof ss));
    if (!eg__is_float(x->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_expand: dtype %s (expected f32 or f64)", eg__dtype_name(x->dtype));
    eg_tensor *y = eg__new(ctx, x->dtype, ndim, so);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!eg__binary_raw(ctx, "eg_expand", EG_BIN_ADD, x->dtype, x->ndim, x->shape, x->data, 0, NULL,
                        eg__const(ctx, x->dtype, 0), ndim, so, y->data))
        return ctx->placeholder;
    eg__record(y, expand_backward, "eg_expand", 1, &x);
    return y;
}
