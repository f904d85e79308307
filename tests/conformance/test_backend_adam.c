/* test_backend_adam.c — conformance of the fused Adam / Adamax kernel (backend ABI 1.3,
 * eg_adam_args in backend.h) of every available backend against a double reference of
 * the formulas, on the rounded inputs: one step over sizes 1 .. 100003 (threads split the
 * larger), late steps (small bias corrections), gradients spanning 1e-6 .. 10, a NaN
 * gradient (Adamax: NaN wins the max), n = 0 and refused arguments.
 * Tolerances: F32 rtol 1e-5, atol 1e-6 (a few roundings of the dtype); F64 1e-12, 1e-14.
 * The kernel is optional (the optimiser composes the update without it); the CPU backend,
 * the reference implementation, must have it. */
#include "backend_ops.h"

static int tb_cpu_has_adam;

typedef struct acase {
    const char *name;
    eg_adam_kind kind;
    int64_t n, t;
    double lr, b1, b2, eps;
} acase;

static const acase CASES[] = {
    {"adam n=1", EG_ADAM, 1, 1, 1e-3, 0.9, 0.999, 1e-8},
    {"adam n=1000 t=1", EG_ADAM, 1000, 1, 1e-2, 0.9, 0.999, 1e-8},
    {"adam n=100003 t=500", EG_ADAM, 100003, 500, 1e-3, 0.9, 0.999, 1e-8},
    {"adamax n=999 t=1", EG_ADAMAX, 999, 1, 2e-3, 0.5, 0.9, 1e-8},
    {"adamax n=100003 t=40", EG_ADAMAX, 100003, 40, 1e-3, 0.5, 0.9, 1e-7},
};
#define NCASES ((int)(sizeof CASES / sizeof *CASES))

static void run_case(tb *t, const acase *c, int with_nan) {
    eg_dtype dt = t->dt;
    int64_t n = c->n;
    double *p = randv(n, -1, 1), *m = randv(n, -0.1, 0.1), *v = randv(n, 0, 0.01), *g = randv(n, -1, 1);
    for (int64_t i = 0; i < n; i++) /* magnitudes from 1e-6 to 10 */
        g[i] *= pow(10.0, (double)(i % 8) - 6.0);
    if (with_nan) g[n / 2] = NAN;
    void *dp = dev_from(t, dt, p, n), *dm = dev_from(t, dt, m, n), *dv = dev_from(t, dt, v, n),
         *dg = dev_from(t, dt, g, n);
    eg_adam_args a = {dt, c->kind, n, c->lr / (1 - pow(c->b1, (double)c->t)), c->b1, c->b2, c->eps,
                      1.0 / sqrt(1 - pow(c->b2, (double)c->t))};
    for (int64_t i = 0; i < n; i++) { /* the reference, from the rounded inputs */
        m[i] = c->b1 * m[i] + (1 - c->b1) * g[i];
        if (c->kind == EG_ADAM) {
            v[i] = c->b2 * v[i] + (1 - c->b2) * g[i] * g[i];
            p[i] -= a.step * m[i] / (sqrt(v[i]) * a.inv_sqrt_bc2 + c->eps);
        } else {
            double x = c->b2 * v[i], y = fabs(g[i]) + c->eps;
            v[i] = isnan(x) || isnan(y) ? NAN : fmax(x, y);
            p[i] -= a.step * m[i] / v[i];
        }
    }
    char what[128];
    snprintf(what, sizeof what, "adam_step %s%s", c->name, with_nan ? " with a NaN gradient" : "");
    tol tl = dt == EG_F64 ? (tol){1e-14, 1e-12} : (tol){1e-6, 1e-5};
    if (st_ok(t, t->d->adam_step(t->ctx, &a, dp, dm, dv, dg), what)) {
        double *gp = to_host(t, dt, dp, n), *gm = to_host(t, dt, dm, n), *gv = to_host(t, dt, dv, n);
        char w2[160];
        snprintf(w2, sizeof w2, "%s: p", what), cmp(t, w2, gp, p, n, tl);
        snprintf(w2, sizeof w2, "%s: m", what), cmp(t, w2, gm, m, n, tl);
        snprintf(w2, sizeof w2, "%s: v", what), cmp(t, w2, gv, v, n, tl);
        if (with_nan) CHECK_MSG(isnan(gp[n / 2]) && isnan(gv[n / 2]), "%s: the NaN did not reach p and v", what);
        free(gp), free(gm), free(gv);
    }
    dev_free(t, dp), dev_free(t, dm), dev_free(t, dv), dev_free(t, dg);
    free(p), free(m), free(v), free(g);
}

static void suite(tb *t) {
    if (t->d->abi_minor < 3 || !t->d->adam_step) { /* optional: the optimiser composes the update */
        if (t->dt == EG_F32)
            printf("SKIP adam_step on %s: not provided (backend ABI %u.%u)\n", t->name, t->d->abi_major,
                   t->d->abi_minor);
        return;
    }
    if (!strcmp(t->name, "cpu")) tb_cpu_has_adam = 1;
    for (int i = 0; i < NCASES; i++)
        run_case(t, &CASES[i], 0);
    run_case(t, &CASES[3], 1);
    run_case(t, &CASES[1], 1);
    if (t->dt != EG_F32) return;
    eg_adam_args zero = {EG_F32, EG_ADAM, 0, 1e-3, 0.9, 0.999, 1e-8, 1};
    CHECK_MSG(t->d->adam_step(t->ctx, &zero, NULL, NULL, NULL, NULL) == EG_OK, "%s: adam_step n = 0", t->name);
    void *buf = dev_alloc(t, 64);
    eg_adam_args bad[2] = {{EG_F32, (eg_adam_kind)7, 4, 1e-3, 0.9, 0.999, 1e-8, 1},
                           {EG_F32, EG_ADAM, -1, 1e-3, 0.9, 0.999, 1e-8, 1}};
    for (int i = 0; i < 2; i++)
        CHECK_MSG(t->d->adam_step(t->ctx, &bad[i], buf, buf, buf, buf) == EG_ERR_INVALID,
                  "%s: adam_step accepted invalid arguments (case %d)", t->name, i);
    dev_free(t, buf);
}

int main(void) {
    int rc = tb_main("backend adam", suite);
    if (rc == 0 && !tb_cpu_has_adam) { /* the reference implementation must have it */
        fprintf(stderr, "FAIL: the cpu backend has no adam_step kernel\n");
        return 1;
    }
    return rc;
}
