/* gaussians.c — the `gaussians` source: synthetic Gaussian measures for the
 * bwdam plugin (reference/models-pcgmm-hopfield-bwdam.md §3.4). Rows as in
 * gaussians.h. Draws are Philox4x32-10 values of a fixed stream keyed by data.seed;
 * item i uses counters i·2^32 + k, so an item does not depend on data.n.
 *
 * kind: sphere (the Wasserstein-sphere sampler of the reference notebook):
 *   R² = data.radius² (0: d (λmin + λmax)); tr Σ = t = trace_share·R² and the mean
 *   uniform on the sphere |m|² = R² - t, so W2(δ0, X) = √(|m|² + tr Σ) = R for every
 *   item. Eigenvalues: d - 1 uniform in [λmin, λmax], the last = t - their sum, the
 *   draw rejected unless that last one is in [λmin, λmax] too, then shuffled.
 *   Termination: t must lie in [d λmin, d λmax] (checked up front: otherwise no
 *   eigenvalues exist); the rejection loop is capped at EG_GAUSS_MAX_TRIES tries per
 *   item, after which the last draw u is contracted toward the feasible constant
 *   vector c = t/d: λ = c + α (u - mean(u)) with the largest α in [0, 1] that keeps
 *   every λ_k in range (α = 0 is always feasible). So the sampler ends for every
 *   feasible setting, also at the boundary t = d λmin where plain rejection never
 *   accepts; when a try is accepted the draw is the notebook's distribution.
 * kind: box (the paper's Fig. 2): means uniform in [-mean_range, mean_range]^d and
 *   √λ_k uniform in [√λmin, √λmax].
 * cov: diag stores the eigenvalues as variances; full stores U diag(λ) Uᵀ with one
 *   random orthogonal U shared by all items (commuting covariances, as the notebook;
 *   W2 is invariant under the rotation, so diag gives the same retrieval, cheaper);
 *   rotated stores U_i diag(λ_i) U_iᵀ with a random orthogonal U_i per item
 *   (non-commuting, eigenvalues still in [λmin, λmax]: the library's sphere sampler);
 *   general stores Σ = W Wᵀ + 0.01 I (W with N(0, 1) entries) rescaled to trace t
 *   (sphere) or to d (λmin + λmax)/2 (box): non-commuting covariances. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "engram/philox.h"
#include "gaussians.h"

#define EG_GAUSS_MAX_TRIES 10000

typedef struct draw {
    uint64_t seed, stream, base, k; /* value k of item base */
} draw;

static double uni(draw *r, double a, double b) {
    return eg_philox_value(0, r->seed, r->stream, r->base + r->k++, a, b);
}

static double nrm(draw *r) {
    return eg_philox_value(1, r->seed, r->stream, r->base + r->k++, 0, 1);
}

/* d eigenvalues in [lo, hi] summing to t (lo <= t/d <= hi) */
static void sphere_eigenvalues(draw *r, int64_t d, double lo, double hi, double t, double *lam) {
    double slack = 1e-12 * (fabs(t) + 1);
    for (int tries = 0; tries < EG_GAUSS_MAX_TRIES; tries++) {
        double s = 0;
        for (int64_t k = 0; k < d - 1; k++)
            s += lam[k] = uni(r, lo, hi);
        lam[d - 1] = t - s;
        if (lam[d - 1] >= lo - slack && lam[d - 1] <= hi + slack) {
            lam[d - 1] = lam[d - 1] < lo ? lo : lam[d - 1] > hi ? hi : lam[d - 1];
            for (int64_t k = d - 1; k > 0; k--) { /* Fisher–Yates */
                int64_t j = (int64_t)uni(r, 0, (double)(k + 1));
                if (j > k) j = k;
                double x = lam[k];
                lam[k] = lam[j], lam[j] = x;
            }
            return;
        }
    }
    /* contraction of the last try toward c = t/d (see the file comment) */
    double c = t / (double)d, mean = 0, alpha = 1;
    for (int64_t k = 0; k < d; k++)
        lam[k] = uni(r, lo, hi), mean += lam[k] / (double)d;
    for (int64_t k = 0; k < d; k++) {
        double dev = lam[k] - mean;
        if (dev > 0 && c + dev > hi) alpha = fmin(alpha, (hi - c) / dev);
        if (dev < 0 && c + dev < lo) alpha = fmin(alpha, (lo - c) / dev);
    }
    for (int64_t k = 0; k < d; k++) {
        double v = c + (alpha > 0 ? alpha : 0) * (lam[k] - mean);
        lam[k] = v < lo ? lo : v > hi ? hi : v;
    }
}

/* a random orthogonal d x d matrix: Gram–Schmidt (twice) on N(0, 1) columns */
static void orthogonal(draw *r, int64_t d, double *U) {
    for (int64_t i = 0; i < d * d; i++)
        U[i] = nrm(r);
    for (int64_t j = 0; j < d; j++) {
        for (int pass = 0; pass < 2; pass++)
            for (int64_t p = 0; p < j; p++) {
                double dot = 0;
                for (int64_t i = 0; i < d; i++)
                    dot += U[i * d + j] * U[i * d + p];
                for (int64_t i = 0; i < d; i++)
                    U[i * d + j] -= dot * U[i * d + p];
            }
        double nn = 0;
        for (int64_t i = 0; i < d; i++)
            nn += U[i * d + j] * U[i * d + j];
        nn = sqrt(nn) > 0 ? sqrt(nn) : 1;
        for (int64_t i = 0; i < d; i++)
            U[i * d + j] /= nn;
    }
}

static eg_status load_gaussians(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_gaussians;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, d = 0, seed = 0;
    double lo = 0, hi = 0, radius = 0, share = 0, range = 0;
    if ((st = eg_source_int(cfg, src, "n", &n, err, cap)) || (st = eg_source_int(cfg, src, "dim", &d, err, cap)) ||
        (st = eg_source_int(cfg, src, "seed", &seed, err, cap)) ||
        (st = eg_source_float(cfg, src, "lambda_min", &lo, err, cap)) ||
        (st = eg_source_float(cfg, src, "lambda_max", &hi, err, cap)) ||
        (st = eg_source_float(cfg, src, "radius", &radius, err, cap)) ||
        (st = eg_source_float(cfg, src, "trace_share", &share, err, cap)) ||
        (st = eg_source_float(cfg, src, "mean_range", &range, err, cap)))
        return st;
    const char *cov = eg_source_text(cfg, src, "cov"), *kind = eg_source_text(cfg, src, "kind");
    int rotated = strcmp(cov, "rotated") == 0, general = strcmp(cov, "general") == 0, box = strcmp(kind, "box") == 0;
    int full = strcmp(cov, "full") == 0 || rotated;
    if (!full && !general && strcmp(cov, "diag") != 0)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.cov: expected diag, full, rotated or general, got '%s'", cov);
    if (!box && strcmp(kind, "sphere") != 0)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.kind: expected sphere or box, got '%s'", kind);
    if (n < 1 || n > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.n: expected 1..%d items, got %lld", INT32_MAX, (long long)n);
    if (d < 1 || d > 4096)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.dim: expected 1..4096, got %lld", (long long)d);
    if (!(lo > 0) || !(hi >= lo))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.lambda_min, data.lambda_max: expected 0 < lambda_min <= lambda_max, "
                       "got %g, %g", lo, hi);
    if (seed < -1)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.seed: expected -1 (the run's seed) or >= 0, got %lld",
                       (long long)seed);
    if (seed == -1) seed = 0;
    double R2 = radius > 0 ? radius * radius : (double)d * (lo + hi), t = share * R2;
    if (!box && (t < (double)d * lo * (1 - 1e-12) || t > (double)d * hi * (1 + 1e-12)))
        return ds_fail(err, cap, EG_ERR_SPEC,
                       "data.radius, data.trace_share: the trace %g = trace_share * radius^2 must lie in "
                       "[dim * lambda_min, dim * lambda_max] = [%g, %g] so that eigenvalues in "
                       "[lambda_min, lambda_max] exist",
                       t, (double)d * lo, (double)d * hi);
    if (box) t = (double)d * (lo + hi) / 2;
    int64_t h = full || general ? d + 1 : 2;
    if (d == 1) h = 2;
    eg_dataset *ds = eg_dataset_alloc(src->name, split, n, 1, (int)h, (int)d, 1);
    double *U = malloc(sizeof(double) * (size_t)(d * d)), *lam = malloc(sizeof(double) * (size_t)d);
    double *W = general ? malloc(sizeof(double) * (size_t)(d * d)) : NULL;
    if (!ds || !U || !lam || (general && !W)) {
        eg_dataset_free(ds), free(U), free(lam), free(W);
        return ds_fail(err, cap, EG_ERR_NOMEM, "gaussians: out of memory for %lld items of dimension %lld",
                       (long long)n, (long long)d);
    }
    uint64_t stream = ds_stream_id("gaussians");
    if (full && !rotated && d > 1) {
        draw ru = {(uint64_t)seed, stream + 1, 0, 0};
        orthogonal(&ru, d, U);
    }
    float *x = ds_x(ds);
    double rm = sqrt(R2 - t > 0 ? R2 - t : 0);
    for (int64_t i = 0; i < n; i++) {
        draw r = {(uint64_t)seed, stream, (uint64_t)i << 32, 0};
        float *row = x + i * ds->dim, *S = row + d;
        /* mean */
        double nn = 0;
        for (int64_t k = 0; k < d; k++) {
            double v = box ? uni(&r, -range, range) : nrm(&r);
            row[k] = (float)v, nn += v * v;
        }
        if (!box)
            for (int64_t k = 0; k < d; k++)
                row[k] = (float)(nn > 0 ? row[k] * rm / sqrt(nn) : 0);
        /* covariance */
        if (general) {
            for (int64_t k = 0; k < d * d; k++)
                W[k] = nrm(&r);
            double tr = 0;
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double s = a == b ? 0.01 : 0;
                    for (int64_t c = 0; c < d; c++)
                        s += W[a * d + c] * W[b * d + c];
                    U[a * d + b] = s;
                    if (a == b) tr += s;
                }
            for (int64_t k = 0; k < d * d; k++)
                S[k] = (float)(U[k] * t / tr);
            if (d == 1) S[0] = (float)t;
            continue;
        }
        if (box)
            for (int64_t k = 0; k < d; k++) {
                double s = uni(&r, sqrt(lo), sqrt(hi));
                lam[k] = s * s;
            }
        else
            sphere_eigenvalues(&r, d, lo, hi, t, lam);
        if (!full || d == 1) {
            for (int64_t k = 0; k < d; k++)
                S[k] = (float)lam[k];
            continue;
        }
        if (rotated) orthogonal(&r, d, U);
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = a; b < d; b++) {
                double s = 0;
                for (int64_t c = 0; c < d; c++)
                    s += U[a * d + c] * lam[c] * U[b * d + c];
                S[a * d + b] = S[b * d + a] = (float)s;
            }
    }
    for (int64_t i = 0; i < n; i++)
        ds_y(ds)[i] = (int32_t)i;
    ds->n_classes = (int)n;
    free(U), free(lam), free(W);
    *out = ds;
    return EG_OK;
}

static const eg_param_spec gaussians_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole set (no split)"},
    {"n", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "items", "number of Gaussians"},
    {"dim", EG_PARAM_INT, "2", EG_RANGE_MIN | EG_RANGE_MAX, 1, 4096, NULL, "", "dimension d of each Gaussian"},
    {"kind", EG_PARAM_ENUM, "sphere", 0, 0, 0, "sphere|box", "",
     "sphere: W2(δ0, X) = radius for every item (the notebook's sampler); box: means uniform in a box (Fig. 2)"},
    {"cov", EG_PARAM_ENUM, "diag", 0, 0, 0, "diag|full|rotated|general", "",
     "diag: variances; full: U diag(λ) Uᵀ, one shared rotation U; rotated: one rotation per item; "
     "general: W Wᵀ + 0.01 I rescaled (both non-commuting)"},
    {"lambda_min", EG_PARAM_FLOAT, "0.8", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "smallest covariance eigenvalue"},
    {"lambda_max", EG_PARAM_FLOAT, "1.2", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "largest covariance eigenvalue"},
    {"radius", EG_PARAM_FLOAT, "0", EG_RANGE_MIN, 0, 0, NULL, "W2",
     "sphere: W2 radius R around δ0; 0 = sqrt(dim (lambda_min + lambda_max))"},
    {"trace_share", EG_PARAM_FLOAT, "0.5", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "sphere: tr Σ = trace_share · R², the rest |m|²; must give a trace in [dim lambda_min, dim lambda_max]"},
    {"mean_range", EG_PARAM_FLOAT, "3", EG_RANGE_MIN, 0, 0, NULL, "", "box: means uniform in [-mean_range, mean_range]"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_gaussians = {
    .name = "gaussians",
    .summary = "synthetic Gaussians N(m, Σ) on a Wasserstein sphere (bwdam); rows [m, Σ or variances], label = item index",
    .options = gaussians_opts,
    .n_options = EG_COUNT(gaussians_opts),
    .splits = "all",
    .load = load_gaussians,
};
