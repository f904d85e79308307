/* gaussians_hdf5.c — the `gaussians-hdf5` source: bring-your-own Gaussians for
 * the bwdam plugin. data.means names a float dataset [N, d]; data.covs one of
 * [N, d, d] (full covariances) or [N, d] (diagonal: variances); data.y optional
 * integer labels [N]. Rows as in gaussians.h. Every covariance is checked:
 * symmetric (to 1e-5 relative), and positive semi-definite (a Cholesky
 * factorisation of Σ + 1e-6·(tr Σ / d)·I succeeds; variances >= 0), and a failure
 * names the file, the dataset and the item. Means and covariances must be finite
 * (the first NaN or inf is named); datasets are checked before reading as in the
 * hdf5 source (ds_h5_inspect). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"
#include "gaussians.h"

/* dataset `name` of the file, checked (ds_h5_inspect: numeric, rank 1 to 3, sizes); -1 with err filled */
static hid_t open_numeric(hid_t file, const char *path, uint64_t file_size, const char *opt, const char *name,
                          ds_h5_info *info, eg_status *st, char *err, size_t cap) {
    if (!*name) {
        *st = ds_fail(err, cap, EG_ERR_SPEC, "data.%s: gaussians-hdf5 needs the name of a dataset in %s", opt, path);
        return H5I_INVALID_HID;
    }
    hid_t d = ds_h5_dataset(file, path, opt, name, st, err, cap);
    if (d < 0) return d;
    if ((*st = ds_h5_inspect(d, path, opt, name, file_size, 3, strcmp(opt, "y") == 0, DS_MAX_DECODED / sizeof(float),
                             info, err, cap))) {
        H5Dclose(d);
        return H5I_INVALID_HID;
    }
    return d;
}

/* 1 when S + jitter I has a Cholesky factor (S symmetric d x d) */
static int psd(const float *S, int64_t d, double *L) {
    double tr = 0;
    for (int64_t k = 0; k < d; k++)
        tr += S[k * d + k];
    double jitter = 1e-6 * (tr > 0 ? tr / (double)d : 1);
    for (int64_t j = 0; j < d; j++) {
        for (int64_t i = j; i < d; i++) {
            double s = S[i * d + j] + (i == j ? jitter : 0);
            for (int64_t k = 0; k < j; k++)
                s -= L[i * d + k] * L[j * d + k];
            if (i == j) {
                if (!(s > 0)) return 0;
                L[j * d + j] = sqrt(s);
            } else
                L[i * d + j] = s / L[j * d + j];
        }
    }
    return 1;
}

static eg_status check_covs(const eg_dataset *ds, const char *path, const char *name, int64_t d, int full, char *err,
                            size_t cap) {
    double *L = full ? malloc(sizeof(double) * (size_t)(d * d)) : NULL;
    if (full && !L) return ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory", path);
    eg_status st = EG_OK;
    for (int64_t i = 0; i < ds->n && st == EG_OK; i++) {
        const float *S = ds->x + i * ds->dim + d;
        if (!full) {
            for (int64_t k = 0; k < d && st == EG_OK; k++)
                if (!(S[k] >= 0))
                    st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.covs): item %lld has variance %g < 0",
                                 path, name, (long long)i, S[k]);
            continue;
        }
        for (int64_t a = 0; a < d && st == EG_OK; a++)
            for (int64_t b = a + 1; b < d && st == EG_OK; b++) {
                double x = S[a * d + b], y = S[b * d + a];
                if (fabs(x - y) > 1e-5 * (fabs(x) + fabs(y)) + 1e-30)
                    st = ds_fail(err, cap, EG_ERR_FORMAT,
                                 "%s: dataset '%s' (data.covs): item %lld is not symmetric (entry [%lld, %lld] = %g, "
                                 "[%lld, %lld] = %g)",
                                 path, name, (long long)i, (long long)a, (long long)b, x, (long long)b, (long long)a, y);
            }
        if (st == EG_OK && !psd(S, d, L))
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.covs): item %lld is not positive semi-definite", path, name,
                         (long long)i);
    }
    free(L);
    return st;
}

static eg_status read_file(hid_t file, const char *path, uint64_t file_size, const char *mname, const char *cname,
                           const char *yname, eg_dataset **out, char *err, size_t cap) {
    const eg_data_source *src = &eg_src_gaussians_hdf5;
    ds_h5_info mi, ci, yi;
    hid_t dm = H5I_INVALID_HID, dc = H5I_INVALID_HID, dy = H5I_INVALID_HID;
    eg_dataset *ds = NULL;
    float *mbuf = NULL, *cbuf = NULL;
    eg_status st = EG_ERR_FORMAT;
    if ((dm = open_numeric(file, path, file_size, "means", mname, &mi, &st, err, cap)) < 0) goto done;
    if ((dc = open_numeric(file, path, file_size, "covs", cname, &ci, &st, err, cap)) < 0) goto done;
    st = EG_ERR_FORMAT;
    if (mi.rank != 2) {
        ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.means) must be [N, d] with N, d >= 1", path, mname);
        goto done;
    }
    const hsize_t *md = mi.dims, *cd = ci.dims;
    int64_t n = (int64_t)md[0], d = (int64_t)md[1];
    int full = ci.rank == 3;
    if (ci.rank == 1 || cd[0] != md[0] || cd[1] != md[1] || (full && cd[2] != md[1])) {
        ds_fail(err, cap, EG_ERR_FORMAT,
                "%s: dataset '%s' (data.covs) must be [%lld, %lld, %lld] (full) or [%lld, %lld] (variances) to match "
                "'%s' (data.means)",
                path, cname, (long long)n, (long long)d, (long long)d, (long long)n, (long long)d, mname);
        goto done;
    }
    if (d > 4096 || n > INT32_MAX) {
        ds_fail(err, cap, EG_ERR_FORMAT, "%s: %lld Gaussians of dimension %lld: too large", path, (long long)n,
                (long long)d);
        goto done;
    }
    if (*yname) {
        if ((dy = open_numeric(file, path, file_size, "y", yname, &yi, &st, err, cap)) < 0) goto done;
        st = EG_ERR_FORMAT;
        if (yi.dims[0] != md[0] || (yi.rank != 1 && !(yi.rank == 2 && yi.dims[1] == 1))) {
            ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.y) must hold %lld labels", path, yname,
                    (long long)n);
            goto done;
        }
    }
    int64_t h = full && d > 1 ? d + 1 : 2, k = full ? d * d : d;
    if ((st = ds_check_decoded(path, "Gaussians", (uint64_t)n, (uint64_t)(h * d), 1, err, cap))) goto done;
    ds = eg_dataset_alloc(src->name, "all", n, 1, (int)h, (int)d, 1);
    mbuf = malloc(sizeof(float) * (size_t)(n * d));
    cbuf = malloc(sizeof(float) * (size_t)(n * k));
    if (!ds || !mbuf || !cbuf) {
        st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory for %lld Gaussians", path, (long long)n);
        goto done;
    }
    if ((st = ds_h5_read(dm, path, "means", mname, &mi, H5T_NATIVE_FLOAT, sizeof(float), mbuf, err, cap)) ||
        (st = ds_h5_read(dc, path, "covs", cname, &ci, H5T_NATIVE_FLOAT, sizeof(float), cbuf, err, cap)) ||
        (dy >= 0 && (st = ds_h5_read(dy, path, "y", yname, &yi, H5T_NATIVE_INT32, sizeof(int32_t), ds_y(ds), err, cap))))
        goto done;
    if ((st = ds_check_finite(path, mname, "means", mbuf, (uint64_t)(n * d), (uint64_t)d, err, cap)) ||
        (st = ds_check_finite(path, cname, "covs", cbuf, (uint64_t)(n * k), (uint64_t)k, err, cap)))
        goto done;
    float *x = ds_x(ds);
    for (int64_t i = 0; i < n; i++) {
        memcpy(x + i * ds->dim, mbuf + i * d, sizeof(float) * (size_t)d);
        memcpy(x + i * ds->dim + d, cbuf + i * k, sizeof(float) * (size_t)k);
    }
    if ((st = check_covs(ds, path, cname, d, full && d > 1, err, cap)) != EG_OK) goto done;
    int32_t maxy = 0;
    for (int64_t i = 0; i < n; i++) {
        if (dy < 0) ds_y(ds)[i] = (int32_t)i;
        if (ds->y[i] < 0 || ds->y[i] >= DS_MAX_CLASSES) {
            st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.y): label %d at index %lld is %s", path,
                         yname, ds->y[i], (long long)i,
                         ds->y[i] < 0 ? "negative" : "above the limit of 1048576 classes");
            goto done;
        }
        maxy = ds->y[i] > maxy ? ds->y[i] : maxy;
    }
    ds->n_classes = maxy + 1;
    *out = ds;
    ds = NULL;
    st = EG_OK;
done:
    if (dm >= 0) H5Dclose(dm);
    if (dc >= 0) H5Dclose(dc);
    if (dy >= 0) H5Dclose(dy);
    free(mbuf), free(cbuf);
    eg_dataset_free(ds);
    return st;
}

static eg_status load_gaussians_hdf5(const eg_cfg *cfg, const char *split_arg, eg_dataset **out, char *err,
                                     size_t cap) {
    const eg_data_source *src = &eg_src_gaussians_hdf5;
    const char *split;
    eg_status st = eg_source_split(cfg, src, split_arg, &split, err, cap);
    if (st) return st;
    char path[4096], mname[1024], cname[1024], yname[1024];
    snprintf(path, sizeof path, "%s", eg_source_text(cfg, src, "path"));
    snprintf(mname, sizeof mname, "%s", eg_source_text(cfg, src, "means"));
    snprintf(cname, sizeof cname, "%s", eg_source_text(cfg, src, "covs"));
    snprintf(yname, sizeof yname, "%s", eg_source_text(cfg, src, "y"));
    if (!*path) return ds_fail(err, cap, EG_ERR_SPEC, "data.path: gaussians-hdf5 needs the HDF5 file of Gaussians");
    uint64_t size = 0;
    if (!ds_exists(path))
        return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.path: %s does not exist or is not a file", path);
    if ((st = ds_check_regular(path, &size, err, cap))) return st;
    ds_h5_quiet q;
    hid_t file = ds_h5_open(path, &q, err, cap);
    if (file < 0) return EG_ERR_FORMAT;
    st = read_file(file, path, size, mname, cname, yname, out, err, cap);
    ds_h5_close(file, &q);
    return st;
}

static const eg_param_spec gaussians_hdf5_opts[] = {
    {"split", EG_PARAM_ENUM, "all", 0, 0, 0, "all", "", "the whole file (no split)"},
    {"path", EG_PARAM_PATH, "", 0, 0, 0, NULL, "", "HDF5 file; required"},
    {"means", EG_PARAM_STRING, "means", 0, 0, 0, NULL, "", "dataset of means [N, d]"},
    {"covs", EG_PARAM_STRING, "covariances", 0, 0, 0, NULL, "",
     "dataset of covariances [N, d, d], or of variances [N, d] (diagonal)"},
    {"y", EG_PARAM_STRING, "", 0, 0, 0, NULL, "", "dataset of integer labels [N] (>= 0), or empty (label = index)"},
};

const eg_data_source eg_src_gaussians_hdf5 = {
    .name = "gaussians-hdf5",
    .summary = "bring your own Gaussians (bwdam): means [N, d] and covariances [N, d, d] or variances [N, d] from HDF5",
    .options = gaussians_hdf5_opts,
    .n_options = EG_COUNT(gaussians_hdf5_opts),
    .splits = "all",
    .load = load_gaussians_hdf5,
};
