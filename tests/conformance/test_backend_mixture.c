/* test_backend_mixture.c — conformance of the mixture E-step / loss kernels (backend ABI
 * 1.2, eg_mixture_args in backend.h) of every available backend against a double
 * reference written from the formulas: Bernoulli with binary and with fractional targets,
 * Gaussian, K = 1, several channels, psi at and beyond the clamps (0, 1, eps / 2,
 * 1 - eps / 2), overwrite and accumulate; with eps = 1e-30 and psi spread over [1e-30, 0.5]
 * the logs see arguments over their whole allowed range (the CPU kernel's own float log).
 * Tolerances: gamma and dpsi rtol 1e-5, atol 1e-6 (F64 1e-12, 1e-13); the per-sample
 * loss within 1e-5 (F64 1e-12) of the sum of the absolute terms. */
#include "backend_ops.h"

typedef struct mcase {
    const char *name;
    int gaussian;
    int64_t B, K, C, P;
    int ykind; /* 0 binary, 1 fractional, 2 normal-ish (Gaussian targets) */
    double sigma, lam;
    int edges; /* put psi at the clamps */
    int wide;  /* psi log-uniform over [1e-30, 0.5] with eps 1e-30 (the float log's range) */
} mcase;

static const mcase CASES[] = {
    {"bernoulli binary", 0, 3, 3, 1, 300, 0, 0.25, 1.0, 1, 0},
    {"bernoulli fractional, 2 channels", 0, 2, 2, 2, 70, 1, 0.25, 0.7, 1, 0},
    {"bernoulli k=1", 0, 2, 1, 1, 33, 0, 0.25, 1.0, 0, 0},
    {"bernoulli wide psi", 0, 2, 3, 1, 513, 0, 0.25, 0.5, 0, 1},
    {"gaussian, 3 channels", 1, 2, 3, 3, 50, 2, 0.4, 0.2, 0, 0},
    {"gaussian k=2", 1, 4, 2, 1, 257, 2, 0.25, 1.0, 0, 0},
};
#define NCASES ((int)(sizeof CASES / sizeof *CASES))
static double EPS = 1e-6; /* of the case being run */

/* reference: gamma [B, K, P], loss [B], sum of |terms| [B], dpsi for dloss */
static void reference(const mcase *c, eg_dtype dt, const double *psi, const double *y, const double *dl,
                      double *gamma, double *loss, double *mag, double *dpsi) {
    int64_t B = c->B, K = c->K, C = c->C, P = c->P;
    /* the clamp bounds as the kernel holds them: eps and 1 - eps in its dtype */
    double lo = dt == EG_F32 ? (double)(float)EPS : EPS, hi = dt == EG_F32 ? (double)(1.0f - (float)EPS) : 1 - EPS;
    double s2 = c->sigma * c->sigma;
    for (int64_t b = 0; b < B; b++) {
        loss[b] = mag[b] = 0;
        for (int64_t i = 0; i < P; i++) {
            double den = 0, pk[16];
            for (int64_t k = 0; k < K; k++) {
                double s = 0;
                for (int64_t ch = 0; ch < C; ch++) {
                    double v = psi[((b * K + k) * C + ch) * P + i], t = y[(b * C + ch) * P + i];
                    s += c->gaussian ? exp(-(t - v) * (t - v) / (2 * s2)) / sqrt(2 * M_PI * s2)
                                     : t * v + (1 - t) * (1 - v);
                }
                pk[k] = s + EPS;
                den += pk[k];
            }
            for (int64_t k = 0; k < K; k++) {
                double g = pk[k] / den;
                gamma[(b * K + k) * P + i] = g;
                for (int64_t ch = 0; ch < C; ch++) {
                    int64_t j = ((b * K + k) * C + ch) * P + i;
                    double v = psi[j], t = y[(b * C + ch) * P + i], nll, kl, dn, dk;
                    if (c->gaussian) {
                        nll = 0.5 * (v - t) * (v - t), kl = 0.5 * v * v, dn = v - t, dk = v;
                    } else {
                        double q = v < lo ? lo : (v > hi ? hi : v), w = 1 - v;
                        nll = -((t != 0 ? t * log(q) : 0) + (t != 1 ? (1 - t) * log(1 - q) : 0));
                        kl = -log(w < lo ? lo : w);
                        dn = (v >= lo && v <= hi) ? (1 - t) / (1 - v) - t / v : 0;
                        dk = w >= lo ? 1 / w : 0;
                    }
                    double term = g * nll + c->lam * (1 - g) * kl;
                    loss[b] += term;
                    mag[b] += fabs(term);
                    dpsi[j] = dl[b] * (g * dn + c->lam * (1 - g) * dk);
                }
            }
        }
    }
}

static void run_case(tb *t, const mcase *c) {
    eg_dtype dt = t->dt;
    int64_t B = c->B, K = c->K, C = c->C, P = c->P, n = B * K * C * P, ny = B * C * P, ng = B * K * P;
    double *psi = randv(n, 0.001, 0.999), *y = randv(ny, 0, 1), *dl = randv(B, -2, 2), *prior = randv(n, -1, 1);
    for (int64_t i = 0; i < ny; i++) {
        if (c->ykind == 0) y[i] = y[i] < 0.3 ? 1 : 0;
        if (c->ykind == 2) y[i] = 2 * y[i] - 0.5;
    }
    if (c->gaussian)
        for (int64_t i = 0; i < n; i++)
            psi[i] = 2 * psi[i] - 0.5;
    EPS = c->wide ? 1e-30 : 1e-6;
    if (c->wide)
        for (int64_t i = 0; i < n; i++)
            psi[i] = 0.5 * pow(10.0, -30.0 * psi[i]); /* log-uniform in [1e-30, 0.5] */
    if (c->edges) {
        static const double E[] = {0, 1, 0.5e-6, 1 - 0.5e-6, 1e-6, 1 - 1e-6};
        for (int64_t i = 0; i < n; i += 7)
            psi[i] = E[(i / 7) % 6];
    }
    void *dpsi_ = dev_from(t, dt, psi, n), *dy = dev_from(t, dt, y, ny), *ddl = dev_from(t, dt, dl, B);
    void *dg = dev_alloc(t, (size_t)ng * dt_size(dt)), *dloss = dev_alloc(t, (size_t)B * dt_size(dt));
    void *dd = dev_alloc(t, (size_t)n * dt_size(dt)), *dacc = dev_from(t, dt, prior, n);
    double *g = malloc(sizeof(double) * (size_t)ng), *l = malloc(sizeof(double) * (size_t)B),
           *mag = malloc(sizeof(double) * (size_t)B), *dref = malloc(sizeof(double) * (size_t)n);
    reference(c, dt, psi, y, dl, g, l, mag, dref);
    eg_mixture_args a = {dt, c->gaussian, B, K, C, P, c->sigma, c->lam, EPS};
    char what[160];
    snprintf(what, sizeof what, "mixture_estep %s [%lld,%lld,%lld,%lld]", c->name, (long long)B, (long long)K,
             (long long)C, (long long)P);
    tol tg = dt == EG_F64 ? (tol){1e-13, 1e-12} : (tol){1e-6, 1e-5};
    if (!t->d->mixture_estep || t->d->struct_size < sizeof(eg_backend_desc)) {
        CHECK_MSG(0, "%s: no mixture_estep kernel (backend ABI %u.%u)", t->name, t->d->abi_major, t->d->abi_minor);
    } else if (st_ok(t, t->d->mixture_estep(t->ctx, &a, dpsi_, dy, dg, dloss), what)) {
        double *gg = to_host(t, dt, dg, ng), *gl = to_host(t, dt, dloss, B);
        cmp(t, what, gg, g, ng, tg);
        double worst = 0;
        int64_t at = 0;
        for (int64_t b = 0; b < B; b++) {
            double e = fabs(gl[b] - l[b]) / (mag[b] > 1e-300 ? mag[b] : 1);
            if (!(e <= worst)) worst = e, at = b;
        }
        CHECK_MSG(worst <= (dt == EG_F64 ? 1e-12 : 1e-5), "%s/%s %s loss: relative error %.3g at [%lld] (got %.10g want %.10g)",
                  t->name, dt_name(dt), what, worst, (long long)at, gl[at], l[at]);
        free(gg), free(gl);
        /* backward, with the reference's gamma uploaded (the kernel reads the forward's gamma) */
        snprintf(what, sizeof what, "mixture_estep_backward %s", c->name);
        void *dgr = dev_from(t, dt, g, ng);
        if (st_ok(t, t->d->mixture_estep_backward(t->ctx, &a, dpsi_, dy, dgr, ddl, dd, 0), what)) {
            double *gd = to_host(t, dt, dd, n);
            cmp(t, what, gd, dref, n, tg);
            free(gd);
        }
        snprintf(what, sizeof what, "mixture_estep_backward %s, accumulate", c->name);
        if (st_ok(t, t->d->mixture_estep_backward(t->ctx, &a, dpsi_, dy, dgr, ddl, dacc, 1), what)) {
            double *gd = to_host(t, dt, dacc, n);
            for (int64_t i = 0; i < n; i++)
                dref[i] += prior[i];
            cmp(t, what, gd, dref, n, tg);
            free(gd);
        }
        dev_free(t, dgr);
    }
    dev_free(t, dpsi_), dev_free(t, dy), dev_free(t, ddl), dev_free(t, dg), dev_free(t, dloss), dev_free(t, dd);
    dev_free(t, dacc);
    free(psi), free(y), free(dl), free(prior), free(g), free(l), free(mag), free(dref);
}

/* invalid arguments are refused, not run */
static void test_invalid(tb *t) {
    if (!t->d->mixture_estep || t->dt != EG_F32) return;
    eg_mixture_args bad[3] = {{t->dt, 0, 1, 0, 1, 4, 0.25, 1, 1e-6},  /* k = 0 */
                              {t->dt, 0, 1, 2, 1, 4, 0.25, 1, 1e-31}, /* eps < 1e-30 */
                              {t->dt, 1, 1, 2, 1, 4, 0, 1, 1e-6}};    /* gaussian, sigma 0 */
    void *p = dev_alloc(t, 64), *q = dev_alloc(t, 64);
    for (int i = 0; i < 3; i++)
        CHECK_MSG(t->d->mixture_estep(t->ctx, &bad[i], p, p, q, q) == EG_ERR_INVALID,
                  "%s: mixture_estep accepted invalid arguments (case %d)", t->name, i);
    dev_free(t, p), dev_free(t, q);
}

static void suite(tb *t) {
    for (int i = 0; i < NCASES; i++)
        run_case(t, &CASES[i]);
    test_invalid(t);
}

int main(void) {
    return tb_main("backend mixture", suite);
}
