/* test_datasets.c — the IDX sources (mnist, fashion-mnist) against small files
 * written here, raw and gzip: values read back exactly, and every malformed
 * input (truncation, bad magic, counts, sizes, labels, trailing bytes, missing
 * files) refused with the file and the byte offset; the real Fashion-MNIST test
 * split when installed; the source registry and the option tables. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "engram/source.h"
#include "test_datasets_util.h"

static char tmp[256];


static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint8_t pix(int item, int k) {
    return (uint8_t)((item * 37 + k * 11) % 256);
}

/* An idx3 image file: magic, n, rows, cols, then `bytes` pixel bytes (n*rows*cols when -1). */
static void write_idx3(const char *dir, const char *name, uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols,
                       long bytes, int gz) {
    size_t full = (size_t)n * rows * cols, len = bytes < 0 ? full : (size_t)bytes;
    uint8_t *buf = calloc(16 + len + 1, 1);
    put_be32(buf, magic), put_be32(buf + 4, n), put_be32(buf + 8, rows), put_be32(buf + 12, cols);
    for (size_t i = 0; i < len; i++)
        buf[16 + i] = pix((int)(i / (rows * cols)), (int)(i % (rows * cols)));
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, buf, 16 + len, gz);
    free(buf);
}

static void write_idx1(const char *dir, const char *name, uint32_t magic, uint32_t n, const uint8_t *labels, long bytes,
                       int gz) {
    size_t len = bytes < 0 ? n : (size_t)bytes;
    uint8_t *buf = calloc(8 + len + 1, 1);
    put_be32(buf, magic), put_be32(buf + 4, n);
    memcpy(buf + 8, labels, len);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, buf, 8 + len, gz);
    free(buf);
}

static char *subdir(const char *name) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", tmp, name);
    mkdir(p, 0755);
    return p;
}

/* ---- IDX ---- */

static const uint8_t labels3[3] = {9, 0, 3};

static void idx_pair(const char *dir, const char *stem, int gz) {
    char a[64], b[64];
    snprintf(a, sizeof a, "%s-images-idx3-ubyte%s", stem, gz ? ".gz" : "");
    snprintf(b, sizeof b, "%s-labels-idx1-ubyte%s", stem, gz ? ".gz" : "");
    write_idx3(dir, a, 0x803, 3, 28, 28, -1, gz);
    write_idx1(dir, b, 0x801, 3, labels3, -1, gz);
}

static void check_idx_values(const eg_dataset *ds, int64_t n) {
    CHECK(ds->n == n);
    CHECK(ds->dim == 784 && ds->channels == 1 && ds->height == 28 && ds->width == 28);
    CHECK(ds->n_classes == 10 && ds->y != NULL && ds->binary == 0);
    int bad = 0;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 784; k++)
            bad += ds->x[i * 784 + k] != (float)pix((int)i, k) / 255.0f;
    CHECK_MSG(bad == 0, "%d pixels differ", bad);
    for (int64_t i = 0; i < n; i++)
        CHECK(ds->y[i] == labels3[i]);
}

static void test_idx_valid(void) {
    eg_cfg c;
    eg_dataset *ds;
    for (int gz = 0; gz < 2; gz++) {
        char *dir = subdir(gz ? "idx-gz" : "idx-raw");
        idx_pair(dir, "t10k", gz);
        idx_pair(dir, "train", gz);
        eg_cfg_init(&c);
        set_str(&c, "data.path", dir);
        CHECK_MSG(load("mnist", &c, "test", &ds) == EG_OK, "%s", err);
        if (ds) {
            check_idx_values(ds, 3);
            CHECK(strcmp(ds->source, "mnist") == 0 && strcmp(ds->split, "test") == 0);
        }
        eg_dataset_free(ds);
        /* the split from data.split when the argument is NULL; limit takes the first items */
        set_str(&c, "data.split", "train");
        set_int(&c, "data.limit", 2);
        CHECK_MSG(load("fashion-mnist", &c, NULL, &ds) == EG_OK, "%s", err);
        if (ds) {
            check_idx_values(ds, 2);
            CHECK(strcmp(ds->split, "train") == 0 && strcmp(ds->source, "fashion-mnist") == 0);
        }
        eg_dataset_free(ds);
        set_int(&c, "data.limit", 100); /* more than the file holds: all of it */
        CHECK_MSG(load("mnist", &c, NULL, &ds) == EG_OK, "%s", err);
        if (ds) CHECK(ds->n == 3);
        eg_dataset_free(ds);
        eg_cfg_free(&c);
    }
}

/* loads mnist test from dir and expects failure with all needles in the message */
static void expect_mnist_error(const char *dir, eg_status want, const char *n1, const char *n2, const char *n3) {
    eg_cfg c;
    eg_cfg_init(&c);
    if (dir) set_str(&c, "data.path", dir);
    eg_dataset *ds = NULL;
    eg_status st = load("mnist", &c, "test", &ds);
    CHECK_MSG(st == want, "status %d, expected %d (%s)", st, want, err);
    CHECK(ds == NULL);
    if (n1) CHECK_STR_CONTAINS(err, n1);
    if (n2) CHECK_STR_CONTAINS(err, n2);
    if (n3) CHECK_STR_CONTAINS(err, n3);
    eg_dataset_free(ds);
    eg_cfg_free(&c);
}

static void test_idx_errors(void) {
    char *d, path[512];
    /* truncated pixel data, raw and gzip */
    for (int gz = 0; gz < 2; gz++) {
        d = subdir(gz ? "trunc-gz" : "trunc-raw");
        write_idx3(d, gz ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, 2000, gz);
        write_idx1(d, gz ? "t10k-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte", 0x801, 3, labels3, -1, gz);
        snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte%s", d, gz ? ".gz" : "");
        expect_mnist_error(d, EG_ERR_FORMAT, path, "truncated at byte offset 2016",
                           "expected 2352 bytes of pixel data after the 16-byte header, got 2000");
    }
    /* a gzip stream cut in the middle of its compressed bytes */
    d = subdir("trunc-stream");
    idx_pair(d, "t10k", 1);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", d);
    {
        struct stat st;
        stat(path, &st);
        CHECK(truncate(path, st.st_size / 2) == 0);
    }
    expect_mnist_error(d, EG_ERR_FORMAT, path, "truncated at byte offset", "the gzip stream itself ends early");
    /* corrupt compressed bytes in the middle of a gzip stream */
    d = subdir("corrupt-gz");
    idx_pair(d, "t10k", 1);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", d);
    {
        FILE *f = fopen(path, "r+b");
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        for (long k = 20; k < size - 8; k += 3) {
            fseek(f, k, SEEK_SET);
            fputc(0xff, f);
        }
        fclose(f);
    }
    expect_mnist_error(d, EG_ERR_FORMAT, path, "corrupt gzip data (reading from decompressed byte offset", "invalid");
    /* header cut short */
    d = subdir("short-header");
    idx_pair(d, "t10k", 0);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", d);
    CHECK(truncate(path, 10) == 0);
    expect_mnist_error(d, EG_ERR_FORMAT, path, "truncated at byte offset 10", "16-byte idx3 images header");
    /* bad magic: a label file where images are expected */
    d = subdir("magic");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x802, 3, 28, 28, -1, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 3, labels3, -1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-images-idx3-ubyte", "bad magic 0x00000802 at offset 0",
                       "expected 0x00000803 for idx3 images");
    d = subdir("magic-labels");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, -1, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x803, 3, labels3, -1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-labels-idx1-ubyte", "bad magic 0x00000803 at offset 0",
                       "expected 0x00000801");
    /* label count differs from image count */
    d = subdir("count");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, -1, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 2, labels3, -1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-labels-idx1-ubyte", "label count 2", "image count 3");
    /* labels truncated */
    d = subdir("labels-trunc");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, -1, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 3, labels3, 1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-labels-idx1-ubyte", "truncated at byte offset 9",
                       "expected 3 label bytes");
    /* wrong image size */
    d = subdir("size");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 2, 32, 32, -1, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 2, labels3, -1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-images-idx3-ubyte", "image size 32x32", "expected 28x28");
    /* label out of range */
    d = subdir("label-range");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, -1, 0);
    {
        uint8_t l[3] = {1, 12, 2};
        write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 3, l, -1, 0);
    }
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-labels-idx1-ubyte", "label 12 at byte offset 9", "0..9");
    /* trailing bytes after the declared images */
    d = subdir("trailing");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 2, 28, 28, 3 * 784, 0);
    write_idx1(d, "t10k-labels-idx1-ubyte", 0x801, 2, labels3, -1, 0);
    expect_mnist_error(d, EG_ERR_FORMAT, "t10k-images-idx3-ubyte", "unexpected data at byte offset 1584", "2 images");
    /* missing directory, missing files, no path */
    snprintf(path, sizeof path, "%s/does-not-exist", tmp);
    expect_mnist_error(path, EG_ERR_NOTFOUND, path, "does not exist", NULL);
    d = subdir("empty");
    expect_mnist_error(d, EG_ERR_NOTFOUND, "no t10k-images file", "tried t10k-images-idx3-ubyte.gz",
                       "t10k-images-idx3-ubyte,");
    d = subdir("no-labels");
    write_idx3(d, "t10k-images-idx3-ubyte", 0x803, 3, 28, 28, -1, 0);
    expect_mnist_error(d, EG_ERR_NOTFOUND, "no t10k-labels file", "t10k-labels-idx1-ubyte.gz", NULL);
    expect_mnist_error(NULL, EG_ERR_SPEC, "data.path: mnist needs the directory of its IDX files", NULL, NULL);
    /* the preflight reports the loader's message; a whole run config is fine */
    {
        eg_cfg c;
        eg_cfg_init(&c);
        CHECK(eg_data_check(&c, err, sizeof err) == EG_ERR_SPEC);
        CHECK_STR_CONTAINS(err, "data.source");
        set_str(&c, "data.source", "mnistt");
        CHECK(eg_data_check(&c, err, sizeof err) == EG_ERR_NOTFOUND);
        CHECK_STR_CONTAINS(err, "unknown dataset 'mnistt'");
        set_str(&c, "data.source", "mnist");
        set_str(&c, "params.beta", "8");
        set_str(&c, "data.path", subdir("idx-raw"));
        CHECK_MSG(eg_data_check(&c, err, sizeof err) == EG_OK, "%s", err);
        set_str(&c, "data.path", subdir("trunc-gz"));
        CHECK(eg_data_check(&c, err, sizeof err) == EG_ERR_FORMAT);
        CHECK_STR_CONTAINS(err, "t10k-images-idx3-ubyte.gz: truncated at byte offset 2016");
        eg_cfg_free(&c);
    }
    /* a split the source does not have */
    {
        eg_cfg c;
        eg_cfg_init(&c);
        set_str(&c, "data.path", tmp);
        eg_dataset *ds;
        CHECK(load("mnist", &c, "validation", &ds) == EG_ERR_SPEC);
        CHECK_STR_CONTAINS(err, "'validation' is not a split of mnist (expected test|train)");
        eg_cfg_free(&c);
    }
}

/* ---- Fashion-MNIST (real, when installed) ---- */

static void test_fashion_real(void) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("skipping the real Fashion-MNIST checks: %s not installed (Debian dataset-fashion-mnist)\n", dir);
        return;
    }
    eg_cfg c;
    eg_cfg_init(&c);
    eg_dataset *ds = NULL;
    CHECK_MSG(load("fashion-mnist", &c, NULL, &ds) == EG_OK, "%s", err); /* default path and split test */
    if (ds) {
        CHECK(ds->n == 10000 && ds->dim == 784 && strcmp(ds->split, "test") == 0);
        CHECK(ds->y[0] == 9); /* ankle boot */
        int hist[10] = {0}, bad = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            if (ds->y[i] < 0 || ds->y[i] > 9)
                bad++;
            else
                hist[ds->y[i]]++;
        }
        CHECK(bad == 0);
        for (int k = 0; k < 10; k++)
            CHECK(hist[k] == 1000); /* the test split is balanced */
        float lo = 1, hi = 0;
        double sum = 0;
        for (int64_t i = 0; i < ds->n * ds->dim; i++) {
            lo = ds->x[i] < lo ? ds->x[i] : lo, hi = ds->x[i] > hi ? ds->x[i] : hi;
            sum += ds->x[i];
        }
        CHECK(lo == 0.0f && hi == 1.0f);
        CHECK_NEAR(sum / (double)(ds->n * ds->dim), 0.2868, 0.002, 0); /* the well-known test-set mean */
    }
    eg_dataset *small = NULL;
    set_int(&c, "data.limit", 5);
    CHECK_MSG(load("fashion-mnist", &c, "test", &small) == EG_OK, "%s", err);
    if (ds && small) {
        CHECK(small->n == 5);
        CHECK(memcmp(small->x, ds->x, 5 * 784 * sizeof(float)) == 0 && memcmp(small->y, ds->y, 5 * 4) == 0);
    }
    eg_dataset_free(small);
    eg_dataset_free(ds);
    eg_cfg_free(&c);
}

/* ---- registry ---- */

static void test_registry(void) {
    const char *names[] = {"fashion-mnist", "mnist", "digits", "cifar10", "hdf5", "random-patterns"};
    /* the six file/pattern sources come first; generators of other models follow them */
    CHECK(eg_data_source_count() >= 6);
    CHECK(eg_data_source_find("sines") != NULL && eg_data_source_find("colour-dots") != NULL);
    for (int i = 0; i < 6; i++) {
        const eg_data_source *s = eg_data_source_find(names[i]);
        CHECK_MSG(s != NULL && s == eg_data_source_at(i), "%s", names[i]);
        if (!s) continue;
        CHECK(s->load && s->summary && *s->summary && s->splits && s->n_options > 0);
        /* the `split` option's default is the first of `splits` and its choices equal them */
        const eg_param_spec *sp = NULL;
        for (int k = 0; k < s->n_options; k++) {
            CHECK(s->options[k].key && strcmp(s->options[k].key, "source") != 0 && s->options[k].doc);
            if (strcmp(s->options[k].key, "split") == 0) sp = &s->options[k];
        }
        CHECK(sp && sp->type == EG_PARAM_ENUM && strcmp(sp->choices, s->splits) == 0);
        CHECK(sp && strncmp(s->splits, sp->default_value, strlen(sp->default_value)) == 0);
    }
    CHECK(eg_data_source_find("nope") == NULL && eg_data_source_at(eg_data_source_count()) == NULL && eg_data_source_at(-1) == NULL);
    eg_dataset *ds = eg_dataset_alloc("x", "all", 3, 2, 2, 2, 1);
    CHECK(ds && ds->dim == 8 && ds->n == 3 && ds->y && ds->x);
    eg_dataset_free(ds);
    CHECK(eg_dataset_alloc("x", "all", 3, 0, 2, 2, 0) == NULL);
    eg_dataset_free(NULL);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/engram-test-datasets-XXXXXX");
    if (!mkdtemp(tmp)) return eg_test_skip("mkdtemp failed");
    test_registry();
    test_idx_valid();
    test_idx_errors();
    test_fashion_real();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return eg_test_finish();
}
