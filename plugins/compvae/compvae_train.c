/* compvae_train.c — CompVAE training (models-nem-compvae.md §2.6): Adamax
 * (beta1 0.5, beta2 0.9), learning rate halved every lr_halve_every iterations
 * (also at iteration 0, as the reference's scheduler is) down to a floor,
 * batches of sub-batches each with its own K ~ U{1..K_max(it)}, the losses
 * averaged over sub-batches and one backward pass on L_w + L_z + L_x; updates
 * whose loss is not finite or >= 1e8 are skipped. Data are drawn online. */
#include <math.h>
#include <stdio.h>

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

eg_status cv_fit(compvae *m, const cv_train *t, eg_run *run) {
    eg_ctx *ctx = m->ctx;
    eg_optim *opt = eg_adamax(m->ps, t->lr, 0.5, 0.9, 1e-8);
    if (!opt) return eg_run_fail(run, EG_ERR_NOMEM, "compvae: cannot create the Adamax optimiser");
    eg_rng data = eg_run_rng(run, "batches"), noise = eg_run_rng(run, "noise");
    int64_t sub = t->batch / t->sub_batches, log_every = t->iterations >= 200 ? t->iterations / 100 : 1;
    double acc[3] = {0, 0, 0}, inv_ln2 = 1.0 / log(2.0);
    int64_t acc_n = 0, skipped = 0;
    eg_status st = EG_OK;
    for (int64_t it = 0; it < t->iterations && st == EG_OK; it++) {
        if ((st = eg_run_check(run)) != EG_OK) break;
        eg_optim_set_lr(opt, cv_lr_at(t, it));
        int kmax = cv_k_max(t, it);
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *loss = NULL, *parts[3] = {NULL, NULL, NULL};
        for (int64_t sb = 0; sb < t->sub_batches && st == EG_OK; sb++) {
            int K = 1 + (int)floor(eg_philox_value(0, data.seed, data.stream, data.offset++, 0, kmax));
            if (K > kmax) K = kmax;
            cv_batch b;
            st = cv_batch_make(m, &data, sub, K, &b);
            if (st == EG_OK) {
                cv_losses L = cv_forward(m, &b, &noise);
                eg_tensor *l3[3] = {eg_mean_all(L.lw), eg_mean_all(L.lz), eg_mean_all(L.lx)};
                for (int j = 0; j < 3; j++)
                    parts[j] = parts[j] ? eg_add(parts[j], l3[j]) : l3[j];
            }
            cv_batch_free(&b);
        }
        if (st != EG_OK) {
            eg_scope_close(s);
            break;
        }
        loss = eg_scale(eg_add(eg_add(parts[0], parts[1]), parts[2]), 1.0 / (double)t->sub_batches);
        double v = eg_item(loss);
        if ((st = eg_ctx_status(ctx)) != EG_OK) {
            eg_scope_close(s);
            st = eg_run_fail(run, st, "compvae: iteration %lld: %s", (long long)it, eg_ctx_message(ctx));
            break;
        }
        if (isfinite(v) && v < 1e8) {
            eg_optim_zero_grad(opt);
            eg_backward(loss);
            eg_optim_step(opt);
            for (int j = 0; j < 3; j++)
                acc[j] += eg_item(parts[j]) / (double)t->sub_batches;
            acc_n++;
        } else {
            skipped++;
        }
        eg_scope_close(s);
        if ((st = eg_ctx_status(ctx)) != EG_OK) {
            st = eg_run_fail(run, st, "compvae: iteration %lld: %s", (long long)it, eg_ctx_message(ctx));
            break;
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
