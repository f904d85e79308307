/* test_spec_util.h — helpers of the spec tests: a temporary directory for
 * spec files, the path of the schema fixture plugin (tests/fixtures/spec_model.c),
 * and "$M" in spec text replaced by that path. */
#ifndef EG_TEST_SPEC_UTIL_H
#define EG_TEST_SPEC_UTIL_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "spec/spec.h"

static char spec_dir[512];
static char spec_model[1024];

/* 0 when the fixture plugin is there */
static int spec_setup(void) {
    const char *tp = getenv("ENGRAM_TEST_PLUGINS");
    const char *build = getenv("ENGRAM_BUILD");
    if (tp && *tp)
        snprintf(spec_model, sizeof spec_model, "%s/spec_model.so", tp);
    else if (build && *build)
        snprintf(spec_model, sizeof spec_model, "%s/test-plugins/spec_model.so", build);
    else
        snprintf(spec_model, sizeof spec_model, "test-plugins/spec_model.so");
    if (access(spec_model, R_OK) != 0) {
        fprintf(stderr, "fixture plugin %s missing (set ENGRAM_TEST_PLUGINS)\n", spec_model);
        return -1;
    }
    snprintf(spec_dir, sizeof spec_dir, "/tmp/engram-spec-XXXXXX");
    if (!mkdtemp(spec_dir)) return -1;
    return 0;
}

static void spec_cleanup(void) {
    char cmd[600];
    if (spec_dir[0] && strncmp(spec_dir, "/tmp/engram-spec-", 17) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", spec_dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", spec_dir);
    }
}

/* write text (with $M -> the fixture path) to <spec_dir>/<name>; returns the path (static buffer) */
static const char *spec_write(const char *name, const char *text) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", spec_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return path;
    for (const char *p = text; *p; p++) {
        if (p[0] == '$' && p[1] == 'M') {
            fputs(spec_model, f);
            p++;
        } else
            fputc(*p, f);
    }
    fclose(f);
    return path;
}

/* load text as <name>; err filled */
static eg_status spec_load_text(const char *name, const char *text, const char *const *ov, int n_ov, eg_spec **out,
                                char *err, size_t cap) {
    const char *path = spec_write(name, text);
    return eg_spec_load(path, ov, n_ov, out, err, cap);
}

static inline const char *run_str(const eg_spec *s, int r, const char *key) {
    const eg_value *v = eg_cfg_get(&s->runs[r].cfg, key);
    return v && v->s ? v->s : "(none)";
}

static inline double run_num(const eg_spec *s, int r, const char *key) {
    const eg_value *v = eg_cfg_get(&s->runs[r].cfg, key);
    return !v ? -12345.0 : v->kind == EG_VAL_INT ? (double)v->i : v->f;
}

#endif
