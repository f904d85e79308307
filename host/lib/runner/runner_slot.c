/* runner_slot.c — forking a run's child, reading its progress, and deciding its
 * outcome from its exit status (writing the run file for crashes and kills). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"
#include "runner_slot.h"

#define TAIL_LINES 40
#define TAIL_BYTES 16384

static int capture_file(void) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/engram-run-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path); /* gone with the last descriptor: nothing to clean up after a kill -9 */
    return fd;
}

static void set_thread_env(int threads) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", threads);
    setenv("OMP_NUM_THREADS", buf, 1);
    setenv("OPENBLAS_NUM_THREADS", buf, 1);
}

static void child_main(eg_slot *slots, int n_slots, int i, int prog_w, pid_t parent, const char *out_root, int threads,
                       const sigset_t *old_mask) {
    /* die with the parent (kill -9 of `engram run`): SIGTERM cancels without a run file */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(EG_RUN_EXIT_INTERRUPTED);
    eg_run_install_signals();
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    for (int k = 0; k < n_slots; k++) {
        if (k == i) continue;
        if (slots[k].prog_fd >= 0) close(slots[k].prog_fd);
        if (slots[k].log_fd >= 0) close(slots[k].log_fd);
    }
    set_thread_env(threads);
    if (slots[i].gpus[0]) setenv("CUDA_VISIBLE_DEVICES", slots[i].gpus, 1);
    dup2(slots[i].log_fd, 1);
    dup2(slots[i].log_fd, 2);
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    fcntl(prog_w, F_SETFL, fcntl(prog_w, F_GETFL) | O_NONBLOCK);
    eg_run_opts ro = {out_root, slots[i].model, threads, slots[i].deadline, prog_w, 0, slots[i].log_fd,
                      slots[i].adaptive};
    int code = eg_run_execute(slots[i].plan, &ro);
    fflush(NULL);
    _exit(code);
}

int eg_slot_launch(eg_slot *slots, int n_slots, int i, const eg_run_plan *plan, const eg_model_plugin *model,
                   const char *out_root, int threads, double timeout_s, const eg_adaptive *adaptive) {
    eg_slot *sl = &slots[i];
    int pfd[2];
    if (pipe(pfd) != 0) {
        fprintf(stderr, "engram: pipe: %s\n", strerror(errno));
        return -1;
    }
    sl->log_fd = capture_file();
    if (sl->log_fd < 0) {
        fprintf(stderr, "engram: cannot create a temporary log file in $TMPDIR or /tmp: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    sl->plan = plan;
    sl->model = model;
    sl->adaptive = adaptive;
    sl->prog_fd = pfd[0];
    sl->line_len = 0;
    sl->start_mono = eg_monotonic();
    sl->start_wall = eg_wall_now();
    sl->timeout_s = timeout_s;
    sl->deadline = timeout_s > 0 ? sl->start_mono + timeout_s : 0;
    sl->term_at = 0;
    sl->timed_out = sl->killed = 0;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        child_main(slots, n_slots, i, pfd[1], parent, out_root, threads, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(pfd[1]);
    if (pid < 0) {
        fprintf(stderr, "engram: fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(sl->log_fd);
        sl->prog_fd = sl->log_fd = -1;
        return -1;
    }
    fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
    sl->pid = pid;
    return 0;
}

static void parse_line(eg_slot *sl, eg_display *d, int i) {
    long long done = 0, total = 0;
    char unit[64] = "";
    sl->line[sl->line_len] = 0;
    if (sscanf(sl->line, "progress %lld %lld %63s", &done, &total, unit) == 3)
        eg_display_progress(d, i, done, total, unit);
    sl->line_len = 0;
}

void eg_slot_drain(eg_slot *sl, eg_display *d, int i) {
    char buf[1024];
    while (sl->prog_fd >= 0) {
        ssize_t got = read(sl->prog_fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return; /* EAGAIN: nothing more now */
        if (got == 0) {
            close(sl->prog_fd);
            sl->prog_fd = -1;
            return;
        }
        for (ssize_t k = 0; k < got; k++) {
            if (buf[k] == '\n')
                parse_line(sl, d, i);
            else if (sl->line_len < sizeof sl->line - 1)
                sl->line[sl->line_len++] = buf[k];
        }
    }
}

/* the last TAIL_LINES lines of the child's output, malloc'ed */
static char *read_tail(int fd) {
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > TAIL_BYTES ? end - TAIL_BYTES : 0;
    char *buf = malloc(TAIL_BYTES + 1);
    if (!buf) return NULL;
    ssize_t got = end > 0 ? pread(fd, buf, (size_t)(end - start), start) : 0;
    buf[got > 0 ? got : 0] = 0;
    size_t len = strlen(buf);
    int lines = 0;
    size_t from = 0;
    for (size_t k = len; k-- > 0;) {
        if (buf[k] == '\n' && k + 1 < len && ++lines >= TAIL_LINES) {
            from = k + 1;
            break;
        }
    }
    memmove(buf, buf + from, len - from + 1);
    return buf;
}

/* the last non-empty line of text (without an "engram: run <id> <status>: " prefix) */
static void last_line(const char *text, const char *id, char *out, size_t cap) {
    out[0] = 0;
    size_t len = text ? strlen(text) : 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    size_t from = len;
    while (from > 0 && text[from - 1] != '\n')
        from--;
    const char *line = text ? text + from : "";
    int n = (int)(len - from);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "engram: run %s ", id);
    size_t pl = strlen(prefix);
    if ((size_t)n > pl && strncmp(line, prefix, pl) == 0) {
        const char *colon = memchr(line + pl, ':', (size_t)n - pl);
        if (colon && colon[1] == ' ') {
            n -= (int)(colon + 2 - line);
            line = colon + 2;
        }
    }
    snprintf(out, cap, "%.*s", n, line);
}

void eg_slot_finish(eg_slot *sl, int wst, const char *out_root, int stopping, eg_display *d, int i, char *status,
                    size_t cap) {
    double wall = eg_monotonic() - sl->start_mono;
    char *tail = read_tail(sl->log_fd);
    char msg[1200] = "", last[1024];
    int write_file = 0;
    last_line(tail, sl->plan->id, last, sizeof last);
    const char *st = "failed";
    char path[4096], tmp[4200];
    const eg_value *exp = eg_cfg_get(&sl->plan->cfg, "experiment");
    eg_run_file_path(out_root, exp && exp->s ? exp->s : "default", sl->plan->id, path, sizeof path);
    if (WIFEXITED(wst)) {
        int code = WEXITSTATUS(wst);
        const char *claimed = code == EG_RUN_EXIT_OK         ? "ok"
                              : code == EG_RUN_EXIT_FAILED   ? "failed"
                              : code == EG_RUN_EXIT_DIVERGED ? "diverged"
                              : code == EG_RUN_EXIT_TIMEOUT  ? "timeout"
                              : code == EG_RUN_EXIT_PRUNED   ? "pruned"
                                                             : NULL;
        char on_disk[32] = "";
        if (claimed && (eg_results_run_status(path, on_disk, sizeof on_disk) != EG_OK || strcmp(on_disk, claimed) != 0))
            claimed = NULL; /* not our protocol after all (exit(0) or exit(65) from a library, say) */
        if (claimed) {
            st = claimed;
            if (code == EG_RUN_EXIT_TIMEOUT)
                snprintf(msg, sizeof msg, "timeout after %gs", sl->timeout_s);
            else if (code != EG_RUN_EXIT_OK)
                snprintf(msg, sizeof msg, "%s", last);
        } else if (code == EG_RUN_EXIT_INTERRUPTED && stopping == 3) {
            st = "timeout", write_file = 1;
            snprintf(msg, sizeof msg, "stopped at the Slurm job's time limit (its warning signal)");
        } else if (code == EG_RUN_EXIT_INTERRUPTED && stopping) {
            st = "interrupted";
        } else if (sl->timed_out) {
            st = "timeout", write_file = 1;
            snprintf(msg, sizeof msg, "timeout after %gs", sl->timeout_s);
        } else {
            write_file = code != EG_RUN_EXIT_NOWRITE;
            snprintf(msg, sizeof msg, "%s (exit code %d%s)", last[0] ? last : "the run's process exited", code,
                     code == EG_RUN_EXIT_NOWRITE || code == EG_RUN_EXIT_INTERRUPTED ? "" : " without a run file");
        }
    } else if (WIFSIGNALED(wst)) {
        int sig = WTERMSIG(wst);
        if (sl->timed_out) {
            st = "timeout", write_file = 1;
            snprintf(msg, sizeof msg, "timeout after %gs (killed with %s)", sl->timeout_s, eg_signal_name(sig));
        } else if (stopping == 3 && (sig == SIGTERM || sig == SIGKILL || sig == SIGINT)) {
            st = "timeout", write_file = 1;
            snprintf(msg, sizeof msg, "killed (%s) at the Slurm job's time limit", eg_signal_name(sig));
        } else if (stopping && (sig == SIGTERM || sig == SIGKILL || sig == SIGINT)) {
            st = "interrupted";
        } else {
            write_file = 1;
            snprintf(msg, sizeof msg, "%s%s%s%s", eg_signal_name(sig), WCOREDUMP(wst) ? " (core dumped)" : "",
                     last[0] ? "; last output: " : "", last);
        }
    }
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)sl->pid);
    unlink(tmp); /* a child killed while writing leaves its temporary file */
    if (write_file) {
        char err[2048];
        if (eg_run_write_failure(sl->plan, sl->model, out_root, st, msg, tail ? tail : "", sl->start_wall, wall, err,
                                 sizeof err) != EG_OK)
            eg_display_note(d, "engram: could not record run %s: %s", sl->plan->id, err);
    }
    struct stat fst; /* the run file its message points at, when there is one */
    eg_display_finish(d, i, sl->plan->id, st, wall, msg, stat(path, &fst) == 0 ? path : "");
    snprintf(status, cap, "%s", st);
    free(tail);
    close(sl->log_fd);
    if (sl->prog_fd >= 0) close(sl->prog_fd);
    sl->log_fd = sl->prog_fd = -1;
    sl->pid = 0;
}

int eg_runner_split_gpus(eg_slot *slots, int n_slots, int g) {
    const char *env = getenv("CUDA_VISIBLE_DEVICES");
    char list[4096];
    snprintf(list, sizeof list, "%s", env ? env : "");
    char *dev[512], *save = NULL;
    int n = 0;
    for (char *w = strtok_r(list, ",", &save); w && n < 512; w = strtok_r(NULL, ",", &save))
        if (*w) dev[n++] = w;
    if (env && n < n_slots * g) {
        fprintf(stderr,
                "engram: --gpus-per-run %d with %d run%s at a time needs %d devices; CUDA_VISIBLE_DEVICES lists %d "
                "('%s'): lower -j or --gpus-per-run\n",
                g, n_slots, n_slots == 1 ? "" : "s", n_slots * g, n, env);
        return -1;
    }
    for (int i = 0; i < n_slots; i++) {
        size_t len = 0;
        slots[i].gpus[0] = 0;
        for (int k = 0; k < g && len < sizeof slots[i].gpus; k++) {
            char id[16];
            if (!env) snprintf(id, sizeof id, "%d", i * g + k);
            len += (size_t)snprintf(slots[i].gpus + len, sizeof slots[i].gpus - len, "%s%s", k ? "," : "",
                                    env ? dev[i * g + k] : id);
        }
    }
    return 0;
}
