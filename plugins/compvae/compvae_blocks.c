/* compvae_blocks.c — CompVAE building blocks (models-nem-compvae.md §2.3):
 * PyTorch-initialised linear and conv layers, Residual(N) and the
 * permutation-equivariant GraphBlock. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "compvae.h"

eg_tensor *cv_elu(eg_tensor *x) {
    return eg_elu(x, 1.0);
}

eg_status cv_linear(eg_linear *l, eg_params *ps, const char *name, int64_t in, int64_t out, eg_rng *rng) {
    eg_status st = eg_linear_init(l, ps, name, in, out, 1, rng);
    double b = 1.0 / sqrt((double)in);
    if (st == EG_OK) st = eg_init_uniform(l->weight, rng, -b, b);
    if (st == EG_OK) st = eg_init_uniform(l->bias, rng, -b, b);
    return st;
}

eg_status cv_conv(eg_conv *c, eg_params *ps, const char *name, int dims, int transposed, int64_t cin, int64_t cout,
                  int64_t k, int stride, int pad, eg_rng *rng) {
    eg_conv_opts o = {{stride, stride}, {pad, pad}, {1, 1}, {0, 0}};
    eg_status st = eg_conv_init(c, ps, name, dims, transposed, cin, cout, k, &o, 1, rng);
    /* PyTorch: fan_in = weight.size(1) * receptive field (c_in for conv, c_out for transposed) */
    int64_t fan = (transposed ? cout : cin) * k * (dims == 2 ? k : 1);
    double b = 1.0 / sqrt((double)fan);
    if (st == EG_OK) st = eg_init_uniform(c->weight, rng, -b, b);
    if (st == EG_OK) st = eg_init_uniform(c->bias, rng, -b, b);
    return st;
}

eg_status cv_res_init(cv_res *r, eg_params *ps, const char *name, int64_t n, eg_rng *rng) {
    char a[128], b[128];
    snprintf(a, sizeof a, "%s.l1", name);
    snprintf(b, sizeof b, "%s.l2", name);
    eg_status st = cv_linear(&r->l1, ps, a, n, n, rng);
    if (st == EG_OK) st = cv_linear(&r->l2, ps, b, n, n, rng);
    return st;
}

eg_tensor *cv_res_forward(const cv_res *r, eg_tensor *x) {
    return eg_add(x, eg_linear_forward(&r->l2, cv_elu(eg_linear_forward(&r->l1, x))));
}

eg_status cv_graph_init(cv_graph *g, eg_params *ps, const char *name, int64_t hin, int64_t hout, int colour,
                        eg_rng *rng) {
    char k[160];
    eg_status st = EG_OK;
    g->colour = colour;
    g->hin = hin;
    g->hout = hout;
    int64_t mid = colour ? hout : hin + hout; /* width after L1 */
#define SUB(field, fn, ...)                                                                                            \
    if (st == EG_OK) snprintf(k, sizeof k, "%s.%s", name, #field), st = fn(&g->field, ps, k, __VA_ARGS__)
    SUB(g1, cv_res_init, hin, rng);
    SUB(g2, cv_res_init, hin, rng);
    SUB(g3, cv_res_init, hin, rng);
    SUB(l1, cv_linear, 2 * hin, mid, rng);
    SUB(f2, cv_res_init, mid, rng);
    if (!colour) SUB(l3, cv_linear, mid, hout, rng);
#undef SUB
    return st;
}

eg_tensor *cv_graph_rows(const cv_graph *g, eg_tensor *h, eg_tensor *owner, int64_t wholes) {
    eg_tensor *e = cv_elu(cv_res_forward(&g->g1, h));
    /* m_i = sum_{j != i} e_j over the parts j of i's whole: the whole's sum (a scatter-add by
     * owner), gathered back to every part, minus e_i (0 when the whole has one part) */
    eg_tensor *like = eg_empty(eg_tensor_ctx(h), eg_dtype_of(h), EG_DIMS(wholes, g->hin));
    eg_tensor *m = eg_sub(eg_index_select(eg_index_add(like, 0, owner, e), 0, owner), e);
    m = cv_res_forward(&g->g3, eg_tanh(cv_res_forward(&g->g2, m)));
    eg_tensor *hm[2] = {h, m};
    eg_tensor *u = cv_elu(eg_linear_forward(&g->l1, eg_concat(hm, 2, 1)));
    u = cv_res_forward(&g->f2, u);
    return g->colour ? u : eg_linear_forward(&g->l3, cv_elu(u));
}

eg_tensor *cv_owner_dense(eg_ctx *ctx, int64_t B, int64_t K) {
    int64_t n = B * K;
    int32_t *o = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    if (!o) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "compvae: %lld part owners", (long long)n);
        return eg_empty(ctx, EG_I32, 1, &n);
    }
    for (int64_t i = 0; i < n; i++)
        o[i] = (int32_t)(i / K);
    eg_tensor *t = eg_from_host(ctx, EG_I32, 1, &n, o);
    free(o);
    return t;
}

eg_tensor *cv_graph_forward(const cv_graph *g, eg_tensor *h) {
    int64_t B = eg_dim(h, 0), K = eg_dim(h, 1);
    eg_tensor *y = cv_graph_rows(g, eg_reshape(h, EG_DIMS(B * K, g->hin)), cv_owner_dense(eg_tensor_ctx(h), B, K), B);
    return eg_reshape(y, EG_DIMS(B, K, g->hout));
}
