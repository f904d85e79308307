/* vmfdam_pictures.c — the run's artifacts: the memory grid (like the paper's
 * Fig. 1/4: memories w_mu as pictures, each scaled from its min to its max)
 * and the class-weight map (rescaled class weights g_{mu y}/G_mu, paper Fig. 4
 * bottom: rows are the shown memories in the same order, then the null unit;
 * columns the C classes and the extra class). Up to 100 memories are shown,
 * sorted by their class argmax_{y<C} g_{mu y}. The model is unchanged by
 * (w, beta) -> (-w, -beta) (tau is even), so with beta < 0 the memories are
 * drawn as -w, the patterns they attract. */
#include <stdlib.h>

#include "vmfdam_run.h"

#define SHOWN 100

static int64_t g_class(const double *g, int64_t r, int64_t K, int64_t C) {
    int64_t best = 0;
    for (int64_t y = 1; y < C; y++)
        if (g[r * K + y] > g[r * K + best]) best = y;
    return best;
}

eg_status vmf_pictures(vmf_plugin *p, eg_run *run) {
    vmf_model *m = &p->m;
    int64_t P = m->hidden, N = m->n, K = m->classes + 1, C = m->classes;
    int64_t n = P < SHOWN ? P : SHOWN;
    float *w = malloc((size_t)(P * N) * sizeof *w);
    double *g = malloc((size_t)((P + 1) * K) * sizeof *g);
    int64_t *order = malloc((size_t)n * sizeof *order);
    int64_t h = p->item_h, wd = p->item_w, c = p->item_c;
    if (h * wd * c != N) h = 1, wd = N, c = 1; /* not an image: 1 x N strips */
    uint8_t *px = malloc((size_t)(n * N)), *map = malloc((size_t)((n + 1) * K));
    eg_status st = (!w || !g || !order || !px || !map) ? EG_ERR_NOMEM : EG_OK;
    if (st == EG_OK) st = eg_to_host_f32(m->par.w, w);
    if (st == EG_OK) st = eg_to_host_f64(m->par.g, g);
    if (st == EG_OK) {
        /* the first n memories, stably sorted by class (insertion sort, n <= 100) */
        for (int64_t i = 0; i < n; i++) {
            int64_t j = i, ci = g_class(g, i, K, C);
            while (j > 0 && g_class(g, order[j - 1], K, C) > ci)
                order[j] = order[j - 1], j--;
            order[j] = i;
        }
        if (vmf_beta(m) < 0)
            for (int64_t i = 0; i < P * N; i++)
                w[i] = -w[i];
        for (int64_t k = 0; k < n; k++) {
            const float *v = w + order[k] * N;
            float lo = v[0], hi = v[0];
            for (int64_t i = 1; i < N; i++)
                lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
            float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t r = 0; r < h; r++)
                    for (int64_t col = 0; col < wd; col++) {
                        float val = (v[ch * h * wd + r * wd + col] - lo) * scale;
                        px[k * N + (r * wd + col) * c + ch] = (uint8_t)(val + 0.5f);
                    }
        }
        for (int64_t k = 0; k <= n; k++) {
            int64_t r = k < n ? order[k] : P;
            for (int64_t y = 0; y < K; y++) {
                double v = m->par.G[r] > 0 ? g[r * K + y] / m->par.G[r] : 0.0;
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                map[k * K + y] = (uint8_t)(255.0 * v + 0.5);
            }
        }
        st = eg_save_picture(run, "memories", "image-grid", px, n, h, wd, c);
        if (st == EG_OK) st = eg_save_picture(run, "class_weights", "heatmap", map, 1, n + 1, K, 1);
    }
    free(w), free(g), free(order), free(px), free(map);
    if (st == EG_ERR_NOMEM) return eg_run_fail(run, st, "vmfdam: out of memory drawing the memories");
    return st;
}
