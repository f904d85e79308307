/* flying_shapes.c — the `flying-shapes` source: sequences of `frames` binary
 * size x size frames in which `objects` shapes (the static-shapes templates)
 * fly and bounce off the walls (N-EM notes §1.9, "proposal"; the paper's own
 * generator is not published). Per object: a uniform template, a real-valued
 * top-left position uniform over the positions where it fits, a speed uniform
 * in [speed_min, speed_max] px/frame and a uniform direction. Every frame the
 * objects are drawn at their rounded positions (groups as in the static set:
 * object id where exactly one object covers the pixel, 0 for background and
 * overlap; ids constant over time), then position += velocity, and a
 * coordinate that leaves [0, size - extent] is mirrored back and its velocity
 * component reversed. Item layout: channels = frames (frame-major), frames set,
 * groups [n, frames * size * size]. Draws: Philox values i*256 + 5k + {0..4}
 * of the stream "flying-shapes/<split>". */
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

static eg_status load_flying(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_flying_shapes;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, objects = 0, size = 0, seed = 0, frames = 0;
    double vmin = 0, vmax = 0;
    if ((st = shapes_split_size(cfg, src, split, &n, err, cap)) ||
        (st = eg_source_int(cfg, src, "objects", &objects, err, cap)) ||
        (st = eg_source_int(cfg, src, "size", &size, err, cap)) ||
        (st = eg_source_int(cfg, src, "frames", &frames, err, cap)) ||
        (st = eg_source_float(cfg, src, "speed_min", &vmin, err, cap)) ||
        (st = eg_source_float(cfg, src, "speed_max", &vmax, err, cap)) ||
        (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (objects < 1 || objects > SHAPES_MAX_OBJECTS)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.objects: expected 1..%d, got %lld", SHAPES_MAX_OBJECTS,
                       (long long)objects);
    if (size < 12 || size > 256)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.size: expected 12..256, got %lld", (long long)size);
    if (frames < 2 || frames > 1000)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.frames: expected 2..1000, got %lld", (long long)frames);
    if (!(vmin >= 0 && vmax >= vmin))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.speed_max: expected speed_max >= speed_min >= 0, got %g < %g",
                       vmax, vmin);
    if (seed == -1) seed = 0;
    int s = (int)size, F = (int)frames;
    int64_t npix = (int64_t)s * s;
    eg_dataset *ds = shapes_alloc(src->name, split, n, F, s, s);
    uint8_t *count = malloc((size_t)npix), *lab = malloc((size_t)npix);
    if (!ds || !count || !lab) {
        eg_dataset_free(ds), free(count), free(lab);
        return ds_fail(err, cap, EG_ERR_NOMEM, "flying-shapes: out of memory for %lld sequences of %d frames %dx%d",
                       (long long)n, F, s, s);
    }
    shapes_rng r = shapes_rng_make(src->name, split, seed);
    uint8_t *groups = (uint8_t *)ds->groups;
    int tmpl[SHAPES_MAX_OBJECTS];
    double px[SHAPES_MAX_OBJECTS], py[SHAPES_MAX_OBJECTS], vx[SHAPES_MAX_OBJECTS], vy[SHAPES_MAX_OBJECTS];
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < objects; k++) {
            int t = (int)(shapes_u(&r, i, 5 * k) * SHAPES_TEMPLATES);
            tmpl[k] = t;
            px[k] = shapes_u(&r, i, 5 * k + 1) * (s - shapes_templates[t].w);
            py[k] = shapes_u(&r, i, 5 * k + 2) * (s - shapes_templates[t].h);
            double speed = vmin + (vmax - vmin) * shapes_u(&r, i, 5 * k + 3);
            double ang = 6.283185307179586 * shapes_u(&r, i, 5 * k + 4);
            vx[k] = speed * cos(ang), vy[k] = speed * sin(ang);
        }
        for (int f = 0; f < F; f++) {
            memset(count, 0, (size_t)npix), memset(lab, 0, (size_t)npix);
            for (int k = 0; k < objects; k++) {
                const shapes_template *tp = &shapes_templates[tmpl[k]];
                shapes_stamp(tmpl[k], (int)lround(px[k]), (int)lround(py[k]), s, s, count, lab, (uint8_t)(k + 1));
                px[k] = reflect(px[k] + vx[k], s - tp->w, &vx[k]);
                py[k] = reflect(py[k] + vy[k], s - tp->h, &vy[k]);
            }
            int64_t off = (i * F + f) * npix;
            shapes_finish(count, lab, npix, ds_x(ds) + off, groups + off);
        }
        ds_y(ds)[i] = (int32_t)objects;
    }
    free(count), free(lab);
    ds->n_classes = (int)objects + 1;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec flying_opts[] = {
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "train|valid|test", "", "which split (disjoint Philox streams)"},
    {"n_train", EG_PARAM_INT, "50000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the train split"},
    {"n_valid", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the valid split"},
    {"n_test", EG_PARAM_INT, "10000", EG_RANGE_MIN, 1, 0, NULL, "sequences", "items of the test split"},
    {"objects", EG_PARAM_INT, "3", EG_RANGE_MIN | EG_RANGE_MAX, 1, SHAPES_MAX_OBJECTS, NULL, "shapes",
     "shapes per sequence"},
    {"frames", EG_PARAM_INT, "21", EG_RANGE_MIN | EG_RANGE_MAX, 2, 1000, NULL, "frames",
     "frames per sequence (T EM steps need T + 1)"},
    {"size", EG_PARAM_INT, "28", EG_RANGE_MIN | EG_RANGE_MAX, 12, 256, NULL, "pixels", "frame side"},
    {"speed_min", EG_PARAM_FLOAT, "1", EG_RANGE_MIN, 0, 0, NULL, "px/frame", "slowest speed"},
    {"speed_max", EG_PARAM_FLOAT, "2", EG_RANGE_MIN, 0, 0, NULL, "px/frame", "fastest speed"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_flying_shapes = {
    .name = "flying-shapes",
    .summary = "sequences of binary shapes bouncing off the walls, with per-pixel groups (N-EM)",
    .options = flying_opts,
    .n_options = EG_COUNT(flying_opts),
    .splits = "test|train|valid",
    .load = load_flying,
};
