/* ops_elementwise.c — unary and broadcasting binary ops with their backward. */
#include <string.h>

#include "core_internal.h"

/* ---- broadcasting ---- */
int eg__bcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb, int *no, int64_t *so) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
        if (da != db && da != 1 && db != 1) return 0;
        so[i] = da == 1 ? db : da;
    }
    *no = n;
    return 1;
}

/* element strides of an operand of shape s (n dims) broadcast to an out of no dims */
static void bcast_strides(int n, const int64_t *s, int no, const int64_t *so, int64_t *st) {
    int64_t acc = 1;
    for (int i = no - 1; i >= 0; i--) {
        int j = i - (no - n);
        int64_t d = j >= 0 ? s[j] : 1;
        st[i] = (d == 1 && so[i] != 1) ? 0 : acc;
        acc *= d;
    }
}

int eg__binary_raw(eg_ctx *ctx, const char *opname, eg_binary_op op, eg_dtype dt, int na, const int64_t *sa,
                   const void *a, int nb, const int64_t *sb, const void *b, int no, const int64_t *so, void *out) {
    if (eg__failed(ctx)) return 0;
    if (!EG_BE_HAS(ctx, binary, opname)) return 0;
    if (eg__numel(no, so) == 0) return 1;
    int64_t stra[EG_MAX_DIMS], strb[EG_MAX_DIMS];
    bcast_strides(na, sa, no, so, stra);
    bcast_strides(nb, sb, no, so, strb);
    eg_bcast_args g;
    memset(&g, 0, sizeof g);
    g.dtype = dt;
    g.op = op;
    g.a = a;
    g.b = b;
    g.out = out;
    /* drop size-1 dims, then merge dims that are contiguous for both operands */
    int n = 0;
    for (int i = 0; i < no; i++) {
        if (so[i] == 1) continue;
        if (n > 0 && stra[i] * so[i] == g.stride_a[n - 1] && strb[i] * so[i] == g.stride_b[n - 1]) {
            g.shape[n - 1] *= so[i];
            g.stride_a[n - 1] = stra[i];
            g.stride_b[n - 1] = strb[i];
            continue;
        }
        g.shape[n] = so[i];
        g.stride_a[n] = stra[i];
        g.stride_b[n] = strb[i];
        n++;
    }
    if (n == 0) {
        g.shape[0] = 1;
        n = 1;
    }
    g.ndim = n;
    return eg__be_ok(ctx, ctx->be->binary(ctx->bi, &g), opname, "binary");
}

/* ---- unary ---- */
static void unary_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *x = n->in[0];
    eg_ctx *ctx = x->ctx;
    if (!EG_BE_HAS(ctx, unary_backward, n->op)) return;
    int fresh;
    eg_tensor *dx = eg__grad_slot(x, &fresh);
    if (!dx || !x->numel) return;
    eg__be_ok(ctx,
              ctx->be->unary_backward(ctx->bi, (eg_unary_op)n->p.s.i[0], x->dtype, x->numel, x->data, n->out->data,
                                      gy->data, dx->data, n->p.s.f[0], n->p.s.f[1], !fresh),
              n->op, "unary_backward");
}

static eg_tensor *unary(eg_tensor *x, eg_unary_op op, double a, double b, const char *name, int differentiable) {
    if (!x) return NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!eg__is_float(x->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: dtype %s (expected f32 or f64)", name, eg__dtype_name(x->dtype));
    if (!EG_BE_HAS(ctx, unary, name)) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, x->dtype, x->ndim, x->shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (x->numel && !eg__be_ok(ctx, ctx->be->unary(ctx->bi, op, x->dtype, x->numel, x->data, y->data, a, b), name,
                               "unary"))
        return ctx->placeholder;
    if (differentiable) {
        eg_node *nd = eg__record(y, unary_backward, name, 1, &x);
        if (nd) {
            nd->p.s.i[0] = op;
            nd->p.s.f[0] = a;
            nd->p.s.f[1] = b;
        }
    }
    return y;
}

eg_tensor *eg_scale(eg_tensor *x, double s) { return unary(x, EG_UN_AFFINE, s, 0.0, "eg_scale", 1); }
eg_tensor *eg_add_scalar(eg_tensor *x, double s) { return unary(x, EG_UN_AFFINE, 1.0, s, "eg_add_scalar", 1); }
eg_tensor *eg_affine(eg_tensor *x, double a, double b) { return unary(x, EG_UN_AFFINE, a, b, "eg_affine", 1); }
eg_tensor *eg_neg(eg_tensor *x) { return unary(x, EG_UN_NEG, 0, 0, "eg_neg", 1); }
eg_tensor *eg_exp(eg_tensor *x) { return unary(x, EG_UN_EXP, 0, 0, "eg_exp", 1); }
eg_tensor *eg_ln(eg_tensor *x) { return unary(x, EG_UN_LOG, 0, 0, "eg_ln", 1); }
eg_tensor *eg_log1p(eg_tensor *x) { return unary(x, EG_UN_LOG1P, 0, 0, "eg_log1p", 1); }
eg_tensor *eg_sqrt(eg_tensor *x) { return unary(x, EG_UN_SQRT, 0, 0, "eg_sqrt", 1); }
eg_tensor *eg_rsqrt(eg_tensor *x) { return unary(x, EG_UN_RSQRT, 0, 0, "eg_rsqrt", 1); }
eg_tensor *eg_recip(eg_tensor *x) { return unary(x, EG_UN_RECIP, 0, 0, "eg_recip", 1); }
eg_tensor *eg_square(eg_tensor *x) { return unary(x, EG_UN_SQUARE, 0, 0, "eg_square", 1); }
eg_tensor *eg_pow(eg_tensor *x, double p) { return unary(x, EG_UN_POW, p, 0, "eg_pow", 1); }
eg_tensor *eg_abs(eg_tensor *x) { return unary(x, EG_UN_ABS, 0, 0, "eg_abs", 1); }
eg_tensor *eg_clamp(eg_tensor *x, double lo, double hi) { return unary(x, EG_UN_CLAMP, lo, hi, "eg_clamp", 1); }
eg_tensor *eg_sin(eg_tensor *x) { return unary(x, EG_UN_SIN, 0, 0, "eg_sin", 1); }
eg_tensor *eg_cos(eg_tensor *x) { return unary(x, EG_UN_COS, 0, 0, "eg_cos", 1); }
eg_tensor *eg_sigmoid(eg_tensor *x) { return unary(x, EG_UN_SIGMOID, 0, 0, "eg_sigmoid", 1); }
eg_tensor *eg_tanh(eg_tensor *x) { return unary(x, EG_UN_TANH, 0, 0, "eg_tanh", 1); }
eg_tensor *eg_relu(eg_tensor *x) { return unary(x, EG_UN_RELU, 0, 0, "eg_relu", 1); }
eg_tensor *eg_elu(eg_tensor *x, double alpha) { return unary(x, EG_UN_ELU, alpha, 0, "eg_elu", 1); }
eg_tensor *eg_softplus(eg_tensor *x) { return unary(x, EG_UN_SOFTPLUS, 0, 0, "eg_softplus", 1); }
eg_tensor *eg_sign(eg_tensor *x) { return unary(x, EG_UN_SIGN, 0, 0, "eg_sign", 0); }
eg_tensor *eg_step(eg_tensor *x, double threshold) { return unary(x, EG_UN_STEP, threshold, 0, "eg_step", 0); }

/* ---- binary ---- */
static void binary_backward(eg_node *n, eg_tensor *gy) {
    eg_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
    int na = eg_needs_grad(a), nb = eg_needs_grad(b);
    switch ((eg_binary_op)n->p.s.i[0]) {
    case EG_BIN_ADD:
        if (na) eg__grad_add(a, gy, 1);
        if (nb) eg__grad_add(b, gy, !na); /* gy may be adopted only once */
        break;
    case EG_BIN_SUB:
        if (nb) eg__grad_add(b, eg_neg(gy), 1);
        if (na) eg__grad_add(a, gy, 1);
        break;
    case EG_BIN_MUL:
        if (na) eg__grad_add(a, eg_mul(gy, b), 1);
        if (nb) eg__grad_add(b, eg_mul(gy, a), 1);
        break;
    case EG_BIN_DIV: {
        eg_tensor *ga = eg_div(gy, b);
        if (nb) eg__grad_add(b, eg_neg(eg_mul(ga, y)), 1); /* d(a/b)/db = -y/b */
        if (na) eg__grad_add(a, ga, 1);
        break;
    }
    case EG_BIN_MAX: /* ties go to a */
        if (na) eg__grad_add(a, eg_mul(gy, eg_ge(a, b)), 1);
        if (nb) eg__grad_add(b, eg_mul(gy, eg_gt(b, a)), 1);
        break;
    case EG_BIN_MIN:
        if (na) eg__grad_add(a, eg_mul(gy, eg_ge(b, a)), 1);
        if (nb) eg__grad_add(b, eg_mul(gy, eg_gt(a, b)), 1);
        break;
    default: eg__fail(a->ctx, EG_ERR_INTERNAL, "%s: no backward", n->op);
    }
}

static eg_tensor *binary(eg_tensor *a, eg_tensor *b, eg_binary_op op, const char *name, int differentiable) {
    if (!a || !b) return a ? a->ctx->placeholder : b ? b->ctx->placeholder : NULL;
    eg_ctx *ctx = a->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char sa[128], sb[128];
    if (b->ctx != ctx) return eg__fail(ctx, EG_ERR_INVALID, "%s: operands belong to different contexts", name);
    if (a->dtype != b->dtype || !eg__is_float(a->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: dtypes %s and %s (expected both f32 or both f64)", name,
                        eg__dtype_name(a->dtype), eg__dtype_name(b->dtype));
    int no;
    int64_t so[EG_MAX_DIMS];
    if (!eg__bcast_shape(a->ndim, a->shape, b->ndim, b->shape, &no, so))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: shapes do not broadcast: %s and %s", name,
                        eg__shape_str(a, sa, sizeof sa), eg__shape_str(b, sb, sizeof sb));
    eg_tensor *y = eg__new(ctx, a->dtype, no, so);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (!eg__binary_raw(ctx, name, op, a->dtype, a->ndim, a->shape, a->data, b->ndim, b->shape, b->data, no, so,
                        y->data))
        return ctx->placeholder;
    if (differentiable) {
        eg_tensor *in[2] = {a, b};
        eg_node *nd = eg__record(y, binary_backward, name, 2, in);
        if (nd) nd->p.s.i[0] = op;
    }
    return y;
}

eg_tensor *eg_add(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_ADD, "eg_add", 1); }
eg_tensor *eg_sub(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_SUB, "eg_sub", 1); }
eg_tensor *eg_mul(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_MUL, "eg_mul", 1); }
eg_tensor *eg_div(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_DIV, "eg_div", 1); }
eg_tensor *eg_maximum(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_MAX, "eg_maximum", 1); }
eg_tensor *eg_minimum(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_MIN, "eg_minimum", 1); }
eg_tensor *eg_eq(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_EQ, "eg_eq", 0); }
eg_tensor *eg_gt(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_GT, "eg_gt", 0); }
eg_tensor *eg_ge(eg_tensor *a, eg_tensor *b) { return binary(a, b, EG_BIN_GE, "eg_ge", 0); }
