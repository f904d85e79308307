/* cpu_adam.c — the fused Adam / Adamax parameter update (backend ABI 1.3, eg_adam_args in
 * backend.h): one pass over p, m, v and g instead of the dozen elementwise kernels the
 * optimiser composes otherwise. Each line rounds in the dtype exactly as the composed
 * kernels do (constants rounded to the dtype first, no contraction), so both paths give
 * the same bits. */
#include <math.h>

#include "cpu_internal.h"

#define ADAM_LOOPS(T, SFX)                                                                                             \
    EG_CPU_CLONES static void adam_##SFX(const eg_adam_args *a, T *restrict p, T *restrict m, T *restrict v,          \
                                         const T *restrict g, int64_t lo, int64_t hi) {                                \
        const T b1 = (T)a->b1, c1 = (T)(1.0 - a->b1), b2 = (T)a->b2, c2 = (T)(1.0 - a->b2);                           \
        const T eps = (T)a->eps, step = (T)a->step, s2 = (T)a->inv_sqrt_bc2;                                          \
        for (int64_t i = lo; i < hi; i++) {                                                                            \
            T gi = g[i], mi = b1 * m[i] + c1 * (gi);                                                                   \
            T vi = b2 * v[i] + c2 * (gi * gi);                                                                         \
            T den = s2 * (T)sqrt(vi) + eps;                                                                            \
            m[i] = mi, v[i] = vi;                                                                                      \
            p[i] = p[i] - step * (mi / den);                                                                           \
        }                                                                                                              \
    }                                                                                                                  \
    EG_CPU_CLONES static void adamax_##SFX(const eg_adam_args *a, T *restrict p, T *restrict m, T *restrict v,        \
                                           const T *restrict g, int64_t lo, int64_t hi) {                              \
        const T b1 = (T)a->b1, c1 = (T)(1.0 - a->b1), b2 = (T)a->b2, eps = (T)a->eps, step = (T)a->step;              \
        for (int64_t i = lo; i < hi; i++) {                                                                            \
            T gi = g[i], mi = b1 * m[i] + c1 * gi;                                                                     \
            T x = b2 * v[i], y = (gi < 0 ? -gi : gi) + eps;                                                            \
            T ui = (x > y || x != x) ? x : y; /* EG_BIN_MAX: NaN wins */                                               \
            m[i] = mi, v[i] = ui;                                                                                      \
            p[i] = p[i] - step * (mi / ui);                                                                            \
        }                                                                                                              \
    }
ADAM_LOOPS(float, f32)
ADAM_LOOPS(double, f64)

typedef struct adam_job {
    const eg_adam_args *a;
    void *p, *m, *v;
    const void *g;
} adam_job;

static void adam_range(void *arg, int64_t lo, int64_t hi) {
    const adam_job *j = arg;
    const eg_adam_args *a = j->a;
    if (a->dtype == EG_F64) {
        if (a->kind == EG_ADAM) adam_f64(a, j->p, j->m, j->v, j->g, lo, hi);
        else adamax_f64(a, j->p, j->m, j->v, j->g, lo, hi);
    } else {
        if (a->kind == EG_ADAM) adam_f32(a, j->p, j->m, j->v, j->g, lo, hi);
        else adamax_f32(a, j->p, j->m, j->v, j->g, lo, hi);
    }
}

eg_status eg_cpu_adam_step(void *ctx, const eg_adam_args *a, void *p, void *m, void *v, const void *g) {
    if (!a || a->n < 0 || (a->kind != EG_ADAM && a->kind != EG_ADAMAX)) return EG_ERR_INVALID;
    if (a->dtype != EG_F32 && a->dtype != EG_F64) return a->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (a->n == 0) return EG_OK;
    if (!p || !m || !v || !g) return EG_ERR_INVALID;
    adam_job j = {a, p, m, v, g};
    eg_cpu_parallel(ctx, a->n > 2 * EG_CPU_PAR_MIN, a->n, adam_range, &j);
    return EG_OK;
}
