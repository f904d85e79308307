/* results_read.c — reading results back: a run file's status, a stored weight
 * tensor, and the /summary table of summary.h5 (for `engram show`). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results_impl.h"

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

eg_status eg_results_run_attrs(const char *path, int n, const char *const *names, char **bufs, size_t cap) {
    for (int i = 0; i < n && cap; i++)
        bufs[i][0] = 0;
    if (!path || !exists(path)) return EG_ERR_NOTFOUND;
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    eg_status st = EG_ERR_FORMAT;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
        st = EG_OK;
        for (int i = 0; i < n; i++)
            if (H5Aexists(f, names[i]) > 0 && eg_h5_read_attr_str(f, names[i], bufs[i], cap) < 0) bufs[i][0] = 0;
        H5Fclose(f);
    }
    eg_h5_quiet_end(&q);
    return st;
}

eg_status eg_results_run_status(const char *path, char *buf, size_t cap) {
    const char *name = "status";
    eg_status st = eg_results_run_attrs(path, 1, &name, &buf, cap);
    return st == EG_OK && !buf[0] ? EG_ERR_FORMAT : st; /* a run file always says its status */
}

eg_status eg_results_read_weight(const char *path, const char *name, int *ndim, int64_t shape[6], float **data,
                                 char *err, size_t cap) {
    *data = NULL;
    *ndim = 0;
    if (!path || !exists(path)) {
        snprintf(err, cap, "%s: no such run file", path ? path : "(null)");
        return EG_ERR_NOTFOUND;
    }
    if (!eg_results_valid_name(name)) {
        snprintf(err, cap, "%s: invalid weight name '%s'", path, name ? name : "");
        return EG_ERR_INVALID;
    }
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    eg_status st = EG_OK;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, sp = -1, ft = -1;
    size_t plen = strlen(name) + 16;
    char *dpath = malloc(plen);
    if (!dpath) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory", path);
        goto done;
    }
    snprintf(dpath, plen, "/weights/%s", name);
    if (f < 0) {
        st = EG_ERR_FORMAT;
        snprintf(err, cap, "%s: not a readable HDF5 run file", path);
        goto done;
    }
    if (H5Lexists(f, "weights", H5P_DEFAULT) <= 0 || H5Lexists(f, dpath, H5P_DEFAULT) <= 0 ||
        (d = H5Dopen2(f, dpath, H5P_DEFAULT)) < 0) {
        st = EG_ERR_NOTFOUND;
        snprintf(err, cap, "%s: no weight %s", path, dpath);
        goto done;
    }
    ft = H5Dget_type(d);
    sp = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(sp);
    if (H5Tget_class(ft) != H5T_FLOAT || nd < 0 || nd > 6) {
        st = EG_ERR_FORMAT;
        snprintf(err, cap, "%s: %s is not a float tensor of rank <= 6", path, dpath);
        goto done;
    }
    hsize_t dims[6];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    size_t count = 1;
    for (int k = 0; k < nd; k++)
        shape[k] = (int64_t)dims[k], count *= (size_t)dims[k];
    *ndim = nd;
    *data = malloc(count ? count * sizeof(float) : sizeof(float));
    if (!*data) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory reading %s", path, dpath);
        goto done;
    }
    if (count && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0) {
        free(*data);
        *data = NULL;
        st = EG_ERR_FORMAT;
        snprintf(err, cap, "%s: cannot read %s", path, dpath);
    }
done:
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    free(dpath);
    eg_h5_quiet_end(&q);
    return st;
}

/* ---- summary.h5 ---- */

void eg_summary_free(eg_sum_table *t) {
    for (int c = 0; c < t->n_cols; c++) {
        eg_sum_col *col = &t->cols[c];
        free(col->name);
        free(col->f);
        if (col->s)
            for (int r = 0; r < t->n_rows; r++)
                free(col->s[r]);
        free(col->s);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}

void eg_summary_cell(const eg_sum_col *c, int row, char *buf, size_t cap) {
    if (c->type == EG_COL_STR)
        snprintf(buf, cap, "%s", c->s[row] ? c->s[row] : "");
    else if (c->type == EG_COL_BOOL)
        snprintf(buf, cap, "%s", c->f[row] != 0 ? "true" : "false");
    else if (c->type == EG_COL_INT)
        snprintf(buf, cap, "%.0f", c->f[row]);
    else if (isnan(c->f[row]))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.6g", c->f[row]);
}

static int in_list(const eg_rval *v, const char *name) {
    if (v->kind != EG_RV_LIST || v->item != EG_RV_STR) return 0;
    for (int k = 0; k < v->n; k++)
        if (strcmp(v->sv[k], name) == 0) return 1;
    return 0;
}

/* read one member of the compound /summary into a column */
static herr_t read_column(hid_t d, hid_t ft, int m, int n_rows, eg_sum_col *col) {
    hid_t mt_member = H5Tget_member_type(ft, (unsigned)m);
    H5T_class_t cls = H5Tget_class(mt_member);
    herr_t rc = -1;
    hid_t inner, mt;
    size_t nr = n_rows ? (size_t)n_rows : 1;
    if (cls == H5T_STRING) {
        col->type = EG_COL_STR;
        col->s = calloc(nr, sizeof(char *));
        char **tmp = calloc(nr, sizeof(char *));
        inner = eg_h5_str_type();
        H5Tset_cset(inner, H5Tget_cset(mt_member));
        mt = H5Tcreate(H5T_COMPOUND, sizeof(char *));
        H5Tinsert(mt, col->name, 0, inner);
        if (col->s && tmp && H5Tis_variable_str(mt_member) > 0) {
            rc = n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) : 0;
            for (int r = 0; rc >= 0 && r < n_rows; r++) {
                col->s[r] = strdup(tmp[r] ? tmp[r] : "");
                if (!col->s[r]) rc = -1;
            }
            if (n_rows) {
                hid_t sp = H5Dget_space(d);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, tmp);
                H5Sclose(sp);
            }
        }
        free(tmp);
    } else {
        col->type = cls == H5T_ENUM ? EG_COL_BOOL : cls == H5T_INTEGER ? EG_COL_INT : EG_COL_NUM;
        col->f = calloc(nr, sizeof(double));
        inner = cls == H5T_ENUM ? eg_h5_bool_type() : H5Tcopy(H5T_NATIVE_DOUBLE);
        size_t isz = cls == H5T_ENUM ? 1 : sizeof(double);
        mt = H5Tcreate(H5T_COMPOUND, isz);
        H5Tinsert(mt, col->name, 0, inner);
        if (col->f && (cls == H5T_FLOAT || cls == H5T_INTEGER)) {
            rc = n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, col->f) : 0;
        } else if (col->f && cls == H5T_ENUM) {
            int8_t *b = calloc(nr, 1);
            rc = b ? (n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) : 0) : -1;
            for (int r = 0; rc >= 0 && r < n_rows; r++)
                col->f[r] = b[r];
            free(b);
        }
    }
    H5Tclose(mt);
    H5Tclose(inner);
    H5Tclose(mt_member);
    return rc;
}

eg_status eg_summary_read(const char *path, eg_sum_table *t, char *err, size_t cap) {
    memset(t, 0, sizeof *t);
    if (!exists(path)) {
        snprintf(err, cap, "%s: no such file", path);
        return EG_ERR_NOTFOUND;
    }
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    eg_status st = EG_OK;
    eg_rval swept = {0}, metrics = {0}, info = {0};
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, ft = -1, sp = -1;
    if (f < 0 || (d = H5Dopen2(f, "summary", H5P_DEFAULT)) < 0) {
        snprintf(err, cap, "%s: not a summary file (no /summary table)", path);
        st = EG_ERR_FORMAT;
        goto done;
    }
    ft = H5Dget_type(d);
    sp = H5Dget_space(d);
    if (H5Tget_class(ft) != H5T_COMPOUND || H5Sget_simple_extent_ndims(sp) != 1) {
        snprintf(err, cap, "%s: /summary is not a one-dimensional compound table", path);
        st = EG_ERR_FORMAT;
        goto done;
    }
    hsize_t nrows;
    H5Sget_simple_extent_dims(sp, &nrows, NULL);
    eg_h5_read_attr(f, "swept", &swept);
    eg_h5_read_attr(f, "metrics", &metrics);
    eg_h5_read_attr(f, "info", &info);
    int nm = H5Tget_nmembers(ft);
    t->n_rows = (int)nrows;
    t->cols = calloc((size_t)(nm > 0 ? nm : 1), sizeof *t->cols);
    if (!t->cols) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory", path);
        goto done;
    }
    for (int m = 0; m < nm; m++) {
        eg_sum_col *col = &t->cols[t->n_cols++];
        char *name = H5Tget_member_name(ft, (unsigned)m);
        col->name = strdup(name ? name : "");
        H5free_memory(name);
        if (strcmp(col->name, "run_id") == 0)
            col->role = EG_ROLE_ID;
        else if (strcmp(col->name, "status") == 0)
            col->role = EG_ROLE_STATUS;
        else if (strcmp(col->name, "seed") == 0)
            col->role = EG_ROLE_SEED;
        else if (in_list(&swept, col->name))
            col->role = EG_ROLE_PARAM;
        else if (in_list(&info, col->name))
            col->role = EG_ROLE_INFO;
        else
            col->role = EG_ROLE_METRIC;
        if (!col->name || read_column(d, ft, m, t->n_rows, col) < 0) {
            char reason[256];
            eg_h5_last_error(reason, sizeof reason);
            snprintf(err, cap, "%s: cannot read column '%s' of /summary: %s", path, col->name ? col->name : "", reason);
            st = EG_ERR_FORMAT;
            goto done;
        }
    }
done:
    eg_rval_free(&swept);
    eg_rval_free(&metrics);
    eg_rval_free(&info);
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    eg_h5_quiet_end(&q);
    if (st != EG_OK) eg_summary_free(t);
    return st;
}
