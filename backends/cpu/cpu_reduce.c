/* cpu_reduce.c — sum / sum of squares / max / min / logsumexp over the middle axis of [outer, len, inner].
 * Rows (inner == 1) reduce with SIMD partial sums; float sums accumulate in double.
 * For inner > 1 a block of up to RB inner positions is reduced at once so the
 * loads stay contiguous. logsumexp is max-shifted: m + log(sum exp(x - m)). */
#include <math.h>

#include "cpu_internal.h"
#include "cpu_math.h"

#define RB 256

/* ---- rows (inner == 1) ---- */

EG_CPU_CLONES static double row_sum_f32(const float *x, int64_t L) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < L; i++)
        s += x[i];
    return s;
}
EG_CPU_CLONES static double row_sum_f64(const double *x, int64_t L) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < L; i++)
        s += x[i];
    return s;
}
EG_CPU_CLONES static double row_sumsq_f32(const float *x, int64_t L) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < L; i++)
        s += (double)x[i] * x[i];
    return s;
}
EG_CPU_CLONES static double row_sumsq_f64(const double *x, int64_t L) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < L; i++)
        s += x[i] * x[i];
    return s;
}
/* max/min that let NaN through (a NaN anywhere makes the result NaN) */
#define ROW_EXT(NAME, T, CMP)                                                                                          \
    EG_CPU_CLONES static T NAME(const T *x, int64_t L, T init) {                                                       \
        T m = init;                                                                                                    \
        int nan = 0;                                                                                                   \
        _Pragma("omp simd reduction(max : m) reduction(| : nan)") for (int64_t i = 0; i < L; i++) {                    \
            T v = CMP x[i];                                                                                            \
            m = v > m ? v : m;                                                                                         \
            nan |= x[i] != x[i];                                                                                       \
        }                                                                                                              \
        return nan ? (T)NAN : CMP m;                                                                                   \
    }
ROW_EXT(row_max_f32, float, +)
ROW_EXT(row_max_f64, double, +)
ROW_EXT(row_min_f32, float, -) /* min(x) = -max(-x) */
ROW_EXT(row_min_f64, double, -)

EG_CPU_CLONES static double row_sumexp_f32(const float *x, int64_t L, float m) {
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < L; i++)
        s += eg_cpu_expf(x[i] - m);
    return s;
}
static double row_sumexp_f64(const double *x, int64_t L, double m) {
    double s = 0;
    for (int64_t i = 0; i < L; i++)
        s += exp(x[i] - m);
    return s;
}

/* Reduce one row of length L. A huge single row is split into chunks over the
 * threads; the chunk results are combined in chunk order, so the result does not
 * depend on which thread finished first. */
#define MAXCH 64
static double row_part(eg_reduce_op op, int f64, const void *x, int64_t lo, int64_t n, double m) {
    if (n <= 0) return op == EG_RED_MAX || op == EG_RED_MIN ? -INFINITY : 0.0;
    const float *xf = (const float *)x + lo;
    const double *xd = (const double *)x + lo;
    switch (op) {
    case EG_RED_SUM: return f64 ? row_sum_f64(xd, n) : row_sum_f32(xf, n);
    case EG_RED_SUMSQ: return f64 ? row_sumsq_f64(xd, n) : row_sumsq_f32(xf, n);
    case EG_RED_MAX: return f64 ? row_max_f64(xd, n, -INFINITY) : row_max_f32(xf, n, -INFINITY);
    case EG_RED_MIN: return -(f64 ? row_min_f64(xd, n, -INFINITY) : row_min_f32(xf, n, -INFINITY));
    default: return f64 ? row_sumexp_f64(xd, n, m) : row_sumexp_f32(xf, n, (float)m);
    }
}

typedef struct part_job {
    eg_reduce_op op;
    int f64;
    const void *x;
    int64_t L, ch;
    double m, *part;
} part_job;
static void part_range(void *arg, int64_t lo, int64_t hi) {
    const part_job *j = arg;
    for (int64_t c = lo; c < hi; c++)
        j->part[c] =
            row_part(j->op, j->f64, j->x, c * j->ch, c * j->ch + j->ch > j->L ? j->L - c * j->ch : j->ch, j->m);
}

static double row_reduce(eg_cpu_ctx *cx, eg_reduce_op op, int f64, const void *x, int64_t L, int par) {
    int64_t nch = par ? (cx->threads < MAXCH ? cx->threads : MAXCH) : 1;
    double part[MAXCH];
    part_job j = {op == EG_RED_LOGSUMEXP ? EG_RED_MAX : op, f64, x, L, (L + nch - 1) / nch, 0, part};
    eg_cpu_parallel(cx, par, nch, part_range, &j);
    if (op == EG_RED_SUM || op == EG_RED_SUMSQ) {
        double s = 0;
        for (int64_t c = 0; c < nch; c++)
            s += part[c];
        return s;
    }
    double m = -INFINITY; /* max of the chunk maxima (of -x for min); NaN anywhere wins */
    for (int64_t c = 0; c < nch; c++) {
        if (part[c] != part[c]) return NAN;
        m = part[c] > m ? part[c] : m;
    }
    if (op == EG_RED_MAX) return m;
    if (op == EG_RED_MIN) return -m;
    if (isinf(m)) return m; /* all -inf -> -inf; any +inf -> +inf */
    j.op = op;
    j.m = m;
    eg_cpu_parallel(cx, par, nch, part_range, &j);
    double s = 0;
    for (int64_t c = 0; c < nch; c++)
        s += part[c];
    return m + log(s);
}

/* ---- strided (inner > 1): block of nb inner positions, accumulate in double ---- */
#define BLOCK_REDUCE(T, SFX)                                                                                           \
    static void block_reduce_##SFX(eg_reduce_op op, const T *x, int64_t L, int64_t inner, int64_t nb, T *y) {          \
        double acc[RB], mx[RB];                                                                                        \
        if (op == EG_RED_SUM || op == EG_RED_SUMSQ) {                                                                  \
            int sq = op == EG_RED_SUMSQ;                                                                               \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                acc[i] = 0;                                                                                            \
            for (int64_t j = 0; j < L; j++)                                                                            \
                for (int64_t i = 0; i < nb; i++) {                                                                     \
                    double v = x[j * inner + i];                                                                       \
                    acc[i] += sq ? v * v : v;                                                                          \
                }                                                                                                      \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                y[i] = (T)acc[i];                                                                                      \
            return;                                                                                                    \
        }                                                                                                              \
        double sg = op == EG_RED_MIN ? -1.0 : 1.0;                                                                     \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            mx[i] = -INFINITY;                                                                                         \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++) {                                                                         \
                double v = sg * x[j * inner + i];                                                                      \
                mx[i] = (v > mx[i] || v != v) ? v : mx[i];                                                             \
            }                                                                                                          \
        if (op != EG_RED_LOGSUMEXP) {                                                                                  \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                y[i] = (T)(sg * mx[i]);                                                                                \
            return;                                                                                                    \
        }                                                                                                              \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            acc[i] = 0;                                                                                                \
        for (int64_t j = 0; j < L; j++)                                                                                \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                acc[i] += exp(x[j * inner + i] - mx[i]);                                                               \
        for (int64_t i = 0; i < nb; i++)                                                                               \
            y[i] = isinf(mx[i]) || mx[i] != mx[i] ? (T)mx[i] : (T)(mx[i] + log(acc[i]));                               \
    }
BLOCK_REDUCE(float, f32)
BLOCK_REDUCE(double, f64)

typedef struct red_job {
    eg_cpu_ctx *cx;
    eg_reduce_op op;
    int f64;
    int64_t len, inner, nblk;
    const void *x;
    void *y;
} red_job;

static void rows_range(void *arg, int64_t lo, int64_t hi) {
    const red_job *j = arg;
    for (int64_t o = lo; o < hi; o++) {
        if (j->f64)
            ((double *)j->y)[o] = row_reduce(j->cx, j->op, 1, (const double *)j->x + o * j->len, j->len, 0);
        else
            ((float *)j->y)[o] = (float)row_reduce(j->cx, j->op, 0, (const float *)j->x + o * j->len, j->len, 0);
    }
}

static void blocks_range(void *arg, int64_t lo, int64_t hi) {
    const red_job *j = arg;
    for (int64_t t = lo; t < hi; t++) {
        int64_t o = t / j->nblk, i0 = (t % j->nblk) * RB, nb = j->inner - i0 < RB ? j->inner - i0 : RB;
        int64_t xo = o * j->len * j->inner + i0, yo = o * j->inner + i0;
        if (j->f64)
            block_reduce_f64(j->op, (const double *)j->x + xo, j->len, j->inner, nb, (double *)j->y + yo);
        else
            block_reduce_f32(j->op, (const float *)j->x + xo, j->len, j->inner, nb, (float *)j->y + yo);
    }
}

eg_status eg_cpu_reduce(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                        const void *x, void *y) {
    eg_cpu_ctx *cx = ctx;
    if (outer < 0 || len < 0 || inner < 0 || (unsigned)op >= EG_RED_COUNT) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (outer == 0 || inner == 0) return EG_OK;
    if (!y || (len && !x)) return EG_ERR_INVALID;
    if (len == 0) { /* empty reduction: the identity */
        double id = op == EG_RED_SUM || op == EG_RED_SUMSQ ? 0.0 : op == EG_RED_MIN ? INFINITY : -INFINITY;
        return eg_cpu_fill(ctx, dt, y, outer * inner, id);
    }
    int big = outer * len * inner > EG_CPU_PAR_MIN;
    red_job j = {cx, op, dt == EG_F64, len, inner, (inner + RB - 1) / RB, x, y};
    if (inner == 1 && big && outer < cx->threads) { /* few long rows: split each row */
        for (int64_t o = 0; o < outer; o++) {
            if (j.f64)
                ((double *)y)[o] = row_reduce(cx, op, 1, (const double *)x + o * len, len, 1);
            else
                ((float *)y)[o] = (float)row_reduce(cx, op, 0, (const float *)x + o * len, len, 1);
        }
    } else if (inner == 1) {
        eg_cpu_parallel(cx, big, outer, rows_range, &j);
    } else {
        eg_cpu_parallel(cx, big, outer * j.nblk, blocks_range, &j);
    }
    return EG_OK;
}
