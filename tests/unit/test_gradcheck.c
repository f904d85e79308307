/* test_gradcheck.c — the SDK's finite-difference checker (engram/gradcheck.h) passes
 * correct gradients (a softmax-weighted mean, the modern Hopfield update, in two
 * inputs), catches a wrong one (x * detach(x), whose autograd is half the truth, with
 * the worst element and both values reported), and refuses inputs that are not f64
 * parameters. */
#include <math.h>

#include "check.h"
#include "engram/gradcheck.h"
#include "engram/host.h"

static eg_tensor *hopfield_update(eg_tensor *const *x, void *user) {
    (void)user; /* x[0] queries [2, 3], x[1] memories [4, 3]: softmax(2 q X^T) X */
    return eg_matmul(eg_softmax(eg_gemm(x[0], x[1], 0, 1, 2.0), 1), x[1]);
}

static eg_tensor *half_wrong(eg_tensor *const *x, void *user) {
    (void)user;
    return eg_mul(x[0], eg_detach(x[0])); /* d/dx x^2 = 2x; autograd sees x */
}

int main(void) {
    char err[512];
    eg_backend *be = NULL;
    eg_ctx *ctx = NULL;
    if (eg_backend_open_start("cpu", 1, &be, err, sizeof err) != EG_OK || eg_ctx_create(be, &ctx) != EG_OK) {
        CHECK_MSG(0, "cpu backend: %s", err);
        return eg_test_finish();
    }
    const double q[6] = {0.3, -0.2, 0.9, -0.5, 0.4, 0.1};
    const double m[12] = {0.2, 0.7, -0.4, 1.0, -0.3, 0.5, -0.8, 0.1, 0.6, 0.05, -0.9, 0.3};
    eg_tensor *Q = eg_param(ctx, EG_F64, EG_DIMS(2, 3)), *X = eg_param(ctx, EG_F64, EG_DIMS(4, 3));
    eg_assign(Q, eg_from_host(ctx, EG_F64, EG_DIMS(2, 3), q));
    eg_assign(X, eg_from_host(ctx, EG_F64, EG_DIMS(4, 3), m));
    eg_tensor *in[2] = {Q, X};
    eg_gradcheck_result r;
    CHECK(eg_gradcheck(ctx, hopfield_update, NULL, 2, in, NULL, &r) == EG_OK);
    CHECK_MSG(r.checked == 18 && r.mismatched == 0 && r.max_abs_error < 1e-8, "checked %lld, mismatched %lld, %g",
              (long long)r.checked, (long long)r.mismatched, r.max_abs_error);
    double back[6];
    eg_to_host_f64(Q, back);
    int same = 1;
    for (int i = 0; i < 6; i++)
        same &= back[i] == q[i];
    CHECK_MSG(same, "the inputs hold the point again after the check");

    CHECK(eg_gradcheck(ctx, half_wrong, NULL, 1, in, NULL, &r) == EG_OK);
    CHECK_MSG(r.mismatched == 6, "x * detach(x): %lld of 6 elements flagged", (long long)r.mismatched);
    /* the error at element j is |x_j| R_j, R_j = 0.6 + 0.5 sin(1.7 j + 0.3): largest at j = 4
       (0.4 x 0.964 = 0.386; j = 2 has |x| 0.9 but R 0.335); finite difference = 2 x autograd */
    CHECK(r.worst_input == 0 && r.worst_element == 4);
    CHECK_NEAR(r.max_abs_error, 0.4 * (0.6 + 0.5 * sin(1.7 * 4 + 0.3)), 1e-7, 0);
    CHECK_NEAR(r.worst_finite_difference, 2 * r.worst_autograd, 1e-6, 0);

    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *plain[1] = {eg_from_host(ctx, EG_F64, EG_DIMS(2, 3), q)};
    CHECK(eg_gradcheck(ctx, half_wrong, NULL, 1, plain, NULL, &r) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "input 0 is not an f64 parameter");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
    eg_tensor_free(Q);
    eg_tensor_free(X);
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
