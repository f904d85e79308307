/* runner_preflight.c — everything that makes `engram run` exit 2 before any run starts
 * or anything is written: each run's model opened, its backend probed, its init_from
 * (runner_init_from.c), and its data: each distinct data config loaded once and
 * checked (eg_data_check_load), then every run of that config checked against the
 * loaded items — its task kind's data rules (tasks/tasks.h: task.memories against the
 * items, task.corrupt.size against the image, ...) and the shape its init_from run saw.
 * The first problem is printed as "engram: FILE:LINE:COL: KEY: what was expected". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram/source.h"
#include "runner.h"
#include "results/results_guard.h"
#include "runner_internal.h"
#include "tasks/tasks.h"

static const char *cfg_s(const eg_cfg *c, const char *key, const char *dflt) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind == EG_VAL_STRING && v->s ? v->s : dflt;
}

static const eg_model_plugin *cache_model(eg_model_cache *mc, const char *name, char *err, size_t cap) {
    for (int i = 0; i < mc->n; i++)
        if (strcmp(mc->names[i], name) == 0) return mc->plugins[i];
    eg_model_plugin *m = NULL;
    if (eg_model_open(name, &m, err, cap) != EG_OK) return NULL;
    char **names = realloc(mc->names, (size_t)(mc->n + 1) * sizeof *names);
    if (names) mc->names = names;
    eg_model_plugin **plugins = names ? realloc(mc->plugins, (size_t)(mc->n + 1) * sizeof *plugins) : NULL;
    if (plugins) mc->plugins = plugins;
    char *copy = plugins ? strdup(name) : NULL;
    if (!copy) {
        eg_model_close(m);
        snprintf(err, cap, "model %s: out of memory", name);
        return NULL;
    }
    mc->names[mc->n] = copy;
    mc->plugins[mc->n++] = m;
    return m;
}

void eg_model_cache_free(eg_model_cache *mc) {
    for (int i = 0; i < mc->n; i++) {
        free(mc->names[i]);
        eg_model_close(mc->plugins[i]);
    }
    free(mc->names);
    free(mc->plugins);
    memset(mc, 0, sizeof *mc);
}

/* The data.* keys of a run as one string, to load each distinct data config once. */
static char *data_key(const eg_cfg *c) {
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = 0;
    for (int k = 0; k < c->n; k++) {
        if (strncmp(c->keys[k], "data.", 5) != 0) continue;
        char val[1024];
        eg_value_canonical(&c->vals[k], val, sizeof val);
        size_t need = strlen(c->keys[k]) + strlen(val) + 3;
        if (len + need >= cap) {
            cap = 2 * (len + need);
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s=%s\n", c->keys[k], val);
    }
    return out;
}

/* A loader's message placed at the key it is about: "data.KEY: ..." names it; else a
 * message naming the data.path file is data.path's; anything else is data.source's. */
static void data_error(const eg_spec *spec, const eg_cfg *c, const char *msg, char *err, size_t cap) {
    if (strncmp(msg, "data.", 5) == 0) {
        size_t n = strcspn(msg, ": ,()");
        char key[128];
        if (n < sizeof key && msg[n] == ':' && msg[n + 1] == ' ') {
            memcpy(key, msg, n);
            key[n] = 0;
            if (eg_cfg_get(c, key)) {
                eg_spec_fail_key(spec, c, key, err, cap, "%s", msg + n + 2);
                return;
            }
        }
    }
    const char *path = cfg_s(c, "data.path", "");
    eg_spec_fail_key(spec, c, path[0] && strstr(msg, path) ? "data.path" : "data.source", err, cap, "%s", msg);
}

/* the data rules of every run of one data config, against its loaded dataset */
static int check_runs_on(const eg_spec *spec, const eg_runner_opts *o, eg_run_plan **mine, char **keys, int n_mine,
                         int first, const eg_dataset *ds, eg_init_cache *ic, char *err, size_t cap) {
    const eg_data_source *src = eg_data_source_find(cfg_s(&mine[first]->cfg, "data.source", ""));
    char *mine_key = keys[first];
    keys[first] = NULL;
    for (int j = first; j < n_mine; j++) {
        if (j > first && (!keys[j] || strcmp(keys[j], mine_key) != 0)) continue;
        const eg_cfg *c = &mine[j]->cfg;
        const char *key = NULL;
        char msg[1024];
        int bad = 0;
        if (eg_task_data_problem(c, ds, src ? src->splits : NULL, &key, msg, sizeof msg))
            bad = eg_spec_fail_key(spec, c, key, err, cap, "%s", msg) != EG_OK;
        else
            bad = eg_init_check_shape(ic, spec, o->out_root, mine[j], ds, err, cap) != 0;
        free(keys[j]); /* checked */
        keys[j] = NULL;
        if (bad) {
            free(mine_key);
            return -1;
        }
    }
    free(mine_key);
    return 0;
}

/* Each distinct data config is loaded once (one dataset in memory at a time), so a
 * missing or truncated file is one usage error, not n failed runs. */
static int check_data(const eg_spec *spec, const eg_runner_opts *o, eg_run_plan **mine, int n_mine, eg_init_cache *ic,
                      char *err, size_t cap) {
    char **keys = calloc((size_t)n_mine + 1, sizeof *keys);
    if (!keys) return snprintf(err, cap, "%s: out of memory", spec->path), -1;
    int bad = 0;
    for (int i = 0; i < n_mine; i++)
        keys[i] = data_key(&mine[i]->cfg);
    for (int i = 0; i < n_mine && !bad; i++) {
        if (!keys[i]) continue; /* checked with an earlier run of the same data */
        eg_dataset *ds = NULL;
        char msg[4096];
        eg_guard_enter(cfg_s(&mine[i]->cfg, "data.path", cfg_s(&mine[i]->cfg, "data.source", "")));
        eg_status loaded = eg_data_check_load(&mine[i]->cfg, &ds, msg, sizeof msg);
        eg_guard_leave();
        if (loaded != EG_OK) {
            data_error(spec, &mine[i]->cfg, msg, err, cap);
            bad = 1;
        } else {
            bad = check_runs_on(spec, o, mine, keys, n_mine, i, ds, ic, err, cap) != 0;
        }
        eg_dataset_free(ds);
    }
    for (int i = 0; i < n_mine; i++)
        free(keys[i]);
    free(keys);
    return bad ? -1 : 0;
}

typedef struct data_job {
    const eg_spec *spec;
    const eg_runner_opts *o;
    eg_run_plan **mine;
    int n_mine;
    eg_init_cache *ic;
} data_job;

static eg_status data_child(void *ctx, char *err, size_t cap) {
    data_job *j = ctx;
    return check_data(j->spec, j->o, j->mine, j->n_mine, j->ic, err, cap) == 0 ? EG_OK : EG_ERR_SPEC;
}

/* The data files are read in a guarded child (results_guard.h): a file that crashes or
 * hangs its reader (HDF5 1.10 on a crafted file) is an error naming it, not a crash of
 * engram, and the parent never holds the datasets. */
static int check_data_guarded(const eg_spec *spec, const eg_runner_opts *o, eg_run_plan **mine, int n_mine,
                              eg_init_cache *ic, char *err, size_t cap) {
    data_job job = {spec, o, mine, n_mine, ic};
    eg_guard_outcome g;
    eg_status st = eg_guard_run(data_child, &job, &g);
    if (st == EG_OK) return 0;
    if (g.crashed)
        snprintf(err, cap, "%s: reading the data (%s) killed the reading process (%s): the file is malformed",
                 spec->path, g.culprit[0] ? g.culprit : "?", g.reason);
    else
        snprintf(err, cap, "%s", g.message);
    return -1;
}

/* the backend of run c, probed once per name in a short-lived child */
static int check_backend(const eg_spec *spec, const eg_cfg *c, char ***probed, int *n_probed, char *err, size_t cap) {
    const char *b = cfg_s(c, "backend", "auto");
    for (int k = 0; k < *n_probed; k++)
        if (strcmp((*probed)[k], b) == 0) return 0;
    char **grown = realloc(*probed, (size_t)(*n_probed + 1) * sizeof *grown);
    if (!grown) return snprintf(err, cap, "out of memory"), -1;
    *probed = grown;
    if (!((*probed)[*n_probed] = strdup(b))) return snprintf(err, cap, "out of memory"), -1;
    (*n_probed)++;
    char resolved[64], reason[1024];
    int avail = eg_backend_probe(b, resolved, sizeof resolved, NULL, 0, reason, sizeof reason);
    if (avail == 1) return 0;
    eg_spec_fail_key(spec, c, "backend", err, cap, "backend '%s' %s: %s", b,
                     avail == 0 ? "is not available here" : "cannot be loaded", reason[0] ? reason : "no reason given");
    return -1;
}

int eg_runner_preflight(const eg_spec *spec, const eg_runner_opts *o, eg_run_plan **mine, int n_mine,
                        eg_model_cache *mc, const eg_model_plugin **models) {
    char err[8192] = "";
    char **probed = NULL;
    int n_probed = 0, bad = 0;
    eg_init_cache *ic = eg_init_cache_new();
    if (!ic) {
        fprintf(stderr, "engram: %s: out of memory\n", spec->path);
        return -1;
    }
    for (int i = 0; i < n_mine && !bad; i++) {
        const eg_cfg *c = &mine[i]->cfg;
        models[i] = cache_model(mc, cfg_s(c, "model", spec->model ? spec->model : ""), err, sizeof err);
        bad = !models[i] || check_backend(spec, c, &probed, &n_probed, err, sizeof err) != 0 ||
              eg_init_check_file(ic, spec, o->out_root, mine[i], models[i], err, sizeof err) != 0;
    }
    for (int k = 0; k < n_probed; k++)
        free(probed[k]);
    free(probed);
    if (!bad) bad = check_data_guarded(spec, o, mine, n_mine, ic, err, sizeof err) != 0;
    eg_init_cache_free(ic);
    if (bad) fprintf(stderr, "engram: %s\n", err);
    return bad ? -1 : 0;
}
