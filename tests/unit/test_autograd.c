/* test_autograd.c — the sticky error model, recording rules (no-grad regions,
 * non-differentiable ops, detach), gradient accumulation and zeroing, and
 * eg_backward / eg_backward_with edge cases. */
#include <string.h>

#include "core/core_internal.h"
#include "test_tensor_util.h"

static int tape_len(const eg_ctx *ctx) {
    int n = 0;
    for (const eg_node *p = ctx->tape; p; p = p->prev) n++;
    return n;
}

static void test_sticky(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *a = eg_zeros(ctx, EG_F32, EG_DIMS(3, 4));
    eg_tensor *b = eg_zeros(ctx, EG_F32, EG_DIMS(5, 2));
    CHECK(eg_ctx_status(ctx) == EG_OK && strcmp(eg_ctx_message(ctx), "") == 0);
    eg_tensor *c = eg_matmul(a, b);
    CHECK(c != NULL);
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_matmul: inner dims differ: [3,4] @ [5,2]");
    /* later ops are no-ops returning the placeholder; the first message is kept */
    eg_tensor *d = eg_add(a, eg_zeros(ctx, EG_F32, EG_DIMS(7)));
    CHECK(d == c);
    CHECK(eg_exp(a) == c && eg_sum(a, 0, 0) == c && eg_reshape(a, EG_DIMS(99)) == c);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "inner dims differ");
    CHECK(isnan(eg_item(a)));
    float buf[12];
    CHECK(eg_to_host_f32(a, buf) == EG_ERR_INVALID);
    CHECK(eg_backward(c) == EG_ERR_INVALID);
    CHECK(eg_ctx_fail(ctx, EG_ERR_IO, "later %d", 1) == EG_ERR_IO);
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID); /* first one wins */
    eg_ctx_clear_error(ctx);
    /* gemm's other shape errors name both operands (formatted only when they fail) */
    eg_matmul(eg_zeros(ctx, EG_F32, EG_DIMS(2, 3, 4)), eg_zeros(ctx, EG_F32, EG_DIMS(5, 4, 2)));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_matmul: batch dims differ: [2,3,4] @ [5,4,2] (they must match");
    eg_ctx_clear_error(ctx);
    eg_matmul(eg_zeros(ctx, EG_F32, EG_DIMS(4)), eg_zeros(ctx, EG_F32, EG_DIMS(4, 2)));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_matmul: operands need at least 2 dims: [4] @ [4,2]");
    eg_ctx_clear_error(ctx);
    CHECK(eg_ctx_status(ctx) == EG_OK && eg_ctx_message(ctx)[0] == 0);
    /* other messages name the op and the shapes */
    eg_add(a, eg_zeros(ctx, EG_F32, EG_DIMS(5)));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_add: shapes do not broadcast: [3,4] and [5]");
    eg_ctx_clear_error(ctx);
    eg_reshape(a, EG_DIMS(5, -1));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_reshape: cannot reshape [3,4] to [5,-1]");
    eg_ctx_clear_error(ctx);
    eg_conv2d(eg_zeros(ctx, EG_F32, EG_DIMS(1, 3, 5, 5)), eg_zeros(ctx, EG_F32, EG_DIMS(2, 4, 3, 3)), NULL, NULL);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_conv2d: input channels differ");
    eg_ctx_clear_error(ctx);
    eg_add(a, eg_zeros(ctx, EG_F64, EG_DIMS(3, 4)));
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_add: dtypes f32 and f64");
    eg_ctx_clear_error(ctx);
    eg_sum(a, 2, 0);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_sum: axis 2 out of range for [3,4]");
    eg_ctx_clear_error(ctx);
    eg_backward(a); /* not a scalar and no grad */
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID);
    eg_ctx_clear_error(ctx);
    eg_tensor *ok = eg_add_scalar(a, 1);
    CHECK(eg_ctx_status(ctx) == EG_OK && eg_item(ok) == 1.0);
    eg_scope_close(s);
}

static void test_recording(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x = eg_full(ctx, EG_F64, EG_DIMS(4), 0.5);
    eg_tensor *c = eg_full(ctx, EG_F64, EG_DIMS(4), 2.0);
    int t0 = tape_len(ctx);
    eg_tensor *y = eg_mul(x, c);
    CHECK(!eg_needs_grad(y) && tape_len(ctx) == t0); /* nothing requires grad */
    eg_requires_grad(x, 1);
    y = eg_mul(x, c);
    CHECK(eg_needs_grad(y) && tape_len(ctx) == t0 + 1);
    eg_no_grad_begin(ctx);
    eg_no_grad_begin(ctx); /* nests */
    eg_tensor *z = eg_exp(x);
    eg_no_grad_end(ctx);
    eg_tensor *z2 = eg_exp(x);
    eg_no_grad_end(ctx);
    CHECK(!eg_needs_grad(z) && !eg_needs_grad(z2) && tape_len(ctx) == t0 + 1);
    /* non-differentiable ops never record */
    CHECK(!eg_needs_grad(eg_sign(x)) && !eg_needs_grad(eg_step(x, 0)) && !eg_needs_grad(eg_eq(x, c)) &&
          !eg_needs_grad(eg_gt(x, c)) && !eg_needs_grad(eg_ge(x, c)));
    eg_tensor *m = eg_reshape(x, EG_DIMS(2, 2));
    CHECK(!eg_needs_grad(eg_argmax(m, 1)));
    eg_tensor *w = NULL, *v = NULL;
    eg_syev(eg_matmul_nt(m, m), &w, &v);
    CHECK(!eg_needs_grad(w) && !eg_needs_grad(v));
    /* detach: same memory, no gradient link */
    eg_tensor *d = eg_detach(y);
    CHECK(eg_data(d) == eg_data(y) && !eg_needs_grad(d));
    eg_tensor *loss = eg_sum_all(eg_add(eg_mul(y, y), eg_mul(d, x)));
    CHECK(eg_backward(loss) == EG_OK);
    /* d(sum(4x^2 + (2x)_const x))/dx = 8x + 2x_0 = 4 + 1 */
    double g[4];
    eg_to_host_f64(eg_grad(x), g);
    CHECK(fabs(g[0] - 5.0) < 1e-12 && fabs(g[3] - 5.0) < 1e-12);
    CHECK(eg_grad(y) == NULL); /* intermediates keep no gradient */
    eg_requires_grad(eg_from_host(ctx, EG_I32, EG_DIMS(1), (const int32_t[]){1}), 1);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "i32 cannot require a gradient");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
}

static void test_accumulate(eg_ctx *ctx) {
    eg_tensor *p = eg_param(ctx, EG_F64, EG_DIMS(3));
    eg_fill(p, 1.5);
    CHECK(eg_grad(p) == NULL);
    for (int k = 1; k <= 3; k++) {
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *loss = eg_sum_all(eg_scale(eg_square(p), 2.0)); /* d/dp = 4p = 6 */
        CHECK(eg_backward(loss) == EG_OK);
        eg_scope_close(s);
        double g[3];
        CHECK(eg_grad(p) != NULL && eg_to_host_f64(eg_grad(p), g) == EG_OK);
        CHECK_MSG(fabs(g[0] - 6.0 * k) < 1e-12 && fabs(g[2] - 6.0 * k) < 1e-12, "after %d backward calls: %g", k, g[0]);
    }
    eg_zero_grad(p);
    double g[3] = {1, 1, 1};
    CHECK(eg_grad(p) != NULL && eg_to_host_f64(eg_grad(p), g) == EG_OK && g[0] == 0 && g[1] == 0 && g[2] == 0);
    /* one graph, two backward passes: the tape is kept until its scope closes */
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *loss = eg_sum_all(eg_mul(p, eg_full(ctx, EG_F64, EG_DIMS(3), 0.5)));
    CHECK(eg_backward(loss) == EG_OK && eg_backward(loss) == EG_OK);
    eg_to_host_f64(eg_grad(p), g);
    CHECK(fabs(g[1] - 1.0) < 1e-12);
    /* backward_with: a non-scalar output with a seed; the seed is not modified */
    eg_zero_grad(p);
    eg_tensor *y = eg_add(eg_mul(p, p), p); /* dy/dp = 2p + 1 = 4 */
    eg_tensor *seed = eg_from_host(ctx, EG_F64, EG_DIMS(3), (const double[]){1, -1, 0.5});
    CHECK(eg_backward(y) != EG_OK);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "not a scalar");
    eg_ctx_clear_error(ctx);
    CHECK(eg_backward_with(y, seed) == EG_OK);
    eg_to_host_f64(eg_grad(p), g);
    CHECK(fabs(g[0] - 4.0) < 1e-12 && fabs(g[1] + 4.0) < 1e-12 && fabs(g[2] - 2.0) < 1e-12);
    double sv[3];
    eg_to_host_f64(seed, sv);
    CHECK(sv[0] == 1 && sv[1] == -1 && sv[2] == 0.5);
    CHECK(eg_backward_with(y, eg_zeros(ctx, EG_F64, EG_DIMS(2))) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_backward_with: seed f64 [2] for output f64 [3]");
    eg_ctx_clear_error(ctx);
    /* backward of a leaf itself */
    eg_zero_grad(p);
    CHECK(eg_backward(eg_sum_all(p)) == EG_OK);
    eg_to_host_f64(eg_grad(p), g);
    CHECK(g[0] == 1 && g[2] == 1);
    eg_scope_close(s);
    eg_tensor_free(p);
}

/* broadcasting: gradients are summed back to each input's shape */
static void test_broadcast_grad(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *a = eg_full(ctx, EG_F32, EG_DIMS(2, 3), 1.0);
    eg_tensor *b = eg_from_f32(ctx, EG_F32, EG_DIMS(3), (const float[]){1, 2, 3});
    eg_tensor *c = eg_full(ctx, EG_F32, EG_DIMS(2, 1), 2.0);
    eg_requires_grad(a, 1);
    eg_requires_grad(b, 1);
    eg_requires_grad(c, 1);
    CHECK(eg_backward(eg_sum_all(eg_mul(eg_add(a, b), c))) == EG_OK);
    float gb[3], gc[2], ga[6];
    eg_to_host_f32(eg_grad(b), gb);
    eg_to_host_f32(eg_grad(c), gc);
    eg_to_host_f32(eg_grad(a), ga);
    CHECK(eg_ndim(eg_grad(b)) == 1 && eg_ndim(eg_grad(c)) == 2 && eg_dim(eg_grad(c), 1) == 1);
    CHECK(gb[0] == 4 && gb[2] == 4);                    /* sum over rows of c */
    CHECK(gc[0] == 9 && gc[1] == 9);                    /* sum over columns of a + b */
    CHECK(ga[0] == 2 && ga[5] == 2);
    eg_scope_close(s);
}

int main(void) {
    eg_ctx *ctx = tu_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    test_sticky(ctx);
    test_recording(ctx);
    test_accumulate(ctx);
    test_broadcast_grad(ctx);
    if (eg_ctx_status(ctx)) fprintf(stderr, "ctx: %s\n", eg_ctx_message(ctx));
    CHECK(eg_ctx_status(ctx) == EG_OK);
    tu_close(ctx);
    return eg_test_finish();
}
