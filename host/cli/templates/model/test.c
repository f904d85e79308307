/* test_@NAME@.c — the @NAME@ update against answers worked out by hand, on the CPU
 * backend in double precision: a test that can fail (it checks numbers, not that
 * something ran). Run: ctest --test-dir build */
#include <math.h>
#include <stdio.h>

#include "@NAME@.h"
#include "engram/host.h"

static int failed, passed;
static void check(int ok, const char *what, double got, double want) {
    printf("%s %s: got %.15g, want %.15g\n", ok ? "ok  " : "FAIL", what, got, want);
    ok ? passed++ : failed++;
}

int main(void) {
    char err[1024];
    eg_backend *be = NULL;
    eg_ctx *ctx = NULL;
    if (eg_backend_open_start("cpu", 1, &be, err, sizeof err) != EG_OK || eg_ctx_create(be, &ctx) != EG_OK) {
        printf("FAIL cpu backend: %s\n0 passed, 1 failed\n", err);
        return 1;
    }
    /* memories (1, 0) and (0, 1), query (1, 0.5): logits beta (1, 0.5) */
    const double x[4] = {1, 0, 0, 1}, q[2] = {1, 0.5};
    eg_tensor *X = eg_from_host(ctx, EG_F64, EG_DIMS(2, 2), x), *S = eg_from_host(ctx, EG_F64, EG_DIMS(1, 2), q);
    const double betas[3] = {0.0, 2.0, 50.0};
    for (int i = 0; i < 3; i++) {
        @NAME@_model m = {betas[i], 1, 0};
        double out[2];
        eg_to_host_f64(@NAME@_step(&m, S, X), out);
        /* softmax weights (w, 1 - w) with w = 1 / (1 + exp(-beta * 0.5)); the state is (w, 1 - w) */
        double w = 1.0 / (1.0 + exp(-betas[i] * 0.5));
        char what[64];
        snprintf(what, sizeof what, "beta %g: first coordinate", betas[i]);
        check(fabs(out[0] - w) < 1e-12, what, out[0], w);
        snprintf(what, sizeof what, "beta %g: second coordinate", betas[i]);
        check(fabs(out[1] - (1 - w)) < 1e-12, what, out[1], 1 - w);
    }
    check(eg_ctx_status(ctx) == EG_OK, "no error in the context", eg_ctx_status(ctx), EG_OK);
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
