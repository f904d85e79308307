/* pcgmm_vae.c — the representation VAE (notes §1.3).
 *
 * conv (images whose sides divide by 4): stride-2 3x3 convs of F, 2F, (4F)
 *   channels + relu (3 of them when the sides divide by 8, as the CIFAR-10
 *   network: 3x32x32 -> 32x16x16 -> 64x8x8 -> 128x4x4), flatten, linear ->
 *   [mu | logvar]. Decoder mirrors it: linear -> the last encoder shape (relu),
 *   then [nearest x2 upsample + 3x3 conv] blocks, relu between and sigmoid last.
 *   With vae.batch_norm (the default, as the authors' CIFARConvAE) every encoder conv
 *   and the decoder's inner upconvs are followed by batch norm (the convs then have no
 *   bias): batch statistics while the VAE trains, running statistics everywhere else.
 * mlp: d -> H -> H (relu) -> [mu | logvar]; decoder latent -> H -> H (relu) -> d (sigmoid).
 *
 * The decoder is a list of stages so predictive coding (pcgmm_pc.c) can put one
 * prediction error on every layer. */
#include <stdio.h>
#include <string.h>

#include "pcgmm.h"

static eg_status fail(char *err, size_t cap, eg_status st, const char *msg) {
    snprintf(err, cap, "%s", msg);
    return st;
}

eg_status pcg_vae_init(pcg_vae *v, eg_ctx *ctx, const pcg_vae_cfg *cfg, int64_t c, int64_t h, int64_t w, eg_rng *rng,
                       char *err, size_t cap) {
    memset(v, 0, sizeof *v);
    v->conv = cfg->conv;
    v->c = c, v->h = h, v->w = w, v->d = c * h * w, v->latent = cfg->latent;
    int64_t L = cfg->latent;
    if (v->conv && (h < 4 || w < 4 || h % 4 || w % 4))
        return fail(err, cap, EG_ERR_SPEC,
                    "params.vae.arch: conv needs images whose height and width divide by 4 (use mlp)");
    v->ps = eg_params_new(ctx);
    if (!v->ps) return fail(err, cap, EG_ERR_NOMEM, "pcgmm: out of memory for the VAE");
    eg_params_set_dtype(v->ps, cfg->dtype);
    char name[32];
    if (v->conv) {
        int n = (h % 8 == 0 && w % 8 == 0) ? 3 : 2;
        eg_conv_opts s2 = {{2, 2}, {1, 1}, {1, 1}, {0, 0}}, s1 = {{1, 1}, {1, 1}, {1, 1}, {0, 0}};
        int64_t cin = c, ch = cfg->features, hh = h, ww = w;
        v->bn = cfg->batch_norm != 0;
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "enc.conv%d", i);
            eg_conv_init(&v->enc_conv[i], v->ps, name, 2, 0, cin, ch, 3, &s2, !v->bn, rng);
            if (v->bn) {
                snprintf(name, sizeof name, "enc.bn%d", i);
                eg_batch_norm_init(&v->enc_bn[i], v->ps, name, ch, 1e-5, 0.1);
                v->enc_bn[i].training = 0;
            }
            cin = ch, ch *= 2, hh /= 2, ww /= 2;
        }
        v->n_enc_conv = n;
        int64_t flat = cin * hh * ww;
        eg_linear_init(&v->enc_lin[0], v->ps, "enc.head", flat, 2 * L, 1, rng);
        v->n_enc_lin = 1;
        /* decoder: linear to cin x hh x ww, then n upconv blocks halving the channels */
        pcg_stage *st = &v->dec[0];
        eg_linear_init(&st->lin, v->ps, "dec.lin", L, flat, 1, rng);
        st->act = EG_ACT_RELU, st->c = cin, st->h = hh, st->w = ww;
        for (int i = 0; i < n; i++) {
            st = &v->dec[1 + i];
            int64_t cout = i == n - 1 ? c : cin / 2;
            snprintf(name, sizeof name, "dec.conv%d", i);
            st->bn = v->bn && i < n - 1; /* the pixel layer has none */
            eg_conv_init(&st->conv, v->ps, name, 2, 0, cin, cout, 3, &s1, !st->bn, rng);
            if (st->bn) {
                snprintf(name, sizeof name, "dec.bn%d", i);
                eg_batch_norm_init(&st->norm, v->ps, name, cout, 1e-5, 0.1);
                st->norm.training = 0;
            }
            st->upconv = 1, st->act = i == n - 1 ? EG_ACT_SIGMOID : EG_ACT_RELU;
            hh *= 2, ww *= 2, cin = cout;
            st->c = cout, st->h = hh, st->w = ww;
        }
        v->n_stages = n + 1;
    } else {
        int64_t H = cfg->hidden;
        eg_linear_init(&v->enc_lin[0], v->ps, "enc.lin0", v->d, H, 1, rng);
        eg_linear_init(&v->enc_lin[1], v->ps, "enc.lin1", H, H, 1, rng);
        eg_linear_init(&v->enc_lin[2], v->ps, "enc.head", H, 2 * L, 1, rng);
        v->n_enc_lin = 3;
        const int64_t ins[3] = {L, H, H}, outs[3] = {H, H, v->d};
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "dec.lin%d", i);
            eg_linear_init(&v->dec[i].lin, v->ps, name, ins[i], outs[i], 1, rng);
            v->dec[i].act = i == 2 ? EG_ACT_SIGMOID : EG_ACT_RELU;
        }
        v->n_stages = 3;
    }
    eg_status st = eg_ctx_status(ctx);
    if (st != EG_OK) snprintf(err, cap, "pcgmm: building the VAE: %s", eg_ctx_message(ctx));
    return st;
}

void pcg_vae_free(pcg_vae *v) {
    if (v->ps) eg_params_free(v->ps);
    memset(v, 0, sizeof *v);
}

void pcg_vae_requires_grad(pcg_vae *v, int on) {
    for (int i = 0; i < eg_params_count(v->ps); i++)
        eg_requires_grad(eg_params_get(v->ps, i), on);
}

void pcg_vae_train_mode(pcg_vae *v, int on) {
    for (int i = 0; v->bn && i < v->n_enc_conv; i++)
        v->enc_bn[i].training = on;
    for (int s = 0; s < v->n_stages; s++)
        if (v->dec[s].bn) v->dec[s].norm.training = on;
}

/* a batch norm of the (const) network: its running statistics change only in training mode,
 * which the VAE's own training loop switches on */
static eg_tensor *norm(const eg_batch_norm *bn, eg_tensor *x) {
    return eg_batch_norm_forward((eg_batch_norm *)bn, x);
}

/* the encoder up to its head: [n, features] */
static eg_tensor *encoder_trunk(const pcg_vae *v, eg_tensor *x) {
    int64_t n = eg_dim(x, 0);
    eg_tensor *h = x;
    if (v->conv) {
        h = eg_reshape(x, EG_DIMS(n, v->c, v->h, v->w));
        for (int i = 0; i < v->n_enc_conv; i++) {
            h = eg_conv_forward(&v->enc_conv[i], h);
            h = eg_relu(v->bn ? norm(&v->enc_bn[i], h) : h);
        }
        h = eg_flatten(h, 1);
    } else {
        for (int i = 0; i < v->n_enc_lin - 1; i++)
            h = eg_relu(eg_linear_forward(&v->enc_lin[i], h));
    }
    return h;
}

void pcg_encode(const pcg_vae *v, eg_tensor *x, eg_tensor **mu, eg_tensor **logvar) {
    eg_tensor *h = eg_linear_forward(&v->enc_lin[v->n_enc_lin - 1], encoder_trunk(v, x));
    if (mu) *mu = eg_narrow(h, 1, 0, v->latent);
    if (logvar) *logvar = eg_narrow(h, 1, v->latent, v->latent);
}

eg_tensor *pcg_encode_mean(const pcg_vae *v, eg_tensor *x) {
    const eg_linear *head = &v->enc_lin[v->n_enc_lin - 1];
    /* the mean half of the head: its leading rows (views, no copy) */
    eg_linear mu = {eg_narrow(head->weight, 0, 0, v->latent),
                    head->bias ? eg_narrow(head->bias, 0, 0, v->latent) : NULL, head->in, v->latent};
    return eg_linear_forward(&mu, encoder_trunk(v, x));
}

int pcg_encoder_shapes(const pcg_vae *v, int64_t shapes[][3], int cap) {
    int k = 0;
    if (v->conv) {
        int64_t ch = v->c, hh = v->h, ww = v->w;
        if (k < cap) shapes[k][0] = ch, shapes[k][1] = hh, shapes[k][2] = ww, k++;
        for (int i = 0; i < v->n_enc_conv && k < cap; i++) {
            ch = eg_dim(v->enc_conv[i].weight, 0), hh /= 2, ww /= 2;
            shapes[k][0] = ch, shapes[k][1] = hh, shapes[k][2] = ww, k++;
        }
    } else if (k < cap)
        shapes[k][0] = v->d, shapes[k][1] = shapes[k][2] = 0, k++;
    for (int i = 0; i < v->n_enc_lin && k < cap; i++)
        shapes[k][0] = v->enc_lin[i].out, shapes[k][1] = shapes[k][2] = 0, k++;
    return k;
}

eg_tensor *pcg_stage_forward(const pcg_vae *v, int s, eg_tensor *x) {
    const pcg_stage *st = &v->dec[s];
    eg_tensor *y;
    if (st->upconv) {
        y = eg_upsample2d(x, 2 * eg_dim(x, 2), 2 * eg_dim(x, 3), EG_UPSAMPLE_NEAREST, 0);
        y = eg_conv_forward(&st->conv, y);
        y = eg_activate(st->bn ? norm(&st->norm, y) : y, st->act);
    } else {
        y = eg_activate(eg_linear_forward(&st->lin, x), st->act);
        if (st->c > 0) y = eg_reshape(y, EG_DIMS(eg_dim(x, 0), st->c, st->h, st->w));
    }
    return y;
}

eg_tensor *pcg_decode(const pcg_vae *v, eg_tensor *z) {
    eg_tensor *h = z;
    for (int s = 0; s < v->n_stages; s++)
        h = pcg_stage_forward(v, s, h);
    return eg_reshape(h, EG_DIMS(eg_dim(z, 0), v->d));
}

void pcg_vae_terms(const pcg_vae *v, eg_tensor *x, eg_rng *rng, eg_tensor **sq_err, eg_tensor **kl) {
    eg_tensor *mu, *logvar;
    pcg_encode(v, x, &mu, &logvar);
    eg_tensor *z = mu;
    if (rng) {
        eg_tensor *eps = eg_rand_normal(eg_tensor_ctx(x), rng, eg_dtype_of(x), EG_DIMS(eg_dim(x, 0), v->latent), 0, 1);
        z = eg_add(mu, eg_mul(eg_exp(eg_scale(logvar, 0.5)), eps)); /* reparameterisation */
    }
    eg_tensor *xh = pcg_decode(v, z);
    *sq_err = eg_sum(eg_square(eg_sub(xh, x)), 1, 0);
    *kl = eg_kl_diag_gaussian(mu, logvar);
}
