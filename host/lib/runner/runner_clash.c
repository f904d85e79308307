/* runner_clash.c — two specs with the same experiment name would mix their runs in one
 * directory (and `show` would group them together): before anything runs, the runner
 * compares the spec a run file of the directory records with this one. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"
#include "runner_internal.h"

static int got_spec(void *ctx, int i, eg_status st, char **vals) {
    char *spec = ctx;
    if (st != EG_OK) return 0;
    snprintf(spec, 4096, "%s", vals[0]);
    return 1; /* one readable run file says which spec the directory belongs to */
}

int eg_runner_spec_clash(const char *exp_dir, const char *spec_path, char *other, size_t cap) {
    other[0] = 0;
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    char *mine = spec_path ? realpath(spec_path, NULL) : NULL;
    DIR *d = mine ? opendir(runs) : NULL;
    char *paths[8]; /* the first few final run files: one of them is readable */
    int n = 0;
    for (struct dirent *e; d && n < 8 && (e = readdir(d));) {
        if (eg_results_file_kind(e->d_name, NULL) != EG_RUNFILE_FINAL) continue;
        if (asprintf(&paths[n], "%s/%s", runs, e->d_name) >= 0) n++;
    }
    if (d) closedir(d);
    char spec[4096] = "";
    const char *name = "spec";
    eg_results_attrs_many((const char *const *)paths, n, 1, &name, sizeof spec, got_spec, spec);
    int clash = spec[0] && mine && strcmp(spec, mine) != 0;
    if (clash) snprintf(other, cap, "%s", spec);
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(mine);
    return clash;
}
