/* bench/mlp.c — one Adam training step of an MLP 784-256-256-10 (ReLU, cross-entropy),
 * batch 256, float32: forward, backward and optimiser step in a scope per step, against
 * PyTorch (nn.Sequential, torch.optim.Adam, zero_grad(set_to_none=True); bench/mlp.py).
 * Both sides start from identical weights (value(i, 10 + layer) scaled to the Glorot
 * range), identical inputs (value(i, 3)) and labels ((7 i) mod 10). Correctness: the
 * losses of the first 5 steps agree with PyTorch's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "engram/nn.h"
#include "engram/optim.h"

enum { BATCH = 256, NLAYERS = 3, CHECK_STEPS = 5 };
static const int64_t WIDTH[NLAYERS + 1] = {784, 256, 256, 10};
static const double LR = 1e-3, BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;

typedef struct job {
    eg_ctx *ctx;
    eg_linear layer[NLAYERS];
    eg_optim *opt;
    eg_tensor *x, *labels;
    double loss; /* of the last step, when want_loss */
    int want_loss;
} job;

static void run_step(void *p) {
    job *j = p;
    eg_scope *s = eg_scope_open(j->ctx);
    eg_tensor *h = j->x;
    for (int l = 0; l < NLAYERS; l++) {
        h = eg_linear_forward(&j->layer[l], h);
        if (l + 1 < NLAYERS) h = eg_relu(h);
    }
    eg_tensor *loss = eg_cross_entropy(h, j->labels);
    eg_backward(loss);
    eg_optim_step(j->opt);
    eg_optim_zero_grad(j->opt);
    if (j->want_loss) j->loss = eg_item(loss);
    eg_ctx_sync(j->ctx);
    eg_scope_close(s);
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-mlp",
                    "Adam step of an MLP 784-256-256-10, batch 256: engram vs PyTorch", &o, &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== mlp: one Adam step (lr %g) of MLP 784-256-256-10, ReLU, cross-entropy, batch %d, float32 ==\n", LR,
           BATCH);
    bench_print_env(&o, ctx);

    job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    eg_params *ps = eg_params_new(ctx);
    eg_rng rng = eg_rng_make(0, 0);
    eg_scope *s = eg_scope_open(ctx);
    for (int l = 0; l < NLAYERS; l++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", l);
        int64_t in = WIDTH[l], out = WIDTH[l + 1];
        eg_linear_init(&j.layer[l], ps, name, in, out, 1, &rng);
        /* replace the initial weight by the shared formula: (2 value - 1) * sqrt(6 / (in + out)) */
        float *w = malloc(sizeof(float) * (size_t)(in * out));
        double lim = sqrt(6.0 / (double)(in + out));
        for (int64_t i = 0; i < in * out; i++) w[i] = (float)((2.0 * bench_value(i, 10 + l) - 1.0) * lim);
        eg_assign(j.layer[l].weight, eg_from_f32(ctx, EG_F32, EG_DIMS(out, in), w));
        eg_fill(j.layer[l].bias, 0.0);
        free(w);
    }
    float *xh = malloc(sizeof(float) * BATCH * 784);
    int32_t lab[BATCH];
    bench_fill(xh, (int64_t)BATCH * 784, 3);
    for (int i = 0; i < BATCH; i++) lab[i] = (7 * i) % 10;
    j.x = eg_persistent(ctx, EG_F32, EG_DIMS(BATCH, 784));
    j.labels = eg_persistent(ctx, EG_I32, EG_DIMS(BATCH));
    eg_assign(j.x, eg_from_f32(ctx, EG_F32, EG_DIMS(BATCH, 784), xh));
    eg_assign(j.labels, eg_from_host(ctx, EG_I32, EG_DIMS(BATCH), lab));
    eg_scope_close(s);
    free(xh);
    j.opt = eg_adam(ps, LR, BETA1, BETA2, EPS);

    double losses[CHECK_STEPS];
    j.want_loss = 1;
    for (int i = 0; i < CHECK_STEPS; i++) {
        run_step(&j);
        losses[i] = j.loss;
    }
    j.want_loss = 0;
    if (eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "mlp: engram error: %s\n", eg_ctx_message(ctx));
        return 1;
    }
    int reps;
    double best;
    double ms = bench_median(run_step, &j, o.seconds, &reps, &best) * 1e3;
    bench_result(&o, "mlp-adam-step", ms * 1e-3);
    best *= 1e3;
    if (eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "mlp: engram error: %s\n", eg_ctx_message(ctx));
        return 1;
    }
    printf("engram: %.3f ms/step median, %.3f best (%d reps), %lld parameters\n", ms, best, reps,
           (long long)eg_params_numel(ps));
    fflush(stdout);

    bench_peer p;
    if (o.peer) {
        char extra[128];
        snprintf(extra, sizeof extra, "--check-steps %d --lr %g", CHECK_STEPS, LR);
        bench_peer_run(&o, "mlp.py", extra, &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    double ms_torch = NAN, best_torch = NAN;
    if (p.ok) {
        bench_peer_print_info(&p);
        ms_torch = bench_peer_num(&p, "ms");
        best_torch = bench_peer_num(&p, "best");
        printf("torch: %.3f ms/step median, %.3f best (%g reps)\n", ms_torch, best_torch, bench_peer_num(&p, "reps"));
    } else {
        printf("# torch peer unavailable: %s\n", p.why);
    }

    /* the first loss is a pure forward pass: tight; later ones follow Adam's updates */
    int bad = !(losses[0] > 0 && isfinite(losses[CHECK_STEPS - 1]));
    printf("\ncheck (losses of the first %d steps vs torch; limit 1e-5 for step 1, 1e-3 after):\n", CHECK_STEPS);
    for (int i = 0; i < CHECK_STEPS; i++) {
        char key[32];
        snprintf(key, sizeof key, "loss%d", i);
        double lt = p.ok ? bench_peer_num(&p, key) : NAN;
        double e = p.ok ? bench_reldiff(losses[i], lt) : 0;
        int ok = e <= (i == 0 ? 1e-5 : 1e-3);
        bad |= !ok;
        printf("  step %d: engram %.7f  torch %.7f  rel %.1e  %s\n", i + 1, losses[i], lt, e, ok ? "ok" : "MISMATCH");
    }
    if (losses[CHECK_STEPS - 1] >= losses[0]) {
        printf("  the loss did not decrease over %d steps: MISMATCH\n", CHECK_STEPS);
        bad = 1;
    }

    printf("\n%-10s %14s %13s %8s\n", "", "engram ms/step", "torch ms/step", "speedup");
    printf("%-10s %14.3f %13.3f %7.2fx\n", "mlp", ms, ms_torch, ms_torch / ms);
    printf("(speedup = torch time / engram time; target >= 1.00x)\n");
    printf("summary: mlp-adam-step  engram %.3f ms/step  torch %.3f ms/step  speedup %.2fx  (fastest calls: %.2fx)\n",
           ms, ms_torch, ms_torch / ms, best_torch / best);
    eg_optim_free(j.opt);
    eg_tensor_free(j.x);
    eg_tensor_free(j.labels);
    eg_params_free(ps);
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-mlp: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
