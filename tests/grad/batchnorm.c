/* grad/batchnorm — eg_batch_norm (nn_batchnorm.c): finite-difference gradients of the
 * input, gain and bias in training mode (batch statistics, [n, C] and NCHW) and in
 * evaluation mode (running statistics held constant), plus value oracles: the training
 * output is normalised per channel (mean = bias, variance = gain^2 var/(var + eps)), the
 * running averages after one step equal (1 - m) init + m batch (variance unbiased), and
 * evaluation applies (x - running_mean) / sqrt(running_var + eps). */
#include "grad_harness.h"

static eg_tensor *f_bn(eg_tensor *const *x, void *u) {
    eg_batch_norm *bn = u;
    /* a non-linear read-out so the loss is not invariant to the normalisation */
    return eg_tanh(eg_batch_norm_forward(bn, x[0]));
}

static void host(eg_tensor *t, double *out) {
    CHECK(eg_to_host_f64(t, out) == EG_OK);
}

/* training-mode values on [n, C, S] data, and the running update */
static void test_values(eg_ctx *ctx, eg_params *ps) {
    enum { n = 3, C = 2, S = 4 };
    eg_batch_norm bn;
    CHECK(eg_batch_norm_init(&bn, ps, "val", C, 1e-5, 0.25) == EG_OK);
    const double gain[C] = {1.5, -0.5}, bias[C] = {0.2, -1.0};
    double xv[n * C * S], y[n * C * S], rm[C], rv[C];
    for (int i = 0; i < n * C * S; i++)
        xv[i] = sin(0.7 * i) * (1 + i % 3) + 0.1 * i;
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(bn.gain, eg_from_host(ctx, EG_F64, EG_DIMS(C), gain));
    eg_assign(bn.bias, eg_from_host(ctx, EG_F64, EG_DIMS(C), bias));
    eg_tensor *x = eg_from_host(ctx, EG_F64, EG_DIMS(n, C, 2, 2), xv);
    host(eg_batch_norm_forward(&bn, x), y);
    host(bn.running_mean, rm);
    host(bn.running_var, rv);
    for (int c = 0; c < C; c++) {
        double mu = 0, var = 0, ym = 0, yv = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < S; k++)
                mu += xv[(i * C + c) * S + k] / (n * S);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < S; k++) {
                double d = xv[(i * C + c) * S + k] - mu;
                var += d * d / (n * S);
                ym += y[(i * C + c) * S + k] / (n * S);
            }
        for (int i = 0; i < n; i++)
            for (int k = 0; k < S; k++) {
                double d = y[(i * C + c) * S + k] - ym;
                yv += d * d / (n * S);
            }
        CHECK_NEAR(ym, bias[c], 1e-12, 0);
        CHECK_NEAR(yv, gain[c] * gain[c] * var / (var + 1e-5), 1e-12, 0);
        CHECK_NEAR(rm[c], 0.25 * mu, 1e-12, 0);
        CHECK_NEAR(rv[c], 0.75 + 0.25 * var * (n * S) / (n * S - 1.0), 1e-12, 0);
    }
    /* evaluation: the running statistics, the batch's own ignored */
    bn.training = 0;
    host(eg_batch_norm_forward(&bn, x), y);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < S; k++) {
                int j = (i * C + c) * S + k;
                CHECK_NEAR(y[j], gain[c] * (xv[j] - rm[c]) / sqrt(rv[c] + 1e-5) + bias[c], 1e-12, 0);
            }
    /* shape errors name the layer's expectation */
    eg_batch_norm_forward(&bn, eg_zeros(ctx, EG_F64, EG_DIMS(4, 3)));
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "expected [n, 2, ...]");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
    eg_batch_norm bad;
    CHECK(eg_batch_norm_init(&bad, ps, "bad", 0, 0, 0) == EG_ERR_INVALID);
    eg_ctx_clear_error(ctx);
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    eg_params *ps = eg_params_new(ctx);
    eg_params_set_dtype(ps, EG_F64);
    eg_rng rng = eg_rng_named(5, "batchnorm");

    test_values(ctx, ps);

    eg_batch_norm b1;
    CHECK(eg_batch_norm_init(&b1, ps, "bn1", 3, 1e-5, 0.1) == EG_OK);
    eg_init_uniform(b1.gain, &rng, 0.5, 1.5);
    eg_init_uniform(b1.bias, &rng, -0.3, 0.3);
    gh_in i1[3] = {gh_f64(2, (const int64_t[]){5, 3}, -2, 2), gh_ext(b1.gain), gh_ext(b1.bias)};
    gh_check(ctx, "batch_norm train [n, C]", f_bn, &b1, 3, i1);

    eg_batch_norm b2;
    CHECK(eg_batch_norm_init(&b2, ps, "bn2", 2, 1e-5, 0.1) == EG_OK);
    eg_init_uniform(b2.gain, &rng, 0.5, 1.5);
    eg_init_uniform(b2.bias, &rng, -0.3, 0.3);
    gh_in i2[3] = {gh_f64(4, (const int64_t[]){2, 2, 3, 3}, -1, 1), gh_ext(b2.gain), gh_ext(b2.bias)};
    gh_check(ctx, "batch_norm train NCHW", f_bn, &b2, 3, i2);

    /* evaluation: running statistics away from (0, 1), constant under the finite differences */
    eg_init_uniform(b2.running_mean, &rng, -0.5, 0.5);
    eg_init_uniform(b2.running_var, &rng, 0.5, 2.0);
    b2.training = 0;
    gh_check(ctx, "batch_norm eval NCHW", f_bn, &b2, 3, i2);
    double before[2], after[2];
    host(b2.running_var, before);
    eg_scope *s = eg_scope_open(ctx);
    eg_batch_norm_forward(&b2, eg_zeros(ctx, EG_F64, EG_DIMS(2, 2, 3, 3)));
    eg_scope_close(s);
    host(b2.running_var, after);
    CHECK(before[0] == after[0] && before[1] == after[1]); /* evaluation leaves the statistics alone */
    CHECK(eg_needs_grad(b2.running_mean) == 0 && eg_needs_grad(b2.running_var) == 0);
    CHECK(eg_params_find(ps, "bn2.running_mean") == b2.running_mean);

    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context: %s", eg_ctx_message(ctx));
    eg_params_free(ps);
    gh_close(ctx);
    return eg_test_finish();
}
