/* nem_plugin.c — the `nem` model plugin: Neural Expectation Maximization and
 * RNN-EM (Greff, van Steenkiste & Schmidhuber, NeurIPS 2017) for unsupervised
 * perceptual grouping. Descriptor, parameter schema, create / save / load;
 * training in nem_train.c, the segment task's evaluation in nem_eval.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nem.h"

static const eg_param_spec nem_params[] = {
    {"variant", EG_PARAM_ENUM, "rnn-em", 0, 0, 0, "nem|rnn-em", "",
     "M-step: gradient step on Q with tied weights (nem) or a learned sigmoid RNN (rnn-em)"},
    {"k", EG_PARAM_INT, "3", EG_RANGE_MIN | EG_RANGE_MAX, 1, 64, NULL, "components", "mixture components K"},
    {"steps", EG_PARAM_INT, "10", EG_RANGE_MIN | EG_RANGE_MAX, 1, 1000, NULL, "EM steps",
     "unrolled EM steps T (sequences: one frame per step, T + 1 frames needed)"},
    {"hidden", EG_PARAM_INT, "250", EG_RANGE_MIN, 1, 0, NULL, "units", "size of theta (RNN / N-EM hidden units)"},
    {"likelihood", EG_PARAM_ENUM, "bernoulli", 0, 0, 0, "bernoulli|gaussian", "",
     "pixel likelihood (sigmoid output for bernoulli, identity for gaussian)"},
    {"e_sigma", EG_PARAM_FLOAT, "0.25", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "gaussian E-step standard deviation (a temperature)"},
    {"inter_weight", EG_PARAM_FLOAT, "1.0", EG_RANGE_MIN, 0, 0, NULL, "",
     "weight of the inter-cluster (KL to the prior) term of eq. (5)"},
    {"loss_steps", EG_PARAM_ENUM, "all", 0, 0, 0, "last|all", "",
     "eq. (5) on the last EM step only or summed over all steps"},
    {"gamma_grad", EG_PARAM_BOOL, "false", 0, 0, 0, NULL, "",
     "let gradients flow through gamma (false = stop-gradient on gamma everywhere)"},
    {"noise", EG_PARAM_ENUM, "bitflip", 0, 0, 0, "bitflip|masked-uniform|none", "",
     "input corruption of every frame (the E-step and loss use the clean target)"},
    {"noise_p", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "", "noise probability per value"},
    {"net", EG_PARAM_ENUM, "fc", 0, 0, 0, "fc|conv", "",
     "fully connected nets (static shapes) or the conv encoder/decoder of flying data"},
    {"layer_norm", EG_PARAM_BOOL, "false", 0, 0, 0, NULL, "",
     "rnn-em: layer norm on the decoder's copy of the RNN pre-activation"},
    {"eta", EG_PARAM_FLOAT, "1.0", 0, 0, 0, NULL, "", "nem: initial value of the learned step size"},
    {"lr", EG_PARAM_FLOAT, "0.001", EG_RANGE_MIN_EXCL, 0, 0, NULL, "", "Adam learning rate"},
    {"batch", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "samples", "batch size (also for evaluation)"},
    {"epochs", EG_PARAM_INT, "500", EG_RANGE_MIN, 0, 0, NULL, "epochs",
     "maximum epochs of floor(n_train / batch) updates"},
    {"patience", EG_PARAM_INT, "10", EG_RANGE_MIN, 0, 0, NULL, "epochs",
     "early stopping: stop when the valid loss has not improved for this many epochs (0 = never); the "
     "best-valid-loss weights are kept"},
    {"updates", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "updates", "stop after this many updates (0 = no cap)"},
    {"valid_size", EG_PARAM_INT, "1000", EG_RANGE_MIN, 0, 0, NULL, "samples",
     "items of the valid split scored after every epoch (0 = no validation, no early stopping)"},
    {"dtype", EG_PARAM_ENUM, "f32", 0, 0, 0, "f32|f64", "", "tensor precision"},
};

static const char *const nem_tasks[] = {"segment"};

static const eg_metric_spec nem_metrics[] = {
    {"segment/ami", EG_GOAL_MAX, "",
     "AMI of argmax_k gamma vs the true groups at the last EM step (pixels of group 0 excluded)"},
    {"segment/ami_mean", EG_GOAL_MAX, "", "the same, averaged uniformly over the EM steps"},
    {"segment/confidence", EG_GOAL_NONE, "", "mean max_k gamma over the scored pixels at the last step"},
    {"segment/loss", EG_GOAL_MIN, "nats", "eq. (5) per sample on the evaluated split (summed over the loss steps)"},
    {"segment/bce_upper", EG_GOAL_MIN, "nats", "BCE of max_k psi per sample at the last step (upper bound)"},
    {"train/loss", EG_GOAL_MIN, "nats", "eq. (5) per sample, mean over the last training epoch"},
    {"train/bce_upper", EG_GOAL_MIN, "nats", "BCE of max_k psi per sample at the last step, last epoch"},
    {"train/updates", EG_GOAL_NONE, "updates", "parameter updates made"},
    {"train/seconds", EG_GOAL_NONE, "s", "wall time of training"},
    {"train/best_epoch", EG_GOAL_NONE, "epochs", "epoch whose weights were kept (best valid loss)"},
};

static eg_status nem_create(eg_run *run, void **self) {
    nem_plugin *p = calloc(1, sizeof *p);
    if (!p) return eg_run_fail(run, EG_ERR_NOMEM, "nem: out of memory");
    nem_cfg c = {0};
    c.variant = eg_param_is(run, "variant", "nem") ? NEM_NEM : NEM_RNN;
    c.k = (int)eg_param_int(run, "k");
    c.steps = (int)eg_param_int(run, "steps");
    c.hidden = (int)eg_param_int(run, "hidden");
    c.gaussian = eg_param_is(run, "likelihood", "gaussian");
    c.e_sigma = eg_param_float(run, "e_sigma");
    c.inter_weight = eg_param_float(run, "inter_weight");
    c.loss_all = eg_param_is(run, "loss_steps", "all");
    c.gamma_grad = eg_param_bool(run, "gamma_grad");
    c.noise = eg_param_is(run, "noise", "bitflip")          ? NEM_NOISE_BITFLIP
              : eg_param_is(run, "noise", "masked-uniform") ? NEM_NOISE_MASKED_UNIFORM
                                                            : NEM_NOISE_NONE;
    c.noise_p = eg_param_float(run, "noise_p");
    c.conv = eg_param_is(run, "net", "conv");
    c.layer_norm = eg_param_bool(run, "layer_norm");
    c.eta0 = eg_param_float(run, "eta");
    p->lr = eg_param_float(run, "lr");
    p->batch = eg_param_int(run, "batch");
    p->epochs = eg_param_int(run, "epochs");
    p->patience = eg_param_int(run, "patience");
    p->dt = eg_param_is(run, "dtype", "f64") ? EG_F64 : EG_F32;
    *self = p;
    /* the network's size follows the data: geometry of the evaluated split */
    const eg_dataset *ds = eg_run_dataset(run, NULL);
    if (!ds) return EG_ERR_NOTFOUND; /* eg_run_dataset explained it */
    if (!ds->groups)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "nem: data.source %s has no ground-truth groups; use shapes, flying-shapes, flying-fmnist "
                           "or flying-mnist",
                           ds->source);
    int frames, C;
    nem_frames(ds, &frames, &C);
    if (frames > 1 && frames < c.steps + 1)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "nem: %d EM steps on sequences need %d frames, data has %d (raise data.frames or lower "
                           "params.steps)",
                           c.steps, c.steps + 1, frames);
    if (c.variant == NEM_NEM && c.conv)
        return eg_run_fail(run, EG_ERR_SPEC, "nem: variant nem has no conv network (use net: fc)");
    eg_rng rng = eg_run_rng(run, "init");
    eg_status st = nem_init(&p->m, eg_run_ctx(run), &c, C, ds->height, ds->width, p->dt, &rng);
    if (st != EG_OK) return eg_run_fail(run, st, "nem: %s", eg_ctx_message(eg_run_ctx(run)));
    p->created = 1;
    p->m.binary_targets = nem_binary_data(ds); /* fit clears it when the train split is not binary */
    eg_run_log(run, "nem: %s, K = %d, T = %d, %d hidden, %lld parameters, frames %dx%dx%d%s",
               c.variant == NEM_NEM ? "N-EM" : "RNN-EM", c.k, c.steps, c.hidden, (long long)eg_params_numel(p->m.ps), C,
               ds->height, ds->width, frames > 1 ? " (sequence)" : "");
    return EG_OK;
}

static void nem_destroy(void *self) {
    nem_plugin *p = self;
    if (!p) return;
    if (p->created) nem_free(&p->m);
    free(p);
}

static eg_status nem_save(void *self, eg_run *run) {
    return eg_save_params(run, NULL, ((nem_plugin *)self)->m.ps);
}

static eg_status nem_load(void *self, eg_run *run) {
    return eg_load_params(run, NULL, ((nem_plugin *)self)->m.ps);
}

EG_MODEL_DEFINE(nem,
    .version = "1.0.0",
    .summary = "Neural EM and RNN-EM: differentiable spatial mixture clustering for perceptual grouping",
    .params = nem_params,
    .n_params = EG_COUNT(nem_params),
    .tasks = nem_tasks,
    .n_tasks = 1,
    .metrics = nem_metrics,
    .n_metrics = EG_COUNT(nem_metrics),
    .create = nem_create,
    .fit = nem_fit,
    .eval = nem_eval,
    .save = nem_save,
    .load = nem_load,
    .destroy = nem_destroy)
