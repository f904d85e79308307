/* digits.c — the `digits` source: the 8x8 handwritten digits (UCI optdigits test
 * set, 1797 images) as shipped in python3-sklearn's digits.csv.gz: one image per
 * line, 64 pixel counts 0..16 (row-major) then the label 0..9, comma-separated,
 * no header. Pixels are divided by 16. Splits: `all`; `train` = the first
 * n - ceil(n/4) rows (1347 of 1797), `test` = the remaining ceil(n/4) (450),
 * the sizes of sklearn's default train_test_split (without its shuffle).
 * The text is streamed line by line twice (check and count, then fill), so memory
 * is the dataset alone; a line is at most DS_MAX_LINE bytes and the rows at most
 * what DS_MAX_DECODED holds. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"

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
        if (*p && !*end && errno == ERANGE)
            return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: value %d ('%s') is out of range", path, lineno,
                           k + 1, p);
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

/* one line of the text at a time, with its number and decompressed byte offset */
typedef struct line_reader {
    gzFile f;
    const char *path;
    long lineno;
    uint64_t offset; /* of the line being read */
    char buf[DS_MAX_LINE + 2];
} line_reader;

/* The next line (without "\n" or "\r\n") in r->buf: 1, 0 at the end, or a negative status. */
static int next_line(line_reader *r, char *err, size_t cap) {
    r->offset = (uint64_t)gztell(r->f);
    if (!gzgets(r->f, r->buf, sizeof r->buf)) {
        int code = Z_OK;
        gzerror(r->f, &code);
        if (code == Z_OK) return 0;
        if (code == Z_BUF_ERROR)
            return ds_fail(err, cap, EG_ERR_FORMAT, "%s: truncated at byte offset %llu%s", r->path,
                           (unsigned long long)r->offset, ds_gz_note(r->f));
        return ds_fail(err, cap, code == Z_DATA_ERROR ? EG_ERR_FORMAT : EG_ERR_IO,
                       "%s: %s data at byte offset %llu: %s", r->path,
                       code == Z_DATA_ERROR ? "corrupt gzip" : "cannot read", (unsigned long long)r->offset,
                       gzerror(r->f, &code));
    }
    r->lineno++;
    size_t len = strlen(r->buf);
    uint64_t end = (uint64_t)gztell(r->f);
    if (end != r->offset + len)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: byte offset %llu (line %ld): NUL byte in a text file", r->path,
                       (unsigned long long)(r->offset + len), r->lineno);
    if (len > DS_MAX_LINE || (len == DS_MAX_LINE && r->buf[len - 1] != '\n' && !gzeof(r->f)))
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s:line %ld: longer than %d bytes (at byte offset %llu)", r->path,
                       r->lineno, DS_MAX_LINE, (unsigned long long)r->offset);
    if (len && r->buf[len - 1] == '\n') r->buf[--len] = 0;
    if (len && r->buf[len - 1] == '\r') r->buf[--len] = 0;
    return 1;
}

static int blank_line(const char *p) {
    for (; *p; p++)
        if (!isspace((unsigned char)*p)) return 0;
    return 1;
}

/* One pass over the text: parses every non-blank row (checking all of them), stores
 * rows [first, first + count) into ds when ds is given; *rows gets the row count. */
static eg_status scan(line_reader *r, int64_t first, int64_t count, eg_dataset *ds, int64_t *rows, char *err,
                      size_t cap) {
    const uint64_t max_rows = ds_max_items(DIGITS_PIXELS, 1);
    int got;
    *rows = 0;
    while ((got = next_line(r, err, cap)) > 0) {
        if (blank_line(r->buf)) continue;
        if ((uint64_t)*rows >= max_rows)
            return ds_fail(err, cap, EG_ERR_FORMAT,
                           "%s:line %ld: more than %llu rows: they would load as more than %llu GiB of float32 data, "
                           "the limit on a loaded dataset",
                           r->path, r->lineno, (unsigned long long)max_rows,
                           (unsigned long long)(DS_MAX_DECODED >> 30));
        float px[DIGITS_PIXELS];
        int32_t label = 0;
        eg_status st = parse_line(r->buf, r->path, r->lineno, px, &label, err, cap);
        if (st) return st;
        if (ds && *rows >= first && *rows < first + count) {
            memcpy(ds_x(ds) + (*rows - first) * DIGITS_PIXELS, px, sizeof px);
            ds_y(ds)[*rows - first] = label;
        }
        (*rows)++;
    }
    return got < 0 ? (eg_status)got : EG_OK;
}

static eg_status load_digits(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_digits;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    const char *path = eg_source_text(cfg, src, "path");
    if (!*path) path = DIGITS_DEFAULT;
    if (!ds_exists(path)) {
        if (strcmp(path, DIGITS_DEFAULT) == 0)
            return ds_fail(err, cap, EG_ERR_NOTFOUND,
                           "data.path: %s does not exist (install Debian's python3-sklearn, or set data.path to a "
                           "digits CSV)",
                           path);
        return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: %s does not exist or is not a file", path);
    }
    line_reader *r = calloc(1, sizeof *r);
    if (!r) return ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory", path);
    r->path = path;
    eg_dataset *ds = NULL;
    int64_t rows = 0;
    if (!(r->f = ds_gzopen(path, err, cap))) st = EG_ERR_IO;
    /* pass 1: check every row and count them */
    if (!st) st = scan(r, 0, 0, NULL, &rows, err, cap);
    if (!st && rows == 0) st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: no data rows", path);
    int64_t n_test = (rows + 3) / 4, n_train = rows - n_test;
    int64_t first = 0, count = rows;
    if (strcmp(split, "train") == 0) count = n_train;
    if (strcmp(split, "test") == 0) first = n_train, count = n_test;
    if (!st && count == 0)
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: only %lld rows, too few for a %s split", path, (long long)rows,
                     split);
    if (!st && !(ds = eg_dataset_alloc(src->name, split, count, 1, 8, 8, 1)))
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %lld rows", path, (long long)count);
    /* pass 2: fill the split's rows */
    if (!st) {
        r->lineno = 0;
        st = ds_restart(r->f, path, 0, err, cap);
    }
    int64_t again = 0;
    if (!st) st = scan(r, first, count, ds, &again, err, cap);
    if (!st && again != rows)
        st = ds_fail(err, cap, EG_ERR_IO, "%s: changed while it was read (%lld rows, then %lld)", path,
                     (long long)rows, (long long)again);
    if (r->f) gzclose(r->f);
    free(r);
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
