/* test_cuda_backend.c — the CUDA backend beyond the conformance suite's small shapes:
 *  - device_name reads "<name> (sm_XY, N.N GiB)";
 *  - the caching allocator hands a freed block back (no cudaMalloc per op) and an
 *    impossible allocation is EG_ERR_NOMEM, after which the backend still works;
 *  - a bad gather index is EG_ERR_INVALID and leaves the backend usable;
 *  - large shapes that take the other kernel paths (block-per-row softmax and
 *    reductions, tiled permute, chunked convolution, syevd for n > 32, big GEMM)
 *    agree with the CPU backend: GEMM/conv within 2e-5 of the largest |value|
 *    (full FP32; ENGRAM_CUDA_TF32 must be unset), elementwise/softmax within
 *    rtol 1e-5 / atol 1e-6, layout kernels exactly;
 *  - running the same softmax and reduction twice gives identical bits.
 * Skips (77) with the reason when CUDA cannot run here. */
#include "gpu_pair.h"

static void test_identity(gp_pair *p) {
    const char *nm = p->gpu.d->device_name(p->gpu.ctx);
    const char *sm = strstr(nm, " (sm_"), *gib = strstr(nm, " GiB)");
    CHECK_MSG(sm && gib && gib > sm, "device_name \"%s\" lacks \"(sm_XY, N GiB)\"", nm);
    CHECK(strcmp(p->gpu.d->name, "cuda") == 0);
}

static void test_alloc(gp_pair *p) {
    gp_backend *g = &p->gpu;
    void *a = NULL, *b = NULL;
    CHECK(g->d->alloc(g->ctx, 1000000, &a) == EG_OK);
    g->d->free(g->ctx, a);
    CHECK(g->d->alloc(g->ctx, 1000000, &b) == EG_OK);
    CHECK_MSG(a == b, "a freed 1 MB block was not reused (%p then %p)", a, b);
    g->d->free(g->ctx, b);
    /* steady state: the same sequence of sizes gets the same blocks back */
    static const size_t sizes[] = {4, 4096, 70000, 1 << 20, 3 << 20, 123457};
    void *first[6], *again[6];
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < 6; i++)
            CHECK(g->d->alloc(g->ctx, sizes[i], r ? &again[i] : &first[i]) == EG_OK);
        for (int i = 5; i >= 0; i--)
            g->d->free(g->ctx, r ? again[i] : first[i]);
    }
    int same = 1;
    for (int i = 0; i < 6; i++)
        same &= first[i] == again[i];
    CHECK_MSG(same, "the second round of allocations did not reuse the cached blocks");
    /* out of memory is a status; afterwards the device still computes */
    void *huge = NULL;
    eg_status st = g->d->alloc(g->ctx, (size_t)1 << 46, &huge);
    CHECK_MSG(st == EG_ERR_NOMEM && !huge, "alloc(64 TiB): %s", eg_strerror(st));
    st = g->d->alloc(g->ctx, (size_t)1 << 40, &huge); /* reaches cudaMalloc, which fails */
    CHECK_MSG(st == EG_ERR_NOMEM && !huge, "alloc(1 TiB): %s", eg_strerror(st));
    void *x = gp_dev(g, NULL, 4096 * 4);
    CHECK(g->d->fill(g->ctx, EG_F32, x, 4096, 2.5) == EG_OK);
    double *v = gp_get(g, EG_F32, x, 4096);
    CHECK_MSG(v[0] == 2.5 && v[4095] == 2.5, "fill after an out-of-memory: %g %g", v[0], v[4095]);
    free(v);
    g->d->free(g->ctx, x);
}

static void test_bad_index(gp_pair *p) {
    gp_backend *g = &p->gpu;
    int32_t idx[3] = {0, 5, 9};
    float xs[9] = {0};
    void *dx = gp_dev(g, xs, sizeof xs), *di = gp_dev(g, idx, sizeof idx), *dout = gp_dev(g, NULL, 3 * 4);
    eg_status st = g->d->gather(g->ctx, EG_F32, 1, 9, 1, dx, 1, 3, di, dout);
    CHECK_MSG(st == EG_ERR_INVALID, "gather with index 9 of 9: %s", eg_strerror(st));
    idx[2] = 8;
    CHECK(g->d->upload(g->ctx, di, idx, sizeof idx) == EG_OK);
    CHECK(g->d->gather(g->ctx, EG_F32, 1, 9, 1, dx, 1, 3, di, dout) == EG_OK);
    CHECK(g->d->sync(g->ctx) == EG_OK);
    g->d->free(g->ctx, dx), g->d->free(g->ctx, di), g->d->free(g->ctx, dout);
}

/* ---- large shapes, CUDA vs CPU ---- */

typedef struct buf2 {
    void *g, *c;
} buf2;

static buf2 both(gp_pair *p, const void *h, size_t bytes) {
    buf2 b = {gp_dev(&p->gpu, h, bytes), gp_dev(&p->cpu, h, bytes)};
    return b;
}
static void free2(gp_pair *p, buf2 b) {
    p->gpu.d->free(p->gpu.ctx, b.g);
    p->cpu.d->free(p->cpu.ctx, b.c);
}
/* download both, compare, free the host copies */
static void cmp2(gp_pair *p, const char *what, buf2 b, eg_dtype dt, int64_t n, double atol, double rtol, int scaled) {
    double *g = gp_get(&p->gpu, dt, b.g, n), *c = gp_get(&p->cpu, dt, b.c, n);
    if (scaled)
        gp_cmp_scaled(what, g, c, n, atol);
    else
        gp_cmp(what, g, c, n, atol, rtol);
    free(g), free(c);
}

static void test_gemm_big(gp_pair *p) {
    int64_t m = 1000, n = 1000, k = 784;
    void *ha = gp_host_rand(EG_F32, m * k, -1, 1), *hb = gp_host_rand(EG_F32, n * k, -1, 1);
    buf2 a = both(p, ha, (size_t)(m * k) * 4), b = both(p, hb, (size_t)(n * k) * 4), c = both(p, NULL, (size_t)(m * n) * 4);
    eg_gemm_args ga = {EG_F32, 0, 1, m, n, k, 1.0, 0.0, a.g, k, 0, b.g, k, 0, c.g, n, 0, 1};
    eg_gemm_args gc = ga;
    gc.a = a.c, gc.b = b.c, gc.c = c.c;
    CHECK(p->gpu.d->gemm(p->gpu.ctx, &ga) == EG_OK && p->cpu.d->gemm(p->cpu.ctx, &gc) == EG_OK);
    cmp2(p, "gemm 1000x1000x784 NT", c, EG_F32, m * n, 2e-5, 0, 1);
    free2(p, a), free2(p, b), free2(p, c);
    free(ha), free(hb);
}

static void test_rows_big(gp_pair *p) {
    int64_t outer = 64, len = 100000, n = outer * len; /* len > 2048: one block per row */
    void *hx = gp_host_rand(EG_F32, n, -20, 20), *hg = gp_host_rand(EG_F32, n, -1, 1);
    buf2 x = both(p, hx, (size_t)n * 4), y = both(p, NULL, (size_t)n * 4), g = both(p, hg, (size_t)n * 4);
    buf2 dx = both(p, NULL, (size_t)n * 4), r = both(p, NULL, (size_t)outer * 4);
    for (int lg = 0; lg < 2; lg++) {
        CHECK(p->gpu.d->softmax(p->gpu.ctx, lg, EG_F32, outer, len, 1, x.g, y.g) == EG_OK);
        CHECK(p->cpu.d->softmax(p->cpu.ctx, lg, EG_F32, outer, len, 1, x.c, y.c) == EG_OK);
        cmp2(p, lg ? "log_softmax [64,100000]" : "softmax [64,100000]", y, EG_F32, n, lg ? 2e-5 : 1e-9, 1e-5, 0);
        /* the same call twice: identical bits */
        double *a1 = gp_get(&p->gpu, EG_F32, y.g, n);
        CHECK(p->gpu.d->softmax(p->gpu.ctx, lg, EG_F32, outer, len, 1, x.g, y.g) == EG_OK);
        double *a2 = gp_get(&p->gpu, EG_F32, y.g, n);
        CHECK_MSG(memcmp(a1, a2, (size_t)n * sizeof *a1) == 0, "softmax is not deterministic (lg=%d)", lg);
        free(a1), free(a2);
        CHECK(p->gpu.d->softmax_backward(p->gpu.ctx, lg, EG_F32, outer, len, 1, y.g, g.g, dx.g) == EG_OK);
        CHECK(p->cpu.d->softmax_backward(p->cpu.ctx, lg, EG_F32, outer, len, 1, y.c, g.c, dx.c) == EG_OK);
        cmp2(p, lg ? "log_softmax backward [64,100000]" : "softmax backward [64,100000]", dx, EG_F32, n, 1e-5, 1e-4,
             0);
    }
    static const char *rn[] = {"sum", "max", "logsumexp", "min", "sumsq"};
    for (int op = 0; op < EG_RED_COUNT; op++) {
        char what[64];
        snprintf(what, sizeof what, "reduce %s [64,100000,1]", rn[op]);
        CHECK(p->gpu.d->reduce(p->gpu.ctx, (eg_reduce_op)op, EG_F32, outer, len, 1, x.g, r.g) == EG_OK);
        CHECK(p->cpu.d->reduce(p->cpu.ctx, (eg_reduce_op)op, EG_F32, outer, len, 1, x.c, r.c) == EG_OK);
        cmp2(p, what, r, EG_F32, outer, op == EG_RED_SUM || op == EG_RED_SUMSQ ? 1e-2 : 1e-6, 1e-5, 0);
    }
    /* columns: [4, 200, 8000] over the middle axis (x holds 6.4M elements) */
    int64_t O = 4, L = 200, I = 8000;
    CHECK(p->gpu.d->reduce(p->gpu.ctx, EG_RED_LOGSUMEXP, EG_F32, O, L, I, x.g, y.g) == EG_OK);
    CHECK(p->cpu.d->reduce(p->cpu.ctx, EG_RED_LOGSUMEXP, EG_F32, O, L, I, x.c, y.c) == EG_OK);
    cmp2(p, "reduce logsumexp [4,200,8000]", y, EG_F32, O * I, 1e-5, 1e-5, 0);
    free2(p, x), free2(p, y), free2(p, g), free2(p, dx), free2(p, r);
    free(hx), free(hg);
}

static void test_layout_big(gp_pair *p) {
    int64_t shape[3] = {64, 1000, 784}, n = 64 * 1000 * 784;
    static const int perms[3][3] = {{0, 2, 1}, {2, 1, 0}, {1, 0, 2}};
    void *hx = gp_host_rand(EG_F32, n, -1, 1);
    buf2 x = both(p, hx, (size_t)n * 4), y = both(p, NULL, (size_t)n * 4);
    for (int k = 0; k < 3; k++) {
        char what[64];
        snprintf(what, sizeof what, "permute [64,1000,784] (%d,%d,%d)", perms[k][0], perms[k][1], perms[k][2]);
        CHECK(p->gpu.d->permute(p->gpu.ctx, EG_F32, 3, shape, perms[k], x.g, y.g) == EG_OK);
        CHECK(p->cpu.d->permute(p->cpu.ctx, EG_F32, 3, shape, perms[k], x.c, y.c) == EG_OK);
        cmp2(p, what, y, EG_F32, n, 0, 0, 0);
    }
    /* scatter_add with heavy repetition: 200000 rows into 100 */
    int64_t ni = 200000, inner = 16;
    int32_t *idx = malloc((size_t)ni * sizeof *idx);
    for (int64_t j = 0; j < ni; j++)
        idx[j] = (int32_t)gp_u(0, 100);
    buf2 di = both(p, idx, (size_t)ni * 4), out = both(p, NULL, 100 * 16 * 4);
    CHECK(p->gpu.d->fill(p->gpu.ctx, EG_F32, out.g, 100 * 16, 0) == EG_OK);
    CHECK(p->cpu.d->fill(p->cpu.ctx, EG_F32, out.c, 100 * 16, 0) == EG_OK);
    CHECK(p->gpu.d->scatter_add(p->gpu.ctx, EG_F32, 1, 100, inner, x.g, 1, ni, di.g, out.g) == EG_OK);
    CHECK(p->cpu.d->scatter_add(p->cpu.ctx, EG_F32, 1, 100, inner, x.c, 1, ni, di.c, out.c) == EG_OK);
    cmp2(p, "scatter_add 200000 -> 100 rows", out, EG_F32, 100 * 16, 5e-3, 1e-4, 0);
    free2(p, x), free2(p, y), free2(p, di), free2(p, out);
    free(hx), free(idx);
}

static void test_conv_big(gp_pair *p) {
    eg_conv_args a = {EG_F32, 64, 16, 28, 28, 32, 3, 3, 14, 14, 2, 2, 1, 1, 1, 1, 0};
    int64_t nx = 64 * 16 * 28 * 28, nw = 32 * 16 * 9, ny = 64 * 32 * 14 * 14;
    void *hx = gp_host_rand(EG_F32, nx, -1, 1), *hw = gp_host_rand(EG_F32, nw, -1, 1), *hg = gp_host_rand(EG_F32, ny, -1, 1);
    buf2 x = both(p, hx, (size_t)nx * 4), w = both(p, hw, (size_t)nw * 4), g = both(p, hg, (size_t)ny * 4);
    buf2 y = both(p, NULL, (size_t)ny * 4), dx = both(p, NULL, (size_t)nx * 4), dw = both(p, NULL, (size_t)nw * 4);
    CHECK(p->gpu.d->conv_forward(p->gpu.ctx, &a, x.g, w.g, y.g) == EG_OK);
    CHECK(p->cpu.d->conv_forward(p->cpu.ctx, &a, x.c, w.c, y.c) == EG_OK);
    cmp2(p, "conv_forward 64x16x28x28 -> 32, 3x3 s2 p1", y, EG_F32, ny, 2e-5, 0, 1);
    CHECK(p->gpu.d->conv_backward_input(p->gpu.ctx, &a, w.g, g.g, dx.g) == EG_OK);
    CHECK(p->cpu.d->conv_backward_input(p->cpu.ctx, &a, w.c, g.c, dx.c) == EG_OK);
    cmp2(p, "conv_backward_input", dx, EG_F32, nx, 2e-5, 0, 1);
    CHECK(p->gpu.d->conv_backward_weight(p->gpu.ctx, &a, x.g, g.g, dw.g) == EG_OK);
    CHECK(p->cpu.d->conv_backward_weight(p->cpu.ctx, &a, x.c, g.c, dw.c) == EG_OK);
    cmp2(p, "conv_backward_weight", dw, EG_F32, nw, 2e-5, 0, 1);
    free2(p, x), free2(p, w), free2(p, g), free2(p, y), free2(p, dx), free2(p, dw);
    free(hx), free(hw), free(hg);
}

static void test_upsample_big(gp_pair *p) {
    eg_upsample_args u = {EG_F32, EG_UPSAMPLE_BILINEAR, 0, 192, 32, 32, 64, 64};
    int64_t nx = 192 * 32 * 32, ny = 192 * 64 * 64;
    void *hx = gp_host_rand(EG_F32, nx, -1, 1), *hg = gp_host_rand(EG_F32, ny, -1, 1);
    buf2 x = both(p, hx, (size_t)nx * 4), g = both(p, hg, (size_t)ny * 4);
    buf2 y = both(p, NULL, (size_t)ny * 4), dx = both(p, NULL, (size_t)nx * 4);
    for (int mode = 0; mode < 3; mode++) {
        u.mode = mode == 0 ? EG_UPSAMPLE_NEAREST : EG_UPSAMPLE_BILINEAR;
        u.align_corners = mode == 2;
        char what[80];
        snprintf(what, sizeof what, "upsample %s [192,32,32] -> 64x64", mode == 0 ? "nearest" : mode == 1 ? "bilinear" : "bilinear ac");
        CHECK(p->gpu.d->upsample(p->gpu.ctx, &u, x.g, y.g) == EG_OK);
        CHECK(p->cpu.d->upsample(p->cpu.ctx, &u, x.c, y.c) == EG_OK);
        cmp2(p, what, y, EG_F32, ny, 1e-6, 1e-5, 0);
        CHECK(p->gpu.d->upsample_backward(p->gpu.ctx, &u, g.g, dx.g) == EG_OK);
        CHECK(p->cpu.d->upsample_backward(p->cpu.ctx, &u, g.c, dx.c) == EG_OK);
        cmp2(p, "upsample backward", dx, EG_F32, nx, 1e-5, 1e-5, 0);
    }
    free2(p, x), free2(p, g), free2(p, y), free2(p, dx);
    free(hx), free(hg);
}

static void test_syev_big(gp_pair *p) {
    static const int64_t cases[][2] = {{100, 16}, {3, 100}};
    for (int k = 0; k < 2; k++) {
        int64_t batch = cases[k][0], n = cases[k][1], nn = n * n;
        double *a = malloc((size_t)(batch * nn) * sizeof *a);
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j <= i; j++)
                    a[b * nn + i * n + j] = a[b * nn + j * n + i] = gp_u(-1, 1);
        buf2 da = both(p, a, (size_t)(batch * nn) * 8), w = both(p, NULL, (size_t)(batch * n) * 8);
        buf2 v = both(p, NULL, (size_t)(batch * nn) * 8);
        CHECK(p->gpu.d->syev(p->gpu.ctx, EG_F64, batch, n, da.g, w.g, v.g) == EG_OK);
        CHECK(p->cpu.d->syev(p->cpu.ctx, EG_F64, batch, n, da.c, w.c, v.c) == EG_OK);
        char what[64];
        snprintf(what, sizeof what, "syev f64 eigenvalues batch=%lld n=%lld", (long long)batch, (long long)n);
        cmp2(p, what, w, EG_F64, batch * n, 1e-10, 1e-10, 0);
        /* eigenvectors up to sign: |<v_gpu, v_cpu>| = 1 per column */
        double *vg = gp_get(&p->gpu, EG_F64, v.g, batch * nn), *vc = gp_get(&p->cpu, EG_F64, v.c, batch * nn);
        double worst = 0;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t j = 0; j < n; j++) {
                double d = 0;
                for (int64_t i = 0; i < n; i++)
                    d += vg[b * nn + i * n + j] * vc[b * nn + i * n + j];
                worst = fmax(worst, fabs(fabs(d) - 1));
            }
        CHECK_MSG(worst < 1e-6, "%s: eigenvectors disagree, max ||<vg,vc>| - 1| = %.3g", what, worst);
        free(vg), free(vc), free(a);
        free2(p, da), free2(p, w), free2(p, v);
    }
}

int main(void) {
    gp_pair p;
    char why[1200];
    if (gp_open(&p, why, sizeof why) != 0) return eg_test_skip_unsupported(why);
    test_identity(&p);
    test_alloc(&p);
    test_bad_index(&p);
    test_gemm_big(&p);
    test_rows_big(&p);
    test_layout_big(&p);
    test_conv_big(&p);
    test_upsample_big(&p);
    test_syev_big(&p);
    gp_close(&p);
    return eg_test_finish();
}
