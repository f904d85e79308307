/* results_collect.c — rebuilding <exp>/summary.h5 from the run files <exp>/runs/<id>.h5: one
 * compound /summary row per run (run_id, status, seed, the swept parameters, the other
 * attributes that differ between runs such as wall_s, every final metric), the attributes
 * equal in every run on /constants, and external links /runs/<id> to the run files.
 * Written under a temporary name and renamed, like a run file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_guard.h"
#include "results_impl.h"

typedef struct run_info {
    char *path, *stem, *run_id, *status;
    int64_t seed;
    int has_seed, has_index;
    int64_t index;
    eg_rec_attr *attrs;
    int n_attrs, cap_attrs;
    char **mnames;
    double *mvals;
    unsigned char *mgoals; /* 0 none, 1 min, 2 max (the dataset's `goal` attribute) */
    int n_metrics, cap_metrics;
    int oom; /* an allocation failed while reading it: the collect fails, the file is not "unreadable" */
} run_info;

typedef struct column {
    char *name;      /* field name in /summary */
    const char *key; /* attribute or metric name it comes from */
    eg_col_type type;
    eg_col_role role;
} column;

static void run_free(run_info *r) {
    free(r->path);
    free(r->stem);
    free(r->run_id);
    free(r->status);
    for (int k = 0; k < r->n_attrs; k++) {
        free(r->attrs[k].name);
        eg_rval_free(&r->attrs[k].v);
    }
    free(r->attrs);
    for (int k = 0; k < r->n_metrics; k++)
        free(r->mnames[k]);
    free(r->mnames);
    free(r->mvals);
    free(r->mgoals);
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    run_info *r = data;
    if (r->n_attrs == r->cap_attrs) {
        int nc = r->cap_attrs ? r->cap_attrs * 2 : 32;
        void *q = realloc(r->attrs, (size_t)nc * sizeof *r->attrs);
        if (!q) return r->oom = 1, -1;
        r->attrs = q;
        r->cap_attrs = nc;
    }
    if (strcmp(name, "config_sha256") == 0) return 0; /* the file's integrity, not the run's: never a column */
    eg_rval v;
    herr_t rc = eg_h5_read_attr(loc, name, &v);
    if (rc == EG_H5_NOMEM) return r->oom = 1, -1;
    if (rc < 0) return 0; /* a type we do not summarise */
    r->attrs[r->n_attrs].name = strdup(name);
    r->attrs[r->n_attrs].v = v;
    if (!r->attrs[r->n_attrs].name) {
        eg_rval_free(&v);
        return r->oom = 1, -1;
    }
    r->n_attrs++;
    return 0;
}

/* every scalar numeric dataset under /metrics, by its path relative to /metrics */
static herr_t metric_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    run_info *r = data;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return 0; /* a group */
    double v;
    int ok = eg_h5_read_metric(d, &v);
    char goal[8] = "";
    int oom = ok && H5Aexists(d, "goal") > 0 && eg_h5_read_attr_str(d, "goal", goal, sizeof goal) == EG_H5_NOMEM;
    H5Dclose(d);
    if (oom) return r->oom = 1, -1;
    if (!ok) return 0;
    if (r->n_metrics == r->cap_metrics) {
        int nc = r->cap_metrics ? r->cap_metrics * 2 : 16;
        char **qn = realloc(r->mnames, (size_t)nc * sizeof *qn);
        if (!qn) return r->oom = 1, -1;
        r->mnames = qn;
        double *qv = realloc(r->mvals, (size_t)nc * sizeof *qv);
        if (!qv) return r->oom = 1, -1;
        r->mvals = qv;
        unsigned char *qg = realloc(r->mgoals, (size_t)nc);
        if (!qg) return r->oom = 1, -1;
        r->mgoals = qg;
        r->cap_metrics = nc;
    }
    r->mnames[r->n_metrics] = strdup(name);
    if (!r->mnames[r->n_metrics]) return r->oom = 1, -1;
    r->mgoals[r->n_metrics] = !strcmp(goal, "min") ? 1 : !strcmp(goal, "max") ? 2 : 0;
    r->mvals[r->n_metrics++] = v;
    return 0;
}

static const eg_rval *run_attr(const run_info *r, const char *name) {
    for (int k = 0; k < r->n_attrs; k++)
        if (strcmp(r->attrs[k].name, name) == 0) return &r->attrs[k].v;
    return NULL;
}

static int run_metric(const run_info *r, const char *name, double *v) {
    for (int k = 0; k < r->n_metrics; k++)
        if (strcmp(r->mnames[k], name) == 0) return *v = r->mvals[k], 1;
    return 0;
}

static int load_run(const char *path, const char *stem, run_info *r) {
    memset(r, 0, sizeof *r);
    r->path = strdup(path);
    r->stem = strdup(stem);
    if (!r->path || !r->stem) return -3;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    char why[1024];
    int id = eg_results_identity(f, path, why, sizeof why);
    if (id == EG_H5_NOMEM) {
        H5Fclose(f);
        return -3;
    }
    if (id != 0) { /* resume computes its run again */
        fprintf(stderr, "engram: warning: collect: %s; it is left out of the summary\n", why);
        H5Fclose(f);
        return -2;
    }
    herr_t rc = H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, r);
    if (rc >= 0 && H5Lexists(f, "metrics", H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(f, "metrics", H5P_DEFAULT);
        rc = g >= 0 ? H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, metric_cb, r) : -1;
        if (g >= 0) H5Gclose(g);
    }
    H5Fclose(f);
    if (r->oom) return -3;
    if (rc < 0) return -1;
    const eg_rval *v = run_attr(r, "run_id");
    r->run_id = strdup(v && v->kind == EG_RV_STR && v->s && *v->s && !strchr(v->s, '/') ? v->s : stem);
    v = run_attr(r, "status");
    r->status = strdup(v && v->kind == EG_RV_STR && v->s ? v->s : "unknown");
    v = run_attr(r, "seed");
    if (v && (v->kind == EG_RV_INT || v->kind == EG_RV_BOOL))
        r->seed = v->i, r->has_seed = 1;
    else if (v && v->kind == EG_RV_FLOAT && isfinite(v->f))
        r->seed = (int64_t)v->f, r->has_seed = 1;
    v = run_attr(r, "run_index");
    if (v && v->kind == EG_RV_INT) r->index = v->i, r->has_index = 1;
    return r->run_id && r->status ? 0 : -3;
}

static int run_cmp(const void *a, const void *b) {
    const run_info *x = a, *y = b;
    if (x->has_index != y->has_index) return x->has_index ? -1 : 1;
    if (x->has_index && x->index != y->index) return x->index < y->index ? -1 : 1;
    return strcmp(x->run_id, y->run_id);
}

/* root attributes that can differ between runs and so group them: the model's parameters,
 * the task, the data, model and backend, the weights a run started from (a run from
 * scratch and one from init_from are never seed replicates) and the model's version */
static int sweepable(const char *name) {
    return strncmp(name, "params.", 7) == 0 || strncmp(name, "task.", 5) == 0 || strncmp(name, "data.", 5) == 0 ||
           strcmp(name, "backend") == 0 || strcmp(name, "model") == 0 || strcmp(name, "init_from") == 0 ||
           strcmp(name, "model_version") == 0;
}

/* attributes that already have their own column */
static int is_role_column(const char *name) {
    return strcmp(name, "run_id") == 0 || strcmp(name, "status") == 0 || strcmp(name, "seed") == 0;
}

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sorted unique names, from either the attributes (less run_id, status, seed) or the metrics of every run */
static char **union_names(const run_info *runs, int n, int metrics, int *count) {
    int total = 0, m = 0;
    for (int k = 0; k < n; k++)
        total += metrics ? runs[k].n_metrics : runs[k].n_attrs;
    char **all = malloc(sizeof(char *) * (size_t)(total ? total : 1));
    if (!all) return NULL;
    for (int k = 0; k < n; k++) {
        int c = metrics ? runs[k].n_metrics : runs[k].n_attrs;
        for (int j = 0; j < c; j++) {
            char *nm = metrics ? runs[k].mnames[j] : runs[k].attrs[j].name;
            if (metrics || !is_role_column(nm)) all[m++] = nm;
        }
    }
    qsort(all, (size_t)m, sizeof *all, str_cmp);
    int u = 0;
    for (int k = 0; k < m; k++)
        if (u == 0 || strcmp(all[u - 1], all[k]) != 0) all[u++] = all[k];
    *count = u;
    return all;
}

/* 0 when the attribute has the same value in every run (a constant); else 1 and the column type */
static int param_type(const run_info *runs, int n, const char *key, eg_col_type *type) {
    char first[512] = "", cur[512];
    int missing = 0, all_int = 1, all_bool = 1, all_num = 1, differs = 0;
    for (int k = 0; k < n; k++) {
        const eg_rval *v = run_attr(&runs[k], key);
        if (!v) {
            missing++;
            differs = 1;
            continue;
        }
        eg_rval_text(v, cur, sizeof cur);
        if (k == missing)
            snprintf(first, sizeof first, "%s", cur);
        else if (strcmp(first, cur) != 0)
            differs = 1;
        if (v->kind != EG_RV_INT) all_int = 0;
        if (v->kind != EG_RV_BOOL) all_bool = 0;
        if (v->kind != EG_RV_INT && v->kind != EG_RV_FLOAT && v->kind != EG_RV_BOOL) all_num = 0;
    }
    if (!differs || n < 2) return 0;
    if (all_int && !missing)
        *type = EG_COL_INT;
    else if (all_bool && !missing)
        *type = EG_COL_BOOL;
    else if (all_num)
        *type = EG_COL_NUM;
    else
        *type = EG_COL_STR;
    return 1;
}

/* the goal a metric's runs declare ("max", "min"; the first run that says one), else "none" */
static const char *metric_goal(const run_info *runs, int n, const char *name) {
    for (int k = 0; k < n; k++)
        for (int j = 0; j < runs[k].n_metrics; j++)
            if (runs[k].mgoals[j] && strcmp(runs[k].mnames[j], name) == 0) return runs[k].mgoals[j] == 1 ? "min" : "max";
    return "none";
}

static int is_taken(const column *cols, int n, const char *name) {
    for (int k = 0; k < n; k++)
        if (cols[k].name && strcmp(cols[k].name, name) == 0) return 1; /* NULL: a failed strdup, reported after */
    return 0;
}

/* write the summary table, its attributes and the external links into f; <0 on failure,
 * EG_H5_NOMEM when it was an allocation */
#define WHAT_CAP 320 /* what write_summary or write_constants was doing when it failed */
static herr_t write_summary(hid_t f, const run_info *runs, int n, const column *cols, int nc, char *what) {
    const size_t stride = 8 * (size_t)(nc ? nc : 1);
    unsigned char *buf = calloc((size_t)(n ? n : 1), stride);
    char **texts = calloc((size_t)(n ? n : 1) * (size_t)(nc ? nc : 1), sizeof(char *));
    hid_t mt = H5Tcreate(H5T_COMPOUND, stride), str = eg_h5_str_type(), bt = eg_h5_bool_type();
    snprintf(what, WHAT_CAP, "building /summary");
    herr_t rc = !buf || !texts ? EG_H5_NOMEM : mt >= 0 ? 0 : -1;
    for (int c = 0; c < nc && rc >= 0; c++) {
        hid_t t = cols[c].type == EG_COL_STR    ? str
                  : cols[c].type == EG_COL_INT  ? H5T_NATIVE_INT64
                  : cols[c].type == EG_COL_BOOL ? bt
                                                : H5T_NATIVE_DOUBLE;
        rc = H5Tinsert(mt, cols[c].name, 8 * (size_t)c, t);
        for (int r = 0; r < n && rc >= 0; r++) {
            unsigned char *cell = buf + (size_t)r * stride + 8 * (size_t)c;
            const run_info *ri = &runs[r];
            char text[4096];
            double num = NAN;
            int64_t i = 0;
            const eg_rval *v = NULL;
            switch (cols[c].role) {
            case EG_ROLE_ID: snprintf(text, sizeof text, "%s", ri->run_id); break;
            case EG_ROLE_STATUS: snprintf(text, sizeof text, "%s", ri->status); break;
            case EG_ROLE_SEED: i = ri->has_seed ? ri->seed : -1; break;
            case EG_ROLE_METRIC: run_metric(ri, cols[c].key, &num); break;
            case EG_ROLE_PARAM:
            case EG_ROLE_INFO:
                v = run_attr(ri, cols[c].key);
                if (v)
                    eg_rval_text(v, text, sizeof text);
                else
                    text[0] = 0;
                if (v && v->kind != EG_RV_STR && v->kind != EG_RV_LIST) num = v->f, i = v->i;
                break;
            }
            if (cols[c].type == EG_COL_STR) {
                texts[(size_t)r * (size_t)nc + (size_t)c] = strdup(text);
                char *s = texts[(size_t)r * (size_t)nc + (size_t)c];
                if (!s) rc = EG_H5_NOMEM;
                memcpy(cell, &s, sizeof s);
            } else if (cols[c].type == EG_COL_INT)
                memcpy(cell, &i, sizeof i);
            else if (cols[c].type == EG_COL_BOOL)
                cell[0] = i != 0;
            else
                memcpy(cell, &num, sizeof num);
        }
    }
    hid_t ft = rc >= 0 ? H5Tcopy(mt) : -1;
    if (rc >= 0 && (ft < 0 || H5Tpack(ft) < 0)) rc = -1;
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    if (rc >= 0) {
        snprintf(what, WHAT_CAP, "writing /summary");
        hid_t d = H5Dcreate2(f, "summary", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = d >= 0 && (n == 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) ? 0 : -1;
        if (d >= 0 && H5Dclose(d) < 0) rc = -1;
    }
    if (ft >= 0) H5Tclose(ft);
    H5Sclose(sp);
    if (texts)
        for (size_t k = 0; k < (size_t)n * (size_t)nc; k++)
            free(texts[k]);
    free(texts);
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(str);
    H5Tclose(bt);
    if (rc < 0) return rc;

    /* which columns are swept parameters and which are metrics */
    char **swept = calloc((size_t)nc + 1, sizeof(char *)), **mets = calloc((size_t)nc + 1, sizeof(char *));
    char **info = calloc((size_t)nc + 1, sizeof(char *)), **goals = calloc((size_t)nc + 1, sizeof(char *));
    int ns = 0, nm = 0, ni = 0;
    if (!swept || !mets || !info || !goals) rc = EG_H5_NOMEM;
    for (int c = 0; rc >= 0 && c < nc; c++) {
        if (cols[c].role == EG_ROLE_PARAM) swept[ns++] = cols[c].name;
        if (cols[c].role == EG_ROLE_METRIC) goals[nm] = (char *)metric_goal(runs, n, cols[c].key), mets[nm++] = cols[c].name;
        if (cols[c].role == EG_ROLE_INFO) info[ni++] = cols[c].name;
    }
    if (rc >= 0) {
        eg_rval fv = {.kind = EG_RV_STR, .s = EG_RESULTS_FORMAT_VERSION};
        eg_rval sv = {.kind = EG_RV_LIST, .item = EG_RV_STR, .n = ns, .sv = swept};
        eg_rval mv = {.kind = EG_RV_LIST, .item = EG_RV_STR, .n = nm, .sv = mets};
        eg_rval iv = {.kind = EG_RV_LIST, .item = EG_RV_STR, .n = ni, .sv = info};
        eg_rval gv = {.kind = EG_RV_LIST, .item = EG_RV_STR, .n = nm, .sv = goals};
        eg_rval nr = {.kind = EG_RV_INT, .i = n};
        const char *names[] = {"format_version", "swept", "metrics", "info", "goals", "n_runs"};
        const eg_rval *vals[] = {&fv, &sv, &mv, &iv, &gv, &nr};
        for (int k = 0; k < 6 && rc >= 0; k++) {
            snprintf(what, WHAT_CAP, "writing attribute '%s'", names[k]);
            rc = eg_h5_write_attr(f, names[k], vals[k]);
        }
        const eg_rval *expname = n ? run_attr(&runs[0], "experiment") : NULL;
        if (rc >= 0 && expname && expname->kind == EG_RV_STR) {
            snprintf(what, WHAT_CAP, "writing attribute 'experiment'");
            rc = eg_h5_write_attr(f, "experiment", expname);
        }
    }
    free(swept);
    free(mets);
    free(info);
    free(goals);

    /* /runs/<id> -> runs/<file>.h5, relative: HDF5 looks next to summary.h5 */
    if (rc >= 0) snprintf(what, WHAT_CAP, "linking /runs to the run files");
    hid_t g = rc >= 0 ? H5Gcreate2(f, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (g < 0) rc = -1;
    for (int r = 0; r < n && rc >= 0; r++) {
        char target[1024];
        snprintf(target, sizeof target, "runs/%s.h5", runs[r].stem);
        if (H5Lexists(g, runs[r].run_id, H5P_DEFAULT) > 0) continue; /* duplicate id: keep the first */
        rc = H5Lcreate_external(target, "/", g, runs[r].run_id, H5P_DEFAULT, H5P_DEFAULT);
    }
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    return rc;
}

/* /constants: a group whose attributes are the run attributes equal in every run (every
 * constant parameter, the versions, the build ids), typed as in a run file */
static herr_t write_constants(hid_t f, const run_info *first, const char *const *names, int n, char *what) {
    snprintf(what, WHAT_CAP, "creating /constants");
    hid_t g = H5Gcreate2(f, "constants", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = g >= 0 ? 0 : -1;
    for (int k = 0; k < n && rc >= 0; k++) {
        const eg_rval *v = run_attr(first, names[k]);
        snprintf(what, WHAT_CAP, "writing /constants attribute '%s'", names[k]);
        if (v) rc = eg_h5_write_attr(g, names[k], v);
    }
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    return rc;
}

/* summary.h5.tmp-<pid> of collects that died (their pid is gone) */
static void remove_dead_temps(const char *exp_dir) {
    DIR *d = opendir(exp_dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "summary.h5.tmp-", 15) != 0) continue;
        long pid = atol(e->d_name + 15);
        if (pid <= 0 || pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", exp_dir, e->d_name);
            unlink(path);
        }
    }
    if (d) closedir(d);
}

static eg_status collect_in_process(const char *exp_dir, char *err, size_t cap) {
    size_t dlen = strlen(exp_dir) + 64;
    char *runs_dir = malloc(dlen), *out = malloc(dlen), *tmp = malloc(dlen);
    run_info *runs = NULL;
    column *cols = NULL;
    char **pnames = NULL, **mnames = NULL;
    const char **consts = NULL;
    int n = 0, cap_runs = 0, np = 0, nmet = 0, nc = 0, n_consts = 0;
    eg_status st = EG_OK;
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    if (!runs_dir || !out || !tmp) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory", exp_dir);
        goto done;
    }
    snprintf(runs_dir, dlen, "%s/runs", exp_dir);
    snprintf(out, dlen, "%s/summary.h5", exp_dir);
    snprintf(tmp, dlen, "%s/summary.h5.tmp-%ld", exp_dir, (long)getpid());
    remove_dead_temps(exp_dir);
    DIR *dir = opendir(runs_dir);
    if (!dir) {
        st = errno == ENOENT ? EG_ERR_NOTFOUND : EG_ERR_IO;
        snprintf(err, cap, "cannot collect %s: cannot open %s: %s", exp_dir, runs_dir, strerror(errno));
        goto done;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t stem_len;
        eg_runfile_kind kind = eg_results_file_kind(e->d_name, &stem_len);
        if (kind == EG_RUNFILE_NONE) continue;
        char path[4096], stem[256];
        snprintf(path, sizeof path, "%s/%s", runs_dir, e->d_name);
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(e->d_name) - 3), e->d_name);
        if (kind == EG_RUNFILE_LIVE) { /* a running run's snapshot: only while its file is not there */
            char final[4096];
            struct stat fst;
            snprintf(final, sizeof final, "%s/%.*s.h5", runs_dir, (int)stem_len, e->d_name);
            if (stat(final, &fst) == 0) continue;
        }
        if (n == cap_runs) {
            cap_runs = cap_runs ? cap_runs * 2 : 64;
            run_info *qr = realloc(runs, (size_t)cap_runs * sizeof *runs);
            if (!qr) {
                st = EG_ERR_NOMEM;
                break;
            }
            runs = qr;
        }
        if (eg_guard_skipped(path)) continue; /* it crashed an earlier try */
        eg_guard_enter(path);
        int loaded = load_run(path, stem, &runs[n]);
        eg_guard_leave();
        if (loaded == -3) {
            run_free(&runs[n]);
            st = EG_ERR_NOMEM;
            break;
        }
        if (loaded < 0) {
            if (loaded == -1) fprintf(stderr, "engram: collect: skipping unreadable run file %s\n", path);
            run_free(&runs[n]);
            continue;
        }
        n++;
    }
    closedir(dir);
    if (st != EG_OK) {
        snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
        goto done;
    }
    if (n > 1) qsort(runs, (size_t)n, sizeof *runs, run_cmp);

    /* columns: run_id, status, seed, swept parameters, metrics */
    char **anames = union_names(runs, n, 0, &np);
    mnames = union_names(runs, n, 1, &nmet);
    pnames = anames;
    cols = calloc((size_t)(3 + np + nmet), sizeof *cols);
    if (!pnames || !mnames || !cols) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
        goto done;
    }
    cols[nc++] = (column){strdup("run_id"), "run_id", EG_COL_STR, EG_ROLE_ID};
    cols[nc++] = (column){strdup("status"), "status", EG_COL_STR, EG_ROLE_STATUS};
    cols[nc++] = (column){strdup("seed"), "seed", EG_COL_INT, EG_ROLE_SEED};
    consts = calloc((size_t)np + 1, sizeof *consts);
    if (!consts) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
        goto done;
    }
    /* each attribute typed once (0: a constant); then the swept parameters, then the info columns */
    int *types = calloc((size_t)np + 1, sizeof *types);
    if (!types) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
        goto done;
    }
    for (int k = 0; k < np; k++) {
        eg_col_type t;
        types[k] = param_type(runs, n, pnames[k], &t) ? (int)t : 0;
        if (!types[k] && n > 0) consts[n_consts++] = pnames[k];
    }
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < np; k++)
            if (types[k] && sweepable(pnames[k]) == (pass == 0))
                cols[nc++] = (column){strdup(pnames[k]), pnames[k], (eg_col_type)types[k],
                                      pass == 0 ? EG_ROLE_PARAM : EG_ROLE_INFO};
    free(types);
    for (int c = 0; c < nc; c++) /* before is_taken compares them */
        if (!cols[c].name) {
            st = EG_ERR_NOMEM;
            snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
            goto done;
        }
    for (int k = 0; k < nmet; k++) {
        char name[1024];
        snprintf(name, sizeof name, "%s%s", is_taken(cols, nc, mnames[k]) ? "metrics/" : "", mnames[k]);
        cols[nc++] = (column){strdup(name), mnames[k], EG_COL_NUM, EG_ROLE_METRIC};
    }
    for (int c = 0; c < nc; c++)
        if (!cols[c].name) {
            st = EG_ERR_NOMEM;
            snprintf(err, cap, "cannot collect %s: out of memory", exp_dir);
            goto done;
        }

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    eg_h5_error_reset(); /* a failure to write is explained by its own error, not a reading one */
    unlink(tmp); /* a dead process's, or a planted link: never written through */
    hid_t f = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    int saved = errno;
    char what[WHAT_CAP] = "creating the file";
    herr_t rc = f >= 0 ? write_summary(f, runs, n, cols, nc, what) : -1;
    if (rc >= 0) rc = write_constants(f, n ? &runs[0] : NULL, consts, n_consts, what);
    if (rc >= 0) {
        snprintf(what, sizeof what, "flushing the file");
        rc = H5Fflush(f, H5F_SCOPE_GLOBAL);
    }
    char reason[256] = "";
    if (rc < 0) {
        eg_h5_last_error(reason, sizeof reason);
        if (f < 0 && saved) snprintf(reason, sizeof reason, "%s", strerror(saved));
    }
    if (f >= 0 && H5Fclose(f) < 0 && rc >= 0) {
        snprintf(what, sizeof what, "closing the file");
        eg_h5_last_error(reason, sizeof reason);
        rc = -1;
    }
    if (rc == EG_H5_NOMEM) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "cannot write %s: %s: out of memory", out, what);
    } else if (rc < 0) {
        st = EG_ERR_IO;
        snprintf(err, cap, "cannot write %s: %s: %s", out, what, reason);
    } else if (eg_fsync_path(tmp) < 0 || rename(tmp, out) < 0) {
        st = EG_ERR_IO;
        snprintf(err, cap, "cannot write %s: %s", out, strerror(errno));
    } else
        eg_fsync_path(exp_dir);
    if (st != EG_OK) unlink(tmp);
done:
    eg_h5_quiet_end(&q);
    for (int k = 0; k < n; k++)
        run_free(&runs[k]);
    free(runs);
    if (cols)
        for (int c = 0; c < nc; c++)
            free(cols[c].name);
    free(cols);
    free(pnames);
    free(mnames);
    free(consts);
    free(runs_dir);
    free(out);
    free(tmp);
    return st;
}

typedef struct collect_job {
    const char *exp_dir;
} collect_job;

static eg_status collect_child(void *ctx, char *err, size_t cap) {
    return collect_in_process(((collect_job *)ctx)->exp_dir, err, cap);
}

/* The collect runs in a guarded child (results_guard.h): a run file that crashes
 * HDF5 is named in a warning and left out (resume computes its run again), and the
 * collect starts over without it. */
eg_status eg_results_collect(const char *exp_dir, char *err, size_t cap) {
    collect_job job = {exp_dir};
    for (;;) {
        eg_guard_outcome o;
        eg_status st = eg_guard_run(collect_child, &job, &o);
        if (!o.crashed) {
            if (st != EG_OK) snprintf(err, cap, "%s", o.message);
            return st;
        }
        char msg[4400];
        eg_guard_describe(&o, msg, sizeof msg);
        if (!o.culprit[0] || eg_guard_skipped(o.culprit)) {
            snprintf(err, cap, "cannot collect %s: %s", exp_dir, msg);
            return EG_ERR_FORMAT;
        }
        fprintf(stderr, "engram: warning: collect: %s; it is left out of the summary and `engram run` computes its run again\n",
                msg);
        eg_guard_skip(o.culprit);
    }
}

/* summary.h5 is missing or older than the newest change to runs/: collect again */
static int stale(const char *sum, const char *runs) {
    struct stat a, b;
    if (stat(sum, &a) != 0) return 1;
    if (stat(runs, &b) != 0) return 0;
    if (b.st_mtim.tv_sec != a.st_mtim.tv_sec) return b.st_mtim.tv_sec > a.st_mtim.tv_sec;
    return b.st_mtim.tv_nsec > a.st_mtim.tv_nsec;
}

static eg_status summary_child(void *ctx, char *err, size_t cap) {
    eg_sum_table t = {0};
    eg_guard_enter(ctx);
    eg_status st = eg_summary_read(ctx, &t, err, cap);
    eg_guard_leave();
    eg_summary_free(&t);
    return st;
}

/* summary.h5 reads as a summary (checked in a guarded child, so a malformed file is found
 * without crashing the reader) */
static int summary_sound(const char *sum) {
    eg_guard_outcome o;
    eg_status st = eg_guard_run(summary_child, (void *)sum, &o);
    char msg[4400];
    if (o.crashed)
        eg_guard_describe(&o, msg, sizeof msg);
    else
        snprintf(msg, sizeof msg, "%s", o.message);
    if (st != EG_OK) fprintf(stderr, "engram: warning: %s; collecting the run files again\n", msg);
    return st == EG_OK;
}

eg_status eg_results_refresh(const char *exp_dir, char *err, size_t cap) {
    char sum[4200], runs[4200];
    snprintf(sum, sizeof sum, "%s/summary.h5", exp_dir);
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    struct stat st0;
    if (!stale(sum, runs) && (stat(sum, &st0) != 0 || summary_sound(sum))) return EG_OK;
    eg_status st = eg_results_collect(exp_dir, err, cap);
    if (st != EG_OK && stat(sum, &st0) == 0 && summary_sound(sum)) st = EG_OK; /* read-only: its existing summary */
    return st;
}
