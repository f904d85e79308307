/* nn_init.c — parameter initialisers. Each draws numel values from the rng
 * (through the backend's Philox fill) and advances rng->offset by numel. */
#include <math.h>

#include "core/core_internal.h"

eg_status eg_init_uniform(eg_tensor *t, eg_rng *rng, double lo, double hi) {
    if (!t) return EG_ERR_INVALID;
    return eg__rand_fill(t, rng, EG_RAND_UNIFORM, lo, hi, "eg_init_uniform");
}

eg_status eg_init_normal(eg_tensor *t, eg_rng *rng, double mean, double std) {
    if (!t) return EG_ERR_INVALID;
    return eg__rand_fill(t, rng, EG_RAND_NORMAL, mean, std, "eg_init_normal");
}

/* Glorot & Bengio (2010), eq. 16: U(-sqrt(6/(fan_in+fan_out)), +sqrt(...)) */
eg_status eg_init_glorot(eg_tensor *t, eg_rng *rng, int64_t fan_in, int64_t fan_out) {
    if (!t) return EG_ERR_INVALID;
    if (fan_in + fan_out <= 0)
        return eg_ctx_fail(t->ctx, EG_ERR_INVALID, "eg_init_glorot: fan_in %lld + fan_out %lld must be positive",
                           (long long)fan_in, (long long)fan_out);
    double a = sqrt(6.0 / (double)(fan_in + fan_out));
    return eg__rand_fill(t, rng, EG_RAND_UNIFORM, -a, a, "eg_init_glorot");
}

/* He et al. (2015): N(0, 2/fan_in) */
eg_status eg_init_he(eg_tensor *t, eg_rng *rng, int64_t fan_in) {
    if (!t) return EG_ERR_INVALID;
    if (fan_in <= 0)
        return eg_ctx_fail(t->ctx, EG_ERR_INVALID, "eg_init_he: fan_in %lld must be positive", (long long)fan_in);
    return eg__rand_fill(t, rng, EG_RAND_NORMAL, 0.0, sqrt(2.0 / (double)fan_in), "eg_init_he");
}
