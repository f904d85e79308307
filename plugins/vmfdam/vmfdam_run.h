/* vmfdam_run.h — the vmfdam plugin's run-level state: prepared data, the
 * training schedule (memorisation epochs, early stopping, splitting stages)
 * and evaluation. Private to the plugin. */
#ifndef VMF_VMFDAM_RUN_H
#define VMF_VMFDAM_RUN_H

#include "vmfdam.h"

/* one prepared split: items on the sphere, their soft targets and labels */
typedef struct vmf_items {
    eg_tensor *x; /* [n, N] persistent */
    eg_tensor *t; /* [n, C+1] persistent soft targets, or NULL */
    int32_t *y;   /* [n] host labels, or NULL (unlabelled) */
    int64_t n;
} vmf_items;

typedef struct vmf_plugin {
    vmf_model m;
    /* schedule */
    int64_t epochs, batch, patience, split_epochs, eval_batch;
    double val_fraction, beta0, split_threshold, split_fraction, split_delta;
    int growth_split, center;
    int64_t patch, patch_stride;
    int cluster_task; /* task.kind == cluster */
    /* data */
    vmf_items train; /* rows [0, n_fit) are fitted, [n_fit, n) validate */
    int64_t n_fit;
    int item_c, item_h, item_w; /* geometry of one item, for pictures */
    int loaded;                 /* weights came from init_from */
    /* bookkeeping */
    int64_t epochs_done, memorize_epochs;
    double fit_seconds, last_loss, last_val_loss;
} vmf_plugin;

/* vmfdam_train.c */
/* loads a split (task.<which>_split, limited by task.<which>_limit), puts it on the sphere
 * (patches when p->patch > 0) and uploads it; with_targets: also the targets
 * (1 - softening) onehot + softening/(C+1) (0: hard labels, as the test items get) */
eg_status vmf_prepare(vmf_plugin *p, eg_run *run, const char *which, vmf_items *out, int with_targets,
                      double softening);
void vmf_items_free(vmf_items *it);
eg_status vmf_fit(vmf_plugin *p, eg_run *run);
/* mean loss and accuracy over rows [start, start+count) of it (no gradients) */
eg_status vmf_evaluate_items(vmf_plugin *p, const vmf_items *it, int64_t start, int64_t count, double *loss,
                             double *acc);

/* vmfdam_eval.c */
eg_status vmf_eval_classify(vmf_plugin *p, eg_run *run);
eg_status vmf_eval_cluster(vmf_plugin *p, eg_run *run);
eg_status vmf_pictures(vmf_plugin *p, eg_run *run);

#endif
