/* optim.c — SGD (momentum, weight decay), Adam and Adamax with PyTorch's
 * update rules, learning-rate helpers and gradient clipping.
 *
 * A parameter whose gradient was not reached by a backward since the last
 * zero_grad is skipped (as PyTorch does for a None gradient); Adam and Adamax
 * count steps per parameter for their bias corrections. State tensors are
 * persistent. Adam and Adamax run as one fused backend kernel per parameter
 * (backend ABI 1.3, adam_step); on an older backend, and for SGD, each update is
 * composed from elementwise ops in its own scope with recording off. Both paths
 * round alike (cpu_adam.c). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMAX } opt_kind;

struct eg_optim {
    opt_kind kind;
    eg_params *ps;
    eg_ctx *ctx;
    double lr, b1, b2, eps, momentum, wd;
    int64_t steps;
    int n;            /* parameters with state slots */
    eg_tensor **m;    /* momentum buffer / first moment */
    eg_tensor **v;    /* second moment / infinity norm */
    int64_t *t;       /* per-parameter step count */
};

static eg_optim *make(eg_params *ps, opt_kind kind, double lr) {
    eg_ctx *ctx = eg__params_ctx(ps);
    if (!ctx) return NULL;
    eg_optim *o = calloc(1, sizeof *o);
    if (!o) {
        eg__fail(ctx, EG_ERR_NOMEM, "optimiser");
        return NULL;
    }
    o->kind = kind;
    o->ps = ps;
    o->ctx = ctx;
    o->lr = lr;
    return o;
}

eg_optim *eg_sgd(eg_params *ps, double lr, double momentum, double weight_decay) {
    eg_optim *o = make(ps, OPT_SGD, lr);
    if (o) {
        o->momentum = momentum;
        o->wd = weight_decay;
    }
    return o;
}

eg_optim *eg_adam(eg_params *ps, double lr, double beta1, double beta2, double eps) {
    eg_optim *o = make(ps, OPT_ADAM, lr);
    if (o) {
        o->b1 = beta1;
        o->b2 = beta2;
        o->eps = eps;
    }
    return o;
}

eg_optim *eg_adamax(eg_params *ps, double lr, double beta1, double beta2, double eps) {
    eg_optim *o = make(ps, OPT_ADAMAX, lr);
    if (o) {
        o->b1 = beta1;
        o->b2 = beta2;
        o->eps = eps;
    }
    return o;
}

void eg_optim_free(eg_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        eg_tensor_free(o->m[i]);
        eg_tensor_free(o->v[i]);
    }
    free(o->m);
    free(o->v);
    free(o->t);
    free(o);
}

static int grow_state(eg_optim *o, int n) {
    if (n <= o->n) return 1;
    eg_tensor **m = realloc(o->m, (size_t)n * sizeof *m);
    if (m) o->m = m;
    eg_tensor **v = realloc(o->v, (size_t)n * sizeof *v);
    if (v) o->v = v;
    int64_t *t = realloc(o->t, (size_t)n * sizeof *t);
    if (t) o->t = t;
    if (!m || !v || !t) {
        eg__fail(o->ctx, EG_ERR_NOMEM, "eg_optim_step: optimiser state for %d parameters", n);
        return 0;
    }
    for (int i = o->n; i < n; i++) {
        o->m[i] = o->v[i] = NULL;
        o->t[i] = 0;
    }
    o->n = n;
    return 1;
}

static eg_tensor *state(eg_ctx *ctx, eg_tensor **slot, const eg_tensor *p) {
    if (!*slot) {
        eg_tensor *s = eg_persistent(ctx, p->dtype, p->ndim, p->shape);
        if (eg__failed(ctx)) return NULL;
        *slot = s;
    }
    return *slot;
}

static eg_tensor *live_grad(const eg_tensor *p) {
    eg_tensor *g = eg_grad(p);
    if (!g || ((p->flags & EG_TF_PERSISTENT) && !p->grad_live)) return NULL;
    return g;
}

/* the backend has the 1.3 fused Adam / Adamax kernel */
static int have_adam_kernel(eg_ctx *ctx) {
    return eg_ctx_has(ctx, EG_FEATURE_ADAM_STEP);
}

static void update(eg_optim *o, int i, eg_tensor *p, eg_tensor *g) {
    eg_ctx *ctx = o->ctx;
    if (o->kind == OPT_SGD) {
        if (o->wd != 0.0) g = eg_add(g, eg_scale(p, o->wd));
        if (o->momentum != 0.0) {
            eg_tensor *buf = state(ctx, &o->m[i], p);
            if (!buf) return;
            /* buf = momentum * buf + g (PyTorch starts from buf = g, the same as a zero buffer) */
            eg_assign(buf, eg_add(eg_scale(buf, o->momentum), g));
            g = buf;
        }
        eg_assign(p, eg_sub(p, eg_scale(g, o->lr)));
        return;
    }
    eg_tensor *m = state(ctx, &o->m[i], p), *v = state(ctx, &o->v[i], p);
    if (!m || !v) return;
    int64_t t = ++o->t[i];
    double bc1 = 1.0 - pow(o->b1, (double)t);
    if (have_adam_kernel(ctx) && g->dtype == p->dtype && g->numel == p->numel) {
        eg_adam_args a = {p->dtype, o->kind == OPT_ADAM ? EG_ADAM : EG_ADAMAX, p->numel, o->lr / bc1, o->b1, o->b2,
                          o->eps, 1.0 / sqrt(1.0 - pow(o->b2, (double)t))};
        eg__be_ok(ctx, ctx->be->adam_step(ctx->bi, &a, p->data, m->data, v->data, g->data), "eg_optim_step",
                  "adam_step");
        return;
    }
    eg_assign(m, eg_add(eg_scale(m, o->b1), eg_scale(g, 1.0 - o->b1)));
    if (o->kind == OPT_ADAM) {
        /* p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) */
        double bc2 = 1.0 - pow(o->b2, (double)t);
        eg_assign(v, eg_add(eg_scale(v, o->b2), eg_scale(eg_square(g), 1.0 - o->b2)));
        eg_tensor *denom = eg_affine(eg_sqrt(v), 1.0 / sqrt(bc2), o->eps);
        eg_assign(p, eg_sub(p, eg_scale(eg_div(m, denom), o->lr / bc1)));
    } else {
        /* u = max(b2 u, |g| + eps); p -= lr/bc1 * m / u */
        eg_assign(v, eg_maximum(eg_scale(v, o->b2), eg_add_scalar(eg_abs(g), o->eps)));
        eg_assign(p, eg_sub(p, eg_scale(eg_div(m, v), o->lr / bc1)));
    }
}

eg_status eg_optim_step(eg_optim *o) {
    if (!o) return EG_ERR_INVALID;
    eg_ctx *ctx = o->ctx;
    if (ctx->status) return ctx->status;
    int n = eg_params_count(o->ps);
    if (!grow_state(o, n)) return ctx->status;
    eg_no_grad_begin(ctx);
    for (int i = 0; i < n && !ctx->status; i++) {
        eg_tensor *p = eg_params_get(o->ps, i);
        eg_tensor *g = live_grad(p);
        /* a scope per parameter: its temporaries reuse the same (cache-warm) memory */
        eg_scope *s = eg_scope_open(ctx);
        if (g) update(o, i, p, g);
        eg_scope_close(s);
    }
    eg_no_grad_end(ctx);
    if (!ctx->status) o->steps++;
    return ctx->status;
}

void eg_optim_zero_grad(eg_optim *o) {
    if (o) eg_params_zero_grad(o->ps);
}
void eg_optim_set_lr(eg_optim *o, double lr) {
    if (o) o->lr = lr;
}
double eg_optim_lr(const eg_optim *o) { return o ? o->lr : NAN; }
int64_t eg_optim_steps(const eg_optim *o) { return o ? o->steps : 0; }

double eg_lr_step_decay(double lr0, double gamma, int64_t step_size, int64_t epoch) {
    if (step_size <= 0 || epoch < 0) return lr0;
    return lr0 * pow(gamma, (double)(epoch / step_size));
}

double eg_clip_grad_norm(eg_params *ps, double max_norm) {
    eg_ctx *ctx = eg__params_ctx(ps);
    if (!ctx || ctx->status) return NAN;
    int n = eg_params_count(ps);
    eg_scope *s = eg_scope_open(ctx);
    eg_no_grad_begin(ctx);
    /* one device-side sum per dtype, one download each */
    eg_tensor *acc[2] = {NULL, NULL};
    for (int i = 0; i < n; i++) {
        eg_tensor *g = live_grad(eg_params_get(ps, i));
        if (!g) continue;
        int k = g->dtype == EG_F64;
        eg_tensor *s2 = eg_sum_all(eg_square(g));
        acc[k] = acc[k] ? eg_add(acc[k], s2) : s2;
    }
    double total2 = 0.0;
    for (int k = 0; k < 2; k++)
        if (acc[k]) total2 += eg_item(acc[k]);
    double total = sqrt(total2);
    /* PyTorch: coefficient max_norm / (norm + 1e-6), applied only when below 1 */
    double coef = max_norm / (total + 1e-6);
    if (coef < 1.0 && !ctx->status)
        for (int i = 0; i < n; i++) {
            eg_tensor *g = live_grad(eg_params_get(ps, i));
            if (g) eg_assign(g, eg_scale(g, coef));
        }
    eg_no_grad_end(ctx);
    eg_scope_close(s);
    return ctx->status ? NAN : total;
}

eg_status eg_clip_grad_value(eg_params *ps, double limit) {
    eg_ctx *ctx = eg__params_ctx(ps);
    if (!ctx) return EG_ERR_INVALID;
    if (ctx->status) return ctx->status;
    int n = eg_params_count(ps);
    eg_scope *s = eg_scope_open(ctx);
    eg_no_grad_begin(ctx);
    for (int i = 0; i < n; i++) {
        eg_tensor *g = live_grad(eg_params_get(ps, i));
        if (g) eg_assign(g, eg_clamp(g, -limit, limit));
    }
    eg_no_grad_end(ctx);
    eg_scope_close(s);
    return ctx->status;
}
