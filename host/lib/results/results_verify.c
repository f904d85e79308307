/* results_verify.c — `engram verify DIR`: every run file of an experiment, and its
 * summary.h5, checked against each other. Run files are first read whole in a guarded
 * child (results_guard.h); then, for each that reads cleanly: the identity (file name,
 * run_id attribute, /config digest), a status, finite metrics where the status is ok;
 * and the summary: fresh, one row per run file, the same status and metrics. One line
 * per problem; the count is returned. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strset.h"
#include "results_guard.h"
#include "results_impl.h"

typedef struct vrun {
    char *path, *id, status[32];
    int n_metrics;
    char **mnames;
    double *mvals;
} vrun;

typedef struct vctx {
    FILE *out;
    int problems;
} vctx;

static void problem(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(vctx *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(v->out, "problem: ");
    vfprintf(v->out, fmt, ap);
    fprintf(v->out, "\n");
    va_end(ap);
    v->problems++;
}

static herr_t metric_of(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    vrun *r = data;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return 0;
    double x;
    int ok = eg_h5_read_metric(d, &x);
    H5Dclose(d);
    if (!ok) return 0;
    char **nn = realloc(r->mnames, (size_t)(r->n_metrics + 1) * sizeof *nn);
    if (!nn) return -1;
    r->mnames = nn;
    double *nv = realloc(r->mvals, (size_t)(r->n_metrics + 1) * sizeof *nv);
    if (!nv) return -1;
    r->mvals = nv;
    if (!(r->mnames[r->n_metrics] = strdup(name))) return -1;
    r->mvals[r->n_metrics++] = x;
    return 0;
}

static void vrun_free(vrun *r) {
    for (int k = 0; k < r->n_metrics; k++)
        free(r->mnames[k]);
    free(r->mnames);
    free(r->mvals);
    free(r->path);
    free(r->id);
}

/* the checks of one file that read cleanly in the guarded child; 0 when it is sound */
static int check_file(vctx *v, vrun *r) {
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    hid_t f = H5Fopen(r->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int bad = 0;
    char why[1200];
    if (f < 0) {
        problem(v, "%s: not an HDF5 file", r->path);
        bad = 1;
    } else if (eg_results_identity(f, r->path, why, sizeof why) != 0) {
        problem(v, "%s", why);
        bad = 1;
    } else if (eg_h5_read_attr_str(f, "status", r->status, sizeof r->status) < 0 || !r->status[0]) {
        problem(v, "%s: no status attribute (not an engram run file?)", r->path);
        bad = 1;
    } else {
        if (H5Lexists(f, "metrics", H5P_DEFAULT) > 0) {
            hid_t g = H5Gopen2(f, "metrics", H5P_DEFAULT);
            if (g >= 0) H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, metric_of, r);
            if (g >= 0) H5Gclose(g);
        }
        if (strcmp(r->status, "ok") == 0)
            for (int k = 0; k < r->n_metrics; k++)
                if (!isfinite(r->mvals[k]))
                    problem(v, "%s: status ok, but metric %s is %g", r->path, r->mnames[k], r->mvals[k]);
    }
    if (f >= 0) H5Fclose(f);
    eg_h5_quiet_end(&q);
    return bad;
}

static int same_number(double a, double b) {
    return (isnan(a) && isnan(b)) || a == b;
}

static void check_summary(vctx *v, const char *exp_dir, vrun *runs, const int *sound, int n) {
    char sum[4200], runs_dir[4200];
    snprintf(sum, sizeof sum, "%s/summary.h5", exp_dir);
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", exp_dir);
    struct stat a, b;
    if (stat(sum, &a) != 0) {
        problem(v, "%s: missing (`engram collect %s` writes it)", sum, exp_dir);
        return;
    }
    if (stat(runs_dir, &b) == 0 && (b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
                                    (b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec > a.st_mtim.tv_nsec)))
        problem(v, "%s: older than the latest change to runs/ (`engram collect %s` brings it up to date)", sum,
                exp_dir);
    const char *one = sum;
    eg_status st;
    if (eg_results_vet_many(&one, 1, &st) != EG_OK || st != EG_OK) {
        problem(v, "%s: not a readable summary", sum);
        return;
    }
    eg_sum_table t = {0};
    char err[1024];
    if (eg_summary_read(sum, &t, err, sizeof err) != EG_OK) {
        problem(v, "%s", err);
        eg_summary_free(&t);
        return;
    }
    const eg_sum_col *id = eg_summary_col(&t, "run_id"), *status = eg_summary_col(&t, "status");
    eg_id_set rows = {0};
    for (int r = 0; id && r < t.n_rows; r++) {
        const char *rid = id->s[r] ? id->s[r] : "";
        if (eg_id_set_add(&rows, rid) == 0) problem(v, "%s: run %s has more than one row", sum, rid);
        int k = 0;
        while (k < n && !(sound[k] && strcmp(runs[k].id, rid) == 0))
            k++;
        if (k == n) {
            problem(v, "%s: row %d is run %s, which has no sound run file in runs/", sum, r, rid);
            continue;
        }
        if (status && status->s[r] && strcmp(status->s[r], runs[k].status) != 0)
            problem(v, "%s: run %s has status %s in the summary but %s in %s", sum, rid, status->s[r],
                    runs[k].status, runs[k].path);
        for (int m = 0; m < runs[k].n_metrics; m++) {
            const eg_sum_col *c = eg_summary_col(&t, runs[k].mnames[m]);
            if (!c || c->role != EG_ROLE_METRIC) {
                char name[1100];
                snprintf(name, sizeof name, "metrics/%s", runs[k].mnames[m]);
                c = eg_summary_col(&t, name);
            }
            if (!c || c->type != EG_COL_NUM)
                problem(v, "%s: no column for metric %s of run %s", sum, runs[k].mnames[m], rid);
            else if (!same_number(c->f[r], runs[k].mvals[m]))
                problem(v, "%s: run %s has %s = %.17g in the summary but %.17g in its file", sum, rid,
                        runs[k].mnames[m], c->f[r], runs[k].mvals[m]);
        }
    }
    for (int k = 0; k < n; k++)
        if (sound[k] && !eg_id_set_has(&rows, runs[k].id))
            problem(v, "%s: run %s (%s) has no row", sum, runs[k].id, runs[k].path);
    eg_id_set_free(&rows);
    eg_summary_free(&t);
}

/* moves an unsound run file to DIR/quarantine/, so that `engram run` computes its run again */
static void quarantine(vctx *v, const char *exp_dir, const char *path) {
    char dir[4200], to[4400], err[512];
    snprintf(dir, sizeof dir, "%s/quarantine", exp_dir);
    const char *base = strrchr(path, '/');
    snprintf(to, sizeof to, "%s/%s", dir, base ? base + 1 : path);
    if (eg_mkdirs(dir, err, sizeof err) != 0 || rename(path, to) != 0)
        fprintf(v->out, "cannot move %s to %s: %s\n", path, dir, strerror(errno));
    else
        fprintf(v->out, "moved %s to %s\n", path, to);
}

eg_status eg_results_verify(const char *exp_dir, int move_unsound, FILE *out, int *n_files, int *n_problems,
                            char *err, size_t cap) {
    vctx v = {out, 0};
    *n_files = *n_problems = 0;
    char runs_dir[4200];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", exp_dir);
    DIR *d = opendir(runs_dir);
    if (!d) {
        snprintf(err, cap, "%s: not an experiment directory (cannot open %s)", exp_dir, runs_dir);
        return EG_ERR_NOTFOUND;
    }
    vrun *runs = NULL;
    int n = 0, cap_runs = 0;
    eg_status rc = EG_OK;
    for (struct dirent *e; (e = readdir(d));) {
        size_t stem;
        if (eg_results_file_kind(e->d_name, &stem) != EG_RUNFILE_FINAL) continue;
        if (n == cap_runs) {
            cap_runs = cap_runs ? 2 * cap_runs : 64;
            vrun *g = realloc(runs, (size_t)cap_runs * sizeof *g);
            if (!g) {
                rc = EG_ERR_NOMEM;
                break;
            }
            runs = g;
        }
        memset(&runs[n], 0, sizeof runs[n]);
        if (asprintf(&runs[n].path, "%s/%s", runs_dir, e->d_name) < 0 || !(runs[n].id = strndup(e->d_name, stem))) {
            rc = EG_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    char **paths = rc == EG_OK ? calloc((size_t)n + 1, sizeof *paths) : NULL;
    eg_status *vet = rc == EG_OK ? calloc((size_t)n + 1, sizeof *vet) : NULL;
    int *sound = rc == EG_OK ? calloc((size_t)n + 1, sizeof *sound) : NULL;
    if (rc == EG_OK && (!paths || !vet || !sound)) rc = EG_ERR_NOMEM;
    for (int k = 0; rc == EG_OK && k < n; k++)
        paths[k] = runs[k].path;
    if (rc == EG_OK && eg_results_vet_many((const char *const *)paths, n, vet) != EG_OK) rc = EG_ERR_IO;
    for (int k = 0; rc == EG_OK && k < n; k++) {
        if (vet[k] != EG_OK)
            problem(&v, "%s: unreadable (HDF5 cannot read all of it)", runs[k].path);
        else
            sound[k] = !check_file(&v, &runs[k]);
        if (!sound[k] && move_unsound) quarantine(&v, exp_dir, runs[k].path);
    }
    if (rc == EG_OK) check_summary(&v, exp_dir, runs, sound, n);
    if (rc != EG_OK) snprintf(err, cap, "cannot verify %s: %s", exp_dir, rc == EG_ERR_NOMEM ? "out of memory" : "no child process");
    *n_files = n;
    *n_problems = v.problems;
    for (int k = 0; k < n; k++)
        vrun_free(&runs[k]);
    free(runs);
    free(paths);
    free(vet);
    free(sound);
    return rc;
}
