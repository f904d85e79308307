/* bench/gemm.c — float32 GEMM throughput: engram (eg_matmul on tensors, and the backend's
 * gemm kernel called directly) against raw OpenBLAS cblas_sgemm (this machine's peak
 * reference) and torch.mm (bench/gemm.py), same shapes and data, same invocation.
 * Shapes are m×k×n: C[m,n] = A[m,k] · B[k,n], 2·m·k·n flops. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "common.h"

typedef struct shape {
    int64_t m, k, n;
} shape;

static const shape SHAPES[] = {{1024, 1024, 1024}, {256, 256, 256}, {4096, 784, 1000}};
#define NSHAPES ((int)(sizeof SHAPES / sizeof *SHAPES))

static int selected(const bench_opts *o, int si) {
    char name[64];
    snprintf(name, sizeof name, "%lldx%lldx%lld", (long long)SHAPES[si].m, (long long)SHAPES[si].k,
             (long long)SHAPES[si].n);
    return bench_selected(o, name);
}

typedef struct job {
    shape s;
    /* host copies (cblas) */
    float *a, *b, *c;
    /* engram tensors */
    eg_ctx *ctx;
    eg_tensor *ta, *tb;
    /* backend buffers for the direct kernel call */
    const eg_backend_desc *desc;
    void *inst;
    void *da, *db, *dc;
} job;

static void run_cblas(void *p) {
    job *j = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->s.m, (int)j->s.n, (int)j->s.k, 1.0f, j->a,
                (int)j->s.k, j->b, (int)j->s.n, 0.0f, j->c, (int)j->s.n);
}

static eg_gemm_args backend_args(const job *j) {
    eg_gemm_args g;
    memset(&g, 0, sizeof g);
    g.dtype = EG_F32;
    g.m = j->s.m, g.n = j->s.n, g.k = j->s.k;
    g.alpha = 1.0, g.beta = 0.0;
    g.a = j->da, g.lda = j->s.k;
    g.b = j->db, g.ldb = j->s.n;
    g.c = j->dc, g.ldc = j->s.n;
    g.batch = 1;
    return g;
}

static void run_backend(void *p) {
    job *j = p;
    eg_gemm_args g = backend_args(j);
    if (j->desc->gemm(j->inst, &g) != EG_OK) fprintf(stderr, "gemm: backend gemm failed\n");
    j->desc->sync(j->inst);
}

static void run_matmul(void *p) {
    job *j = p;
    eg_scope *s = eg_scope_open(j->ctx);
    eg_matmul(j->ta, j->tb);
    eg_ctx_sync(j->ctx);
    eg_scope_close(s);
}

/* a persistent tensor holding host data */
static eg_tensor *persistent_from(eg_ctx *ctx, int64_t r, int64_t c, const float *data) {
    eg_tensor *t = eg_persistent(ctx, EG_F32, EG_DIMS(r, c));
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(t, eg_from_f32(ctx, EG_F32, EG_DIMS(r, c), data));
    eg_scope_close(s);
    return t;
}

typedef struct result {
    double peak, backend, matmul, torch; /* GFLOP/s of the median call */
    double best[4];                      /* GFLOP/s of the fastest call: cblas, backend, eg_matmul, torch */
    double sum_peak, sum_backend, sum_matmul, sum_torch;
    int reps[3];
} result;

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-gemm",
                    "float32 GEMM GFLOP/s: engram vs OpenBLAS cblas_sgemm (peak) vs torch.mm", &o, &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    openblas_set_num_threads(o.threads);
    printf("== gemm: float32 C[m,n] = A[m,k]·B[k,n], shapes m×k×n ==\n");
    bench_print_env(&o, ctx);
    printf("# OpenBLAS: %s, %d threads\n", openblas_get_config(), openblas_get_num_threads());

    result res[NSHAPES];
    memset(res, 0, sizeof res);
    int bad = 0;
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        job j;
        memset(&j, 0, sizeof j);
        j.s = SHAPES[si];
        int64_t m = j.s.m, k = j.s.k, n = j.s.n;
        double flops = 2.0 * (double)m * (double)k * (double)n;
        j.a = malloc(sizeof(float) * (size_t)(m * k));
        j.b = malloc(sizeof(float) * (size_t)(k * n));
        j.c = malloc(sizeof(float) * (size_t)(m * n));
        if (!j.a || !j.b || !j.c) {
            fprintf(stderr, "gemm: out of host memory\n");
            return 1;
        }
        bench_fill(j.a, m * k, 1);
        bench_fill(j.b, k * n, 2);
        j.ctx = ctx;
        j.ta = persistent_from(ctx, m, k, j.a);
        j.tb = persistent_from(ctx, k, n, j.b);
        j.desc = eg_ctx_backend_desc(ctx);
        j.inst = eg_ctx_backend_instance(ctx);
        if (j.desc->alloc(j.inst, sizeof(float) * (size_t)(m * k), &j.da) ||
            j.desc->alloc(j.inst, sizeof(float) * (size_t)(k * n), &j.db) ||
            j.desc->alloc(j.inst, sizeof(float) * (size_t)(m * n), &j.dc)) {
            fprintf(stderr, "gemm: backend alloc failed\n");
            return 1;
        }
        j.desc->upload(j.inst, j.da, j.a, sizeof(float) * (size_t)(m * k));
        j.desc->upload(j.inst, j.db, j.b, sizeof(float) * (size_t)(k * n));
        if (eg_ctx_status(ctx) != EG_OK) {
            fprintf(stderr, "gemm: engram error: %s\n", eg_ctx_message(ctx));
            return 1;
        }

        result *r = &res[si];
        double tb;
        r->peak = flops / bench_median(run_cblas, &j, o.seconds, &r->reps[0], &tb) * 1e-9;
        r->best[0] = flops / tb * 1e-9;
        r->sum_peak = bench_checksum(j.c, m * n);
        r->backend = flops / bench_median(run_backend, &j, o.seconds, &r->reps[1], &tb) * 1e-9;
        r->best[1] = flops / tb * 1e-9;
        j.desc->download(j.inst, j.c, j.dc, sizeof(float) * (size_t)(m * n));
        r->sum_backend = bench_checksum(j.c, m * n);
        double tm = bench_median(run_matmul, &j, o.seconds, &r->reps[2], &tb);
        r->matmul = flops / tm * 1e-9;
        char cname[64];
        snprintf(cname, sizeof cname, "gemm-%lldx%lldx%lld", (long long)SHAPES[si].m, (long long)SHAPES[si].k,
                 (long long)SHAPES[si].n);
        bench_result(&o, cname, tm);
        r->best[2] = flops / tb * 1e-9;
        {
            eg_scope *s = eg_scope_open(ctx);
            eg_to_host_f32(eg_matmul(j.ta, j.tb), j.c);
            eg_scope_close(s);
        }
        r->sum_matmul = bench_checksum(j.c, m * n);
        if (eg_ctx_status(ctx) != EG_OK) {
            fprintf(stderr, "gemm: engram error: %s\n", eg_ctx_message(ctx));
            return 1;
        }
        printf("%lldx%lldx%lld GFLOP/s, median (best) of reps: cblas_sgemm %.1f (%.1f) of %d, backend.gemm %.1f "
               "(%.1f) of %d, eg_matmul %.1f (%.1f) of %d\n",
               (long long)m, (long long)k, (long long)n, r->peak, r->best[0], r->reps[0], r->backend, r->best[1],
               r->reps[1], r->matmul, r->best[2], r->reps[2]);
        fflush(stdout);
        j.desc->free(j.inst, j.da);
        j.desc->free(j.inst, j.db);
        j.desc->free(j.inst, j.dc);
        eg_tensor_free(j.ta);
        eg_tensor_free(j.tb);
        free(j.a), free(j.b), free(j.c);
    }

    /* the PyTorch peer: all shapes in one process */
    char extra[256] = "--shapes ", key[64];
    const char *sep = "";
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s%lldx%lldx%lld", sep,
                 (long long)SHAPES[si].m, (long long)SHAPES[si].k, (long long)SHAPES[si].n);
        sep = ",";
    }
    bench_peer p;
    if (o.peer) {
        bench_peer_run(&o, "gemm.py", extra, &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    if (p.ok) {
        bench_peer_print_info(&p);
    } else {
        printf("# torch peer unavailable: %s\n", p.why);
    }
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        const shape *s = &SHAPES[si];
        snprintf(key, sizeof key, "gflops_%lldx%lldx%lld", (long long)s->m, (long long)s->k, (long long)s->n);
        res[si].torch = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "sum_%lldx%lldx%lld", (long long)s->m, (long long)s->k, (long long)s->n);
        res[si].sum_torch = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "best_%lldx%lldx%lld", (long long)s->m, (long long)s->k, (long long)s->n);
        res[si].best[3] = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "reps_%lldx%lldx%lld", (long long)s->m, (long long)s->k, (long long)s->n);
        if (p.ok)
            printf("%lldx%lldx%lld GFLOP/s, median (best): torch.mm %.1f (%.1f) of %g\n", (long long)s->m,
                   (long long)s->k, (long long)s->n, res[si].torch, res[si].best[3], bench_peer_num(&p, key));
    }

    /* correctness: every result's checksum against cblas's (same inputs), 1e-4 relative */
    printf("\ncheck (sum of C, relative to cblas_sgemm; limit 1e-4):\n");
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        const result *r = &res[si];
        double e1 = bench_reldiff(r->sum_backend, r->sum_peak), e2 = bench_reldiff(r->sum_matmul, r->sum_peak);
        double e3 = p.ok ? bench_reldiff(r->sum_torch, r->sum_peak) : 0;
        int ok = e1 <= 1e-4 && e2 <= 1e-4 && e3 <= 1e-4;
        bad |= !ok;
        printf("  %lldx%lldx%lld: backend %.1e  eg_matmul %.1e  torch %s%.1e  %s\n", (long long)SHAPES[si].m,
               (long long)SHAPES[si].k, (long long)SHAPES[si].n, e1, e2, p.ok ? "" : "(n/a) ", e3,
               ok ? "ok" : "MISMATCH");
    }

    printf("\n%-16s %11s %12s %10s %9s %12s %13s\n", "shape m×k×n", "cblas(peak)", "backend.gemm", "eg_matmul",
           "torch.mm", "engram/peak", "engram/torch");
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        const result *r = &res[si];
        char sh[48];
        snprintf(sh, sizeof sh, "%lldx%lldx%lld", (long long)SHAPES[si].m, (long long)SHAPES[si].k,
                 (long long)SHAPES[si].n);
        printf("%-16s %11.1f %12.1f %10.1f %9.1f %12.2f %13.2f\n", sh, r->peak, r->backend, r->matmul, r->torch,
               r->matmul / r->peak, r->matmul / r->torch);
    }
    printf("(GFLOP/s, median; engram = eg_matmul on tensors inside a scope)\n");
    for (int si = 0; si < NSHAPES; si++) {
        if (!selected(&o, si)) continue;
        const result *r = &res[si];
        printf("summary: gemm %lldx%lldx%lld  engram %.1f GFLOP/s  peak %.1f  torch %.1f  engram/peak %.2f  "
               "engram/torch %.2f  (fastest calls: %.2f, %.2f)\n",
               (long long)SHAPES[si].m, (long long)SHAPES[si].k, (long long)SHAPES[si].n, r->matmul, r->peak,
               r->torch, r->matmul / r->peak, r->matmul / r->torch, r->best[2] / r->best[0], r->best[2] / r->best[3]);
    }
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-gemm: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
