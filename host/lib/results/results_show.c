/* results_show.c — `engram show DIR`: the summary table aggregated over seeds.
 * Rows of summary.h5 are grouped by the swept parameters (seed excluded); each
 * group prints the parameters that vary among the shown runs, runs = ok/total, and
 * every final metric as mean ± sd over the group's ok runs (sample sd, n-1; "-" for
 * one run). Tables wider than the terminal are split into blocks of metric columns.
 * Which runs, groups and columns: results_view.c; --json and --csv: results_export.c. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_export.h"
#include "results_view.h"

#define DEFAULT_WIDTH 100
#define CELL 64

typedef eg_sum_group group;

/* display width of UTF-8 text (code points) */
static int dwidth(const char *s) {
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

static void pad(FILE *out, const char *s, int width, int right) {
    int fill = width - dwidth(s);
    if (right)
        for (int k = 0; k < fill; k++)
            fputc(' ', out);
    fputs(s, out);
    if (!right)
        for (int k = 0; k < fill; k++)
            fputc(' ', out);
}

/* 4 significant digits, but no exponent for 1e3 <= |x| < 1e6 */
static void fmt_mean(double x, char *buf, size_t cap) {
    if (fabs(x) >= 1e3 && fabs(x) < 1e6)
        snprintf(buf, cap, "%.1f", x);
    else
        snprintf(buf, cap, "%.4g", x);
}

/* mean ± sd of a group's ok runs with a finite value (eg_sum_stat) */
static void metric_cell(const eg_sum_table *t, const eg_sum_col *m, const group *g, char *buf, size_t cap) {
    double mean, sd;
    int n = eg_sum_stat(t, m, g, &mean, &sd);
    char mt[32];
    if (n == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    fmt_mean(mean, mt, sizeof mt);
    if (n == 1)
        snprintf(buf, cap, "%s ± -", mt);
    else
        snprintf(buf, cap, "%s ± %.2g", mt, sd);
}

/* "1 diverged, 2 failed" for the group's runs that are not ok */
static void failure_cell(const eg_sum_col *status, const group *g, char *buf, size_t cap) {
    buf[0] = 0;
    size_t len = 0;
    for (int k = 0; k < g->n_rows; k++) {
        const char *s = status->s[g->rows[k]];
        int seen = 0, count = 0;
        for (int j = 0; j < k; j++)
            if (strcmp(status->s[g->rows[j]], s) == 0) seen = 1;
        if (seen || strcmp(s, "ok") == 0) continue;
        for (int j = k; j < g->n_rows; j++)
            count += strcmp(status->s[g->rows[j]], s) == 0;
        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%d %s", len ? ", " : "", count, s);
        if (len >= cap) break;
    }
}

/* the metric header: its name less the first path component all shown metrics share */
static const char *common_prefix(const eg_show_view *v, char *prefix, size_t cap) {
    prefix[0] = 0;
    for (int k = 0; k < v->nm; k++) {
        const char *name = v->t.cols[v->mcols[k]].name, *slash = strchr(name, '/');
        if (!slash || !slash[1]) return prefix[0] = 0, prefix;
        size_t len = (size_t)(slash - name) + 1;
        if (k == 0)
            snprintf(prefix, cap, "%.*s", (int)len, name);
        else if (strlen(prefix) != len || strncmp(prefix, name, len) != 0)
            return prefix[0] = 0, prefix;
    }
    return prefix;
}

/* "beta" for params.beta, unless that is another column's name or one of the table's own */
static const char *param_header(const eg_sum_table *t, const char *name) {
    if (strncmp(name, "params.", 7) != 0) return name;
    if (!strcmp(name + 7, "runs") || !strcmp(name + 7, "failures")) return name;
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c].name, name + 7) == 0) return name; /* stripping would be ambiguous */
    return name + 7;
}

/* a parameter's cell: "-" where the group's runs left it to the model's default */
static void param_cell(const eg_sum_table *t, const eg_sum_col *c, const group *g, char *buf, size_t cap) {
    if (eg_summary_defaulted(t, g->first_row, c->name))
        snprintf(buf, cap, "-");
    else
        eg_summary_cell(c, g->first_row, buf, cap);
}

/* the terminal's width when out is one; else $COLUMNS; else 100 */
static int table_width(const eg_show_opts *o, FILE *out) {
    if (o->width > 0) return o->width;
    struct winsize ws;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    if (cols && atoi(cols) >= 40) return atoi(cols);
    return DEFAULT_WIDTH;
}

/* lines above the table: what --where fixed, the metrics' legend */
static void print_preamble(const eg_show_view *v, const char *prefix, FILE *out) {
    const eg_sum_table *t = &v->t;
    if (v->filtered && t->n_rows) {
        int k = 0;
        for (int c = 0; c < t->n_cols; c++) {
            if (t->cols[c].role != EG_ROLE_PARAM) continue;
            int shown = 0;
            for (int j = 0; j < v->np; j++)
                shown |= v->pcols[j] == c;
            if (shown) continue;
            char cell[CELL];
            eg_summary_cell(&t->cols[c], 0, cell, sizeof cell);
            fprintf(out, "%s%s=%s", k++ ? ", " : "the same in every run shown: ", param_header(t, t->cols[c].name),
                    eg_summary_defaulted(t, 0, t->cols[c].name) ? "(default)" : cell);
        }
        if (k) fputc('\n', out);
    }
    size_t plen = strlen(prefix);
    fprintf(out, "metrics%s%s%s: mean ± sd over seeds (sd with n-1; '-' for one run); runs = ok/total\n",
            plen ? " (" : "", plen ? prefix : "", plen ? "...)" : "");
}

/* EG_ERR_NOMEM (before printing anything) when the column widths do not fit in memory */
static eg_status print_table(const eg_show_view *v, const eg_show_opts *o, FILE *out) {
    const eg_sum_table *t = &v->t;
    const group *groups = v->groups;
    const eg_sum_col *status = eg_sum_status(t);
    int np = v->np, nm = v->nm, ng = v->ng, any_fail = 0, any_default = 0, limit = table_width(o, out);
    const int *pc = v->pcols, *mc = v->mcols;
    char prefix[256];
    /* widths of the fixed columns: parameters, runs, failures */
    int fixed = 0, *pw = calloc((size_t)np + 1, sizeof(int)), nw = 4, fw = 0;
    int *mw = calloc((size_t)nm + 1, sizeof(int));
    char cell[CELL];
    if (!pw || !mw) {
        free(pw);
        free(mw);
        return EG_ERR_NOMEM;
    }
    for (int g = 0; g < ng; g++)
        any_fail |= groups[g].ok < groups[g].total;
    common_prefix(v, prefix, sizeof prefix);
    size_t plen = strlen(prefix);
    print_preamble(v, prefix, out);

    for (int k = 0; k < np; k++) {
        pw[k] = dwidth(param_header(t, t->cols[pc[k]].name));
        for (int g = 0; g < ng; g++) {
            param_cell(t, &t->cols[pc[k]], &groups[g], cell, sizeof cell);
            any_default |= eg_summary_defaulted(t, groups[g].first_row, t->cols[pc[k]].name);
            if (dwidth(cell) > pw[k]) pw[k] = dwidth(cell);
        }
        fixed += pw[k] + 2;
    }
    for (int g = 0; g < ng; g++) {
        snprintf(cell, sizeof cell, "%d/%d", groups[g].ok, groups[g].total);
        if (dwidth(cell) > nw) nw = dwidth(cell);
        if (any_fail && status) {
            failure_cell(status, &groups[g], cell, sizeof cell);
            if (dwidth(cell) > fw) fw = dwidth(cell);
        }
    }
    fixed += nw + 2;
    if (any_fail && status) {
        if (fw < 8) fw = 8;
        fixed += fw + 2;
    }
    for (int k = 0; k < nm; k++) {
        mw[k] = dwidth(t->cols[mc[k]].name + plen);
        for (int g = 0; g < ng; g++) {
            metric_cell(t, &t->cols[mc[k]], &groups[g], cell, sizeof cell);
            if (dwidth(cell) > mw[k]) mw[k] = dwidth(cell);
        }
    }
    /* blocks of metric columns that fit the width next to the fixed columns */
    int start = 0;
    do {
        int end = start, width = fixed;
        while (end < nm && (end == start || width + mw[end] + 2 <= limit))
            width += mw[end++] + 2;
        if (start > 0) fputc('\n', out);
        for (int k = 0; k < np; k++) {
            const eg_sum_col *c = &t->cols[pc[k]];
            pad(out, param_header(t, c->name), pw[k], c->type != EG_COL_STR);
            fputs("  ", out);
        }
        pad(out, "runs", nw, 1);
        for (int k = start; k < end; k++) {
            fputs("  ", out);
            pad(out, t->cols[mc[k]].name + plen, mw[k], 1);
        }
        if (any_fail && status) fputs("  failures", out);
        fputc('\n', out);
        for (int g = 0; g < ng; g++) {
            for (int k = 0; k < np; k++) {
                const eg_sum_col *c = &t->cols[pc[k]];
                param_cell(t, c, &groups[g], cell, sizeof cell);
                pad(out, cell, pw[k], c->type != EG_COL_STR);
                fputs("  ", out);
            }
            snprintf(cell, sizeof cell, "%d/%d", groups[g].ok, groups[g].total);
            pad(out, cell, nw, 1);
            for (int k = start; k < end; k++) {
                fputs("  ", out);
                metric_cell(t, &t->cols[mc[k]], &groups[g], cell, sizeof cell);
                pad(out, cell, mw[k], 1);
            }
            if (any_fail && status) {
                failure_cell(status, &groups[g], cell, sizeof cell);
                if (cell[0]) fprintf(out, "  %s", cell); /* last column: no trailing blanks */
            }
            fputc('\n', out);
        }
        start = end;
    } while (start < nm);
    if (any_default) fprintf(out, "'-' in a parameter column: the spec did not set it for those runs (the model's default applies)\n");
    if (v->best_col >= 0 && ng == 1) {
        const eg_sum_col *id = eg_summary_col(t, "run_id");
        fprintf(out, "best by %s (%s); its runs:", t->cols[v->best_col].name, v->best_goal == 2 ? "max" : "min");
        for (int k = 0; id && k < groups[0].n_rows; k++)
            fprintf(out, " %s", id->s[groups[0].rows[k]]);
        fputc('\n', out);
    }
    free(pw);
    free(mw);
    return EG_OK;
}

eg_status eg_results_show(const char *exp_dir, FILE *out, char *err, size_t cap) {
    return eg_results_show_as(exp_dir, "table", out, err, cap);
}

eg_status eg_results_show_as(const char *exp_dir, const char *format, FILE *out, char *err, size_t cap) {
    eg_show_opts o = {.struct_size = sizeof o, .format = format};
    return eg_results_show_with(exp_dir, &o, out, err, cap);
}

eg_status eg_results_show_with(const char *exp_dir, const eg_show_opts *opts, FILE *out, char *err, size_t cap) {
    eg_show_opts o = {0}; /* the caller's fields, as far as its struct reaches */
    memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    const char *format = o.format;
    int fmt = !format || !strcmp(format, "table") ? 0 : !strcmp(format, "json") ? 1 : !strcmp(format, "csv") ? 2 : -1;
    if (fmt < 0) {
        snprintf(err, cap, "unknown format '%s' (table, json or csv)", format);
        return EG_ERR_INVALID;
    }
    char sum[4200];
    snprintf(sum, sizeof sum, "%s/summary.h5", exp_dir);
    eg_status st = eg_results_refresh(exp_dir, err, cap);
    eg_sum_table t = {0};
    eg_show_view v = {0};
    if (st == EG_OK) st = eg_summary_read(sum, &t, err, cap);
    if (st == EG_OK) st = eg_show_view_build(&t, &o, &v, err, cap);
    if (st != EG_OK) goto done;
    if (fmt == 1) {
        eg_show_print_json(&v, exp_dir, out);
    } else if (fmt == 2) {
        eg_show_print_csv(&v, out);
    } else {
        int n_ok = 0, shown = 0;
        for (int g = 0; g < v.ng; g++)
            n_ok += v.groups[g].ok, shown += v.groups[g].total;
        fprintf(out, "%s: %d run%s in %d group%s, %d ok", exp_dir, shown, shown == 1 ? "" : "s", v.ng,
                v.ng == 1 ? "" : "s", n_ok);
        if (shown != t.n_rows) fprintf(out, " (of %d runs in the experiment)", t.n_rows);
        fputc('\n', out);
        if (v.ng > 0 && (st = print_table(&v, &o, out)) != EG_OK) {
            snprintf(err, cap, "%s: out of memory printing the table", exp_dir);
            goto done;
        }
    }
done:
    eg_show_view_free(&v);
    eg_summary_free(&t);
    return st;
}
