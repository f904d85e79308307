/* shapes.c — the `shapes` source: static multi-shape images for perceptual
 * grouping (N-EM notes §1.9, after Reichert & Serre 2014). Each size x size
 * binary image holds `objects` shapes k = 1..objects, each a uniformly chosen
 * template (square 7x7, triangle 7x12, inverted triangle) at a uniformly chosen
 * integer top-left corner where it fits. Counts are summed and labels written
 * (later shapes overwrite); then image = count > 0 and group = k where exactly
 * one shape covers the pixel, 0 for background and overlap. Repeats and full
 * occlusion are allowed. Item i of a split uses Philox values i*256 + 3k + {0,1,2}
 * of the stream "shapes/<split>" keyed by data.seed, so splits are disjoint and
 * any prefix of a split is the same for every n. Labels y = visible groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shapes_common.h"

const shapes_template shapes_templates[SHAPES_TEMPLATES] = {
    {7, 7, "#######" "#######" "##...##" "##...##" "##...##" "#######" "#######"},
    {7, 12, ".....##....." "....####...." "...######..." "..###..###.." ".###....###." "############"
            "############"},
    {7, 12, "############" "############" ".###....###." "..###..###.." "...######..." "....####...."
            ".....##....."},
};

shapes_rng shapes_rng_make(const char *source, const char *split, int64_t seed) {
    char name[256]; /* the stream of "<source>/<split>" */
    snprintf(name, sizeof name, "%s/%s", source, split);
    return (shapes_rng){(uint64_t)seed, ds_stream_id(name)};
}

double shapes_u(const shapes_rng *r, int64_t item, int j) {
    return eg_philox_value(0, r->seed, r->stream, (uint64_t)item * 256u + (uint64_t)j, 0.0, 1.0);
}

eg_dataset *shapes_alloc(const char *source, const char *split, int64_t n, int frames, int h, int w) {
    int f = frames > 0 ? frames : 1;
    int64_t dim = (int64_t)f * h * w;
    /* groups (n * dim bytes) take ceil(n / 4) extra rows of floats */
    eg_dataset *ds = eg_dataset_alloc(source, split, n + (n + 3) / 4, f, h, w, 1);
    if (!ds) return NULL;
    ds->n = n;
    ds->frames = frames;
    ds->groups = (const uint8_t *)(ds->x + n * dim);
    return ds;
}

void shapes_stamp(int t, int x, int y, int side_h, int side_w, uint8_t *count, uint8_t *lab, uint8_t label) {
    const shapes_template *tp = &shapes_templates[t];
    for (int r = 0; r < tp->h; r++)
        for (int c = 0; c < tp->w; c++) {
            if (tp->rows[r * tp->w + c] != '#') continue;
            int yy = y + r, xx = x + c;
            if (yy < 0 || yy >= side_h || xx < 0 || xx >= side_w) continue;
            count[yy * side_w + xx]++;
            lab[yy * side_w + xx] = label;
        }
}

void shapes_finish(const uint8_t *count, const uint8_t *lab, int64_t npix, float *x, uint8_t *groups) {
    for (int64_t p = 0; p < npix; p++) {
        x[p] = count[p] > 0 ? 1.0f : 0.0f;
        groups[p] = count[p] == 1 ? lab[p] : 0;
    }
}

eg_status shapes_split_size(const eg_cfg *cfg, const eg_data_source *src, const char *split, int64_t *n, char *err,
                            size_t cap) {
    const char *key = strcmp(split, "train") == 0 ? "n_train" : strcmp(split, "valid") == 0 ? "n_valid" : "n_test";
    eg_status st = eg_source_int(cfg, src, key, n, err, cap);
    if (st) return st;
    if (*n < 1) return ds_fail(err, cap, EG_ERR_SPEC, "data.%s: expected an integer >= 1, got %lld", key, (long long)*n);
    return EG_OK;
}

/* number of distinct nonzero groups of one frame */
static int32_t visible(const uint8_t *g, int64_t npix) {
    uint32_t seen = 0;
    for (int64_t p = 0; p < npix; p++)
        if (g[p] && g[p] <= 31) seen |= 1u << g[p];
    return __builtin_popcount(seen);
}

static eg_status load_shapes(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_shapes;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, objects = 0, size = 0, seed = 0;
    if ((st = shapes_split_size(cfg, src, split, &n, err, cap)) ||
        (st = eg_source_int(cfg, src, "objects", &objects, err, cap)) ||
        (st = eg_source_int(cfg, src, "size", &size, err, cap)) || (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (objects < 1 || objects > SHAPES_MAX_OBJECTS)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.objects: expected 1..%d, got %lld", SHAPES_MAX_OBJECTS,
                       (long long)objects);
    if (size < 12 || size > 1024)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.size: expected 12..1024 (the templates are 7x12), got %lld",
                       (long long)size);
    if (seed == -1) seed = 0;
    int s = (int)size;
    int64_t npix = (int64_t)s * s;
    eg_dataset *ds = shapes_alloc(src->name, split, n, 0, s, s);
    uint8_t *count = malloc((size_t)npix), *lab = malloc((size_t)npix);
    if (!ds || !count || !lab) {
        eg_dataset_free(ds), free(count), free(lab);
        return ds_fail(err, cap, EG_ERR_NOMEM, "shapes: out of memory for %lld images of %dx%d", (long long)n, s, s);
    }
    shapes_rng r = shapes_rng_make(src->name, split, seed);
    uint8_t *groups = (uint8_t *)ds->groups;
    for (int64_t i = 0; i < n; i++) {
        memset(count, 0, (size_t)npix), memset(lab, 0, (size_t)npix);
        for (int k = 0; k < objects; k++) {
            int t = (int)(shapes_u(&r, i, 3 * k) * SHAPES_TEMPLATES);
            const shapes_template *tp = &shapes_templates[t];
            int x = (int)(shapes_u(&r, i, 3 * k + 1) * (s - tp->w + 1));
            int y = (int)(shapes_u(&r, i, 3 * k + 2) * (s - tp->h + 1));
            shapes_stamp(t, x, y, s, s, count, lab, (uint8_t)(k + 1));
        }
        shapes_finish(count, lab, npix, ds_x(ds) + i * npix, groups + i * npix);
        ds_y(ds)[i] = visible(groups + i * npix, npix);
    }
    free(count), free(lab);
    ds->n_classes = (int)objects + 1;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec shapes_opts[] = {
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "train|valid|test", "", "which split (disjoint Philox streams)"},
    {"n_train", EG_PARAM_INT, "50000", EG_RANGE_MIN, 1, 0, NULL, "images", "items of the train split"},
    {"n_valid", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "images", "items of the valid split"},
    {"n_test", EG_PARAM_INT, "10000", EG_RANGE_MIN, 1, 0, NULL, "images", "items of the test split"},
    {"objects", EG_PARAM_INT, "3", EG_RANGE_MIN | EG_RANGE_MAX, 1, SHAPES_MAX_OBJECTS, NULL, "shapes",
     "shapes per image (square, triangle, inverted triangle)"},
    {"size", EG_PARAM_INT, "28", EG_RANGE_MIN | EG_RANGE_MAX, 12, 1024, NULL, "pixels", "image side"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_shapes = {
    .name = "shapes",
    .summary = "static binary shapes (square / triangles) with per-pixel groups, for perceptual grouping (N-EM)",
    .options = shapes_opts,
    .n_options = EG_COUNT(shapes_opts),
    .splits = "test|train|valid",
    .load = load_shapes,
};
