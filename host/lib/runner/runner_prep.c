/* runner_prep.c — what the runner checks and prepares before any run starts:
 * backend probes (in a child), thread division, run states on disk, stale
 * temporary files, directories. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/strset.h"
#include "runner.h"
#include "runner_slurm.h"
#include "runner_internal.h"

int eg_runner_threads(int jobs) {
    cpu_set_t set;
    int cores = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
    if (cores <= 0) cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores <= 0) cores = 1;
    int slurm = eg_slurm_cpus(); /* a Slurm task gets the cores it asked for, whatever the node has */
    if (slurm > 0 && slurm < cores) cores = slurm;
    int t = cores / (jobs > 0 ? jobs : 1);
    const char *omp = getenv("OMP_NUM_THREADS");
    int cap = omp ? atoi(omp) : 0;
    if (cap > 0 && t > cap) t = cap;
    return t < 1 ? 1 : t;
}

/* child: open the backend, ask available(), report "<avail>\t<name>\t<summary>\t<reason>";
 * with `describe`, an available backend is also started so the summary names its device
 * (GPU model, memory) — `engram list` wants that, a run's preflight does not */
static void probe_child(int fd, const char *name, int describe) {
    char err[1024] = "", msg[2048], described[1024];
    eg_backend *b = NULL;
    const char *try_names[2] = {name, NULL};
    if (strcmp(name, "auto") == 0) try_names[0] = "cuda", try_names[1] = "cpu";
    int avail = -1;
    const char *resolved = name, *summary = "";
    for (int i = 0; i < 2 && try_names[i]; i++) {
        if (eg_backend_open(try_names[i], &b, err, sizeof err) != EG_OK) {
            avail = -1;
            continue;
        }
        resolved = b->desc->name;
        summary = b->desc->summary ? b->desc->summary : "";
        err[0] = 0;
        avail = b->desc->available(err, sizeof err) ? 1 : 0;
        if (avail == 1) break;
    }
    if (avail == 1 && describe) {
        char ignored[512];
        eg_backend_config cfg = {sizeof cfg, 1, 0};
        if (eg_backend_start(b, &cfg, ignored, sizeof ignored) == EG_OK && b->desc->device_name) {
            snprintf(described, sizeof described, "%s; device: %s", summary, b->desc->device_name(b->instance));
            summary = described;
        }
    }
    int n = snprintf(msg, sizeof msg, "%d\t%s\t%s\t%s", avail, resolved, summary, err);
    if (n > 0 && write(fd, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1)) < 0) _exit(1);
    _exit(0);
}

static void copy_field(char **p, char *dst, size_t cap) {
    char *tab = strchr(*p, '\t');
    size_t len = tab ? (size_t)(tab - *p) : strlen(*p);
    if (dst && cap) snprintf(dst, cap, "%.*s", (int)len, *p);
    *p += len + (tab ? 1 : 0);
}

int eg_backend_probe(const char *name, char *resolved, size_t rcap, char *summary, size_t scap, char *reason,
                     size_t cap) {
    int fds[2];
    if (reason && cap) reason[0] = 0;
    if (pipe(fds) != 0) {
        snprintf(reason, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(reason, cap, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        probe_child(fds[1], name, summary && scap > 0);
    }
    close(fds[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 &&
           ((got = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0 || (got < 0 && errno == EINTR)))
        if (got > 0) len += (size_t)got;
    buf[len] = 0;
    close(fds[0]);
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
    }
    if (len == 0) {
        if (WIFSIGNALED(wst))
            snprintf(reason, cap, "backend '%s' crashed while probing (%s)", name, eg_signal_name(WTERMSIG(wst)));
        else
            snprintf(reason, cap, "backend '%s' could not be probed", name);
        return -1;
    }
    char *p = buf;
    int avail = atoi(p);
    copy_field(&p, NULL, 0);
    copy_field(&p, resolved, rcap);
    copy_field(&p, summary, scap);
    copy_field(&p, reason, cap);
    return avail;
}

/* the build id of the model plugin a run config names, "" when it cannot be found; the
 * last answer is kept, since every run of a plan names the same plugin */
static void current_model_build(const eg_cfg *cfg, char id[17]) {
    static char last_model[4096], last_id[17];
    const eg_value *m = eg_cfg_get(cfg, "model");
    char path[4096], err[512];
    id[0] = 0;
    if (!m || m->kind != EG_VAL_STRING || !m->s) return;
    if (!strcmp(m->s, last_model)) {
        memcpy(id, last_id, 17);
        return;
    }
    if (strchr(m->s, '/')) snprintf(path, sizeof path, "%s", m->s);
    else if (eg_plugin_locate("model", m->s, path, sizeof path) != EG_OK) return;
    if (eg_plugin_build_id(path, id, err, sizeof err) != EG_OK) id[0] = 0;
    snprintf(last_model, sizeof last_model, "%s", m->s);
    memcpy(last_id, id, 17);
}

typedef struct state_ctx {
    const eg_run_plan *const *plans;
    char (*states)[32];
} state_ctx;

static int got_state(void *ctx, int i, eg_status st, char **vals) {
    state_ctx *c = ctx;
    char *buf = c->states[i];
    if (st != EG_OK || !vals[0][0]) {
        snprintf(buf, 32, "pending");
        return 0;
    }
    if (vals[2][0]) { /* not the run its name says: computed again, and its file replaced */
        fprintf(stderr, "engram: warning: %s; its run is computed again\n", vals[2]);
        snprintf(buf, 32, "pending");
        return 0;
    }
    snprintf(buf, 32, "%s", vals[0]);
    /* A finished run of another build of its model plugin is stale: its numbers may not be
     * what this build computes. A file without a build id (written before engram recorded
     * them) cannot be checked, so it is stale too. */
    char now[17];
    current_model_build(&c->plans[i]->cfg, now);
    if (now[0] && strcmp(vals[1], now) != 0) snprintf(buf, 32, "stale");
    return 0;
}

void eg_runner_run_states(const char *out_root, const eg_run_plan *const *plans, int n, char (*states)[32]) {
    char **paths = calloc((size_t)n + 1, sizeof *paths);
    int made = 0;
    for (; paths && made < n; made++) {
        char path[4096];
        const eg_value *exp = eg_cfg_get(&plans[made]->cfg, "experiment");
        eg_run_file_path(out_root, exp && exp->s ? exp->s : "default", plans[made]->id, path, sizeof path);
        if (!(paths[made] = strdup(path))) break;
    }
    const char *names[3] = {"status", "model_build_id", EG_RESULTS_IDENTITY};
    /* in chunks, so the memory shared with the reading child stays small for any plan;
     * unreadable (no memory, no child): every run counts as pending and runs */
    enum { CHUNK = 4096 };
    for (int at = 0; at < n; at += CHUNK) {
        int k = n - at < CHUNK ? n - at : CHUNK;
        state_ctx c = {plans + at, states + at};
        if (made < n || eg_results_attrs_many((const char *const *)paths + at, k, 3, names, 512, got_state, &c) != EG_OK)
            for (int i = at; i < at + k; i++)
                snprintf(states[i], 32, "pending");
    }
    for (int i = 0; paths && i < made; i++)
        free(paths[i]);
    free(paths);
}

void eg_runner_run_state(const char *out_root, const eg_run_plan *plan, char *buf, size_t cap) {
    char st[1][32];
    eg_runner_run_states(out_root, &plan, 1, st);
    snprintf(buf, cap, "%s", st[0]);
}

/* Remove <runs_dir>/<id>.h5.tmp-<pid> left by a killed process (pid not alive
 * here) for the ids this invocation owns; other shards' files are not touched. */
void eg_runner_clean_tmp(const char *runs_dir, const eg_run_plan *const *runs, int n) {
    DIR *d = opendir(runs_dir);
    if (!d) return;
    eg_id_set ids = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        /* a snapshot of a run about to start again is stale: the run that wrote it is gone */
        int live = strlen(e->d_name) == 24 && strcmp(e->d_name + 16, ".live.h5") == 0;
        const char *tmp = strstr(e->d_name, ".h5.tmp-");
        if (tmp && tmp - e->d_name == 21 && strncmp(e->d_name + 16, ".live", 5) == 0) tmp -= 5; /* its temp file */
        if (!live && (!tmp || tmp - e->d_name != 16)) continue;
        long pid = live ? 0 : atol(strstr(tmp, ".tmp-") + 5);
        if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) continue;
        if (!ids.cap) /* the ids this invocation owns, as a set: linear in runs and files */
            for (int i = 0; i < n; i++)
                eg_id_set_add(&ids, runs[i]->id);
        char id[17];
        snprintf(id, sizeof id, "%.16s", e->d_name);
        if (!eg_id_set_has(&ids, id)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", runs_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    eg_id_set_free(&ids);
}
