/* runner_init_from.c — the preflight of init_from: the run file a run starts from
 * exists, finished ok, is of a model this run's model can load from (its own, or one
 * its descriptor lists in init_from_models), the model can load weights at all, and
 * the items the init run saw have the shape of this run's items. Each init file is
 * opened once per invocation, however many runs start from it. Errors are phrased at
 * init_from's position in the spec (or its override). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_internal.h"
#include "runner_internal.h"

enum { ATTR_STATUS, ATTR_MODEL, ATTR_SHAPE, ATTR_SOURCE, N_ATTRS };
static const char *const attr_names[N_ATTRS] = {"status", "model", "data_shape", "data.source"};

typedef struct init_file {
    char *path;
    eg_status st; /* of reading its attributes */
    char attrs[N_ATTRS][256];
} init_file;

struct eg_init_cache {
    init_file *files;
    int n;
};

eg_init_cache *eg_init_cache_new(void) {
    return calloc(1, sizeof(eg_init_cache));
}

void eg_init_cache_free(eg_init_cache *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++)
        free(c->files[i].path);
    free(c->files);
    free(c);
}

/* the init file's root attributes, read on first use; NULL when out of memory */
static const init_file *lookup(eg_init_cache *c, const char *path) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->files[i].path, path) == 0) return &c->files[i];
    init_file *grown = realloc(c->files, (size_t)(c->n + 1) * sizeof *grown);
    if (!grown) return NULL;
    c->files = grown;
    init_file *f = &c->files[c->n];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return NULL;
    /* read whole in a guarded child first (the run reads its weights later); a file that
     * read cleanly there is safe to read its attributes from here */
    const char *one = path;
    if (eg_results_vet_many(&one, 1, &f->st) != EG_OK) f->st = EG_ERR_IO;
    if (f->st == EG_OK) {
        char *bufs[N_ATTRS];
        for (int k = 0; k < N_ATTRS; k++)
            bufs[k] = f->attrs[k];
        f->st = eg_results_run_attrs(path, N_ATTRS, attr_names, bufs, sizeof f->attrs[0]);
    }
    c->n++;
    return f;
}

static const eg_value *init_value(const eg_run_plan *p) {
    return eg_cfg_get(&p->cfg, "init_from");
}

int eg_init_check_file(eg_init_cache *c, const eg_spec *s, const char *out_root, const eg_run_plan *p,
                       const eg_model_plugin *m, char *err, size_t cap) {
    char path[4096];
    eg_run_init_path(out_root, &p->cfg, path, sizeof path);
    if (!path[0]) return 0;
    const eg_value *at = init_value(p);
    const char *name = m && m->desc->name ? m->desc->name : "?";
    if (m && !m->desc->load) {
        eg_spec_fail_value(s, at, "init_from", err, cap,
                           "model %s cannot start from another run's weights (its plugin has no load)", name);
        return -1;
    }
    const init_file *f = lookup(c, path);
    if (!f) {
        eg_spec_fail_value(s, at, "init_from", err, cap, "out of memory");
        return -1;
    }
    if (f->st == EG_ERR_NOTFOUND) {
        eg_spec_fail_value(s, at, "init_from", err, cap,
                           "no run file at %s (init_from names a run file, or the id of a run of experiment %s)", path,
                           eg_cfg_text(&p->cfg, "experiment") ? eg_cfg_text(&p->cfg, "experiment") : "?");
        return -1;
    }
    if (f->st != EG_OK || !f->attrs[ATTR_STATUS][0]) {
        eg_spec_fail_value(s, at, "init_from", err, cap, "%s is not a readable engram run file", path);
        return -1;
    }
    if (strcmp(f->attrs[ATTR_STATUS], "ok") != 0) {
        eg_spec_fail_value(s, at, "init_from", err, cap,
                           "run %s has status %s, not ok: it saved no weights to start from", path,
                           f->attrs[ATTR_STATUS]);
        return -1;
    }
    const char *init_model = f->attrs[ATTR_MODEL];
    if (m && !eg_model_loads_from(m->desc, init_model)) {
        char others[512] = "";
        const char *list = eg_model_init_from_models(m->desc);
        if (list && *list) snprintf(others, sizeof others, " and of %s", list);
        for (char *q = others; *q; q++)
            if (*q == '|') *q = '/';
        eg_spec_fail_value(s, at, "init_from", err, cap,
                           "run %s is of model %s, but this run's model is %s, which starts only from runs of %s%s",
                           path, init_model[0] ? init_model : "(none recorded)", name, name, others);
        return -1;
    }
    return 0;
}

int eg_init_check_shape(eg_init_cache *c, const eg_spec *s, const char *out_root, const eg_run_plan *p,
                        const eg_dataset *ds, char *err, size_t cap) {
    char path[4096];
    eg_run_init_path(out_root, &p->cfg, path, sizeof path);
    if (!path[0] || !ds) return 0;
    const init_file *f = lookup(c, path);
    if (!f || f->st != EG_OK || !f->attrs[ATTR_SHAPE][0]) return 0; /* a file from before data_shape: unknown */
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%d", ds->channels, ds->height, ds->width);
    if (strcmp(shape, f->attrs[ATTR_SHAPE]) == 0) return 0;
    eg_spec_fail_value(s, init_value(p), "init_from", err, cap,
                       "run %s learnt its weights on items of shape %s (data.source %s), but this run's items are %s "
                       "(data.source %s): the weights' shapes follow the data's, so they cannot be loaded",
                       path, f->attrs[ATTR_SHAPE], f->attrs[ATTR_SOURCE][0] ? f->attrs[ATTR_SOURCE] : "?", shape,
                       ds->source ? ds->source : "?");
    return -1;
}
