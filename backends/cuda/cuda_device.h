/* cuda_device.h — device-side helpers shared by the kernels of the CUDA backend:
 * float/double overloads of the math functions (so one template serves both
 * dtypes; the float versions are the accurate ones, never the __fast intrinsics),
 * grid-stride loops and warp/block reductions. Include only from .cu files. */
#ifndef EG_CUDA_DEVICE_H
#define EG_CUDA_DEVICE_H

#include <math.h>
#include <stdint.h>

/* for (int64_t i = first; i < n; i += whole grid) */
#define EG_GRID_LOOP(i, n)                                                                                             \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)blockDim.x * gridDim.x)

/* ---- math overloads ---- */
#define EG_DEV static __device__ __forceinline__
EG_DEV float d_exp(float x) { return expf(x); }
EG_DEV double d_exp(double x) { return exp(x); }
EG_DEV float d_expm1(float x) { return expm1f(x); }
EG_DEV double d_expm1(double x) { return expm1(x); }
EG_DEV float d_log(float x) { return logf(x); }
EG_DEV double d_log(double x) { return log(x); }
EG_DEV float d_log1p(float x) { return log1pf(x); }
EG_DEV double d_log1p(double x) { return log1p(x); }
EG_DEV float d_sqrt(float x) { return sqrtf(x); }
EG_DEV double d_sqrt(double x) { return sqrt(x); }
EG_DEV float d_tanh(float x) { return tanhf(x); }
EG_DEV double d_tanh(double x) { return tanh(x); }
EG_DEV float d_pow(float x, float y) { return powf(x, y); }
EG_DEV double d_pow(double x, double y) { return pow(x, y); }
EG_DEV float d_sin(float x) { return sinf(x); }
EG_DEV double d_sin(double x) { return sin(x); }
EG_DEV float d_cos(float x) { return cosf(x); }
EG_DEV double d_cos(double x) { return cos(x); }
EG_DEV float d_abs(float x) { return fabsf(x); }
EG_DEV double d_abs(double x) { return fabs(x); }
EG_DEV float d_floor(float x) { return floorf(x); }
EG_DEV double d_floor(double x) { return floor(x); }
/* products and sums that must not be fused into an FMA (index math that has to
 * round exactly like the CPU backend's separate multiply and add) */
EG_DEV float d_mul_rn(float a, float b) { return __fmul_rn(a, b); }
EG_DEV double d_mul_rn(double a, double b) { return __dmul_rn(a, b); }
EG_DEV float d_add_rn(float a, float b) { return __fadd_rn(a, b); }
EG_DEV double d_add_rn(double a, double b) { return __dadd_rn(a, b); }
EG_DEV float d_div_rn(float a, float b) { return __fdiv_rn(a, b); }
EG_DEV double d_div_rn(double a, double b) { return __ddiv_rn(a, b); }

/* numerically safe logistic: exp of a non-positive number never overflows */
template <typename T> EG_DEV T d_sigmoid(T v) {
    return v >= 0 ? (T)1 / ((T)1 + d_exp(-v)) : d_exp(v) / ((T)1 + d_exp(v));
}

/* max / min that let NaN through: NaN anywhere makes the result NaN */
template <typename T> EG_DEV T d_nanmax(T a, T b) {
    return (a != a || a > b) ? a : b; /* b NaN: a > b is false, b returned */
}
template <typename T> EG_DEV T d_nanmin(T a, T b) {
    return (a != a || a < b) ? a : b;
}

/* ---- warp and block reductions ---- */
enum { EG_RSUM = 0, EG_RMAX = 1, EG_RMIN = 2 };

template <int OP, typename T> EG_DEV T d_combine(T a, T b) {
    return OP == EG_RSUM ? a + b : OP == EG_RMAX ? d_nanmax(a, b) : d_nanmin(a, b);
}

template <int OP, typename T> EG_DEV T warp_reduce(T v) {
    for (int off = 16; off > 0; off >>= 1)
        v = d_combine<OP>(v, __shfl_xor_sync(0xffffffffu, v, off));
    return __shfl_sync(0xffffffffu, v, 0); /* lane 0's value everywhere: lanes summed in different orders */
}

/* Reduce over the whole block (blockDim.x a multiple of 32, <= 1024); every thread
 * gets the result. `sh` holds >= 32 values; safe to call repeatedly (syncs first). */
template <int OP, typename T> EG_DEV T block_reduce(T v, T *sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_reduce<OP>(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    T id = OP == EG_RSUM ? (T)0 : OP == EG_RMAX ? -(T)INFINITY : (T)INFINITY;
    v = warp_reduce<OP>(lane < nw ? sh[lane] : id);
    return __shfl_sync(0xffffffffu, v, 0); /* one value for all lanes (sum order differs per lane) */
}

#endif
