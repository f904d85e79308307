/* cpu_eigen.c — batched symmetric eigendecomposition.
 * n <= JAC_NMAX: cyclic Jacobi (below), JL matrices at a time in lockstep so every
 * rotation is one vector instruction per lane group — BW-DAM's Φ step needs ~10⁶
 * eigendecompositions of 10 x 10 matrices, where one LAPACK call each costs ~20x more.
 * Larger n: LAPACK ?syevd (divide and conquer), exported by OpenBLAS. LAPACK is
 * column-major: the symmetric input reads the same either way; the eigenvectors
 * come back as columns of a column-major matrix, i.e. as rows in our row-major
 * view, so each result is transposed in place.
 * Both read the upper triangle of the row-major input (LAPACK's 'L' column-major). */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* ---- small n: batched cyclic Jacobi ----
 * Golub & Van Loan §8.5: each rotation (p, q) zeroes a_pq of the current A ← Jᵀ A J,
 *   d = a_qq - a_pp,  t = tan θ = sgn(d) 2 a_pq / (|d| + √(d² + 4 a_pq²))  (the smaller root),
 *   c = 1/√(1 + t²), s = t c;  a_pp -= t a_pq, a_qq += t a_pq, a_pq = 0, and for k ≠ p, q
 *   (a_kp, a_kq) ← (c a_kp - s a_kq, s a_kp + c a_kq); V ← V J likewise on its columns.
 * Sweeps over all pairs until the off-diagonal mass of every lane is below
 * (JAC_TOL ‖A‖_F)²; convergence is quadratic (~6–8 sweeps for n = 10 in float64).
 * Each matrix is scaled by its largest entry first (no overflow in d² + 4 a_pq²).
 * Storage: the upper triangle of JL interleaved matrices, a[i n + j][lane]. Computed
 * in float64 for both dtypes. */
enum { JAC_NMAX = 16, JL = 16, JAC_SWEEPS = 50 };
#define JAC_TOL 2.2e-16

typedef double jlane[JL];

/* x[l] = √x[l] for every lane; sqrt() itself keeps loops scalar (errno), SSE2's does not */
static inline void jac_sqrt(double *x) {
#if defined(__SSE2__)
    for (int l = 0; l < JL; l += 2)
        _mm_storeu_pd(x + l, _mm_sqrt_pd(_mm_loadu_pd(x + l)));
#else
    for (int l = 0; l < JL; l++)
        x[l] = sqrt(x[l]);
#endif
}

static inline void jac_rot(double *restrict x, double *restrict y, const double *restrict c, const double *restrict s) {
    for (int l = 0; l < JL; l++) {
        double xv = x[l], yv = y[l];
        x[l] = c[l] * xv - s[l] * yv;
        y[l] = s[l] * xv + c[l] * yv;
    }
}

/* a: n x n lanes (upper triangle used), v: n x n lanes (set to I here); nrm2: ‖A‖_F² per lane.
 * Returns 1 when every lane converged. */
EG_CPU_CLONES static int jac_block(int n, jlane *restrict a, jlane *restrict v, const double *restrict nrm2) {
    for (int i = 0; i < n * n; i++)
        for (int l = 0; l < JL; l++)
            v[i][l] = i % (n + 1) == 0;
    for (int sweep = 0; sweep < JAC_SWEEPS; sweep++) {
        double off[JL] = {0};
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                for (int l = 0; l < JL; l++)
                    off[l] += a[i * n + j][l] * a[i * n + j][l];
        int done = 1;
        for (int l = 0; l < JL; l++)
            done &= !(off[l] > JAC_TOL * JAC_TOL * nrm2[l]); /* NaN lanes count as done (NaN out) */
        if (done) return 1;
        /* a_pq below this in every lane may stay: all of them together still meet the test above */
        double skip2[JL];
        for (int l = 0; l < JL; l++)
            skip2[l] = JAC_TOL * JAC_TOL * nrm2[l] / (n * (n - 1) / 2);
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double *app = a[p * n + p], *aqq = a[q * n + q], *apq = a[p * n + q];
                int big = 0; /* skip the rotation when a_pq is negligible in every lane */
                for (int l = 0; l < JL; l++)
                    big |= apq[l] * apq[l] > skip2[l];
                if (!big) continue;
                _Alignas(64) double r[JL], c[JL], s[JL];
                for (int l = 0; l < JL; l++) {
                    double d = aqq[l] - app[l];
                    r[l] = d * d + 4.0 * apq[l] * apq[l];
                }
                jac_sqrt(r);
                for (int l = 0; l < JL; l++) {
                    double d = aqq[l] - app[l], den = fabs(d) + r[l];
                    /* den = 0 only when d = a_pq = 0: then t = 0 */
                    double t = (d < 0 ? -2.0 : 2.0) * apq[l] / (den > 0 ? den : 1.0);
                    s[l] = t, c[l] = 1.0 + t * t;
                    app[l] -= t * apq[l];
                    aqq[l] += t * apq[l];
                    apq[l] = 0;
                }
                jac_sqrt(c);
                for (int l = 0; l < JL; l++)
                    c[l] = 1.0 / c[l], s[l] *= c[l];
                for (int k = 0; k < p; k++)
                    jac_rot(a[k * n + p], a[k * n + q], c, s);
                for (int k = p + 1; k < q; k++)
                    jac_rot(a[p * n + k], a[k * n + q], c, s);
                for (int k = q + 1; k < n; k++)
                    jac_rot(a[p * n + k], a[q * n + k], c, s);
                for (int k = 0; k < n; k++)
                    jac_rot(v[k * n + p], v[k * n + q], c, s);
            }
    }
    return 0;
}

typedef struct jac_job {
    eg_dtype dt;
    int n;
    const void *a;
    void *w, *v;
    _Atomic int status;
} jac_job;

static void jac_range(void *arg, int64_t lo, int64_t hi) {
    jac_job *j = arg;
    const int n = j->n, f64 = j->dt == EG_F64;
    const int64_t mat = (int64_t)n * n;
    jlane *a = aligned_alloc(64, 2 * sizeof(jlane) * JAC_NMAX * JAC_NMAX), *v = a + JAC_NMAX * JAC_NMAX;
    if (!a) {
        atomic_store(&j->status, EG_ERR_NOMEM);
        return;
    }
    double scale[JL], nrm2[JL];
    for (int64_t b0 = lo; b0 < hi; b0 += JL) {
        int nl = hi - b0 < JL ? (int)(hi - b0) : JL;
        for (int l = 0; l < JL; l++) { /* load the upper triangles, scaled; idle lanes hold 0 */
            double mx = 0;
            for (int i = 0; i < n; i++)
                for (int k = i; k < n; k++) {
                    int64_t e = (b0 + l) * mat + i * n + k;
                    double x = l >= nl ? 0 : f64 ? ((const double *)j->a)[e] : (double)((const float *)j->a)[e];
                    a[i * n + k][l] = x;
                    mx = fabs(x) > mx ? fabs(x) : mx; /* NaN stays out of mx; it spreads through nrm2 */
                }
            double sc = mx > 0 && mx < INFINITY ? mx : 1.0, s2 = 0;
            for (int i = 0; i < n; i++)
                for (int k = i; k < n; k++) {
                    double x = a[i * n + k][l] /= sc;
                    s2 += (k == i ? 1 : 2) * x * x;
                }
            scale[l] = sc, nrm2[l] = s2;
        }
        if (!jac_block(n, a, v, nrm2)) atomic_store(&j->status, EG_ERR_BACKEND);
        for (int l = 0; l < nl; l++) { /* eigenvalues ascending (stable insertion sort), vectors alike */
            int ord[JAC_NMAX];
            for (int i = 0; i < n; i++) {
                int k = i;
                while (k > 0 && a[ord[k - 1] * (n + 1)][l] > a[i * (n + 1)][l]) {
                    ord[k] = ord[k - 1];
                    k--;
                }
                ord[k] = i;
            }
            int64_t b = b0 + l;
            const int bad = !(nrm2[l] < INFINITY); /* NaN or inf in the input: NaN out, as from LAPACK */
            for (int i = 0; i < n; i++) {
                double wi = bad ? NAN : a[ord[i] * (n + 1)][l] * scale[l];
                if (f64)
                    ((double *)j->w)[b * n + i] = wi;
                else
                    ((float *)j->w)[b * n + i] = (float)wi;
                for (int k = 0; k < n; k++) {
                    double x = bad ? NAN : v[k * n + ord[i]][l];
                    if (f64)
                        ((double *)j->v)[b * mat + k * n + i] = x;
                    else
                        ((float *)j->v)[b * mat + k * n + i] = (float)x;
                }
            }
        }
    }
    free(a);
}

eg_status eg_cpu_syev(void *ctx, eg_dtype dt, int64_t batch, int64_t n, const void *a, void *w, void *v) {
    if (batch < 0 || n < 0 || n > 46340) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64) return dt == EG_I32 ? EG_ERR_UNSUPPORTED : EG_ERR_INVALID;
    if (batch == 0 || n == 0) return EG_OK;
    if (!a || !w || !v) return EG_ERR_INVALID;
    if (n <= JAC_NMAX) {
        jac_job jj = {dt, (int)n, a, w, v, EG_OK};
        eg_cpu_parallel((eg_cpu_ctx *)ctx, batch > 1, batch, jac_range, &jj);
        return (eg_status)atomic_load(&jj.status);
    }
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
