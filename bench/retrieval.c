/* bench/retrieval.c — the Hopfield retrieval step, engram vs PyTorch (bench/retrieval.py).
 *
 * Two shapes, 3 iterations each, float32, d = 784:
 *   attention-shaped: one block of B = 1000 queries against M = 1000 memories;
 *   quickstart-shaped: 50 blocks of B = 10 queries against their own M = 100 memories
 *     (configs/quickstart.yaml), one scope per block, the block's result downloaded;
 *   mchn_10k: B = M = 10000 (the GPU target shape), only with --backend other than cpu.
 * Rules:
 *   mchn: q <- softmax(beta q X^T) X                     (Ramsauer et al. 2020, eq. 28)
 *   gmm:  q <- softmax((q X^T - ½‖x‖²) / sigma²) X      (PC-GMM posterior mean; ½‖x‖² once per block)
 * The attention-shaped case spells the rule with the literal ops (eg_matmul_nt, eg_scale,
 * eg_add, eg_softmax, eg_matmul); the quickstart case with the hopfield plugin's ops
 * (the scale folded into eg_gemm's alpha). PyTorch runs the literal code
 * torch.softmax(beta * q @ X.T, -1) @ X under torch.no_grad() for both.
 * An iteration does two GEMMs, 4·B·M·d flops per block; softmax and elementwise work
 * are not counted. Correctness: rows of engram's result against a double-precision
 * loop here, and the checksum of the whole result against PyTorch's (identical inputs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { D = 784, ITERS = 3 };

typedef struct variant {
    const char *name;
    int64_t B, M, blocks; /* queries and memories per block */
    int gmm, plugin_ops, timed;
    double beta, sigma;
    int accel_only; /* 1: run only on an accelerator backend (a second per iteration on 2 CPU cores) */
} variant;

/* With beta = 8 the softmax of this data is one-hot to float precision (the top two scores
 * of a row differ by about 13), so "mchn_check" (not timed) runs beta = 0.1, where about
 * 500 memories share the weight and every part of the update shows in the result. */
static const variant VARIANTS[] = {
    {"mchn", 1000, 1000, 1, 0, 0, 1, 8.0, 1.0, 0},  {"gmm", 1000, 1000, 1, 1, 0, 1, 8.0, 1.0, 0},
    {"qs_mchn", 10, 100, 50, 0, 1, 1, 1.0, 1.0, 0}, {"qs_gmm", 10, 100, 50, 1, 1, 1, 1.0, 1.0, 0},
    {"mchn_check", 1000, 1000, 1, 0, 0, 0, 0.1, 1.0, 0},
    {"mchn_10k", 10000, 10000, 1, 0, 0, 1, 8.0, 1.0, 1}, /* issue 9's GPU shape */
};
#define NV ((int)(sizeof VARIANTS / sizeof *VARIANTS))

typedef struct job {
    eg_ctx *ctx;
    const variant *v;
    eg_tensor *x, *q0; /* [blocks*M, D], [blocks*B, D] */
    float *out;        /* [blocks*B, D] */
    int download;      /* the attention case downloads only for the check */
} job;

static eg_tensor *update(const variant *v, eg_tensor *q, eg_tensor *X, eg_tensor *hn) {
    double inv = 1.0 / (v->sigma * v->sigma);
    eg_tensor *L;
    if (v->plugin_ops) /* as plugins/hopfield/hopfield_mchn_gmm.c */
        L = v->gmm ? eg_add(eg_gemm(q, X, 0, 1, inv), hn) : eg_gemm(q, X, 0, 1, v->beta);
    else
        L = v->gmm ? eg_scale(eg_add(eg_matmul_nt(q, X), hn), inv) : eg_scale(eg_matmul_nt(q, X), v->beta);
    return eg_matmul(eg_softmax(L, -1), X);
}

static void run(void *p) {
    job *j = p;
    const variant *v = j->v;
    eg_no_grad_begin(j->ctx);
    for (int64_t b = 0; b < v->blocks; b++) {
        eg_scope *s = eg_scope_open(j->ctx);
        eg_tensor *X = v->blocks == 1 ? j->x : eg_narrow(j->x, 0, b * v->M, v->M);
        eg_tensor *q = v->blocks == 1 ? j->q0 : eg_narrow(j->q0, 0, b * v->B, v->B);
        eg_tensor *hn = NULL; /* -½‖x‖² per memory, [M] (pre-divided by sigma² for the plugin form) */
        if (v->gmm)
            hn = eg_scale(eg_sumsq(X, -1, 0), v->plugin_ops ? -0.5 / (v->sigma * v->sigma) : -0.5);
        for (int i = 0; i < ITERS; i++) q = update(v, q, X, hn);
        if (j->download || v->blocks > 1) eg_to_host_f32(q, j->out + b * v->B * D);
        eg_ctx_sync(j->ctx);
        eg_scope_close(s);
    }
    eg_no_grad_end(j->ctx);
}

/* double-precision reference for one query row of a block (x: the block's M memories) */
static void reference_row(const variant *v, const float *x, const float *q0, double *q, double *logit) {
    for (int c = 0; c < D; c++) q[c] = q0[c];
    for (int it = 0; it < ITERS; it++) {
        double mx = -INFINITY;
        for (int64_t m = 0; m < v->M; m++) {
            double dot = 0, nn = 0;
            for (int c = 0; c < D; c++) {
                dot += q[c] * x[m * D + c];
                nn += (double)x[m * D + c] * x[m * D + c];
            }
            logit[m] = v->gmm ? (dot - 0.5 * nn) / (v->sigma * v->sigma) : v->beta * dot;
            if (logit[m] > mx) mx = logit[m];
        }
        double z = 0;
        for (int64_t m = 0; m < v->M; m++) z += (logit[m] = exp(logit[m] - mx));
        for (int c = 0; c < D; c++) q[c] = 0;
        for (int64_t m = 0; m < v->M; m++)
            for (int c = 0; c < D; c++) q[c] += logit[m] / z * x[m * D + c];
    }
}

/* max over a few rows (first and last block) of |engram - reference| / max |reference| */
static double check_rows(const variant *v, const float *x, const float *q0, const float *out) {
    const int64_t B = v->B, nb = v->blocks;
    const int64_t rows[] = {0, 1, 2, B / 2, B - 2, B - 1, (nb - 1) * B, nb * B - 1};
    double *q = malloc(sizeof *q * D), *logit = malloc(sizeof *logit * (size_t)v->M);
    double err = 0, scale = 0;
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        int64_t row = rows[r], blk = row / B;
        reference_row(v, x + blk * v->M * D, q0 + row * D, q, logit);
        for (int c = 0; c < D; c++) {
            double e = fabs(out[row * D + c] - q[c]);
            if (e > err) err = e;
            if (fabs(q[c]) > scale) scale = fabs(q[c]);
        }
    }
    free(q), free(logit);
    return err / (scale > 0 ? scale : 1);
}

/* identical data on both sides: memories X = value(i, 1) over [blocks*M, D]; query j of
 * block b = ½ X[b*M + (7j mod M)] + ½ value(i, 2) */
static void make_data(const variant *v, float *x, float *q0) {
    int64_t nq = v->blocks * v->B;
    bench_fill(x, v->blocks * v->M * D, 1);
    bench_fill(q0, nq * D, 2);
    for (int64_t j = 0; j < nq; j++) {
        int64_t b = j / v->B, mrow = b * v->M + (7 * (j % v->B)) % v->M;
        for (int c = 0; c < D; c++) q0[j * D + c] = 0.5f * x[mrow * D + c] + 0.5f * q0[j * D + c];
    }
}

typedef struct result {
    double ms, best, ms_torch, best_torch; /* per iteration of one block */
    double row_err, sum, sum_torch;
    int reps, ran;
} result;

static eg_tensor *persistent_from(eg_ctx *ctx, int64_t r, const float *data) {
    eg_tensor *t = eg_persistent(ctx, EG_F32, EG_DIMS(r, D));
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(t, eg_from_f32(ctx, EG_F32, EG_DIMS(r, D), data));
    eg_scope_close(s);
    return t;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-retrieval", "Hopfield retrieval step (mchn, gmm): engram vs PyTorch", &o,
                    &status))
        return status;
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;
    printf("== retrieval: %d iterations of the Hopfield update, float32, d = %d ==\n", ITERS, D);
    printf("   mchn: q <- softmax(beta q X^T) X;  gmm: q <- softmax((q X^T - ½|x|²)/sigma²) X\n");
    printf("   mchn, gmm: B=1000 queries x M=1000 memories (beta 8, sigma 1); qs_*: quickstart shape, 50 blocks\n"
           "   of B=10 queries x M=100 memories, a scope per block (beta 1, sigma 1)\n");
    bench_print_env(&o, ctx);

    result res[NV];
    memset(res, 0, sizeof res);
    int bad = 0;
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        result *r = &res[vi];
        if (!bench_selected(&o, v->name)) continue;
        if (v->accel_only && !strcmp(o.backend, "cpu")) {
            printf("%s: skipped on the cpu backend (accelerator shape; --backend cuda)\n", v->name);
            continue;
        }
        r->ran = 1;
        int64_t nx = v->blocks * v->M * D, nq = v->blocks * v->B * D;
        float *x = malloc(sizeof(float) * (size_t)nx), *q0 = malloc(sizeof(float) * (size_t)nq);
        float *out = malloc(sizeof(float) * (size_t)nq);
        if (!x || !q0 || !out) {
            fprintf(stderr, "retrieval: out of host memory\n");
            return 1;
        }
        make_data(v, x, q0);
        job j = {.ctx = ctx, .v = v, .out = out, .download = 1};
        j.x = persistent_from(ctx, v->blocks * v->M, x);
        j.q0 = persistent_from(ctx, v->blocks * v->B, q0);
        run(&j);
        j.download = 0;
        if (eg_ctx_status(ctx) != EG_OK) {
            fprintf(stderr, "retrieval: engram error: %s\n", eg_ctx_message(ctx));
            return 1;
        }
        r->sum = bench_checksum(out, nq);
        r->row_err = check_rows(v, x, q0, out);
        if (v->timed) {
            double per = 1e3 / (double)(ITERS * v->blocks);
            r->ms = bench_median(run, &j, o.seconds, &r->reps, &r->best) * per;
            r->best *= per;
            printf("%s: engram %.4g ms per iteration per block, median; %.4g best (%d reps)\n", v->name, r->ms,
                   r->best, r->reps);
            char cname[64];
            snprintf(cname, sizeof cname, "retrieval-%s", v->name);
            bench_result(&o, cname, r->ms * 1e-3);
            fflush(stdout);
        }
        eg_tensor_free(j.x);
        eg_tensor_free(j.q0);
        free(x), free(q0), free(out);
    }

    bench_peer p;
    if (o.peer) {
        char extra[256] = "";
        if (o.only) snprintf(extra, sizeof extra, "--only '%.200s'", o.only);
        bench_peer_run(&o, "retrieval.py", extra, &p);
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    if (p.ok) {
        bench_peer_print_info(&p);
    } else {
        printf("# torch peer unavailable: %s\n", p.why);
    }

    /* TF32 GEMMs (ENGRAM_CUDA_TF32=1) round the inputs to 10 mantissa bits: about 5e-4 relative */
    const char *tf32 = getenv("ENGRAM_CUDA_TF32");
    double limit = strcmp(o.backend, "cpu") && tf32 && *tf32 && strcmp(tf32, "0") ? 1e-3 : 1e-4;
    printf("\ncheck (limit %g relative%s; mchn_check is mchn at beta 0.1):\n", limit,
           limit > 1e-4 ? ", TF32 GEMMs" : "");
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        result *r = &res[vi];
        char key[64];
        if (!r->ran) continue;
        snprintf(key, sizeof key, "ms_%s", v->name);
        r->ms_torch = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "best_%s", v->name);
        r->best_torch = p.ok ? bench_peer_num(&p, key) : NAN;
        snprintf(key, sizeof key, "sum_%s", v->name);
        r->sum_torch = p.ok ? bench_peer_num(&p, key) : NAN;
        int have = p.ok && !isnan(r->sum_torch); /* the peer has no accelerator-only shapes */
        double e = have ? bench_reldiff(r->sum, r->sum_torch) : 0;
        int ok = r->row_err <= limit && e <= limit;
        bad |= !ok;
        printf("  %-10s rows vs double reference %.1e; checksum %.6e vs torch %.6e: %.1e%s  %s\n", v->name,
               r->row_err, r->sum, r->sum_torch, e, have ? "" : " (n/a)", ok ? "ok" : "MISMATCH");
    }

    printf("\n%-8s %-16s %13s %13s %11s %10s %8s %13s\n", "variant", "shape B×M×blocks", "engram ms/it", "torch ms/it",
           "engram GF/s", "torch GF/s", "speedup", "(best calls)");
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        const result *r = &res[vi];
        if (!v->timed || !r->ran) continue;
        double gf = 4.0 * (double)(v->B * v->M * D) * 1e-9;
        char sh[48];
        snprintf(sh, sizeof sh, "%lldx%lldx%lld", (long long)v->B, (long long)v->M, (long long)v->blocks);
        printf("%-8s %-16s %13.4g %13.4g %11.1f %10.1f %7.2fx %12.2fx\n", v->name, sh, r->ms, r->ms_torch,
               gf / (r->ms * 1e-3), gf / (r->ms_torch * 1e-3), r->ms_torch / r->ms, r->best_torch / r->best);
    }
    printf("(ms per iteration of one block, median; speedup = torch time / engram time; target >= 1.80x)\n");
    for (int vi = 0; vi < NV; vi++) {
        const variant *v = &VARIANTS[vi];
        const result *r = &res[vi];
        if (!v->timed || !r->ran) continue;
        double gf = 4.0 * (double)(v->B * v->M * D) * 1e-9;
        printf("summary: retrieval-%s  engram %.4g ms/it (%.1f GFLOP/s)  torch %.4g ms/it (%.1f GFLOP/s)  "
               "speedup %.2fx  (fastest calls: %.2fx)\n",
               v->name, r->ms, gf / (r->ms * 1e-3), r->ms_torch, gf / (r->ms_torch * 1e-3), r->ms_torch / r->ms,
               r->best_torch / r->best);
    }
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-retrieval: results disagree (see check above)\n");
    return bad ? 1 : 0;
}
