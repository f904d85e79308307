/* test_nn.c — parameter sets, initialisers (ranges, moments, rng advance),
 * layer output shapes and values, activations, and loss values against
 * hand-computed answers. */
#include <string.h>

#include "test_tensor_util.h"

static void test_params(eg_ctx *ctx) {
    eg_params *ps = eg_params_new(ctx);
    CHECK(eg_params_dtype(ps) == EG_F32);
    eg_rng rng = eg_rng_make(1, 2);
    eg_linear l;
    CHECK(eg_linear_init(&l, ps, "enc.fc", 5, 4, 1, &rng) == EG_OK);
    CHECK(eg_params_count(ps) == 2 && eg_params_numel(ps) == 24);
    CHECK(strcmp(eg_params_name(ps, 0), "enc.fc.weight") == 0 && strcmp(eg_params_name(ps, 1), "enc.fc.bias") == 0);
    CHECK(eg_params_find(ps, "enc.fc.weight") == l.weight && eg_params_get(ps, 1) == l.bias);
    CHECK(eg_params_find(ps, "nope") == NULL && eg_params_get(ps, 5) == NULL);
    CHECK(eg_needs_grad(l.weight) && eg_dim(l.weight, 0) == 4 && eg_dim(l.weight, 1) == 5);
    CHECK(rng.offset == 20); /* the weight's 20 values were drawn */
    eg_tensor *t = eg_params_create(ps, "", "scale", EG_F64, EG_DIMS(2));
    CHECK(eg_params_find(ps, "scale") == t && eg_dtype_of(t) == EG_F64);
    CHECK(eg_params_add(ps, "scale", eg_persistent(ctx, EG_F32, EG_DIMS(1))) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "'scale' already registered");
    eg_ctx_clear_error(ctx);
    eg_tensor *own = eg_persistent(ctx, EG_F32, EG_DIMS(3));
    CHECK(eg_params_add(ps, "own", own) == EG_OK && eg_params_count(ps) == 4);
    eg_params_free(ps); /* frees own too (valgrind run checks) */
}

static void test_init(eg_ctx *ctx) {
    enum { N = 20000 };
    eg_tensor *t = eg_persistent(ctx, EG_F64, EG_DIMS(100, 200));
    static double v[N];
    eg_rng rng = eg_rng_make(42, 0);
    CHECK(eg_init_glorot(t, &rng, 100, 200) == EG_OK && rng.offset == N);
    eg_to_host_f64(t, v);
    double lim = sqrt(6.0 / 300.0), mx = 0, mean = 0, var = 0;
    for (int i = 0; i < N; i++) {
        mx = fmax(mx, fabs(v[i]));
        mean += v[i] / N;
    }
    for (int i = 0; i < N; i++) var += (v[i] - mean) * (v[i] - mean) / N;
    CHECK(mx <= lim && mx > 0.99 * lim);
    CHECK(fabs(mean) < 0.01 * lim && fabs(var - lim * lim / 3) < 0.03 * lim * lim / 3);
    CHECK(eg_init_he(t, &rng, 50) == EG_OK && rng.offset == 2 * N);
    eg_to_host_f64(t, v);
    mean = var = 0;
    for (int i = 0; i < N; i++) mean += v[i] / N;
    for (int i = 0; i < N; i++) var += (v[i] - mean) * (v[i] - mean) / N;
    CHECK(fabs(mean) < 0.01 && fabs(var - 2.0 / 50) < 0.03 * 2.0 / 50);
    CHECK(eg_init_uniform(t, &rng, 2, 3) == EG_OK);
    eg_to_host_f64(t, v);
    int in = 1;
    for (int i = 0; i < N; i++) in &= v[i] >= 2 && v[i] < 3;
    CHECK(in);
    CHECK(eg_init_normal(t, &rng, -1, 0.5) == EG_OK && rng.offset == 4 * N);
    eg_to_host_f64(t, v);
    mean = 0;
    for (int i = 0; i < N; i++) mean += v[i] / N;
    CHECK(fabs(mean + 1) < 0.02);
    /* initialisers draw the same values as the rand ops from the same stream position */
    eg_rng r1 = eg_rng_make(9, 3), r2 = eg_rng_make(9, 3);
    eg_init_uniform(t, &r1, -1, 1);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *u = eg_rand_uniform(ctx, &r2, EG_F64, EG_DIMS(100, 200), -1, 1);
    static double w[N];
    eg_to_host_f64(t, v);
    eg_to_host_f64(u, w);
    CHECK(memcmp(v, w, sizeof v) == 0);
    eg_scope_close(s);
    eg_tensor_free(t);
}

static void test_layers(eg_ctx *ctx) {
    eg_params *ps = eg_params_new(ctx);
    eg_rng rng = eg_rng_make(5, 0);
    eg_scope *s = eg_scope_open(ctx);
    eg_linear l;
    eg_linear_init(&l, ps, "l", 5, 3, 1, &rng);
    eg_fill(l.weight, 0.5);
    eg_fill(l.bias, -1.0);
    eg_tensor *y = eg_linear_forward(&l, eg_full(ctx, EG_F32, EG_DIMS(4, 2, 5), 1.0));
    CHECK(eg_ndim(y) == 3 && eg_dim(y, 0) == 4 && eg_dim(y, 1) == 2 && eg_dim(y, 2) == 3);
    CHECK(fabs(eg_item(y) - 1.5) < 1e-6); /* 5 * 0.5 - 1 */
    eg_tensor *y1 = eg_linear_forward(&l, eg_full(ctx, EG_F32, EG_DIMS(5), 2.0));
    CHECK(eg_ndim(y1) == 1 && eg_dim(y1, 0) == 3 && fabs(eg_item(y1) - 4.0) < 1e-6);
    eg_linear_forward(&l, eg_full(ctx, EG_F32, EG_DIMS(2, 4), 2.0));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_linear_forward: input [2,4], expected [..., 5]");
    eg_ctx_clear_error(ctx);
    eg_linear nb;
    eg_linear_init(&nb, ps, "nb", 3, 2, 0, &rng);
    CHECK(nb.bias == NULL && eg_params_count(ps) == 3);

    eg_conv c2, t2, c1, t1;
    eg_conv_opts o = {{2, 2}, {1, 1}, {1, 1}, {1, 1}};
    CHECK(eg_conv_init(&c2, ps, "c2", 2, 0, 3, 8, 3, &o, 1, &rng) == EG_OK);
    CHECK(eg_ndim(c2.weight) == 4 && eg_dim(c2.weight, 0) == 8 && eg_dim(c2.weight, 1) == 3);
    eg_tensor *h = eg_conv_forward(&c2, eg_zeros(ctx, EG_F32, EG_DIMS(2, 3, 28, 28)));
    CHECK(eg_dim(h, 0) == 2 && eg_dim(h, 1) == 8 && eg_dim(h, 2) == 14 && eg_dim(h, 3) == 14);
    CHECK(eg_conv_init(&t2, ps, "t2", 2, 1, 8, 3, 3, &o, 1, &rng) == EG_OK);
    CHECK(eg_dim(t2.weight, 0) == 8 && eg_dim(t2.weight, 1) == 3);
    eg_tensor *r = eg_conv_forward(&t2, h);
    CHECK(eg_dim(r, 1) == 3 && eg_dim(r, 2) == 28 && eg_dim(r, 3) == 28);
    eg_conv_opts o1 = {{1, 2}, {0, 1}, {1, 1}, {0, 1}};
    CHECK(eg_conv_init(&c1, ps, "c1", 1, 0, 2, 4, 3, &o1, 0, &rng) == EG_OK && c1.bias == NULL);
    CHECK(eg_ndim(c1.weight) == 3);
    eg_tensor *h1 = eg_conv_forward(&c1, eg_zeros(ctx, EG_F32, EG_DIMS(5, 2, 16)));
    CHECK(eg_ndim(h1) == 3 && eg_dim(h1, 1) == 4 && eg_dim(h1, 2) == 8);
    CHECK(eg_conv_init(&t1, ps, "t1", 1, 1, 4, 2, 3, &o1, 1, &rng) == EG_OK);
    eg_tensor *r1 = eg_conv_forward(&t1, h1);
    CHECK(eg_dim(r1, 1) == 2 && eg_dim(r1, 2) == 16);

    eg_embedding e;
    CHECK(eg_embedding_init(&e, ps, "emb", 10, 4, &rng) == EG_OK);
    eg_tensor *ids = eg_from_host(ctx, EG_I32, EG_DIMS(3), (const int32_t[]){9, 0, 9});
    eg_tensor *ev = eg_embedding_forward(&e, ids);
    CHECK(eg_dim(ev, 0) == 3 && eg_dim(ev, 1) == 4);
    float ef[12], wf[40];
    eg_to_host_f32(ev, ef);
    eg_to_host_f32(e.weight, wf);
    CHECK(ef[0] == wf[36] && ef[4] == wf[0] && ef[11] == wf[39]);

    eg_layer_norm ln;
    CHECK(eg_layer_norm_init(&ln, ps, "ln", 4, 1e-5) == EG_OK);
    eg_tensor *xn = eg_from_f32(ctx, EG_F32, EG_DIMS(2, 4), (const float[]){1, 2, 3, 4, -2, 0, 2, 8});
    eg_tensor *yn = eg_layer_norm_forward(&ln, xn);
    float v[8];
    eg_to_host_f32(yn, v);
    double m = 0, q = 0;
    for (int i = 0; i < 4; i++) m += v[i] / 4;
    for (int i = 0; i < 4; i++) q += (v[i] - m) * (v[i] - m) / 4;
    CHECK(fabs(m) < 1e-6 && fabs(q - 1.25 / (1.25 + 1e-5)) < 1e-4);
    CHECK(fabs(v[0] - (1 - 2.5) / sqrt(1.25 + 1e-5)) < 1e-5);

    eg_residual rb;
    CHECK(eg_residual_init(&rb, ps, "res", 4, 16, EG_ACT_RELU, &rng) == EG_OK);
    CHECK(eg_params_find(ps, "res.l1.weight") != NULL && eg_params_find(ps, "res.l2.bias") != NULL);
    eg_fill(rb.l2.weight, 0.0);
    eg_tensor *yr = eg_residual_forward(&rb, xn); /* zero last layer: identity */
    CHECK(tu_close_to(yr, (const double[]){1, 2, 3, 4, -2, 0, 2, 8}, 8, 1e-6));

    CHECK(eg_activation_parse("relu") == EG_ACT_RELU && eg_activation_parse("tanh") == EG_ACT_TANH &&
          eg_activation_parse("sigmoid") == EG_ACT_SIGMOID && eg_activation_parse("elu") == EG_ACT_ELU &&
          eg_activation_parse("softplus") == EG_ACT_SOFTPLUS && eg_activation_parse("none") == EG_ACT_NONE &&
          eg_activation_parse("gelu") == -1 && eg_activation_parse(NULL) == -1);
    eg_tensor *ax = eg_from_f32(ctx, EG_F32, EG_DIMS(2), (const float[]){-1, 2});
    CHECK(tu_close_to(eg_activate(ax, EG_ACT_RELU), (const double[]){0, 2}, 2, 1e-7));
    CHECK(tu_close_to(eg_activate(ax, EG_ACT_ELU), (const double[]){exp(-1) - 1, 2}, 2, 1e-6));
    CHECK(eg_activate(ax, EG_ACT_NONE) == ax);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_scope_close(s);
    eg_params_free(ps);
}

static void test_losses(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    /* Bernoulli: logits [2,2], x [2,2]: per row sum x*log s(l) + (1-x) log s(-l) */
    double lh[4] = {0.5, -1.0, 30.0, -2.0}, xh[4] = {1, 0, 0, 0.25};
    eg_tensor *l = eg_from_host(ctx, EG_F64, EG_DIMS(2, 2), lh), *x = eg_from_host(ctx, EG_F64, EG_DIMS(2, 2), xh);
    double want[2];
    for (int r = 0; r < 2; r++) {
        want[r] = 0;
        for (int j = 0; j < 2; j++) {
            double lv = lh[r * 2 + j], xv = xh[r * 2 + j];
            want[r] += xv * -log1p(exp(-lv)) + (1 - xv) * -log1p(exp(lv));
        }
    }
    eg_tensor *b = eg_bernoulli_loglik(l, x);
    CHECK(eg_ndim(b) == 1 && eg_dim(b, 0) == 2 && tu_close_to(b, want, 2, 1e-12));
    /* extreme logits stay finite */
    eg_tensor *big = eg_bernoulli_loglik(eg_full(ctx, EG_F32, EG_DIMS(1, 3), 200.0), eg_zeros(ctx, EG_F32, EG_DIMS(1, 3)));
    CHECK(fabs(eg_item(big) + 600.0) < 1e-3);
    /* Gaussian */
    double mh[2] = {0, 1}, vh[2] = {0, log(4.0)}, gx[2] = {1, 3};
    eg_tensor *mu = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), mh), *lv = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), vh);
    eg_tensor *gxt = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), gx);
    double c = -0.5 * log(2 * M_PI);
    double g1 = (c - 0.5) + (c - 0.5 * log(4.0) - 0.5 * 4.0 / 4.0);
    CHECK(fabs(eg_item(eg_gaussian_loglik(mu, lv, gxt)) - g1) < 1e-12);
    CHECK(fabs(eg_item(eg_gaussian_loglik(mu, NULL, gxt)) - (2 * c - 0.5 - 2.0)) < 1e-12);
    /* KL to N(0, I): 0.5 * sum(e^lv + mu^2 - 1 - lv) */
    CHECK(fabs(eg_item(eg_kl_diag_gaussian(mu, lv)) - 0.5 * (0 + (4 + 1 - 1 - log(4.0)))) < 1e-12);
    /* KL between diagonal Gaussians, and KL(q||q) = 0 */
    double k2 = 0.5 * ((log(4.0) - 0) + (1 + 1) / 4.0 - 1) + 0.5 * ((0 - log(4.0)) + (4 + 1) / 1.0 - 1);
    eg_tensor *mp = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), (const double[]){1, 0});
    eg_tensor *lp = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), (const double[]){log(4.0), 0});
    CHECK(fabs(eg_item(eg_kl_diag_gaussians(mu, lv, mp, lp)) - k2) < 1e-12);
    CHECK(fabs(eg_item(eg_kl_diag_gaussians(mu, lv, mu, lv))) < 1e-12);
    /* mse, cross-entropy */
    CHECK(fabs(eg_item(eg_mse(mu, gxt)) - (1 + 4) / 2.0) < 1e-12);
    double lg[6] = {1, 2, 3, 0, 0, 0};
    eg_tensor *logits = eg_from_host(ctx, EG_F64, EG_DIMS(2, 3), lg);
    eg_tensor *lab = eg_from_host(ctx, EG_I32, EG_DIMS(2), (const int32_t[]){2, 1});
    double ce = 0.5 * ((log(exp(1) + exp(2) + exp(3)) - 3) + log(3.0));
    eg_tensor *cet = eg_cross_entropy(logits, lab);
    CHECK(eg_ndim(cet) == 0 && fabs(eg_item(cet) - ce) < 1e-12);
    eg_cross_entropy(logits, eg_from_host(ctx, EG_F64, EG_DIMS(2), (const double[]){2, 1}));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_cross_entropy");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
}

int main(void) {
    eg_ctx *ctx = tu_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    test_params(ctx);
    test_init(ctx);
    test_layers(ctx);
    test_losses(ctx);
    if (eg_ctx_status(ctx)) fprintf(stderr, "ctx: %s\n", eg_ctx_message(ctx));
    CHECK(eg_ctx_status(ctx) == EG_OK);
    tu_close(ctx);
    return eg_test_finish();
}
