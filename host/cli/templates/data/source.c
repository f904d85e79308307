/* @NAME@_source.c — the @NAME@ data source (scaffolded by `engram new-plugin --kind data`).
 *
 * Correlated binary patterns, the workload of capacity studies with correlated
 * memories: a parent pattern p in {-1,+1}^dim and n children, each keeping every
 * bit of the parent with probability (1 + overlap)/2 and flipping it otherwise. So
 * E[x_j p_j] = overlap, and two children agree on a bit with probability
 * (1 + overlap^2)/2 (overlap 0: independent uniform patterns). Every value comes from
 * Philox4x32-10 (engram/philox.h) keyed by data.seed, so a seed gives the same
 * patterns on every machine. Label = item index. Change @NAME@_generate and the
 * option table to make it your source. */
#include <stdio.h>
#include <string.h>

#include "@NAME@.h"
#include "engram/philox.h"

static const eg_param_spec @NAME@_options[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole set (no split)"},
    {"n", EG_PARAM_INT, "100", EG_RANGE_MIN | EG_RANGE_MAX, 1, 1e7, NULL, "patterns", "number of patterns"},
    {"dim", EG_PARAM_INT, "64", EG_RANGE_MIN | EG_RANGE_MAX, 1, 1e6, NULL, "", "bits per pattern"},
    {"overlap", EG_PARAM_FLOAT, "0", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "E[x_j p_j]: each bit is the parent's with probability (1 + overlap)/2"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

/* uniform in [0, 1) from value `index` of stream `stream` */
static double @NAME@_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
    uint32_t w[4];
    eg_philox_words(seed, stream, index, w);
    return eg_philox_u53(w[0], w[1]);
}

void @NAME@_generate(int64_t n, int64_t dim, double overlap, uint64_t seed, float *x) {
    const double keep = 0.5 * (1.0 + overlap);
    for (int64_t j = 0; j < dim; j++) {
        float parent = @NAME@_uniform(seed, 0, (uint64_t)j) < 0.5 ? 1.0f : -1.0f; /* stream 0: the parent */
        for (int64_t i = 0; i < n; i++) /* stream 1: which bits each child keeps */
            x[i * dim + j] = @NAME@_uniform(seed, 1, (uint64_t)(i * dim + j)) < keep ? parent : -parent;
    }
}

static eg_status @NAME@_load(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap);

/* the source, its descriptor and the one exported symbol, eg_data_entry (engram/source.h) */
EG_DATA_DEFINE(@NAME@,
    .summary = "correlated +-1 patterns: children of one parent with a given overlap (scaffolded)",
    .options = @NAME@_options,
    .n_options = EG_COUNT(@NAME@_options),
    .splits = "all",
    .shape = "1x1xdim", /* C x H x W; the preflight checks loaded items against it */
    .load = @NAME@_load,
    .version = "0.1.0",
    .license = "MIT",       /* SPDX identifier of your choice */
    .authors = "@AUTHORS@", /* shown by `engram datasets` */
    .url = NULL)            /* where the source lives, once it does */

static eg_status @NAME@_load(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &@NAME@_data_source;
    const char *split;
    int64_t n = 0, dim = 0, seed = 0;
    double overlap = 0;
    eg_status st;
    /* values the spec gave, else the option table's defaults; errors name data.<key> */
    if ((st = eg_source_split(cfg, src, split_arg, &split, err, cap)) != EG_OK ||
        (st = eg_source_int(cfg, src, "n", &n, err, cap)) != EG_OK ||
        (st = eg_source_int(cfg, src, "dim", &dim, err, cap)) != EG_OK ||
        (st = eg_source_float(cfg, src, "overlap", &overlap, err, cap)) != EG_OK ||
        (st = eg_source_int(cfg, src, "seed", &seed, err, cap)) != EG_OK)
        return st;
    /* the spec layer checked the ranges; a tool may call a loader with anything */
    if (n < 1 || n > 10000000 || dim < 1 || dim > 1000000 || !(overlap >= 0 && overlap <= 1)) {
        snprintf(err, cap, "@NAME@: need 1 <= data.n <= 1e7, 1 <= data.dim <= 1e6, 0 <= data.overlap <= 1");
        return EG_ERR_SPEC;
    }
    if (seed < 0) seed = 0; /* -1: a run substitutes its seed; a bare load uses 0 */
    eg_dataset *ds = eg_dataset_alloc(src->name, split, n, 1, 1, (int)dim, 1);
    if (!ds) {
        snprintf(err, cap, "@NAME@: out of memory for %lld x %lld floats", (long long)n, (long long)dim);
        return EG_ERR_NOMEM;
    }
    @NAME@_generate(n, dim, overlap, (uint64_t)seed, (float *)ds->x);
    for (int64_t i = 0; i < n; i++)
        ((int32_t *)ds->y)[i] = (int32_t)i;
    ds->n_classes = (int)n;
    ds->binary = 1;
    *out = ds;
    return EG_OK;
}
