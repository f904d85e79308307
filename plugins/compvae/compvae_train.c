/* compvae_train.c — CompVAE training (models-nem-compvae.md §2.6): Adamax
 * (beta1 0.5, beta2 0.9), learning rate halved every lr_halve_every iterations
 * (also at iteration 0, as the reference's scheduler is) down to a floor,
 * batches of sub-batches each with its own K ~ U{1..K_max(it)}, the losses
 * averaged over sub-batches and one backward pass on L_w + L_z + L_x; updates
 * whose loss is not finite or >= 1e8 are skipped. Data are drawn online. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compvae.h"
#include "engram/philox.h"

int cv_k_max(const cv_train *t, int64_t it) {
    int64_t k = 1 + it / (t->k_every > 0 ? t->k_every : 1);
    if (k < t->k_start) k = t->k_start;
    if (k > t->k_cap) k = t->k_cap;
    return (int)(k < 1 ? 1 : k);
}

double cv_lr_at(const cv_train *t, int64_t it) {
    double f = pow(0.5, (double)(1 + it / (t->lr_halve_every > 0 ? t->lr_halve_every : 1)));
    if (f < t->lr_floor) f = t->lr_floor;
    return t->lr * f;
}

eg_status cv_update(compvae *m, eg_optim *opt, int n, const cv_batch *bs, eg_rng *noise, const cv_noise *given,
                    cv_step *out) {
    eg_ctx *ctx = m->ctx;
    memset(out, 0, sizeof *out);
    if (n < 1 || n > CV_MAX_SUB)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "compvae: %d sub-batches in one update (1..%d)", n, CV_MAX_SUB);
    eg_scope *s = eg_scope_open(ctx);
    cv_noise drawn[CV_MAX_SUB];
    if (!given) {
        for (int j = 0; j < n; j++)
            drawn[j] = cv_noise_draw(m, &bs[j], noise);
        given = drawn;
    }
    cv_losses L = cv_forward_multi(m, n, bs, given);
    /* the mean over sub-batches of each sub-batch's mean: weight 1 / (n B_j) per whole */
    int64_t Bt = 0;
    for (int j = 0; j < n; j++)
        Bt += bs[j].B;
    float *wh = malloc(sizeof(float) * (size_t)Bt);
    if (!wh) {
        eg_scope_close(s);
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "compvae: weights of %lld wholes", (long long)Bt);
    }
    for (int j = 0, i = 0; j < n; j++)
        for (int64_t k = 0; k < bs[j].B; k++)
            wh[i++] = (float)(1.0 / ((double)n * (double)bs[j].B));
    eg_tensor *wt = eg_from_f32(ctx, m->cfg.dtype, EG_DIMS(Bt), wh);
    free(wh);
    eg_tensor *parts[3] = {eg_sum_all(eg_mul(L.lw, wt)), eg_sum_all(eg_mul(L.lz, wt)), eg_sum_all(eg_mul(L.lx, wt))};
    eg_tensor *loss = eg_add(eg_add(parts[0], parts[1]), parts[2]);
    double v = eg_item(loss);
    eg_status st = eg_ctx_status(ctx);
    out->loss = v;
    if (st == EG_OK && isfinite(v) && v < 1e8) {
        eg_optim_zero_grad(opt);
        eg_backward(loss);
        eg_optim_step(opt);
        out->lw = eg_item(parts[0]);
        out->lz = eg_item(parts[1]);
        out->lx = eg_item(parts[2]);
    } else {
        out->skipped = 1;
    }
    eg_scope_close(s);
    return eg_ctx_status(ctx);
}

eg_status cv_train_step(compvae *m, const cv_train *t, eg_optim *opt, eg_rng *data, eg_rng *noise, int kmax,
                        const int *ks, cv_step *out) {
    cv_batch bs[CV_MAX_SUB];
    int n = (int)t->sub_batches;
    if (n < 1 || n > CV_MAX_SUB)
        return eg_ctx_fail(m->ctx, EG_ERR_INVALID, "compvae: sub_batches %d must be in 1..%d", n, CV_MAX_SUB);
    int64_t sub = t->batch / t->sub_batches;
    eg_status st = EG_OK;
    int made = 0;
    for (; made < n && st == EG_OK; made++) {
        int K = ks ? ks[made] : 1 + (int)floor(eg_philox_value(0, data->seed, data->stream, data->offset++, 0, kmax));
        if (K > kmax) K = kmax;
        st = cv_batch_make(m, data, sub, K, &bs[made]);
    }
    if (st == EG_OK) st = cv_update(m, opt, n, bs, noise, NULL, out);
    for (int j = 0; j < made; j++)
        cv_batch_free(&bs[j]);
    return st;
}

eg_status cv_fit(compvae *m, const cv_train *t, eg_run *run) {
    eg_ctx *ctx = m->ctx;
    eg_optim *opt = eg_adamax(m->ps, t->lr, 0.5, 0.9, 1e-8);
    if (!opt) return eg_run_fail(run, EG_ERR_NOMEM, "compvae: cannot create the Adamax optimiser");
    eg_rng data = eg_run_rng(run, "batches"), noise = eg_run_rng(run, "noise");
    int64_t log_every = t->iterations >= 200 ? t->iterations / 100 : 1;
    double acc[3] = {0, 0, 0}, inv_ln2 = 1.0 / log(2.0);
    int64_t acc_n = 0, skipped = 0;
    eg_status st = EG_OK;
    for (int64_t it = 0; it < t->iterations && st == EG_OK; it++) {
        if ((st = eg_run_check(run)) != EG_OK) break;
        eg_optim_set_lr(opt, cv_lr_at(t, it));
        int kmax = cv_k_max(t, it);
        cv_step r;
        if ((st = cv_train_step(m, t, opt, &data, &noise, kmax, NULL, &r)) != EG_OK) {
            st = eg_run_fail(run, st, "compvae: iteration %lld: %s", (long long)it,
                             eg_ctx_status(ctx) != EG_OK ? eg_ctx_message(ctx) : "cannot draw a batch");
            break;
        }
        if (r.skipped) {
            skipped++;
        } else {
            acc[0] += r.lw, acc[1] += r.lz, acc[2] += r.lx;
            acc_n++;
        }
        if ((it + 1) % log_every == 0 || it + 1 == t->iterations) {
            if (acc_n) {
                /* the paper's Fig. 4/7: the three terms in bits (mean over the last log_every updates) */
                eg_log(run, "loss/L_w", it + 1, acc[0] / acc_n * inv_ln2);
                eg_log(run, "loss/L_z", it + 1, acc[1] / acc_n * inv_ln2);
                eg_log(run, "loss/L_x", it + 1, acc[2] / acc_n * inv_ln2);
                eg_log(run, "loss/total", it + 1, (acc[0] + acc[1] + acc[2]) / acc_n * inv_ln2);
            }
            eg_log(run, "train/k_max", it + 1, kmax);
            eg_log(run, "train/lr", it + 1, cv_lr_at(t, it));
            acc[0] = acc[1] = acc[2] = 0;
            acc_n = 0;
        }
        eg_progress(run, it + 1, t->iterations, "iteration");
    }
    eg_metric(run, "train/skipped", (double)skipped);
    eg_optim_free(opt);
    return st;
}
