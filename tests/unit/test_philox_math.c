/* test_philox_math.c — accuracy of philox.h's libm-free log and cos (the normal
 * mapping's eg_philox_log and eg_philox_cos2pi) against long-double libm (logl,
 * cosl: ~11 more bits than double, so the reference's own error is < 0.001 ulp),
 * over millions of inputs: the values the normal mapping feeds them (1 - u and u2
 * from Philox), every binade of 1 - u down to 2^-53, the neighbourhood of 1 and of
 * the octant boundaries of cos, random positive normal doubles for log, and the
 * edge cases. Bounds (the header's documented accuracy):
 *   log: |got - ref| <= 1 ulp(ref) (so <= 2.2e-16 |ref|)
 *   cos: |got - ref| <= 1.35e-16, exact at u = 0, 1/4, 1/2, 3/4
 * It prints the measured maxima and how often double libm's log / cos(2 pi u)
 * agree bit for bit. Finally the normal mapping is checked to be exactly the
 * composition of these functions and within a few ulps of the long-double formula. */
#include <float.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "engram/philox.h"

#define TWO_PI_L 6.283185307179586476925286766559005768L

typedef struct {
    double max_ulp, max_rel, worst_x;
    long n, same_libm;
    double max_libm_ulp;
} log_stats;

typedef struct {
    double max_abs, worst_u, max_libm_abs;
    long n, same_libm;
} cos_stats;

static double ulp_of(long double ref) {
    int ex;
    if (ref == 0) return DBL_TRUE_MIN;
    frexpl(ref, &ex); /* |ref| = m 2^ex, m in [0.5, 1): a double there has ulp 2^(ex - 53) */
    return ldexp(1.0, ex - 53);
}

static void log_one(log_stats *st, double x) {
    long double ref = logl((long double)x);
    double got = eg_philox_log(x), lib = log(x);
    double err = (double)fabsl((long double)got - ref), u = ulp_of(ref);
    double eu = err / u, rel = ref != 0 ? err / (double)fabsl(ref) : err;
    if (eu > st->max_ulp) st->max_ulp = eu, st->worst_x = x;
    if (rel > st->max_rel) st->max_rel = rel;
    st->n++;
    st->same_libm += got == lib;
    double du = fabs(got - lib) / u;
    if (du > st->max_libm_ulp) st->max_libm_ulp = du;
}

static void cos_one(cos_stats *st, double u) {
    long double ref = cosl(TWO_PI_L * (long double)u);
    double got = eg_philox_cos2pi(u), lib = cos(6.283185307179586476925 * u);
    double err = (double)fabsl((long double)got - ref);
    if (err > st->max_abs) st->max_abs = err, st->worst_u = u;
    st->n++;
    st->same_libm += got == lib;
    if (fabs(got - lib) > st->max_libm_abs) st->max_libm_abs = fabs(got - lib);
}

/* u in [0, 1) with 53 random bits, as the mapping draws it */
static double draw_u(uint64_t seed, uint64_t i, int second) {
    uint32_t r[4];
    eg_philox_words(seed, 99, i, r);
    return second ? eg_philox_u53(r[2], r[3]) : eg_philox_u53(r[0], r[1]);
}

static void check_log(void) {
    const double eps = 1.0 / 9007199254740992.0; /* 2^-53 */
    log_stats a = {0}, b = {0}, c = {0}, d = {0};
    /* (a) the inputs the normal mapping sees: 1 - u, u from Philox */
    for (uint64_t i = 0; i < 4000000; i++)
        log_one(&a, 1.0 - draw_u(1, i, 0));
    /* (b) each binade of 1 - u = (1 + v) 2^-k, k = 1..53 (and x = 2^-53 itself) */
    for (int k = 1; k <= 53; k++)
        for (uint64_t i = 0; i < 20000; i++) {
            double v = draw_u(2 + (uint64_t)k, i, 0), x = ldexp(1.0 + v, -k);
            if (x < 1.0) log_one(&b, x);
        }
    log_one(&b, eps);
    /* (c) next to 1 on both sides, where log(x) ~ x - 1 is tiny */
    for (int j = 1; j <= 200000; j++) {
        log_one(&c, 1.0 - j * eps);
        log_one(&c, 1.0 + 2 * j * eps);
    }
    /* (d) positive normal doubles of every exponent: the function's whole domain */
    for (uint64_t i = 0; i < 1000000; i++) {
        uint32_t r[4];
        eg_philox_words(77, 5, i, r);
        uint64_t bits = ((uint64_t)r[0] << 32 | r[1]) & 0x7FFFFFFFFFFFFFFFull;
        double x = eg_philox_dfrombits(bits);
        if (x >= DBL_MIN && x <= DBL_MAX) log_one(&d, x);
    }
    static const char *nm[] = {"1-u (Philox)", "binades 2^-1..2^-53", "1 +- k ulp", "all normals"};
    log_stats *all[] = {&a, &b, &c, &d};
    for (int i = 0; i < 4; i++) {
        printf("log  %-20s n=%8ld  max %.3f ulp  max rel %.3g  (worst x=%a)  same bits as libm log: %.6f%%, "
               "max diff %.2f ulp\n",
               nm[i], all[i]->n, all[i]->max_ulp, all[i]->max_rel, all[i]->worst_x,
               100.0 * (double)all[i]->same_libm / (double)all[i]->n, all[i]->max_libm_ulp);
        CHECK_MSG(all[i]->max_ulp <= 1.0, "log %s: max error %.3f ulp at x=%a", nm[i], all[i]->max_ulp,
                  all[i]->worst_x);
        CHECK_MSG(all[i]->max_rel <= 2.2e-16, "log %s: max relative error %.3g", nm[i], all[i]->max_rel);
        CHECK_MSG(all[i]->n >= 200000, "log %s: only %ld samples", nm[i], all[i]->n);
    }
    /* edges: log 1 = 0 exactly; 1 - 2^-53 -> -2^-53 (exact value -2^-53 - 2^-107 rounds there) */
    CHECK(eg_philox_log(1.0) == 0.0);
    CHECK(eg_philox_log(1.0 - eps) == -eps);
    CHECK(fabsl((long double)eg_philox_log(eps) - logl((long double)eps)) <= ulp_of(logl((long double)eps)));
    CHECK(fabsl((long double)eg_philox_log(0.5) - logl(0.5L)) <= 0.5 * ulp_of(logl(0.5L)));
    CHECK(eg_philox_log(2.0) == log(2.0));
    CHECK(eg_philox_log(DBL_MIN) == log(DBL_MIN));
    CHECK(fabsl((long double)eg_philox_log(DBL_MAX) - logl(DBL_MAX)) <= ulp_of(logl(DBL_MAX)));
}

static void check_cos(void) {
    const double eps = 1.0 / 9007199254740992.0;
    cos_stats a = {0}, b = {0};
    /* (a) the inputs the normal mapping sees */
    for (uint64_t i = 0; i < 4000000; i++)
        cos_one(&a, draw_u(11, i, 1));
    /* (b) within 20000 ulp either side of the octant boundaries k/8, where the
     * reduction switches quadrant or swaps cos and sin */
    for (int k = 0; k <= 8; k++)
        for (int j = -20000; j <= 20000; j++) {
            double u = k / 8.0 + j * eps;
            if (u >= 0 && u < 1) cos_one(&b, u);
        }
    static const char *nm[] = {"u2 (Philox)", "near k/8"};
    cos_stats *all[] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        printf("cos  %-20s n=%8ld  max abs %.3g  (worst u=%a)  same bits as libm cos(2 pi u): %.4f%%, max diff "
               "%.3g\n",
               nm[i], all[i]->n, all[i]->max_abs, all[i]->worst_u, 100.0 * (double)all[i]->same_libm / (double)all[i]->n,
               all[i]->max_libm_abs);
        CHECK_MSG(all[i]->max_abs <= 1.35e-16, "cos %s: max abs error %.3g at u=%a", nm[i], all[i]->max_abs,
                  all[i]->worst_u);
        CHECK_MSG(all[i]->n >= 300000, "cos %s: only %ld samples", nm[i], all[i]->n);
    }
    /* edges: the exact values at multiples of a quarter turn */
    CHECK(eg_philox_cos2pi(0.0) == 1.0);
    CHECK(eg_philox_cos2pi(0.25) == 0.0);
    CHECK(eg_philox_cos2pi(0.5) == -1.0);
    CHECK(eg_philox_cos2pi(0.75) == 0.0);
    CHECK(eg_philox_cos2pi(1.0 - eps) == 1.0);           /* 1 - 2 pi^2 2^-106 rounds to 1 */
    CHECK(eg_philox_cos2pi(0.5 - eps) == -1.0);
    CHECK(fabs(eg_philox_cos2pi(0.125) - sqrt(0.5)) <= 1.35e-16);
    CHECK(fabs(eg_philox_cos2pi(0.375) + sqrt(0.5)) <= 1.35e-16);
    CHECK(fabs(eg_philox_cos2pi(1.0 / 6) - 0.5) <= 1.35e-16);
    CHECK(fabs(eg_philox_cos2pi(1.0 / 3) + 0.5) <= 1.35e-16);
    /* next to a zero the result carries the small angle: cos(pi/2 + 2 pi eps) = -2 pi eps */
    CHECK(fabsl((long double)eg_philox_cos2pi(0.25 + eps) + TWO_PI_L * eps) <= 2.5e-16L * TWO_PI_L * eps);
    CHECK(fabsl((long double)eg_philox_cos2pi(0.75 - eps) + TWO_PI_L * eps) <= 2.5e-16L * TWO_PI_L * eps);
}

static void check_normal(void) {
    long comp = 0, near = 0;
    double worst = 0;
    const long N = 200000;
    for (uint64_t i = 0; i < (uint64_t)N; i++) {
        uint32_t r[4];
        eg_philox_words(5, 6, i, r);
        double u = eg_philox_u53(r[0], r[1]), u2 = eg_philox_u53(r[2], r[3]);
        double v = eg_philox_value(1, 5, 6, i, 0.25, 2.0);
        comp += v == 0.25 + 2.0 * sqrt(-2.0 * eg_philox_log(1.0 - u)) * eg_philox_cos2pi(u2);
        /* radius and angle each within ~1 ulp, and the rounding of the products and the sum */
        long double rad = sqrtl(-2.0L * logl(1.0L - u)), ref = 0.25L + 2.0L * rad * cosl(TWO_PI_L * u2);
        double err = (double)fabsl((long double)v - ref), tol = 4.5e-16 * (0.25 + 2.0 * (double)rad);
        near += err <= tol;
        if (err / tol > worst) worst = err / tol;
    }
    printf("normal: %ld values, max error %.3f of the tolerance 4.5e-16 (|a| + |b| radius)\n", N, worst);
    CHECK_MSG(comp == N, "normal: %ld of %ld values are not the composition of eg_philox_log/cos2pi", N - comp, N);
    CHECK_MSG(near == N, "normal: %ld of %ld values are off the long-double formula", N - near, N);
}

int main(void) {
    if (LDBL_MANT_DIG < 64) return eg_test_skip_unsupported("long double has no more precision than double: no reference");
    check_log();
    check_cos();
    check_normal();
    return eg_test_finish();
}
