/* ops_reduce.c — reductions along an axis, softmax, argmax, with backward. */
#include <math.h>
#include <string.h>

#include "core_internal.h"

/* shape of x with axis removed (or kept as 1) */
static int reduced_shape(const eg_tensor *x, int axis, int keepdim, int64_t *s) {
    int n = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i == axis) {
            if (keepdim) s[n++] = 1;
        } else s[n++] = x->shape[i];
    }
    return n;
}

/* ---- host argmax / argmin (first extreme) ---- */
/* returns n = outer*inner indices in staging memory; flat: positions in x, else along the axis */
static int32_t *host_argext(eg_tensor *x, int axis, int is_min, int flat, const char *op) {
    eg_ctx *ctx = x->ctx;
    int64_t outer, len, inner;
    eg__split(x, axis, &outer, &len, &inner);
    size_t xb = (size_t)x->numel * sizeof(double);
    size_t ib = (size_t)(outer * inner) * sizeof(int32_t);
    size_t fb = x->dtype == EG_F32 ? (size_t)x->numel * sizeof(float) : 0;
    /* staging layout: [values as double | indices | pad | raw f32 download] */
    char *buf = eg__staging(ctx, xb + ib + 8 + fb);
    if (!buf) return NULL;
    double *v = (double *)buf;
    int32_t *idx = (int32_t *)(buf + xb);
    if (x->dtype == EG_F64) {
        if (xb && !eg__be_ok(ctx, ctx->be->download(ctx->bi, v, x->data, xb), op, "download")) return NULL;
    } else {
        float *f = (float *)(buf + xb + ib + 8);
        if (fb && !eg__be_ok(ctx, ctx->be->download(ctx->bi, f, x->data, fb), op, "download")) return NULL;
        for (int64_t i = 0; i < x->numel; i++) v[i] = f[i];
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const double *p = v + o * len * inner + i;
            int64_t best = 0;
            for (int64_t j = 1; j < len; j++) {
                double c = p[j * inner], b = p[best * inner];
                if (is_min ? (c < b) : (c > b)) best = j;
            }
            idx[o * inner + i] = (int32_t)(flat ? o * len * inner + best * inner + i : best);
        }
    return idx;
}

/* ---- axis reductions ---- */
static void reduce_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    eg_ctx *ctx = x->ctx;
    eg_reduce_op op = (eg_reduce_op)n->p.s.i[0];
    int axis = (int)n->p.s.i[1];
    int64_t ks[EG_MAX_DIMS];
    int kn = axis < 0 ? 0 : reduced_shape(x, axis, 1, ks); /* axis < 0: all elements */
    eg_tensor *gk = eg__view(gy, kn, ks);
    if (op == EG_RED_SUM) {
        eg__grad_add(x, gk, 0);
    } else if (op == EG_RED_SUMSQ) { /* d Σx² / dx = 2x */
        eg__grad_add(x, eg_mul(eg_scale(gk, 2.0), x), 1);
    } else if (op == EG_RED_LOGSUMEXP) {
        /* d lse / dx = exp(x - lse) */
        eg_tensor *yk = eg__view(n->out, kn, ks);
        eg__grad_add(x, eg_mul(gk, eg_exp(eg_sub(x, yk))), 1);
    } else {
        /* max / min: the gradient goes to the first extreme */
        int ax = axis < 0 ? 0 : axis;
        eg_tensor *xv = axis < 0 ? eg__view(x, 1, &x->numel) : x;
        if (eg__failed(ctx)) return;
        int32_t *idx = host_argext(xv, ax, op == EG_RED_MIN, 1, n->op);
        if (!idx) return;
        int64_t m = gy->numel;
        eg_tensor *it = eg__new(ctx, EG_I32, 1, &m);
        if (eg__failed(ctx)) return;
        if (!eg__be_ok(ctx, ctx->be->upload(ctx->bi, it->data, idx, (size_t)m * 4), n->op, "upload")) return;
        eg_tensor *dx = eg__grad_zeroed(x);
        if (!dx || !EG_BE_HAS(ctx, scatter_add, n->op)) return;
        eg__be_ok(ctx,
                  ctx->be->scatter_add(ctx->bi, x->dtype, 1, x->numel, 1, gy->data, 1, m, it->data, dx->data),
                  n->op, "scatter_add");
    }
}

static eg_tensor *reduce(eg_tensor *x, int axis, int keepdim, eg_reduce_op op, const char *name, int all) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char b[128];
    if (!eg__is_float(x->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: dtype %s (expected f32 or f64)", name, eg__dtype_name(x->dtype));
    int64_t outer = 1, len = x->numel, inner = 1;
    int64_t s[EG_MAX_DIMS];
    int ns = 0, ax = -1;
    if (!all) {
        ax = eg__norm_axis(axis, x->ndim);
        if (ax < 0)
            return eg__fail(ctx, EG_ERR_INVALID, "%s: axis %d out of range for %s", name, axis,
                            eg__shape_str(x, b, sizeof b));
        eg__split(x, ax, &outer, &len, &inner);
        ns = reduced_shape(x, ax, keepdim, s);
    }
    if (len == 0 && op != EG_RED_SUM && op != EG_RED_SUMSQ)
        return eg__fail(ctx, EG_ERR_INVALID, "%s: empty axis in %s", name, eg__shape_str(x, b, sizeof b));
    if (!EG_BE_HAS(ctx, reduce, name)) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, x->dtype, ns, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (y->numel && !eg__be_ok(ctx, ctx->be->reduce(ctx->bi, op, x->dtype, outer, len, inner, x->data, y->data),
                               name, "reduce"))
        return ctx->placeholder;
    eg_node *nd = eg__record(y, reduce_backward, name, 1, &x);
    if (nd) {
        nd->p.s.i[0] = op;
        nd->p.s.i[1] = ax;
    }
    return y;
}

eg_tensor *eg_sum(eg_tensor *x, int axis, int keepdim) { return reduce(x, axis, keepdim, EG_RED_SUM, "eg_sum", 0); }
eg_tensor *eg_max(eg_tensor *x, int axis, int keepdim) { return reduce(x, axis, keepdim, EG_RED_MAX, "eg_max", 0); }
eg_tensor *eg_min(eg_tensor *x, int axis, int keepdim) { return reduce(x, axis, keepdim, EG_RED_MIN, "eg_min", 0); }
eg_tensor *eg_logsumexp(eg_tensor *x, int axis, int keepdim) {
    return reduce(x, axis, keepdim, EG_RED_LOGSUMEXP, "eg_logsumexp", 0);
}
eg_tensor *eg_sumsq(eg_tensor *x, int axis, int keepdim) {
    if (x && !eg__failed(x->ctx) && !eg_ctx_has(x->ctx, EG_FEATURE_SUMSQ))
        return eg_sum(eg_mul(x, x), axis, keepdim);
    return reduce(x, axis, keepdim, EG_RED_SUMSQ, "eg_sumsq", 0);
}
eg_tensor *eg_sum_all(eg_tensor *x) { return reduce(x, 0, 0, EG_RED_SUM, "eg_sum_all", 1); }

eg_tensor *eg_mean(eg_tensor *x, int axis, int keepdim) {
    eg_tensor *s = eg_sum(x, axis, keepdim);
    if (!x || eg__failed(x->ctx)) return s;
    int ax = eg__norm_axis(axis, x->ndim);
    return eg_scale(s, x->shape[ax] ? 1.0 / (double)x->shape[ax] : NAN);
}

eg_tensor *eg_mean_all(eg_tensor *x) {
    eg_tensor *s = eg_sum_all(x);
    if (!x || eg__failed(x->ctx)) return s;
    return eg_scale(s, x->numel ? 1.0 / (double)x->numel : NAN);
}

/* ---- softmax ---- */
static void softmax_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0], *y = n->out;
    eg_ctx *ctx = x->ctx;
    if (!EG_BE_HAS(ctx, softmax_backward, n->op)) return;
    eg_tensor *g = eg__new(ctx, x->dtype, x->ndim, x->shape);
    if (eg__failed(ctx)) return;
    if (!eg__be_ok(ctx,
                   ctx->be->softmax_backward(ctx->bi, (int)n->p.s.i[0], x->dtype, n->p.s.i[1], n->p.s.i[2],
                                             n->p.s.i[3], y->data, gy->data, g->data),
                   n->op, "softmax_backward"))
        return;
    eg__grad_add(x, g, 1);
}

static eg_tensor *softmax(eg_tensor *x, int axis, int log_softmax, const char *name) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char b[128];
    if (!eg__is_float(x->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: dtype %s (expected f32 or f64)", name, eg__dtype_name(x->dtype));
    int ax = eg__norm_axis(axis, x->ndim);
    if (ax < 0)
        return eg__fail(ctx, EG_ERR_INVALID, "%s: axis %d out of range for %s", name, axis,
                        eg__shape_str(x, b, sizeof b));
    if (!EG_BE_HAS(ctx, softmax, name)) return ctx->placeholder;
    int64_t outer, len, inner;
    eg__split(x, ax, &outer, &len, &inner);
    eg_tensor *y = eg__new(ctx, x->dtype, x->ndim, x->shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (x->numel && !eg__be_ok(ctx,
                               ctx->be->softmax(ctx->bi, log_softmax, x->dtype, outer, len, inner, x->data, y->data),
                               name, "softmax"))
        return ctx->placeholder;
    eg_node *nd = eg__record(y, softmax_backward, name, 1, &x);
    if (nd) {
        nd->p.s.i[0] = log_softmax;
        nd->p.s.i[1] = outer;
        nd->p.s.i[2] = len;
        nd->p.s.i[3] = inner;
    }
    return y;
}

eg_tensor *eg_softmax(eg_tensor *x, int axis) { return softmax(x, axis, 0, "eg_softmax"); }
eg_tensor *eg_log_softmax(eg_tensor *x, int axis) { return softmax(x, axis, 1, "eg_log_softmax"); }

/* ---- argmax (host: the ABI has no index-producing reduction) ---- */
eg_tensor *eg_argmax(eg_tensor *x, int axis) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char b[128];
    if (!eg__is_float(x->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_argmax: dtype %s (expected f32 or f64)", eg__dtype_name(x->dtype));
    int ax = eg__norm_axis(axis, x->ndim);
    if (ax < 0 || x->shape[ax] == 0)
        return eg__fail(ctx, EG_ERR_INVALID, "eg_argmax: axis %d out of range or empty for %s", axis,
                        eg__shape_str(x, b, sizeof b));
    int64_t s[EG_MAX_DIMS];
    int ns = reduced_shape(x, ax, 0, s);
    eg_tensor *y = eg__new(ctx, EG_I32, ns, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    int32_t *idx = host_argext(x, ax, 0, 0, "eg_argmax");
    if (!idx) return ctx->placeholder;
    if (y->numel && !eg__be_ok(ctx, ctx->be->upload(ctx->bi, y->data, idx, (size_t)y->numel * 4), "eg_argmax",
                               "upload"))
        return ctx->placeholder;
    return y;
}
