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

typedef struct sm_job {
    int bw, lg, f64;
    int64_t len, inner, nblk;
    const void *x, *dy; /* x is y for the backward */
    void *out;
} sm_job;

/* tasks: rows (inner == 1) or (outer, block of RB inner positions) pairs */
static void sm_range(void *arg, int64_t lo, int64_t hi) {
    const sm_job *j = arg;
    int64_t L = j->len;
    for (int64_t t = lo; t < hi; t++) {
        if (j->inner == 1) {
            int64_t off = t * L;
            if (j->f64 && j->bw)
                row_softmax_bw_f64((const double *)j->x + off, (const double *)j->dy + off, (double *)j->out + off, L,
                                   j->lg);
            else if (j->bw)
                row_softmax_bw_f32((const float *)j->x + off, (const float *)j->dy + off, (float *)j->out + off, L,
                                   j->lg);
            else if (j->f64)
                row_softmax_f64((const double *)j->x + off, (double *)j->out + off, L, j->lg);
            else
                row_softmax_f32((const float *)j->x + off, (float *)j->out + off, L, j->lg);
            continue;
        }
        int64_t o = t / j->nblk, i0 = (t % j->nblk) * RB, nb = j->inner - i0 < RB ? j->inner - i0 : RB;
        int64_t off = o * L * j->inner + i0;
        if (j->f64 && j->bw)
            block_softmax_bw_f64((const double *)j->x + off, (const double *)j->dy + off, (double *)j->out + off, L,
                                 j->inner, nb, j->lg);
        else if (j->bw)
            block_softmax_bw_f32((const float *)j->x + off, (const float *)j->dy + off, (float *)j->out + off, L,
                                 j->inner, nb, j->lg);
        else if (j->f64)
            block_softmax_f64((const double *)j->x + off, (double *)j->out + off, L, j->inner, nb, j->lg);
        else
            block_softmax_f32((const float *)j->x + off, (float *)j->out + off, L, j->inner, nb, j->lg);
    }
}

static eg_status run(void *ctx, int bw, int lg, eg_dtype dt, int64_t outer, int64_t len, int64_t inner, const void *x,
                     const void *dy, void *out) {
    eg_status st = check(dt, outer, len, inner);
    if (st != EG_OK || outer * len * inner == 0) return st;
    if (!x || !out || (bw && !dy)) return EG_ERR_INVALID;
    sm_job j = {bw, lg != 0, dt == EG_F64, len, inner, (inner + RB - 1) / RB, x, dy, out};
    int64_t tasks = inner == 1 ? outer : outer * j.nblk;
    eg_cpu_parallel(ctx, outer * len * inner > EG_CPU_PAR_MIN, tasks, sm_range, &j);
    return EG_OK;
}

eg_status eg_cpu_softmax(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                         const void *x, void *y) {
    return run(ctx, 0, log_softmax, dt, outer, len, inner, x, NULL, y);
}

eg_status eg_cpu_softmax_backward(void *ctx, int log_softmax, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                                  const void *y, const void *dy, void *dx) {
    return run(ctx, 1, log_softmax, dt, outer, len, inner, y, dy, dx);
}
