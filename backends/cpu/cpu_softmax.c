/* cpu_softmax.c — softmax / log-softmax over the middle axis of [outer, len, inner]
 * and their backward, max-shifted for stability:
 *   softmax(x)_j = e^(x_j - m) / sum_k e^(x_k - m),   m = max_k x_k
 *   log_softmax(x)_j = x_j - m - log sum_k e^(x_k - m)
 * backward (y the forward output, g = dy):
 *   softmax:     dx_j = y_j (g_j - sum_k g_k y_k)
 *   log-softmax: dx_j = g_j - e^(y_j) sum_k g_k
 * The last-axis case (inner == 1) is the hot path (Hopfield retrieval): one row
 * per thread iteration, float rows use the vectorised eg_cpu_expf. */
#include <math.h>

#include "cpu_internal.h"
#include "cpu_math.h"

#define RB 128

/* ---- rows ---- */
EG_CPU_CLONES static void row_softmax_f32(const float *x, float *y, int64_t L, int lg) {
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t i = 0; i < L; i++)
        m = x[i] > m ? x[i] : m;
    if (m == INFINITY || m == -INFINITY) m = m == INFINITY ? m : 0; /* keep inf - inf out of finite rows */
    float s = 0;
    if (!lg) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++) {
            float e = eg_cpu_expf(x[i] - m);
            y[i] = e;
            s += e;
        }
        float inv = 1.0f / s;
#pragma omp simd
        for (int64_t i = 0; i < L; i++)
            y[i] *= inv;
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++)
            s += eg_cpu_expf(x[i] - m);
        float lse = m + logf(s);
#pragma omp simd
        for (int64_t i = 0; i < L; i++)
            y[i] = x[i] - lse;
    }
}

static void row_softmax_f64(const double *x, double *y, int64_t L, int lg) {
    double m = -INFINITY;
    for (int64_t i = 0; i < L; i++)
        m = x[i] > m ? x[i] : m;
    if (m == INFINITY || m == -INFINITY) m = m == INFINITY ? m : 0;
    double s = 0;
    if (!lg) {
        for (int64_t i = 0; i < L; i++)
            s += (y[i] = exp(x[i] - m));
        double inv = 1.0 / s;
        for (int64_t i = 0; i < L; i++)
            y[i] *= inv;
    } else {
        for (int64_t i = 0; i < L; i++)
            s += exp(x[i] - m);
        double lse = m + log(s);
        for (int64_t i = 0; i < L; i++)
            y[i] = x[i] - lse;
    }
}

EG_CPU_CLONES static void row_softmax_bw_f32(const float *y, const float *g, float *dx, int64_t L, int lg) {
    float s = 0;
    if (!lg) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++)
            s += g[i] * y[i];
#pragma omp simd
        for (int64_t i = 0; i < L; i++)
            dx[i] = y[i] * (g[i] - s);
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++)
            s += g[i];
#pragma omp simd
        for (int64_t i = 0; i < L; i++)
            dx[i] = g[i] - eg_cpu_expf(y[i]) * s;
    }
}

static void row_softmax_bw_f64(const double *y, const double *g, double *dx, int64_t L, int lg) {
    double s = 0;
    if (!lg) {
        for (int64_t i = 0; i < L; i++)
            s += g[i] * y[i];
        for (int64_t i = 0; i < L; i++)
            dx[i] = y[i] * (g[i] - s);
    } else {
        for (int64_t i = 0; i < L; i++)
            s += g[i];
        for (int64_t i = 0; i < L; i++)
            dx[i] = g[i] - exp(y[i]) * s;
    }
}

/* ---- strided: a block of nb inner positions at once, sums in double ---- */
#define BLOCK_SOFTMAX(T, SFX)                                                                                          \
    static void block_softmax_##SFX(const T *x, T *y, int64_t L, int64_t in, int64_t nb, int lg) {                     \
        double m[RB], s[RB];                                                                                           \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            m[i] = -INFINITY, s[i] = 0;                                                                                \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                m[i] = x[j * in + i] > m[i] ? x[j * in + i] : m[i];                                                    \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            if (isinf(m[i])) m[i] = m[i] > 0 ? m[i] : 0;                                                               \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++) {                                                                         \
                double e = exp(x[j * in + i] - m[i]);                                                                  \
                s[i] += e;                                                                                             \
                if (!lg) y[j * in + i] = (T)e;                                                                         \
            }                                                                                                          \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            s[i] = lg ? m[i] + log(s[i]) : 1.0 / s[i];                                                                 \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                y[j * in + i] = lg ? (T)(x[j * in + i] - s[i]) : (T)(y[j * in + i] * s[i]);                            \
    }                                                                                                                  \
    static void block_softmax_bw_##SFX(const T *y, const T *g, T *dx, int64_t L, int64_t in, int64_t nb, int lg) {     \
        double s[RB];                                                                                                  \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            s[i] = 0;                                                                                                  \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                s[i] += lg ? g[j * in + i] : g[j * in + i] * y[j * in + i];                                            \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++) {                                                                         \
                int64_t k = j * in + i;                                                                                \
                dx[k] = lg ? (T)(g[k] - exp(y[k]) * s[i]) : (T)(y[k] * (g[k] - s[i]));                                 \
            }                                                                                                          \
    }
BLOCK_SOFTMAX(float, f32)
BLOCK_SOFTMAX(double, f64)

static eg_status check(eg_dtype dt, int64_t outer, int64_t len, int64_t inner) {
    if (outer < 0 || len < 0 || inner < 0) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    return EG_OK;
}

eg_status eg_cpu_softmax(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    eg_status st = check(dt, outer, len, inner);
    if (st != EG_OK || outer * len * inner == 0) return st;
    if (!x || !y) return EG_ERR_INVALID;
    int lg = log_softmax != 0, big = outer * len * inner > EG_CPU_PAR_MIN;
    if (inner == 1) {
#pragma omp parallel for num_threads(nt) if (big && outer > 1) schedule(static)
        for (int64_t o = 0; o < outer; o++) {
            if (dt == EG_F32)
                row_softmax_f32((const float *)x + o * len, (float *)y + o * len, len, lg);
            else
                row_softmax_f64((const double *)x + o * len, (double *)y + o * len, len, lg);
        }
        return EG_OK;
    }
    int64_t nblk = (inner + RB - 1) / RB, tasks = outer * nblk;
#pragma omp parallel for num_threads(nt) if (big && tasks > 1) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / nblk, i0 = (t % nblk) * RB, nb = inner - i0 < RB ? inner - i0 : RB;
        int64_t off = o * len * inner + i0;
        if (dt == EG_F32)
            block_softmax_f32((const float *)x + off, (float *)y + off, len, inner, nb, lg);
        else
            block_softmax_f64((const double *)x + off, (double *)y + off, len, inner, nb, lg);
    }
    return EG_OK;
}

eg_status eg_cpu_softmax_backward(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                                  const void *y, const void *dy, void *dx) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    eg_status st = check(dt, outer, len, inner);
    if (st != EG_OK || outer * len * inner == 0) return st;
    if (!y || !dy || !dx) return EG_ERR_INVALID;
    int lg = log_softmax != 0, big = outer * len * inner > EG_CPU_PAR_MIN;
    if (inner == 1) {
#pragma omp parallel for num_threads(nt) if (big && outer > 1) schedule(static)
        for (int64_t o = 0; o < outer; o++) {
            int64_t off = o * len;
            if (dt == EG_F32)
                row_softmax_bw_f32((const float *)y + off, (const float *)dy + off, (float *)dx + off, len, lg);
            else
                row_softmax_bw_f64((const double *)y + off, (const double *)dy + off, (double *)dx + off, len, lg);
        }
        return EG_OK;
    }
    int64_t nblk = (inner + RB - 1) / RB, tasks = outer * nblk;
#pragma omp parallel for num_threads(nt) if (big && tasks > 1) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / nblk, i0 = (t % nblk) * RB, nb = inner - i0 < RB ? inner - i0 : RB;
        int64_t off = o * len * inner + i0;
        if (dt == EG_F32)
            block_softmax_bw_f32((const float *)y + off, (const float *)dy + off, (float *)dx + off, len, inner, nb,
                                 lg);
        else
            block_softmax_bw_f64((const double *)y + off, (const double *)dy + off, (double *)dx + off, len, inner, nb,
                                 lg);
    }
    return EG_OK;
}
