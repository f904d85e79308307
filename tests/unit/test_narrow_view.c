/* test_narrow_view.c — eg_narrow of the leading axis is a view (writes show in the
 * source, no copy), other axes copy; values and gradients are the same either way. */
#include "check.h"
#include "engram/tensor.h"
#include "registry/loader.h"

int main(void) {
    char err[512];
    eg_backend *b = NULL;
    eg_ctx *ctx = NULL;
    if (eg_backend_open_start("cpu", 2, &b, err, sizeof err) != EG_OK) return eg_test_skip(err);
    CHECK(eg_ctx_create(b, &ctx) == EG_OK);
    float src[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, out[12];
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x = eg_from_host(ctx, EG_F32, EG_DIMS(4, 3), src);

    eg_tensor *rows = eg_narrow(x, 0, 1, 2); /* rows 1..2: a view */
    CHECK(eg_dim(rows, 0) == 2 && eg_dim(rows, 1) == 3);
    CHECK(eg_data(rows) == (char *)eg_data(x) + 3 * sizeof(float));
    CHECK(eg_to_host_f32(rows, out) == EG_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(out[i], 3 + i, 0, 0);
    CHECK(eg_fill(rows, -1) == EG_OK); /* writes through to x */
    CHECK(eg_to_host_f32(x, out) == EG_OK);
    for (int i = 0; i < 12; i++) CHECK_NEAR(out[i], i >= 3 && i < 9 ? -1 : i, 0, 0);

    eg_tensor *cols = eg_narrow(x, 1, 1, 2); /* columns: a copy */
    CHECK(eg_data(cols) != eg_data(x));
    CHECK(eg_to_host_f32(cols, out) == EG_OK);
    const float want[8] = {1, 2, -1, -1, -1, -1, 10, 11};
    for (int i = 0; i < 8; i++) CHECK_NEAR(out[i], want[i], 0, 0);

    /* gradient through a row view: d sum(2 * x[1:3]) / dx = 2 on those rows, 0 elsewhere */
    eg_tensor *p = eg_from_host(ctx, EG_F32, EG_DIMS(4, 3), src);
    eg_requires_grad(p, 1);
    CHECK(eg_backward(eg_sum_all(eg_scale(eg_narrow(p, 0, 1, 2), 2.0))) == EG_OK);
    CHECK(eg_grad(p) != NULL);
    if (eg_grad(p)) {
        CHECK(eg_to_host_f32(eg_grad(p), out) == EG_OK);
        for (int i = 0; i < 12; i++) CHECK_NEAR(out[i], i >= 3 && i < 9 ? 2 : 0, 0, 0);
    }
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "%s", eg_ctx_message(ctx));
    eg_scope_close(s);
    eg_ctx_destroy(ctx);
    eg_backend_close(b);
    return eg_test_finish();
}
