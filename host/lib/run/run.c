/* run.c — the run context API of plugin.h: typed parameters, datasets, RNG
 * streams, curves, metrics, tensors, pictures, progress, cancellation. The run
 * itself (create/fit/eval/save and the run file) is in runner_exec.c. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engram/source.h"
#include "registry/metric_lookup.h"
#include "run_internal.h"

static volatile sig_atomic_t g_cancel;

static void on_signal(int sig) {
    (void)sig;
    g_cancel = 1;
}

void eg_run_request_cancel(void) {
    g_cancel = 1;
}
int eg_run_cancel_requested(void) {
    return g_cancel != 0;
}

void eg_run_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* A plugin asked for something the schema does not have: a bug in the plugin.
 * Abort the run's process (the runner records it as failed with this message). */
static void plugin_bug(const eg_run *run, const char *fmt, const char *key, const char *what) {
    fprintf(stderr, "engram: plugin bug in model '%s': ", run->model ? run->model->desc->name : "?");
    fprintf(stderr, fmt, key, what);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static const eg_value *lookup(const eg_run *run, const char *prefix, const char *key, const char *want) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", prefix, key ? key : "");
    const eg_value *v = eg_cfg_get(run->cfg, full);
    if (!v) plugin_bug(run, "asked for unknown key '%s' (%s); declare it in the model's schema", full, want);
    return v;
}

static void type_bug(const eg_run *run, const char *prefix, const char *key, const char *want) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", prefix, key);
    plugin_bug(run, "key '%s' read as %s but the resolved value has another type", full, want);
}

static int64_t get_int(const eg_run *run, const char *prefix, const char *key) {
    const eg_value *v = lookup(run, prefix, key, "int");
    if (v->kind == EG_VAL_INT) return v->i;
    if (v->kind == EG_VAL_BOOL) return v->b;
    if (v->kind == EG_VAL_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9.0e18) return (int64_t)v->f;
    type_bug(run, prefix, key, "int");
    return 0;
}

static double get_float(const eg_run *run, const char *prefix, const char *key) {
    const eg_value *v = lookup(run, prefix, key, "float");
    if (v->kind == EG_VAL_FLOAT) return v->f;
    if (v->kind == EG_VAL_INT) return (double)v->i;
    type_bug(run, prefix, key, "float");
    return 0;
}

static const char *get_str(const eg_run *run, const char *prefix, const char *key) {
    const eg_value *v = lookup(run, prefix, key, "string");
    if (v->kind == EG_VAL_LIST || v->kind == EG_VAL_NULL || !v->s) type_bug(run, prefix, key, "string");
    return v->s;
}

eg_ctx *eg_run_ctx(eg_run *run) {
    return run->ctx;
}

uint64_t eg_run_seed(const eg_run *run) {
    const eg_value *v = eg_cfg_get(run->cfg, "seed");
    return v && v->kind == EG_VAL_INT ? (uint64_t)v->i : 0;
}

eg_rng eg_run_rng(const eg_run *run, const char *name) {
    return eg_rng_named(eg_run_seed(run), name);
}

int eg_param_bool(const eg_run *run, const char *key) {
    const eg_value *v = lookup(run, "params.", key, "bool");
    if (v->kind == EG_VAL_BOOL) return v->b;
    if (v->kind == EG_VAL_INT) return v->i != 0;
    type_bug(run, "params.", key, "bool");
    return 0;
}

int64_t eg_param_int(const eg_run *run, const char *key) {
    return get_int(run, "params.", key);
}
double eg_param_float(const eg_run *run, const char *key) {
    return get_float(run, "params.", key);
}
const char *eg_param_str(const eg_run *run, const char *key) {
    return get_str(run, "params.", key);
}

int eg_param_is(const eg_run *run, const char *key, const char *value) {
    return strcmp(get_str(run, "params.", key), value) == 0;
}

int eg_param_list(const eg_run *run, const char *key, const double **values) {
    eg_run *r = (eg_run *)run; /* the list cache is an implementation detail */
    for (int i = 0; i < r->n_lists; i++)
        if (strcmp(r->lists[i].key, key) == 0) {
            *values = r->lists[i].values;
            return r->lists[i].n;
        }
    const eg_value *v = lookup(run, "params.", key, "list");
    int n = 0;
    double *vals = NULL;
    if (v->kind == EG_VAL_LIST) {
        n = v->n_items;
        vals = calloc((size_t)(n ? n : 1), sizeof *vals);
        for (int i = 0; vals && i < n; i++)
            vals[i] = v->items[i].kind == EG_VAL_INT ? (double)v->items[i].i : v->items[i].f;
    } else if (v->kind == EG_VAL_INT || v->kind == EG_VAL_FLOAT) { /* a scalar is a list of one */
        n = 1;
        vals = malloc(sizeof *vals);
        if (vals) vals[0] = v->kind == EG_VAL_INT ? (double)v->i : v->f;
    } else {
        type_bug(run, "params.", key, "number list");
    }
    eg_run_list *grown = realloc(r->lists, (size_t)(r->n_lists + 1) * sizeof *grown);
    if (!vals || !grown) {
        free(vals);
        if (grown) r->lists = grown;
        *values = NULL;
        return 0;
    }
    r->lists = grown;
    r->lists[r->n_lists++] = (eg_run_list){strdup(key), vals, n};
    *values = vals;
    return n;
}

int eg_task_has(const eg_run *run, const char *key) {
    char full[512];
    snprintf(full, sizeof full, "task.%s", key);
    const eg_value *v = eg_cfg_get(run->cfg, full);
    return v && v->kind != EG_VAL_NULL;
}

int64_t eg_task_int(const eg_run *run, const char *key) {
    return get_int(run, "task.", key);
}
double eg_task_float(const eg_run *run, const char *key) {
    return get_float(run, "task.", key);
}
const char *eg_task_str(const eg_run *run, const char *key) {
    return get_str(run, "task.", key);
}

const char *eg_task_kind(const eg_run *run) {
    const eg_value *v = eg_cfg_get(run->cfg, "task.kind");
    return v && v->kind == EG_VAL_STRING ? v->s : "";
}

/* The data.* keys of the run (data.seed == -1 replaced by the run's seed). */
static eg_status data_cfg(const eg_run *run, eg_cfg *out) {
    eg_cfg_init(out);
    for (int i = 0; i < run->cfg->n; i++) {
        if (strncmp(run->cfg->keys[i], "data.", 5) != 0) continue;
        eg_status st = eg_cfg_set(out, run->cfg->keys[i], &run->cfg->vals[i]);
        if (st != EG_OK) return st;
    }
    const eg_value *seed = eg_cfg_get(out, "data.seed");
    if (seed && seed->kind == EG_VAL_INT && seed->i == -1) {
        char text[32];
        eg_value v;
        snprintf(text, sizeof text, "%llu", (unsigned long long)eg_run_seed(run));
        if (eg_value_parse(text, &v) == EG_OK) {
            eg_cfg_set(out, "data.seed", &v);
            eg_value_free(&v);
        }
    }
    return EG_OK;
}

const eg_dataset *eg_run_dataset(eg_run *run, const char *split) {
    if (!split) {
        const eg_value *v = eg_cfg_get(run->cfg, "data.split");
        split = v && v->kind == EG_VAL_STRING ? v->s : "";
    }
    for (int i = 0; i < run->n_splits; i++)
        if (strcmp(run->splits[i].split, split) == 0) return run->splits[i].ds;
    const eg_value *src = eg_cfg_get(run->cfg, "data.source");
    if (!src || src->kind != EG_VAL_STRING) {
        eg_run_fail(run, EG_ERR_SPEC, "the model asked for a dataset but the spec has no data.source");
        return NULL;
    }
    const eg_data_source *ds_src = eg_data_source_find(src->s);
    if (!ds_src) {
        eg_run_fail(run, EG_ERR_NOTFOUND, "unknown data.source '%s' (see `engram datasets`)", src->s);
        return NULL;
    }
    eg_cfg dc;
    eg_dataset *ds = NULL;
    char err[2048] = "";
    eg_status st = data_cfg(run, &dc);
    if (st == EG_OK) st = ds_src->load(&dc, split, &ds, err, sizeof err);
    eg_cfg_free(&dc);
    if (st != EG_OK || !ds) {
        eg_run_fail(run, st != EG_OK ? st : EG_ERR_INTERNAL, "dataset %s (split '%s'): %s", src->s, split,
                    err[0] ? err : eg_strerror(st));
        return NULL;
    }
    eg_run_split *grown = realloc(run->splits, (size_t)(run->n_splits + 1) * sizeof *grown);
    if (!grown) {
        eg_dataset_free(ds);
        eg_run_fail(run, EG_ERR_NOMEM, "out of memory caching dataset %s", src->s);
        return NULL;
    }
    run->splits = grown;
    run->splits[run->n_splits++] = (eg_run_split){strdup(split), ds};
    if (run->n_splits == 1 && run->record) { /* what an init_from of this run is checked against */
        char shape[64];
        snprintf(shape, sizeof shape, "%dx%dx%d", ds->channels, ds->height, ds->width);
        eg_record_attr_str(run->record, "data_shape", shape);
    }
    eg_run_log(run, "dataset %s split '%s': %lld items of dim %lld", src->s, split, (long long)ds->n,
               (long long)ds->dim);
    return ds;
}

void eg_run_live_snapshot(eg_run *run, int force) {
    if (!run->live_path[0]) return;
    static double every = -1;
    if (every < 0) {
        const char *e = getenv("ENGRAM_LIVE_EVERY");
        every = e && atof(e) > 0 ? atof(e) : EG_LIVE_EVERY_S;
    }
    double now = eg_monotonic();
    if (!force && now - run->last_live < every) return;
    run->last_live = now;
    char err[512];
    eg_record_attr_num(run->record, "wall_s", now - run->t0);
    eg_record_write(run->record, run->live_path, err, sizeof err); /* best effort: the final file is what counts */
}

void eg_log(eg_run *run, const char *name, int64_t step, double value) {
    eg_record_series(run->record, name, step, value, eg_monotonic() - run->t0);
    if (run->asha.cfg) { /* sweep.adaptive: a rung reached decides whether the run goes on */
        char msg[2048];
        eg_run_asha_point(&run->asha, name, step, value, msg, sizeof msg);
        if (msg[0]) eg_run_log(run, "%s", msg);
    }
    eg_run_live_snapshot(run, 0);
}

void eg_metric(eg_run *run, const char *name, double value) {
    eg_record_metric(run->record, name, value);
    const eg_metric_spec *m = eg_metric_lookup(run->model ? run->model->desc : NULL, name);
    if (m) eg_record_metric_goal(run->record, name, eg_goal_name(m->goal));
}

eg_status eg_save_tensor(eg_run *run, const char *name, const eg_tensor *t) {
    int nd = eg_ndim(t);
    int64_t n = eg_numel(t);
    float *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof *buf);
    if (!buf) return eg_run_fail(run, EG_ERR_NOMEM, "saving weight '%s': out of host memory", name);
    eg_status st = eg_to_host_f32(t, buf);
    if (st == EG_OK) st = eg_record_weight(run->record, name, nd, eg_shape(t), buf);
    free(buf);
    if (st != EG_OK) return eg_run_fail(run, st, "saving weight '%s': %s", name, eg_strerror(st));
    return EG_OK;
}

eg_status eg_save_picture(eg_run *run, const char *name, const char *kind, const uint8_t *pixels, int64_t n, int64_t h,
                          int64_t w, int64_t c) {
    const int64_t shape[4] = {n, h, w, c};
    eg_status st = eg_record_artifact(run->record, name, kind, 4, shape, pixels);
    if (st != EG_OK) return eg_run_fail(run, st, "saving picture '%s': %s", name, eg_strerror(st));
    return EG_OK;
}

eg_status eg_picture_layout(eg_run *run, const char *name, int tile_rows, const char *row_labels) {
    eg_status st = eg_record_artifact_layout(run->record, name, tile_rows, row_labels);
    if (st != EG_OK) return eg_run_fail(run, st, "layout of picture '%s': %s", name ? name : "", eg_strerror(st));
    return EG_OK;
}

int eg_run_has_init(const eg_run *run) {
    return run->init_path[0] != 0;
}

eg_tensor *eg_load_tensor(eg_run *run, const char *name, eg_dtype dt) {
    if (!run->init_path[0]) {
        eg_run_fail(run, EG_ERR_INVALID, "eg_load_tensor('%s') without init_from", name);
        return NULL;
    }
    int ndim = 0;
    int64_t shape[6] = {0};
    float *data = NULL;
    char err[1024] = "";
    eg_status st = eg_results_read_weight(run->init_path, name, &ndim, shape, &data, err, sizeof err);
    if (st != EG_OK) {
        eg_run_fail(run, st, "init_from %s: weight '%s': %s", run->init_path, name, err[0] ? err : eg_strerror(st));
        return NULL;
    }
    eg_scope *s = eg_scope_open(run->ctx);
    eg_tensor *p = eg_persistent(run->ctx, dt, ndim, shape);
    eg_assign(p, eg_from_f32(run->ctx, dt, ndim, shape, data));
    eg_scope_close(s);
    free(data);
    st = eg_ctx_status(run->ctx);
    if (st != EG_OK) {
        eg_run_fail(run, st, "init_from %s: uploading weight '%s': %s", run->init_path, name, eg_ctx_message(run->ctx));
        return NULL;
    }
    return p;
}

void eg_progress(eg_run *run, int64_t done, int64_t total, const char *unit) {
    if (run->progress_fd < 0) return;
    double now = eg_monotonic();
    /* at most 20 lines a second, but always the last one of a phase */
    if (done < total && now - run->last_progress < 0.05) return;
    run->last_progress = now;
    char line[160];
    int len = snprintf(line, sizeof line, "progress %lld %lld %.40s\n", (long long)done, (long long)total,
                       unit && *unit ? unit : "step");
    if (len > 0 && write(run->progress_fd, line, (size_t)len) < 0) { /* a gone parent is not our problem */
    }
}

eg_status eg_run_check(eg_run *run) {
    if (g_cancel) return EG_ERR_CANCELLED;
    if (run->deadline > 0 && eg_monotonic() >= run->deadline) return EG_ERR_CANCELLED;
    if (run->asha.pruned) return EG_ERR_CANCELLED; /* a rung pruned it: the plugin stops as on a cancel */
    return EG_OK;
}

static void log_text(eg_run *run, const char *text) {
    if (run->capture_fd < 0) { /* forked: stderr is the capture file, which becomes /log */
        eg_record_log(run->record, text, strlen(text));
        eg_record_log(run->record, "\n", 1);
    }
    fprintf(stderr, "%s\n", text);
}

void eg_run_log(eg_run *run, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_text(run, buf);
}

eg_status eg_run_fail(eg_run *run, eg_status status, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (status == EG_OK) status = EG_ERR_INTERNAL;
    if (run->fail_status == EG_OK) { /* the first reason is the root cause */
        run->fail_status = status;
        snprintf(run->fail_msg, sizeof run->fail_msg, "%s", buf);
    }
    char line[2100];
    snprintf(line, sizeof line, "error: %s", buf);
    log_text(run, line);
    return status;
}
