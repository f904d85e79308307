/* test_gaussians.c — the `gaussians` sampler and the `gaussians-hdf5` reader
 * (datasets/gaussians*.c): row layout, the Wasserstein-sphere invariants
 * (|m|² + tr Σ = R², tr Σ = trace_share·R², eigenvalues in [λmin, λmax]),
 * commuting / general covariances, determinism and independence of n,
 * termination at the boundary where plain rejection never accepts, refusals,
 * and the HDF5 reader's checks (shapes, symmetry, positive semi-definiteness). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/cfg.h"
#include "engram/source.h"

static char err[4096];

static void set_val(eg_cfg *c, const char *key, const char *text) {
    eg_value v = {0};
    CHECK(eg_value_parse(text, &v) == EG_OK);
    eg_cfg_set(c, key, &v);
    eg_value_free(&v);
}

static eg_status load(const char *name, const eg_cfg *c, eg_dataset **out) {
    const eg_data_source *s = eg_data_source_find(name);
    err[0] = 0;
    *out = NULL;
    if (!s) return EG_ERR_NOTFOUND;
    eg_status st = s->load(c, NULL, out, err, sizeof err);
    if (st != EG_OK) printf("  %s refused (%d): %s\n", name, st, err);
    return st;
}

/* eigenvalues of a symmetric d x d matrix (Jacobi rotations, double) */
static void jacobi(const float *S, int d, double *w) {
    double *A = malloc(sizeof(double) * (size_t)(d * d));
    for (int i = 0; i < d * d; i++)
        A[i] = S[i];
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++)
                off += A[p * d + q] * A[p * d + q];
        if (off < 1e-26) break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = A[p * d + q];
                if (fabs(apq) < 1e-300) continue;
                double th = (A[q * d + q] - A[p * d + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) {
                    double akp = A[k * d + p], akq = A[k * d + q];
                    A[k * d + p] = c * akp - s * akq, A[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) {
                    double apk = A[p * d + k], aqk = A[q * d + k];
                    A[p * d + k] = c * apk - s * aqk, A[q * d + k] = s * apk + c * aqk;
                }
            }
    }
    for (int i = 0; i < d; i++)
        w[i] = A[i * d + i];
    free(A);
}

static void test_sphere_diag(void) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_val(&c, "data.n", "500"), set_val(&c, "data.dim", "25"), set_val(&c, "data.lambda_min", "1.0");
    set_val(&c, "data.lambda_max", "1.1"), set_val(&c, "data.seed", "42");
    eg_dataset *ds = NULL;
    CHECK(load("gaussians", &c, &ds) == EG_OK);
    if (ds) {
        CHECK(ds->channels == 1 && ds->height == 2 && ds->width == 25 && ds->dim == 50 && ds->n == 500);
        CHECK(ds->y && ds->y[7] == 7 && ds->n_classes == 500);
        double worst_R = 0, worst_t = 0, lam_sum = 0, mmean[25] = {0};
        int out_of_range = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            const float *row = ds->x + i * 50;
            double mm = 0, tr = 0;
            for (int k = 0; k < 25; k++) {
                mm += (double)row[k] * row[k], tr += row[25 + k], lam_sum += row[25 + k];
                out_of_range += row[25 + k] < 1.0f - 1e-6f || row[25 + k] > 1.1f + 1e-6f;
                mmean[k] += row[k] / 500.0;
            }
            /* R² = d (λmin + λmax) = 52.5, tr Σ = R²/2 = 26.25, |m| = 5.1235 */
            worst_R = fmax(worst_R, fabs(mm + tr - 52.5));
            worst_t = fmax(worst_t, fabs(tr - 26.25));
        }
        CHECK_MSG(worst_R < 1e-4, "|m|² + tr Σ off R² by %g", worst_R);
        CHECK_MSG(worst_t < 1e-4, "tr Σ off 26.25 by %g", worst_t);
        CHECK(out_of_range == 0);
        CHECK_NEAR(lam_sum / (500.0 * 25), 1.05, 1e-6, 0);
        /* isotropic means: the average of 500 points on the sphere of radius 5.12 is near 0 */
        double nm = 0;
        for (int k = 0; k < 25; k++)
            nm += mmean[k] * mmean[k];
        CHECK_MSG(sqrt(nm) < 5.1235 * 4 / sqrt(500.0), "mean of the means %g", sqrt(nm));
        /* determinism and independence of n: the first 100 items of n = 100 are the same */
        eg_cfg c2;
        eg_cfg_copy(&c2, &c);
        set_val(&c2, "data.n", "100");
        eg_dataset *d2 = NULL;
        CHECK(load("gaussians", &c2, &d2) == EG_OK);
        if (d2) CHECK(memcmp(d2->x, ds->x, sizeof(float) * 100 * 50) == 0);
        eg_dataset_free(d2);
        set_val(&c2, "data.seed", "43");
        CHECK(load("gaussians", &c2, &d2) == EG_OK);
        if (d2) CHECK(memcmp(d2->x, ds->x, sizeof(float) * 50) != 0);
        eg_dataset_free(d2);
        eg_cfg_free(&c2);
    }
    eg_dataset_free(ds);
    eg_cfg_free(&c);
}

static void test_full_and_general(void) {
    static const char *const kinds[3] = {"full", "rotated", "general"};
    for (int kind = 0; kind < 3; kind++) {
        int general = kind == 2, commuting = kind == 0;
        eg_cfg c;
        eg_cfg_init(&c);
        set_val(&c, "data.n", "40"), set_val(&c, "data.dim", "5"), set_val(&c, "data.cov", kinds[kind]);
        set_val(&c, "data.lambda_min", "0.8"), set_val(&c, "data.lambda_max", "1.2");
        eg_dataset *ds = NULL;
        CHECK(load("gaussians", &c, &ds) == EG_OK);
        if (!ds) {
            eg_cfg_free(&c);
            continue;
        }
        CHECK(ds->height == 6 && ds->width == 5 && ds->dim == 30);
        int asym = 0, badeig = 0, noncommuting = 0;
        double worst_t = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            const float *S = ds->x + i * 30 + 5;
            double w[5], tr = 0;
            for (int a = 0; a < 5; a++) {
                tr += S[a * 5 + a];
                for (int b = 0; b < 5; b++)
                    asym += S[a * 5 + b] != S[b * 5 + a];
            }
            worst_t = fmax(worst_t, fabs(tr - 5.0)); /* t = R²/2 = d (λmin + λmax)/2 = 5 */
            jacobi(S, 5, w);
            for (int k = 0; k < 5; k++)
                badeig += general ? w[k] < 0 : (w[k] < 0.8 - 1e-5 || w[k] > 1.2 + 1e-5);
            /* commuting with item 0 (full) / not (general) */
            const float *S0 = ds->x + 5;
            double off = 0;
            for (int a = 0; a < 5; a++)
                for (int b = 0; b < 5; b++) {
                    double ab = 0, ba = 0;
                    for (int k = 0; k < 5; k++)
                        ab += (double)S[a * 5 + k] * S0[k * 5 + b], ba += (double)S0[a * 5 + k] * S[k * 5 + b];
                    off = fmax(off, fabs(ab - ba));
                }
            if (i > 0) noncommuting += off > 1e-4;
        }
        CHECK(asym == 0);
        CHECK_MSG(badeig == 0, "%s: %d eigenvalues out of range", kinds[kind], badeig);
        CHECK(worst_t < 1e-5);
        if (!commuting)
            CHECK_MSG(noncommuting == 39, "%s: %d of 39 covariances do not commute with item 0", kinds[kind],
                      noncommuting);
        else
            CHECK_MSG(noncommuting == 0, "full: %d covariances do not commute", noncommuting);
        eg_dataset_free(ds);
        eg_cfg_free(&c);
    }
}

/* radius² = 2 d with λ in [1, 1.1]: the trace d = d λmin is the boundary, where the
 * rejection loop alone never accepts; the sampler must end with every λ = 1 */
static void test_boundary_terminates(void) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_val(&c, "data.n", "3"), set_val(&c, "data.dim", "12"), set_val(&c, "data.lambda_min", "1.0");
    set_val(&c, "data.lambda_max", "1.1"), set_val(&c, "data.radius", "4.898979485566356"); /* sqrt(24) */
    eg_dataset *ds = NULL;
    CHECK(load("gaussians", &c, &ds) == EG_OK);
    if (ds) {
        double worst = 0;
        for (int64_t i = 0; i < 3; i++)
            for (int k = 0; k < 12; k++)
                worst = fmax(worst, fabs(ds->x[i * 24 + 12 + k] - 1.0));
        CHECK_MSG(worst < 1e-6, "boundary eigenvalues off 1 by %g", worst);
    }
    eg_dataset_free(ds);
    /* infeasible: trace 0.9 R² > d λmax */
    set_val(&c, "data.radius", "0"), set_val(&c, "data.trace_share", "0.9");
    CHECK(load("gaussians", &c, &ds) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "data.trace_share");
    CHECK_STR_CONTAINS(err, "[12, 13.2]");
    set_val(&c, "data.trace_share", "0.5"), set_val(&c, "data.lambda_max", "0.5");
    CHECK(load("gaussians", &c, &ds) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "lambda_min <= lambda_max");
    eg_cfg_free(&c);
}

static void test_box(void) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_val(&c, "data.n", "300"), set_val(&c, "data.dim", "1"), set_val(&c, "data.kind", "box");
    set_val(&c, "data.lambda_min", "0.04"), set_val(&c, "data.lambda_max", "1.0");
    eg_dataset *ds = NULL;
    CHECK(load("gaussians", &c, &ds) == EG_OK);
    if (ds) {
        CHECK(ds->height == 2 && ds->width == 1);
        int bad = 0;
        double lo = 1e9, hi = -1e9;
        for (int64_t i = 0; i < 300; i++) {
            double m = ds->x[2 * i], s = sqrt(ds->x[2 * i + 1]);
            bad += m < -3 || m > 3 || s < 0.2 - 1e-6 || s > 1.0 + 1e-6;
            lo = fmin(lo, m), hi = fmax(hi, m);
        }
        CHECK(bad == 0);
        CHECK(lo < -2.5 && hi > 2.5);
    }
    eg_dataset_free(ds);
    eg_cfg_free(&c);
}

/* ---- gaussians-hdf5 ---- */

static void write_h5(const char *path, int n, int d, const float *means, const float *covs, int full) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t md[2] = {(hsize_t)n, (hsize_t)d}, cd[3] = {(hsize_t)n, (hsize_t)d, (hsize_t)d};
    hid_t sm = H5Screate_simple(2, md, NULL), sc = H5Screate_simple(full ? 3 : 2, cd, NULL);
    hid_t dm = H5Dcreate2(f, "means", H5T_NATIVE_FLOAT, sm, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t dc = H5Dcreate2(f, "covariances", H5T_NATIVE_FLOAT, sc, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dm, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, means);
    H5Dwrite(dc, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, covs);
    H5Dclose(dm), H5Dclose(dc), H5Sclose(sm), H5Sclose(sc), H5Fclose(f);
}

static void test_hdf5(void) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/engram-test-gaussians-%d.h5", (int)getpid());
    float means[6] = {1, 2, 3, 4, 5, 6}, covs[12] = {2, 1, 1, 2, 1, 0, 0, 3, 4, 0, 0, 4};
    eg_cfg c;
    eg_cfg_init(&c);
    set_val(&c, "data.path", path);
    eg_dataset *ds = NULL;
    write_h5(path, 3, 2, means, covs, 1);
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_OK);
    if (ds) {
        CHECK(ds->height == 3 && ds->width == 2 && ds->dim == 6 && ds->n == 3 && ds->y[2] == 2);
        CHECK(ds->x[6] == 3 && ds->x[8] == 1 && ds->x[11] == 3);
    }
    eg_dataset_free(ds);
    /* diagonal: variances */
    float vars[6] = {1, 2, 3, 4, 5, 6};
    write_h5(path, 3, 2, means, vars, 0);
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_OK);
    if (ds) CHECK(ds->height == 2 && ds->x[2] == 1 && ds->x[11] == 6);
    eg_dataset_free(ds);
    /* refusals name the item */
    float bad[12] = {2, 1, 1, 2, 1, 2, 2, 1, 4, 0, 0, 4}; /* item 1: eigenvalues 3, -1 */
    write_h5(path, 3, 2, means, bad, 1);
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "item 1 is not positive semi-definite");
    float asym[12] = {2, 1, 1, 2, 1, 0, 0, 3, 4, 0.5f, 0, 4};
    write_h5(path, 3, 2, means, asym, 1);
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "item 2 is not symmetric");
    float negv[6] = {1, 2, 3, -4, 5, 6};
    write_h5(path, 3, 2, means, negv, 0);
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "item 1 has variance -4");
    set_val(&c, "data.covs", "nope");
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "no dataset 'nope' (data.covs)");
    set_val(&c, "data.covs", "means"); /* [3, 2]: reads as variances, fine */
    CHECK(load("gaussians-hdf5", &c, &ds) == EG_OK);
    eg_dataset_free(ds);
    eg_cfg_free(&c);
    unlink(path);
}

int main(void) {
    CHECK(eg_data_source_find("gaussians") != NULL);
    CHECK(eg_data_source_find("gaussians-hdf5") != NULL);
    test_sphere_diag();
    test_full_and_general();
    test_boundary_terminates();
    test_box();
    test_hdf5();
    return eg_test_finish();
}
