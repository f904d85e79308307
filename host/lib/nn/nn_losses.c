/* nn_losses.c — likelihoods and losses composed from differentiable ops.
 * Per-sample values are [batch]: summed over every axis but the first. */
#include <math.h>

#include "core/core_internal.h"

#define EG_LOG_2PI 1.8378770664093454836

static eg_tensor *sum_rest(eg_tensor *t) {
    if (!t || eg__failed(t->ctx)) return t ? t->ctx->placeholder : NULL;
    if (t->ndim <= 1) {
        int64_t s = t->numel;
        return t->ndim == 1 ? t : eg_reshape(t, 1, &s);
    }
    int64_t s[2] = {t->shape[0], -1};
    return eg_sum(eg_reshape(t, 2, s), 1, 0);
}

/* sum_j x_j log sigmoid(l_j) + (1 - x_j) log sigmoid(-l_j) = sum_j x_j l_j - softplus(l_j) */
eg_tensor *eg_bernoulli_loglik(eg_tensor *logits, eg_tensor *x) {
    return sum_rest(eg_sub(eg_mul(x, logits), eg_softplus(logits)));
}

/* sum_j -0.5 (log 2pi + logvar_j + (x_j - mean_j)^2 exp(-logvar_j)) */
eg_tensor *eg_gaussian_loglik(eg_tensor *mean, eg_tensor *logvar, eg_tensor *x) {
    eg_tensor *q = eg_square(eg_sub(x, mean));
    if (logvar) q = eg_add(eg_mul(q, eg_exp(eg_neg(logvar))), logvar);
    return sum_rest(eg_affine(q, -0.5, -0.5 * EG_LOG_2PI));
}

/* KL(N(mu, e^lv) || N(0, I)) = 0.5 sum_j (e^lv_j + mu_j^2 - 1 - lv_j) (Kingma & Welling 2014, app. B) */
eg_tensor *eg_kl_diag_gaussian(eg_tensor *mu, eg_tensor *logvar) {
    eg_tensor *t = eg_sub(eg_add(eg_exp(logvar), eg_square(mu)), logvar);
    return sum_rest(eg_affine(t, 0.5, -0.5));
}

/* KL(q || p) = 0.5 sum_j (lv_p - lv_q + (e^lv_q + (mu_q - mu_p)^2) e^-lv_p - 1) */
eg_tensor *eg_kl_diag_gaussians(eg_tensor *mu_q, eg_tensor *logvar_q, eg_tensor *mu_p, eg_tensor *logvar_p) {
    eg_tensor *num = eg_add(eg_exp(logvar_q), eg_square(eg_sub(mu_q, mu_p)));
    eg_tensor *t = eg_add(eg_sub(logvar_p, logvar_q), eg_mul(num, eg_exp(eg_neg(logvar_p))));
    return sum_rest(eg_affine(t, 0.5, -0.5));
}

eg_tensor *eg_mse(eg_tensor *a, eg_tensor *b) { return eg_mean_all(eg_square(eg_sub(a, b))); }

eg_tensor *eg_cross_entropy(eg_tensor *logits, eg_tensor *labels) {
    if (!logits || !labels) return logits ? logits->ctx->placeholder : labels ? labels->ctx->placeholder : NULL;
    eg_ctx *ctx = logits->ctx;
    if (eg__failed(ctx)) return ctx->placeholder;
    if (logits->ndim != 2 || labels->dtype != EG_I32 || labels->numel != logits->shape[0]) {
        char sl[128], sy[128];
        return eg__fail(ctx, EG_ERR_INVALID, "eg_cross_entropy: expected logits [batch, classes] and i32 labels [batch], got %s and %s %s",
                        eg__shape_str(logits, sl, sizeof sl), eg__dtype_name(labels->dtype),
                        eg__shape_str(labels, sy, sizeof sy));
    }
    int64_t b = logits->shape[0], s[2] = {b, 1};
    eg_tensor *picked = eg_take_along(eg_log_softmax(logits, 1), 1, eg_reshape(labels, 2, s));
    return eg_scale(eg_sum_all(picked), b ? -1.0 / (double)b : NAN);
}
