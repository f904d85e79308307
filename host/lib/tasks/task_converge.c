/* task_converge.c — per-query convergence counting of iterative retrievals
 * (engram/retrieval.h: eg_converge_*), shared by the Hopfield, PC-GMM and
 * BW-DAM update loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engram/retrieval.h"

eg_status eg_converge_init(eg_converge *c, int64_t n, double tol, int squared) {
    memset(c, 0, sizeof *c);
    c->n = n > 0 ? n : 0;
    c->tol = tol;
    c->squared = squared;
    size_t m = (size_t)(c->n ? c->n : 1);
    c->steps = calloc(m, sizeof *c->steps);
    c->change = malloc(m * sizeof *c->change);
    c->done = calloc(m, 1);
    if (!c->steps || !c->change || !c->done) {
        eg_converge_free(c);
        return EG_ERR_NOMEM;
    }
    return EG_OK;
}

void eg_converge_reset(eg_converge *c) {
    if (!c->steps) return;
    memset(c->steps, 0, sizeof *c->steps * (size_t)c->n);
    memset(c->done, 0, (size_t)c->n);
    c->updates = 0;
}

int eg_converge_update(eg_converge *c, eg_tensor *change) {
    if (!c->steps) return EG_ERR_NOMEM;
    if (!change || eg_numel(change) != c->n) return EG_ERR_INVALID;
    eg_status st = eg_to_host_f64(change, c->change);
    if (st != EG_OK) return st;
    c->updates++;
    int all = 1;
    for (int64_t q = 0; q < c->n; q++) {
        if (!c->done[q]) {
            double d = c->squared ? sqrt(c->change[q] > 0 ? c->change[q] : 0) : c->change[q];
            if (d < c->tol)
                c->done[q] = 1;
            else
                c->steps[q] = (float)c->updates;
        }
        all &= c->done[q];
    }
    return all;
}

eg_tensor *eg_converge_steps(const eg_converge *c, eg_ctx *ctx) {
    if (!c->steps) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "eg_converge_steps: no host memory for %lld queries", (long long)c->n);
        return eg_zeros(ctx, EG_F32, EG_DIMS(c->n));
    }
    return eg_from_f32(ctx, EG_F32, EG_DIMS(c->n), c->steps);
}

void eg_converge_free(eg_converge *c) {
    free(c->steps), free(c->change), free(c->done);
    c->steps = NULL, c->change = NULL, c->done = NULL;
}
