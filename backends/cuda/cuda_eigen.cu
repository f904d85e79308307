/* cuda_eigen.cu — batched symmetric eigendecomposition through cuSOLVER.
 * n <= 32: one cusolverDn?syevjBatched call (Jacobi, every matrix of the batch at
 * once, eigenvalues sorted ascending); larger n: cusolverDnXsyevd per matrix
 * (divide and conquer), queued on the instance's stream.
 * cuSOLVER is column-major: the symmetric input reads the same either way; the
 * eigenvectors come back as the columns of a column-major matrix, i.e. as rows of
 * the row-major view, so each result is transposed into v. The info words are read
 * back (one synchronisation; syev is not on a hot path) and a failure to converge
 * is reported as EG_ERR_BACKEND. */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

static eg_status solver_ready(eg_cuda_ctx *c) {
    if (c->solver && c->solver_params && c->syevj) return EG_OK;
    /* each piece is kept as soon as it exists (shutdown destroys what is there) and
     * only the missing ones are created, so a failed first attempt can be retried */
    if (!c->solver) {
        cusolverDnHandle_t h = NULL;
        EG_SOLVER(c, cusolverDnCreate(&h));
        cusolverStatus_t s = cusolverDnSetStream(h, c->stream);
        if (s != CUSOLVER_STATUS_SUCCESS) {
            cusolverDnDestroy(h);
            return eg_cuda_solver_err(c, s, __FILE__, __LINE__, "cusolverDnSetStream");
        }
        c->solver = h;
    }
    if (!c->solver_params) EG_SOLVER(c, cusolverDnCreateParams(&c->solver_params));
    if (!c->syevj) {
        syevjInfo_t info = NULL;
        EG_SOLVER(c, cusolverDnCreateSyevjInfo(&info));
        c->syevj = info;
        EG_SOLVER(c, cusolverDnXsyevjSetSortEig(info, 1));
        EG_SOLVER(c, cusolverDnXsyevjSetMaxSweeps(info, 100));
    }
    return EG_OK;
}

static size_t align256(size_t b) {
    return (b + 255) & ~(size_t)255;
}

eg_status eg_cuda_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (batch < 0 || n < 0 || n > 46340) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(dt));
    if (batch == 0 || n == 0) return EG_OK;
    if (!a || !w || !v) return EG_ERR_INVALID;
    if (n <= 32 && batch > INT32_MAX) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_TRY(solver_ready(c));
    size_t es = dt == EG_F64 ? 8 : 4, mat = (size_t)(n * n);
    cusolverEigMode_t jobz = CUSOLVER_EIG_MODE_VECTOR;
    cublasFillMode_t uplo = CUBLAS_FILL_MODE_LOWER;
    cudaDataType cdt = dt == EG_F64 ? CUDA_R_64F : CUDA_R_32F;
    int N = (int)n;
    /* workspace sizes (device bytes, host bytes) */
    size_t dbytes = 0, hbytes = 0;
    if (n <= 32) {
        int lwork = 0;
        if (dt == EG_F32)
            EG_SOLVER(c, cusolverDnSsyevjBatched_bufferSize(c->solver, jobz, uplo, N, (const float *)a, N,
                                                            (const float *)w, &lwork, c->syevj, (int)batch));
        else
            EG_SOLVER(c, cusolverDnDsyevjBatched_bufferSize(c->solver, jobz, uplo, N, (const double *)a, N,
                                                            (const double *)w, &lwork, c->syevj, (int)batch));
        dbytes = (size_t)lwork * es;
    } else {
        EG_SOLVER(c, cusolverDnXsyevd_bufferSize(c->solver, c->solver_params, jobz, uplo, n, cdt, a, n, cdt, w, cdt,
                                                 &dbytes, &hbytes));
    }
    /* scratch: the working copy of a, one info word per matrix, the solver's workspace */
    size_t work_b = align256((size_t)batch * mat * es), info_b = align256((size_t)batch * sizeof(int));
    void *ws = NULL;
    EG_TRY(eg_cuda_scratch(c, work_b + info_b + align256(dbytes ? dbytes : 1), &ws));
    char *work = (char *)ws;
    int *info = (int *)(work + work_b);
    void *dwork = work + work_b + info_b;
    if (hbytes > c->host_ws_cap) {
        void *h = realloc(c->host_ws, hbytes);
        if (!h) return EG_ERR_NOMEM;
        c->host_ws = h, c->host_ws_cap = hbytes;
    }
    EG_CU(c, cudaMemcpyAsync(work, a, (size_t)batch * mat * es, cudaMemcpyDeviceToDevice, c->stream));
    EG_CU(c, cudaMemsetAsync(info, 0, (size_t)batch * sizeof(int), c->stream));
    if (n <= 32) {
        int lwork = (int)(dbytes / es);
        if (dt == EG_F32)
            EG_SOLVER(c, cusolverDnSsyevjBatched(c->solver, jobz, uplo, N, (float *)work, N, (float *)w,
                                                 (float *)dwork, lwork, info, c->syevj, (int)batch));
        else
            EG_SOLVER(c, cusolverDnDsyevjBatched(c->solver, jobz, uplo, N, (double *)work, N, (double *)w,
                                                 (double *)dwork, lwork, info, c->syevj, (int)batch));
    } else {
        for (int64_t b = 0; b < batch; b++)
            EG_SOLVER(c, cusolverDnXsyevd(c->solver, c->solver_params, jobz, uplo, n, cdt, work + (size_t)b * mat * es,
                                          n, cdt, (char *)w + (size_t)(b * n) * es, cdt, dwork, dbytes, c->host_ws,
                                          hbytes, info + b));
    }
    /* eigenvectors: column-major columns -> row-major columns */
    EG_TRY(eg_cuda_transpose(c, dt, batch, n, n, work, v));
    int *hinfo = (int *)malloc((size_t)batch * sizeof(int));
    if (!hinfo) return EG_ERR_NOMEM;
    cudaError_t e = cudaMemcpyAsync(hinfo, info, (size_t)batch * sizeof(int), cudaMemcpyDeviceToHost, c->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) {
        free(hinfo);
        return eg_cuda_err(c, e, __FILE__, __LINE__, "syev info");
    }
    eg_status st = EG_OK;
    for (int64_t b = 0; b < batch && st == EG_OK; b++)
        if (hinfo[b] != 0)
            st = eg_cuda_fail(c, hinfo[b] < 0 ? EG_ERR_INVALID : EG_ERR_BACKEND, __FILE__, __LINE__,
                              "syev matrix %lld of %lld (n = %lld): %s %d", (long long)b, (long long)batch,
                              (long long)n, hinfo[b] < 0 ? "invalid parameter" : "did not converge, info", hinfo[b]);
    free(hinfo);
    return st;
}
