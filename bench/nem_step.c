/* bench/nem_step.c — one RNN-EM training step of the nem plugin (Greff et al. 2017) on
 * static shapes at the CPU-scale acceptance setting of issue 7: batch 64, K = 3, T = 10,
 * 250 units, bitflip 0.1, loss eq. (5) on all steps with stop-gradient on gamma, Adam 1e-3,
 * float32, against the PyTorch port of the same step (bench/nem_step.py).
 *
 * Timed (case `rnn-em-step`): exactly the body of the plugin's training loop
 * (plugins/nem/nem_train.c): nem_unroll (nem_model.c) from the initial state with Philox draws for
 * gamma and the noise, the BCE upper bound, backward through the T steps, the Adam step,
 * zero_grad and the two downloads; the peer draws its gamma and noise with torch's RNG.
 * The plugin's code is linked into this bench.
 *
 * Correctness: both sides start from identical weights ((2 v - 1) times the Glorot limit,
 * v = value(i, 20 | 21 | 22) for W_x, W_h, W_o; zero biases) and images (3 shapes placed by
 * value(., 5)); the first CHECK_STEPS timed steps draw gamma and the bit flips from the Philox
 * streams (seed 1, streams 11 and 12), which the peer recomputes in numpy, and their losses
 * must agree with PyTorch's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/nem/nem.h"
#include "common.h"
#include "engram/optim.h"

enum { B = 64, K = 3, T = 10, HD = 250, S = 28, P = S * S, D = P, CHECK_STEPS = 3 };
static const double LR = 1e-3, NOISE_P = 0.1;

typedef struct job {
    eg_ctx *ctx;
    nem_model m;
    eg_optim *opt;
    eg_tensor *x;      /* [B, D] clean images */
    eg_rng grng, nrng; /* the training loop's "gamma" and "noise" streams */
    double loss, bce;
} job;

/* the plugin's training step (nem_train.c, one batch) */
static void run_step(void *arg) {
    job *j = arg;
    eg_scope *sc = eg_scope_open(j->ctx);
    eg_tensor *bce = NULL;
    eg_tensor *loss = nem_unroll(&j->m, j->x, 1, &j->grng, &j->nrng, NULL, &bce, NULL);
    eg_backward(loss);
    eg_optim_step(j->opt);
    eg_optim_zero_grad(j->opt);
    j->loss = eg_item(loss), j->bce = eg_item(bce);
    eg_scope_close(sc);
}

/* B images of 3 shapes (the formula of bench/nem_step.py) */
static void shapes(float *x) {
    static const char *tpl[3][7] = {{"#######", "#######", "##...##", "##...##", "##...##", "#######", "#######"},
                                    {".....##.....", "....####....", "...######...", "..###..###..", ".###....###.",
                                     "############", "############"},
                                    {"############", "############", ".###....###.", "..###..###..", "...######...",
                                     "....####....", ".....##....."}};
    memset(x, 0, sizeof(float) * B * D);
    for (int i = 0; i < B; i++)
        for (int o = 0; o < 3; o++) {
            double a = bench_value(9 * i + 3 * o, 5), b = bench_value(9 * i + 3 * o + 1, 5),
                   c = bench_value(9 * i + 3 * o + 2, 5);
            const char *const *t = tpl[(int)floor(a * 3)];
            int h = 7, w = (int)strlen(t[0]);
            int px = (int)floor(b * (S - w + 1)), py = (int)floor(c * (S - h + 1));
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++)
                    if (t[r][q] == '#') x[(size_t)i * D + (py + r) * S + px + q] = 1.0f;
        }
}

/* dst [rows, cols] = (2 value(i, seed) - 1) sqrt(6 / fan) */
static void glorot(eg_ctx *ctx, eg_tensor *dst, int64_t rows, int64_t cols, int64_t seed, double fan) {
    float *w = malloc(sizeof(float) * (size_t)(rows * cols));
    double lim = sqrt(6.0 / fan);
    for (int64_t i = 0; i < rows * cols; i++)
        w[i] = (float)((2.0 * bench_value(i, seed) - 1.0) * lim);
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(dst, eg_from_f32(ctx, EG_F32, EG_DIMS(rows, cols), w));
    eg_scope_close(s);
    free(w);
}

static int fail_ctx(eg_ctx *ctx) {
    fprintf(stderr, "nem_step: engram error: %s\n", eg_ctx_message(ctx));
    return 1;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-nem_step",
                    "RNN-EM training step (static shapes, B 64, K 3, T 10, 250 units): engram vs PyTorch", &o, &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== nem_step: one RNN-EM training step, static shapes, batch %d, K %d, T %d, %d units, bitflip %g,\n"
           "   loss on all steps with stop-gradient on gamma, Adam %g, float32 ==\n",
           B, K, T, HD, NOISE_P, LR);
    bench_print_env(&o, ctx);

    job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    nem_cfg c = {0};
    c.variant = NEM_RNN, c.k = K, c.steps = T, c.hidden = HD, c.e_sigma = 0.25, c.inter_weight = 1.0;
    c.loss_all = 1, c.gamma_grad = 0, c.noise = NEM_NOISE_BITFLIP, c.noise_p = NOISE_P, c.eta0 = 1.0;
    eg_rng irng = eg_rng_make(0, 0);
    if (nem_init(&j.m, ctx, &c, 1, S, S, EG_F32, &irng) != EG_OK) return fail_ctx(ctx);
    j.m.binary_targets = 1; /* the images are 0/1, as the plugin finds for the shapes data */
    glorot(ctx, j.m.w_x, HD, D, 20, D + HD + HD);
    glorot(ctx, j.m.w_h, HD, HD, 21, D + HD + HD);
    glorot(ctx, j.m.out.weight, D, HD, 22, HD + D);
    eg_fill(j.m.b_h, 0.0);
    eg_fill(j.m.out.bias, 0.0);
    j.opt = eg_adam(j.m.ps, LR, 0.9, 0.999, 1e-8);

    float *xh = malloc(sizeof(float) * B * D);
    shapes(xh);
    int64_t fg = 0;
    for (int i = 0; i < B * D; i++)
        fg += xh[i] > 0;
    j.x = eg_persistent(ctx, EG_F32, EG_DIMS(B, D));
    {
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(j.x, eg_from_f32(ctx, EG_F32, EG_DIMS(B, D), xh));
        eg_scope_close(s);
    }
    free(xh);
    printf("# %d images, %.1f %% foreground\n", B, 100.0 * (double)fg / (B * D));

    /* the check: the first updates of the timed step itself, gamma and noise from streams the peer recomputes */
    j.grng = eg_rng_make(1, 11), j.nrng = eg_rng_make(1, 12);
    double losses[CHECK_STEPS];
    for (int i = 0; i < CHECK_STEPS; i++) {
        run_step(&j);
        losses[i] = j.loss;
    }
    if (eg_ctx_status(ctx) != EG_OK) return fail_ctx(ctx);

    int reps = 0;
    double best = 0, sec = bench_median(run_step, &j, o.seconds, &reps, &best);
    if (eg_ctx_status(ctx) != EG_OK) return fail_ctx(ctx);
    printf("engram: %.1f ms/update median, %.1f best (%d reps), last loss %.1f, bce %.1f\n", sec * 1e3, best * 1e3,
           reps, j.loss, j.bce);
    fflush(stdout);
    bench_result(&o, "rnn-em-step", sec);

    bench_peer p;
    if (o.peer) {
        char extra[64];
        snprintf(extra, sizeof extra, "--check-steps %d", CHECK_STEPS);
        bench_peer_run(&o, "nem_step.py", extra, &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    double ms_t = NAN, best_t = NAN;
    if (p.ok) {
        bench_peer_print_info(&p);
        ms_t = bench_peer_num(&p, "ms"), best_t = bench_peer_num(&p, "best");
        printf("torch: %.1f ms/update median, %.1f best (%g reps)\n", ms_t, best_t, bench_peer_num(&p, "reps"));
    } else {
        printf("# torch peer unavailable: %s\n", p.why);
    }

    /* the first loss is a pure function of the shared data: tight; later ones follow Adam's updates */
    int bad = !(losses[0] > 0 && isfinite(losses[CHECK_STEPS - 1]) && losses[CHECK_STEPS - 1] < losses[0]);
    printf("\ncheck (eq. (5) summed over %d steps, first %d Adam updates vs torch; limit 1e-6 for update 1, 1e-5 "
           "after):\n",
           T, CHECK_STEPS);
    for (int i = 0; i < CHECK_STEPS; i++) {
        char key[32];
        snprintf(key, sizeof key, "loss%d", i);
        double lt = p.ok ? bench_peer_num(&p, key) : NAN;
        double e = p.ok ? bench_reldiff(losses[i], lt) : 0;
        int ok = e <= (i == 0 ? 1e-6 : 1e-5);
        bad |= !ok;
        printf("  update %d: engram %.4f  torch %.4f  rel %.1e  %s\n", i + 1, losses[i], lt, e, ok ? "ok" : "MISMATCH");
    }
    double ms = sec * 1e3;
    printf("\n%-12s %16s %15s %8s\n", "", "engram ms/update", "torch ms/update", "speedup");
    printf("%-12s %16.1f %15.1f %7.2fx\n", "rnn-em-step", ms, ms_t, ms_t / ms);
    printf("(speedup = torch time / engram time; target >= 1.50x)\n");
    printf("summary: rnn-em-step  engram %.1f ms/update  torch %.1f ms/update  speedup %.2fx  (fastest calls: %.2fx)\n",
           ms, ms_t, ms_t / ms, best_t / (best * 1e3));
    eg_optim_free(j.opt);
    eg_tensor_free(j.x);
    nem_free(&j.m);
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-nem_step: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
