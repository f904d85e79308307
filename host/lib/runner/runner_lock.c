/* runner_lock.c — see runner_lock.h. POSIX record locks belong to the process: a forked
 * run child does not inherit them, and they are released when the engram process ends. */
#define _GNU_SOURCE
#include "runner_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the byte of a run: its id's first 15 hex digits (< 2^60, inside any off_t) */
static off_t byte_of(const char *id) {
    uint64_t v = 0;
    for (int i = 0; i < 15 && id[i]; i++) {
        char c = id[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
        v = v * 16 + (uint64_t)d;
    }
    return (off_t)v;
}

static void off_with_warning(eg_run_locks *l, const char *what) {
    if (!l->warned)
        fprintf(stderr,
                "engram: warning: %s: runs are not locked, so two engram processes on this experiment could compute "
                "the same run (use --shard i/n to split a sweep between processes)\n",
                what);
    l->warned = 1;
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}

void eg_run_locks_open(eg_run_locks *l, const char *exp_dir) {
    char path[4200];
    l->fd = -1;
    l->warned = 0;
    snprintf(path, sizeof path, "%s/.engram.lock", exp_dir);
    l->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        char what[4400];
        snprintf(what, sizeof what, "cannot open %s: %s", path, strerror(errno));
        off_with_warning(l, what);
    }
}

int eg_run_locks_claim(eg_run_locks *l, const char *id, pid_t *holder) {
    if (holder) *holder = 0;
    if (l->fd < 0) return 1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte_of(id), .l_len = 1};
    if (fcntl(l->fd, F_SETLK, &fl) == 0) return 1;
    if (errno == EACCES || errno == EAGAIN) {
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte_of(id), .l_len = 1};
        if (holder && fcntl(l->fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK) *holder = q.l_pid;
        return 0;
    }
    char what[256];
    snprintf(what, sizeof what, "the file system refuses record locks (%s)", strerror(errno));
    off_with_warning(l, what);
    return 1;
}

void eg_run_locks_release(eg_run_locks *l, const char *id) {
    if (l->fd < 0) return;
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = byte_of(id), .l_len = 1};
    fcntl(l->fd, F_SETLK, &fl);
}

void eg_run_locks_close(eg_run_locks *l) {
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}
