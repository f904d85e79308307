/* teacher_student.c — the `teacher-student` source: labelled data emitted by a
 * teacher dense associative memory (Thériault & Tantari, arXiv 2508.19151, §2.2):
 * P* teacher memories w*_mu uniform on S^{N-1}, each with the class mu mod C
 * (so the teacher's p_h(mu) = 1/P*, p_h(0) = 0, and every class has memories);
 * an item picks mu uniformly and draws x ~ vMF(w*_mu, beta*) on S^{N-1}
 * (Wood 1994: the cosine t = x.w* by rejection from a Beta proposal, then
 * x = t w* + sqrt(1 - t^2) v with v uniform in the tangent space). Items are unit
 * vectors (use the model's center: false). Splits: train (n items), test
 * (n_test items, an independent stream), teacher (the P* memories themselves,
 * label mu mod C), so a model can report how well it recovered them.
 *
 * Randomness: Philox keyed by data.seed (-1 = the run's seed); the teacher uses
 * counter block 0 of this source's stream, item i of split s its own stream
 * (source id + s * 2^40 + i + 1), so one item's draws never depend on another's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "engram/philox.h"

extern const eg_data_source eg_src_teacher_student;

typedef struct ts_rng {
    uint64_t seed, stream, ctr;
} ts_rng;

static double ts_uniform(ts_rng *r) {
    return eg_philox_value(0, r->seed, r->stream, r->ctr++, 0.0, 1.0);
}

static double ts_normal(ts_rng *r) {
    return eg_philox_value(1, r->seed, r->stream, r->ctr++, 0.0, 1.0);
}

/* Gamma(a, 1) by Marsaglia & Tsang (2000); a < 1 via Gamma(a + 1) U^{1/a} */
static double ts_gamma(ts_rng *r, double a) {
    if (a < 1.0) {
        double u = ts_uniform(r);
        return ts_gamma(r, a + 1.0) * pow(u > 0 ? u : 1e-300, 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = ts_normal(r), v = 1.0 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = ts_uniform(r);
        if (u > 0 && log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
    }
}

/* the cosine t = x.mu of a vMF(mu, kappa) draw on S^{m-1} (Wood 1994) */
static double ts_vmf_cosine(ts_rng *r, double kappa, int64_t m) {
    double mm = (double)(m - 1);
    if (kappa <= 0) { /* uniform on the sphere: t = 2 Beta(mm/2, mm/2) - 1 */
        double g1 = ts_gamma(r, 0.5 * mm), g2 = ts_gamma(r, 0.5 * mm);
        return 2.0 * g1 / (g1 + g2) - 1.0;
    }
    double b = mm / (2.0 * kappa + sqrt(4.0 * kappa * kappa + mm * mm)); /* cancellation-free form */
    double x0 = (1.0 - b) / (1.0 + b), c = kappa * x0 + mm * log(1.0 - x0 * x0);
    for (;;) {
        double g1 = ts_gamma(r, 0.5 * mm), g2 = ts_gamma(r, 0.5 * mm), z = g1 / (g1 + g2);
        double w = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z), u = ts_uniform(r);
        if (u > 0 && kappa * w + mm * log(1.0 - x0 * w) - c >= log(u)) return w;
    }
}

static void ts_teacher(uint64_t seed, int64_t p, int64_t dim, float *w) {
    ts_rng r = {seed, ds_stream_id("teacher-student"), 0};
    for (int64_t k = 0; k < p; k++) {
        double n2 = 0;
        float *v = w + k * dim;
        for (int64_t i = 0; i < dim; i++) {
            v[i] = (float)ts_normal(&r);
            n2 += (double)v[i] * v[i];
        }
        for (int64_t i = 0; i < dim; i++) v[i] = (float)(v[i] / sqrt(n2));
    }
}

static eg_status load_ts(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_teacher_student;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t n = 0, n_test = 0, dim = 0, p = 0, classes = 0, seed = 0;
    double beta = 0;
    if ((st = eg_source_int(cfg, src, "n", &n, err, cap)) || (st = eg_source_int(cfg, src, "n_test", &n_test, err, cap)) ||
        (st = eg_source_int(cfg, src, "dim", &dim, err, cap)) || (st = eg_source_int(cfg, src, "teachers", &p, err, cap)) ||
        (st = eg_source_int(cfg, src, "classes", &classes, err, cap)) ||
        (st = eg_source_float(cfg, src, "beta", &beta, err, cap)) || (st = eg_source_int(cfg, src, "seed", &seed, err, cap)))
        return st;
    if (dim < 2 || dim > (1 << 20))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.dim: expected 2..%d, got %lld", 1 << 20, (long long)dim);
    if (p < 1) return ds_fail(err, cap, EG_ERR_SPEC, "data.teachers: expected >= 1, got %lld", (long long)p);
    if (classes < 1 || classes > p)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.classes: expected 1..data.teachers (%lld), got %lld",
                       (long long)p, (long long)classes);
    if (!(beta >= 0)) return ds_fail(err, cap, EG_ERR_SPEC, "data.beta: expected >= 0, got %g", beta);
    if (n < 1 || n_test < 1 || n > INT32_MAX || n_test > INT32_MAX)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.n and data.n_test: expected 1..%d", INT32_MAX);
    if (seed < -1) return ds_fail(err, cap, EG_ERR_SPEC, "data.seed: expected -1 or >= 0, got %lld", (long long)seed);
    if (seed == -1) seed = 0; /* the run context substitutes the run's seed; a bare load uses 0 */
    int is_teacher = strcmp(split, "teacher") == 0, is_test = strcmp(split, "test") == 0;
    int64_t count = is_teacher ? p : is_test ? n_test : n;
    eg_dataset *ds = eg_dataset_alloc(src->name, split, count, 1, 1, (int)dim, 1);
    float *w = ds ? malloc((size_t)(p * dim) * sizeof *w) : NULL;
    if (!ds || !w) {
        eg_dataset_free(ds);
        return ds_fail(err, cap, EG_ERR_NOMEM, "teacher-student: out of memory for %lld x %lld values",
                       (long long)count, (long long)dim);
    }
    ts_teacher((uint64_t)seed, p, dim, w);
    float *x = ds_x(ds);
    int32_t *y = ds_y(ds);
    if (is_teacher) {
        memcpy(x, w, (size_t)(p * dim) * sizeof *x);
        for (int64_t k = 0; k < p; k++) y[k] = (int32_t)(k % classes);
    } else {
        uint64_t base = ds_stream_id("teacher-student") + ((uint64_t)(is_test ? 2 : 1) << 40);
        double *v = malloc((size_t)dim * sizeof *v);
        if (!v) {
            free(w);
            eg_dataset_free(ds);
            return ds_fail(err, cap, EG_ERR_NOMEM, "teacher-student: out of memory");
        }
        for (int64_t i = 0; i < count; i++) {
            ts_rng r = {(uint64_t)seed, base + (uint64_t)i + 1, 0};
            int64_t mu = (int64_t)(ts_uniform(&r) * (double)p);
            if (mu >= p) mu = p - 1;
            const float *c = w + mu * dim;
            double t = ts_vmf_cosine(&r, beta, dim), dot = 0, n2 = 0;
            for (int64_t j = 0; j < dim; j++) v[j] = ts_normal(&r), dot += v[j] * c[j];
            for (int64_t j = 0; j < dim; j++) v[j] -= dot * c[j], n2 += v[j] * v[j];
            double s = sqrt(fmax(0.0, 1.0 - t * t)) / (n2 > 0 ? sqrt(n2) : 1.0);
            for (int64_t j = 0; j < dim; j++) x[i * dim + j] = (float)(t * c[j] + s * v[j]);
            y[i] = (int32_t)(mu % classes);
        }
        free(v);
    }
    free(w);
    ds->n_classes = (int)classes;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec ts_opts[] = {
    {"split", EG_PARAM_ENUM, "train", 0, 0, 0, "train|test|teacher", "",
     "train (n items), test (n_test items, independent draws) or teacher (the P* teacher memories)"},
    {"n", EG_PARAM_INT, "10000", EG_RANGE_MIN, 1, 0, NULL, "items", "items of the train split"},
    {"n_test", EG_PARAM_INT, "2000", EG_RANGE_MIN, 1, 0, NULL, "items", "items of the test split"},
    {"dim", EG_PARAM_INT, "100", EG_RANGE_MIN | EG_RANGE_MAX, 2, 1 << 20, NULL, "", "N: items lie on S^{N-1}"},
    {"teachers", EG_PARAM_INT, "10", EG_RANGE_MIN, 1, 0, NULL, "memories", "P*: teacher memories"},
    {"classes", EG_PARAM_INT, "2", EG_RANGE_MIN, 1, 0, NULL, "classes", "C: teacher memory mu has class mu mod C"},
    {"beta", EG_PARAM_FLOAT, "100", EG_RANGE_MIN, 0, 0, NULL, "",
     "beta*: vMF concentration of the teacher (paper: beta* = v N with v = O(1))"},
    {"seed", EG_PARAM_INT, "-1", EG_RANGE_MIN, -1, 0, NULL, "", "generator seed; -1 = the run's seed"},
};

const eg_data_source eg_src_teacher_student = {
    .name = "teacher-student",
    .summary = "labelled vMF samples of a teacher dense associative memory (P* memories on S^{N-1}, concentration beta*)",
    .options = ts_opts,
    .n_options = EG_COUNT(ts_opts),
    .splits = "train|test|teacher",
    .load = load_ts,
    .shape = "1x1xdim",
};
