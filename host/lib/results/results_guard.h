/* results_guard.h — reading files engram may not have written, in a child process.
 *
 * HDF5 1.10 can crash, hang or allocate gigabytes on a crafted file (a run file
 * dropped into runs/, an init_from file, a replaced summary.h5). Every read of such
 * a file in the parent (show, collect, resume, init_from checks) runs inside
 * eg_guard_run: the work happens in a forked child under a memory limit and a
 * no-progress watchdog; the child names each file as it opens it
 * (eg_guard_enter), so when it dies the parent knows which file did it, and the
 * caller skips that file (eg_guard_skip) and tries again. The results come back in
 * memory shared with the child (eg_guard_shared). */
#ifndef EG_RESULTS_GUARD_H
#define EG_RESULTS_GUARD_H

#include <stddef.h>

#include "engram/status.h"

typedef struct eg_guard_outcome {
    int crashed;        /* 1: the child died (signal, memory limit, watchdog) */
    char culprit[4096]; /* the file it was reading then, "" when none */
    char reason[160];   /* "SIGSEGV", "exit code 1, likely out of memory past the 6144 MiB limit", "no progress for 30 s" */
    char message[4096]; /* fn's error message when it returned an error */
} eg_guard_outcome;

/* Runs fn(ctx, err, cap) in a child process and returns what it returned (EG_OK or a
 * negative status, with out->message), or EG_ERR_FORMAT with out->crashed set when
 * the child died. Without fork (ENGRAM_GUARD=off, for debugging) fn runs in process. */
eg_status eg_guard_run(eg_status (*fn)(void *ctx, char *err, size_t cap), void *ctx, eg_guard_outcome *out);

/* In the child: "now reading path" (the culprit if the child dies before the next
 * call) and progress for the watchdog. A no-op outside eg_guard_run. */
void eg_guard_enter(const char *path);
void eg_guard_leave(void);

/* Files found to crash the reader in this process: later reads skip them. */
void eg_guard_skip(const char *path);
int eg_guard_skipped(const char *path);

/* bytes of zeroed memory shared with children forked later (MAP_SHARED), NULL when
 * out of memory; eg_guard_unshare releases it. */
void *eg_guard_shared(size_t bytes);
void eg_guard_unshare(void *p, size_t bytes);

/* "<path>: ... crashed (SIGSEGV) while reading it" for messages and warnings */
void eg_guard_describe(const eg_guard_outcome *o, char *buf, size_t cap);
#endif
