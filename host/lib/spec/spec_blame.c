/* spec_blame.c — errors found after the spec loaded (the runner's preflight: the data,
 * init_from), phrased at the spec's positions the way the loader phrases its own
 * (spec_diag.c): "FILE:LINE:COL: KEY: message", the override's form for an override. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec_internal.h"

static eg_status vfail_value(const eg_spec *s, const eg_value *at, const char *key, char *err, size_t cap,
                             const char *fmt, va_list ap) {
    spec_ctx ctx = {s && s->path ? s->path : "", (const char *const *)(s ? s->overrides : NULL), s ? s->n_overrides : 0,
                    err, cap, s ? s->includes : NULL, NULL, NULL};
    if (at && at->line > 0) return spec_vfail(&ctx, at->file, at->line, at->col, key, fmt, ap);
    return spec_vfail(&ctx, NULL, 0, 0, key, fmt, ap);
}

eg_status eg_spec_fail_value(const eg_spec *s, const eg_value *at, const char *key, char *err, size_t cap,
                             const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    eg_status st = vfail_value(s, at, key, err, cap, fmt, ap);
    va_end(ap);
    return st;
}

/* The key the spec sets nearest above `key`: for each section of key, longest first,
 * its "kind" or "source"; "model" for params. NULL when there is none. */
static const char *anchor_of(const eg_cfg *run, const char *key, char *buf, size_t cap) {
    static const char *const leaves[] = {"source", "kind"}; /* data.kind is an option, data.source the anchor */
    snprintf(buf, cap, "%s", key);
    for (char *dot = strrchr(buf, '.'); dot; dot = strrchr(buf, '.')) {
        *dot = 0;
        size_t len = strlen(buf);
        for (int i = 0; i < 2; i++) {
            snprintf(buf + len, cap - len, ".%s", leaves[i]);
            const eg_value *v = eg_cfg_get(run, buf);
            if (v && v->line > 0 && strcmp(buf, key) != 0) return buf;
        }
        buf[len] = 0;
    }
    const eg_value *m = eg_cfg_get(run, "model");
    if (strncmp(key, "params.", 7) == 0 && m && m->line > 0) return snprintf(buf, cap, "model"), buf;
    return NULL;
}

eg_status eg_spec_fail_key(const eg_spec *s, const eg_cfg *run, const char *key, char *err, size_t cap, const char *fmt,
                           ...) {
    va_list ap;
    va_start(ap, fmt);
    const eg_value *v = eg_cfg_get(run, key);
    char anchor[256];
    const char *at = v && v->line > 0 ? NULL : anchor_of(run, key, anchor, sizeof anchor);
    eg_status st;
    if (!at) {
        st = vfail_value(s, v, key, err, cap, fmt, ap);
    } else {
        char msg[2048], dflt[512] = "";
        vsnprintf(msg, sizeof msg, fmt, ap);
        if (v && v->kind != EG_VAL_NULL) eg_cfg_value_text(run, key, dflt, sizeof dflt);
        st = eg_spec_fail_value(s, eg_cfg_get(run, at), at, err, cap, "%s (not set; %s%s): %s", key,
                                dflt[0] ? "default " : "no default", dflt, msg);
    }
    va_end(ap);
    return st;
}
