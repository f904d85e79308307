/* grad/test_compvae_grad — finite-difference checks of the CompVAE pieces
 * (plugins/compvae): the closed-form L_w (eq. 9) with the rho parametrisation,
 * the correlated sampler, the variance floor, L_z, L_x, a GraphBlock, and the
 * whole negative ELBO of a tiny CompVAE (sines and dots) with respect to
 * parameters of every network. The plugin's code is linked in. */
#include "compvae.h"
#include "grad_harness.h"

static eg_tensor *f_klw(eg_tensor *const *x, void *u) {
    (void)u;
    return cv_kl_w(x[0], x[1], x[2], x[3], x[4]);
}
static eg_tensor *f_sample(eg_tensor *const *x, void *u) {
    (void)u;
    eg_tensor *rho, *rest;
    cv_rho(x[2], &rho, &rest);
    return cv_sample_w(x[0], x[1], rho, x[3]);
}
static eg_tensor *f_rest(eg_tensor *const *x, void *u) {
    (void)u;
    eg_tensor *rho, *rest;
    cv_rho(x[0], &rho, &rest);
    return rest;
}
static eg_tensor *f_floor(eg_tensor *const *x, void *u) {
    (void)u;
    return cv_floor_logvar(x[0], 0.1);
}
static eg_tensor *f_lz(eg_tensor *const *x, void *u) {
    (void)u;
    return cv_loss_z(x[0], x[1], x[2], x[3]);
}
static eg_tensor *f_lx(eg_tensor *const *x, void *u) {
    (void)u;
    return cv_loss_x(x[0], x[1], x[2], 0.05);
}
static eg_tensor *f_graph(eg_tensor *const *x, void *u) {
    return cv_graph_forward(u, x[0]);
}

typedef struct whole {
    compvae *m;
    cv_batch *b;
    eg_rng rng;
} whole;

static eg_tensor *f_whole(eg_tensor *const *x, void *u) {
    (void)x;
    whole *w = u;
    eg_rng r = w->rng; /* the same noise in every evaluation */
    cv_losses L = cv_forward(w->m, w->b, &r);
    return eg_add(eg_add(L.lw, L.lz), L.lx);
}

static void check_model(eg_ctx *ctx, int problem, const char *const *names, int n_names) {
    cv_config c = {0};
    c.problem = problem;
    c.w_dim = 3;
    c.z_dim = 2;
    c.hidden = 4;
    c.graph_blocks = 1;
    c.sigma_min = 0.05;
    c.dtype = EG_F64;
    if (problem == CV_SINES) {
        c.channels[0] = 2, c.channels[1] = 2, c.channels[2] = 2, c.n_channels = 3;
    } else {
        c.channels[0] = 2, c.channels[1] = 2, c.n_channels = 2, c.size = 8;
    }
    eg_rng init = eg_rng_named(5, "compvae-grad");
    compvae m;
    CHECK(cv_create(&m, ctx, &c, &init) == EG_OK);
    cv_batch b;
    eg_rng data = eg_rng_named(6, "compvae-grad-data");
    CHECK(cv_batch_make(&m, &data, 2, 2, &b) == EG_OK);
    whole w = {&m, &b, eg_rng_named(7, "compvae-grad-noise")};
    for (int i = 0; i < n_names; i++) {
        eg_tensor *p = eg_params_find(m.ps, names[i]);
        CHECK_MSG(p != NULL, "parameter %s", names[i]);
        if (!p) continue;
        gh_in in[1] = {gh_ext(p)};
        char label[128];
        snprintf(label, sizeof label, "%s elbo d/d %s", problem == CV_SINES ? "sines" : "dots", names[i]);
        gh_check(ctx, label, f_whole, &w, 1, in);
    }
    cv_batch_free(&b);
    cv_destroy(&m);
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    const int64_t s3[3] = {2, 3, 4};
    gh_in kl[5] = {gh_f64(3, s3, -1, 1), gh_f64(3, s3, -1, 0.5), gh_f64(3, s3, -2, 1), gh_f64(3, s3, -1, 1),
                   gh_f64(3, s3, -1, 0.5)};
    gh_check(ctx, "L_w closed form (eq. 9)", f_klw, NULL, 5, kl);
    gh_in sa[4] = {gh_f64(3, s3, -1, 1), gh_f64(3, s3, -1, 0.5), gh_f64(3, s3, -2, 1), gh_const(gh_f64(3, s3, -2, 2))};
    gh_check(ctx, "correlated sampler w = mu + s (eps - rho sum eps)", f_sample, NULL, 4, sa);
    gh_in re[1] = {gh_f64(3, s3, -3, 2)};
    gh_check(ctx, "ln(1 - sum rho) from the log-softmax", f_rest, NULL, 1, re);
    const int64_t s2[2] = {3, 5};
    gh_in fl[1] = {gh_gap(gh_f64(2, s2, -9, 4), 0.05)};
    gh_check(ctx, "variance floor", f_floor, NULL, 1, fl);
    gh_in lz[4] = {gh_f64(2, s2, -1, 1), gh_f64(2, s2, -1, 1), gh_f64(2, s2, -1, 1), gh_f64(2, s2, -1, 1)};
    gh_check(ctx, "L_z", f_lz, NULL, 4, lz);
    gh_in lx[3] = {gh_f64(2, s2, -1, 1), gh_f64(2, s2, -1, 1), gh_f64(2, s2, -2, 1)};
    gh_check(ctx, "L_x", f_lx, NULL, 3, lx);

    eg_params *ps = eg_params_new(ctx);
    eg_params_set_dtype(ps, EG_F64);
    eg_rng rng = eg_rng_named(4, "graph");
    cv_graph gs, gc;
    CHECK(cv_graph_init(&gs, ps, "gs", 3, 2, 0, &rng) == EG_OK);
    CHECK(cv_graph_init(&gc, ps, "gc", 3, 2, 1, &rng) == EG_OK);
    gh_in gi[5] = {gh_f64(3, (const int64_t[]){2, 3, 3}, -1, 1), gh_ext(gs.g1.l1.weight), gh_ext(gs.g2.l2.weight),
                   gh_ext(gs.l1.weight), gh_ext(gs.l3.bias)};
    gh_check(ctx, "GraphBlock (sines)", f_graph, &gs, 5, gi);
    gh_in gj[4] = {gh_f64(3, (const int64_t[]){2, 3, 3}, -1, 1), gh_ext(gc.g3.l1.weight), gh_ext(gc.f2.l2.weight),
                   gh_ext(gc.l1.bias)};
    gh_check(ctx, "GraphBlock (colour)", f_graph, &gc, 4, gj);
    eg_params_free(ps);

    const char *sines[] = {"enc.0.weight",  "enc.4.bias",       "enc.res.l1.weight", "qz.mu.weight",  "qz.lv.bias",
                           "qw.emb.weight", "qw.gb0.l1.weight", "qw.gb0.g2.l1.bias", "qw.rho.weight", "qw.lv.bias",
                           "pw.mu.weight",  "pw.lv.weight",     "pz.lv.weight",      "px.in.weight",  "dec.0.weight",
                           "dec.4.weight",  "px.mu.weight",     "px.lv.bias"};
    check_model(ctx, CV_SINES, sines, (int)(sizeof sines / sizeof *sines));
    const char *dots[] = {"enc.0.weight",  "enc.1.bias",          "qz.lv.weight",   "qw.emb.weight",
                          "qw.loc.weight", "qw.gb0.f2.l1.weight", "qw.rho.bias",    "pw.emb.weight",
                          "pw.loc.weight", "pw.lv.bias",          "pz.r.l1.weight", "px.z.weight",
                          "px.out.bias",   "dec.0.weight",        "px.mu.bias",     "px.lv.weight"};
    check_model(ctx, CV_DOTS, dots, (int)(sizeof dots / sizeof *dots));
    gh_close(ctx);
    return eg_test_finish();
}
