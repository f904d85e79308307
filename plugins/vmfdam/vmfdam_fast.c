/* vmfdam_fast.c — the memorisation step as a few large backend kernels on reused
 * buffers: the same mathematics as vmf_forward + loss + eg_backward +
 * vmf_smd_step (vmfdam_forward.c, vmfdam_smd.c), with the gradients derived
 * by hand so that no [B, P] or [P, N] intermediate is made twice and the momentum
 * rides on the GEMM that forms the gradient of w. The kernels are the context's
 * backend's (engram/kernels.h), so it runs on every backend; a failure is the
 * context's error and names the step ("gemm v_w: backend ...").
 *
 * Forward, batch x [B, N] (a = ς beta, tau = tau(beta), K = C+1 columns):
 *   H  = a x W^T                      GEMM [B, P] (alpha = a)
 *   mx = max_mu H;  E = exp(H - mx)    (<= 1, no overflow)
 *   c  = max(mx - tau, 0)              the shift of vmf_forward
 *   rho = mx - tau - c,  z = -c        so e^{h - c} = e^rho E and the null unit's e^{-c} = e^z
 *   Sm = E g_mem                       GEMM [B, K]
 *   S  = e^rho Sm + e^z g_null;  out = c + ln S
 * Backward with dS = dL/dout / S (supervised: dL/dout = -T/B; eq. 15: see below):
 *   Ds = e^rho dS                      [B, K]
 *   dg_mem = E^T Ds,  dg_null = (e^z)^T dS     GEMMs [P, K], [1, K]
 *   dh = (Ds g_mem^T) o E              GEMM [B, P] then one product (dL/dh_{b mu})
 *   r'_mu = sum_b dh H                 = a w_mu.G_mu with G = dh^T x, so the tangent gradient
 *                                        of w is a G - r' w (reference §6, "custom gradient")
 *   sum_{b,mu} dh = sum_{b,y} Ds Sm    (no [B, P] pass)
 *   dL/dbeta = (ς/a) sum r' - tau'(beta) sum dh
 * SMD (the learning rate applied twice, vmfdam_smd.c):
 *   v_w <- mu v_w - lr a dh^T x + lr r' o w     the GEMM writes into v_w with beta = mu
 *   w   <- normalize(w + lr v_w)
 *   g   <- (delta - p/p_h) projection, exponentiated update, row-max rescale, Sinkhorn
 *   beta: on the host (it is needed there for tau and the GEMM's alpha), then written back.
 * Unsupervised loss (eq. 15): q = (1 - eps) p + eps/K with p = softmax(out);
 *   dL/dout = -(1/B) [q + (1 - eps) p o (out - sum_y p_y out_y)].
 * Everything after the first GEMM up to dh is row-local (the sums over the batch are
 * accumulated per block), so it runs in blocks of rows that stay in cache (block_rows).
 * One download per step (the loss, sum dh, sum r'), which beta's update needs anyway. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engram/kernels.h"
#include "vmfdam.h"

typedef struct vmf_fast {
    int64_t P, B, N, K;
    int64_t R, nb; /* rows per block of the [B, P] chain, blocks per batch */
    eg_dtype dt;
    eg_tensor *xb, *tb;                             /* gathered batch [B, N], [B, K] */
    eg_tensor *h, *dh;                              /* [B, P]: a x W^T, dL/dh */
    eg_tensor *e;                                   /* [R, P]: E of one block, then dh H */
    eg_tensor *rparts;                              /* [nb, P]: r' per block */
    eg_tensor *pn;                                  /* [P, N] scratch */
    eg_tensor *sm, *s, *ds, *dsr, *tk, *tk2, *outb; /* [B, K] */
    eg_tensor *mx, *c, *rho, *ez, *tb1;             /* [B] */
    eg_tensor *parts;                               /* [2 nb]: per block sum T out, sum dh */
    eg_tensor *r, *p1;                              /* [P + 1] */
    eg_tensor *dg, *gk, *gk2;                       /* [P + 1, K] */
    eg_tensor *sc;                                  /* [4] scalars downloaded once per step */
} vmf_fast;

/* ---- kernel calls (engram/kernels.h): the context's sticky error keeps the first
 * failure with the name of its step; later calls do nothing ---- */
typedef struct kern {
    eg_ctx *ctx;
    eg_dtype dt;
    size_t es;
} kern;

static void *at(eg_tensor *t, int64_t off) {
    return eg_kernel_at(t, off);
}

/* C = alpha op(A) op(B) + beta C, row-major, leading dims given */
static void k_gemm(kern *k, int ta, int tb, int64_t m, int64_t n, int64_t kk, double alpha, const void *a, int64_t lda,
                   const void *b, int64_t ldb, double beta, void *c, int64_t ldc, const char *what) {
    eg_gemm_args g = {.dtype = k->dt,
                      .trans_a = ta,
                      .trans_b = tb,
                      .m = m,
                      .n = n,
                      .k = kk,
                      .alpha = alpha,
                      .beta = beta,
                      .a = a,
                      .lda = lda,
                      .b = b,
                      .ldb = ldb,
                      .c = c,
                      .ldc = ldc,
                      .batch = 1};
    eg_kernel_gemm(k->ctx, &g, what);
}

static void k_un(kern *k, eg_unary_op op, int64_t n, const void *x, void *y, double a, double b, const char *what) {
    eg_kernel_unary(k->ctx, op, k->dt, n, x, y, a, b, what);
}

/* out[R, C] = a op b where each operand is [R, C] (full), [R, 1] (col) or [1, C] (row) */
enum { FULL, COL, ROW };
static void k_bin(kern *k, eg_binary_op op, int64_t R, int64_t C, const void *a, int fa, const void *b, int fb,
                  void *out, const char *what) {
    eg_bcast_args p = {.dtype = k->dt, .op = op, .ndim = 2, .shape = {R, C}, .a = a, .b = b, .out = out};
    p.stride_a[0] = fa == ROW ? 0 : fa == COL ? 1 : C, p.stride_a[1] = fa == COL ? 0 : 1;
    p.stride_b[0] = fb == ROW ? 0 : fb == COL ? 1 : C, p.stride_b[1] = fb == COL ? 0 : 1;
    eg_kernel_binary(k->ctx, &p, what);
}

static void k_red(kern *k, eg_reduce_op op, int64_t outer, int64_t len, int64_t inner, const void *x, void *y,
                  const char *what) {
    eg_kernel_reduce(k->ctx, op, k->dt, outer, len, inner, x, y, what);
}

static int k_ok(const kern *k) {
    return eg_ctx_status(k->ctx) == EG_OK;
}

/* ---- buffers ---- */
void vmf_fast_release(vmf_model *m) {
    vmf_fast *f = m->fast;
    if (!f) return;
    eg_tensor **all[] = {&f->xb,  &f->tb,    &f->h,  &f->dh,  &f->e,    &f->rparts, &f->pn,  &f->sm,  &f->s,
                         &f->ds,  &f->dsr,   &f->tk, &f->tk2, &f->outb, &f->mx,     &f->c,   &f->rho, &f->ez,
                         &f->tb1, &f->parts, &f->r,  &f->p1,  &f->dg,   &f->gk,     &f->gk2, &f->sc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (*all[i]) eg_tensor_free(*all[i]);
    free(f);
    m->fast = NULL;
}

/* Rows per block of the [B, P] chain. On the CPU a block's E, dh and H (3 R P values,
 * 1.5 MB at 2^17 values per array in float32) stay in the cores' caches between the
 * kernels that use them, so the chain reads H and writes dh about once instead of
 * touching memory a dozen times (10% less CPU time per epoch at P = 1000 than one
 * block of 1000 rows; 64 to 256 rows are equally good); a GPU takes the batch at once. */
#define BLOCK_VALUES (1 << 17)
static int64_t block_rows(const vmf_model *m, int64_t B) {
    if (!eg_ctx_has(m->ctx, EG_FEATURE_HOST_MEMORY)) return B;
    int64_t R = BLOCK_VALUES / (m->hidden > 0 ? m->hidden : 1);
    if (R < 32) R = 32;
    return R < B ? R : B;
}

/* buffers for batches of up to B rows at the model's current P */
static vmf_fast *fast_buffers(vmf_model *m, int64_t B) {
    int64_t P = m->hidden, N = m->n, K = m->classes + 1;
    vmf_fast *f = m->fast;
    if (f && f->P == P && f->N == N && f->K == K && f->B >= B && f->dt == m->dtype) return f;
    if (f && f->B > B) B = f->B;
    vmf_fast_release(m);
    f = calloc(1, sizeof *f);
    if (!f) {
        eg_ctx_fail(m->ctx, EG_ERR_NOMEM, "vmfdam: out of memory for the training step's buffers");
        return NULL;
    }
    eg_ctx *ctx = m->ctx;
    eg_dtype dt = m->dtype;
    int64_t R = block_rows(m, B), nb = (B + R - 1) / R;
    *f = (vmf_fast){.P = P, .B = B, .N = N, .K = K, .R = R, .nb = nb, .dt = dt};
    f->xb = eg_persistent(ctx, dt, EG_DIMS(B, N));
    f->tb = eg_persistent(ctx, dt, EG_DIMS(B, K));
    f->h = eg_persistent(ctx, dt, EG_DIMS(B, P));
    f->dh = eg_persistent(ctx, dt, EG_DIMS(B, P));
    f->e = eg_persistent(ctx, dt, EG_DIMS(R, P));
    f->rparts = eg_persistent(ctx, dt, EG_DIMS(nb, P));
    f->pn = eg_persistent(ctx, dt, EG_DIMS(P, N));
    eg_tensor **bk[] = {&f->sm, &f->s, &f->ds, &f->dsr, &f->tk, &f->tk2, &f->outb};
    for (size_t i = 0; i < sizeof bk / sizeof *bk; i++)
        *bk[i] = eg_persistent(ctx, dt, EG_DIMS(B, K));
    eg_tensor **b1[] = {&f->mx, &f->c, &f->rho, &f->ez, &f->tb1};
    for (size_t i = 0; i < sizeof b1 / sizeof *b1; i++)
        *b1[i] = eg_persistent(ctx, dt, EG_DIMS(B));
    f->parts = eg_persistent(ctx, dt, EG_DIMS(2 * nb));
    f->r = eg_persistent(ctx, dt, EG_DIMS(P + 1));
    f->p1 = eg_persistent(ctx, dt, EG_DIMS(P + 1));
    f->dg = eg_persistent(ctx, dt, EG_DIMS(P + 1, K));
    f->gk = eg_persistent(ctx, dt, EG_DIMS(P + 1, K));
    f->gk2 = eg_persistent(ctx, dt, EG_DIMS(P + 1, K));
    f->sc = eg_persistent(ctx, dt, EG_DIMS(4));
    m->fast = f;
    if (eg_ctx_status(ctx) != EG_OK) {
        vmf_fast_release(m);
        return NULL;
    }
    return f;
}

static double round_dt(eg_dtype dt, double v) {
    return dt == EG_F32 ? (double)(float)v : v;
}

/* Rows [r0, r0+rb) of the batch, block number `blk`, after H = a x W^T: E, Sm, S, out
 * (device pointer to the block's rows), the loss weights' dot with out into parts[blk]
 * (sum T out, or sum q out when unsupervised; nothing when neither). With `grad` also
 * dS, Ds = e^rho dS, dg (+)= E^T Ds and the null row, sum dh into parts[nb + blk], dh
 * into f->dh and r' of the block into rparts[blk]. */
static void block(kern *k, const vmf_model *m, vmf_fast *f, int64_t r0, int64_t rb, int64_t blk, const void *t,
                  double tau, void *out, int grad, double scale) {
    int64_t P = f->P, K = f->K;
    const void *g = eg_data(m->par.g), *gnull = at(m->par.g, P * K);
    void *H = at(f->h, r0 * P), *E = eg_data(f->e), *mx = at(f->mx, r0), *c = at(f->c, r0);
    void *rho = at(f->rho, r0), *ez = at(f->ez, r0), *sm = at(f->sm, r0 * K), *S = at(f->s, r0 * K);
    void *ds = at(f->ds, r0 * K), *tk = at(f->tk, r0 * K), *tk2 = at(f->tk2, r0 * K);
    void *part = at(f->parts, blk);
    k_red(k, EG_RED_MAX, rb, P, 1, H, mx, "row max");
    k_bin(k, EG_BIN_SUB, rb, P, H, FULL, mx, COL, E, "H - max");
    k_un(k, EG_UN_EXP, rb * P, E, E, 0, 0, "exp");
    k_gemm(k, 0, 0, rb, K, P, 1.0, E, P, g, K, 0.0, sm, K, "gemm E g");
    k_un(k, EG_UN_AFFINE, rb, mx, rho, 1.0, -tau, "mx - tau"); /* rho <- mx - tau */
    k_un(k, EG_UN_RELU, rb, rho, c, 0, 0, "relu");             /* c = max(mx - tau, 0) */
    k_bin(k, EG_BIN_SUB, rb, 1, rho, FULL, c, FULL, rho, "rho");
    k_un(k, EG_UN_EXP, rb, rho, rho, 0, 0, "exp rho"); /* e^rho */
    k_un(k, EG_UN_AFFINE, rb, c, ez, -1.0, 0.0, "-c");
    k_un(k, EG_UN_EXP, rb, ez, ez, 0, 0, "exp -c"); /* e^{-c} */
    k_bin(k, EG_BIN_MUL, rb, K, sm, FULL, rho, COL, S, "e^rho Sm");
    k_gemm(k, 0, 0, rb, K, 1, 1.0, ez, 1, gnull, K, 1.0, S, K, "S += e^-c g_null");
    k_un(k, EG_UN_LOG, rb * K, S, out, 0, 0, "ln S");
    k_bin(k, EG_BIN_ADD, rb, K, out, FULL, c, COL, out, "out");
    if (m->cfg.unsupervised) {
        double eps = m->cfg.epsilon;
        void *p = tk2, *po = at(f->tb1, r0);
        eg_kernel_softmax(k->ctx, 0, k->dt, rb, K, 1, out, p, "softmax");
        k_un(k, EG_UN_AFFINE, rb * K, p, ds, 1.0 - eps, eps / (double)K, "q"); /* q into ds */
        k_bin(k, EG_BIN_MUL, rb, K, ds, FULL, out, FULL, tk, "q out");
        k_red(k, EG_RED_SUM, 1, rb * K, 1, tk, part, "sum q out");
        if (grad) {
            k_bin(k, EG_BIN_MUL, rb, K, p, FULL, out, FULL, tk, "p out");
            k_red(k, EG_RED_SUM, rb, K, 1, tk, po, "sum p out");
            k_bin(k, EG_BIN_SUB, rb, K, out, FULL, po, COL, tk, "out - <out>");
            k_bin(k, EG_BIN_MUL, rb, K, tk, FULL, p, FULL, tk, "p (out - <out>)");
            k_un(k, EG_UN_AFFINE, rb * K, tk, tk, 1.0 - eps, 0.0, "(1 - eps) p (out - <out>)");
            k_bin(k, EG_BIN_ADD, rb, K, tk, FULL, ds, FULL, tk, "dL/dout");
            k_bin(k, EG_BIN_DIV, rb, K, tk, FULL, S, FULL, ds, "dL/dout / S");
        }
    } else if (t) {
        k_bin(k, EG_BIN_MUL, rb, K, t, FULL, out, FULL, tk, "T out");
        k_red(k, EG_RED_SUM, 1, rb * K, 1, tk, part, "sum T out");
        if (grad) k_bin(k, EG_BIN_DIV, rb, K, t, FULL, S, FULL, ds, "T / S");
    }
    if (!grad) return;
    /* dS = dL/dout / S with the factor -1/B of the loss (scale) */
    void *Ds = at(f->dsr, r0 * K), *dH = at(f->dh, r0 * P);
    k_un(k, EG_UN_AFFINE, rb * K, ds, ds, scale, 0.0, "dS");
    k_bin(k, EG_BIN_MUL, rb, K, ds, FULL, rho, COL, Ds, "Ds");
    double acc = blk > 0 ? 1.0 : 0.0;
    k_gemm(k, 1, 0, P, K, rb, 1.0, E, P, Ds, K, acc, eg_data(f->dg), K, "gemm dg = E^T Ds");
    k_gemm(k, 1, 0, 1, K, rb, 1.0, ez, 1, ds, K, acc, at(f->dg, P * K), K, "gemm dg_null");
    k_bin(k, EG_BIN_MUL, rb, K, Ds, FULL, sm, FULL, tk2, "Ds Sm");
    k_red(k, EG_RED_SUM, 1, rb * K, 1, tk2, at(f->parts, f->nb + blk), "sum dh");
    k_gemm(k, 0, 1, rb, P, K, 1.0, Ds, K, g, K, 0.0, dH, P, "gemm Ds g^T");
    k_bin(k, EG_BIN_MUL, rb, P, dH, FULL, E, FULL, dH, "dh");
    k_bin(k, EG_BIN_MUL, rb, P, dH, FULL, H, FULL, E, "dh H");
    k_red(k, EG_RED_SUM, 1, rb, P, E, at(f->rparts, blk * P), "r' of a block");
}

/* H = a x W^T for B rows at device pointer x, then the blocks; sums the per-block parts
 * into sc[0] (loss dot), sc[1] (sum dh) and r' into f->r, sc[2] (sum r') */
static void forward(kern *k, const vmf_model *m, vmf_fast *f, const void *x, const void *t, int64_t B, double a,
                    double tau, void *out, int grad) {
    int64_t P = f->P, K = f->K, nb = 0;
    k_gemm(k, 0, 1, B, P, f->N, a, x, f->N, eg_data(m->par.w), f->N, 0.0, eg_data(f->h), P, "gemm x W^T");
    for (int64_t r0 = 0; r0 < B; r0 += f->R, nb++) {
        int64_t rb = B - r0 < f->R ? B - r0 : f->R;
        block(k, m, f, r0, rb, nb, t ? (const char *)t + (size_t)(r0 * K) * k->es : NULL, tau,
              (char *)out + (size_t)(r0 * K) * k->es, grad, -1.0 / (double)B);
    }
    k_red(k, EG_RED_SUM, 1, nb, 1, eg_data(f->parts), eg_data(f->sc), "sum of parts");
    if (!grad) return;
    k_red(k, EG_RED_SUM, 1, nb, 1, at(f->parts, f->nb), at(f->sc, 1), "sum of parts");
    k_red(k, EG_RED_SUM, 1, nb, P, eg_data(f->rparts), eg_data(f->r), "r'");
    k_red(k, EG_RED_SUM, 1, P, 1, eg_data(f->r), at(f->sc, 2), "sum r'");
}

static kern kern_of(const vmf_model *m) {
    return (kern){.ctx = m->ctx, .dt = m->dtype, .es = m->dtype == EG_F64 ? 8 : 4};
}

eg_status vmf_fast_eval(vmf_model *m, eg_tensor *x, eg_tensor *t, int64_t start, int64_t bs, void *out, double *loss) {
    eg_ctx *ctx = m->ctx;
    *loss = NAN;
    if (eg_ctx_status(ctx) != EG_OK) return eg_ctx_status(ctx);
    vmf_fast *f = fast_buffers(m, bs);
    if (!f) return eg_ctx_status(ctx);
    kern k = kern_of(m);
    double beta = eg_item(m->par.beta), tau = 0;
    vmf_tau(m, beta, &tau, NULL);
    int64_t K = f->K;
    forward(&k, m, f, at(x, start * f->N), t ? at(t, start * K) : NULL, bs, m->cfg.varsigma * beta, tau,
            out ? out : eg_data(f->outb), 0);
    double sc = NAN;
    if (k_ok(&k) && (t || m->cfg.unsupervised)) {
        if (m->dtype == EG_F32) {
            float v;
            eg_kernel_download(ctx, &v, eg_data(f->sc), sizeof v, "download");
            sc = v;
        } else {
            eg_kernel_download(ctx, &sc, eg_data(f->sc), sizeof sc, "download");
        }
        *loss = -sc / (double)bs;
    }
    return eg_ctx_status(ctx);
}

eg_status vmf_fast_step(vmf_model *m, eg_tensor *x, eg_tensor *t, const void *idx, int64_t B, void *out, double *loss) {
    eg_ctx *ctx = m->ctx;
    *loss = NAN;
    if (eg_ctx_status(ctx) != EG_OK) return eg_ctx_status(ctx);
    double beta = eg_item(m->par.beta), a = m->cfg.varsigma * beta;
    if (!(a > 0) || (!t && !m->cfg.unsupervised)) return EG_ERR_UNSUPPORTED;
    vmf_fast *f = fast_buffers(m, B);
    if (!f) return eg_ctx_status(ctx);
    kern k = kern_of(m);
    int64_t P = f->P, N = f->N, K = f->K, n = eg_dim(x, 0);
    double tau = 0, dtau = 0, lr = m->cfg.lr, mu = m->cfg.momentum;
    vmf_tau(m, beta, &tau, &dtau);
    int train_w = eg_needs_grad(m->par.w), train_g = eg_needs_grad(m->par.g), train_b = m->cfg.beta_trainable;

    /* the batch: rows idx of x (and t) */
    eg_kernel_gather(ctx, k.dt, 1, n, N, eg_data(x), 1, B, idx, eg_data(f->xb), "gather x");
    if (t) eg_kernel_gather(ctx, k.dt, 1, n, K, eg_data(t), 1, B, idx, eg_data(f->tb), "gather t");
    if (!out) out = eg_data(f->outb);
    forward(&k, m, f, eg_data(f->xb), t ? eg_data(f->tb) : NULL, B, a, tau, out, 1);

    void *g = eg_data(m->par.g), *w = eg_data(m->par.w), *dg = eg_data(f->dg), *r = eg_data(f->r);
    void *sc = eg_data(f->sc), *pn = eg_data(f->pn);
    /* one download: sum T out, sum dh, sum r' */
    double s3[3] = {NAN, NAN, NAN};
    if (k_ok(&k)) {
        if (m->dtype == EG_F32) {
            float v[3];
            eg_kernel_download(ctx, v, sc, sizeof v, "download");
            for (int i = 0; i < 3; i++)
                s3[i] = v[i];
        } else {
            eg_kernel_download(ctx, s3, sc, sizeof s3, "download");
        }
    }
    *loss = -s3[0] / (double)B;
    if (!k_ok(&k) || !isfinite(*loss)) return eg_ctx_status(ctx);

    if (train_w) { /* v <- mu v - lr a dh^T x + lr r' w;  w <- normalize(w + lr v) */
        void *vw = eg_data(m->opt.vw);
        k_gemm(&k, 1, 0, P, N, B, -lr * a, eg_data(f->dh), P, eg_data(f->xb), N, mu, vw, N, "gemm v_w");
        k_un(&k, EG_UN_AFFINE, P, r, r, lr, 0.0, "lr r'");
        k_bin(&k, EG_BIN_MUL, P, N, r, COL, w, FULL, pn, "lr r' w");
        k_bin(&k, EG_BIN_ADD, P, N, vw, FULL, pn, FULL, vw, "v_w");
        k_un(&k, EG_UN_AFFINE, P * N, vw, pn, lr, 0.0, "lr v_w");
        k_bin(&k, EG_BIN_ADD, P, N, w, FULL, pn, FULL, w, "w + lr v_w");
        if (eg_ctx_has(ctx, EG_FEATURE_SUMSQ)) {
            k_red(&k, EG_RED_SUMSQ, P, N, 1, w, r, "|w|^2");
        } else {
            k_un(&k, EG_UN_SQUARE, P * N, w, pn, 0, 0, "w^2");
            k_red(&k, EG_RED_SUM, P, N, 1, pn, r, "|w|^2");
        }
        k_un(&k, EG_UN_CLAMP, P, r, r, 1e-30, INFINITY, "clamp");
        k_un(&k, EG_UN_RSQRT, P, r, r, 0, 0, "rsqrt");
        k_bin(&k, EG_BIN_MUL, P, N, w, FULL, r, COL, w, "normalize w");
    }
    if (train_g) { /* grad~ = grad - rowsum(g grad)/G; v <- mu v - lr grad~; g <- exp(ln g + lr v - max) */
        int64_t R = P + 1;
        void *vg = eg_data(m->opt.vg), *gk = eg_data(f->gk), *gk2 = eg_data(f->gk2), *p1 = eg_data(f->p1);
        k_bin(&k, EG_BIN_MUL, R, K, g, FULL, dg, FULL, gk, "g dg");
        k_red(&k, EG_RED_SUM, R, K, 1, gk, p1, "rowsum g dg");
        k_bin(&k, EG_BIN_DIV, R, 1, p1, FULL, eg_data(m->par.rows), FULL, p1, "/ G");
        k_bin(&k, EG_BIN_SUB, R, K, dg, FULL, p1, COL, dg, "grad~ g");
        k_un(&k, EG_UN_AFFINE, R * K, vg, vg, mu, 0.0, "mu v_g");
        k_un(&k, EG_UN_AFFINE, R * K, dg, dg, -lr, 0.0, "-lr grad~");
        k_bin(&k, EG_BIN_ADD, R, K, vg, FULL, dg, FULL, vg, "v_g");
        k_un(&k, EG_UN_LOG, R * K, g, gk, 0, 0, "ln g");
        k_un(&k, EG_UN_AFFINE, R * K, vg, gk2, lr, 0.0, "lr v_g");
        k_bin(&k, EG_BIN_ADD, R, K, gk, FULL, gk2, FULL, gk, "ln g + lr v_g");
        k_red(&k, EG_RED_MAX, R, K, 1, gk, p1, "row max ln g");
        k_bin(&k, EG_BIN_SUB, R, K, gk, FULL, p1, COL, gk, "- max");
        k_un(&k, EG_UN_EXP, R * K, gk, g, 0, 0, "exp");
    }
    eg_status st = eg_ctx_status(ctx);
    if (st == EG_OK && train_b) { /* dL/dbeta = (ς/a) sum r' - tau' sum dh; SMD on the host */
        double gb = m->cfg.varsigma / a * s3[2] - dtau * s3[1];
        double vb = round_dt(m->dtype, m->cfg.momentum * eg_item(m->opt.vbeta) - lr * gb);
        eg_fill(m->opt.vbeta, vb);
        eg_fill(m->par.beta, round_dt(m->dtype, beta + lr * vb));
    }
    if (st == EG_OK && train_g) {
        int passes = vmf_sinkhorn(m->par.g, m->par.rows, m->par.cols, m->cfg.sinkhorn_iters);
        if (passes < 0) return (eg_status)passes;
        m->opt.last_sinkhorn_passes = passes;
    }
    return eg_ctx_status(ctx);
}
