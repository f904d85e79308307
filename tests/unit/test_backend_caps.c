/* test_backend_caps.c — the capability question answered in one place
 * (eg_ctx_has, eg_ctx_proc_address) for backends of every ABI minor, and the
 * direct kernels of engram/kernels.h: same numbers as the tensor ops, a missing
 * kernel or a failure recorded once in the context with the step's name. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/core_internal.h"
#include "engram/kernels.h"

static int extra_kernel_called;
static void extra_kernel(void) {
    extra_kernel_called++;
}
static void *proc(const char *name) {
    return strcmp(name, "test.extra") == 0 ? (void *)extra_kernel : NULL;
}

/* a context on a copy of the CPU backend's descriptor, edited by the caller */
static eg_ctx *ctx_with(eg_backend *be, eg_backend_desc *copy) {
    eg_ctx *ctx = NULL;
    be->desc = copy;
    CHECK(eg_ctx_create(be, &ctx) == EG_OK);
    return ctx;
}

static void test_capabilities(eg_ctx *cpu) {
    const eg_backend_desc *real = eg_ctx_backend_desc(cpu);
    CHECK(real->abi_minor == EG_BACKEND_ABI_MINOR && EG_BACKEND_ABI_MINOR >= 4);
    CHECK(eg_ctx_has(cpu, EG_FEATURE_SUMSQ) && eg_ctx_has(cpu, EG_FEATURE_MIXTURE_ESTEP) &&
          eg_ctx_has(cpu, EG_FEATURE_ADAM_STEP));
    CHECK(eg_ctx_has(cpu, EG_FEATURE_HOST_MEMORY) && eg_ctx_has(cpu, EG_FEATURE_FAST_F64));
    CHECK(eg_ctx_proc_address(cpu, "test.extra") == NULL); /* the CPU backend has no extra kernels */
    CHECK(!eg_ctx_has(NULL, EG_FEATURE_SUMSQ) && eg_ctx_proc_address(NULL, "x") == NULL);

    char err[512];
    eg_backend *be = NULL;
    if (eg_backend_open_start("cpu", 1, &be, err, sizeof err) != EG_OK) {
        CHECK_MSG(0, "cpu backend: %s", err);
        return;
    }
    static eg_backend_desc d;
    const eg_backend_desc *orig = be->desc;

    /* 1.4 with an extra kernel: found by name, unknown names are NULL */
    d = *orig;
    d.get_proc_address = proc;
    eg_ctx *c = ctx_with(be, &d);
    void (*fn)(void) = (void (*)(void))eg_ctx_proc_address(c, "test.extra");
    CHECK(fn == extra_kernel && eg_ctx_proc_address(c, "test.other") == NULL);
    if (fn) fn();
    CHECK(extra_kernel_called == 1);
    eg_ctx_destroy(c);

    /* 1.3: no features, no get_proc_address even when the slot holds a pointer */
    d = *orig;
    d.abi_minor = 3;
    d.get_proc_address = proc;
    c = ctx_with(be, &d);
    CHECK(!eg_ctx_has(c, EG_FEATURE_HOST_MEMORY) && !eg_ctx_has(c, EG_FEATURE_FAST_F64));
    CHECK(eg_ctx_has(c, EG_FEATURE_ADAM_STEP) && eg_ctx_proc_address(c, "test.extra") == NULL);
    eg_ctx_destroy(c);

    /* a 1.3 descriptor too short to hold adam_step, and a 1.3 one without it */
    d = *orig;
    d.abi_minor = 3;
    d.struct_size = (uint32_t)offsetof(eg_backend_desc, adam_step);
    c = ctx_with(be, &d);
    CHECK(!eg_ctx_has(c, EG_FEATURE_ADAM_STEP) && eg_ctx_has(c, EG_FEATURE_MIXTURE_ESTEP));
    eg_ctx_destroy(c);

    /* 1.0: only the original kernels; eg_sumsq composes the same sums */
    d = *orig;
    d.abi_minor = 0;
    c = ctx_with(be, &d);
    CHECK(!eg_ctx_has(c, EG_FEATURE_SUMSQ) && !eg_ctx_has(c, EG_FEATURE_MIXTURE_ESTEP) &&
          !eg_ctx_has(c, EG_FEATURE_ADAM_STEP));
    const double x[6] = {1, -2, 3, 0.5, 0, -4};
    double got[2] = {0, 0};
    eg_to_host_f64(eg_sumsq(eg_from_host(c, EG_F64, EG_DIMS(2, 3), x), 1, 0), got);
    CHECK_NEAR(got[0], 14.0, 0, 1e-15);
    CHECK_NEAR(got[1], 16.25, 0, 1e-15);
    /* and a direct one-pass SUMSQ is refused with the step named */
    eg_tensor *t = eg_from_host(c, EG_F64, EG_DIMS(2, 3), x), *y = eg_zeros(c, EG_F64, EG_DIMS(2));
    eg_kernel_reduce(c, EG_RED_SUMSQ, EG_F64, 2, 3, 1, eg_data(t), eg_data(y), "|x|^2");
    CHECK(eg_ctx_status(c) == EG_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(eg_ctx_message(c), "|x|^2");
    eg_ctx_destroy(c);

    be->desc = orig;
    eg_backend_close(be);
}

static void test_kernels(eg_ctx *ctx) {
    eg_scope *s = eg_scope_open(ctx);
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, -1, 2, 0, 1, 3};
    eg_tensor *A = eg_from_f32(ctx, EG_F32, EG_DIMS(2, 3), a), *B = eg_from_f32(ctx, EG_F32, EG_DIMS(3, 2), b);
    eg_tensor *C = eg_zeros(ctx, EG_F32, EG_DIMS(2, 2));
    eg_gemm_args g = {.dtype = EG_F32,
                      .m = 2,
                      .n = 2,
                      .k = 3,
                      .alpha = 1,
                      .beta = 0,
                      .a = eg_data(A),
                      .lda = 3,
                      .b = eg_data(B),
                      .ldb = 2,
                      .c = eg_data(C),
                      .ldc = 2,
                      .batch = 1};
    eg_kernel_gemm(ctx, &g, "C = A B");
    float want[4], got[4];
    eg_to_host_f32(eg_matmul(A, B), want);
    eg_to_host_f32(C, got);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(got[i], want[i], 0, 0);

    /* exp of row 1 only, written into row 0 of another tensor: offsets through eg_kernel_at */
    eg_tensor *E = eg_zeros(ctx, EG_F32, EG_DIMS(2, 3));
    eg_kernel_unary(ctx, EG_UN_EXP, EG_F32, 3, eg_kernel_at(A, 3), eg_kernel_at(E, 0), 0, 0, "exp row 1");
    float e[6];
    eg_to_host_f32(E, e);
    CHECK_NEAR(e[0], expf(4), 0, 1e-6);
    CHECK_NEAR(e[2], expf(6), 0, 1e-6);
    CHECK(e[3] == 0 && e[5] == 0);
    float sm[3], host[2];
    eg_tensor *S = eg_zeros(ctx, EG_F32, EG_DIMS(3));
    eg_kernel_softmax(ctx, 0, EG_F32, 1, 3, 1, eg_data(A), eg_data(S), "softmax");
    eg_to_host_f32(S, sm);
    CHECK_NEAR(sm[0] + sm[1] + sm[2], 1.0, 0, 1e-6);
    eg_kernel_download(ctx, host, eg_kernel_at(C, 2), sizeof host, "download row 1");
    CHECK(host[0] == got[2] && host[1] == got[3]);
    CHECK(eg_ctx_status(ctx) == EG_OK);

    /* a failing kernel: the first failure is kept with its step, later calls do nothing */
    eg_gemm_args bad = g;
    bad.k = -1;
    eg_kernel_gemm(ctx, &bad, "gemm v_w");
    CHECK(eg_ctx_status(ctx) != EG_OK);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "gemm v_w");
    eg_kernel_unary(ctx, EG_UN_NEG, EG_F32, 4, eg_data(C), eg_data(C), 0, 0, "later");
    CHECK(strstr(eg_ctx_message(ctx), "later") == NULL);
    eg_ctx_clear_error(ctx);
    eg_to_host_f32(C, got);
    CHECK(got[0] == want[0]); /* the later negation did not run */
    eg_scope_close(s);
}

int main(void) {
    eg_backend *be = NULL;
    eg_ctx *ctx = eg_test_cpu_ctx(1, &be);
    if (!ctx) return eg_test_finish();
    test_capabilities(ctx);
    test_kernels(ctx);
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
