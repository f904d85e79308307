/* cpu_upsample.c — nearest and bilinear resizing of [nc, h, w] planes, forward and
 * backward (the adjoint: dx scatters dy with the forward's weights).
 * Source coordinates follow PyTorch's F.interpolate (size given, no scale factor),
 * computed in the tensor's precision as PyTorch does:
 *   nearest:            src = min(floor(dst * (in/out)), in-1)  (out == in, 2*in: exact)
 *   bilinear, align_corners=1: src = dst * (in-1)/(out-1)        (0 when out == 1)
 *   bilinear, align_corners=0: src = max((dst + 0.5) * in/out - 0.5, 0)
 *   i0 = floor(src), i1 = i0 + (i0 < in-1), l1 = src - i0, l0 = 1 - l1. */
#include <math.h>
#include <string.h>

#include "cpu_internal.h"

typedef struct up_job {
    const eg_upsample_args *u;
    int bw;
    const void *ly0, *ly1, *lx0, *lx1; /* per-row / per-column weights (element type) */
    const int32_t *y0, *y1, *x0, *x1;  /* per-row / per-column taps */
    const void *src;
    void *dst;
} up_job;

#define UP_KERNELS(T, SFX)                                                                                             \
    static void nearest_index_##SFX(int64_t in, int64_t out, int32_t *idx) {                                           \
        T scale = (T)in / (T)out;                                                                                      \
        for (int64_t o = 0; o < out; o++) {                                                                            \
            int64_t s = out == in ? o : out == 2 * in ? o >> 1 : (int64_t)floor((T)o * scale);                         \
            idx[o] = (int32_t)(s < in - 1 ? s : in - 1);                                                               \
        }                                                                                                              \
    }                                                                                                                  \
    static void linear_index_##SFX(int64_t in, int64_t out, int ac, int32_t *i0, int32_t *i1, T *l0, T *l1) {          \
        T scale = ac ? (out > 1 ? (T)(in - 1) / (T)(out - 1) : (T)0) : (T)in / (T)out;                                 \
        for (int64_t o = 0; o < out; o++) {                                                                            \
            T src = ac ? scale * (T)o : scale * ((T)o + (T)0.5) - (T)0.5;                                              \
            if (src < 0) src = 0;                                                                                      \
            int64_t a = (int64_t)src;                                                                                  \
            if (a > in - 1) a = in - 1;                                                                                \
            T lam = src - (T)a;                                                                                        \
            lam = lam < 0 ? 0 : lam > 1 ? 1 : lam;                                                                     \
            i0[o] = (int32_t)a;                                                                                        \
            i1[o] = (int32_t)(a + (a < in - 1 ? 1 : 0));                                                               \
            l1[o] = lam;                                                                                               \
            l0[o] = (T)1 - lam;                                                                                        \
        }                                                                                                              \
    }                                                                                                                  \
    static void planes_##SFX(void *arg, int64_t lo, int64_t hi) {                                                      \
        const up_job *j = arg;                                                                                         \
        int64_t H = j->u->h, W = j->u->w, OH = j->u->oh, OW = j->u->ow;                                                \
        const T *ly0 = j->ly0, *ly1 = j->ly1, *lx0 = j->lx0, *lx1 = j->lx1;                                            \
        const int32_t *y0 = j->y0, *y1 = j->y1, *x0 = j->x0, *x1 = j->x1;                                              \
        int nearest = j->u->mode == EG_UPSAMPLE_NEAREST;                                                               \
        for (int64_t c = lo; c < hi; c++) {                                                                            \
            if (!j->bw) {                                                                                              \
                const T *xc = (const T *)j->src + c * H * W;                                                           \
                T *yc = (T *)j->dst + c * OH * OW;                                                                     \
                for (int64_t oy = 0; oy < OH; oy++) {                                                                  \
                    T *yr = yc + oy * OW;                                                                              \
                    const T *r0 = xc + y0[oy] * W;                                                                     \
                    if (nearest) {                                                                                     \
                        for (int64_t ox = 0; ox < OW; ox++)                                                            \
                            yr[ox] = r0[x0[ox]];                                                                       \
                        continue;                                                                                      \
                    }                                                                                                  \
                    const T *r1 = xc + y1[oy] * W;                                                                     \
                    T a0 = ly0[oy], a1 = ly1[oy];                                                                      \
                    for (int64_t ox = 0; ox < OW; ox++)                                                                \
                        yr[ox] = a0 * (lx0[ox] * r0[x0[ox]] + lx1[ox] * r0[x1[ox]]) +                                  \
                                 a1 * (lx0[ox] * r1[x0[ox]] + lx1[ox] * r1[x1[ox]]);                                   \
                }                                                                                                      \
            } else { /* src is dy [OH, OW], dst is dx [H, W] */                                                        \
                const T *g = (const T *)j->src + c * OH * OW;                                                          \
                T *d = (T *)j->dst + c * H * W;                                                                        \
                memset(d, 0, (size_t)(H * W) * sizeof(T));                                                             \
                for (int64_t oy = 0; oy < OH; oy++) {                                                                  \
                    const T *gr = g + oy * OW;                                                                         \
                    T *r0 = d + y0[oy] * W;                                                                            \
                    if (nearest) {                                                                                     \
                        for (int64_t ox = 0; ox < OW; ox++)                                                            \
                            r0[x0[ox]] += gr[ox];                                                                      \
                        continue;                                                                                      \
                    }                                                                                                  \
                    T *r1 = d + y1[oy] * W;                                                                            \
                    T a0 = ly0[oy], a1 = ly1[oy];                                                                      \
                    for (int64_t ox = 0; ox < OW; ox++) {                                                              \
                        T v0 = a0 * gr[ox], v1 = a1 * gr[ox];                                                          \
                        r0[x0[ox]] += lx0[ox] * v0;                                                                    \
                        r0[x1[ox]] += lx1[ox] * v0;                                                                    \
                        r1[x0[ox]] += lx0[ox] * v1;                                                                    \
                        r1[x1[ox]] += lx1[ox] * v1;                                                                    \
                    }                                                                                                  \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
    static eg_status run_##SFX(eg_cpu_ctx *cx, const eg_upsample_args *u, const void *src, void *dst, int bw) {        \
        int64_t H = u->h, W = u->w, OH = u->oh, OW = u->ow;                                                            \
        size_t need = (size_t)(OH + OW) * (2 * sizeof(int32_t) + 2 * sizeof(T)) + 64;                                  \
        char *ws = eg_cpu_workspace(cx, need);                                                                         \
        if (!ws) return EG_ERR_NOMEM;                                                                                  \
        T *ly0 = (T *)ws, *ly1 = ly0 + OH, *lx0 = ly1 + OH, *lx1 = lx0 + OW;                                           \
        int32_t *y0 = (int32_t *)(lx1 + OW), *y1 = y0 + OH, *x0 = y1 + OH, *x1 = x0 + OW;                              \
        if (u->mode == EG_UPSAMPLE_NEAREST) {                                                                          \
            nearest_index_##SFX(H, OH, y0);                                                                            \
            nearest_index_##SFX(W, OW, x0);                                                                            \
        } else {                                                                                                       \
            linear_index_##SFX(H, OH, u->align_corners, y0, y1, ly0, ly1);                                             \
            linear_index_##SFX(W, OW, u->align_corners, x0, x1, lx0, lx1);                                             \
        }                                                                                                              \
        up_job j = {u, bw, ly0, ly1, lx0, lx1, y0, y1, x0, x1, src, dst};                                              \
        eg_cpu_parallel(cx, u->nc *OH *OW > EG_CPU_PAR_MIN, u->nc, planes_##SFX, &j);                                  \
        return EG_OK;                                                                                                  \
    }

UP_KERNELS(float, f32)
UP_KERNELS(double, f64)

static eg_status check(const eg_upsample_args *u) {
    if (!u) return EG_ERR_INVALID;
    if (u->dtype != EG_F32 && u->dtype != EG_F64) return u->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (u->mode != EG_UPSAMPLE_NEAREST && u->mode != EG_UPSAMPLE_BILINEAR) return EG_ERR_INVALID;
    if (u->nc < 0 || u->h < 1 || u->w < 1 || u->oh < 1 || u->ow < 1 || u->h > INT32_MAX || u->w > INT32_MAX)
        return EG_ERR_INVALID;
    return EG_OK;
}

eg_status eg_cpu_upsample(void *ctx, const eg_upsample_args *u, const void *x, void *y) {
    eg_status st = check(u);
    if (st != EG_OK || u->nc == 0) return st;
    if (!x || !y) return EG_ERR_INVALID;
    return u->dtype == EG_F32 ? run_f32(ctx, u, x, y, 0) : run_f64(ctx, u, x, y, 0);
}

eg_status eg_cpu_upsample_backward(void *ctx, const eg_upsample_args *u, const void *dy, void *dx) {
    eg_status st = check(u);
    if (st != EG_OK || u->nc == 0) return st;
    if (!dy || !dx) return EG_ERR_INVALID;
    return u->dtype == EG_F32 ? run_f32(ctx, u, dy, dx, 1) : run_f64(ctx, u, dy, dx, 1);
}
