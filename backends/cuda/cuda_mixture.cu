/* cuda_mixture.cu — the spatial-mixture E-step and loss of N-EM (Greff et al. 2017,
 * eq. 5) and its backward (ABI 1.2; formulas in backend.h at eg_mixture_args), the
 * same arithmetic as cpu_mixture.c.
 *
 * Forward: one block per sample; each thread walks pixels with the block stride,
 * sums the K component probabilities of its pixel, writes gamma and accumulates its
 * loss terms in double; the block reduction gives loss[b] (a fixed order for a given
 * block size, so repeated runs agree). Backward: one thread per value of psi. */
#include "cuda_device.h"
#include "cuda_internal.h"

template <typename T> static __device__ __forceinline__ T mix_lik(int gauss, T p, T y, T gs, T gn) {
    if (gauss) {
        T d = y - p;
        return d_exp(d * d * gs) * gn;
    }
    return y * p + ((T)1 - y) * ((T)1 - p);
}

template <typename T>
__global__ void k_mixture_fwd(eg_mixture_args a, const T *psi, const T *y, T *gamma, T *loss) {
    __shared__ double sh[32];
    const int64_t K = a.k, C = a.channels, P = a.pixels, b = blockIdx.x;
    const T eps = (T)a.eps, lam = (T)a.inter_weight, one = (T)1;
    const T gs = (T)(-0.5 / (a.sigma * a.sigma)), gn = (T)(1.0 / sqrt(2.0 * M_PI * a.sigma * a.sigma));
    double part = 0;
    for (int64_t i = threadIdx.x; i < P; i += blockDim.x) {
        T den = 0;
        for (int64_t k = 0; k < K; k++) {
            T pk = 0;
            for (int64_t c = 0; c < C; c++)
                pk += mix_lik<T>(a.gaussian, psi[((b * K + k) * C + c) * P + i], y[(b * C + c) * P + i], gs, gn);
            den += pk + eps;
        }
        for (int64_t k = 0; k < K; k++) {
            T pk = 0;
            for (int64_t c = 0; c < C; c++)
                pk += mix_lik<T>(a.gaussian, psi[((b * K + k) * C + c) * P + i], y[(b * C + c) * P + i], gs, gn);
            T g = (pk + eps) / den, t = 0;
            gamma[(b * K + k) * P + i] = g;
            for (int64_t c = 0; c < C; c++) {
                T v = psi[((b * K + k) * C + c) * P + i], yv = y[(b * C + c) * P + i];
                if (a.gaussian) {
                    T d = v - yv;
                    t += g * (d * d * (T)0.5) + lam * (one - g) * (v * v * (T)0.5);
                } else {
                    T q = v < eps ? eps : (v > one - eps ? one - eps : v), w = one - v, kq = w < eps ? eps : w;
                    T nll = 0;
                    if (yv != 0) nll -= yv * d_log(q);
                    if (yv != one) nll -= (one - yv) * d_log(one - q);
                    t += g * nll - lam * (one - g) * d_log(kq);
                }
            }
            part += (double)t;
        }
    }
    double s = block_reduce<EG_RSUM, double>(part, sh);
    if (threadIdx.x == 0) loss[b] = (T)s;
}

template <typename T>
__global__ void k_mixture_bwd(eg_mixture_args a, const T *psi, const T *y, const T *gamma, const T *dl, T *dpsi,
                              int acc, int64_t n) {
    const int64_t K = a.k, C = a.channels, P = a.pixels;
    const T eps = (T)a.eps, lam = (T)a.inter_weight, one = (T)1;
    EG_GRID_LOOP(j, n) {
        int64_t i = j % P, r = j / P, c = r % C, k = (r / C) % K, b = r / (K * C);
        T v = psi[j], yv = y[(b * C + c) * P + i], g = gamma[(b * K + k) * P + i], d;
        if (a.gaussian) {
            d = g * (v - yv) + lam * (one - g) * v;
        } else {
            T w = one - v;
            T dn = (v >= eps && v <= one - eps) ? (one - yv) / w - yv / v : (T)0;
            T dk = w >= eps ? one / w : (T)0;
            d = g * dn + lam * (one - g) * dk;
        }
        d *= dl[b];
        dpsi[j] = acc ? dpsi[j] + d : d;
    }
}

static eg_status check_args(const eg_mixture_args *a) {
    if (!a) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_float_dtype(a->dtype));
    if (a->batch < 0 || a->batch > 2147483647 || a->k < 1 || a->channels < 1 || a->pixels < 0) return EG_ERR_INVALID;
    if (!(a->eps >= 1e-30 && a->eps < 0.5) || (a->gaussian && !(a->sigma > 0))) return EG_ERR_INVALID;
    return EG_OK;
}

eg_status eg_cuda_mixture_estep(void *ctx, const eg_mixture_args *a, const void *psi, const void *y, void *gamma,
                                void *loss) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    EG_TRY(check_args(a));
    if (a->batch == 0) return EG_OK;
    if (!psi || !y || !gamma || !loss) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned g = (unsigned)a->batch;
    if (a->dtype == EG_F32)
        k_mixture_fwd<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*a, (const float *)psi, (const float *)y,
                                                                     (float *)gamma, (float *)loss);
    else
        k_mixture_fwd<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*a, (const double *)psi, (const double *)y,
                                                                      (double *)gamma, (double *)loss);
    EG_LAUNCHED(c, "mixture_estep");
    return EG_OK;
}

eg_status eg_cuda_mixture_estep_backward(void *ctx, const eg_mixture_args *a, const void *psi, const void *y,
                                         const void *gamma, const void *dloss, void *dpsi, int accumulate) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    EG_TRY(check_args(a));
    int64_t n = a->batch * a->k * a->channels * a->pixels;
    if (n == 0) return EG_OK;
    if (!psi || !y || !gamma || !dloss || !dpsi) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    int acc = accumulate != 0;
    if (a->dtype == EG_F32)
        k_mixture_bwd<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*a, (const float *)psi, (const float *)y,
                                                                     (const float *)gamma, (const float *)dloss,
                                                                     (float *)dpsi, acc, n);
    else
        k_mixture_bwd<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>(*a, (const double *)psi, (const double *)y,
                                                                      (const double *)gamma, (const double *)dloss,
                                                                      (double *)dpsi, acc, n);
    EG_LAUNCHED(c, "mixture_estep_backward");
    return EG_OK;
}
