/* random_patterns.c — the `random-patterns` source: n synthetic patterns of dim
 * values, the standard workload of associative-memory capacity experiments.
 * Element (i, j) is Philox4x32-10 value index i*dim + j of stream
 * EG_RANDOM_PATTERNS_STREAM keyed by data.seed (engram/philox.h), so the same
 * seed gives the same patterns on every machine:
 *   binary:   +1 when u < 1/2 else -1 (u uniform in [0, 1)), dataset marked binary;
 *   gaussian: N(0, 1) (Box-Muller as in philox.h).
 * Labels: y = item index (each pattern is its own class, n_classes = n). */
#include <stdio.h>
#include <string.h>

#include "ds_common.h"
#include "engram/philox.h"

static eg_status load_random(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_random_patterns;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, dim = 0, seed = 0;
    if ((st = eg_source_int(cfg, src, "n", &n, err, cap)) || (st = eg_source_int(cfg, src, "dim", &dim, err, cap)) ||
        (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (n < 1) return ds_fail(err, cap, EG_ERR_SPEC, "data.n: expected an integer >= 1, got %lld", (long long)n);
    if (dim < 1 || dim > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.dim: expected an integer in 1..%d, got %lld", INT32_MAX,
                       (long long)dim);
    if (n > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.n: expected at most %d patterns (labels are int32), got %lld",
                       INT32_MAX, (long long)n);
    if (seed < -1)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.seed: expected -1 (the run's seed) or >= 0, got %lld",
                       (long long)seed);
    if (seed == -1) seed = 0; /* the run context substitutes the run's seed; a bare load uses 0 */
    const char *kind = eg_source_text(cfg, src, "kind");
    int binary = strcmp(kind, "binary") == 0;
    if (!binary && strcmp(kind, "gaussian") != 0)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.kind: expected binary or gaussian, got '%s'", kind);

    eg_dataset *ds = eg_dataset_alloc(src->name, split, n, 1, 1, (int)dim, 1);
    if (!ds)
        return ds_fail(err, cap, EG_ERR_NOMEM, "random-patterns: out of memory for %lld x %lld floats", (long long)n,
                       (long long)dim);
    float *x = ds_x(ds);
    uint64_t stream = ds_stream_id("random-patterns"), total = (uint64_t)n * (uint64_t)dim;
    for (uint64_t k = 0; k < total; k++)
        x[k] = binary ? (eg_philox_value(0, (uint64_t)seed, stream, k, 0.0, 1.0) < 0.5 ? 1.0f : -1.0f)
                      : (float)eg_philox_value(1, (uint64_t)seed, stream, k, 0.0, 1.0);
    for (int64_t i = 0; i < n; i++)
        ds_y(ds)[i] = (int32_t)i;
    ds->n_classes = (int)n;
    ds->binary = binary;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec random_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole set (no split)"},
    {"n", EG_PARAM_INT, "100", EG_RANGE_MIN, 1, 0, NULL, "patterns", "number of patterns"},
    {"dim", EG_PARAM_INT, "100", EG_RANGE_MIN, 1, 0, NULL, "", "values per pattern"},
    {"kind", EG_PARAM_ENUM, "binary", 0, 0, 0, "binary|gaussian", "",
     "binary: +1/-1 with probability 1/2 each; gaussian: N(0, 1)"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_random_patterns = {
    .name = "random-patterns",
    .summary = "synthetic patterns (n x dim, +/-1 or N(0,1)) from Philox; label = item index",
    .options = random_opts,
    .n_options = EG_COUNT(random_opts),
    .splits = "all",
    .load = load_random,
    .shape = "1x1xdim",
};
