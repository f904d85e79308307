/* hopfield_plugin.c — the `hopfield` model plugin: descriptor, parameter
 * schema and the eval of the shared retrieve task (docs/plugins.md walks
 * through this file). Variants: mchn (modern continuous Hopfield network),
 * gmm (balanced Gaussian mixture memory of the PC-GMM paper) and dense
 * (Krotov–Hopfield binary dense associative memory). Nothing is trained. */
#include <stdlib.h>
#include <string.h>

#include "hopfield.h"

static const eg_param_spec hopfield_params[] = {
    {"variant", EG_PARAM_ENUM, "mchn", 0, 0, 0, "mchn|gmm|dense", "",
     "update rule: modern Hopfield (mchn), balanced Gaussian mixture (gmm), binary dense AM (dense)"},
    {"beta", EG_PARAM_FLOAT, "8", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "mchn inverse temperature"},
    {"sigma", EG_PARAM_FLOAT, "1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "data units",
     "gmm component std, in the data's units"},
    {"n", EG_PARAM_INT, "2", EG_RANGE_MIN | EG_RANGE_MAX, 2, 10, NULL, "",
     "dense polynomial degree (2 = classical Hopfield)"},
    {"update", EG_PARAM_ENUM, "async", 0, 0, 0, "sync|async", "",
     "dense only: one unit at a time in a random order (async) or all units at once (sync)"},
    {"steps", EG_PARAM_INT, "3", EG_RANGE_MIN, 1, 0, NULL, "updates",
     "maximum updates (a dense async update is one sweep over all units)"},
    {"tol", EG_PARAM_FLOAT, "1e-6", EG_RANGE_MIN, 0, 0, NULL, "", "stop when the state changes less (max abs change)"},
};

static const char *const hopfield_tasks[] = {"retrieve"};

static const eg_metric_spec hopfield_metrics[] = {
    {"retrieval/success", EG_GOAL_MAX, "fraction",
     "queries whose final state is strictly nearest to their own stored pattern"},
    {"retrieval/within_tol", EG_GOAL_MAX, "fraction", "queries ending within task.tolerance of the target"},
    {"retrieval/mse", EG_GOAL_MIN, "", "mean squared error of the final state to the target"},
    {"retrieval/steps", EG_GOAL_MIN, "updates", "mean updates until the state changed less than tol"},
};

static eg_status hopfield_create(eg_run *run, void **self) {
    hop_net *h = calloc(1, sizeof *h);
    if (!h) return eg_run_fail(run, EG_ERR_NOMEM, "hopfield: out of memory");
    h->variant = eg_param_is(run, "variant", "gmm")     ? HOP_GMM
                 : eg_param_is(run, "variant", "dense") ? HOP_DENSE
                                                        : HOP_MCHN;
    h->beta = eg_param_float(run, "beta");
    h->sigma = eg_param_float(run, "sigma");
    h->n = (int)eg_param_int(run, "n");
    h->async = eg_param_is(run, "update", "async");
    h->steps = (int)eg_param_int(run, "steps");
    h->tol = eg_param_float(run, "tol");
    *self = h;
    return EG_OK;
}

static void hopfield_destroy(void *self) {
    free(self);
}

/* All queries of a block are retrieved in one batched pass (hopfield_retrieve.c). */
static eg_status hopfield_eval(void *self, eg_run *run) {
    const hop_net *h = self;
    eg_retrieval r = eg_retrieval_begin(run); /* task.memories / queries / blocks / corrupt */
    int dense = h->variant == HOP_DENSE;
    if (dense && r.status == EG_OK && !r.data->binary)
        eg_run_log(run,
                   "hopfield dense: %s is not +-1 data; patterns and queries are binarised at 0.5 "
                   "and scored against the binarised patterns",
                   r.data->source);
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b++) {
        eg_scope *s = eg_scope_open(r.ctx);          /* frees this block's tensors */
        eg_tensor *X = eg_retrieval_memories(&r, b); /* M x d on the run's backend */
        eg_tensor *q = eg_retrieval_queries(&r, b);  /* Q x d, corrupted */
        eg_tensor *steps = NULL;
        /* dense async: unit order per sweep, block b's own substream */
        eg_rng order = eg_rng_substream(eg_run_rng(run, "async"), (uint64_t)b, EG_RNG_SPAN_BLOCK);
        if (dense && !r.data->binary) {
            X = hop_binarize(X), q = hop_binarize(q);
            q = hop_retrieve(h, q, X, &order, &steps, &r);
            /* score 0/1 pictures against the binarised patterns */
            eg_retrieval_score_against(&r, b, eg_affine(q, 0.5, 0.5), eg_affine(X, 0.5, 0.5), steps);
        } else {
            q = hop_retrieve(h, q, X, &order, &steps, &r);
            eg_retrieval_score(&r, b, q, steps); /* success, within_tol, mse, steps */
        }
        eg_scope_close(s);
        eg_progress(run, b + 1, r.blocks, "block");
        eg_status st = eg_run_check(run);
        if (st != EG_OK && r.status == EG_OK)
            r.status = eg_run_fail(run, st, "hopfield: stopped after block %lld of %lld", (long long)(b + 1),
                                   (long long)r.blocks);
    }
    return eg_retrieval_end(&r); /* writes the retrieval metrics, series and grid */
}

EG_MODEL_DEFINE(hopfield,
    .version = "1.0.0",
    .summary = "modern Hopfield network (mchn), balanced GMM memory (gmm) and dense associative memory (dense)",
    .params = hopfield_params,
    .n_params = EG_COUNT(hopfield_params),
    .tasks = hopfield_tasks,
    .n_tasks = 1,
    .metrics = hopfield_metrics,
    .n_metrics = EG_COUNT(hopfield_metrics),
    .create = hopfield_create,
    .eval = hopfield_eval,
    .destroy = hopfield_destroy)
