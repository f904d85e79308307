/* bwdam_plugin.h — the plugin's model state, evals and image embeddings, shared
 * between its files (not for tests). */
#ifndef EG_PLUGIN_BWDAM_PLUGIN_H
#define EG_PLUGIN_BWDAM_PLUGIN_H

#include "bwdam.h"

/* ---- Gaussian embeddings of images (bwdam_vae.c) ---- */
typedef struct eg_bwdam_vae {
    eg_params *ps;
    eg_linear enc[3], dec[3];
    int64_t d, latent, hidden;
} eg_bwdam_vae;

typedef struct eg_bwdam_vae_cfg {
    int64_t latent, hidden, batch, train_items;
    int epochs;
    double lr, kl_weight;
} eg_bwdam_vae_cfg;

eg_status eg_bwdam_vae_init(eg_bwdam_vae *v, eg_ctx *ctx, int64_t d, int64_t latent, int64_t hidden, eg_rng *rng);
void eg_bwdam_vae_free(eg_bwdam_vae *v);
void eg_bwdam_vae_encode(const eg_bwdam_vae *v, eg_tensor *x, eg_tensor **mu, eg_tensor **logvar);
eg_tensor *eg_bwdam_vae_decode(const eg_bwdam_vae *v, eg_tensor *z);
/* N(μ(x), diag exp(logvar(x))) per image row of x, in dtype dt (no gradient) */
eg_gauss eg_bwdam_vae_embed(const eg_bwdam_vae *v, eg_tensor *x, eg_dtype dt);
eg_status eg_bwdam_vae_train(eg_bwdam_vae *v, eg_run *run, const eg_dataset *tr, const eg_bwdam_vae_cfg *c);
eg_status eg_bwdam_vae_save(const eg_bwdam_vae *v, eg_run *run);
eg_status eg_bwdam_vae_load(eg_bwdam_vae *v, eg_run *run);

/* ---- the model ---- */
typedef struct eg_bwdam_model {
    eg_bwdam h;       /* first: the rules see the model as an eg_bwdam */
    int images;       /* bw / eu-dam on image data: the Gaussians are VAE embeddings */
    int vae_loaded;   /* weights came from init_from: not retrained */
    eg_bwdam_vae vae; /* when images */
    eg_bwdam_vae_cfg vcfg;
} eg_bwdam_model;

/* bw and eu-dam: on Gaussian data (gaussians / gaussians-hdf5) or on VAE embeddings of images */
eg_status eg_bwdam__eval_gaussians(const eg_bwdam_model *m, eg_run *run);
/* pixel-dam: MCHN on raw image items with the shared task's corruptions and scoring */
eg_status eg_bwdam__eval_pixels(const eg_bwdam *h, eg_run *run);
/* Fig. 2: the energy over a (μ, σ) grid for 1-D memories X; picture + raw energies */
eg_status eg_bwdam__landscape(const eg_bwdam *h, eg_run *run, eg_gauss X);
/* 1 when ds holds Gaussian rows (the gaussians sources), with their d and layout */
int eg_bwdam__gaussian_rows(const eg_dataset *ds, int64_t *d, int *full);

#endif
