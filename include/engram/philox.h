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
 * computed in double and rounded once to the destination dtype. */
#ifndef ENGRAM_PHILOX_H
#define ENGRAM_PHILOX_H

#include <math.h>
#include <stdint.h>

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

/* kind: 0 uniform, 1 normal, 2 bernoulli (eg_rand_kind) */
EG_PHILOX_FN double eg_philox_value(int kind, uint64_t seed, uint64_t stream, uint64_t index, double a, double b) {
    uint32_t r[4];
    eg_philox_words(seed, stream, index, r);
    double u = eg_philox_u53(r[0], r[1]);
    if (kind == 0) return a + (b - a) * u;
    if (kind == 1) {
        double u2 = eg_philox_u53(r[2], r[3]);
        return a + b * sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586476925 * u2);
    }
    return u < a ? 1.0 : 0.0;
}

#endif
