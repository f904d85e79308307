/* idx.c — the `fashion-mnist` and `mnist` sources: IDX files (LeCun's format),
 * gzip-compressed or raw. An idx3 image file is a 16-byte big-endian header
 * (magic 0x00000803, count, rows, cols) followed by count*rows*cols bytes; an
 * idx1 label file is an 8-byte header (magic 0x00000801, count) followed by
 * count bytes. Both files of a split are checked: magic, 28x28 images, equal
 * counts, labels in 0..9, truncation and trailing bytes, each error naming the
 * file and the byte offset. The image data is first measured (decoded without
 * being kept, up to the size the header declares, itself capped by
 * DS_MAX_DECODED) and only then allocated and read, so neither a lying header nor
 * a gzip bomb costs more memory than the dataset it declares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"

#define IDX_SIDE 28
#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Finds <dir>/<stem>{-,.}idx?-ubyte[.gz]; on failure err names the tried names. */
static eg_status find_file(const char *dir, const char *stem, const char *kind, char *out, size_t outcap, char *err,
                           size_t cap) {
    char tried[1024] = "";
    const char *seps[] = {"-", "."}, *exts[] = {".gz", ""};
    for (int s = 0; s < 2; s++)
        for (int e = 0; e < 2; e++) {
            char name[128];
            snprintf(name, sizeof name, "%s%s%s-ubyte%s", stem, seps[s], kind, exts[e]);
            snprintf(out, outcap, "%s/%s", dir, name);
            if (ds_exists(out)) return EG_OK; /* opening it says what is wrong with it */
            size_t len = strlen(tried);
            snprintf(tried + len, sizeof tried - len, "%s%s", len ? ", " : "", name);
        }
    return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: no %s file in %s (tried %s)", stem, dir, tried);
}

/* the element type an IDX type code (magic byte 2) names */
static const char *idx_type(uint8_t code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

/* Reads and checks an idx header of `hdr_len` bytes; fills hdr. */
static eg_status read_header(gzFile f, const char *path, uint8_t *hdr, int hdr_len, uint32_t magic, const char *what,
                             char *err, size_t cap) {
    int64_t got = ds_read(f, path, 0, hdr, (uint64_t)hdr_len, err, cap);
    if (got < 0) return ds_read_status(f);
    if (got >= 4 && be32(hdr) != magic) {
        char why[160] = "not an IDX file: its first two bytes are not zero";
        if (hdr[0] == 0 && hdr[1] == 0 && hdr[2] != 0x08)
            snprintf(why, sizeof why, "element type 0x%02x (%s) at byte offset 2, expected 0x08 (unsigned byte)",
                     hdr[2], idx_type(hdr[2]));
        else if (hdr[0] == 0 && hdr[1] == 0)
            snprintf(why, sizeof why, "rank %u at byte offset 3, expected %u", hdr[3], magic & 0xffu);
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: bad magic 0x%08x at offset 0 (expected 0x%08x for %s; %s)", path,
                       be32(hdr), magic, what, why);
    }
    if (got < hdr_len)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: truncated at byte offset %lld: expected a %d-byte %s header, got %lld bytes%s", path,
                       (long long)got, hdr_len, what, (long long)got, ds_gz_note(f));
    return EG_OK;
}

/* After all declared data was read: any further byte is an error. */
static eg_status check_end(gzFile f, const char *path, uint64_t offset, const char *declared, char *err, size_t cap) {
    uint8_t extra[4096];
    int64_t got = ds_read(f, path, offset, extra, sizeof extra, err, cap);
    if (got < 0) return ds_read_status(f);
    if (got > 0)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: unexpected data at byte offset %llu: the header declares %s, so the file should end "
                       "there%s",
                       path, (unsigned long long)offset, declared, ds_gz_note(f));
    return EG_OK;
}

typedef struct idx_files {
    gzFile fi, fl;
    char img[4096], lab[4096];
} idx_files;

static void close_files(idx_files *z) {
    if (z->fi) gzclose(z->fi);
    if (z->fl) gzclose(z->fl);
}

static eg_status load_idx(const eg_data_source *src, const eg_cfg *cfg, const char *split_arg, eg_dataset **out,
                          char *err, size_t cap) {
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    int64_t limit = 0;
    if ((st = eg_source_int(cfg, src, "limit", &limit, err, cap))) return st;
    if (limit < 0)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.limit: expected an integer >= 0, got %lld", (long long)limit);
    const char *dir = eg_source_text(cfg, src, "path");
    if (!*dir) return ds_fail(err, cap, EG_ERR_SPEC, "data.path: %s needs the directory of its IDX files", src->name);
    if (!ds_is_dir(dir)) {
        if (src == &eg_src_fashion_mnist)
            return ds_fail(err, cap, EG_ERR_NOTFOUND,
                           "data.path: directory %s does not exist (install Debian's dataset-fashion-mnist "
                           "package, or set data.path to the directory of the IDX files)",
                           dir);
        return ds_fail(err, cap, EG_ERR_NOTFOUND,
                       "data.path: directory %s does not exist (%s IDX files expected there)", dir, src->name);
    }
    const char *stem = strcmp(split, "train") == 0 ? "train" : "t10k";
    char stem_img[32], stem_lab[32];
    snprintf(stem_img, sizeof stem_img, "%s-images", stem);
    snprintf(stem_lab, sizeof stem_lab, "%s-labels", stem);

    idx_files z = {0};
    uint8_t hi[16], hl[8], *lab = NULL;
    eg_dataset *ds = NULL;
    if ((st = find_file(dir, stem_img, "idx3", z.img, sizeof z.img, err, cap))) goto done;
    if ((st = find_file(dir, stem_lab, "idx1", z.lab, sizeof z.lab, err, cap))) goto done;
    if (!(z.fi = ds_gzopen(z.img, err, cap)) || !(z.fl = ds_gzopen(z.lab, err, cap))) {
        st = EG_ERR_IO;
        goto done;
    }
    if ((st = read_header(z.fi, z.img, hi, 16, IDX_IMAGES_MAGIC, "idx3 images", err, cap))) goto done;
    if ((st = read_header(z.fl, z.lab, hl, 8, IDX_LABELS_MAGIC, "idx1 labels", err, cap))) goto done;
    uint32_t n = be32(hi + 4), rows = be32(hi + 8), cols = be32(hi + 12), nl = be32(hl + 4);
    if (rows != IDX_SIDE || cols != IDX_SIDE) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: image size %ux%u at byte offset 8 (expected %dx%d for %s)", z.img,
                     rows, cols, IDX_SIDE, IDX_SIDE, src->name);
        goto done;
    }
    if (n == 0) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: the header at byte offset 4 declares 0 images", z.img);
        goto done;
    }
    if (nl != n) {
        st =
            ds_fail(err, cap, EG_ERR_FORMAT,
                    "%s: label count %u at byte offset 4 does not match the image count %u of %s", z.lab, nl, n, z.img);
        goto done;
    }
    uint64_t count = limit > 0 && (uint64_t)limit < n ? (uint64_t)limit : n;
    uint64_t item = IDX_SIDE * IDX_SIDE, want = count * item, got = 0;
    if ((st = ds_check_decoded(z.img, "images", count, item, 1, err, cap))) goto done;
    /* measure the pixel data before allocating for it */
    if ((st = ds_measure(z.fi, z.img, 16, want, &got, err, cap))) goto done;
    if (got < want) {
        st = ds_fail(err, cap, EG_ERR_FORMAT,
                     "%s: truncated at byte offset %llu: expected %llu bytes of pixel data after the 16-byte header, "
                     "got %llu%s",
                     z.img, (unsigned long long)(16 + got), (unsigned long long)want, (unsigned long long)got,
                     ds_gz_note(z.fi));
        goto done;
    }
    char decl[96];
    snprintf(decl, sizeof decl, "%u images of %dx%d", n, IDX_SIDE, IDX_SIDE);
    if (count == n && (st = check_end(z.fi, z.img, 16 + want, decl, err, cap))) goto done;
    /* labels: at most count bytes, itself bounded by the cap above */
    if ((st = ds_read_grow(z.fl, z.lab, 8, count, &lab, &got, err, cap))) goto done;
    if (got < count) {
        st = ds_fail(err, cap, EG_ERR_FORMAT,
                     "%s: truncated at byte offset %llu: expected %llu label bytes after the 8-byte header, got "
                     "%llu%s",
                     z.lab, (unsigned long long)(8 + got), (unsigned long long)count, (unsigned long long)got,
                     ds_gz_note(z.fl));
        goto done;
    }
    snprintf(decl, sizeof decl, "%u labels", n);
    if (count == n && (st = check_end(z.fl, z.lab, 8 + count, decl, err, cap))) goto done;
    for (uint64_t i = 0; i < count; i++)
        if (lab[i] > 9) {
            st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: label %u at byte offset %llu is out of range (expected 0..9)",
                         z.lab, lab[i], (unsigned long long)(8 + i));
            goto done;
        }
    ds = eg_dataset_alloc(src->name, split, (int64_t)count, 1, IDX_SIDE, IDX_SIDE, 1);
    if (!ds) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %llu images", src->name, (unsigned long long)count);
        goto done;
    }
    if ((st = ds_restart(z.fi, z.img, 16, err, cap))) goto done;
    if ((st = ds_read_scaled(z.fi, z.img, 16, ds_x(ds), want, 255.0f, err, cap))) goto done;
    int32_t *y = ds_y(ds);
    for (uint64_t i = 0; i < count; i++)
        y[i] = lab[i];
    ds->n_classes = 10;
    *out = ds;
    ds = NULL;
    st = EG_OK;
done:
    close_files(&z);
    free(lab);
    eg_dataset_free(ds);
    return st;
}

static eg_status load_fashion(const eg_cfg *c, const char *split, eg_dataset **out, char *err, size_t cap) {
    return load_idx(&eg_src_fashion_mnist, c, split, out, err, cap);
}

static eg_status load_mnist(const eg_cfg *c, const char *split, eg_dataset **out, char *err, size_t cap) {
    return load_idx(&eg_src_mnist, c, split, out, err, cap);
}

static const eg_param_spec fashion_opts[] = {
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "test|train", "",
     "which IDX pair: t10k-* (10000 items) or train-* (60000)"},
    {"path", EG_PARAM_PATH, "/usr/share/datasets/fashion-mnist", 0, 0, 0, NULL, "",
     "directory of the IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte, .gz or raw)"},
    {"limit", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items",
     "use only the first N items of the split (0 = all)"},
};

static const eg_param_spec mnist_opts[] = {
    {"split", EG_PARAM_ENUM, "test", 0, 0, 0, "test|train", "",
     "which IDX pair: t10k-* (10000 items) or train-* (60000)"},
    {"path", EG_PARAM_PATH, "", 0, 0, 0, NULL, "",
     "directory of the IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte, .gz or raw); required"},
    {"limit", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items",
     "use only the first N items of the split (0 = all)"},
};

const eg_data_source eg_src_fashion_mnist = {
    .name = "fashion-mnist",
    .summary = "Zalando Fashion-MNIST, 1x28x28 greyscale in [0,1], 10 classes (IDX files; Debian's dataset-fashion-mnist)",
    .options = fashion_opts,
    .n_options = EG_COUNT(fashion_opts),
    .splits = "test|train",
    .load = load_fashion,
    .shape = "1x28x28",
};

const eg_data_source eg_src_mnist = {
    .name = "mnist",
    .summary = "MNIST handwritten digits, 1x28x28 greyscale in [0,1], 10 classes (IDX files at data.path)",
    .options = mnist_opts,
    .n_options = EG_COUNT(mnist_opts),
    .splits = "test|train",
    .load = load_mnist,
    .shape = "1x28x28",
};
