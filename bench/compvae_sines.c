/* bench/compvae_sines.c — one CompVAE training update (plugins/compvae) on the sines problem at the
 * CPU scale of configs/paper/compvae-sines-cpu.yaml, engram vs its PyTorch port
 * (bench/compvae_sines.py), float32:
 *   W 32, Z 16, hidden 128, 2 GraphBlocks, channels 8/16/32 (1.34M parameters), batch 64 in 4
 *   sub-batches of 16 wholes with K = 1, 2, 3, 4 (the curriculum's final stage draws K ~ U{1..4}
 *   per sub-batch; the benchmark fixes one of each so both sides do the same work every call),
 *   Adamax (0.5, 0.9), lr 1e-3.
 * The timed call is the plugin's own training update (cv_train_step, the plugin's code
 * linked into this bench: what cv_fit runs): fresh sines wholes per sub-batch, the
 * reparametrised forward pass, one backward pass on L_w + L_z + L_x averaged over the
 * sub-batches, the Adamax step. The peer does the same with numpy data and torch.randn noise.
 * Correctness: both sides start from the same weights (value(i, fnv1a(name)) scaled to
 * +-1/sqrt(numel / rows); biases +-0.1), the same deterministic sub-batches and noise (Box-Muller
 * of value streams); the three losses of every sub-batch, the objective, and the objective after
 * one Adamax update are compared with PyTorch's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/compvae/compvae.h"
#include "common.h"

enum { W = 32, Z = 16, H = 128, SUB = 16, NSUB = 4 };
static const int KS[NSUB] = {1, 2, 3, 4};
static const double LR = 1e-3;

typedef struct job {
    compvae *m;
    cv_train t;
    eg_optim *opt;
    eg_rng data, noise;
    double loss;
    eg_status st;
} job;

static void run_step(void *arg) {
    job *j = arg;
    cv_step r;
    eg_status st = cv_train_step(j->m, &j->t, j->opt, &j->data, &j->noise, NSUB, KS, &r);
    if (st != EG_OK && j->st == EG_OK) j->st = st;
    eg_ctx_sync(j->m->ctx);
    j->loss = r.loss;
}

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h & 0x7fffffffu;
}

/* Box-Muller of two value streams: sqrt(-2 ln(1 - v(i, s))) cos(2 pi v(i, s + 1000)) */
static double gauss(int64_t i, int64_t seed) {
    double u1 = bench_value(i, seed), u2 = bench_value(i, seed + 1000);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

/* the shared initial weights (bench/compvae_sines.py: bench_init) */
static void bench_init(eg_ctx *ctx, eg_params *ps) {
    for (int p = 0; p < eg_params_count(ps); p++) {
        eg_tensor *t = eg_params_get(ps, p);
        int64_t n = eg_numel(t), rows = eg_dim(t, 0);
        double b = eg_ndim(t) >= 2 ? 1.0 / sqrt((double)n / (double)rows) : 0.1;
        int64_t seed = fnv1a(eg_params_name(ps, p));
        float *v = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            v[i] = (float)((2.0 * bench_value(i, seed) - 1.0) * b);
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(t, eg_from_f32(ctx, EG_F32, eg_ndim(t), eg_shape(t), v));
        eg_scope_close(s);
        free(v);
    }
}

/* check sub-batch j (K = KS[j]): f = 1 + floor(9 v), a = 1 + 0.3 g, phi = 0.8 g, x = K tanh(3 S / K) */
static void check_batch(int j, cv_batch *b, float *x, int32_t *lab) {
    int K = KS[j];
    memset(b, 0, sizeof *b);
    b->B = SUB, b->K = K, b->x = x, b->lab = lab;
    for (int i = 0; i < SUB; i++) {
        double a[4], ph[4];
        for (int k = 0; k < K; k++) {
            int64_t idx = (int64_t)i * K + k;
            int f = 1 + (int)floor(9.0 * (double)bench_value(idx, 20 + j));
            lab[idx] = f > 9 ? 9 : f;
            a[k] = 1.0 + 0.3 * gauss(idx, 30 + j);
            ph[k] = 0.8 * gauss(idx, 40 + j);
        }
        for (int n = 0; n < EG_SINES_LEN; n++) {
            double S = 0, t = n / 100.0;
            for (int k = 0; k < K; k++)
                S += a[k] * cos(6.283185307179586 * lab[i * K + k] * t + ph[k]);
            x[i * EG_SINES_LEN + n] = (float)(K * tanh(3.0 * S / K));
        }
    }
}

static eg_tensor *gauss_tensor(eg_ctx *ctx, int ndim, const int64_t *shape, int64_t seed) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    float *v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)gauss(i, seed);
    eg_tensor *t = eg_persistent(ctx, EG_F32, ndim, shape);
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(t, eg_from_f32(ctx, EG_F32, ndim, shape, v));
    eg_scope_close(s);
    free(v);
    return t;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-compvae_sines",
                    "CompVAE sines training update at CPU scale (plugins/compvae): engram vs PyTorch", &o, &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== compvae_sines: one CompVAE training update, sines, W %d, Z %d, hidden %d, 2 GraphBlocks, "
           "channels 8/16/32, batch %d = %d x %d (K = 1..4), Adamax, float32 ==\n",
           W, Z, H, NSUB * SUB, NSUB, SUB);
    printf("   engram: the plugin's cv_train_step (its code linked into this bench)\n");
    bench_print_env(&o, ctx);

    cv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.problem = CV_SINES;
    cfg.w_dim = W, cfg.z_dim = Z, cfg.hidden = H, cfg.graph_blocks = 2;
    cfg.channels[0] = 8, cfg.channels[1] = 16, cfg.channels[2] = 32, cfg.n_channels = 3;
    cfg.sigma_min = 1e-3;
    cfg.dtype = EG_F32;
    compvae m;
    eg_rng init = eg_rng_make(0, 0);
    if (cv_create(&m, ctx, &cfg, &init) != EG_OK) {
        fprintf(stderr, "compvae_sines: cv_create: %s\n", eg_ctx_message(ctx));
        return 1;
    }
    bench_init(ctx, m.ps);
    job j;
    memset(&j, 0, sizeof j);
    j.m = &m;
    j.t.lr = LR, j.t.lr_floor = 0.01, j.t.lr_halve_every = 20000;
    j.t.batch = NSUB * SUB, j.t.sub_batches = NSUB, j.t.iterations = 1;
    j.t.k_start = NSUB, j.t.k_every = 1, j.t.k_cap = NSUB;
    j.opt = eg_adamax(m.ps, LR, 0.5, 0.9, 1e-8);
    j.data = eg_rng_make(1, 0), j.noise = eg_rng_make(1, 1);

    /* check: the shared sub-batches and noise; losses before and after one update */
    cv_batch cb[NSUB];
    cv_noise cn[NSUB];
    float *cx = malloc(sizeof(float) * NSUB * SUB * EG_SINES_LEN);
    int32_t *cl = malloc(sizeof(int32_t) * NSUB * SUB * 4);
    double ck[NSUB][3];
    for (int b = 0; b < NSUB; b++) {
        check_batch(b, &cb[b], cx + (size_t)b * SUB * EG_SINES_LEN, cl + (size_t)b * SUB * 4);
        cn[b].z = gauss_tensor(ctx, EG_DIMS(SUB, Z), 50 + b);
        cn[b].lab = gauss_tensor(ctx, EG_DIMS(SUB, KS[b], W), 60 + b);
        cn[b].w = gauss_tensor(ctx, EG_DIMS(SUB, KS[b], W), 70 + b);
        eg_scope *s = eg_scope_open(ctx);
        eg_no_grad_begin(ctx);
        cv_losses L = cv_forward_with(&m, &cb[b], &cn[b]);
        ck[b][0] = eg_item(eg_mean_all(L.lw));
        ck[b][1] = eg_item(eg_mean_all(L.lz));
        ck[b][2] = eg_item(eg_mean_all(L.lx));
        eg_no_grad_end(ctx);
        eg_scope_close(s);
    }
    cv_step r0, r1;
    cv_update(&m, j.opt, NSUB, cb, NULL, cn, &r0);
    cv_update(&m, j.opt, NSUB, cb, NULL, cn, &r1);
    for (int b = 0; b < NSUB; b++) {
        eg_tensor_free(cn[b].z), eg_tensor_free(cn[b].lab), eg_tensor_free(cn[b].w);
    }
    free(cx), free(cl);
    if (eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "compvae_sines: engram error: %s\n", eg_ctx_message(ctx));
        return 1;
    }

    int reps;
    double best, sec = bench_median(run_step, &j, o.seconds, &reps, &best);
    if (j.st != EG_OK || eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "compvae_sines: engram error: %s\n", eg_ctx_message(ctx));
        return 1;
    }
    printf("engram: %.2f ms/update median, %.2f best (%d reps), %d tensors, %lld parameters, last loss %.1f\n",
           sec * 1e3, best * 1e3, reps, eg_params_count(m.ps), (long long)eg_params_numel(m.ps), j.loss);
    fflush(stdout);

    bench_peer p;
    if (o.peer) {
        bench_peer_run(&o, "compvae_sines.py", "", &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    double ms_torch = NAN, best_torch = NAN;
    if (p.ok) {
        bench_peer_print_info(&p);
        ms_torch = bench_peer_num(&p, "ms");
        best_torch = bench_peer_num(&p, "best");
        printf("torch: %.2f ms/update median, %.2f best (%g reps), %g tensors, %g parameters\n", ms_torch, best_torch,
               bench_peer_num(&p, "reps"), bench_peer_num(&p, "nparams"), bench_peer_num(&p, "numel"));
    } else {
        printf("# torch peer unavailable: %s\n", p.why);
    }

    /* float32 sums over 200 samples and 1.3M weights: 1e-4 relative for the losses (L_z is small and
     * cancels: 1e-3 or 1e-3 absolute), 1e-3 after one update (Adamax moves every weight by ~lr
     * whatever the size of its gradient, so tiny gradients of either sign count) */
    int bad = !(r0.skipped == 0 && r1.skipped == 0 && isfinite(r1.loss));
    printf("\ncheck (shared weights, sub-batches and noise; losses in nats vs torch):\n");
    if (p.ok && (int)bench_peer_num(&p, "numel") != (int)eg_params_numel(m.ps)) {
        printf("  parameter count: engram %lld torch %g  MISMATCH\n", (long long)eg_params_numel(m.ps),
               bench_peer_num(&p, "numel"));
        bad = 1;
    }
    static const char *term[3] = {"lw", "lz", "lx"};
    for (int b = 0; b < NSUB; b++)
        for (int k = 0; k < 3; k++) {
            char key[16];
            snprintf(key, sizeof key, "%s%d", term[k], b);
            double lt = p.ok ? bench_peer_num(&p, key) : NAN;
            double e = p.ok ? bench_reldiff(ck[b][k], lt) : 0, lim = k == 1 ? 1e-3 : 1e-4;
            int ok = e <= lim || (p.ok && fabs(ck[b][k] - lt) <= 1e-3);
            bad |= !ok;
            printf("  K=%d L_%c: engram %12.5f  torch %12.5f  rel %.1e  %s\n", KS[b], term[k][1], ck[b][k], lt, e,
                   ok ? "ok" : "MISMATCH");
        }
    for (int s = 0; s < 2; s++) {
        char key[16];
        snprintf(key, sizeof key, "loss%d", s);
        double le = s ? r1.loss : r0.loss, lt = p.ok ? bench_peer_num(&p, key) : NAN;
        double e = p.ok ? bench_reldiff(le, lt) : 0;
        int ok = e <= (s ? 1e-3 : 1e-4);
        bad |= !ok;
        printf("  objective %s: engram %12.5f  torch %12.5f  rel %.1e  %s\n", s ? "after 1 update " : "(L_w+L_z+L_x)",
               le, lt, e, ok ? "ok" : "MISMATCH");
    }
    if (!(r1.loss < r0.loss)) {
        printf("  the objective did not decrease after one update: MISMATCH\n");
        bad = 1;
    }

    double ms = sec * 1e3;
    best *= 1e3;
    printf("\n%-14s %16s %15s %8s\n", "", "engram ms/update", "torch ms/update", "speedup");
    printf("%-14s %16.2f %15.2f %7.2fx\n", "compvae-sines", ms, ms_torch, ms_torch / ms);
    printf("(speedup = torch time / engram time; target >= 1.50x)\n");
    printf("summary: compvae-sines-step  engram %.2f ms/update  torch %.2f ms/update  speedup %.2fx  "
           "(fastest calls: %.2fx)\n",
           ms, ms_torch, ms_torch / ms, best_torch / best);
    bench_result(&o, "compvae-sines-step", sec);
    eg_optim_free(j.opt);
    cv_destroy(&m);
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-compvae_sines: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
