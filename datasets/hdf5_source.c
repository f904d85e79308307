/* hdf5_source.c — the `hdf5` source: bring your own data. data.x names a float or
 * integer dataset of shape [n, ...], rank 1 to 4; trailing dimensions are flattened
 * into one item: [n, c, h, w] is read as images c x h x w, [n, h, w] as 1 x h x w,
 * [n, d] as vectors of d floats, [n] as scalars. data.y, when given, names integer
 * labels of shape [n] (or [n, 1]), 0 <= y < DS_MAX_CLASSES; n_classes is max + 1.
 * Values are divided by data.scale; a NaN or inf (after the division) is refused
 * with its index. A dataset whose values are all -1 or +1 is marked binary. Every
 * dataset is checked before it is read (ds_h5_inspect: type, rank, dims, the
 * decoded size against DS_MAX_DECODED and against the bytes the file stores). */
#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"

static eg_status load_from(hid_t file, const char *path, uint64_t file_size, const char *xname, const char *yname,
                           double scale, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_hdf5;
    hid_t dx = H5I_INVALID_HID, dy = H5I_INVALID_HID;
    eg_dataset *ds = NULL;
    eg_status st = EG_OK;
    ds_h5_info xi, yi;
    if ((dx = ds_h5_dataset(file, path, "x", xname, &st, err, cap)) < 0) return st;
    if ((st = ds_h5_inspect(dx, path, "x", xname, file_size, DS_H5_MAX_RANK, 0, DS_MAX_DECODED / sizeof(float), &xi,
                            err, cap)))
        goto done;
    uint64_t n = xi.dims[0], dim = xi.elems / n;
    if (dim > (uint64_t)INT_MAX) {
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.x): items of more than %d values", path, xname,
                     INT_MAX);
        goto done;
    }
    if ((st = ds_check_decoded(path, "items", n, dim, *yname != 0, err, cap))) goto done;
    int c = 1, h = 1, w = (int)dim;
    if (xi.rank == 4) c = (int)xi.dims[1], h = (int)xi.dims[2], w = (int)xi.dims[3];
    if (xi.rank == 3) h = (int)xi.dims[1], w = (int)xi.dims[2];

    if (*yname) {
        if ((dy = ds_h5_dataset(file, path, "y", yname, &st, err, cap)) < 0) goto done;
        if ((st = ds_h5_inspect(dy, path, "y", yname, file_size, 2, 1, DS_MAX_DECODED / sizeof(int32_t), &yi, err,
                                cap)))
            goto done;
        if (yi.rank == 2 && yi.dims[1] != 1) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.y) has rank 2 (expected labels of shape [n])", path, yname);
            goto done;
        }
        if (yi.dims[0] != n) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.y) has %llu labels but '%s' (data.x) has %llu items", path, yname,
                         (unsigned long long)yi.dims[0], xname, (unsigned long long)n);
            goto done;
        }
    }
    if (!(ds = eg_dataset_alloc(src->name, "all", (int64_t)n, c, h, w, *yname != 0))) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %llu x %llu floats of '%s'", path,
                     (unsigned long long)n, (unsigned long long)dim, xname);
        goto done;
    }
    if ((st = ds_h5_read(dx, path, "x", xname, &xi, H5T_NATIVE_FLOAT, sizeof(float), ds_x(ds), err, cap))) goto done;
    float *x = ds_x(ds);
    int binary = 1;
    for (uint64_t i = 0; i < n * dim; i++) {
        if (scale != 1.0) x[i] = (float)(x[i] / scale);
        binary &= x[i] == 1.0f || x[i] == -1.0f;
    }
    if ((st = ds_check_finite(path, xname, "x", x, n * dim, dim, err, cap))) goto done;
    ds->binary = binary;
    if (dy >= 0) {
        if ((st = ds_h5_read(dy, path, "y", yname, &yi, H5T_NATIVE_INT32, sizeof(int32_t), ds_y(ds), err, cap)))
            goto done;
        int32_t maxy = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (ds->y[i] < 0 || ds->y[i] >= DS_MAX_CLASSES) {
                st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.y): label %d at index %llu is %s", path,
                             yname, ds->y[i], (unsigned long long)i,
                             ds->y[i] < 0 ? "negative" : "above the limit of 1048576 classes");
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
    uint64_t size = 0;
    if (!ds_exists(pathc))
        return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: %s does not exist or is not a file", pathc);
    if ((st = ds_check_regular(pathc, &size, err, cap))) return st;

    ds_h5_quiet q;
    hid_t file = ds_h5_open(pathc, &q, err, cap);
    if (file < 0) return EG_ERR_FORMAT;
    st = load_from(file, pathc, size, xname, yname, scale, out, err, cap);
    ds_h5_close(file, &q);
    return st;
}

static const eg_param_spec hdf5_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole file (no split)"},
    {"path", EG_PARAM_PATH, "", 0, 0, 0, NULL, "", "HDF5 file; required"},
    {"x", EG_PARAM_STRING, "", 0, 0, 0, NULL, "",
     "dataset of items, float or integer, [n, c, h, w] / [n, h, w] images or [n, d] vectors (rank 1 to 4, no NaN or inf); required"},
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
