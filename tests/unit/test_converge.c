/* test_converge.c — the SDK helpers that retrieval loops share: the per-query
 * convergence tracker (eg_converge_*: a query counts updates until its first
 * change below tol, the loop may stop when all have converged; squared distances
 * compared as their roots), random sub-streams (eg_rng_substream: block b draws
 * the values at offset b·2^40 of its stream, whatever was drawn before) and the
 * monotonic clock. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "engram/clock.h"
#include "engram/retrieval.h"
#include "registry/loader.h"

static int update(eg_converge *c, eg_ctx *ctx, const double *change, int n) {
    return eg_converge_update(c, eg_from_host(ctx, EG_F64, EG_DIMS(n), change));
}

static void test_converge(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    eg_converge c;
    CHECK(eg_converge_init(&c, 3, 0.1, 0) == EG_OK);
    /* query 0 converges at update 1, query 1 at update 3, query 2 goes back above tol
     * after converging once and still counts 2 (it stopped counting at its first fixed point) */
    const double u1[3] = {0.05, 1.0, 0.5}, u2[3] = {0.0, 0.5, 0.01}, u3[3] = {0.0, 0.01, 0.9};
    CHECK(update(&c, ctx, u1, 3) == 0);
    CHECK(update(&c, ctx, u2, 3) == 0);
    CHECK(update(&c, ctx, u3, 3) == 1);
    CHECK(c.updates == 3);
    float steps[3];
    eg_to_host_f32(eg_converge_steps(&c, ctx), steps);
    CHECK(steps[0] == 0 && steps[1] == 2 && steps[2] == 1);
    /* reset: a new block starts from nothing; float32 changes are read exactly */
    eg_converge_reset(&c);
    const float f[3] = {0.2f, 0.2f, 0.0999f};
    CHECK(eg_converge_update(&c, eg_from_f32(ctx, EG_F32, EG_DIMS(3), f)) == 0);
    eg_to_host_f32(eg_converge_steps(&c, ctx), steps);
    CHECK(steps[0] == 1 && steps[1] == 1 && steps[2] == 0 && c.updates == 1);
    /* a change of the wrong size is refused, not read past */
    CHECK(update(&c, ctx, u1, 2) == EG_ERR_INVALID);
    eg_converge_free(&c);
    eg_converge_free(&c); /* twice is safe */

    /* squared: W2² between iterates, compared as sqrt(max(c, 0)) < tol */
    CHECK(eg_converge_init(&c, 2, 0.1, 1) == EG_OK);
    const double sq[2] = {0.0099, -1e-12}, sq2[2] = {0.0101, 0};
    CHECK(update(&c, ctx, sq, 2) == 1);
    eg_converge_reset(&c);
    CHECK(update(&c, ctx, sq2, 2) == 0);
    eg_to_host_f32(eg_converge_steps(&c, ctx), steps);
    CHECK(steps[0] == 1 && steps[1] == 0);
    eg_converge_free(&c);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    eg_scope_close(s);
}

static void test_substream(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    eg_rng base = eg_rng_named(7, "corrupt");
    eg_rng b3 = eg_rng_substream(base, 3, EG_RNG_SPAN_BLOCK);
    CHECK(b3.seed == base.seed && b3.stream == base.stream && b3.offset == base.offset + (3ull << 40));
    eg_rng st = eg_rng_substream(eg_rng_make(1, 2), 5, EG_RNG_SPAN_STAGE);
    CHECK(st.offset == 5ull << 32);
    /* block 3's draws do not depend on what was drawn from the stream before */
    eg_rng used = base;
    eg_rand_uniform(ctx, &used, EG_F32, EG_DIMS(1000), 0, 1);
    eg_rng late = eg_rng_substream(base, 3, EG_RNG_SPAN_BLOCK), early = b3;
    float x[8], y[8];
    eg_to_host_f32(eg_rand_normal(ctx, &early, EG_F32, EG_DIMS(8), 0, 1), x);
    eg_to_host_f32(eg_rand_normal(ctx, &late, EG_F32, EG_DIMS(8), 0, 1), y);
    CHECK(memcmp(x, y, sizeof x) == 0);
    eg_rng manual = base;
    manual.offset += 3ull << 40;
    eg_to_host_f32(eg_rand_normal(ctx, &manual, EG_F32, EG_DIMS(8), 0, 1), y);
    CHECK(memcmp(x, y, sizeof x) == 0);
    eg_scope_close(s);
}

static void test_clock(void) {
    double t0 = eg_monotonic();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double dt = eg_monotonic() - t0;
    CHECK_MSG(dt >= 0.019 && dt < 5.0, "20 ms sleep measured as %g s", dt);
}

int main(void) {
    eg_backend *be = NULL;
    eg_ctx *ctx = eg_test_cpu_ctx(1, &be);
    if (!ctx) return eg_test_finish();
    test_converge(ctx);
    test_substream(ctx);
    test_clock();
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
