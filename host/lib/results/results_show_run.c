/* results_show_run.c — `engram show DIR RUN_ID`: one run file in full, for a person: its
 * status and provenance, final metrics, series, artifacts and weights, the resolved config
 * and the end of its log. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results_guard.h"
#include "results_impl.h"

#define LOG_TAIL_LINES 20

/* runs/<run>.h5, or the one run file whose id starts with run (a live snapshot when that is all
 * there is); EG_ERR_NOTFOUND, or EG_ERR_INVALID for a prefix of several */
static eg_status find_run(const char *exp_dir, const char *run, char *path, size_t cap, char *err, size_t ecap) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/runs", exp_dir);
    struct stat st;
    snprintf(path, cap, "%s/%s.h5", dir, run);
    if (!strchr(run, '/') && stat(path, &st) == 0) return EG_OK;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, ecap, "%s: no runs/ directory", exp_dir);
        return EG_ERR_NOTFOUND;
    }
    int found = 0, live = 0;
    char first[256] = "", second[256] = "";
    size_t n = strlen(run);
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        size_t stem_len;
        eg_runfile_kind kind = eg_results_file_kind(name, &stem_len);
        if (kind == EG_RUNFILE_NONE || strncmp(name, run, n) != 0) continue;
        int is_live = kind == EG_RUNFILE_LIVE;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)stem_len, name);
        if (found && !strcmp(stem, first)) { /* the same run: prefer its finished file */
            if (!is_live) live = 0;
            continue;
        }
        if (found++ == 0) snprintf(first, sizeof first, "%s", stem), live = is_live;
        else if (found == 2) snprintf(second, sizeof second, "%s", stem);
    }
    closedir(d);
    if (found == 0) {
        snprintf(err, ecap, "%s: no run '%s' (engram show %s lists the groups; its --json the run ids)", exp_dir, run,
                 exp_dir);
        return EG_ERR_NOTFOUND;
    }
    if (found > 1) {
        snprintf(err, ecap, "%s: '%s' is the start of %d run ids (%s, %s%s); give more of it", exp_dir, run, found,
                 first, second, found > 2 ? ", ..." : "");
        return EG_ERR_INVALID;
    }
    snprintf(path, cap, "%s/%s%s", dir, first, live ? ".live.h5" : ".h5");
    return EG_OK;
}

static void attr_line(FILE *out, hid_t f, const char *label, const char *name) {
    char buf[4096];
    if (H5Aexists(f, name) > 0 && eg_h5_read_attr_str(f, name, buf, sizeof buf) >= 0 && buf[0])
        fprintf(out, "%-10s %s\n", label, buf);
}

static void shape_text(hid_t d, char *buf, size_t cap) {
    hid_t sp = H5Dget_space(d);
    hsize_t dims[8];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    size_t len = 0;
    buf[0] = 0;
    if (nd > 0 && nd <= 8 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0)
        for (int k = 0; k < nd; k++)
            len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%llu", k ? "x" : "", (unsigned long long)dims[k]);
    if (sp >= 0) H5Sclose(sp);
}

typedef struct visit {
    FILE *out;
    int section; /* 0 metrics, 1 series, 2 artifacts, 3 weights */
    int count;
} visit;

static herr_t visit_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    visit *v = data;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return 0;
    char shape[128], kind[64] = "";
    shape_text(d, shape, sizeof shape);
    v->count++;
    if (v->section == 0) {
        double x;
        char goal[8] = "";
        eg_h5_read_metric(d, &x); /* anything but one number in /metrics shows as NaN */
        if (H5Aexists(d, "goal") > 0) eg_h5_read_attr_str(d, "goal", goal, sizeof goal);
        fprintf(v->out, "  %-32s %.10g%s%s%s\n", name, x, goal[0] ? "  (" : "", goal, goal[0] ? ")" : "");
    } else if (v->section == 1) {
        hid_t sp = H5Dget_space(d);
        hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
        eg_series_row last = {0};
        if (n > 0) { /* the last point: step, value */
            hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof last);
            H5Tinsert(mt, "step", HOFFSET(eg_series_row, step), H5T_NATIVE_INT64);
            H5Tinsert(mt, "value", HOFFSET(eg_series_row, value), H5T_NATIVE_DOUBLE);
            H5Tinsert(mt, "wall_s", HOFFSET(eg_series_row, wall_s), H5T_NATIVE_DOUBLE);
            hsize_t one = 1, at = (hsize_t)n - 1;
            hid_t ms = H5Screate_simple(1, &one, NULL);
            H5Sselect_hyperslab(sp, H5S_SELECT_SET, &at, NULL, &one, NULL);
            H5Dread(d, mt, ms, sp, H5P_DEFAULT, &last);
            H5Sclose(ms);
            H5Tclose(mt);
        }
        if (sp >= 0) H5Sclose(sp);
        fprintf(v->out, "  %-32s %lld points, last: step %lld = %.6g at %.3g s\n", name, (long long)n,
                (long long)last.step, last.value, last.wall_s);
    } else {
        if (v->section == 2 && H5Aexists(d, "kind") > 0) eg_h5_read_attr_str(d, "kind", kind, sizeof kind);
        fprintf(v->out, "  %-32s %s%s%s\n", name, shape, kind[0] ? "  " : "", kind);
    }
    H5Dclose(d);
    return 0;
}

static void section(FILE *out, hid_t f, const char *group, const char *title, int kind) {
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return;
    fprintf(out, "%s:\n", title);
    visit v = {out, kind, 0};
    H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v);
    if (!v.count) fprintf(out, "  (none)\n");
    H5Gclose(g);
}

static void log_tail(FILE *out, const char *log) {
    const char *start = log + strlen(log);
    int lines = 0;
    if (start > log && start[-1] == '\n') start--;
    while (start > log && lines < LOG_TAIL_LINES)
        if (*--start == '\n') lines++;
    if (*start == '\n') start++;
    fprintf(out, "log%s:\n", start > log ? " (last lines)" : "");
    for (const char *p = start; *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "  %.*s\n", len, p);
        p += len + (nl != NULL);
    }
}

static eg_status show_file(const char *path, const char *run, FILE *out, char *err, size_t cap) {
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        eg_h5_quiet_end(&q);
        snprintf(err, cap, "%s: not a readable run file", path);
        return EG_ERR_FORMAT;
    }
    char id[64] = "", status[32] = "", model[256] = "", version[64] = "", build[64] = "";
    eg_h5_read_attr_str(f, "run_id", id, sizeof id);
    eg_h5_read_attr_str(f, "status", status, sizeof status);
    eg_h5_read_attr_str(f, "model", model, sizeof model);
    eg_h5_read_attr_str(f, "model_version", version, sizeof version);
    eg_h5_read_attr_str(f, "model_build_id", build, sizeof build);
    fprintf(out, "run %s  (%s)\n", id[0] ? id : run, path);
    fprintf(out, "%-10s %s\n", "status", status[0] ? status : "ok");
    attr_line(out, f, "error", "error");
    attr_line(out, f, "pruned", "pruned"); /* sweep.adaptive: where and why */
    if (model[0]) fprintf(out, "%-10s %s %s%s%s%s\n", "model", model, version, build[0] ? " (build " : "", build, build[0] ? ")" : "");
    attr_line(out, f, "backend", "backend");
    attr_line(out, f, "device", "device");
    eg_rval seed = {0}, wall = {0};
    if (H5Aexists(f, "seed") > 0 && eg_h5_read_attr(f, "seed", &seed) >= 0) fprintf(out, "%-10s %lld\n", "seed", (long long)seed.i);
    attr_line(out, f, "started", "start_time");
    if (H5Aexists(f, "wall_s") > 0 && eg_h5_read_attr(f, "wall_s", &wall) >= 0) fprintf(out, "%-10s %.3f s\n", "wall", wall.f);
    eg_rval_free(&seed);
    eg_rval_free(&wall);
    attr_line(out, f, "init_from", "init_from");
    attr_line(out, f, "spec", "spec");
    attr_line(out, f, "command", "command_line");
    eg_rval ov = {0};
    if (H5Aexists(f, "overrides") > 0 && eg_h5_read_attr(f, "overrides", &ov) >= 0 && ov.n > 0 && ov.s)
        fprintf(out, "%-10s %s\n", "overrides", ov.s);
    eg_rval_free(&ov);
    attr_line(out, f, "engram", "engram_version");
    section(out, f, "metrics", "metrics", 0);
    section(out, f, "series", "series", 1);
    section(out, f, "artifacts", "artifacts", 2);
    section(out, f, "weights", "weights", 3);
    int oom_config = 0, oom_log = 0;
    char *config = H5Lexists(f, "config", H5P_DEFAULT) > 0 ? eg_h5_read_text(f, "config", &oom_config) : NULL;
    if (config) {
        fprintf(out, "config (resolved):\n");
        for (char *p = config, *nl; *p; p = nl + 1) {
            nl = strchr(p, '\n');
            if (!nl) nl = p + strlen(p) - 1;
            fprintf(out, "  %.*s\n", (int)(nl - p + (*nl != '\n')), p);
        }
        free(config);
    }
    char *log = H5Lexists(f, "log", H5P_DEFAULT) > 0 ? eg_h5_read_text(f, "log", &oom_log) : NULL;
    if (log && *log) log_tail(out, log);
    free(log);
    H5Fclose(f);
    eg_h5_quiet_end(&q);
    if (oom_config || oom_log) {
        snprintf(err, cap, "%s: out of memory reading its /%s", path, oom_config ? "config" : "log");
        return EG_ERR_NOMEM;
    }
    return EG_OK;
}

typedef struct show_job {
    const char *path, *run;
} show_job;

/* the same reads, printed nowhere, in a guarded child */
static eg_status show_child(void *ctx, char *err, size_t cap) {
    show_job *j = ctx;
    FILE *sink = fopen("/dev/null", "w");
    if (!sink) return EG_ERR_IO;
    eg_guard_enter(j->path);
    eg_status st = show_file(j->path, j->run, sink, err, cap);
    eg_guard_leave();
    fclose(sink);
    return st;
}

eg_status eg_results_show_run(const char *exp_dir, const char *run, FILE *out, char *err, size_t cap) {
    char path[4400];
    eg_status st = find_run(exp_dir, run, path, sizeof path, err, cap);
    if (st != EG_OK) return st;
    show_job job = {path, run};
    eg_guard_outcome o;
    st = eg_guard_run(show_child, &job, &o);
    if (o.crashed) {
        eg_guard_describe(&o, err, cap);
        return EG_ERR_FORMAT;
    }
    if (st != EG_OK) {
        snprintf(err, cap, "%s", o.message);
        return st;
    }
    const char *one = path;
    eg_status whole = EG_OK;
    if (eg_results_vet_many(&one, 1, &whole) == EG_OK && whole != EG_OK)
        fprintf(stderr, "engram: warning: %s is damaged: HDF5 cannot read all of it (`engram verify %s` lists the "
                        "problems)\n", path, exp_dir);
    return show_file(path, run, out, err, cap);
}
