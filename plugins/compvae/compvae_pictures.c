/* compvae_pictures.c — CompVAE artifacts: reconstructions, generations from a
 * given multiset of parts, and the ensemblist recomposition (the whole rebuilt
 * part by part from partial sums of the posterior w_i: the paper's Fig. 6 for
 * sines, drawn as line plots, and Fig. 8 for colour dots). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compvae.h"

#define PH 80  /* plot height */
#define PW 400 /* plot width (2 pixels per sample) */

static void put(uint8_t *pix, int h, int w, int r, int c, const uint8_t rgb[3]) {
    if (r < 0 || r >= h || c < 0 || c >= w) return;
    memcpy(pix + ((size_t)r * w + c) * 3, rgb, 3);
}

void cv_plot(uint8_t *pix, int h, int w, const float *const *curves, int n, int len, const uint8_t (*rgb)[3], double lo,
             double hi) {
    memset(pix, 255, (size_t)h * w * 3);
    static const uint8_t axis[3] = {200, 200, 200};
    int r0 = (int)lround((hi - 0) / (hi - lo) * (h - 1));
    for (int c = 0; c < w; c++)
        put(pix, h, w, r0, c, axis);
    for (int k = 0; k < n; k++) {
        int prev = -1;
        for (int c = 0; c < w; c++) {
            double v = curves[k][(int64_t)c * len / w];
            int r = (int)lround((hi - v) / (hi - lo) * (h - 1));
            if (r < 0) r = 0;
            if (r > h - 1) r = h - 1;
            int a = prev < 0 ? r : prev, b = r;
            if (a > b) {
                int tmp = a;
                a = b;
                b = tmp;
            }
            for (int y = a; y <= b; y++)
                put(pix, h, w, y, c, rgb[k]);
            prev = r;
        }
    }
}

/* posterior means: z = mu_z, w_i = mu_q_i; returns [B, K, W] w_i and [B, Z] z */
static void posterior(compvae *m, const cv_batch *b, eg_rng *rng, eg_tensor **w, eg_tensor **z) {
    eg_tensor *hx = cv_encode(m, cv_x_tensor(m, b)), *lz, *lq, *r;
    cv_qz(m, hx, z, &lz);
    cv_qw(m, cv_q_labels(m, b, rng), hx, *z, w, &lq, &r);
}

static void to_u8(const float *img, int S, uint8_t *out) { /* CHW floats -> HWC bytes */
    int64_t P = (int64_t)S * S;
    for (int64_t p = 0; p < P; p++)
        for (int c = 0; c < 3; c++) {
            double v = img[c * P + p];
            out[p * 3 + c] = (uint8_t)lround(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
}

static const uint8_t palette[6][3] = {{0, 0, 0},     {220, 40, 40},  {40, 90, 220},
                                      {30, 160, 60}, {230, 140, 20}, {150, 60, 180}};

/* "whole|<fmt 1>|...|<fmt n>": the row labels of a picture with a whole and n variants */
static const char *cv_rows_label(const char *fmt, int n, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "whole");
    for (int i = 1; i <= n && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "|");
        if (len < cap) len += (size_t)snprintf(buf + len, cap - len, fmt, i);
        if (len < cap && i > 1 && strstr(fmt, "part")) len += (size_t)snprintf(buf + len, cap - len, "s");
    }
    return buf;
}

void cv_artifacts(compvae *m, const cv_train *t, eg_run *run) {
    eg_rng rng = eg_run_rng(run, "pictures");
    int sines = m->cfg.problem == CV_SINES;
    int K = t->k_cap < 4 ? (int)t->k_cap : 4, n = 8, gen = 4;
    int64_t dim = cv_x_dim(m);
    int S = m->cfg.size;
    cv_batch b;
    if (cv_batch_make(m, &rng, n, K, &b) != EG_OK) return;
    float *rec = malloc(sizeof(float) * (size_t)(n * dim)), *gx = malloc(sizeof(float) * (size_t)(gen * n * dim));
    float *parts = malloc(sizeof(float) * (size_t)(K * n * dim));
    size_t plot_bytes = sines ? (size_t)PH * PW * 3 : (size_t)S * S * 3;
    uint8_t *pix = malloc(plot_bytes * (size_t)(n * (K + gen + 2)));
    if (!rec || !gx || !parts || !pix) goto done;
    eg_no_grad_begin(m->ctx);
    eg_scope *s = eg_scope_open(m->ctx);
    eg_tensor *w, *z, *mx, *lx;
    posterior(m, &b, &rng, &w, &z);
    cv_px(m, eg_sum(w, 1, 0), z, &mx, &lx);
    eg_to_host_f32(mx, rec);
    for (int g = 0; g < gen; g++)
        eg_to_host_f32(cv_generate(m, &b, &rng, 1), gx + (int64_t)g * n * dim);
    /* recomposition: partial sums w~_k = sum_{i <= k} w_i, z_k = mean of p(z | w~_k), x_k = mean of p(x | w~_k, z_k) */
    for (int k = 1; k <= K; k++) {
        eg_tensor *wk = eg_sum(eg_narrow(w, 1, 0, k), 1, 0), *mz, *lzz;
        cv_pz(m, wk, &mz, &lzz);
        cv_px(m, wk, mz, &mx, &lx);
        eg_to_host_f32(mx, parts + (int64_t)(k - 1) * n * dim);
    }
    eg_scope_close(s);
    eg_no_grad_end(m->ctx);
    if (eg_ctx_status(m->ctx) != EG_OK) goto done;
    double hi = K + 0.5;
    char labels[512];
    if (sines) {
        for (int i = 0; i < n; i++) { /* black: the whole; red: its reconstruction */
            const float *c[2] = {b.x + i * dim, rec + i * dim};
            cv_plot(pix + plot_bytes * i, PH, PW, c, 2, (int)dim, palette, -hi, hi);
        }
        eg_save_picture(run, "reconstructions", "plot", pix, n, PH, PW, 3);
        for (int i = 0; i < n; i++) { /* black: a whole with these parts; colours: 4 generations */
            const float *c[5] = {b.x + i * dim};
            for (int g = 0; g < gen; g++)
                c[g + 1] = gx + ((int64_t)g * n + i) * dim;
            cv_plot(pix + plot_bytes * i, PH, PW, c, gen + 1, (int)dim, palette, -hi, hi);
        }
        eg_save_picture(run, "generations", "plot", pix, n, PH, PW, 3);
        /* item i * (K + 1) + k - 1: the whole rebuilt from its first k parts (red) over the whole (black) */
        for (int i = 0; i < n; i++)
            for (int k = 0; k <= K; k++) {
                const float *c[2] = {b.x + i * dim, k < K ? parts + ((int64_t)k * n + i) * dim : rec + i * dim};
                static const uint8_t pal2[2][3] = {{170, 170, 170}, {220, 40, 40}};
                cv_plot(pix + plot_bytes * (i * (K + 1) + k), PH, PW, c, 2, (int)dim, pal2, -hi, hi);
            }
        if (eg_save_picture(run, "recomposition", "plot", pix, (int64_t)n * (K + 1), PH, PW, 3) == EG_OK)
            eg_picture_layout(run, "recomposition", K + 1, cv_rows_label("from %d part", K, labels, sizeof labels));
    } else {
        for (int i = 0; i < n; i++) { /* pairs: whole, reconstruction */
            to_u8(b.x + i * dim, S, pix + plot_bytes * (2 * i));
            to_u8(rec + i * dim, S, pix + plot_bytes * (2 * i + 1));
        }
        if (eg_save_picture(run, "reconstructions", "image-grid", pix, 2 * n, S, S, 3) == EG_OK)
            eg_picture_layout(run, "reconstructions", 2, "whole|reconstruction");
        for (int i = 0; i < n; i++) { /* whole, then gen generations from its parts */
            to_u8(b.x + i * dim, S, pix + plot_bytes * (i * (gen + 1)));
            for (int g = 0; g < gen; g++)
                to_u8(gx + ((int64_t)g * n + i) * dim, S, pix + plot_bytes * (i * (gen + 1) + g + 1));
        }
        if (eg_save_picture(run, "generations", "image-grid", pix, (int64_t)n * (gen + 1), S, S, 3) == EG_OK)
            eg_picture_layout(run, "generations", gen + 1, cv_rows_label("generation %d", gen, labels, sizeof labels));
        for (int i = 0; i < n; i++) { /* whole, then rebuilt from its first 1..K parts */
            to_u8(b.x + i * dim, S, pix + plot_bytes * (i * (K + 1)));
            for (int k = 0; k < K; k++)
                to_u8(parts + ((int64_t)k * n + i) * dim, S, pix + plot_bytes * (i * (K + 1) + k + 1));
        }
        if (eg_save_picture(run, "recomposition", "image-grid", pix, (int64_t)n * (K + 1), S, S, 3) == EG_OK)
            eg_picture_layout(run, "recomposition", K + 1, cv_rows_label("from %d part", K, labels, sizeof labels));
    }
done:
    free(rec), free(gx), free(parts), free(pix);
    cv_batch_free(&b);
}
