/* runner_lock.h — two `engram run` processes on one experiment never compute the same
 * run: before a run starts, its process takes a lock on one byte of DIR/.engram.lock
 * (fcntl record locks, so they vanish with the process, however it dies; the byte is
 * the run id's number), and a run whose byte another process holds is left to that
 * process. Where the file system has no record locks (some network mounts) the locks
 * are off, with a warning; shards (--shard i/n) never need them. */
#ifndef EG_RUNNER_LOCK_H
#define EG_RUNNER_LOCK_H
#include <sys/types.h>

typedef struct eg_run_locks {
    int fd;       /* DIR/.engram.lock, -1 when locking is off */
    int warned;
} eg_run_locks;

/* opens (creating) the lock file of exp_dir; locking is off when it cannot */
void eg_run_locks_open(eg_run_locks *l, const char *exp_dir);
/* 1: this process now holds run id's lock (or locking is off); 0: another process
 * holds it (*holder its pid when the system says) */
int eg_run_locks_claim(eg_run_locks *l, const char *id, pid_t *holder);
void eg_run_locks_release(eg_run_locks *l, const char *id);
void eg_run_locks_close(eg_run_locks *l);
#endif
