/* bwdam_phi.c — the energy and the Φ retrieval step of BW-DAM (paper Algorithm 1;
 * reference §3.2), the Eu-DAM baseline (MCHN on (m, vec Σ^½)) and the retrieval
 * loop shared by both.
 *
 * Φ step for queries ξ_q = N(m_q, Ω_q) against memories X_i = N(m_i, Σ_i):
 *   d_qi = W2²(X_i, ξ_q),  w_q = softmax(-β d_q),  E(ξ_q) = -β⁻¹ logsumexp(-β d_q)
 *   m'_q = Σ_i w_qi m_i
 *   Ω'_q = Ā Ω Ā with Ā = Σ_i w_qi A_qi and A_qi = Ω^-½ C_qi^½ Ω^-½, C_qi = Ω^½ Σ_i Ω^½,
 *        = Ω^-½ B² Ω^-½ with B = Σ_i w_qi C_qi^½ (the C_qi^½ already give the distances).
 * Diagonal covariances commute, so Ā = Σ_i w_i Σ_i^½ Ω^-½ and √Ω' = Σ_i w_i √Σ_i: the
 * whole step is softmax(-β D) (m_i, √λ_i) with D from one GEMM — the GMM memory's update
 * on the stacked vector (reference §4).
 * Queries go in chunks whose [Qc, M] (diag) or [Qc, M, d, d] (full) temporaries fit the
 * budget; each chunk's temporaries are freed before the next. Full covariances: by
 * default only the pairs whose cheap W2² bounds leave them within 60/β of the row's
 * nearest memory are eigendecomposed (bw_w2sq_pruned); the others' Gibbs
 * weights are below e^-60 of the largest, so the float64 step is unchanged. */
#include <math.h>
#include <stdlib.h>

#include "bwdam_internal.h"

typedef struct chunk_out {
    eg_tensor *m, *cov, *E, *W;
} chunk_out;

/* energy, weights and (when step) the updated chunk of queries */
static void bw_chunk(const bw_dam *h, bw_gauss q, bw_gauss X, eg_tensor *UX, const bw_mems *mx, int step,
                     chunk_out *o) {
    int64_t qc = bw_gauss_n(q), d = bw_gauss_d(q), M = bw_gauss_n(X);
    eg_tensor *D, *Oh = NULL, *Oi = NULL;
    bw_pairs pr = {0, NULL, NULL, NULL, {NULL, NULL}};
    if (h->full) {
        Oh = bw_sqrtm(q.cov, h->eig_floor, step ? &Oi : NULL);
        if (mx->Sh) /* pruned: relative weights below e^-60 are dropped */
            D = bw_w2sq_pruned(q.mean, Oh, bw_trace(q.cov), mx, 60.0 / h->beta, step ? &pr : NULL);
        else
            D = bw_w2sq_full_chunk(q.mean, Oh, bw_trace(q.cov), mx, step ? &pr.eig : NULL);
    } else
        D = bw_sqdist(bw_stack_root(q), UX);
    eg_tensor *L = eg_scale(D, -h->beta);
    o->E = eg_scale(eg_logsumexp(L, 1, 0), -1.0 / h->beta); /* max-shifted inside the kernel */
    if (!step && !o->W) return;
    eg_tensor *W = eg_softmax(L, 1);
    o->W = W;
    if (!step) return;
    if (h->full) {
        o->m = eg_matmul(W, X.mean);
        eg_tensor *B;
        if (pr.row) { /* B_j = Σ over the kept pairs (j, i) of w_ji C_ji^½ */
            eg_tensor *w = eg_index_select(eg_reshape(W, EG_DIMS(qc * M)), 0, pr.flat);
            B = eg_index_add(Oh, 0, pr.row, eg_mul(pr.root, eg_reshape(w, EG_DIMS(pr.n, 1, 1))));
        } else /* every pair: one GEMM per query on the eigenvectors */
            B = bw_pair_mix(&pr.eig, W);
        B = bw_sym(B);
        o->cov = bw_sym(eg_matmul(eg_matmul(Oi, eg_matmul(B, B)), Oi));
    } else {
        eg_tensor *U = eg_matmul(W, UX); /* (m', √λ') */
        o->m = eg_narrow(U, 1, 0, d);
        o->cov = eg_square(eg_narrow(U, 1, d, d));
    }
}

/* runs bw_chunk over query chunks; returns the new states when step */
static bw_gauss bw_run(const bw_dam *h, bw_gauss q, bw_gauss X, int step, eg_tensor **energy, eg_tensor **weights) {
    eg_ctx *ctx = eg_tensor_ctx(q.mean);
    eg_dtype dt = eg_dtype_of(q.mean);
    if (h->full)
        q = bw_gauss_to_full(q), X = bw_gauss_to_full(X);
    else if (q.full || X.full)
        eg_ctx_fail(ctx, EG_ERR_INVALID, "bwdam: cov: diag needs diagonal queries and memories");
    int64_t Q = bw_gauss_n(q), d = bw_gauss_d(q), M = bw_gauss_n(X);
    int64_t qc = bw_chunk_size(h->budget, h->full ? M * d * d : M), nch = (Q + qc - 1) / qc;
    eg_tensor *UX = h->full ? NULL : bw_stack_root(X);
    bw_mems mx = {X, NULL, NULL, NULL};
    if (h->full) mx = bw_mems_of(X, h->eig_floor, !h->no_prune);
    chunk_out *parts = calloc((size_t)(nch > 0 ? nch : 1), sizeof *parts);
    eg_tensor **list = malloc(sizeof(eg_tensor *) * (size_t)(nch > 0 ? nch : 1));
    bw_gauss out = {q.mean, q.cov, q.full};
    if (!parts || !list) {
        free(parts), free(list);
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory");
        if (energy) *energy = eg_zeros(ctx, dt, EG_DIMS(Q));
        if (weights) *weights = eg_zeros(ctx, dt, EG_DIMS(Q, M));
        return out;
    }
    for (int64_t c = 0; c < nch; c++) {
        int64_t s = c * qc, len = Q - s < qc ? Q - s : qc;
        chunk_out *p = &parts[c];
        p->E = eg_empty(ctx, dt, EG_DIMS(len));
        if (weights) p->W = eg_empty(ctx, dt, EG_DIMS(len, M));
        if (step) {
            p->m = eg_empty(ctx, dt, EG_DIMS(len, d));
            p->cov = h->full ? eg_empty(ctx, dt, EG_DIMS(len, d, d)) : eg_empty(ctx, dt, EG_DIMS(len, d));
        }
        eg_scope *sc = eg_scope_open(ctx);
        chunk_out o = {NULL, NULL, NULL, weights ? p->W : NULL};
        bw_chunk(h, bw_gauss_narrow(q, s, len), X, UX, &mx, step, &o);
        eg_assign(p->E, o.E);
        if (weights) eg_assign(p->W, o.W);
        if (step) eg_assign(p->m, o.m), eg_assign(p->cov, o.cov);
        eg_scope_close(sc);
    }
#define GATHER(field, dst)                                                                                             \
    do {                                                                                                               \
        for (int64_t c = 0; c < nch; c++)                                                                              \
            list[c] = parts[c].field;                                                                                  \
        dst = nch == 1 ? list[0] : eg_concat(list, (int)nch, 0);                                                       \
    } while (0)
    if (energy) GATHER(E, *energy);
    if (weights) GATHER(W, *weights);
    if (step) {
        GATHER(m, out.mean);
        GATHER(cov, out.cov);
        out.full = h->full;
    }
#undef GATHER
    free(parts), free(list);
    return out;
}

bw_gauss bw_step(const bw_dam *h, bw_gauss q, bw_gauss X, eg_tensor **energy, eg_tensor **weights) {
    return bw_run(h, q, X, 1, energy, weights);
}

/* ---- eu-dam: the modern Hopfield update on (m, vec Σ^½) ---- */

eg_tensor *bw_eu_embed(bw_gauss g, double floor) {
    if (!g.full) return bw_stack_root(g);
    int64_t n = bw_gauss_n(g), d = bw_gauss_d(g);
    eg_tensor *parts[2] = {g.mean, eg_reshape(bw_sqrtm(g.cov, floor, NULL), EG_DIMS(n, d * d))};
    return eg_concat(parts, 2, 1);
}

bw_gauss bw_eu_unembed(eg_tensor *v, int64_t d, int full) {
    int64_t n = eg_dim(v, 0);
    bw_gauss g = {eg_narrow(v, 1, 0, d), NULL, full};
    if (full) {
        eg_tensor *R = bw_sym(eg_reshape(eg_narrow(v, 1, d, d * d), EG_DIMS(n, d, d)));
        g.cov = bw_sym(eg_matmul(R, R));
    } else
        g.cov = eg_square(eg_narrow(v, 1, d, d));
    return g;
}

/* Ramsauer et al. 2020: V <- softmax(β V Eᵀ) E,
 * energy -β⁻¹ lse(β V Eᵀ) + ½ vᵀv + β⁻¹ ln M + ½ max_i |e_i|² (as the hopfield plugin's mchn) */
eg_tensor *bw_eu_step(const bw_dam *h, eg_tensor *V, eg_tensor *E, eg_tensor **energy) {
    eg_ctx *ctx = eg_tensor_ctx(V);
    eg_dtype dt = eg_dtype_of(V);
    int64_t Q = eg_dim(V, 0), k = eg_dim(V, 1), M = eg_dim(E, 0);
    int64_t qc = bw_chunk_size(h->budget, M), nch = (Q + qc - 1) / qc;
    double shift = log((double)M) / h->beta;
    eg_tensor *half_max = eg_scale(eg_max(eg_sum(eg_square(E), 1, 0), 0, 0), 0.5);
    eg_tensor **next = malloc(sizeof(eg_tensor *) * (size_t)(2 * (nch > 0 ? nch : 1)));
    if (!next) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory");
        if (energy) *energy = eg_zeros(ctx, dt, EG_DIMS(Q));
        return V;
    }
    eg_tensor **en = next + nch;
    for (int64_t c = 0; c < nch; c++) {
        int64_t s = c * qc, len = Q - s < qc ? Q - s : qc;
        next[c] = eg_empty(ctx, dt, EG_DIMS(len, k));
        en[c] = eg_empty(ctx, dt, EG_DIMS(len));
        eg_scope *sc = eg_scope_open(ctx);
        eg_tensor *Vc = eg_narrow(V, 0, s, len);
        eg_tensor *L = eg_gemm(Vc, E, 0, 1, h->beta);
        eg_assign(next[c], eg_matmul(eg_softmax(L, 1), E));
        eg_tensor *e =
            eg_add(eg_scale(eg_logsumexp(L, 1, 0), -1.0 / h->beta), eg_scale(eg_sum(eg_square(Vc), 1, 0), 0.5));
        eg_assign(en[c], eg_add(eg_add_scalar(e, shift), half_max));
        eg_scope_close(sc);
    }
    eg_tensor *out = nch == 1 ? next[0] : eg_concat(next, (int)nch, 0);
    if (energy) *energy = nch == 1 ? en[0] : eg_concat(en, (int)nch, 0);
    free(next);
    return out;
}

eg_tensor *bw_energy(const bw_dam *h, bw_gauss q, bw_gauss X) {
    eg_tensor *E = NULL;
    if (h->variant == BW_EU) {
        bw_eu_step(h, bw_eu_embed(q, h->eig_floor), bw_eu_embed(X, h->eig_floor), &E);
        return E;
    }
    bw_run(h, q, X, 0, &E, NULL);
    return E;
}

/* ---- the loop ---- */

bw_gauss bw_retrieve(const bw_dam *h, bw_gauss q, bw_gauss X, eg_tensor **steps_out, bw_hook hook, void *user) {
    eg_ctx *ctx = eg_tensor_ctx(q.mean);
    int64_t Q = bw_gauss_n(q), d = bw_gauss_d(q);
    int eu = h->variant == BW_EU;
    if (h->full) q = bw_gauss_to_full(q), X = bw_gauss_to_full(X);
    eg_converge c; /* the moves are squared (W2², |.|²): converged when sqrt(move) < tol */
    if (eg_converge_init(&c, Q, h->tol, 1) != EG_OK) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "bwdam: out of host memory for %lld queries", (long long)Q);
        if (steps_out) *steps_out = eg_zeros(ctx, EG_F32, EG_DIMS(Q));
        return q;
    }
    eg_tensor *V = eu ? bw_eu_embed(q, h->eig_floor) : NULL;
    eg_tensor *EX = eu ? bw_eu_embed(X, h->eig_floor) : NULL;
    bw_gauss state = q;
    int t = 0;
    while (t < h->steps && eg_ctx_status(ctx) == EG_OK) {
        eg_tensor *E = NULL, *delta;
        if (eu) {
            eg_tensor *Vn = bw_eu_step(h, V, EX, &E);
            if (hook) hook(user, t, state, E);
            delta = eg_sum(eg_square(eg_sub(Vn, V)), 1, 0); /* squared Euclidean move */
            V = Vn;
            state = bw_eu_unembed(V, d, h->full);
        } else {
            bw_gauss next = bw_step(h, state, X, &E, NULL);
            if (hook) hook(user, t, state, E);
            delta = bw_w2sq_rows(state, next, h->eig_floor); /* W2² between iterates */
            state = next;
        }
        int all = eg_converge_update(&c, delta);
        if (all < 0) break;
        t++;
        if (all) break; /* every query is a fixed point (to tol) */
    }
    if (hook) {
        eg_tensor *E = bw_energy(h, state, X);
        for (int s = t; s <= h->steps; s++)
            hook(user, s, state, E);
    }
    if (steps_out) *steps_out = eg_converge_steps(&c, ctx);
    eg_converge_free(&c);
    return state;
}
