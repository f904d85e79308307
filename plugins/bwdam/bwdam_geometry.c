/* bwdam_geometry.c — Bures–Wasserstein geometry on the backend, batched:
 * row layout, matrix square roots, W2² (pairwise and rowwise) and OT maps
 * (reference/models-pcgmm-hopfield-bwdam.md §3.1).
 *
 * Pairwise W2² of Q full-covariance queries N(m_q, Ω_q) against M memories
 * N(m_i, Σ_i) needs tr (Ω_q^½ Σ_i Ω_q^½)^½ for every pair. The Q·M products
 * C_qi = Ω_q^½ Σ_i Ω_q^½ come from two GEMM-shaped products (see pair_products)
 * and their eigenvalues from one batched eg_syev; queries are processed in
 * chunks so that a [Qc, M, d, d] temporary stays within the budget.
 * Diagonal covariances commute: W2² = |Δm|² + |Δ√λ|², one GEMM on (m, √λ). */
#include <math.h>
#include <stdlib.h>

#include "bwdam_internal.h"

#define DEFAULT_BUDGET ((int64_t)1 << 22)

int64_t bw_chunk_size(int64_t budget, int64_t per_query) {
    int64_t b = budget > 0 ? budget : DEFAULT_BUDGET;
    int64_t c = per_query > 0 ? b / per_query : b;
    return c < 1 ? 1 : c;
}

/* ---- layout ---- */

int64_t bw_gauss_n(bw_gauss g) {
    return eg_dim(g.mean, 0);
}

int64_t bw_gauss_d(bw_gauss g) {
    return eg_dim(g.mean, 1);
}

bw_gauss bw_gauss_from_rows(eg_tensor *rows, int64_t d, int full) {
    bw_gauss g = {NULL, NULL, full};
    int64_t n = eg_dim(rows, 0);
    g.mean = eg_narrow(rows, 1, 0, d);
    if (full)
        g.cov = eg_reshape(eg_narrow(rows, 1, d, d * d), EG_DIMS(n, d, d));
    else
        g.cov = eg_narrow(rows, 1, d, d);
    return g;
}

eg_tensor *bw_gauss_to_rows(bw_gauss g) {
    int64_t n = bw_gauss_n(g), d = bw_gauss_d(g);
    eg_tensor *parts[2] = {g.mean, g.full ? eg_reshape(g.cov, EG_DIMS(n, d * d)) : g.cov};
    return eg_concat(parts, 2, 1);
}

eg_tensor *bw_eye(eg_ctx *ctx, eg_dtype dt, int64_t d) {
    double *v = calloc((size_t)(d * d), sizeof(double));
    if (!v) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory for a %lld x %lld identity", (long long)d,
                    (long long)d);
        return eg_zeros(ctx, dt, EG_DIMS(d, d));
    }
    for (int64_t i = 0; i < d; i++)
        v[i * d + i] = 1;
    eg_tensor *t = eg_from_host(ctx, EG_F64, EG_DIMS(d, d), v);
    free(v);
    return dt == EG_F64 ? t : eg_cast(t, dt);
}

bw_gauss bw_gauss_to_full(bw_gauss g) {
    if (g.full) return g;
    int64_t n = bw_gauss_n(g), d = bw_gauss_d(g);
    eg_tensor *I = bw_eye(eg_tensor_ctx(g.mean), eg_dtype_of(g.mean), d);
    bw_gauss f = {g.mean, eg_mul(eg_reshape(g.cov, EG_DIMS(n, d, 1)), I), 1}; /* row k scaled by λ_k */
    return f;
}

eg_tensor *bw_diagonal(eg_tensor *S) {
    int nd = eg_ndim(S);
    int64_t d = eg_dim(S, -1);
    eg_tensor *I = bw_eye(eg_tensor_ctx(S), eg_dtype_of(S), d);
    return eg_sum(eg_mul(S, I), nd - 1, 0);
}

bw_gauss bw_gauss_to_diag(bw_gauss g) {
    if (!g.full) return g;
    bw_gauss f = {g.mean, bw_diagonal(g.cov), 0};
    return f;
}

bw_gauss bw_gauss_narrow(bw_gauss g, int64_t start, int64_t len) {
    bw_gauss f = {eg_narrow(g.mean, 0, start, len), eg_narrow(g.cov, 0, start, len), g.full};
    return f;
}

/* ---- square roots ---- */

eg_tensor *bw_sym(eg_tensor *A) {
    int nd = eg_ndim(A);
    return eg_scale(eg_add(A, eg_transpose(A, nd - 2, nd - 1)), 0.5);
}

eg_tensor *bw_trace(eg_tensor *S) {
    return eg_sum(bw_diagonal(S), eg_ndim(S) - 2, 0);
}

/* w [..., d] -> [..., 1, d], to scale the columns of [..., d, d] */
static eg_tensor *as_row(eg_tensor *w) {
    int nd = eg_ndim(w);
    int64_t shape[EG_MAX_DIMS];
    for (int i = 0; i < nd - 1; i++)
        shape[i] = eg_dim(w, i);
    shape[nd - 1] = 1;
    shape[nd] = eg_dim(w, nd - 1);
    return eg_reshape(w, nd + 1, shape);
}

/* V diag(f) Vᵀ for eigenvectors V (columns) and values f [..., d], not symmetrised */
static eg_tensor *recompose_raw(eg_tensor *V, eg_tensor *f) {
    return eg_matmul_nt(eg_mul(V, as_row(f)), V);
}

eg_tensor *bw_recompose(eg_tensor *V, eg_tensor *f) {
    return bw_sym(recompose_raw(V, f));
}

eg_tensor *bw_sqrtm(eg_tensor *S, double floor, eg_tensor **inv_sqrt) {
    eg_tensor *w = NULL, *V = NULL;
    eg_syev(bw_sym(S), &w, &V);
    w = eg_clamp(w, floor > 0 ? floor : 0, INFINITY);
    if (inv_sqrt) *inv_sqrt = bw_recompose(V, eg_rsqrt(w));
    return bw_recompose(V, eg_sqrt(w));
}

/* ---- pairwise products C_qi = Oh_q Σ_i Oh_q ---- */

/* Σ [M, d, d] laid out as T[b, (i, c)] = Σ_i[b, c]: [d, M·d], the right operand of pair_products */
eg_tensor *bw_pair_layout(eg_tensor *Sigma) {
    static const int p102[3] = {1, 0, 2};
    int64_t M = eg_dim(Sigma, 0), d = eg_dim(Sigma, 1);
    return eg_reshape(eg_permute(Sigma, p102), EG_DIMS(d, M * d));
}

/* Oh [qc, d, d] (symmetric), T = pair_layout(Σ) -> C [qc, M, d, d].
 * Left factor: Oh_q Σ_i for all (q, i) is one GEMM [qc·d, d] @ [d, M·d]; right factor:
 * a GEMM batched over q. C is symmetric up to rounding and is not symmetrised: the
 * eigendecomposition reads one triangle (backend.h syev: "symmetric, only read"). */
static eg_tensor *pair_products(eg_tensor *Oh, eg_tensor *T) {
    int64_t qc = eg_dim(Oh, 0), d = eg_dim(Oh, 1), M = eg_dim(T, 1) / d;
    static const int p0213[4] = {0, 2, 1, 3};
    eg_tensor *P = eg_matmul(eg_reshape(Oh, EG_DIMS(qc * d, d)), T);    /* [(q, a), (i, c)] */
    P = eg_permute(eg_reshape(P, EG_DIMS(qc, d, M, d)), p0213);         /* [q, i, a, c] */
    eg_tensor *C = eg_matmul(eg_reshape(P, EG_DIMS(qc, M * d, d)), Oh); /* batched over q */
    return eg_reshape(C, EG_DIMS(qc, M, d, d));
}

eg_tensor *bw_pair_roots(eg_tensor *Oh, eg_tensor *T, bw_eig *eig) {
    static const int p0132[4] = {0, 1, 3, 2};
    eg_tensor *w = NULL, *V = NULL;
    eg_syev(pair_products(Oh, T), &w, &V);
    eg_tensor *s = eg_sqrt(eg_clamp(w, 0, INFINITY)); /* PSD up to rounding: clip at 0 */
    if (eig) eig->s = s, eig->Vt = eg_permute(V, p0132);
    return eg_sum(s, 2, 0); /* [qc, M] */
}

/* B_q = Σ_i W_qi C_qi^½ = Σ_(i,k) W_qi s_qik v_qik v_qikᵀ: the rows v_qik of Vt scaled by
 * W_qi s_qik, then one [d, M·d] @ [M·d, d] GEMM per query (not symmetrised) */
eg_tensor *bw_pair_mix(const bw_eig *eig, eg_tensor *W) {
    int64_t qc = eg_dim(eig->Vt, 0), M = eg_dim(eig->Vt, 1), d = eg_dim(eig->Vt, 2);
    eg_tensor *f = eg_mul(eig->s, eg_reshape(W, EG_DIMS(qc, M, 1)));     /* [qc, M, d] */
    eg_tensor *G = eg_mul(eig->Vt, eg_reshape(f, EG_DIMS(qc, M, d, 1))); /* rows scaled */
    return eg_matmul_tn(eg_reshape(G, EG_DIMS(qc, M * d, d)), eg_reshape(eig->Vt, EG_DIMS(qc, M * d, d)));
}

/* |a_q - b_i|² [na, nb] = |a|² + |b|² - 2 a bᵀ (one GEMM), clipped at 0 */
eg_tensor *bw_sqdist(eg_tensor *a, eg_tensor *b) {
    eg_tensor *an = eg_sum(eg_square(a), 1, 1);                                       /* [na, 1] */
    eg_tensor *bn = eg_reshape(eg_sum(eg_square(b), 1, 0), EG_DIMS(1, eg_dim(b, 0))); /* [1, nb] */
    return eg_clamp(eg_add(eg_add(eg_gemm(a, b, 0, 1, -2.0), an), bn), 0, INFINITY);
}

/* (m, √λ) rows of diagonal Gaussians */
eg_tensor *bw_stack_root(bw_gauss g) {
    eg_tensor *parts[2] = {g.mean, eg_sqrt(eg_clamp(g.cov, 0, INFINITY))};
    return eg_concat(parts, 2, 1);
}

bw_mems bw_mems_of(bw_gauss X, double floor, int roots) {
    bw_mems m = {X, bw_trace(X.cov), bw_pair_layout(X.cov), roots ? bw_sqrtm(X.cov, floor, NULL) : NULL};
    return m;
}

/* W2² [qc, M] of full queries (roots Oh, traces trO [qc]) against memories */
eg_tensor *bw_w2sq_full_chunk(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const bw_mems *mx, bw_eig *eig) {
    int64_t qc = eg_dim(mq, 0), M = bw_gauss_n(mx->X);
    eg_tensor *tr = bw_pair_roots(Oh, mx->T, eig);
    eg_tensor *D = eg_add(bw_sqdist(mq, mx->X.mean), eg_reshape(trO, EG_DIMS(qc, 1)));
    D = eg_add(D, eg_reshape(mx->trS, EG_DIMS(1, M)));
    return eg_clamp(eg_sub(D, eg_scale(tr, 2.0)), 0, INFINITY);
}

/* W2² [na, nb] between full-covariance a and b, a in chunks of queries: every pair
 * (nearest = 0) or only the pairs that can be nearest, the others +inf (nearest = 1) */
static eg_tensor *w2sq_full_chunks(bw_gauss a, bw_gauss b, double floor, int nearest) {
    eg_ctx *ctx = eg_tensor_ctx(a.mean);
    int64_t na = bw_gauss_n(a), nb = bw_gauss_n(b), d = bw_gauss_d(a);
    int64_t qc = bw_chunk_size(0, nb * d * d), nch = (na + qc - 1) / qc;
    bw_mems mx = bw_mems_of(b, floor, nearest);
    eg_tensor **parts = malloc(sizeof(eg_tensor *) * (size_t)(nch > 0 ? nch : 1));
    if (!parts) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory");
        return eg_zeros(ctx, eg_dtype_of(a.mean), EG_DIMS(na, nb));
    }
    for (int64_t c = 0; c < nch; c++) {
        int64_t s = c * qc, len = na - s < qc ? na - s : qc;
        parts[c] = eg_empty(ctx, eg_dtype_of(a.mean), EG_DIMS(len, nb));
        eg_scope *sc = eg_scope_open(ctx);
        bw_gauss ac = bw_gauss_narrow(a, s, len);
        eg_tensor *Oh = bw_sqrtm(ac.cov, floor, NULL);
        eg_tensor *tr = bw_trace(ac.cov);
        eg_assign(parts[c], nearest ? bw_w2sq_pruned(ac.mean, Oh, tr, &mx, 0, NULL)
                                    : bw_w2sq_full_chunk(ac.mean, Oh, tr, &mx, NULL));
        eg_scope_close(sc);
    }
    eg_tensor *D = nch == 1 ? parts[0] : eg_concat(parts, (int)nch, 0);
    free(parts);
    return D;
}

eg_tensor *bw_w2sq(bw_gauss a, bw_gauss b, double floor) {
    if (!a.full || !b.full) {
        if (a.full) a = bw_gauss_to_diag(a);
        if (b.full) b = bw_gauss_to_diag(b);
        return bw_sqdist(bw_stack_root(a), bw_stack_root(b));
    }
    return w2sq_full_chunks(a, b, floor, 0);
}

eg_tensor *bw_w2sq_rows(bw_gauss a, bw_gauss b, double floor) {
    eg_tensor *dm = eg_sum(eg_square(eg_sub(a.mean, b.mean)), 1, 0);
    if (!a.full || !b.full) {
        if (a.full) a = bw_gauss_to_diag(a);
        if (b.full) b = bw_gauss_to_diag(b);
        eg_tensor *ra = eg_sqrt(eg_clamp(a.cov, 0, INFINITY)), *rb = eg_sqrt(eg_clamp(b.cov, 0, INFINITY));
        return eg_add(dm, eg_sum(eg_square(eg_sub(ra, rb)), 1, 0));
    }
    eg_tensor *Ah = bw_sqrtm(a.cov, floor, NULL);
    eg_tensor *w = NULL, *V = NULL;
    eg_syev(bw_sym(eg_matmul(eg_matmul(Ah, b.cov), Ah)), &w, &V);
    eg_tensor *tr = eg_sum(eg_sqrt(eg_clamp(w, 0, INFINITY)), 1, 0);
    eg_tensor *D = eg_add(dm, eg_add(bw_trace(a.cov), bw_trace(b.cov)));
    return eg_clamp(eg_sub(D, eg_scale(tr, 2.0)), 0, INFINITY);
}

eg_tensor *bw_ot_map(eg_tensor *Omega, eg_tensor *Sigma, double floor) {
    eg_tensor *Oi = NULL;
    eg_tensor *Oh = bw_sqrtm(Omega, floor, &Oi);
    eg_tensor *Cr = bw_sqrtm(eg_matmul(eg_matmul(Oh, Sigma), Oh), 0, NULL);
    return bw_sym(eg_matmul(eg_matmul(Oi, Cr), Oi));
}

/* ---- pruned pairs (full covariances) ----
 * For every pair, cheap bounds on W2² from one GEMM:
 *   LB = |Δm|² + (√tr Ω - √tr Σ)²       since tr (Ω^½ Σ Ω^½)^½ = |Ω^½ Σ^½|_* <= |Ω^½|_F |Σ^½|_F
 *   UB = |Δm|² + |Ω^½ - Σ^½|_F²         the coupling x -> Σ^½ Ω^-½ x (identity on the roots)
 * A pair is kept when LB <= min over the row of UB + slack; the others have
 * W2² > (the row's smallest W2²) + slack, so their Gibbs weight relative to the largest is
 * below exp(-β slack): with slack = 60/β they cannot change a float64 step, and with
 * slack = 0 they cannot be the nearest memory. Only kept pairs are eigendecomposed —
 * unless most are kept (DENSE_SHARE): then every pair goes through the GEMM-shaped
 * dense path (cheaper than gathering them), the dropped ones masked with +inf. */
#define DENSE_SHARE 0.75

eg_tensor *bw_w2sq_pruned(eg_tensor *mq, eg_tensor *Oh, eg_tensor *trO, const bw_mems *mx, double slack,
                          bw_pairs *pairs) {
    eg_ctx *ctx = eg_tensor_ctx(mq);
    eg_dtype dt = eg_dtype_of(mq);
    bw_gauss X = mx->X;
    eg_tensor *trS = mx->trS;
    int64_t qc = eg_dim(mq, 0), M = bw_gauss_n(X), d = bw_gauss_d(X), n = qc * M;
    eg_tensor *dm2 = bw_sqdist(mq, X.mean);
    eg_tensor *a = eg_reshape(eg_sqrt(eg_clamp(trO, 0, INFINITY)), EG_DIMS(qc, 1));
    eg_tensor *b = eg_reshape(eg_sqrt(eg_clamp(trS, 0, INFINITY)), EG_DIMS(1, M));
    eg_tensor *LB = eg_add(dm2, eg_square(eg_sub(a, b)));
    eg_tensor *cross = eg_gemm(eg_reshape(Oh, EG_DIMS(qc, d * d)), eg_reshape(mx->Sh, EG_DIMS(M, d * d)), 0, 1, -2.0);
    eg_tensor *UB = eg_add(eg_add(eg_add(dm2, cross), eg_reshape(trO, EG_DIMS(qc, 1))), eg_reshape(trS, EG_DIMS(1, M)));
    double *lb = malloc(sizeof(double) * (size_t)(3 * n));
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)(3 * n));
    if (!lb || !idx) {
        free(lb), free(idx);
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory for %lld pairs", (long long)n);
        return eg_zeros(ctx, dt, EG_DIMS(qc, M));
    }
    double *ub = lb + n, *mask = lb + 2 * n;
    int32_t *jj = idx, *ii = idx + n, *flat = idx + 2 * n;
    int64_t P = 0;
    if (eg_to_host_f64(LB, lb) == EG_OK && eg_to_host_f64(UB, ub) == EG_OK)
        for (int64_t j = 0; j < qc; j++) {
            double u = INFINITY;
            for (int64_t i = 0; i < M; i++)
                u = fmin(u, ub[j * M + i]);
            for (int64_t i = 0; i < M; i++) {
                int keep = lb[j * M + i] <= u + slack + 1e-12 * (1 + fabs(u)); /* rounding of the bounds */
                mask[j * M + i] = keep ? 0 : INFINITY;
                if (keep) jj[P] = (int32_t)j, ii[P] = (int32_t)i, flat[P] = (int32_t)(j * M + i), P++;
            }
        }
    if (P == 0) { /* only after an error: keep the shapes */
        free(lb), free(idx);
        return eg_zeros(ctx, dt, EG_DIMS(qc, M));
    }
    eg_tensor *tm = eg_from_host(ctx, EG_F64, EG_DIMS(qc, M), mask);
    if (dt != EG_F64) tm = eg_cast(tm, dt);
    if ((double)P >= DENSE_SHARE * (double)n) {
        free(lb), free(idx);
        eg_tensor *D = eg_add(bw_w2sq_full_chunk(mq, Oh, trO, mx, pairs ? &pairs->eig : NULL), tm);
        if (pairs) pairs->n = n, pairs->row = pairs->flat = pairs->root = NULL;
        return D;
    }
    eg_tensor *tj = eg_from_host(ctx, EG_I32, EG_DIMS(P), jj), *ti = eg_from_host(ctx, EG_I32, EG_DIMS(P), ii);
    eg_tensor *tf = eg_from_host(ctx, EG_I32, EG_DIMS(P), flat);
    free(lb), free(idx);
    eg_tensor *Os = eg_index_select(Oh, 0, tj);
    eg_tensor *C = eg_matmul(eg_matmul(Os, eg_index_select(X.cov, 0, ti)), Os); /* [P, d, d]; syev reads a triangle */
    eg_tensor *w = NULL, *V = NULL;
    eg_syev(C, &w, &V);
    eg_tensor *s = eg_sqrt(eg_clamp(w, 0, INFINITY));
    eg_tensor *tr = eg_sum(s, 1, 0); /* [P] */
    eg_tensor *Dp = eg_add(eg_index_select(eg_reshape(dm2, EG_DIMS(n)), 0, tf),
                           eg_add(eg_index_select(trO, 0, tj), eg_index_select(trS, 0, ti)));
    Dp = eg_sub(Dp, eg_scale(tr, 2.0));
    eg_tensor *D = eg_add(eg_index_add(eg_reshape(dm2, EG_DIMS(n)), 0, tf, Dp), eg_reshape(tm, EG_DIMS(n)));
    if (pairs) {
        pairs->n = P, pairs->row = tj, pairs->flat = tf;
        pairs->root = recompose_raw(V, s); /* the caller symmetrises the weighted sum */
    }
    return eg_clamp(eg_reshape(D, EG_DIMS(qc, M)), 0, INFINITY);
}

eg_tensor *bw_w2sq_nearest(bw_gauss a, bw_gauss b, double floor) {
    if (!a.full || !b.full) return bw_w2sq(a, b, floor);
    return w2sq_full_chunks(a, b, floor, 1);
}
