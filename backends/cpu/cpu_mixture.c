/* cpu_mixture.c — the spatial-mixture E-step and loss of N-EM (Greff et al. 2017,
 * eq. 5) and its backward in one pass each (ABI 1.2; the formulas are in backend.h at
 * eg_mixture_args). The composite version costs some fifteen elementwise passes over
 * psi forward and as many backward.
 *
 * Forward: one sample per task, pixels in tiles of TILE: pass 1 sums the K component
 * probabilities of a tile (sum over channels + eps), pass 2 recomputes each (the same
 * operations, so the same bits), writes gamma and accumulates the loss terms. The
 * per-sample loss is summed in a fixed order (tile lanes, then tiles in double), so
 * it does not depend on the thread count. float uses a vectorisable log (below) and
 * eg_cpu_expf; double uses libm. */
#include <math.h>
#include <string.h>

#include "cpu_internal.h"
#include "cpu_math.h"

#define TILE 256

/* ln x for a positive normal float, vectorisable (no division): x = 2^e m with m in
 * [sqrt(1/2), sqrt(2)), f = m - 1 (exact), ln(1 + f) = f - f^2/2 + f^3 R(f) with R of
 * degree 7 fitted (weighted least squares, Lawson iterations) to the relative error of
 * ln(1 + f) on [sqrt(1/2) - 1, sqrt(2) - 1]: 7e-9 in exact arithmetic; e ln 2 with ln 2
 * split in a high part exact in e * HI and a low part. A few ulp from logf
 * (tests/conformance/test_backend_mixture.c checks the op at rtol 1e-5). */
static inline float mix_logf(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    int32_t e = (int32_t)(b >> 23) - 127;
    uint32_t mb = (b & 0x7FFFFFu) | 0x3F800000u; /* m in [1, 2) */
    float m;
    memcpy(&m, &mb, sizeof m);
    int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    e += big;
    float f = m - 1.0f, f2 = f * f;
    float r = 0.333333522f +
              f * (-0.250008523f +
                   f * (0.199998573f +
                        f * (-0.166214257f + f * (0.142265379f + f * (-0.132010549f + f * (0.126235574f +
                                                                                             f * -0.0736933202f))))));
    float ef = (float)e;
    return ef * 0.693145752f + ((f - 0.5f * f2 + f * f2 * r) + ef * 1.42860677e-6f);
}

static inline double mix_log(double x) { return log(x); }
static inline float mix_expf(float x) { return eg_cpu_expf(x); }
static inline double mix_exp(double x) { return exp(x); }

/* ---- forward: per-sample kernels for float and double ----
 * The inner loops are small functions over restrict pointers so each one vectorises. */
#define MIX_LOOPS(S, T, LOG, EXP)                                                                                     \
    static inline void lik_add_##S(int64_t n, int gauss, const T *restrict ps, const T *restrict ys, T *restrict pk,  \
                                   T gs, T gn) {                                                                      \
        if (gauss)                                                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                                          \
                T d = ys[i] - ps[i];                                                                                   \
                pk[i] += EXP(d * d * gs) * gn;                                                                         \
            }                                                                                                          \
        else                                                                                                           \
            for (int64_t i = 0; i < n; i++)                                                                            \
                pk[i] += ys[i] * ps[i] + ((T)1 - ys[i]) * ((T)1 - ps[i]);                                              \
    }                                                                                                                  \
    static inline void gauss_loss_##S(int64_t n, const T *restrict ps, const T *restrict ys, const T *restrict gk,     \
                                      T *restrict acc, T lam) {                                                        \
        for (int64_t i = 0; i < n; i++) {                                                                              \
            T d = ps[i] - ys[i], g = gk[i];                                                                            \
            acc[i] += g * (d * d * (T)0.5) + lam * ((T)1 - g) * (ps[i] * ps[i] * (T)0.5);                              \
        }                                                                                                              \
    }                                                                                                                  \
    /* y in {0, 1}: one log for the nll (ln q or ln(1 - q)) */                                                         \
    static inline void bern_loss_bin_##S(int64_t n, const T *restrict ps, const T *restrict ys, const T *restrict gk,  \
                                         T *restrict acc, T lam, T eps) {                                              \
        const T one = 1;                                                                                               \
        for (int64_t i = 0; i < n; i++) {                                                                              \
            T v = ps[i], q = v < eps ? eps : (v > one - eps ? one - eps : v), g = gk[i];                               \
            T w = one - v, kq = w < eps ? eps : w;                                                                     \
            T nll = -LOG(ys[i] != 0 ? q : one - q);                                                                    \
            acc[i] += g * nll - lam * (one - g) * LOG(kq);                                                             \
        }                                                                                                              \
    }                                                                                                                  \
    static inline void bern_loss_##S(int64_t n, const T *restrict ps, const T *restrict ys, const T *restrict gk,      \
                                     T *restrict acc, T lam, T eps) {                                                  \
        const T one = 1;                                                                                               \
        for (int64_t i = 0; i < n; i++) {                                                                              \
            T v = ps[i], q = v < eps ? eps : (v > one - eps ? one - eps : v), g = gk[i];                               \
            T w = one - v, kq = w < eps ? eps : w;                                                                     \
            T nll = -(ys[i] * LOG(q) + (one - ys[i]) * LOG(one - q));                                                  \
            acc[i] += g * nll - lam * (one - g) * LOG(kq);                                                             \
        }                                                                                                              \
    }                                                                                                                  \
    static inline int is_binary_##S(int64_t n, const T *restrict ys) {                                                 \
        int bin = 1;                                                                                                   \
        for (int64_t i = 0; i < n; i++)                                                                                \
            bin &= ys[i] == 0 || ys[i] == (T)1;                                                                        \
        return bin;                                                                                                    \
    }                                                                                                                  \
    /* sum in double over 8 interleaved partial sums (vectorises; a fixed order) */                                   \
    static inline double tile_sum_##S(int64_t n, const T *restrict acc) {                                              \
        double part[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0;                                                             \
        int64_t i = 0;                                                                                                 \
        for (; i + 8 <= n; i += 8)                                                                                     \
            for (int j = 0; j < 8; j++)                                                                                \
                part[j] += (double)acc[i + j];                                                                         \
        for (; i < n; i++)                                                                                             \
            s += (double)acc[i];                                                                                       \
        for (int j = 0; j < 8; j++)                                                                                    \
            s += part[j];                                                                                              \
        return s;                                                                                                      \
    }                                                                                                                  \
    static inline void gamma_div_##S(int64_t n, const T *restrict pk, const T *restrict den, T *restrict gk, T eps) { \
        for (int64_t i = 0; i < n; i++)                                                                                \
            gk[i] = (pk[i] + eps) / den[i];                                                                            \
    }

MIX_LOOPS(f32, float, mix_logf, mix_expf)
MIX_LOOPS(f64, double, mix_log, mix_exp)

#define MIX_FWD(NAME, S, T)                                                                                           \
    EG_CPU_CLONES static void NAME(const eg_mixture_args *a, const T *psi, const T *y, T *gamma, T *loss, int64_t b) { \
        const int64_t K = a->k, C = a->channels, P = a->pixels;                                                      \
        const T eps = (T)a->eps, lam = (T)a->inter_weight;                                                            \
        const T gs = (T)(-0.5 / (a->sigma * a->sigma)), gn = (T)(1.0 / sqrt(2.0 * M_PI * a->sigma * a->sigma));     \
        const int gauss = a->gaussian;                                                                                 \
        T den[TILE], pk[TILE], acc[TILE];                                                                             \
        double total = 0;                                                                                              \
        for (int64_t i0 = 0; i0 < P; i0 += TILE) {                                                                     \
            const int64_t n = P - i0 < TILE ? P - i0 : TILE;                                                           \
            for (int64_t i = 0; i < n; i++)                                                                            \
                den[i] = 0, acc[i] = 0;                                                                                \
            /* pass 1: den = sum_k (sum_c lik + eps) */                                                                \
            for (int64_t k = 0; k < K; k++) {                                                                          \
                for (int64_t i = 0; i < n; i++)                                                                        \
                    pk[i] = 0;                                                                                         \
                for (int64_t c = 0; c < C; c++)                                                                        \
                    lik_add_##S(n, gauss, psi + ((b * K + k) * C + c) * P + i0, y + (b * C + c) * P + i0, pk, gs, gn); \
                for (int64_t i = 0; i < n; i++)                                                                        \
                    den[i] += pk[i] + eps;                                                                             \
            }                                                                                                          \
            /* pass 2: the same sums again (same bits), gamma and the loss terms */                                    \
            for (int64_t k = 0; k < K; k++) {                                                                          \
                for (int64_t i = 0; i < n; i++)                                                                        \
                    pk[i] = 0;                                                                                         \
                for (int64_t c = 0; c < C; c++)                                                                        \
                    lik_add_##S(n, gauss, psi + ((b * K + k) * C + c) * P + i0, y + (b * C + c) * P + i0, pk, gs, gn); \
                T *gk = gamma + (b * K + k) * P + i0;                                                                  \
                gamma_div_##S(n, pk, den, gk, eps);                                                                    \
                for (int64_t c = 0; c < C; c++) {                                                                      \
                    const T *ps = psi + ((b * K + k) * C + c) * P + i0, *ys = y + (b * C + c) * P + i0;               \
                    if (gauss)                                                                                         \
                        gauss_loss_##S(n, ps, ys, gk, acc, lam);                                                       \
                    else if (is_binary_##S(n, ys))                                                                     \
                        bern_loss_bin_##S(n, ps, ys, gk, acc, lam, eps);                                               \
                    else                                                                                               \
                        bern_loss_##S(n, ps, ys, gk, acc, lam, eps);                                                   \
                }                                                                                                      \
            }                                                                                                          \
            total += tile_sum_##S(n, acc);                                                                             \
        }                                                                                                              \
        loss[b] = (T)total;                                                                                            \
    }

MIX_FWD(fwd_f32, f32, float)
MIX_FWD(fwd_f64, f64, double)

/* ---- backward over rows (b, k, c) of P values ---- */
#define MIX_BWD(NAME, T)                                                                                              \
    EG_CPU_CLONES static void NAME(const eg_mixture_args *a, const T *psi, const T *y, const T *gamma, const T *dl,   \
                                   T *dpsi, int accumulate, int64_t r0, int64_t r1) {                                 \
        const int64_t K = a->k, C = a->channels, P = a->pixels;                                                      \
        const T eps = (T)a->eps, lam = (T)a->inter_weight, one = (T)1;                                                \
        for (int64_t r = r0; r < r1; r++) {                                                                            \
            const int64_t b = r / (K * C), k = (r / C) % K, c = r % C;                                                 \
            const T *ps = psi + r * P, *ys = y + (b * C + c) * P, *gk = gamma + (b * K + k) * P;                       \
            T *dp = dpsi + r * P, g0 = dl[b];                                                                          \
            if (a->gaussian)                                                                                           \
                for (int64_t i = 0; i < P; i++) {                                                                      \
                    T v = ps[i], g = gk[i], d = g0 * (g * (v - ys[i]) + lam * (one - g) * v);                          \
                    dp[i] = accumulate ? dp[i] + d : d;                                                                \
                }                                                                                                      \
            else                                                                                                       \
                for (int64_t i = 0; i < P; i++) {                                                                      \
                    T v = ps[i], g = gk[i], w = one - v;                                                               \
                    T dn = (v >= eps && v <= one - eps) ? (one - ys[i]) / w - ys[i] / v : (T)0;                        \
                    T dk = w >= eps ? one / w : (T)0;                                                                  \
                    T d = g0 * (g * dn + lam * (one - g) * dk);                                                        \
                    dp[i] = accumulate ? dp[i] + d : d;                                                                \
                }                                                                                                      \
        }                                                                                                              \
    }

MIX_BWD(bwd_f32, float)
MIX_BWD(bwd_f64, double)

typedef struct mix_job {
    const eg_mixture_args *a;
    const void *psi, *y, *gamma, *dloss;
    void *out_gamma, *loss, *dpsi;
    int accumulate;
} mix_job;

static void fwd_range(void *arg, int64_t lo, int64_t hi) {
    const mix_job *j = arg;
    for (int64_t b = lo; b < hi; b++) {
        if (j->a->dtype == EG_F32)
            fwd_f32(j->a, j->psi, j->y, j->out_gamma, j->loss, b);
        else
            fwd_f64(j->a, j->psi, j->y, j->out_gamma, j->loss, b);
    }
}

static void bwd_range(void *arg, int64_t lo, int64_t hi) {
    const mix_job *j = arg;
    if (j->a->dtype == EG_F32)
        bwd_f32(j->a, j->psi, j->y, j->gamma, j->dloss, j->dpsi, j->accumulate, lo, hi);
    else
        bwd_f64(j->a, j->psi, j->y, j->gamma, j->dloss, j->dpsi, j->accumulate, lo, hi);
}

static eg_status check_args(const eg_mixture_args *a) {
    if (!a || (a->dtype != EG_F32 && a->dtype != EG_F64)) return EG_ERR_INVALID;
    if (a->batch < 0 || a->k < 1 || a->channels < 1 || a->pixels < 0) return EG_ERR_INVALID;
    if (!(a->eps >= 1e-30 && a->eps < 0.5) || (a->gaussian && !(a->sigma > 0))) return EG_ERR_INVALID;
    return EG_OK;
}

eg_status eg_cpu_mixture_estep(void *ctx, const eg_mixture_args *a, const void *psi, const void *y, void *gamma,
                               void *loss) {
    eg_status st = check_args(a);
    if (st != EG_OK) return st;
    if (a->batch == 0) return EG_OK;
    if (!psi || !y || !gamma || !loss) return EG_ERR_INVALID;
    mix_job j = {a, psi, y, NULL, NULL, gamma, loss, NULL, 0};
    int64_t work = a->batch * a->k * a->channels * a->pixels;
    eg_cpu_parallel(ctx, work > EG_CPU_PAR_MIN / 4 && a->batch > 1, a->batch, fwd_range, &j);
    return EG_OK;
}

eg_status eg_cpu_mixture_estep_backward(void *ctx, const eg_mixture_args *a, const void *psi, const void *y,
                                        const void *gamma, const void *dloss, void *dpsi, int accumulate) {
    eg_status st = check_args(a);
    if (st != EG_OK) return st;
    if (a->batch == 0 || a->pixels == 0) return EG_OK;
    if (!psi || !y || !gamma || !dloss || !dpsi) return EG_ERR_INVALID;
    mix_job j = {a, psi, y, gamma, dloss, NULL, NULL, dpsi, accumulate};
    int64_t rows = a->batch * a->k * a->channels;
    eg_cpu_parallel(ctx, rows * a->pixels > EG_CPU_PAR_MIN && rows > 1, rows, bwd_range, &j);
    return EG_OK;
}
