/* vmfdam_lognorm.c — the vMF log-normalizer tau(beta) = log Omega_N(beta)/Omega_N(0)
 * and its derivative A_N(beta) = I_{nu+1}(beta)/I_nu(beta), nu = N/2 - 1.
 *
 * exact: tau = ln 0F1(; nu+1; beta^2/4) (paper eq. 3 with Omega_N(beta) =
 *   (2 pi)^{N/2} I_nu(beta)/beta^nu, Omega_N(0) = 2 pi^{N/2}/Gamma(N/2)). The
 *   hypergeometric series sum_k t_k, t_{k+1} = t_k z/((nu+1+k)(k+1)), z = beta^2/4,
 *   has only positive terms, so summing it in double is accurate to a few
 *   hundred ulps for every nu >= 0 and beta (each term carries <= 3k rounding
 *   errors; k stays below ~beta/2 + 10 sqrt(beta) + 40). Overflow is avoided by
 *   rescaling the running sums by 1e-280 and counting the scale in the log.
 *   The tail after the peak is bounded by t_k r/(1 - r) with r the next ratio,
 *   and summation stops when that bound is below 1e-17 of sum_{k>=1} t_k.
 *   The derivative is the same series: d tau/d beta = (2/beta) sum k t_k / sum t_k.
 *   ln(sum) is taken as log1p(sum_{k>=1} t_k) so tiny tau keep their relative
 *   accuracy (tau ~ beta^2/(2N) at small beta).
 *   Beyond beta = 2e5 (outside the documented range; the series would cost
 *   ~beta/2 terms) the Hankel or Debye asymptotic expansion is used instead.
 *
 * debye: the reference code's leading-order Debye + Stirling formula
 *   (reference/model-vmfdam.md §3): z = beta/nu, t = z^2, s = sqrt(1+t),
 *   eta = (s - 1) - [ln(1 + s) - ln 2], tau = -1/4 ln(1 + t) + nu eta,
 *   tau' = z/(1 + s) - z/(2 nu s^2). Kept for parity; it is poor at small N
 *   (-0.17 at N = 3) and undefined at N = 2 (nu = 0). */
#include <math.h>

#include "vmfdam.h"

#define SERIES_MAX_BETA 2e5
#define RESCALE 1e-280
#define LN_RESCALE (-644.7238260383328) /* ln(1e-280) */

static void tau_series(double nu, double beta, double *tau, double *dtau) {
    double b = nu + 1.0, z = 0.25 * beta * beta;
    double head = 1.0;  /* t_0 in scaled units */
    double tail = 0.0;  /* sum_{k>=1} t_k */
    double ktail = 0.0; /* sum_{k>=1} k t_k */
    double t = 1.0, lscale = 0.0;
    for (double k = 0.0;; k += 1.0) {
        double r = z / ((b + k) * (k + 1.0));
        t *= r; /* t_{k+1} */
        tail += t;
        ktail += (k + 1.0) * t;
        if (tail > 1e280) {
            head *= RESCALE, tail *= RESCALE, ktail *= RESCALE, t *= RESCALE;
            lscale -= LN_RESCALE;
        }
        double rn = z / ((b + k + 1.0) * (k + 2.0));                /* ratio t_{k+2}/t_{k+1} */
        if (rn < 0.5 && t * rn / (1.0 - rn) <= 1e-17 * tail) break; /* tail, not sum: log1p keeps small tau */
    }
    double sum = head + tail;
    *tau = lscale == 0.0 ? log1p(tail) : lscale + log(sum);
    *dtau = (2.0 / beta) * (ktail / sum);
}

/* ln I_nu(x) for huge x (only beyond SERIES_MAX_BETA): the Hankel expansion
 * e^x/sqrt(2 pi x) sum_k (-1)^k a_k(nu)/x^k (DLMF 10.40.1) when nu^2 << x, else
 * the Debye uniform expansion with u_1..u_4 (DLMF 10.41.3, 10.41.10). */
static double ln_bessel_i_large(double nu, double x) {
    if (nu * nu < 0.1 * x) {
        double mu = 4.0 * nu * nu, term = 1.0, sum = 1.0;
        for (int k = 1; k <= 6; k++) {
            term *= -(mu - (2.0 * k - 1) * (2.0 * k - 1)) / (8.0 * k * x);
            sum += term;
        }
        return x - 0.5 * log(2.0 * M_PI * x) + log(sum);
    }
    double z = x / nu, s = sqrt(1.0 + z * z), p = 1.0 / s, p2 = p * p;
    double eta = s + log(z / (1.0 + s));
    double u1 = p * (3.0 - 5.0 * p2) / 24.0;
    double u2 = p2 * (81.0 - 462.0 * p2 + 385.0 * p2 * p2) / 1152.0;
    double u3 = p * p2 * (30375.0 - 369603.0 * p2 + 765765.0 * p2 * p2 - 425425.0 * p2 * p2 * p2) / 414720.0;
    double u4 = p2 * p2 *
                (4465125.0 - 94121676.0 * p2 + 349922430.0 * p2 * p2 - 446185740.0 * p2 * p2 * p2 +
                 185910725.0 * p2 * p2 * p2 * p2) /
                39813120.0;
    double series = 1.0 + u1 / nu + u2 / (nu * nu) + u3 / (nu * nu * nu) + u4 / (nu * nu * nu * nu);
    return nu * eta - 0.5 * log(2.0 * M_PI * nu) - 0.5 * log(s) + log(series);
}

static void tau_large(double nu, double beta, double *tau, double *dtau) {
    double l0 = ln_bessel_i_large(nu, beta), l1 = ln_bessel_i_large(nu + 1.0, beta);
    *tau = lgamma(nu + 1.0) + nu * log(2.0 / beta) + l0;
    *dtau = exp(l1 - l0);
}

void vmf_tau_exact(double n, double beta, double *tau, double *dtau) {
    double nu = 0.5 * n - 1.0, t = 0.0, d = 0.0;
    if (beta == 0.0) {
        t = 0.0, d = 0.0;
    } else if (fabs(beta) <= SERIES_MAX_BETA) {
        tau_series(nu, fabs(beta), &t, &d);
    } else {
        tau_large(nu, fabs(beta), &t, &d);
    }
    if (beta < 0) d = -d; /* tau is even in beta */
    if (tau) *tau = t;
    if (dtau) *dtau = d;
}

void vmf_tau_debye(double n, double beta, double *tau, double *dtau) {
    double nu = 0.5 * n - 1.0;
    double z = beta / nu, t = z * z, rt = sqrt(1.0 + t), s = rt;
    double sm1 = t / (rt + 1.0);                    /* s - 1 */
    double ln1s = 0.5 * log1p(t) + log1p(1.0 / rt); /* ln(1 + s) */
    double eta = sm1 - (ln1s - M_LN2);
    if (tau) *tau = beta == 0.0 ? 0.0 : -0.25 * log1p(t) + nu * eta;
    if (dtau) *dtau = z / (1.0 + s) - z / (2.0 * nu * s * s);
}

void vmf_tau(const vmf_model *m, double beta, double *tau, double *dtau) {
    if (m->cfg.debye)
        vmf_tau_debye((double)m->n, beta, tau, dtau);
    else
        vmf_tau_exact((double)m->n, beta, tau, dtau);
}

double vmf_log_omega0(double n) {
    /* ln(2 pi^{N/2} / Gamma(N/2)), the log-area of S^{N-1} */
    return M_LN2 + 0.5 * n * log(M_PI) - lgamma(0.5 * n);
}
