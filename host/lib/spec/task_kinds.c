/* task_kinds.c — the built-in task kinds and their `task.*` schemas (task_kinds.h).
 * The retrieval protocol itself (MODELS.md, "Common retrieval task") lives in
 * the run context; this file only declares and checks its options. */
#include "task_kinds.h"

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

/* ---- classify / cluster: fit on one split, score another (vmfdam; MODELS.md) ---- */

static const eg_param_spec classify_params[] = {
    {"train_split", EG_PARAM_STRING, "train", 0, 0, 0, NULL, "",
     "split the model is trained on (its last params.val_fraction validates, when the model has one)"},
    {"test_split", EG_PARAM_STRING, "test", 0, 0, 0, NULL, "", "split scored for the task's metrics"},
    {"train_limit", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items",
     "use only the first N items of the training split (0 = all)"},
    {"test_limit", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items",
     "use only the first N items of the test split (0 = all)"},
    {"eval_batch", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "items", "items per evaluation batch"},
};

/* ---- segment: unsupervised perceptual grouping scored by AMI (nem; MODELS.md) ---- */

static const eg_param_spec segment_params[] = {
    {"ami_norm", EG_PARAM_ENUM, "max", 0, 0, 0, "max|arithmetic", "",
     "AMI normalisation: max(H(U), H(V)) as in the N-EM paper (sklearn <= 0.21) or their mean (sklearn >= 0.22)"},
    {"samples", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "items", "items of the evaluated split scored (0 = all)"},
    {"show", EG_PARAM_INT, "4", EG_RANGE_MIN, 0, 0, NULL, "items",
     "items whose per-step masks and per-component predictions are saved as artifacts"},
};

/* ---- the table: one row per kind ---- */

#define N(a) ((int)(sizeof(a) / sizeof *(a)))

static const eg_task_def kinds[] = {
    {"retrieve", "corrupt the first items of each block of memories and retrieve them (MODELS.md)", retrieve_params,
     N(retrieve_params), retrieve_check},
    {"classify", "train on task.train_split with labels, report accuracy on task.test_split", classify_params,
     N(classify_params), NULL},
    {"cluster", "train on task.train_split without labels, score the clustering of task.test_split", classify_params,
     N(classify_params), NULL},
    {"segment", "group the pixels of each item (or frame) without labels; AMI against the true groups",
     segment_params, N(segment_params), NULL},
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
