/* registry.c — the dataset sources: the table of built-in ones (`engram datasets`
 * lists it in this order), then the data-source plugins on the search path, opened
 * when first named and kept open for the life of the process (a loaded dataset's
 * strings may point into the plugin). The preflight check of what a loader returns
 * (shape, items, finite values, labels in range). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"
#include "engram/host.h"
#include "gaussians.h"

extern const eg_data_source eg_src_sines, eg_src_colour_dots; /* sines.c, colordots.c (CompVAE) */
extern const eg_data_source eg_src_shapes, eg_src_flying_shapes, eg_src_flying_fmnist,
    eg_src_flying_mnist; /* shapes.c, flying_shapes.c, flying_images.c (N-EM) */

extern const eg_data_source eg_src_teacher_student; /* teacher_student.c (vmfdam) */

static const eg_data_source *const builtins[] = {
    &eg_src_fashion_mnist, &eg_src_mnist, &eg_src_digits, &eg_src_cifar10, &eg_src_hdf5, &eg_src_random_patterns,
    &eg_src_gaussians,     &eg_src_gaussians_hdf5,
    &eg_src_sines, &eg_src_colour_dots,
    &eg_src_shapes, &eg_src_flying_shapes, &eg_src_flying_fmnist, &eg_src_flying_mnist,
    &eg_src_teacher_student,
};
#define N_BUILTIN ((int)(sizeof builtins / sizeof *builtins))

/* one name asked for (a plugin name or a path): the plugin, or why there is none */
typedef struct plugin_slot {
    char *key;
    eg_data_plugin *plugin; /* NULL when it did not load */
    char *error;
    eg_status status;
    int listed; /* found by the scan of the search path: counted by eg_data_source_count */
} plugin_slot;

static plugin_slot *slots;
static int n_slots, scanned;

static const eg_data_source *builtin(const char *name) {
    for (int i = 0; name && i < N_BUILTIN; i++)
        if (strcmp(builtins[i]->name, name) == 0) return builtins[i];
    return NULL;
}

/* the slot for key, opening the plugin the first time; NULL only when out of memory */
static plugin_slot *slot_for(const char *key) {
    for (int i = 0; i < n_slots; i++)
        if (strcmp(slots[i].key, key) == 0) return &slots[i];
    plugin_slot *grown = realloc(slots, (size_t)(n_slots + 1) * sizeof *grown);
    if (!grown) return NULL;
    slots = grown;
    plugin_slot *s = &slots[n_slots];
    *s = (plugin_slot){strdup(key), NULL, NULL, EG_OK, 0};
    if (!s->key) return NULL;
    n_slots++;
    char err[2048] = "";
    eg_data_plugin *p = NULL;
    s->status = eg_data_plugin_open(key, &p, err, sizeof err);
    const char *by_path = strchr(key, '/');
    if (s->status == EG_OK && builtin(p->source.name)) {
        snprintf(err, sizeof err, "%s: data source '%s' is built into engram; name the plugin's source otherwise",
                 p->path, p->source.name);
        s->status = EG_ERR_ABI;
    } else if (s->status == EG_OK && !by_path && strcmp(p->source.name, key) != 0) {
        snprintf(err, sizeof err, "%s: the file is named for source '%s' but its descriptor names '%s'", p->path, key,
                 p->source.name);
        s->status = EG_ERR_ABI;
    }
    if (s->status == EG_OK) {
        s->plugin = p;
    } else {
        eg_data_plugin_close(p);
        s->error = strdup(err);
    }
    return s;
}

static void scan(void) {
    if (scanned) return;
    scanned = 1;
    char **names = NULL;
    int n = eg_plugin_scan("data", &names);
    for (int i = 0; i < n; i++) {
        plugin_slot *s = builtin(names[i]) ? NULL : slot_for(names[i]);
        if (s) s->listed = 1;
        free(names[i]);
    }
    free(names);
}

/* the i-th listed plugin that loaded */
static const eg_data_source *listed_at(int i) {
    for (int k = 0; k < n_slots; k++)
        if (slots[k].listed && slots[k].plugin && i-- == 0) return &slots[k].plugin->source;
    return NULL;
}

int eg_data_source_count(void) {
    scan();
    int n = N_BUILTIN;
    for (int k = 0; k < n_slots; k++)
        n += slots[k].listed && slots[k].plugin;
    return n;
}

const eg_data_source *eg_data_source_at(int i) {
    if (i < 0) return NULL;
    if (i < N_BUILTIN) return builtins[i];
    scan();
    return listed_at(i - N_BUILTIN);
}

eg_status eg_data_source_lookup(const char *name, const eg_data_source **out, char *err, size_t cap) {
    *out = NULL;
    if (!name || !*name) return ds_fail(err, cap, EG_ERR_SPEC, "data.source: required");
    if ((*out = builtin(name)) != NULL) return EG_OK;
    plugin_slot *s = slot_for(name);
    if (!s) return ds_fail(err, cap, EG_ERR_NOMEM, "data.source '%s': out of memory", name);
    if (s->plugin) {
        *out = &s->plugin->source;
        return EG_OK;
    }
    if (s->status != EG_ERR_NOTFOUND)
        return ds_fail(err, cap, s->status, "data source plugin '%s' cannot be loaded: %s", name, s->error);
    return ds_fail(err, cap, EG_ERR_NOTFOUND, "unknown dataset '%s' (neither a built-in source nor %s)", name,
                   s->error);
}

const eg_data_source *eg_data_source_find(const char *name) {
    const eg_data_source *s = NULL;
    char ignored[64];
    return eg_data_source_lookup(name, &s, ignored, sizeof ignored) == EG_OK ? s : NULL;
}

const char *eg_data_source_origin(const eg_data_source *src) {
    for (int k = 0; src && k < n_slots; k++)
        if (slots[k].plugin && &slots[k].plugin->source == src) return slots[k].plugin->path;
    return NULL;
}

/* One dimension of a declared shape ("28", or an option's name: "dim"): 1 when it
 * matches got (an option that is not an integer matches anything: its loader decides). */
static int dim_matches(const eg_cfg *cfg, const eg_data_source *src, const char *tok, size_t len, int64_t got,
                       int64_t *want) {
    char word[64];
    if (len == 0 || len >= sizeof word) return 1;
    memcpy(word, tok, len);
    word[len] = 0;
    char *end = NULL;
    long long v = strtoll(word, &end, 10);
    if (end && *end == 0) {
        *want = v;
        return v == got;
    }
    char ignored[64];
    int64_t opt = 0;
    if (eg_source_int(cfg, src, word, &opt, ignored, sizeof ignored) != EG_OK) return 1;
    *want = opt;
    return opt == got;
}

/* what any model may rely on in a loaded dataset */
static eg_status check_loaded(const eg_cfg *cfg, const eg_data_source *src, const eg_dataset *ds, char *err,
                              size_t cap) {
    const char *who = src->name;
    if (!ds) return ds_fail(err, cap, EG_ERR_INTERNAL, "data source %s: load returned no dataset", who);
    if (ds->n < 1 || !ds->x)
        return ds_fail(err, cap, EG_ERR_FORMAT, "data source %s (split '%s'): loaded no items", who,
                       ds->split ? ds->split : "?");
    if (ds->channels < 1 || ds->height < 1 || ds->width < 1 ||
        ds->dim != (int64_t)ds->channels * ds->height * ds->width)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "data source %s: item shape %dx%dx%d does not give its %lld values per item", who,
                       ds->channels, ds->height, ds->width, (long long)ds->dim);
    if (src->shape) {
        const int64_t got[3] = {ds->channels, ds->height, ds->width};
        const char *p = src->shape;
        for (int d = 0; d < 3 && *p; d++) {
            size_t len = strcspn(p, "x");
            int64_t want = 0;
            if (!dim_matches(cfg, src, p, len, got[d], &want))
                return ds_fail(err, cap, EG_ERR_FORMAT,
                               "data source %s: loaded items of shape %dx%dx%d, but the source declares %s "
                               "(dimension %d: %lld)",
                               who, ds->channels, ds->height, ds->width, src->shape, d + 1, (long long)want);
            p += len + (p[len] == 'x');
        }
    }
    uint64_t bad = ds_first_nonfinite(ds->x, (uint64_t)ds->n * (uint64_t)ds->dim);
    if (bad < (uint64_t)ds->n * (uint64_t)ds->dim)
        return ds_fail(err, cap, EG_ERR_FORMAT, "data source %s: value %lld of item %lld is %s (NaN and inf are refused)",
                       who, (long long)(bad % (uint64_t)ds->dim), (long long)(bad / (uint64_t)ds->dim),
                       isnan(ds->x[bad]) ? "NaN" : "inf");
    if (ds->y && ds->n_classes > 0)
        for (int64_t i = 0; i < ds->n; i++)
            if (ds->y[i] < 0 || ds->y[i] >= ds->n_classes)
                return ds_fail(err, cap, EG_ERR_FORMAT,
                               "data source %s: label %d of item %lld is outside 0..%d (n_classes %d)", who,
                               (int)ds->y[i], (long long)i, ds->n_classes - 1, ds->n_classes);
    return EG_OK;
}

eg_status eg_data_check_load(const eg_cfg *cfg, eg_dataset **out, char *err, size_t cap) {
    if (out) *out = NULL;
    const char *name = cfg ? eg_cfg_text(cfg, "data.source") : NULL;
    const eg_data_source *src = NULL;
    eg_status st = eg_data_source_lookup(name, &src, err, cap);
    if (st != EG_OK) return st;
    eg_dataset *ds = NULL;
    st = src->load(cfg, NULL, &ds, err, cap);
    if (st == EG_OK) st = check_loaded(cfg, src, ds, err, cap);
    if (st == EG_OK && out)
        *out = ds;
    else
        eg_dataset_free(ds);
    return st;
}

eg_status eg_data_check(const eg_cfg *cfg, char *err, size_t cap) {
    return eg_data_check_load(cfg, NULL, err, cap);
}
