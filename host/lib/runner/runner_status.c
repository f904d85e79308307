/* runner_status.c — `engram status`: where a sweep stands across all its shards and
 * submissions. The sweep is the union of the runs the spec plans (when one is given), the
 * run ids of every DIR/slurm/<submission>/runs.txt and the run files in DIR/runs; each is
 * done (ok, pruned), failed (failed, diverged, timeout), running (a live snapshot
 * <id>.live.h5 and no final file) or pending. The Slurm jobs of the submissions are asked
 * of squeue. The ETA is the mean wall time of the done runs times the runs left, divided by
 * the runs running now (1 when none is). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/strset.h"
#include "results/results.h"
#include "runner_internal.h"

typedef struct ids {
    char (*id)[17];
    int n, cap;
    eg_id_set seen;
} ids;

static int add_id(ids *s, const char *id) {
    int added = eg_id_set_add(&s->seen, id);
    if (added <= 0) return added; /* already listed, or out of memory */
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 256;
        void *q = realloc(s->id, (size_t)nc * sizeof *s->id);
        if (!q) return -1;
        s->id = q;
        s->cap = nc;
    }
    snprintf(s->id[s->n++], 17, "%s", id);
    return 0;
}

static int is_id(const char *s, size_t n) {
    if (n != 16) return 0;
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f'))) return 0;
    return 1;
}

typedef struct job {
    char sub[256], id[32], collect_id[32];
    int running, pending, other; /* array tasks as squeue lists them */
    char other_state[32];
} job;

static void read_line(const char *path, char *buf, size_t cap) {
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(buf, (int)cap, f)) buf[strcspn(buf, " \r\n")] = 0;
    fclose(f);
}

/* the submissions of exp_dir/slurm: their run lists into s, their job ids into *jobs */
static int read_submissions(const char *exp_dir, ids *s, job **jobs, int *n_jobs) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/slurm", exp_dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int rc = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[4600], line[256];
        snprintf(path, sizeof path, "%s/%s/runs.txt", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            size_t n = strcspn(line, " \t\r\n#");
            line[n] = 0;
            if (is_id(line, n) && add_id(s, line) != 0) rc = -1;
        }
        fclose(f);
        if (*n_jobs == cap) {
            cap = cap ? cap * 2 : 8;
            void *q = realloc(*jobs, (size_t)cap * sizeof **jobs);
            if (!q) {
                rc = -1;
                break;
            }
            *jobs = q;
        }
        job *j = &(*jobs)[(*n_jobs)++];
        memset(j, 0, sizeof *j);
        snprintf(j->sub, sizeof j->sub, "%s", e->d_name);
        snprintf(path, sizeof path, "%s/%s/job_id", dir, e->d_name);
        read_line(path, j->id, sizeof j->id);
        snprintf(path, sizeof path, "%s/%s/collect_job_id", dir, e->d_name);
        read_line(path, j->collect_id, sizeof j->collect_id);
    }
    closedir(d);
    return rc;
}

/* squeue's view of the job's array tasks; 0, or -1 when squeue is missing or failed */
static int ask_squeue(job *j) {
    if (!j->id[0]) return -1;
    char out[65536], err[1024];
    const char *argv[] = {"squeue", "-h", "-r", "-j", j->id, "-o", "%T", NULL};
    if (eg_proc_capture(argv, 20, out, sizeof out, err, sizeof err) != 0) return -1;
    for (char *save = NULL, *w = strtok_r(out, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
        if (!strcmp(w, "RUNNING") || !strcmp(w, "COMPLETING"))
            j->running++;
        else if (!strcmp(w, "PENDING") || !strcmp(w, "REQUEUED"))
            j->pending++;
        else {
            j->other++;
            snprintf(j->other_state, sizeof j->other_state, "%s", w);
        }
    }
    return 0;
}

typedef struct tally {
    int done, failed, running, pending;
    double wall_sum;
    int n_wall;
} tally;

/* "2026-12-07T02:34:36Z" as seconds since the epoch, 0 when it is not one */
static double iso_seconds(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    return end ? (double)timegm(&tm) : 0;
}

static int got_attrs(void *ctx, int i, eg_status st, char **v) {
    (void)i;
    tally *t = ctx;
    if (st != EG_OK) { /* unreadable: counted as failed (engram verify says why) */
        t->failed++;
        return 0;
    }
    const char *status = v[0] ? v[0] : "";
    if (!strcmp(status, "ok") || !strcmp(status, "pruned")) {
        t->done++;
        double a = iso_seconds(v[1]), b = iso_seconds(v[2]);
        if (a > 0 && b >= a) {
            t->wall_sum += b - a;
            t->n_wall++;
        }
    } else
        t->failed++;
    return 0;
}

static void eta_text(double s, char *buf, size_t cap) {
    if (s < 90)
        snprintf(buf, cap, "%.0f s", s);
    else if (s < 5400)
        snprintf(buf, cap, "%.0f min", s / 60);
    else
        snprintf(buf, cap, "%.1f h", s / 3600);
}

int eg_runner_status(const char *exp_dir, const eg_spec *spec, int json, FILE *out) {
    ids s = {0};
    job *jobs = NULL;
    int n_jobs = 0, rc = 0;
    char **paths = NULL;
    for (int i = 0; spec && i < spec->n_runs; i++)
        if (add_id(&s, spec->runs[i].id) != 0) rc = -1;
    if (read_submissions(exp_dir, &s, &jobs, &n_jobs) != 0) rc = -1;
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    DIR *d = opendir(runs);
    eg_id_set live = {0};
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t stem = 0;
        eg_runfile_kind k = eg_results_file_kind(e->d_name, &stem);
        if (k == EG_RUNFILE_NONE || !is_id(e->d_name, stem)) continue;
        char id[17];
        memcpy(id, e->d_name, 16);
        id[16] = 0;
        if (add_id(&s, id) != 0) rc = -1;
        if (k == EG_RUNFILE_LIVE) eg_id_set_add(&live, id);
    }
    if (d) closedir(d);
    tally t = {0};
    paths = calloc((size_t)s.n + 1, sizeof *paths);
    int n_paths = 0;
    if (!paths) rc = -1;
    for (int i = 0; paths && i < s.n; i++) {
        char p[4300];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s.h5", runs, s.id[i]);
        if (stat(p, &st) == 0) {
            if (!(paths[n_paths] = strdup(p))) rc = -1;
            else n_paths++;
        } else if (eg_id_set_has(&live, s.id[i]))
            t.running++;
        else
            t.pending++;
    }
    if (rc != 0) {
        fprintf(stderr, "engram status: out of memory reading %s\n", exp_dir);
        goto done;
    }
    const char *names[] = {"status", "start_time", "end_time"}; /* string attributes only */
    eg_results_attrs_many((const char *const *)paths, n_paths, 3, names, 64, got_attrs, &t);
    int squeue_ok = 0;
    for (int k = 0; k < n_jobs; k++)
        squeue_ok |= ask_squeue(&jobs[k]) == 0;
    double mean = t.n_wall ? t.wall_sum / t.n_wall : 0;
    int left = t.pending + t.running;
    double eta = mean > 0 ? mean * left / (t.running > 0 ? t.running : 1) : -1;
    struct stat sst;
    char sp[4300];
    snprintf(sp, sizeof sp, "%s/summary.h5", exp_dir);
    int have_summary = stat(sp, &sst) == 0;
    if (json) {
        fprintf(out,
                "{\"dir\": \"%s\", \"runs\": %d, \"done\": %d, \"running\": %d, \"pending\": %d, \"failed\": %d, "
                "\"mean_wall_s\": %.3f, \"eta_s\": %.1f, \"summary\": %s, \"jobs\": [",
                exp_dir, s.n, t.done, t.running, t.pending, t.failed, mean, eta, have_summary ? "true" : "false");
        for (int k = 0; k < n_jobs; k++)
            fprintf(out, "%s{\"submission\": \"%s\", \"job\": \"%s\", \"collect_job\": \"%s\", \"tasks_running\": %d, "
                         "\"tasks_pending\": %d, \"tasks_other\": %d}",
                    k ? ", " : "", jobs[k].sub, jobs[k].id, jobs[k].collect_id, jobs[k].running, jobs[k].pending,
                    jobs[k].other);
        fprintf(out, "]}\n");
        goto done;
    }
    fprintf(out, "%s: %d run%s: %d done, %d running, %d pending, %d failed\n", exp_dir, s.n, s.n == 1 ? "" : "s",
            t.done, t.running, t.pending, t.failed);
    if (left && eta >= 0) {
        char e[32];
        eta_text(eta, e, sizeof e);
        fprintf(out, "  ETA about %s (mean %.1f s a run, %d running)\n", e, mean, t.running);
    }
    for (int k = 0; k < n_jobs; k++) {
        const job *j = &jobs[k];
        fprintf(out, "  submission %s: job %s", j->sub, j->id[0] ? j->id : "(not submitted)");
        if (!squeue_ok)
            fprintf(out, " (squeue not available)");
        else if (j->running + j->pending + j->other == 0)
            fprintf(out, ": no task queued or running (ended)");
        else
            fprintf(out, ": %d task%s running, %d pending%s%s", j->running, j->running == 1 ? "" : "s", j->pending,
                    j->other ? ", other: " : "", j->other ? j->other_state : "");
        if (j->collect_id[0]) fprintf(out, "; summary job %s", j->collect_id);
        fputc('\n', out);
    }
    if (t.failed) fprintf(out, "  failed runs run again with `engram run` or a second `engram submit`\n");
    if (!have_summary && t.done) fprintf(out, "  no summary.h5 yet: `engram collect %s` builds it\n", exp_dir);
done:
    for (int i = 0; paths && i < n_paths; i++)
        free(paths[i]);
    free(paths);
    free(s.id);
    eg_id_set_free(&s.seen);
    eg_id_set_free(&live);
    free(jobs);
    return rc;
}
