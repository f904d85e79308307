/* runner_runlist.c — `engram run --runs FILE`: the runs of a list of run ids (the one
 * `engram submit` writes), sharded by their position in the list. An id the spec does not
 * plan means the spec (or an included file) changed since the list was written: that is
 * refused, so a running sweep never computes something other than what was submitted. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner_internal.h"

static int by_id(const void *a, const void *b) {
    return strcmp((*(eg_run_plan *const *)a)->id, (*(eg_run_plan *const *)b)->id);
}

int eg_runner_select_listed(const eg_spec *spec, const char *file, int shard_i, int shard_n, eg_run_plan **mine,
                            int *n_mine) {
    *n_mine = 0;
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "engram: --runs %s: cannot open it: %m\n", file);
        return -1;
    }
    eg_run_plan **sorted = malloc(((size_t)spec->n_runs + 1) * sizeof *sorted);
    if (!sorted) {
        fclose(f);
        fprintf(stderr, "engram: out of memory reading --runs %s\n", file);
        return -1;
    }
    for (int i = 0; i < spec->n_runs; i++)
        sorted[i] = &spec->runs[i];
    qsort(sorted, (size_t)spec->n_runs, sizeof *sorted, by_id);
    char line[256];
    int lineno = 0, pos = 0, rc = 0, missing = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strcspn(s, " \t\r\n#");
        if (n == 0) continue; /* blank or a comment */
        int hex = n == 16;
        for (size_t k = 0; hex && k < n; k++)
            hex = isxdigit((unsigned char)s[k]) && !isupper((unsigned char)s[k]);
        if (!hex) {
            fprintf(stderr, "engram: %s:%d: expected a run id (16 lowercase hex digits), got '%.*s'\n", file, lineno,
                    (int)(n > 40 ? 40 : n), s);
            rc = -1;
            break;
        }
        eg_run_plan key, *kp = &key;
        memcpy(key.id, s, 16);
        key.id[16] = 0;
        eg_run_plan **hit = bsearch(&kp, sorted, (size_t)spec->n_runs, sizeof *sorted, by_id);
        if (!hit) {
            if (missing++ < 3)
                fprintf(stderr, "engram: %s:%d: run %s is not in the plan of %s (with these overrides)\n", file,
                        lineno, key.id, spec->path);
            rc = -1;
            continue;
        }
        if (shard_n <= 1 || pos % shard_n == shard_i) mine[(*n_mine)++] = *hit;
        pos++;
    }
    fclose(f);
    free(sorted);
    if (missing)
        fprintf(stderr,
                "engram: %d run%s of %s %s no longer planned: the spec or a file it includes changed since the list "
                "was written. Nothing was run; submit the sweep again (`engram submit`)\n",
                missing, missing == 1 ? "" : "s", file, missing == 1 ? "is" : "are");
    return rc;
}
