/* flying_images.c — the `flying-fmnist` and `flying-mnist` sources: sequences
 * of `frames` greyscale size x size frames (default 24x24) in which `objects`
 * images of Fashion-MNIST / MNIST, downscaled to item x item by area
 * averaging (default 28 -> 14), fly and bounce off the walls (the N-EM paper's
 * flying MNIST; its generator is not published, so digit scale, speeds and the
 * labelling threshold are ours). Motion as in flying-shapes. A frame is the
 * pixelwise max of the placed images; object k covers a pixel where its value
 * exceeds `threshold` (Binding's multi-MNIST labels use 0.5), and the group is
 * k where exactly one object covers the pixel, else 0. Images are drawn from
 * the first `pool` items (0 = all) of the source's train split (train and
 * valid splits) or test split (test), like the paper's medium20 / medium500 /
 * hard sets. Draws: Philox values i*256 + 6k + {0..5} of "<source>/<split>". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"

static double reflect(double p, double hi, double *v) {
    for (int guard = 0; guard < 8 && (p < 0 || p > hi); guard++) {
        if (p < 0) p = -p, *v = -*v;
        if (p > hi) p = 2 * hi - p, *v = -*v;
    }
    return p < 0 ? 0 : p > hi ? hi : p;
}

/* area-average resample of a single-channel sh x sw image to dh x dw */
static void resample(const float *src, int sh, int sw, float *dst, int dh, int dw) {
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double y0 = (double)y * sh / dh, y1 = (double)(y + 1) * sh / dh;
            double x0 = (double)x * sw / dw, x1 = (double)(x + 1) * sw / dw, acc = 0;
            for (int yy = (int)y0; yy < sh && yy < y1; yy++)
                for (int xx = (int)x0; xx < sw && xx < x1; xx++) {
                    double wy = fmin(y1, yy + 1) - fmax(y0, yy), wx = fmin(x1, xx + 1) - fmax(x0, xx);
                    acc += wy * wx * src[yy * sw + xx];
                }
            dst[y * dw + x] = (float)(acc / ((y1 - y0) * (x1 - x0)));
        }
}

static eg_status load_images(const eg_data_source *src, const eg_data_source *base, const eg_cfg *cfg,
                             const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, objects = 0, size = 0, item = 0, seed = 0, frames = 0, pool = 0;
    double vmin = 0, vmax = 0, thr = 0;
    if ((st = shapes_split_size(cfg, src, split, &n, err, cap)) ||
        (st = eg_source_int(cfg, src, "objects", &objects, err, cap)) ||
        (st = eg_source_int(cfg, src, "size", &size, err, cap)) || (st = eg_source_int(cfg, src, "item", &item, err, cap)) ||
        (st = eg_source_int(cfg, src, "frames", &frames, err, cap)) ||
        (st = eg_source_int(cfg, src, "pool", &pool, err, cap)) ||
        (st = eg_source_float(cfg, src, "speed_min", &vmin, err, cap)) ||
        (st = eg_source_float(cfg, src, "speed_max", &vmax, err, cap)) ||
        (st = eg_source_float(cfg, src, "threshold", &thr, err, cap)) ||
        (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (objects < 1 || objects > SHAPES_MAX_OBJECTS)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.objects: expected 1..%d, got %lld", SHAPES_MAX_OBJECTS,
                       (long long)objects);
    if (item < 2 || size < item || size > 256)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.item: expected 2 <= item <= size <= 256, got item %lld size %lld",
                       (long long)item, (long long)size);
    if (frames < 2 || frames > 1000)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.frames: expected 2..1000, got %lld", (long long)frames);
    if (!(vmin >= 0 && vmax >= vmin))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.speed_max: expected speed_max >= speed_min >= 0, got %g < %g",
                       vmax, vmin);
    if (seed == -1) seed = 0;
    eg_dataset *pics = NULL;
    st = base->load(cfg, strcmp(split, "test") == 0 ? "test" : "train", &pics, err, cap);
    if (st) return st;
    if (pics->channels != 1) {
        eg_dataset_free(pics);
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: expected single-channel images", base->name);
    }
    int64_t np = pool > 0 && pool < pics->n ? pool : pics->n;
    int s = (int)size, F = (int)frames, it = (int)item;
    int64_t npix = (int64_t)s * s;
    eg_dataset *ds = shapes_alloc(src->name, split, n, F, s, s);
    float *small = malloc(sizeof(float) * (size_t)(objects * it * it));
    uint8_t *count = malloc((size_t)npix), *lab = malloc((size_t)npix);
    if (!ds || !small || !count || !lab || np < 1) {
        eg_dataset_free(ds), eg_dataset_free(pics), free(small), free(count), free(lab);
        return ds_fail(err, cap, np < 1 ? EG_ERR_FORMAT : EG_ERR_NOMEM, "%s: %s", src->name,
                       np < 1 ? "the image source is empty" : "out of memory");
    }
    shapes_rng r = shapes_rng_make(src->name, split, seed);
    uint8_t *groups = (uint8_t *)ds->groups;
    double px[SHAPES_MAX_OBJECTS], py[SHAPES_MAX_OBJECTS], vx[SHAPES_MAX_OBJECTS], vy[SHAPES_MAX_OBJECTS];
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < objects; k++) {
            int64_t pick = (int64_t)(shapes_u(&r, i, 6 * k) * (double)np);
            resample(pics->x + pick * pics->dim, pics->height, pics->width, small + k * it * it, it, it);
            px[k] = shapes_u(&r, i, 6 * k + 1) * (s - it);
            py[k] = shapes_u(&r, i, 6 * k + 2) * (s - it);
            double speed = vmin + (vmax - vmin) * shapes_u(&r, i, 6 * k + 3);
            double ang = 6.283185307179586 * shapes_u(&r, i, 6 * k + 4);
            vx[k] = speed * cos(ang), vy[k] = speed * sin(ang);
        }
        for (int f = 0; f < F; f++) {
            int64_t off = (i * F + f) * npix;
            float *x = ds_x(ds) + off;
            memset(x, 0, sizeof(float) * (size_t)npix);
            memset(count, 0, (size_t)npix), memset(lab, 0, (size_t)npix);
            for (int k = 0; k < objects; k++) {
                int x0 = (int)lround(px[k]), y0 = (int)lround(py[k]);
                for (int yy = 0; yy < it; yy++)
                    for (int xx = 0; xx < it; xx++) {
                        float v = small[k * it * it + yy * it + xx];
                        int64_t p = (int64_t)(y0 + yy) * s + x0 + xx;
                        if (v > x[p]) x[p] = v;
                        if (v > thr) count[p]++, lab[p] = (uint8_t)(k + 1);
                    }
                px[k] = reflect(px[k] + vx[k], s - it, &vx[k]);
                py[k] = reflect(py[k] + vy[k], s - it, &vy[k]);
            }
            for (int64_t p = 0; p < npix; p++)
                groups[off + p] = count[p] == 1 ? lab[p] : 0;
        }
        ds_y(ds)[i] = (int32_t)objects;
    }
    eg_dataset_free(pics), free(small), free(count), free(lab);
    ds->n_classes = (int)objects + 1;
    *out = ds;
    return EG_OK;
}

static eg_status load_fmnist(const eg_cfg *cfg, const char *split, eg_dataset **out, char *err, size_t cap) {
    return load_images(&eg_src_flying_fmnist, &eg_src_fashion_mnist, cfg, split, out, err, cap);
}

static eg_status load_mnist(const eg_cfg *cfg, const char *split, eg_dataset **out, char *err, size_t cap) {
    return load_images(&eg_src_flying_mnist, &eg_src_mnist, cfg, split, out, err, cap);
}

#define FLYING_IMAGE_OPTS(path_default, path_doc)                                                                  \
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "train|valid|test", "", "which split (disjoint Philox streams)"},    \
        {"path", EG_PARAM_PATH, path_default, 0, 0, 0, NULL, "", path_doc},                                        \
        {"n_train", EG_PARAM_INT, "50000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the train split"},     \
        {"n_valid", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the valid split"},      \
        {"n_test", EG_PARAM_INT, "10000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the test split"},       \
        {"objects", EG_PARAM_INT, "2", EG_RANGE_MIN | EG_RANGE_MAX, 1, SHAPES_MAX_OBJECTS, NULL, "images",         \
         "images per sequence"},                                                                                   \
        {"frames", EG_PARAM_INT, "21", EG_RANGE_MIN | EG_RANGE_MAX, 2, 1000, NULL, "frames",                       \
         "frames per sequence (T EM steps need T + 1)"},                                                           \
        {"size", EG_PARAM_INT, "24", EG_RANGE_MIN | EG_RANGE_MAX, 2, 256, NULL, "pixels", "frame side"},           \
        {"item", EG_PARAM_INT, "14", EG_RANGE_MIN | EG_RANGE_MAX, 2, 256, NULL, "pixels",                          \
         "side of a placed image (area-averaged from 28)"},                                                        \
        {"pool", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "images",                                            \
         "draw from the first pool images of the source split (0 = all; the paper's medium20 / medium500)"},       \
        {"threshold", EG_PARAM_FLOAT, "0.5", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",                          \
         "an image covers a pixel where its value exceeds this (groups)"},                                         \
        {"speed_min", EG_PARAM_FLOAT, "1", EG_RANGE_MIN, 0, 0, NULL, "px/frame", "slowest speed"},                 \
        {"speed_max", EG_PARAM_FLOAT, "2", EG_RANGE_MIN, 0, 0, NULL, "px/frame", "fastest speed"},                 \
    {                                                                                                              \
        "seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"           \
    }

static const eg_param_spec fmnist_opts[] = {
    FLYING_IMAGE_OPTS("/usr/share/datasets/fashion-mnist", "directory of the Fashion-MNIST IDX files")};
static const eg_param_spec mnist_opts[] = {
    FLYING_IMAGE_OPTS("", "directory of the MNIST IDX files (train-images-idx3-ubyte[.gz], ...); required")};

const eg_data_source eg_src_flying_fmnist = {
    .name = "flying-fmnist",
    .summary = "sequences of Fashion-MNIST items flying in 24x24 frames, with per-pixel groups (N-EM flying MNIST protocol)",
    .options = fmnist_opts,
    .n_options = EG_COUNT(fmnist_opts),
    .splits = "test|train|valid",
    .load = load_fmnist,
};

const eg_data_source eg_src_flying_mnist = {
    .name = "flying-mnist",
    .summary = "sequences of MNIST digits flying in 24x24 frames, with per-pixel groups (N-EM paper; needs data.path)",
    .options = mnist_opts,
    .n_options = EG_COUNT(mnist_opts),
    .splits = "test|train|valid",
    .load = load_mnist,
};
