/* test_optim.c — SGD (momentum, weight decay), Adam and Adamax against updates
 * computed by hand with PyTorch's definitions over three steps; skipping of
 * parameters without a gradient; learning-rate helpers; gradient clipping; the fused
 * Adam / Adamax kernel (backend ABI 1.3) equal, bit for bit, to the composed update. */
#include <string.h>

#include "core/core_internal.h"
#include "registry/loader.h"
#include "test_tensor_util.h"

static const double G[3][2] = {{0.5, -1.0}, {0.1, 0.2}, {-0.3, 0.4}};

/* sets p's gradient to G[t] through a backward of sum(p * G[t]) */
static void make_grad(eg_ctx *ctx, eg_tensor *p, int t) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *c = eg_from_host(ctx, EG_F64, EG_DIMS(2), G[t]);
    eg_backward(eg_sum_all(eg_mul(p, c)));
    eg_scope_close(s);
}

typedef enum { SGD, ADAM, ADAMAX } kind;

static void run(eg_ctx *ctx, kind k, const char *name) {
    eg_params *ps = eg_params_new(ctx);
    eg_tensor *p = eg_params_create(ps, "", "p", EG_F64, EG_DIMS(2));
    eg_tensor *idle = eg_params_create(ps, "", "idle", EG_F64, EG_DIMS(2));
    double p0[2] = {1.0, -2.0};
    eg_assign(p, eg_from_host(ctx, EG_F64, EG_DIMS(2), p0));
    eg_fill(idle, 3.0);
    double lr = 0.1, mom = 0.9, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    eg_optim *o = k == SGD ? eg_sgd(ps, lr, mom, wd) : k == ADAM ? eg_adam(ps, lr, b1, b2, eps) : eg_adamax(ps, lr, b1, b2, eps);
    CHECK(o != NULL && eg_optim_lr(o) == lr);
    /* reference state */
    double rp[2] = {p0[0], p0[1]}, m[2] = {0, 0}, v[2] = {0, 0};
    for (int t = 0; t < 3; t++) {
        eg_optim_zero_grad(o);
        make_grad(ctx, p, t);
        CHECK(eg_optim_step(o) == EG_OK);
        for (int i = 0; i < 2; i++) {
            double g = G[t][i];
            if (k == SGD) {
                g += wd * rp[i];
                m[i] = t == 0 ? g : mom * m[i] + g;
                rp[i] -= lr * m[i];
            } else if (k == ADAM) {
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mh = m[i] / (1 - pow(b1, t + 1)), vh = v[i] / (1 - pow(b2, t + 1));
                rp[i] -= lr * mh / (sqrt(vh) + eps);
            } else {
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = fmax(b2 * v[i], fabs(g) + eps);
                rp[i] -= lr / (1 - pow(b1, t + 1)) * m[i] / v[i];
            }
        }
        double got[2];
        eg_to_host_f64(p, got);
        CHECK_MSG(fabs(got[0] - rp[0]) < 1e-12 && fabs(got[1] - rp[1]) < 1e-12, "%s step %d: [%.15g, %.15g] vs [%.15g, %.15g]",
                  name, t + 1, got[0], got[1], rp[0], rp[1]);
        if (t == 0 && k != SGD) /* first Adam/Adamax step moves each weight by ~lr against its gradient's sign */
            CHECK(fabs(got[0] - (1.0 - lr)) < 1e-6 && fabs(got[1] - (-2.0 + lr)) < 1e-6);
        if (t == 0 && k == SGD) /* p - lr (g + wd p) */
            CHECK(fabs(got[0] - (1.0 - 0.1 * (0.5 + 0.01))) < 1e-15);
    }
    double iv[2];
    eg_to_host_f64(idle, iv);
    CHECK(iv[0] == 3.0 && iv[1] == 3.0); /* never had a gradient: untouched, even by weight decay */
    CHECK(eg_optim_steps(o) == 3);
    /* zero_grad keeps a zeroed gradient but the parameter is skipped until a backward reaches it */
    eg_optim_zero_grad(o);
    double before[2], after[2];
    eg_to_host_f64(p, before);
    CHECK(eg_optim_step(o) == EG_OK);
    eg_to_host_f64(p, after);
    CHECK(before[0] == after[0] && before[1] == after[1]);
    eg_optim_set_lr(o, 0.01);
    CHECK(eg_optim_lr(o) == 0.01 && eg_optim_steps(o) == 4);
    eg_optim_free(o);
    eg_params_free(ps);
}

/* five steps of `kind` on a float32 [1000] parameter with fixed gradients; final p, m-driven */
static void steps_f32(eg_ctx *ctx, kind k, float *out) {
    enum { N = 1000 };
    static float p0[N], gr[5][N];
    for (int i = 0; i < N; i++) {
        p0[i] = (float)sin(0.37 * i);
        for (int t = 0; t < 5; t++) gr[t][i] = (float)(cos(0.11 * i * (t + 1)) * (i % 7 == 0 ? 1e-4 : 1.0));
    }
    eg_params *ps = eg_params_new(ctx);
    eg_tensor *p = eg_params_create(ps, "", "p", EG_F32, EG_DIMS(N));
    eg_assign(p, eg_from_f32(ctx, EG_F32, EG_DIMS(N), p0));
    eg_optim *o = k == ADAM ? eg_adam(ps, 1e-2, 0.9, 0.999, 1e-8) : eg_adamax(ps, 2e-3, 0.5, 0.9, 1e-8);
    for (int t = 0; t < 5; t++) {
        eg_optim_zero_grad(o);
        eg_scope *s = eg_scope_open(ctx);
        eg_backward(eg_sum_all(eg_mul(p, eg_from_f32(ctx, EG_F32, EG_DIMS(N), gr[t]))));
        eg_scope_close(s);
        CHECK(eg_optim_step(o) == EG_OK);
    }
    eg_to_host_f32(p, out);
    eg_optim_free(o);
    eg_params_free(ps);
}

static void test_fused_equals_composed(eg_ctx *ctx) {
    char err[512];
    eg_backend *plain = NULL;
    eg_ctx *ctx2 = NULL;
    static eg_backend_desc without; /* the CPU backend without its 1.3 kernel: the composed path */
    if (eg_backend_open_start("cpu", 1, &plain, err, sizeof err) == EG_OK) {
        without = *plain->desc;
        without.adam_step = NULL;
        plain->desc = &without;
        eg_ctx_create(plain, &ctx2);
    }
    CHECK(ctx2 != NULL && eg_ctx_backend_desc(ctx)->adam_step != NULL);
    if (!ctx2) return;
    static float a[1000], b[1000], p0[1000];
    for (kind k = ADAM; k <= ADAMAX; k++) {
        steps_f32(ctx, k, a);
        steps_f32(ctx2, k, b);
        for (int i = 0; i < 1000; i++) p0[i] = (float)sin(0.37 * i);
        int moved = 0;
        for (int i = 0; i < 1000; i++) moved += a[i] != p0[i];
        CHECK_MSG(memcmp(a, b, sizeof a) == 0, "%s: fused and composed updates differ (p[0] %.9g vs %.9g)",
                  k == ADAM ? "adam" : "adamax", a[0], b[0]);
        CHECK(moved > 900);
    }
    eg_ctx_destroy(ctx2);
    eg_backend_close(plain);
}

static void test_clip(eg_ctx *ctx) {
    eg_params *ps = eg_params_new(ctx);
    eg_tensor *a = eg_params_create(ps, "", "a", EG_F64, EG_DIMS(1));
    eg_tensor *b = eg_params_create(ps, "", "b", EG_F32, EG_DIMS(1));
    eg_params_create(ps, "", "unused", EG_F32, EG_DIMS(4));
    eg_scope *s = eg_scope_open(ctx);
    /* gradients 3 and 4 */
    eg_backward(eg_sum_all(eg_scale(a, 3.0)));
    eg_backward(eg_sum_all(eg_scale(b, 4.0)));
    eg_scope_close(s);
    double n = eg_clip_grad_norm(ps, 10.0);
    CHECK(fabs(n - 5.0) < 1e-6);
    CHECK(fabs(eg_item(eg_grad(a)) - 3.0) < 1e-12); /* below the limit: unchanged */
    n = eg_clip_grad_norm(ps, 1.0);
    CHECK(fabs(n - 5.0) < 1e-6);
    CHECK(fabs(eg_item(eg_grad(a)) - 0.6) < 1e-6 && fabs(eg_item(eg_grad(b)) - 0.8) < 1e-6);
    CHECK(fabs(eg_clip_grad_norm(ps, 100.0) - 1.0) < 1e-5);
    CHECK(eg_clip_grad_value(ps, 0.7) == EG_OK);
    CHECK(fabs(eg_item(eg_grad(a)) - 0.6) < 1e-6 && fabs(eg_item(eg_grad(b)) - 0.7) < 1e-6);
    eg_params_zero_grad(ps);
    CHECK(eg_item(eg_grad(a)) == 0.0 && eg_clip_grad_norm(ps, 1.0) == 0.0);
    eg_params_free(ps);
}

int main(void) {
    eg_ctx *ctx = tu_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    run(ctx, SGD, "sgd");
    run(ctx, ADAM, "adam");
    run(ctx, ADAMAX, "adamax");
    test_clip(ctx);
    test_fused_equals_composed(ctx);
    CHECK(fabs(eg_lr_step_decay(0.1, 0.5, 10, 0) - 0.1) < 1e-15);
    CHECK(fabs(eg_lr_step_decay(0.1, 0.5, 10, 9) - 0.1) < 1e-15);
    CHECK(fabs(eg_lr_step_decay(0.1, 0.5, 10, 10) - 0.05) < 1e-15);
    CHECK(fabs(eg_lr_step_decay(0.1, 0.5, 10, 25) - 0.025) < 1e-15);
    if (eg_ctx_status(ctx)) fprintf(stderr, "ctx: %s\n", eg_ctx_message(ctx));
    CHECK(eg_ctx_status(ctx) == EG_OK);
    tu_close(ctx);
    return eg_test_finish();
}
