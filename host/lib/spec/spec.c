/* spec.c — eg_spec_load: read, override, check, open the model, expand the
 * sweep, validate every run, hash run ids (error phrasing: spec_diag.c). */
#define _GNU_SOURCE
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/loader.h"
#include "spec_internal.h"

/* ---- loading ---- */

/* A model or data source given as a relative path ("build/engram-model-x.so": it
 * contains '/') is relative to the spec file's directory, as a scaffolded plugin's
 * smoke.yaml names the plugin it sits beside; names, absolute paths and command-line
 * overrides (relative to the working directory) stay as they are. */
static eg_status plugin_path_from_spec(const char *spec_path, spec_ent *m) {
    const char *v = m->v.s;
    if (!v || !strchr(v, '/') || v[0] == '/') return EG_OK;
    if (m->v.file && strcmp(m->v.file, eg_spec_cmdline) == 0) return EG_OK; /* an override: the cwd's */
    if (m->v.file) spec_path = m->v.file; /* relative to the (included) file that names it */
    const char *slash = strrchr(spec_path, '/');
    if (!slash) return EG_OK; /* the spec is in the working directory */
    size_t dir = (size_t)(slash - spec_path), len = dir + 1 + strlen(v) + 1;
    char *full = malloc(len);
    if (!full) return EG_ERR_NOMEM;
    snprintf(full, len, "%.*s/%s", (int)dir, spec_path, v);
    free(m->v.s);
    m->v.s = full;
    return EG_OK;
}

void eg_spec_free(eg_spec *s) {
    if (!s) return;
    free(s->path);
    free(s->experiment);
    free(s->model);
    eg_cfg_free(&s->base);
    for (int i = 0; i < s->n_runs; i++)
        eg_cfg_free(&s->runs[i].cfg);
    free(s->runs);
    for (int i = 0; i < s->n_swept; i++)
        free(s->swept_keys[i]);
    free(s->swept_keys);
    for (int i = 0; i < s->n_overrides; i++)
        free(s->overrides[i]);
    free(s->overrides);
    if (s->includes) spec_incls_free(s->includes);
    free(s->includes);
    if (s->trace) spec_trace_free(s->trace);
    free(s->trace);
    free(s);
}

eg_status eg_spec_load(const char *path, const char *const *overrides, int n_overrides, eg_spec **out, char *err,
                       size_t cap) {
    char dummy[8];
    if (!err || !cap) {
        err = dummy;
        cap = sizeof dummy;
    }
    err[0] = 0;
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    eg_status st = spec_read_file(path, "spec", &text, &len, err, cap);
    if (st != EG_OK) return st;

    spec_ctx ctx = {path, overrides, n_overrides, err, cap, NULL, NULL, NULL};
    spec_ents ents = {0};
    eg_model_plugin *model = NULL;
    spec_env env = {0};
    env.n_backends = -1;
    eg_cfg *runs = NULL;
    int n_runs = 0;
    eg_spec *s = calloc(1, sizeof *s);
    if (!s) st = EG_ERR_NOMEM;
    /* the overrides as given: recorded in run files, and phrase an override's position later */
    if (s && n_overrides > 0 && !(s->overrides = calloc((size_t)n_overrides, sizeof *s->overrides))) st = EG_ERR_NOMEM;
    for (int i = 0; s && s->overrides && i < n_overrides && st == EG_OK; i++)
        if (!(s->overrides[s->n_overrides++] = strdup(overrides[i]))) st = EG_ERR_NOMEM;

    if (s && (!(s->includes = calloc(1, sizeof *s->includes)) || !(s->trace = calloc(1, sizeof *s->trace))))
        st = EG_ERR_NOMEM;
    unsigned char *used = n_overrides > 0 ? calloc((size_t)n_overrides, 1) : NULL;
    if (n_overrides > 0 && !used) st = EG_ERR_NOMEM;
    if (st == EG_OK) {
        ctx.incls = s->includes;
        ctx.trace = s->trace;
        ctx.override_used = used;
        st = spec_compose(&ctx, text, len, &ents);
    }
    /* an override GROUP=OPTION that chose an included group's option is used up */
    for (int i = 0; i < n_overrides && st == EG_OK; i++)
        if (!used[i]) st = spec_apply_override(&ctx, i, &ents);
    free(used);
    ctx.override_used = NULL;
    if (st == EG_OK) st = spec_check_top(&ctx, &ents);
    if (st == EG_OK) st = plugin_path_from_spec(path, &ents.e[spec_ents_find(&ents, "model")]);
    int data_source = st == EG_OK ? spec_ents_find(&ents, "data.source") : -1;
    if (data_source >= 0 && ents.e[data_source].v.kind == EG_VAL_STRING)
        st = plugin_path_from_spec(path, &ents.e[data_source]);
    if (st == EG_OK) {
        const spec_ent *m = &ents.e[spec_ents_find(&ents, "model")];
        char lerr[2048];
        if (eg_model_open(m->v.s, &model, lerr, sizeof lerr) != EG_OK)
            st = spec_fail(&ctx, &m->v, "model", "cannot load model '%s': %s", m->v.s, lerr);
        else if (eg_model_check_tasks(model->desc, lerr, sizeof lerr) != EG_OK)
            st = spec_fail(&ctx, &m->v, "model", "cannot use model '%s': %s", m->v.s, lerr);
        else
            env.desc = model->desc;
    }
    if (st == EG_OK) st = spec_expand(&ctx, &ents, &runs, &n_runs, &s->base);
    for (int i = 0; i < n_runs && st == EG_OK; i++) {
        st = spec_interpolate_run(&ctx, &runs[i]);
        if (st == EG_OK) st = spec_validate_run(&ctx, &env, &runs[i]);
        eg_cfg_shrink(&runs[i]); /* a plan holds up to SPEC_MAX_RUNS of them */
    }
    if (st == EG_OK) {
        s->runs = calloc((size_t)n_runs, sizeof *s->runs);
        s->path = strdup(path);
        const eg_value *e = eg_cfg_get(&runs[0], "experiment"), *m = eg_cfg_get(&runs[0], "model");
        s->experiment = strdup(e && e->s ? e->s : "");
        s->model = strdup(m && m->s ? m->s : "");
        if (!s->runs || !s->path || !s->experiment || !s->model) st = EG_ERR_NOMEM;
    }
    if (st == EG_OK) {
        for (int i = 0; i < n_runs; i++) {
            s->runs[i].index = i;
            s->runs[i].cfg = runs[i]; /* moved */
            eg_cfg_init(&runs[i]);
        }
        s->n_runs = n_runs;
        st = spec_finish_ids(&ctx, env.desc->name, s);
    }

    for (int i = 0; i < n_runs; i++)
        eg_cfg_free(&runs[i]);
    free(runs);
    spec_env_free(&env);
    eg_model_close(model);
    spec_ents_free(&ents);
    free(text);
    if (st != EG_OK) {
        if (st == EG_ERR_NOMEM && !err[0]) snprintf(err, cap, "%s: out of memory", path);
        eg_spec_free(s);
        return st;
    }
    *out = s;
    return EG_OK;
}
