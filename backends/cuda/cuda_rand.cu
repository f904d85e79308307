/* cuda_rand.cu — random fill from Philox4x32-10 (engram/philox.h) on the device:
 * element i is eg_philox_value(kind, seed, stream, offset + i, a, b), computed in
 * double and rounded once to the destination type, the very function the CPU
 * backend calls. This file is compiled with --fmad=false (CMakeLists.txt) so that
 * a + (b - a) * u is a multiply and an add, as on the host, not one fused FMA:
 * uniform and Bernoulli values are then bit-identical to the CPU's in F32 and F64.
 *
 * Normal values use philox.h's own log and cos (eg_philox_log, eg_philox_cos2pi:
 * IEEE +, -, *, / and sqrt only, never libdevice's log/cos), so with no fusion they
 * too are bit-identical to the CPU's in F32 and F64.
 * I32 takes the floor (uniform(0, k) -> 0..k-1), as on the CPU. */
#include "cuda_device.h"
#include "cuda_internal.h"
#include "engram/philox.h"

template <typename T>
__global__ void k_rand(int kind, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double a, double b,
                       T *dst) {
    EG_GRID_LOOP(i, n) {
        double v = eg_philox_value(kind, seed, stream, offset + (uint64_t)i, a, b);
        dst[i] = (T)v;
    }
}

__global__ void k_rand_i32(int kind, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double a, double b,
                           int32_t *dst) {
    EG_GRID_LOOP(i, n) {
        double v = eg_philox_value(kind, seed, stream, offset + (uint64_t)i, a, b);
        dst[i] = (int32_t)floor(v);
    }
}

eg_status eg_cuda_rand(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed,
                       uint64_t stream, uint64_t offset, double a, double b) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (n < 0 || (kind != EG_RAND_UNIFORM && kind != EG_RAND_NORMAL && kind != EG_RAND_BERNOULLI))
        return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    if (n == 0) return EG_OK;
    if (!dst) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    int k = (int)kind;
    if (dt == EG_F32)
        k_rand<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(k, n, seed, stream, offset, a, b, (float *)dst);
    else if (dt == EG_F64)
        k_rand<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(k, n, seed, stream, offset, a, b, (double *)dst);
    else
        k_rand_i32<<<g, EG_CUDA_THREADS, 0, c->stream>>>(k, n, seed, stream, offset, a, b, (int32_t *)dst);
    EG_LAUNCHED(c, "rand");
    return EG_OK;
}
