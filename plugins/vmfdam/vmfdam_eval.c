/* vmfdam_eval.c — evaluation of a trained vmfdam model.
 *   classify/accuracy     argmax_y out_y over the C+1 columns vs the test label
 *                         (the effective prediction of eq. 14 when ς != 1)
 *   classify/nn_fidelity  agreement of that prediction with the class
 *                         argmax_{y<C} g_{mu y} of the most similar memory
 *                         mu = argmax x.w_mu (paper §4.2, ~98% on MNIST)
 *   classify/test_loss    the loss with hard test labels
 *   classify/train_accuracy and the stationarity residuals (eq. 6) over the
 *                         fitted training rows
 *   cluster metrics       unsupervised runs: the eq. (15) loss on the test
 *                         items, how many latent classes are used, and purity
 *                         (majority true label per latent class) when labelled
 *   model/teacher_overlap teacher–student data: mean over teacher memories of
 *                         the best overlap max_mu w*.w_mu */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vmfdam_run.h"

/* class of each memory: argmax over the C real classes of its g row */
static int32_t *memory_classes(vmf_model *m) {
    int64_t P = m->hidden, K = m->classes + 1;
    double *g = malloc((size_t)((P + 1) * K) * sizeof *g);
    int32_t *cls = malloc((size_t)(P + 1) * sizeof *cls);
    if (!g || !cls || eg_to_host_f64(m->par.g, g) != EG_OK) {
        free(g), free(cls);
        return NULL;
    }
    for (int64_t r = 0; r <= P; r++) {
        int32_t best = 0;
        for (int64_t y = 1; y < m->classes; y++)
            if (g[r * K + y] > g[r * K + best]) best = (int32_t)y;
        cls[r] = best;
    }
    free(g);
    return cls;
}

static eg_status download_i32(eg_tensor *t, int32_t *out) {
    return eg_to_host(t, out);
}

/* the loss weights of a batch: soft targets, or the softened predictions of eq. (15) */
static eg_tensor *loss_weights(const vmf_model *m, eg_tensor *out, eg_tensor *t) {
    if (!m->cfg.unsupervised) return t;
    double K = (double)(m->classes + 1);
    return eg_affine(eg_softmax(out, 1), 1.0 - m->cfg.epsilon, m->cfg.epsilon / K);
}

/* accuracy and stationarity over the fitted rows */
static eg_status train_pass(vmf_plugin *p, eg_run *run, double *acc, vmf_stationarity *res) {
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    vmf_stat_acc a;
    eg_status st = vmf_stat_begin(m, &a);
    int64_t correct = 0, n = p->n_fit;
    int32_t *pred = malloc((size_t)p->eval_batch * sizeof *pred);
    if (!pred) st = EG_ERR_NOMEM;
    eg_no_grad_begin(ctx);
    for (int64_t b = 0; b < n && st == EG_OK; b += p->eval_batch) {
        int64_t bs = n - b < p->eval_batch ? n - b : p->eval_batch;
        eg_scope *s = eg_scope_open(ctx);
        vmf_parts parts;
        eg_tensor *x = eg_narrow(p->train.x, 0, b, bs);
        eg_tensor *t = p->train.t ? eg_narrow(p->train.t, 0, b, bs) : NULL;
        eg_tensor *out = vmf_forward_ex(m, x, NULL, &parts);
        if (t || m->cfg.unsupervised) vmf_stat_add(m, &a, x, &parts, loss_weights(m, out, t));
        if (p->train.y && download_i32(eg_argmax(out, 1), pred) == EG_OK)
            for (int64_t i = 0; i < bs; i++)
                correct += pred[i] == p->train.y[b + i];
        eg_scope_close(s);
        st = eg_ctx_status(ctx);
    }
    eg_no_grad_end(ctx);
    free(pred);
    eg_status st2 = vmf_stat_end(m, &a, res);
    *acc = n ? (double)correct / (double)n : NAN;
    if (st == EG_OK) st = st2;
    if (st != EG_OK) return eg_run_fail(run, st, "vmfdam: training-set evaluation: %s", eg_ctx_message(ctx));
    return EG_OK;
}

static void report_stationarity(vmf_plugin *p, eg_run *run, const vmf_stationarity *r) {
    double worst = fmax(r->w, r->g);
    if (p->m.cfg.beta_trainable) worst = fmax(worst, fabs(r->beta));
    eg_metric(run, "model/stationarity", worst);
    eg_metric(run, "model/stationarity_w", r->w);
    eg_metric(run, "model/stationarity_g", r->g);
    if (p->m.cfg.beta_trainable) eg_metric(run, "model/stationarity_beta", r->beta);
}

static eg_status teacher_overlap(vmf_plugin *p, eg_run *run) {
    const eg_dataset *probe = eg_run_dataset(run, eg_task_str(run, "train_split"));
    if (!probe || strcmp(probe->source, "teacher-student") != 0) return EG_OK;
    const eg_dataset *t = eg_run_dataset(run, "teacher");
    if (!t) return EG_ERR_NOTFOUND;
    if (t->dim != p->m.n) return EG_OK; /* patches: no direct comparison */
    eg_ctx *ctx = p->m.ctx;
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *T = eg_from_f32(ctx, p->m.dtype, EG_DIMS(t->n, t->dim), t->x);
    double ov = eg_item(eg_mean_all(eg_max(eg_matmul_nt(T, p->m.par.w), 1, 0)));
    eg_scope_close(s);
    eg_metric(run, "model/teacher_overlap", ov);
    return eg_ctx_status(ctx);
}

eg_status vmf_eval_classify(vmf_plugin *p, eg_run *run) {
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    vmf_items test = {0};
    eg_status st = vmf_prepare(p, run, "test", &test, 1, 0.0); /* test labels stay hard */
    if (st != EG_OK) {
        vmf_items_free(&test);
        return st;
    }
    if (!test.y) {
        vmf_items_free(&test);
        return eg_run_fail(run, EG_ERR_SPEC, "vmfdam: task classify needs labelled test data (split '%s')",
                           eg_task_str(run, "test_split"));
    }
    int32_t *cls = memory_classes(m);
    int32_t *pred = malloc((size_t)p->eval_batch * sizeof *pred), *nn = malloc((size_t)p->eval_batch * sizeof *nn);
    if (!cls || !pred || !nn) st = eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of memory");
    int64_t correct = 0, agree = 0;
    double lsum = 0;
    eg_no_grad_begin(ctx);
    for (int64_t b = 0; b < test.n && st == EG_OK; b += p->eval_batch) {
        int64_t bs = test.n - b < p->eval_batch ? test.n - b : p->eval_batch;
        eg_scope *s = eg_scope_open(ctx);
        vmf_parts parts;
        eg_tensor *out = vmf_forward_ex(m, eg_narrow(test.x, 0, b, bs), NULL, &parts);
        lsum += eg_item(vmf_loss_supervised(out, eg_narrow(test.t, 0, b, bs))) * (double)bs;
        if (download_i32(eg_argmax(out, 1), pred) == EG_OK && download_i32(eg_argmax(parts.m, 1), nn) == EG_OK)
            for (int64_t i = 0; i < bs; i++) {
                correct += pred[i] == test.y[b + i];
                agree += pred[i] == cls[nn[i]];
            }
        eg_scope_close(s);
        st = eg_ctx_status(ctx);
    }
    eg_no_grad_end(ctx);
    free(cls), free(pred), free(nn);
    int64_t n_test = test.n;
    vmf_items_free(&test);
    if (st != EG_OK) return eg_run_fail(run, st, "vmfdam: test evaluation: %s", eg_ctx_message(ctx));
    eg_metric(run, "classify/accuracy", (double)correct / (double)n_test);
    eg_metric(run, "classify/nn_fidelity", (double)agree / (double)n_test);
    eg_metric(run, "classify/test_loss", lsum / (double)n_test);
    eg_run_log(run, "vmfdam: test accuracy %.4f over %lld items (nn fidelity %.4f)", (double)correct / (double)n_test,
               (long long)n_test, (double)agree / (double)n_test);
    double acc = NAN;
    vmf_stationarity r;
    if ((st = train_pass(p, run, &acc, &r)) != EG_OK) return st;
    eg_metric(run, "classify/train_accuracy", acc);
    report_stationarity(p, run, &r);
    return teacher_overlap(p, run);
}

eg_status vmf_eval_cluster(vmf_plugin *p, eg_run *run) {
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    vmf_items test = {0};
    eg_status st = vmf_prepare(p, run, "test", &test, 0, 0.0);
    if (st != EG_OK) {
        vmf_items_free(&test);
        return st;
    }
    int64_t K = m->classes + 1, C = 1; /* C: label values seen in the test items */
    for (int64_t i = 0; test.y && i < test.n; i++)
        C = test.y[i] + 1 > C ? test.y[i] + 1 : C;
    int64_t *used = calloc((size_t)K, sizeof *used), *tab = calloc((size_t)(K * (C > 0 ? C : 1)), sizeof *tab);
    int32_t *pred = malloc((size_t)p->eval_batch * sizeof *pred);
    if (!used || !tab || !pred) st = eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of memory");
    double lsum = 0;
    eg_no_grad_begin(ctx);
    for (int64_t b = 0; b < test.n && st == EG_OK; b += p->eval_batch) {
        int64_t bs = test.n - b < p->eval_batch ? test.n - b : p->eval_batch;
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *out = vmf_forward(m, eg_narrow(test.x, 0, b, bs), NULL, NULL);
        lsum += eg_item(vmf_loss_unsupervised(out, m->cfg.epsilon)) * (double)bs;
        if (download_i32(eg_argmax(out, 1), pred) == EG_OK)
            for (int64_t i = 0; i < bs; i++) {
                used[pred[i]]++;
                if (test.y && test.y[b + i] >= 0 && test.y[b + i] < C) tab[pred[i] * C + test.y[b + i]]++;
            }
        eg_scope_close(s);
        st = eg_ctx_status(ctx);
    }
    eg_no_grad_end(ctx);
    if (st == EG_OK) {
        int64_t occupied = 0, pure = 0;
        for (int64_t k = 0; k < K; k++) {
            occupied += used[k] > 0;
            int64_t best = 0;
            for (int64_t y = 0; y < C; y++)
                best = tab[k * C + y] > best ? tab[k * C + y] : best;
            pure += best;
        }
        eg_metric(run, "cluster/loss", lsum / (double)test.n);
        eg_metric(run, "cluster/occupied", (double)occupied);
        if (test.y) eg_metric(run, "cluster/purity", (double)pure / (double)test.n);
    }
    free(used), free(tab), free(pred);
    vmf_items_free(&test);
    if (st != EG_OK) return eg_run_fail(run, st, "vmfdam: test evaluation: %s", eg_ctx_message(ctx));
    double acc = NAN;
    vmf_stationarity r;
    if ((st = train_pass(p, run, &acc, &r)) != EG_OK) return st;
    report_stationarity(p, run, &r);
    return teacher_overlap(p, run);
}
