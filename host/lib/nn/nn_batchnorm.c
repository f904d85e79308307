/* nn_batchnorm.c — batch normalisation (Ioffe & Szegedy 2015, Algorithm 1) from
 * differentiable tensor ops, so autograd needs no kernel of its own.
 *
 * x is viewed as [n, C, S] (S = the product of the spatial axes, 1 for [n, C]):
 *   training:   mu = mean_{n,S} x,  var = mean_{n,S} (x - mu)^2            (biased, as the paper)
 *               y  = gain (x - mu) / sqrt(var + eps) + bias
 *               running_mean <- (1 - m) running_mean + m mu
 *               running_var  <- (1 - m) running_var  + m var nS / (nS - 1)   (unbiased, as PyTorch)
 *   evaluation: y  = gain (x - running_mean) / sqrt(running_var + eps) + bias (statistics detached) */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "engram/nn.h"

eg_status eg_batch_norm_init(eg_batch_norm *bn, eg_params *ps, const char *name, int64_t channels, double eps,
                             double momentum) {
    if (!bn || !ps) return EG_ERR_INVALID;
    memset(bn, 0, sizeof *bn);
    bn->channels = channels;
    bn->eps = eps > 0 ? eps : 1e-5;
    bn->momentum = momentum > 0 ? momentum : 0.1;
    bn->training = 1;
    eg_ctx *ctx = eg__params_ctx(ps);
    if (channels <= 0)
        return eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_batch_norm_init '%s': %lld channels (expected >= 1)", name,
                           (long long)channels);
    eg_dtype dt = eg_params_dtype(ps);
    bn->gain = eg_params_create(ps, name, "gain", dt, 1, &channels);
    bn->bias = eg_params_create(ps, name, "bias", dt, 1, &channels);
    bn->running_mean = eg_params_create(ps, name, "running_mean", dt, 1, &channels);
    bn->running_var = eg_params_create(ps, name, "running_var", dt, 1, &channels);
    eg_status st = eg_ctx_status(ctx);
    if (st != EG_OK) return st;
    eg_requires_grad(bn->running_mean, 0);
    eg_requires_grad(bn->running_var, 0);
    eg_fill(bn->gain, 1.0);
    return eg_fill(bn->running_var, 1.0);
}

/* [C] -> [1, C, 1] */
static eg_tensor *per_channel(eg_tensor *v, int64_t C) {
    return eg_reshape(v, EG_DIMS(1, C, 1));
}

eg_tensor *eg_batch_norm_forward(eg_batch_norm *bn, eg_tensor *x) {
    if (!bn || !x) return x;
    eg_ctx *ctx = eg_tensor_ctx(x);
    if (eg_ctx_status(ctx) != EG_OK) return x;
    int nd = eg_ndim(x);
    int64_t C = bn->channels;
    if (nd < 2 || eg_dim(x, 1) != C) {
        char shape[96] = "";
        for (int i = 0, k = 0; i < nd && k < (int)sizeof shape - 24; i++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", i ? ", " : "", (long long)eg_dim(x, i));
        eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_batch_norm_forward: input [%s], expected [n, %lld, ...]", shape,
                    (long long)C);
        return x;
    }
    int64_t n = eg_dim(x, 0), S = n * C > 0 ? eg_numel(x) / (n * C) : 0;
    eg_tensor *x3 = eg_reshape(x, EG_DIMS(n, C, S)), *xhat;
    if (bn->training) {
        eg_tensor *mu = eg_mean(eg_mean(x3, 2, 1), 0, 1); /* [1, C, 1] */
        eg_tensor *xc = eg_sub(x3, mu);
        eg_tensor *var = eg_mean(eg_mean(eg_square(xc), 2, 1), 0, 1);
        xhat = eg_mul(xc, eg_rsqrt(eg_add_scalar(var, bn->eps)));
        int64_t count = n * S;
        double m = bn->momentum;
        eg_no_grad_begin(ctx);
        eg_assign(bn->running_mean,
                  eg_add(eg_scale(bn->running_mean, 1 - m), eg_scale(eg_reshape(eg_detach(mu), EG_DIMS(C)), m)));
        if (count > 1)
            eg_assign(bn->running_var,
                      eg_add(eg_scale(bn->running_var, 1 - m), eg_scale(eg_reshape(eg_detach(var), EG_DIMS(C)),
                                                                        m * (double)count / (double)(count - 1))));
        eg_no_grad_end(ctx);
    } else {
        eg_tensor *mu = per_channel(eg_detach(bn->running_mean), C);
        eg_tensor *inv = eg_rsqrt(eg_add_scalar(per_channel(eg_detach(bn->running_var), C), bn->eps));
        xhat = eg_mul(eg_sub(x3, mu), inv);
    }
    eg_tensor *y = eg_add(eg_mul(xhat, per_channel(bn->gain, C)), per_channel(bn->bias, C));
    return eg_reshape(y, nd, eg_shape(x));
}
