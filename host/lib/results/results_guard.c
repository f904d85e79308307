/* results_guard.c — see results_guard.h: reads of untrusted files in a child process,
 * with the file that killed it named. */
#define _GNU_SOURCE
#include "results_guard.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/signame.h"

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUARD_ASAN 1
#endif
#endif

/* the child's address-space limit (not under ASan, which reserves terabytes): room for the
 * largest dataset a reader accepts (4 GiB) and its reader, not for a runaway allocation */
#define GUARD_MEM_MIB 6144
#define GUARD_STALL_S 30 /* a child that reads one file this long is killed (ENGRAM_GUARD_STALL_S) */
#define GUARD_EXIT_BASE 100 /* child exit codes: GUARD_EXIT_BASE - status */

typedef struct shared_state {
    volatile long progress; /* bumped by every eg_guard_enter/leave */
    char current[4096];     /* the file being read, "" between files */
    char message[4096];     /* fn's error message */
} shared_state;

static shared_state *g_child; /* set in the child only */

void *eg_guard_shared(size_t bytes) {
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void eg_guard_unshare(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}

void eg_guard_enter(const char *path) {
    if (!g_child) return;
    snprintf(g_child->current, sizeof g_child->current, "%s", path ? path : "");
    __atomic_add_fetch(&g_child->progress, 1, __ATOMIC_RELEASE);
}

void eg_guard_leave(void) {
    if (!g_child) return;
    g_child->current[0] = 0;
    __atomic_add_fetch(&g_child->progress, 1, __ATOMIC_RELEASE);
}

/* a skipped file is known by its path and identity: a run that writes a new file
 * under the same name (the run computed again) is read as usual */
typedef struct skipped {
    char *path;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
} skipped;

static skipped *g_skip;
static int g_n_skip;

static int same_file(const skipped *k, const struct stat *st) {
    return k->dev == st->st_dev && k->ino == st->st_ino && k->mtime.tv_sec == st->st_mtim.tv_sec &&
           k->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

void eg_guard_skip(const char *path) {
    struct stat st;
    if (!path || !*path || stat(path, &st) != 0 || eg_guard_skipped(path)) return;
    skipped *grown = realloc(g_skip, (size_t)(g_n_skip + 1) * sizeof *grown);
    if (!grown) return;
    g_skip = grown;
    skipped k = {strdup(path), st.st_dev, st.st_ino, st.st_mtim};
    if (k.path) g_skip[g_n_skip++] = k;
}

int eg_guard_skipped(const char *path) {
    struct stat st;
    if (!path || stat(path, &st) != 0) return 0;
    for (int i = 0; i < g_n_skip; i++)
        if (strcmp(g_skip[i].path, path) == 0 && same_file(&g_skip[i], &st)) return 1;
    return 0;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void child_limits(void) {
#ifndef GUARD_ASAN
    struct rlimit rl = {(rlim_t)GUARD_MEM_MIB << 20, (rlim_t)GUARD_MEM_MIB << 20};
    struct rlimit cur;
    if (getrlimit(RLIMIT_AS, &cur) == 0 && (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur > rl.rlim_cur))
        setrlimit(RLIMIT_AS, &rl);
#endif
    signal(SIGINT, SIG_IGN); /* the parent decides what an interrupt means */
    /* die of the signal itself (no sanitizer or fuzzer report from a child): the parent names the file */
    const int deadly[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGPIPE};
    for (size_t i = 0; i < sizeof deadly / sizeof *deadly; i++)
        signal(deadly[i], SIG_DFL);
}

static void outcome_of_death(int wst, double stalled, const shared_state *sh, eg_guard_outcome *out) {
    out->crashed = 1;
    snprintf(out->culprit, sizeof out->culprit, "%s", sh->current);
    if (stalled)
        snprintf(out->reason, sizeof out->reason, "no progress for %g s", stalled);
    else if (WIFSIGNALED(wst))
        snprintf(out->reason, sizeof out->reason, "%s", eg_signal_name(WTERMSIG(wst)));
    else
        snprintf(out->reason, sizeof out->reason, "exit code %d, likely out of memory past the %d MiB limit",
                 WIFEXITED(wst) ? WEXITSTATUS(wst) : -1, GUARD_MEM_MIB);
}

eg_status eg_guard_run(eg_status (*fn)(void *ctx, char *err, size_t cap), void *ctx, eg_guard_outcome *out) {
    memset(out, 0, sizeof *out);
    const char *mode = getenv("ENGRAM_GUARD");
    if (mode && strcmp(mode, "off") == 0) return fn(ctx, out->message, sizeof out->message);
    shared_state *sh = eg_guard_shared(sizeof *sh);
    if (!sh) {
        snprintf(out->message, sizeof out->message, "out of memory");
        return EG_ERR_NOMEM;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->message, sizeof out->message, "fork: %s", strerror(errno));
        eg_guard_unshare(sh, sizeof *sh);
        return EG_ERR_IO;
    }
    if (pid == 0) {
        g_child = sh;
        child_limits();
        eg_status st = fn(ctx, sh->message, sizeof sh->message);
        fflush(NULL);
        _exit(st == EG_OK ? 0 : GUARD_EXIT_BASE + (st < 0 ? -st : 0));
    }
    /* the watchdog: the child must make progress (open the next file) within GUARD_STALL_S */
    long seen = -1;
    double since = now_s();
    const char *stall_env = getenv("ENGRAM_GUARD_STALL_S");
    double stall_s = stall_env && atof(stall_env) > 0 ? atof(stall_env) : GUARD_STALL_S;
    int wst = 0, stalled = 0, lost = 0;
    for (;;) {
        pid_t w = waitpid(pid, &wst, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) { /* reaped elsewhere (SIGCHLD ignored): its answer is lost */
            lost = errno;
            break;
        }
        long p = __atomic_load_n(&sh->progress, __ATOMIC_ACQUIRE);
        if (p != seen) seen = p, since = now_s();
        else if (sh->current[0] && now_s() - since > stall_s) {
            stalled = 1;
            kill(pid, SIGKILL);
            while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        struct timespec nap = {0, 2000000}; /* 2 ms: most guarded reads take a few */
        nanosleep(&nap, NULL);
    }
    eg_status st;
    int code = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
    if (lost) {
        snprintf(out->message, sizeof out->message, "waitpid: %s", strerror(lost));
        eg_guard_unshare(sh, sizeof *sh);
        return EG_ERR_IO;
    }
    if (!stalled && code == 0)
        st = EG_OK;
    else if (!stalled && code > GUARD_EXIT_BASE && code <= GUARD_EXIT_BASE + 14) {
        st = (eg_status)(GUARD_EXIT_BASE - code);
        snprintf(out->message, sizeof out->message, "%s", sh->message);
    } else {
        outcome_of_death(wst, stalled ? stall_s : 0, sh, out);
        st = EG_ERR_FORMAT;
    }
    eg_guard_unshare(sh, sizeof *sh);
    return st;
}

void eg_guard_describe(const eg_guard_outcome *o, char *buf, size_t cap) {
    if (o->culprit[0])
        snprintf(buf, cap, "%s: reading it crashed the HDF5 library in a child process (%s); the file is malformed",
                 o->culprit, o->reason);
    else
        snprintf(buf, cap, "a child process reading results crashed (%s)", o->reason);
}
