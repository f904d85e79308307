/* hdf5_source.c — the `hdf5` source: bring your own data. data.x names a float or
 * integer dataset of shape [n, ...]; trailing dimensions are flattened into one
 * item: [n, c, h, w] is read as images c x h x w, [n, h, w] as 1 x h x w,
 * [n, d] (and higher ranks) as vectors of d floats, [n] as scalars. data.y, when
 * given, names integer labels of shape [n] (or [n, 1]), >= 0; n_classes is
 * max + 1. Values are divided by data.scale. A dataset whose values are all
 * -1 or +1 is marked binary. */
#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"

#define H5_MAX_RANK 32

typedef struct names_buf {
    char text[512];
    int count;
} names_buf;

static herr_t add_name(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g;
    (void)info;
    names_buf *b = op;
    size_t len = strlen(b->text);
    if (len < sizeof b->text - 8)
        snprintf(b->text + len, sizeof b->text - len, "%s%s", b->count ? ", " : "", name);
    else if (!strstr(b->text, "..."))
        snprintf(b->text + len, sizeof b->text - len, ", ...");
    b->count++;
    return 0;
}

/* Opens dataset `name` (option data.<opt>) or explains what the file holds. */
static hid_t open_dataset(hid_t file, const char *path, const char *opt, const char *name, char *err, size_t cap) {
    int exists = H5Lexists(file, name, H5P_DEFAULT) > 0;
    hid_t d = exists ? H5Dopen2(file, name, H5P_DEFAULT) : H5I_INVALID_HID;
    if (d < 0 && exists)
        ds_fail(err, cap, EG_ERR_NOTFOUND, "%s: '%s' (data.%s) exists but is not a dataset (a group?)", path, name,
                opt);
    else if (d < 0) {
        names_buf b = {"", 0};
        hsize_t idx = 0;
        H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, add_name, &b);
        ds_fail(err, cap, EG_ERR_NOTFOUND, "%s: no dataset '%s' (data.%s) in the file (top-level objects: %s)", path,
                name, opt, b.count ? b.text : "none");
    }
    return d;
}

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    default: return "non-numeric";
    }
}

/* rank and dims of dataset d; class of its type */
static int shape_of(hid_t d, hsize_t *dims, H5T_class_t *cls) {
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (rank > H5_MAX_RANK) rank = -1;
    if (rank > 0) H5Sget_simple_extent_dims(sp, dims, NULL);
    *cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    return rank;
}

static eg_status load_from(hid_t file, const char *path, const char *xname, const char *yname, double scale,
                           eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_hdf5;
    hid_t dx = H5I_INVALID_HID, dy = H5I_INVALID_HID;
    eg_dataset *ds = NULL;
    eg_status st = EG_OK;
    hsize_t dims[H5_MAX_RANK], ydims[H5_MAX_RANK];
    H5T_class_t cls;
    if ((dx = open_dataset(file, path, "x", xname, err, cap)) < 0) return EG_ERR_NOTFOUND;
    int rank = shape_of(dx, dims, &cls);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.x) holds %s values (expected float or integer)",
                     path, xname, class_name(cls));
        goto done;
    }
    if (rank < 1) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.x) has rank %d (expected [n, ...], rank >= 1)",
                     path, xname, rank);
        goto done;
    }
    hsize_t n = dims[0], dim = 1;
    for (int k = 1; k < rank; k++) {
        if (dims[k] && dim > (hsize_t)INT_MAX / dims[k])
            dim = (hsize_t)INT_MAX + 1;
        else
            dim *= dims[k];
    }
    if (n == 0 || dim == 0) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.x) is empty (shape [%llu%s])", path, xname,
                     (unsigned long long)n, rank > 1 ? ", ..." : "");
        goto done;
    }
    if (dim > (hsize_t)INT_MAX) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.x): items of more than %d values", path, xname,
                     INT_MAX);
        goto done;
    }
    int c = 1, h = 1, w = (int)dim;
    if (rank == 4) c = (int)dims[1], h = (int)dims[2], w = (int)dims[3];
    if (rank == 3) h = (int)dims[1], w = (int)dims[2];

    int64_t ny = 0;
    if (*yname) {
        if ((dy = open_dataset(file, path, "y", yname, err, cap)) < 0) {
            st = EG_ERR_NOTFOUND;
            goto done;
        }
        int yrank = shape_of(dy, ydims, &cls);
        if (cls != H5T_INTEGER) {
            st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.y) holds %s values (expected integer labels)",
                         path, yname, class_name(cls));
            goto done;
        }
        if (yrank != 1 && !(yrank == 2 && ydims[1] == 1)) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.y) has rank %d (expected labels of shape [n])", path, yname, yrank);
            goto done;
        }
        ny = (int64_t)ydims[0];
        if ((hsize_t)ny != n) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.y) has %lld labels but '%s' (data.x) has %llu items", path, yname,
                         (long long)ny, xname, (unsigned long long)n);
            goto done;
        }
    }
    if (!(ds = eg_dataset_alloc(src->name, "all", (int64_t)n, c, h, w, *yname != 0))) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %llu x %llu floats of '%s'", path,
                     (unsigned long long)n, (unsigned long long)dim, xname);
        goto done;
    }
    if (H5Dread(dx, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds_x(ds)) < 0) {
        st = ds_fail(err, cap, EG_ERR_IO, "%s: reading dataset '%s' (data.x) failed", path, xname);
        goto done;
    }
    float *x = ds_x(ds);
    int binary = 1;
    for (hsize_t i = 0; i < n * dim; i++) {
        if (scale != 1.0) x[i] = (float)(x[i] / scale);
        binary &= x[i] == 1.0f || x[i] == -1.0f;
    }
    ds->binary = binary;
    if (dy >= 0) {
        if (H5Dread(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds_y(ds)) < 0) {
            st = ds_fail(err, cap, EG_ERR_IO, "%s: reading dataset '%s' (data.y) failed (labels must fit int32)", path,
                         yname);
            goto done;
        }
        int32_t maxy = 0;
        for (int64_t i = 0; i < ny; i++) {
            if (ds->y[i] < 0) {
                st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.y): label %d at index %lld is negative",
                             path, yname, ds->y[i], (long long)i);
                goto done;
            }
            if (ds->y[i] > maxy) maxy = ds->y[i];
        }
        ds->n_classes = maxy + 1;
    }
    *out = ds;
    ds = NULL;
done:
    if (dx >= 0) H5Dclose(dx);
    if (dy >= 0) H5Dclose(dy);
    eg_dataset_free(ds);
    return st;
}

static eg_status load_hdf5(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_hdf5;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    double scale = 1;
    if ((st = eg_source_float(cfg, src, "scale", &scale, err, cap))) return st;
    if (!(scale > 0) && !(scale < 0))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.scale: expected a non-zero number, got %g", scale);
    const char *path = eg_source_text(cfg, src, "path");
    if (!*path) return ds_fail(err, cap, EG_ERR_SPEC, "data.path: hdf5 needs the HDF5 file holding the data");
    /* copies: the option strings may live in a thread-local buffer */
    char pathc[4096], xname[1024], yname[1024];
    snprintf(pathc, sizeof pathc, "%s", path);
    snprintf(xname, sizeof xname, "%s", eg_source_text(cfg, src, "x"));
    snprintf(yname, sizeof yname, "%s", eg_source_text(cfg, src, "y"));
    if (!*xname) return ds_fail(err, cap, EG_ERR_SPEC, "data.x: hdf5 needs the name of the dataset holding the items");
    if (!ds_is_file(pathc))
        return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: %s does not exist or is not a file", pathc);

    ds_h5_quiet q;
    hid_t file = ds_h5_open(pathc, &q, err, cap);
    if (file < 0) return EG_ERR_FORMAT;
    st = load_from(file, pathc, xname, yname, scale, out, err, cap);
    ds_h5_close(file, &q);
    return st;
}

static const eg_param_spec hdf5_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole file (no split)"},
    {"path", EG_PARAM_PATH, "", 0, 0, 0, NULL, "", "HDF5 file; required"},
    {"x", EG_PARAM_STRING, "", 0, 0, 0, NULL, "",
     "dataset of items, float or integer, [n, c, h, w] / [n, h, w] images or [n, d] vectors; required"},
    {"y", EG_PARAM_STRING, "", 0, 0, 0, NULL, "", "dataset of integer labels [n] (>= 0), or empty for none"},
    {"scale", EG_PARAM_FLOAT, "1", 0, 0, 0, NULL, "", "values are divided by this (255 for uint8 pixels)"},
};

const eg_data_source eg_src_hdf5 = {
    .name = "hdf5",
    .summary = "bring your own: items (and optional labels) from datasets of an HDF5 file",
    .options = hdf5_opts,
    .n_options = EG_COUNT(hdf5_opts),
    .splits = "all",
    .load = load_hdf5,
};
