/* engram/optim.h — first-order optimisers over an eg_params set.
 * Update rules follow PyTorch's definitions (SGD with momentum and dampening 0,
 * Adam with bias correction, Adamax with the infinity norm). */
#ifndef ENGRAM_OPTIM_H
#define ENGRAM_OPTIM_H

#include "export.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_optim eg_optim;

EG_API eg_optim *eg_sgd(eg_params *ps, double lr, double momentum, double weight_decay);
EG_API eg_optim *eg_adam(eg_params *ps, double lr, double beta1, double beta2, double eps);
EG_API eg_optim *eg_adamax(eg_params *ps, double lr, double beta1, double beta2, double eps);
EG_API void eg_optim_free(eg_optim *o);
/* one update from the current gradients (parameters without a gradient are skipped) */
EG_API eg_status eg_optim_step(eg_optim *o);
EG_API void eg_optim_zero_grad(eg_optim *o);
EG_API void eg_optim_set_lr(eg_optim *o, double lr);
EG_API double eg_optim_lr(const eg_optim *o);
EG_API int64_t eg_optim_steps(const eg_optim *o);

/* step decay: lr0 * gamma^floor(epoch / step_size) */
EG_API double eg_lr_step_decay(double lr0, double gamma, int64_t step_size, int64_t epoch);
/* scales all gradients so their joint L2 norm is at most max_norm; returns the norm before */
EG_API double eg_clip_grad_norm(eg_params *ps, double max_norm);
/* clamps each gradient element to [-limit, limit] */
EG_API eg_status eg_clip_grad_value(eg_params *ps, double limit);

#ifdef __cplusplus
}
#endif
#endif
