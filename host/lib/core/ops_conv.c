/* ops_conv.c — 2-d/1-d convolutions, their transposes and upsampling, NCHW.
 * A transposed convolution is the input-gradient of the convolution that maps
 * its output back to its input, so its forward is conv_backward_input with the
 * channel roles swapped and its backward uses conv_forward and
 * conv_backward_weight. Weight layouts: conv [c_out, c_in, kh, kw], transposed
 * [c_in, c_out, kh, kw] (PyTorch). 1-d ops run as 2-d with height 1. */
#include <string.h>

#include "core_internal.h"

typedef struct conv_hw {
    int s[2], p[2], d[2], op[2];
} conv_hw;

static conv_hw opts_of(const eg_conv_opts *o) {
    conv_hw c;
    for (int i = 0; i < 2; i++) {
        c.s[i] = o && o->stride[i] ? o->stride[i] : 1;
        c.p[i] = o ? o->pad[i] : 0;
        c.d[i] = o && o->dilation[i] ? o->dilation[i] : 1;
        c.op[i] = o ? o->output_pad[i] : 0;
    }
    return c;
}

static void fill_args(eg_conv_args *a, eg_dtype dt, const conv_hw *c) {
    memset(a, 0, sizeof *a);
    a->dtype = dt;
    a->stride_h = c->s[0];
    a->stride_w = c->s[1];
    a->pad_h = c->p[0];
    a->pad_w = c->p[1];
    a->dil_h = c->d[0];
    a->dil_w = c->d[1];
}

static eg_tensor *add_bias(eg_tensor *y, eg_tensor *bias, const char *op) {
    if (!bias) return y;
    eg_ctx *ctx = y->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (bias->numel != y->shape[1] || bias->ndim != 1) {
        char sb[128], sy[128];
        return eg__fail(ctx, EG_ERR_INVALID, "%s: bias %s does not match output channels of %s", op,
                        eg__shape_str(bias, sb, sizeof sb), eg__shape_str(y, sy, sizeof sy));
    }
    int64_t s[4] = {1, y->shape[1], 1, 1};
    return eg_add(y, eg_reshape(bias, y->ndim, s));
}

static int check_inputs(eg_ctx *ctx, const char *op, const eg_tensor *x, const eg_tensor *w, const eg_tensor *bias) {
    char sx[128], sw[128];
    if (!x || !w) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: NULL input or weight", op);
        return 0;
    }
    if (x->ndim != 4 || w->ndim != 4 || x->dtype != w->dtype || !eg__is_float(x->dtype) ||
        (bias && bias->dtype != x->dtype)) {
        eg__fail(ctx, EG_ERR_INVALID, "%s: expected float x [n,c,h,w] and weight [a,b,kh,kw] of one dtype, got %s %s and %s %s",
                 op, eg__dtype_name(x->dtype), eg__shape_str(x, sx, sizeof sx), eg__dtype_name(w->dtype),
                 eg__shape_str(w, sw, sizeof sw));
        return 0;
    }
    return 1;
}

/* ---- conv2d ---- */
static void conv_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0], *w = n->in[1];
    eg_ctx *ctx = x->ctx;
    eg_conv_args a = n->p.conv;
    int fresh;
    if (eg_needs_grad(x)) {
        eg_tensor *dx = eg__grad_slot(x, &fresh);
        if (!dx || !EG_BE_HAS(ctx, conv_backward_input, n->op)) return;
        a.accumulate = !fresh;
        if (!eg__be_ok(ctx, ctx->be->conv_backward_input(ctx->bi, &a, w->data, gy->data, dx->data), n->op,
                       "conv_backward_input"))
            return;
    }
    if (eg_needs_grad(w)) {
        eg_tensor *dw = eg__grad_slot(w, &fresh);
        if (!dw || !EG_BE_HAS(ctx, conv_backward_weight, n->op)) return;
        a.accumulate = !fresh;
        eg__be_ok(ctx, ctx->be->conv_backward_weight(ctx->bi, &a, x->data, gy->data, dw->data), n->op,
                  "conv_backward_weight");
    }
}

static eg_tensor *conv2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const conv_hw *c, const char *op) {
    eg_ctx *ctx = x ? x->ctx : w ? w->ctx : NULL;
    if (!ctx) return NULL;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!check_inputs(ctx, op, x, w, bias)) return ctx->placeholder;
    char sx[128], sw[128];
    if (x->shape[1] != w->shape[1])
        return eg__fail(ctx, EG_ERR_INVALID, "%s: input channels differ: x %s, weight %s (expected [c_out, %lld, kh, kw])",
                        op, eg__shape_str(x, sx, sizeof sx), eg__shape_str(w, sw, sizeof sw), (long long)x->shape[1]);
    eg_conv_args a;
    fill_args(&a, x->dtype, c);
    a.n = x->shape[0];
    a.c_in = x->shape[1];
    a.h = x->shape[2];
    a.w = x->shape[3];
    a.c_out = w->shape[0];
    a.kh = w->shape[2];
    a.kw = w->shape[3];
    int64_t eh = a.h + 2 * c->p[0] - (int64_t)c->d[0] * (a.kh - 1) - 1;
    int64_t ew = a.w + 2 * c->p[1] - (int64_t)c->d[1] * (a.kw - 1) - 1;
    if (eh < 0 || ew < 0 || c->p[0] < 0 || c->p[1] < 0)
        return eg__fail(ctx, EG_ERR_INVALID, "%s: kernel %s larger than padded input %s", op,
                        eg__shape_str(w, sw, sizeof sw), eg__shape_str(x, sx, sizeof sx));
    a.oh = eh / c->s[0] + 1;
    a.ow = ew / c->s[1] + 1;
    int64_t s[4] = {a.n, a.c_out, a.oh, a.ow};
    if (!EG_BE_HAS(ctx, conv_forward, op)) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, x->dtype, 4, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (y->numel && !eg__be_ok(ctx, ctx->be->conv_forward(ctx->bi, &a, x->data, w->data, y->data), op, "conv_forward"))
        return ctx->placeholder;
    eg_tensor *in[2] = {x, w};
    eg_node *nd = eg__record(y, conv_backward, op, 2, in);
    if (nd) nd->p.conv = a;
    return add_bias(y, bias, op);
}

/* ---- transposed conv2d ---- */
static void convt_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0], *w = n->in[1];
    eg_ctx *ctx = x->ctx;
    eg_conv_args a = n->p.conv; /* the convolution from y-space to x-space */
    if (eg_needs_grad(x)) {
        if (!EG_BE_HAS(ctx, conv_forward, n->op)) return;
        eg_tensor *g = eg__new(ctx, x->dtype, x->ndim, x->shape);
        if (eg__failed(ctx)) return;
        a.accumulate = 0;
        if (!eg__be_ok(ctx, ctx->be->conv_forward(ctx->bi, &a, gy->data, w->data, g->data), n->op, "conv_forward"))
            return;
        eg__grad_add(x, g, 1);
    }
    if (eg_needs_grad(w)) {
        int fresh;
        eg_tensor *dw = eg__grad_slot(w, &fresh);
        if (!dw || !EG_BE_HAS(ctx, conv_backward_weight, n->op)) return;
        a.accumulate = !fresh;
        eg__be_ok(ctx, ctx->be->conv_backward_weight(ctx->bi, &a, gy->data, x->data, dw->data), n->op,
                  "conv_backward_weight");
    }
}

static eg_tensor *conv_transpose2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const conv_hw *c, const char *op) {
    eg_ctx *ctx = x ? x->ctx : w ? w->ctx : NULL;
    if (!ctx) return NULL;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!check_inputs(ctx, op, x, w, bias)) return ctx->placeholder;
    char sx[128], sw[128];
    if (x->shape[1] != w->shape[0])
        return eg__fail(ctx, EG_ERR_INVALID, "%s: input channels differ: x %s, weight %s (expected [%lld, c_out, kh, kw])",
                        op, eg__shape_str(x, sx, sizeof sx), eg__shape_str(w, sw, sizeof sw), (long long)x->shape[1]);
    for (int i = 0; i < 2; i++)
        if (c->op[i] < 0 || (c->op[i] >= c->s[i] && c->op[i] >= c->d[i]))
            return eg__fail(ctx, EG_ERR_INVALID, "%s: output_pad %d must be smaller than stride %d or dilation %d", op,
                            c->op[i], c->s[i], c->d[i]);
    eg_conv_args a;
    fill_args(&a, x->dtype, c);
    a.n = x->shape[0];
    a.c_out = x->shape[1]; /* the underlying conv's output is our input */
    a.oh = x->shape[2];
    a.ow = x->shape[3];
    a.c_in = w->shape[1];
    a.kh = w->shape[2];
    a.kw = w->shape[3];
    a.h = (a.oh - 1) * c->s[0] - 2 * c->p[0] + (int64_t)c->d[0] * (a.kh - 1) + c->op[0] + 1;
    a.w = (a.ow - 1) * c->s[1] - 2 * c->p[1] + (int64_t)c->d[1] * (a.kw - 1) + c->op[1] + 1;
    if (a.h <= 0 || a.w <= 0)
        return eg__fail(ctx, EG_ERR_INVALID, "%s: empty output for x %s and weight %s", op,
                        eg__shape_str(x, sx, sizeof sx), eg__shape_str(w, sw, sizeof sw));
    int64_t s[4] = {a.n, a.c_in, a.h, a.w};
    if (!EG_BE_HAS(ctx, conv_backward_input, op)) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, x->dtype, 4, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (y->numel && !eg__be_ok(ctx, ctx->be->conv_backward_input(ctx->bi, &a, w->data, x->data, y->data), op,
                               "conv_backward_input"))
        return ctx->placeholder;
    eg_tensor *in[2] = {x, w};
    eg_node *nd = eg__record(y, convt_backward, op, 2, in);
    if (nd) nd->p.conv = a;
    return add_bias(y, bias, op);
}

eg_tensor *eg_conv2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o) {
    conv_hw c = opts_of(o);
    return conv2d(x, w, bias, &c, "eg_conv2d");
}

eg_tensor *eg_conv_transpose2d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o) {
    conv_hw c = opts_of(o);
    return conv_transpose2d(x, w, bias, &c, "eg_conv_transpose2d");
}

/* ---- 1-d: [n, c, l] as [n, c, 1, l] ---- */
static eg_tensor *conv1d_any(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o, int transposed,
                             const char *op) {
    eg_ctx *ctx = x ? x->ctx : w ? w->ctx : NULL;
    if (!ctx) return NULL;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!x || !w || x->ndim != 3 || w->ndim != 3) {
        char sx[128], sw[128];
        return eg__fail(ctx, EG_ERR_INVALID, "%s: expected x [n,c,l] and weight [a,b,k], got %s and %s", op,
                        eg__shape_str(x, sx, sizeof sx), eg__shape_str(w, sw, sizeof sw));
    }
    conv_hw c = opts_of(o);
    c.s[0] = c.d[0] = 1;
    c.p[0] = c.op[0] = 0;
    int64_t xs[4] = {x->shape[0], x->shape[1], 1, x->shape[2]};
    int64_t ws[4] = {w->shape[0], w->shape[1], 1, w->shape[2]};
    eg_tensor *x4 = eg_reshape(x, 4, xs), *w4 = eg_reshape(w, 4, ws);
    eg_tensor *y = transposed ? conv_transpose2d(x4, w4, bias, &c, op) : conv2d(x4, w4, bias, &c, op);
    if (eg__failed(ctx)) return ctx->placeholder;
    int64_t ys[3] = {y->shape[0], y->shape[1], y->shape[3]};
    return eg_reshape(y, 3, ys);
}

eg_tensor *eg_conv1d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o) {
    return conv1d_any(x, w, bias, o, 0, "eg_conv1d");
}

eg_tensor *eg_conv_transpose1d(eg_tensor *x, eg_tensor *w, eg_tensor *bias, const eg_conv_opts *o) {
    return conv1d_any(x, w, bias, o, 1, "eg_conv_transpose1d");
}

/* ---- upsampling ---- */
static void upsample_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    eg_ctx *ctx = x->ctx;
    if (!EG_BE_HAS(ctx, upsample_backward, n->op)) return;
    eg_tensor *g = eg__new(ctx, x->dtype, x->ndim, x->shape);
    if (eg__failed(ctx)) return;
    if (!eg__be_ok(ctx, ctx->be->upsample_backward(ctx->bi, &n->p.up, gy->data, g->data), n->op, "upsample_backward"))
        return;
    eg__grad_add(x, g, 1);
}

eg_tensor *eg_upsample2d(eg_tensor *x, int64_t oh, int64_t ow, eg_upsample_mode mode, int align_corners) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sx[128];
    if (x->ndim != 4 || !eg__is_float(x->dtype) || oh <= 0 || ow <= 0 ||
        (mode != EG_UPSAMPLE_NEAREST && mode != EG_UPSAMPLE_BILINEAR))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_upsample2d: expected float x [n,c,h,w], positive size and a mode; got %s %s -> %lldx%lld",
                        eg__dtype_name(x->dtype), eg__shape_str(x, sx, sizeof sx), (long long)oh, (long long)ow);
    if (!EG_BE_HAS(ctx, upsample, "eg_upsample2d")) return ctx->placeholder;
    eg_upsample_args u;
    memset(&u, 0, sizeof u);
    u.dtype = x->dtype;
    u.mode = mode;
    u.align_corners = align_corners;
    u.nc = x->shape[0] * x->shape[1];
    u.h = x->shape[2];
    u.w = x->shape[3];
    u.oh = oh;
    u.ow = ow;
    int64_t s[4] = {x->shape[0], x->shape[1], oh, ow};
    eg_tensor *y = eg__new(ctx, x->dtype, 4, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (y->numel && !eg__be_ok(ctx, ctx->be->upsample(ctx->bi, &u, x->data, y->data), "eg_upsample2d", "upsample"))
        return ctx->placeholder;
    eg_node *nd = eg__record(y, upsample_backward, "eg_upsample2d", 1, &x);
    if (nd) nd->p.up = u;
    return y;
}
