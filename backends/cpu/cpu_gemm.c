/* cpu_gemm.c — batched strided GEMM through OpenBLAS (row-major, no copies).
 * Each batch entry is one cblas_?gemm call; a stride of 0 broadcasts an operand. */
#include <cblas.h>

#include "cpu_internal.h"

static int ld_ok(int64_t ld, int64_t cols) {
    return ld >= (cols > 1 ? cols : 1);
}

/* Many tiny products (m*n*k <= SMALL_MNK): one cblas call each costs more than the
 * arithmetic, so the batch is split over threads and each product is a plain loop
 * (accumulated in the element type, row of C innermost so it vectorises). */
#define SMALL_MNK 4096
#define SMALL_GEMM(T)                                                                                                  \
    static void small_gemm_##T(const eg_gemm_args *g, int64_t lo, int64_t hi) {                                        \
        const T *A0 = g->a, *B0 = g->b;                                                                                \
        T *C0 = g->c, alpha = (T)g->alpha, beta = (T)g->beta, row[64];                                                 \
        int64_t m = g->m, n = g->n, k = g->k, lda = g->lda, ldb = g->ldb, ldc = g->ldc;                                \
        int ta = g->trans_a, tb = g->trans_b;                                                                          \
        for (int64_t bi = lo; bi < hi; bi++) {                                                                         \
            const T *a = A0 + bi * g->stride_a, *b = B0 + bi * g->stride_b;                                            \
            T *c = C0 + bi * g->stride_c;                                                                              \
            for (int64_t i = 0; i < m; i++) {                                                                          \
                for (int64_t j0 = 0; j0 < n; j0 += 64) {                                                               \
                    int64_t nj = n - j0 < 64 ? n - j0 : 64;                                                            \
                    for (int64_t j = 0; j < nj; j++)                                                                   \
                        row[j] = 0;                                                                                    \
                    for (int64_t p = 0; p < k; p++) {                                                                  \
                        T av = ta ? a[p * lda + i] : a[i * lda + p];                                                   \
                        if (tb)                                                                                        \
                            for (int64_t j = 0; j < nj; j++)                                                           \
                                row[j] += av * b[(j0 + j) * ldb + p];                                                  \
                        else                                                                                           \
                            for (int64_t j = 0; j < nj; j++)                                                           \
                                row[j] += av * b[p * ldb + j0 + j];                                                    \
                    }                                                                                                  \
                    T *cr = c + i * ldc + j0;                                                                          \
                    for (int64_t j = 0; j < nj; j++)                                                                   \
                        cr[j] = beta == 0 ? alpha * row[j] : alpha * row[j] + beta * cr[j];                            \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }
SMALL_GEMM(float)
SMALL_GEMM(double)

static void small_range(void *arg, int64_t lo, int64_t hi) {
    const eg_gemm_args *g = arg;
    if (g->dtype == EG_F32)
        small_gemm_float(g, lo, hi);
    else
        small_gemm_double(g, lo, hi);
}

/* A thin product (a block of queries against its memories, e.g. 10x784 by 784x100)
 * runs OpenBLAS's single-threaded small-matrix kernel; with more threads its columns
 * are cut into one contiguous slab per thread, each a cblas call of its own. */
#define THIN_MNK_MIN (1 << 16)
#define THIN_MNK_MAX (1 << 22)

typedef struct col_job {
    const eg_gemm_args *g;
    int64_t slabs;
} col_job;

static void col_range(void *arg, int64_t lo, int64_t hi) {
    const col_job *cj = arg;
    const eg_gemm_args *g = cj->g;
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t s = lo; s < hi; s++) {
        int64_t j0 = s * g->n / cj->slabs, j1 = (s + 1) * g->n / cj->slabs;
        if (j1 <= j0) continue;
        /* columns j0..j1 of op(B): rows j0.. of B when transposed, else columns */
        int64_t boff = g->trans_b ? j0 * g->ldb : j0;
        if (g->dtype == EG_F32)
            cblas_sgemm(CblasRowMajor, ta, tb, (int)g->m, (int)(j1 - j0), (int)g->k, (float)g->alpha,
                        (const float *)g->a, (int)g->lda, (const float *)g->b + boff, (int)g->ldb, (float)g->beta,
                        (float *)g->c + j0, (int)g->ldc);
        else
            cblas_dgemm(CblasRowMajor, ta, tb, (int)g->m, (int)(j1 - j0), (int)g->k, g->alpha, (const double *)g->a,
                        (int)g->lda, (const double *)g->b + boff, (int)g->ldb, g->beta, (double *)g->c + j0,
                        (int)g->ldc);
    }
}

/* C = beta*C for k == 0 (BLAS would do this too, but rejects lda < 1 shapes first) */
#define SCALE_C(T)                                                                                                     \
    do {                                                                                                               \
        for (int64_t bi = 0; bi < g->batch; bi++) {                                                                    \
            T *c = (T *)g->c + bi * g->stride_c;                                                                       \
            for (int64_t i = 0; i < g->m; i++)                                                                         \
                for (int64_t j = 0; j < g->n; j++)                                                                     \
                    c[i * g->ldc + j] = g->beta == 0 ? (T)0 : (T)(g->beta * c[i * g->ldc + j]);                        \
        }                                                                                                              \
    } while (0)

eg_status eg_cpu_gemm(void *ctx, const eg_gemm_args *g) {
    if (!g || g->m < 0 || g->n < 0 || g->k < 0 || g->batch < 0) return EG_ERR_INVALID;
    if (g->dtype != EG_F32 && g->dtype != EG_F64) return EG_ERR_UNSUPPORTED;
    if (g->m == 0 || g->n == 0 || g->batch == 0) return EG_OK;
    if (!g->c || !ld_ok(g->ldc, g->n)) return EG_ERR_INVALID;
    if (g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX) return EG_ERR_INVALID;
    if (g->stride_c == 0 && g->batch > 1) return EG_ERR_INVALID; /* outputs would alias */
    if (g->k == 0) {
        if (g->dtype == EG_F32)
            SCALE_C(float);
        else
            SCALE_C(double);
        return EG_OK;
    }
    /* row-major: A is m x k (lda >= k) or, transposed, stored k x m (lda >= m) */
    if (!g->a || !g->b || !ld_ok(g->lda, g->trans_a ? g->m : g->k) || !ld_ok(g->ldb, g->trans_b ? g->k : g->n))
        return EG_ERR_INVALID;
    if (g->lda > INT32_MAX || g->ldb > INT32_MAX || g->ldc > INT32_MAX) return EG_ERR_INVALID;
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    if (g->batch > 1 && g->m * g->n * g->k <= SMALL_MNK) {
        eg_cpu_parallel(ctx, g->batch * g->m * g->n * g->k > 4 * EG_CPU_PAR_MIN, g->batch, small_range, (void *)g);
        return EG_OK;
    }
    eg_cpu_ctx *cc = ctx;
    int64_t mnk = g->m * g->n * g->k;
    if (g->batch == 1 && cc->threads > 1 && mnk >= THIN_MNK_MIN && mnk <= THIN_MNK_MAX && g->n >= 16 * cc->threads) {
        col_job cj = {g, cc->threads};
        eg_cpu_parallel(cc, 1, cj.slabs, col_range, &cj);
        return EG_OK;
    }
    int m = (int)g->m, n = (int)g->n, k = (int)g->k;
    int lda = (int)g->lda, ldb = (int)g->ldb, ldc = (int)g->ldc;
    if (g->dtype == EG_F32) {
        const float *a = g->a, *b = g->b;
        float *c = g->c;
        for (int64_t i = 0; i < g->batch; i++)
            cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, (float)g->alpha, a + i * g->stride_a, lda, b + i * g->stride_b,
                        ldb, (float)g->beta, c + i * g->stride_c, ldc);
    } else {
        const double *a = g->a, *b = g->b;
        double *c = g->c;
        for (int64_t i = 0; i < g->batch; i++)
            cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g->alpha, a + i * g->stride_a, lda, b + i * g->stride_b, ldb,
                        g->beta, c + i * g->stride_c, ldc);
    }
    return EG_OK;
}
