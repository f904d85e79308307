/* pcgmm_eval.c — the shared retrieve task for every variant.
 *
 * gmm works on raw pixels and is scored in pixel space. Every other variant
 * stores the encoder means of the block's clean images (M [N, latent]), starts
 * from the encoder means of the corrupted queries (bp-gmm: from z = 0), and is
 * scored in latent space (eg_retrieval_score_against; the paper's success is
 * |z - m_target| < 5 in a 64-d latent = within_tol with task.tolerance 5).
 * The grid of block 0 shows query / decoded retrieval / target pictures. */
#include <math.h>
#include <stdlib.h>

#include "pcgmm.h"

/* (query, decoded retrieval, target) of block 0 as uint8 pictures [3Q, h, w, c] */
static void save_grid(eg_retrieval *r, const eg_pcgmm_vae *v, eg_tensor *q, eg_tensor *z, eg_tensor *target) {
    int64_t Q = eg_dim(q, 0), d = v->d, c = v->c, hw = v->h * v->w;
    float *buf = malloc(sizeof(float) * (size_t)(3 * Q * d));
    uint8_t *pix = malloc((size_t)(3 * Q * d));
    if (buf && pix && eg_to_host_f32(q, buf) == EG_OK && eg_to_host_f32(eg_pcgmm_decode(v, z), buf + Q * d) == EG_OK &&
        eg_to_host_f32(target, buf + 2 * Q * d) == EG_OK) {
        for (int64_t j = 0; j < Q; j++)
            for (int t = 0; t < 3; t++) {
                const float *img = buf + (t * Q + j) * d;
                uint8_t *out = pix + (3 * j + t) * d;
                for (int64_t ch = 0; ch < c; ch++)
                    for (int64_t i = 0; i < hw; i++) {
                        double x = img[ch * hw + i];
                        x = x < 0 ? 0 : x > 1 ? 1 : x;
                        out[i * c + ch] = (uint8_t)lrint(x * 255.0); /* CHW -> HWC */
                    }
            }
        eg_save_picture(r->run, "retrieval/grid", "image-grid", pix, 3 * Q, v->h, v->w, c);
    }
    free(buf), free(pix);
}

/* one block of a latent variant: returns the final codes [Q, latent] */
static eg_tensor *latent_block(const eg_pcgmm *m, eg_retrieval *r, eg_tensor *q, eg_tensor *Mz, eg_tensor **steps) {
    eg_ctx *ctx = r->ctx;
    eg_tensor *z0;
    eg_no_grad_begin(ctx);
    eg_pcgmm_encode(&m->vae, q, &z0, NULL);
    eg_no_grad_end(ctx);
    eg_pcgmm_bp_cfg bp = {0, m->sigma, m->beta, m->gamma, m->bp_lr, m->bp_steps};
    eg_tensor *z = z0;
    switch (m->variant) {
    case EG_PCGMM_VAE_GMM:
    case EG_PCGMM_VAE_HOPFIELD:
    case EG_PCGMM_VAE_GMM_STAR: {
        int kind = m->variant == EG_PCGMM_VAE_GMM ? 0 : m->variant == EG_PCGMM_VAE_HOPFIELD ? 1 : 2;
        eg_no_grad_begin(ctx);
        z = eg_pcgmm_fixed_point(kind, z0, Mz, m->sigma, m->beta, m->star_logp, m->steps, steps, r);
        eg_no_grad_end(ctx);
        break;
    }
    case EG_PCGMM_BP_GMM:
        z = eg_pcgmm_bp_retrieve(&m->vae, &bp, eg_zeros(ctx, EG_F32, EG_DIMS(eg_dim(q, 0), m->vae.latent)), q, Mz, r);
        *steps = eg_scalar(ctx, EG_F32, m->bp_steps);
        break;
    case EG_PCGMM_VAE_BP_GMM:
    case EG_PCGMM_VAE_BP_HOPFIELD:
        bp.hopfield = m->variant == EG_PCGMM_VAE_BP_HOPFIELD;
        z = eg_pcgmm_bp_retrieve(&m->vae, &bp, z0, q, Mz, r);
        *steps = eg_scalar(ctx, EG_F32, m->bp_steps);
        break;
    case EG_PCGMM_VAE_PC_GMM:
        z = eg_pcgmm_pc_retrieve(&m->vae, z0, q, Mz, m->sigma, m->alpha, m->steps, r);
        *steps = eg_scalar(ctx, EG_F32, m->steps);
        break;
    default: break;
    }
    return z;
}

eg_status eg_pcgmm_eval(void *self, eg_run *run) {
    eg_pcgmm *m = self;
    eg_retrieval r = eg_retrieval_begin(run);
    if (r.status == EG_OK && m->has_vae && r.dim != m->vae.d)
        r.status = eg_run_fail(run, EG_ERR_SPEC, "pcgmm: %s items have %lld values, the VAE expects %lld",
                               r.data->source, (long long)r.dim, (long long)m->vae.d);
    if (m->has_vae) eg_pcgmm_vae_requires_grad(&m->vae, 0);
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b++) {
        eg_scope *s = eg_scope_open(r.ctx);
        eg_tensor *X = eg_retrieval_memories(&r, b); /* N x d clean block */
        eg_tensor *q = eg_retrieval_queries(&r, b);  /* Q x d corrupted */
        eg_tensor *steps = NULL;
        if (m->variant == EG_PCGMM_GMM) {
            eg_no_grad_begin(r.ctx);
            eg_tensor *f = eg_pcgmm_fixed_point(0, q, X, m->sigma, m->beta, NULL, m->steps, &steps, &r);
            eg_no_grad_end(r.ctx);
            eg_retrieval_score(&r, b, f, steps);
        } else {
            eg_tensor *Mz;
            eg_no_grad_begin(r.ctx);
            eg_pcgmm_encode(&m->vae, X, &Mz, NULL);
            Mz = eg_clone(Mz);
            eg_no_grad_end(r.ctx);
            eg_tensor *z = latent_block(m, &r, q, Mz, &steps);
            eg_retrieval_score_against(&r, b, z, Mz, steps);
            if (b == 0) {
                eg_no_grad_begin(r.ctx);
                save_grid(&r, &m->vae, q, z, eg_narrow(X, 0, 0, r.queries));
                eg_no_grad_end(r.ctx);
            }
        }
        eg_scope_close(s);
        eg_progress(run, b + 1, r.blocks, "block");
        eg_status st = eg_run_check(run);
        if (st != EG_OK && r.status == EG_OK)
            r.status = eg_run_fail(run, st, "pcgmm: stopped after block %lld of %lld", (long long)(b + 1),
                                   (long long)r.blocks);
    }
    return eg_retrieval_end(&r);
}
