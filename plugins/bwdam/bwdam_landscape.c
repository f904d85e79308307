/* bwdam_landscape.c — the paper's Fig. 2: the BW-DAM energy
 *   E(ξ) = -β⁻¹ ln Σ_i exp(-β W2²(X_i, ξ)),  ξ = N(μ, σ²),  W2² = (μ - μ_i)² + (σ - σ_i)²
 * of one-dimensional memories over a 200 x 200 grid of (μ, σ), μ across and σ up
 * (μ ∈ [-4, 4] and σ ∈ [0.01, 2] as in the paper, widened to hold every memory).
 * All 40 000 grid points are one batched energy evaluation. Saved: the picture
 * /artifacts/retrieval/landscape (RGB, low energy dark on a square-root scale of
 * E - min E, memories as red dots) and
 * the raw energies /weights/landscape/energy [200, 200] (row 0 = the largest σ). */
#include <math.h>
#include <stdlib.h>

#include "bwdam_plugin.h"

enum { SIDE = 200 };

/* a viridis-like ramp through five anchors, v in [0, 1] */
static void ramp(double v, uint8_t *rgb) {
    static const double a[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    double x = v * 4;
    int k = x >= 4 ? 3 : (int)x;
    double f = x - k;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lrint(a[k][c] + f * (a[k + 1][c] - a[k][c]));
}

eg_status bw_landscape(const bw_dam *h, eg_run *run, bw_gauss X) {
    eg_ctx *ctx = eg_tensor_ctx(X.mean);
    eg_dtype dt = eg_dtype_of(X.mean);
    X = bw_gauss_to_diag(X);
    int64_t M = bw_gauss_n(X), G = (int64_t)SIDE * SIDE;
    double *xm = malloc(sizeof(double) * (size_t)(2 * M)), *gm = malloc(sizeof(double) * (size_t)(3 * G));
    uint8_t *pix = malloc((size_t)(3 * G));
    eg_status st = EG_ERR_NOMEM;
    if (!xm || !gm || !pix) goto done;
    if ((st = eg_to_host_f64(X.mean, xm)) != EG_OK || (st = eg_to_host_f64(X.cov, xm + M)) != EG_OK) goto done;
    double mlo = -4, mhi = 4, slo = 0.01, shi = 2;
    for (int64_t i = 0; i < M; i++) {
        double s = sqrt(xm[M + i] > 0 ? xm[M + i] : 0);
        mlo = fmin(mlo, xm[i] - 1), mhi = fmax(mhi, xm[i] + 1), shi = fmax(shi, s + 0.5);
    }
    double *gs = gm + G, *E = gm + 2 * G;
    for (int64_t r = 0; r < SIDE; r++)
        for (int64_t c = 0; c < SIDE; c++) {
            double sig = shi - (double)r * (shi - slo) / (SIDE - 1);
            gm[r * SIDE + c] = mlo + (double)c * (mhi - mlo) / (SIDE - 1);
            gs[r * SIDE + c] = sig * sig;
        }
    eg_scope *sc = eg_scope_open(ctx);
    bw_gauss q = {eg_from_host(ctx, EG_F64, EG_DIMS(G, 1), gm), eg_from_host(ctx, EG_F64, EG_DIMS(G, 1), gs), 0};
    if (dt != EG_F64) q.mean = eg_cast(q.mean, dt), q.cov = eg_cast(q.cov, dt);
    bw_dam bw = *h;
    bw.variant = BW_BW, bw.full = 0;
    eg_tensor *Et = bw_energy(&bw, q, X);
    st = eg_to_host_f64(Et, E);
    if (st == EG_OK) st = eg_save_tensor(run, "landscape/energy", eg_reshape(Et, EG_DIMS(SIDE, SIDE)));
    eg_scope_close(sc);
    if (st != EG_OK) goto done;
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t g = 0; g < G; g++)
        lo = fmin(lo, E[g]), hi = fmax(hi, E[g]);
    for (int64_t g = 0; g < G; g++)
        ramp(hi > lo ? sqrt((E[g] - lo) / (hi - lo)) : 0, pix + 3 * g); /* sqrt scale: basins show */
    for (int64_t i = 0; i < M; i++) {                                   /* the memories: 5 x 5 red dots */
        double s = sqrt(xm[M + i] > 0 ? xm[M + i] : 0);
        long c0 = lrint((xm[i] - mlo) / (mhi - mlo) * (SIDE - 1)), r0 = lrint((shi - s) / (shi - slo) * (SIDE - 1));
        for (long r = r0 - 2; r <= r0 + 2; r++)
            for (long c = c0 - 2; c <= c0 + 2; c++)
                if (r >= 0 && r < SIDE && c >= 0 && c < SIDE) {
                    uint8_t *p = pix + 3 * (r * SIDE + c);
                    p[0] = 230, p[1] = 20, p[2] = 20;
                }
    }
    st = eg_save_picture(run, "retrieval/landscape", "image", pix, 1, SIDE, SIDE, 3);
    eg_run_log(run,
               "bwdam: energy landscape of %lld 1-D memories over mu in [%g, %g], sigma in [%g, %g]: "
               "E in [%.6g, %.6g]",
               (long long)M, mlo, mhi, slo, shi, lo, hi);
done:
    if (st == EG_ERR_NOMEM && (!xm || !gm || !pix)) eg_run_log(run, "bwdam: out of host memory for the landscape");
    free(xm), free(gm), free(pix);
    return st;
}
