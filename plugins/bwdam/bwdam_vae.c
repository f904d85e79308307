/* bwdam_vae.c — Gaussian embeddings of images: an MLP VAE whose encoder gives
 * each image the Gaussian N(μ(x), diag exp(logvar(x))) that BW-DAM stores.
 *
 * Architecture and weight names are those of the pcgmm plugin's `vae.arch: mlp`
 * network (d -> H -> H (relu) -> [μ | logvar]; decoder L -> H -> H (relu) -> d
 * (sigmoid); weights /weights/vae/enc.lin0.weight, ...), so `init_from` can load
 * either a bwdam run's VAE or a pcgmm run's. Training (fit): Adam on the clean
 * training split, loss per image = Σ_pixels (dec(z) - x)² + kl_weight KL(q(z|x) ‖ N(0, I))
 * with one reparameterised draw z = μ + exp(logvar/2) ε, averaged over the batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwdam_plugin.h"

eg_status bw_vae_init(bw_vae *v, eg_ctx *ctx, int64_t d, int64_t latent, int64_t hidden, eg_rng *rng) {
    memset(v, 0, sizeof *v);
    v->d = d, v->latent = latent, v->hidden = hidden;
    v->ps = eg_params_new(ctx);
    if (!v->ps) return EG_ERR_NOMEM;
    const int64_t ein[3] = {d, hidden, hidden}, eout[3] = {hidden, hidden, 2 * latent};
    const int64_t din[3] = {latent, hidden, hidden}, dout[3] = {hidden, hidden, d};
    static const char *const enames[3] = {"enc.lin0", "enc.lin1", "enc.head"};
    char name[32];
    for (int i = 0; i < 3; i++)
        eg_linear_init(&v->enc[i], v->ps, enames[i], ein[i], eout[i], 1, rng);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "dec.lin%d", i);
        eg_linear_init(&v->dec[i], v->ps, name, din[i], dout[i], 1, rng);
    }
    return eg_ctx_status(ctx);
}

void bw_vae_free(bw_vae *v) {
    if (v->ps) eg_params_free(v->ps);
    memset(v, 0, sizeof *v);
}

void bw_vae_encode(const bw_vae *v, eg_tensor *x, eg_tensor **mu, eg_tensor **logvar) {
    eg_tensor *h = eg_relu(eg_linear_forward(&v->enc[1], eg_relu(eg_linear_forward(&v->enc[0], x))));
    h = eg_linear_forward(&v->enc[2], h);
    *mu = eg_narrow(h, 1, 0, v->latent);
    *logvar = eg_narrow(h, 1, v->latent, v->latent);
}

eg_tensor *bw_vae_decode(const bw_vae *v, eg_tensor *z) {
    eg_tensor *h = eg_relu(eg_linear_forward(&v->dec[1], eg_relu(eg_linear_forward(&v->dec[0], z))));
    return eg_sigmoid(eg_linear_forward(&v->dec[2], h));
}

bw_gauss bw_vae_embed(const bw_vae *v, eg_tensor *x, eg_dtype dt) {
    eg_ctx *ctx = eg_tensor_ctx(x);
    eg_no_grad_begin(ctx);
    eg_tensor *mu, *logvar;
    bw_vae_encode(v, x, &mu, &logvar);
    bw_gauss g = {mu, eg_exp(logvar), 0};
    if (dt != eg_dtype_of(mu)) g.mean = eg_cast(g.mean, dt), g.cov = eg_cast(g.cov, dt);
    eg_no_grad_end(ctx);
    return g;
}

/* a random order of 0..n-1 (sorting uniform keys) */
static int shuffle(eg_ctx *ctx, eg_rng *rng, int64_t n, int64_t *out, float *keys) {
    eg_scope *s = eg_scope_open(ctx);
    int ok = eg_to_host_f32(eg_rand_uniform(ctx, rng, EG_F32, EG_DIMS(n), 0, 1), keys) == EG_OK;
    eg_scope_close(s);
    if (!ok) return 0;
    for (int64_t i = 0; i < n; i++)
        out[i] = i;
    for (int64_t gap = n / 2; gap > 0; gap /= 2) /* shell sort of the indices by key */
        for (int64_t i = gap; i < n; i++)
            for (int64_t j = i; j >= gap && keys[out[j - gap]] > keys[out[j]]; j -= gap) {
                int64_t t = out[j];
                out[j] = out[j - gap], out[j - gap] = t;
            }
    return 1;
}

eg_status bw_vae_train(bw_vae *v, eg_run *run, const eg_dataset *tr, const bw_vae_cfg *c) {
    eg_ctx *ctx = eg_run_ctx(run);
    int64_t n = c->train_items > 0 && c->train_items < tr->n ? c->train_items : tr->n;
    int64_t B = c->batch < n ? c->batch : n, per_epoch = n / B;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    float *keys = malloc(sizeof(float) * (size_t)n);
    if (!perm || !keys) {
        free(perm), free(keys);
        return eg_run_fail(run, EG_ERR_NOMEM, "bwdam: out of memory for %lld indices", (long long)n);
    }
    eg_rng order = eg_run_rng(run, "batches"), noise = eg_run_rng(run, "vae");
    for (int i = 0; i < eg_params_count(v->ps); i++)
        eg_requires_grad(eg_params_get(v->ps, i), 1);
    eg_optim *opt = eg_adam(v->ps, c->lr, 0.9, 0.999, 1e-8);
    eg_run_log(run, "bwdam: training the VAE (latent %lld, hidden %lld, %lld parameters) on %lld %s images, %d epochs",
               (long long)v->latent, (long long)v->hidden, (long long)eg_params_numel(v->ps), (long long)n, tr->source,
               c->epochs);
    eg_status st = opt ? EG_OK : eg_run_fail(run, EG_ERR_NOMEM, "bwdam: out of memory for the optimiser");
    for (int ep = 0; ep < c->epochs && st == EG_OK; ep++) {
        if (!shuffle(ctx, &order, n, perm, keys)) {
            st = eg_run_fail(run, EG_ERR_BACKEND, "bwdam: drawing the epoch's order: %s", eg_ctx_message(ctx));
            break;
        }
        double sum_rec = 0, sum_kl = 0;
        for (int64_t b = 0; b < per_epoch && st == EG_OK; b++) {
            eg_scope *s = eg_scope_open(ctx);
            eg_tensor *x = eg_dataset_gather(ctx, tr, EG_F32, perm + b * B, B), *mu, *logvar;
            bw_vae_encode(v, x, &mu, &logvar);
            eg_tensor *eps = eg_rand_normal(ctx, &noise, EG_F32, EG_DIMS(B, v->latent), 0, 1);
            eg_tensor *z = eg_add(mu, eg_mul(eg_exp(eg_scale(logvar, 0.5)), eps));
            eg_tensor *rec = eg_mean_all(eg_sum(eg_square(eg_sub(bw_vae_decode(v, z), x)), 1, 0));
            eg_tensor *kl = eg_mean_all(eg_kl_diag_gaussian(mu, logvar));
            eg_backward(eg_add(rec, eg_scale(kl, c->kl_weight)));
            eg_optim_step(opt);
            eg_optim_zero_grad(opt);
            sum_rec += eg_item(rec), sum_kl += eg_item(kl);
            eg_scope_close(s);
            st = eg_ctx_status(ctx);
            if (st != EG_OK)
                st = eg_run_fail(run, st, "bwdam: VAE training: %s", eg_ctx_message(ctx));
            else
                st = eg_run_check(run);
            eg_progress(run, (int64_t)ep * per_epoch + b + 1, (int64_t)c->epochs * per_epoch, "update");
        }
        double nb = (double)(per_epoch > 0 ? per_epoch : 1);
        eg_log(run, "vae/train_recon", ep + 1, sum_rec / nb / (double)tr->dim);
        eg_log(run, "vae/train_kl", ep + 1, sum_kl / nb);
        eg_run_log(run, "bwdam: VAE epoch %d: recon %.5f per pixel, KL %.3f nats", ep + 1,
                   sum_rec / nb / (double)tr->dim, sum_kl / nb);
    }
    for (int i = 0; i < eg_params_count(v->ps); i++)
        eg_requires_grad(eg_params_get(v->ps, i), 0);
    eg_optim_free(opt);
    free(perm), free(keys);
    return st;
}

eg_status bw_vae_save(const bw_vae *v, eg_run *run) {
    return eg_save_params(run, "vae/", v->ps);
}

eg_status bw_vae_load(bw_vae *v, eg_run *run) {
    return eg_load_params(run, "vae/", v->ps);
}
