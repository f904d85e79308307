/* rng.c — counter-based random streams (Philox4x32-10 on the backend).
 * A stream is (seed, stream id, offset); drawing n values uses offsets
 * offset..offset+n-1 and advances the offset by n, so results do not depend on
 * how draws are batched across backends. */
#include "core_internal.h"

eg_rng eg_rng_make(uint64_t seed, uint64_t stream) {
    eg_rng r = {seed, stream, 0};
    return r;
}

eg_rng eg_rng_substream(eg_rng r, uint64_t index, int span_bits) {
    if (span_bits < 0 || span_bits > 63) span_bits = 63;
    r.offset += index << span_bits;
    return r;
}

/* FNV-1a, 64-bit */
eg_rng eg_rng_named(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return eg_rng_make(seed, h);
}

eg_status eg__rand_fill(eg_tensor *t, eg_rng *rng, eg_rand_kind kind, double a, double b, const char *op) {
    eg_ctx *ctx = t->ctx;
    if (ctx->status) return ctx->status;
    if (!rng) return eg_ctx_fail(ctx, EG_ERR_INVALID, "%s: NULL rng", op);
    if (!eg__is_float(t->dtype))
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "%s: dtype %s (expected f32 or f64)", op, eg__dtype_name(t->dtype));
    if (!EG_BE_HAS(ctx, rand, op)) return ctx->status;
    if (t->numel &&
        !eg__be_ok(ctx, ctx->be->rand(ctx->bi, kind, t->dtype, t->data, t->numel, rng->seed, rng->stream, rng->offset,
                                      a, b),
                   op, "rand"))
        return ctx->status;
    rng->offset += (uint64_t)t->numel;
    return EG_OK;
}

static eg_tensor *rand_new(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, eg_rand_kind kind,
                           double a, double b, const char *op) {
    if (!ctx) return NULL;
    eg_tensor *t = eg__new(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (eg__rand_fill(t, rng, kind, a, b, op) != EG_OK) return ctx->placeholder;
    return t;
}

eg_tensor *eg_rand_uniform(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double lo,
                           double hi) {
    return rand_new(ctx, rng, dt, ndim, shape, EG_RAND_UNIFORM, lo, hi, "eg_rand_uniform");
}

eg_tensor *eg_rand_normal(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double mean,
                          double std) {
    return rand_new(ctx, rng, dt, ndim, shape, EG_RAND_NORMAL, mean, std, "eg_rand_normal");
}

eg_tensor *eg_rand_bernoulli(eg_ctx *ctx, eg_rng *rng, eg_dtype dt, int ndim, const int64_t *shape, double p) {
    return rand_new(ctx, rng, dt, ndim, shape, EG_RAND_BERNOULLI, p, 0.0, "eg_rand_bernoulli");
}
