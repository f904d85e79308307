/* compvae_plugin.c — the `compvae` model plugin: descriptor, parameter schema
 * and callbacks. The Compositional VAE of Berger & Sebag (ECML-PKDD 2019) on
 * the sines (1D) and colour-dots (2D) problems, drawn online from engram/synth.h;
 * docs/models/compvae.md describes the model, parameters and metrics. */
#include <stdlib.h>
#include <string.h>

#include "compvae.h"

static const eg_param_spec compvae_params[] = {
    {"problem", EG_PARAM_ENUM, "sines", 0, 0, 0, "sines|dots", "",
     "sines: 1D sums of cosines (data.source sines); dots: 2D colour dots (data.source colour-dots)"},
    {"w_dim", EG_PARAM_INT, "32", EG_RANGE_MIN, 1, 0, NULL, "", "W: width of each part latent w_i (paper 1024 / 2048)"},
    {"z_dim", EG_PARAM_INT, "16", EG_RANGE_MIN, 1, 0, NULL, "", "Z: width of the whole latent z (paper 256 / 1024)"},
    {"hidden", EG_PARAM_INT, "128", EG_RANGE_MIN, 1, 0, NULL, "",
     "H: width of the GraphBlocks and the q(z|x), p(z|w), p(w|l) MLPs (paper 2048)"},
    {"graph_blocks", EG_PARAM_INT, "2", EG_RANGE_MIN | EG_RANGE_MAX, 1, 8, NULL, "",
     "GraphBlocks in q({w_i} | x, z, {l_i}) (paper 3)"},
    {"channels", EG_PARAM_INT_LIST, "[8, 16, 32]", EG_RANGE_MIN, 1, 0, NULL, "",
     "conv widths; sines: c1, c2, c3 (paper 40, 80, 160); dots: encoder widths at sizes S, S/2, ..., 4"},
    {"sigma_min", EG_PARAM_FLOAT, "0.001", EG_RANGE_MIN_EXCL, 0, 0, NULL, "data units",
     "variance floor of every prior/generator std (paper 0.001 sines, 0.005 dots); L_x bin = sigma_min sqrt(2 pi)"},
    {"lr", EG_PARAM_FLOAT, "0.002", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "Adamax base learning rate (halved at iteration 0)"},
    {"lr_halve_every", EG_PARAM_INT, "20000", EG_RANGE_MIN, 1, 0, NULL, "iterations", "learning-rate halving period"},
    {"lr_floor", EG_PARAM_FLOAT, "0.01", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "lowest learning rate as a fraction of lr (paper 0.01 sines, 0.05 dots)"},
    {"batch", EG_PARAM_INT, "64", EG_RANGE_MIN, 1, 0, NULL, "wholes", "wholes per update (all sub-batches)"},
    {"sub_batches", EG_PARAM_INT, "4", EG_RANGE_MIN | EG_RANGE_MAX, 1, 64, NULL, "",
     "sub-batches per update, each with its own K"},
    {"iterations", EG_PARAM_INT, "3000", EG_RANGE_MIN, 0, 0, NULL, "updates", "training updates"},
    {"k_start", EG_PARAM_INT, "2", EG_RANGE_MIN, 1, 0, NULL, "parts", "K_max at the start of the curriculum"},
    {"k_every", EG_PARAM_INT, "250", EG_RANGE_MIN, 1, 0, NULL, "iterations",
     "K_max(it) = min(k_cap, max(k_start, 1 + floor(it / k_every))) (paper 2500)"},
    {"k_cap", EG_PARAM_INT, "4", EG_RANGE_MIN, 1, 0, NULL, "parts", "largest K trained on (paper 16 sines, 6 dots)"},
    {"generality_k", EG_PARAM_INT_LIST, "[1, 2, 4, 8, 16, 30]", EG_RANGE_MIN, 1, 0, NULL, "parts",
     "task fit: the K of the size-generality losses generality/*@K"},
    {"generate_k", EG_PARAM_INT_LIST, "[1, 2, 3, 4]", EG_RANGE_MIN, 1, 0, NULL, "parts",
     "the K of the part-conditioned generation accuracies (sines: distinct frequencies, K <= 9)"},
};

static const eg_param_spec compvae_task_keys[] = {
    {"eval_n", EG_PARAM_INT, "256", EG_RANGE_MIN, 1, 0, NULL, "wholes", "held-out wholes per K for every measurement"},
};

/* the plugin's own task kinds (model ABI 1.3): both train, then measure on held-out data */
static const eg_task_def compvae_kinds[] = {
    {"fit", "train, then the held-out ELBO terms (L_w, L_z, L_x) at K = 1..k_cap, size generality and generation",
     compvae_task_keys, EG_COUNT(compvae_task_keys), NULL},
    {"generate", "train, then the part-conditioned generation accuracies only", compvae_task_keys,
     EG_COUNT(compvae_task_keys), NULL},
};

static const char *const compvae_tasks[] = {"fit", "generate"};

static const eg_metric_spec compvae_metrics[] = {
    {"elbo/L_w", EG_GOAL_MIN, "bits", "KL of q({w_i}) to prod p(w_i | l_i) (eq. 9), held out, K = 1..k_cap"},
    {"elbo/L_z", EG_GOAL_MIN, "bits", "one-sample KL term of z, held out"},
    {"elbo/L_x", EG_GOAL_MIN, "bits", "-log of p(x | z, w~) times the bin sigma_min sqrt(2 pi), held out"},
    {"elbo/total", EG_GOAL_MIN, "bits", "L_w + L_z + L_x (also *_nats)"},
    {"generality/L_x@K", EG_GOAL_MIN, "bits", "L_x (and L_w, L_z, total) for K parts, K from generality_k"},
    {"generate/line_accuracy@K", EG_GOAL_MAX, "fraction",
     "sines: generated wholes whose K strongest lines (1..9) are exactly the K given frequencies"},
    {"generate/site_colour_accuracy", EG_GOAL_MAX, "fraction",
     "dots: generated pixel at each site nearest (of 5 colours) to the site's colour (also @K)"},
    {"train/skipped", EG_GOAL_MIN, "updates", "updates skipped for a non-finite or huge loss"},
};

typedef struct cv_self {
    compvae m;
    cv_train t;
} cv_self;

static eg_status compvae_create(eg_run *run, void **self) {
    cv_self *s = calloc(1, sizeof *s);
    if (!s) return eg_run_fail(run, EG_ERR_NOMEM, "compvae: out of memory");
    cv_config c = {0};
    c.problem = eg_param_is(run, "problem", "dots") ? CV_DOTS : CV_SINES;
    c.w_dim = eg_param_int(run, "w_dim");
    c.z_dim = eg_param_int(run, "z_dim");
    c.hidden = eg_param_int(run, "hidden");
    c.graph_blocks = (int)eg_param_int(run, "graph_blocks");
    c.sigma_min = eg_param_float(run, "sigma_min");
    c.dtype = EG_F32;
    const double *ch = NULL;
    int nch = eg_param_list(run, "channels", &ch);
    if (nch > 5) nch = 5;
    for (int i = 0; i < nch; i++)
        c.channels[i] = (int64_t)ch[i];
    c.n_channels = nch;
    const eg_dataset *ds = eg_run_dataset(run, NULL);
    const char *want = c.problem == CV_SINES ? "sines" : "colour-dots";
    if (!ds || strcmp(ds->source, want) != 0) {
        free(s);
        return eg_run_fail(run, EG_ERR_SPEC, "compvae: params.problem %s needs data.source %s, got %s",
                           c.problem == CV_SINES ? "sines" : "dots", want, ds ? ds->source : "(none)");
    }
    if (c.problem == CV_SINES && nch != 3) {
        free(s);
        return eg_run_fail(run, EG_ERR_SPEC,
                           "compvae: params.channels for sines: expected 3 widths (c1, c2, c3), got %d", nch);
    }
    c.size = ds->height;
    cv_train *t = &s->t;
    t->lr = eg_param_float(run, "lr");
    t->lr_floor = eg_param_float(run, "lr_floor");
    t->lr_halve_every = eg_param_int(run, "lr_halve_every");
    t->batch = eg_param_int(run, "batch");
    t->sub_batches = eg_param_int(run, "sub_batches");
    t->iterations = eg_param_int(run, "iterations");
    t->k_start = eg_param_int(run, "k_start");
    t->k_every = eg_param_int(run, "k_every");
    t->k_cap = eg_param_int(run, "k_cap");
    if (t->batch % t->sub_batches) {
        eg_status e =
            eg_run_fail(run, EG_ERR_SPEC, "compvae: params.batch %lld is not a multiple of params.sub_batches %lld",
                        (long long)t->batch, (long long)t->sub_batches);
        free(s);
        return e;
    }
    eg_rng init = eg_run_rng(run, "init");
    eg_status st = cv_create(&s->m, eg_run_ctx(run), &c, &init);
    if (st != EG_OK) {
        eg_status e = eg_run_fail(run, st, "compvae: building the networks: %s", eg_ctx_message(eg_run_ctx(run)));
        cv_destroy(&s->m);
        free(s);
        return e;
    }
    eg_run_log(run, "compvae %s: %lld parameters", want, (long long)eg_params_numel(s->m.ps));
    *self = s;
    return EG_OK;
}

static eg_status compvae_fit(void *self, eg_run *run) {
    cv_self *s = self;
    if (eg_run_has_init(run) && strcmp(eg_task_kind(run), "generate") == 0) return EG_OK; /* reuse trained weights */
    return cv_fit(&s->m, &s->t, run);
}

static eg_status compvae_eval(void *self, eg_run *run) {
    cv_self *s = self;
    return cv_eval(&s->m, &s->t, run);
}

static eg_status compvae_save(void *self, eg_run *run) {
    return eg_save_params(run, NULL, ((cv_self *)self)->m.ps);
}

static eg_status compvae_load(void *self, eg_run *run) {
    return eg_load_params(run, NULL, ((cv_self *)self)->m.ps);
}

static void compvae_destroy(void *self) {
    cv_self *s = self;
    if (!s) return;
    cv_destroy(&s->m);
    free(s);
}

EG_MODEL_DEFINE(compvae,
    .version = "1.0.0",
    .summary = "Compositional VAE over multisets of parts (sines, colour dots): correlated posterior with rho",
    .params = compvae_params,
    .n_params = EG_COUNT(compvae_params),
    .tasks = compvae_tasks,
    .n_tasks = EG_COUNT(compvae_tasks),
    .task_kinds = compvae_kinds,
    .n_task_kinds = EG_COUNT(compvae_kinds),
    .metrics = compvae_metrics,
    .n_metrics = EG_COUNT(compvae_metrics),
    .create = compvae_create,
    .fit = compvae_fit,
    .eval = compvae_eval,
    .save = compvae_save,
    .load = compvae_load,
    .destroy = compvae_destroy)
