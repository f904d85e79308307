/* run_adaptive.h — adaptive search inside a run (sweep.adaptive: ASHA). When the run's
 * series `metric` first reaches a step >= a rung, its value there is written to
 * <exp>/adaptive/<metric>/rung-<r>/<run id> (temp file + rename) and compared with the
 * values other runs wrote there; below the rung's cutoff the run is pruned: from then
 * on eg_run_check says EG_ERR_CANCELLED and the run file gets status `pruned`. No
 * server: runs of one experiment on several machines (shards on a shared file system)
 * decide from the same files. */
#ifndef EG_RUN_ADAPTIVE_H
#define EG_RUN_ADAPTIVE_H

#include <stdint.h>

#include "results/results.h"
#include "spec/spec_adaptive.h"

typedef struct eg_run_asha {
    const eg_adaptive *cfg; /* NULL (or cfg->on == 0): no adaptive search */
    char dir[4096];         /* <out_root>/<experiment>/adaptive/<metric> */
    char id[17];
    int next;     /* the next rung to reach */
    int seen;     /* the metric was logged at least once */
    int io_warned;
    int pruned;   /* 1 once a rung pruned the run */
    double rung, value, cutoff; /* the pruning decision */
    int64_t step;
    int peers;
} eg_run_asha;

/* Before the run starts: remember the settings and remove this run's own values of an
 * earlier attempt (a run computed again records, and decides, afresh). */
void eg_run_asha_init(eg_run_asha *a, const eg_adaptive *cfg, const char *out_root, const char *experiment,
                      const char *run_id);
/* A point of series `name` was logged: record and decide the rungs it reaches. What the
 * run's log should say goes to msg (lines; "" for nothing). 1 when the run is now pruned. */
int eg_run_asha_point(eg_run_asha *a, const char *name, int64_t step, double value, char *msg, size_t cap);
/* 1 with a warning in buf when the search is on and the run never logged the metric */
int eg_run_asha_unseen(const eg_run_asha *a, char *buf, size_t cap);
/* the pruning decision as root attributes of the run file: pruned (the reason),
 * pruned_rung, pruned_step, pruned_value, pruned_cutoff, pruned_peers; nothing unless pruned */
void eg_run_asha_attrs(const eg_run_asha *a, eg_record *rec);
/* "at epoch 15: train/val_accuracy 0.61 < cutoff 0.72 (...)" of a pruned run */
void eg_run_asha_reason(const eg_run_asha *a, char *buf, size_t cap);

/* The cutoff of a rung from the values of its other runs (NaN when it prunes nothing:
 * fewer than min_peers values): goal max, the (1 - 1/eta) quantile; goal min, the 1/eta
 * quantile; linear interpolation between order statistics (numpy.quantile's default).
 * Sorts vals in place. */
double eg_asha_cutoff(double *vals, int n, double eta, int goal_max, int min_peers);

#endif
