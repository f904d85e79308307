/* compvae_kl.c — the correlated posterior over {w_i} and the closed-form
 * losses of the CompVAE (paper eq. 6-9; models-nem-compvae.md §2.5).
 *
 * Per latent coordinate d, q(w_1..w_K) = N(mu, D A A^T D) with D = diag(sigma),
 * A = I - rho 1^T: sampling is w = mu + D A eps, det A = 1 - sum_i rho_i
 * (matrix determinant lemma) and (A A^T)_ii = 1 - 2 rho_i + K rho_i^2. */
#include <math.h>

#include "compvae.h"

eg_tensor *cv_floor_logvar(eg_tensor *u, double sigma_min) {
    double c = 2.0 * log(sigma_min);
    return eg_add_scalar(eg_elu(eg_add_scalar(u, -c - 1.0), 1.0), 1.0 + c);
}

void cv_rho(eg_tensor *r, eg_tensor **rho, eg_tensor **log_rest) {
    int64_t B = eg_dim(r, 0), K = eg_dim(r, 1), W = eg_dim(r, 2);
    eg_tensor *zero = eg_zeros(eg_tensor_ctx(r), eg_dtype_of(r), EG_DIMS(B, 1, W));
    eg_tensor *parts[2] = {r, zero};
    eg_tensor *ls = eg_log_softmax(eg_concat(parts, 2, 1), 1); /* [B, K + 1, W] */
    *rho = eg_exp(eg_narrow(ls, 1, 0, K));
    *log_rest = eg_reshape(eg_narrow(ls, 1, K, 1), EG_DIMS(B, W)); /* ln(1 - sum rho), straight from log-softmax */
}

eg_tensor *cv_sample_w(eg_tensor *mu, eg_tensor *logvar, eg_tensor *rho, eg_tensor *eps) {
    eg_tensor *s = eg_sum(eps, 1, 1); /* sum_j eps_j [B, 1, W] */
    return eg_add(mu, eg_mul(eg_exp(eg_scale(logvar, 0.5)), eg_sub(eps, eg_mul(rho, s))));
}

/* sum over every axis but the first: [B, ...] -> [B] */
static eg_tensor *per_sample(eg_tensor *t) {
    return eg_sum(eg_flatten(t, 1), 1, 0);
}

eg_tensor *cv_kl_w(eg_tensor *mu_q, eg_tensor *lv_q, eg_tensor *r, eg_tensor *mu_p, eg_tensor *lv_p) {
    eg_tensor *rho, *log_rest;
    cv_rho(r, &rho, &log_rest);
    return cv_kl_w_rho(mu_q, lv_q, rho, log_rest, mu_p, lv_p);
}

eg_tensor *cv_kl_w_rho(eg_tensor *mu_q, eg_tensor *lv_q, eg_tensor *rho, eg_tensor *log_rest, eg_tensor *mu_p,
                       eg_tensor *lv_p) {
    double K = (double)eg_dim(mu_q, 1);
    eg_tensor *inv_p = eg_exp(eg_neg(lv_p));
    eg_tensor *aat = eg_add_scalar(eg_add(eg_scale(rho, -2.0), eg_scale(eg_square(rho), K)), 1.0);
    /* per (b, i, d): lv_p - lv_q + (mu_q - mu_p)^2 / s_p^2 + (1 - 2 rho + K rho^2) s_q^2 / s_p^2 - 1 */
    eg_tensor *t = eg_sub(lv_p, lv_q);
    t = eg_add(t, eg_mul(eg_square(eg_sub(mu_q, mu_p)), inv_p));
    t = eg_add(t, eg_mul(aat, eg_mul(eg_exp(lv_q), inv_p)));
    t = eg_add_scalar(t, -1.0);
    /* per (b, d): - 2 ln(1 - sum rho) */
    return eg_scale(eg_sub(per_sample(t), eg_scale(per_sample(log_rest), 2.0)), 0.5);
}

eg_tensor *cv_loss_z(eg_tensor *z, eg_tensor *lv_q, eg_tensor *mu_p, eg_tensor *lv_p) {
    eg_tensor *t = eg_mul(eg_square(eg_sub(z, mu_p)), eg_exp(eg_neg(lv_p)));
    t = eg_add_scalar(eg_add(t, eg_sub(lv_p, lv_q)), -1.0);
    return eg_scale(per_sample(t), 0.5);
}

eg_tensor *cv_loss_x(eg_tensor *x, eg_tensor *mu, eg_tensor *lv, double sigma_min) {
    eg_tensor *t = eg_mul(eg_square(eg_sub(x, mu)), eg_exp(eg_neg(lv)));
    t = eg_add(t, eg_expand(lv, eg_ndim(mu), eg_shape(mu)));
    return eg_scale(per_sample(eg_add_scalar(t, -2.0 * log(sigma_min))), 0.5);
}
