/* results_export.c — the numbers of `engram show` for tools: JSON at full precision and CSV
 * (RFC 4180), from the same view (results_view.c) and grouping (results_group.c) as the table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "results_export.h"

#define CELL 256

void eg_json_str(FILE *out, const char *v) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(v ? v : ""); *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else if (*c < 0x20) fprintf(out, "\\u%04x", *c);
        else fputc(*c, out);
    }
    fputc('"', out);
}

void eg_json_num(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, "%.17g", v);
    else fputs("null", out);
}

/* a parameter cell as JSON: numbers as numbers, the rest as strings */
static void json_param(FILE *out, const eg_sum_col *c, int row) {
    char cell[CELL];
    if (c->type != EG_COL_STR && isfinite(c->f[row])) {
        if (c->type == EG_COL_BOOL) fputs(c->f[row] != 0 ? "true" : "false", out);
        else eg_json_num(out, c->f[row]);
        return;
    }
    eg_summary_cell(c, row, cell, sizeof cell);
    eg_json_str(out, cell);
}

static const char *goal_name(int goal) {
    return goal == 2 ? "max" : goal == 1 ? "min" : "none";
}

/* {"experiment": DIR, "runs": N, "goals": {name: "max"|"min"|"none"}, "groups": [{"params": {...},
 *  "defaulted": [...], "ok": k, "total": n, "run_ids": [...], "metrics": {"name": {"mean": m, "sd": s,
 *  "n": k}}}]}: every swept parameter (not only those the table shows), the numbers exact */
void eg_show_print_json(const eg_show_view *v, const char *dir, FILE *out) {
    const eg_sum_table *t = &v->t;
    const eg_sum_col *id = eg_summary_col(t, "run_id");
    fprintf(out, "{\"experiment\": ");
    eg_json_str(out, dir);
    fprintf(out, ", \"runs\": %d, \"goals\": {", t->n_rows);
    for (int k = 0; k < v->nm; k++) {
        fprintf(out, "%s", k ? ", " : "");
        eg_json_str(out, t->cols[v->mcols[k]].name);
        fprintf(out, ": \"%s\"", goal_name(t->cols[v->mcols[k]].goal));
    }
    fputs("}, ", out);
    if (v->best_col >= 0) {
        fputs("\"best\": {\"metric\": ", out);
        eg_json_str(out, t->cols[v->best_col].name);
        fprintf(out, ", \"goal\": \"%s\"}, ", goal_name(v->best_goal));
    }
    fputs("\"groups\": [", out);
    for (int g = 0; g < v->ng; g++) {
        const eg_sum_group *gr = &v->groups[g];
        fprintf(out, "%s\n  {\"params\": {", g ? "," : "");
        int k = 0, d = 0;
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_PARAM) {
                fprintf(out, "%s", k++ ? ", " : "");
                eg_json_str(out, t->cols[c].name);
                fputs(": ", out);
                json_param(out, &t->cols[c], gr->first_row);
            }
        fputs("}, \"defaulted\": [", out);
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_PARAM && eg_summary_defaulted(t, gr->first_row, t->cols[c].name)) {
                fprintf(out, "%s", d++ ? ", " : "");
                eg_json_str(out, t->cols[c].name);
            }
        fprintf(out, "], \"ok\": %d, \"total\": %d, \"run_ids\": [", gr->ok, gr->total);
        for (int r = 0; id && r < gr->n_rows; r++) {
            fprintf(out, "%s", r ? ", " : "");
            eg_json_str(out, id->s[gr->rows[r]]);
        }
        fputs("], \"metrics\": {", out);
        for (int m = 0; m < v->nm; m++) {
            const eg_sum_col *c = &t->cols[v->mcols[m]];
            double mean, sd;
            int n = eg_sum_stat(t, c, gr, &mean, &sd);
            fprintf(out, "%s", m ? ", " : "");
            eg_json_str(out, c->name);
            fputs(": {\"mean\": ", out);
            eg_json_num(out, mean);
            fputs(", \"sd\": ", out);
            eg_json_num(out, sd);
            fprintf(out, ", \"n\": %d}", n);
        }
        fputs("}}", out);
    }
    fputs("\n]}\n", out);
}

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

/* one row per group: every swept parameter, ok, total, and NAME:mean, NAME:sd, NAME:n per metric */
void eg_show_print_csv(const eg_show_view *v, FILE *out) {
    const eg_sum_table *t = &v->t;
    int k = 0;
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].role == EG_ROLE_PARAM) {
            fprintf(out, "%s", k++ ? "," : "");
            csv_field(out, t->cols[c].name);
        }
    fprintf(out, "%sok,total", k ? "," : "");
    for (int m = 0; m < v->nm; m++) {
        const char *suffix[3] = {":mean", ":sd", ":n"};
        for (int j = 0; j < 3; j++) {
            char name[1100];
            snprintf(name, sizeof name, "%s%s", t->cols[v->mcols[m]].name, suffix[j]);
            fputc(',', out);
            csv_field(out, name);
        }
    }
    fputc('\n', out);
    for (int g = 0; g < v->ng; g++) {
        const eg_sum_group *gr = &v->groups[g];
        k = 0;
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_PARAM) {
                char cell[CELL];
                if (t->cols[c].type != EG_COL_STR && isfinite(t->cols[c].f[gr->first_row]))
                    snprintf(cell, sizeof cell, "%.17g", t->cols[c].f[gr->first_row]);
                else
                    eg_summary_cell(&t->cols[c], gr->first_row, cell, sizeof cell);
                fprintf(out, "%s", k++ ? "," : "");
                csv_field(out, cell);
            }
        fprintf(out, "%s%d,%d", k ? "," : "", gr->ok, gr->total);
        for (int m = 0; m < v->nm; m++) {
            double mean, sd;
            int n = eg_sum_stat(t, &t->cols[v->mcols[m]], gr, &mean, &sd);
            if (isfinite(mean)) fprintf(out, ",%.17g", mean);
            else fputs(",", out);
            if (isfinite(sd)) fprintf(out, ",%.17g", sd);
            else fputs(",", out);
            fprintf(out, ",%d", n);
        }
        fputc('\n', out);
    }
}
