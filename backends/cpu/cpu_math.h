/* cpu_math.h — a vectorisable expf for the softmax / logsumexp hot loops.
 * glibc's expf is not vectorised without -ffast-math, and softmax over the rows
 * of a Hopfield score matrix is one exp per element, so we evaluate
 *   exp(x) = 2^k * exp(r),  k = round(x / ln 2),  r = x - k ln 2 in [-ln2/2, ln2/2]
 * with ln 2 split in two (Cody-Waite) and exp(r) by its degree-7 Taylor polynomial
 * (truncation error < 5e-9 relative; about 1-2 ulp after float rounding).
 * Domain: results are correct for x <= 88.37; below -87.33 (where expf
 * would return a subnormal) it returns 0. Only used where x <= 0. */
#ifndef EG_CPU_MATH_H
#define EG_CPU_MATH_H

#include <stdint.h>
#include <string.h>

static inline float eg_cpu_expf(float x) {
    const float lo = -87.33f, hi = 88.37f;
    float xc = x < lo ? lo : (x > hi ? hi : x);
    /* round-to-nearest of x/ln2 via the 1.5*2^23 trick (exact for |k| < 2^22) */
    float kf = xc * 1.44269504088896341f + 12582912.0f;
    kf -= 12582912.0f;
    float r = xc - kf * 0.693359375f;   /* ln2 high part: exact product for |k| <= 128 */
    r = r - kf * -2.12194440e-4f;       /* ln2 low part */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t k = (int32_t)kf;
    int32_t bits = (k + 127) << 23; /* 2^k as a float's bit pattern; k in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float res = p * scale;
    return x < lo ? 0.0f : res;
}

#endif
