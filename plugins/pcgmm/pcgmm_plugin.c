/* pcgmm_plugin.c — the `pcgmm` model plugin: descriptor, parameter schema,
 * create / destroy. Training and weights are in pcgmm_fit.c, the retrieval
 * task in pcgmm_eval.c, the rules in pcgmm_prior.c, pcgmm_bp.c, pcgmm_pc.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcgmm.h"

#define VARIANTS "gmm|vae-gmm|vae-gmm-star|bp-gmm|vae-bp-gmm|vae-pc-gmm|vae-hopfield|vae-bp-hopfield"

static const eg_param_spec pcgmm_params[] = {
    {"variant", EG_PARAM_ENUM, "vae-gmm", 0, 0, 0, VARIANTS, "",
     "retrieval model: balanced GMM on pixels (gmm) or on the VAE code, learned precision (star), "
     "BP / PC inference through the decoder, MCHN prior (hopfield)"},
    {"sigma", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "data units",
     "GMM component std (latent or pixel units)"},
    {"beta", EG_PARAM_FLOAT, "100", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "MCHN inverse temperature (hopfield variants)"},
    {"steps", EG_PARAM_INT, "10", EG_RANGE_MIN, 1, 0, NULL, "updates",
     "fixed-point updates (gmm, vae-gmm, vae-gmm-star, vae-hopfield) or PC iterations (vae-pc-gmm)"},
    {"alpha", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "vae-pc-gmm inference rate (Algorithm 1)"},
    {"gamma", EG_PARAM_FLOAT, "0.005", EG_RANGE_MIN, 0, 0, NULL, "",
     "weight of the prior energy in the BP objective (Algorithm 2, eq. 46)"},
    {"bp_lr", EG_PARAM_FLOAT, "0.5", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "Adam learning rate on z (BP variants)"},
    {"bp_steps", EG_PARAM_INT, "100", EG_RANGE_MIN, 1, 0, NULL, "steps", "Adam steps on z (BP variants)"},
    {"star.epochs", EG_PARAM_INT, "20", EG_RANGE_MIN, 0, 0, NULL, "epochs",
     "vae-gmm-star: passes over the training blocks to learn the precision"},
    {"star.lr", EG_PARAM_FLOAT, "0.01", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "vae-gmm-star: Adam learning rate"},
    {"vae.arch", EG_PARAM_ENUM, "mlp", 0, 0, 0, "mlp|conv", "",
     "VAE: MLP, or conv (notes §1.3; images whose sides divide by 4)"},
    {"vae.latent", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "", "code size"},
    {"vae.hidden", EG_PARAM_INT, "512", EG_RANGE_MIN, 1, 0, NULL, "", "mlp hidden width (two hidden layers)"},
    {"vae.features", EG_PARAM_INT, "32", EG_RANGE_MIN, 1, 0, NULL, "",
     "conv channels of the first stage (doubled per stage)"},
    {"vae.batch_norm", EG_PARAM_BOOL, "true", 0, 0, 0, NULL, "",
     "conv VAE: batch norm after every encoder conv and inner decoder upconv (the authors' CIFARConvAE, "
     "notes §1.3); false for conv VAEs trained before it existed"},
    {"vae.kl_weight", EG_PARAM_FLOAT, "0.005", EG_RANGE_MIN, 0, 0, NULL, "",
     "KL weight per image against the pixel-summed squared error (authors: 0.1 / batch 20)"},
    {"vae.epochs", EG_PARAM_INT, "5", EG_RANGE_MIN, 0, 0, NULL, "epochs", "VAE training epochs"},
    {"vae.lr", EG_PARAM_FLOAT, "1e-3", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "VAE Adam learning rate"},
    {"vae.batch", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "images", "VAE batch size"},
    {"vae.train_items", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "images",
     "train the VAE (and GMM*) on the first N training images only (0 = all)"},
};

static const char *const pcgmm_tasks[] = {"retrieve"};

static const eg_metric_spec pcgmm_metrics[] = {
    {"retrieval/success", EG_GOAL_MAX, "fraction",
     "queries whose final state (code, or pixels for gmm) is strictly nearest to their own stored pattern"},
    {"retrieval/within_tol", EG_GOAL_MAX, "fraction",
     "queries ending within task.tolerance of the target (the paper: 5 in a 64-d latent, 2 in pixels)"},
    {"retrieval/mse", EG_GOAL_MIN, "", "mean squared error of the final state to the target"},
    {"retrieval/steps", EG_GOAL_MIN, "updates", "mean updates until the state changed less than 1e-6"},
    {"vae/recon", EG_GOAL_MIN, "", "VAE reconstruction: squared error per pixel on the test split (z = mu)"},
    {"vae/kl", EG_GOAL_NONE, "nats", "VAE KL(q(z|x) || N(0, I)) per test image"},
};

static const struct {
    const char *name;
    pcg_variant v;
} variant_names[] = {
    {"gmm", PCG_GMM},
    {"vae-gmm", PCG_VAE_GMM},
    {"vae-gmm-star", PCG_VAE_GMM_STAR},
    {"bp-gmm", PCG_BP_GMM},
    {"vae-bp-gmm", PCG_VAE_BP_GMM},
    {"vae-pc-gmm", PCG_VAE_PC_GMM},
    {"vae-hopfield", PCG_VAE_HOPFIELD},
    {"vae-bp-hopfield", PCG_VAE_BP_HOPFIELD},
};

static void pcgmm_destroy(void *self) {
    pcg_model *m = self;
    if (!m) return;
    if (m->has_vae) pcg_vae_free(&m->vae);
    if (m->star_logp) eg_tensor_free(m->star_logp);
    free(m);
}

static eg_status pcgmm_create(eg_run *run, void **self) {
    pcg_model *m = calloc(1, sizeof *m);
    if (!m) return eg_run_fail(run, EG_ERR_NOMEM, "pcgmm: out of memory");
    for (size_t i = 0; i < sizeof variant_names / sizeof *variant_names; i++)
        if (eg_param_is(run, "variant", variant_names[i].name)) m->variant = variant_names[i].v;
    m->sigma = eg_param_float(run, "sigma");
    m->beta = eg_param_float(run, "beta");
    m->steps = (int)eg_param_int(run, "steps");
    m->alpha = eg_param_float(run, "alpha");
    m->gamma = eg_param_float(run, "gamma");
    m->bp_lr = eg_param_float(run, "bp_lr");
    m->bp_steps = (int)eg_param_int(run, "bp_steps");
    m->star_epochs = (int)eg_param_int(run, "star.epochs");
    m->star_lr = eg_param_float(run, "star.lr");
    m->vcfg.conv = eg_param_is(run, "vae.arch", "conv");
    m->vcfg.latent = eg_param_int(run, "vae.latent");
    m->vcfg.hidden = eg_param_int(run, "vae.hidden");
    m->vcfg.features = eg_param_int(run, "vae.features");
    m->vcfg.batch_norm = eg_param_bool(run, "vae.batch_norm");
    m->kl_weight = eg_param_float(run, "vae.kl_weight");
    m->vae_epochs = (int)eg_param_int(run, "vae.epochs");
    m->vae_lr = eg_param_float(run, "vae.lr");
    m->vae_batch = eg_param_int(run, "vae.batch");
    m->vae_train_items = eg_param_int(run, "vae.train_items");
    if (m->variant != PCG_GMM) { /* gmm works on raw pixels: no representation */
        const eg_dataset *ds = eg_run_dataset(run, NULL);
        if (!ds) {
            pcgmm_destroy(m);
            return eg_run_fail(run, EG_ERR_NOTFOUND, "pcgmm: the run has no dataset (data.source)");
        }
        eg_rng rng = eg_run_rng(run, "init");
        char err[512];
        eg_status st = pcg_vae_init(&m->vae, eg_run_ctx(run), &m->vcfg, ds->channels, ds->height, ds->width, &rng, err,
                                    sizeof err);
        m->has_vae = 1;
        if (st != EG_OK) {
            pcgmm_destroy(m);
            return eg_run_fail(run, st, "%s (data %s: %dx%dx%d)", err, ds->source, ds->channels, ds->height, ds->width);
        }
    }
    *self = m;
    return EG_OK;
}

EG_MODEL_DEFINE(pcgmm,
    .version = "1.0.0",
    .summary = "predictive-coding associative memory with a balanced GMM prior on a VAE code (PC-GMM) and baselines",
    .params = pcgmm_params,
    .n_params = EG_COUNT(pcgmm_params),
    .tasks = pcgmm_tasks,
    .n_tasks = 1,
    .metrics = pcgmm_metrics,
    .n_metrics = EG_COUNT(pcgmm_metrics),
    .create = pcgmm_create,
    .fit = pcg_fit,
    .eval = pcg_eval,
    .save = pcg_save,
    .load = pcg_load,
    .destroy = pcgmm_destroy)
