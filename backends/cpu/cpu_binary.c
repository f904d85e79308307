/* cpu_binary.c — elementwise binary ops with numpy broadcasting.
 * The shape is first simplified: size-1 axes are dropped and neighbouring axes
 * merged when both operands walk them contiguously, so most calls collapse to
 * one or two dims. The last dim becomes a tight loop specialised for
 * (contiguous, contiguous), (contiguous, scalar), (scalar, contiguous) and strided. */
#include <math.h>
#include <tgmath.h>

#include "cpu_internal.h"

/* one op over the inner dim of L elements; x from a, y from b */
#define BIN_INNER(T, EXPR)                                                                                             \
    do {                                                                                                               \
        if (ia == 1 && ib == 1) {                                                                                      \
            for (int64_t i = 0; i < L; i++) {                                                                          \
                T x = a[i], y = b[i];                                                                                  \
                o[i] = (EXPR);                                                                                         \
            }                                                                                                          \
        } else if (ia == 1 && ib == 0) {                                                                               \
            T y = b[0];                                                                                                \
            for (int64_t i = 0; i < L; i++) {                                                                          \
                T x = a[i];                                                                                            \
                o[i] = (EXPR);                                                                                         \
            }                                                                                                          \
        } else if (ia == 0 && ib == 1) {                                                                               \
            T x = a[0];                                                                                                \
            for (int64_t i = 0; i < L; i++) {                                                                          \
                T y = b[i];                                                                                            \
                o[i] = (EXPR);                                                                                         \
            }                                                                                                          \
        } else {                                                                                                       \
            for (int64_t i = 0; i < L; i++) {                                                                          \
                T x = a[i * ia], y = b[i * ib];                                                                        \
                o[i] = (EXPR);                                                                                         \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

/* maximum/minimum propagate NaN like PyTorch's */
#define BIN_KERNEL(NAME, T)                                                                                            \
    EG_CPU_CLONES static void NAME(eg_binary_op op, int64_t L, const T *a, int64_t ia, const T *b, int64_t ib, T *o) { \
        switch (op) {                                                                                                  \
        case EG_BIN_ADD: BIN_INNER(T, x + y); break;                                                                   \
        case EG_BIN_SUB: BIN_INNER(T, x - y); break;                                                                   \
        case EG_BIN_MUL: BIN_INNER(T, x *y); break;                                                                    \
        case EG_BIN_DIV: BIN_INNER(T, x / y); break;                                                                   \
        case EG_BIN_MAX: BIN_INNER(T, (x > y || x != x) ? x : y); break;                                               \
        case EG_BIN_MIN: BIN_INNER(T, (x < y || x != x) ? x : y); break;                                               \
        case EG_BIN_POW: BIN_INNER(T, pow(x, y)); break;                                                               \
        case EG_BIN_EQ: BIN_INNER(T, x == y ? (T)1 : (T)0); break;                                                     \
        case EG_BIN_GT: BIN_INNER(T, x > y ? (T)1 : (T)0); break;                                                      \
        case EG_BIN_GE: BIN_INNER(T, x >= y ? (T)1 : (T)0); break;                                                     \
        default: break;                                                                                                \
        }                                                                                                              \
    }

BIN_KERNEL(bin_f32, float)
BIN_KERNEL(bin_f64, double)

eg_status eg_cpu_binary(void *ctx, const eg_bcast_args *p) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    if (!p || p->ndim < 0 || p->ndim > EG_MAX_DIMS || (unsigned)p->op >= EG_BIN_COUNT) return EG_ERR_INVALID;
    if (p->dtype != EG_F32 && p->dtype != EG_F64) return p->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    /* simplify: drop size-1 axes, merge axes both operands traverse contiguously */
    int64_t shape[EG_MAX_DIMS], sa[EG_MAX_DIMS], sb[EG_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < p->ndim; d++) {
        if (p->shape[d] < 0) return EG_ERR_INVALID;
        if (p->shape[d] == 0) return EG_OK;
        if (p->shape[d] == 1) continue;
        if (nd > 0 && sa[nd - 1] == p->stride_a[d] * p->shape[d] && sb[nd - 1] == p->stride_b[d] * p->shape[d]) {
            shape[nd - 1] *= p->shape[d];
            sa[nd - 1] = p->stride_a[d];
            sb[nd - 1] = p->stride_b[d];
            continue;
        }
        shape[nd] = p->shape[d];
        sa[nd] = p->stride_a[d];
        sb[nd] = p->stride_b[d];
        nd++;
    }
    if (!p->a || !p->b || !p->out) return EG_ERR_INVALID;
    if (nd == 0) { /* a single element */
        shape[0] = 1;
        sa[0] = sb[0] = 0;
        nd = 1;
    }
    int64_t L = shape[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];
    int64_t rows = 1;
    for (int d = 0; d < nd - 1; d++)
        rows *= shape[d];
    int64_t total = rows * L;
    /* tasks = rows split into chunks so that a single huge row still uses every thread */
    int64_t cpr = 1;
    if (total > EG_CPU_PAR_MIN && rows < 4 * nt) {
        cpr = (4 * nt + rows - 1) / rows;
        if (L / cpr < 4096) cpr = L / 4096 > 0 ? L / 4096 : 1;
    }
    int64_t chunk = (L + cpr - 1) / cpr, tasks = rows * cpr;
    int par = total > EG_CPU_PAR_MIN && tasks > 1;
    int f64 = p->dtype == EG_F64;
    const char *A = p->a, *B = p->b;
    char *O = p->out;
    size_t es = f64 ? 8 : 4;
    eg_binary_op op = p->op;
#pragma omp parallel for num_threads(nt) if (par) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t r = t / cpr, c0 = (t % cpr) * chunk;
        int64_t len = L - c0 < chunk ? L - c0 : chunk;
        if (len <= 0) continue;
        int64_t oa = 0, ob = 0, rem = r;
        for (int d = nd - 2; d >= 0; d--) {
            int64_t idx = rem % shape[d];
            rem /= shape[d];
            oa += idx * sa[d];
            ob += idx * sb[d];
        }
        oa += c0 * ia;
        ob += c0 * ib;
        char *out = O + (size_t)(r * L + c0) * es;
        if (f64)
            bin_f64(op, len, (const double *)A + oa, ia, (const double *)B + ob, ib, (double *)out);
        else
            bin_f32(op, len, (const float *)A + oa, ia, (const float *)B + ob, ib, (float *)out);
    }
    return EG_OK;
}
