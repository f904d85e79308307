/* cpu_rand.c — random fill from Philox4x32-10 (engram/philox.h): element i of a
 * fill is eg_philox_value(kind, seed, stream, offset + i, a, b), computed in double
 * and rounded once to the destination type, so every backend and thread count
 * produces the same numbers. I32 takes the floor (uniform(0, k) -> 0..k-1). */
#include <math.h>

#include "cpu_internal.h"
#include "engram/philox.h"

typedef struct rand_job {
    int kind;
    eg_dtype dt;
    void *dst;
    uint64_t seed, stream, offset;
    double a, b;
} rand_job;

static void rand_range(void *arg, int64_t lo, int64_t hi) {
    const rand_job *j = arg;
    for (int64_t i = lo; i < hi; i++) {
        double v = eg_philox_value(j->kind, j->seed, j->stream, j->offset + (uint64_t)i, j->a, j->b);
        if (j->dt == EG_F32)
            ((float *)j->dst)[i] = (float)v;
        else if (j->dt == EG_F64)
            ((double *)j->dst)[i] = v;
        else
            ((int32_t *)j->dst)[i] = (int32_t)floor(v);
    }
}

eg_status eg_cpu_rand(void *ctx, eg_rand_kind kind, eg_dtype dt, void *dst, int64_t n, uint64_t seed, uint64_t stream,
                      uint64_t offset, double a, double b) {
    if (n < 0 || (kind != EG_RAND_UNIFORM && kind != EG_RAND_NORMAL && kind != EG_RAND_BERNOULLI))
        return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    if (n == 0) return EG_OK;
    if (!dst) return EG_ERR_INVALID;
    rand_job j = {(int)kind, dt, dst, seed, stream, offset, a, b};
    eg_cpu_parallel(ctx, n > EG_CPU_PAR_MIN / 8, n, rand_range, &j);
    return EG_OK;
}
