/* task_retrieve.c — the shared `retrieve` task: blocks, queries, scoring, metrics
 * (include/engram/retrieval.h; MODELS.md "Common retrieval task").
 *
 * Scoring is batched on the backend: the squared distances of the Q final
 * states to the M stored patterns come from one GEMM,
 *   D = ||f||^2 + ||x||^2 - 2 f x^T      [Q, M],
 * and only [Q, M] distances and [Q] errors come back to the host. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram/plugin.h"
#include "engram/retrieval.h"
#include "tasks.h"

struct eg_retrieval_state {
    double sum_success, sum_within, sum_mse, sum_steps;
    int64_t n_scored; /* queries scored */
    double *e_sum;    /* energy sums per step */
    int64_t *e_cnt;   /* and counts */
    int64_t e_n, e_cap;
    float *grid_q, *grid_f, *grid_t; /* block 0: corrupted queries, final states, targets [Q, d] */
    int have_q, have_grid;
};

__attribute__((format(printf, 3, 4))) static eg_status fail(eg_retrieval *r, eg_status st, const char *fmt, ...) {
    if (r->status != EG_OK) return r->status;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = eg_run_fail(r->run, st, "%s", msg);
    if (r->status == EG_OK) r->status = st;
    return r->status;
}

/* the context's sticky error becomes the task's */
static eg_status check_ctx(eg_retrieval *r) {
    if (r->status != EG_OK) return r->status;
    eg_status st = eg_ctx_status(r->ctx);
    if (st != EG_OK) return fail(r, st, "retrieve: %s", eg_ctx_message(r->ctx));
    return EG_OK;
}

eg_retrieval eg_retrieval_begin(eg_run *run) {
    eg_retrieval r;
    memset(&r, 0, sizeof r);
    r.run = run;
    r.ctx = eg_run_ctx(run);
    r.dtype = EG_F32;
    r.data = eg_run_dataset(run, NULL);
    if (!r.data) {
        fail(&r, EG_ERR_NOTFOUND, "retrieve: the run has no dataset (data.source)");
        return r;
    }
    r.memories = eg_task_int(run, "memories");
    r.queries = eg_task_int(run, "queries");
    r.tolerance = eg_task_float(run, "tolerance");
    int64_t want = eg_task_has(run, "blocks") ? eg_task_int(run, "blocks") : 0;
    r.dim = r.data->dim;
    r.corrupt = eg_corruption_from_task(run);
    const char *src = r.data->source ? r.data->source : "the dataset";
    const char *key = NULL;
    char msg[512];
    if (eg_retrieve_problem(r.memories, r.queries, want, &r.corrupt, r.data, &key, msg, sizeof msg)) {
        fail(&r, EG_ERR_SPEC, "%s: %s", key, msg);
        return r;
    }
    r.state = calloc(1, sizeof *r.state);
    if (!r.state) {
        fail(&r, EG_ERR_NOMEM, "retrieve: out of host memory");
        return r;
    }
    r.blocks = want ? want : r.data->n / r.memories;
    eg_run_log(run,
               "retrieve: %lld blocks of %lld memories from %s (%lld items, d = %lld), %lld queries per block, "
               "corruption %s",
               (long long)r.blocks, (long long)r.memories, src, (long long)r.data->n, (long long)r.dim,
               (long long)r.queries, eg_corrupt_kind_name(r.corrupt.kind));
    return r;
}

static int block_ok(eg_retrieval *r, int64_t b) {
    if (r->status != EG_OK || !r->state) return 0;
    if (b < 0 || b >= r->blocks) {
        fail(r, EG_ERR_INVALID, "retrieve: block %lld out of range (%lld blocks)", (long long)b, (long long)r->blocks);
        return 0;
    }
    return 1;
}

/* placeholder for calls after an error (the context is failed, so ops are no-ops) */
static eg_tensor *placeholder(eg_retrieval *r, int64_t rows) {
    if (eg_ctx_status(r->ctx) == EG_OK) eg_ctx_fail(r->ctx, r->status ? r->status : EG_ERR_INVALID, "retrieve failed");
    return eg_zeros(r->ctx, r->dtype, EG_DIMS(rows > 0 ? rows : 1, r->dim > 0 ? r->dim : 1));
}

eg_tensor *eg_retrieval_memories(eg_retrieval *r, int64_t b) {
    if (!block_ok(r, b)) return placeholder(r, r->memories);
    return eg_dataset_rows(r->ctx, r->data, r->dtype, b * r->memories, r->memories);
}

eg_tensor *eg_retrieval_targets(eg_retrieval *r, int64_t b) {
    if (!block_ok(r, b)) return placeholder(r, r->queries);
    return eg_dataset_rows(r->ctx, r->data, r->dtype, b * r->memories, r->queries);
}

/* Block b's corruption draws start at offset b * 2^40 of the "corrupt" stream. */
static eg_tensor *make_queries(eg_retrieval *r, int64_t b) {
    eg_rng rng = eg_run_rng(r->run, "corrupt");
    rng = eg_rng_substream(rng, (uint64_t)b, EG_RNG_SPAN_BLOCK);
    eg_tensor *clean = eg_dataset_rows(r->ctx, r->data, r->dtype, b * r->memories, r->queries);
    return eg_corrupt(&r->corrupt, &rng, clean, r->data);
}

static float *host_copy(eg_retrieval *r, eg_tensor *t, int64_t n) {
    float *buf = malloc(sizeof(float) * (size_t)n);
    if (!buf) {
        fail(r, EG_ERR_NOMEM, "retrieve: out of host memory");
        return NULL;
    }
    if (eg_to_host_f32(t, buf) != EG_OK) {
        free(buf);
        check_ctx(r);
        return NULL;
    }
    return buf;
}

eg_tensor *eg_retrieval_queries(eg_retrieval *r, int64_t b) {
    if (!block_ok(r, b)) return placeholder(r, r->queries);
    eg_tensor *q = make_queries(r, b);
    if (b == 0 && !r->state->have_q) {
        free(r->state->grid_q);
        r->state->grid_q = host_copy(r, q, r->queries * r->dim);
        r->state->have_q = r->state->grid_q != NULL;
    }
    return q;
}

/* per-query step counts: a [Q] tensor, one value, or NULL (zeros) */
static int read_steps(eg_retrieval *r, eg_tensor *steps, double *out) {
    int64_t Q = r->queries;
    for (int64_t j = 0; j < Q; j++)
        out[j] = 0;
    if (!steps) return 1;
    int64_t n = eg_numel(steps);
    if (n == Q) return eg_to_host_f64(steps, out) == EG_OK;
    if (n == 1) {
        double v = eg_item(steps);
        for (int64_t j = 0; j < Q; j++)
            out[j] = v;
        return 1;
    }
    fail(r, EG_ERR_INVALID, "eg_retrieval_score: steps must hold %lld values (one per query) or 1, got %lld",
         (long long)Q, (long long)n);
    return 0;
}

/* Exact equality of two rows of the memories (a duplicated item is the same pattern). */
static int same_rows(eg_tensor *mem, int64_t i, int64_t j, int64_t k) {
    float *a = malloc(sizeof(float) * (size_t)k * 2);
    if (!a) return 0;
    int eq = eg_to_host_f32(eg_narrow(mem, 0, i, 1), a) == EG_OK &&
             eg_to_host_f32(eg_narrow(mem, 0, j, 1), a + k) == EG_OK &&
             memcmp(a, a + k, sizeof(float) * (size_t)k) == 0;
    free(a);
    return eq;
}

static void keep_grid(eg_retrieval *r, eg_tensor *final_states) {
    eg_retrieval_state *s = r->state;
    if (s->have_grid) return;
    if (!s->have_q) {
        free(s->grid_q);
        s->grid_q = host_copy(r, make_queries(r, 0), r->queries * r->dim);
        s->have_q = s->grid_q != NULL;
    }
    s->grid_f = host_copy(r, final_states, r->queries * r->dim);
    s->grid_t = host_copy(r, eg_retrieval_targets(r, 0), r->queries * r->dim);
    s->have_grid = s->have_q && s->grid_f && s->grid_t;
}

eg_status eg_retrieval_score_against(eg_retrieval *r, int64_t b, eg_tensor *final_states, eg_tensor *memories,
                                     eg_tensor *steps) {
    if (!block_ok(r, b)) return r->status ? r->status : EG_ERR_INVALID;
    if (check_ctx(r) != EG_OK) return r->status;
    int64_t Q = r->queries, M = r->memories;
    if (eg_ndim(final_states) != 2 || eg_ndim(memories) != 2 || eg_dim(final_states, 0) != Q ||
        eg_dim(memories, 0) != M || eg_dim(final_states, 1) != eg_dim(memories, 1))
        return fail(r, EG_ERR_INVALID,
                    "eg_retrieval_score: expected final states [%lld, k] and memories [%lld, k] with the same k",
                    (long long)Q, (long long)M);
    int64_t k = eg_dim(memories, 1);
    double *buf = malloc(sizeof(double) * (size_t)(Q * M + 2 * Q));
    if (!buf) return fail(r, EG_ERR_NOMEM, "retrieve: out of host memory");
    double *dist = buf, *se = buf + Q * M, *nsteps = buf + Q * M + Q;
    eg_scope *scope = eg_scope_open(r->ctx);
    eg_no_grad_begin(r->ctx);
    eg_tensor *f = eg_detach(final_states), *x = eg_detach(memories);
    /* D = ||f||^2 + ||x||^2 - 2 f x^T, one GEMM for all Q x M distances */
    eg_tensor *fn = eg_sum(eg_square(f), 1, 1);                            /* [Q, 1] */
    eg_tensor *xn = eg_reshape(eg_sum(eg_square(x), 1, 0), EG_DIMS(1, M)); /* [1, M] */
    eg_tensor *D = eg_add(eg_add(eg_gemm(f, x, 0, 1, -2.0), fn), xn);      /* [Q, M] */
    /* exact error to the target (row j of the memories) */
    eg_tensor *err = eg_sum(eg_square(eg_sub(f, eg_narrow(x, 0, 0, Q))), 1, 0); /* [Q] */
    int ok = eg_to_host_f64(D, dist) == EG_OK && eg_to_host_f64(err, se) == EG_OK && read_steps(r, steps, nsteps);
    if (ok) {
        eg_retrieval_state *s = r->state;
        for (int64_t j = 0; j < Q; j++) {
            /* success: the target is strictly nearer than every other stored pattern
             * (a tie is a failure; an exact duplicate of the target is the target) */
            const double *dj = dist + j * M;
            int success = 1;
            for (int64_t i = 0; i < M && success; i++)
                if (i != j && dj[i] <= dj[j] && !same_rows(x, i, j, k)) success = 0;
            double e = sqrt(se[j] > 0 ? se[j] : 0);
            s->sum_success += success;
            s->sum_within += e < r->tolerance;
            s->sum_mse += se[j] / (double)k;
            s->sum_steps += nsteps[j];
        }
        s->n_scored += Q;
        if (b == 0 && k == r->dim) keep_grid(r, f);
    }
    eg_no_grad_end(r->ctx);
    eg_scope_close(scope);
    free(buf);
    return check_ctx(r);
}

eg_status eg_retrieval_score(eg_retrieval *r, int64_t b, eg_tensor *final_states, eg_tensor *steps) {
    if (!block_ok(r, b)) return r->status ? r->status : EG_ERR_INVALID;
    eg_scope *scope = eg_scope_open(r->ctx);
    eg_status st = eg_retrieval_score_against(r, b, final_states, eg_retrieval_memories(r, b), steps);
    eg_scope_close(scope);
    return st;
}

eg_status eg_retrieval_energy(eg_retrieval *r, int64_t step, eg_tensor *energy) {
    if (r->status != EG_OK || !r->state) return r->status ? r->status : EG_ERR_INVALID;
    eg_retrieval_state *s = r->state;
    if (step < 0) return fail(r, EG_ERR_INVALID, "eg_retrieval_energy: negative step %lld", (long long)step);
    if (step >= s->e_cap) {
        int64_t cap = s->e_cap ? s->e_cap : 16;
        while (cap <= step)
            cap *= 2;
        double *es = realloc(s->e_sum, sizeof(double) * (size_t)cap);
        if (es) s->e_sum = es;
        int64_t *ec = realloc(s->e_cnt, sizeof(int64_t) * (size_t)cap);
        if (ec) s->e_cnt = ec;
        if (!es || !ec) return fail(r, EG_ERR_NOMEM, "retrieve: out of host memory");
        for (int64_t i = s->e_cap; i < cap; i++)
            s->e_sum[i] = 0, s->e_cnt[i] = 0;
        s->e_cap = cap;
    }
    int64_t n = eg_numel(energy);
    double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!v) return fail(r, EG_ERR_NOMEM, "retrieve: out of host memory");
    if (eg_to_host_f64(energy, v) == EG_OK) {
        for (int64_t i = 0; i < n; i++)
            s->e_sum[step] += v[i];
        s->e_cnt[step] += n;
        if (step + 1 > s->e_n) s->e_n = step + 1;
    }
    free(v);
    return check_ctx(r);
}

/* (query, retrieved, target) per query of block 0 as uint8 pictures [3Q, h, w, c] */
static void save_grid(eg_retrieval *r) {
    eg_retrieval_state *s = r->state;
    const eg_dataset *ds = r->data;
    int64_t Q = r->queries, d = r->dim;
    int image =
        ds->height > 1 && ds->width > 1 && ds->channels > 0 && (int64_t)ds->channels * ds->height * ds->width == d;
    int64_t c = image ? ds->channels : 1, h = image ? ds->height : 1, w = image ? ds->width : d;
    /* map values to [0, 255]: pixels as they are, +-1 data from [-1, 1], else the grid's own range */
    double lo = 0, hi = 1;
    if (ds->binary)
        lo = -1;
    else {
        double mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < Q * d; i++) {
            double t = s->grid_t[i];
            mn = t < mn ? t : mn, mx = t > mx ? t : mx;
        }
        if (mn < 0 || mx > 1) lo = mn, hi = mx > mn ? mx : mn + 1;
    }
    uint8_t *pix = malloc((size_t)(3 * Q * d));
    if (!pix) return;
    const float *src[3] = {s->grid_q, s->grid_f, s->grid_t};
    for (int64_t q = 0; q < Q; q++)
        for (int t = 0; t < 3; t++) {
            const float *img = src[t] + q * d;
            uint8_t *out = pix + (3 * q + t) * d;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < h * w; i++) {
                    double v = (img[ch * h * w + i] - lo) / (hi - lo);
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                    out[i * c + ch] = (uint8_t)lrint(v * 255.0); /* CHW -> HWC */
                }
        }
    eg_status st = eg_save_picture(r->run, "retrieval/grid", "image-grid", pix, 3 * Q, h, w, c);
    if (st == EG_OK) st = eg_picture_layout(r->run, "retrieval/grid", 3, "corrupted query|retrieved|target");
    if (st != EG_OK) eg_run_log(r->run, "retrieve: could not save the retrieval/grid picture: %s", eg_strerror(st));
    free(pix);
}

eg_status eg_retrieval_end(eg_retrieval *r) {
    eg_retrieval_state *s = r->state;
    check_ctx(r);
    if (r->status == EG_OK && s && s->n_scored == 0)
        fail(r, EG_ERR_INTERNAL, "retrieve: no block was scored (the plugin never called eg_retrieval_score)");
    if (r->status == EG_OK && s) {
        double n = (double)s->n_scored;
        eg_metric(r->run, "retrieval/success", s->sum_success / n);
        eg_metric(r->run, "retrieval/within_tol", s->sum_within / n);
        eg_metric(r->run, "retrieval/mse", s->sum_mse / n);
        eg_metric(r->run, "retrieval/steps", s->sum_steps / n);
        for (int64_t i = 0; i < s->e_n; i++)
            if (s->e_cnt[i] > 0) eg_log(r->run, "retrieval/energy", i, s->e_sum[i] / (double)s->e_cnt[i]);
        if (s->have_grid) save_grid(r);
        eg_run_log(r->run, "retrieve: %lld queries: success %.4f, within_tol %.4f, mse %.6g, steps %.3f",
                   (long long)s->n_scored, s->sum_success / n, s->sum_within / n, s->sum_mse / n, s->sum_steps / n);
    }
    if (s) {
        free(s->e_sum), free(s->e_cnt), free(s->grid_q), free(s->grid_f), free(s->grid_t);
        free(s);
        r->state = NULL;
    }
    return r->status;
}
