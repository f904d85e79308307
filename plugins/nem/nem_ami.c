/* nem_ami.c — adjusted mutual information of two labelings (Vinh, Epps & Bailey
 * 2010, JMLR 11), as the N-EM paper scores groupings:
 *
 *   AMI = (MI - E[MI]) / (norm(H(U), H(V)) - E[MI])
 *
 * with MI and the entropies in nats from the contingency table n_ij (row sums
 * a_i, column sums b_j, N items), and E[MI] the exact expectation under the
 * hypergeometric model of random labelings with the same cluster sizes:
 *
 *   E[MI] = sum_ij sum_{n=max(1, a_i+b_j-N)}^{min(a_i, b_j)} n/N log(N n / (a_i b_j))
 *           * a_i! b_j! (N-a_i)! (N-b_j)! / (N! n! (a_i-n)! (b_j-n)! (N-a_i-b_j+n)!)
 *
 * norm is max(H(U), H(V)) (NEM_AMI_MAX: sklearn <= 0.21's default, which the
 * paper used) or their mean (NEM_AMI_ARITHMETIC: sklearn >= 0.22). As in
 * sklearn, two labelings with one cluster each (or no items) score 1, and a
 * denominator of magnitude below DBL_EPSILON is replaced by +-DBL_EPSILON.
 * Pure host code (no tensors): the eval downloads argmax labels per sample. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nem.h"

/* compact labels: out[i] = index of v[i] among the distinct values (first-seen
 * order); returns the count, or -1 when more than cap distinct values occur */
static int compact(const int32_t *v, int64_t n, int32_t *out, int32_t *vals, int cap) {
    int m = 0;
    for (int64_t i = 0; i < n; i++) {
        int j = 0;
        while (j < m && vals[j] != v[i])
            j++;
        if (j == m) {
            if (m == cap) return -1;
            vals[m++] = v[i];
        }
        out[i] = j;
    }
    return m;
}

static double entropy(const int64_t *counts, int m, double N) {
    double h = 0;
    for (int i = 0; i < m; i++)
        if (counts[i] > 0) h -= (double)counts[i] / N * log((double)counts[i] / N);
    return h;
}

double nem_ami(const int32_t *truth, const int32_t *pred, int64_t n, nem_ami_norm norm) {
    if (n <= 0) return 1.0;
    /* the labelings of N-EM have few clusters; beyond 256 we fall back to sizes of n */
    int cap = n < 256 ? (int)n : 256;
    int32_t *lu = malloc(sizeof(int32_t) * (size_t)(2 * n + 2 * cap));
    if (!lu) return NAN;
    int32_t *lv = lu + n, *vals_u = lv + n, *vals_v = vals_u + cap;
    int R = compact(truth, n, lu, vals_u, cap), C = compact(pred, n, lv, vals_v, cap);
    if (R < 0 || C < 0) {
        free(lu);
        int32_t *big = malloc(sizeof(int32_t) * (size_t)(4 * n));
        if (!big) return NAN;
        lu = big, lv = big + n;
        R = compact(truth, n, lu, big + 2 * n, (int)(n < INT32_MAX ? n : INT32_MAX));
        C = compact(pred, n, lv, big + 3 * n, (int)(n < INT32_MAX ? n : INT32_MAX));
    }
    if (R == 1 && C == 1) {
        free(lu);
        return 1.0;
    }
    int64_t *cont = calloc((size_t)R * (size_t)C + (size_t)R + (size_t)C, sizeof(int64_t));
    double *lf = malloc(sizeof(double) * (size_t)(n + 1)); /* lf[m] = ln m! */
    if (!cont || !lf) {
        free(cont), free(lf), free(lu);
        return NAN;
    }
    int64_t *a = cont + (size_t)R * C, *b = a + R;
    for (int64_t i = 0; i < n; i++) {
        cont[(size_t)lu[i] * C + lv[i]]++;
        a[lu[i]]++, b[lv[i]]++;
    }
    lf[0] = 0;
    for (int64_t m = 1; m <= n; m++)
        lf[m] = lf[m - 1] + log((double)m);
    double N = (double)n, mi = 0, emi = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            int64_t nij = cont[(size_t)i * C + j];
            if (nij > 0) mi += (double)nij / N * log(N * (double)nij / ((double)a[i] * (double)b[j]));
            /* expected MI: hypergeometric sum over the possible cell counts */
            int64_t lo = a[i] + b[j] - n, hi = a[i] < b[j] ? a[i] : b[j];
            if (lo < 1) lo = 1;
            double fixed = lf[a[i]] + lf[b[j]] + lf[n - a[i]] + lf[n - b[j]] - lf[n];
            for (int64_t k = lo; k <= hi; k++) {
                double lp = fixed - lf[k] - lf[a[i] - k] - lf[b[j] - k] - lf[n - a[i] - b[j] + k];
                emi += (double)k / N * log(N * (double)k / ((double)a[i] * (double)b[j])) * exp(lp);
            }
        }
    double hu = entropy(a, R, N), hv = entropy(b, C, N);
    double normalizer = norm == NEM_AMI_ARITHMETIC ? 0.5 * (hu + hv) : (hu > hv ? hu : hv);
    double den = normalizer - emi;
    if (den < 0)
        den = den < -DBL_EPSILON ? den : -DBL_EPSILON;
    else
        den = den > DBL_EPSILON ? den : DBL_EPSILON;
    free(cont), free(lf), free(lu);
    return (mi - emi) / den;
}

double nem_ami_masked(const int32_t *truth, const int32_t *pred, int64_t n, nem_ami_norm norm) {
    int32_t *buf = malloc(sizeof(int32_t) * (size_t)(2 * (n > 0 ? n : 1)));
    if (!buf) return NAN;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (truth[i] != 0) buf[m] = truth[i], buf[n + m] = pred[i], m++;
    double v = nem_ami(buf, buf + n, m, norm);
    free(buf);
    return v;
}
