/* results_read.c — reading results back: a run file's status, a stored weight
 * tensor, and the /summary table of summary.h5 (for `engram show`). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/sha256.h"
#include "results_impl.h"

/* a regular file (never open a FIFO or a device found in runs/: it would block or worse) */
static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void eg_results_text_sha256(const char *text, char hex[65]) {
    uint8_t digest[32];
    eg_sha256_sum(text, strlen(text), digest);
    eg_sha256_hex(digest, hex, 64);
}

/* the stem of a run file's name: "<dir>/<stem>.h5" or "<dir>/<stem>.live.h5" */
static void file_stem(const char *path, char *stem, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len;
    if (eg_results_file_kind(base, &len) == EG_RUNFILE_NONE) len = strlen(base);
    snprintf(stem, cap, "%.*s", (int)len, base);
}

int eg_results_identity(hid_t f, const char *path, char *why, size_t cap) {
    char stem[256], id[256] = "", want[80] = "";
    why[0] = 0;
    file_stem(path, stem, sizeof stem);
    herr_t rc = H5Aexists(f, "run_id") > 0 ? eg_h5_read_attr_str(f, "run_id", id, sizeof id) : -1;
    if (rc == EG_H5_NOMEM || (H5Aexists(f, "config_sha256") > 0 &&
                              eg_h5_read_attr_str(f, "config_sha256", want, sizeof want) == EG_H5_NOMEM)) {
        snprintf(why, cap, "%s: out of memory reading its attributes", path);
        return EG_H5_NOMEM;
    }
    if (rc >= 0 && id[0] && strcmp(id, stem) != 0) {
        snprintf(why, cap, "%s holds run %s (its run_id attribute), not run %s: a copy under another run's name", path,
                 id, stem);
        return -1;
    }
    if (want[0]) {
        int oom = 0;
        char *config = H5Lexists(f, "config", H5P_DEFAULT) > 0 ? eg_h5_read_text(f, "config", &oom) : NULL;
        if (oom) {
            snprintf(why, cap, "%s: out of memory reading its /config", path);
            return EG_H5_NOMEM;
        }
        char got[65] = "";
        if (config) eg_results_text_sha256(config, got);
        free(config);
        if (strcmp(got, want) != 0) {
            snprintf(why, cap, "%s: its /config %s (config_sha256 says %.12s..., the text hashes to %.12s...)", path,
                     got[0] ? "was altered after it was written" : "is missing or unreadable", want,
                     got[0] ? got : "-");
            return -1;
        }
    }
    return 0;
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
        for (int i = 0; i < n && st == EG_OK; i++)
            if (strcmp(names[i], EG_RESULTS_IDENTITY) == 0) {
                if (eg_results_identity(f, path, bufs[i], cap) == EG_H5_NOMEM) st = EG_ERR_NOMEM;
            } else if (H5Aexists(f, names[i]) > 0) {
                herr_t rc = eg_h5_read_attr_str(f, names[i], bufs[i], cap);
                if (rc < 0) bufs[i][0] = 0;
                if (rc == EG_H5_NOMEM) st = EG_ERR_NOMEM; /* not "the file lacks it" */
            }
        H5Fclose(f);
    }
    eg_h5_quiet_end(&q);
    return st;
}

eg_runfile_kind eg_results_file_kind(const char *name, size_t *stem_len) {
    size_t n = strlen(name);
    if (name[0] == '.' || n < 4 || strcmp(name + n - 3, ".h5") != 0 || strstr(name, ".tmp-")) return EG_RUNFILE_NONE;
    int live = n >= 8 && strcmp(name + n - 8, ".live.h5") == 0;
    if (stem_len) *stem_len = n - (live ? 8 : 3);
    return live ? EG_RUNFILE_LIVE : EG_RUNFILE_FINAL;
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
    for (int k = 0; k < t->n_consts; k++) {
        free(t->consts[k].name);
        eg_rval_free(&t->consts[k].v);
    }
    free(t->consts);
    memset(t, 0, sizeof *t);
}

const eg_sum_col *eg_summary_col(const eg_sum_table *t, const char *name) {
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c].name, name) == 0) return &t->cols[c];
    return NULL;
}

const eg_rval *eg_summary_const(const eg_sum_table *t, const char *name) {
    for (int k = 0; k < t->n_consts; k++)
        if (strcmp(t->consts[k].name, name) == 0) return &t->consts[k].v;
    return NULL;
}

/* whether "[a, b, c]" (a list's canonical text) holds the item key */
static int list_text_has(const char *text, const char *key) {
    size_t n = strlen(key);
    for (const char *p = text ? strstr(text, key) : NULL; p; p = strstr(p + 1, key))
        if ((p[-1] == '[' || (p - text >= 2 && p[-1] == ' ' && p[-2] == ',')) && (p[n] == ',' || p[n] == ']')) return 1;
    return 0;
}

int eg_summary_defaulted(const eg_sum_table *t, int row, const char *key) {
    const eg_sum_col *c = eg_summary_col(t, "defaulted");
    if (c && c->type == EG_COL_STR) return list_text_has(c->s[row], key);
    const eg_rval *v = eg_summary_const(t, "defaulted");
    if (!v || v->kind != EG_RV_LIST || v->item != EG_RV_STR) return 0;
    for (int k = 0; k < v->n; k++)
        if (strcmp(v->sv[k], key) == 0) return 1;
    return 0;
}

eg_status eg_summary_subset(const eg_sum_table *src, const int *rows, int n, eg_sum_table *dst) {
    memset(dst, 0, sizeof *dst);
    size_t nr = n ? (size_t)n : 1;
    dst->cols = calloc((size_t)(src->n_cols ? src->n_cols : 1), sizeof *dst->cols);
    dst->consts = calloc((size_t)(src->n_consts ? src->n_consts : 1), sizeof *dst->consts);
    if (!dst->cols || !dst->consts) goto oom;
    dst->n_rows = n;
    for (int c = 0; c < src->n_cols; c++) {
        const eg_sum_col *a = &src->cols[c];
        eg_sum_col *b = &dst->cols[dst->n_cols++];
        *b = (eg_sum_col){.name = strdup(a->name), .type = a->type, .role = a->role, .goal = a->goal};
        if (!b->name) goto oom;
        if (a->s && !(b->s = calloc(nr, sizeof *b->s))) goto oom;
        if (a->f && !(b->f = calloc(nr, sizeof *b->f))) goto oom;
        for (int r = 0; r < n; r++) {
            if (a->f) b->f[r] = a->f[rows[r]];
            if (a->s && !(b->s[r] = strdup(a->s[rows[r]] ? a->s[rows[r]] : ""))) goto oom;
        }
    }
    for (int k = 0; k < src->n_consts; k++) {
        eg_rec_attr *d = &dst->consts[dst->n_consts];
        if (!(d->name = strdup(src->consts[k].name))) goto oom;
        if (eg_rval_copy(&src->consts[k].v, &d->v)) {
            free(d->name);
            goto oom;
        }
        dst->n_consts++;
    }
    return EG_OK;
oom:
    eg_summary_free(dst);
    return EG_ERR_NOMEM;
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

static int list_index(const eg_rval *v, const char *name) {
    if (v->kind != EG_RV_LIST || v->item != EG_RV_STR) return -1;
    for (int k = 0; k < v->n; k++)
        if (strcmp(v->sv[k], name) == 0) return k;
    return -1;
}

static const char *list_item_at(const eg_rval *v, int k) {
    return k >= 0 && v->kind == EG_RV_LIST && v->item == EG_RV_STR && k < v->n ? v->sv[k] : NULL;
}

typedef struct const_acc {
    eg_sum_table *t;
    int oom;
} const_acc;

static herr_t const_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    const_acc *acc = data;
    eg_sum_table *t = acc->t;
    eg_rval v;
    herr_t rc = eg_h5_read_attr(loc, name, &v);
    if (rc == EG_H5_NOMEM) return acc->oom = 1, -1;
    if (rc < 0) return 0; /* a type we do not read */
    eg_rec_attr *grown = realloc(t->consts, (size_t)(t->n_consts + 1) * sizeof *grown);
    if (!grown) return eg_rval_free(&v), acc->oom = 1, -1;
    t->consts = grown;
    if (!(t->consts[t->n_consts].name = strdup(name))) return eg_rval_free(&v), acc->oom = 1, -1;
    t->consts[t->n_consts++].v = v;
    return 0;
}

/* 0, -1 unreadable, EG_H5_NOMEM */
static int read_constants(hid_t f, eg_sum_table *t) {
    hid_t g = H5Gopen2(f, "constants", H5P_DEFAULT);
    if (g < 0) return -1;
    const_acc acc = {t, 0};
    herr_t rc = H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, const_cb, &acc);
    H5Gclose(g);
    return acc.oom ? EG_H5_NOMEM : rc < 0 ? -1 : 0;
}

/* read one member of the compound /summary into a column; <0 on failure, EG_H5_NOMEM when
 * an allocation failed */
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
        if (!col->s || !tmp) rc = EG_H5_NOMEM;
        if (col->s && tmp && H5Tis_variable_str(mt_member) > 0) {
            rc = n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) : 0;
            int read = rc >= 0;
            for (int r = 0; rc >= 0 && r < n_rows; r++) {
                col->s[r] = strdup(tmp[r] ? tmp[r] : "");
                if (!col->s[r]) rc = EG_H5_NOMEM;
            }
            if (n_rows && read) {
                hid_t sp = H5Dget_space(d);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, tmp);
                H5Sclose(sp);
            }
        }
        free(tmp);
    } else {
        col->type = cls == H5T_ENUM ? EG_COL_BOOL : cls == H5T_INTEGER ? EG_COL_INT : EG_COL_NUM;
        col->f = calloc(nr, sizeof(double));
        if (!col->f) rc = EG_H5_NOMEM;
        inner = cls == H5T_ENUM ? eg_h5_bool_type() : H5Tcopy(H5T_NATIVE_DOUBLE);
        size_t isz = cls == H5T_ENUM ? 1 : sizeof(double);
        mt = H5Tcreate(H5T_COMPOUND, isz);
        H5Tinsert(mt, col->name, 0, inner);
        if (col->f && (cls == H5T_FLOAT || cls == H5T_INTEGER)) {
            rc = n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, col->f) : 0;
        } else if (col->f && cls == H5T_ENUM) {
            int8_t *b = calloc(nr, 1);
            rc = b ? (n_rows ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) : 0) : EG_H5_NOMEM;
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
    eg_rval swept = {0}, metrics = {0}, info = {0}, goals = {0};
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
    /* each may be absent (an older summary); out of memory fails the read */
    if (eg_h5_read_attr(f, "swept", &swept) == EG_H5_NOMEM || eg_h5_read_attr(f, "metrics", &metrics) == EG_H5_NOMEM ||
        eg_h5_read_attr(f, "info", &info) == EG_H5_NOMEM || eg_h5_read_attr(f, "goals", &goals) == EG_H5_NOMEM) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory reading its attributes", path);
        goto done;
    }
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
        if (!col->name) {
            st = EG_ERR_NOMEM;
            snprintf(err, cap, "%s: out of memory reading /summary", path);
            goto done;
        }
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
        else {
            col->role = EG_ROLE_METRIC;
            const char *g = list_item_at(&goals, list_index(&metrics, col->name));
            col->goal = g && !strcmp(g, "min") ? 1 : g && !strcmp(g, "max") ? 2 : 0;
        }
        herr_t rc = read_column(d, ft, m, t->n_rows, col);
        if (rc == EG_H5_NOMEM) {
            st = EG_ERR_NOMEM;
            snprintf(err, cap, "%s: out of memory reading column '%s' of /summary", path, col->name);
            goto done;
        }
        if (rc < 0) {
            char reason[256];
            eg_h5_last_error(reason, sizeof reason);
            snprintf(err, cap, "%s: cannot read column '%s' of /summary: %s", path, col->name, reason);
            st = EG_ERR_FORMAT;
            goto done;
        }
        if (col->role == EG_ROLE_METRIC && col->type == EG_COL_STR) col->role = EG_ROLE_INFO; /* a metric is a number */
    }
done:
    eg_rval_free(&swept);
    eg_rval_free(&metrics);
    eg_rval_free(&info);
    eg_rval_free(&goals);
    int cr = st == EG_OK && H5Lexists(f, "constants", H5P_DEFAULT) > 0 ? read_constants(f, t) : 0;
    if (cr == EG_H5_NOMEM) {
        snprintf(err, cap, "%s: out of memory reading /constants", path);
        st = EG_ERR_NOMEM;
    } else if (cr < 0) {
        snprintf(err, cap, "%s: cannot read /constants", path);
        st = EG_ERR_FORMAT;
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    eg_h5_quiet_end(&q);
    if (st != EG_OK) eg_summary_free(t);
    return st;
}
