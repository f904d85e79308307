/* pcgmm_fit.c — training: the VAE on the clean training split, and the GMM*
 * precision per scenario; saving and loading the VAE (init_from).
 *
 * VAE loss per image: sum over pixels of (dec(z) - x)^2 + vae.kl_weight KL(q(z|x) || N(0, I)),
 * averaged over the batch, one reparameterised draw (notes §1.3: the authors sum
 * the squared error over batch and pixels and add 0.1 x the batch-mean KL with
 * batches of 20, i.e. kl_weight = 0.1 / 20 = 0.005 per image). Metrics on the
 * test split with z = mu: vae/recon (squared error per pixel), vae/kl (nats per image).
 *
 * GMM* (notes §1.1): log precision p [latent] from 0 (P = I), Adam (star.lr) for
 * star.epochs passes over the training split cut into blocks of task.memories;
 * the first task.queries items of each block are corrupted with the task's own
 * corruption, encoded, given ONE GMM* update, and the loss is the MSE to the
 * target's code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcgmm.h"

typedef struct key_idx {
    float key;
    int64_t idx;
} key_idx;

static int by_key(const void *a, const void *b) {
    const key_idx *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* a random permutation of 0..n-1 from rng (advanced) */
static int permute(eg_ctx *ctx, eg_rng *rng, int64_t n, int64_t *out) {
    key_idx *k = malloc(sizeof *k * (size_t)n);
    float *u = malloc(sizeof(float) * (size_t)n);
    int ok = k && u;
    if (ok) {
        eg_scope *s = eg_scope_open(ctx);
        ok = eg_to_host_f32(eg_rand_uniform(ctx, rng, EG_F32, EG_DIMS(n), 0, 1), u) == EG_OK;
        eg_scope_close(s);
    }
    if (ok) {
        for (int64_t i = 0; i < n; i++)
            k[i].key = u[i], k[i].idx = i;
        qsort(k, (size_t)n, sizeof *k, by_key);
        for (int64_t i = 0; i < n; i++)
            out[i] = k[i].idx;
    }
    free(k), free(u);
    return ok;
}

/* mean per-pixel squared error and mean KL of the test split (z = mu) */
static eg_status vae_test_metrics(pcg_model *m, eg_run *run, const eg_dataset *ds, int64_t limit, double *recon,
                                  double *kl) {
    eg_ctx *ctx = eg_run_ctx(run);
    int64_t n = limit > 0 && limit < ds->n ? limit : ds->n, B = 500;
    double se = 0, k = 0;
    eg_no_grad_begin(ctx);
    for (int64_t i = 0; i < n; i += B) {
        int64_t b = n - i < B ? n - i : B;
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *sq, *kk;
        pcg_vae_terms(&m->vae, eg_dataset_rows(ctx, ds, EG_F32, i, b), NULL, &sq, &kk);
        se += eg_item(eg_sum_all(sq));
        k += eg_item(eg_sum_all(kk));
        eg_scope_close(s);
    }
    eg_no_grad_end(ctx);
    *recon = se / (double)(n * ds->dim);
    *kl = k / (double)n;
    return eg_ctx_status(ctx);
}

static eg_status train_vae(pcg_model *m, eg_run *run, const eg_dataset *tr, const eg_dataset *te) {
    eg_ctx *ctx = eg_run_ctx(run);
    int64_t n = m->vae_train_items > 0 && m->vae_train_items < tr->n ? m->vae_train_items : tr->n;
    int64_t B = m->vae_batch < n ? m->vae_batch : n, per_epoch = n / B;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    if (!perm) return eg_run_fail(run, EG_ERR_NOMEM, "pcgmm: out of memory for %lld indices", (long long)n);
    eg_rng order = eg_run_rng(run, "batches"), noise = eg_run_rng(run, "vae");
    eg_optim *opt = eg_adam(m->vae.ps, m->vae_lr, 0.9, 0.999, 1e-8);
    eg_run_log(run, "pcgmm: training the %s VAE (latent %lld, %lld parameters) on %lld %s images, %d epochs",
               m->vae.conv ? "conv" : "mlp", (long long)m->vae.latent, (long long)eg_params_numel(m->vae.ps),
               (long long)n, tr->source, m->vae_epochs);
    eg_status st = EG_OK;
    pcg_vae_train_mode(&m->vae, 1); /* batch norm: batch statistics while training */
    for (int ep = 0; ep < m->vae_epochs && st == EG_OK; ep++) {
        if (!permute(ctx, &order, n, perm)) {
            st = eg_run_fail(run, EG_ERR_NOMEM, "pcgmm: could not draw the epoch's order");
            break;
        }
        double sum_loss = 0, sum_rec = 0, sum_kl = 0;
        for (int64_t b = 0; b < per_epoch && st == EG_OK; b++) {
            eg_scope *s = eg_scope_open(ctx);
            eg_tensor *x = eg_dataset_gather(ctx, tr, EG_F32, perm + b * B, B);
            eg_tensor *sq, *kl;
            pcg_vae_terms(&m->vae, x, &noise, &sq, &kl);
            eg_tensor *rec = eg_mean_all(sq), *klm = eg_mean_all(kl);
            eg_tensor *loss = eg_add(rec, eg_scale(klm, m->kl_weight));
            eg_backward(loss);
            eg_optim_step(opt);
            eg_optim_zero_grad(opt);
            sum_loss += eg_item(loss), sum_rec += eg_item(rec), sum_kl += eg_item(klm);
            eg_scope_close(s);
            st = eg_ctx_status(ctx);
            if (st != EG_OK)
                st = eg_run_fail(run, st, "pcgmm: VAE training: %s", eg_ctx_message(ctx));
            else
                st = eg_run_check(run);
            /* an epoch is ~470 updates: progress by update, so the ETA moves within an epoch */
            eg_progress(run, (int64_t)ep * per_epoch + b + 1, (int64_t)m->vae_epochs * per_epoch, "update");
        }
        if (st != EG_OK) break;
        double nb = (double)per_epoch;
        eg_log(run, "vae/train_loss", ep + 1, sum_loss / nb);
        eg_log(run, "vae/train_recon", ep + 1, sum_rec / nb / (double)tr->dim);
        eg_log(run, "vae/train_kl", ep + 1, sum_kl / nb);
        if (te) {
            double r, k;
            pcg_vae_train_mode(&m->vae, 0);
            eg_status tst = vae_test_metrics(m, run, te, 2000, &r, &k);
            pcg_vae_train_mode(&m->vae, 1);
            if (tst == EG_OK) {
                eg_log(run, "vae/test_recon", ep + 1, r);
                eg_log(run, "vae/test_kl", ep + 1, k);
            }
        }
        eg_run_log(run, "pcgmm: VAE epoch %d: loss %.4f, recon %.5f per pixel, KL %.3f", ep + 1, sum_loss / nb,
                   sum_rec / nb / (double)tr->dim, sum_kl / nb);
    }
    pcg_vae_train_mode(&m->vae, 0); /* running statistics from here on */
    eg_optim_free(opt);
    free(perm);
    return st;
}

static eg_status train_star(pcg_model *m, eg_run *run, const eg_dataset *tr) {
    eg_ctx *ctx = eg_run_ctx(run);
    int64_t N = eg_task_int(run, "memories"), Q = eg_task_int(run, "queries");
    int64_t n = m->vae_train_items > 0 && m->vae_train_items < tr->n ? m->vae_train_items : tr->n;
    int64_t blocks = n / N;
    if (blocks < 1 || Q > N)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "pcgmm vae-gmm-star: the training split (%lld items) holds no block of task.memories = %lld",
                           (long long)n, (long long)N);
    eg_corruption c = eg_corruption_from_task(run);
    eg_params *ps = eg_params_new(ctx);
    eg_tensor *p = eg_param(ctx, EG_F32, EG_DIMS(m->vae.latent)); /* log precision, 0 = identity */
    eg_params_add(ps, "logp", p);
    eg_optim *opt = eg_adam(ps, m->star_lr, 0.9, 0.999, 1e-8);
    eg_rng rng = eg_run_rng(run, "star");
    /* the clean codes of the training blocks, once (through the host: eg_narrow copies) */
    int64_t nc = blocks * N, L = m->vae.latent;
    float *hc = malloc(sizeof(float) * (size_t)(nc * L));
    eg_tensor *codes = eg_persistent(ctx, EG_F32, EG_DIMS(nc, L));
    if (!hc) eg_ctx_fail(ctx, EG_ERR_NOMEM, "pcgmm: out of host memory for %lld codes", (long long)nc);
    eg_no_grad_begin(ctx);
    for (int64_t i = 0; hc && i < nc; i += 1000) {
        int64_t k = nc - i < 1000 ? nc - i : 1000;
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *mu;
        pcg_encode(&m->vae, eg_dataset_rows(ctx, tr, EG_F32, i, k), &mu, NULL);
        eg_to_host_f32(mu, hc + i * L);
        eg_scope_close(s);
    }
    eg_no_grad_end(ctx);
    if (hc) {
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(codes, eg_from_f32(ctx, EG_F32, EG_DIMS(nc, L), hc));
        eg_scope_close(s);
    }
    free(hc);
    eg_status st = eg_ctx_status(ctx);
    for (int ep = 0; ep < m->star_epochs && st == EG_OK; ep++) {
        double sum = 0;
        for (int64_t b = 0; b < blocks && st == EG_OK; b++) {
            eg_scope *s = eg_scope_open(ctx);
            eg_tensor *Mz = eg_narrow(codes, 0, b * N, N), *Zq;
            eg_no_grad_begin(ctx);
            eg_tensor *X = eg_dataset_rows(ctx, tr, EG_F32, b * N, Q);
            pcg_encode(&m->vae, eg_corrupt(&c, &rng, X, tr), &Zq, NULL);
            eg_no_grad_end(ctx);
            /* one GMM* update (notes §1.1: 1 iteration in training, `steps` at evaluation) */
            eg_tensor *out = eg_matmul(pcg_weights(2, Zq, Mz, 0, 0, p), Mz);
            eg_tensor *loss = eg_mse(out, eg_narrow(Mz, 0, 0, Q));
            eg_backward(loss);
            eg_optim_step(opt);
            eg_optim_zero_grad(opt);
            sum += eg_item(loss);
            eg_scope_close(s);
            st = eg_ctx_status(ctx);
            if (st != EG_OK) st = eg_run_fail(run, st, "pcgmm: GMM* training: %s", eg_ctx_message(ctx));
        }
        eg_log(run, "star/train_loss", ep + 1, sum / (double)blocks);
    }
    eg_optim_free(opt);
    eg_tensor_free(codes);
    if (st == EG_OK) {
        m->star_logp = eg_persistent(ctx, EG_F32, EG_DIMS(m->vae.latent));
        eg_assign(m->star_logp, p);
    }
    eg_params_free(ps);
    return st;
}

eg_status pcg_fit(void *self, eg_run *run) {
    pcg_model *m = self;
    if (!m->has_vae) return EG_OK; /* gmm on pixels: nothing to train */
    const eg_dataset *tr = eg_run_dataset(run, "train"), *te = eg_run_dataset(run, "test");
    if (!tr) return eg_run_fail(run, EG_ERR_NOTFOUND, "pcgmm: the data source has no train split for the VAE");
    if (tr->dim != m->vae.d)
        return eg_run_fail(run, EG_ERR_SPEC, "pcgmm: train split items have %lld values, the VAE expects %lld",
                           (long long)tr->dim, (long long)m->vae.d);
    eg_status st = EG_OK;
    pcg_vae_requires_grad(&m->vae, 1);
    if (m->vae_loaded)
        eg_run_log(run, "pcgmm: VAE weights from init_from; not retrained");
    else
        st = train_vae(m, run, tr, te);
    if (st == EG_OK && te) {
        double r, k;
        st = vae_test_metrics(m, run, te, 0, &r, &k);
        if (st == EG_OK) {
            eg_metric(run, "vae/recon", r);
            eg_metric(run, "vae/kl", k);
            eg_run_log(run, "pcgmm: VAE on %lld test images: recon %.5f per pixel, KL %.3f nats", (long long)te->n, r,
                       k);
        }
    }
    pcg_vae_requires_grad(&m->vae, 0);
    if (st == EG_OK && m->variant == PCG_VAE_GMM_STAR) st = train_star(m, run, tr);
    return st;
}

eg_status pcg_save(void *self, eg_run *run) {
    pcg_model *m = self;
    eg_status st = m->has_vae ? eg_save_params(run, "vae/", m->vae.ps) : EG_OK;
    if (st == EG_OK && m->star_logp) st = eg_save_tensor(run, "star/log_precision", m->star_logp);
    return st;
}

eg_status pcg_load(void *self, eg_run *run) {
    pcg_model *m = self;
    if (!m->has_vae) return EG_OK;
    eg_status st = eg_load_params(run, "vae/", m->vae.ps);
    if (st != EG_OK) return st;
    m->vae_loaded = 1;
    return eg_ctx_status(eg_run_ctx(run));
}
