/* cpu_eigen.c — batched symmetric eigendecomposition through LAPACK ?syevd
 * (divide and conquer), exported by OpenBLAS. LAPACK is column-major: the
 * symmetric input reads the same either way; the eigenvectors come back as
 * columns of a column-major matrix, i.e. as rows in our row-major view, so each
 * result is transposed in place. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* One chunk of the batch: its own workspace, matrices [lo, hi). */
typedef struct syev_job {
    eg_dtype dt;
    int64_t n;
    int lwork, liwork;
    const void *a;
    void *w, *v;
    _Atomic int status; /* first failure */
} syev_job;

static void syev_range(void *arg, int64_t lo, int64_t hi) {
    syev_job *j = arg;
    const char jobz = 'V', uplo = 'L';
    const int64_t dim = j->n;
    int N = (int)dim, lwork = j->lwork, liwork = j->liwork, info = 0;
    size_t es = j->dt == EG_F64 ? 8 : 4, mat = (size_t)(j->n * j->n);
    size_t wbytes = ((size_t)lwork * es + 63) & ~(size_t)63;
    char *ws = malloc(wbytes + (size_t)liwork * sizeof(int));
    if (!ws) {
        atomic_store(&j->status, EG_ERR_NOMEM);
        return;
    }
    int *iwork = (int *)(ws + wbytes);
    for (int64_t b = lo; b < hi && atomic_load(&j->status) == EG_OK; b++) {
        if (j->dt == EG_F32) {
            float *vb = (float *)j->v + b * mat;
            const float *ab = (const float *)j->a + b * mat;
            memcpy(vb, ab, mat * sizeof *vb);
            ssyevd_(&jobz, &uplo, &N, vb, &N, (float *)j->w + b * j->n, (float *)ws, &lwork, iwork, &liwork, &info,
                    1, 1);
            if (info == 0) TRANSPOSE(float, vb, dim);
        } else {
            double *vb = (double *)j->v + b * mat;
            const double *ab = (const double *)j->a + b * mat;
            memcpy(vb, ab, mat * sizeof *vb);
            dsyevd_(&jobz, &uplo, &N, vb, &N, (double *)j->w + b * j->n, (double *)ws, &lwork, iwork, &liwork, &info,
                    1, 1);
            if (info == 0) TRANSPOSE(double, vb, dim);
        }
        if (info != 0) atomic_store(&j->status, info < 0 ? EG_ERR_INVALID : EG_ERR_BACKEND);
    }
    free(ws);
}

eg_status eg_cpu_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v) {
    if (batch < 0 || n < 0 || n > 46340) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (batch == 0 || n == 0) return EG_OK;
    if (!a || !w || !v) return EG_ERR_INVALID;
    const char jobz = 'V', uplo = 'L';
    int N = (int)n, lwork = -1, liwork = -1, info = 0, iq = 0;
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
    syev_job job = {dt, n, lwork, iq > 0 ? iq : 1, a, w, v, EG_OK};
    /* small matrices: one LAPACK call per matrix is single-threaded, so spread the
     * batch over the pool; large ones keep OpenBLAS's own threads inside each call */
    eg_cpu_parallel((eg_cpu_ctx *)ctx, n <= 64 && batch > 1, batch, syev_range, &job);
    return (eg_status)atomic_load(&job.status);
}
