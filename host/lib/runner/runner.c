/* runner.c — `engram run`: validate, skip finished runs, execute the rest in
 * child processes (-j N at a time), then collect. Children are watched with
 * poll() on their progress pipes and waitpid(WNOHANG); the parent writes the
 * run file itself for children that crash or are killed after a timeout. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/strset.h"
#include "runner.h"
#include "runner_lock.h"
#include "runner_internal.h"
#include "runner_slot.h"
#include "runner_slurm.h"

static volatile sig_atomic_t g_signal, g_signal_count;

static void on_parent_signal(int sig) {
    g_signal = sig;
    g_signal_count++;
}

static void install_parent_signals(struct sigaction *old_int, struct sigaction *old_term) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
    signal(SIGPIPE, SIG_IGN);
}

/* seconds between a child's SIGTERM and its SIGKILL (ENGRAM_KILL_GRACE overrides, for tests) */
static double kill_grace(void) {
    const char *e = getenv("ENGRAM_KILL_GRACE");
    double g = e ? atof(e) : 0;
    return g > 0 ? g : 10.0;
}

static double run_timeout(const eg_run_plan *p, const eg_runner_opts *o) {
    if (o->timeout_s > 0) return o->timeout_s;
    const eg_value *v = eg_cfg_get(&p->cfg, "timeout");
    if (v && (v->kind == EG_VAL_INT || v->kind == EG_VAL_FLOAT)) return v->kind == EG_VAL_INT ? (double)v->i : v->f;
    return 0;
}

static const char *cfg_s(const eg_cfg *c, const char *key, const char *dflt) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind == EG_VAL_STRING && v->s ? v->s : dflt;
}

/* ---- the run loop ---- */

typedef struct sweep {
    const eg_runner_opts *o;
    const char *exp_dir;
    eg_run_plan **todo;
    const eg_model_plugin **models;
    int n_todo, next;
    eg_slot *slots;
    int n_slots, active;
    int threads;
    int stopping; /* 1 fail-fast, 2 interrupted, 3 a child could not be started */
    int time_limit; /* the interrupt is the Slurm job's time limit: stopped runs are recorded as timeout */
    double stop_at;
    int n_ok, n_failed, n_diverged, n_timeout, n_interrupted, n_pruned;
    eg_adaptive adaptive; /* sweep.adaptive, handed to every run */
    eg_display *disp;
    eg_run_locks locks;
    struct timespec scanned; /* when the runs' states were read */
} sweep;

/* This process may compute todo[s->next]: it holds the run's lock, and no other process
 * finished the run since its state was read. Otherwise the run is left alone. */
static int claim_next(sweep *s) {
    const eg_run_plan *p = s->todo[s->next];
    pid_t holder = 0;
    if (!eg_run_locks_claim(&s->locks, p->id, &holder)) {
        eg_display_left(s->disp, p->id, (long)holder, 0);
        return 0;
    }
    char path[4096];
    struct stat st;
    eg_run_file_path(s->o->out_root, cfg_s(&p->cfg, "experiment", "default"), p->id, path, sizeof path);
    if (stat(path, &st) == 0 && (st.st_mtim.tv_sec > s->scanned.tv_sec ||
                                 (st.st_mtim.tv_sec == s->scanned.tv_sec && st.st_mtim.tv_nsec >= s->scanned.tv_nsec))) {
        eg_run_locks_release(&s->locks, p->id);
        eg_display_left(s->disp, p->id, 0, 1);
        return 0;
    }
    return 1;
}

static void count(sweep *s, const char *status) {
    if (strcmp(status, "ok") == 0)
        s->n_ok++;
    else if (strcmp(status, "pruned") == 0) /* an outcome of the search, not a failure */
        s->n_pruned++;
    else if (strcmp(status, "diverged") == 0)
        s->n_diverged++;
    else if (strcmp(status, "timeout") == 0)
        s->n_timeout++;
    else if (strcmp(status, "interrupted") == 0)
        s->n_interrupted++;
    else
        s->n_failed++;
    if (strcmp(status, "ok") != 0 && strcmp(status, "interrupted") != 0 && strcmp(status, "pruned") != 0 &&
        s->o->fail_fast && !s->stopping) {
        s->stopping = 1;
        s->stop_at = eg_monotonic();
        eg_display_note(s->disp, "--fail-fast: stopping the sweep");
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].pid > 0) kill(s->slots[i].pid, SIGTERM);
    }
}

static void run_in_process(sweep *s) {
    eg_run_install_signals();
    for (; s->next < s->n_todo && !s->stopping && !eg_run_cancel_requested(); s->next++) {
        if (!claim_next(s)) continue;
        const eg_run_plan *p = s->todo[s->next];
        double t = run_timeout(p, s->o), t0 = eg_monotonic();
        eg_run_opts ro = {s->o->out_root, s->models[s->next], s->threads, t > 0 ? t0 + t : 0, -1, 1, -1,
                          s->adaptive.on ? &s->adaptive : NULL};
        eg_display_start(s->disp, 0, p->id);
        int code = eg_run_execute(p, &ro);
        const char *status = code == EG_RUN_EXIT_OK            ? "ok"
                             : code == EG_RUN_EXIT_DIVERGED    ? "diverged"
                             : code == EG_RUN_EXIT_TIMEOUT     ? "timeout"
                             : code == EG_RUN_EXIT_PRUNED      ? "pruned"
                             : code == EG_RUN_EXIT_INTERRUPTED ? "interrupted"
                                                               : "failed";
        char path[4096];
        eg_run_file_path(s->o->out_root, cfg_s(&p->cfg, "experiment", "default"), p->id, path, sizeof path);
        eg_display_finish(s->disp, 0, p->id, status, eg_monotonic() - t0,
                          code == EG_RUN_EXIT_PRUNED ? "" : code ? "see the output above" : "", path);
        eg_run_locks_release(&s->locks, p->id);
        if (code == EG_RUN_EXIT_INTERRUPTED) s->stopping = 2;
        count(s, status);
    }
    if (eg_run_cancel_requested()) s->stopping = 2;
}

static void watch_signals(sweep *s) {
    if (!g_signal) return;
    double now = eg_monotonic();
    if (s->stopping != 2) {
        s->stopping = 2;
        s->stop_at = now;
        s->time_limit = g_signal == SIGTERM && eg_slurm_at_time_limit();
        if (s->time_limit) eg_display_note(s->disp, "the Slurm job's time limit is near: stopped runs are recorded as timeout");
        eg_display_note(s->disp, "interrupted (%s): stopping %d running run%s", eg_signal_name(g_signal), s->active,
                        s->active == 1 ? "" : "s");
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].pid > 0) kill(s->slots[i].pid, SIGTERM);
    }
    if (g_signal_count >= 2 || now - s->stop_at > kill_grace())
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].pid > 0 && !s->slots[i].killed) {
                kill(s->slots[i].pid, SIGKILL);
                s->slots[i].killed = 1;
            }
}

static void watch_deadlines(sweep *s) {
    double now = eg_monotonic(), grace = kill_grace();
    for (int i = 0; i < s->n_slots; i++) {
        eg_slot *sl = &s->slots[i];
        if (sl->pid <= 0) continue;
        /* the child sees its deadline itself; SIGTERM a second later, SIGKILL after the grace */
        if (sl->deadline > 0 && !sl->term_at && now >= sl->deadline + 1.0) {
            kill(sl->pid, SIGTERM);
            sl->term_at = now;
            sl->timed_out = 1;
        }
        if (sl->term_at && !sl->killed && now >= sl->term_at + grace) {
            kill(sl->pid, SIGKILL);
            sl->killed = 1;
        }
        if (s->stopping == 1 && !sl->killed && now - s->stop_at > grace) {
            kill(sl->pid, SIGKILL);
            sl->killed = 1;
        }
    }
}

static void reap(sweep *s) {
    int wst;
    pid_t pid;
    while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
        for (int i = 0; i < s->n_slots; i++) {
            eg_slot *sl = &s->slots[i];
            if (sl->pid != pid) continue;
            eg_slot_drain(sl, s->disp, i);
            /* A signal to the whole job (scancel, a terminal's Ctrl-C) can reach the child before this
             * process: a child stopped by SIGTERM/SIGINT waits half a second for ours before it counts
             * as a failure of its own. */
            int sig_child = (WIFEXITED(wst) && WEXITSTATUS(wst) == EG_RUN_EXIT_INTERRUPTED) ||
                            (WIFSIGNALED(wst) && (WTERMSIG(wst) == SIGTERM || WTERMSIG(wst) == SIGINT));
            for (int k = 0; sig_child && !s->stopping && !g_signal && !sl->timed_out && k < 50; k++)
                usleep(10000);
            char status[32];
            int stopping = s->time_limit ? 3 : s->stopping == 1 || s->stopping == 2 || g_signal;
            eg_slot_finish(sl, wst, s->o->out_root, stopping, s->disp, i, status, sizeof status);
            eg_run_locks_release(&s->locks, sl->plan->id);
            count(s, status);
            s->active--;
            break;
        }
    }
}

static void run_forked(sweep *s) {
    struct pollfd *pfd = calloc((size_t)s->n_slots, sizeof *pfd);
    int *idx = calloc((size_t)s->n_slots, sizeof *idx);
    if (!pfd || !idx) {
        fprintf(stderr, "engram: out of memory starting the runs\n");
        s->stopping = 3;
        s->n_failed++;
        free(pfd);
        free(idx);
        return;
    }
    while (1) {
        watch_signals(s);
        while (!s->stopping && s->active < s->n_slots && s->next < s->n_todo) {
            int free_slot = 0;
            while (s->slots[free_slot].pid > 0)
                free_slot++;
            if (!claim_next(s)) {
                s->next++;
                continue;
            }
            const eg_run_plan *p = s->todo[s->next];
            double t = run_timeout(p, s->o);
            if (eg_slot_launch(s->slots, s->n_slots, free_slot, p, s->models[s->next], s->o->out_root, s->threads, t,
                               s->adaptive.on ? &s->adaptive : NULL) != 0) {
                eg_run_locks_release(&s->locks, p->id);
                s->stopping = 3; /* cannot start more children: let the running ones finish */
                s->n_failed++;
                break;
            }
            eg_display_start(s->disp, free_slot, p->id);
            s->next++;
            s->active++;
        }
        if (s->active == 0) break;
        int n = 0;
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].pid > 0 && s->slots[i].prog_fd >= 0) {
                pfd[n] = (struct pollfd){s->slots[i].prog_fd, POLLIN, 0};
                idx[n++] = i;
            }
        if (poll(pfd, (nfds_t)n, 100) > 0)
            for (int k = 0; k < n; k++)
                if (pfd[k].revents) eg_slot_drain(&s->slots[idx[k]], s->disp, idx[k]);
        if (n == 0) usleep(20000);
        reap(s);
        watch_deadlines(s);
        eg_display_draw(s->disp, 0);
    }
    free(pfd);
    free(idx);
}

int eg_runner_run(const eg_spec *spec, const eg_runner_opts *o) {
    int n_mine = 0, skipped = 0, code = EG_EXIT_OK, n_stale = 0, n_kept_stale = 0;
    /* everything the sweep holds, released once at `done` */
    eg_model_cache mc = {0};
    sweep s = {0};
    s.locks.fd = -1;
    struct sigaction old_int, old_term;
    int signals_installed = 0;
    eg_run_plan **mine = calloc((size_t)spec->n_runs + 1, sizeof *mine);
    const eg_model_plugin **models = calloc((size_t)spec->n_runs + 1, sizeof *models);
    if (!mine || !models) {
        fprintf(stderr, "engram: out of memory planning %d runs\n", spec->n_runs);
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }
    if (o->runs_file) {
        if (eg_runner_select_listed(spec, o->runs_file, o->shard_i, o->shard_n, mine, &n_mine) != 0) {
            code = EG_EXIT_USAGE;
            goto done;
        }
    } else
        for (int i = 0; i < spec->n_runs; i++)
            if (o->shard_n <= 1 || spec->runs[i].index % o->shard_n == o->shard_i) mine[n_mine++] = &spec->runs[i];
    eg_runner_set_provenance(spec->path, o->command_line, (const char *const *)spec->overrides, spec->n_overrides);
    if (eg_spec_adaptive(spec, &s.adaptive) != EG_OK) {
        fprintf(stderr, "engram: %s: sweep.adaptive could not be read back (a bug in engram)\n", spec->path);
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }
    if (eg_runner_preflight(spec, o, mine, n_mine, &mc, models) != 0) {
        code = EG_EXIT_USAGE;
        goto done;
    }
    char exp_dir[4096], runs_dir[4200], err[4096];
    snprintf(exp_dir, sizeof exp_dir, "%s/%s", o->out_root, spec->experiment);
    if (!o->mix_specs && eg_runner_spec_clash(exp_dir, spec->path, err, sizeof err)) {
        fprintf(stderr,
                "engram: %s: experiment '%s' in %s already holds runs of another spec, %s; its runs and this "
                "spec's would be mixed. Name this one differently (experiment: in the spec, or experiment=NAME), "
                "use another --out, or pass --mix-specs to add its runs to that directory anyway\n",
                spec->path, spec->experiment, exp_dir, err);
        code = EG_EXIT_USAGE;
        goto done;
    }
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", exp_dir);
    if (eg_mkdirs(runs_dir, err, sizeof err) != 0) {
        fprintf(stderr, "engram: %s\n", err);
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }
    eg_runner_clean_tmp(runs_dir, (const eg_run_plan *const *)mine, n_mine);

    s.o = o;
    s.exp_dir = exp_dir;
    s.todo = calloc((size_t)n_mine + 1, sizeof *s.todo);
    s.models = calloc((size_t)n_mine + 1, sizeof *s.models);
    if (!s.todo || !s.models) {
        fprintf(stderr, "engram: out of memory planning %d runs\n", n_mine);
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }
    const unsigned rerun = o->force ? EG_RERUN_ALL : o->rerun ? o->rerun : EG_RERUN_STALE | EG_RERUN_FAILED;
    clock_gettime(CLOCK_REALTIME, &s.scanned);
    eg_run_locks_open(&s.locks, exp_dir);
    char(*states)[32] = calloc((size_t)n_mine + 1, sizeof *states);
    if (states) eg_runner_run_states(o->out_root, (const eg_run_plan *const *)mine, n_mine, states);
    eg_id_set seen = {0};
    for (int i = 0; i < n_mine; i++) { /* resume: which finished runs run again is --rerun's choice */
        char st[32];
        snprintf(st, sizeof st, "%s", states ? states[i] : "pending");
        int dup = eg_id_set_add(&seen, mine[i]->id) == 0; /* the same config twice in a plan is one run */
        /* pruned is finished like ok: the search decided it, so only --force (all) repeats it */
        int is_stale = strcmp(st, "stale") == 0, pending = strcmp(st, "pending") == 0;
        int is_pruned = strcmp(st, "pruned") == 0;
        int is_ok = strcmp(st, "ok") == 0 || is_pruned;
        int again = pending || (is_ok && rerun == EG_RERUN_ALL) || (is_stale && (rerun & EG_RERUN_STALE)) ||
                    (is_pruned && (rerun & EG_RERUN_PRUNED)) || (!is_ok && !is_stale && (rerun & EG_RERUN_FAILED));
        n_stale += is_stale && again;
        n_kept_stale += is_stale && !again;
        if (!again)
            skipped++;
        else if (!dup) {
            s.models[s.n_todo] = models[i];
            s.todo[s.n_todo++] = mine[i];
        }
    }
    free(states);
    eg_id_set_free(&seen);
    if (n_stale)
        fprintf(stderr,
                "engram: %d finished run%s of another build of the model plugin (stale): run%s again; each old "
                "file stays until its new one is written\n",
                n_stale, n_stale == 1 ? "" : "s", n_stale == 1 ? "s" : "");
    if (n_kept_stale)
        fprintf(stderr,
                "engram: %d finished run%s of another build of the model plugin (stale) kept, as --rerun says; "
                "`engram plan` lists them\n",
                n_kept_stale, n_kept_stale == 1 ? "" : "s");
    s.n_slots = o->no_fork ? 1 : (o->jobs > 0 ? o->jobs : 1);
    if (s.n_slots > s.n_todo && s.n_todo > 0) s.n_slots = s.n_todo;
    /* threads from the requested -j, not from the runs left, so a resumed sweep uses the same count */
    s.threads = eg_runner_threads(o->no_fork ? 1 : o->jobs);
    s.slots = calloc((size_t)(s.n_slots > 0 ? s.n_slots : 1), sizeof *s.slots);
    if (!s.slots) {
        fprintf(stderr, "engram: out of memory starting %d run slots\n", s.n_slots);
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }
    for (int i = 0; i < s.n_slots; i++)
        s.slots[i].prog_fd = s.slots[i].log_fd = -1;
    if (o->gpus_per_run > 0 && eg_runner_split_gpus(s.slots, s.n_slots, o->gpus_per_run) != 0) {
        code = EG_EXIT_USAGE;
        goto done;
    }
    int tty = o->display < 0 ? isatty(2) : o->display;
    s.disp = eg_display_new(tty, s.n_todo, skipped, s.n_slots, exp_dir, o->progress_every_s);
    if (!s.disp) { /* without it no run's outcome would be said */
        fprintf(stderr, "engram: out of memory starting the progress display\n");
        code = EG_EXIT_RUNS_FAILED;
        goto done;
    }

    install_parent_signals(&old_int, &old_term);
    signals_installed = 1;
    if (o->no_fork)
        run_in_process(&s);
    else
        run_forked(&s);
    int interrupted = s.stopping == 2 || g_signal;
    eg_display_end(s.disp, interrupted);

    if (interrupted) {
        code = EG_EXIT_INTERRUPTED;
        eg_slurm_requeue_after((int)g_signal);
    }
    else {
        if (s.n_failed + s.n_diverged + s.n_timeout + s.n_interrupted > 0) code = EG_EXIT_RUNS_FAILED;
        if (!o->no_collect && eg_results_collect(exp_dir, err, sizeof err) != EG_OK) {
            fprintf(stderr, "engram: collect %s: %s\n", exp_dir, err);
            code = EG_EXIT_RUNS_FAILED;
        }
    }
done:
    if (signals_installed) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    eg_display_free(s.disp);
    eg_run_locks_close(&s.locks);
    free(s.slots);
    free(s.todo);
    free(s.models);
    eg_model_cache_free(&mc);
    free(mine);
    free(models);
    return code;
}
