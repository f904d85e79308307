/* cuda_gemm.cu — batched strided GEMM through cuBLAS.
 *
 * cuBLAS is column-major. A row-major m x n matrix with leading dimension ld is, read
 * column-major, its n x m transpose with the same ld. So the row-major product
 *   C = op(A) op(B)          is computed as the column-major product
 *   C^T = op(B)^T op(A)^T,   i.e. gemm(opB, opA, n, m, k, B, ldb, A, lda, C, ldc)
 * with no data movement. Batches go through cublas?gemmStridedBatched (a stride of 0
 * broadcasts an operand). F32 runs in full FP32 unless ENGRAM_CUDA_TF32=1 (see
 * cuda_backend.cu). k == 0 scales C by beta here (beta == 0 writes exact zeros). */
#include "cuda_device.h"
#include "cuda_internal.h"

template <typename T>
__global__ void k_scale_c(T *c, int64_t m, int64_t n, int64_t ldc, int64_t sc, int64_t batch, T beta) {
    int64_t total = batch * m * n;
    EG_GRID_LOOP(i, total) {
        int64_t b = i / (m * n), r = i % (m * n);
        T *p = c + b * sc + (r / n) * ldc + r % n;
        *p = beta == (T)0 ? (T)0 : beta * *p;
    }
}

eg_status eg_cuda_gemm_rm(eg_cuda_ctx *c, eg_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                          const void *a, int64_t lda, int64_t sa, const void *b, int64_t ldb, int64_t sb, double beta,
                          void *cc, int64_t ldc, int64_t sc, int64_t batch) {
    if (m == 0 || n == 0 || batch == 0) return EG_OK;
    if (k == 0) {
        unsigned g = eg_cuda_blocks(batch * m * n, EG_CUDA_THREADS);
        if (dt == EG_F32)
            k_scale_c<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>((float *)cc, m, n, ldc, sc, batch, (float)beta);
        else
            k_scale_c<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>((double *)cc, m, n, ldc, sc, batch, beta);
        EG_LAUNCHED(c, "gemm k=0 scale");
        return EG_OK;
    }
    cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    int M = (int)m, N = (int)n, K = (int)k, LDA = (int)lda, LDB = (int)ldb, LDC = (int)ldc;
    /* cuBLAS takes the batch count as an int: very large batches go in chunks */
    const int64_t chunk = INT32_MAX;
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        int nb = (int)(batch - b0 < chunk ? batch - b0 : chunk);
        if (dt == EG_F32) {
            float al = (float)alpha, be = (float)beta;
            const float *A = (const float *)a + b0 * sa, *B = (const float *)b + b0 * sb;
            float *C = (float *)cc + b0 * sc;
            if (nb == 1)
                EG_BLAS(c, cublasSgemm(c->blas, opb, opa, N, M, K, &al, B, LDB, A, LDA, &be, C, LDC));
            else
                EG_BLAS(c, cublasSgemmStridedBatched(c->blas, opb, opa, N, M, K, &al, B, LDB, sb, A, LDA, sa, &be, C,
                                                     LDC, sc, nb));
        } else {
            const double *A = (const double *)a + b0 * sa, *B = (const double *)b + b0 * sb;
            double *C = (double *)cc + b0 * sc;
            if (nb == 1)
                EG_BLAS(c, cublasDgemm(c->blas, opb, opa, N, M, K, &alpha, B, LDB, A, LDA, &beta, C, LDC));
            else
                EG_BLAS(c, cublasDgemmStridedBatched(c->blas, opb, opa, N, M, K, &alpha, B, LDB, sb, A, LDA, sa, &beta,
                                                     C, LDC, sc, nb));
        }
    }
    return EG_OK;
}

static int ld_ok(int64_t ld, int64_t cols) {
    return ld >= (cols > 1 ? cols : 1);
}

eg_status eg_cuda_gemm(void *ctx, const eg_gemm_args *g) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (!g || g->m < 0 || g->n < 0 || g->k < 0 || g->batch < 0) return EG_ERR_INVALID;
    if (g->dtype != EG_F32 && g->dtype != EG_F64) return g->dtype == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (g->m == 0 || g->n == 0 || g->batch == 0) return EG_OK;
    if (!g->c || !ld_ok(g->ldc, g->n)) return EG_ERR_INVALID;
    if (g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX || g->ldc > INT32_MAX) return EG_ERR_INVALID;
    if (g->stride_c == 0 && g->batch > 1) return EG_ERR_INVALID; /* outputs would alias */
    if (g->k > 0) {
        /* row-major: A is m x k (lda >= k) or, transposed, stored k x m (lda >= m) */
        if (!g->a || !g->b || !ld_ok(g->lda, g->trans_a ? g->m : g->k) || !ld_ok(g->ldb, g->trans_b ? g->k : g->n))
            return EG_ERR_INVALID;
        if (g->lda > INT32_MAX || g->ldb > INT32_MAX) return EG_ERR_INVALID;
    }
    EG_TRY(eg_cuda_enter(c));
    return eg_cuda_gemm_rm(c, g->dtype, g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->stride_a,
                           g->b, g->ldb, g->stride_b, g->beta, g->c, g->ldc, g->stride_c, g->batch);
}
