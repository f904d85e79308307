/* test_datasets_files.c — the digits, cifar10, hdf5 and random-patterns sources:
 * small files written here (CSV, CIFAR-10 batches, HDF5 through the C API) read
 * back exactly, malformed ones refused with file:line or file + offset, the real
 * digits CSV from python3-sklearn when installed, and the seeded generator's
 * determinism and statistics. */
#define _GNU_SOURCE
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "base/cfg.h"
#include "engram/source.h"
#include "test_datasets_util.h"
#include "engram/philox.h"

static char tmp[256];


static uint8_t pix(int item, int k) {
    return (uint8_t)((item * 37 + k * 11) % 256);
}

static char *subdir(const char *name) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", tmp, name);
    mkdir(p, 0755);
    return p;
}

/* ---- digits ---- */

#define DIGITS_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

/* line `want` (0-based) of a gzip CSV, parsed into up to 65 values; returns the count */
static int csv_line(const char *path, int want, double *vals) {
    gzFile f = gzopen(path, "rb");
    if (!f) return -1;
    char line[4096];
    int n = -1;
    for (int i = 0; gzgets(f, line, sizeof line); i++)
        if (i == want) {
            n = 0;
            for (char *p = strtok(line, ",\n"); p && n < 65; p = strtok(NULL, ",\n"))
                vals[n++] = atof(p);
            break;
        }
    gzclose(f);
    return n;
}

static void test_digits_real(void) {
    struct stat st;
    if (stat(DIGITS_CSV, &st) != 0) {
        printf("skipping the real digits checks: %s not installed (python3-sklearn)\n", DIGITS_CSV);
        return;
    }
    eg_cfg c;
    eg_cfg_init(&c);
    eg_dataset *all = NULL, *tr = NULL, *te = NULL;
    CHECK_MSG(load("digits", &c, NULL, &all) == EG_OK, "%s", err); /* default path, default split all */
    CHECK_MSG(load("digits", &c, "train", &tr) == EG_OK, "%s", err);
    CHECK_MSG(load("digits", &c, "test", &te) == EG_OK, "%s", err);
    if (all && tr && te) {
        CHECK(all->n == 1797 && all->dim == 64 && all->channels == 1 && all->height == 8 && all->width == 8);
        CHECK(tr->n == 1347 && te->n == 450 && strcmp(all->split, "all") == 0);
        CHECK(all->n_classes == 10);
        double v[65];
        int rows[3] = {0, 1347, 1796};
        for (int r = 0; r < 3; r++) {
            CHECK(csv_line(DIGITS_CSV, rows[r], v) == 65);
            int bad = 0;
            for (int k = 0; k < 64; k++)
                bad += fabs(all->x[rows[r] * 64 + k] - v[k] / 16.0) > 1e-7;
            CHECK_MSG(bad == 0, "row %d: %d pixels differ", rows[r], bad);
            CHECK(all->y[rows[r]] == (int)v[64]);
        }
        /* the known first image: a zero, pixel 2 = 5/16, pixel 3 = 13/16 */
        CHECK(all->y[0] == 0);
        CHECK_NEAR(all->x[2], 5.0 / 16, 1e-7, 0);
        CHECK_NEAR(all->x[3], 13.0 / 16, 1e-7, 0);
        CHECK(memcmp(te->x, all->x + 1347 * 64, 64 * sizeof(float)) == 0 && te->y[0] == all->y[1347]);
        CHECK(memcmp(tr->x, all->x, 1347 * 64 * sizeof(float)) == 0);
        float lo = 1, hi = 0;
        for (int64_t i = 0; i < all->n * 64; i++)
            lo = all->x[i] < lo ? all->x[i] : lo, hi = all->x[i] > hi ? all->x[i] : hi;
        CHECK(lo == 0.0f && hi == 1.0f);
    }
    eg_dataset_free(all), eg_dataset_free(tr), eg_dataset_free(te);
    eg_cfg_free(&c);
}

static void write_csv(const char *path, int good_rows, const char *bad_line, int gz) {
    char *text = calloc(1, 65536);
    size_t len = 0;
    for (int r = 0; r < good_rows; r++) {
        for (int k = 0; k < 64; k++)
            len += (size_t)sprintf(text + len, "%d,", (r + k) % 17);
        len += (size_t)sprintf(text + len, "%d\n", r % 10);
    }
    if (bad_line) len += (size_t)sprintf(text + len, "%s\n", bad_line);
    write_bytes(path, text, len, gz);
    free(text);
}

static void expect_digits_error(const char *path, const char *n1, const char *n2) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", path);
    eg_dataset *ds = NULL;
    CHECK(load("digits", &c, "all", &ds) == EG_ERR_FORMAT);
    CHECK(ds == NULL);
    CHECK_STR_CONTAINS(err, n1);
    if (n2) CHECK_STR_CONTAINS(err, n2);
    eg_cfg_free(&c);
}

static void test_digits_synthetic(void) {
    char path[512];
    eg_cfg c;
    eg_dataset *ds = NULL;
    /* a good small raw CSV (CRLF-free), 8 rows: train 6, test 2 */
    snprintf(path, sizeof path, "%s/digits-good.csv", tmp);
    write_csv(path, 8, NULL, 0);
    eg_cfg_init(&c);
    set_str(&c, "data.path", path);
    CHECK_MSG(load("digits", &c, "test", &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 2 && ds->dim == 64);
        CHECK_NEAR(ds->x[0], (6 + 0) % 17 / 16.0, 1e-7, 0);
        CHECK_NEAR(ds->x[5], (6 + 5) % 17 / 16.0, 1e-7, 0);
        CHECK(ds->y[0] == 6 && ds->y[1] == 7);
    }
    eg_dataset_free(ds);
    eg_cfg_free(&c);

    snprintf(path, sizeof path, "%s/digits-short.csv.gz", tmp);
    write_csv(path, 16, "0,1,2,3,4,5,6,7,8,9,10,11", 1);
    expect_digits_error(path, "digits-short.csv.gz:line 17: expected 65 comma-separated values, got 12", NULL);
    char bad[1024];
    strcpy(bad, "1");
    for (int k = 1; k < 64; k++)
        strcat(bad, k == 40 ? ",x7" : ",1");
    strcat(bad, ",3");
    snprintf(path, sizeof path, "%s/digits-nan.csv", tmp);
    write_csv(path, 3, bad, 0);
    expect_digits_error(path, "digits-nan.csv:line 4: value 41 ('x7') is not a number", NULL);
    strcpy(bad, "17");
    for (int k = 1; k < 65; k++)
        strcat(bad, ",0");
    snprintf(path, sizeof path, "%s/digits-range.csv", tmp);
    write_csv(path, 2, bad, 0);
    expect_digits_error(path, "digits-range.csv:line 3: pixel 1 = 17 is outside 0..16", NULL);
    strcpy(bad, "0");
    for (int k = 1; k < 64; k++)
        strcat(bad, ",0");
    strcat(bad, ",10");
    snprintf(path, sizeof path, "%s/digits-label.csv", tmp);
    write_csv(path, 1, bad, 0);
    expect_digits_error(path, "digits-label.csv:line 2: label 10 is not an integer in 0..9", NULL);
    snprintf(path, sizeof path, "%s/digits-empty.csv", tmp);
    write_bytes(path, "", 0, 0);
    expect_digits_error(path, "digits-empty.csv: no data rows", NULL);
    /* missing file */
    eg_cfg_init(&c);
    snprintf(path, sizeof path, "%s/nope.csv.gz", tmp);
    set_str(&c, "data.path", path);
    CHECK(load("digits", &c, NULL, &ds) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, path);
    eg_cfg_free(&c);
}

/* ---- CIFAR-10 ---- */

static void write_cifar(const char *dir, const char *name, int records, const uint8_t *labels, long bytes) {
    size_t full = (size_t)records * 3073, len = bytes < 0 ? full : (size_t)bytes;
    uint8_t *b = calloc(full + 1, 1);
    for (int r = 0; r < records; r++) {
        b[r * 3073] = labels[r];
        for (int k = 0; k < 3072; k++)
            b[r * 3073 + 1 + k] = pix(r + labels[r], k);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, b, len, 0);
    free(b);
}

static void test_cifar(void) {
    eg_cfg c;
    eg_dataset *ds = NULL;
    uint8_t lab[2] = {3, 7};
    char *d = subdir("cifar");
    write_cifar(d, "test_batch.bin", 2, lab, -1);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        uint8_t l = (uint8_t)(i - 1);
        snprintf(name, sizeof name, "data_batch_%d.bin", i);
        write_cifar(d, name, 1, &l, -1);
    }
    eg_cfg_init(&c);
    set_str(&c, "data.path", d);
    CHECK_MSG(load("cifar10", &c, "test", &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 2 && ds->dim == 3072 && ds->channels == 3 && ds->height == 32 && ds->width == 32);
        CHECK(ds->y[0] == 3 && ds->y[1] == 7 && ds->n_classes == 10);
        int bad = 0;
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 3072; k++)
                bad += ds->x[r * 3072 + k] != (float)pix(r + lab[r], k) / 255.0f;
        CHECK_MSG(bad == 0, "%d pixels differ", bad);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load("cifar10", &c, "train", &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 5);
        for (int i = 0; i < 5; i++)
            CHECK(ds->y[i] == i); /* batches 1..5 in order */
        CHECK(ds->x[4 * 3072 + 100] == (float)pix(0 + 4, 100) / 255.0f);
    }
    eg_dataset_free(ds);
    set_int(&c, "data.limit", 3);
    CHECK_MSG(load("cifar10", &c, "train", &ds) == EG_OK, "%s", err);
    if (ds) CHECK(ds->n == 3 && ds->y[2] == 2);
    eg_dataset_free(ds);
    eg_cfg_free(&c);

    /* truncated last record */
    d = subdir("cifar-trunc");
    write_cifar(d, "test_batch.bin", 2, lab, 2 * 3073 - 100);
    eg_cfg_init(&c);
    set_str(&c, "data.path", d);
    CHECK(load("cifar10", &c, "test", &ds) == EG_ERR_FORMAT && ds == NULL);
    CHECK_STR_CONTAINS(err, "cifar-trunc/test_batch.bin: truncated at byte offset 6046");
    CHECK_STR_CONTAINS(err, "record 1) has 2973 of 3073 bytes");
    /* train: data_batch_1 missing */
    CHECK(load("cifar10", &c, "train", &ds) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "no data_batch_1 in");
    CHECK_STR_CONTAINS(err, "cifar-10-batches-bin/data_batch_1.bin");
    eg_cfg_free(&c);
    /* a label out of range, in a subdirectory cifar-10-batches-bin */
    d = subdir("cifar-label");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", d);
    mkdir(sub, 0755);
    uint8_t badlab[2] = {1, 10};
    write_cifar(sub, "test_batch.bin", 2, badlab, -1);
    eg_cfg_init(&c);
    set_str(&c, "data.path", d);
    CHECK(load("cifar10", &c, "test", &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "test_batch.bin: label 10 at byte offset 3073 (record 1)");
    eg_cfg_free(&c);
    /* empty file and required path */
    d = subdir("cifar-empty");
    write_cifar(d, "test_batch.bin", 0, lab, -1);
    eg_cfg_init(&c);
    set_str(&c, "data.path", d);
    CHECK(load("cifar10", &c, "test", &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "test_batch.bin: empty file");
    eg_cfg_free(&c);
    eg_cfg_init(&c);
    CHECK(load("cifar10", &c, "test", &ds) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "data.path: cifar10 needs the directory");
    eg_cfg_free(&c);
}

/* ---- HDF5 ---- */

static void h5_write(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(sp);
}

static eg_status load_h5(const char *path, const char *x, const char *y, double scale, eg_dataset **ds) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", path);
    if (x) set_str(&c, "data.x", x);
    if (y) set_str(&c, "data.y", y);
    if (scale != 1) set_float(&c, "data.scale", scale);
    eg_status st = load("hdf5", &c, NULL, ds);
    eg_cfg_free(&c);
    return st;
}

static void test_hdf5(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/data.h5", tmp);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float x4[4 * 1 * 2 * 3];
    for (int i = 0; i < 24; i++)
        x4[i] = (float)i * 0.5f - 3;
    int32_t y4[4] = {2, 0, 5, 1}, y3[3] = {0, 1, 2}, yneg[4] = {0, -1, 0, 0}, y42[8] = {0};
    uint8_t img[3 * 5 * 4];
    for (int i = 0; i < 60; i++)
        img[i] = (uint8_t)(i * 4);
    double yf[4] = {0, 1, 2, 3};
    float pm[6] = {1, -1, -1, 1, 1, 1};
    h5_write(f, "x", H5T_NATIVE_FLOAT, 4, (hsize_t[]){4, 1, 2, 3}, x4);
    h5_write(f, "y", H5T_NATIVE_INT32, 1, (hsize_t[]){4}, y4);
    h5_write(f, "y3", H5T_NATIVE_INT32, 1, (hsize_t[]){3}, y3);
    h5_write(f, "yneg", H5T_NATIVE_INT32, 1, (hsize_t[]){4}, yneg);
    h5_write(f, "y42", H5T_NATIVE_INT32, 2, (hsize_t[]){4, 2}, y42);
    h5_write(f, "yf", H5T_NATIVE_DOUBLE, 1, (hsize_t[]){4}, yf);
    h5_write(f, "img", H5T_NATIVE_UINT8, 3, (hsize_t[]){3, 5, 4}, img);
    h5_write(f, "pm", H5T_NATIVE_FLOAT, 2, (hsize_t[]){2, 3}, pm);
    /* uint8 CHW images and int64 labels (numpy's default integer, as h5py writes it) */
    uint8_t rgb[2 * 3 * 2 * 2];
    for (int i = 0; i < 24; i++)
        rgb[i] = (uint8_t)(250 - i);
    int64_t y64[2] = {1, 9};
    h5_write(f, "rgb", H5T_NATIVE_UINT8, 4, (hsize_t[]){2, 3, 2, 2}, rgb);
    h5_write(f, "y64", H5T_NATIVE_INT64, 1, (hsize_t[]){2}, y64);
    hid_t g = H5Gcreate2(f, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(g, "vec", H5T_NATIVE_DOUBLE, 1, (hsize_t[]){4}, yf);
    H5Gclose(g);
    H5Fclose(f);

    eg_dataset *ds = NULL;
    CHECK_MSG(load_h5(path, "x", "y", 1, &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 4 && ds->dim == 6 && ds->channels == 1 && ds->height == 2 && ds->width == 3);
        CHECK(memcmp(ds->x, x4, sizeof x4) == 0);
        CHECK(memcmp(ds->y, y4, sizeof y4) == 0 && ds->n_classes == 6 && ds->binary == 0);
        CHECK(strcmp(ds->source, "hdf5") == 0 && strcmp(ds->split, "all") == 0);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "img", NULL, 255, &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 3 && ds->dim == 20 && ds->channels == 1 && ds->height == 5 && ds->width == 4);
        CHECK(ds->y == NULL && ds->n_classes == 0);
        CHECK_NEAR(ds->x[59], 236.0 / 255, 1e-7, 0);
        CHECK_NEAR(ds->x[1], 4.0 / 255, 1e-7, 0);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "rgb", "y64", 250, &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 2 && ds->dim == 12 && ds->channels == 3 && ds->height == 2 && ds->width == 2);
        CHECK(ds->x[0] == 1.0f && ds->x[23] == (float)(227.0 / 250));
        CHECK(ds->y[0] == 1 && ds->y[1] == 9 && ds->n_classes == 10);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "pm", NULL, 1, &ds) == EG_OK, "%s", err);
    if (ds) CHECK(ds->n == 2 && ds->dim == 3 && ds->height == 1 && ds->width == 3 && ds->binary == 1);
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "group/vec", NULL, 1, &ds) == EG_OK, "%s", err);
    if (ds) CHECK(ds->n == 4 && ds->dim == 1 && ds->x[3] == 3.0f);
    eg_dataset_free(ds);

    CHECK(load_h5(path, "nope", NULL, 1, &ds) == EG_ERR_NOTFOUND && ds == NULL);
    CHECK_STR_CONTAINS(err, "no dataset 'nope' (data.x)");
    CHECK_STR_CONTAINS(err, path);
    CHECK_STR_CONTAINS(err, "img");
    CHECK(load_h5(path, "group/nope", NULL, 1, &ds) == EG_ERR_NOTFOUND);
    CHECK(load_h5(path, "missing/deeper", NULL, 1, &ds) == EG_ERR_NOTFOUND);
    CHECK(load_h5(path, "x", "nolabels", 1, &ds) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "no dataset 'nolabels' (data.y)");
    CHECK(load_h5(path, "x", "y3", 1, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "'y3' (data.y) has 3 labels but 'x' (data.x) has 4 items");
    CHECK(load_h5(path, "x", "y42", 1, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "'y42' (data.y) has rank 2");
    CHECK(load_h5(path, "x", "yf", 1, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "holds float values (expected integer labels)");
    CHECK(load_h5(path, "x", "yneg", 1, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "label -1 at index 1 is negative");
    CHECK(load_h5(path, "group", NULL, 1, &ds) == EG_ERR_NOTFOUND); /* a group is not a dataset */
    CHECK_STR_CONTAINS(err, "'group' (data.x) exists but is not a dataset");
    CHECK(load_h5(path, NULL, NULL, 1, &ds) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "data.x: hdf5 needs");
    char notf[512];
    snprintf(notf, sizeof notf, "%s/digits-good.csv", tmp);
    CHECK(load_h5(notf, "x", NULL, 1, &ds) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "not an HDF5 file");
    snprintf(notf, sizeof notf, "%s/missing.h5", tmp);
    CHECK(load_h5(notf, "x", NULL, 1, &ds) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "missing.h5 does not exist");
}

/* ---- random patterns ---- */

static eg_dataset *patterns(int64_t n, int64_t dim, const char *kind, int64_t seed) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_int(&c, "data.n", n);
    set_int(&c, "data.dim", dim);
    if (kind) set_str(&c, "data.kind", kind);
    set_int(&c, "data.seed", seed);
    eg_dataset *ds = NULL;
    CHECK_MSG(load("random-patterns", &c, "all", &ds) == EG_OK, "%s", err);
    eg_cfg_free(&c);
    return ds;
}

static void test_random(void) {
    eg_dataset *a = patterns(50, 64, NULL, 1), *b = patterns(50, 64, "binary", 1), *d = patterns(50, 64, NULL, 2);
    eg_dataset *z = patterns(50, 64, NULL, 0), *m = patterns(50, 64, NULL, -1);
    if (!a || !b || !d || !z || !m) return;
    CHECK(a->n == 50 && a->dim == 64 && a->width == 64 && a->height == 1 && a->binary == 1);
    CHECK(memcmp(a->x, b->x, 50 * 64 * sizeof(float)) == 0);
    CHECK(memcmp(a->x, d->x, 50 * 64 * sizeof(float)) != 0);
    CHECK(memcmp(z->x, m->x, 50 * 64 * sizeof(float)) == 0); /* -1 outside a run means 0 */
    int pm = 0, diff = 0;
    double sum = 0;
    for (int i = 0; i < 50 * 64; i++) {
        pm += a->x[i] == 1.0f || a->x[i] == -1.0f;
        diff += a->x[i] != d->x[i];
        sum += a->x[i];
    }
    CHECK(pm == 50 * 64);
    CHECK(diff > 1200 && diff < 2000); /* independent seeds disagree on about half */
    CHECK(fabs(sum / 3200) < 0.07);    /* 3.9 standard deviations */
    /* the documented mapping: element k = (Philox u < 1/2 ? +1 : -1), stream FNV-1a("random-patterns") */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = "random-patterns"; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    for (int k = 0; k < 3200; k += 97)
        CHECK(a->x[k] == (eg_philox_value(0, 1, h, (uint64_t)k, 0, 1) < 0.5 ? 1.0f : -1.0f));
    for (int i = 0; i < 50; i++)
        CHECK(a->y[i] == i);
    CHECK(a->n_classes == 50);
    eg_dataset_free(a), eg_dataset_free(b), eg_dataset_free(d), eg_dataset_free(z), eg_dataset_free(m);

    eg_dataset *g = patterns(200, 100, "gaussian", 7);
    if (g) {
        double s = 0, s2 = 0;
        for (int i = 0; i < 20000; i++)
            s += g->x[i], s2 += (double)g->x[i] * g->x[i];
        CHECK(g->binary == 0);
        CHECK_NEAR(s / 20000, 0, 0.03, 0);
        CHECK_NEAR(s2 / 20000, 1, 0.04, 0);
        CHECK_NEAR(g->x[5], eg_philox_value(1, 7, h, 5, 0, 1), 1e-6, 0);
    }
    eg_dataset_free(g);
    /* defaults: n = dim = 100 */
    eg_cfg c;
    eg_cfg_init(&c);
    eg_dataset *def = NULL;
    CHECK_MSG(load("random-patterns", &c, NULL, &def) == EG_OK, "%s", err);
    if (def) CHECK(def->n == 100 && def->dim == 100 && strcmp(def->split, "all") == 0);
    eg_dataset_free(def);
    set_str(&c, "data.kind", "uniform");
    CHECK(load("random-patterns", &c, NULL, &def) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "data.kind");
    CHECK(load("random-patterns", &c, "train", &def) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "not a split of random-patterns");
    eg_cfg_free(&c);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/engram-test-datasets-files-XXXXXX");
    if (!mkdtemp(tmp)) return eg_test_skip("mkdtemp failed");
    test_digits_synthetic();
    test_digits_real();
    test_cifar();
    test_hdf5();
    test_random();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return eg_test_finish();
}
