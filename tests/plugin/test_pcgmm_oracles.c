/* test_pcgmm_oracles.c — the pcgmm plugin's rules against known answers
 * (reference/models-pcgmm-hopfield-bwdam.md §5 items 12–14 and 18), the prior
 * energies' gradients against finite differences, the PC update (eq. 31–32)
 * against -alpha grad F of eq. 29, the reduction of PC to the GMM update, and
 * Algorithm 2's step against autograd and Adam's first step. The plugin's code
 * is linked into this test. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plugins/pcgmm/pcgmm.h"
#include "registry/loader.h"

static eg_ctx *ctx;

static eg_tensor *mat(eg_dtype dt, int64_t r, int64_t c, const double *v) {
    eg_tensor *t = eg_from_host(ctx, EG_F64, EG_DIMS(r, c), v);
    return dt == EG_F64 ? t : eg_cast(t, dt);
}

static void host(eg_tensor *t, double *out) {
    CHECK(eg_to_host_f64(t, out) == EG_OK);
}

/* GMM x-coordinate after `steps` updates from (z, 0), memories (0,0) and (1,0) */
static double gmm_iterate(eg_dtype dt, double sigma, double z, int steps) {
    double mv[4] = {0, 0, 1, 0}, zv[2] = {z, 0}, out[2];
    eg_scope *sc = eg_scope_open(ctx);
    host(pcg_fixed_point(0, mat(dt, 1, 2, zv), mat(dt, 2, 2, mv), sigma, 0, NULL, steps, NULL, NULL), out);
    eg_scope_close(sc);
    return out[0];
}

/* items 12–13 */
static void test_gmm(eg_dtype dt, double tol) {
    CHECK_NEAR(gmm_iterate(dt, 0.5, 0.4, 1), 0.4013123, tol, 0);
    double mv[4] = {0, 0, 1, 0}, zv[2] = {0.4, 0}, w[2];
    eg_scope *sc = eg_scope_open(ctx);
    host(pcg_weights(0, mat(dt, 1, 2, zv), mat(dt, 2, 2, mv), 0.5, 0, NULL), w);
    CHECK_NEAR(w[0], 0.5986877, tol, 0);
    CHECK_NEAR(w[1], 0.4013123, tol, 0);
    eg_scope_close(sc);
    CHECK_NEAR(gmm_iterate(dt, 0.3, 0.4, 300), 0.0040265, 1e-5, 0);
    CHECK_NEAR(gmm_iterate(dt, 0.3, 0.6, 300), 0.9959735, 1e-5, 0);
    CHECK_NEAR(gmm_iterate(dt, 1.0, 0.9, 300), 0.5, 1e-5, 0);
    CHECK(fabs(gmm_iterate(dt, 0.1, 0.4, 10)) < 1e-6);
}

/* item 14, and GMM* with P = I / sigma^2 equals GMM(sigma) */
static void test_equivalences(eg_dtype dt, double tol) {
    eg_rng rng = eg_rng_make(11, 2);
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *M = eg_rand_normal(ctx, &rng, dt, EG_DIMS(12, 8), 0, 1);
    M = eg_scale(eg_mul(M, eg_rsqrt(eg_sum(eg_square(M), 1, 1))), 1.5); /* every |m_i| = 1.5 */
    eg_tensor *Z = eg_rand_normal(ctx, &rng, dt, EG_DIMS(6, 8), 0, 1);
    const double sigmas[3] = {0.3, 0.7, 2.0};
    double worst = 0, worst_star = 0, a[48], b[48], c[48];
    for (int k = 0; k < 3; k++) {
        double s = sigmas[k];
        eg_tensor *logp = eg_full(ctx, dt, EG_DIMS(8), -2 * log(s));
        host(pcg_fixed_point(0, Z, M, s, 0, NULL, 5, NULL, NULL), a);
        host(pcg_fixed_point(1, Z, M, 0, 1 / (s * s), NULL, 5, NULL, NULL), b);
        host(pcg_fixed_point(2, Z, M, 0, 0, logp, 5, NULL, NULL), c);
        for (int i = 0; i < 48; i++)
            worst = fmax(worst, fabs(a[i] - b[i])), worst_star = fmax(worst_star, fabs(a[i] - c[i]));
    }
    CHECK_MSG(worst <= tol, "max |gmm - mchn| = %g", worst);
    CHECK_MSG(worst_star <= tol, "max |gmm - gmm*(P = I/sigma^2)| = %g", worst_star);
    eg_scope_close(sc);
}

/* d sum(E) / dZ by central differences, E [Q] from f(Z) */
typedef eg_tensor *(*energy_fn)(eg_tensor *Z, void *arg);
static void fd_grad(energy_fn f, void *arg, double *z, int Q, int k, double *g) {
    const double h = 1e-6;
    double e[16];
    for (int i = 0; i < Q * k; i++) {
        double keep = z[i], sum[2];
        for (int s = 0; s < 2; s++) {
            z[i] = keep + (s ? -h : h);
            eg_scope *sc = eg_scope_open(ctx);
            host(f(mat(EG_F64, Q, k, z), arg), e);
            eg_scope_close(sc);
            sum[s] = 0;
            for (int q = 0; q < Q; q++)
                sum[s] += e[q];
        }
        z[i] = keep;
        g[i] = (sum[0] - sum[1]) / (2 * h);
    }
}

typedef struct prior_arg {
    eg_tensor *M;
    double sigma, beta;
} prior_arg;
static eg_tensor *gmm_f(eg_tensor *Z, void *a) {
    prior_arg *p = a;
    return pcg_gmm_energy(Z, p->M, p->sigma);
}
static eg_tensor *mchn_f(eg_tensor *Z, void *a) {
    prior_arg *p = a;
    return pcg_mchn_energy(Z, p->M, p->beta);
}

/* grad F_gmm = (z - sum w m) / sigma^2 and grad F_mchn = z - softmax(beta M z) M, vs FD and autograd */
static void test_prior_gradients(void) {
    enum { Q = 3, K = 4, N = 5 };
    eg_rng rng = eg_rng_make(5, 7);
    eg_scope *sc = eg_scope_open(ctx);
    prior_arg pa = {eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(N, K), 0, 1), 0.8, 1.7};
    double z[Q * K], fd[Q * K], an[Q * K], ag[Q * K], mixed[Q * K];
    host(eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(Q, K), 0, 1), z);
    for (int kind = 0; kind < 2; kind++) {
        fd_grad(kind ? mchn_f : gmm_f, &pa, z, Q, K, fd);
        eg_tensor *Z = mat(EG_F64, Q, K, z);
        host(eg_matmul(pcg_weights(kind, Z, pa.M, pa.sigma, pa.beta, NULL), pa.M), mixed);
        for (int i = 0; i < Q * K; i++)
            an[i] = kind ? z[i] - mixed[i] : (z[i] - mixed[i]) / (pa.sigma * pa.sigma);
        eg_tensor *leaf = eg_clone(Z);
        eg_requires_grad(leaf, 1);
        eg_backward(eg_sum_all(kind ? mchn_f(leaf, &pa) : gmm_f(leaf, &pa)));
        host(eg_grad(leaf), ag);
        double e1 = 0, e2 = 0;
        for (int i = 0; i < Q * K; i++)
            e1 = fmax(e1, fabs(an[i] - fd[i])), e2 = fmax(e2, fabs(ag[i] - an[i]));
        CHECK_MSG(e1 < 1e-6, "%s prior: analytic vs FD gradient differ by %g", kind ? "mchn" : "gmm", e1);
        CHECK_MSG(e2 < 1e-10, "%s prior: autograd vs analytic gradient differ by %g", kind ? "mchn" : "gmm", e2);
    }
    eg_scope_close(sc);
}

/* item 18 (CIFAR conv VAE) and the 28x28 conv variant */
static void test_shapes(void) {
    eg_rng rng = eg_rng_make(1, 1);
    char err[256];
    pcg_vae v;
    pcg_vae_cfg cfg = {1, 64, 0, 32, EG_F32, 1};
    CHECK(pcg_vae_init(&v, ctx, &cfg, 3, 32, 32, &rng, err, sizeof err) == EG_OK);
    int64_t sh[8][3];
    int n = pcg_encoder_shapes(&v, sh, 8);
    const int64_t want[5][3] = {{3, 32, 32}, {32, 16, 16}, {64, 8, 8}, {128, 4, 4}, {128, 0, 0}};
    CHECK(n == 5);
    for (int i = 0; i < 5 && i < n; i++)
        CHECK_MSG(sh[i][0] == want[i][0] && sh[i][1] == want[i][1] && sh[i][2] == want[i][2],
                  "encoder shape %d: %lldx%lldx%lld", i, (long long)sh[i][0], (long long)sh[i][1], (long long)sh[i][2]);
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *x = eg_rand_uniform(ctx, &rng, EG_F32, EG_DIMS(2, 3 * 32 * 32), 0, 1), *mu, *lv;
    pcg_encode(&v, x, &mu, &lv);
    CHECK(eg_dim(mu, 0) == 2 && eg_dim(mu, 1) == 64 && eg_dim(lv, 1) == 64);
    /* decoder mirrors it: 64 -> 128x4x4 -> 64x8x8 -> 32x16x16 -> 3x32x32 */
    const int64_t dec[4][3] = {{128, 4, 4}, {64, 8, 8}, {32, 16, 16}, {3, 32, 32}};
    CHECK(v.n_stages == 4);
    eg_tensor *h = mu;
    for (int s = 0; s < v.n_stages && s < 4; s++) {
        h = pcg_stage_forward(&v, s, h);
        CHECK_MSG(eg_ndim(h) == 4 && eg_dim(h, 1) == dec[s][0] && eg_dim(h, 2) == dec[s][1] &&
                      eg_dim(h, 3) == dec[s][2],
                  "decoder stage %d", s);
    }
    eg_tensor *xh = pcg_decode(&v, mu);
    CHECK(eg_dim(xh, 0) == 2 && eg_dim(xh, 1) == 3072);
    double mn = eg_item(eg_min(eg_reshape(xh, EG_DIMS(-1)), 0, 0)),
           mx = eg_item(eg_max(eg_reshape(xh, EG_DIMS(-1)), 0, 0));
    CHECK(mn > 0 && mx < 1); /* sigmoid output */
    eg_scope_close(sc);
    pcg_vae_free(&v);
    /* 1x28x28: two stages, 32x14x14 -> 64x7x7 -> 128 */
    CHECK(pcg_vae_init(&v, ctx, &cfg, 1, 28, 28, &rng, err, sizeof err) == EG_OK);
    n = pcg_encoder_shapes(&v, sh, 8);
    CHECK(n == 4 && sh[1][0] == 32 && sh[1][1] == 14 && sh[2][0] == 64 && sh[2][1] == 7 && sh[3][0] == 128);
    sc = eg_scope_open(ctx);
    CHECK(eg_dim(pcg_decode(&v, eg_zeros(ctx, EG_F32, EG_DIMS(3, 64))), 1) == 784);
    eg_scope_close(sc);
    pcg_vae_free(&v);
    /* conv needs sides divisible by 4 */
    CHECK(pcg_vae_init(&v, ctx, &cfg, 1, 10, 10, &rng, err, sizeof err) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "vae.arch");
    pcg_vae_free(&v);
    CHECK(eg_ctx_status(ctx) == EG_OK);
}

/* a small double-precision VAE for the PC and BP checks */
static void small_vae(pcg_vae *v, int conv, eg_rng *rng) {
    char err[256];
    pcg_vae_cfg cfg = {conv, 3, 6, 2, EG_F64, 0};
    CHECK(pcg_vae_init(v, ctx, &cfg, 1, 8, 8, rng, err, sizeof err) == EG_OK);
    /* bigger weights than He init, so the layers are far from linear */
    for (int i = 0; i < eg_params_count(v->ps); i++) {
        eg_tensor *t = eg_params_get(v->ps, i);
        eg_scope *sc = eg_scope_open(ctx);
        eg_assign(t, eg_add(t, eg_rand_normal(ctx, rng, EG_F64, eg_ndim(t), eg_shape(t), 0, 0.3)));
        eg_scope_close(sc);
        eg_requires_grad(t, 0);
    }
}

typedef struct pc_arg {
    const pcg_vae *v;
    pcg_pc_state *st;
    int layer;
    eg_tensor *M;
    double sigma;
} pc_arg;
static eg_tensor *pc_f(eg_tensor *U, void *a) {
    pc_arg *p = a;
    pcg_pc_state s = *p->st;
    s.u[p->layer] = eg_reshape(U, eg_ndim(p->st->u[p->layer]), eg_shape(p->st->u[p->layer]));
    return pcg_pc_energy(p->v, &s, p->M, p->sigma);
}

/* eq. 31-32: with sigma = 1 every layer's PC step is -alpha grad F (eq. 29) */
static void test_pc_gradient(int conv) {
    eg_rng rng = eg_rng_make(21 + conv, 3);
    pcg_vae v;
    small_vae(&v, conv, &rng);
    enum { Q = 2 };
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *M = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(4, 3), 0, 1);
    eg_tensor *X = eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(Q, 64), 0, 1);
    eg_tensor *Z = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(Q, 3), 0, 1);
    pcg_pc_state st;
    pcg_pc_init(&v, &st, Z, X);
    /* move the hidden layers off the forward pass so every error is non-zero */
    for (int l = 1; l < st.n; l++)
        st.u[l] = eg_add(st.u[l], eg_rand_normal(ctx, &rng, EG_F64, eg_ndim(st.u[l]), eg_shape(st.u[l]), 0, 0.2));
    const double alpha = 0.05;
    pcg_pc_state nx = pcg_pc_step(&v, &st, M, 1.0, alpha, 1);
    double worst = 0, scale = 0;
    for (int l = 0; l < st.n; l++) {
        int64_t n = eg_numel(st.u[l]);
        double *u = malloc(sizeof(double) * (size_t)n), *u1 = malloc(sizeof(double) * (size_t)n),
               *g = malloc(sizeof(double) * (size_t)n);
        host(st.u[l], u);
        host(nx.u[l], u1);
        pc_arg pa = {&v, &st, l, M, 1.0};
        fd_grad(pc_f, &pa, u, Q, (int)(n / Q), g);
        for (int64_t i = 0; i < n; i++) {
            worst = fmax(worst, fabs((u1[i] - u[i]) / alpha + g[i]));
            scale = fmax(scale, fabs(g[i]));
        }
        free(u), free(u1), free(g);
    }
    CHECK_MSG(worst < 1e-5 * (1 + scale), "%s PC step vs -alpha grad F: max diff %g (grad scale %g)",
              conv ? "conv" : "mlp", worst, scale);
    /* alpha = 1, no bottom-up: z moves to the GMM update exactly */
    pcg_pc_state td = pcg_pc_step(&v, &st, M, 0.7, 1.0, 0);
    double a[6], b[6], d = 0;
    host(td.u[0], a);
    host(pcg_fixed_point(0, Z, M, 0.7, 0, NULL, 1, NULL, NULL), b);
    for (int i = 0; i < 6; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    CHECK_MSG(d < 1e-12, "PC (alpha 1, no bottom-up) vs GMM update: %g", d);
    eg_scope_close(sc);
    pcg_vae_free(&v);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context: %s", eg_ctx_message(ctx));
}

typedef struct bp_arg {
    const pcg_vae *v;
    pcg_bp_cfg c;
    eg_tensor *X, *M;
} bp_arg;
static eg_tensor *bp_f(eg_tensor *Z, void *a) {
    bp_arg *p = a;
    return pcg_bp_objective(p->v, &p->c, Z, p->X, p->M);
}

/* Algorithm 2: the objective's autograd gradient vs FD; Adam's first step is
 * z - lr sign(grad); a few steps decrease every query's objective */
static void test_bp(int hopfield) {
    eg_rng rng = eg_rng_make(31 + hopfield, 3);
    pcg_vae v;
    small_vae(&v, 0, &rng);
    enum { Q = 3, K = 3 };
    eg_scope *sc = eg_scope_open(ctx);
    bp_arg ba = {&v,
                 {hopfield, 0.5, 2.0, 0.3, 1e-3, 1},
                 eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(Q, 64), 0, 1),
                 eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(5, K), 0, 1)};
    double z[Q * K], fd[Q * K], ag[Q * K], z1[Q * K];
    host(eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(Q, K), 0, 1), z);
    fd_grad(bp_f, &ba, z, Q, K, fd);
    eg_tensor *leaf = mat(EG_F64, Q, K, z);
    eg_requires_grad(leaf, 1);
    eg_backward(eg_sum_all(bp_f(leaf, &ba)));
    host(eg_grad(leaf), ag);
    double e = 0, step = 0;
    for (int i = 0; i < Q * K; i++)
        e = fmax(e, fabs(ag[i] - fd[i]));
    CHECK_MSG(e < 1e-7, "BP objective: autograd vs FD gradient %g", e);
    host(pcg_bp_retrieve(&v, &ba.c, mat(EG_F64, Q, K, z), ba.X, ba.M, NULL), z1);
    for (int i = 0; i < Q * K; i++)
        step = fmax(step, fabs(z1[i] - (z[i] - ba.c.lr * (ag[i] > 0 ? 1 : -1))));
    CHECK_MSG(step < 1e-8, "Adam's first step differs from z - lr sign(grad) by %g", step);
    double e0[Q], e1[Q];
    host(bp_f(mat(EG_F64, Q, K, z), &ba), e0);
    ba.c.steps = 5, ba.c.lr = 0.01;
    host(bp_f(pcg_bp_retrieve(&v, &ba.c, mat(EG_F64, Q, K, z), ba.X, ba.M, NULL), &ba), e1);
    for (int q = 0; q < Q; q++)
        CHECK_MSG(e1[q] < e0[q], "query %d: objective %g -> %g did not decrease", q, e0[q], e1[q]);
    eg_scope_close(sc);
    pcg_vae_free(&v);
}

static void test_descriptor(void) {
    const eg_model_desc *d = eg_model_entry();
    CHECK(d && d->abi_major == EG_MODEL_ABI_MAJOR && strcmp(d->name, "pcgmm") == 0);
    const char *want[] = {"variant",       "sigma",      "beta",        "steps",    "alpha",    "gamma",
                          "bp_lr",         "bp_steps",   "star.epochs", "star.lr",  "vae.arch", "vae.latent",
                          "vae.kl_weight", "vae.epochs", "vae.lr",      "vae.batch"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int found = 0;
        for (int k = 0; k < d->n_params; k++)
            found |= strcmp(d->params[k].key, want[i]) == 0;
        CHECK_MSG(found, "parameter %s missing", want[i]);
    }
    CHECK(d->fit && d->eval && d->save && d->load);
    CHECK(d->n_tasks == 1 && strcmp(d->tasks[0], "retrieve") == 0);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_descriptor();
    test_gmm(EG_F64, 5e-7);
    test_gmm(EG_F32, 2e-6);
    test_equivalences(EG_F64, 1e-10);
    test_equivalences(EG_F32, 1e-5);
    test_prior_gradients();
    test_shapes();
    test_pc_gradient(0);
    test_pc_gradient(1);
    test_bp(0);
    test_bp(1);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
