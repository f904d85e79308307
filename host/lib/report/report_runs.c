/* report_runs.c — reading run files for the report (report_runs.h). */
#define _GNU_SOURCE
#include "report_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/results_impl.h"

const char *const rp_attr_names[9] = {"engram_version", "git_commit", "model",   "model_version", "model_build_id",
                                      "backend",        "device",     "spec",    "command_line"};

#define LOG_TAIL_LINES 15

/* a string attribute, malloc'ed; NULL when absent (or not a string), and then *oom set when
 * that was for want of memory */
static char *attr_dup(hid_t f, const char *name, int *oom) {
    char buf[4096];
    herr_t rc = eg_h5_read_attr_str(f, name, buf, sizeof buf);
    char *s = rc >= 0 ? strdup(buf) : NULL;
    if (rc == EG_H5_NOMEM || (rc >= 0 && !s)) *oom = 1;
    return s;
}

/* the last LOG_TAIL_LINES lines of text */
static char *tail_of(const char *text) {
    if (!text) return NULL;
    size_t len = strlen(text);
    while (len && text[len - 1] == '\n')
        len--;
    size_t at = len;
    for (int lines = 0; at > 0; at--)
        if (text[at - 1] == '\n' && ++lines == LOG_TAIL_LINES) break;
    return strndup(text + at, len - at);
}

/* every link under /<group> (recursively) through fn; nothing when the group is absent */
static void visit_group(hid_t f, const char *group, H5L_iterate_t fn, void *data) {
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return;
    H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, fn, data);
    H5Gclose(g);
}

typedef struct series_acc {
    rp_run *run;
    eg_status st;
} series_acc;

static herr_t visit_series(hid_t loc, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    series_acc *acc = data;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT); /* a group fails here (errors are silenced) */
    if (d < 0) return 0;
    hid_t sp = H5Dget_space(d);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(eg_series_row));
    H5Tinsert(mt, "step", HOFFSET(eg_series_row, step), H5T_NATIVE_INT64);
    H5Tinsert(mt, "value", HOFFSET(eg_series_row, value), H5T_NATIVE_DOUBLE);
    eg_series_row *rows = n > 0 && n < (1 << 26) ? malloc(sizeof *rows * (size_t)n) : NULL;
    rp_series *grown = rows ? realloc(acc->run->series, sizeof *grown * (size_t)(acc->run->n_series + 1)) : NULL;
    if (grown) acc->run->series = grown;
    if ((n > 0 && n < (1 << 26) && !rows) || (rows && !grown)) acc->st = EG_ERR_NOMEM;
    if (rows && grown && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0) {
        rp_series *s = &acc->run->series[acc->run->n_series];
        s->name = strdup(name);
        s->n = n;
        s->step = malloc(sizeof *s->step * (size_t)n);
        s->value = malloc(sizeof *s->value * (size_t)n);
        if (s->name && s->step && s->value) {
            for (hssize_t i = 0; i < n; i++)
                s->step[i] = rows[i].step, s->value[i] = rows[i].value;
            acc->run->n_series++;
        } else {
            free(s->name), free(s->step), free(s->value);
            acc->st = EG_ERR_NOMEM;
        }
    }
    free(rows);
    H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return acc->st == EG_OK ? 0 : -1;
}

eg_status rp_run_read(const char *path, rp_run *run, char *err, size_t cap) {
    memset(run, 0, sizeof *run);
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        eg_h5_quiet_end(&q);
        snprintf(err, cap, "%s: not a readable run file", path);
        return EG_ERR_FORMAT;
    }
    char buf[64];
    int oom = 0, log_oom = 0;
    herr_t rc = eg_h5_read_attr_str(f, "run_id", buf, sizeof buf);
    if (rc >= 0) snprintf(run->id, sizeof run->id, "%.16s", buf);
    oom |= rc == EG_H5_NOMEM;
    rc = eg_h5_read_attr_str(f, "status", run->status, sizeof run->status);
    if (rc < 0) snprintf(run->status, sizeof run->status, "ok");
    oom |= rc == EG_H5_NOMEM;
    run->error = attr_dup(f, "error", &oom);
    if (!run->error && !strcmp(run->status, "pruned")) run->error = attr_dup(f, "pruned", &oom); /* why it stopped */
    for (int i = 0; i < 9; i++)
        run->attr[i] = attr_dup(f, rp_attr_names[i], &oom);
    eg_rval v = {0};
    rc = eg_h5_read_attr(f, "wall_s", &v);
    if (rc >= 0) run->wall_s = v.f;
    oom |= rc == EG_H5_NOMEM;
    eg_rval_free(&v);
    char *log = H5Lexists(f, "log", H5P_DEFAULT) > 0 ? eg_h5_read_text(f, "log", &log_oom) : NULL;
    run->log_tail = tail_of(log);
    if (log && !run->log_tail) oom = 1;
    free(log);
    series_acc acc = {run, oom || log_oom ? EG_ERR_NOMEM : EG_OK};
    if (acc.st == EG_OK) visit_group(f, "series", visit_series, &acc);
    H5Fclose(f);
    eg_h5_quiet_end(&q);
    if (acc.st != EG_OK) snprintf(err, cap, "%s: out of memory reading it", path);
    return acc.st;
}

void rp_run_free(rp_run *run) {
    free(run->error);
    free(run->log_tail);
    for (int i = 0; i < 9; i++)
        free(run->attr[i]);
    for (int i = 0; i < run->n_series; i++) {
        free(run->series[i].name);
        free(run->series[i].step);
        free(run->series[i].value);
    }
    free(run->series);
    memset(run, 0, sizeof *run);
}

typedef struct art_acc {
    rp_artifact *a;
    int n;
    int oom;
} art_acc;

static herr_t visit_artifact(hid_t loc, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    art_acc *acc = data;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT); /* a group fails here (errors are silenced) */
    if (d < 0) return 0;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[8] = {0};
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (nd == 3 || nd == 4) H5Sget_simple_extent_dims(sp, dims, NULL);
    int64_t sh[4] = {(int64_t)dims[0], (int64_t)dims[1], (int64_t)dims[2], nd == 4 ? (int64_t)dims[3] : 1};
    uint64_t total = (nd == 3 || nd == 4) ? (uint64_t)sh[0] * sh[1] * sh[2] * sh[3] : 0;
    int wanted = total > 0 && total < (1u << 28);
    uint8_t *pix = wanted ? malloc(total) : NULL;
    rp_artifact *grown = pix ? realloc(acc->a, sizeof *grown * (size_t)(acc->n + 1)) : NULL;
    if (grown) acc->a = grown;
    if (wanted && !grown) acc->oom = 1;
    if (grown && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, pix) >= 0) {
        rp_artifact *a = &acc->a[acc->n++];
        memset(a, 0, sizeof *a);
        char kind[64] = "";
        int oom = eg_h5_read_attr_str(d, "kind", kind, sizeof kind) == EG_H5_NOMEM;
        a->name = strdup(name);
        a->kind = strdup(kind);
        eg_rval rows = {0};
        herr_t rc = H5Aexists(d, "tile_rows") > 0 ? eg_h5_read_attr(d, "tile_rows", &rows) : -1;
        if (rc >= 0 && rows.kind == EG_RV_INT && rows.i > 0 && rows.i <= sh[0]) a->tile_rows = (int)rows.i;
        oom |= rc == EG_H5_NOMEM;
        eg_rval_free(&rows);
        char labels[1024];
        rc = H5Aexists(d, "row_labels") > 0 ? eg_h5_read_attr_str(d, "row_labels", labels, sizeof labels) : -1;
        a->row_labels = rc >= 0 ? strdup(labels) : NULL;
        oom |= rc == EG_H5_NOMEM || (rc >= 0 && !a->row_labels) || !a->name || !a->kind;
        memcpy(a->shape, sh, sizeof sh);
        a->pix = pix;
        pix = NULL;
        if (oom) acc->oom = 1;
    }
    free(pix);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return acc->oom ? -1 : 0; /* out of memory: stop */
}

eg_status rp_artifacts_read(const char *path, rp_artifact **out, int *n, char *err, size_t cap) {
    *out = NULL;
    *n = 0;
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        eg_h5_quiet_end(&q);
        snprintf(err, cap, "%s: not a readable run file", path);
        return EG_ERR_FORMAT;
    }
    art_acc acc = {NULL, 0, 0};
    visit_group(f, "artifacts", visit_artifact, &acc);
    H5Fclose(f);
    eg_h5_quiet_end(&q);
    *out = acc.a;
    *n = acc.n;
    if (acc.oom) {
        snprintf(err, cap, "%s: out of memory reading its artifacts", path);
        return EG_ERR_NOMEM;
    }
    return EG_OK;
}

void rp_artifacts_free(rp_artifact *a, int n) {
    for (int i = 0; a && i < n; i++) {
        free(a[i].name);
        free(a[i].kind);
        free(a[i].row_labels);
        free(a[i].pix);
    }
    free(a);
}
