/* autograd.c — the tape, gradient accumulation and the backward walk.
 * See core_internal.h for the lifetime rules of gradients. */
#include <string.h>

#include "core_internal.h"

int eg__any_needs_grad(int n, eg_tensor *const *in) {
    for (int i = 0; i < n; i++)
        if (in[i] && eg_needs_grad(in[i])) return 1;
    return 0;
}

eg_node *eg__record(eg_tensor *out, eg_backward_fn bw, const char *op, int n_in, eg_tensor *const *in) {
    eg_ctx *ctx = out->ctx;
    if (ctx->no_grad || eg__failed(ctx) || (out->flags & EG_TF_PLACEHOLDER)) return NULL;
    if (!eg__any_needs_grad(n_in, in)) return NULL;
    eg_node *n = eg__arena_alloc(&ctx->host, sizeof *n);
    eg_tensor **ins = eg__arena_alloc(&ctx->host, sizeof *ins * (size_t)(n_in ? n_in : 1));
    if (!n || !ins) {
        eg__fail(ctx, EG_ERR_NOMEM, "%s: host arena: tape node", op);
        return NULL;
    }
    memset(n, 0, sizeof *n);
    for (int i = 0; i < n_in; i++) ins[i] = in[i];
    n->prev = ctx->tape;
    n->backward = bw;
    n->op = op;
    n->out = out;
    n->in = ins;
    n->n_in = n_in;
    ctx->tape = n;
    out->node = n;
    return n;
}

int eg__grad_valid(const eg_tensor *t) {
    if (!t->grad) return 0;
    if ((t->flags & EG_TF_PERSISTENT) || t->node) return 1;
    return eg__scope_alive(t->ctx, t->grad_depth, t->grad_scope);
}

static void set_scoped_grad(eg_tensor *t, eg_tensor *g) {
    eg_ctx *ctx = t->ctx;
    if (!eg__grad_valid(t) && t->node) ctx->bw_pending++;
    t->grad = g;
    t->grad_depth = ctx->depth;
    t->grad_scope = ctx->scope_ids[ctx->depth];
}

eg_tensor *eg__grad_slot(eg_tensor *t, int *fresh) {
    eg_ctx *ctx = t->ctx;
    if (t->flags & EG_TF_PERSISTENT) {
        *fresh = 0;
        if (!t->grad) {
            t->grad = eg__new_persistent_grad(t);
            if (!t->grad) return NULL;
            *fresh = 1;
        }
        t->grad_live = 1;
        return t->grad;
    }
    if (eg__grad_valid(t)) {
        *fresh = 0;
        return t->grad;
    }
    eg_tensor *g = eg__new(ctx, t->dtype, t->ndim, t->shape);
    if (eg__failed(ctx)) return NULL;
    set_scoped_grad(t, g);
    *fresh = 1;
    return g;
}

eg_tensor *eg__grad_zeroed(eg_tensor *t) {
    int fresh;
    eg_tensor *g = eg__grad_slot(t, &fresh);
    if (!g) return NULL;
    if (fresh && g->numel &&
        !eg__be_ok(t->ctx, t->ctx->be->fill(t->ctx->bi, g->dtype, g->data, g->numel, 0.0), "backward", "fill"))
        return NULL;
    return g;
}

/* sums g over the dims where t (right-aligned) has size 1: returns a fresh tensor of t's shape */
static eg_tensor *reduce_to(eg_tensor *g, const eg_tensor *t) {
    eg_ctx *ctx = g->ctx;
    int nd = g->ndim;
    int64_t ts[EG_MAX_DIMS], cur[EG_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        int j = i - (nd - t->ndim);
        ts[i] = j >= 0 ? t->shape[j] : 1;
        cur[i] = g->shape[i];
    }
    const void *src = g->data;
    eg_tensor *r = NULL;
    int i = 0;
    while (i < nd) {
        if (!(ts[i] == 1 && cur[i] != 1)) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < nd && ts[j + 1] == 1 && cur[j + 1] != 1) j++;
        int64_t outer = 1, len = 1, inner = 1;
        for (int k = 0; k < i; k++) outer *= cur[k];
        for (int k = i; k <= j; k++) len *= cur[k];
        for (int k = j + 1; k < nd; k++) inner *= cur[k];
        for (int k = i; k <= j; k++) cur[k] = 1;
        r = eg__new(ctx, g->dtype, nd, cur);
        if (eg__failed(ctx)) return NULL;
        if (!EG_BE_HAS(ctx, reduce, "backward (broadcast sum)") ||
            !eg__be_ok(ctx, ctx->be->reduce(ctx->bi, EG_RED_SUM, g->dtype, outer, len, inner, src, r->data),
                       "backward (broadcast sum)", "reduce"))
            return NULL;
        src = r->data;
        i = j + 1;
    }
    if (!r) return g;
    return eg__view(r, t->ndim, t->shape);
}

void eg__grad_add(eg_tensor *t, eg_tensor *g, int adopt) {
    eg_ctx *ctx = t->ctx;
    if (eg__failed(ctx) || !g || (g->flags & EG_TF_PLACEHOLDER)) return;
    char a[128], b[128];
    if (g->dtype != t->dtype) {
        eg__fail(ctx, EG_ERR_INTERNAL, "backward: gradient dtype %s for a %s tensor", eg__dtype_name(g->dtype),
                 eg__dtype_name(t->dtype));
        return;
    }
    int nb;
    int64_t bs[EG_MAX_DIMS];
    if (!eg__bcast_shape(t->ndim, t->shape, g->ndim, g->shape, &nb, bs)) {
        eg__fail(ctx, EG_ERR_INTERNAL, "backward: gradient %s does not fit tensor %s", eg__shape_str(g, a, sizeof a),
                 eg__shape_str(t, b, sizeof b));
        return;
    }
    int64_t bn = eg__numel(nb, bs);
    if (g->numel != t->numel || bn != t->numel) {
        if (bn == g->numel && g->numel != t->numel) {
            /* t was broadcast in the forward: sum back */
            eg_tensor *r = reduce_to(g, t);
            if (!r) return;
            g = r;
            adopt = 1;
        } else if (bn == t->numel) {
            /* g broadcasts over t (a reduction's backward): expand-add */
            int fresh;
            eg_tensor *s = eg__grad_slot(t, &fresh);
            if (!s) return;
            if (fresh)
                eg__binary_raw(ctx, "backward (expand)", EG_BIN_ADD, t->dtype, g->ndim, g->shape, g->data, 0, NULL,
                               eg__const(ctx, t->dtype, 0), t->ndim, t->shape, s->data);
            else
                eg__binary_raw(ctx, "backward (expand)", EG_BIN_ADD, t->dtype, t->ndim, t->shape, s->data, g->ndim,
                               g->shape, g->data, t->ndim, t->shape, s->data);
            return;
        } else {
            eg__fail(ctx, EG_ERR_INTERNAL, "backward: gradient %s does not fit tensor %s",
                     eg__shape_str(g, a, sizeof a), eg__shape_str(t, b, sizeof b));
            return;
        }
    }
    /* same layout */
    if (!(t->flags & EG_TF_PERSISTENT) && !eg__grad_valid(t) && adopt) {
        int same = g->ndim == t->ndim;
        for (int i = 0; same && i < t->ndim; i++) same = g->shape[i] == t->shape[i];
        set_scoped_grad(t, same ? g : eg__view(g, t->ndim, t->shape));
        return;
    }
    int fresh;
    eg_tensor *s = eg__grad_slot(t, &fresh);
    if (!s || !t->numel) return;
    if (fresh)
        eg__be_ok(ctx, ctx->be->copy(ctx->bi, s->data, g->data, (size_t)t->numel * eg__dtype_size(t->dtype)),
                  "backward", "copy");
    else
        eg__binary_raw(ctx, "backward (accumulate)", EG_BIN_ADD, t->dtype, 1, &t->numel, s->data, 1, &t->numel,
                       g->data, 1, &t->numel, s->data);
}

/* ---- public autograd API ---- */
void eg_requires_grad(eg_tensor *t, int on) {
    if (!t || (t->flags & EG_TF_PLACEHOLDER)) return;
    if (on && !eg__is_float(t->dtype)) {
        eg__fail(t->ctx, EG_ERR_INVALID, "eg_requires_grad: dtype %s cannot require a gradient",
                 eg__dtype_name(t->dtype));
        return;
    }
    if (on) t->flags |= EG_TF_REQUIRES_GRAD;
    else t->flags &= ~(unsigned)EG_TF_REQUIRES_GRAD;
}

int eg_needs_grad(const eg_tensor *t) { return t && ((t->flags & EG_TF_REQUIRES_GRAD) || t->node); }

eg_tensor *eg_grad(const eg_tensor *t) {
    if (!t || t->node) return NULL;
    return eg__grad_valid(t) ? t->grad : NULL;
}

void eg_zero_grad(eg_tensor *t) {
    if (!t || !t->grad) return;
    if (t->flags & EG_TF_PERSISTENT) {
        eg_ctx *ctx = t->ctx;
        if (t->grad->numel) ctx->be->fill(ctx->bi, t->dtype, t->grad->data, t->grad->numel, 0.0);
        t->grad_live = 0;
        return;
    }
    t->grad = NULL;
}

eg_tensor *eg_detach(eg_tensor *t) {
    if (!t) return NULL;
    return eg__view(t, t->ndim, t->shape);
}

void eg_no_grad_begin(eg_ctx *ctx) {
    if (ctx) ctx->no_grad++;
}
void eg_no_grad_end(eg_ctx *ctx) {
    if (ctx && ctx->no_grad > 0) ctx->no_grad--;
}

eg_status eg_backward_with(eg_tensor *out, const eg_tensor *seed) {
    if (!out || !seed) return EG_ERR_INVALID;
    eg_ctx *ctx = out->ctx;
    if (ctx->status) return ctx->status;
    char a[128], b[128];
    if (!eg_needs_grad(out))
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_backward: the %s tensor does not require a gradient",
                           eg__shape_str(out, a, sizeof a));
    if (seed->numel != out->numel || seed->dtype != out->dtype)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_backward_with: seed %s %s for output %s %s",
                           eg__dtype_name(seed->dtype), eg__shape_str(seed, a, sizeof a),
                           eg__dtype_name(out->dtype), eg__shape_str(out, b, sizeof b));
    ctx->no_grad++;
    ctx->bw_pending = 0;
    /* a private copy: gradients are accumulated in place and must not alias the caller's seed */
    eg_tensor *g = eg__view(eg_clone(seed), out->ndim, out->shape);
    eg__grad_add(out, g, 1);
    for (eg_node *n = out->node; n && ctx->bw_pending > 0; n = n->prev) {
        eg_tensor *o = n->out;
        if (!o->grad) continue;
        eg_tensor *gy = o->grad;
        o->grad = NULL; /* final now: every consumer of o was recorded after n */
        ctx->bw_pending--;
        if (!ctx->status) n->backward(n, gy);
    }
    ctx->bw_pending = 0;
    ctx->no_grad--;
    return ctx->status;
}

eg_status eg_backward(eg_tensor *loss) {
    if (!loss) return EG_ERR_INVALID;
    eg_ctx *ctx = loss->ctx;
    if (ctx->status) return ctx->status;
    if (loss->numel != 1) {
        char a[128];
        return eg_ctx_fail(ctx, EG_ERR_INVALID,
                           "eg_backward: loss %s is not a scalar (use eg_backward_with and a seed gradient)",
                           eg__shape_str(loss, a, sizeof a));
    }
    eg_tensor *seed = eg_full(ctx, loss->dtype, loss->ndim, loss->shape, 1.0);
    if (ctx->status) return ctx->status;
    return eg_backward_with(loss, seed);
}
