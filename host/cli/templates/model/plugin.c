/* @NAME@_plugin.c — the @NAME@ model plugin (scaffolded by `engram new-plugin`).
 *
 * A soft nearest-memory retrieval, the modern Hopfield update (Ramsauer et al.
 * 2020, eq. 3): each corrupted query moves to the softmax(beta q X^T)-weighted
 * mean of its block's memories, for up to `steps` updates; a query stops counting
 * updates once it moves less than `tol`. The host runs the retrieve task around
 * it (blocks, corruption, scoring, pictures: engram/retrieval.h). Change
 * @NAME@_step and the schema to make it your model. */
#include <stdlib.h>

#include "@NAME@.h"

static const eg_param_spec @NAME@_params[] = {
    {"beta", EG_PARAM_FLOAT, "8", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "inverse temperature of the softmax over memories"},
    {"steps", EG_PARAM_INT, "5", EG_RANGE_MIN, 1, 0, NULL, "updates", "maximum updates per query"},
    {"tol", EG_PARAM_FLOAT, "1e-6", EG_RANGE_MIN, 0, 0, NULL, "", "a query has converged once it moves less"},
};

static const char *const @NAME@_tasks[] = {"retrieve"};

static const eg_metric_spec @NAME@_metrics[] = {
    {"retrieval/success", EG_GOAL_MAX, "fraction", "queries whose final state is nearest to their own memory"},
    {"retrieval/within_tol", EG_GOAL_MAX, "fraction", "queries ending within task.tolerance of the target"},
    {"retrieval/mse", EG_GOAL_MIN, "", "mean squared error of the final state to the target"},
    {"retrieval/steps", EG_GOAL_MIN, "updates", "mean updates until a query moved less than tol"},
};

eg_tensor *@NAME@_step(const @NAME@_model *m, eg_tensor *S, eg_tensor *X) {
    eg_tensor *logits = eg_gemm(S, X, 0, 1, m->beta); /* beta S X^T [Q, M] */
    return eg_matmul(eg_softmax(logits, 1), X);
}

static eg_status @NAME@_create(eg_run *run, void **self) {
    @NAME@_model *m = calloc(1, sizeof *m);
    if (!m) return eg_run_fail(run, EG_ERR_NOMEM, "@NAME@: out of memory");
    m->beta = eg_param_float(run, "beta");
    m->steps = (int)eg_param_int(run, "steps");
    m->tol = eg_param_float(run, "tol");
    *self = m;
    return EG_OK;
}

static void @NAME@_destroy(void *self) {
    free(self);
}

static eg_status @NAME@_eval(void *self, eg_run *run) {
    const @NAME@_model *m = self;
    eg_retrieval r = eg_retrieval_begin(run); /* task.* and the dataset, validated */
    eg_converge conv = {0}; /* safe to free even when never initialised */
    if (r.status == EG_OK && eg_converge_init(&conv, r.queries, m->tol, 0) != EG_OK)
        r.status = eg_run_fail(run, EG_ERR_NOMEM, "@NAME@: out of memory for %lld queries", (long long)r.queries);
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b++) {
        eg_scope *s = eg_scope_open(r.ctx);          /* frees this block's tensors */
        eg_tensor *X = eg_retrieval_memories(&r, b); /* M x d */
        eg_tensor *q = eg_retrieval_queries(&r, b);  /* Q x d, corrupted */
        eg_converge_reset(&conv);
        for (int t = 0; t < m->steps; t++) {
            eg_tensor *next = @NAME@_step(m, q, X);
            int all = eg_converge_update(&conv, eg_max(eg_abs(eg_sub(next, q)), 1, 0));
            q = next;
            if (all != 0) break; /* every query converged (1), or the change was unreadable (< 0) */
        }
        eg_retrieval_score(&r, b, q, eg_converge_steps(&conv, r.ctx)); /* success, within_tol, mse, steps */
        eg_scope_close(s);
        eg_progress(run, b + 1, r.blocks, "block");
        eg_status st = eg_run_check(run); /* cancelled or past its timeout */
        if (st != EG_OK && r.status == EG_OK) r.status = eg_run_fail(run, st, "@NAME@: stopped after block %lld", (long long)b);
    }
    eg_converge_free(&conv);
    return eg_retrieval_end(&r); /* writes the metrics and the grid of block 0 */
}

/* the descriptor and the one exported symbol, eg_model_entry (engram/plugin.h) */
EG_MODEL_DEFINE(@NAME@,
    .version = "0.1.0",
    .summary = "soft nearest-memory retrieval (scaffolded by engram new-plugin)",
    .license = "MIT",           /* SPDX identifier of your choice */
    .authors = "@AUTHORS@",     /* shown by `engram describe`, recorded in every run file */
    .url = NULL,                /* where the source lives, once it does */
    .params = @NAME@_params,
    .n_params = EG_COUNT(@NAME@_params),
    .tasks = @NAME@_tasks,
    .n_tasks = EG_COUNT(@NAME@_tasks),
    .metrics = @NAME@_metrics,
    .n_metrics = EG_COUNT(@NAME@_metrics),
    .create = @NAME@_create,
    .eval = @NAME@_eval,
    .destroy = @NAME@_destroy)
