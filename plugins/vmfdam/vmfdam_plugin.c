/* vmfdam_plugin.c — the `vmfdam` model plugin: descriptor, parameter schema
 * and callbacks. The dense associative memory of Thériault & Tantari ("Saddle
 * hierarchy in dense associative memory", arXiv 2508.19151): data and memories
 * on the sphere, Potts hidden and class units, class weights on the
 * transportation polytope with a null unit, the effective loss (ς), trainable
 * beta, the SMD optimiser with Sinkhorn, and growth by splitting steepest
 * descent. Details and pitfalls: reference/model-vmfdam.md; docs/models/vmfdam.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vmfdam_run.h"

static const eg_param_spec vmfdam_params[] = {
    {"hidden", EG_PARAM_INT, "100", EG_RANGE_MIN, 1, 0, NULL, "memories",
     "P: hidden units (memories); the initial P when growth = split"},
    {"hidden_max", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "memories",
     "P_max: memories after growth (0 = hidden); without growth P_max = hidden"},
    {"beta", EG_PARAM_FLOAT, "1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "inverse temperature beta (initial value when trained)"},
    {"beta_trainable", EG_PARAM_BOOL, "true", 0, 0, 0, NULL, "", "train beta by SMD together with w and g"},
    {"varsigma", EG_PARAM_FLOAT, "0.25", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "ς of the effective loss (eq. 12): the exponent uses ς beta, tau uses beta (1 = plain eq. 4)"},
    {"softening", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN | EG_RANGE_MAX_EXCL, 0, 1, NULL, "",
     "s: training targets (1 - s) onehot + s/(C+1) over the C+1 columns"},
    {"epochs", EG_PARAM_INT, "300", EG_RANGE_MIN, 0, 0, NULL, "epochs",
     "maximum memorisation epochs (per growth stage); 0 = no training"},
    {"batch", EG_PARAM_INT, "1000", EG_RANGE_MIN, 1, 0, NULL, "items", "minibatch size"},
    {"lr", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "SMD learning rate; applied twice per step (v <- mu v - lr grad, theta <- theta + lr v)"},
    {"momentum", EG_PARAM_FLOAT, "0.99", EG_RANGE_MIN | EG_RANGE_MAX_EXCL, 0, 1, NULL, "", "SMD momentum mu"},
    {"sinkhorn_iters", EG_PARAM_INT, "10", EG_RANGE_MIN, 1, 0, NULL, "passes",
     "maximum Sinkhorn passes after each step (reference: 10 supervised, 100 unsupervised)"},
    {"patience", EG_PARAM_INT, "1", EG_RANGE_MIN, 0, 0, NULL, "epochs",
     "early stopping: stop after this many epochs without improvement (0 disables)"},
    {"val_fraction", EG_PARAM_FLOAT, "0.1", EG_RANGE_MIN | EG_RANGE_MAX_EXCL, 0, 1, NULL, "",
     "last fraction of the training items held out to monitor (0: monitor the training loss)"},
    {"growth", EG_PARAM_ENUM, "none", 0, 0, 0, "none|split", "",
     "grow the network by splitting steepest descent from hidden to hidden_max (Alg. 2)"},
    {"split_threshold", EG_PARAM_FLOAT, "-0.001", EG_RANGE_MAX, 0, 0, NULL, "",
     "lambda_thres: split only units whose eigenvalue lambda is below it"},
    {"split_fraction", EG_PARAM_FLOAT, "1", EG_RANGE_MIN_EXCL | EG_RANGE_MAX, 0, 1, NULL, "",
     "tau_thres: at most this fraction of the units split per stage"},
    {"split_delta", EG_PARAM_FLOAT, "0.25", EG_RANGE_MIN_EXCL, 0, 0, NULL, "",
     "delta: split into w + delta u and w - delta u"},
    {"split_epochs", EG_PARAM_INT, "1", EG_RANGE_MIN, 1, 0, NULL, "epochs", "eigenvector training epochs per split"},
    {"mode", EG_PARAM_ENUM, "supervised", 0, 0, 0, "supervised|unsupervised", "",
     "supervised loss (eq. 4/12) or unsupervised loss (eq. 15); task cluster needs unsupervised"},
    {"classes", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "classes",
     "C: class units (0 = the dataset's classes; 10 when unsupervised on unlabelled data)"},
    {"epsilon", EG_PARAM_FLOAT, "0.01", EG_RANGE_MIN | EG_RANGE_MAX, 0, 1, NULL, "",
     "unsupervised: softened predictions (1 - eps) P(y|x) + eps/(C+1) (eq. 15)"},
    {"patch", EG_PARAM_INT, "0", EG_RANGE_MIN, 0, 0, NULL, "pixels",
     "0 = whole items; else every patch x patch window (VALID) of each image is an item"},
    {"patch_stride", EG_PARAM_INT, "2", EG_RANGE_MIN, 1, 0, NULL, "pixels", "stride between patches"},
    {"log_normalizer", EG_PARAM_ENUM, "exact", 0, 0, 0, "exact|debye", "",
     "tau(beta) exact, or the reference code's leading-order Debye formula (parity; poor at small N)"},
    {"center", EG_PARAM_BOOL, "true", 0, 0, 0, NULL, "",
     "subtract each item's mean before normalising it onto the sphere (the reference's preprocessing)"},
};

static const char *const vmfdam_tasks[] = {"classify", "cluster"};

static const eg_metric_spec vmfdam_metrics[] = {
    {"classify/accuracy", EG_GOAL_MAX, "fraction", "test items whose argmax_y out_y is their label"},
    {"classify/train_accuracy", EG_GOAL_MAX, "fraction", "the same on the fitted training items"},
    {"classify/nn_fidelity", EG_GOAL_MAX, "fraction", "test predictions equal to the class of the most similar memory"},
    {"classify/test_loss", EG_GOAL_MIN, "nats", "loss with the hard test labels"},
    {"cluster/loss", EG_GOAL_MIN, "nats", "unsupervised loss (eq. 15) on the test items"},
    {"cluster/occupied", EG_GOAL_NONE, "classes", "latent classes predicted for at least one test item"},
    {"cluster/purity", EG_GOAL_MAX, "fraction", "test items in the majority true label of their latent class"},
    {"train/loss", EG_GOAL_MIN, "nats", "training loss of the last epoch"},
    {"train/val_loss", EG_GOAL_MIN, "nats", "validation loss after the last epoch"},
    {"train/seconds", EG_GOAL_MIN, "s", "wall time of the training (all stages)"},
    {"train/epochs", EG_GOAL_NONE, "epochs", "epochs run (memorisation and splitting)"},
    {"train/seconds_per_epoch", EG_GOAL_MIN, "s", "mean wall time of one epoch"},
    {"model/beta", EG_GOAL_NONE, "", "beta after training"},
    {"model/hidden", EG_GOAL_NONE, "memories", "P after training"},
    {"model/stationarity", EG_GOAL_MIN, "", "largest eq. (6) residual (w, g, and beta when trained)"},
    {"model/stationarity_w", EG_GOAL_MIN, "", "w_mu vs the direction of sum_x R_mu(x) x (R-weighted sine)"},
    {"model/stationarity_g", EG_GOAL_MIN, "", "relative misfit of dL/dg to a_gamma + b_y on the support of g"},
    {"model/stationarity_beta", EG_GOAL_MIN, "", "(A_N(beta) - ς <m>_R)/A_N(beta)"},
    {"model/teacher_overlap", EG_GOAL_MAX, "", "teacher-student data: mean best overlap of a teacher memory"},
};

/* the reference's unsupervised class counts (C = 10); distinct values break the class symmetry */
static const double ref_counts[10] = {110, 132, 121, 101, 105, 108, 104, 102, 112, 125};

static eg_status vmfdam_create(eg_run *run, void **self) {
    vmf_plugin *p = calloc(1, sizeof *p);
    if (!p) return eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of memory");
    vmf_model *m = &p->m;
    m->hidden = eg_param_int(run, "hidden");
    m->hidden_max = eg_param_int(run, "hidden_max");
    p->growth_split = eg_param_is(run, "growth", "split");
    if (!p->growth_split || m->hidden_max < m->hidden) m->hidden_max = m->hidden;
    p->beta0 = eg_param_float(run, "beta");
    m->cfg.beta_trainable = eg_param_bool(run, "beta_trainable");
    m->cfg.varsigma = eg_param_float(run, "varsigma");
    m->cfg.softening = eg_param_float(run, "softening");
    m->cfg.epsilon = eg_param_float(run, "epsilon");
    m->cfg.unsupervised = eg_param_is(run, "mode", "unsupervised");
    m->cfg.debye = eg_param_is(run, "log_normalizer", "debye");
    m->cfg.lr = eg_param_float(run, "lr");
    m->cfg.momentum = eg_param_float(run, "momentum");
    m->cfg.sinkhorn_iters = (int)eg_param_int(run, "sinkhorn_iters");
    m->classes = eg_param_int(run, "classes");
    m->dtype = EG_F32;
    m->ctx = eg_run_ctx(run);
    p->epochs = eg_param_int(run, "epochs");
    p->batch = eg_param_int(run, "batch");
    p->patience = eg_param_int(run, "patience");
    p->val_fraction = eg_param_float(run, "val_fraction");
    p->split_threshold = eg_param_float(run, "split_threshold");
    p->split_fraction = eg_param_float(run, "split_fraction");
    p->split_delta = eg_param_float(run, "split_delta");
    p->split_epochs = eg_param_int(run, "split_epochs");
    p->patch = eg_param_int(run, "patch");
    p->patch_stride = eg_param_int(run, "patch_stride");
    p->center = eg_param_bool(run, "center");
    p->eval_batch = eg_task_int(run, "eval_batch");
    p->cluster_task = strcmp(eg_task_kind(run), "cluster") == 0;
    *self = p;
    if (p->cluster_task && !m->cfg.unsupervised)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "vmfdam: task cluster trains without labels: set params.mode: unsupervised");
    if (!p->cluster_task && m->cfg.unsupervised)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "vmfdam: task classify needs params.mode: supervised (use task.kind: cluster for "
                           "unsupervised training)");
    return EG_OK;
}

static void vmfdam_destroy(void *self) {
    vmf_plugin *p = self;
    if (!p) return;
    vmf_items_free(&p->train);
    vmf_release(&p->m);
    free(p);
}

/* class prior p_q from the fitted labels (supervised) or the reference's counts */
static eg_status class_prior(vmf_plugin *p, double *pq) {
    vmf_model *m = &p->m;
    int64_t C = m->classes;
    double *counts = calloc((size_t)C, sizeof *counts);
    if (!counts) return EG_ERR_NOMEM;
    if (!m->cfg.unsupervised) {
        for (int64_t i = 0; i < p->n_fit; i++)
            counts[p->train.y[i]] += 1.0;
    } else {
        for (int64_t y = 0; y < C; y++)
            counts[y] = C == 10 ? ref_counts[y] : 100.0 + 3.0 * (double)y;
    }
    vmf_class_prior(counts, C, m->cfg.unsupervised ? m->cfg.epsilon : m->cfg.softening, pq);
    free(counts);
    return EG_OK;
}

static eg_status vmfdam_fit(void *self, eg_run *run) {
    vmf_plugin *p = self;
    vmf_model *m = &p->m;
    const eg_dataset *ds = eg_run_dataset(run, eg_task_str(run, "train_split"));
    if (!ds) return EG_ERR_NOTFOUND;
    if (!p->loaded && m->classes == 0) m->classes = ds->n_classes > 0 ? ds->n_classes : m->cfg.unsupervised ? 10 : 0;
    if (m->classes < 1)
        return eg_run_fail(run, EG_ERR_SPEC,
                           "vmfdam: %s has no labels; set params.classes (and mode: unsupervised with task cluster)",
                           ds->source);
    if (!m->cfg.unsupervised && !ds->y)
        return eg_run_fail(run, EG_ERR_SPEC, "vmfdam: supervised training needs labelled data; %s has none",
                           ds->source);
    eg_status st = vmf_prepare(p, run, "train", &p->train, !m->cfg.unsupervised, m->cfg.softening);
    if (st != EG_OK) return st;
    if (m->cfg.debye && m->n < 3)
        return eg_run_fail(run, EG_ERR_SPEC, "vmfdam: log_normalizer: debye needs N >= 3 (nu = N/2 - 1 > 0); N = %lld",
                           (long long)m->n);
    int64_t n = p->train.n;
    p->n_fit = (int64_t)((double)n * (1.0 - p->val_fraction)); /* Keras: the last fraction validates */
    if (p->n_fit < 1) return eg_run_fail(run, EG_ERR_SPEC, "vmfdam: no training items left after val_fraction");
    if (!p->loaded) {
        double *pq = malloc((size_t)(m->classes + 1) * sizeof *pq);
        if (!pq || class_prior(p, pq) != EG_OK) {
            free(pq);
            return eg_run_fail(run, EG_ERR_NOMEM, "vmfdam: out of memory");
        }
        int64_t P = m->hidden;
        m->hidden = 0;
        st = vmf_alloc(m, m->ctx, m->dtype, m->n, m->classes, P, pq);
        free(pq);
        eg_rng r = eg_run_rng(run, "init");
        if (st == EG_OK) st = vmf_init(m, p->beta0, &r);
        if (st != EG_OK) return eg_run_fail(run, st, "vmfdam: initialising: %s", eg_ctx_message(m->ctx));
    }
    eg_run_log(run, "vmfdam: N = %lld, C = %lld, P = %lld (P_max %lld), %lld fitted + %lld validation items",
               (long long)m->n, (long long)m->classes, (long long)m->hidden, (long long)m->hidden_max,
               (long long)p->n_fit, (long long)(n - p->n_fit));
    if (p->epochs == 0) return EG_OK;
    st = vmf_fit(p, run);
    if (st != EG_OK) return st;
    eg_metric(run, "train/loss", p->last_loss);
    if (n > p->n_fit) eg_metric(run, "train/val_loss", p->last_val_loss);
    eg_metric(run, "train/seconds", p->fit_seconds);
    eg_metric(run, "train/epochs", (double)p->epochs_done);
    eg_metric(run, "train/seconds_per_epoch", p->fit_seconds / (double)(p->epochs_done > 0 ? p->epochs_done : 1));
    return EG_OK;
}

static eg_status vmfdam_eval(void *self, eg_run *run) {
    vmf_plugin *p = self;
    eg_status st = p->cluster_task ? vmf_eval_cluster(p, run) : vmf_eval_classify(p, run);
    if (st != EG_OK) return st;
    eg_metric(run, "model/beta", vmf_beta(&p->m));
    eg_metric(run, "model/hidden", (double)p->m.hidden);
    return vmf_pictures(p, run);
}

static eg_status vmfdam_save(void *self, eg_run *run) {
    vmf_plugin *p = self;
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    eg_status st = eg_save_tensor(run, "w", m->par.w);
    if (st == EG_OK) st = eg_save_tensor(run, "g", m->par.g);
    if (st == EG_OK) st = eg_save_tensor(run, "beta", m->par.beta);
    if (st == EG_OK) st = eg_save_tensor(run, "row_targets", m->par.rows);
    eg_scope *s = eg_scope_open(ctx);
    if (st == EG_OK)
        st = eg_save_tensor(run, "class_prior", eg_from_host(ctx, EG_F64, EG_DIMS(m->classes + 1), m->par.pq));
    eg_scope_close(s);
    return st;
}

static eg_status vmfdam_load(void *self, eg_run *run) {
    vmf_plugin *p = self;
    vmf_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    eg_tensor *w = eg_load_tensor(run, "w", m->dtype), *g = eg_load_tensor(run, "g", m->dtype);
    eg_tensor *b = eg_load_tensor(run, "beta", m->dtype), *rows = eg_load_tensor(run, "row_targets", EG_F64);
    eg_tensor *pq = eg_load_tensor(run, "class_prior", EG_F64);
    eg_status st = w && g && b && rows && pq ? EG_OK : EG_ERR_NOTFOUND;
    if (st == EG_OK && (eg_ndim(w) != 2 || eg_ndim(g) != 2 || eg_dim(g, 0) != eg_dim(w, 0) + 1 ||
                        eg_numel(rows) != eg_dim(g, 0) || eg_numel(pq) != eg_dim(g, 1)))
        st = eg_run_fail(run, EG_ERR_FORMAT, "vmfdam: init_from weights have inconsistent shapes (w, g, row_targets)");
    if (st == EG_OK) {
        double *pqh = malloc((size_t)eg_numel(pq) * sizeof *pqh);
        if (!pqh || eg_to_host_f64(pq, pqh) != EG_OK) st = EG_ERR_NOMEM;
        int64_t P = eg_dim(w, 0);
        m->hidden = 0;
        if (m->hidden_max < P) m->hidden_max = P;
        if (st == EG_OK) st = vmf_alloc(m, ctx, m->dtype, eg_dim(w, 1), eg_dim(g, 1) - 1, P, pqh);
        if (st == EG_OK) st = eg_to_host_f64(rows, m->par.G);
        free(pqh);
        eg_assign(m->par.w, w), eg_assign(m->par.g, g), eg_assign(m->par.beta, b);
        if (st == EG_OK) st = vmf_sync_targets(m);
        p->loaded = st == EG_OK;
    }
    eg_tensor *all[] = {w, g, b, rows, pq};
    for (int i = 0; i < 5; i++)
        if (all[i]) eg_tensor_free(all[i]);
    if (st != EG_OK && st != EG_ERR_NOTFOUND && st != EG_ERR_FORMAT)
        return eg_run_fail(run, st, "vmfdam: loading init_from weights: %s", eg_ctx_message(ctx));
    return st;
}

EG_MODEL_DEFINE(vmfdam,
    .version = "1.0.0",
    .summary = "vMF dense associative memory with a saddle hierarchy: effective loss, SMD + Sinkhorn, splitting growth",
    .params = vmfdam_params,
    .n_params = EG_COUNT(vmfdam_params),
    .tasks = vmfdam_tasks,
    .n_tasks = 2,
    .metrics = vmfdam_metrics,
    .n_metrics = EG_COUNT(vmfdam_metrics),
    .create = vmfdam_create,
    .fit = vmfdam_fit,
    .eval = vmfdam_eval,
    .save = vmfdam_save,
    .load = vmfdam_load,
    .destroy = vmfdam_destroy)
