/* cuda_upsample.cu — nearest and bilinear resizing of [nc, h, w] planes, forward and
 * backward (the adjoint: dx collects dy with the forward's weights).
 *
 * Source coordinates follow PyTorch's F.interpolate (size given) in the tensor's
 * precision, exactly as cpu_upsample.c computes them:
 *   nearest:                    src = min(floor(dst * (in/out)), in-1)  (out == in, 2*in exact)
 *   bilinear, align_corners=1:  src = dst * (in-1)/(out-1)              (0 when out == 1)
 *   bilinear, align_corners=0:  src = max((dst + 0.5) * in/out - 0.5, 0)
 *   i0 = floor(src), i1 = i0 + (i0 < in-1), l1 = src - i0, l0 = 1 - l1.
 * The products and sums use the non-fusing intrinsics (__fmul_rn, ...) so an FMA can
 * not move a tap to the neighbouring pixel relative to the CPU.
 *
 * The backward pass gathers instead of scattering: i0(o) is non-decreasing in o, so
 * the outputs that touch input row iy (i0 = iy or i1 = iy, i.e. i0 in {iy-1, iy})
 * form one contiguous range, found by binary search. Each dx element then sums its
 * own contributions in a fixed order: deterministic, no atomics. */
#include "cuda_device.h"
#include "cuda_internal.h"

typedef struct axis {
    int64_t in, out;
    int mode, ac;
} axis;

/* the two taps and weights of output o along one axis */
template <typename T> static __device__ void taps(const axis &a, int64_t o, int64_t &i0, int64_t &i1, T &l0, T &l1) {
    if (a.mode == EG_UPSAMPLE_NEAREST) {
        int64_t s;
        if (a.out == a.in) s = o;
        else if (a.out == 2 * a.in) s = o >> 1;
        else s = (int64_t)d_floor(d_mul_rn((T)o, d_div_rn((T)a.in, (T)a.out)));
        i0 = i1 = s < a.in - 1 ? s : a.in - 1;
        l0 = 1, l1 = 0;
        return;
    }
    T src;
    if (a.ac) {
        T scale = a.out > 1 ? d_div_rn((T)(a.in - 1), (T)(a.out - 1)) : (T)0;
        src = d_mul_rn(scale, (T)o);
    } else {
        T scale = d_div_rn((T)a.in, (T)a.out);
        src = d_add_rn(d_mul_rn(scale, d_add_rn((T)o, (T)0.5)), (T)-0.5);
    }
    if (src < 0) src = 0;
    int64_t k = (int64_t)src;
    if (k > a.in - 1) k = a.in - 1;
    T lam = src - (T)k;
    lam = lam < 0 ? (T)0 : lam > 1 ? (T)1 : lam;
    i0 = k;
    i1 = k + (k < a.in - 1 ? 1 : 0);
    l1 = lam;
    l0 = (T)1 - lam;
}

/* first output o in [0, out) with i0(o) >= target (out if none) */
template <typename T> static __device__ int64_t first_at_least(const axis &a, int64_t target) {
    int64_t lo = 0, hi = a.out;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2, i0, i1;
        T l0, l1;
        taps<T>(a, mid, i0, i1, l0, l1);
        if (i0 >= target) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* weight of input index i in output o's interpolation along one axis */
template <typename T> static __device__ __forceinline__ T weight_of(const axis &a, int64_t o, int64_t i) {
    int64_t i0, i1;
    T l0, l1;
    taps<T>(a, o, i0, i1, l0, l1);
    return (i0 == i ? l0 : (T)0) + (i1 == i ? l1 : (T)0);
}

template <typename T> __global__ void k_upsample(axis ay, axis ax, int64_t nc, const T *x, T *y) {
    int64_t OH = ay.out, OW = ax.out, H = ay.in, W = ax.in;
    EG_GRID_LOOP(t, nc * OH * OW) {
        int64_t ox = t % OW, oy = (t / OW) % OH, c = t / (OW * OH);
        int64_t y0, y1, x0, x1;
        T a0, a1, b0, b1;
        taps<T>(ay, oy, y0, y1, a0, a1);
        taps<T>(ax, ox, x0, x1, b0, b1);
        const T *p = x + c * H * W, *r0 = p + y0 * W, *r1 = p + y1 * W;
        if (ay.mode == EG_UPSAMPLE_NEAREST)
            y[t] = r0[x0];
        else
            y[t] = a0 * (b0 * r0[x0] + b1 * r0[x1]) + a1 * (b0 * r1[x0] + b1 * r1[x1]);
    }
}

template <typename T> __global__ void k_upsample_bw(axis ay, axis ax, int64_t nc, const T *dy, T *dx) {
    int64_t OH = ay.out, OW = ax.out, H = ay.in, W = ax.in;
    EG_GRID_LOOP(t, nc * H * W) {
        int64_t ix = t % W, iy = (t / W) % H, c = t / (W * H);
        /* outputs with i0 in {iy-1, iy} (nearest: i0 == iy) */
        int lin = ay.mode != EG_UPSAMPLE_NEAREST;
        int64_t oy0 = first_at_least<T>(ay, iy - lin), oy1 = first_at_least<T>(ay, iy + 1);
        int64_t ox0 = first_at_least<T>(ax, ix - lin), ox1 = first_at_least<T>(ax, ix + 1);
        const T *g = dy + c * OH * OW;
        T s = 0;
        for (int64_t oy = oy0; oy < oy1; oy++) {
            T wy = weight_of<T>(ay, oy, iy);
            if (wy == 0) continue;
            T row = 0;
            for (int64_t ox = ox0; ox < ox1; ox++) {
                T wx = weight_of<T>(ax, ox, ix);
                row += wx * g[oy * OW + ox];
            }
            s += wy * row;
        }
        dx[t] = s;
    }
}

static eg_status check(const eg_upsample_args *u) {
    if (!u) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(u->dtype));
    if (u->mode != EG_UPSAMPLE_NEAREST && u->mode != EG_UPSAMPLE_BILINEAR) return EG_ERR_INVALID;
    if (u->nc < 0 || u->h < 1 || u->w < 1 || u->oh < 1 || u->ow < 1 || u->h > INT32_MAX || u->w > INT32_MAX)
        return EG_ERR_INVALID;
    return EG_OK;
}

static eg_status run(eg_cuda_ctx *c, const eg_upsample_args *u, const void *in, void *out, int bw) {
    axis ay = {u->h, u->oh, (int)u->mode, u->align_corners != 0};
    axis ax = {u->w, u->ow, (int)u->mode, u->align_corners != 0};
    EG_TRY(eg_cuda_enter(c));
    int64_t n = bw ? u->nc * u->h * u->w : u->nc * u->oh * u->ow;
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    if (u->dtype == EG_F32) {
        if (bw)
            k_upsample_bw<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(ay, ax, u->nc, (const float *)in, (float *)out);
        else
            k_upsample<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(ay, ax, u->nc, (const float *)in, (float *)out);
    } else {
        if (bw)
            k_upsample_bw<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(ay, ax, u->nc, (const double *)in,
                                                                          (double *)out);
        else
            k_upsample<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(ay, ax, u->nc, (const double *)in,
                                                                       (double *)out);
    }
    EG_LAUNCHED(c, "upsample");
    return EG_OK;
}

eg_status eg_cuda_upsample(void *ctx, const eg_upsample_args *u, const void *x, void *y) {
    EG_TRY(check(u));
    if (u->nc == 0) return EG_OK;
    if (!x || !y) return EG_ERR_INVALID;
    return run((eg_cuda_ctx *)ctx, u, x, y, 0);
}

eg_status eg_cuda_upsample_backward(void *ctx, const eg_upsample_args *u, const void *dy, void *dx) {
    EG_TRY(check(u));
    if (u->nc == 0) return EG_OK;
    if (!dy || !dx) return EG_ERR_INVALID;
    return run((eg_cuda_ctx *)ctx, u, dy, dx, 1);
}
