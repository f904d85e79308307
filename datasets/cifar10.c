/* cifar10.c — the `cifar10` source: the CIFAR-10 binary version
 * (cifar-10-binary.tar.gz, unpacked). Each batch file is a sequence of 3073-byte
 * records: 1 label byte (0..9) then 3072 pixel bytes, 1024 red, 1024 green,
 * 1024 blue, each plane row-major 32x32 — already CHW. train = data_batch_1..5.bin
 * (in that order), test = test_batch.bin. Files may also be gzip-compressed
 * (name.bin.gz) and may sit in a cifar-10-batches-bin/ subdirectory of data.path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"

#define CIFAR_PIXELS 3072
#define CIFAR_RECORD (CIFAR_PIXELS + 1)

/* <dir>[/cifar-10-batches-bin]/<base>.bin[.gz] */
static eg_status find_batch(const char *dir, const char *base, char *out, size_t outcap, char *err, size_t cap) {
    const char *subs[] = {"", "/cifar-10-batches-bin"}, *exts[] = {".bin", ".bin.gz"};
    for (int s = 0; s < 2; s++)
        for (int e = 0; e < 2; e++) {
            snprintf(out, outcap, "%s%s/%s%s", dir, subs[s], base, exts[e]);
            if (ds_is_file(out)) return EG_OK;
        }
    return ds_fail(err, cap, EG_ERR_NOTFOUND,
                   "data.path: no %s in %s (tried %s.bin, %s.bin.gz, cifar-10-batches-bin/%s.bin, "
                   "cifar-10-batches-bin/%s.bin.gz)",
                   base, dir, base, base, base, base);
}

/* Reads up to `want` records of one batch file, checking size and labels. */
static eg_status read_batch(const char *path, uint64_t want, uint8_t **buf, uint64_t *records, char *err, size_t cap) {
    gzFile f = ds_gzopen(path, err, cap);
    if (!f) return EG_ERR_IO;
    uint64_t got = 0;
    *buf = NULL;
    eg_status st = ds_read_grow(f, path, 0, want * CIFAR_RECORD, buf, &got, err, cap);
    if (st) goto done;
    if (got == 0) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: empty file (expected records of %d bytes: 1 label + %d pixels)",
                     path, CIFAR_RECORD, CIFAR_PIXELS);
        goto done;
    }
    if (got % CIFAR_RECORD) {
        st = ds_fail(err, cap, EG_ERR_FORMAT,
                     "%s: truncated at byte offset %llu: the last record (record %llu) has %llu of %d bytes "
                     "(1 label byte + %d pixel bytes)%s",
                     path, (unsigned long long)got, (unsigned long long)(got / CIFAR_RECORD),
                     (unsigned long long)(got % CIFAR_RECORD), CIFAR_RECORD, CIFAR_PIXELS, ds_gz_note(f));
        goto done;
    }
    *records = got / CIFAR_RECORD;
    for (uint64_t r = 0; r < *records; r++) {
        uint8_t label = (*buf)[r * CIFAR_RECORD];
        if (label > 9) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: label %u at byte offset %llu (record %llu) is out of range (expected 0..9; a "
                         "CIFAR-100 file has 2 label bytes and is not supported)%s",
                         path, label, (unsigned long long)(r * CIFAR_RECORD), (unsigned long long)r, ds_gz_note(f));
            goto done;
        }
    }
done:
    gzclose(f);
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

static eg_status load_cifar10(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_cifar10;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t limit = 0;
    if ((st = eg_source_int(cfg, src, "limit", &limit, err, cap))) return st;
    if (limit < 0)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.limit: expected an integer >= 0, got %lld", (long long)limit);
    const char *dir = eg_source_text(cfg, src, "path");
    if (!*dir)
        return ds_fail(err, cap, EG_ERR_SPEC,
                       "data.path: cifar10 needs the directory of its binary batches (data_batch_1.bin .. "
                       "data_batch_5.bin, test_batch.bin)");
    if (!ds_is_dir(dir))
        return ds_fail(err, cap, EG_ERR_NOTFOUND,
                       "data.path: directory %s does not exist (cifar10 binary batches expected there)", dir);

    int train = strcmp(split, "train") == 0, nfiles = train ? 5 : 1;
    uint8_t *bufs[5] = {0};
    uint64_t recs[5] = {0}, total = 0, cap_items = limit > 0 ? (uint64_t)limit : UINT64_MAX / 2 / CIFAR_RECORD;
    char path[4096];
    eg_dataset *ds = NULL;
    /* find every file first, so a missing one is reported before any reading */
    for (int i = 0; i < nfiles; i++) {
        char base[32];
        snprintf(base, sizeof base, train ? "data_batch_%d" : "test_batch", i + 1);
        if ((st = find_batch(dir, base, path, sizeof path, err, cap))) return st;
    }
    for (int i = 0; i < nfiles && total < cap_items; i++) {
        char base[32];
        snprintf(base, sizeof base, train ? "data_batch_%d" : "test_batch", i + 1);
        find_batch(dir, base, path, sizeof path, err, cap);
        if ((st = read_batch(path, cap_items - total, &bufs[i], &recs[i], err, cap))) goto done;
        total += recs[i];
    }
    ds = eg_dataset_alloc(src->name, split, (int64_t)total, 3, 32, 32, 1);
    if (!ds) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "cifar10: out of memory for %llu images", (unsigned long long)total);
        goto done;
    }
    float *x = ds_x(ds);
    int32_t *y = ds_y(ds);
    for (int i = 0; i < nfiles; i++)
        for (uint64_t r = 0; r < recs[i]; r++, x += CIFAR_PIXELS, y++) {
            const uint8_t *rec = bufs[i] + r * CIFAR_RECORD;
            *y = rec[0];
            for (int k = 0; k < CIFAR_PIXELS; k++)
                x[k] = (float)rec[1 + k] / 255.0f;
        }
    ds->n_classes = 10;
    *out = ds;
    st = EG_OK;
done:
    for (int i = 0; i < nfiles; i++)
        free(bufs[i]);
    return st;
}

static const eg_param_spec cifar10_opts[] = {
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "test|train", "",
     "test = test_batch.bin (10000 items), train = data_batch_1..5.bin (50000)"},
    {"path", EG_PARAM_PATH, "", 0, 0, 0, NULL, "",
     "directory of the binary batches (or its parent holding cifar-10-batches-bin/); required"},
    {"limit", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items",
     "use only the first N items of the split (0 = all)"},
};

const eg_data_source eg_src_cifar10 = {
    .name = "cifar10",
    .summary = "CIFAR-10 colour images, 3x32x32 in [0,1] (CHW), 10 classes (binary batches at data.path)",
    .options = cifar10_opts,
    .n_options = EG_COUNT(cifar10_opts),
    .splits = "test|train",
    .load = load_cifar10,
    .shape = "3x32x32",
};
