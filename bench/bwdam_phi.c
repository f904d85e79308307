/* bench/bwdam_phi.c — one BW-DAM Φ step with full covariances (plugins/bwdam), engram
 * vs a batched PyTorch implementation of the same step with torch.linalg.eigh
 * (bench/bwdam_phi.py), float64, β = 1, d = 10, M = 1000 memories:
 *   phi750: 750 queries (the acceptance shape: 750 000 pairwise 10 x 10
 *           eigendecompositions per step); phi75: 75 queries (a quick look).
 *   *_all: the plugin's pruning off (every pair eigendecomposed, as the peer does); by
 *   default it skips pairs whose cheap W2² bounds put them beyond 60/β of the nearest
 *   (at β = 1 on this data it keeps every pair and takes the dense path).
 * The step: W2² of every (query, memory) pair from tr (Ω^½ Σ_i Ω^½)^½, Gibbs
 * weights, m' = Σ w_i m_i, Ω' = Ω^-½ (Σ_i w_i (Ω^½ Σ_i Ω^½)^½)² Ω^-½.
 * Data (both sides, from bench_value): means 4 v - 2; Σ = W Wᵀ + 0.01 I with
 * W = v - 0.5, rescaled to trace d; memories seeds 1 (means) and 2 (W), queries 3, 4.
 * Timing (both sides; a step takes seconds, so not bench_median's 3 warm-ups + at least 5
 * calls): one warm-up call, which is the measurement when it took at least --seconds,
 * else floor(--seconds / its time) timed calls: their median and the fastest. The last
 * call's output is checked. Default --seconds 2: about a minute in all, most of it torch's
 * phi750 (several times longer than engram's); --seconds 60 for medians of several calls.
 * Correctness: the sums and the sums of squares of m' and Ω' against PyTorch's, 1e-9
 * relative, for every case run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/bwdam/bwdam.h"
#include "common.h"

enum { D = 10, M = 1000 };

typedef struct variant {
    const char *name;
    int64_t Q;
    int no_prune; /* 1: eigendecompose every pair, as the PyTorch peer does */
} variant;
static const variant VARIANTS[] = {{"phi75", 75, 0}, {"phi75_all", 75, 1}, {"phi750", 750, 0}, {"phi750_all", 750, 1}};
#define NV ((int)(sizeof VARIANTS / sizeof *VARIANTS))

typedef struct job {
    eg_ctx *ctx;
    int no_prune;
    bw_gauss q, X;
    double sum[4]; /* Σ m', Σ Ω', Σ m'², Σ Ω'² */
} job;

/* One warm-up call; when it took at least `seconds` it is the measurement (the one-time
 * costs it may hold — lazy initialisation, engram's arena growing — are a small part of
 * a call that long, and count against the side paying them), else N = floor(seconds /
 * its time) timed calls follow. Returns the median in seconds; *best the fastest call,
 * *reps the calls timed. */
static double phi_time(void (*fn)(void *), void *arg, double seconds, int *reps, double *best) {
    double t0 = bench_now();
    fn(arg);
    double est = bench_now() - t0;
    if (est >= seconds) {
        *best = est, *reps = 1;
        return est;
    }
    double nd = est > 0 ? seconds / est : 1000;
    int n = nd < 1 ? 1 : nd > 1000 ? 1000 : (int)nd;
    double *t = malloc(sizeof *t * (size_t)n);
    if (!t) return NAN;
    for (int i = 0; i < n; i++) {
        t0 = bench_now();
        fn(arg);
        t[i] = bench_now() - t0;
    }
    for (int i = 1; i < n; i++) /* insertion sort: n is small */
        for (int k = i; k > 0 && t[k - 1] > t[k]; k--) {
            double x = t[k];
            t[k] = t[k - 1], t[k - 1] = x;
        }
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    *best = t[0], *reps = n;
    free(t);
    return med;
}

static void run(void *arg) {
    job *j = arg;
    bw_dam h = {BW_BW, 1.0, 1, 0, 1, 1e-10, 0, j->no_prune};
    eg_scope *s = eg_scope_open(j->ctx);
    bw_gauss n = bw_step(&h, j->q, j->X, NULL, NULL);
    eg_tensor *sums[4] = {eg_sum_all(n.mean), eg_sum_all(n.cov), eg_sum_all(eg_square(n.mean)),
                          eg_sum_all(eg_square(n.cov))};
    for (int k = 0; k < 4; k++)
        j->sum[k] = eg_item(sums[k]); /* downloads: the step is finished */
    eg_scope_close(s);
}

/* n Gaussians: means 4 v - 2 (seed sm), covariances W Wᵀ + 0.01 I rescaled to trace D (seed sw) */
static bw_gauss make(eg_ctx *ctx, int64_t n, int64_t sm, int64_t sw) {
    float *v = malloc(sizeof(float) * (size_t)(n * D * D));
    double *m = malloc(sizeof(double) * (size_t)(n * D)), *S = malloc(sizeof(double) * (size_t)(n * D * D));
    bench_fill(v, n * D, sm);
    for (int64_t i = 0; i < n * D; i++)
        m[i] = 4.0 * v[i] - 2.0;
    bench_fill(v, n * D * D, sw);
    for (int64_t i = 0; i < n; i++) {
        const float *W = v + i * D * D;
        double *Si = S + i * D * D, tr = 0;
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++) {
                double s = a == b ? 0.01 : 0;
                for (int c = 0; c < D; c++)
                    s += ((double)W[a * D + c] - 0.5) * ((double)W[b * D + c] - 0.5);
                Si[a * D + b] = s;
            }
        for (int a = 0; a < D; a++)
            tr += Si[a * D + a];
        for (int k = 0; k < D * D; k++)
            Si[k] *= D / tr;
    }
    bw_gauss g = {eg_persistent(ctx, EG_F64, EG_DIMS(n, D)), eg_persistent(ctx, EG_F64, EG_DIMS(n, D, D)), 1};
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(g.mean, eg_from_host(ctx, EG_F64, EG_DIMS(n, D), m));
    eg_assign(g.cov, eg_from_host(ctx, EG_F64, EG_DIMS(n, D, D), S));
    eg_scope_close(s);
    free(v), free(m), free(S);
    return g;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-bwdam_phi", "BW-DAM Φ step, full covariances: engram vs PyTorch eigh", &o,
                    &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== bwdam_phi: one BW-DAM Φ step, full covariances, float64, d = %d, M = %d memories, beta 1 ==\n", D, M);
    printf("   per (query, memory) pair one %dx%d symmetric eigendecomposition (engram: eg_syev; torch: linalg.eigh)\n",
           D, D);
    bench_print_env(&o, ctx);
    double ms[NV] = {0}, best[NV] = {0}, sums[NV][4] = {{0}};
    int reps[NV] = {0};
    job j = {.ctx = ctx};
    j.X = make(ctx, M, 1, 2);
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        if (!bench_selected(&o, v->name)) continue;
        j.q = make(ctx, v->Q, 3, 4);
        j.no_prune = v->no_prune;
        ms[vi] = 1e3 * phi_time(run, &j, o.seconds, &reps[vi], &best[vi]); /* sums: of the last call */
        if (eg_ctx_status(ctx) != EG_OK) {
            fprintf(stderr, "bwdam_phi: engram error: %s\n", eg_ctx_message(ctx));
            return 1;
        }
        memcpy(sums[vi], j.sum, sizeof j.sum);
        best[vi] *= 1e3;
        printf("%s: engram %.4g ms per step, median of %d call%s; %.4g fastest\n", v->name, ms[vi], reps[vi],
               reps[vi] > 1 ? "s" : "", best[vi]);
        fflush(stdout);
        bench_result(&o, v->name, ms[vi] * 1e-3);
        eg_tensor_free(j.q.mean), eg_tensor_free(j.q.cov);
    }
    bench_peer p;
    if (o.peer) {
        char extra[256] = "";
        if (o.only) { /* the peer knows the base names: phi75, phi750 */
            int want75 = 0, want750 = 0;
            for (int vi = 0; vi < NV; vi++)
                if (bench_selected(&o, VARIANTS[vi].name)) {
                    if (VARIANTS[vi].Q == 75)
                        want75 = 1;
                    else
                        want750 = 1;
                }
            snprintf(extra, sizeof extra, "--only '%s%s%s'", want75 ? "phi75" : "", want75 && want750 ? "," : "",
                     want750 ? "phi750" : "");
        }
        bench_peer_run(&o, "bwdam_phi.py", extra, &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    if (p.ok) {
        bench_peer_print_info(&p);
    } else
        printf("# torch peer unavailable: %s\n", p.why);
    static const char *what[4] = {"m'", "O'", "m'^2", "O'^2"};
    int bad = 0, sv = -1; /* sv: the case of the summary line (the first of phi750, phi750_all, phi75, ...) */
    double tm[NV], tb[NV];
    printf("\n%-10s %10s %10s %10s %10s %8s %8s %10s\n", "case", "engram ms", "best", "torch ms", "best", "ratio",
           "fastest", "check");
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        if (!bench_selected(&o, v->name)) continue;
        char key[64], base[32];
        snprintf(base, sizeof base, "%.*s", (int)strcspn(v->name, "_"), v->name); /* phi750_all -> phi750 */
        snprintf(key, sizeof key, "ms_%s", base);
        tm[vi] = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "best_%s", base);
        tb[vi] = p.ok ? bench_peer_num(&p, key) : NAN;
        double worst = 0;
        int wk = 0;
        for (int k = 0; k < 4 && p.ok; k++) {
            snprintf(key, sizeof key, "sum%d_%s", k, base);
            double e = bench_reldiff(sums[vi][k], bench_peer_num(&p, key));
            if (!(e <= worst)) worst = e, wk = k; /* NaN counts as the worst */
        }
        int ok = !(worst > 1e-9) && worst == worst;
        bad |= !ok;
        char chk[64];
        if (p.ok)
            snprintf(chk, sizeof chk, "%s (%.1e, sum %s)", ok ? "ok" : "MISMATCH", worst, what[wk]);
        else
            snprintf(chk, sizeof chk, "-");
        printf("%-10s %10.4g %10.4g %10.4g %10.4g %7.2fx %7.2fx %s\n", v->name, ms[vi], best[vi], tm[vi], tb[vi],
               tm[vi] / ms[vi], tb[vi] / best[vi], chk);
        if (sv < 0 || (VARIANTS[sv].Q < v->Q)) sv = vi;
    }
    printf("(ratio = torch time / engram time, medians; fastest: of the fastest calls; check: largest relative\n"
           " difference of the sums and sums of squares of m' and O' from torch's, limit 1e-9)\n");
    if (sv >= 0)
        printf("summary: bwdam-%s  engram %.1f ms/step  torch %.1f ms/step  speedup %.2fx  (fastest calls: %.2fx)\n",
               VARIANTS[sv].name, ms[sv], tm[sv], tm[sv] / ms[sv], tb[sv] / best[sv]);
    if (bad) fprintf(stderr, "bench-bwdam_phi: engram's step differs from PyTorch's beyond 1e-9 relative\n");
    eg_tensor_free(j.X.mean), eg_tensor_free(j.X.cov);
    bench_close(backend, ctx);
    return bad;
}
