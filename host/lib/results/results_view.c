/* results_view.c — what one `engram show` prints, from summary.h5's table and the options:
 * the runs that pass --where, grouped over seeds (results_group.c), in --sort order (or only
 * the --best group), the parameter columns that vary within those runs, the --metrics asked. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_view.h"

#define CELL 256

/* a metric's name less its first path component ("success" for "retrieval/success") */
static const char *short_metric(const char *name) {
    const char *slash = strchr(name, '/');
    return slash && slash[1] ? slash + 1 : name;
}

/* a column by its full name, as "params.<key>", or a metric by its short name; NULL when none,
 * *ambiguous set when a short metric name fits several */
static int find_col(const eg_sum_table *t, const char *key, int *ambiguous) {
    *ambiguous = 0;
    for (int c = 0; c < t->n_cols; c++)
        if (!strcmp(t->cols[c].name, key)) return c;
    char full[CELL + 8];
    snprintf(full, sizeof full, "params.%s", key);
    for (int c = 0; c < t->n_cols; c++)
        if (!strcmp(t->cols[c].name, full)) return c;
    int found = -1;
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].role == EG_ROLE_METRIC && !strcmp(short_metric(t->cols[c].name), key)) {
            if (found >= 0) *ambiguous = 1;
            found = c;
        }
    return found;
}

static const eg_rval *find_const(const eg_sum_table *t, const char *key) {
    const eg_rval *v = eg_summary_const(t, key);
    char full[CELL + 8];
    snprintf(full, sizeof full, "params.%s", key);
    return v ? v : eg_summary_const(t, full);
}

/* the names a condition or a sort key may use, for an error message */
static void names_hint(const eg_sum_table *t, int metrics_only, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int c = 0; c < t->n_cols && len < cap; c++) {
        if (metrics_only && t->cols[c].role != EG_ROLE_METRIC) continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", t->cols[c].name);
    }
    if (!metrics_only && len < cap && t->n_consts) snprintf(buf + len, cap - len, " (and the constants of /constants)");
}

/* ---- --where ---- */

typedef enum { OP_EQ, OP_NE, OP_GE, OP_LE, OP_GT, OP_LT } op_kind;

typedef struct cond {
    char key[CELL], value[CELL];
    op_kind op;
    int col;               /* column, or -1 for a constant */
    const eg_rval *konst;  /* the constant */
    int numeric;           /* compare as numbers */
    double num;
} cond;

static void trim(char *s) {
    size_t n = strlen(s), a = 0;
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    while (isspace((unsigned char)s[a]))
        a++;
    memmove(s, s + a, n - a + 1);
}

static int parse_number(const char *s, double *x) {
    if (!strcasecmp(s, "true")) return *x = 1, 1;
    if (!strcasecmp(s, "false")) return *x = 0, 1;
    char *end;
    *x = strtod(s, &end);
    return *s && end && *end == 0;
}

static eg_status parse_cond(const eg_sum_table *t, const char *text, cond *c, char *err, size_t cap) {
    memset(c, 0, sizeof *c);
    size_t k = strcspn(text, "=!<>");
    if (!text[k] || k == 0 || k >= CELL) {
        snprintf(err, cap, "--where '%s': expected KEY OP VALUE with OP one of == != >= <= > < (e.g. params.beta>=1)",
                 text);
        return EG_ERR_INVALID;
    }
    snprintf(c->key, sizeof c->key, "%.*s", (int)k, text);
    trim(c->key);
    const char *op = text + k;
    static const struct {
        const char *s;
        op_kind k;
    } ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GE}, {"<=", OP_LE}, {"=", OP_EQ}, {">", OP_GT}, {"<", OP_LT}};
    size_t oplen = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !oplen; i++)
        if (!strncmp(op, ops[i].s, strlen(ops[i].s))) c->op = ops[i].k, oplen = strlen(ops[i].s);
    if (!oplen) {
        snprintf(err, cap, "--where '%s': '%c' is not an operator (== != >= <= > <)", text, *op);
        return EG_ERR_INVALID;
    }
    snprintf(c->value, sizeof c->value, "%s", op + oplen);
    trim(c->value);
    if (c->value[0] == '\'' || c->value[0] == '"') { /* a quoted string */
        size_t n = strlen(c->value);
        if (n >= 2 && c->value[n - 1] == c->value[0]) memmove(c->value, c->value + 1, n - 2), c->value[n - 2] = 0;
    }
    int amb;
    c->col = find_col(t, c->key, &amb);
    c->konst = c->col < 0 ? find_const(t, c->key) : NULL;
    if (amb) {
        snprintf(err, cap, "--where '%s': '%s' fits several metrics; write the full name", text, c->key);
        return EG_ERR_INVALID;
    }
    if (c->col < 0 && !c->konst) {
        char hint[2048];
        names_hint(t, 0, hint, sizeof hint);
        snprintf(err, cap, "--where '%s': no column or constant '%s' (columns: %s)", text, c->key, hint);
        return EG_ERR_INVALID;
    }
    int numeric_key = c->col >= 0 ? t->cols[c->col].type != EG_COL_STR
                                  : c->konst->kind == EG_RV_INT || c->konst->kind == EG_RV_FLOAT ||
                                        c->konst->kind == EG_RV_BOOL;
    if (numeric_key && !parse_number(c->value, &c->num)) {
        snprintf(err, cap, "--where '%s': %s is a number, but '%s' is not one", text, c->key, c->value);
        return EG_ERR_INVALID;
    }
    c->numeric = numeric_key;
    return EG_OK;
}

static int compare_ok(op_kind op, int cmp) {
    switch (op) {
    case OP_EQ: return cmp == 0;
    case OP_NE: return cmp != 0;
    case OP_GE: return cmp >= 0;
    case OP_LE: return cmp <= 0;
    case OP_GT: return cmp > 0;
    case OP_LT: return cmp < 0;
    }
    return 0;
}

static int cond_holds(const eg_sum_table *t, const cond *c, int row) {
    char text[CELL];
    if (c->numeric) {
        double x = c->col >= 0 ? t->cols[c->col].f[row] : c->konst->f;
        if (isnan(x)) return c->op == OP_NE; /* a missing value equals nothing */
        return compare_ok(c->op, x < c->num ? -1 : x > c->num ? 1 : 0);
    }
    if (c->col >= 0)
        eg_summary_cell(&t->cols[c->col], row, text, sizeof text);
    else
        eg_rval_text(c->konst, text, sizeof text);
    return compare_ok(c->op, strcmp(text, c->value));
}

/* every --where, split at " and " */
static eg_status parse_where(const eg_sum_table *t, const eg_show_opts *o, cond **out, int *n, char *err,
                             size_t cap) {
    *out = NULL;
    *n = 0;
    int max = 0;
    for (int i = 0; i < o->n_where; i++) {
        max++;
        for (const char *p = o->where[i]; (p = strstr(p, " and ")); p += 5)
            max++;
    }
    cond *cs = calloc((size_t)(max ? max : 1), sizeof *cs);
    if (!cs) return EG_ERR_NOMEM;
    eg_status st = EG_OK;
    for (int i = 0; i < o->n_where && st == EG_OK; i++) {
        const char *p = o->where[i];
        while (st == EG_OK) {
            const char *and = strstr(p, " and ");
            size_t len = and ? (size_t)(and - p) : strlen(p);
            char one[2 * CELL];
            snprintf(one, sizeof one, "%.*s", (int)len, p);
            st = parse_cond(t, one, &cs[*n], err, cap);
            if (st == EG_OK) (*n)++;
            if (!and) break;
            p = and + 5;
        }
    }
    if (st != EG_OK) free(cs), cs = NULL, *n = 0;
    *out = cs;
    return st;
}

/* ---- --sort and --best ---- */

typedef struct sort_key {
    const eg_show_view *v;
    int col, desc, metric;
} sort_key;

static double group_value(const sort_key *k, const eg_sum_group *g, const char **text) {
    const eg_sum_col *c = &k->v->t.cols[k->col];
    *text = NULL;
    if (k->metric) {
        double mean, sd;
        return eg_sum_stat(&k->v->t, c, g, &mean, &sd) ? mean : NAN;
    }
    if (c->type == EG_COL_STR) return *text = c->s[g->first_row], 0;
    return c->f[g->first_row];
}

typedef struct keyed {
    eg_sum_group g;
    double x;
    const char *text;
} keyed;

/* a goes before b: by text (string parameters) or number, missing values last */
static int goes_before(const keyed *a, const keyed *b, int desc) {
    if (a->text || b->text) return a->text && b->text && (desc ? strcmp(a->text, b->text) > 0 : strcmp(a->text, b->text) < 0);
    if (isnan(a->x)) return 0;
    return isnan(b->x) || (desc ? a->x > b->x : a->x < b->x);
}

/* the groups by their key, each key computed once; insertion sort (stable: ties keep plan order) */
static eg_status sort_groups(eg_show_view *v, const sort_key *k) {
    keyed *ks = malloc(sizeof *ks * (size_t)(v->ng ? v->ng : 1));
    if (!ks) return EG_ERR_NOMEM; /* never the plan order passed off as the sorted one */
    for (int i = 0; i < v->ng; i++) {
        ks[i].g = v->groups[i];
        ks[i].x = group_value(k, &v->groups[i], &ks[i].text);
    }
    for (int i = 1; i < v->ng; i++) {
        keyed cur = ks[i];
        int j = i - 1;
        for (; j >= 0 && goes_before(&cur, &ks[j], k->desc); j--)
            ks[j + 1] = ks[j];
        ks[j + 1] = cur;
    }
    for (int i = 0; i < v->ng; i++)
        v->groups[i] = ks[i].g;
    free(ks);
    return EG_OK;
}

static eg_status parse_sort(eg_show_view *v, const char *spec, sort_key *k, char *err, size_t cap) {
    char key[CELL];
    int dir = 0; /* +1 ascending, -1 descending, 0 by the goal */
    if (*spec == '+' || *spec == '-') dir = *spec++ == '+' ? 1 : -1;
    snprintf(key, sizeof key, "%s", spec);
    int amb, c = find_col(&v->t, key, &amb);
    if (c < 0 || amb || (v->t.cols[c].role != EG_ROLE_METRIC && v->t.cols[c].role != EG_ROLE_PARAM)) {
        char hint[2048];
        names_hint(&v->t, 0, hint, sizeof hint);
        snprintf(err, cap, "--sort %s: %s (a metric or a swept parameter: %s)", spec,
                 amb ? "fits several metrics; write the full name" : "no such metric or swept parameter", hint);
        return EG_ERR_INVALID;
    }
    k->v = v;
    k->col = c;
    k->metric = v->t.cols[c].role == EG_ROLE_METRIC;
    k->desc = dir ? dir < 0 : k->metric && v->t.cols[c].goal == 2;
    return EG_OK;
}

static eg_status apply_best(eg_show_view *v, const char *spec, char *err, size_t cap) {
    char key[CELL];
    snprintf(key, sizeof key, "%s", spec);
    int goal = 0;
    char *colon = strrchr(key, ':');
    if (colon && (!strcmp(colon, ":max") || !strcmp(colon, ":min"))) goal = colon[2] == 'a' ? 2 : 1, *colon = 0;
    int amb, c = find_col(&v->t, key, &amb);
    if (c < 0 || amb || v->t.cols[c].role != EG_ROLE_METRIC) {
        char hint[2048];
        names_hint(&v->t, 1, hint, sizeof hint);
        snprintf(err, cap, "--best %s: %s (metrics: %s)", spec,
                 amb ? "fits several metrics; write the full name" : "no such metric", hint);
        return EG_ERR_INVALID;
    }
    if (!goal) goal = v->t.cols[c].goal;
    if (!goal) {
        snprintf(err, cap, "--best %s: the model declares no goal for %s; write --best %s:max or %s:min", spec,
                 v->t.cols[c].name, key, key);
        return EG_ERR_INVALID;
    }
    sort_key k = {.v = v, .col = c, .metric = 1, .desc = goal == 2};
    if (sort_groups(v, &k) != EG_OK) return EG_ERR_NOMEM;
    const char *t;
    int keep = v->ng && !isnan(group_value(&k, &v->groups[0], &t)); /* no group has a value: none is best */
    for (int g = keep; g < v->ng; g++)
        free(v->groups[g].rows);
    v->ng = keep;
    v->best_col = c;
    v->best_goal = goal;
    return EG_OK;
}

/* ---- --metrics ---- */

static eg_status select_metrics(eg_show_view *v, const char *list, char *err, size_t cap) {
    const eg_sum_table *t = &v->t;
    v->nm = 0;
    if (!list) {
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].role == EG_ROLE_METRIC) v->mcols[v->nm++] = c;
        return EG_OK;
    }
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        trim(tok);
        int found = 0;
        for (int c = 0; c < t->n_cols; c++) {
            const char *name = t->cols[c].name;
            if (t->cols[c].role != EG_ROLE_METRIC) continue;
            if (strcmp(name, tok) && strcmp(short_metric(name), tok) && fnmatch(tok, name, 0) &&
                fnmatch(tok, short_metric(name), 0))
                continue;
            found = 1;
            int dup = 0;
            for (int k = 0; k < v->nm; k++)
                dup |= v->mcols[k] == c;
            if (!dup) v->mcols[v->nm++] = c;
        }
        if (!found) {
            char hint[2048];
            names_hint(t, 1, hint, sizeof hint);
            snprintf(err, cap, "--metrics: no metric '%s' (metrics: %s)", tok, hint);
            return EG_ERR_INVALID;
        }
    }
    return EG_OK;
}

/* ---- the view ---- */

/* a parameter column shows only when it has two different values among the view's runs */
static int varies(const eg_sum_table *t, int col) {
    char a[CELL], b[CELL];
    if (t->n_rows > 0) eg_summary_cell(&t->cols[col], 0, a, sizeof a);
    for (int r = 1; r < t->n_rows; r++) {
        eg_summary_cell(&t->cols[col], r, b, sizeof b);
        if (strcmp(a, b)) return 1;
    }
    return 0;
}

void eg_show_view_free(eg_show_view *v) {
    eg_sum_groups_free(v->groups, v->ng);
    eg_summary_free(&v->t);
    free(v->pcols);
    free(v->mcols);
    memset(v, 0, sizeof *v);
}

eg_status eg_show_view_build(const eg_sum_table *all, const eg_show_opts *o, eg_show_view *v, char *err,
                             size_t cap) {
    memset(v, 0, sizeof *v);
    v->best_col = -1;
    cond *cs = NULL;
    int nc = 0;
    int *rows = malloc(sizeof(int) * (size_t)(all->n_rows ? all->n_rows : 1));
    eg_status st = rows ? parse_where(all, o, &cs, &nc, err, cap) : EG_ERR_NOMEM;
    int n = 0;
    for (int r = 0; st == EG_OK && r < all->n_rows; r++) {
        int ok = 1;
        for (int k = 0; k < nc && ok; k++)
            ok = cond_holds(all, &cs[k], r);
        if (ok) rows[n++] = r;
    }
    free(cs);
    if (st == EG_OK) st = eg_summary_subset(all, rows, n, &v->t);
    free(rows);
    if (st == EG_OK) {
        v->filtered = o->n_where > 0;
        v->pcols = malloc(sizeof(int) * (size_t)(v->t.n_cols + 1));
        v->mcols = malloc(sizeof(int) * (size_t)(v->t.n_cols + 1));
        st = v->pcols && v->mcols ? eg_sum_groups(&v->t, &v->groups, &v->ng) : EG_ERR_NOMEM;
    }
    for (int c = 0; st == EG_OK && c < v->t.n_cols; c++)
        if (v->t.cols[c].role == EG_ROLE_PARAM && varies(&v->t, c)) v->pcols[v->np++] = c;
    if (st == EG_OK) st = select_metrics(v, o->metrics, err, cap);
    if (st == EG_OK && o->sort) {
        sort_key k;
        st = parse_sort(v, o->sort, &k, err, cap);
        if (st == EG_OK) st = sort_groups(v, &k);
    }
    if (st == EG_OK && o->best) st = apply_best(v, o->best, err, cap);
    if (st == EG_ERR_NOMEM) snprintf(err, cap, "out of memory");
    if (st != EG_OK) eg_show_view_free(v);
    return st;
}
