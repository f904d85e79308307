/* test_pcgmm_blocks.c — the pcgmm plugin's batched retrieval of several blocks.
 *
 * 1. pcg_retrieve_blocks on G = 3 blocks at once (memories [G, N, k], one batched
 *    GEMM per product) gives the codes of three one-block calls, for every latent
 *    variant (float64, tolerance 1e-9), including the step counts of the fixed points.
 * 2. The VFE the PC step reports for its input state (fused into the step) equals
 *    pcg_pc_energy of that state (eq. 29), for the MLP and the conv decoder, with
 *    one block and with batched blocks.
 *    The conv VAE has batch norm (vae.batch_norm), so both hold through it too.
 * 3. pcg_group_blocks: about PCG_GROUP_ROWS rows, at least 1, at most the
 *    blocks and PCG_MAX_GROUP. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plugins/pcgmm/pcgmm.h"
#include "registry/loader.h"

static eg_ctx *ctx;

enum { G = 3, N = 5, Q = 2, D = 64, K = 3 };

/* a small double-precision VAE on 8x8 images with weights far from linear; the conv one
 * with batch norm (evaluation mode: running statistics moved off 0 and 1) */
static void small_vae(pcg_vae *v, int conv, eg_rng *rng) {
    char err[256];
    pcg_vae_cfg cfg = {conv, K, 6, 2, EG_F64, conv};
    CHECK(pcg_vae_init(v, ctx, &cfg, 1, 8, 8, rng, err, sizeof err) == EG_OK);
    CHECK(v->bn == conv);
    for (int i = 0; i < eg_params_count(v->ps); i++) {
        eg_tensor *t = eg_params_get(v->ps, i);
        const char *name = eg_params_name(v->ps, i);
        eg_scope *sc = eg_scope_open(ctx);
        if (strstr(name, "running_var"))
            eg_assign(t, eg_rand_uniform(ctx, rng, EG_F64, eg_ndim(t), eg_shape(t), 0.5, 2.0));
        else
            eg_assign(t, eg_add(t, eg_rand_normal(ctx, rng, EG_F64, eg_ndim(t), eg_shape(t), 0, 0.3)));
        eg_scope_close(sc);
        eg_requires_grad(t, 0);
    }
}

static double max_diff(eg_tensor *a, eg_tensor *b) {
    int64_t n = eg_numel(a);
    if (n != eg_numel(b)) return INFINITY;
    double *x = malloc(sizeof(double) * (size_t)n), *y = malloc(sizeof(double) * (size_t)n), d = 0;
    CHECK(eg_to_host_f64(a, x) == EG_OK && eg_to_host_f64(b, y) == EG_OK);
    for (int64_t i = 0; i < n; i++)
        d = fmax(d, fabs(x[i] - y[i]));
    free(x), free(y);
    return d;
}

static void test_grouped(int conv) {
    eg_rng rng = eg_rng_make(41 + conv, 5);
    pcg_model m;
    memset(&m, 0, sizeof m);
    small_vae(&m.vae, conv, &rng);
    m.sigma = 0.7, m.beta = 2.0, m.alpha = 0.1, m.gamma = 0.3, m.bp_lr = 0.05, m.bp_steps = 3, m.steps = 4;
    m.star_logp = eg_persistent(ctx, EG_F64, EG_DIMS(K));
    eg_scope *sc = eg_scope_open(ctx);
    eg_assign(m.star_logp, eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(K), 0, 0.5));
    eg_tensor *X = eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(G * N, D), 0, 1);
    eg_tensor *q = eg_add(
        eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(G * Q, D), 0, 0.2),
        eg_concat((eg_tensor *[]){eg_narrow(X, 0, 0, Q), eg_narrow(X, 0, N, Q), eg_narrow(X, 0, 2 * N, Q)}, G, 0));
    /* the fused encoder mean is the first half of the full head */
    eg_tensor *mu;
    pcg_encode(&m.vae, X, &mu, NULL);
    CHECK_MSG(max_diff(mu, pcg_encode_mean(&m.vae, X)) < 1e-12, "encode_mean vs encode");
    const pcg_variant vs[] = {PCG_VAE_GMM,    PCG_VAE_HOPFIELD,    PCG_VAE_GMM_STAR, PCG_VAE_PC_GMM,
                              PCG_VAE_BP_GMM, PCG_VAE_BP_HOPFIELD, PCG_BP_GMM};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
        m.variant = vs[i];
        eg_tensor *Mz, *steps = NULL;
        eg_tensor *z = pcg_retrieve_blocks(&m, G, X, q, &Mz, &steps, NULL);
        CHECK(eg_ndim(z) == 2 && eg_dim(z, 0) == G * Q && eg_dim(z, 1) == K);
        CHECK(eg_dim(Mz, 0) == G * N && eg_dim(Mz, 1) == K);
        double dz = 0, dm = 0, ds = 0;
        for (int g = 0; g < G; g++) {
            eg_tensor *Mz1, *steps1 = NULL;
            eg_tensor *z1 =
                pcg_retrieve_blocks(&m, 1, eg_narrow(X, 0, g * N, N), eg_narrow(q, 0, g * Q, Q), &Mz1, &steps1, NULL);
            dz = fmax(dz, max_diff(z1, eg_narrow(z, 0, g * Q, Q)));
            dm = fmax(dm, max_diff(Mz1, eg_narrow(Mz, 0, g * N, N)));
            if (steps && steps1)
                ds = fmax(ds, max_diff(steps1, eg_numel(steps) == 1 ? steps : eg_narrow(steps, 0, g * Q, Q)));
        }
        CHECK_MSG(dz < 1e-9 && dm < 1e-12 && ds == 0,
                  "%s variant %d: grouped vs one block: codes %g, memories %g, steps %g", conv ? "conv" : "mlp",
                  (int)vs[i], dz, dm, ds);
    }
    eg_scope_close(sc);
    eg_tensor_free(m.star_logp);
    pcg_vae_free(&m.vae);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context: %s", eg_ctx_message(ctx));
}

static void test_fused_energy(int conv) {
    eg_rng rng = eg_rng_make(51 + conv, 3);
    pcg_vae v;
    small_vae(&v, conv, &rng);
    eg_scope *sc = eg_scope_open(ctx);
    for (int batched = 0; batched < 2; batched++) {
        int64_t nq = batched ? G * Q : Q;
        eg_tensor *M = batched ? eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(G, N, K), 0, 1)
                               : eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(N, K), 0, 1);
        eg_tensor *X = eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(nq, D), 0, 1);
        eg_tensor *Z = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(nq, K), 0, 1);
        pcg_pc_state st;
        pcg_pc_init(&v, &st, Z, X);
        for (int l = 1; l < st.n; l++) /* non-zero hidden errors */
            st.u[l] = eg_add(st.u[l], eg_rand_normal(ctx, &rng, EG_F64, eg_ndim(st.u[l]), eg_shape(st.u[l]), 0, 0.2));
        eg_tensor *E = NULL;
        pcg_pc_step_energy(&v, &st, M, 0.6, 0.1, &E);
        eg_tensor *want = pcg_pc_energy(&v, &st, M, 0.6);
        CHECK(E && eg_numel(E) == nq && eg_numel(want) == nq);
        double d = E ? max_diff(E, want) : INFINITY, scale = fabs(eg_item(want));
        CHECK_MSG(d < 1e-10 * (1 + scale), "%s decoder, %s: fused VFE vs eq. 29: %g", conv ? "conv" : "mlp",
                  batched ? "batched blocks" : "one block", d);
    }
    eg_scope_close(sc);
    pcg_vae_free(&v);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context: %s", eg_ctx_message(ctx));
}

static void test_group_size(void) {
    CHECK(pcg_group_blocks(100, 10, 100) == PCG_GROUP_ROWS / 110);
    CHECK(pcg_group_blocks(100, 10, 5) == 5);
    CHECK(pcg_group_blocks(10000, 10, 1) == 1);
    CHECK(pcg_group_blocks(20000, 10, 3) == 1);
    CHECK(pcg_group_blocks(5, 1, 1000) == PCG_MAX_GROUP);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_group_size();
    test_grouped(0);
    test_grouped(1);
    test_fused_energy(0);
    test_fused_energy(1);
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
