/* test_results_common.h — helpers shared by the results tests (header-only). */
#ifndef EG_TEST_RESULTS_COMMON_H
#define EG_TEST_RESULTS_COMMON_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cfg.h"
#include "results/results.h"

/* set key to the YAML scalar text (e.g. "0.5", "mchn", "[64, 32]") */
static inline void cfg_put(eg_cfg *c, const char *key, const char *text) {
    eg_value v;
    if (eg_value_parse(text, &v) != EG_OK) {
        fprintf(stderr, "cannot parse %s\n", text);
        exit(1);
    }
    v.file = "spec.yaml", v.line = 1, v.col = 1; /* written in a spec, not a default */
    if (eg_cfg_set(c, key, &v) != EG_OK) {
        fprintf(stderr, "cannot set %s\n", key);
        exit(1);
    }
    eg_value_free(&v);
}

/* a fresh experiment directory with an empty runs/ */
static inline char *make_exp_dir(void) {
    char tmpl[] = "/tmp/eg-results-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d) return NULL;
    char runs[256];
    snprintf(runs, sizeof runs, "%s/runs", d);
    mkdir(runs, 0755);
    return strdup(d);
}

/* number of entries in dir whose name contains needle */
static inline int count_named(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (strstr(e->d_name, needle)) n++;
    closedir(d);
    return n;
}

static inline void rm_rf(const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

#endif
