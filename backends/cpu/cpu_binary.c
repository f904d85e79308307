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

typedef struct bin_job {
    int nd, f64;
    eg_binary_op op;
    int64_t shape[EG_MAX_DIMS], sa[EG_MAX_DIMS], sb[EG_MAX_DIMS];
    const void *a, *b;
    void *out;
} bin_job;

/* output elements [lo, hi) in row pieces; a row is the last (simplified) dim */
static void bin_range(void *arg, int64_t lo, int64_t hi) {
    const bin_job *j = arg;
    int nd = j->nd;
    int64_t L = j->shape[nd - 1], ia = j->sa[nd - 1], ib = j->sb[nd - 1];
    for (int64_t i = lo; i < hi;) {
        int64_t r = i / L, c0 = i % L, len = L - c0 < hi - i ? L - c0 : hi - i;
        int64_t oa = c0 * ia, ob = c0 * ib, rem = r;
        for (int d = nd - 2; d >= 0; d--) {
            int64_t k = rem % j->shape[d];
            rem /= j->shape[d];
            oa += k * j->sa[d];
            ob += k * j->sb[d];
        }
        if (j->f64)
            bin_f64(j->op, len, (const double *)j->a + oa, ia, (const double *)j->b + ob, ib, (double *)j->out + i);
        else
            bin_f32(j->op, len, (const float *)j->a + oa, ia, (const float *)j->b + ob, ib, (float *)j->out + i);
        i += len;
    }
}

eg_status eg_cpu_binary(void *ctx, const eg_bcast_args *p) {
    if (!p || p->ndim < 0 || p->ndim > EG_MAX_DIMS || (unsigned)p->op >= EG_BIN_COUNT) return EG_ERR_INVALID;
    if (p->dtype != EG_F32 && p->dtype != EG_F64) return p->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    /* simplify: drop size-1 axes, merge axes both operands traverse contiguously */
    bin_job j = {.f64 = p->dtype == EG_F64, .op = p->op, .a = p->a, .b = p->b, .out = p->out};
    int nd = 0;
    for (int d = 0; d < p->ndim; d++) {
        if (p->shape[d] < 0) return EG_ERR_INVALID;
        if (p->shape[d] == 0) return EG_OK;
        if (p->shape[d] == 1) continue;
        if (nd > 0 && j.sa[nd - 1] == p->stride_a[d] * p->shape[d] && j.sb[nd - 1] == p->stride_b[d] * p->shape[d]) {
            j.shape[nd - 1] *= p->shape[d];
            j.sa[nd - 1] = p->stride_a[d];
            j.sb[nd - 1] = p->stride_b[d];
            continue;
        }
        j.shape[nd] = p->shape[d];
        j.sa[nd] = p->stride_a[d];
        j.sb[nd] = p->stride_b[d];
        nd++;
    }
    if (!p->a || !p->b || !p->out) return EG_ERR_INVALID;
    if (nd == 0) { /* a single element */
        j.shape[0] = 1;
        j.sa[0] = j.sb[0] = 0;
        nd = 1;
    }
    j.nd = nd;
    int64_t total = 1;
    for (int d = 0; d < nd; d++)
        total *= j.shape[d];
    eg_cpu_parallel(ctx, total > EG_CPU_PAR_MIN, total, bin_range, &j);
    return EG_OK;
}
