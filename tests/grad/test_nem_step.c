/* test_nem_step.c — gradients of the nem plugin's unrolled EM steps against
 * central finite differences (f64): two chained RNN-EM steps (with and without
 * layer norm) and two N-EM steps, loss eq. (5) with gradients through gamma
 * (gamma_grad on, so the finite difference sees the same function), checked
 * with respect to the state (theta, psi, gamma) and every network parameter.
 * The plugin's code is linked into this test. */
#include <stdlib.h>

#include "grad_harness.h"
#include "plugins/nem/nem.h"

enum { B = 2, K = 2, HH = 2, WW = 3, P = HH * WW, HD = 4 };
static const double ybin[B * P] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0};
static const double xnoisy[B * P] = {1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0};

/* inputs: theta [B*K, HD], psi [B, K, 1, P], gamma [B, K, 1, P], then parameters; output: the summed loss of
 * two steps and the final psi, concatenated (so the harness checks both) */
static eg_tensor *f_two_steps(eg_tensor *const *x, void *user) {
    const nem_model *m = user;
    eg_ctx *ctx = eg_tensor_ctx(x[0]);
    eg_tensor *xn = eg_from_host(ctx, EG_F64, EG_DIMS(B, P), xnoisy);
    eg_tensor *y = eg_from_host(ctx, EG_F64, EG_DIMS(B, P), ybin);
    nem_state s = {x[0], x[1], x[2]};
    eg_tensor *l1 = NULL, *l2 = NULL;
    s = nem_step(m, s, xn, y, &l1);
    s = nem_step(m, s, xn, y, &l2);
    eg_tensor *parts[3] = {eg_reshape(eg_add(l1, l2), EG_DIMS(1)), eg_reshape(s.psi, EG_DIMS(-1)),
                           eg_reshape(s.gamma, EG_DIMS(-1))};
    return eg_concat(parts, 3, 0);
}

static void check_variant(eg_ctx *ctx, const char *name, nem_variant v, int ln, int gaussian, int binary) {
    nem_cfg c = {0};
    c.variant = v, c.k = K, c.steps = 2, c.hidden = HD, c.gaussian = gaussian, c.e_sigma = 0.5;
    c.inter_weight = 0.7, c.loss_all = 1, c.gamma_grad = 1, c.layer_norm = ln, c.eta0 = 0.8;
    nem_model m;
    eg_rng rng = eg_rng_named(11, name);
    CHECK(nem_init(&m, ctx, &c, 1, HH, WW, EG_F64, &rng) == EG_OK);
    if (eg_ctx_status(ctx) != EG_OK) return;
    m.binary_targets = binary; /* y is binary: both Bernoulli loss paths are valid */
    gh_in in[GH_MAX_IN];
    int n = 0;
    in[n++] = gh_f64(2, (const int64_t[]){B * K, HD}, -1.5, 1.5);
    in[n++] = gh_f64(4, (const int64_t[]){B, K, 1, P}, 0.1, 0.9);
    in[n++] = gh_f64(4, (const int64_t[]){B, K, 1, P}, 0.1, 0.9);
    if (v == NEM_NEM) {
        in[n++] = gh_ext(m.w_tied);
        in[n++] = gh_ext(m.eta);
    } else {
        eg_init_uniform(m.b_h, &rng, -0.3, 0.3);
        in[n++] = gh_ext(m.w_x);
        in[n++] = gh_ext(m.w_h);
        in[n++] = gh_ext(m.b_h);
        in[n++] = gh_ext(m.out.weight);
        in[n++] = gh_ext(m.out.bias);
    }
    gh_check(ctx, name, f_two_steps, &m, n, in);
    if (ln) { /* the layer norm's own parameters, with the state fixed */
        eg_init_uniform(m.ln.gain, &rng, 0.5, 1.5);
        gh_in in2[5] = {gh_const(in[0]), gh_const(in[1]), gh_const(in[2]), gh_ext(m.ln.gain), gh_ext(m.ln.bias)};
        gh_check(ctx, "rnn-em layer norm parameters", f_two_steps, &m, 5, in2);
    }
    nem_free(&m);
}

/* gamma_grad off: the autograd of one step must equal the finite differences of the same step with both
 * gammas held at their values (the masking gamma is an input, the E-step's gamma in the loss is frozen at
 * the value of the unperturbed pass) */
static double frozen_gamma[B * K * P];

static eg_tensor *f_stop_gradient(eg_tensor *const *x, void *user) {
    const nem_model *m = user;
    eg_ctx *ctx = eg_tensor_ctx(x[0]);
    eg_tensor *xn = eg_from_host(ctx, EG_F64, EG_DIMS(B, P), xnoisy);
    eg_tensor *y = eg_from_host(ctx, EG_F64, EG_DIMS(B, P), ybin);
    if (gh_phase == 0) { /* the plugin's step, stop-gradient inside */
        nem_state s = {x[0], x[1], x[2]};
        eg_tensor *loss = NULL;
        s = nem_step(m, s, xn, y, &loss);
        eg_to_host_f64(s.gamma, frozen_gamma);
        return eg_reshape(loss, EG_DIMS(1));
    }
    /* the same step written out with constants in place of both gammas (x[2] is a constant input) */
    eg_tensor *delta = eg_sub(eg_reshape(xn, EG_DIMS(B, 1, 1, P)), x[1]);
    eg_tensor *r = eg_reshape(eg_mul(x[2], delta), EG_DIMS(B * K, P)), *theta1 = NULL, *psi1 = NULL;
    nem_mstep(m, x[0], r, &theta1, &psi1);
    eg_tensor *g_new = eg_from_host(ctx, EG_F64, EG_DIMS(B, K, 1, P), frozen_gamma);
    return eg_reshape(nem_loss(m, eg_reshape(psi1, EG_DIMS(B, K, 1, P)), g_new, y), EG_DIMS(1));
}

static void check_stop_gradient(eg_ctx *ctx) {
    for (int v = 0; v < 2; v++) {
        nem_cfg c = {0};
        c.variant = v ? NEM_NEM : NEM_RNN, c.k = K, c.steps = 1, c.hidden = HD, c.inter_weight = 0.7;
        c.loss_all = 1, c.gamma_grad = 0, c.eta0 = 0.8;
        nem_model m;
        eg_rng rng = eg_rng_named(12, "stop-gradient");
        CHECK(nem_init(&m, ctx, &c, 1, HH, WW, EG_F64, &rng) == EG_OK);
        if (eg_ctx_status(ctx) != EG_OK) return;
        m.binary_targets = v;
        gh_in in[GH_MAX_IN];
        int n = 0;
        in[n++] = gh_f64(2, (const int64_t[]){B * K, HD}, -1.5, 1.5);
        in[n++] = gh_f64(4, (const int64_t[]){B, K, 1, P}, 0.1, 0.9);
        in[n++] = gh_const(gh_f64(4, (const int64_t[]){B, K, 1, P}, 0.1, 0.9));
        if (v) {
            in[n++] = gh_ext(m.w_tied);
            in[n++] = gh_ext(m.eta);
        } else {
            in[n++] = gh_ext(m.w_x);
            in[n++] = gh_ext(m.w_h);
            in[n++] = gh_ext(m.out.weight);
            in[n++] = gh_ext(m.out.bias);
        }
        gh_check(ctx, v ? "n-em, stop-gradient on gamma" : "rnn-em, stop-gradient on gamma", f_stop_gradient, &m, n,
                 in);
        /* and the stop-gradient matters: with gradients through gamma the result differs */
        m.cfg.gamma_grad = 1;
        gh_quiet = 1;
        int differs = gh_check(ctx, "gamma_grad on vs the frozen-gamma function", f_stop_gradient, &m, n, in);
        gh_quiet = 0;
        CHECK_MSG(differs > 0, "gradients through gamma should change the %s gradient", v ? "n-em" : "rnn-em");
        nem_free(&m);
    }
}

int main(void) {
    eg_ctx *ctx = gh_open();
    CHECK(ctx != NULL);
    if (!ctx) return eg_test_finish();
    check_variant(ctx, "rnn-em bernoulli", NEM_RNN, 0, 0, 0);
    check_variant(ctx, "rnn-em bernoulli, binary targets", NEM_RNN, 0, 0, 1);
    check_variant(ctx, "rnn-em bernoulli layer norm", NEM_RNN, 1, 0, 1);
    check_variant(ctx, "rnn-em gaussian", NEM_RNN, 0, 1, 0);
    check_variant(ctx, "n-em bernoulli", NEM_NEM, 0, 0, 0);
    check_variant(ctx, "n-em bernoulli, binary targets", NEM_NEM, 0, 0, 1);
    check_variant(ctx, "n-em gaussian", NEM_NEM, 0, 1, 0);
    check_stop_gradient(ctx);
    gh_close(ctx);
    return eg_test_finish();
}
