/* results_show.c — `engram show DIR`: the summary table aggregated over seeds.
 * Rows of summary.h5 are grouped by the swept parameters (seed excluded); each
 * group prints its parameter values, n = runs ok/total, and every final metric
 * as mean ± sd over the group's ok runs (sample sd, n-1; "-" for one run).
 * Tables wider than 100 columns are split into blocks of metric columns. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results_impl.h"

#define SHOW_WIDTH 100
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
static void metric_cell(const eg_sum_table *t, const eg_sum_col *m, const eg_sum_col *status, const group *g, char *buf,
                        size_t cap) {
    (void)status;
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

/* the metric header: its name less the common first path component, if any */
static const char *common_prefix(const eg_sum_table *t, char *prefix, size_t cap) {
    prefix[0] = 0;
    int n = 0;
    for (int c = 0; c < t->n_cols; c++) {
        if (t->cols[c].role != EG_ROLE_METRIC) continue;
        const char *name = t->cols[c].name, *slash = strchr(name, '/');
        if (!slash || !slash[1]) return prefix[0] = 0, prefix;
        size_t len = (size_t)(slash - name) + 1;
        if (n++ == 0)
            snprintf(prefix, cap, "%.*s", (int)len, name);
        else if (strlen(prefix) != len || strncmp(prefix, name, len) != 0)
            return prefix[0] = 0, prefix;
    }
    return prefix;
}

static const char *param_header(const eg_sum_table *t, const char *name) {
    if (strncmp(name, "params.", 7) != 0) return name;
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c].name, name + 7) == 0) return name; /* stripping would be ambiguous */
    return name + 7;
}

static void print_table(const eg_sum_table *t, const group *groups, int ng, FILE *out) {
    const eg_sum_col *status = NULL;
    int *pc = malloc(sizeof(int) * (size_t)t->n_cols), *mc = malloc(sizeof(int) * (size_t)t->n_cols);
    int np = 0, nm = 0, any_fail = 0;
    char prefix[256];
    if (!pc || !mc) goto done;
    for (int c = 0; c < t->n_cols; c++) {
        if (t->cols[c].role == EG_ROLE_STATUS && t->cols[c].type == EG_COL_STR) status = &t->cols[c];
        if (t->cols[c].role == EG_ROLE_PARAM) pc[np++] = c;
        if (t->cols[c].role == EG_ROLE_METRIC) mc[nm++] = c;
    }
    for (int g = 0; g < ng; g++)
        any_fail |= groups[g].ok < groups[g].total;
    common_prefix(t, prefix, sizeof prefix);
    size_t plen = strlen(prefix);
    fprintf(out, "metrics%s%s%s: mean ± sd over seeds (sd with n-1; '-' for one run); n = runs ok/total\n",
            plen ? " (" : "", plen ? prefix : "", plen ? "...)" : "");

    /* widths of the fixed columns: parameters, n, failures */
    int fixed = 0, *pw = calloc((size_t)np + 1, sizeof(int)), mw_cap = nm + 1, nw = 1, fw = 0;
    int *mw = calloc((size_t)mw_cap, sizeof(int));
    char cell[CELL];
    if (!pw || !mw) goto done2;
    for (int k = 0; k < np; k++) {
        pw[k] = dwidth(param_header(t, t->cols[pc[k]].name));
        for (int g = 0; g < ng; g++) {
            eg_summary_cell(&t->cols[pc[k]], groups[g].first_row, cell, sizeof cell);
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
            metric_cell(t, &t->cols[mc[k]], status, &groups[g], cell, sizeof cell);
            if (dwidth(cell) > mw[k]) mw[k] = dwidth(cell);
        }
    }
    /* blocks of metric columns that fit in SHOW_WIDTH next to the fixed columns */
    int start = 0;
    do {
        int end = start, width = fixed;
        while (end < nm && (end == start || width + mw[end] + 2 <= SHOW_WIDTH))
            width += mw[end++] + 2;
        if (start > 0) fputc('\n', out);
        for (int k = 0; k < np; k++) {
            const eg_sum_col *c = &t->cols[pc[k]];
            pad(out, param_header(t, c->name), pw[k], c->type != EG_COL_STR);
            fputs("  ", out);
        }
        pad(out, "n", nw, 1);
        for (int k = start; k < end; k++) {
            fputs("  ", out);
            pad(out, t->cols[mc[k]].name + plen, mw[k], 1);
        }
        if (any_fail && status) {
            fputs("  ", out);
            fputs("failures", out);
        }
        fputc('\n', out);
        for (int g = 0; g < ng; g++) {
            for (int k = 0; k < np; k++) {
                const eg_sum_col *c = &t->cols[pc[k]];
                eg_summary_cell(c, groups[g].first_row, cell, sizeof cell);
                pad(out, cell, pw[k], c->type != EG_COL_STR);
                fputs("  ", out);
            }
            snprintf(cell, sizeof cell, "%d/%d", groups[g].ok, groups[g].total);
            pad(out, cell, nw, 1);
            for (int k = start; k < end; k++) {
                fputs("  ", out);
                metric_cell(t, &t->cols[mc[k]], status, &groups[g], cell, sizeof cell);
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
done2:
    free(pw);
    free(mw);
done:
    free(pc);
    free(mc);
}

/* a JSON string */
static void json_str(FILE *out, const char *v) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(v ? v : ""); *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else if (*c < 0x20) fprintf(out, "\\u%04x", *c);
        else fputc(*c, out);
    }
    fputc('"', out);
}

static void json_num(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, "%.17g", v);
    else fputs("null", out);
}

/* a parameter cell as JSON: numbers as numbers, the rest as strings */
static void json_param(FILE *out, const eg_sum_col *c, int row) {
    char cell[CELL * 4];
    if (c->type != EG_COL_STR && isfinite(c->f[row])) {
        if (c->type == EG_COL_BOOL) fputs(c->f[row] != 0 ? "true" : "false", out);
        else json_num(out, c->f[row]);
        return;
    }
    eg_summary_cell(c, row, cell, sizeof cell);
    json_str(out, cell);
}

/* {"experiment": DIR, "runs": N, "groups": [{"params": {...}, "ok": k, "total": n,
 *  "metrics": {"name": {"mean": m, "sd": s, "n": k}}}]}: the numbers of the table, exact */
static void print_json(const eg_sum_table *t, const group *groups, int ng, const char *dir, FILE *out) {
    fprintf(out, "{\"experiment\": ");
    json_str(out, dir);
    fprintf(out, ", \"runs\": %d, \"groups\": [", t->n_rows);
    for (int g = 0; g < ng; g++) {
        fprintf(out, "%s\n  {\"params\": {", g ? "," : "");
        int k = 0;
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_PARAM) {
                fprintf(out, "%s", k++ ? ", " : "");
                json_str(out, t->cols[c].name);
                fputs(": ", out);
                json_param(out, &t->cols[c], groups[g].first_row);
            }
        fprintf(out, "}, \"ok\": %d, \"total\": %d, \"metrics\": {", groups[g].ok, groups[g].total);
        k = 0;
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_METRIC) {
                double mean, sd;
                int n = eg_sum_stat(t, &t->cols[c], &groups[g], &mean, &sd);
                fprintf(out, "%s", k++ ? ", " : "");
                json_str(out, t->cols[c].name);
                fputs(": {\"mean\": ", out);
                json_num(out, mean);
                fputs(", \"sd\": ", out);
                json_num(out, sd);
                fprintf(out, ", \"n\": %d}", n);
            }
        fputs("}}", out);
    }
    fputs("\n]}\n", out);
}

/* CSV (RFC 4180): one row per group; per metric its mean, sd and n columns */
static void csv_field(FILE *out, const char *v) {
    if (strpbrk(v, ",\"\n")) {
        fputc('"', out);
        for (; *v; v++) {
            if (*v == '"') fputc('"', out);
            fputc(*v, out);
        }
        fputc('"', out);
    } else {
        fputs(v, out);
    }
}

static void print_csv(const eg_sum_table *t, const group *groups, int ng, FILE *out) {
    int k = 0;
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].role == EG_ROLE_PARAM) {
            fprintf(out, "%s", k++ ? "," : "");
            csv_field(out, t->cols[c].name);
        }
    fprintf(out, "%sok,total", k ? "," : "");
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].role == EG_ROLE_METRIC) {
            const char *suffix[3] = {":mean", ":sd", ":n"};
            for (int j = 0; j < 3; j++) {
                char name[1100];
                snprintf(name, sizeof name, "%s%s", t->cols[c].name, suffix[j]);
                fputc(',', out);
                csv_field(out, name);
            }
        }
    fputc('\n', out);
    for (int g = 0; g < ng; g++) {
        k = 0;
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_PARAM) {
                char cell[CELL * 4];
                if (t->cols[c].type != EG_COL_STR && isfinite(t->cols[c].f[groups[g].first_row]))
                    snprintf(cell, sizeof cell, "%.17g", t->cols[c].f[groups[g].first_row]);
                else
                    eg_summary_cell(&t->cols[c], groups[g].first_row, cell, sizeof cell);
                fprintf(out, "%s", k++ ? "," : "");
                csv_field(out, cell);
            }
        fprintf(out, "%s%d,%d", k ? "," : "", groups[g].ok, groups[g].total);
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_METRIC) {
                double mean, sd;
                int n = eg_sum_stat(t, &t->cols[c], &groups[g], &mean, &sd);
                if (isfinite(mean)) fprintf(out, ",%.17g", mean);
                else fputs(",", out);
                if (isfinite(sd)) fprintf(out, ",%.17g", sd);
                else fputs(",", out);
                fprintf(out, ",%d", n);
            }
        fputc('\n', out);
    }
}

eg_status eg_results_show(const char *exp_dir, FILE *out, char *err, size_t cap) {
    return eg_results_show_as(exp_dir, "table", out, err, cap);
}

eg_status eg_results_show_as(const char *exp_dir, const char *format, FILE *out, char *err, size_t cap) {
    int fmt = !format || !strcmp(format, "table") ? 0 : !strcmp(format, "json") ? 1 : !strcmp(format, "csv") ? 2 : -1;
    if (fmt < 0) {
        snprintf(err, cap, "unknown format '%s' (table, json or csv)", format);
        return EG_ERR_INVALID;
    }
    size_t len = strlen(exp_dir) + 32;
    char *sum = malloc(len), *runs = malloc(len);
    if (!sum || !runs) {
        free(sum);
        free(runs);
        snprintf(err, cap, "%s: out of memory", exp_dir);
        return EG_ERR_NOMEM;
    }
    snprintf(sum, len, "%s/summary.h5", exp_dir);
    snprintf(runs, len, "%s/runs", exp_dir);
    eg_status st = eg_results_refresh(exp_dir, err, cap);
    eg_sum_table t = {0};
    group *groups = NULL;
    int ng = 0;
    if (st == EG_OK) st = eg_summary_read(sum, &t, err, cap);
    if (st != EG_OK) goto done;

    int n_ok = 0;
    if (eg_sum_groups(&t, &groups, &ng) != EG_OK) {
        st = EG_ERR_NOMEM;
        snprintf(err, cap, "%s: out of memory", exp_dir);
        goto done;
    }
    for (int g = 0; g < ng; g++)
        n_ok += groups[g].ok;
    if (fmt == 1) {
        print_json(&t, groups, ng, exp_dir, out);
    } else if (fmt == 2) {
        print_csv(&t, groups, ng, out);
    } else {
        fprintf(out, "%s: %d run%s in %d group%s, %d ok\n", exp_dir, t.n_rows, t.n_rows == 1 ? "" : "s", ng,
                ng == 1 ? "" : "s", n_ok);
        if (t.n_rows > 0) print_table(&t, groups, ng, out);
    }
done:
    eg_sum_groups_free(groups, ng);
    eg_summary_free(&t);
    free(sum);
    free(runs);
    return st;
}
