/* sines.c — the CompVAE sines problem (engram/synth.h) and the `sines` dataset
 * source built on it. Reference: models-nem-compvae.md §2.2.
 *
 * Dataset layout: item i is one whole x (T = 200 values, a 1 x 1 x 200 vector)
 * made of K_i = k_min + (i mod (k_max - k_min + 1)) parts; y[i] = K_i (the
 * number of parts). The parts themselves (frequency, amplitude, phase) are not
 * stored in the rows: a plugin that needs them (compvae) draws the problem
 * online with eg_sines_generate, which returns them beside the wholes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "engram/philox.h"
#include "engram/synth.h"

extern const eg_data_source eg_src_sines;

static double draw(eg_rng *rng, int kind, double a, double b) {
    return eg_philox_value(kind, rng->seed, rng->stream, rng->offset++, a, b);
}

eg_status eg_sines_generate(eg_rng *rng, int64_t n, int K, int len, float *x, int32_t *freq, float *amp, float *phase,
                            float *s_pre) {
    if (!rng || n < 0 || K < 1 || len < 1) return EG_ERR_INVALID;
    const double two_pi = 6.283185307179586476925;
    double *s = malloc(sizeof(double) * (size_t)len);
    if (!s) return EG_ERR_NOMEM;
    for (int64_t b = 0; b < n; b++) {
        for (int t = 0; t < len; t++)
            s[t] = 0;
        for (int i = 0; i < K; i++) {
            /* f uniform on {1..9}; a ~ N(1, 0.3^2); phi ~ N(0, 0.8^2) */
            int f = 1 + (int)floor(draw(rng, 0, 0, EG_SINES_FREQS));
            if (f > EG_SINES_FREQS) f = EG_SINES_FREQS;
            double a = draw(rng, 1, 1.0, 0.3), ph = draw(rng, 1, 0.0, 0.8);
            if (freq) freq[b * K + i] = f;
            if (amp) amp[b * K + i] = (float)a;
            if (phase) phase[b * K + i] = (float)ph;
            for (int t = 0; t < len; t++)
                s[t] += a * cos(two_pi * f * (t / 100.0) + ph);
        }
        for (int t = 0; t < len; t++) {
            if (x) x[b * len + t] = (float)(K * tanh(3.0 * s[t] / K));
            if (s_pre) s_pre[b * len + t] = (float)s[t];
        }
    }
    free(s);
    return EG_OK;
}

static eg_status load_sines(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_sines;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, kmin = 0, kmax = 0, seed = 0;
    if ((st = eg_source_int(cfg, src, "n", &n, err, cap)) || (st = eg_source_int(cfg, src, "k_min", &kmin, err, cap)) ||
        (st = eg_source_int(cfg, src, "k_max", &kmax, err, cap)) || (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (n < 1 || n > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.n: expected 1..%d, got %lld", INT32_MAX, (long long)n);
    if (kmin < 1 || kmax < kmin || kmax > 1000)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.k_max: expected k_min (%lld) <= k_max <= 1000, got %lld",
                       (long long)kmin, (long long)kmax);
    if (seed < -1) return ds_fail(err, cap, EG_ERR_SPEC, "data.seed: expected -1 or >= 0, got %lld", (long long)seed);
    if (seed == -1) seed = 0;
    eg_dataset *ds = eg_dataset_alloc(src->name, split, n, 1, 1, EG_SINES_LEN, 1);
    if (!ds) return ds_fail(err, cap, EG_ERR_NOMEM, "sines: out of memory for %lld items", (long long)n);
    const char *stream = strcmp(split, "test") == 0 ? "sines/test" : "sines/train";
    eg_rng rng = eg_rng_make((uint64_t)seed, ds_stream_id(stream));
    int64_t range = kmax - kmin + 1;
    for (int64_t i = 0; i < n; i++) {
        int K = (int)(kmin + i % range);
        eg_sines_generate(&rng, 1, K, EG_SINES_LEN, ds_x(ds) + i * EG_SINES_LEN, NULL, NULL, NULL, NULL);
        ds_y(ds)[i] = K;
    }
    ds->n_classes = (int)kmax + 1;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec sines_opts[] = {
    {"split", EG_PARAM_ENUM, "train", 0, 0, 0, "train|test", "", "train or test (independent Philox streams)"},
    {"n", EG_PARAM_INT, "256", EG_RANGE_MIN, 1, 0, NULL, "items", "number of wholes"},
    {"k_min", EG_PARAM_INT, "1", EG_RANGE_MIN, 1, 0, NULL, "parts", "fewest parts per whole"},
    {"k_max", EG_PARAM_INT, "4", EG_RANGE_MIN, 1, 0, NULL, "parts",
     "most parts per whole (item i has k_min + i mod (k_max - k_min + 1))"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_sines = {
    .name = "sines",
    .summary = "CompVAE sines: K tanh(3 S/K) of K random cosines (f in 1..9), T = 200; label = K (parts: eg_sines_generate)",
    .options = sines_opts,
    .n_options = EG_COUNT(sines_opts),
    .splits = "train|test",
    .load = load_sines,
    .shape = "1x1x200",
};
