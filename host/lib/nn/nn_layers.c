/* nn_layers.c — linear, convolution, embedding, layer norm, activations and
 * the residual MLP block. Parameters are created in the set's dtype
 * (eg_params_set_dtype, default f32) under "<name>.weight" / "<name>.bias". */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

static eg_status status_of(eg_params *ps) {
    eg_ctx *ctx = eg__params_ctx(ps);
    return ctx ? ctx->status : EG_ERR_INVALID;
}

/* ---- linear ---- */
eg_status eg_linear_init(eg_linear *l, eg_params *ps, const char *name, int64_t in, int64_t out, int bias,
                         eg_rng *rng) {
    if (!l || !ps) return EG_ERR_INVALID;
    memset(l, 0, sizeof *l);
    eg_ctx *ctx = eg__params_ctx(ps);
    if (in <= 0 || out <= 0)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_linear_init '%s': sizes %lld -> %lld must be positive", name,
                           (long long)in, (long long)out);
    eg_dtype dt = eg_params_dtype(ps);
    l->in = in;
    l->out = out;
    int64_t ws[2] = {out, in};
    l->weight = eg_params_create(ps, name, "weight", dt, 2, ws);
    if (bias) l->bias = eg_params_create(ps, name, "bias", dt, 1, &out);
    if (ctx->status) return ctx->status;
    return eg_init_glorot(l->weight, rng, in, out);
}

eg_tensor *eg_linear_forward(const eg_linear *l, eg_tensor *x) {
    if (!l || !x) return x ? x->ctx->placeholder : NULL;
    eg_ctx *ctx = x->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != l->in) {
        char sx[128];
        return eg__fail(ctx, EG_ERR_INVALID, "eg_linear_forward: input %s, expected [..., %lld]",
                        eg__shape_str(x, sx, sizeof sx), (long long)l->in);
    }
    eg_tensor *x2 = x;
    if (x->ndim != 2) {
        int64_t s[2] = {-1, l->in};
        x2 = eg_reshape(x, 2, s);
    }
    eg_tensor *y = eg_matmul_nt(x2, l->weight);
    if (l->bias) y = eg_add(y, l->bias);
    if (x->ndim != 2 && !eg__failed(ctx)) {
        int64_t s[EG_MAX_DIMS];
        for (int i = 0; i < x->ndim - 1; i++) s[i] = x->shape[i];
        s[x->ndim - 1] = l->out;
        y = eg_reshape(y, x->ndim, s);
    }
    return y;
}

/* ---- convolution layers ---- */
eg_status eg_conv_init(eg_conv *c, eg_params *ps, const char *name, int dims, int transposed, int64_t c_in,
                       int64_t c_out, int64_t kernel, const eg_conv_opts *opts, int bias, eg_rng *rng) {
    if (!c || !ps) return EG_ERR_INVALID;
    memset(c, 0, sizeof *c);
    eg_ctx *ctx = eg__params_ctx(ps);
    if ((dims != 1 && dims != 2) || c_in <= 0 || c_out <= 0 || kernel <= 0)
        return eg_ctx_fail(ctx, EG_ERR_INVALID,
                           "eg_conv_init '%s': dims %d (1 or 2), channels %lld -> %lld and kernel %lld must be positive",
                           name, dims, (long long)c_in, (long long)c_out, (long long)kernel);
    c->dims = dims;
    c->transposed = transposed != 0;
    if (opts) c->opts = *opts;
    eg_dtype dt = eg_params_dtype(ps);
    int64_t ws[4] = {transposed ? c_in : c_out, transposed ? c_out : c_in, kernel, kernel};
    c->weight = eg_params_create(ps, name, "weight", dt, 2 + dims, ws);
    if (bias) c->bias = eg_params_create(ps, name, "bias", dt, 1, &c_out);
    if (ctx->status) return ctx->status;
    int64_t fan_in = c_in * kernel * (dims == 2 ? kernel : 1);
    return eg_init_he(c->weight, rng, fan_in);
}

eg_tensor *eg_conv_forward(const eg_conv *c, eg_tensor *x) {
    if (!c || !x) return x ? x->ctx->placeholder : NULL;
    if (c->dims == 1)
        return c->transposed ? eg_conv_transpose1d(x, c->weight, c->bias, &c->opts)
                             : eg_conv1d(x, c->weight, c->bias, &c->opts);
    return c->transposed ? eg_conv_transpose2d(x, c->weight, c->bias, &c->opts)
                         : eg_conv2d(x, c->weight, c->bias, &c->opts);
}

/* ---- embedding: N(0, 1) rows ---- */
eg_status eg_embedding_init(eg_embedding *e, eg_params *ps, const char *name, int64_t n, int64_t dim,
                            eg_rng *rng) {
    if (!e || !ps) return EG_ERR_INVALID;
    e->weight = NULL;
    eg_ctx *ctx = eg__params_ctx(ps);
    if (n <= 0 || dim <= 0)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_embedding_init '%s': %lld x %lld must be positive", name,
                           (long long)n, (long long)dim);
    int64_t ws[2] = {n, dim};
    e->weight = eg_params_create(ps, name, "weight", eg_params_dtype(ps), 2, ws);
    if (ctx->status) return ctx->status;
    return eg_init_normal(e->weight, rng, 0.0, 1.0);
}

eg_tensor *eg_embedding_forward(const eg_embedding *e, eg_tensor *index) {
    if (!e || !e->weight) return index ? index->ctx->placeholder : NULL;
    return eg_index_select(e->weight, 0, index);
}

/* ---- layer norm (Ba et al. 2016): (x - mean) / sqrt(var + eps) * gain + bias over the last axis ---- */
eg_status eg_layer_norm_init(eg_layer_norm *ln, eg_params *ps, const char *name, int64_t dim, double eps) {
    if (!ln || !ps) return EG_ERR_INVALID;
    memset(ln, 0, sizeof *ln);
    eg_ctx *ctx = eg__params_ctx(ps);
    if (dim <= 0) return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_layer_norm_init '%s': dim %lld", name, (long long)dim);
    ln->eps = eps > 0 ? eps : 1e-5;
    ln->gain = eg_params_create(ps, name, "gain", eg_params_dtype(ps), 1, &dim);
    ln->bias = eg_params_create(ps, name, "bias", eg_params_dtype(ps), 1, &dim);
    if (ctx->status) return ctx->status;
    return eg_fill(ln->gain, 1.0);
}

eg_tensor *eg_layer_norm_forward(const eg_layer_norm *ln, eg_tensor *x) {
    if (!ln || !x) return x ? x->ctx->placeholder : NULL;
    eg_tensor *xc = eg_sub(x, eg_mean(x, -1, 1));
    eg_tensor *var = eg_mean(eg_square(xc), -1, 1);
    eg_tensor *y = eg_mul(xc, eg_rsqrt(eg_add_scalar(var, ln->eps)));
    if (ln->gain) y = eg_mul(y, ln->gain);
    if (ln->bias) y = eg_add(y, ln->bias);
    return y;
}

/* ---- activations ---- */
eg_tensor *eg_activate(eg_tensor *x, eg_activation act) {
    switch (act) {
    case EG_ACT_NONE: return x;
    case EG_ACT_RELU: return eg_relu(x);
    case EG_ACT_TANH: return eg_tanh(x);
    case EG_ACT_SIGMOID: return eg_sigmoid(x);
    case EG_ACT_ELU: return eg_elu(x, 1.0);
    case EG_ACT_SOFTPLUS: return eg_softplus(x);
    }
    if (!x) return NULL;
    return eg__fail(x->ctx, EG_ERR_INVALID, "eg_activate: unknown activation %d", (int)act);
}

int eg_activation_parse(const char *name) {
    static const struct {
        const char *name;
        eg_activation act;
    } table[] = {{"none", EG_ACT_NONE},       {"identity", EG_ACT_NONE}, {"linear", EG_ACT_NONE},
                 {"relu", EG_ACT_RELU},       {"tanh", EG_ACT_TANH},     {"sigmoid", EG_ACT_SIGMOID},
                 {"elu", EG_ACT_ELU},         {"softplus", EG_ACT_SOFTPLUS}};
    if (!name) return -1;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) return (int)table[i].act;
    return -1;
}

/* ---- residual MLP block ---- */
eg_status eg_residual_init(eg_residual *r, eg_params *ps, const char *name, int64_t dim, int64_t hidden,
                           eg_activation act, eg_rng *rng) {
    if (!r || !ps) return EG_ERR_INVALID;
    memset(r, 0, sizeof *r);
    r->act = act;
    char n1[256], n2[256];
    snprintf(n1, sizeof n1, "%s.l1", name ? name : "");
    snprintf(n2, sizeof n2, "%s.l2", name ? name : "");
    eg_status st = eg_linear_init(&r->l1, ps, n1, dim, hidden, 1, rng);
    if (st == EG_OK) st = eg_linear_init(&r->l2, ps, n2, hidden, dim, 1, rng);
    return st ? st : status_of(ps);
}

eg_tensor *eg_residual_forward(const eg_residual *r, eg_tensor *x) {
    if (!r || !x) return x ? x->ctx->placeholder : NULL;
    eg_tensor *h = eg_linear_forward(&r->l1, eg_activate(x, r->act));
    return eg_add(x, eg_linear_forward(&r->l2, eg_activate(h, r->act)));
}
