/* proc.c — eg_proc_capture: fork/exec with two pipes read under poll() and a deadline. */
#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

/* appends what fd has to buf (keeping a NUL), dropping what does not fit; 0 at EOF */
static int drain(int fd, char *buf, size_t cap, size_t *len) {
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0) return 0;
    if (buf && cap > 1 && *len < cap - 1) {
        size_t k = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
        memcpy(buf + *len, tmp, k);
        *len += k;
        buf[*len] = 0;
    }
    return 1;
}

int eg_proc_capture(const char *const *argv, double timeout_s, char *out, size_t cap, char *err_out,
                    size_t err_cap) {
    if (out && cap) out[0] = 0;
    if (err_out && err_cap) err_out[0] = 0;
    int po[2], pe[2], px[2]; /* stdout, stderr, and exec's errno (closed on a successful exec) */
    if (pipe2(po, O_CLOEXEC) < 0) return -1;
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]), close(po[1]);
        return -1;
    }
    if (pipe2(px, O_CLOEXEC) < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]), close(px[0]), close(px[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], (char *const *)argv);
        int e = errno;
        if (write(px[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(po[1]), close(pe[1]), close(px[1]);
    size_t lo = 0, le = 0;
    int open_o = 1, open_e = 1, killed = 0;
    double deadline = eg_monotonic() + (timeout_s > 0 ? timeout_s : 30);
    while (open_o || open_e) {
        struct pollfd p[2] = {{open_o ? po[0] : -1, POLLIN, 0}, {open_e ? pe[0] : -1, POLLIN, 0}};
        double left = deadline - eg_monotonic();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        int r = poll(p, 2, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) continue;
        if (open_o && p[0].revents) open_o = drain(po[0], out, cap, &lo);
        if (open_e && p[1].revents) open_e = drain(pe[0], err_out, err_cap, &le);
    }
    int exec_errno = 0;
    ssize_t got = read(px[0], &exec_errno, sizeof exec_errno);
    close(po[0]), close(pe[0]), close(px[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (got == (ssize_t)sizeof exec_errno) {
        errno = exec_errno;
        return -1;
    }
    if (killed || !WIFEXITED(st)) return -2;
    return WEXITSTATUS(st);
}
