/* results_group.c — runs grouped by their swept parameters and the mean ± sd of a
 * metric over a group's seeds (results_impl.h): the one implementation behind
 * `engram show` and `engram report`, so both print the same numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results_impl.h"

#define CELL 256

const eg_sum_col *eg_sum_status(const eg_sum_table *t) {
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].role == EG_ROLE_STATUS && t->cols[c].type == EG_COL_STR) return &t->cols[c];
    return NULL;
}

static int same_params(const eg_sum_table *t, int a, int b) {
    char x[CELL], y[CELL];
    for (int c = 0; c < t->n_cols; c++) {
        if (t->cols[c].role != EG_ROLE_PARAM) continue;
        if (t->cols[c].type == EG_COL_NUM && !isnan(t->cols[c].f[a]) && !isnan(t->cols[c].f[b])) {
            if (t->cols[c].f[a] != t->cols[c].f[b]) return 0;
            continue;
        }
        eg_summary_cell(&t->cols[c], a, x, sizeof x);
        eg_summary_cell(&t->cols[c], b, y, sizeof y);
        if (strcmp(x, y) != 0) return 0;
    }
    return 1;
}

void eg_sum_groups_free(eg_sum_group *g, int n) {
    for (int i = 0; g && i < n; i++)
        free(g[i].rows);
    free(g);
}

eg_status eg_sum_groups(const eg_sum_table *t, eg_sum_group **out, int *n) {
    *out = NULL;
    *n = 0;
    const eg_sum_col *status = eg_sum_status(t);
    eg_sum_group *groups = calloc((size_t)(t->n_rows ? t->n_rows : 1), sizeof *groups);
    if (!groups) return EG_ERR_NOMEM;
    int ng = 0;
    for (int r = 0; r < t->n_rows; r++) {
        int g = 0;
        while (g < ng && !same_params(t, groups[g].first_row, r))
            g++;
        if (g == ng) {
            groups[ng].first_row = r;
            groups[ng].rows = malloc(sizeof(int) * (size_t)t->n_rows);
            if (!groups[ng].rows) {
                eg_sum_groups_free(groups, ng);
                return EG_ERR_NOMEM;
            }
            ng++;
        }
        groups[g].rows[groups[g].n_rows++] = r;
        groups[g].total++;
        groups[g].ok += !status || strcmp(status->s[r], "ok") == 0;
    }
    *out = groups;
    *n = ng;
    return EG_OK;
}

int eg_sum_stat(const eg_sum_table *t, const eg_sum_col *m, const eg_sum_group *g, double *mean, double *sd) {
    const eg_sum_col *status = eg_sum_status(t);
    double sum = 0, sq = 0;
    int n = 0;
    for (int k = 0; k < g->n_rows; k++) {
        int r = g->rows[k];
        if ((status && strcmp(status->s[r], "ok") != 0) || !isfinite(m->f[r])) continue;
        sum += m->f[r];
        n++;
    }
    *mean = n ? sum / n : NAN;
    *sd = NAN;
    if (n < 2) return n;
    for (int k = 0; k < g->n_rows; k++) {
        int r = g->rows[k];
        if ((status && strcmp(status->s[r], "ok") != 0) || !isfinite(m->f[r])) continue;
        sq += (m->f[r] - *mean) * (m->f[r] - *mean);
    }
    *sd = sqrt(sq / (n - 1));
    /* identical values summed in float: spread below the mean's rounding noise is 0 */
    if (*sd <= 1e-12 * fabs(*mean)) *sd = 0;
    return n;
}
