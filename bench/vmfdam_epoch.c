/* bench/vmfdam_epoch.c — one training epoch of the vMF dense associative memory
 * (plugins/vmfdam) at P = 1000 memories, batch 1000, on the Fashion-MNIST training
 * split, against a PyTorch port of the same algorithm (bench/vmfdam_epoch.py).
 *
 * The setting is the classification run of the acceptance figure (docs/models/vmfdam.md):
 * items centred and put on the sphere, the last 10% validating, soft targets with
 * s = 0.1, beta from 1 trained with ς = 0.25, SMD at lr 0.1 (applied twice) and momentum
 * 0.99, Sinkhorn <= 10 passes. One epoch = reshuffle, one SMD step per minibatch of the
 * 54000 fitted items, then the validation loss and accuracy on the other 6000 — exactly
 * what the plugin's memorisation loop runs per epoch: the bench is linked with the plugin's
 * code and calls its own vmf_shuffle, vmf_train_epoch and vmf_evaluate.
 *
 * Both sides start from identical weights (w rows: value(i, 21) - 0.5, normalised; g:
 * rows p_q, null row P/(P+1) p_q; beta = 1). Check: a first epoch over a fixed permutation
 * (i * 7919 + 13) mod 54000, shared by both sides, must give the same batch losses, epoch
 * loss, validation loss, beta, mean |w - w0|^2 and sum g^2 within tolerances. That epoch
 * is also each side's warm-up.
 * Timing: max(3, seconds / first epoch) epochs per side, each with its own shuffling. An
 * epoch lasts seconds, longer than the load of a shared machine stays put, so the peer runs
 * as a coprocess and the epochs alternate (engram, torch, engram, torch, ...): each pair
 * sees the same load. Reported: the medians (and fastest epochs) of both sides, the median
 * of the per-pair ratios, and the process CPU time per epoch of both sides.
 * GFLOP/s: the epoch's GEMM work (x W^T and dh^T x per batch, the [B, P] x [P, C+1] ones,
 * the validation forward passes) over the epoch time, against the backend's sgemm rate at
 * the epoch's main shape measured in the same invocation. --backend cuda times the same
 * epoch on a GPU (the peer stays PyTorch on the CPU; --no-peer skips it). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cfg.h"
#include "engram/source.h"
#include "common.h"
#include "vmfdam.h"

enum { P = 1000, BATCH = 1000, CHECK_BATCHES = 5, PERM_MULT = 7919, W_SEED = 21 };
static const double BETA0 = 1.0, VARSIGMA = 0.25, SOFTENING = 0.1, LR = 0.1, MOMENTUM = 0.99, VAL_FRACTION = 0.1;

static eg_dataset *load_fashion(void) {
    const char *dir = getenv("BENCH_FASHION_MNIST");
    if (!dir || !*dir) dir = "/usr/share/datasets/fashion-mnist";
    const eg_data_source *src = eg_data_source_find("fashion-mnist");
    if (!src) return NULL;
    eg_cfg c;
    eg_cfg_init(&c);
    eg_value v;
    char text[4200];
    snprintf(text, sizeof text, "\"%s\"", dir);
    if (eg_value_parse(text, &v) == EG_OK) {
        eg_cfg_set(&c, "data.path", &v);
        eg_value_free(&v);
    }
    eg_dataset *ds = NULL;
    char err[1024] = "";
    if (src->load(&c, "train", &ds, err, sizeof err) != EG_OK) fprintf(stderr, "vmfdam_epoch: %s\n", err);
    eg_cfg_free(&c);
    return ds;
}

typedef struct bench {
    eg_ctx *ctx;
    vmf_model m;
    eg_tensor *x, *t;
    const int32_t *y;
    int64_t n, n_fit;
    int32_t *perm;
    eg_rng rng;
    uint64_t epoch;
    double loss, acc, vloss, vacc;
    double batch_loss[CHECK_BATCHES];
} bench;

/* one epoch as the plugin's memorisation loop runs it: shuffle, train, validate */
static eg_status one_epoch(bench *b, int shuffle) {
    if (shuffle) vmf_shuffle(b->perm, b->n_fit, b->rng, b->epoch);
    b->epoch++;
    vmf_epoch e = {.x = b->x,
                   .t = b->t,
                   .y = b->y,
                   .perm = b->perm,
                   .n_fit = b->n_fit,
                   .batch = BATCH,
                   .batch_loss = b->batch_loss,
                   .n_batch_loss = CHECK_BATCHES};
    eg_status st = vmf_train_epoch(&b->m, &e);
    b->loss = e.loss, b->acc = e.acc;
    if (st == EG_OK) st = vmf_evaluate(&b->m, b->x, b->t, b->y, b->n_fit, b->n - b->n_fit, BATCH, &b->vloss, &b->vacc);
    eg_ctx_sync(b->ctx);
    return st;
}

static void run_gemm(void *arg) {
    eg_tensor **ab = arg;
    eg_ctx *ctx = eg_tensor_ctx(ab[0]);
    eg_scope *s = eg_scope_open(ctx);
    eg_matmul_nt(ab[0], ab[1]);
    eg_ctx_sync(ctx);
    eg_scope_close(s);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double *c = malloc(sizeof *c * (size_t)(n > 0 ? n : 1));
    if (!c || n <= 0) {
        free(c);
        return NAN;
    }
    memcpy(c, v, sizeof *c * (size_t)n);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

static double min_of(const double *v, int n) {
    double m = INFINITY;
    for (int i = 0; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return n > 0 ? m : NAN;
}

static double cpu_now(void) { /* CPU time of this process, all threads */
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* the peer as a coprocess: we write its stdin, read its stdout */
typedef struct coproc {
    pid_t pid;
    FILE *in, *out;
} coproc;

static int coproc_start(const bench_opts *o, const char *args, coproc *c, char *why, size_t cap) {
    int to[2], from[2];
    if (pipe(to) != 0) return snprintf(why, cap, "pipe: %s", strerror(errno)), 0;
    if (pipe(from) != 0) {
        close(to[0]), close(to[1]);
        return snprintf(why, cap, "pipe: %s", strerror(errno)), 0;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' '%s/vmfdam_epoch.py' --threads %d --seconds %g %s --interactive", o->python,
             o->dir, o->threads, o->seconds, args);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        return snprintf(why, cap, "fork: %s", strerror(errno)), 0;
    }
    if (pid == 0) {
        dup2(to[0], 0), dup2(from[1], 1);
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(to[0]), close(from[1]);
    c->pid = pid;
    c->in = fdopen(from[0], "r");
    c->out = fdopen(to[1], "w");
    if (!c->in || !c->out) return snprintf(why, cap, "fdopen: %s", strerror(errno)), 0;
    return 1;
}

/* the peer's next JSON line into buf (its other lines pass through); 0 when it ended */
static int coproc_json(coproc *c, char *buf, size_t cap) {
    while (c->in && fgets(buf, (int)cap, c->in)) {
        if (buf[0] == '{') {
            buf[strcspn(buf, "\n")] = 0;
            return 1;
        }
        fputs("  [torch] ", stdout);
        fputs(buf, stdout);
    }
    buf[0] = 0;
    return 0;
}

/* closes the peer's stdin (it then prints its summary line, kept in last) and waits for it */
static void coproc_end(coproc *c, char *last, size_t cap) {
    if (c->out) fclose(c->out);
    c->out = NULL;
    char line[8192];
    while (coproc_json(c, line, sizeof line))
        if (last) snprintf(last, cap, "%s", line);
    if (c->in) fclose(c->in);
    c->in = NULL;
    if (c->pid > 0) waitpid(c->pid, NULL, 0);
    c->pid = 0;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-vmfdam_epoch",
                    "one training epoch of vmfdam (P = 1000, batch 1000, Fashion-MNIST): engram vs a PyTorch port", &o,
                    &status))
        return status;
    signal(SIGPIPE, SIG_IGN); /* a peer that died must not take the benchmark with it */
    eg_dataset *ds = load_fashion();
    if (!ds) return 1;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    const int64_t n = ds->n, N = ds->dim, C = 10, K = C + 1;
    const int64_t n_fit = (int64_t)((double)n * (1.0 - VAL_FRACTION));
    printf("== vmfdam_epoch: one epoch of vmfdam training, P = %d, batch %d, N = %lld, Fashion-MNIST train "
           "(%lld fitted + %lld validating), beta from %g trained with varsigma %g, float32 ==\n",
           P, BATCH, (long long)N, (long long)n_fit, (long long)(n - n_fit), BETA0, VARSIGMA);
    bench_print_env(&o, ctx);

    /* data on the sphere and soft targets, with the plugin's own functions */
    bench b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx, b.n = n, b.n_fit = n_fit, b.y = ds->y;
    float *xs = malloc(sizeof(float) * (size_t)(n * N));
    double *w0 = malloc(sizeof(double) * (size_t)(P * N));
    double *g0 = malloc(sizeof(double) * (size_t)((P + 1) * K));
    float *wf = malloc(sizeof(float) * (size_t)(P * N));
    b.perm = malloc(sizeof(int32_t) * (size_t)n_fit);
    if (!xs || !w0 || !g0 || !wf || !b.perm) return 1;
    vmf_preprocess(ds->x, n, N, 1, xs);
    b.x = eg_persistent(ctx, EG_F32, EG_DIMS(n, N));
    b.t = eg_persistent(ctx, EG_F32, EG_DIMS(n, K));
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(b.x, eg_from_f32(ctx, EG_F32, EG_DIMS(n, N), xs));
    eg_assign(b.t, vmf_targets(ctx, EG_F32, ds->y, n, C, SOFTENING));
    eg_scope_close(s);
    free(xs);

    /* the model: the plugin's state with the shared initial weights */
    double counts[10] = {0}, pq[11];
    for (int64_t i = 0; i < n_fit; i++)
        counts[ds->y[i]] += 1;
    vmf_class_prior(counts, C, SOFTENING, pq);
    vmf_model *m = &b.m;
    m->cfg.varsigma = VARSIGMA, m->cfg.softening = SOFTENING, m->cfg.beta_trainable = 1, m->cfg.lr = LR,
    m->cfg.momentum = MOMENTUM;
    m->cfg.sinkhorn_iters = 10, m->hidden_max = P;
    eg_status st = vmf_alloc(m, ctx, EG_F32, N, C, P, pq);
    for (int64_t r = 0; r < P; r++) {
        double ss = 0;
        for (int64_t j = 0; j < N; j++) {
            double v = (double)bench_value(r * N + j, W_SEED) - 0.5;
            w0[r * N + j] = v, ss += v * v;
        }
        for (int64_t j = 0; j < N; j++)
            w0[r * N + j] /= sqrt(ss), wf[r * N + j] = (float)w0[r * N + j];
    }
    for (int64_t r = 0; r <= P; r++)
        for (int64_t y = 0; y < K; y++)
            g0[r * K + y] = (r < P ? 1.0 : (double)P / (P + 1.0)) * pq[y];
    for (int64_t r = 0; r <= P; r++)
        m->par.G[r] = 1.0; /* G_null = P/P_max = 1 */
    s = eg_scope_open(ctx);
    eg_assign(m->par.w, eg_from_f32(ctx, EG_F32, EG_DIMS(P, N), wf));
    eg_assign(m->par.g, eg_cast(eg_from_host(ctx, EG_F64, EG_DIMS(P + 1, K), g0), EG_F32));
    eg_scope_close(s);
    eg_fill(m->par.beta, BETA0);
    if (st == EG_OK) st = vmf_sync_targets(m);
    b.rng = eg_rng_named(0, "batches");

    /* check epoch (also the warm-up): the fixed permutation shared with the peer */
    for (int64_t i = 0; i < n_fit; i++)
        b.perm[i] = (int32_t)((i * PERM_MULT + 13) % n_fit);
    double t0 = bench_now();
    if (st == EG_OK) st = one_epoch(&b, 0);
    double first = bench_now() - t0;
    if (st != EG_OK) {
        fprintf(stderr, "vmfdam_epoch: engram error: %s (%s)\n", eg_ctx_message(ctx), eg_strerror(st));
        return 1;
    }
    double c_loss = b.loss, c_acc = b.acc, c_vloss = b.vloss, c_vacc = b.vacc, c_beta = eg_item(m->par.beta);
    double c_bl[CHECK_BATCHES], c_wdisp = 0, c_gsq = 0;
    memcpy(c_bl, b.batch_loss, sizeof c_bl);
    {
        double *wn = malloc(sizeof(double) * (size_t)(P * N)), *gn = malloc(sizeof(double) * (size_t)((P + 1) * K));
        if (!wn || !gn || eg_to_host_f64(m->par.w, wn) != EG_OK || eg_to_host_f64(m->par.g, gn) != EG_OK) return 1;
        for (int64_t r = 0; r < P; r++) { /* mean |w/|w| - w0|^2, normalised in double */
            double ss = 0, d2 = 0;
            for (int64_t j = 0; j < N; j++)
                ss += wn[r * N + j] * wn[r * N + j];
            for (int64_t j = 0; j < N; j++) {
                double d = wn[r * N + j] / sqrt(ss) - w0[r * N + j];
                d2 += d * d;
            }
            c_wdisp += d2 / P;
        }
        for (int64_t i = 0; i < (P + 1) * K; i++)
            c_gsq += gn[i] * gn[i];
        free(wn), free(gn);
    }

    /* the PyTorch peer as a coprocess: it runs its own check epoch, then one timed epoch
     * each time engram has timed one, so both sides see the same machine load */
    bench_peer p, pend;
    memset(&p, 0, sizeof p), memset(&pend, 0, sizeof pend);
    coproc cp = {0};
    if (o.peer) {
        char extra[512];
        snprintf(extra, sizeof extra, "--hidden %d --batch %d --check-batches %d --perm-mult %d --w-seed %d", P, BATCH,
                 CHECK_BATCHES, PERM_MULT, W_SEED);
        const char *fm = getenv("BENCH_FASHION_MNIST");
        if (fm && *fm) snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " --path '%s'", fm);
        if (coproc_start(&o, extra, &cp, p.why, sizeof p.why) && coproc_json(&cp, p.line, sizeof p.line)) {
            bench_peer_str(&p, "error", pend.why, sizeof pend.why);
            p.ok = !pend.why[0];
            if (!p.ok) snprintf(p.why, sizeof p.why, "%s", pend.why);
        } else if (!p.why[0]) {
            snprintf(p.why, sizeof p.why, "the peer ended before its check epoch");
        }
    } else {
        snprintf(p.why, sizeof p.why, "--no-peer");
    }

    /* timed epochs, each reshuffled by the plugin's shuffle, alternating with the peer's */
    int reps = (int)(o.seconds / first + 0.5);
    reps = reps < 3 ? 3 : reps > 50 ? 50 : reps;
    double *ts = malloc(sizeof(double) * (size_t)reps * 5), *cs = ts + reps, *tt = ts + 2 * reps;
    double *ct = ts + 3 * reps, *ratio = ts + 4 * reps;
    int nt = 0;
    for (int i = 0; i < reps && st == EG_OK; i++) {
        double c0 = cpu_now();
        t0 = bench_now();
        st = one_epoch(&b, 1);
        ts[i] = bench_now() - t0, cs[i] = cpu_now() - c0;
        if (p.ok) {
            char line[512];
            fputs("epoch\n", cp.out);
            fflush(cp.out);
            bench_peer q = {.ok = 1};
            if (coproc_json(&cp, line, sizeof line)) memcpy(q.line, line, sizeof line);
            double t = bench_peer_num(&q, "t");
            if (isfinite(t)) tt[nt] = t, ct[nt] = bench_peer_num(&q, "cpu"), ratio[nt] = t / ts[i], nt++;
        }
    }
    if (st != EG_OK) {
        fprintf(stderr, "vmfdam_epoch: engram error: %s (%s)\n", eg_ctx_message(ctx), eg_strerror(st));
        coproc_end(&cp, NULL, 0);
        return 1;
    }
    if (p.ok) {
        coproc_end(&cp, pend.line, sizeof pend.line);
        pend.ok = pend.line[0] == '{';
    }
    double sec = median(ts, reps), best = min_of(ts, reps), cpu = median(cs, reps);
    printf("engram: %.3f s/epoch median, %.3f best, %.3f s CPU time (%d epochs; first epoch %.3f s), beta %.4f after "
           "%llu epochs\n",
           sec, best, cpu, reps, first, eg_item(m->par.beta), (unsigned long long)b.epoch);

    /* the GEMM work of one epoch and the backend's sgemm rate at its main shape */
    double batches = ceil((double)n_fit / BATCH), vbatches = ceil((double)(n - n_fit) / BATCH);
    double big = 2.0 * BATCH * P * (double)N, small = 2.0 * BATCH * P * (double)K;
    double flops = batches * (2 * big + 3 * small) + vbatches * (big + small);
    eg_tensor *ab[2];
    s = eg_scope_open(ctx);
    ab[0] = eg_narrow(b.x, 0, 0, BATCH);
    ab[1] = m->par.w;
    int greps;
    double gbest, gsec = bench_median(run_gemm, ab, 1.0, &greps, &gbest);
    eg_scope_close(s);
    double rate = big / gsec * 1e-9;
    printf("gemm: %.1f GFLOP per epoch; backend sgemm %dx%dx%lld: %.1f GFLOP/s median -> GEMM floor %.3f s/epoch\n",
           flops * 1e-9, BATCH, P, (long long)N, rate, flops * 1e-9 / rate);
    printf("engram epoch: %.1f GFLOP/s = %.0f%% of the measured sgemm rate (%.0f%% of a ~300 GFLOP/s peak)\n",
           flops * 1e-9 / sec, 100.0 * flops * 1e-9 / sec / rate, 100.0 * flops * 1e-9 / sec / 300.0);

    double s_torch = NAN, best_torch = NAN, paired = NAN;
    if (p.ok && nt > 0) {
        char t[128], blas[512];
        bench_peer *info = pend.ok ? &pend : &p;
        bench_peer_str(info, "torch", t, sizeof t);
        bench_peer_str(info, "blas", blas, sizeof blas);
        s_torch = median(tt, nt), best_torch = min_of(tt, nt), paired = median(ratio, nt);
        printf("# torch %s, %g threads, BLAS %s\n", t, bench_peer_num(info, "torch_threads"), blas);
        printf("torch: %.3f s/epoch median, %.3f best, %.3f s CPU time (%d epochs, each right after one of engram's; "
               "first epoch %.3f s)\n",
               s_torch, best_torch, median(ct, nt), nt, bench_peer_num(&p, "first_epoch"));
        printf("paired: median over the %d pairs of torch epoch / engram epoch = %.2fx; CPU time ratio %.2fx\n", nt,
               paired, median(ct, nt) / cpu);
    } else {
        printf("# torch peer unavailable: %s\n", p.ok ? "no timed epoch came back" : p.why);
    }

    /* agreement after the check epoch from identical weights and order */
    int bad = !(isfinite(c_loss) && isfinite(c_vloss));
    printf("\ncheck (first epoch, fixed order, identical initial weights; engram vs torch):\n");
    struct {
        const char *name, *key;
        double v, tol;
        int absolute;
    } rows[] = {
        {"batch 1 loss", "loss0", c_bl[0], 1e-5, 0}, {"batch 2 loss", "loss1", c_bl[1], 1e-5, 0},
        {"batch 3 loss", "loss2", c_bl[2], 1e-5, 0}, {"batch 4 loss", "loss3", c_bl[3], 1e-5, 0},
        {"batch 5 loss", "loss4", c_bl[4], 1e-5, 0}, {"epoch loss", "loss", c_loss, 1e-5, 0},
        {"val loss", "val_loss", c_vloss, 1e-5, 0},  {"beta - 1", "beta", c_beta - 1.0, 1e-2, 0},
        {"|w - w0|^2", "wdisp", c_wdisp, 1e-2, 0},   {"sum g^2", "gsq", c_gsq, 1e-4, 0},
        {"train accuracy", "acc", c_acc, 0.01, 1},   {"val accuracy", "val_acc", c_vacc, 0.01, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        double pv = p.ok ? bench_peer_num(&p, rows[i].key) : NAN;
        if (p.ok && !strcmp(rows[i].key, "beta")) pv -= 1.0;
        double e = !p.ok ? 0 : rows[i].absolute ? fabs(rows[i].v - pv) : bench_reldiff(rows[i].v, pv);
        int good = isfinite(rows[i].v) && e <= rows[i].tol;
        bad |= !good;
        printf("  %-15s engram %.8g  torch %.8g  %s %.1e (limit %.0e)  %s\n", rows[i].name, rows[i].v, pv,
               rows[i].absolute ? "abs" : "rel", e, rows[i].tol, good ? "ok" : "MISMATCH");
    }

    printf("\n%-22s %16s %15s %8s %8s\n", "", "engram s/epoch", "torch s/epoch", "speedup", "paired");
    printf("%-22s %16.3f %15.3f %7.2fx %7.2fx\n", "vmfdam-epoch-P1000", sec, s_torch, s_torch / sec, paired);
    printf("(speedup = median torch epoch / median engram epoch; paired = median of the per-pair ratios; "
           "target >= 2.50x)\n");
    printf("summary: vmfdam-epoch-P1000  engram %.3f s/epoch  torch %.3f s/epoch  speedup %.2fx  (fastest calls: "
           "%.2fx)\n",
           sec, s_torch, s_torch / sec, best_torch / best);
    bench_result(&o, "vmfdam-epoch-P1000", sec);

    free(ts), free(w0), free(g0), free(wf), free(b.perm);
    eg_tensor_free(b.x), eg_tensor_free(b.t);
    vmf_release(m);
    bench_close(backend, ctx);
    eg_dataset_free(ds);
    if (bad) fprintf(stderr, "bench-vmfdam_epoch: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
