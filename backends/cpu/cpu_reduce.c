/* cpu_reduce.c — sum / max / min / logsumexp over the middle axis of [outer, len, inner].
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
    case EG_RED_MAX: return f64 ? row_max_f64(xd, n, -INFINITY) : row_max_f32(xf, n, -INFINITY);
    case EG_RED_MIN: return -(f64 ? row_min_f64(xd, n, -INFINITY) : row_min_f32(xf, n, -INFINITY));
    default: return f64 ? row_sumexp_f64(xd, n, m) : row_sumexp_f32(xf, n, (float)m);
    }
}

static double row_reduce(eg_reduce_op op, int f64, const void *x, int64_t L, int par, int nt) {
    int64_t nch = par ? (nt < MAXCH ? nt : MAXCH) : 1, ch = (L + nch - 1) / nch;
    double part[MAXCH], m = 0;
    eg_reduce_op first = op == EG_RED_LOGSUMEXP ? EG_RED_MAX : op;
#pragma omp parallel for num_threads(nt) if (par && nch > 1)
    for (int64_t c = 0; c < nch; c++)
        part[c] = row_part(first, f64, x, c * ch, c * ch + ch > L ? L - c * ch : ch, 0);
    if (op == EG_RED_SUM) {
        double s = 0;
        for (int64_t c = 0; c < nch; c++)
            s += part[c];
        return s;
    }
    m = -INFINITY; /* max of the chunk maxima (of -x for min); NaN anywhere wins */
    for (int64_t c = 0; c < nch; c++) {
        if (part[c] != part[c]) return NAN;
        m = part[c] > m ? part[c] : m;
    }
    if (op == EG_RED_MAX) return m;
    if (op == EG_RED_MIN) return -m;
    if (isinf(m)) return m; /* all -inf -> -inf; any +inf -> +inf */
#pragma omp parallel for num_threads(nt) if (par && nch > 1)
    for (int64_t c = 0; c < nch; c++)
        part[c] = row_part(op, f64, x, c * ch, c * ch + ch > L ? L - c * ch : ch, m);
    double s = 0;
    for (int64_t c = 0; c < nch; c++)
        s += part[c];
    return m + log(s);
}

/* ---- strided (inner > 1): block of nb inner positions, accumulate in double ---- */
#define BLOCK_REDUCE(T, SFX)                                                                                           \
    static void block_reduce_##SFX(eg_reduce_op op, const T *x, int64_t L, int64_t inner, int64_t nb, T *y) {          \
        double acc[RB], mx[RB];                                                                                        \
        if (op == EG_RED_SUM) {                                                                                        \
            for (int64_t i = 0; i < nb; i++)                                                                           \
                acc[i] = 0;                                                                                            \
            for (int64_t j = 0; j < L; j++)                                                                            \
                for (int64_t i = 0; i < nb; i++)                                                                       \
                    acc[i] += x[j * inner + i];                                                                        \
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

eg_status eg_cpu_reduce(void *ctx, eg_reduce_op op, eg_dtype dt, int64_t outer, int64_t len, int64_t inner,
                        const void *x, void *y) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    if (outer < 0 || len < 0 || inner < 0 || (unsigned)op >= EG_RED_COUNT) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (outer == 0 || inner == 0) return EG_OK;
    if (!y || (len && !x)) return EG_ERR_INVALID;
    if (len == 0) { /* empty reduction: the identity */
        double id = op == EG_RED_SUM ? 0.0 : op == EG_RED_MIN ? INFINITY : -INFINITY;
        return eg_cpu_fill(ctx, dt, y, outer * inner, id);
    }
    int64_t total = outer * len * inner;
    int big = total > EG_CPU_PAR_MIN;
    if (inner == 1) {
        /* many rows: one row per iteration; few long rows: split each row */
        int rows_par = big && outer >= nt;
        int in_row = big && !rows_par;
#pragma omp parallel for num_threads(nt) if (rows_par) schedule(static)
        for (int64_t o = 0; o < outer; o++) {
            if (dt == EG_F32)
                ((float *)y)[o] = (float)row_reduce(op, 0, (const float *)x + o * len, len, in_row, nt);
            else
                ((double *)y)[o] = row_reduce(op, 1, (const double *)x + o * len, len, in_row, nt);
        }
        return EG_OK;
    }
    int64_t nblk = (inner + RB - 1) / RB, tasks = outer * nblk;
#pragma omp parallel for num_threads(nt) if (big && tasks > 1) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / nblk, i0 = (t % nblk) * RB, nb = inner - i0 < RB ? inner - i0 : RB;
        if (dt == EG_F32)
            block_reduce_f32(op, (const float *)x + o * len * inner + i0, len, inner, nb, (float *)y + o * inner + i0);
        else
            block_reduce_f64(op, (const double *)x + o * len * inner + i0, len, inner, nb,
                             (double *)y + o * inner + i0);
    }
    return EG_OK;
}
