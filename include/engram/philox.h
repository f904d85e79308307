/* engram/philox.h — Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers:
 * as easy as 1, 2, 3") and the mapping from its output words to values that every
 * backend uses, so one (seed, stream, offset) gives the same numbers everywhere.
 * Header-only so a backend can use it without linking libengram.
 *
 * Element i of a fill at `offset` uses counter (lo32(offset+i), hi32(offset+i),
 * lo32(stream), hi32(stream)) and key (lo32(seed), hi32(seed)) -> words r0..r3.
 *   u    = (float64) ((r0 >> 5) * 2^26 + (r1 >> 6)) * 2^-53           in [0, 1)
 *   uniform(a, b):   a + (b - a) * u
 *   normal(a, b):    a + b * sqrt(-2 log(1 - u)) * cos(2 pi u2),  u2 from (r2, r3) alike
 *   bernoulli(a):    u < a ? 1 : 0
 * computed in double and rounded once to the destination dtype.
 *
 * The normal's log and cos are not libm's (whose last bit differs between glibc and
 * CUDA's libdevice) but eg_philox_log and eg_philox_cos2pi below, written with IEEE
 * double +, -, *, / only (and the correctly rounded sqrt), so each value is the same
 * bits on every IEEE platform — provided the compiler neither fuses a * b + c into
 * an FMA nor evaluates in extended precision: build code that includes this header
 * with -ffp-contract=off (C) / --fmad=false (nvcc) on an SSE2/AArch64/GPU target.
 * Accuracy (tests/unit/test_philox_math.c, against long-double libm):
 *   eg_philox_log(x):    relative error < 1 ulp (<= 2.2e-16) for every positive normal
 *                        x; measured max 0.93 ulp over 4e7 inputs
 *   eg_philox_cos2pi(u): absolute error < 1.35e-16 for u in [0, 1) (measured max
 *                        1.27e-16); exactly 1, 0, -1, 0 at u = 0, 1/4, 1/2, 3/4, where
 *                        libm's cos(2 pi * u) is off by up to 6e-16 (rounding 2 pi u).
 * The normal values themselves thus differ from the libm formula in the last bits. */
#ifndef ENGRAM_PHILOX_H
#define ENGRAM_PHILOX_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define EG_PHILOX_FN static inline __host__ __device__
#else
#define EG_PHILOX_FN static inline
#endif

EG_PHILOX_FN void eg_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u; /* golden ratio */
        k1 += 0xBB67AE85u; /* sqrt(3) - 1 */
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

EG_PHILOX_FN void eg_philox_words(uint64_t seed, uint64_t stream, uint64_t index, uint32_t out[4]) {
    uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    eg_philox4x32_10(ctr, key, out);
}

EG_PHILOX_FN double eg_philox_u53(uint32_t hi, uint32_t lo) {
    return ((double)(hi >> 5) * 67108864.0 + (double)(lo >> 6)) * (1.0 / 9007199254740992.0);
}

/* The IEEE-754 bits of a double and back (exact on both sides). */
EG_PHILOX_FN uint64_t eg_philox_dbits(double x) {
#ifdef __CUDA_ARCH__
    return (uint64_t)__double_as_longlong(x);
#else
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
#endif
}

EG_PHILOX_FN double eg_philox_dfrombits(uint64_t b) {
#ifdef __CUDA_ARCH__
    return __longlong_as_double((long long)b);
#else
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
#endif
}

/* R(z) = sum_{k=1..10} 2 z^k / (2k + 1) of eg_philox_log (Horner, in this order: the
 * vectorised fills of the CPU backend share it and must round identically) */
EG_PHILOX_FN double eg_philox_log_series(double z) {
    return z * (0x1.5555555555555p-1 +      /* 2/3 */
                z * (0x1.999999999999ap-2 + /* 2/5 */
                     z * (0x1.2492492492492p-2 +
                          z * (0x1.c71c71c71c71cp-3 +
                               z * (0x1.745d1745d1746p-3 +
                                    z * (0x1.3b13b13b13b14p-3 +
                                         z * (0x1.1111111111111p-3 +
                                              z * (0x1.e1e1e1e1e1e1ep-4 +
                                                   z * (0x1.af286bca1af28p-4 + z * 0x1.8618618618618p-4))))))))); /* 2/21 */
}

/* cos and sin of theta = (pi/2) r, r in [0, 1/2], z = r^2, as eg_philox_cos2pi describes */
EG_PHILOX_FN double eg_philox_cos_quarter(double z) {
    const double C1 = -0x1.3bd3cc9be45dep+0, C1LO = -0x1.692b71366cc04p-54;
    return 1.0 + (z * C1 + (z * C1LO + z * z *
                                           (0x1.03c1f081b5ac4p-2 + /* (pi/2)^4 / 4! */
                                            z * (-0x1.55d3c7e3cbffap-6 +
                                                 z * (0x1.e1f506891babbp-11 +
                                                      z * (-0x1.a6d1f2a204a8cp-16 +
                                                           z * (0x1.f9d38a3763cc3p-22 +
                                                                z * (-0x1.b6e24f44b128fp-28 +
                                                                     z * 0x1.20c62c2f2d7f5p-34))))))));
}
EG_PHILOX_FN double eg_philox_sin_quarter(double r, double z) {
    const double S0H = 0x1.921fb5p+0, S0L = 0x1.110b4611a6263p-26;
    double k = r * 134217729.0, rh = k - (k - r), rl = r - rh; /* 134217729 = 2^27 + 1 */
    return rh * S0H + ((rl * S0H + r * S0L) + r * z *
                                                  (-0x1.4abbce625be53p-1 + /* -(pi/2)^3 / 3! */
                                                   z * (0x1.466bc6775aae2p-4 +
                                                        z * (-0x1.32d2cce62bd86p-8 +
                                                             z * (0x1.50783487ee782p-13 +
                                                                  z * (-0x1.e3074fde8871fp-19 +
                                                                       z * (0x1.e8f434d018d63p-25 +
                                                                            z * (-0x1.6fadb9f155744p-31 +
                                                                                 z * 0x1.aaec32af93359p-38))))))));
}

/* Natural log of a positive normal double x (the normal mapping passes 1 - u, which
 * is exact and >= 2^-53). x = 2^e m with m in [sqrt(1/2), sqrt(2)) taken from the
 * bits; f = m - 1 is exact (Sterbenz). With s = f / (2 + f), |s| <= 0.1716,
 *   log(1 + f) = 2 atanh(s) = 2s + s R,  R = sum_{k>=1} 2 s^(2k) / (2k + 1),
 * and 2s = f - s f = f - f^2/2 + s f^2/2 (from s (2 + f) = f), so
 *   log(1 + f) = f - c,  c = f^2/2 - s (f^2/2 + R)  (0 <= c < 0.2 |log(1 + f)|):
 * f is exact and the rounding errors sit in the small c. R is the Taylor series to
 * s^20 (truncation < 6e-19 relative). e ln2 = e LN2_HI + e LN2_LO, LN2_HI having 42
 * significant bits so e LN2_HI is exact for every exponent; for e = +-1, where
 * e ln2 and log(m) nearly cancel, e LN2_HI + f (|.| < 1, multiples of 2^-53) is
 * exact and added first. Relative error < 1 ulp (see the top of this file). */
EG_PHILOX_FN double eg_philox_log(double x) {
    const double LN2_HI = 0x1.62e42fefa38p-1, LN2_LO = 0x1.ef35793c7673p-45; /* ln 2 = HI + LO */
    uint64_t b = eg_philox_dbits(x);
    int e = (int)(b >> 52) - 1023;
    uint64_t frac = b & 0xFFFFFFFFFFFFFull;
    uint64_t mexp = 1023; /* m in [1, 2) */
    if (frac >= 0x6A09E667F3BCDull) mexp = 1022, e += 1; /* m >= sqrt(2): halve it */
    double m = eg_philox_dfrombits(frac | (mexp << 52));
    double f = m - 1.0, s = f / (2.0 + f), z = s * s;
    double R = eg_philox_log_series(z);
    double hfsq = 0.5 * f * f, c = hfsq - s * (hfsq + R), de = (double)e;
    if (e == 1 || e == -1) return (de * LN2_HI + f) - (c - de * LN2_LO);
    return de * LN2_HI + ((f - c) + de * LN2_LO);
}

/* cos(2 pi u) for u in [0, 1). t = 4u is exact, q = floor(t) is the quadrant and
 * r = t - q in [0, 1) is exact (Sterbenz), so no rounded multiple of pi ever enters:
 * cos(2 pi u) = cos(q pi/2 + (pi/2) r). For r > 1/2, r' = 1 - r (exact) swaps cos and
 * sin, leaving theta = (pi/2) r in [0, pi/4], where
 *   cos(theta) = sum_k (-1)^k (pi/2)^(2k) r^(2k) / (2k)!       k = 0..8 (next term < 2e-18)
 *   sin(theta) = sum_k (-1)^k (pi/2)^(2k+1) r^(2k+1) / (2k+1)! k = 0..8 (next term < 1e-19)
 * are the Taylor series in r itself. The leading coefficients carry their rounding
 * error along (C1 + C1LO = -(pi/2)^2/2, S0H + S0L = pi/2), and r = rh + rl is split
 * (Veltkamp: rh has 26 bits) so rh S0H (25 bits) is exact. Absolute error < 1.35e-16:
 * 0.5 ulp final rounding plus ~0.7e-16 from z, z C1 and their sum; exact at u = k/4. */
EG_PHILOX_FN double eg_philox_cos2pi(double u) {
    double t = 4.0 * u;
    int q = (int)t;
    double r = t - (double)q;
    int swap = r > 0.5;
    if (swap) r = 1.0 - r;
    double z = r * r;
    double c = eg_philox_cos_quarter(z), s = eg_philox_sin_quarter(r, z);
    double cq = swap ? s : c, sq = swap ? c : s; /* cos and sin of (pi/2)(t - q) */
    switch (q & 3) {
    case 0: return cq;
    case 1: return -sq;
    case 2: return -cq;
    default: return sq;
    }
}

/* kind: 0 uniform, 1 normal, 2 bernoulli (eg_rand_kind) */
EG_PHILOX_FN double eg_philox_value(int kind, uint64_t seed, uint64_t stream, uint64_t index, double a, double b) {
    uint32_t r[4];
    eg_philox_words(seed, stream, index, r);
    double u = eg_philox_u53(r[0], r[1]);
    if (kind == 0) return a + (b - a) * u;
    if (kind == 1) {
        double u2 = eg_philox_u53(r[2], r[3]);
        return a + b * sqrt(-2.0 * eg_philox_log(1.0 - u)) * eg_philox_cos2pi(u2);
    }
    return u < a ? 1.0 : 0.0;
}

#endif
