/* test_retrieval_corrupt.c — the retrieve task's corruptions (engram/retrieval.h)
 * on the CPU backend: reference §5 items 15–17 (rotation cycle, mask size, noise
 * range) and the exact effect of every kind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engram/retrieval.h"
#include "registry/loader.h"

static eg_ctx *ctx;

/* an image dataset of n items c x h x w with values in [0.1, 0.9] (never 0.5, never 0) */
static eg_dataset image_set(float *x, int64_t n, int c, int h, int w, unsigned salt) {
    eg_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.source = "test-images", ds.split = "all";
    ds.n = n, ds.dim = (int64_t)c * h * w, ds.channels = c, ds.height = h, ds.width = w, ds.x = x;
    for (int64_t i = 0; i < n * ds.dim; i++)
        x[i] = 0.1f + 0.8f * (float)((i * 7919 + salt) % 97) / 96.0f;
    for (int64_t i = 0; i < n * ds.dim; i++)
        if (x[i] == 0.5f) x[i] = 0.55f;
    return ds;
}

static eg_tensor *rows(const eg_dataset *ds, eg_dtype dt) {
    return eg_dataset_rows(ctx, ds, dt, 0, ds->n);
}

static void host(eg_tensor *t, float *out) {
    CHECK(eg_to_host_f32(t, out) == EG_OK);
}

static void test_names(void) {
    const char *names[6] = {"none", "noise", "mask", "bitflip", "rotate-rgb", "shift"};
    for (int i = 0; i < 6; i++) {
        CHECK(eg_corrupt_kind_parse(names[i]) == i);
        CHECK(strcmp(eg_corrupt_kind_name((eg_corrupt_kind)i), names[i]) == 0);
    }
    CHECK(eg_corrupt_kind_parse("blur") == -1);
}

static void test_rotate(void) {
    enum { N = 3, C = 3, H = 4, W = 5, D = C * H * W };
    static float x[N * D];
    float a[N * D], b[N * D];
    eg_dataset ds = image_set(x, N, C, H, W, 1);
    eg_corruption c = {.kind = EG_CORRUPT_ROTATE_RGB};
    eg_rng rng = eg_rng_make(1, 1);
    eg_scope *sc = eg_scope_open(ctx);
    eg_tensor *once = eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds);
    host(once, a);
    int bad = 0;
    for (int q = 0; q < N; q++)
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < H * W; i++) /* R' = G, G' = B, B' = R */
                bad += a[q * D + ch * H * W + i] != x[q * D + ((ch + 1) % 3) * H * W + i];
    CHECK_MSG(bad == 0, "%d values not rotated", bad);
    host(eg_corrupt(&c, &rng, eg_corrupt(&c, &rng, once, &ds), &ds), b);
    CHECK(memcmp(b, x, sizeof b) == 0); /* item 15: three rotations are the identity */
    eg_scope_close(sc);
    /* 1-channel data cannot be rotated */
    static float g[2 * 16];
    eg_dataset grey = image_set(g, 2, 1, 4, 4, 2);
    char err[256] = "";
    CHECK(eg_corruption_check(&c, &grey, err, sizeof err) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "rotate-rgb");
    CHECK_STR_CONTAINS(err, "1 channel");
}

static void test_mask(void) {
    enum { N = 40, C = 3, H = 8, W = 6, D = C * H * W };
    static float x[N * D];
    float *y = malloc(sizeof(float) * N * D);
    eg_dataset ds = image_set(x, N, C, H, W, 3);
    eg_corruption c = {.kind = EG_CORRUPT_MASK, .size = 3};
    char err[256] = "";
    CHECK(eg_corruption_check(&c, &ds, err, sizeof err) == EG_OK);
    eg_rng rng = eg_rng_make(5, 2);
    eg_scope *sc = eg_scope_open(ctx);
    host(eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds), y);
    int bad = 0, corners[H][W] = {{0}};
    for (int q = 0; q < N; q++) {
        int top = H, left = W;
        for (int ch = 0; ch < C; ch++) {
            int grey = 0;
            for (int i = 0; i < H * W; i++) {
                float v = y[q * D + ch * H * W + i], v0 = x[q * D + ch * H * W + i];
                if (v == 0.5f) {
                    grey++;
                    /* the same square in every channel */
                    bad += ch > 0 && y[q * D + i] != 0.5f;
                    if (i / W < top || (i / W == top && i % W < left)) top = i / W, left = i % W;
                } else
                    bad += v != v0;
            }
            bad += grey != 9; /* item 16: exactly size^2 pixels per channel */
        }
        if (top <= H - 3 && left <= W - 3)
            corners[top][left]++;
        else
            bad++;
    }
    CHECK_MSG(bad == 0, "%d mask violations", bad);
    int used = 0;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            used += corners[i][j] > 0;
    CHECK_MSG(used >= 8, "square positions look degenerate: %d distinct corners of 24", used);
    /* the fraction form: about `fraction` of the positions, the same in every channel */
    eg_corruption f = {.kind = EG_CORRUPT_MASK, .fraction = 0.25};
    host(eg_corrupt(&f, &rng, rows(&ds, EG_F32), &ds), y);
    int64_t grey = 0;
    bad = 0;
    for (int q = 0; q < N; q++)
        for (int i = 0; i < H * W; i++) {
            int g0 = y[q * D + i] == 0.5f;
            grey += g0;
            for (int ch = 1; ch < C; ch++)
                bad += (y[q * D + ch * H * W + i] == 0.5f) != g0;
        }
    CHECK(bad == 0);
    CHECK_NEAR((double)grey / (N * H * W), 0.25, 0.04, 0);
    eg_scope_close(sc);
    free(y);
    eg_corruption big = {.kind = EG_CORRUPT_MASK, .size = 7};
    CHECK(eg_corruption_check(&big, &ds, err, sizeof err) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "task.corrupt.size");
}

static void test_noise(void) {
    enum { N = 50, H = 10, W = 10, D = H * W };
    static float x[N * D];
    float *y = malloc(sizeof(float) * N * D);
    eg_dataset ds = image_set(x, N, 1, H, W, 4);
    eg_corruption c = {.kind = EG_CORRUPT_NOISE, .sigma = 0.05};
    eg_rng rng = eg_rng_make(9, 3);
    eg_scope *sc = eg_scope_open(ctx);
    host(eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds), y);
    double s = 0, s2 = 0;
    int out = 0;
    for (int i = 0; i < N * D; i++) {
        double e = y[i] - x[i];
        s += e, s2 += e * e;
    }
    CHECK_NEAR(s / (N * D), 0, 0.005, 0);
    CHECK_NEAR(sqrt(s2 / (N * D)), 0.05, 0.004, 0); /* values >= 0.1 from the edges: barely clamped */
    c.sigma = 1.0;
    host(eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds), y);
    int zeros = 0, ones = 0;
    for (int i = 0; i < N * D; i++) {
        out += y[i] < 0 || y[i] > 1; /* item 17 */
        zeros += y[i] == 0, ones += y[i] == 1;
    }
    CHECK(out == 0);
    CHECK(zeros > N * D / 10 && ones > N * D / 10); /* clamped, not rescaled */
    /* the same stream position gives the same draw; the next position another */
    eg_rng r1 = eg_rng_make(9, 3), r2 = eg_rng_make(9, 3);
    float *a = malloc(sizeof(float) * N * D), *b = malloc(sizeof(float) * N * D);
    host(eg_corrupt(&c, &r1, rows(&ds, EG_F32), &ds), a);
    host(eg_corrupt(&c, &r2, rows(&ds, EG_F32), &ds), b);
    CHECK(memcmp(a, b, sizeof(float) * N * D) == 0);
    host(eg_corrupt(&c, &r2, rows(&ds, EG_F32), &ds), b);
    CHECK(memcmp(a, b, sizeof(float) * N * D) != 0);
    eg_scope_close(sc);
    free(a), free(b), free(y);
}

static void test_bitflip(void) {
    enum { N = 20, D = 200 };
    static float pm[N * D], px[N * D];
    float *y = malloc(sizeof(float) * N * D);
    eg_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.source = "test-pm1", ds.n = N, ds.dim = D, ds.channels = 1, ds.height = 1, ds.width = D, ds.x = pm;
    ds.binary = 1;
    for (int i = 0; i < N * D; i++)
        pm[i] = (i * 31 % 7) < 3 ? 1.0f : -1.0f;
    eg_corruption c = {.kind = EG_CORRUPT_BITFLIP, .p = 0.2};
    eg_rng rng = eg_rng_make(2, 4);
    eg_scope *sc = eg_scope_open(ctx);
    host(eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds), y);
    int flipped = 0, bad = 0;
    for (int i = 0; i < N * D; i++) {
        bad += y[i] != 1.0f && y[i] != -1.0f;
        flipped += y[i] == -pm[i];
    }
    CHECK(bad == 0);
    CHECK_NEAR((double)flipped / (N * D), 0.2, 0.03, 0);
    /* noise on +-1 data stays in [-1, 1] */
    eg_corruption nz = {.kind = EG_CORRUPT_NOISE, .sigma = 2.0};
    host(eg_corrupt(&nz, &rng, rows(&ds, EG_F32), &ds), y);
    bad = 0;
    for (int i = 0; i < N * D; i++)
        bad += y[i] < -1 || y[i] > 1;
    CHECK(bad == 0);
    /* [0, 1] data: a flipped pixel becomes 1 - x */
    eg_dataset img = image_set(px, N, 1, 10, 20, 5);
    c.p = 1.0;
    host(eg_corrupt(&c, &rng, rows(&img, EG_F32), &img), y);
    double worst = 0;
    for (int i = 0; i < N * D; i++)
        worst = fmax(worst, fabs(y[i] - (1 - px[i])));
    CHECK(worst < 1e-6);
    eg_scope_close(sc);
    free(y);
    eg_corruption badp = {.kind = EG_CORRUPT_BITFLIP, .p = 1.5};
    char err[256] = "";
    CHECK(eg_corruption_check(&badp, &img, err, sizeof err) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "task.corrupt.p");
}

static void test_shift_none(void) {
    enum { N = 2, C = 2, H = 3, W = 5, D = C * H * W };
    static float x[N * D];
    float y[N * D];
    eg_dataset ds = image_set(x, N, C, H, W, 6);
    eg_rng rng = eg_rng_make(0, 0);
    eg_scope *sc = eg_scope_open(ctx);
    for (int p = -6; p <= 6; p++) {
        eg_corruption c = {.kind = EG_CORRUPT_SHIFT, .pixels = p};
        host(eg_corrupt(&c, &rng, rows(&ds, EG_F32), &ds), y);
        int bad = 0;
        for (int r = 0; r < N * C * H; r++)
            for (int j = 0; j < W; j++) {
                int src = j - p; /* right by p, zero fill, no wrap */
                float want = src >= 0 && src < W ? x[r * W + src] : 0.0f;
                bad += y[r * W + j] != want;
            }
        CHECK_MSG(bad == 0, "shift %d: %d wrong values", p, bad);
    }
    eg_corruption none = {.kind = EG_CORRUPT_NONE};
    host(eg_corrupt(&none, &rng, rows(&ds, EG_F32), &ds), y);
    CHECK(memcmp(x, y, sizeof y) == 0);
    eg_scope_close(sc);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_names();
    test_rotate();
    test_mask();
    test_noise();
    test_bitflip();
    test_shift_none();
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
