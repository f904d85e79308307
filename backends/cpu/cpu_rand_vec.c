/* cpu_rand_vec.c — the float random fills of eg_cpu_rand, vectorised: the same values,
 * bit for bit, as eg_philox_value (engram/philox.h) rounded to the dtype, which the scalar
 * loop of cpu_rand.c computes one element at a time (the conformance test compares every
 * element with eg_philox_value).
 *
 * Elements are processed in blocks of BLOCK: one loop computes the Philox4x32-10 words of
 * the block (the 32 x 32 -> 64-bit products vectorise), a second maps them to values. The
 * normal's log and cos are those of philox.h with their branches turned into selects
 * between values computed by the same IEEE operations, so each lane rounds exactly like
 * the scalar code (this file, like the whole backend, is built with -ffp-contract=off).
 * I32 fills go to the scalar loop. */
#include <math.h>
#include <string.h>

#include "cpu_internal.h"
#include "engram/philox.h"

#define BLOCK 256

/* eg_philox_log without branches */
static inline double vlog(double x) {
    const double LN2_HI = 0x1.62e42fefa38p-1, LN2_LO = 0x1.ef35793c7673p-45;
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int64_t e = (int64_t)(b >> 52) - 1023;
    uint64_t frac = b & 0xFFFFFFFFFFFFFull;
    int64_t big = frac >= 0x6A09E667F3BCDull;
    uint64_t mexp = 1023u - (uint64_t)big;
    e += big;
    uint64_t mb = frac | (mexp << 52);
    double m;
    memcpy(&m, &mb, sizeof m);
    double f = m - 1.0, s = f / (2.0 + f), z = s * s;
    double R = eg_philox_log_series(z);
    double hfsq = 0.5 * f * f, c = hfsq - s * (hfsq + R), de = (double)e;
    double near = (de * LN2_HI + f) - (c - de * LN2_LO); /* e = +-1 */
    double far = de * LN2_HI + ((f - c) + de * LN2_LO);
    return ((e == 1) | (e == -1)) ? near : far;
}

/* eg_philox_cos2pi without branches */
static inline double vcos2pi(double u) {
    double t = 4.0 * u;
    int32_t q = (int32_t)t;
    double r0 = t - (double)q;
    int swap = r0 > 0.5;
    double r = swap ? 1.0 - r0 : r0;
    double z = r * r;
    double c = eg_philox_cos_quarter(z), s = eg_philox_sin_quarter(r, z);
    double cq = swap ? s : c, sq = swap ? c : s;
    int32_t qq = q & 3;
    double v = (qq & 1) ? sq : cq;
    return ((qq == 1) | (qq == 2)) ? -v : v;
}

static inline double u53(uint32_t hi, uint32_t lo) {
    return ((double)(int32_t)(hi >> 5) * 67108864.0 + (double)(int32_t)(lo >> 6)) * (1.0 / 9007199254740992.0);
}

/* Philox words of elements index .. index + n - 1 (n <= BLOCK) */
static inline void words(uint64_t seed, uint64_t stream, uint64_t index, int n, uint32_t *restrict w0,
                         uint32_t *restrict w1, uint32_t *restrict w2, uint32_t *restrict w3) {
    const uint32_t s0 = (uint32_t)stream, s1 = (uint32_t)(stream >> 32);
    for (int j = 0; j < n; j++) {
        uint64_t id = index + (uint64_t)j;
        uint32_t c0 = (uint32_t)id, c1 = (uint32_t)(id >> 32), c2 = s0, c3 = s1;
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint32_t)p1, c3 = (uint32_t)p0, c0 = n0, c2 = n2;
            k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
        }
        w0[j] = c0, w1[j] = c1, w2[j] = c2, w3[j] = c3;
    }
}

typedef struct vrand_job {
    int kind;
    eg_dtype dt;
    void *dst;
    uint64_t seed, stream, offset;
    double a, b;
} vrand_job;

/* values of one block from its words */
#define VALUE_FNS(S, T)                                                                                                \
    /* the log and cos vectorise; sqrt (with errno, as libm's) runs in a second, scalar loop */                  \
    static inline void normal_##S(int n, const uint32_t *restrict w0, const uint32_t *restrict w1,                     \
                                  const uint32_t *restrict w2, const uint32_t *restrict w3, T *restrict o, double a,   \
                                  double b) {                                                                          \
        double v[BLOCK], c[BLOCK];                                                                                     \
        for (int q = 0; q < n; q++) {                                                                                  \
            v[q] = -2.0 * vlog(1.0 - u53(w0[q], w1[q]));                                                               \
            c[q] = vcos2pi(u53(w2[q], w3[q]));                                                                         \
        }                                                                                                              \
        for (int q = 0; q < n; q++)                                                                                    \
            o[q] = (T)(a + b * sqrt(v[q]) * c[q]);                                                                     \
    }                                                                                                                  \
    static inline void uniform_##S(int n, const uint32_t *restrict w0, const uint32_t *restrict w1, T *restrict o,     \
                                   double a, double b) {                                                               \
        for (int q = 0; q < n; q++)                                                                                    \
            o[q] = (T)(a + (b - a) * u53(w0[q], w1[q]));                                                               \
    }                                                                                                                  \
    static inline void bernoulli_##S(int n, const uint32_t *restrict w0, const uint32_t *restrict w1, T *restrict o,   \
                                     double a) {                                                                       \
        for (int q = 0; q < n; q++)                                                                                    \
            o[q] = u53(w0[q], w1[q]) < a ? (T)1 : (T)0;                                                                \
    }
VALUE_FNS(f32, float)
VALUE_FNS(f64, double)

#define VALUES(S, T)                                                                                                   \
    do {                                                                                                               \
        T *o = (T *)j->dst + i0;                                                                                       \
        if (j->kind == EG_RAND_NORMAL)                                                                                 \
            normal_##S(n, w0, w1, w2, w3, o, j->a, j->b);                                                              \
        else if (j->kind == EG_RAND_UNIFORM)                                                                           \
            uniform_##S(n, w0, w1, o, j->a, j->b);                                                                     \
        else                                                                                                           \
            bernoulli_##S(n, w0, w1, o, j->a);                                                                         \
    } while (0)

EG_CPU_CLONES static void vrand_range(void *arg, int64_t lo, int64_t hi) {
    const vrand_job *j = arg;
    uint32_t w0[BLOCK], w1[BLOCK], w2[BLOCK], w3[BLOCK];
    for (int64_t i0 = lo; i0 < hi; i0 += BLOCK) {
        int n = (int)(hi - i0 < BLOCK ? hi - i0 : BLOCK);
        words(j->seed, j->stream, j->offset + (uint64_t)i0, n, w0, w1, w2, w3);
        if (j->dt == EG_F32)
            VALUES(f32, float);
        else
            VALUES(f64, double);
    }
}

eg_status eg_cpu_rand_vec(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed,
                          uint64_t stream, uint64_t offset, double a, double b) {
    if (dt == EG_I32 || n <= 0 || !dst ||
        (kind != EG_RAND_UNIFORM && kind != EG_RAND_NORMAL && kind != EG_RAND_BERNOULLI) ||
        (dt != EG_F32 && dt != EG_F64))
        return eg_cpu_rand(ctx, kind, dt, dst, n, seed, stream, offset, a, b); /* the scalar path and its checks */
    vrand_job j = {(int)kind, dt, dst, seed, stream, offset, a, b};
    eg_cpu_parallel(ctx, n > EG_CPU_PAR_MIN / 4, n, vrand_range, &j);
    return EG_OK;
}
