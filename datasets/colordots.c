/* colordots.c — the CompVAE colour-dots problem (engram/synth.h) and the
 * `colour-dots` dataset source built on it. Reference: models-nem-compvae.md §2.2.
 *
 * Dataset layout: item i is one 3 x size x size image (CHW, values in [0, 1])
 * made of K_i = k_min + (i mod (k_max - k_min + 1)) blobs; y[i] = K_i. The parts
 * (colour, centre, sharpness) are not stored in the rows: a plugin that needs
 * them draws the problem online with eg_dots_generate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "engram/philox.h"
#include "engram/synth.h"

extern const eg_data_source eg_src_colour_dots;

static double draw(eg_rng *rng, double a, double b) {
    return eg_philox_value(0, rng->seed, rng->stream, rng->offset++, a, b);
}

void eg_dots_colour(int c, float rgb[3]) {
    static const float tab[EG_DOTS_COLOURS][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}, {1, 1, 1}};
    if (c < 0 || c >= EG_DOTS_COLOURS) c = 3;
    memcpy(rgb, tab[c], sizeof tab[c]);
}

void eg_dots_render(int K, int size, const int32_t *colour, const float *centre, const float *sharp, float *x,
                    float *weights) {
    int64_t P = (int64_t)size * size;
    double logit[64], *lg = K <= 64 ? logit : malloc(sizeof(double) * (size_t)K);
    if (!lg) return;
    for (int r = 0; r < size; r++)
        for (int c = 0; c < size; c++) {
            double ur = size > 1 ? 2.0 * r / (size - 1) - 1 : 0, uc = size > 1 ? 2.0 * c / (size - 1) - 1 : 0;
            double mx = -INFINITY, z = 0, rgb[3] = {0, 0, 0};
            for (int k = 0; k < K; k++) {
                double dx = uc - centre[2 * k], dy = ur - centre[2 * k + 1];
                lg[k] = -sharp[k] * (dx * dx + dy * dy);
                if (lg[k] > mx) mx = lg[k];
            }
            for (int k = 0; k < K; k++)
                z += lg[k] = exp(lg[k] - mx);
            for (int k = 0; k < K; k++) {
                float col[3];
                eg_dots_colour(colour[k], col);
                double pk = lg[k] / z;
                if (weights) weights[(r * size + c) * K + k] = (float)pk;
                for (int ch = 0; ch < 3; ch++)
                    rgb[ch] += pk * col[ch];
            }
            for (int ch = 0; ch < 3; ch++) {
                double v = pow(rgb[ch] > 0 ? rgb[ch] : 0, 1.0 / 2.4); /* gamma curve */
                x[ch * P + r * size + c] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
            }
        }
    if (lg != logit) free(lg);
}

eg_status eg_dots_generate(eg_rng *rng, int64_t n, int K, int size, float *x, int32_t *colour, float *centre,
                           float *sharp) {
    if (!rng || n < 0 || K < 1 || size < 1) return EG_ERR_INVALID;
    int32_t *col = malloc(sizeof(int32_t) * (size_t)K);
    float *cen = malloc(sizeof(float) * 2 * (size_t)K), *sh = malloc(sizeof(float) * (size_t)K);
    if (!col || !cen || !sh) {
        free(col), free(cen), free(sh);
        return EG_ERR_NOMEM;
    }
    int64_t dim = 3 * (int64_t)size * size;
    for (int64_t b = 0; b < n; b++) {
        for (int k = 0; k < K; k++) {
            int c = (int)floor(draw(rng, 0, EG_DOTS_COLOURS));
            col[k] = c >= EG_DOTS_COLOURS ? EG_DOTS_COLOURS - 1 : c;
            cen[2 * k] = (float)draw(rng, -0.9, 0.9);
            cen[2 * k + 1] = (float)draw(rng, -0.9, 0.9);
            sh[k] = (float)draw(rng, 5, 10);
        }
        if (x) eg_dots_render(K, size, col, cen, sh, x + b * dim, NULL);
        if (colour) memcpy(colour + b * K, col, sizeof(int32_t) * (size_t)K);
        if (centre) memcpy(centre + b * 2 * K, cen, sizeof(float) * 2 * (size_t)K);
        if (sharp) memcpy(sharp + b * K, sh, sizeof(float) * (size_t)K);
    }
    free(col), free(cen), free(sh);
    return EG_OK;
}

static eg_status load_dots(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_colour_dots;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, kmin = 0, kmax = 0, seed = 0, size = 0;
    if ((st = eg_source_int(cfg, src, "n", &n, err, cap)) || (st = eg_source_int(cfg, src, "k_min", &kmin, err, cap)) ||
        (st = eg_source_int(cfg, src, "k_max", &kmax, err, cap)) || (st = eg_source_int(cfg, src, "seed", &seed, err, cap)) ||
        (st = eg_source_int(cfg, src, "size", &size, err, cap)))
        return st;
    if (n < 1 || n > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.n: expected 1..%d, got %lld", INT32_MAX, (long long)n);
    if (kmin < 1 || kmax < kmin || kmax > 1000)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.k_max: expected k_min (%lld) <= k_max <= 1000, got %lld",
                       (long long)kmin, (long long)kmax);
    if (size < 2 || size > 4096)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.size: expected 2..4096 pixels, got %lld", (long long)size);
    if (seed < -1) return ds_fail(err, cap, EG_ERR_SPEC, "data.seed: expected -1 or >= 0, got %lld", (long long)seed);
    if (seed == -1) seed = 0;
    eg_dataset *ds = eg_dataset_alloc(src->name, split, n, 3, (int)size, (int)size, 1);
    if (!ds) return ds_fail(err, cap, EG_ERR_NOMEM, "colour-dots: out of memory for %lld images", (long long)n);
    const char *stream = strcmp(split, "test") == 0 ? "colour-dots/test" : "colour-dots/train";
    eg_rng rng = eg_rng_make((uint64_t)seed, ds_stream_id(stream));
    int64_t range = kmax - kmin + 1;
    for (int64_t i = 0; i < n; i++) {
        int K = (int)(kmin + i % range);
        eg_dots_generate(&rng, 1, K, (int)size, ds_x(ds) + i * ds->dim, NULL, NULL, NULL);
        ds_y(ds)[i] = K;
    }
    ds->n_classes = (int)kmax + 1;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec dots_opts[] = {
    {"split", EG_PARAM_ENUM, "train", 0, 0, 0, "train|test", "", "train or test (independent Philox streams)"},
    {"n", EG_PARAM_INT, "256", EG_RANGE_MIN, 1, 0, NULL, "items", "number of images"},
    {"size", EG_PARAM_INT, "32", EG_RANGE_MIN | EG_RANGE_MAX, 2, 4096, NULL, "pixels", "image side"},
    {"k_min", EG_PARAM_INT, "1", EG_RANGE_MIN, 1, 0, NULL, "parts", "fewest blobs per image"},
    {"k_max", EG_PARAM_INT, "6", EG_RANGE_MIN, 1, 0, NULL, "parts",
     "most blobs per image (item i has k_min + i mod (k_max - k_min + 1))"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_colour_dots = {
    .name = "colour-dots",
    .summary = "CompVAE colour dots: soft Voronoi of K blobs of 5 colours with gamma, 3 x size x size; label = K",
    .options = dots_opts,
    .n_options = EG_COUNT(dots_opts),
    .splits = "train|test",
    .load = load_dots,
    .shape = "3xsizexsize",
};
