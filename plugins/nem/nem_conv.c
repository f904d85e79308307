/* nem_conv.c — the convolutional encoder / decoder of the N-EM notes §1.7
 * (infoGAN-style) for flying data; `net: conv`.
 *   28x28 (flying shapes): conv 32, 64 (4x4 stride 2) -> 7x7, FC 512; decoder
 *     FC 512, FC 7*7*64, [up x2, conv 32], [up x2, conv C].
 *   24x24 and other sides divisible by 8 (flying MNIST): conv 32, 64, 128 ->
 *     3x3, FC 512; decoder FC 512, FC 3*3*128, [up, conv 64], [up, conv 32],
 *     [up, conv C]; the input deltas are standardised per sample first.
 * Every hidden layer is layer -> LN -> activation (ELU in the encoder, ReLU in
 * the decoder); LN normalises over all non-batch axes with a per-channel gain
 * and bias (slim's layer_norm). Stride-2 4x4 "SAME" convs on even inputs pad
 * 1/1; the stride-1 4x4 "SAME" conv after nearest upsampling pads 1 before and
 * 2 after, done here as pad 2 and dropping the first output row and column. */
#include <stdio.h>

#include "nem.h"

static const int enc_channels[3] = {32, 64, 128};

/* slim layer_norm on [N, C, H, W]: statistics over C*H*W, gain / bias per channel */
static eg_tensor *ln_map(const eg_layer_norm *ln, eg_tensor *x) {
    int64_t n = eg_dim(x, 0), c = eg_dim(x, 1), h = eg_dim(x, 2), w = eg_dim(x, 3);
    eg_tensor *f = eg_reshape(x, EG_DIMS(n, c * h * w));
    eg_tensor *xc = eg_sub(f, eg_mean(f, 1, 1));
    eg_tensor *y = eg_mul(xc, eg_rsqrt(eg_add_scalar(eg_mean(eg_square(xc), 1, 1), ln->eps)));
    y = eg_reshape(y, EG_DIMS(n, c, h, w));
    return eg_add(eg_mul(y, ln->gain), ln->bias);
}

static eg_status ln_map_init(eg_layer_norm *ln, eg_params *ps, const char *name, int64_t c) {
    ln->eps = 1e-5;
    ln->gain = eg_params_create(ps, name, "gain", eg_params_dtype(ps), EG_DIMS(c, 1, 1));
    ln->bias = eg_params_create(ps, name, "bias", eg_params_dtype(ps), EG_DIMS(c, 1, 1));
    return eg_fill(ln->gain, 1.0);
}

/* Glorot-uniform conv weights (the reference's initialiser), zero bias */
static eg_status conv_init(eg_conv *cv, eg_params *ps, const char *name, int64_t cin, int64_t cout, int stride, int pad,
                           eg_rng *rng) {
    eg_conv_opts o = {{stride, stride}, {pad, pad}, {1, 1}, {0, 0}};
    eg_status st = eg_conv_init(cv, ps, name, 2, 0, cin, cout, 4, &o, 1, rng);
    if (st != EG_OK) return st;
    return eg_init_glorot(cv->weight, rng, cin * 16, cout * 16);
}

eg_status nem_conv_init(nem_model *m, eg_rng *rng) {
    nem_conv *c = &m->cv;
    if (m->H != m->W || m->H % 4 != 0)
        return eg_ctx_fail(m->ctx, EG_ERR_INVALID,
                           "nem: net conv needs square frames with a side divisible by 4, got %dx%d", m->H, m->W);
    c->n_enc = m->H % 8 == 0 ? 3 : 2;
    c->s0 = m->H >> c->n_enc;
    char name[32];
    int64_t cin = m->C;
    for (int i = 0; i < c->n_enc; i++) {
        snprintf(name, sizeof name, "enc.conv%d", i);
        conv_init(&c->enc[i], m->ps, name, cin, enc_channels[i], 2, 1, rng);
        snprintf(name, sizeof name, "enc.ln%d", i);
        ln_map_init(&c->enc_ln[i], m->ps, name, enc_channels[i]);
        cin = enc_channels[i];
    }
    int64_t flat = cin * c->s0 * c->s0;
    eg_linear_init(&c->enc_fc, m->ps, "enc.fc", flat, 512, 1, rng);
    eg_layer_norm_init(&c->enc_fc_ln, m->ps, "enc.fc_ln", 512, 1e-5);
    eg_linear_init(&c->dec_fc1, m->ps, "dec.fc1", m->cfg.hidden, 512, 1, rng);
    eg_layer_norm_init(&c->dec_ln1, m->ps, "dec.ln1", 512, 1e-5);
    eg_linear_init(&c->dec_fc2, m->ps, "dec.fc2", 512, flat, 1, rng);
    eg_layer_norm_init(&c->dec_ln2, m->ps, "dec.ln2", flat, 1e-5);
    /* decoder convs mirror the encoder: channels enc[n-2], ..., enc[0], then C */
    for (int i = 0; i < c->n_enc; i++) {
        int64_t out = i == c->n_enc - 1 ? m->C : enc_channels[c->n_enc - 2 - i];
        snprintf(name, sizeof name, "dec.conv%d", i);
        conv_init(&c->dec[i], m->ps, name, cin, out, 1, 2, rng);
        if (i < c->n_enc - 1) {
            snprintf(name, sizeof name, "dec.map_ln%d", i);
            ln_map_init(&c->dec_ln[i], m->ps, name, out);
        }
        cin = out;
    }
    m->in_dim = 512;
    return eg_ctx_status(m->ctx);
}

eg_tensor *nem_conv_encode(const nem_model *m, eg_tensor *r) {
    const nem_conv *c = &m->cv;
    int64_t n = eg_dim(r, 0);
    if (c->n_enc == 3) { /* per-sample standardisation of the masked deltas (flying MNIST net) */
        eg_tensor *rc = eg_sub(r, eg_mean(r, 1, 1));
        r = eg_mul(rc, eg_rsqrt(eg_mean(eg_square(rc), 1, 1)));
    }
    eg_tensor *h = eg_reshape(r, EG_DIMS(n, m->C, m->H, m->W));
    for (int i = 0; i < c->n_enc; i++)
        h = eg_elu(ln_map(&c->enc_ln[i], eg_conv_forward(&c->enc[i], h)), 1.0);
    h = eg_reshape(h, EG_DIMS(n, -1));
    return eg_elu(eg_layer_norm_forward(&c->enc_fc_ln, eg_linear_forward(&c->enc_fc, h)), 1.0);
}

eg_tensor *nem_conv_decode(const nem_model *m, eg_tensor *h) {
    const nem_conv *c = &m->cv;
    int64_t n = eg_dim(h, 0), side = c->s0;
    h = eg_relu(eg_layer_norm_forward(&c->dec_ln1, eg_linear_forward(&c->dec_fc1, h)));
    h = eg_relu(eg_layer_norm_forward(&c->dec_ln2, eg_linear_forward(&c->dec_fc2, h)));
    h = eg_reshape(h, EG_DIMS(n, enc_channels[c->n_enc - 1], side, side));
    for (int i = 0; i < c->n_enc; i++) {
        side *= 2;
        h = eg_upsample2d(h, side, side, EG_UPSAMPLE_NEAREST, 0);
        h = eg_conv_forward(&c->dec[i], h); /* [n, c, side + 1, side + 1] */
        h = eg_narrow(eg_narrow(h, 2, 1, side), 3, 1, side);
        if (i < c->n_enc - 1) h = eg_relu(ln_map(&c->dec_ln[i], h));
    }
    return eg_reshape(h, EG_DIMS(n, m->D));
}
