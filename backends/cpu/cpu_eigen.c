/* cpu_eigen.c — batched symmetric eigendecomposition through LAPACK ?syevd
 * (divide and conquer), exported by OpenBLAS. LAPACK is column-major: the
 * symmetric input reads the same either way; the eigenvectors come back as
 * columns of a column-major matrix, i.e. as rows in our row-major view, so each
 * result is transposed in place. */
#include <stdint.h>

#include "cpu_internal.h"

/* Fortran LAPACK (LP64), with the hidden lengths of the two character arguments */
extern void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
                    const int *lwork, int *iwork, const int *liwork, int *info, size_t, size_t);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t, size_t);

#define TRANSPOSE(T, v, n)                                                                                             \
    for (int64_t i = 0; i < (n); i++)                                                                                  \
        for (int64_t j = i + 1; j < (n); j++) {                                                                        \
            T t_ = (v)[i * (n) + j];                                                                                   \
            (v)[i * (n) + j] = (v)[j * (n) + i];                                                                       \
            (v)[j * (n) + i] = t_;                                                                                     \
        }

eg_status eg_cpu_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v) {
    if (batch < 0 || n < 0 || n > 46340) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (batch == 0 || n == 0) return EG_OK;
    if (!a || !w || !v) return EG_ERR_INVALID;
    const char jobz = 'V', uplo = 'L';
    int N = (int)n, lwork = -1, liwork = -1, info = 0, iq = 0;
    size_t es = dt == EG_F64 ? 8 : 4;
    /* workspace query */
    if (dt == EG_F32) {
        float wq = 0, aq = 0, ww = 0;
        ssyevd_(&jobz, &uplo, &N, &aq, &N, &ww, &wq, &lwork, &iq, &liwork, &info, 1, 1);
        lwork = (int)wq + 1;
    } else {
        double wq = 0, aq = 0, ww = 0;
        dsyevd_(&jobz, &uplo, &N, &aq, &N, &ww, &wq, &lwork, &iq, &liwork, &info, 1, 1);
        lwork = (int)wq + 1;
    }
    if (info != 0) return EG_ERR_BACKEND;
    liwork = iq > 0 ? iq : 1;
    size_t wbytes = ((size_t)lwork * es + 63) & ~(size_t)63;
    char *ws = eg_cpu_workspace(ctx, wbytes + (size_t)liwork * sizeof(int));
    if (!ws) return EG_ERR_NOMEM;
    int *iwork = (int *)(ws + wbytes);
    size_t mat = (size_t)(n * n);
    for (int64_t b = 0; b < batch; b++) {
        if (dt == EG_F32) {
            float *vb = (float *)v + b * mat;
            const float *ab = (const float *)a + b * mat;
            for (size_t i = 0; i < mat; i++)
                vb[i] = ab[i];
            ssyevd_(&jobz, &uplo, &N, vb, &N, (float *)w + b * n, (float *)ws, &lwork, iwork, &liwork, &info, 1, 1);
            if (info != 0) return info < 0 ? EG_ERR_INVALID : EG_ERR_BACKEND;
            TRANSPOSE(float, vb, n);
        } else {
            double *vb = (double *)v + b * mat;
            const double *ab = (const double *)a + b * mat;
            for (size_t i = 0; i < mat; i++)
                vb[i] = ab[i];
            dsyevd_(&jobz, &uplo, &N, vb, &N, (double *)w + b * n, (double *)ws, &lwork, iwork, &liwork, &info, 1, 1);
            if (info != 0) return info < 0 ? EG_ERR_INVALID : EG_ERR_BACKEND;
            TRANSPOSE(double, vb, n);
        }
    }
    return EG_OK;
}
