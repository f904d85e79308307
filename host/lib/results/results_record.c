/* results_record.c — the in-memory record of one run (root attributes, config,
 * metrics, series, weights, artifacts, log), filled while the run executes and
 * written in one go by eg_record_write (results_write.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_impl.h"

static void problem(eg_record *r, const char *fmt, ...) {
    if (!r || r->problem[0]) return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
}

/* grow an array of `size`-byte elements to hold at least need elements */
static int grow(void **p, int *cap, int need, size_t size) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * size);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

int eg_results_valid_name(const char *name) {
    if (!name || !*name || name[0] == '/') return 0;
    const char *p = name;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0) return 0;
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return 0;
        if (!e) break;
        p = e + 1;
        if (!*p) return 0; /* trailing '/' */
    }
    return 1;
}

void eg_rval_free(eg_rval *v) {
    if (!v) return;
    free(v->s);
    free(v->iv);
    free(v->fv);
    if (v->sv)
        for (int k = 0; k < v->n; k++)
            free(v->sv[k]);
    free(v->sv);
    memset(v, 0, sizeof *v);
}

int eg_rval_copy(const eg_rval *v, eg_rval *out) {
    *out = *v;
    out->s = NULL, out->iv = NULL, out->fv = NULL, out->sv = NULL;
    size_t n = v->n > 0 ? (size_t)v->n : 1;
    int bad = 0;
    if (v->s) bad |= !(out->s = strdup(v->s));
    if (v->iv) {
        out->iv = malloc(n * sizeof *v->iv);
        if (out->iv) memcpy(out->iv, v->iv, (size_t)v->n * sizeof *v->iv);
        else bad = 1;
    }
    if (v->fv) {
        out->fv = malloc(n * sizeof *v->fv);
        if (out->fv) memcpy(out->fv, v->fv, (size_t)v->n * sizeof *v->fv);
        else bad = 1;
    }
    if (v->sv && !(out->sv = calloc(n, sizeof *v->sv))) bad = 1;
    for (int k = 0; v->sv && out->sv && k < v->n; k++)
        bad |= !(out->sv[k] = strdup(v->sv[k] ? v->sv[k] : ""));
    if (bad) eg_rval_free(out);
    return bad ? -1 : 0;
}

static void num_text(double x, char *buf, size_t cap) {
    if (isnan(x))
        snprintf(buf, cap, "nan");
    else if (isinf(x))
        snprintf(buf, cap, x > 0 ? "inf" : "-inf");
    else {
        /* shortest of %.15g .. %.17g that round-trips */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, cap, "%.*g", prec, x);
            if (strtod(buf, NULL) == x) break;
        }
    }
}

void eg_rval_text(const eg_rval *v, char *buf, size_t cap) {
    if (cap == 0) return;
    buf[0] = 0;
    switch (v->kind) {
    case EG_RV_INT: snprintf(buf, cap, "%lld", (long long)v->i); break;
    case EG_RV_BOOL: snprintf(buf, cap, "%s", v->i ? "true" : "false"); break;
    case EG_RV_FLOAT: num_text(v->f, buf, cap); break;
    case EG_RV_STR:
    case EG_RV_LIST: snprintf(buf, cap, "%s", v->s ? v->s : ""); break;
    }
}

eg_record *eg_record_new(void) {
    return calloc(1, sizeof(eg_record));
}

static void tensor_free(eg_rec_tensor *t) {
    free(t->name);
    free(t->kind);
    free(t->row_labels);
    free(t->data);
}

void eg_record_free(eg_record *r) {
    if (!r) return;
    for (int k = 0; k < r->n_attrs; k++) {
        free(r->attrs[k].name);
        eg_rval_free(&r->attrs[k].v);
    }
    free(r->attrs);
    for (int k = 0; k < r->n_metrics; k++)
        free(r->metric_names[k]);
    free(r->metric_names);
    free(r->metric_values);
    free(r->metric_goals);
    for (int k = 0; k < r->n_series; k++) {
        free(r->series[k].name);
        free(r->series[k].rows);
    }
    free(r->series);
    for (int k = 0; k < r->n_weights; k++)
        tensor_free(&r->weights[k]);
    free(r->weights);
    for (int k = 0; k < r->n_artifacts; k++)
        tensor_free(&r->artifacts[k]);
    free(r->artifacts);
    free(r->config_yaml);
    free(r->log);
    free(r);
}

/* ---- root attributes ---- */

/* takes ownership of v's buffers (freed on failure) */
static void put_attr(eg_record *r, const char *name, eg_rval *v) {
    if (!r) {
        eg_rval_free(v);
        return;
    }
    if (!name || !*name) {
        problem(r, "attribute with an empty name");
        eg_rval_free(v);
        return;
    }
    for (int k = 0; k < r->n_attrs; k++)
        if (strcmp(r->attrs[k].name, name) == 0) {
            eg_rval_free(&r->attrs[k].v);
            r->attrs[k].v = *v;
            return;
        }
    char *nm = strdup(name);
    if (!nm || grow((void **)&r->attrs, &r->cap_attrs, r->n_attrs + 1, sizeof *r->attrs)) {
        free(nm);
        eg_rval_free(v);
        problem(r, "out of memory recording attribute '%s'", name);
        return;
    }
    r->attrs[r->n_attrs].name = nm;
    r->attrs[r->n_attrs].v = *v;
    r->n_attrs++;
}

void eg_record_attr_str(eg_record *r, const char *name, const char *value) {
    eg_rval v = {.kind = EG_RV_STR, .s = strdup(value ? value : "")};
    if (!v.s) {
        problem(r, "out of memory recording attribute '%s'", name ? name : "");
        return;
    }
    if (strlen(v.s) > EG_RESULTS_MAX_ATTR_STR) v.s[EG_RESULTS_MAX_ATTR_STR] = 0;
    put_attr(r, name, &v);
}

void eg_record_attr_num(eg_record *r, const char *name, double value) {
    eg_rval v = {.kind = EG_RV_FLOAT, .f = value};
    put_attr(r, name, &v);
}

void eg_record_attr_int(eg_record *r, const char *name, int64_t value) {
    eg_rval v = {.kind = EG_RV_INT, .i = value, .f = (double)value};
    put_attr(r, name, &v);
}

void eg_record_attr_bool(eg_record *r, const char *name, int value) {
    eg_rval v = {.kind = EG_RV_BOOL, .i = value != 0, .f = value != 0};
    put_attr(r, name, &v);
}

/* a config list as an attribute value: int64[] when every item is an integer,
 * float64[] when every item is a number, bool[] when all are booleans, else strings */
static int list_value(const eg_value *lv, eg_rval *out) {
    int n = lv->n_items, all_int = 1, all_num = 1, all_bool = 1;
    for (int k = 0; k < n; k++) {
        eg_val_kind kk = lv->items[k].kind;
        if (kk != EG_VAL_INT) all_int = 0;
        if (kk != EG_VAL_INT && kk != EG_VAL_FLOAT) all_num = 0;
        if (kk != EG_VAL_BOOL) all_bool = 0;
    }
    memset(out, 0, sizeof *out);
    out->kind = EG_RV_LIST;
    out->n = n;
    if (n == 0) all_bool = 0, all_int = 0; /* an empty list is float64[0] */
    size_t cap = 16;
    for (int k = 0; k < n; k++)
        cap += (lv->items[k].s ? strlen(lv->items[k].s) : 24) + 4;
    out->s = malloc(cap);
    if (!out->s) return -1;
    size_t len = 0;
    out->s[len++] = '[';
    if (all_int || all_bool) {
        out->item = all_int ? EG_RV_INT : EG_RV_BOOL;
        out->iv = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
        if (!out->iv) return -1;
    } else if (all_num || n == 0) {
        out->item = EG_RV_FLOAT;
        out->fv = malloc(sizeof(double) * (size_t)(n ? n : 1));
        if (!out->fv) return -1;
    } else {
        out->item = EG_RV_STR;
        out->sv = calloc((size_t)(n ? n : 1), sizeof(char *));
        if (!out->sv) return -1;
    }
    for (int k = 0; k < n; k++) {
        const eg_value *it = &lv->items[k];
        char buf[64];
        eg_rval one = {0};
        if (out->item == EG_RV_INT)
            out->iv[k] = it->i, one.kind = EG_RV_INT, one.i = it->i;
        else if (out->item == EG_RV_BOOL)
            out->iv[k] = it->b != 0, one.kind = EG_RV_BOOL, one.i = it->b != 0;
        else if (out->item == EG_RV_FLOAT) {
            out->fv[k] = it->kind == EG_VAL_INT ? (double)it->i : it->f;
            one.kind = EG_RV_FLOAT, one.f = out->fv[k];
        }
        if (out->item == EG_RV_STR) {
            out->sv[k] = strdup(it->s ? it->s : "");
            if (!out->sv[k]) return -1;
            len += (size_t)snprintf(out->s + len, cap - len, "%s%s", k ? ", " : "", out->sv[k]);
        } else {
            eg_rval_text(&one, buf, sizeof buf);
            len += (size_t)snprintf(out->s + len, cap - len, "%s%s", k ? ", " : "", buf);
        }
    }
    snprintf(out->s + len, cap - len, "]");
    return 0;
}

void eg_record_attr_strs(eg_record *r, const char *name, const char *const *items, int n) {
    eg_value lv = {.kind = EG_VAL_LIST, .n_items = n, .items = calloc((size_t)(n ? n : 1), sizeof(eg_value))};
    eg_rval v = {0};
    if (lv.items)
        for (int k = 0; k < n; k++)
            lv.items[k] = (eg_value){.kind = EG_VAL_STRING, .s = (char *)items[k]};
    if (!lv.items || list_value(&lv, &v)) {
        eg_rval_free(&v);
        problem(r, "out of memory recording attribute '%s'", name);
    } else
        put_attr(r, name, &v);
    free(lv.items);
}

/* `defaulted`: the params/task/data keys whose value the spec did not set (the model's or the
 * task's default applies), so that `engram show` does not present them as chosen */
static void record_defaulted(eg_record *r, const eg_cfg *resolved) {
    int n = 0;
    const char **keys = malloc(sizeof(char *) * (size_t)(resolved->n ? resolved->n : 1));
    if (!keys) return problem(r, "out of memory recording attribute 'defaulted'");
    for (int k = 0; k < resolved->n; k++) {
        const char *key = resolved->keys[k];
        if (resolved->vals[k].file || resolved->vals[k].kind == EG_VAL_NULL) continue;
        if (!strncmp(key, "params.", 7) || !strncmp(key, "task.", 5) || !strncmp(key, "data.", 5)) keys[n++] = key;
    }
    eg_record_attr_strs(r, "defaulted", keys, n);
    free(keys);
}

void eg_record_config(eg_record *r, const eg_cfg *resolved) {
    if (!r || !resolved) return;
    for (int k = 0; k < resolved->n; k++) {
        const char *key = resolved->keys[k];
        const eg_value *v = &resolved->vals[k];
        switch (v->kind) {
        case EG_VAL_NULL: break; /* absent as an attribute; /config keeps it */
        case EG_VAL_BOOL: eg_record_attr_bool(r, key, v->b); break;
        case EG_VAL_INT: eg_record_attr_int(r, key, v->i); break;
        case EG_VAL_FLOAT: eg_record_attr_num(r, key, v->f); break;
        case EG_VAL_STRING:
            if (v->s && strlen(v->s) <= EG_RESULTS_MAX_ATTR_STR) eg_record_attr_str(r, key, v->s);
            break;
        case EG_VAL_LIST: {
            eg_rval lv;
            if (list_value(v, &lv)) {
                eg_rval_free(&lv);
                problem(r, "out of memory recording attribute '%s'", key);
            } else
                put_attr(r, key, &lv);
            break;
        }
        }
    }
    record_defaulted(r, resolved);
    char *yaml = eg_cfg_to_yaml(resolved);
    if (!yaml) {
        problem(r, "could not render the resolved config as YAML");
        return;
    }
    free(r->config_yaml);
    r->config_yaml = yaml;
}

void eg_record_status(eg_record *r, const char *status) {
    eg_record_attr_str(r, "status", status);
}

/* ---- metrics and series ---- */

void eg_record_metric_goal(eg_record *r, const char *name, const char *goal) {
    if (!r || !name) return;
    const char *g = goal && !strcmp(goal, "max") ? "max" : goal && !strcmp(goal, "min") ? "min" : NULL;
    for (int k = 0; k < r->n_metrics; k++)
        if (strcmp(r->metric_names[k], name) == 0) r->metric_goals[k] = g;
}

void eg_record_metric(eg_record *r, const char *name, double value) {
    if (!r) return;
    if (!eg_results_valid_name(name)) {
        problem(r, "invalid metric name '%s' (expected '/'-separated non-empty parts)", name ? name : "");
        return;
    }
    for (int k = 0; k < r->n_metrics; k++)
        if (strcmp(r->metric_names[k], name) == 0) {
            r->metric_values[k] = value;
            return;
        }
    int cap = r->cap_metrics;
    char *nm = strdup(name);
    if (!nm || grow((void **)&r->metric_names, &cap, r->n_metrics + 1, sizeof(char *))) goto oom;
    cap = r->cap_metrics;
    if (grow((void **)&r->metric_values, &cap, r->n_metrics + 1, sizeof(double))) goto oom;
    cap = r->cap_metrics;
    if (grow((void **)&r->metric_goals, &cap, r->n_metrics + 1, sizeof(char *))) goto oom;
    r->cap_metrics = cap;
    r->metric_names[r->n_metrics] = nm;
    r->metric_values[r->n_metrics] = value;
    r->metric_goals[r->n_metrics] = NULL;
    r->n_metrics++;
    return;
oom:
    free(nm);
    problem(r, "out of memory recording metric '%s'", name);
}

void eg_record_series(eg_record *r, const char *name, int64_t step, double value, double wall_s) {
    if (!r) return;
    if (!name) {
        problem(r, "series with no name");
        return;
    }
    eg_rec_series *s = NULL;
    /* series are appended in a loop: try the last one used first */
    if (r->last_series < r->n_series && strcmp(r->series[r->last_series].name, name) == 0)
        s = &r->series[r->last_series];
    for (int k = 0; !s && k < r->n_series; k++)
        if (strcmp(r->series[k].name, name) == 0) s = &r->series[k], r->last_series = k;
    if (!s) {
        if (!eg_results_valid_name(name)) {
            problem(r, "invalid series name '%s' (expected '/'-separated non-empty parts)", name ? name : "");
            return;
        }
        char *nm = strdup(name);
        if (!nm || grow((void **)&r->series, &r->cap_series, r->n_series + 1, sizeof *r->series)) {
            free(nm);
            problem(r, "out of memory recording series '%s'", name);
            return;
        }
        s = &r->series[r->n_series];
        memset(s, 0, sizeof *s);
        s->name = nm;
        r->last_series = r->n_series++;
    }
    if (s->n == s->cap) {
        int64_t nc = s->cap ? s->cap * 2 : 64;
        void *q = realloc(s->rows, (size_t)nc * sizeof(eg_series_row));
        if (!q) {
            problem(r, "out of memory recording series '%s'", s->name);
            return;
        }
        s->rows = q;
        s->cap = nc;
    }
    eg_series_row *row = (eg_series_row *)s->rows + s->n++;
    row->step = step;
    row->value = value;
    row->wall_s = wall_s;
}

int eg_record_has_nonfinite(const eg_record *r) {
    if (!r) return 0;
    for (int k = 0; k < r->n_metrics; k++)
        if (!isfinite(r->metric_values[k])) return 1;
    for (int k = 0; k < r->n_series; k++) {
        const eg_series_row *rows = r->series[k].rows;
        for (int64_t j = 0; j < r->series[k].n; j++)
            if (!isfinite(rows[j].value)) return 1;
    }
    return 0;
}

/* ---- tensors ---- */

/* invalid arguments and allocation failures are returned to the caller (not
 * remembered as a record problem: the caller knows, and the rest of the run is kept) */
static eg_status put_tensor(eg_rec_tensor **arr, int *n, int *cap, const char *name, const char *kind, int ndim,
                            const int64_t *shape, const void *data, size_t elem) {
    if (!eg_results_valid_name(name) || ndim < 0 || ndim > 8 || (ndim > 0 && !shape)) return EG_ERR_INVALID;
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return EG_ERR_INVALID;
        count *= (size_t)shape[d];
    }
    if (count && !data) return EG_ERR_INVALID;
    eg_rec_tensor t = {0};
    t.name = strdup(name);
    t.kind = kind ? strdup(kind) : NULL;
    t.ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    t.data = malloc(count > 0 ? count * elem : 1);
    if (!t.name || (kind && !t.kind) || !t.data) {
        tensor_free(&t);
        return EG_ERR_NOMEM;
    }
    if (count) memcpy(t.data, data, count * elem);
    for (int k = 0; k < *n; k++)
        if (strcmp((*arr)[k].name, name) == 0) {
            tensor_free(&(*arr)[k]);
            (*arr)[k] = t;
            return EG_OK;
        }
    if (grow((void **)arr, cap, *n + 1, sizeof **arr)) {
        tensor_free(&t);
        return EG_ERR_NOMEM;
    }
    (*arr)[(*n)++] = t;
    return EG_OK;
}

eg_status eg_record_weight(eg_record *r, const char *name, int ndim, const int64_t *shape, const float *data) {
    if (!r) return EG_ERR_INVALID;
    return put_tensor(&r->weights, &r->n_weights, &r->cap_weights, name, NULL, ndim, shape, data, sizeof(float));
}

eg_status eg_record_artifact_layout(eg_record *r, const char *name, int tile_rows, const char *row_labels) {
    if (!r || !name || tile_rows < 1) return EG_ERR_INVALID;
    for (int k = 0; k < r->n_artifacts; k++)
        if (strcmp(r->artifacts[k].name, name) == 0) {
            char *labels = row_labels ? strdup(row_labels) : NULL;
            if (row_labels && !labels) return EG_ERR_NOMEM;
            free(r->artifacts[k].row_labels);
            r->artifacts[k].row_labels = labels;
            r->artifacts[k].tile_rows = tile_rows;
            return EG_OK;
        }
    return EG_ERR_NOTFOUND;
}

eg_status eg_record_artifact(eg_record *r, const char *name, const char *kind, int ndim, const int64_t *shape,
                             const uint8_t *data) {
    if (!r) return EG_ERR_INVALID;
    return put_tensor(&r->artifacts, &r->n_artifacts, &r->cap_artifacts, name, kind ? kind : "image", ndim, shape, data,
                      1);
}

void eg_record_log(eg_record *r, const char *text, size_t len) {
    if (!r || !text || !len) return;
    if (r->log_len + len + 1 > r->log_cap) {
        size_t nc = r->log_cap ? r->log_cap : 4096;
        while (nc < r->log_len + len + 1)
            nc *= 2;
        char *q = realloc(r->log, nc);
        if (!q) {
            problem(r, "out of memory recording the log");
            return;
        }
        r->log = q;
        r->log_cap = nc;
    }
    memcpy(r->log + r->log_len, text, len);
    r->log_len += len;
    r->log[r->log_len] = 0;
}
