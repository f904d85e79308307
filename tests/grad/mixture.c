/* grad/mixture — eg_mixture_estep_loss (nn.h): the per-sample E-step loss of a spatial
 * mixture with gamma held constant. Its gradient is checked by central finite differences
 * of the same function with gamma frozen at the value of the unperturbed pass (gh_phase),
 * for Bernoulli (binary and fractional targets, several channels) and Gaussian pixels;
 * and the op on a backend without the ABI 1.2 kernels (the composite fallback, here the
 * CPU backend with those two slots cleared) must give the same loss, gamma and gradient
 * as the fused kernels. */
#include "core/core_internal.h"
#include "grad_harness.h"

typedef struct mcase {
    const char *name;
    int gaussian;
    int64_t B, K, C, P;
    int binary;
    double sigma, lam;
} mcase;

static const mcase CASES[] = {
    {"bernoulli binary", 0, 2, 3, 1, 5, 1, 0.25, 1.0},
    {"bernoulli fractional, 2 channels", 0, 2, 2, 2, 4, 0, 0.25, 0.7},
    {"bernoulli k=1", 0, 3, 1, 1, 4, 0, 0.25, 1.0},
    {"gaussian, 2 channels", 1, 2, 3, 2, 4, 0, 0.5, 0.2},
};
#define NCASES ((int)(sizeof CASES / sizeof *CASES))
#define EPS 1e-6

static const mcase *cur;
static double frozen[64];
static double yv[64];

/* the loss written out with gamma a constant (x[0] = psi) */
static eg_tensor *frozen_loss(eg_tensor *psi) {
    const mcase *c = cur;
    eg_ctx *ctx = eg_tensor_ctx(psi);
    eg_tensor *y = eg_from_host(ctx, EG_F64, EG_DIMS(c->B, 1, c->C, c->P), yv);
    eg_tensor *g = eg_from_host(ctx, EG_F64, EG_DIMS(c->B, c->K, 1, c->P), frozen), *nll, *kl;
    if (c->gaussian) {
        nll = eg_scale(eg_square(eg_sub(psi, y)), 0.5);
        kl = eg_scale(eg_square(psi), 0.5);
    } else {
        eg_tensor *q = eg_clamp(psi, EPS, 1 - EPS);
        nll = eg_neg(eg_add(eg_mul(y, eg_ln(q)), eg_mul(eg_affine(y, -1, 1), eg_ln(eg_affine(q, -1, 1)))));
        kl = eg_neg(eg_ln(eg_clamp(eg_affine(psi, -1, 1), EPS, 10)));
    }
    eg_tensor *t = eg_add(eg_mul(g, nll), eg_scale(eg_mul(eg_affine(g, -1, 1), kl), c->lam));
    return eg_sum(eg_reshape(t, EG_DIMS(c->B, -1)), 1, 0);
}

static eg_tensor *f_op(eg_tensor *const *x, void *user) {
    (void)user;
    const mcase *c = cur;
    if (gh_phase == 1) return frozen_loss(x[0]);
    eg_ctx *ctx = eg_tensor_ctx(x[0]);
    eg_tensor *y = eg_from_host(ctx, EG_F64, EG_DIMS(c->B, c->C, c->P), yv), *g = NULL;
    eg_tensor *l = eg_mixture_estep_loss(x[0], y, c->gaussian, c->sigma, c->lam, EPS, &g);
    eg_to_host_f64(g, frozen);
    return l;
}

static void fill_case(const mcase *c, double *psi) {
    int64_t n = c->B * c->K * c->C * c->P;
    for (int64_t i = 0; i < n; i++) /* away from the clamps: finite differences see a smooth function */
        psi[i] = c->gaussian ? -0.5 + 2 * gh_uniform() : 0.05 + 0.9 * gh_uniform();
    for (int64_t i = 0; i < c->B * c->C * c->P; i++)
        yv[i] = c->binary ? (gh_uniform() < 0.4) : c->gaussian ? -0.5 + 2 * gh_uniform() : gh_uniform();
}

/* loss, gamma and d(sum loss * R)/dpsi of one context */
static void run_op(eg_ctx *ctx, const mcase *c, const double *psi, double *loss, double *gamma, double *grad) {
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *p = eg_from_host(ctx, EG_F64, EG_DIMS(c->B, c->K, c->C, c->P), psi), *g = NULL;
    eg_requires_grad(p, 1);
    eg_tensor *y = eg_from_host(ctx, EG_F64, EG_DIMS(c->B, c->C, c->P), yv);
    eg_tensor *l = eg_mixture_estep_loss(p, y, c->gaussian, c->sigma, c->lam, EPS, &g);
    double r[16];
    for (int64_t b = 0; b < c->B; b++)
        r[b] = gh_r(b);
    eg_backward_with(l, eg_from_host(ctx, EG_F64, EG_DIMS(c->B), r));
    eg_to_host_f64(l, loss);
    eg_to_host_f64(g, gamma);
    eg_to_host_f64(eg_grad(p), grad);
    eg_scope_close(s);
}

static void max_diff(const char *what, const char *name, const double *a, const double *b, int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / (1 + fabs(b[i]));
        if (!(e <= worst)) worst = e;
    }
    CHECK_MSG(worst <= 1e-12, "%s, %s: fused vs composite differ by %.3g", name, what, worst);
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    CHECK(eg_ctx_backend_desc(ctx)->mixture_estep != NULL);
    /* a second CPU context whose backend lacks the 1.2 kernels: the op composes elementary ops */
    eg_backend *plain = NULL;
    eg_ctx *ctx2 = NULL;
    char err[512];
    static eg_backend_desc without;
    if (eg_backend_open_start("cpu", 1, &plain, err, sizeof err) == EG_OK) {
        without = *plain->desc;
        without.mixture_estep = NULL, without.mixture_estep_backward = NULL;
        plain->desc = &without;
        eg_ctx_create(plain, &ctx2);
    }
    CHECK(ctx2 != NULL);
    for (int i = 0; i < NCASES; i++) {
        const mcase *c = cur = &CASES[i];
        int64_t n = c->B * c->K * c->C * c->P, ng = c->B * c->K * c->P;
        double psi[64];
        fill_case(c, psi);
        gh_in in = gh_f64(4, (const int64_t[]){c->B, c->K, c->C, c->P}, 0, 1);
        in.vals = psi;
        gh_check(ctx, c->name, f_op, NULL, 1, &in);
        if (!ctx2) continue;
        double l1[16], l2[16], g1[64], g2[64], d1[64], d2[64];
        run_op(ctx, c, psi, l1, g1, d1);
        run_op(ctx2, c, psi, l2, g2, d2);
        CHECK_MSG(eg_ctx_status(ctx) == EG_OK && eg_ctx_status(ctx2) == EG_OK, "%s: %s %s", c->name,
                  eg_ctx_message(ctx), eg_ctx_message(ctx2));
        max_diff("loss", c->name, l1, l2, c->B);
        max_diff("gamma", c->name, g1, g2, ng);
        max_diff("gradient", c->name, d1, d2, n);
    }
    /* y must not ask for a gradient: the op gives none */
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *p = eg_full(ctx, EG_F64, EG_DIMS(1, 2, 1, 3), 0.5), *y = eg_full(ctx, EG_F64, EG_DIMS(1, 3), 1);
    eg_requires_grad(y, 1);
    eg_mixture_estep_loss(p, y, 0, 0.25, 1, EPS, NULL);
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "y requires a gradient");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);
    if (ctx2) eg_ctx_destroy(ctx2);
    if (plain) eg_backend_close(plain);
    gh_close(ctx);
    return eg_test_finish();
}
