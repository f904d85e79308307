/* bench/bwdam_phi.c — one BW-DAM Φ step with full covariances (plugins/bwdam), engram
 * vs a batched PyTorch implementation of the same step with torch.linalg.eigh
 * (bench/bwdam_phi.py), float64, β = 1, d = 10, M = 1000 memories:
 *   phi750: 750 queries (the acceptance shape: up to 750 000 pairwise 10 x 10
 *           eigendecompositions per step); phi75: 75 queries (a quick look).
 *   *_all: the plugin's pruning off (every pair eigendecomposed, as the peer does); by
 *   default it skips pairs whose cheap W2² bounds put them beyond 60/β of the nearest.
 * The step: W2² of every (query, memory) pair from tr (Ω^½ Σ_i Ω^½)^½, Gibbs
 * weights, m' = Σ w_i m_i, Ω' = Ω^-½ (Σ_i w_i (Ω^½ Σ_i Ω^½)^½)² Ω^-½.
 * Data (both sides, from bench_value): means 4 v - 2; Σ = W Wᵀ + 0.01 I with
 * W = v - 0.5, rescaled to trace d; memories seeds 1 (means) and 2 (W), queries 3, 4.
 * Correctness: checksums of m' and Ω' against PyTorch's. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "loader.h"
#include "../plugins/bwdam/bwdam.h"

enum { D = 10, M = 1000 };

typedef struct variant {
    const char *name;
    int64_t Q;
    int no_prune; /* 1: eigendecompose every pair, as the PyTorch peer does */
} variant;
static const variant VARIANTS[] = {{"phi75", 75, 0}, {"phi75_all", 75, 1}, {"phi750", 750, 0}, {"phi750_all", 750, 1}};
#define NV ((int)(sizeof VARIANTS / sizeof *VARIANTS))

static __typeof__(eg_bwdam_step) *step_fn;

typedef struct job {
    eg_ctx *ctx;
    int no_prune;
    eg_gauss q, X;
    double sum_m, sum_c;
} job;

static void run(void *arg) {
    job *j = arg;
    eg_bwdam h = {EG_BWDAM_BW, 1.0, 1, 0, 1, 1e-10, 0, j->no_prune};
    eg_scope *s = eg_scope_open(j->ctx);
    eg_gauss n = step_fn(&h, j->q, j->X, NULL, NULL);
    eg_tensor *sm = eg_sum_all(n.mean), *sc = eg_sum_all(n.cov);
    j->sum_m = eg_item(sm), j->sum_c = eg_item(sc); /* downloads: the step is finished */
    eg_scope_close(s);
}

/* n Gaussians: means 4 v - 2 (seed sm), covariances W Wᵀ + 0.01 I rescaled to trace D (seed sw) */
static eg_gauss make(eg_ctx *ctx, int64_t n, int64_t sm, int64_t sw) {
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
    eg_gauss g = {eg_persistent(ctx, EG_F64, EG_DIMS(n, D)), eg_persistent(ctx, EG_F64, EG_DIMS(n, D, D)), 1};
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
    char err[1024];
    eg_model_plugin *plug = NULL;
    if (eg_model_open("bwdam", &plug, err, sizeof err) != EG_OK) {
        fprintf(stderr, "bwdam_phi: %s\n", err);
        return 1;
    }
    step_fn = (__typeof__(step_fn))dlsym(plug->dl, "eg_bwdam_step");
    if (!step_fn) {
        fprintf(stderr, "bwdam_phi: %s does not export eg_bwdam_step\n", plug->path);
        return 1;
    }
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== bwdam_phi: one BW-DAM Φ step, full covariances, float64, d = %d, M = %d memories, beta 1 ==\n", D, M);
    printf("   per (query, memory) pair one %dx%d symmetric eigendecomposition (engram: eg_syev; torch: linalg.eigh)\n",
           D, D);
    bench_print_env(&o, ctx);
    double ms[NV] = {0}, best[NV] = {0}, sm[NV] = {0}, sc[NV] = {0};
    int reps[NV] = {0};
    job j = {.ctx = ctx};
    j.X = make(ctx, M, 1, 2);
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        if (!bench_selected(&o, v->name)) continue;
        j.q = make(ctx, v->Q, 3, 4);
        j.no_prune = v->no_prune;
        run(&j);
        if (eg_ctx_status(ctx) != EG_OK) {
            fprintf(stderr, "bwdam_phi: engram error: %s\n", eg_ctx_message(ctx));
            return 1;
        }
        sm[vi] = j.sum_m, sc[vi] = j.sum_c;
        ms[vi] = 1e3 * bench_median(run, &j, o.seconds, &reps[vi], &best[vi]);
        best[vi] *= 1e3;
        printf("%s: engram %.4g ms per step, median; %.4g best (%d reps)\n", v->name, ms[vi], best[vi], reps[vi]);
        fflush(stdout);
        eg_tensor_free(j.q.mean), eg_tensor_free(j.q.cov);
    }
    bench_peer p;
    if (o.peer) {
        char extra[256] = "";
        if (o.only) { /* the peer knows the base names: phi75, phi750 */
            int want75 = 0, want750 = 0;
            for (int vi = 0; vi < NV; vi++)
                if (bench_selected(&o, VARIANTS[vi].name)) {
                    if (VARIANTS[vi].Q == 75) want75 = 1;
                    else want750 = 1;
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
        char t[64], blas[512];
        bench_peer_str(&p, "torch", t, sizeof t);
        bench_peer_str(&p, "blas", blas, sizeof blas);
        printf("# torch %s, %g threads, BLAS %s\n", t, bench_peer_num(&p, "torch_threads"), blas);
    } else
        printf("# torch peer unavailable: %s\n", p.why);
    int bad = 0;
    printf("\n%-8s %12s %12s %8s %14s %14s\n", "case", "engram ms", "torch ms", "ratio", "sum m' rel", "sum O' rel");
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        if (!bench_selected(&o, v->name)) continue;
        char key[64];
        char base[32];
        snprintf(base, sizeof base, "%.*s", (int)strcspn(v->name, "_"), v->name); /* phi750_all -> phi750 */
        snprintf(key, sizeof key, "ms_%s", base);
        double mt = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "summ_%s", base);
        double em = p.ok ? bench_reldiff(sm[vi], bench_peer_num(&p, key)) : 0;
        snprintf(key, sizeof key, "sumc_%s", base);
        double ec = p.ok ? bench_reldiff(sc[vi], bench_peer_num(&p, key)) : 0;
        bad |= em > 1e-9 || ec > 1e-9;
        printf("%-8s %12.4g %12.4g %7.2fx %14.3g %14.3g\n", v->name, ms[vi], mt, mt / ms[vi], em, ec);
    }
    if (bad) printf("MISMATCH: engram's step differs from PyTorch's beyond 1e-9 relative\n");
    eg_tensor_free(j.X.mean), eg_tensor_free(j.X.cov);
    bench_close(backend, ctx);
    eg_model_close(plug);
    return bad;
}
