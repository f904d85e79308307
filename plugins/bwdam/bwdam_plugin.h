/* bwdam_plugin.h — the plugin's model state, evals and image embeddings, shared
 * between its files (not for tests). */
#ifndef BWDAM_PLUGIN_H
#define BWDAM_PLUGIN_H

#include "bwdam.h"

/* ---- Gaussian embeddings of images (bwdam_vae.c) ---- */
typedef struct bw_vae {
    eg_params *ps;
    eg_linear enc[3], dec[3];
    int64_t d, latent, hidden;
} bw_vae;

typedef struct bw_vae_cfg {
    int64_t latent, hidden, batch, train_items;
    int epochs;
    double lr, kl_weight;
} bw_vae_cfg;

eg_status bw_vae_init(bw_vae *v, eg_ctx *ctx, int64_t d, int64_t latent, int64_t hidden, eg_rng *rng);
void bw_vae_free(bw_vae *v);
void bw_vae_encode(const bw_vae *v, eg_tensor *x, eg_tensor **mu, eg_tensor **logvar);
eg_tensor *bw_vae_decode(const bw_vae *v, eg_tensor *z);
/* N(μ(x), diag exp(logvar(x))) per image row of x, in dtype dt (no gradient) */
bw_gauss bw_vae_embed(const bw_vae *v, eg_tensor *x, eg_dtype dt);
eg_status bw_vae_train(bw_vae *v, eg_run *run, const eg_dataset *tr, const bw_vae_cfg *c);
eg_status bw_vae_save(const bw_vae *v, eg_run *run);
eg_status bw_vae_load(bw_vae *v, eg_run *run);

/* ---- the model ---- */
typedef struct bw_model {
    bw_dam h;       /* first: the rules see the model as an bw_dam */
    int images;     /* bw / eu-dam on image data: the Gaussians are VAE embeddings */
    int vae_loaded; /* weights came from init_from: not retrained */
    bw_vae vae;     /* when images */
    bw_vae_cfg vcfg;
} bw_model;

/* bw and eu-dam: on Gaussian data (gaussians / gaussians-hdf5) or on VAE embeddings of images */
eg_status bw_eval_gaussians(const bw_model *m, eg_run *run);
/* pixel-dam: MCHN on raw image items with the shared task's corruptions and scoring */
eg_status bw_eval_pixels(const bw_dam *h, eg_run *run);
/* Fig. 2: the energy over a (μ, σ) grid for 1-D memories X; picture + raw energies */
eg_status bw_landscape(const bw_dam *h, eg_run *run, bw_gauss X);
/* 1 when ds holds Gaussian rows (the gaussians sources), with their d and layout */
int bw_gaussian_rows(const eg_dataset *ds, int64_t *d, int *full);

#endif
