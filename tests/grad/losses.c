/* grad/losses — finite-difference checks of the nn.h losses (with broadcasting
 * where they allow it) and of the layers' forward functions with respect to
 * their inputs and f64 parameters. */
#include "grad_harness.h"

#define OP(nm, expr)                                          \
    static eg_tensor *f_##nm(eg_tensor *const *x, void *u) {  \
        (void)u;                                              \
        return expr;                                          \
    }
OP(bernoulli, eg_bernoulli_loglik(x[0], x[1]))
OP(gaussian, eg_gaussian_loglik(x[0], x[1], x[2]))
OP(gaussian_unit, eg_gaussian_loglik(x[0], NULL, x[1]))
OP(kl, eg_kl_diag_gaussian(x[0], x[1]))
OP(kl2, eg_kl_diag_gaussians(x[0], x[1], x[2], x[3]))
OP(mse, eg_mse(x[0], x[1]))
OP(ce, eg_cross_entropy(x[0], x[1]))

static eg_tensor *f_linear(eg_tensor *const *x, void *u) { return eg_linear_forward((const eg_linear *)u, x[0]); }
static eg_tensor *f_conv(eg_tensor *const *x, void *u) { return eg_conv_forward((const eg_conv *)u, x[0]); }
static eg_tensor *f_ln(eg_tensor *const *x, void *u) { return eg_layer_norm_forward((const eg_layer_norm *)u, x[0]); }
static eg_tensor *f_res(eg_tensor *const *x, void *u) { return eg_residual_forward((const eg_residual *)u, x[0]); }
static eg_tensor *f_emb(eg_tensor *const *x, void *u) {
    return eg_tanh(eg_embedding_forward((const eg_embedding *)u, x[0]));
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    const int64_t s35[2] = {3, 5}, s5[1] = {5}, s3245[4] = {3, 2, 4, 5};
    /* Bernoulli: logits [3,5] and pixels in [0,1] (not just 0/1), image-shaped too */
    gh_in b1[2] = {gh_f64(2, s35, -4, 4), gh_f64(2, s35, 0, 1)};
    gh_check(ctx, "bernoulli_loglik", f_bernoulli, NULL, 2, b1);
    gh_in b2[2] = {gh_f64(4, s3245, -4, 4), gh_const(gh_f64(4, s3245, 0, 1))};
    gh_check(ctx, "bernoulli_loglik/4d", f_bernoulli, NULL, 2, b2);
    gh_in g1[3] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1), gh_f64(2, s35, -2, 2)};
    gh_check(ctx, "gaussian_loglik", f_gaussian, NULL, 3, g1);
    gh_in g2[3] = {gh_f64(2, s35, -1, 1), gh_f64(1, s5, -1, 1), gh_f64(2, s35, -2, 2)};
    gh_check(ctx, "gaussian_loglik/shared_logvar", f_gaussian, NULL, 3, g2);
    gh_in g3[2] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -2, 2)};
    gh_check(ctx, "gaussian_loglik/unit", f_gaussian_unit, NULL, 2, g3);
    gh_in k1[2] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1)};
    gh_check(ctx, "kl_diag_gaussian", f_kl, NULL, 2, k1);
    gh_in k2[4] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1)};
    gh_check(ctx, "kl_diag_gaussians", f_kl2, NULL, 4, k2);
    gh_in k3[4] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1), gh_f64(1, s5, -1, 1), gh_f64(1, s5, -1, 1)};
    gh_check(ctx, "kl_diag_gaussians/broadcast_prior", f_kl2, NULL, 4, k3);
    gh_in m1[2] = {gh_f64(2, s35, -1, 1), gh_f64(2, s35, -1, 1)};
    gh_check(ctx, "mse", f_mse, NULL, 2, m1);
    gh_in m2[2] = {gh_f64(2, s35, -1, 1), gh_f64(1, s5, -1, 1)};
    gh_check(ctx, "mse/broadcast", f_mse, NULL, 2, m2);
    int32_t labels[3] = {4, 0, 2};
    gh_in c1[2] = {gh_f64(2, s35, -2, 2), gh_i32(1, (const int64_t[]){3}, labels)};
    gh_check(ctx, "cross_entropy", f_ce, NULL, 2, c1);

    /* layers with f64 parameters */
    eg_params *ps = eg_params_new(ctx);
    eg_params_set_dtype(ps, EG_F64);
    eg_rng rng = eg_rng_make(7, 1);
    eg_linear lin;
    CHECK(eg_linear_init(&lin, ps, "lin", 5, 4, 1, &rng) == EG_OK);
    eg_init_uniform(lin.bias, &rng, -0.5, 0.5);
    gh_in l1[3] = {gh_f64(3, (const int64_t[]){2, 3, 5}, -1, 1), gh_ext(lin.weight), gh_ext(lin.bias)};
    gh_check(ctx, "linear/3d_input", f_linear, &lin, 3, l1);
    gh_in l2[1] = {gh_f64(1, s5, -1, 1)};
    gh_check(ctx, "linear/1d_input", f_linear, &lin, 1, l2);
    eg_conv cv;
    eg_conv_opts co = {{2, 2}, {1, 1}, {1, 1}, {1, 1}};
    CHECK(eg_conv_init(&cv, ps, "convt", 2, 1, 3, 2, 3, &co, 1, &rng) == EG_OK);
    eg_init_uniform(cv.bias, &rng, -0.5, 0.5);
    gh_in cc[3] = {gh_f64(4, (const int64_t[]){2, 3, 3, 3}, -1, 1), gh_ext(cv.weight), gh_ext(cv.bias)};
    gh_check(ctx, "conv_layer/transposed2d", f_conv, &cv, 3, cc);
    eg_layer_norm ln;
    CHECK(eg_layer_norm_init(&ln, ps, "ln", 5, 1e-5) == EG_OK);
    eg_init_uniform(ln.gain, &rng, 0.5, 1.5);
    eg_init_uniform(ln.bias, &rng, -0.5, 0.5);
    gh_in n1[3] = {gh_f64(2, s35, -2, 2), gh_ext(ln.gain), gh_ext(ln.bias)};
    gh_check(ctx, "layer_norm", f_ln, &ln, 3, n1);
    eg_residual rb;
    CHECK(eg_residual_init(&rb, ps, "res", 5, 7, EG_ACT_TANH, &rng) == EG_OK);
    gh_in r1[5] = {gh_f64(2, s35, -1, 1), gh_ext(rb.l1.weight), gh_ext(rb.l1.bias), gh_ext(rb.l2.weight),
                   gh_ext(rb.l2.bias)};
    gh_check(ctx, "residual", f_res, &rb, 5, r1);
    eg_embedding em;
    CHECK(eg_embedding_init(&em, ps, "emb", 6, 3, &rng) == EG_OK);
    int32_t ids[4] = {5, 1, 5, 0};
    gh_in e1[2] = {gh_i32(1, (const int64_t[]){4}, ids), gh_ext(em.weight)};
    gh_check(ctx, "embedding", f_emb, &em, 2, e1);
    eg_params_free(ps);
    gh_close(ctx);
    return eg_test_finish();
}
