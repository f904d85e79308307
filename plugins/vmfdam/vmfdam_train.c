/* vmfdam_train.c — data preparation and the training schedule of the vmfdam
 * plugin (reference/model-vmfdam.md §1, §6, §7; paper Alg. 2):
 *   memorisation: epochs of shuffled minibatches, one SMD step per batch, Keras
 *     EarlyStopping semantics (stop once the monitored loss has not improved for
 *     `patience` epochs; the last weights are kept, not the best); the monitor is
 *     the validation loss, or the training loss when there is no validation split;
 *   growth (growth: split): memorise, then split_epochs of eigenvector training,
 *     a selection pass, the split, memorise again, until P_max or nothing splits.
 * The validation split is the last val_fraction of the training items (Keras
 * validation_split semantics); batches are reshuffled every epoch from the run's
 * "batches" stream. Every batch is one GEMM-shaped pass through the backend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram/clock.h"
#include "vmfdam_run.h"

void vmf_items_free(vmf_items *it) {
    if (it->x) eg_tensor_free(it->x);
    if (it->t) eg_tensor_free(it->t);
    free(it->y);
    memset(it, 0, sizeof *it);
}

eg_status vmf_prepare(vmf_plugin *p, eg_run *run, const char *which, vmf_items *out, int with_targets,
                      double softening) {
    vmf_model *m = &p->m;
    char key[64];
    snprintf(key, sizeof key, "%s_split", which);
    const char *split = eg_task_str(run, key);
    const eg_dataset *ds = eg_run_dataset(run, split);
    if (!ds) return EG_ERR_NOTFOUND; /* eg_run_dataset explained it */
    snprintf(key, sizeof key, "%s_limit", which);
    int64_t limit = eg_task_int(run, key), count = limit > 0 && limit < ds->n ? limit : ds->n;
    int64_t per = 1, dim = ds->dim;
    if (p->patch > 0) {
        per = vmf_patches_per_image(ds->height, ds->width, p->patch, p->patch_stride);
        if (per <= 0)
            return eg_run_fail(run, EG_ERR_SPEC,
                               "vmfdam: params.patch = %lld does not fit the %dx%d items of %s (split '%s')",
                               (long long)p->patch, ds->height, ds->width, ds->source, split);
        dim = (int64_t)ds->channels * p->patch * p->patch;
        p->item_c = ds->channels, p->item_h = (int)p->patch, p->item_w = (int)p->patch;
    } else {
        p->item_c = ds->channels, p->item_h = ds->height, p->item_w = ds->width;
    }
    int64_t n = count * per;
    float *buf = malloc((size_t)(n * dim) * sizeof *buf);
    int32_t *y = ds->y ? malloc((size_t)n * sizeof *y) : NULL;
    if (!buf || (ds->y && !y)) {
        free(buf), free(y);
        return eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of host memory for %lld items of %lld values (split '%s')",
                           (long long)n, (long long)dim, split);
    }
    if (p->patch > 0)
        vmf_extract_patches(ds->x, count, ds->channels, ds->height, ds->width, p->patch, p->patch_stride, buf);
    else
        memcpy(buf, ds->x, (size_t)(n * dim) * sizeof *buf);
    vmf_preprocess(buf, n, dim, p->center, buf);
    for (int64_t i = 0; y && i < n; i++)
        y[i] = ds->y[i / per];
    if (y && m->classes > 0 && !m->cfg.unsupervised)
        for (int64_t i = 0; i < n; i++)
            if (y[i] < 0 || y[i] >= m->classes) {
                int32_t bad = y[i];
                free(buf), free(y);
                return eg_run_fail(run, EG_ERR_SPEC,
                                   "vmfdam: %s (split '%s') item %lld has label %d, outside 0..%lld (params.classes)",
                                   ds->source, split, (long long)(i / per), bad, (long long)m->classes - 1);
            }
    eg_ctx *ctx = m->ctx;
    out->x = eg_persistent(ctx, m->dtype, EG_DIMS(n, dim));
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(out->x, eg_from_f32(ctx, m->dtype, EG_DIMS(n, dim), buf));
    if (with_targets && y) {
        out->t = eg_persistent(ctx, m->dtype, EG_DIMS(n, m->classes + 1));
        eg_assign(out->t, vmf_targets(ctx, m->dtype, y, n, m->classes, softening));
    }
    eg_scope_close(s);
    free(buf);
    out->y = y, out->n = n;
    if (m->n == 0) m->n = dim;
    eg_status st = eg_ctx_status(ctx);
    if (st != EG_OK) return eg_run_fail(run, st, "vmfdam: uploading %s: %s", split, eg_ctx_message(ctx));
    if (dim != m->n)
        return eg_run_fail(run, EG_ERR_SPEC, "vmfdam: split '%s' has items of %lld values, the model has N = %lld",
                           split, (long long)dim, (long long)m->n);
    return EG_OK;
}

typedef struct epoch_stats {
    double loss, acc, rayleigh;
} epoch_stats;

static eg_status check_run(void *run) {
    return eg_run_check(run);
}

/* one pass over the fitted rows in shuffled minibatches (vmf_train_epoch); the
 * split phase trains u only */
static eg_status train_epoch(vmf_plugin *p, eg_run *run, int split_phase, uint64_t seq, epoch_stats *es) {
    vmf_model *m = &p->m;
    int64_t n = p->n_fit;
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) return eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of memory for a permutation of %lld", (long long)n);
    vmf_shuffle(perm, n, eg_run_rng(run, "batches"), seq);
    vmf_epoch e = {.x = p->train.x,
                   .t = p->train.t,
                   .y = p->train.y,
                   .perm = perm,
                   .n_fit = n,
                   .batch = p->batch,
                   .split_phase = split_phase,
                   .check = check_run,
                   .check_arg = run};
    eg_status st = vmf_train_epoch(m, &e);
    free(perm);
    if (st == EG_ERR_DIVERGED)
        return eg_run_fail(run, st, "vmfdam: loss %g at batch %lld of epoch %llu (beta %g)", e.bad_loss,
                           (long long)e.bad_batch, (unsigned long long)seq + 1, vmf_beta(m));
    if (st != EG_OK && st != EG_ERR_CANCELLED)
        return eg_run_fail(run, st, "vmfdam: training step: %s", eg_ctx_message(m->ctx));
    if (st != EG_OK) return st;
    es->loss = e.loss;
    es->acc = e.acc;
    es->rayleigh = e.rayleigh;
    return EG_OK;
}

eg_status vmf_evaluate_items(vmf_plugin *p, const vmf_items *it, int64_t start, int64_t count, double *loss,
                             double *acc) {
    return vmf_evaluate(&p->m, it->x, it->t, it->y, start, count, p->eval_batch, loss, acc);
}

/* memorisation with early stopping; *epoch counts epochs across stages */
static eg_status memorize(vmf_plugin *p, eg_run *run, int64_t max_epochs, int64_t *epoch, int64_t total) {
    double best = INFINITY;
    int64_t wait = 0, n_val = p->train.n - p->n_fit;
    for (int64_t e = 0; e < max_epochs; e++) {
        epoch_stats es;
        eg_status st = train_epoch(p, run, 0, (uint64_t)*epoch, &es);
        if (st != EG_OK) return st;
        double vloss = NAN, vacc = NAN;
        if (n_val > 0 && (st = vmf_evaluate_items(p, &p->train, p->n_fit, n_val, &vloss, &vacc)) != EG_OK)
            return eg_run_fail(run, st, "vmfdam: validation: %s", eg_ctx_message(p->m.ctx));
        int64_t step = *epoch + 1;
        eg_log(run, "train/loss", step, es.loss);
        if (p->train.y) eg_log(run, "train/accuracy", step, es.acc);
        if (n_val > 0) {
            eg_log(run, "train/val_loss", step, vloss);
            if (p->train.y) eg_log(run, "train/val_accuracy", step, vacc);
        }
        eg_log(run, "model/beta", step, vmf_beta(&p->m));
        eg_log(run, "model/hidden", step, (double)p->m.hidden);
        eg_log(run, "train/sinkhorn_passes", step, (double)p->m.opt.last_sinkhorn_passes);
        (*epoch)++, p->memorize_epochs++;
        p->last_loss = es.loss, p->last_val_loss = vloss;
        eg_progress(run, *epoch, total > *epoch ? total : *epoch + 1, "epoch");
        double monitor = n_val > 0 ? vloss : es.loss;
        if (!isfinite(monitor))
            return eg_run_fail(run, EG_ERR_DIVERGED, "vmfdam: %s is %g after epoch %lld",
                               n_val > 0 ? "val_loss" : "loss", monitor, (long long)*epoch);
        if (monitor < best)
            best = monitor, wait = 0;
        else
            wait++;
        if (p->patience > 0 && wait >= p->patience) {
            eg_run_log(run, "vmfdam: early stop after epoch %lld (P = %lld, %s %.6g, best %.6g)", (long long)*epoch,
                       (long long)p->m.hidden, n_val > 0 ? "val_loss" : "loss", monitor, best);
            break;
        }
    }
    return EG_OK;
}

static void set_phase(vmf_model *m, int split_phase) {
    eg_requires_grad(m->par.w, !split_phase);
    eg_requires_grad(m->par.g, !split_phase);
    eg_requires_grad(m->par.beta, !split_phase && m->cfg.beta_trainable);
    eg_requires_grad(m->split.u, split_phase);
}

/* eigenvector epochs, the selection pass and the split; *grown = units added */
static eg_status split_stage(vmf_plugin *p, eg_run *run, int64_t *epoch, int64_t *grown) {
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    *grown = 0;
    set_phase(m, 1);
    double best = INFINITY;
    int64_t wait = 0;
    eg_status st = EG_OK;
    for (int64_t e = 0; e < p->split_epochs && st == EG_OK; e++) {
        epoch_stats es;
        st = train_epoch(p, run, 1, (uint64_t)*epoch, &es);
        if (st != EG_OK) break;
        (*epoch)++;
        eg_log(run, "split/rayleigh", *epoch, es.rayleigh);
        if (es.rayleigh < best)
            best = es.rayleigh, wait = 0;
        else if (p->patience > 0 && ++wait >= p->patience)
            break;
    }
    /* selection: the mean gradient over the fitted rows, lambda_mu = u_mu . gbar_mu */
    double *lambda = NULL;
    if (st == EG_OK) {
        eg_tensor *gbar = eg_persistent(ctx, m->dtype, EG_DIMS(m->hidden, m->n));
        for (int64_t b = 0; b < p->n_fit && st == EG_OK; b += p->eval_batch) {
            int64_t bs = p->n_fit - b < p->eval_batch ? p->n_fit - b : p->eval_batch;
            eg_scope *s = eg_scope_open(ctx);
            eg_tensor *x = eg_narrow(p->train.x, 0, b, bs);
            eg_tensor *t = p->train.t ? eg_narrow(p->train.t, 0, b, bs) : NULL;
            st = eg_backward(vmf_loss(m, vmf_forward(m, x, m->split.u, NULL), t));
            eg_no_grad_begin(ctx);
            eg_assign(gbar, eg_add(gbar, eg_scale(eg_grad(m->split.u), (double)bs / (double)p->n_fit)));
            eg_no_grad_end(ctx);
            eg_zero_grad(m->split.u);
            eg_scope_close(s);
            if (st == EG_OK) st = eg_ctx_status(ctx);
        }
        lambda = malloc((size_t)m->hidden * sizeof *lambda);
        if (!lambda) st = eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory");
        if (st == EG_OK) {
            eg_scope *s = eg_scope_open(ctx);
            st = eg_to_host_f64(eg_sum(eg_mul(m->split.u, gbar), 1, 0), lambda);
            eg_scope_close(s);
        }
        eg_tensor_free(gbar);
    }
    set_phase(m, 0);
    if (st == EG_OK) {
        double lmin = INFINITY;
        for (int64_t i = 0; i < m->hidden; i++)
            lmin = lambda[i] < lmin ? lambda[i] : lmin;
        int64_t before = m->hidden;
        /* the stage's draws start at offset P << 32 of the "split" stream (eg_run_rng starts at 0) */
        st = vmf_split_units(m, lambda, p->split_fraction, p->split_threshold, p->split_delta, eg_run_rng(run, "split"),
                             grown);
        if (st == EG_OK) {
            eg_log(run, "split/units", *epoch, (double)*grown);
            eg_log(run, "split/min_lambda", *epoch, lmin);
            eg_run_log(run, "vmfdam: split %lld of %lld units (min lambda %.4g), P = %lld", (long long)*grown,
                       (long long)before, lmin, (long long)m->hidden);
        }
    }
    free(lambda);
    if (st != EG_OK && st != EG_ERR_CANCELLED && st != EG_ERR_DIVERGED)
        return eg_run_fail(run, st, "vmfdam: splitting stage: %s", eg_ctx_message(ctx));
    return st;
}

eg_status vmf_fit(vmf_plugin *p, eg_run *run) {
    vmf_model *m = &p->m;
    double t0 = eg_monotonic();
    int64_t epoch = 0, total = p->epochs;
    if (p->growth_split) {
        int64_t sizes[64];
        int stages = vmf_growth_schedule(m->hidden, m->hidden_max, p->split_fraction, sizes, 64);
        total = (int64_t)stages * (p->epochs + p->split_epochs);
    }
    eg_status st = memorize(p, run, p->epochs, &epoch, total);
    while (st == EG_OK && p->growth_split && m->hidden < m->hidden_max) {
        int64_t grown = 0;
        if ((st = split_stage(p, run, &epoch, &grown)) != EG_OK || grown == 0) break;
        st = memorize(p, run, p->epochs, &epoch, total);
    }
    p->epochs_done = epoch;
    p->fit_seconds = eg_monotonic() - t0;
    return st;
}
