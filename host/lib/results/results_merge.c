/* results_merge.c — `engram collect DIR SRC...`: the run files of SRC/runs (another
 * shard's directory, a node's local scratch) copied into DIR/runs before DIR's summary is
 * rebuilt. A run DIR lacks is copied; a run both hold is copied only when DIR's file is not
 * finished (ok, pruned) and SRC's is; otherwise DIR's stays. Each copy is written under a
 * temporary name, synced and renamed, so a reader never sees half a file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_impl.h"

static int finished(const char *path) {
    char st[32] = "";
    if (eg_results_run_status(path, st, sizeof st) != EG_OK) return 0;
    return !strcmp(st, "ok") || !strcmp(st, "pruned");
}

static int copy_file(const char *from, const char *to, char *err, size_t cap) {
    char tmp[4600];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", to, (long)getpid());
    int in = open(from, O_RDONLY | O_NOFOLLOW), out = -1;
    if (in >= 0) {
        unlink(tmp);
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    }
    int ok = in >= 0 && out >= 0;
    char buf[1 << 16];
    for (ssize_t n; ok && (n = read(in, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = 0;
            break;
        }
        for (ssize_t w = 0; ok && w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0 && errno != EINTR) ok = 0;
            if (k > 0) w += k;
        }
    }
    if (ok && fsync(out) != 0) ok = 0;
    int e = errno;
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0) ok = 0;
    if (ok && rename(tmp, to) != 0) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        snprintf(err, cap, "copying %s to %s: %s", from, to, strerror(e));
        return -1;
    }
    return 0;
}

eg_status eg_results_merge(const char *exp_dir, const char *src_dir, int *copied, char *err, size_t cap) {
    *copied = 0;
    char from_runs[4200], to_runs[4200];
    snprintf(from_runs, sizeof from_runs, "%s/runs", src_dir);
    snprintf(to_runs, sizeof to_runs, "%s/runs", exp_dir);
    DIR *d = opendir(from_runs);
    if (!d) {
        snprintf(err, cap, "%s: not an experiment directory (no runs/ folder: %s)", src_dir, strerror(errno));
        return EG_ERR_IO;
    }
    if (eg_mkdirs(to_runs, err, cap) != 0) {
        closedir(d);
        return EG_ERR_IO;
    }
    eg_status st = EG_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (eg_results_file_kind(e->d_name, NULL) != EG_RUNFILE_FINAL) continue;
        char from[4500], to[4500];
        snprintf(from, sizeof from, "%s/%s", from_runs, e->d_name);
        snprintf(to, sizeof to, "%s/%s", to_runs, e->d_name);
        struct stat sb;
        if (lstat(from, &sb) != 0 || !S_ISREG(sb.st_mode)) continue; /* a link or a folder: not a run file */
        if (stat(to, &sb) == 0 && (finished(to) || !finished(from))) continue;
        if (copy_file(from, to, err, cap) != 0) {
            st = EG_ERR_IO;
            break;
        }
        (*copied)++;
    }
    closedir(d);
    return st;
}
