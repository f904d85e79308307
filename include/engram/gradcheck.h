/* engram/gradcheck.h — testing a plugin's gradients: autograd against central finite
 * differences, the check every backward in engram passes (tests/grad/).
 *
 * f maps the inputs to a tensor y; the check back-propagates a fixed, non-uniform
 * upstream gradient R (R_j = 0.6 + 0.5 sin(1.7 j + 0.3), never zero) and compares
 * every element of every input's gradient with
 *     (L(x + eps e_j) - L(x - eps e_j)) / (2 eps),   L(x) = sum_j y_j(x) R_j,
 * evaluated with recording off. An element passes when
 *     |autograd - finite difference| <= atol + rtol max(|autograd|, |fd|),
 * atol = 1e-8 (1 + |L(x)|). Inputs are f64 parameters (eg_param(ctx, EG_F64, ...)) holding
 * the point to check; they are perturbed in place and restored. Work in f64 on the CPU
 * backend: in f32 the differences are noise. */
#ifndef ENGRAM_GRADCHECK_H
#define ENGRAM_GRADCHECK_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef eg_tensor *(*eg_gradcheck_fn)(eg_tensor *const *inputs, void *user);

typedef struct eg_gradcheck_opts {
    double eps;  /* step; 0 = 1e-6 */
    double rtol; /* relative tolerance; 0 = 1e-6 */
} eg_gradcheck_opts;

typedef struct eg_gradcheck_result {
    int64_t checked;      /* gradient elements compared */
    int64_t mismatched;   /* elements outside the tolerance */
    double max_abs_error; /* largest |autograd - finite difference| */
    int worst_input;      /* where the largest error is (-1 when checked = 0) */
    int64_t worst_element;
    double worst_autograd, worst_finite_difference;
} eg_gradcheck_result;

/* EG_OK when it ran (the verdict is out->mismatched == 0); EG_ERR_INVALID when an input
 * is not an f64 parameter; the context's error when f or the backward fails (the
 * context's message says why). opts may be NULL. */
EG_API eg_status eg_gradcheck(eg_ctx *ctx, eg_gradcheck_fn f, void *user, int n_inputs, eg_tensor *const *inputs,
                              const eg_gradcheck_opts *opts, eg_gradcheck_result *out);

#ifdef __cplusplus
}
#endif
#endif
