/* nem_train.c — training (notes §1.8): Adam on eq. (5) back-propagated through
 * all T unrolled EM steps, batches from a shuffled train split, fresh input
 * noise for every frame, validation loss after every epoch, early stopping
 * with the best-valid-loss weights kept. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engram/clock.h"
#include "engram/philox.h"
#include "nem.h"

/* Fisher-Yates from the "batches" stream (host draws of the same Philox values every backend uses) */
static void shuffle(int64_t *idx, int64_t n, eg_rng *r) {
    for (int64_t i = n - 1; i > 0; i--) {
        double u = eg_philox_value(0, r->seed, r->stream, r->offset++, 0.0, 1.0);
        int64_t j = (int64_t)(u * (double)(i + 1));
        if (j > i) j = i;
        int64_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
}

typedef struct snapshot {
    eg_tensor **t;
    int n;
} snapshot;

static void snap_take(snapshot *s, eg_params *ps) {
    if (!s->t) {
        s->n = eg_params_count(ps);
        s->t = calloc((size_t)s->n, sizeof *s->t);
        for (int i = 0; s->t && i < s->n; i++) {
            eg_tensor *p = eg_params_get(ps, i);
            s->t[i] = eg_persistent(eg_tensor_ctx(p), eg_dtype_of(p), eg_ndim(p), eg_shape(p));
        }
    }
    for (int i = 0; s->t && i < s->n; i++)
        eg_assign(s->t[i], eg_params_get(ps, i));
}

static void snap_restore(snapshot *s, eg_params *ps) {
    for (int i = 0; s->t && i < s->n; i++)
        eg_assign(eg_params_get(ps, i), s->t[i]);
}

static void snap_free(snapshot *s) {
    for (int i = 0; s->t && i < s->n; i++)
        eg_tensor_free(s->t[i]);
    free(s->t);
    s->t = NULL;
}

eg_status nem_fit(void *self, eg_run *run) {
    nem_plugin *p = self;
    nem_model *m = &p->m;
    eg_ctx *ctx = eg_run_ctx(run);
    if (p->epochs == 0) return EG_OK;
    const eg_dataset *ds = eg_run_dataset(run, "train");
    if (!ds) return EG_ERR_NOTFOUND;
    int frames, C;
    nem_frames(ds, &frames, &C);
    if (C != m->C || ds->height != m->H || ds->width != m->W || (frames > 1 && frames < m->cfg.steps + 1))
        return eg_run_fail(run, EG_ERR_SPEC, "nem: the train split's geometry differs from the evaluated split's");
    int64_t B = p->batch, nb = ds->n / B, max_updates = eg_param_int(run, "updates");
    int64_t valid_n = eg_param_int(run, "valid_size");
    if (nb < 1)
        return eg_run_fail(run, EG_ERR_SPEC, "nem: the train split has %lld items, fewer than params.batch = %lld",
                           (long long)ds->n, (long long)B);
    const eg_dataset *vs = NULL;
    if (valid_n > 0) {
        vs = eg_run_dataset(run, "valid");
        if (!vs) return EG_ERR_NOTFOUND;
        if (valid_n > vs->n) valid_n = vs->n;
    }
    if (!nem_binary_data(ds) || (vs && !nem_binary_data(vs))) m->binary_targets = 0;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)ds->n);
    eg_optim *opt = eg_adam(m->ps, p->lr, 0.9, 0.999, 1e-8);
    if (!idx || !opt) {
        free(idx);
        if (opt) eg_optim_free(opt);
        return eg_run_fail(run, EG_ERR_NOMEM, "nem: out of memory for training");
    }
    for (int64_t i = 0; i < ds->n; i++)
        idx[i] = i;
    eg_rng brng = eg_run_rng(run, "batches"), grng = eg_run_rng(run, "gamma"), nrng = eg_run_rng(run, "noise");
    snapshot best = {0};
    double best_loss = INFINITY, t0 = eg_monotonic(), ep_loss = NAN, ep_bce = NAN;
    int64_t updates = 0, best_epoch = 0, since = 0;
    eg_status st = EG_OK;
    for (int64_t ep = 1; ep <= p->epochs && st == EG_OK; ep++) {
        shuffle(idx, ds->n, &brng);
        double sum_l = 0, sum_b = 0;
        int64_t cnt = 0;
        for (int64_t b = 0; b < nb && st == EG_OK; b++) {
            eg_scope *sc = eg_scope_open(ctx);
            eg_tensor *rows = eg_dataset_gather(ctx, ds, p->dt, idx + b * B, B), *bce = NULL;
            eg_tensor *loss = nem_unroll(m, rows, frames, &grng, &nrng, NULL, &bce, NULL);
            eg_backward(loss);
            eg_optim_step(opt);
            eg_optim_zero_grad(opt);
            double lv = eg_item(loss), bv = eg_item(bce);
            eg_scope_close(sc);
            if ((st = eg_ctx_status(ctx)) != EG_OK) {
                st = eg_run_fail(run, st, "nem: training step failed: %s", eg_ctx_message(ctx));
                break;
            }
            if (!isfinite(lv)) {
                st = eg_run_fail(run, EG_ERR_DIVERGED, "nem: loss is %g at update %lld", lv, (long long)updates + 1);
                break;
            }
            updates++;
            sum_l += lv, sum_b += bv, cnt++;
            eg_log(run, "train/loss_update", updates, lv);
            if ((st = eg_run_check(run)) != EG_OK) {
                st = eg_run_fail(run, st, "nem: stopped at update %lld", (long long)updates);
                break;
            }
            if (max_updates > 0 && updates >= max_updates) break;
        }
        if (st != EG_OK) break;
        ep_loss = sum_l / (double)cnt, ep_bce = sum_b / (double)cnt;
        eg_log(run, "train/loss", ep, ep_loss);
        eg_log(run, "train/bce_upper", ep, ep_bce);
        int stop = max_updates > 0 && updates >= max_updates;
        if (vs) {
            nem_scores sc;
            st = nem_score(p, run, vs, valid_n, "valid", &sc, 0);
            if (st != EG_OK) break;
            eg_log(run, "valid/loss", ep, sc.loss);
            eg_log(run, "valid/ami", ep, sc.ami_last);
            eg_run_log(run, "nem: epoch %lld, %lld updates, %.1f s: train loss %.3f, valid loss %.3f, valid AMI %.3f",
                       (long long)ep, (long long)updates, eg_monotonic() - t0, ep_loss, sc.loss, sc.ami_last);
            if (sc.loss < best_loss) {
                best_loss = sc.loss, best_epoch = ep, since = 0;
                if (p->patience > 0) snap_take(&best, m->ps);
            } else if (p->patience > 0 && ++since >= p->patience) {
                eg_run_log(run, "nem: early stop after epoch %lld (best valid loss %.4f at epoch %lld)", (long long)ep,
                           best_loss, (long long)best_epoch);
                stop = 1;
            }
        } else {
            best_epoch = ep;
            eg_run_log(run, "nem: epoch %lld, %lld updates, %.1f s: train loss %.3f", (long long)ep, (long long)updates,
                       eg_monotonic() - t0, ep_loss);
        }
        eg_progress(run, ep, p->epochs, "epoch");
        if (stop) break;
    }
    if (st == EG_OK && best.t && best_epoch > 0) snap_restore(&best, m->ps);
    snap_free(&best);
    eg_optim_free(opt);
    free(idx);
    if (st != EG_OK) return st;
    eg_metric(run, "train/loss", ep_loss);
    eg_metric(run, "train/bce_upper", ep_bce);
    eg_metric(run, "train/updates", (double)updates);
    eg_metric(run, "train/seconds", eg_monotonic() - t0);
    eg_metric(run, "train/best_epoch", (double)best_epoch);
    return eg_ctx_status(ctx);
}
