/* report.c — `engram report`: a static HTML page per experiment (report/README in
 * docs/report.md): header, the summary table of `engram show` (sortable, best values
 * marked by the metrics' declared goals), every metric against every swept numeric
 * parameter, every series against its step, every artifact picture, and the runs that
 * did not finish. SVG plots inline, PNG pictures beside the page; no network. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strset.h"
#include "engram/host.h"
#include "registry/loader.h"
#include "registry/metric_lookup.h"
#include "report_png.h"
#include "report_runs.h"
#include "report_svg.h"
#include "results/results_impl.h"

#define MAX_PICTURE_GROUPS 12
#define MAX_LINES 12 /* lines per plot; more settings are thinned evenly, and the caption says so */
#define MAX_WARNINGS 8 /* warnings listed at the top of the page; more are counted */

typedef struct page {
    const char *dir;       /* the experiment directory */
    const char *out;       /* where index.html goes */
    eg_sum_table t;
    eg_sum_group *groups;
    int ng;
    rp_run *runs; /* per summary row */
    const eg_model_desc *desc;
    eg_model_plugin *model;
    FILE *f;
    int oom; /* an allocation failed while writing: the page would lack data, so the report fails */
    char warn[MAX_WARNINGS][640]; /* what the page could not show, said at its top */
    int n_warn;
} page;

static void add_warning(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(page *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (p->n_warn < MAX_WARNINGS) vsnprintf(p->warn[p->n_warn], sizeof p->warn[0], fmt, ap);
    va_end(ap);
    p->n_warn++;
}

static void html(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static const eg_sum_col *col_named(const eg_sum_table *t, const char *name) {
    for (int c = 0; c < t->n_cols; c++)
        if (!strcmp(t->cols[c].name, name)) return &t->cols[c];
    return NULL;
}

/* the declared goal of a metric (EG_GOAL_NONE when the model is not at hand) */
static eg_goal goal_of(const page *p, const char *metric) {
    const eg_metric_spec *m = eg_metric_lookup(p->desc, metric);
    return m ? m->goal : EG_GOAL_NONE;
}

static const char *unit_of_metric(const page *p, const char *metric) {
    const eg_metric_spec *m = eg_metric_lookup(p->desc, metric);
    return m && m->unit ? m->unit : "";
}

static const char *unit_of_param(const page *p, const char *key) {
    if (!p->desc || strncmp(key, "params.", 7) != 0) return "";
    for (int i = 0; i < p->desc->n_params; i++)
        if (!strcmp(p->desc->params[i].key, key + 7)) return p->desc->params[i].unit ? p->desc->params[i].unit : "";
    return "";
}

/* "params.variant=mchn, task.corrupt.sigma=0.2" of a group, leaving out one column */
static void setting(const page *p, const eg_sum_group *g, const eg_sum_col *skip, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int c = 0; c < p->t.n_cols && len < cap; c++) {
        const eg_sum_col *col = &p->t.cols[c];
        if (col->role != EG_ROLE_PARAM || col == skip) continue;
        char v[128];
        eg_summary_cell(col, g->first_row, v, sizeof v);
        const char *name = !strncmp(col->name, "params.", 7) ? col->name + 7 : col->name;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", len ? ", " : "", name, v);
    }
    if (!buf[0]) snprintf(buf, cap, "all runs");
}

static void meta_row(FILE *f, const char *label, const char *value) {
    fprintf(f, "<tr><th>%s</th><td>", label);
    html(f, value && *value ? value : "not recorded");
    fprintf(f, "</td></tr>\n");
}

static void header(page *p) {
    FILE *f = p->f;
    const rp_run *r0 = p->t.n_rows ? &p->runs[0] : NULL;
    const eg_sum_col *exp = col_named(&p->t, "experiment");
    int counts[6] = {0}; /* ok failed diverged timeout running pruned */
    double wall = 0;
    for (int i = 0; i < p->t.n_rows; i++) {
        const char *s = p->runs[i].status;
        counts[!strcmp(s, "ok") ? 0 : !strcmp(s, "diverged") ? 2 : !strcmp(s, "timeout") ? 3 : !strcmp(s, "running") ? 4
               : !strcmp(s, "pruned") ? 5 : 1]++;
        if (isfinite(p->runs[i].wall_s)) wall += p->runs[i].wall_s;
    }
    const char *name = strrchr(p->dir, '/') ? strrchr(p->dir, '/') + 1 : p->dir;
    (void)exp;
    fprintf(f, "<header><h1>");
    html(f, name);
    fprintf(f, "</h1>\n<table class=\"meta\">\n");
#define META(label, value) meta_row(f, label, value)
    META("directory", p->dir);
    if (r0) {
        META("spec", r0->attr[7]);
        META("command line", r0->attr[8]);
        char model[512];
        snprintf(model, sizeof model, "%s %s (build id %s)", r0->attr[2] ? r0->attr[2] : "?",
                 r0->attr[3] ? r0->attr[3] : "", r0->attr[4] ? r0->attr[4] : "not recorded");
        META("model", model);
        char eng[256];
        snprintf(eng, sizeof eng, "%s (git %s)", r0->attr[0] ? r0->attr[0] : "?", r0->attr[1] ? r0->attr[1] : "?");
        META("engram", eng);
        char dev[512];
        const char *b = r0->attr[5] ? r0->attr[5] : "?", *d = r0->attr[6] ? r0->attr[6] : "";
        if (!strncmp(d, b, strlen(b)) && d[strlen(b)] == ':') /* the device names its backend already */
            snprintf(dev, sizeof dev, "%s", d);
        else
            snprintf(dev, sizeof dev, "%s%s%s", b, *d ? ": " : "", d);
        META("backend", dev);
    }
#undef META
    fprintf(f, "<tr><th>runs</th><td>%d: <span class=\"ok\">%d ok</span>, %d failed, %d diverged, %d timeout",
            p->t.n_rows, counts[0], counts[1], counts[2], counts[3]);
    if (counts[5]) fprintf(f, ", %d pruned (adaptive search)", counts[5]);
    if (counts[4]) fprintf(f, ", ");
    if (counts[4]) fprintf(f, "<b>%d running</b> (curves so far, dashed)", counts[4]);
    fprintf(f, "</td></tr>\n");
    fprintf(f, "<tr><th>wall time</th><td>%.1f s in all runs</td></tr>\n</table></header>\n", wall);
}

static void warnings(page *p) {
    for (int i = 0; i < p->n_warn && i < MAX_WARNINGS; i++) {
        fprintf(p->f, "<p class=\"warn\">warning: ");
        html(p->f, p->warn[i]);
        fprintf(p->f, "</p>\n");
    }
    if (p->n_warn > MAX_WARNINGS) fprintf(p->f, "<p class=\"warn\">and %d more warnings</p>\n", p->n_warn - MAX_WARNINGS);
}

static void fmt_num(double x, char *buf, size_t cap) {
    if (!isfinite(x)) snprintf(buf, cap, "-");
    else if (fabs(x) >= 1e3 && fabs(x) < 1e6) snprintf(buf, cap, "%.1f", x);
    else snprintf(buf, cap, "%.4g", x);
}

static void summary_table(page *p) {
    FILE *f = p->f;
    fprintf(f, "<section id=\"summary\"><h2>Summary</h2>\n<p class=\"note\">mean ± sd over seeds (sd with n−1); "
               "n = runs ok/total; <b>bold</b> = best by the metric's goal; click a column to sort.</p>\n"
               "<table class=\"summary sortable\"><thead><tr>");
    for (int c = 0; c < p->t.n_cols; c++)
        if (p->t.cols[c].role == EG_ROLE_PARAM) {
            fprintf(f, "<th>");
            html(f, !strncmp(p->t.cols[c].name, "params.", 7) ? p->t.cols[c].name + 7 : p->t.cols[c].name);
            fprintf(f, "</th>");
        }
    fprintf(f, "<th>n</th>");
    for (int c = 0; c < p->t.n_cols; c++)
        if (p->t.cols[c].role == EG_ROLE_METRIC) {
            eg_goal g = goal_of(p, p->t.cols[c].name);
            fprintf(f, "<th title=\"goal: %s\">", g == EG_GOAL_MAX ? "max" : g == EG_GOAL_MIN ? "min" : "none");
            html(f, p->t.cols[c].name);
            fprintf(f, "%s</th>", g == EG_GOAL_MAX ? " ↑" : g == EG_GOAL_MIN ? " ↓" : "");
        }
    fprintf(f, "</tr></thead>\n<tbody>\n");
    /* the best group mean per metric */
    double *best = malloc(sizeof *best * (size_t)(p->t.n_cols ? p->t.n_cols : 1));
    if (!best) p->oom = 1;
    for (int c = 0; best && c < p->t.n_cols; c++) {
        best[c] = NAN;
        eg_goal goal = p->t.cols[c].role == EG_ROLE_METRIC ? goal_of(p, p->t.cols[c].name) : EG_GOAL_NONE;
        for (int g = 0; goal != EG_GOAL_NONE && g < p->ng; g++) {
            double m, sd;
            if (eg_sum_stat(&p->t, &p->t.cols[c], &p->groups[g], &m, &sd) == 0) continue;
            if (isnan(best[c]) || (goal == EG_GOAL_MAX ? m > best[c] : m < best[c])) best[c] = m;
        }
    }
    for (int g = 0; g < p->ng; g++) {
        const eg_sum_group *gr = &p->groups[g];
        fprintf(f, "<tr>");
        for (int c = 0; c < p->t.n_cols; c++)
            if (p->t.cols[c].role == EG_ROLE_PARAM) {
                char v[128];
                eg_summary_cell(&p->t.cols[c], gr->first_row, v, sizeof v);
                fprintf(f, "<td data-v=\"");
                html(f, v);
                fprintf(f, "\">");
                html(f, v);
                fprintf(f, "</td>");
            }
        fprintf(f, "<td data-v=\"%d\">%d/%d</td>", gr->ok, gr->ok, gr->total);
        for (int c = 0; c < p->t.n_cols; c++) {
            if (p->t.cols[c].role != EG_ROLE_METRIC) continue;
            double m, sd;
            int n = eg_sum_stat(&p->t, &p->t.cols[c], gr, &m, &sd);
            char a[32], b[32];
            fmt_num(m, a, sizeof a);
            if (n > 1) snprintf(b, sizeof b, "%.2g", sd);
            else snprintf(b, sizeof b, "-");
            int is_best = best && n > 0 && m == best[c];
            fprintf(f, "<td data-v=\"%.17g\"%s>%s%s ± %s%s</td>", n ? m : -INFINITY, is_best ? " class=\"best\"" : "",
                    is_best ? "<b>" : "", a, b, is_best ? "</b>" : "");
        }
        fprintf(f, "</tr>\n");
    }
    free(best);
    fprintf(f, "</tbody></table></section>\n");
}

/* metric against a swept numeric parameter: one line per setting of the others */
static int param_plots(page *p) {
    FILE *f = p->f;
    int plots = 0;
    fprintf(f, "<section id=\"metrics\"><h2>Metrics against the swept parameters</h2>\n<div class=\"plots\">\n");
    for (int xc = 0; xc < p->t.n_cols; xc++) {
        const eg_sum_col *xcol = &p->t.cols[xc];
        if (xcol->role != EG_ROLE_PARAM || xcol->type == EG_COL_STR || xcol->type == EG_COL_BOOL) continue;
        /* lines: groups with equal other parameters */
        int *line_of = malloc(sizeof(int) * (size_t)p->ng), n_lines = 0;
        char (*labels)[256] = malloc(sizeof *labels * (size_t)p->ng);
        if (!line_of || !labels) {
            free(line_of), free(labels);
            p->oom = 1;
            break;
        }
        for (int g = 0; g < p->ng; g++) {
            char lab[256];
            setting(p, &p->groups[g], xcol, lab, sizeof lab);
            int l = 0;
            while (l < n_lines && strcmp(labels[l], lab)) l++;
            if (l == n_lines) snprintf(labels[n_lines++], 256, "%s", lab);
            line_of[g] = l;
        }
        /* a parameter that never varies within a line (it moves with another one, as
           beta with the variant of a cases sweep) draws only dots: no plot */
        int varies = 0;
        for (int g = 0; g < p->ng && !varies; g++)
            for (int h = g + 1; h < p->ng && !varies; h++)
                varies = line_of[g] == line_of[h] &&
                         xcol->f[p->groups[g].first_row] != xcol->f[p->groups[h].first_row];
        /* metrics with a goal first (maximised, then minimised), the rest after */
        for (int pass = 0; pass < 3 && varies; pass++)
        for (int mc = 0; mc < p->t.n_cols; mc++) {
            const eg_sum_col *m = &p->t.cols[mc];
            if (m->role != EG_ROLE_METRIC) continue;
            eg_goal goal = goal_of(p, m->name);
            if ((pass == 0) != (goal == EG_GOAL_MAX) || (pass == 1) != (goal == EG_GOAL_MIN)) continue;
            rp_line *lines = calloc((size_t)n_lines, sizeof *lines);
            double *buf = malloc(sizeof(double) * 3 * (size_t)p->ng);
            if (!lines || !buf) {
                free(lines), free(buf);
                p->oom = 1;
                break;
            }
            for (int l = 0; l < n_lines; l++) {
                double *x = buf, *y = x + p->ng, *e = y + p->ng; /* scratch, copied per line */
                int k = 0;
                for (int g = 0; g < p->ng; g++) {
                    if (line_of[g] != l) continue;
                    double mean, sd;
                    eg_sum_stat(&p->t, m, &p->groups[g], &mean, &sd);
                    /* insertion by x */
                    double xv = xcol->f[p->groups[g].first_row];
                    int at = k;
                    while (at > 0 && x[at - 1] > xv) {
                        x[at] = x[at - 1], y[at] = y[at - 1], e[at] = e[at - 1];
                        at--;
                    }
                    x[at] = xv, y[at] = mean, e[at] = sd;
                    k++;
                }
                double *copy = malloc(sizeof(double) * 3 * (size_t)(k ? k : 1));
                if (!copy) {
                    p->oom = 1;
                    k = 0;
                    continue;
                }
                memcpy(copy, x, sizeof(double) * (size_t)k);
                memcpy(copy + k, y, sizeof(double) * (size_t)k);
                memcpy(copy + 2 * k, e, sizeof(double) * (size_t)k);
                lines[l] = (rp_line){labels[l], k, copy, copy + k, copy + 2 * k, 0, 0};
            }
            char title[512], xl[300];
            const char *xname = !strncmp(xcol->name, "params.", 7) ? xcol->name + 7 : xcol->name;
            const char *unit = unit_of_param(p, xcol->name);
            snprintf(title, sizeof title, "%s vs %s", m->name, xname);
            snprintf(xl, sizeof xl, "%s%s%s%s", xname, *unit ? " (" : "", unit, *unit ? ")" : "");
            char yl[300];
            const char *munit = unit_of_metric(p, m->name);
            snprintf(yl, sizeof yl, "%s%s%s%s", m->name, *munit ? " (" : "", munit, *munit ? ")" : "");
            int lstride = (n_lines + MAX_LINES - 1) / MAX_LINES, shown = 0;
            rp_line *vis = malloc(sizeof *vis * (size_t)n_lines);
            if (!vis) p->oom = 1;
            for (int l = 0; vis && l < n_lines; l += lstride)
                vis[shown++] = lines[l];
            rp_plot plot = {title, xl, yl, 0, vis ? vis : lines, vis ? shown : n_lines};
            plot.xlog = rp_wants_log(&plot);
            fprintf(f, "<figure class=\"plot\" data-kind=\"param\">");
            rp_plot_svg(f, &plot, 460, 300);
            if (lstride > 1) fprintf(f, "<figcaption>%d of %d lines shown</figcaption>", shown, n_lines);
            fprintf(f, "</figure>\n");
            plots++;
            for (int l = 0; l < n_lines; l++)
                free((void *)lines[l].x);
            free(vis);
            free(lines);
            free(buf);
        }
        free(line_of);
        free(labels);
    }
    if (!plots) fprintf(f, "<p>No numeric parameter is swept.</p>\n");
    fprintf(f, "</div></section>\n");
    return plots;
}

/* every series against its step: per setting the mean over its ok runs (at the steps
 * every one of them logged) with a ±sd band; runs that did not finish ok, dashed */
static int series_plots(page *p) {
    FILE *f = p->f;
    char **names = NULL;
    int n_names = 0, plots = 0;
    for (int r = 0; r < p->t.n_rows; r++)
        for (int s = 0; s < p->runs[r].n_series; s++) {
            int k = 0;
            while (k < n_names && strcmp(names[k], p->runs[r].series[s].name)) k++;
            if (k < n_names) continue;
            char **grown = realloc(names, sizeof *names * (size_t)(n_names + 1));
            if (!grown) {
                free(names);
                p->oom = 1;
                return 0;
            }
            names = grown;
            names[n_names++] = p->runs[r].series[s].name;
        }
    if (!n_names) {
        free(names);
        return 0;
    }
    const eg_sum_col *status = eg_sum_status(&p->t);
    fprintf(f, "<section id=\"series\"><h2>Curves</h2>\n<div class=\"plots\">\n");
    for (int s = 0; s < n_names; s++) {
        rp_line *lines = calloc((size_t)(p->ng + p->t.n_rows), sizeof *lines);
        char (*labels)[256] = calloc((size_t)(p->ng + p->t.n_rows), sizeof *labels);
        if (!lines || !labels) p->oom = 1;
        int nl = 0;
        int stride = (p->ng + MAX_LINES - 1) / MAX_LINES;
        for (int g = 0; lines && labels && g < p->ng; g += stride) {
            const eg_sum_group *gr = &p->groups[g];
            const rp_series *ref = NULL;
            int n_ok = 0;
            for (int k = 0; k < gr->n_rows; k++) {
                const rp_run *run = &p->runs[gr->rows[k]];
                const rp_series *se = NULL;
                for (int j = 0; j < run->n_series; j++)
                    if (!strcmp(run->series[j].name, names[s])) se = &run->series[j];
                if (!se) continue;
                int ok = !status || !strcmp(status->s[gr->rows[k]], "ok");
                if (ok) {
                    if (!ref || se->n < ref->n) ref = se;
                    n_ok++;
                } else { /* its own dashed line */
                    double *xy = malloc(sizeof(double) * 2 * (size_t)(se->n ? se->n : 1));
                    if (!xy) {
                        p->oom = 1;
                        continue;
                    }
                    for (int64_t i = 0; i < se->n; i++)
                        xy[i] = (double)se->step[i], xy[se->n + i] = se->value[i];
                    setting(p, gr, NULL, labels[nl], 200);
                    snprintf(labels[nl] + strlen(labels[nl]), 56, " (%s)", status->s[gr->rows[k]]);
                    lines[nl] = (rp_line){labels[nl], (int)se->n, xy, xy + se->n, NULL, 0, 1};
                    nl++;
                }
            }
            if (!ref) continue;
            int64_t n = ref->n;
            double *buf = calloc((size_t)(3 * (n ? n : 1)), sizeof(double));
            if (!buf) {
                p->oom = 1;
                continue;
            }
            for (int64_t i = 0; i < n; i++) { /* mean and sd over the ok runs at ref's steps */
                double sum = 0, sq = 0;
                int c = 0;
                for (int k = 0; k < gr->n_rows; k++) {
                    if (status && strcmp(status->s[gr->rows[k]], "ok")) continue;
                    const rp_run *run = &p->runs[gr->rows[k]];
                    for (int j = 0; j < run->n_series; j++)
                        if (!strcmp(run->series[j].name, names[s]) && i < run->series[j].n &&
                            isfinite(run->series[j].value[i]))
                            sum += run->series[j].value[i], sq += run->series[j].value[i] * run->series[j].value[i],
                                c++;
                }
                double mean = c ? sum / c : NAN, var = c > 1 ? (sq - c * mean * mean) / (c - 1) : NAN;
                buf[i] = (double)ref->step[i];
                buf[n + i] = mean;
                buf[2 * n + i] = c > 1 ? sqrt(fmax(var, 0)) : NAN;
            }
            setting(p, gr, NULL, labels[nl], 256);
            lines[nl] = (rp_line){labels[nl], (int)n, buf, buf + n, buf + 2 * n, 1, 0};
            nl++;
            (void)n_ok;
        }
        rp_plot plot = {names[s], "step", names[s], 0, lines, nl};
        fprintf(f, "<figure class=\"plot\" data-kind=\"series\">");
        rp_plot_svg(f, &plot, 460, 300);
        if (stride > 1)
            fprintf(f, "<figcaption>%d of %d settings shown, evenly spaced</figcaption>", (p->ng + stride - 1) / stride,
                    p->ng);
        fprintf(f, "</figure>\n");
        plots++;
        for (int l = 0; l < nl; l++)
            free((void *)lines[l].x);
        free(lines);
        free(labels);
    }
    fprintf(f, "</div></section>\n");
    free(names);
    return plots;
}

/* the pictures of the first ok run of each setting (up to MAX_PICTURE_GROUPS) */
static int pictures(page *p, char *err, size_t cap) {
    FILE *f = p->f;
    const eg_sum_col *status = eg_sum_status(&p->t), *id = col_named(&p->t, "run_id");
    int shown = 0;
    fprintf(f, "<section id=\"pictures\"><h2>Pictures</h2>\n");
    for (int g = 0; g < p->ng && g < MAX_PICTURE_GROUPS && id; g++) {
        const eg_sum_group *gr = &p->groups[g];
        int row = -1;
        for (int k = 0; k < gr->n_rows && row < 0; k++)
            if (!status || !strcmp(status->s[gr->rows[k]], "ok")) row = gr->rows[k];
        if (row < 0) continue;
        char path[4096], lab[256];
        snprintf(path, sizeof path, "%s/runs/%s.h5", p->dir, id->s[row]);
        rp_artifact *a = NULL;
        int na = 0;
        eg_status ast = rp_artifacts_read(path, &a, &na, err, cap);
        if (ast == EG_ERR_NOMEM) p->oom = 1;
        else if (ast != EG_OK) { /* it read whole a moment ago (vet): say what is missing */
            fprintf(f, "<p class=\"warn\">warning: the pictures of run %s are not shown: ", id->s[row]);
            html(f, err);
            fprintf(f, "</p>\n");
        }
        if (ast != EG_OK || na == 0) {
            rp_artifacts_free(a, na);
            continue;
        }
        setting(p, gr, NULL, lab, sizeof lab);
        for (int i = 0; i < na; i++) {
            char file[512], png[4608];
            snprintf(file, sizeof file, "img-%s-%d.png", id->s[row], i);
            snprintf(png, sizeof png, "%s/%s", p->out, file);
            int cols = rp_grid_columns(a[i].shape[0], a[i].tile_rows), w = 0, h = 0;
            int scale = rp_upscale(a[i].shape[1], a[i].shape[2]);
            struct stat st_png, st_run;
            int fresh = stat(png, &st_png) == 0 && stat(path, &st_run) == 0 && st_png.st_mtime >= st_run.st_mtime;
            char perr[512];
            if (!fresh && rp_png_write(png, a[i].pix, a[i].shape[0], a[i].shape[1], a[i].shape[2], a[i].shape[3], cols,
                                       a[i].tile_rows, scale, &w, &h, perr, sizeof perr) != EG_OK) {
                fprintf(f, "<p class=\"warn\">");
                html(f, perr);
                fprintf(f, "</p>\n");
                continue;
            }
            fprintf(f, "<figure class=\"picture\"><img src=\"%s\" alt=\"", file);
            html(f, a[i].name);
            fprintf(f, "\"><figcaption><b>");
            html(f, a[i].name);
            fprintf(f, "</b> (%s) — run %s, ", a[i].kind && *a[i].kind ? a[i].kind : "picture", id->s[row]);
            html(f, lab);
            if (a[i].row_labels) {
                fprintf(f, "; rows, top to bottom: ");
                for (const char *c = a[i].row_labels; *c; c++) {
                    char one[2] = {*c, 0};
                    if (*c == '|') fputs(" / ", f);
                    else html(f, one);
                }
            }
            fprintf(f, "</figcaption></figure>\n");
            shown++;
        }
        rp_artifacts_free(a, na);
    }
    if (!shown) fprintf(f, "<p>No run stored a picture.</p>\n");
    fprintf(f, "</section>\n");
    return shown;
}

static void failures(page *p) {
    FILE *f = p->f;
    int any = 0;
    for (int r = 0; r < p->t.n_rows; r++) {
        const rp_run *run = &p->runs[r];
        if (!strcmp(run->status, "ok") || !strcmp(run->status, "running")) continue;
        if (!any++) fprintf(f, "<section id=\"failures\"><h2>Runs that did not finish</h2>\n");
        fprintf(f, "<details class=\"failure\"><summary>run %s: <b>%s</b> — ", run->id, run->status);
        html(f, run->error ? run->error : "no reason recorded");
        fprintf(f, "</summary><pre>");
        html(f, run->log_tail ? run->log_tail : "(no log)");
        fprintf(f, "</pre></details>\n");
    }
    if (any) fprintf(f, "</section>\n");
}

static const char style[] =
    "<style>body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1500px}"
    "h1{margin:0 0 .3em}h2{border-bottom:1px solid #ccc;margin-top:1.4em}"
    "table.meta th{text-align:left;padding-right:1em;color:#555;font-weight:normal}"
    "table.summary{border-collapse:collapse;font-size:14px}"
    "table.summary th,table.summary td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "table.summary th{background:#f3f3f3;cursor:pointer}td.best{background:#e8f4ea}"
    ".plots{display:flex;flex-wrap:wrap;gap:8px}figure{margin:4px}"
    "figure.picture img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}"
    "figcaption{font-size:13px;color:#444;max-width:720px}.note{color:#555;font-size:13px}"
    "pre{background:#f6f6f6;padding:6px;overflow-x:auto}.ok{color:#075}.warn{color:#a40}</style>\n";

/* a few lines to sort the summary by a clicked column (numbers by value) */
static const char sorter[] =
    "<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',"
    "function(){var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),d=th.dataset.dir=='a'?-1:1;"
    "th.dataset.dir=d>0?'a':'d';rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v,"
    "p=parseFloat(x),q=parseFloat(y);return d*(isNaN(p)||isNaN(q)?x.localeCompare(y):p-q);});"
    "rows.forEach(function(r){tb.appendChild(r);});});});</script>\n";

static eg_status write_page(page *p, char *err, size_t cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html.tmp", p->out);
    p->f = eg_fopen_fresh(path);
    if (!p->f) {
        snprintf(err, cap, "%s: cannot write: %s", path, strerror(errno));
        return EG_ERR_IO;
    }
    const char *name = strrchr(p->dir, '/') ? strrchr(p->dir, '/') + 1 : p->dir;
    fprintf(p->f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    html(p->f, name);
    fprintf(p->f, " — engram report</title>\n%s</head><body>\n", style);
    header(p);
    warnings(p);
    summary_table(p);
    param_plots(p);
    series_plots(p);
    pictures(p, err, cap);
    failures(p);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(p->f, "<footer class=\"note\">written by engram %s on %s</footer>\n%s</body></html>\n",
            eg_engram_version(), when, sorter);
    int bad = ferror(p->f) ? errno : 0;
    if (p->oom) { /* the page would silently lack what did not fit */
        fclose(p->f);
        snprintf(err, cap, "%s/index.html: out of memory writing the report", p->out);
        unlink(path);
        return EG_ERR_NOMEM;
    }
    if (fclose(p->f) != 0 || bad) {
        snprintf(err, cap, "%s: write failed: %s", path, strerror(bad ? bad : errno));
        unlink(path); /* no half-written page left behind */
        return EG_ERR_IO;
    }
    char final[4200];
    snprintf(final, sizeof final, "%s/index.html", p->out);
    if (rename(path, final) != 0) {
        snprintf(err, cap, "%s: cannot rename into place: %s", final, strerror(errno));
        unlink(path);
        return EG_ERR_IO;
    }
    return EG_OK;
}

/* A final run file in runs/ that summary.h5 does not list: collect left it out (it did not
 * read, or is not the run its name says; collect warned on stderr). The page warns. */
static eg_status unlisted_runs(page *p, const eg_sum_col *id, char *err, size_t cap) {
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", p->dir);
    DIR *d = opendir(runs);
    if (!d) return EG_OK;
    eg_id_set rows = {0}; /* the summary's run ids: linear in files and rows */
    for (int r = 0; id && r < p->t.n_rows; r++)
        if (id->s[r] && eg_id_set_add(&rows, id->s[r]) < 0) p->oom = 1;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len;
        if (eg_results_file_kind(e->d_name, &len) != EG_RUNFILE_FINAL) continue;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)len, e->d_name);
        if (!eg_id_set_has(&rows, stem))
            add_warning(p, "%s/%s is not in summary.h5: collect left it out (unreadable, or not the run its name "
                           "says); `engram run` computes its run again", runs, e->d_name);
    }
    closedir(d);
    eg_id_set_free(&rows);
    (void)err, (void)cap;
    return EG_OK;
}

eg_status eg_report_experiment(const char *exp_dir, const char *out_dir, char *err, size_t cap) {
    page p = {0};
    p.dir = exp_dir;
    p.out = out_dir;
    char sum[4200];
    snprintf(sum, sizeof sum, "%s/summary.h5", exp_dir);
    eg_status st = eg_results_refresh(exp_dir, err, cap);
    if (st == EG_OK) st = eg_summary_read(sum, &p.t, err, cap);
    if (st == EG_OK && eg_sum_groups(&p.t, &p.groups, &p.ng) != EG_OK) st = EG_ERR_NOMEM;
    if (st == EG_OK && eg_mkdirs(out_dir, err, cap) != 0) st = EG_ERR_IO;
    if (st == EG_OK) p.runs = calloc((size_t)(p.t.n_rows ? p.t.n_rows : 1), sizeof *p.runs);
    if (st == EG_OK && !p.runs) st = EG_ERR_NOMEM;
    if (st == EG_ERR_NOMEM) snprintf(err, cap, "%s: out of memory", exp_dir);
    const eg_sum_col *id = col_named(&p.t, "run_id");
    /* every run file is read whole in a guarded child first: one that crashes HDF5 there
     * is listed as unreadable instead of taking the report down */
    char **paths = st == EG_OK ? calloc((size_t)p.t.n_rows + 1, sizeof *paths) : NULL;
    eg_status *sound = st == EG_OK ? calloc((size_t)p.t.n_rows + 1, sizeof *sound) : NULL;
    if (st == EG_OK && (!paths || !sound)) st = EG_ERR_NOMEM;
    for (int r = 0; st == EG_OK && r < p.t.n_rows; r++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/runs/%s.h5", exp_dir, id ? id->s[r] : "");
        struct stat fst;
        if (stat(path, &fst) != 0) /* a running run: its snapshot */
            snprintf(path, sizeof path, "%s/runs/%s.live.h5", exp_dir, id ? id->s[r] : "");
        if (!(paths[r] = strdup(path))) st = EG_ERR_NOMEM;
    }
    if (st == EG_ERR_NOMEM) snprintf(err, cap, "%s: out of memory", exp_dir);
    if (st == EG_OK) {
        eg_status vst = eg_results_vet_many((const char *const *)paths, p.t.n_rows, sound);
        if (vst != EG_OK) st = vst == EG_ERR_NOMEM ? EG_ERR_NOMEM : EG_ERR_IO;
        if (vst != EG_OK)
            snprintf(err, cap, "%s: cannot check its run files: %s", exp_dir,
                     vst == EG_ERR_NOMEM ? "out of memory" : "no process to read them in");
    }
    for (int r = 0; st == EG_OK && r < p.t.n_rows; r++) {
        char rerr[512];
        const char *path = paths[r];
        eg_status rst = sound[r] == EG_ERR_FORMAT ? EG_ERR_FORMAT : rp_run_read(path, &p.runs[r], rerr, sizeof rerr);
        if (rst == EG_ERR_NOMEM) {
            snprintf(err, cap, "%s", rerr);
            st = rst;
            break;
        }
        /* A run file summary.h5 lists that does not read (whole, in the vet, or here) is
         * listed as failed, without curves, and the page says so at its top: the file may
         * be damaged, or was unreadable for a moment (no file descriptor, an I/O error);
         * either way the page must not pass for a complete one. */
        if (rst != EG_OK) {
            if (sound[r] == EG_ERR_FORMAT) snprintf(rerr, sizeof rerr, "%s: not a readable run file", path);
            snprintf(p.runs[r].status, sizeof p.runs[r].status, "failed");
            if (!(p.runs[r].error = strdup(rerr))) {
                snprintf(err, cap, "%s: out of memory", exp_dir);
                st = EG_ERR_NOMEM;
                break;
            }
            add_warning(&p, "%s; its run is listed as failed, without its curves and pictures (`engram verify` "
                            "checks the run files)", rerr);
        }
        if (id && !p.runs[r].id[0]) snprintf(p.runs[r].id, sizeof p.runs[r].id, "%.16s", id->s[r]);
    }
    if (st == EG_OK) st = unlisted_runs(&p, id, err, cap);
    for (int r = 0; paths && r < p.t.n_rows; r++)
        free(paths[r]);
    free(paths);
    free(sound);
    /* the model's metric goals and parameter units, when its plugin is at hand */
    if (st == EG_OK && p.t.n_rows && p.runs[0].attr[2]) {
        char ignored[1024];
        eg_status mst = eg_model_open(p.runs[0].attr[2], &p.model, ignored, sizeof ignored);
        if (mst == EG_OK) p.desc = p.model->desc;
        if (mst == EG_ERR_NOMEM) { /* not "no plugin": the page would lack the goals silently */
            snprintf(err, cap, "%s: %s", exp_dir, ignored);
            st = mst;
        }
    }
    if (st == EG_OK) st = write_page(&p, err, cap);
    for (int r = 0; p.runs && r < p.t.n_rows; r++)
        rp_run_free(&p.runs[r]);
    free(p.runs);
    eg_model_close(p.model);
    eg_sum_groups_free(p.groups, p.ng);
    eg_summary_free(&p.t);
    return st;
}
