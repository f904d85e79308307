/* test_datasets_util.h — helpers shared by the dataset tests: hand-built data.*
 * configs (as the spec layer would make them), loading a source by name with its
 * message kept in `err`, and writing raw or gzip files. */
#ifndef EG_TEST_DATASETS_UTIL_H
#define EG_TEST_DATASETS_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

#include "base/cfg.h"
#include "engram/source.h"

static char err[4096];

/* ---- config helpers (values built by hand, as the spec layer would) ---- */

static inline void set_str(eg_cfg *c, const char *key, const char *s) {
    eg_value v = {0};
    v.kind = EG_VAL_STRING;
    v.s = (char *)s;
    eg_cfg_set(c, key, &v);
}

static inline void set_int(eg_cfg *c, const char *key, int64_t i) {
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)i);
    eg_value v = {0};
    v.kind = EG_VAL_INT;
    v.i = i;
    v.f = (double)i;
    v.s = text;
    eg_cfg_set(c, key, &v);
}

static inline void set_float(eg_cfg *c, const char *key, double f) {
    char text[32];
    snprintf(text, sizeof text, "%.17g", f);
    eg_value v = {0};
    v.kind = EG_VAL_FLOAT;
    v.f = f;
    v.s = text;
    eg_cfg_set(c, key, &v);
}

/* loads source `name` with the given cfg and split; err filled on failure */
static inline eg_status load(const char *name, const eg_cfg *c, const char *split, eg_dataset **out) {
    const eg_data_source *s = eg_data_source_find(name);
    err[0] = 0;
    *out = NULL;
    if (!s) return EG_ERR_NOTFOUND;
    eg_status st = s->load(c, split, out, err, sizeof err);
    if (st != EG_OK) printf("  %s refused (%d): %s\n", name, st, err); /* the messages, for review */
    return st;
}

/* ---- file writers ---- */

static inline void write_bytes(const char *path, const void *data, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (n) gzwrite(f, data, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

#endif
