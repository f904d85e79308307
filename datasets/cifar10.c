/* cifar10.c — the `cifar10` source: the CIFAR-10 binary version
 * (cifar-10-binary.tar.gz, unpacked). Each batch file is a sequence of 3073-byte
 * records: 1 label byte (0..9) then 3072 pixel bytes, 1024 red, 1024 green,
 * 1024 blue, each plane row-major 32x32 — already CHW. train = data_batch_1..5.bin
 * (in that order), test = test_batch.bin. Files may also be gzip-compressed
 * (name.bin.gz) and may sit in a cifar-10-batches-bin/ subdirectory of data.path.
 * The files have no header: each is first measured (decoded without being kept, at
 * most DS_MAX_DECODED worth of records in all), then the dataset is allocated and
 * the records read into it, so a gzip bomb costs time, not memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"

#define CIFAR_PIXELS 3072
#define CIFAR_RECORD (CIFAR_PIXELS + 1)

/* <dir>[/cifar-10-batches-bin]/<base>.bin[.gz] */
static eg_status find_batch(const char *dir, const char *base, char *out, size_t outcap, char *err, size_t cap) {
    const char *subs[] = {"", "/cifar-10-batches-bin"}, *exts[] = {".bin", ".bin.gz"};
    for (int s = 0; s < 2; s++)
        for (int e = 0; e < 2; e++) {
            snprintf(out, outcap, "%s%s/%s%s", dir, subs[s], base, exts[e]);
            if (ds_exists(out)) return EG_OK; /* opening it says what is wrong with it */
        }
    return ds_fail(err, cap, EG_ERR_NOTFOUND,
                   "data.path: no %s in %s (tried %s.bin, %s.bin.gz, cifar-10-batches-bin/%s.bin, "
                   "cifar-10-batches-bin/%s.bin.gz)",
                   base, dir, base, base, base, base);
}

/* Measures one batch file: up to `want` records (at most `room` before the size cap);
 * checks the size is whole records. */
static eg_status measure_batch(gzFile f, const char *path, uint64_t want, uint64_t room, uint64_t *records, char *err,
                               size_t cap) {
    uint64_t got = 0, ask = want < room + 1 ? want : room + 1;
    eg_status st = ds_measure(f, path, 0, ask * CIFAR_RECORD, &got, err, cap);
    if (st) return st;
    if (got / CIFAR_RECORD > room)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: more than %llu records before byte offset %llu: the split would load as more than %llu "
                       "GiB of float32 data, the limit on a loaded dataset%s",
                       path, (unsigned long long)room, (unsigned long long)got,
                       (unsigned long long)(DS_MAX_DECODED >> 30), ds_gz_note(f));
    if (got == 0)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: empty file (expected records of %d bytes: 1 label + %d pixels)",
                       path, CIFAR_RECORD, CIFAR_PIXELS);
    if (got % CIFAR_RECORD)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: truncated at byte offset %llu: the last record (record %llu) has %llu of %d bytes "
                       "(1 label byte + %d pixel bytes)%s",
                       path, (unsigned long long)got, (unsigned long long)(got / CIFAR_RECORD),
                       (unsigned long long)(got % CIFAR_RECORD), CIFAR_RECORD, CIFAR_PIXELS, ds_gz_note(f));
    *records = got / CIFAR_RECORD;
    return EG_OK;
}

/* Reads the measured records of one file into x (CIFAR_PIXELS floats each) and y. */
static eg_status read_batch(gzFile f, const char *path, uint64_t records, float *x, int32_t *y, char *err,
                            size_t cap) {
    eg_status st = ds_restart(f, path, 0, err, cap);
    uint8_t rec[CIFAR_RECORD];
    for (uint64_t r = 0; r < records && !st; r++, x += CIFAR_PIXELS) {
        uint64_t at = r * CIFAR_RECORD;
        int64_t got = ds_read(f, path, at, rec, CIFAR_RECORD, err, cap);
        if (got < 0) return ds_read_status(f);
        if (got < CIFAR_RECORD)
            return ds_fail(err, cap, EG_ERR_IO, "%s: truncated at byte offset %llu while reading (file changed?)",
                           path, (unsigned long long)(at + (uint64_t)got));
        if (rec[0] > 9)
            return ds_fail(err, cap, EG_ERR_FORMAT,
                           "%s: label %u at byte offset %llu (record %llu) is out of range (expected 0..9; a "
                           "CIFAR-100 file has 2 label bytes and is not supported)%s",
                           path, rec[0], (unsigned long long)at, (unsigned long long)r, ds_gz_note(f));
        y[r] = rec[0];
        for (int k = 0; k < CIFAR_PIXELS; k++)
            x[k] = (float)rec[1 + k] / 255.0f;
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
    const uint64_t max_items = ds_max_items(CIFAR_PIXELS, 1);
    uint64_t recs[5] = {0}, total = 0, cap_items = limit > 0 ? (uint64_t)limit : UINT64_MAX / 2 / CIFAR_RECORD;
    char paths[5][4096];
    gzFile files[5] = {0};
    eg_dataset *ds = NULL;
    /* find every file first, so a missing one is reported before any reading */
    for (int i = 0; i < nfiles; i++) {
        char base[32];
        snprintf(base, sizeof base, train ? "data_batch_%d" : "test_batch", i + 1);
        if ((st = find_batch(dir, base, paths[i], sizeof paths[i], err, cap))) return st;
    }
    int used = 0;
    for (; used < nfiles && total < cap_items; used++) {
        if (!(files[used] = ds_gzopen(paths[used], err, cap))) {
            st = EG_ERR_IO;
            goto done;
        }
        if ((st = measure_batch(files[used], paths[used], cap_items - total, max_items - total, &recs[used], err,
                                cap)))
            goto done;
        total += recs[used];
    }
    ds = eg_dataset_alloc(src->name, split, (int64_t)total, 3, 32, 32, 1);
    if (!ds) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "cifar10: out of memory for %llu images", (unsigned long long)total);
        goto done;
    }
    uint64_t at = 0;
    for (int i = 0; i < used && !st; at += recs[i], i++)
        st = read_batch(files[i], paths[i], recs[i], ds_x(ds) + at * CIFAR_PIXELS, ds_y(ds) + at, err, cap);
    if (st) goto done;
    ds->n_classes = 10;
    *out = ds;
    ds = NULL;
done:
    for (int i = 0; i < nfiles; i++)
        if (files[i]) gzclose(files[i]);
    eg_dataset_free(ds);
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
