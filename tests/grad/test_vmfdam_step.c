/* test_vmfdam_step.c — the fused memorisation step of the vmfdam plugin
 * (plugins/vmfdam/vmfdam_fast.c: hand-derived gradients, momentum folded into the
 * GEMM, blocked [B, P] chain, beta updated on the host) against the autograd path
 * it replaces (vmf_forward + vmf_loss + eg_backward + vmf_smd_step),
 * in double precision from identical states with non-zero velocities:
 *   - the loss and every updated tensor (w, g, beta and their velocities) after
 *     one step: supervised with trained beta, fixed beta, unsupervised (eq. 15);
 *   - P = 4100 so the [B, P] chain runs in several blocks (the last one partial);
 *   - several consecutive steps on a shuffled order (vmf_train_epoch), with
 *     the epoch's mean loss and training accuracy recomputed from the autograd path;
 *   - vmf_evaluate against the autograd forward pass. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h"
#include "vmfdam.h"

static eg_ctx *ctx;
enum { N = 6, C = 3, K = C + 1 };

typedef struct problem {
    int64_t P, n;
    eg_tensor *x, *t;
    int32_t *y;
} problem;

/* n items on the sphere (some clustered near the first memories so responsibilities vary) */
static void make_problem(problem *pr, int64_t P, int64_t n, uint64_t seed) {
    pr->P = P, pr->n = n;
    pr->y = malloc((size_t)n * sizeof *pr->y);
    for (int64_t i = 0; i < n; i++)
        pr->y[i] = (int32_t)((i * 7 + 3) % C);
    eg_rng r = eg_rng_make(seed, 3);
    pr->x = eg_persistent(ctx, EG_F64, EG_DIMS(n, N));
    pr->t = eg_persistent(ctx, EG_F64, EG_DIMS(n, K));
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *x = eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(n, N), 0, 1);
    eg_assign(pr->x, eg_mul(x, eg_rsqrt(eg_sum(eg_square(x), 1, 1))));
    eg_assign(pr->t, vmf_targets(ctx, EG_F64, pr->y, n, C, 0.1));
    eg_scope_close(s);
}

static void free_problem(problem *pr) {
    eg_tensor_free(pr->x), eg_tensor_free(pr->t);
    free(pr->y);
}

/* a state with g on the polytope and non-zero velocities; the same for every seed */
static void make_model(vmf_model *m, int64_t P, int unsup, int fixed_beta, uint64_t seed) {
    memset(m, 0, sizeof *m);
    const double pq[K] = {0.3, 0.25, 0.35, 0.1};
    m->cfg.varsigma = 0.6, m->cfg.unsupervised = unsup, m->cfg.epsilon = 0.05, m->cfg.softening = 0.1;
    m->cfg.beta_trainable = !fixed_beta, m->hidden_max = P, m->cfg.lr = 0.1, m->cfg.momentum = 0.9,
    m->cfg.sinkhorn_iters = 10;
    CHECK(vmf_alloc(m, ctx, EG_F64, N, C, P, pq) == EG_OK);
    eg_rng r = eg_rng_make(seed, 5);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *w = eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P, N), 0, 1);
    eg_assign(m->par.w, eg_mul(w, eg_rsqrt(eg_sum(eg_square(w), 1, 1))));
    eg_assign(m->par.g, eg_rand_uniform(ctx, &r, EG_F64, EG_DIMS(P + 1, K), 0.2, 1.0));
    eg_assign(m->opt.vw, eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P, N), 0, 0.01));
    eg_assign(m->opt.vg, eg_rand_normal(ctx, &r, EG_F64, EG_DIMS(P + 1, K), 0, 0.01));
    eg_scope_close(s);
    eg_fill(m->par.beta, 7.0);
    eg_fill(m->opt.vbeta, 0.02);
    for (int64_t i = 0; i < P; i++)
        m->par.G[i] = 1.0;
    m->par.G[P] = 0.5;
    CHECK(vmf_sync_targets(m) == EG_OK);
    CHECK(vmf_sinkhorn(m->par.g, m->par.rows, m->par.cols, 50) > 0);
    eg_requires_grad(m->par.beta, m->cfg.beta_trainable);
}

/* largest |a - b| / (1e-12 + max |b|) over two tensors of the same shape */
static double rel_diff(eg_tensor *a, eg_tensor *b) {
    int64_t n = eg_numel(a);
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y), d = 0, s = 0;
    CHECK(eg_to_host_f64(a, x) == EG_OK && eg_to_host_f64(b, y) == EG_OK);
    for (int64_t i = 0; i < n; i++)
        d = fmax(d, fabs(x[i] - y[i])), s = fmax(s, fabs(y[i]));
    free(x), free(y);
    return d / (1e-12 + s);
}

static void compare_models(vmf_model *fast, vmf_model *ref, const char *what, double tol) {
    struct {
        const char *name;
        eg_tensor *a, *b;
    } t[] = {{"w", fast->par.w, ref->par.w},          {"v_w", fast->opt.vw, ref->opt.vw},
             {"g", fast->par.g, ref->par.g},          {"v_g", fast->opt.vg, ref->opt.vg},
             {"beta", fast->par.beta, ref->par.beta}, {"v_beta", fast->opt.vbeta, ref->opt.vbeta}};
    double worst = 0;
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        double d = rel_diff(t[i].a, t[i].b);
        worst = fmax(worst, d);
        CHECK_MSG(d < tol, "%s: %s differs from the autograd step by %.3g (relative)", what, t[i].name, d);
    }
    printf("%-40s worst relative difference %.2e\n", what, worst);
}

/* one autograd step on rows idx (host) of the problem; returns the loss */
static double autograd_step(vmf_model *m, const problem *pr, const int32_t *idx, int64_t bs, int32_t *pred) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *ix = eg_from_host(ctx, EG_I32, EG_DIMS(bs), idx);
    eg_tensor *out = vmf_forward(m, eg_index_select(pr->x, 0, ix), NULL, NULL);
    eg_tensor *L = vmf_loss(m, out, m->cfg.unsupervised ? NULL : eg_index_select(pr->t, 0, ix));
    CHECK(eg_backward(L) == EG_OK);
    double v = eg_item(L);
    if (pred) CHECK(eg_to_host(eg_argmax(out, 1), pred) == EG_OK);
    CHECK(vmf_smd_step(m) == EG_OK);
    eg_scope_close(s);
    return v;
}

static void test_one_step(int64_t P, int64_t bs, int unsup, int fixed_beta, const char *what) {
    problem pr;
    make_problem(&pr, P, bs + 5, 17);
    vmf_model a, b;
    make_model(&a, P, unsup, fixed_beta, 29);
    make_model(&b, P, unsup, fixed_beta, 29);
    int32_t *idx = malloc((size_t)bs * sizeof *idx);
    for (int64_t i = 0; i < bs; i++)
        idx[i] = (int32_t)((i * 3 + 2) % (bs + 5));
    double la = autograd_step(&a, &pr, idx, bs, NULL);
    eg_tensor *di = eg_persistent(ctx, EG_I32, EG_DIMS(bs));
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(di, eg_from_host(ctx, EG_I32, EG_DIMS(bs), idx));
    eg_scope_close(s);
    double lb = NAN;
    CHECK(vmf_fast_step(&b, pr.x, unsup ? NULL : pr.t, eg_data(di), bs, NULL, &lb) == EG_OK);
    CHECK_NEAR(lb, la, 1e-12, 1e-11);
    CHECK(a.opt.last_sinkhorn_passes == b.opt.last_sinkhorn_passes);
    compare_models(&b, &a, what, 1e-10);
    eg_tensor_free(di);
    free(idx);
    vmf_release(&a), vmf_release(&b);
    free_problem(&pr);
}

/* an epoch of shuffled minibatches (the last one short) through vmf_train_epoch,
 * then the validation pass, against the same through autograd */
static void test_epoch(void) {
    const int64_t n = 47, batch = 10, P = 9;
    problem pr;
    make_problem(&pr, P, n + 13, 41);
    vmf_model a, b;
    make_model(&a, P, 0, 0, 43);
    make_model(&b, P, 0, 0, 43);
    int32_t perm[47];
    for (int64_t i = 0; i < n; i++)
        perm[i] = (int32_t)((i * 11 + 5) % n);
    double lsum = 0, bl[5];
    int64_t correct = 0;
    for (int64_t st = 0; st < n; st += batch) {
        int64_t bs = n - st < batch ? n - st : batch;
        int32_t pred[10];
        double l = autograd_step(&a, &pr, perm + st, bs, pred);
        lsum += l * (double)bs;
        for (int64_t i = 0; i < bs; i++)
            correct += pred[i] == pr.y[perm[st + i]];
        if (st / batch < 5) bl[st / batch] = l;
    }
    double bloss[5];
    vmf_epoch e = {.x = pr.x,
                   .t = pr.t,
                   .y = pr.y,
                   .perm = perm,
                   .n_fit = n,
                   .batch = batch,
                   .batch_loss = bloss,
                   .n_batch_loss = 5};
    CHECK(vmf_train_epoch(&b, &e) == EG_OK);
    CHECK_NEAR(e.loss, lsum / (double)n, 1e-12, 1e-10);
    CHECK_NEAR(e.acc, (double)correct / (double)n, 1e-12, 0);
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(bloss[i], bl[i], 1e-12, 1e-10);
    compare_models(&b, &a, "epoch of 5 steps (last batch 7 items)", 1e-9);

    /* validation rows n.. through vmf_evaluate (blocks of 4) vs the autograd forward */
    double vl = NAN, va = NAN;
    CHECK(vmf_evaluate(&b, pr.x, pr.t, pr.y, n, 13, 4, &vl, &va) == EG_OK);
    eg_no_grad_begin(ctx);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *out = vmf_forward(&b, eg_narrow(pr.x, 0, n, 13), NULL, NULL);
    double ref = eg_item(vmf_loss(&b, out, eg_narrow(pr.t, 0, n, 13)));
    int32_t pred[13];
    CHECK(eg_to_host(eg_argmax(out, 1), pred) == EG_OK);
    eg_scope_close(s);
    eg_no_grad_end(ctx);
    int64_t ok = 0;
    for (int i = 0; i < 13; i++)
        ok += pred[i] == pr.y[n + i];
    CHECK_NEAR(vl, ref, 1e-12, 1e-11);
    CHECK_NEAR(va, (double)ok / 13.0, 1e-12, 0);
    printf("epoch loss %.10f (autograd %.10f), accuracy %.4f, validation loss %.10f (autograd %.10f)\n", e.loss,
           lsum / (double)n, e.acc, vl, ref);
    vmf_release(&a), vmf_release(&b);
    free_problem(&pr);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_one_step(7, 12, 0, 0, "step, supervised, trained beta");
    test_one_step(7, 12, 0, 1, "step, supervised, fixed beta");
    test_one_step(7, 12, 1, 0, "step, unsupervised (eq. 15)");
    test_one_step(4100, 70, 0, 0, "step, P = 4100: blocks of 32 rows");
    test_one_step(4100, 70, 1, 0, "step, P = 4100, unsupervised");
    test_epoch();
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
