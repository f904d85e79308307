/* test_philox.c — Philox4x32-10 (engram/philox.h) against the known-answer vectors
 * of the Random123 distribution (kat_vectors, "philox4x32 10"), the counter/key
 * word layout, and the statistics of the value mapping used by every backend. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "engram/philox.h"

static void kat(const uint32_t ctr[4], const uint32_t key[2], const uint32_t want[4]) {
    uint32_t out[4];
    eg_philox4x32_10(ctr, key, out);
    CHECK_MSG(out[0] == want[0] && out[1] == want[1] && out[2] == want[2] && out[3] == want[3],
              "ctr %08x %08x %08x %08x key %08x %08x -> %08x %08x %08x %08x, want %08x %08x %08x %08x", ctr[0], ctr[1],
              ctr[2], ctr[3], key[0], key[1], out[0], out[1], out[2], out[3], want[0], want[1], want[2], want[3]);
}

int main(void) {
    /* Random123 kat_vectors */
    const uint32_t z4[4] = {0, 0, 0, 0}, z2[2] = {0, 0};
    const uint32_t w0[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    kat(z4, z2, w0);
    const uint32_t f4[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, f2[2] = {0xffffffff, 0xffffffff};
    const uint32_t w1[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    kat(f4, f2, w1);
    const uint32_t p4[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, p2[2] = {0xa4093822, 0x299f31d0};
    const uint32_t w2[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    kat(p4, p2, w2);

    /* word layout: counter = (index lo, index hi, stream lo, stream hi), key = (seed lo, seed hi) */
    uint32_t a[4], b[4];
    const uint32_t ctr[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    eg_philox_words(((uint64_t)0x299f31d0 << 32) | 0xa4093822, ((uint64_t)0x03707344 << 32) | 0x13198a2e,
                    ((uint64_t)0x85a308d3 << 32) | 0x243f6a88, a);
    eg_philox4x32_10(ctr, p2, b);
    CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3]);
    CHECK(a[0] == w2[0] && a[3] == w2[3]);

    /* 53-bit uniform: 0 at the bottom, strictly below 1 at the top */
    CHECK(eg_philox_u53(0, 0) == 0.0);
    CHECK(eg_philox_u53(0xffffffff, 0xffffffff) == (9007199254740992.0 - 1) / 9007199254740992.0);
    CHECK(eg_philox_u53(0x80000000, 0) == 0.5);

    /* statistics over N draws: within 4 standard errors */
    const int N = 100000;
    const uint64_t seed = 42, stream = 7;
    double s = 0, s2 = 0, lo = 1e300, hi = -1e300;
    for (int i = 0; i < N; i++) {
        double v = eg_philox_value(0, seed, stream, (uint64_t)i, -2.0, 3.0);
        s += v, s2 += v * v;
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    double mean = s / N, var = s2 / N - mean * mean;
    CHECK(lo >= -2.0 && hi < 3.0);
    CHECK_NEAR(mean, 0.5, 4 * 5.0 / sqrt(12.0 * N), 0);                /* U[-2,3): mean .5, var 25/12 */
    CHECK_NEAR(var, 25.0 / 12, 4 * 25.0 * sqrt(1.0 / (180.0 * N)), 0); /* var of (x-mu)^2 = (b-a)^4/180 */
    s = s2 = 0;
    double s4 = 0;
    for (int i = 0; i < N; i++) {
        double v = eg_philox_value(1, seed, stream, (uint64_t)i, 1.0, 0.5);
        s += v, s2 += v * v;
        s4 += pow(v - 1.0, 4);
    }
    mean = s / N, var = s2 / N - mean * mean;
    CHECK_NEAR(mean, 1.0, 4 * 0.5 / sqrt(N), 0); /* N(1, 0.5^2) */
    CHECK_NEAR(var, 0.25, 4 * 0.25 * sqrt(2.0 / (N - 1)), 0);
    CHECK_NEAR(s4 / N, 3 * 0.0625, 4 * 0.0625 * sqrt(96.0 / N), 0); /* kurtosis 3: tails are Gaussian */
    int ones = 0, other = 0;
    for (int i = 0; i < N; i++) {
        double v = eg_philox_value(2, seed, stream, (uint64_t)i, 0.3, 0.0);
        ones += v == 1.0;
        other += v != 0.0 && v != 1.0;
    }
    CHECK(other == 0);
    CHECK_NEAR((double)ones / N, 0.3, 4 * sqrt(0.3 * 0.7 / N), 0);
    /* streams and seeds are independent-looking: correlation of two streams ~ 0 */
    double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < N; i++) {
        double x = eg_philox_value(0, seed, 1, (uint64_t)i, 0, 1), y = eg_philox_value(0, seed, 2, (uint64_t)i, 0, 1);
        sxy += x * y, sx += x, sy += y, sxx += x * x, syy += y * y;
    }
    double cov = sxy / N - sx / N * sy / N, r = cov / sqrt((sxx / N - sx * sx / N / N) * (syy / N - sy * sy / N / N));
    CHECK_NEAR(r, 0.0, 4 / sqrt((double)N), 0);
    CHECK(eg_philox_value(0, 1, 0, 0, 0, 1) != eg_philox_value(0, 2, 0, 0, 0, 1));
    return eg_test_finish();
}
