/* test_data_limits.c — the readers' limits (datasets/ds_limits.h): the decoded-size
 * cap at its boundary, non-regular files refused without blocking (FIFO, directory,
 * symlink loop, missing), the NaN/inf scan's index, a gzip bomb under an IDX header
 * refused without allocating (peak RSS), HDF5 datasets of huge declared size in a
 * tiny file refused before reading, a dataset larger than one read slab read back
 * exactly, a shuffled + deflated + checksummed chunked dataset read back exactly and
 * one whose chunk decodes short refused (HDF5 would overrun its buffer), and the CSV
 * line limit with the two-pass split fill. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "base/cfg.h"
#include "datasets/ds_limits.h"
#include "engram/source.h"
#include "test_datasets_util.h"

static char tmp[256];

static const char *at(const char *name) {
    static char p[4][512];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 512, "%s/%s", tmp, name);
    return s;
}

static long peak_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static void test_cap(void) {
    uint64_t max = ds_max_items(784, 1);
    CHECK(max == DS_MAX_DECODED / (784 * 4 + 4));
    CHECK(ds_check_decoded("f", "images", max, 784, 1, err, sizeof err) == EG_OK);
    CHECK(ds_check_decoded("f", "images", max + 1, 784, 1, err, sizeof err) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "f: ");
    CHECK_STR_CONTAINS(err, "images of 784 values each would load as more than 4 GiB");
    /* dims whose product overflows 64 bits */
    CHECK(ds_check_decoded("f", "items", UINT64_MAX, UINT64_MAX, 0, err, sizeof err) == EG_ERR_FORMAT);
    CHECK(ds_max_items(0, 0) == 0);
}

static void test_regular(void) {
    uint64_t size = 0;
    int fd = -1;
    CHECK(mkfifo(at("fifo"), 0600) == 0);
    alarm(20); /* a blocking open would hang here: fail loudly instead */
    CHECK(ds_open_regular(at("fifo"), &fd, &size, err, sizeof err) == EG_ERR_IO && fd == -1);
    CHECK_STR_CONTAINS(err, "fifo: not a regular file (a FIFO)");
    CHECK(ds_check_regular(tmp, NULL, err, sizeof err) == EG_ERR_IO);
    CHECK_STR_CONTAINS(err, "not a regular file (a directory)");
    CHECK(symlink(at("loop-b"), at("loop-a")) == 0 && symlink(at("loop-a"), at("loop-b")) == 0);
    CHECK(ds_check_regular(at("loop-a"), NULL, err, sizeof err) == EG_ERR_IO);
    CHECK_STR_CONTAINS(err, "loop-a: cannot open: Too many levels of symbolic links");
    CHECK(ds_exists(at("loop-a")) && !ds_exists(at("nothing")));
    CHECK(ds_check_regular(at("nothing"), NULL, err, sizeof err) == EG_ERR_NOTFOUND);
    write_bytes(at("plain"), "abc", 3, 0);
    CHECK(ds_check_regular(at("plain"), &size, err, sizeof err) == EG_OK && size == 3);
    /* the readers refuse a FIFO where a file is expected, without blocking */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", at("fifo-idx"));
    mkdir(dir, 0755);
    char img[600];
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte", dir);
    CHECK(mkfifo(img, 0600) == 0);
    snprintf(img, sizeof img, "%s/t10k-labels-idx1-ubyte", dir);
    write_bytes(img, "\0\0\x08\x01\0\0\0\x01\x05", 9, 0);
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", dir);
    eg_dataset *ds = NULL;
    CHECK(load("mnist", &c, "test", &ds) == EG_ERR_IO && !ds);
    CHECK_STR_CONTAINS(err, "t10k-images-idx3-ubyte: not a regular file (a FIFO)");
    eg_cfg_free(&c);
    alarm(0);
}

static void test_finite(void) {
    float x[12] = {0};
    CHECK(ds_first_nonfinite(x, 12) == 12);
    CHECK(ds_check_finite("d.h5", "X", "x", x, 12, 4, err, sizeof err) == EG_OK);
    x[9] = NAN;
    x[11] = INFINITY;
    CHECK(ds_first_nonfinite(x, 12) == 9);
    CHECK(ds_check_finite("d.h5", "X", "x", x, 12, 4, err, sizeof err) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "d.h5: dataset 'X' (data.x) element 9 (row 2, col 1) is NaN");
    x[9] = 0;
    CHECK(ds_check_finite("d.h5", "X", "x", x, 12, 4, err, sizeof err) == EG_ERR_FORMAT);
    CHECK_STR_CONTAINS(err, "element 11 (row 2, col 3) is +inf");
}

/* an IDX pair whose images header declares n images, followed by `zeros` zero bytes, gzip */
static void bomb_pair(const char *dir, uint32_t n, uint64_t zeros) {
    char path[600];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
    gzFile f = gzopen(path, "wb9");
    uint8_t hdr[16] = {0, 0, 8, 3, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n,
                       0, 0, 0, 28, 0, 0, 0, 28};
    gzwrite(f, hdr, 16);
    static uint8_t block[1 << 20];
    for (uint64_t k = 0; k < zeros; k += sizeof block)
        gzwrite(f, block, (unsigned)(zeros - k < sizeof block ? zeros - k : sizeof block));
    gzclose(f);
    uint8_t lab[8] = {0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    write_bytes(path, lab, 8, 0);
}

static void test_idx_bomb(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", at("bomb"));
    mkdir(dir, 0755);
    /* 100000 images declared (78.4 MB), 256 MiB of zeros in the stream */
    bomb_pair(dir, 100000, (uint64_t)256 << 20);
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", dir);
    eg_dataset *ds = NULL;
    long before = peak_kb();
    CHECK(load("mnist", &c, "test", &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "t10k-images-idx3-ubyte.gz: unexpected data at byte offset 78400016");
    long grew = peak_kb() - before;
    CHECK_MSG(grew < 16 * 1024, "peak RSS grew by %ld KiB refusing the bomb", grew);
    /* more images than the cap: refused from the header alone */
    bomb_pair(dir, 0x7fffffffu, 1 << 20);
    CHECK(load("mnist", &c, "test", &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "2147483647 images of 784 values each would load as more than 4 GiB");
    eg_cfg_free(&c);
}

static eg_status load_h5(const char *path, const char *x, const char *y, eg_dataset **ds) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", path);
    set_str(&c, "data.x", x);
    if (y) set_str(&c, "data.y", y);
    eg_status st = load("hdf5", &c, NULL, ds);
    eg_cfg_free(&c);
    return st;
}

static void test_h5(void) {
    const char *path = at("limits.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    /* declared 2^20 x 2^12 floats (16 GiB), chunked + deflate, nothing written */
    hsize_t huge[2] = {1 << 20, 1 << 12}, chunk[2] = {64, 64};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    hid_t sp = H5Screate_simple(2, huge, NULL);
    H5Dclose(H5Dcreate2(f, "huge", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Sclose(sp);
    /* 2^16 x 2^10 (256 MiB) declared, also unwritten: under the cap, but not stored */
    hsize_t big[2] = {1 << 16, 1 << 10};
    sp = H5Screate_simple(2, big, NULL);
    H5Dclose(H5Dcreate2(f, "unwritten", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Sclose(sp);
    H5Pclose(dcpl);
    /* 5000 x 1000 floats: 20 MB, more than one 16 MiB read slab */
    hsize_t two[2] = {5000, 1000};
    float *v = malloc(sizeof(float) * 5000 * 1000);
    for (int i = 0; i < 5000 * 1000; i++)
        v[i] = (float)(i % 977) * 0.5f;
    sp = H5Screate_simple(2, two, NULL);
    hid_t d = H5Dcreate2(f, "slabs", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Sclose(sp);
    /* NaN at element 4321 of a [100, 50] double dataset */
    double *w = calloc(5000, sizeof *w);
    w[4321] = NAN;
    hsize_t nd[2] = {100, 50};
    sp = H5Screate_simple(2, nd, NULL);
    d = H5Dcreate2(f, "nan", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
    H5Dclose(d);
    H5Sclose(sp);
    /* chunked with shuffle + deflate + fletcher32, 3 x 5 chunks of [7, 9] (edge chunks partial) */
    hsize_t cdims[2] = {20, 40}, cchunk[2] = {7, 9};
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, cchunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    H5Pset_fletcher32(dcpl);
    sp = H5Screate_simple(2, cdims, NULL);
    d = H5Dcreate2(f, "packed", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    /* the same layout, one chunk written raw decoding to 17 bytes instead of 7 x 9 x 4 */
    d = H5Dcreate2(f, "short", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    {
        uint8_t zeros[17] = {0}, packed[64];
        uLongf len = sizeof packed - 4;
        compress(packed, &len, zeros, sizeof zeros);
        memset(packed + len, 0, 4); /* a fletcher32 checksum's room (never reached) */
        hsize_t origin[2] = {7, 18};
        H5Dwrite_chunk(d, H5P_DEFAULT, 0, origin, len + 4, packed);
    }
    H5Dclose(d);
    /* the same layout with only the first 7 rows written: the other chunks read as fill values */
    d = H5Dcreate2(f, "sparse", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    {
        hsize_t start[2] = {0, 0}, count[2] = {7, 40};
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, count, NULL);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, v);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Fclose(f);
    free(w);

    eg_dataset *ds = NULL;
    long before = peak_kb();
    CHECK(load_h5(path, "huge", NULL, &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "limits.h5: dataset 'huge' (data.x) has shape [1048576, 4096]: more than 1073741824 values");
    CHECK(load_h5(path, "unwritten", NULL, &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "dataset 'unwritten' (data.x) of shape [65536, 1024] declares 268435456 bytes of values "
                            "but stores 0");
    long grew = peak_kb() - before;
    CHECK_MSG(grew < 16 * 1024, "peak RSS grew by %ld KiB refusing the huge datasets", grew);
    CHECK(load_h5(path, "nan", NULL, &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "dataset 'nan' (data.x) element 4321 (row 86, col 21) is NaN");
    CHECK_MSG(load_h5(path, "slabs", NULL, &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 5000 && ds->dim == 1000);
        CHECK(memcmp(ds->x, v, sizeof(float) * 5000 * 1000) == 0);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "packed", NULL, &ds) == EG_OK, "%s", err);
    if (ds) {
        CHECK(ds->n == 20 && ds->dim == 40);
        CHECK(memcmp(ds->x, v, sizeof(float) * 800) == 0);
    }
    eg_dataset_free(ds);
    CHECK_MSG(load_h5(path, "sparse", NULL, &ds) == EG_OK, "%s", err);
    if (ds) CHECK(ds->n == 20 && ds->x[6 * 40 + 39] == v[6 * 40 + 39] && ds->x[7 * 40] == 0 && ds->x[799] == 0);
    eg_dataset_free(ds);
    CHECK(load_h5(path, "short", NULL, &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "dataset 'short' (data.x): the chunk at [7, 18]");
    CHECK_STR_CONTAINS(err, "does not decode to the 252 bytes of its values");
    free(v);
}

static void test_csv(void) {
    char row[512] = "";
    for (int i = 0; i < 64; i++)
        snprintf(row + strlen(row), sizeof row - strlen(row), "%d,", i % 17);
    /* 8 rows, labels 0..7: test = the last ceil(8/4) = 2 */
    FILE *f = fopen(at("d.csv"), "w");
    for (int r = 0; r < 8; r++)
        fprintf(f, "%s%d\n", row, r);
    fclose(f);
    eg_cfg c;
    eg_cfg_init(&c);
    set_str(&c, "data.path", at("d.csv"));
    eg_dataset *ds = NULL;
    CHECK_MSG(load("digits", &c, "test", &ds) == EG_OK, "%s", err);
    if (ds) CHECK(ds->n == 2 && ds->y[0] == 6 && ds->y[1] == 7 && fabsf(ds->x[64 + 16] - 16.0f / 16) < 1e-6f);
    eg_dataset_free(ds);
    /* a line longer than DS_MAX_LINE */
    f = fopen(at("long.csv"), "w");
    fprintf(f, "%s1\n", row);
    for (int i = 0; i < DS_MAX_LINE; i++)
        fputc('1', f);
    fputc('\n', f);
    fclose(f);
    set_str(&c, "data.path", at("long.csv"));
    CHECK(load("digits", &c, "all", &ds) == EG_ERR_FORMAT && !ds);
    CHECK_STR_CONTAINS(err, "long.csv:line 2: longer than 4096 bytes");
    eg_cfg_free(&c);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/eg-data-limits-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    test_cap();
    test_regular();
    test_finite();
    test_idx_bomb();
    test_h5();
    test_csv();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return eg_test_finish();
}
