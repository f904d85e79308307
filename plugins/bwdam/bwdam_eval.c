/* bwdam_eval.c — the retrieve task for bwdam: Gaussian queries at an exact W2
 * radius, retrieval, and scoring in W2 (MODELS.md "Common retrieval task").
 *
 * Per block: memories X and targets T (the first Q memories) come from the shared
 * task; queries are T moved to W2 = task.query.radius (dilate or random, drawn from
 * block b's substream of the run's "corrupt" stream, like the shared corruptions);
 * retrieval runs all Q queries at once. On image data the Gaussians are the VAE
 * encoder's N(μ(x), diag exp(logvar(x))) of the clean items, and the queries those
 * of the shared task's corrupted items (task.corrupt, e.g. 20 % masked pixels). Scores per query:
 *   success    the target is the strictly W2-nearest memory (a tie is a failure);
 *   converged  W2(final, target) < task.tolerance;
 * plus the mean W2 and W2² to the target and the update counts. The shared task
 * still receives every block (eg_retrieval_score_against, in the Eu-DAM embedding
 * with one extra zero column, so no pixel grid is drawn from Gaussian rows), and
 * its Euclidean numbers are then replaced by these W2 ones. Series: the mean W2
 * to the target after each update (retrieval/w2), its standard deviation over the
 * queries (retrieval/w2_sd) and the energy (retrieval/energy). With d = 1 the first
 * block's energy landscape is saved too (bwdam_landscape.c, the paper's Fig. 2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bwdam_internal.h"
#include "bwdam_plugin.h"

typedef struct tally {
    eg_retrieval *r;
    bw_gauss target;
    double floor;
    double *w2_sum, *w2_sq; /* [steps + 1]: sums of W2 and W2² to the targets */
    int64_t *w2_cnt;
    double *buf; /* [Q] */
} tally;

static void on_step(void *user, int step, bw_gauss state, eg_tensor *energy) {
    tally *t = user;
    eg_retrieval_energy(t->r, step, energy);
    eg_ctx *ctx = eg_tensor_ctx(state.mean);
    eg_scope *sc = eg_scope_open(ctx);
    int64_t Q = bw_gauss_n(state);
    if (eg_to_host_f64(bw_w2sq_rows(state, t->target, t->floor), t->buf) == EG_OK)
        for (int64_t j = 0; j < Q; j++) {
            t->w2_sum[step] += sqrt(t->buf[j] > 0 ? t->buf[j] : 0);
            t->w2_sq[step] += t->buf[j] > 0 ? t->buf[j] : 0;
            t->w2_cnt[step]++;
        }
    eg_scope_close(sc);
}

/* the embedding with one zero column appended (see the file comment) */
static eg_tensor *bookkeeping_rows(bw_gauss g, double floor) {
    eg_tensor *e = bw_eu_embed(g, floor);
    eg_tensor *parts[2] = {e, eg_zeros(eg_tensor_ctx(e), eg_dtype_of(e), EG_DIMS(eg_dim(e, 0), 1))};
    return eg_concat(parts, 2, 1);
}

int bw_gaussian_rows(const eg_dataset *ds, int64_t *d, int *full) {
    if (!ds || !ds->source || strncmp(ds->source, "gaussians", 9) != 0) return 0;
    *d = ds->width;
    *full = ds->height == ds->width + 1 && ds->width > 1;
    return ds->channels == 1 && (ds->height == 2 || *full) && ds->dim == (int64_t)ds->height * ds->width;
}

/* 1 when every stored d x d covariance is diagonal */
static int all_diagonal(const eg_dataset *ds, int64_t d) {
    for (int64_t i = 0; i < ds->n; i++) {
        const float *S = ds->x + i * ds->dim + d;
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = 0; b < d; b++)
                if (a != b && S[a * d + b] != 0) return 0;
    }
    return 1;
}

eg_status bw_eval_gaussians(const bw_model *m, eg_run *run) {
    const bw_dam *h = &m->h;
    eg_retrieval r = eg_retrieval_begin(run);
    int64_t d = m->images ? m->vae.latent : 0;
    int data_full = 0;
    if (r.status == EG_OK && !m->images && !bw_gaussian_rows(r.data, &d, &data_full))
        r.status = eg_run_fail(run, EG_ERR_SPEC,
                               "bwdam: data.source %s does not hold Gaussian rows; variant %s needs the gaussians or "
                               "gaussians-hdf5 source (rows [mean, covariance]) or images (then VAE embeddings)",
                               r.data->source ? r.data->source : "?", h->variant == BW_EU ? "eu-dam" : "bw");
    if (r.status == EG_OK && m->images && r.data->dim != m->vae.d)
        r.status = eg_run_fail(run, EG_ERR_SPEC, "bwdam: %s items have %lld values, the VAE expects %lld",
                               r.data->source, (long long)r.data->dim, (long long)m->vae.d);
    if (r.status == EG_OK && data_full && !h->full && !all_diagonal(r.data, d))
        r.status = eg_run_fail(run, EG_ERR_SPEC,
                               "bwdam: params.cov is diag but %s holds full %lld x %lld covariance matrices; set "
                               "params.cov: full",
                               r.data->source, (long long)d, (long long)d);
    /* W2 differences of traces: float64 where it costs little (a CPU) */
    eg_dtype work = eg_ctx_has(r.ctx, EG_FEATURE_FAST_F64) ? EG_F64 : EG_F32;
    r.dtype = m->images ? EG_F32 : work; /* images go through the (float32) encoder first */
    const char *kind = eg_task_str(run, "query.kind");
    double radius = eg_task_float(run, "query.radius"), share = eg_task_float(run, "query.mean_share");
    int random = strcmp(kind, "random") == 0;
    int64_t Q = r.queries, S = h->steps + 1;
    double sum_success = 0, sum_conv = 0, sum_w2 = 0, sum_w2sq = 0, sum_steps = 0;
    static const double levels[6] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1}; /* logged: final W2 below each */
    int64_t below[6] = {0};
    int64_t scored = 0;
    tally t = {&r,
               {NULL, NULL, 0},
               h->eig_floor,
               calloc((size_t)S, sizeof(double)),
               calloc((size_t)S, sizeof(double)),
               calloc((size_t)S, sizeof(int64_t)),
               malloc(sizeof(double) * (size_t)(2 * Q + 1))};
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)Q);
    if (r.status == EG_OK && (!t.w2_sum || !t.w2_sq || !t.w2_cnt || !t.buf || !idx))
        r.status = eg_run_fail(run, EG_ERR_NOMEM, "bwdam: out of host memory");
    for (int64_t j = 0; idx && j < Q; j++)
        idx[j] = (int32_t)j;
    if (r.status == EG_OK)
        eg_run_log(run, "bwdam: %s, cov %s (%s, d = %lld), beta %g, queries %s, %s",
                   h->variant == BW_EU ? "eu-dam" : "bw", h->full ? "full" : "diag",
                   m->images   ? "VAE embeddings of the images"
                   : data_full ? "full covariances"
                               : "diagonal covariances",
                   (long long)d, h->beta, m->images ? "from task.corrupt, encoded" : kind,
                   work == EG_F64 ? "float64" : "float32");
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b++) {
        eg_scope *s = eg_scope_open(r.ctx);
        eg_tensor *items = eg_retrieval_memories(&r, b);
        bw_gauss X, T, q;
        if (m->images) { /* encoder Gaussians of the clean items and of the corrupted queries */
            X = bw_vae_embed(&m->vae, items, work);
            T = bw_gauss_narrow(X, 0, Q);
            q = bw_vae_embed(&m->vae, eg_retrieval_queries(&r, b), work);
        } else {
            X = bw_gauss_from_rows(items, d, data_full);
            T = bw_gauss_from_rows(eg_retrieval_targets(&r, b), d, data_full);
        }
        X = h->full ? bw_gauss_to_full(X) : bw_gauss_to_diag(X);
        T = h->full ? bw_gauss_to_full(T) : bw_gauss_to_diag(T);
        if (b == 0 && d == 1 && bw_landscape(h, run, X) != EG_OK)
            eg_run_log(run, "bwdam: the energy landscape could not be saved");
        if (!m->images) {
            eg_rng rng = eg_rng_substream(eg_run_rng(run, "corrupt"), (uint64_t)b, EG_RNG_SPAN_BLOCK);
            q = random ? bw_random(T, radius, share, &rng, h->eig_floor) : bw_dilate(T, radius);
        }
        t.target = T;
        eg_tensor *steps = NULL;
        bw_gauss f = bw_retrieve(h, q, X, &steps, on_step, &t);
        /* success: count the memories at W2² <= the target's (the target itself counts once) */
        eg_tensor *D = bw_w2sq_nearest(f, X, h->eig_floor); /* [Q, M]; +inf: cannot be the nearest */
        eg_tensor *dt = eg_take_along(D, 1, eg_from_host(r.ctx, EG_I32, EG_DIMS(Q, 1), idx)); /* [Q, 1] */
        eg_tensor *ties = eg_sum(eg_ge(dt, D), 1, 0);
        double *hs = t.buf, *hw = t.buf + Q;
        if (eg_to_host_f64(ties, hs) == EG_OK && eg_to_host_f64(bw_w2sq_rows(f, T, h->eig_floor), hw) == EG_OK) {
            float *cnt = malloc(sizeof(float) * (size_t)Q);
            if (cnt && eg_to_host_f32(steps, cnt) == EG_OK)
                for (int64_t j = 0; j < Q; j++)
                    sum_steps += cnt[j];
            free(cnt);
            for (int64_t j = 0; j < Q; j++) {
                double w2sq = hw[j] > 0 ? hw[j] : 0, w2 = sqrt(w2sq);
                sum_success += hs[j] == 1.0;
                sum_conv += w2 < r.tolerance;
                for (int k = 0; k < 6; k++)
                    below[k] += w2 < levels[k];
                sum_w2 += w2, sum_w2sq += w2sq;
            }
            scored += Q;
        }
        if (m->images) /* the shared grid: masked query, decoded retrieval, target */
            eg_retrieval_score_against(&r, b, bw_vae_decode(&m->vae, eg_cast(f.mean, EG_F32)), items, steps);
        else
            eg_retrieval_score_against(&r, b, bookkeeping_rows(f, h->eig_floor), bookkeeping_rows(X, h->eig_floor),
                                       steps);
        eg_scope_close(s);
        eg_progress(run, b + 1, r.blocks, "block");
        eg_status st = eg_run_check(run);
        if (st != EG_OK && r.status == EG_OK)
            r.status = eg_run_fail(run, st, "bwdam: stopped after block %lld of %lld", (long long)(b + 1),
                                   (long long)r.blocks);
    }
    eg_status st = eg_retrieval_end(&r);
    if (st == EG_OK && scored > 0) {
        double n = (double)scored;
        eg_metric(run, "retrieval/success", sum_success / n);
        eg_metric(run, "retrieval/converged", sum_conv / n);
        eg_metric(run, "retrieval/within_tol", sum_conv / n);
        eg_metric(run, "retrieval/w2_final", sum_w2 / n);
        eg_metric(run, "retrieval/mse", sum_w2sq / n);
        eg_metric(run, "retrieval/steps", sum_steps / n);
        for (int64_t i = 0; i < S; i++)
            if (t.w2_cnt[i] > 0) {
                double c = (double)t.w2_cnt[i], mean = t.w2_sum[i] / c, var = t.w2_sq[i] / c - mean * mean;
                eg_log(run, "retrieval/w2", i, mean);
                eg_log(run, "retrieval/w2_sd", i, sqrt(var > 0 ? var : 0));
            }
        eg_run_log(run, "bwdam: %lld queries: success %.4f, converged %.4f (W2 < %g), mean W2 %.6g -> %.6g, steps %.3f",
                   (long long)scored, sum_success / n, sum_conv / n, r.tolerance,
                   t.w2_cnt[0] ? t.w2_sum[0] / (double)t.w2_cnt[0] : 0.0, sum_w2 / n, sum_steps / n);
        eg_run_log(run,
                   "bwdam: final W2 below 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1: %lld, %lld, %lld, %lld, %lld, %lld of %lld",
                   (long long)below[0], (long long)below[1], (long long)below[2], (long long)below[3],
                   (long long)below[4], (long long)below[5], (long long)scored);
    } else if (st == EG_OK)
        st = eg_run_fail(run, EG_ERR_INTERNAL, "bwdam: no query was scored");
    free(t.w2_sum), free(t.w2_sq), free(t.w2_cnt), free(t.buf), free(idx);
    return st;
}

/* ---- pixel-dam: MCHN on the raw items ---- */

eg_status bw_eval_pixels(const bw_dam *h, eg_run *run) {
    eg_retrieval r = eg_retrieval_begin(run);
    int64_t d;
    int full;
    if (r.status == EG_OK && bw_gaussian_rows(r.data, &d, &full))
        r.status = eg_run_fail(run, EG_ERR_SPEC,
                               "bwdam: variant pixel-dam retrieves raw items (images), but %s holds Gaussians "
                               "without the items they embed; use variant bw or eu-dam",
                               r.data->source);
    int64_t Q = r.queries;
    eg_converge c; /* squared moves: a query has converged when sqrt(move) < tol */
    if (eg_converge_init(&c, Q, h->tol, 1) != EG_OK && r.status == EG_OK)
        r.status = eg_run_fail(run, EG_ERR_NOMEM, "bwdam: out of host memory");
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b++) {
        eg_scope *s = eg_scope_open(r.ctx);
        eg_tensor *X = eg_retrieval_memories(&r, b), *V = eg_retrieval_queries(&r, b), *E = NULL;
        eg_converge_reset(&c);
        int t = 0;
        while (t < h->steps) {
            eg_tensor *Vn = bw_eu_step(h, V, X, &E);
            eg_retrieval_energy(&r, t, E);
            eg_tensor *delta = eg_sum(eg_square(eg_sub(Vn, V)), 1, 0);
            V = Vn;
            int all = eg_converge_update(&c, delta);
            if (all < 0) break;
            t++;
            if (all) break;
        }
        bw_eu_step(h, V, X, &E);
        for (int k = t; k <= h->steps; k++)
            eg_retrieval_energy(&r, k, E);
        eg_retrieval_score(&r, b, V, eg_converge_steps(&c, r.ctx));
        eg_scope_close(s);
        eg_progress(run, b + 1, r.blocks, "block");
        eg_status st = eg_run_check(run);
        if (st != EG_OK && r.status == EG_OK)
            r.status = eg_run_fail(run, st, "bwdam: stopped after block %lld of %lld", (long long)(b + 1),
                                   (long long)r.blocks);
    }
    eg_converge_free(&c);
    return eg_retrieval_end(&r);
}
