/* test_rng.c — random streams: the same (seed, stream, offset) gives identical
 * bits, fills match philox.h's reference mapping, offsets advance by the number
 * of values drawn (so split draws equal one large draw), named streams use
 * FNV-1a, and the distributions have the right moments. */
#include <string.h>

#include "engram/philox.h"
#include "test_tensor_util.h"

int main(void) {
    eg_ctx *ctx = tu_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    enum { N = 4096 };
    static double a[N], b[N], c[N];
    static float af[N], bf[N];
    eg_scope *s = eg_scope_open(ctx);

    /* same seed -> identical bits, f32 and f64 */
    for (int k = 0; k < 3; k++) {
        eg_rng r1 = eg_rng_make(1234, 7), r2 = eg_rng_make(1234, 7);
        eg_tensor *x, *y, *xf, *yf;
        if (k == 0) {
            x = eg_rand_uniform(ctx, &r1, EG_F64, EG_DIMS(N), -2, 3);
            y = eg_rand_uniform(ctx, &r2, EG_F64, EG_DIMS(N), -2, 3);
            xf = eg_rand_uniform(ctx, &r1, EG_F32, EG_DIMS(N), -2, 3);
            yf = eg_rand_uniform(ctx, &r2, EG_F32, EG_DIMS(N), -2, 3);
        } else if (k == 1) {
            x = eg_rand_normal(ctx, &r1, EG_F64, EG_DIMS(N), 1, 2);
            y = eg_rand_normal(ctx, &r2, EG_F64, EG_DIMS(N), 1, 2);
            xf = eg_rand_normal(ctx, &r1, EG_F32, EG_DIMS(N), 1, 2);
            yf = eg_rand_normal(ctx, &r2, EG_F32, EG_DIMS(N), 1, 2);
        } else {
            x = eg_rand_bernoulli(ctx, &r1, EG_F64, EG_DIMS(N), 0.3);
            y = eg_rand_bernoulli(ctx, &r2, EG_F64, EG_DIMS(N), 0.3);
            xf = eg_rand_bernoulli(ctx, &r1, EG_F32, EG_DIMS(N), 0.3);
            yf = eg_rand_bernoulli(ctx, &r2, EG_F32, EG_DIMS(N), 0.3);
        }
        eg_to_host_f64(x, a);
        eg_to_host_f64(y, b);
        eg_to_host(xf, af);
        eg_to_host(yf, bf);
        CHECK_MSG(memcmp(a, b, sizeof a) == 0 && memcmp(af, bf, sizeof af) == 0, "kind %d", k);
        CHECK(r1.offset == 2 * N && r2.offset == 2 * N);
        /* the values are philox.h's mapping, rounded once to the dtype */
        int same = 1;
        double pa = k == 0 ? -2 : k == 1 ? 1 : 0.3, pb = k == 0 ? 3 : k == 1 ? 2 : 0;
        for (int i = 0; i < N; i++) {
            double ref = eg_philox_value(k, 1234, 7, (uint64_t)i, pa, pb);
            double reff = eg_philox_value(k, 1234, 7, (uint64_t)(N + i), pa, pb);
            if (a[i] != ref || af[i] != (float)reff) same = 0;
        }
        CHECK_MSG(same, "kind %d differs from the philox.h reference", k);
        /* moments */
        double mean = 0, var = 0;
        for (int i = 0; i < N; i++) mean += a[i] / N;
        for (int i = 0; i < N; i++) var += (a[i] - mean) * (a[i] - mean) / N;
        double wm = k == 0 ? 0.5 : k == 1 ? 1 : 0.3, wv = k == 0 ? 25.0 / 12 : k == 1 ? 4 : 0.21;
        CHECK_MSG(fabs(mean - wm) < 4 * sqrt(wv / N) && fabs(var - wv) < 0.1 * wv, "kind %d: mean %g var %g", k, mean, var);
    }
    /* different stream or seed -> different numbers */
    eg_rng r3 = eg_rng_make(1234, 8), r4 = eg_rng_make(1235, 7), r5 = eg_rng_make(1234, 7);
    eg_to_host_f64(eg_rand_uniform(ctx, &r3, EG_F64, EG_DIMS(N), 0, 1), b);
    eg_to_host_f64(eg_rand_uniform(ctx, &r4, EG_F64, EG_DIMS(N), 0, 1), c);
    eg_to_host_f64(eg_rand_uniform(ctx, &r5, EG_F64, EG_DIMS(N), 0, 1), a);
    int eq_stream = 0, eq_seed = 0;
    for (int i = 0; i < N; i++) {
        eq_stream += a[i] == b[i];
        eq_seed += a[i] == c[i];
    }
    CHECK(eq_stream == 0 && eq_seed == 0);
    /* two draws of N/2 equal one draw of N */
    eg_rng r6 = eg_rng_make(1234, 7);
    eg_to_host_f64(eg_rand_uniform(ctx, &r6, EG_F64, EG_DIMS(N / 2), 0, 1), b);
    eg_to_host_f64(eg_rand_uniform(ctx, &r6, EG_F64, EG_DIMS(N / 2), 0, 1), b + N / 2);
    CHECK(memcmp(a, b, sizeof a) == 0 && r6.offset == N);
    /* named streams: FNV-1a 64 of the name */
    eg_rng n1 = eg_rng_named(5, "a"), n2 = eg_rng_named(5, "init"), n3 = eg_rng_named(5, "init");
    CHECK(n1.stream == 0xaf63dc4c8601ec8cull && n1.seed == 5 && n1.offset == 0);
    CHECK(eg_rng_named(0, "").stream == 0xcbf29ce484222325ull);
    CHECK(n2.stream == n3.stream && n2.stream != n1.stream);
    eg_rng m = eg_rng_make(9, 10);
    CHECK(m.seed == 9 && m.stream == 10 && m.offset == 0);
    eg_rand_uniform(ctx, NULL, EG_F32, EG_DIMS(3), 0, 1);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "eg_rand_uniform: NULL rng");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
    CHECK(eg_ctx_status(ctx) == EG_OK);
    tu_close(ctx);
    return eg_test_finish();
}
