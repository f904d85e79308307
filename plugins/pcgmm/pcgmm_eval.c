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
static void save_grid(eg_retrieval *r, const pcg_vae *v, eg_tensor *q, eg_tensor *z, eg_tensor *target) {
    int64_t Q = eg_dim(q, 0), d = v->d, c = v->c, hw = v->h * v->w;
    float *buf = malloc(sizeof(float) * (size_t)(3 * Q * d));
    uint8_t *pix = malloc((size_t)(3 * Q * d));
    if (buf && pix && eg_to_host_f32(q, buf) == EG_OK && eg_to_host_f32(pcg_decode(v, z), buf + Q * d) == EG_OK &&
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
        if (eg_save_picture(r->run, "retrieval/grid", "image-grid", pix, 3 * Q, v->h, v->w, c) == EG_OK)
            eg_picture_layout(r->run, "retrieval/grid", 3, "corrupted query|retrieved|target");
    }
    free(buf), free(pix);
}

eg_tensor *pcg_retrieve_blocks(const pcg_model *m, int64_t G, eg_tensor *X, eg_tensor *q, eg_tensor **Mz_out,
                               eg_tensor **steps, eg_retrieval *r) {
    eg_ctx *ctx = eg_tensor_ctx(q);
    int64_t N = eg_dim(X, 0) / G, Q = eg_dim(q, 0) / G, L = m->vae.latent;
    eg_no_grad_begin(ctx);
    eg_tensor *Mz = pcg_encode_mean(&m->vae, X), *z0 = pcg_encode_mean(&m->vae, q);
    eg_no_grad_end(ctx);
    /* block g's queries retrieve from block g's codes only: batched [G, N, L] */
    eg_tensor *M = G > 1 ? eg_reshape(Mz, EG_DIMS(G, N, L)) : Mz;
    pcg_bp_cfg bp = {0, m->sigma, m->beta, m->gamma, m->bp_lr, m->bp_steps};
    eg_tensor *z = z0;
    switch (m->variant) {
    case PCG_VAE_GMM:
    case PCG_VAE_HOPFIELD:
    case PCG_VAE_GMM_STAR: {
        int kind = m->variant == PCG_VAE_GMM ? 0 : m->variant == PCG_VAE_HOPFIELD ? 1 : 2;
        eg_no_grad_begin(ctx);
        z = pcg_fixed_point(kind, pcg_as_blocks(z0, M), M, m->sigma, m->beta, m->star_logp, m->steps, steps, r);
        z = eg_reshape(z, EG_DIMS(G * Q, L));
        eg_no_grad_end(ctx);
        break;
    }
    case PCG_BP_GMM:
        z = pcg_bp_retrieve(&m->vae, &bp, eg_zeros(ctx, eg_dtype_of(q), EG_DIMS(G * Q, L)), q, M, r);
        *steps = eg_scalar(ctx, EG_F32, m->bp_steps);
        break;
    case PCG_VAE_BP_GMM:
    case PCG_VAE_BP_HOPFIELD:
        bp.hopfield = m->variant == PCG_VAE_BP_HOPFIELD;
        z = pcg_bp_retrieve(&m->vae, &bp, z0, q, M, r);
        *steps = eg_scalar(ctx, EG_F32, m->bp_steps);
        break;
    case PCG_VAE_PC_GMM:
        z = pcg_pc_retrieve(&m->vae, z0, q, M, m->sigma, m->alpha, m->steps, r);
        *steps = eg_scalar(ctx, EG_F32, m->steps);
        break;
    default: break;
    }
    if (Mz_out) *Mz_out = Mz;
    return z;
}

/* blocks [b0, b0 + G) of a latent variant, retrieved together and scored one by one */
static void latent_group(pcg_model *m, eg_retrieval *r, int64_t b0, int64_t G) {
    int64_t N = r->memories, Q = r->queries;
    eg_tensor *qs[PCG_MAX_GROUP];
    for (int64_t g = 0; g < G; g++)
        qs[g] = eg_retrieval_queries(r, b0 + g); /* Q x d corrupted, per block's own draws */
    eg_tensor *q = G > 1 ? eg_concat(qs, (int)G, 0) : qs[0];
    /* the blocks are consecutive rows of the split: one upload of their clean items */
    eg_tensor *X = eg_dataset_rows(r->ctx, r->data, r->dtype, b0 * N, G * N);
    eg_tensor *Mz, *steps = NULL;
    eg_tensor *z = pcg_retrieve_blocks(m, G, X, q, &Mz, &steps, r);
    int per_query = steps && eg_numel(steps) == G * Q;
    for (int64_t g = 0; g < G && r->status == EG_OK; g++) {
        eg_tensor *st = per_query ? eg_narrow(steps, 0, g * Q, Q) : steps;
        eg_retrieval_score_against(r, b0 + g, eg_narrow(z, 0, g * Q, Q), eg_narrow(Mz, 0, g * N, N), st);
    }
    if (b0 == 0) {
        eg_no_grad_begin(r->ctx);
        save_grid(r, &m->vae, qs[0], eg_narrow(z, 0, 0, Q), eg_narrow(X, 0, 0, Q));
        eg_no_grad_end(r->ctx);
    }
}

eg_status pcg_eval(void *self, eg_run *run) {
    pcg_model *m = self;
    eg_retrieval r = eg_retrieval_begin(run);
    if (r.status == EG_OK && m->has_vae && r.dim != m->vae.d)
        r.status = eg_run_fail(run, EG_ERR_SPEC, "pcgmm: %s items have %lld values, the VAE expects %lld",
                               r.data->source, (long long)r.dim, (long long)m->vae.d);
    if (m->has_vae) pcg_vae_requires_grad(&m->vae, 0);
    /* latent variants retrieve a group of blocks at once (pcgmm.h: PCG_GROUP_ROWS) */
    int64_t G = m->variant == PCG_GMM ? 1 : pcg_group_blocks(r.memories, r.queries, r.blocks);
    for (int64_t b = 0; b < r.blocks && r.status == EG_OK; b += G) {
        int64_t g = r.blocks - b < G ? r.blocks - b : G;
        eg_scope *s = eg_scope_open(r.ctx);
        if (m->variant == PCG_GMM) {
            eg_tensor *X = eg_retrieval_memories(&r, b); /* N x d clean block */
            eg_tensor *q = eg_retrieval_queries(&r, b);  /* Q x d corrupted */
            eg_tensor *steps = NULL;
            eg_no_grad_begin(r.ctx);
            eg_tensor *f = pcg_fixed_point(0, q, X, m->sigma, m->beta, NULL, m->steps, &steps, &r);
            eg_no_grad_end(r.ctx);
            eg_retrieval_score(&r, b, f, steps);
        } else {
            latent_group(m, &r, b, g);
        }
        eg_scope_close(s);
        eg_progress(run, b + g, r.blocks, "block");
        eg_status st = eg_run_check(run);
        if (st != EG_OK && r.status == EG_OK)
            r.status = eg_run_fail(run, st, "pcgmm: stopped after block %lld of %lld", (long long)(b + g),
                                   (long long)r.blocks);
    }
    return eg_retrieval_end(&r);
}
