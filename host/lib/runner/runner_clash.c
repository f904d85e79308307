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

int eg_runner_spec_clash(const char *exp_dir, const char *spec_path, char *other, size_t cap) {
    other[0] = 0;
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    char *mine = spec_path ? realpath(spec_path, NULL) : NULL;
    DIR *d = mine ? opendir(runs) : NULL;
    int clash = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (eg_results_file_kind(e->d_name, NULL) != EG_RUNFILE_FINAL) continue;
        char path[4500], spec[4096], *buf = spec;
        const char *name = "spec";
        snprintf(path, sizeof path, "%s/%s", runs, e->d_name);
        if (eg_results_run_attrs(path, 1, &name, &buf, sizeof spec) != EG_OK) continue;
        clash = spec[0] && strcmp(spec, mine) != 0;
        if (clash) snprintf(other, cap, "%s", spec);
        break; /* one readable run file says which spec the directory belongs to */
    }
    if (d) closedir(d);
    free(mine);
    return clash;
}
