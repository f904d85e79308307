/* runner_slurm.c — SLURM_CPUS_PER_TASK, and the requeue of a stopped array task. */
#define _GNU_SOURCE
#include "runner_slurm.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/proc.h"

int eg_slurm_cpus(void) {
    const char *e = getenv("SLURM_CPUS_PER_TASK");
    int n = e ? atoi(e) : 0;
    return n > 0 ? n : 0;
}

/* the value of "Key=" in `scontrol show job -o` output (one line of Key=Value words) */
static void job_field(const char *text, const char *key, char *out, size_t cap) {
    out[0] = 0;
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p += kl) {
        if ((p != text && p[-1] != ' ' && p[-1] != '\n') || p[kl] != '=') continue;
        p += kl + 1;
        size_t n = strcspn(p, " \n");
        if (n >= cap) n = cap - 1;
        memcpy(out, p, n);
        out[n] = 0;
        return;
    }
}

int eg_slurm_at_time_limit(void) {
    const char *flag = getenv("ENGRAM_SLURM_REQUEUE"), *job = getenv("SLURM_JOB_ID");
    if (!flag || strcmp(flag, "1") != 0 || !job || !job[0]) return 0;
    char out[16384], state[64], end[64];
    const char *show[] = {"scontrol", "show", "job", "-o", job, NULL};
    if (eg_proc_capture(show, 10, out, sizeof out, NULL, 0) != 0) return 0;
    job_field(out, "JobState", state, sizeof state);
    job_field(out, "EndTime", end, sizeof end);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (strcmp(state, "RUNNING") != 0 || !strptime(end, "%Y-%m-%dT%H:%M:%S", &tm)) return 0; /* "Unknown": no limit */
    tm.tm_isdst = -1;
    double left = difftime(mktime(&tm), time(NULL)); /* scontrol prints the controller's local time */
    return left <= 300;
}

int eg_slurm_requeue_after(int sig) {
    const char *flag = getenv("ENGRAM_SLURM_REQUEUE"), *job = getenv("SLURM_JOB_ID");
    if (sig != SIGTERM || !flag || strcmp(flag, "1") != 0 || !job || !job[0]) return 0;
    const char *arr = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    char name[128]; /* the array task as Slurm names it (12_3), else the job */
    if (arr && task && arr[0] && task[0])
        snprintf(name, sizeof name, "%s_%s", arr, task);
    else
        snprintf(name, sizeof name, "%s", job);
    const char *mx = getenv("ENGRAM_SLURM_MAX_REQUEUE"), *rc = getenv("SLURM_RESTART_COUNT");
    int max = mx && *mx ? atoi(mx) : 3, restarts = rc ? atoi(rc) : 0;
    if (restarts >= max) {
        fprintf(stderr,
                "engram: Slurm task %s was stopped and has been requeued %d time%s already (the most, "
                "ENGRAM_SLURM_MAX_REQUEUE=%d): not requeued; `engram submit` again runs what is left\n",
                name, restarts, restarts == 1 ? "" : "s", max);
        return 0;
    }
    char out[16384], err[1024], state[64];
    const char *show[] = {"scontrol", "show", "job", "-o", job, NULL};
    int st = eg_proc_capture(show, 20, out, sizeof out, err, sizeof err);
    if (st != 0) {
        fprintf(stderr, "engram: Slurm task %s: `scontrol show job %s` failed (%s): not requeued\n", name, job,
                st == -1 ? "scontrol not found" : err[0] ? err : "no reason given");
        return 0;
    }
    job_field(out, "JobState", state, sizeof state);
    if (strcmp(state, "RUNNING") != 0) { /* COMPLETING / CANCELLED: scancel; PREEMPTED: Slurm requeues it */
        fprintf(stderr, "engram: Slurm task %s stopped in state %s: not requeued by engram\n", name,
                state[0] ? state : "unknown");
        return 0;
    }
    const char *rq[] = {"scontrol", "requeue", name, NULL};
    st = eg_proc_capture(rq, 20, out, sizeof out, err, sizeof err);
    if (st != 0) {
        fprintf(stderr, "engram: Slurm task %s: `scontrol requeue %s` failed: %s\n", name, name,
                err[0] ? err : "no reason given");
        return 0;
    }
    fprintf(stderr,
            "engram: Slurm task %s requeued (restart %d of at most %d): its finished runs are kept, the "
            "interrupted ones run again\n",
            name, restarts + 1, max);
    return 1;
}
