/* digits.c — the `digits` source: the 8x8 handwritten digits (UCI optdigits test
 * set, 1797 images) as shipped in python3-sklearn's digits.csv.gz: one image per
 * line, 64 pixel counts 0..16 (row-major) then the label 0..9, comma-separated,
 * no header. Pixels are divided by 16. Splits: `all`; `train` = the first
 * n - ceil(n/4) rows (1347 of 1797), `test` = the remaining ceil(n/4) (450),
 * the sizes of sklearn's default train_test_split (without its shuffle). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"

#define DIGITS_PIXELS 64
#define DIGITS_FIELDS (DIGITS_PIXELS + 1)
#define DIGITS_DEFAULT "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

/* Parses one line (NUL-terminated, no newline) into 65 values; err names path:line. */
static eg_status parse_line(char *line, const char *path, long lineno, float *px, int32_t *label, char *err,
                            size_t cap) {
    int n = 1;
    for (char *p = line; *p; p++)
        n += *p == ',';
    if (n != DIGITS_FIELDS)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: expected %d comma-separated values, got %d", path, lineno,
                       DIGITS_FIELDS, n);
    char *p = line;
    for (int k = 0; k < DIGITS_FIELDS; k++) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        while (isspace((unsigned char)*end))
            end++;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *end || errno)
            return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: value %d ('%s') is not a number", path, lineno, k + 1,
                           p);
        if (k < DIGITS_PIXELS) {
            if (!(v >= 0 && v <= 16))
                return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: pixel %d = %g is outside 0..16", path, lineno,
                               k + 1, v);
            px[k] = (float)(v / 16.0);
        } else {
            if (!(v >= 0 && v <= 9) || v != (double)(int)v)
                return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: label %g is not an integer in 0..9", path, lineno,
                               v);
            *label = (int32_t)v;
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    return EG_OK;
}

static eg_status load_digits(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_digits;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    const char *path = eg_source_text(cfg, src, "path");
    if (!*path) path = DIGITS_DEFAULT;
    if (!ds_is_file(path)) {
        if (strcmp(path, DIGITS_DEFAULT) == 0)
            return ds_fail(err, cap, EG_ERR_NOTFOUND,
                           "data.path: %s does not exist (install Debian's python3-sklearn, or set data.path to a "
                           "digits CSV)",
                           path);
        return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: %s does not exist or is not a file", path);
    }
    gzFile f = ds_gzopen(path, err, cap);
    if (!f) return EG_ERR_IO;
    uint8_t *text = NULL;
    uint64_t len = 0;
    /* the whole text, at most 1 GiB */
    st = ds_read_grow(f, path, 0, (uint64_t)1 << 30, &text, &len, err, cap);
    gzclose(f);
    if (st) return st;
    if (len >= (uint64_t)1 << 30) {
        free(text);
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: larger than 1 GiB; not a digits CSV", path);
    }
    uint8_t *t2 = realloc(text, len + 1);
    if (!t2) {
        free(text);
        return ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory", path);
    }
    text = t2;
    text[len] = 0;
    if (memchr(text, 0, len))
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: byte offset %llu: NUL byte in a text file", path,
                     (unsigned long long)((uint8_t *)memchr(text, 0, len) - text));

    /* count the non-empty lines, then parse into the dataset */
    int64_t rows = 0;
    for (char *p = (char *)text; !st && *p;) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        int blank = 1;
        for (size_t k = 0; k < l; k++)
            blank &= isspace((unsigned char)p[k]) != 0;
        rows += !blank;
        p = nl ? nl + 1 : p + l;
    }
    if (!st && rows == 0) st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: no data rows", path);
    int64_t n_test = (rows + 3) / 4, n_train = rows - n_test;
    int64_t first = 0, count = rows;
    if (strcmp(split, "train") == 0) count = n_train;
    if (strcmp(split, "test") == 0) first = n_train, count = n_test;
    eg_dataset *ds = NULL;
    if (!st && count == 0)
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: only %lld rows, too few for a %s split", path, (long long)rows,
                     split);
    if (!st && !(ds = eg_dataset_alloc(src->name, split, count, 1, 8, 8, 1)))
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %lld rows", path, (long long)count);
    long lineno = 0;
    int64_t row = 0;
    for (char *p = (char *)text; !st && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(p);
        lineno++;
        if (l && p[l - 1] == '\r') p[--l] = 0;
        int blank = 1;
        for (size_t k = 0; k < l; k++)
            blank &= isspace((unsigned char)p[k]) != 0;
        if (!blank) {
            /* every row is checked, also those outside the split */
            float px[DIGITS_PIXELS];
            int32_t label = 0;
            st = parse_line(p, path, lineno, px, &label, err, cap);
            if (!st && row >= first && row < first + count) {
                memcpy(ds_x(ds) + (row - first) * DIGITS_PIXELS, px, sizeof px);
                ds_y(ds)[row - first] = label;
            }
            row++;
        }
        p = nl ? nl + 1 : p + l;
    }
    free(text);
    if (st) {
        eg_dataset_free(ds);
        return st;
    }
    ds->n_classes = 10;
    *out = ds;
    return EG_OK;
}

static const eg_param_spec digits_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all|train|test", "",
     "all 1797 rows, train = the first 1347, test = the last 450 (n - ceil(n/4) / ceil(n/4))"},
    {"path", EG_PARAM_PATH, DIGITS_DEFAULT, 0, 0, 0, NULL, "",
     "digits CSV (gzip or raw): 64 pixel values 0..16 then the label, one image per line"},
};

const eg_data_source eg_src_digits = {
    .name = "digits",
    .summary = "8x8 handwritten digits (1797 items, 1x8x8 in [0,1], 10 classes) from python3-sklearn's digits.csv.gz",
    .options = digits_opts,
    .n_options = EG_COUNT(digits_opts),
    .splits = "all|train|test",
    .load = load_digits,
    .shape = "1x8x8",
};
