/* vmfdam_project.c — the two constraint projections of the vmfdam model, the bottom
 * of the plugin's call graph (they call only the SDK):
 *   sphere:   memories w, eigenvectors u and data rows live on S^{N-1}; a row is
 *             scaled to unit L2 norm (a zero row stays zero: the norm is clamped at 1e-15);
 *   polytope: class weights g live on the transportation polytope (row sums G,
 *             column sums (P + G_P) p_q, reference/model-vmfdam.md §5), reached
 *             by the AltOneNorm Sinkhorn iteration. */
#include <math.h>
#include <stdlib.h>

#include "vmfdam.h"

eg_tensor *vmf_normalize_rows(eg_tensor *t) {
    eg_tensor *n2 = eg_sum(eg_square(t), 1, 1);
    return eg_mul(t, eg_rsqrt(eg_maximum(n2, eg_scalar(eg_tensor_ctx(t), eg_dtype_of(t), 1e-30))));
}

#define SINKHORN_TOL 1e-6 /* (C+1-1) x Keras epsilon 1e-7 at C = 10; fixed, as the oracles use */

int vmf_sinkhorn(eg_tensor *g, eg_tensor *rows, eg_tensor *cols, int max_iters) {
    eg_ctx *ctx = eg_tensor_ctx(g);
    int64_t R = eg_dim(g, 0);
    double *r = malloc((size_t)R * sizeof *r), *G = malloc((size_t)R * sizeof *G);
    if (!r || !G) {
        free(r), free(G);
        return eg_ctx_fail(ctx, EG_ERR_NOMEM, "vmfdam sinkhorn: out of memory");
    }
    eg_status st = eg_to_host_f64(rows, G);
    int passes = 0, flag = 1;
    while (st == EG_OK && passes < max_iters && flag) {
        eg_scope *s = eg_scope_open(ctx);
        eg_tensor *rs = eg_sum(g, 1, 1); /* [R, 1] */
        st = eg_to_host_f64(rs, r);
        flag = 0;
        for (int64_t i = 0; st == EG_OK && i < R; i++)
            if (!(fabs(r[i] / G[i] - 1.0) <= SINKHORN_TOL)) flag = 1; /* NaN counts as unconverged */
        eg_tensor *g1 = eg_mul(g, eg_div(rows, rs));
        eg_assign(g, eg_mul(g1, eg_div(cols, eg_sum(g1, 0, 1))));
        eg_scope_close(s);
        passes++;
        if (st == EG_OK) st = eg_ctx_status(ctx);
    }
    free(r), free(G);
    return st == EG_OK ? passes : st;
}
