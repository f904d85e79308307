/* tasks.c — the built-in task kinds and their `task.*` schemas (tasks.h).
 * The retrieval protocol itself (MODELS.md, "Common retrieval task") lives in
 * the run context; this file only declares and checks its options. */
#include "tasks.h"

#include <stdio.h>
#include <string.h>

/* ---- retrieve: corrupted queries, retrieval from blocks of memories ---- */

static const eg_param_spec retrieve_params[] = {
    {"memories", EG_PARAM_INT, "100", EG_RANGE_MIN, 1, 0, NULL, "items", "items per memory block"},
    {"queries", EG_PARAM_INT, "10", EG_RANGE_MIN, 1, 0, NULL, "items",
     "corrupted queries per block, the first items of the block"},
    {"blocks", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "blocks",
     "blocks evaluated (0 = as many as the split holds)"},
    {"tolerance", EG_PARAM_FLOAT, "2.0", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "distance to the target counted as retrieved (within_tol)"},
    {"corrupt.kind", EG_PARAM_ENUM, "noise", 0, 0, 0, "noise|mask|bitflip|rotate-rgb|shift|none", "",
     "how queries are corrupted"},
    {"corrupt.sigma", EG_PARAM_FLOAT, "0.5", EG_RANGE_MIN, 0, 0, NULL, "",
     "noise: std of the Gaussian noise added per pixel (then clamped to [0,1])"},
    {"corrupt.size", EG_PARAM_INT, "14", EG_RANGE_MIN, 0, 0, NULL, "pixels", "mask: side of the grey (0.5) square"},
    {"corrupt.fraction", EG_PARAM_FLOAT, "0", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "mask: when > 0, a random fraction of pixels is set to 0.5 instead of the square"},
    {"corrupt.p", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "", "bitflip: flip probability"},
    {"corrupt.pixels", EG_PARAM_INT, "2", 0, 0, 0, NULL, "pixels", "shift: offset of the image (no wrap-around)"},
};

static int retrieve_check(const eg_cfg *run, const char **key, char *msg, size_t cap) {
    const eg_value *m = eg_cfg_get(run, "task.memories"), *q = eg_cfg_get(run, "task.queries");
    if (m && q && q->i > m->i) {
        *key = "task.queries";
        snprintf(msg, cap,
                 "%lld queries per block exceed task.memories = %lld (queries are the first items of "
                 "each block)",
                 (long long)q->i, (long long)m->i);
        return 1;
    }
    return 0;
}

/* ---- the table: one row per kind ---- */

#define N(a) ((int)(sizeof(a) / sizeof *(a)))

static const eg_task_def kinds[] = {
    {"retrieve", "corrupt the first items of each block of memories and retrieve them (MODELS.md)", retrieve_params,
     N(retrieve_params), retrieve_check},
};

int eg_task_def_count(void) {
    return N(kinds);
}

const eg_task_def *eg_task_def_at(int i) {
    return i >= 0 && i < N(kinds) ? &kinds[i] : NULL;
}

const eg_task_def *eg_task_def_find(const char *name) {
    for (int i = 0; name && i < N(kinds); i++)
        if (strcmp(kinds[i].name, name) == 0) return &kinds[i];
    return NULL;
}

const eg_param_spec *eg_task_schema(const char *kind, int *n) {
    const eg_task_def *k = eg_task_def_find(kind);
    if (n) *n = k ? k->n_params : 0;
    return k ? k->params : NULL;
}
