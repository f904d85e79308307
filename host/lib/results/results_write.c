/* results_write.c — writing a run record to its HDF5 file, atomically:
 * everything goes to "<path>.tmp-<pid>", which is flushed, closed, fsync'ed and
 * only then renamed to <path> (a crash leaves at most a *.tmp-* file, which
 * collect ignores). Layout: docs/results.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_impl.h"

typedef struct wctx {
    hid_t file, lcpl;
    char what[512]; /* the step in progress, for the error message */
} wctx;

static void step(wctx *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->what, sizeof w->what, fmt, ap);
    va_end(ap);
}

/* Chunk shape for a large tensor: keep trailing dimensions whole and halve the
 * leading ones until a chunk is at most EG_RESULTS_COMPRESS_BYTES. */
static void chunk_shape(int ndim, const hsize_t *dims, size_t elem, hsize_t *chunk) {
    size_t bytes = elem;
    for (int d = 0; d < ndim; d++)
        chunk[d] = dims[d], bytes *= (size_t)dims[d];
    for (int d = 0; d < ndim && bytes > EG_RESULTS_COMPRESS_BYTES;) {
        if (chunk[d] <= 1) {
            d++;
            continue;
        }
        hsize_t half = (chunk[d] + 1) / 2;
        bytes = bytes / (size_t)chunk[d] * (size_t)half;
        chunk[d] = half;
    }
}

/* a dataset at loc/name ('/' in name makes intermediate groups), compressed when large */
static herr_t write_array(wctx *w, hid_t loc, const char *name, hid_t ftype, hid_t mtype, int ndim,
                          const int64_t *shape, const void *data) {
    hsize_t dims[8];
    size_t elem = H5Tget_size(ftype), bytes = elem;
    for (int d = 0; d < ndim; d++)
        dims[d] = (hsize_t)shape[d], bytes *= (size_t)shape[d];
    hid_t space = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0) goto fail;
    if (ndim > 0 && bytes > EG_RESULTS_COMPRESS_BYTES && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        hsize_t chunk[8];
        chunk_shape(ndim, dims, elem, chunk);
        if (H5Pset_chunk(dcpl, ndim, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, 4) < 0) goto fail;
    }
    hid_t d = H5Dcreate2(loc, name, ftype, space, w->lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) goto fail;
    herr_t rc = bytes ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    if (H5Dclose(d) < 0) rc = -1;
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
fail:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return -1;
}

static herr_t write_metrics(wctx *w, const eg_record *r) {
    step(w, "creating /metrics");
    hid_t g = H5Gcreate2(w->file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    herr_t rc = 0;
    for (int k = 0; k < r->n_metrics && rc >= 0; k++) {
        step(w, "writing /metrics/%s", r->metric_names[k]);
        rc = write_array(w, g, r->metric_names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &r->metric_values[k]);
        if (rc >= 0 && r->metric_goals[k]) {
            hid_t d = H5Dopen2(g, r->metric_names[k], H5P_DEFAULT);
            eg_rval goal = {.kind = EG_RV_STR, .s = (char *)r->metric_goals[k]};
            rc = d >= 0 ? eg_h5_write_attr(d, "goal", &goal) : -1;
            if (d >= 0 && H5Dclose(d) < 0) rc = -1;
        }
    }
    if (H5Gclose(g) < 0) rc = -1;
    return rc;
}

static herr_t write_series(wctx *w, const eg_record *r) {
    step(w, "creating /series");
    hid_t g = H5Gcreate2(w->file, "series", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    /* file type packed little-endian; memory type the struct */
    hid_t ft = H5Tcreate(H5T_COMPOUND, 24), mt = H5Tcreate(H5T_COMPOUND, sizeof(eg_series_row));
    H5Tinsert(ft, "step", 0, H5T_STD_I64LE);
    H5Tinsert(ft, "value", 8, H5T_IEEE_F64LE);
    H5Tinsert(ft, "wall_s", 16, H5T_IEEE_F64LE);
    H5Tinsert(mt, "step", offsetof(eg_series_row, step), H5T_NATIVE_INT64);
    H5Tinsert(mt, "value", offsetof(eg_series_row, value), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "wall_s", offsetof(eg_series_row, wall_s), H5T_NATIVE_DOUBLE);
    herr_t rc = 0;
    for (int k = 0; k < r->n_series && rc >= 0; k++) {
        const eg_rec_series *s = &r->series[k];
        int64_t n = s->n;
        step(w, "writing /series/%s", s->name);
        rc = write_array(w, g, s->name, ft, mt, 1, &n, s->rows);
    }
    H5Tclose(ft);
    H5Tclose(mt);
    if (H5Gclose(g) < 0) rc = -1;
    return rc;
}

static herr_t write_tensors(wctx *w, const char *group, const eg_rec_tensor *ts, int n, int is_float) {
    step(w, "creating /%s", group);
    hid_t g = H5Gcreate2(w->file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    herr_t rc = 0;
    for (int k = 0; k < n && rc >= 0; k++) {
        const eg_rec_tensor *t = &ts[k];
        step(w, "writing /%s/%s", group, t->name);
        rc = write_array(w, g, t->name, is_float ? H5T_IEEE_F32LE : H5T_STD_U8LE,
                         is_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_UINT8, t->ndim, t->shape, t->data);
        if (rc >= 0 && t->kind) {
            hid_t d = H5Dopen2(g, t->name, H5P_DEFAULT);
            eg_rval kind = {.kind = EG_RV_STR, .s = t->kind};
            rc = d >= 0 ? eg_h5_write_attr(d, "kind", &kind) : -1;
            eg_rval rows = {.kind = EG_RV_INT, .i = t->tile_rows, .f = t->tile_rows};
            eg_rval labels = {.kind = EG_RV_STR, .s = t->row_labels};
            if (rc >= 0 && t->tile_rows > 0) rc = eg_h5_write_attr(d, "tile_rows", &rows);
            if (rc >= 0 && t->row_labels) rc = eg_h5_write_attr(d, "row_labels", &labels);
            if (d >= 0) H5Dclose(d);
        }
    }
    if (H5Gclose(g) < 0) rc = -1;
    return rc;
}

static herr_t write_all(wctx *w, const eg_record *r) {
    herr_t rc;
    eg_rval fv = {.kind = EG_RV_STR, .s = EG_RESULTS_FORMAT_VERSION};
    step(w, "writing attribute 'format_version'");
    if ((rc = eg_h5_write_attr(w->file, "format_version", &fv)) < 0) return rc;
    int has_status = 0;
    for (int k = 0; k < r->n_attrs; k++) {
        step(w, "writing attribute '%s'", r->attrs[k].name);
        if ((rc = eg_h5_write_attr(w->file, r->attrs[k].name, &r->attrs[k].v)) < 0) return rc;
        if (strcmp(r->attrs[k].name, "status") == 0) has_status = 1;
    }
    if (!has_status) {
        eg_rval ok = {.kind = EG_RV_STR, .s = "ok"};
        step(w, "writing attribute 'status'");
        if ((rc = eg_h5_write_attr(w->file, "status", &ok)) < 0) return rc;
    }
    step(w, "writing /config");
    const char *config = r->config_yaml ? r->config_yaml : "";
    if (eg_h5_write_text(w->file, "config", config) < 0) return -1;
    /* integrity: readers check that /config is the text this digest was taken of */
    char digest[65];
    eg_results_text_sha256(config, digest);
    eg_rval dv = {.kind = EG_RV_STR, .s = digest};
    step(w, "writing attribute 'config_sha256'");
    if ((rc = eg_h5_write_attr(w->file, "config_sha256", &dv)) < 0) return rc;
    if (write_metrics(w, r) < 0 || write_series(w, r) < 0) return -1;
    if (write_tensors(w, "weights", r->weights, r->n_weights, 1) < 0) return -1;
    if (write_tensors(w, "artifacts", r->artifacts, r->n_artifacts, 0) < 0) return -1;
    step(w, "writing /log");
    if (eg_h5_write_text(w->file, "log", r->log ? r->log : "") < 0) return -1;
    return 0;
}

/* fsync the directory holding path, so the rename itself is durable */
static void sync_parent(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    eg_fsync_path(dirname(copy));
    free(copy);
}

eg_status eg_record_write(const eg_record *r, const char *path, char *err, size_t cap) {
    if (!path || !*path) {
        snprintf(err, cap, "cannot write run file: empty path");
        return EG_ERR_INVALID;
    }
    if (!r) {
        snprintf(err, cap, "cannot write run file %s: no record", path);
        return EG_ERR_INVALID;
    }
    if (r->problem[0]) {
        snprintf(err, cap, "cannot write run file %s: %s", path, r->problem);
        return EG_ERR_INVALID;
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        snprintf(err, cap, "cannot write run file %s: out of memory", path);
        return EG_ERR_NOMEM;
    }
    snprintf(tmp, tlen, "%s.tmp-%ld", path, (long)getpid());

    /* The temporary file is created exclusively (O_CREAT|O_EXCL, which never follows a
     * link): whatever is at its name (a dead process's file with this pid, or a link
     * planted in a shared directory) is removed first, never written through. The probe
     * gives an accurate errno; HDF5 then creates the file again, exclusively too. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, cap, "cannot write run file %s: cannot create %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return EG_ERR_IO;
    }
    close(fd);
    unlink(tmp);

    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    wctx w = {.file = -1, .lcpl = -1};
    eg_status st = EG_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* 1.8-compatible object headers (dense attribute storage), readable by HDF5 >= 1.8 */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    step(&w, "creating the file");
    w.file = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    w.lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (w.lcpl >= 0) H5Pset_create_intermediate_group(w.lcpl, 1);
    herr_t rc = w.file >= 0 && w.lcpl >= 0 ? write_all(&w, r) : -1;
    if (rc >= 0) {
        step(&w, "flushing the file");
        rc = H5Fflush(w.file, H5F_SCOPE_GLOBAL);
    }
    char reason[256] = "";
    if (rc == EG_H5_NOMEM)
        snprintf(reason, sizeof reason, "out of memory");
    else if (rc < 0)
        eg_h5_last_error(reason, sizeof reason);
    if (w.lcpl >= 0) H5Pclose(w.lcpl);
    if (w.file >= 0 && H5Fclose(w.file) < 0 && rc >= 0) {
        step(&w, "closing the file");
        eg_h5_last_error(reason, sizeof reason);
        rc = -1;
    }
    eg_h5_quiet_end(&q);
    if (rc < 0) {
        snprintf(err, cap, "cannot write run file %s: %s: %s", path, w.what, reason);
        st = EG_ERR_IO;
    } else if (eg_fsync_path(tmp) < 0) {
        snprintf(err, cap, "cannot write run file %s: fsync %s: %s", path, tmp, strerror(errno));
        st = EG_ERR_IO;
    } else if (rename(tmp, path) < 0) {
        snprintf(err, cap, "cannot write run file %s: rename from %s: %s", path, tmp, strerror(errno));
        st = EG_ERR_IO;
    } else
        sync_parent(path);
    if (st != EG_OK) unlink(tmp);
    free(tmp);
    return st;
}
