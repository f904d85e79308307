/* test_backend_conv.c — conformance of every available backend: convolution
 * (forward, backward_input, backward_weight; 1-d and 2-d; stride/padding/dilation),
 * nearest and bilinear upsampling (align_corners both ways, forward, backward and
 * the adjoint identity), and batched symmetric eigendecomposition.
 * Tolerances: the table in backend_ops.h. */
#include "backend_ops.h"

/* ------------------------------------------------------------------ conv */

typedef struct cc {
    int64_t n, ci, h, w, co, kh, kw;
    int sh, sw, ph, pw, dh, dw;
} cc;

/* calls f(n, co, ci, oy, ox, ki, kj, x index, w index, y index) for every product of the convolution */
#define CONV_FOR(c, OH, OW, BODY)                                                                                      \
    for (int64_t b = 0; b < (c)->n; b++)                                                                               \
        for (int64_t o = 0; o < (c)->co; o++)                                                                          \
            for (int64_t oy = 0; oy < (OH); oy++)                                                                      \
                for (int64_t ox = 0; ox < (OW); ox++)                                                                  \
                    for (int64_t i = 0; i < (c)->ci; i++)                                                              \
                        for (int64_t ki = 0; ki < (c)->kh; ki++)                                                       \
                            for (int64_t kj = 0; kj < (c)->kw; kj++) {                                                 \
                                int64_t iy = oy * (c)->sh - (c)->ph + ki * (c)->dh;                                    \
                                int64_t ix = ox * (c)->sw - (c)->pw + kj * (c)->dw;                                    \
                                if (iy < 0 || iy >= (c)->h || ix < 0 || ix >= (c)->w) continue;                        \
                                int64_t xi = ((b * (c)->ci + i) * (c)->h + iy) * (c)->w + ix;                          \
                                int64_t wi = ((o * (c)->ci + i) * (c)->kh + ki) * (c)->kw + kj;                        \
                                int64_t yi = ((b * (c)->co + o) * (OH) + oy) * (OW) + ox;                              \
                                BODY;                                                                                  \
                            }

static double max_abs_plus(const double *bound, const double *init, int64_t n, int acc) {
    double s = 1e-300;
    for (int64_t i = 0; i < n; i++) {
        double v = bound[i] + (acc ? fabs(init[i]) : 0);
        if (v > s) s = v;
    }
    return s;
}

static void conv_case(tb *t, const cc *c) {
    eg_dtype dt = t->dt;
    int64_t OH = (c->h + 2 * c->ph - c->dh * (c->kh - 1) - 1) / c->sh + 1;
    int64_t OW = (c->w + 2 * c->pw - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    int64_t nx = c->n * c->ci * c->h * c->w, nw = c->co * c->ci * c->kh * c->kw, ny = c->n * c->co * OH * OW;
    eg_conv_args a = {dt, c->n,  c->ci, c->h,  c->w,  c->co, c->kh, c->kw, OH,
                      OW, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw, 0};
    double *x = randv(nx, -1, 1), *w = randv(nw, -1, 1), *g = randv(ny, -1, 1);
    void *dx = dev_from(t, dt, x, nx), *dw = dev_from(t, dt, w, nw), *dg = dev_from(t, dt, g, ny);
    char desc[160];
    snprintf(desc, sizeof desc, "n=%lld ci=%lld %lldx%lld co=%lld k=%lldx%lld s=%d,%d p=%d,%d d=%d,%d", (long long)c->n,
             (long long)c->ci, (long long)c->h, (long long)c->w, (long long)c->co, (long long)c->kh, (long long)c->kw,
             c->sh, c->sw, c->ph, c->pw, c->dh, c->dw);
    for (int acc = 0; acc < 2; acc++) {
        a.accumulate = acc;
        char what[224];
        /* forward */
        double *y0 = randv(ny, -1, 1), *ref = malloc((size_t)ny * sizeof *ref), *bnd = zerov(ny);
        void *dy = dev_from(t, dt, y0, ny);
        for (int64_t k = 0; k < ny; k++)
            ref[k] = acc ? y0[k] : 0;
        CONV_FOR(c, OH, OW, ref[yi] += w[wi] * x[xi]; bnd[yi] += fabs(w[wi] * x[xi]));
        snprintf(what, sizeof what, "conv_forward %s acc=%d", desc, acc);
        if (st_ok(t, t->d->conv_forward(t->ctx, &a, dx, dw, dy), what)) {
            double *got = to_host(t, dt, dy, ny);
            cmp_scaled(t, what, got, ref, ny, tol_gemm(dt), max_abs_plus(bnd, y0, ny, acc));
            free(got);
        }
        dev_free(t, dy);
        free(y0), free(ref), free(bnd);
        /* backward_input: dx[xi] += w[wi] * dy[yi] */
        double *x0 = randv(nx, -1, 1), *rx = malloc((size_t)nx * sizeof *rx), *bx = zerov(nx);
        void *ddx = dev_from(t, dt, x0, nx);
        for (int64_t k = 0; k < nx; k++)
            rx[k] = acc ? x0[k] : 0;
        CONV_FOR(c, OH, OW, rx[xi] += w[wi] * g[yi]; bx[xi] += fabs(w[wi] * g[yi]));
        snprintf(what, sizeof what, "conv_backward_input %s acc=%d", desc, acc);
        if (st_ok(t, t->d->conv_backward_input(t->ctx, &a, dw, dg, ddx), what)) {
            double *got = to_host(t, dt, ddx, nx);
            cmp_scaled(t, what, got, rx, nx, tol_gemm(dt), max_abs_plus(bx, x0, nx, acc));
            free(got);
        }
        dev_free(t, ddx);
        free(x0), free(rx), free(bx);
        /* backward_weight: dw[wi] += dy[yi] * x[xi] */
        double *w0 = randv(nw, -1, 1), *rw = malloc((size_t)nw * sizeof *rw), *bw = zerov(nw);
        void *ddw = dev_from(t, dt, w0, nw);
        for (int64_t k = 0; k < nw; k++)
            rw[k] = acc ? w0[k] : 0;
        CONV_FOR(c, OH, OW, rw[wi] += g[yi] * x[xi]; bw[wi] += fabs(g[yi] * x[xi]));
        snprintf(what, sizeof what, "conv_backward_weight %s acc=%d", desc, acc);
        if (st_ok(t, t->d->conv_backward_weight(t->ctx, &a, dx, dg, ddw), what)) {
            double *got = to_host(t, dt, ddw, nw);
            cmp_scaled(t, what, got, rw, nw, tol_gemm(dt), max_abs_plus(bw, w0, nw, acc));
            free(got);
        }
        dev_free(t, ddw);
        free(w0), free(rw), free(bw);
    }
    dev_free(t, dx), dev_free(t, dw), dev_free(t, dg);
    free(x), free(w), free(g);
}

static void test_conv(tb *t) {
    static const cc cs[] = {
        /* 1-d: h = 1, kh = 1 */
        {2, 3, 1, 17, 4, 1, 3, 1, 1, 0, 0, 1, 1},
        {1, 1, 1, 7, 1, 1, 3, 1, 2, 0, 1, 1, 1},  /* stride 2, pad 1 */
        {3, 2, 1, 33, 5, 1, 5, 1, 3, 0, 2, 1, 2}, /* stride 3, pad 2, dilation 2 */
        {2, 4, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1},  /* w = 1, 1x1 */
        {1, 3, 1, 130, 2, 1, 7, 1, 1, 0, 3, 1, 1},
        /* 2-d */
        {1, 1, 7, 7, 1, 3, 3, 1, 1, 0, 0, 1, 1},
        {3, 2, 9, 11, 5, 3, 2, 2, 1, 1, 0, 1, 2}, /* mixed stride, pad, dilation per axis */
        {2, 3, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1},  /* 1x1 stride 1: no im2col */
        {2, 3, 6, 5, 4, 1, 1, 2, 2, 0, 0, 1, 1},  /* 1x1 stride 2 */
        {5, 4, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1},  /* small maps: several images per GEMM */
        {16, 3, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1},
        {2, 8, 20, 20, 6, 5, 5, 1, 1, 2, 2, 1, 1}, /* threaded im2col */
        {1, 2, 3, 3, 2, 3, 3, 1, 1, 2, 2, 2, 2},   /* most taps in the padding */
        {3, 2, 17, 1, 3, 3, 1, 2, 1, 1, 0, 1, 1},  /* a column (w = 1) */
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++)
        conv_case(t, &cs[i]);
    eg_conv_args bad = {t->dt, 1, 1, 5, 5, 1, 3, 3, 4, 3, 1, 1, 0, 0, 1, 1, 0}; /* oh should be 3 */
    double z[25] = {0};
    void *p = dev_from(t, t->dt, z, 25);
    eg_status st = t->d->conv_forward(t->ctx, &bad, p, p, p);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && t->dt == EG_F64),
              "%s: conv with a wrong output size returned %s", t->name, eg_strerror(st));
    dev_free(t, p);
}

/* ------------------------------------------------------------------ upsample */

/* PyTorch F.interpolate(size=...) source coordinates, in the dtype's precision */
static double src_linear(eg_dtype dt, int ac, int64_t in, int64_t out, int64_t o) {
    if (dt == EG_F32) {
        float scale = ac ? (out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f) : (float)in / (float)out;
        float s = ac ? scale * (float)o : scale * ((float)o + 0.5f) - 0.5f;
        return s < 0 ? 0 : s;
    }
    double scale = ac ? (out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0) : (double)in / (double)out;
    double s = ac ? scale * (double)o : scale * ((double)o + 0.5) - 0.5;
    return s < 0 ? 0 : s;
}
static int64_t src_nearest(eg_dtype dt, int64_t in, int64_t out, int64_t o) {
    if (out == in) return o;
    if (out == 2 * in) return o >> 1;
    double s =
        dt == EG_F32 ? floorf((float)o * ((float)in / (float)out)) : floor((double)o * ((double)in / (double)out));
    return (int64_t)s < in - 1 ? (int64_t)s : in - 1;
}
/* the (up to) two taps and weights of output o */
static void taps(eg_dtype dt, int mode, int ac, int64_t in, int64_t out, int64_t o, int64_t *i0, int64_t *i1,
                 double *l0, double *l1) {
    if (mode == EG_UPSAMPLE_NEAREST) {
        *i0 = *i1 = src_nearest(dt, in, out, o);
        *l0 = 1, *l1 = 0;
        return;
    }
    double s = src_linear(dt, ac, in, out, o);
    *i0 = (int64_t)s;
    if (*i0 > in - 1) *i0 = in - 1;
    *i1 = *i0 + (*i0 < in - 1);
    *l1 = s - (double)*i0;
    *l0 = 1 - *l1;
}

static void upsample_case(tb *t, int mode, int ac, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow) {
    eg_dtype dt = t->dt;
    eg_upsample_args u = {dt, (eg_upsample_mode)mode, ac, nc, h, w, oh, ow};
    int64_t nx = nc * h * w, ny = nc * oh * ow;
    double *x = randv(nx, -1, 1), *g = randv(ny, -1, 1), *ref = zerov(ny), *rx = zerov(nx);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t y0, y1, x0, x1;
                double a0, a1, b0, b1;
                taps(dt, mode, ac, h, oh, oy, &y0, &y1, &a0, &a1);
                taps(dt, mode, ac, w, ow, ox, &x0, &x1, &b0, &b1);
                const double *p = x + c * h * w;
                int64_t k = (c * oh + oy) * ow + ox;
                ref[k] =
                    a0 * (b0 * p[y0 * w + x0] + b1 * p[y0 * w + x1]) + a1 * (b0 * p[y1 * w + x0] + b1 * p[y1 * w + x1]);
                double *q = rx + c * h * w;
                q[y0 * w + x0] += a0 * b0 * g[k], q[y0 * w + x1] += a0 * b1 * g[k];
                q[y1 * w + x0] += a1 * b0 * g[k], q[y1 * w + x1] += a1 * b1 * g[k];
            }
    void *dx = dev_from(t, dt, x, nx), *dg = dev_from(t, dt, g, ny), *dy = dev_alloc(t, (size_t)ny * dt_size(dt));
    void *dgx = dev_alloc(t, (size_t)nx * dt_size(dt));
    char what[160];
    snprintf(what, sizeof what, "upsample %s%s [%lld,%lld,%lld] -> %lldx%lld", mode ? "bilinear" : "nearest",
             mode ? (ac ? " align_corners" : " half-pixel") : "", (long long)nc, (long long)h, (long long)w,
             (long long)oh, (long long)ow);
    double *got = NULL, *gotx = NULL;
    if (st_ok(t, t->d->upsample(t->ctx, &u, dx, dy), what)) {
        got = to_host(t, dt, dy, ny);
        cmp(t, what, got, ref, ny, tol_upsample(dt));
    }
    snprintf(what + strlen(what), sizeof what - strlen(what), " backward");
    if (st_ok(t, t->d->upsample_backward(t->ctx, &u, dg, dgx), what)) {
        gotx = to_host(t, dt, dgx, nx);
        cmp(t, what, gotx, rx, nx, tol_upsample(dt));
    }
    if (got && gotx) { /* adjoint: <up(x), dy> == <x, up_backward(dy)> with the backend's own outputs */
        double l = 0, r = 0, mag = 0;
        for (int64_t k = 0; k < ny; k++)
            l += got[k] * g[k], mag += fabs(got[k] * g[k]);
        for (int64_t k = 0; k < nx; k++)
            r += x[k] * gotx[k];
        snprintf(what + strlen(what), sizeof what - strlen(what), " adjoint");
        CHECK_MSG(fabs(l - r) <= (dt == EG_F64 ? 1e-12 : 1e-5) * (mag + 1e-300), "%s/%s %s: %.12g vs %.12g", t->name,
                  dt_name(dt), what, l, r);
    }
    free(got), free(gotx);
    dev_free(t, dx), dev_free(t, dg), dev_free(t, dy), dev_free(t, dgx);
    free(x), free(g), free(ref), free(rx);
}

/* known answers on x = 0, 1, 2, 3 (a bilinear map of a ramp returns the source coordinate) */
static void upsample_known(tb *t) {
    static const struct {
        int mode, ac;
        int64_t in, out;
        double want[8];
    } ka[] = {
        {EG_UPSAMPLE_NEAREST, 0, 4, 8, {0, 0, 1, 1, 2, 2, 3, 3}},
        {EG_UPSAMPLE_NEAREST, 0, 4, 6, {0, 0, 1, 2, 2, 3}},
        {EG_UPSAMPLE_NEAREST, 0, 5, 3, {0, 1, 3}},
        {EG_UPSAMPLE_BILINEAR, 0, 4, 8, {0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3}},
        {EG_UPSAMPLE_BILINEAR, 1, 4, 8, {0, 3. / 7, 6. / 7, 9. / 7, 12. / 7, 15. / 7, 18. / 7, 3}},
        {EG_UPSAMPLE_BILINEAR, 0, 5, 3, {1. / 3, 2, 11. / 3}},
        {EG_UPSAMPLE_BILINEAR, 1, 5, 3, {0, 2, 4}},
        {EG_UPSAMPLE_BILINEAR, 1, 4, 1, {0}},
    };
    for (size_t k = 0; k < sizeof ka / sizeof *ka; k++) {
        double x[5] = {0, 1, 2, 3, 4};
        eg_upsample_args u = {t->dt, (eg_upsample_mode)ka[k].mode, ka[k].ac, 1, 1, ka[k].in, 1, ka[k].out};
        void *dx = dev_from(t, t->dt, x, ka[k].in), *dy = dev_alloc(t, (size_t)ka[k].out * dt_size(t->dt));
        char what[96];
        snprintf(what, sizeof what, "upsample known answer %s ac=%d %lld->%lld", ka[k].mode ? "bilinear" : "nearest",
                 ka[k].ac, (long long)ka[k].in, (long long)ka[k].out);
        if (st_ok(t, t->d->upsample(t->ctx, &u, dx, dy), what)) {
            double *got = to_host(t, t->dt, dy, ka[k].out);
            cmp(t, what, got, ka[k].want, ka[k].out, tol_upsample(t->dt));
            free(got);
        }
        dev_free(t, dx), dev_free(t, dy);
    }
}

static void test_upsample(tb *t) {
    static const int64_t cs[][5] = {{3, 4, 5, 8, 10},     {2, 3, 3, 7, 5},     {1, 5, 7, 3, 4},  {1, 1, 1, 3, 3},
                                    {2, 4, 4, 1, 1},      {2, 16, 16, 32, 32}, {1, 3, 7, 9, 21}, {4, 8, 8, 8, 8},
                                    {64, 16, 16, 32, 32}, {1, 1, 17, 1, 33}};
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++)
        for (int mode = 0; mode < 2; mode++)
            for (int ac = 0; ac < (mode ? 2 : 1); ac++)
                upsample_case(t, mode, ac, cs[c][0], cs[c][1], cs[c][2], cs[c][3], cs[c][4]);
    upsample_known(t);
}

/* ------------------------------------------------------------------ syev */

static void syev_case(tb *t, int64_t batch, int64_t n, const double *given) {
    eg_dtype dt = t->dt;
    int64_t nn = n * n;
    double *a = malloc((size_t)(batch * nn) * sizeof *a);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j <= i; j++) {
                double v = given ? given[i * n + j] : urand(-1, 1);
                a[b * nn + i * n + j] = a[b * nn + j * n + i] = v;
            }
    void *da = dev_from(t, dt, a, batch * nn), *dw = dev_alloc(t, (size_t)(batch * n) * dt_size(dt));
    void *dv = dev_alloc(t, (size_t)(batch * nn) * dt_size(dt));
    char what[96];
    snprintf(what, sizeof what, "syev batch=%lld n=%lld%s", (long long)batch, (long long)n, given ? " known" : "");
    if (st_ok(t, t->d->syev(t->ctx, dt, batch, n, da, dw, dv), what)) {
        double *w = to_host(t, dt, dw, batch * n), *v = to_host(t, dt, dv, batch * nn);
        double res = 0, orth = 0, amax = 1;
        int asc = 1;
        for (int64_t b = 0; b < batch; b++) {
            const double *A = a + b * nn, *V = v + b * nn, *W = w + b * n;
            for (int64_t i = 0; i < nn; i++)
                amax = fmax(amax, fabs(A[i]));
            for (int64_t j = 0; j + 1 < n; j++)
                asc &= W[j] <= W[j + 1];
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < n; j++) {
                    double av = 0, vv = 0;
                    for (int64_t k = 0; k < n; k++)
                        av += A[i * n + k] * V[k * n + j], vv += V[k * n + i] * V[k * n + j];
                    res = fmax(res, fabs(av - V[i * n + j] * W[j]));
                    orth = fmax(orth, fabs(vv - (i == j)));
                }
        }
        double tl = (dt == EG_F64 ? 1e-11 : 1e-4) * amax;
        CHECK_MSG(res <= tl, "%s/%s %s: |AV - VW| = %.3g", t->name, dt_name(dt), what, res);
        CHECK_MSG(orth <= tl, "%s/%s %s: |V^T V - I| = %.3g", t->name, dt_name(dt), what, orth);
        CHECK_MSG(asc, "%s/%s %s: eigenvalues not ascending", t->name, dt_name(dt), what);
        if (given && n == 2) { /* [[2,1],[1,2]]: eigenvalues 1, 3 */
            double want[2] = {1, 3};
            cmp(t, what, w, want, 2, tol_unary(dt));
        }
        free(w), free(v);
    }
    dev_free(t, da), dev_free(t, dw), dev_free(t, dv);
    free(a);
}

static void test_syev(tb *t) {
    static const int64_t ns[] = {1, 2, 3, 7, 17, 33};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        syev_case(t, 3, ns[i], NULL);
    syev_case(t, 1, 64, NULL);
    syev_case(t, 37, 10, NULL); /* batches of many small matrices (the CPU's lockstep Jacobi: 16 at a time) */
    syev_case(t, 21, 16, NULL);
    static const double two[4] = {2, 1, 1, 2}, ident[9] = {3, 0, 0, 0, 3, 0, 0, 0, 3};
    syev_case(t, 2, 2, two);
    syev_case(t, 1, 3, ident); /* repeated eigenvalue */
}

static void suite(tb *t) {
    test_conv(t);
    test_upsample(t);
    test_syev(t);
}

int main(void) {
    return tb_main("backend conv+upsample+syev", suite);
}
