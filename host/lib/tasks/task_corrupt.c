/* task_corrupt.c — the corruptions of the retrieve task (task.corrupt.*).
 *
 * Each corruption of a batch of rows is a handful of tensor ops on the run's
 * backend with at most one random fill per call: noise and bitflip draw one
 * [n, d] tensor, the pixel-fraction mask one [n, 1, h*w] tensor, the square
 * mask one [n, 2] tensor of positions (the mask itself is built on the host,
 * an [n, h*w] array, and uploaded once). Rotation and shift are pure layout ops.
 *
 * Value range of the data (for clamping, the mask's grey and bitflip):
 * +-1 data (ds->binary) use [-1, 1]; data whose values all lie in [0, 1]
 * (every image source) use [0, 1]; anything else is unbounded (no clamp,
 * grey 0, bitflip negates). Grey is the middle of the range (0.5 for pixels). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram/plugin.h"
#include "engram/retrieval.h"
#include "run/run_internal.h"
#include "tasks.h"

static const char *const kind_names[] = {"none", "noise", "mask", "bitflip", "rotate-rgb", "shift"};

int eg_corrupt_kind_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < (int)(sizeof kind_names / sizeof *kind_names); i++)
        if (strcmp(name, kind_names[i]) == 0) return i;
    return -1;
}

const char *eg_corrupt_kind_name(eg_corrupt_kind kind) {
    if ((int)kind < 0 || (int)kind >= (int)(sizeof kind_names / sizeof *kind_names)) return "?";
    return kind_names[kind];
}

static const eg_value *task_value(const eg_cfg *c, const char *key) {
    const eg_value *v = c ? eg_cfg_get(c, key) : NULL;
    return v && v->kind != EG_VAL_NULL ? v : NULL;
}
static double task_f(const eg_cfg *c, const char *key, double dflt) {
    const eg_value *v = task_value(c, key);
    return !v ? dflt : v->kind == EG_VAL_INT ? (double)v->i : v->kind == EG_VAL_FLOAT ? v->f : dflt;
}
static int64_t task_i(const eg_cfg *c, const char *key, int64_t dflt) {
    const eg_value *v = task_value(c, key);
    return !v ? dflt : v->kind == EG_VAL_INT ? v->i : v->kind == EG_VAL_FLOAT ? (int64_t)v->f : dflt;
}

eg_corruption eg_corruption_from_cfg(const eg_cfg *run) {
    eg_corruption c;
    memset(&c, 0, sizeof c);
    const eg_value *kv = task_value(run, "task.corrupt.kind");
    int k = eg_corrupt_kind_parse(kv && kv->kind == EG_VAL_STRING ? kv->s : "none");
    c.kind = k < 0 ? (eg_corrupt_kind)-1 : (eg_corrupt_kind)k;
    c.sigma = task_f(run, "task.corrupt.sigma", 0.0);
    c.size = task_i(run, "task.corrupt.size", 0);
    c.fraction = task_f(run, "task.corrupt.fraction", 0.0);
    c.p = task_f(run, "task.corrupt.p", 0.0);
    c.pixels = task_i(run, "task.corrupt.pixels", 0);
    return c;
}

eg_corruption eg_corruption_from_task(const eg_run *run) {
    return eg_corruption_from_cfg(run->cfg);
}

int eg_corruption_problem(const eg_corruption *c, const eg_dataset *ds, const char **key, char *msg, size_t cap) {
    int64_t h = ds->height > 0 ? ds->height : 1, w = ds->width > 0 ? ds->width : ds->dim;
    const char *src = ds->source ? ds->source : "the data";
    switch (c->kind) {
    case EG_CORRUPT_NONE: return 0;
    case EG_CORRUPT_NOISE:
        if (c->sigma >= 0) return 0;
        *key = "task.corrupt.sigma";
        snprintf(msg, cap, "expected a noise std >= 0, got %g", c->sigma);
        return 1;
    case EG_CORRUPT_MASK:
        if (c->fraction > 0) {
            if (c->fraction <= 1) return 0;
            *key = "task.corrupt.fraction";
            snprintf(msg, cap, "expected a fraction in [0, 1], got %g", c->fraction);
            return 1;
        }
        if (c->size >= 1 && c->size <= h && c->size <= w) return 0;
        *key = "task.corrupt.size";
        snprintf(msg, cap,
                 "expected a square side between 1 and %lld for %s items of %lldx%lld pixels, got %lld (or set "
                 "task.corrupt.fraction > 0)",
                 (long long)(h < w ? h : w), ds->source ? ds->source : "the", (long long)h, (long long)w,
                 (long long)c->size);
        return 1;
    case EG_CORRUPT_BITFLIP:
        if (c->p >= 0 && c->p <= 1) return 0;
        *key = "task.corrupt.p";
        snprintf(msg, cap, "expected a probability in [0, 1], got %g", c->p);
        return 1;
    case EG_CORRUPT_ROTATE_RGB:
        if (ds->channels == 3) return 0;
        *key = "task.corrupt.kind";
        snprintf(msg, cap, "rotate-rgb needs colour (3-channel) items, but %s has %d channel%s", src, ds->channels,
                 ds->channels == 1 ? "" : "s");
        return 1;
    case EG_CORRUPT_SHIFT:
        if (c->pixels > -w && c->pixels < w) return 0;
        *key = "task.corrupt.pixels";
        snprintf(msg, cap,
                 "expected a shift between %lld and %lld pixels for %s items %lld pixels wide, got %lld (the whole "
                 "image would move out: every query all zeros)",
                 (long long)(1 - w), (long long)(w - 1), src, (long long)w, (long long)c->pixels);
        return 1;
    }
    *key = "task.corrupt.kind";
    snprintf(msg, cap, "expected one of none|noise|mask|bitflip|rotate-rgb|shift");
    return 1;
}

eg_status eg_corruption_check(const eg_corruption *c, const eg_dataset *ds, char *err, size_t cap) {
    const char *key = "task.corrupt.kind";
    char msg[512];
    if (!eg_corruption_problem(c, ds, &key, msg, sizeof msg)) return EG_OK;
    snprintf(err, cap, "%s: %s", key, msg);
    return EG_ERR_SPEC;
}

/* The data's value range (see the header comment), cached for the last dataset. */
static void data_range(const eg_dataset *ds, double *lo, double *hi) {
    static const float *cached_x;
    static int64_t cached_n, cached_dim;
    static double cached_lo, cached_hi;
    if (ds->binary) {
        *lo = -1, *hi = 1;
        return;
    }
    if (!(ds->x == cached_x && ds->n == cached_n && ds->dim == cached_dim)) {
        float mn = 0, mx = 0;
        int64_t total = ds->n * ds->dim;
        if (total > 0) mn = mx = ds->x[0];
        for (int64_t i = 1; i < total; i++) {
            float v = ds->x[i];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        cached_x = ds->x, cached_n = ds->n, cached_dim = ds->dim;
        if (mn >= 0 && mx <= 1)
            cached_lo = 0, cached_hi = 1;
        else
            cached_lo = -INFINITY, cached_hi = INFINITY;
    }
    *lo = cached_lo, *hi = cached_hi;
}

/* x + m * (v - x): m selects (1) where x is replaced by the grey value v */
static eg_tensor *blend_const(eg_tensor *x, eg_tensor *m, double v) {
    return eg_add(x, eg_mul(m, eg_affine(x, -1.0, v)));
}

/* [n, c*h*w] -> mask of shape [n, 1, h*w] broadcast over the channels */
static eg_tensor *apply_pixel_mask(eg_tensor *x, eg_tensor *m, const eg_dataset *ds, int64_t n, double grey) {
    int64_t c = ds->channels > 0 ? ds->channels : 1;
    int64_t hw = ds->dim / c;
    eg_tensor *x3 = eg_reshape(x, EG_DIMS(n, c, hw));
    return eg_reshape(blend_const(x3, m, grey), EG_DIMS(n, ds->dim));
}

static eg_tensor *square_mask(const eg_corruption *c, eg_rng *rng, eg_tensor *x, const eg_dataset *ds, int64_t n,
                              double grey) {
    eg_ctx *ctx = eg_tensor_ctx(x);
    int64_t h = ds->height > 0 ? ds->height : 1, w = ds->width > 0 ? ds->width : ds->dim, s = c->size;
    eg_tensor *pos = eg_rand_uniform(ctx, rng, EG_F32, EG_DIMS(n, 2), 0.0, 1.0);
    double *u = malloc(sizeof(double) * (size_t)n * 2);
    float *mask = calloc((size_t)(n * h * w), sizeof(float));
    if (!u || !mask) {
        free(u), free(mask);
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "corrupt mask: out of host memory for %lld masks", (long long)n);
        return eg_clone(x);
    }
    if (eg_to_host_f64(pos, u) == EG_OK) {
        /* top-left corner uniform over the (h - s + 1) x (w - s + 1) positions */
        for (int64_t q = 0; q < n; q++) {
            int64_t top = (int64_t)(u[2 * q] * (double)(h - s + 1));
            int64_t left = (int64_t)(u[2 * q + 1] * (double)(w - s + 1));
            if (top > h - s) top = h - s;
            if (left > w - s) left = w - s;
            float *mq = mask + q * h * w;
            for (int64_t i = top; i < top + s; i++)
                for (int64_t j = left; j < left + s; j++)
                    mq[i * w + j] = 1.0f;
        }
    }
    eg_tensor *m = eg_from_f32(ctx, eg_dtype_of(x), EG_DIMS(n, 1, h * w), mask);
    free(u), free(mask);
    return apply_pixel_mask(x, m, ds, n, grey);
}

static eg_tensor *shift_right(eg_tensor *x, const eg_dataset *ds, int64_t n, int64_t p) {
    eg_ctx *ctx = eg_tensor_ctx(x);
    int64_t w = ds->width > 0 ? ds->width : ds->dim;
    int64_t rows = n * (ds->dim / w);
    eg_tensor *x2 = eg_reshape(x, EG_DIMS(rows, w));
    int64_t a = p < 0 ? -p : p;
    if (a == 0) return eg_clone(x);
    if (a >= w) return eg_zeros(ctx, eg_dtype_of(x), EG_DIMS(n, ds->dim));
    eg_tensor *zeros = eg_zeros(ctx, eg_dtype_of(x), EG_DIMS(rows, a));
    eg_tensor *parts[2];
    if (p > 0)
        parts[0] = zeros, parts[1] = eg_narrow(x2, 1, 0, w - a);
    else
        parts[0] = eg_narrow(x2, 1, a, w - a), parts[1] = zeros;
    return eg_reshape(eg_concat(parts, 2, 1), EG_DIMS(n, ds->dim));
}

eg_tensor *eg_corrupt(const eg_corruption *c, eg_rng *rng, eg_tensor *x, const eg_dataset *ds) {
    eg_ctx *ctx = eg_tensor_ctx(x);
    int64_t n = eg_dim(x, 0);
    eg_dtype dt = eg_dtype_of(x);
    if (eg_ndim(x) != 2 || eg_dim(x, 1) != ds->dim) {
        eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_corrupt: expected rows [n, %lld] of %s, got a %d-d tensor",
                    (long long)ds->dim, ds->source ? ds->source : "the dataset", eg_ndim(x));
        return eg_clone(x);
    }
    double lo, hi;
    data_range(ds, &lo, &hi);
    int bounded = isfinite(lo) && isfinite(hi);
    double grey = bounded ? 0.5 * (lo + hi) : 0.0;
    switch (c->kind) {
    case EG_CORRUPT_NONE: return eg_clone(x);
    case EG_CORRUPT_NOISE: {
        eg_tensor *y = eg_add(x, eg_rand_normal(ctx, rng, dt, EG_DIMS(n, ds->dim), 0.0, c->sigma));
        return bounded ? eg_clamp(y, lo, hi) : y;
    }
    case EG_CORRUPT_BITFLIP: {
        /* flipped value: lo + hi - x (-x for +-1 data, 1 - x for pixels) */
        eg_tensor *m = eg_rand_bernoulli(ctx, rng, dt, EG_DIMS(n, ds->dim), c->p);
        return eg_add(x, eg_mul(m, eg_affine(x, -2.0, bounded ? lo + hi : 0.0)));
    }
    case EG_CORRUPT_MASK:
        if (c->fraction > 0) {
            int64_t ch = ds->channels > 0 ? ds->channels : 1;
            eg_tensor *m = eg_rand_bernoulli(ctx, rng, dt, EG_DIMS(n, 1, ds->dim / ch), c->fraction);
            return apply_pixel_mask(x, m, ds, n, grey);
        }
        return square_mask(c, rng, x, ds, n, grey);
    case EG_CORRUPT_ROTATE_RGB: {
        if (ds->channels != 3) break;
        eg_tensor *x3 = eg_reshape(x, EG_DIMS(n, 3, ds->dim / 3));
        eg_tensor *parts[2] = {eg_narrow(x3, 1, 1, 2), eg_narrow(x3, 1, 0, 1)}; /* (G, B), R */
        return eg_reshape(eg_concat(parts, 2, 1), EG_DIMS(n, ds->dim));
    }
    case EG_CORRUPT_SHIFT: return shift_right(x, ds, n, c->pixels);
    }
    char err[256];
    if (eg_corruption_check(c, ds, err, sizeof err) == EG_OK) snprintf(err, sizeof err, "eg_corrupt: bad corruption");
    eg_ctx_fail(ctx, EG_ERR_SPEC, "%s", err);
    return eg_clone(x);
}
