/* runner_slot.h — one running child of the runner: launch, progress, outcome. */
#ifndef EG_RUNNER_SLOT_H
#define EG_RUNNER_SLOT_H

#include <sys/types.h>

#include "registry/loader.h"
#include "run/run_internal.h"
#include "runner_internal.h"
#include "spec/spec.h"

typedef struct eg_slot {
    pid_t pid; /* 0 when free */
    const eg_run_plan *plan;
    const eg_model_plugin *model;
    const eg_adaptive *adaptive; /* sweep.adaptive for the child, NULL = none */
    int prog_fd; /* read end of the progress pipe, -1 after EOF */
    int log_fd;  /* the child's stdout+stderr (an unlinked temporary file) */
    char line[256];
    size_t line_len;
    double start_mono, start_wall, timeout_s, deadline;
    double term_at; /* when the deadline SIGTERM went out, 0 before */
    int timed_out;  /* SIGTERM sent because of the deadline */
    int killed;     /* SIGKILL sent */
    char gpus[128]; /* the child's CUDA_VISIBLE_DEVICES (--gpus-per-run), "" = inherited */
} eg_slot;

/* fork the child of plan into slots[i]; 0 or -1 (message on stderr) */
int eg_slot_launch(eg_slot *slots, int n_slots, int i, const eg_run_plan *plan, const eg_model_plugin *model,
                   const char *out_root, int threads, double timeout_s, const eg_adaptive *adaptive);
/* --gpus-per-run g: slot i's gpus = the i-th g devices of CUDA_VISIBLE_DEVICES (or of 0, 1, ...);
 * -1 (message printed) when it lists fewer than n_slots x g */
int eg_runner_split_gpus(eg_slot *slots, int n_slots, int g);
/* read the progress lines waiting on the slot's pipe */
void eg_slot_drain(eg_slot *sl, eg_display *d, int i);
/* the child exited with wait status wst: decide its status (written to status), write the
 * run file when the child could not, report it, free the slot. stopping: 0 no, 1 the sweep is stopping
 * (fail-fast, interrupted), 3 stopping at the Slurm job's time limit (a stopped run is a timeout) */
void eg_slot_finish(eg_slot *sl, int wst, const char *out_root, int stopping, eg_display *d, int i, char *status,
                    size_t cap);

#endif
