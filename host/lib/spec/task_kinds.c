/* task_kinds.c — the built-in task kinds and their `task.*` schemas (task_kinds.h), and
 * the kinds a model plugin defines itself (model ABI 1.3), looked up after them.
 * The retrieval protocol itself (MODELS.md, "Common retrieval task") lives in
 * the run context; this file only declares and checks its options. */
#include "task_kinds.h"

#include <stddef.h>
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

/* ---- kinds defined by a plugin ---- */

/* a 1.3 task kind ends with its check callback */
#define TASK_DEF_MIN_SIZE (offsetof(eg_task_def, check) + sizeof(eg_task_check_fn))

int eg_model_task_def_count(const eg_model_desc *d) {
    if (!d || d->abi_minor < 3 || d->struct_size < offsetof(eg_model_desc, task_def_size) + sizeof d->task_def_size)
        return 0;
    if (!d->task_kinds || d->n_task_kinds <= 0 || d->task_def_size < TASK_DEF_MIN_SIZE) return 0;
    return d->n_task_kinds;
}

const eg_task_def *eg_model_task_def_at(const eg_model_desc *d, int i) {
    if (i < 0 || i >= eg_model_task_def_count(d)) return NULL;
    /* stepped by the plugin's own sizeof(eg_task_def), so the struct may grow */
    return (const eg_task_def *)(const void *)((const char *)d->task_kinds + (size_t)i * d->task_def_size);
}

const eg_task_def *eg_model_task_def(const eg_model_desc *d, const char *name) {
    const eg_task_def *k = eg_task_def_find(name);
    for (int i = 0; !k && name && i < eg_model_task_def_count(d); i++) {
        const eg_task_def *own = eg_model_task_def_at(d, i);
        if (own->name && strcmp(own->name, name) == 0) k = own;
    }
    return k;
}

eg_status eg_model_check_tasks(const eg_model_desc *d, char *err, size_t cap) {
    const char *model = d && d->name ? d->name : "?";
    int has_fields = d && d->abi_minor >= 3 &&
                     d->struct_size >= offsetof(eg_model_desc, task_def_size) + sizeof d->task_def_size;
    if (has_fields && d->n_task_kinds > 0 && (!d->task_kinds || d->task_def_size < TASK_DEF_MIN_SIZE)) {
        snprintf(err, cap, "model %s: defines %d task kinds but %s", model, d->n_task_kinds,
                 d->task_kinds ? "its task_def_size is too small (build it with EG_MODEL_DEFINE)" : "task_kinds is NULL");
        return EG_ERR_ABI;
    }
    for (int i = 0; i < eg_model_task_def_count(d); i++) {
        const eg_task_def *k = eg_model_task_def_at(d, i);
        const char *why = !k->name || !*k->name                               ? "has no name"
                          : eg_task_def_find(k->name)                         ? "has the name of a built-in kind"
                          : k->n_params < 0 || (k->n_params > 0 && !k->params) ? "has no valid schema"
                                                                                : NULL;
        for (int j = 0; !why && j < k->n_params; j++)
            if (!k->params[j].key || !*k->params[j].key || !strcmp(k->params[j].key, "kind"))
                why = "has a schema key that is empty or 'kind'";
        for (int j = 0; !why && j < i; j++)
            if (!strcmp(eg_model_task_def_at(d, j)->name, k->name)) why = "is defined twice";
        if (why) {
            snprintf(err, cap, "model %s: task kind %d ('%s') %s", model, i + 1, k->name ? k->name : "", why);
            return EG_ERR_ABI;
        }
    }
    /* before 1.3 a plugin could list a kind of its own whose keys were all task_params */
    for (int i = 0; has_fields && i < d->n_tasks; i++)
        if (!d->tasks[i] || !eg_model_task_def(d, d->tasks[i])) {
            snprintf(err, cap,
                     "model %s: lists task kind '%s', which is neither built in (retrieve, classify, cluster, "
                     "segment) nor defined by the plugin (task_kinds)",
                     model, d->tasks[i] ? d->tasks[i] : "(null)");
            return EG_ERR_ABI;
        }
    return EG_OK;
}

const eg_param_spec *eg_task_schema(const eg_model_desc *d, const char *kind, int *n) {
    const eg_task_def *k = eg_model_task_def(d, kind);
    if (n) *n = k ? k->n_params : 0;
    return k ? k->params : NULL;
}
