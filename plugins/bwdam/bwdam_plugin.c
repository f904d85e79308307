/* bwdam_plugin.c — the `bwdam` model plugin: descriptor, parameter schema and
 * the eval of the retrieve task on Gaussian data (docs/models/bwdam.md).
 *
 * Data: the `gaussians` and `gaussians-hdf5` sources, whose item rows are
 * [m (d), Σ (d×d row-major)] (height d + 1, width d) or [m (d), variances (d)]
 * (height 2, width d). The shared task cuts them into blocks (task.memories) and
 * names the targets (the first task.queries items of a block); the queries are
 * made here, at an exact W2 radius (task.query.*), since the pixel corruptions
 * of task.corrupt do not apply to Gaussians. Scoring is in W2 (bwdam_score.c).
 * Variants: bw (the Φ step), eu-dam (MCHN on (m, vec Σ^½)), pixel-dam (MCHN on
 * raw image items, scored by the shared task in pixels). On image data bw and
 * eu-dam store the Gaussian embeddings N(μ(x), diag σ²(x)) of an MLP VAE trained
 * in fit (or loaded with init_from, also from a pcgmm run: bwdam_vae.c). */
#include <stdlib.h>
#include <string.h>

#include "bwdam_plugin.h"

static const eg_param_spec bwdam_params[] = {
    {"variant", EG_PARAM_ENUM, "bw", 0, 0, 0, "bw|eu-dam|pixel-dam", "",
     "bw: the Bures-Wasserstein Φ step; eu-dam: MCHN on (m, vec Σ^½); pixel-dam: MCHN on raw image items"},
    {"beta", EG_PARAM_FLOAT, "1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "1/W2²", "inverse temperature of the Gibbs weights"},
    {"steps", EG_PARAM_INT, "10", EG_RANGE_MIN, 1, 0, NULL, "updates", "maximum retrieval updates"},
    {"tol", EG_PARAM_FLOAT, "1e-6", EG_RANGE_MIN, 0, 0, NULL, "W2",
     "a query has converged when one update moves it by less (W2; eu-dam and pixel-dam: Euclidean)"},
    {"cov", EG_PARAM_ENUM, "diag", 0, 0, 0, "full|diag", "",
     "covariance handling: full (eigendecompositions) or diag (closed forms; needs diagonal covariances)"},
    {"eig_floor", EG_PARAM_FLOAT, "1e-10", EG_RANGE_MIN, 0, 0, NULL, "",
     "eigenvalues are clipped to at least this before matrix square roots"},
    /* image data: the Gaussians are the encoder outputs of an MLP VAE (pcgmm's vae.arch mlp) */
    {"vae.latent", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "", "image data: VAE code size d of the Gaussians"},
    {"vae.hidden", EG_PARAM_INT, "512", EG_RANGE_MIN, 1, 0, NULL, "", "image data: VAE hidden width (two layers)"},
    {"vae.epochs", EG_PARAM_INT, "5", EG_RANGE_MIN, 0, 0, NULL, "epochs", "image data: VAE training epochs"},
    {"vae.batch", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "images", "image data: VAE batch size"},
    {"vae.lr", EG_PARAM_FLOAT, "1e-3", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "image data: VAE Adam learning rate"},
    {"vae.kl_weight", EG_PARAM_FLOAT, "0.005", EG_RANGE_MIN, 0, 0, NULL, "",
     "image data: weight of the KL term per image (the squared error is summed over pixels)"},
    {"vae.train_items", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "images",
     "image data: train the VAE on the first this many training images (0 = all)"},
};

static const eg_param_spec bwdam_task_params[] = {
    {"query.kind", EG_PARAM_ENUM, "dilate", 0, 0, 0, "dilate|random", "",
     "Gaussian queries: radial dilation from δ0 (dilate) or a random direction (random), at W2 = query.radius"},
    {"query.radius", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN, 0, 0, NULL, "W2",
     "W2 distance of each query from its target"},
    {"query.mean_share", EG_PARAM_FLOAT, "0.5", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "random: share of query.radius² moved into the mean (the rest into the covariance)"},
};

static const char *const bwdam_tasks[] = {"retrieve"};

static const eg_metric_spec bwdam_metrics[] = {
    {"retrieval/success", EG_GOAL_MAX, "fraction",
     "queries whose final state's W2-nearest stored Gaussian is the target"},
    {"retrieval/converged", EG_GOAL_MAX, "fraction", "queries ending within task.tolerance (W2) of the target"},
    {"retrieval/within_tol", EG_GOAL_MAX, "fraction", "same as retrieval/converged (the shared task's name)"},
    {"retrieval/w2_final", EG_GOAL_MIN, "W2", "mean W2 of the final states to their targets"},
    {"retrieval/mse", EG_GOAL_MIN, "W2²", "mean squared W2 of the final states to their targets"},
    {"retrieval/steps", EG_GOAL_MIN, "updates", "mean updates until a query moved less than tol"},
};

static eg_status bwdam_create(eg_run *run, void **self) {
    bw_model *m = calloc(1, sizeof *m);
    if (!m) return eg_run_fail(run, EG_ERR_NOMEM, "bwdam: out of memory");
    bw_dam *h = &m->h;
    h->variant = eg_param_is(run, "variant", "eu-dam")      ? BW_EU
                 : eg_param_is(run, "variant", "pixel-dam") ? BW_PIXEL
                                                            : BW_BW;
    h->beta = eg_param_float(run, "beta");
    h->steps = (int)eg_param_int(run, "steps");
    h->tol = eg_param_float(run, "tol");
    h->full = eg_param_is(run, "cov", "full");
    h->eig_floor = eg_param_float(run, "eig_floor");
    bw_vae_cfg *c = &m->vcfg;
    c->latent = eg_param_int(run, "vae.latent"), c->hidden = eg_param_int(run, "vae.hidden");
    c->epochs = (int)eg_param_int(run, "vae.epochs"), c->batch = eg_param_int(run, "vae.batch");
    c->lr = eg_param_float(run, "vae.lr"), c->kl_weight = eg_param_float(run, "vae.kl_weight");
    c->train_items = eg_param_int(run, "vae.train_items");
    *self = m;
    /* bw / eu-dam on images: Gaussian embeddings from a VAE */
    const eg_dataset *ds = eg_run_dataset(run, NULL);
    int64_t d;
    int full;
    if (h->variant != BW_PIXEL && ds && !bw_gaussian_rows(ds, &d, &full)) {
        m->images = 1;
        eg_rng rng = eg_run_rng(run, "init");
        eg_status st = bw_vae_init(&m->vae, eg_run_ctx(run), ds->dim, c->latent, c->hidden, &rng);
        if (st != EG_OK) return eg_run_fail(run, st, "bwdam: building the VAE: %s", eg_ctx_message(eg_run_ctx(run)));
    }
    return EG_OK;
}

static void bwdam_destroy(void *self) {
    bw_model *m = self;
    if (m && m->images) bw_vae_free(&m->vae);
    free(m);
}

static eg_status bwdam_fit(void *self, eg_run *run) {
    bw_model *m = self;
    if (!m->images) return EG_OK; /* nothing to train */
    if (m->vae_loaded) {
        eg_run_log(run, "bwdam: VAE weights from init_from; not retrained");
        return EG_OK;
    }
    const eg_dataset *tr = eg_run_dataset(run, "train");
    if (!tr) return eg_run_fail(run, EG_ERR_NOTFOUND, "bwdam: the data source has no train split for the VAE");
    if (tr->dim != m->vae.d)
        return eg_run_fail(run, EG_ERR_SPEC, "bwdam: train items have %lld values, the VAE expects %lld",
                           (long long)tr->dim, (long long)m->vae.d);
    return bw_vae_train(&m->vae, run, tr, &m->vcfg);
}

static eg_status bwdam_save(void *self, eg_run *run) {
    bw_model *m = self;
    return m->images ? bw_vae_save(&m->vae, run) : EG_OK;
}

static eg_status bwdam_load(void *self, eg_run *run) {
    bw_model *m = self;
    if (!m->images) return EG_OK;
    eg_status st = bw_vae_load(&m->vae, run);
    m->vae_loaded = st == EG_OK;
    return st;
}

static eg_status bwdam_eval(void *self, eg_run *run) {
    const bw_model *m = self;
    if (m->h.variant == BW_PIXEL) return bw_eval_pixels(&m->h, run);
    return bw_eval_gaussians(m, run);
}

EG_MODEL_DEFINE(bwdam,
    .version = "1.0.0",
    .summary = "dense associative memory over Gaussians in the Bures-Wasserstein geometry (bw), "
               "with Euclidean (eu-dam) and pixel (pixel-dam) baselines",
    .params = bwdam_params,
    .n_params = EG_COUNT(bwdam_params),
    .tasks = bwdam_tasks,
    .n_tasks = 1,
    .task_params = bwdam_task_params,
    .n_task_params = EG_COUNT(bwdam_task_params),
    .metrics = bwdam_metrics,
    .n_metrics = EG_COUNT(bwdam_metrics),
    .create = bwdam_create,
    .fit = bwdam_fit, /* the VAE, on image data only */
    .eval = bwdam_eval,
    .save = bwdam_save,
    .load = bwdam_load,
    .init_from_models = "pcgmm", /* its vae.arch: mlp is this VAE, under the same weight names */
    .destroy = bwdam_destroy)
