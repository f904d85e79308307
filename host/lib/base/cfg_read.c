/* cfg_read.c — engram/config.h: the SDK's read-only view of a resolved config. */
#include "cfg.h"

static const eg_value *value(const eg_cfg *c, const char *key) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind != EG_VAL_NULL ? v : NULL;
}

int eg_cfg_has(const eg_cfg *c, const char *key) {
    return value(c, key) != NULL;
}

const char *eg_cfg_text(const eg_cfg *c, const char *key) {
    const eg_value *v = value(c, key);
    return v && v->kind != EG_VAL_LIST ? (v->s ? v->s : "") : NULL;
}

eg_status eg_cfg_int(const eg_cfg *c, const char *key, int64_t *out) {
    const eg_value *v = value(c, key);
    if (!v) return EG_ERR_NOTFOUND;
    if (v->kind != EG_VAL_INT) return EG_ERR_INVALID;
    *out = v->i;
    return EG_OK;
}

eg_status eg_cfg_float(const eg_cfg *c, const char *key, double *out) {
    const eg_value *v = value(c, key);
    if (!v) return EG_ERR_NOTFOUND;
    if (v->kind != EG_VAL_INT && v->kind != EG_VAL_FLOAT) return EG_ERR_INVALID;
    *out = v->kind == EG_VAL_INT ? (double)v->i : v->f;
    return EG_OK;
}
