/* cpu_unary.c — elementwise unary ops and their backward (dx = dy * f'(x)).
 * One loop per op so the compiler can vectorise it; <tgmath.h> picks the float
 * or double libm function from the element type. */
#include <math.h>
#include <tgmath.h>

#include "cpu_internal.h"
#include "cpu_math.h"

/* float exp and sigmoid with the vectorised eg_cpu_expf (<= 2 ulp), per chunk */
EG_CPU_CLONES static void exp_f32(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = eg_cpu_expf(x[i]);
}
EG_CPU_CLONES static void sigmoid_f32(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) { /* e^-|x| never overflows */
        float v = x[i], e = eg_cpu_expf(v < 0 ? v : -v);
        y[i] = (v >= 0 ? 1.0f : e) / (1.0f + e);
    }
}
/* float ELU with a vectorisable expm1 for x <= 0: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite, as in
 * eg_cpu_expf), expm1(x) = 2^k expm1(r) + (2^k - 1) with expm1(r) = r + r^2 (1/2 + r/6 + ... + r^5/5040)
 * (truncation < 2e-8 relative). For k = 0 that is expm1(r) itself, so small |x| keep their
 * relative precision (exp(x) - 1 would not). x is clamped to [-87, 0] (2^k stays normal; expm1(-87)
 * is -1 in float); NaN passes through. glibc's scalar expm1f was the most expensive call of a
 * CompVAE training step (bench/compvae_sines.c). */
static inline float expm1f_neg(float x) {
    float xc = x < -87.0f ? -87.0f : (x > 0.0f ? 0.0f : x);
    float kf = xc * 1.44269504088896341f + 12582912.0f;
    kf -= 12582912.0f;
    float r = xc - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    float em1 = p * r * r + r, s = eg_cpu_pow2i((int32_t)kf);
    return s * em1 + (s - 1.0f);
}
EG_CPU_CLONES static void elu_f32(const float *x, float *y, int64_t n, float a) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], e = a * expm1f_neg(v);
        y[i] = v > 0 ? v : e;
    }
}
/* dx (+)= dy * (x > 0 ? 1 : a e^x) */
EG_CPU_CLONES static void elu_bw_f32(const float *x, const float *g, float *d, int64_t n, float a, int acc) {
    if (acc) {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i], e = v > 0 ? 1.0f : a * eg_cpu_expf(v > 0 ? 0.0f : v);
            d[i] += g[i] * e;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i], e = v > 0 ? 1.0f : a * eg_cpu_expf(v > 0 ? 0.0f : v);
            d[i] = g[i] * e;
        }
    }
}

/* y[i] = EXPR(v = x[i]) for i in [lo, hi) */
#define UN_LOOP(T, EXPR)                                                                                               \
    do {                                                                                                               \
        for (int64_t i = lo; i < hi; i++) {                                                                            \
            T v = X[i];                                                                                                \
            Y[i] = (EXPR);                                                                                             \
        }                                                                                                              \
    } while (0)

/* the forward ops; A, B are the op parameters in the element type */
#define UN_SWITCH(T)                                                                                                   \
    switch (op) {                                                                                                      \
    case EG_UN_COPY: UN_LOOP(T, v); break;                                                                             \
    case EG_UN_NEG: UN_LOOP(T, -v); break;                                                                             \
    case EG_UN_AFFINE: UN_LOOP(T, A *v + B); break;                                                                    \
    case EG_UN_EXP: UN_LOOP(T, exp(v)); break;                                                                         \
    case EG_UN_LOG: UN_LOOP(T, log(v)); break;                                                                         \
    case EG_UN_SQRT: UN_LOOP(T, sqrt(v)); break;                                                                       \
    case EG_UN_RSQRT: UN_LOOP(T, (T)1 / sqrt(v)); break;                                                               \
    case EG_UN_RECIP: UN_LOOP(T, (T)1 / v); break;                                                                     \
    case EG_UN_SQUARE: UN_LOOP(T, v *v); break;                                                                        \
    case EG_UN_ABS: UN_LOOP(T, fabs(v)); break;                                                                        \
    case EG_UN_SIGN: UN_LOOP(T, v != v ? v : (T)((v > 0) - (v < 0))); break;                                           \
    case EG_UN_SIGMOID: /* exp of a non-positive number: never overflows */                                            \
        UN_LOOP(T, v >= 0 ? (T)1 / ((T)1 + exp(-v)) : exp(v) / ((T)1 + exp(v)));                                       \
        break;                                                                                                         \
    case EG_UN_TANH: UN_LOOP(T, tanh(v)); break;                                                                       \
    case EG_UN_RELU: UN_LOOP(T, v > 0 ? v : (T)0); break;                                                              \
    case EG_UN_ELU: UN_LOOP(T, v > 0 ? v : A * expm1(v)); break;                                                       \
    case EG_UN_SOFTPLUS: /* log(1+e^x) = max(x,0) + log1p(e^-|x|) */                                                   \
        UN_LOOP(T, (v > 0 ? v : (T)0) + log1p(exp(-fabs(v))));                                                         \
        break;                                                                                                         \
    case EG_UN_POW: UN_LOOP(T, pow(v, A)); break;                                                                      \
    case EG_UN_CLAMP: UN_LOOP(T, v < A ? A : (v > B ? B : v)); break;                                                  \
    case EG_UN_STEP: UN_LOOP(T, v > A ? (T)1 : (T)0); break;                                                           \
    case EG_UN_LOG1P: UN_LOOP(T, log1p(v)); break;                                                                     \
    case EG_UN_SIN: UN_LOOP(T, sin(v)); break;                                                                         \
    case EG_UN_COS: UN_LOOP(T, cos(v)); break;                                                                         \
    default: break;                                                                                                    \
    }

typedef struct un_job {
    eg_unary_op op;
    eg_dtype dt;
    const void *x, *y, *dy; /* y, dy: backward only */
    void *out;
    double a, b;
    int acc;
} un_job;

static void unary_range(void *arg, int64_t lo, int64_t hi) {
    const un_job *j = arg;
    eg_unary_op op = j->op;
    if (j->dt == EG_F32 && op == EG_UN_EXP) {
        exp_f32((const float *)j->x + lo, (float *)j->out + lo, hi - lo);
    } else if (j->dt == EG_F32 && op == EG_UN_SIGMOID) {
        sigmoid_f32((const float *)j->x + lo, (float *)j->out + lo, hi - lo);
    } else if (j->dt == EG_F32 && op == EG_UN_ELU) {
        elu_f32((const float *)j->x + lo, (float *)j->out + lo, hi - lo, (float)j->a);
    } else if (j->dt == EG_F32) {
        const float *X = j->x;
        float *Y = j->out, A = (float)j->a, B = (float)j->b;
        UN_SWITCH(float)
    } else if (j->dt == EG_F64) {
        const double *X = j->x;
        double *Y = j->out, A = j->a, B = j->b;
        UN_SWITCH(double)
    } else if (op == EG_UN_COPY) {
        const int32_t *X = j->x;
        int32_t *Y = j->out;
        UN_LOOP(int32_t, v);
    } else {
        const int32_t *X = j->x;
        int32_t *Y = j->out;
        UN_LOOP(int32_t, -v);
    }
}

eg_status eg_cpu_unary(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, void *y, double a, double b) {
    if (n < 0 || (unsigned)op >= EG_UN_COUNT) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    if (dt == EG_I32 && op != EG_UN_COPY && op != EG_UN_NEG) return EG_ERR_UNSUPPORTED;
    if (n == 0) return EG_OK;
    if (!x || !y) return EG_ERR_INVALID;
    un_job j = {op, dt, x, NULL, NULL, y, a, b, 0};
    eg_cpu_parallel(ctx, n > EG_CPU_PAR_MIN, n, unary_range, &j);
    return EG_OK;
}

/* dx[i] (+)= DERIV with v = x[i], yv = y[i] (or f(x) when y is NULL), g = dy[i] */
#define BW_LOOP(T, YEXPR, DERIV)                                                                                       \
    do {                                                                                                               \
        for (int64_t i = lo; i < hi; i++) {                                                                            \
            T v = X[i], g = G[i];                                                                                      \
            T yv = (YEXPR);                                                                                            \
            (void)yv, (void)v, (void)g;                                                                                \
            T d = (DERIV);                                                                                             \
            D[i] = acc ? D[i] + d : d;                                                                                 \
        }                                                                                                              \
    } while (0)

#define BW_SWITCH(T)                                                                                                   \
    switch (op) {                                                                                                      \
    case EG_UN_COPY: BW_LOOP(T, 0, g); break;                                                                          \
    case EG_UN_NEG: BW_LOOP(T, 0, -g); break;                                                                          \
    case EG_UN_AFFINE: BW_LOOP(T, 0, A *g); break;                                                                     \
    case EG_UN_EXP: BW_LOOP(T, Y ? Y[i] : exp(v), g *yv); break;                                                       \
    case EG_UN_LOG: BW_LOOP(T, 0, g / v); break;                                                                       \
    case EG_UN_SQRT: BW_LOOP(T, Y ? Y[i] : sqrt(v), g *(T)0.5 / yv); break;                                            \
    case EG_UN_RSQRT: /* d/dx x^-1/2 = -1/2 x^-3/2 */ BW_LOOP(T, (T)1 / sqrt(v), (T)-0.5 * g * yv * yv * yv); break;   \
    case EG_UN_RECIP: BW_LOOP(T, 0, -g / (v * v)); break;                                                              \
    case EG_UN_SQUARE: BW_LOOP(T, 0, (T)2 * v * g); break;                                                             \
    case EG_UN_ABS: BW_LOOP(T, 0, v > 0 ? g : (v < 0 ? -g : (T)0)); break;                                             \
    case EG_UN_SIGN: BW_LOOP(T, 0, (T)0); break;                                                                       \
    case EG_UN_SIGMOID:                                                                                                \
        BW_LOOP(T, Y ? Y[i] : (v >= 0 ? (T)1 / ((T)1 + exp(-v)) : exp(v) / ((T)1 + exp(v))), g *yv *((T)1 - yv));      \
        break;                                                                                                         \
    case EG_UN_TANH: BW_LOOP(T, Y ? Y[i] : tanh(v), g *((T)1 - yv * yv)); break;                                       \
    case EG_UN_RELU: BW_LOOP(T, 0, v > 0 ? g : (T)0); break;                                                           \
    case EG_UN_ELU: BW_LOOP(T, 0, v > 0 ? g : g * A * exp(v)); break;                                                  \
    case EG_UN_SOFTPLUS: /* derivative is sigmoid(x) */                                                                \
        BW_LOOP(T, v >= 0 ? (T)1 / ((T)1 + exp(-v)) : exp(v) / ((T)1 + exp(v)), g * yv);                               \
        break;                                                                                                         \
    case EG_UN_POW: BW_LOOP(T, 0, A == 0 ? (T)0 : g * A * pow(v, A - (T)1)); break;                                    \
    case EG_UN_CLAMP: BW_LOOP(T, 0, (v >= A && v <= B) ? g : (T)0); break;                                             \
    case EG_UN_STEP: BW_LOOP(T, 0, (T)0); break;                                                                       \
    case EG_UN_LOG1P: BW_LOOP(T, 0, g / ((T)1 + v)); break;                                                            \
    case EG_UN_SIN: BW_LOOP(T, 0, g *cos(v)); break;                                                                   \
    case EG_UN_COS: BW_LOOP(T, 0, -g *sin(v)); break;                                                                  \
    default: break;                                                                                                    \
    }

static void unary_bw_range(void *arg, int64_t lo, int64_t hi) {
    const un_job *j = arg;
    eg_unary_op op = j->op;
    int acc = j->acc;
    if (j->dt == EG_F32 && op == EG_UN_ELU) {
        elu_bw_f32((const float *)j->x + lo, (const float *)j->dy + lo, (float *)j->out + lo, hi - lo, (float)j->a,
                   acc);
    } else if (j->dt == EG_F32) {
        const float *X = j->x, *Y = j->y, *G = j->dy;
        float *D = j->out, A = (float)j->a, B = (float)j->b;
        BW_SWITCH(float)
    } else {
        const double *X = j->x, *Y = j->y, *G = j->dy;
        double *D = j->out, A = j->a, B = j->b;
        BW_SWITCH(double)
    }
}

eg_status eg_cpu_unary_backward(void *ctx, eg_unary_op op, eg_dtype dt, int64_t n, const void *x, const void *y,
                                const void *dy, void *dx, double a, double b, int accumulate) {
    if (n < 0 || (unsigned)op >= EG_UN_COUNT) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (n == 0) return EG_OK;
    if (!x || !dy || !dx) return EG_ERR_INVALID;
    un_job j = {op, dt, x, y, dy, dx, a, b, accumulate != 0};
    eg_cpu_parallel(ctx, n > EG_CPU_PAR_MIN, n, unary_bw_range, &j);
    return EG_OK;
}
