/* cpu_rand.c — random fill from Philox4x32-10 (engram/philox.h): element i of a
 * fill is eg_philox_value(kind, seed, stream, offset + i, a, b), computed in double
 * and rounded once to the destination type, so every backend and thread count
 * produces the same numbers. I32 takes the floor (uniform(0, k) -> 0..k-1). */
#include <math.h>

#include "cpu_internal.h"
#include "engram/philox.h"

eg_status eg_cpu_rand(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed, uint64_t stream,
                      uint64_t offset, double a, double b) {
    int nt = ((eg_cpu_ctx *)ctx)->threads;
    if (n < 0 || (kind != EG_RAND_UNIFORM && kind != EG_RAND_NORMAL && kind != EG_RAND_BERNOULLI))
        return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    if (n == 0) return EG_OK;
    if (!dst) return EG_ERR_INVALID;
    int k = (int)kind, big = n > EG_CPU_PAR_MIN / 8;
#pragma omp parallel for num_threads(nt) if (big) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double v = eg_philox_value(k, seed, stream, offset + (uint64_t)i, a, b);
        if (dt == EG_F32)
            ((float *)dst)[i] = (float)v;
        else if (dt == EG_F64)
            ((double *)dst)[i] = v;
        else
            ((int32_t *)dst)[i] = (int32_t)floor(v);
    }
    return EG_OK;
}
