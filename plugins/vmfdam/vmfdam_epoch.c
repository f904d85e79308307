/* vmfdam_epoch.c — one training epoch and the evaluation loop of the vmfdam model,
 * independent of the run context (bench/vmfdam_epoch.c times exactly this code).
 *   memorisation: the fused step of vmfdam_fast.c per minibatch (the autograd
 *     path of vmf_forward + eg_backward + vmf_smd_step when the
 *     fused step does not apply: beta <= 0); the outputs of the whole epoch stay
 *     on the device and are downloaded once for the training accuracy;
 *   split phase: eigenvector training of u through autograd (splitting objective
 *     of vmfdam_forward.c) with the RMS-normalised step of vmfdam_split.c. */
#include <math.h>
#include <stdlib.h>

#include "engram/philox.h"
#include "vmfdam.h"

void vmf_shuffle(int32_t *perm, int64_t n, eg_rng r, uint64_t epoch) {
    for (int64_t i = 0; i < n; i++)
        perm[i] = (int32_t)i;
    uint64_t base = r.offset + epoch * (uint64_t)n;
    for (int64_t i = n - 1; i > 0; i--) {
        double u = eg_philox_value(0, r.seed, r.stream, base + (uint64_t)i, 0.0, 1.0);
        int64_t j = (int64_t)(u * (double)(i + 1));
        if (j > i) j = i;
        int32_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
}

/* index of the largest of k values (the first on ties), as eg_argmax */
static int64_t argmax_row(const float *v, int64_t k) {
    int64_t b = 0;
    for (int64_t j = 1; j < k; j++)
        if (v[j] > v[b]) b = j;
    return b;
}

/* one autograd step (split phase, or the general memorisation step) */
static eg_status autograd_step(vmf_model *m, vmf_epoch *e, eg_tensor *idx, int64_t bs, eg_tensor *outs, int64_t start,
                               double *loss, double *rq) {
    eg_ctx *ctx = m->ctx;
    eg_tensor *x = eg_index_select(e->x, 0, idx);
    eg_tensor *t = e->t ? eg_index_select(e->t, 0, idx) : NULL;
    eg_tensor *out = vmf_forward(m, x, e->split_phase ? m->split.u : NULL, NULL);
    eg_tensor *L = vmf_loss(m, out, t);
    eg_status st = eg_backward(L);
    *loss = eg_item(L);
    if (st == EG_OK && e->split_phase) {
        /* monitored: min_mu 1/2 u_mu . dL/du_mu (~ the smallest eigenvalue) */
        eg_no_grad_begin(ctx);
        *rq += eg_item(eg_min(eg_scale(eg_sum(eg_mul(m->split.u, eg_grad(m->split.u)), 1, 0), 0.5), 0, 0));
        eg_no_grad_end(ctx);
        st = vmf_u_step(m);
    } else if (st == EG_OK) {
        st = vmf_smd_step(m);
    }
    if (st == EG_OK && outs) eg_assign(eg_narrow(outs, 0, start, bs), eg_detach(out));
    return st == EG_OK ? eg_ctx_status(ctx) : st;
}

eg_status vmf_train_epoch(vmf_model *m, vmf_epoch *e) {
    eg_ctx *ctx = m->ctx;
    int64_t n = e->n_fit, K = m->classes + 1;
    e->loss = e->acc = NAN, e->rayleigh = 0, e->bad_batch = 0, e->bad_loss = 0;
    /* the order and the epoch's outputs live on the device for the whole pass */
    eg_tensor *idx = eg_persistent(ctx, EG_I32, EG_DIMS(n));
    eg_tensor *outs = e->y && !e->split_phase ? eg_persistent(ctx, m->dtype, EG_DIMS(n, K)) : NULL;
    eg_status st = eg_ctx_status(ctx);
    if (st == EG_OK) {
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(idx, eg_from_host(ctx, EG_I32, EG_DIMS(n), e->perm));
        eg_scope_close(s);
        st = eg_ctx_status(ctx);
    }
    double lsum = 0, rq = 0;
    int64_t batches = 0;
    size_t osz = m->dtype == EG_F64 ? 8 : 4;
    for (int64_t start = 0; start < n && st == EG_OK; start += e->batch) {
        int64_t bs = n - start < e->batch ? n - start : e->batch;
        double lv = NAN;
        eg_scope *s = eg_scope_open(ctx);
        st = EG_ERR_UNSUPPORTED;
        if (!e->split_phase)
            st = vmf_fast_step(m, e->x, e->t, (const int32_t *)eg_data(idx) + start, bs,
                               outs ? (char *)eg_data(outs) + (size_t)(start * K) * osz : NULL, &lv);
        if (st == EG_ERR_UNSUPPORTED) st = autograd_step(m, e, eg_narrow(idx, 0, start, bs), bs, outs, start, &lv, &rq);
        eg_scope_close(s);
        if (batches < e->n_batch_loss && e->batch_loss) e->batch_loss[batches] = lv;
        lsum += lv * (double)bs, batches++;
        if (st == EG_OK && !isfinite(lv)) {
            e->bad_batch = batches, e->bad_loss = lv;
            st = EG_ERR_DIVERGED;
        }
        if (st == EG_OK && e->check) st = e->check(e->check_arg);
    }
    if (st == EG_OK && outs) { /* training accuracy from the epoch's outputs */
        float *o = malloc((size_t)(n * K) * sizeof *o);
        if (!o) st = eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory for %lld outputs", (long long)n);
        if (st == EG_OK) st = eg_to_host_f32(outs, o);
        int64_t correct = 0;
        for (int64_t i = 0; st == EG_OK && i < n; i++)
            correct += argmax_row(o + i * K, K) == e->y[e->perm[i]];
        free(o);
        e->acc = (double)correct / (double)n;
    }
    eg_tensor_free(idx);
    if (outs) eg_tensor_free(outs);
    if (st != EG_OK) return st;
    e->loss = lsum / (double)n;
    e->rayleigh = batches ? rq / (double)batches : 0.0;
    return EG_OK;
}

eg_status vmf_evaluate(vmf_model *m, eg_tensor *x, eg_tensor *t, const int32_t *y, int64_t start, int64_t count,
                       int64_t block, double *loss, double *acc) {
    eg_ctx *ctx = m->ctx;
    int64_t K = m->classes + 1;
    double lsum = 0;
    int64_t correct = 0;
    int with_loss = t || m->cfg.unsupervised;
    float *o = y ? malloc((size_t)(block * K) * sizeof *o) : NULL;
    eg_status st = y && !o ? eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam: out of memory") : eg_ctx_status(ctx);
    int general = !(m->cfg.varsigma * eg_item(m->par.beta) > 0); /* the fused forward assumes a > 0 like the step */
    eg_no_grad_begin(ctx);
    for (int64_t b = start; b < start + count && st == EG_OK; b += block) {
        int64_t bs = start + count - b < block ? start + count - b : block;
        eg_scope *s = eg_scope_open(ctx);
        double lv = NAN;
        eg_tensor *out = eg_empty(ctx, m->dtype, EG_DIMS(bs, K));
        if (!general) {
            st = vmf_fast_eval(m, x, t, b, bs, eg_data(out), &lv);
        } else {
            eg_tensor *o2 = vmf_forward(m, eg_narrow(x, 0, b, bs), NULL, NULL);
            if (with_loss) lv = eg_item(vmf_loss(m, o2, t ? eg_narrow(t, 0, b, bs) : NULL));
            eg_assign(out, o2);
            st = eg_ctx_status(ctx);
        }
        if (with_loss) lsum += lv * (double)bs;
        if (st == EG_OK && y) st = eg_to_host_f32(out, o);
        for (int64_t i = 0; st == EG_OK && y && i < bs; i++)
            correct += argmax_row(o + i * K, K) == y[b + i];
        eg_scope_close(s);
    }
    eg_no_grad_end(ctx);
    free(o);
    if (loss) *loss = count && with_loss ? lsum / (double)count : NAN;
    if (acc) *acc = count && y ? (double)correct / (double)count : NAN;
    return st == EG_OK ? eg_ctx_status(ctx) : st;
}
