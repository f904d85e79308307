/* nem.h — the nem plugin (Greff, van Steenkiste & Schmidhuber 2017, "Neural
 * Expectation Maximization"): a spatial mixture of K components that share one
 * network, run as a batch of B*K rows, unrolled for T EM steps and trained by
 * backpropagation through all of them. Exported from engram-model-nem.so so
 * the tests can dlsym the pieces (the plugin's own API, not the SDK).
 *
 * Shapes: B samples, K components, C channels, P = height * width pixels,
 * D = C * P values per frame, Hd hidden units.
 *   theta [B*K, Hd]     component state (RNN state; N-EM: pre-sigmoid vector)
 *   psi   [B, K, C, P]  predicted pixel means (Bernoulli p or Gaussian mean)
 *   gamma [B, K, 1, P]  responsibilities, one per pixel (shared over channels)
 * One step t (reference §1.3): delta = x~_t - psi; r = gamma (.) delta;
 * M-step theta <- M(theta, r), psi = decoder(theta); E-step gamma against the
 * clean target y; loss eq. (5) against y. */
#ifndef NEM_H
#define NEM_H

#include "engram/plugin.h"

typedef enum nem_ami_norm { NEM_AMI_MAX = 0, NEM_AMI_ARITHMETIC } nem_ami_norm;

/* adjusted mutual information of two labelings of n items (nem_ami.c) */
double nem_ami(const int32_t *truth, const int32_t *pred, int64_t n, nem_ami_norm norm);
/* the same over the items whose truth label is not 0 (background or overlap) */
double nem_ami_masked(const int32_t *truth, const int32_t *pred, int64_t n, nem_ami_norm norm);

typedef enum nem_variant { NEM_NEM = 0, NEM_RNN } nem_variant;
typedef enum nem_noise { NEM_NOISE_NONE = 0, NEM_NOISE_BITFLIP, NEM_NOISE_MASKED_UNIFORM } nem_noise_kind;

typedef struct nem_cfg {
    nem_variant variant;
    int k, steps, hidden;
    int gaussian;        /* pixel likelihood: 0 Bernoulli, 1 Gaussian */
    double e_sigma;      /* Gaussian E-step temperature sigma_E */
    double inter_weight; /* lambda of the inter-cluster term of eq. (5) */
    int loss_all;        /* 1: loss summed over all steps; 0: the last step only */
    int gamma_grad;      /* 0: stop-gradient on gamma everywhere */
    nem_noise_kind noise;
    double noise_p;
    int conv;       /* conv encoder / decoder (flying data) instead of the FC nets */
    int layer_norm; /* RNN-EM: layer norm on the decoder's copy of the state */
    double eta0;    /* N-EM: initial step size */
} nem_cfg;

/* conv encoder/decoder of §1.7 for flying data (nem_conv.c) */
typedef struct nem_conv {
    int n_enc;      /* stride-2 convs in the encoder (2 for 28x28, 3 for 24x24) */
    eg_conv enc[3]; /* 4x4 stride 2 */
    eg_layer_norm enc_ln[3];
    eg_linear enc_fc; /* flatten -> 512 */
    eg_layer_norm enc_fc_ln;
    eg_linear dec_fc1, dec_fc2; /* hidden -> 512 -> c * s * s */
    eg_layer_norm dec_ln1, dec_ln2;
    eg_conv dec[3]; /* nearest x2 then 4x4 stride 1 */
    eg_layer_norm dec_ln[2];
    int enc_ch[3], s0; /* channels per encoder level, smallest map side */
} nem_conv;

typedef struct nem_model {
    nem_cfg cfg;
    int C, H, W;  /* frame geometry */
    int64_t P, D; /* pixels, values per frame */
    eg_ctx *ctx;
    eg_params *ps;
    /* RNN-EM: a = W_x r + W_h theta + b (one matrix on [r, theta] in the reference), theta' = sigmoid(a) */
    eg_tensor *w_x, *w_h, *b_h; /* [Hd, in], [Hd, Hd], [Hd] */
    eg_layer_norm ln;           /* decoder copy: sigmoid(LN(a)) */
    eg_linear out;              /* FC decoder Hd -> D */
    /* N-EM: psi = sigmoid(W sigmoid(theta)) (identity output for Gaussian), W [D, Hd] tied with the encoder */
    eg_tensor *w_tied, *eta; /* [D, Hd], [1] */
    nem_conv cv;
    int64_t in_dim;     /* RNN input width: D, or the conv encoder's 512 */
    int binary_targets; /* 1 when every target value is 0 or 1: the Bernoulli loss reuses the E-step's p */
} nem_model;

typedef struct nem_state {
    eg_tensor *theta, *psi, *gamma;
} nem_state;

/* parameters in a fresh set of dtype dt, initialised from rng (nem_model.c) */
eg_status nem_init(nem_model *m, eg_ctx *ctx, const nem_cfg *cfg, int C, int H, int W, eg_dtype dt, eg_rng *rng);
void nem_free(nem_model *m);

/* theta = 0, psi = 0, gamma = |n| / sum_k |n| with n ~ N(0, 1) per pixel (K = 1: gamma = 1) */
nem_state nem_init_state(const nem_model *m, int64_t B, eg_dtype dt, eg_rng *rng);
/* E-step: gamma [B, K, 1, P] from psi [B, K, C, P] against the clean target y [B, D] */
eg_tensor *nem_estep(const nem_model *m, eg_tensor *psi, eg_tensor *y);
/* loss eq. (5) of one step, summed over pixels, channels and k, divided by B (scalar) */
eg_tensor *nem_loss(const nem_model *m, eg_tensor *psi, eg_tensor *gamma, eg_tensor *y);
/* BCE of max_k psi against y (the paper's upper bound), summed over values, divided by B */
eg_tensor *nem_bce_upper(const nem_model *m, eg_tensor *psi, eg_tensor *y);
/* M-step: theta' and psi' from theta and the masked deltas r [B*K, D] (RNN-EM: theta NULL means 0) */
void nem_mstep(const nem_model *m, eg_tensor *theta, eg_tensor *r, eg_tensor **theta_out, eg_tensor **psi_out);
/* decoder alone (N-EM: psi = f(sigmoid(theta) W^T)); psi [B*K, D] */
eg_tensor *nem_decode(const nem_model *m, eg_tensor *theta);
/* one EM step on the noisy frame x [B, D] with clean target y [B, D]; *loss (may be NULL) gets eq. (5).
 * s.psi NULL stands for psi = 0 and (RNN-EM only) s.theta NULL for theta = 0: the initial state, without
 * the work on zeros. With gamma_grad off the E-step and loss are one op (eg_mixture_estep_loss). */
nem_state nem_step(const nem_model *m, nem_state s, eg_tensor *x, eg_tensor *y, eg_tensor **loss);

/* conv networks (nem_conv.c) */
eg_status nem_conv_init(nem_model *m, eg_rng *rng);
eg_tensor *nem_conv_encode(const nem_model *m, eg_tensor *r); /* [N, D] -> [N, 512] */
eg_tensor *nem_conv_decode(const nem_model *m, eg_tensor *h); /* [N, Hd] -> [N, D] (pre-output) */

/* input noise of §1.6 on a frame batch x [B, D] (nem_model.c) */
eg_tensor *nem_noise(const nem_model *m, eg_tensor *x, eg_rng *rng);

/* observer of an unrolled pass: called after every step t with the new state, the noisy input and the target */
typedef struct nem_trace nem_trace;
struct nem_trace {
    void (*step)(nem_trace *tr, int t, const nem_state *s, eg_tensor *x_noisy, eg_tensor *y);
    void *user;
};

/* T steps from the initial state on rows [B, frames * D] (static images: the same image every step);
 * returns eq. (5) summed over the loss steps (scalar); *final, *bce (BCE upper bound at the last step,
 * no gradient) and trace may be NULL (nem_model.c) */
eg_tensor *nem_unroll(const nem_model *m, eg_tensor *rows, int frames, eg_rng *gamma_rng, eg_rng *noise_rng,
                      nem_state *final, eg_tensor **bce, nem_trace *trace);

/* the plugin's training and evaluation (nem_train.c, nem_eval.c) */
typedef struct nem_plugin {
    nem_model m;
    int created;
    int64_t batch, epochs, patience;
    double lr;
    eg_dtype dt;
} nem_plugin;

typedef struct nem_scores {
    double loss, bce, ami_last, ami_mean, confidence;
    double ami_step[1000]; /* mean AMI after step t = 1..T (index t - 1) */
} nem_scores;

/* scores the first n items of ds without gradients (streams "<prefix>-gamma", "<prefix>-noise");
 * artifacts = 1 also saves masks and predictions of the first task.show items (nem_eval.c) */
eg_status nem_score(nem_plugin *p, eg_run *run, const eg_dataset *ds, int64_t n, const char *prefix, nem_scores *out,
                    int artifacts);
eg_status nem_fit(void *self, eg_run *run);
/* 1 when every value of the dataset is 0 or 1 (nem_model.c) */
int nem_binary_data(const eg_dataset *ds);
eg_status nem_eval(void *self, eg_run *run);
/* frames of a dataset item: (frames, channels per frame); static images have 1 frame */
void nem_frames(const eg_dataset *ds, int *frames, int *channels);
/* T+1 frames needed for T steps of a sequence; a static image is tiled. frame t of rows [B, frames*D] */
eg_tensor *nem_frame(eg_tensor *rows, int frames, int64_t D, int t);

#endif
