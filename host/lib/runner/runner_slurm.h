/* runner_slurm.h — what `engram run` does differently inside a Slurm job: the cores
 * the job gave it (SLURM_CPUS_PER_TASK), and asking Slurm to requeue an array task that
 * was told to stop (the time limit's warning signal, preemption, `scancel --signal=TERM
 * --batch`) but not one the user cancelled. docs/cluster.md. */
#ifndef EG_RUNNER_SLURM_H
#define EG_RUNNER_SLURM_H

/* SLURM_CPUS_PER_TASK when set and positive, else 0 */
int eg_slurm_cpus(void);

/* 1 when this process runs in a Slurm job (ENGRAM_SLURM_REQUEUE=1, SLURM_JOB_ID) that is RUNNING
 * and whose EndTime (scontrol show job) is at most 300 s away: a SIGTERM now is the time
 * limit's warning signal, and the runs it stops are recorded as timeout */
int eg_slurm_at_time_limit(void);

/* After a sweep stopped by signal sig: when ENGRAM_SLURM_REQUEUE=1 (the batch script of
 * `engram submit` sets it), SLURM_JOB_ID is set and the signal was SIGTERM, asks
 * `scontrol show job` for the job's state; a job still RUNNING (not cancelled by the
 * user: that one is COMPLETING or CANCELLED) is requeued with `scontrol requeue`, at most
 * ENGRAM_SLURM_MAX_REQUEUE times (default 3, counted by SLURM_RESTART_COUNT). What it
 * decided goes to stderr. Returns 1 when the task was requeued. */
int eg_slurm_requeue_after(int sig);
#endif
