/* nn_params.c — named, owning sets of persistent parameter tensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

struct eg_params {
    eg_ctx *ctx;
    int n, cap;
    char **names;
    eg_tensor **ts;
    eg_dtype dtype; /* for layer initialisers */
};

eg_params *eg_params_new(eg_ctx *ctx) {
    if (!ctx) return NULL;
    eg_params *ps = calloc(1, sizeof *ps);
    if (!ps) eg__fail(ctx, EG_ERR_NOMEM, "eg_params_new");
    else {
        ps->ctx = ctx;
        ps->dtype = EG_F32;
    }
    return ps;
}

void eg_params_set_dtype(eg_params *ps, eg_dtype dt) {
    if (ps && eg__is_float(dt)) ps->dtype = dt;
}

eg_ctx *eg__params_ctx(const eg_params *ps) { return ps ? ps->ctx : NULL; }

eg_dtype eg_params_dtype(const eg_params *ps) { return ps ? ps->dtype : EG_F32; }

void eg_params_free(eg_params *ps) {
    if (!ps) return;
    for (int i = 0; i < ps->n; i++) {
        eg_tensor_free(ps->ts[i]);
        free(ps->names[i]);
    }
    free(ps->names);
    free(ps->ts);
    free(ps);
}

eg_tensor *eg_params_find(const eg_params *ps, const char *name) {
    if (!ps || !name) return NULL;
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->names[i], name) == 0) return ps->ts[i];
    return NULL;
}

eg_status eg_params_add(eg_params *ps, const char *name, eg_tensor *t) {
    if (!ps || !name || !t) return EG_ERR_INVALID;
    if (t->flags & EG_TF_PLACEHOLDER) return ps->ctx->status ? ps->ctx->status : EG_ERR_INVALID;
    if (eg_params_find(ps, name))
        return eg_ctx_fail(ps->ctx, EG_ERR_INVALID, "eg_params_add: parameter '%s' already registered", name);
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 16;
        char **nn = realloc(ps->names, (size_t)cap * sizeof *nn);
        if (!nn) return eg_ctx_fail(ps->ctx, EG_ERR_NOMEM, "eg_params_add: '%s'", name);
        ps->names = nn;
        eg_tensor **nt = realloc(ps->ts, (size_t)cap * sizeof *nt);
        if (!nt) return eg_ctx_fail(ps->ctx, EG_ERR_NOMEM, "eg_params_add: '%s'", name);
        ps->ts = nt;
        ps->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return eg_ctx_fail(ps->ctx, EG_ERR_NOMEM, "eg_params_add: '%s'", name);
    ps->names[ps->n] = copy;
    ps->ts[ps->n] = t;
    ps->n++;
    return EG_OK;
}

int eg_params_count(const eg_params *ps) { return ps ? ps->n : 0; }
const char *eg_params_name(const eg_params *ps, int i) { return ps && i >= 0 && i < ps->n ? ps->names[i] : NULL; }
eg_tensor *eg_params_get(const eg_params *ps, int i) { return ps && i >= 0 && i < ps->n ? ps->ts[i] : NULL; }

int64_t eg_params_numel(const eg_params *ps) {
    int64_t n = 0;
    for (int i = 0; ps && i < ps->n; i++) n += ps->ts[i]->numel;
    return n;
}

void eg_params_zero_grad(eg_params *ps) {
    for (int i = 0; ps && i < ps->n; i++) eg_zero_grad(ps->ts[i]);
}

eg_tensor *eg_params_create(eg_params *ps, const char *prefix, const char *name, eg_dtype dt, int ndim,
                            const int64_t *shape) {
    if (!ps) return NULL;
    eg_ctx *ctx = ps->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    char full[512];
    if (prefix && *prefix) snprintf(full, sizeof full, "%s.%s", prefix, name ? name : "");
    else snprintf(full, sizeof full, "%s", name ? name : "");
    if (eg_params_find(ps, full))
        return eg__fail(ctx, EG_ERR_INVALID, "eg_params_create: parameter '%s' already registered", full);
    eg_tensor *t = eg_param(ctx, dt, ndim, shape);
    if (eg__failed(ctx)) return ctx->placeholder;
    if (eg_params_add(ps, full, t) != EG_OK) {
        eg_tensor_free(t);
        return ctx->placeholder;
    }
    return t;
}
