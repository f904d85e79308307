/* ops_matmul.c — (batched) matrix products with their backward, and syev.
 * C = alpha op(A) op(B). Batch dims of A and B must be equal, or one operand is
 * 2-D and is shared across the batch (stride 0). When B is 2-D and A is not
 * transposed the batch is folded into the rows of one GEMM. */
#include <string.h>

#include "core_internal.h"

static eg_tensor *gemm_op(eg_tensor *a, eg_tensor *b, int ta, int tb, double alpha, const char *name);

/* [..., r, c] viewed as [prod(...)*r, c] */
static eg_tensor *fold_rows(eg_tensor *t) {
    int64_t s[2] = {t->numel / t->shape[t->ndim - 1], t->shape[t->ndim - 1]};
    return eg__view(t, 2, s);
}

static void gemm_backward(eg_node *n, eg_tensor *gc) {
    eg_tensor *a = n->in[0], *b = n->in[1];
    int ta = (int)n->p.s.i[0], tb = (int)n->p.s.i[1];
    double alpha = n->p.s.f[0];
    /* dOp(A) = alpha dC op(B)^T, dOp(B) = alpha op(A)^T dC */
    if (eg_needs_grad(a)) {
        eg_tensor *g = ta ? gemm_op(b, gc, tb, 1, alpha, n->op) : gemm_op(gc, b, 0, !tb, alpha, n->op);
        eg__grad_add(a, g, 1); /* sums over the batch when a was shared */
    }
    if (eg_needs_grad(b)) {
        eg_tensor *g;
        if (b->ndim == 2 && a->ndim > 2 && !ta) /* fold the batch into one GEMM */
            g = tb ? gemm_op(fold_rows(gc), fold_rows(a), 1, 0, alpha, n->op)
                   : gemm_op(fold_rows(a), fold_rows(gc), 1, 0, alpha, n->op);
        else
            g = tb ? gemm_op(gc, a, 1, ta, alpha, n->op) : gemm_op(a, gc, !ta, 0, alpha, n->op);
        eg__grad_add(b, g, 1);
    }
}

/* "name: what: [a shape] @ [b shape]..." — the shapes are formatted only on this error path */
static eg_tensor *shapes_fail(eg_ctx *ctx, const char *name, const char *what, const eg_tensor *a, const eg_tensor *b,
                              const char *note) {
    char sa[128], sb[128];
    eg__shape_str(a, sa, sizeof sa);
    eg__shape_str(b, sb, sizeof sb);
    return eg__fail(ctx, EG_ERR_INVALID, "%s: %s: %s @ %s%s", name, what, sa, sb, note);
}

static eg_tensor *gemm_op(eg_tensor *a, eg_tensor *b, int ta, int tb, double alpha, const char *name) {
    if (!a || !b) return a ? a->ctx->placeholder : b ? b->ctx->placeholder : NULL;
    eg_ctx *ctx = a->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (a->dtype != b->dtype || !eg__is_float(a->dtype))
        return eg__fail(ctx, EG_ERR_INVALID, "%s: dtypes %s and %s (expected both f32 or both f64)", name,
                        eg__dtype_name(a->dtype), eg__dtype_name(b->dtype));
    if (a->ndim < 2 || b->ndim < 2)
        return shapes_fail(ctx, name, "operands need at least 2 dims", a, b, "");
    int64_t ra = a->shape[a->ndim - 2], ca = a->shape[a->ndim - 1];
    int64_t rb = b->shape[b->ndim - 2], cb = b->shape[b->ndim - 1];
    int64_t m = ta ? ca : ra, k = ta ? ra : ca;
    int64_t kb = tb ? cb : rb, nn = tb ? rb : cb;
    if (k != kb) return shapes_fail(ctx, name, "inner dims differ", a, b, "");
    /* batch */
    int64_t ma = ra * ca, mb = rb * cb;
    int64_t ba = ma > 0 ? a->numel / ma : eg__numel(a->ndim - 2, a->shape);
    int64_t bb = mb > 0 ? b->numel / mb : eg__numel(b->ndim - 2, b->shape);
    const eg_tensor *batched = a->ndim > 2 ? a : b;
    if (a->ndim > 2 && b->ndim > 2) {
        int same = a->ndim == b->ndim;
        for (int i = 0; same && i < a->ndim - 2; i++) same = a->shape[i] == b->shape[i];
        if (!same)
            return shapes_fail(ctx, name, "batch dims differ", a, b, " (they must match, or one operand is 2-D)");
    }
    int64_t s[EG_MAX_DIMS];
    int ns = batched->ndim;
    for (int i = 0; i < ns - 2; i++) s[i] = batched->shape[i];
    s[ns - 2] = m;
    s[ns - 1] = nn;
    if (!EG_BE_HAS(ctx, gemm, name)) return ctx->placeholder;
    eg_tensor *y = eg__new(ctx, a->dtype, ns, s);
    if (eg__failed(ctx)) return ctx->placeholder;
    eg_gemm_args g;
    memset(&g, 0, sizeof g);
    g.dtype = a->dtype;
    g.trans_a = ta;
    g.trans_b = tb;
    g.m = m;
    g.n = nn;
    g.k = k;
    g.alpha = alpha;
    g.beta = 0.0;
    g.a = a->data;
    g.lda = ca;
    g.b = b->data;
    g.ldb = cb;
    g.c = y->data;
    g.ldc = nn;
    int64_t batch = ba > bb ? ba : bb;
    if (b->ndim == 2 && a->ndim > 2 && !ta) { /* fold: [batch*m, k] @ op(B) */
        g.m = m * batch;
        batch = 1;
    }
    g.stride_a = a->ndim > 2 ? ra * ca : 0;
    g.stride_b = b->ndim > 2 ? rb * cb : 0;
    g.stride_c = m * nn;
    g.batch = batch;
    if (y->numel) {
        if (k == 0) {
            if (!eg__be_ok(ctx, ctx->be->fill(ctx->bi, y->dtype, y->data, y->numel, 0.0), name, "fill"))
                return ctx->placeholder;
        } else if (!eg__be_ok(ctx, ctx->be->gemm(ctx->bi, &g), name, "gemm"))
            return ctx->placeholder;
    }
    eg_tensor *in[2] = {a, b};
    eg_node *nd = eg__record(y, gemm_backward, name, 2, in);
    if (nd) {
        nd->p.s.i[0] = ta;
        nd->p.s.i[1] = tb;
        nd->p.s.f[0] = alpha;
    }
    return y;
}

eg_tensor *eg_matmul(eg_tensor *a, eg_tensor *b) { return gemm_op(a, b, 0, 0, 1.0, "eg_matmul"); }
eg_tensor *eg_matmul_nt(eg_tensor *a, eg_tensor *b) { return gemm_op(a, b, 0, 1, 1.0, "eg_matmul_nt"); }
eg_tensor *eg_matmul_tn(eg_tensor *a, eg_tensor *b) { return gemm_op(a, b, 1, 0, 1.0, "eg_matmul_tn"); }
eg_tensor *eg_gemm(eg_tensor *a, eg_tensor *b, int trans_a, int trans_b, double alpha) {
    return gemm_op(a, b, trans_a != 0, trans_b != 0, alpha, "eg_gemm");
}

eg_status eg_syev(eg_tensor *a, eg_tensor **eigenvalues, eg_tensor **eigenvectors) {
    if (!a || !eigenvalues || !eigenvectors) return EG_ERR_INVALID;
    eg_ctx *ctx = a->ctx;
    *eigenvalues = *eigenvectors = ctx->placeholder;
    if (eg__failed(ctx)) return ctx->status;
    char sa[128];
    if (!eg__is_float(a->dtype) || a->ndim < 2 || a->shape[a->ndim - 1] != a->shape[a->ndim - 2]) {
        eg__fail(ctx, EG_ERR_INVALID, "eg_syev: expected a float [..., n, n] tensor, got %s %s",
                 eg__dtype_name(a->dtype), eg__shape_str(a, sa, sizeof sa));
        return ctx->status;
    }
    if (!EG_BE_HAS(ctx, syev, "eg_syev")) return ctx->status;
    int64_t n = a->shape[a->ndim - 1];
    int64_t batch = n ? a->numel / (n * n) : 0;
    eg_tensor *w = eg__new(ctx, a->dtype, a->ndim - 1, a->shape);
    eg_tensor *v = eg__new(ctx, a->dtype, a->ndim, a->shape);
    if (eg__failed(ctx)) return ctx->status;
    if (batch && n && !eg__be_ok(ctx, ctx->be->syev(ctx->bi, a->dtype, batch, n, a->data, w->data, v->data),
                                 "eg_syev", "syev"))
        return ctx->status;
    *eigenvalues = w;
    *eigenvectors = v;
    return EG_OK;
}
