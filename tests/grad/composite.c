/* grad/composite — finite-difference checks of small networks end to end:
 * an MLP with cross-entropy, a conv net (conv2d, conv_transpose2d, bilinear
 * upsampling, layer norm, Bernoulli likelihood), a conv1d net, and a sigmoid
 * RNN unrolled 5 steps with an eg_detach inside, whose finite differences hold
 * the detached state constant. */
#include "grad_harness.h"

typedef struct mlp {
    eg_linear l1, l2;
} mlp;

static eg_tensor *f_mlp(eg_tensor *const *x, void *u) {
    mlp *m = u;
    eg_tensor *h = eg_tanh(eg_linear_forward(&m->l1, x[0]));
    eg_tensor *logits = eg_linear_forward(&m->l2, h);
    return eg_add(eg_cross_entropy(logits, x[1]), eg_scale(eg_sum_all(eg_square(h)), 0.01));
}

typedef struct convnet {
    eg_conv enc, dec;
    eg_layer_norm ln;
} convnet;

static eg_tensor *f_convnet(eg_tensor *const *x, void *u) {
    convnet *n = u;
    eg_tensor *h = eg_elu(eg_conv_forward(&n->enc, x[0]), 1.0);      /* [2,3,3,3] */
    eg_tensor *d = eg_tanh(eg_conv_forward(&n->dec, h));             /* [2,2,6,6] */
    eg_tensor *up = eg_upsample2d(d, 8, 8, EG_UPSAMPLE_BILINEAR, 0); /* [2,2,8,8] */
    eg_tensor *logits = eg_layer_norm_forward(&n->ln, up);
    return eg_bernoulli_loglik(logits, x[1]); /* [2] */
}

typedef struct conv1net {
    eg_conv c1, c2;
} conv1net;

static eg_tensor *f_conv1net(eg_tensor *const *x, void *u) {
    conv1net *n = u;
    eg_tensor *h = eg_softplus(eg_conv_forward(&n->c1, x[0])); /* [2,4,10] */
    eg_tensor *y = eg_conv_forward(&n->c2, h);                 /* [2,2,20] */
    return eg_gaussian_loglik(y, NULL, x[1]);
}

/* h_t = sigmoid(h_{t-1} W + x_t U); after step 2 the state is detached */
typedef struct rnn {
    int freeze; /* finite differences hold the detached state at its first-pass value */
    double frozen[8];
} rnn;

static eg_tensor *f_rnn(eg_tensor *const *x, void *u) {
    rnn *r = u;
    eg_ctx *ctx = eg_tensor_ctx(x[0]);
    eg_tensor *W = x[0], *U = x[1], *X = x[2]; /* W [4,4], U [3,4], X [5,2,3] */
    eg_tensor *h = eg_zeros(ctx, EG_F64, EG_DIMS(2, 4));
    eg_tensor *outs[5];
    for (int t = 0; t < 5; t++) {
        eg_tensor *xt = eg_reshape(eg_narrow(X, 0, t, 1), EG_DIMS(2, 3));
        h = eg_sigmoid(eg_add(eg_matmul(h, W), eg_matmul(xt, U)));
        outs[t] = h;
        if (t == 2) {
            if (gh_phase == 0 || !r->freeze) {
                h = eg_detach(h);
                if (gh_phase == 0) eg_to_host_f64(h, r->frozen);
            } else {
                h = eg_from_host(ctx, EG_F64, EG_DIMS(2, 4), r->frozen);
            }
        }
    }
    return eg_concat(outs, 5, 0); /* [10, 4] */
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    eg_params *ps = eg_params_new(ctx);
    eg_params_set_dtype(ps, EG_F64);
    eg_rng rng = eg_rng_named(3, "composite");

    mlp m;
    CHECK(eg_linear_init(&m.l1, ps, "mlp.l1", 6, 8, 1, &rng) == EG_OK);
    CHECK(eg_linear_init(&m.l2, ps, "mlp.l2", 8, 3, 1, &rng) == EG_OK);
    eg_init_uniform(m.l1.bias, &rng, -0.3, 0.3);
    int32_t labels[4] = {2, 0, 1, 2};
    gh_in mi[6] = {gh_const(gh_f64(2, (const int64_t[]){4, 6}, -1, 1)), gh_i32(1, (const int64_t[]){4}, labels),
                   gh_ext(m.l1.weight), gh_ext(m.l1.bias), gh_ext(m.l2.weight), gh_ext(m.l2.bias)};
    gh_check(ctx, "mlp+cross_entropy", f_mlp, &m, 6, mi);

    convnet cn;
    eg_conv_opts down = {{2, 2}, {1, 1}, {1, 1}, {0, 0}}, up = {{2, 2}, {1, 1}, {1, 1}, {1, 1}};
    CHECK(eg_conv_init(&cn.enc, ps, "cn.enc", 2, 0, 1, 3, 3, &down, 1, &rng) == EG_OK);
    CHECK(eg_conv_init(&cn.dec, ps, "cn.dec", 2, 1, 3, 2, 3, &up, 1, &rng) == EG_OK);
    CHECK(eg_layer_norm_init(&cn.ln, ps, "cn.ln", 8, 1e-5) == EG_OK);
    eg_init_uniform(cn.ln.gain, &rng, 0.5, 1.5);
    eg_init_uniform(cn.enc.bias, &rng, -0.2, 0.2);
    gh_in ci[8] = {gh_f64(4, (const int64_t[]){2, 1, 6, 6}, -1, 1), gh_const(gh_f64(4, (const int64_t[]){2, 2, 8, 8}, 0, 1)),
                   gh_ext(cn.enc.weight), gh_ext(cn.enc.bias), gh_ext(cn.dec.weight), gh_ext(cn.dec.bias),
                   gh_ext(cn.ln.gain), gh_ext(cn.ln.bias)};
    gh_check(ctx, "convnet", f_convnet, &cn, 8, ci);

    conv1net c1;
    eg_conv_opts p1 = {{0, 1}, {0, 1}, {0, 1}, {0, 0}}, s2 = {{0, 2}, {0, 1}, {0, 1}, {0, 0}};
    CHECK(eg_conv_init(&c1.c1, ps, "c1.a", 1, 0, 2, 4, 3, &p1, 1, &rng) == EG_OK);
    CHECK(eg_conv_init(&c1.c2, ps, "c1.b", 1, 1, 4, 2, 4, &s2, 1, &rng) == EG_OK);
    gh_in c1i[6] = {gh_f64(3, (const int64_t[]){2, 2, 10}, -1, 1), gh_const(gh_f64(3, (const int64_t[]){2, 2, 20}, -1, 1)),
                    gh_ext(c1.c1.weight), gh_ext(c1.c1.bias), gh_ext(c1.c2.weight), gh_ext(c1.c2.bias)};
    gh_check(ctx, "conv1d_net", f_conv1net, &c1, 6, c1i);

    rnn r = {1, {0}};
    gh_in ri[3] = {gh_f64(2, (const int64_t[]){4, 4}, -1, 1), gh_f64(2, (const int64_t[]){3, 4}, -1, 1),
                   gh_const(gh_f64(3, (const int64_t[]){5, 2, 3}, -1, 1))};
    uint64_t state = gh_rng_state;
    gh_check(ctx, "rnn+detach", f_rnn, &r, 3, ri);
    /* the detach matters: finite differences through the full graph disagree */
    gh_rng_state = state;
    r.freeze = 0;
    gh_quiet = 1;
    int diff = gh_check(ctx, "rnn-without-freeze", f_rnn, &r, 3, ri);
    gh_quiet = 0;
    CHECK_MSG(diff > 0, "detached state should change the gradient (%d mismatches)", diff);

    eg_params_free(ps);
    gh_close(ctx);
    return eg_test_finish();
}
