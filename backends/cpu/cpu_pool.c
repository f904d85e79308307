/* cpu_pool.c — the backend's own fork/join thread pool for elementwise, reduction
 * and layout kernels.
 *
 * Why not OpenMP's runtime: GEMMs run on OpenBLAS's pthread pool, and between two
 * parallel regions libgomp's idle workers busy-wait (GOMP_SPINCOUNT, ~300k pause
 * instructions: 10+ ms on recent Xeons) on the very cores OpenBLAS needs next;
 * a Hopfield retrieval step (gemm, softmax, gemm) measured ~35% slower that way.
 * These workers spin for at most SPIN_US microseconds, yielding the core, and then
 * sleep on a condition variable. OpenMP is still used for `omp simd` (no runtime).
 *
 * A job is [0, n) cut into up to 4 chunks per thread; the chunk boundaries depend
 * only on n and the thread count, and each chunk's result only on its range, so
 * results are the same whichever thread runs a chunk. Chunks are claimed from a
 * shared counter: the caller works too and takes over the chunks of a worker that
 * is slow to wake (or descheduled on a busy machine) instead of waiting for it.
 * A kernel called while the pool is busy (another host thread on the same backend
 * instance) runs serially instead of waiting. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cpu_internal.h"

#define SPIN_US 50

struct eg_cpu_pool {
    pid_t pid; /* the process whose threads these are */
    int nworkers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sleepers;           /* workers blocked on cv (under mu) */
    _Atomic uint64_t gen;   /* job number, bumped once per job; workers wait for a change */
    _Atomic uint64_t claim; /* job number << 32 | chunk count << 16 | next unclaimed chunk */
    _Atomic int64_t done;   /* chunks of the current job finished */
    _Atomic int busy;       /* a job is being dispatched */
    _Atomic int stop;
    /* the current job, written before claim and gen are published; read after a claim */
    eg_cpu_range_fn fn;
    void *arg;
    int64_t n;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* chunk i of [0, n) split into `chunks` near-equal contiguous pieces */
static void chunk_range(int64_t n, int64_t chunks, int64_t i, int64_t *lo, int64_t *hi) {
    int64_t q = n / chunks, r = n % chunks;
    *lo = i * q + (i < r ? i : r);
    *hi = *lo + q + (i < r);
}

/* Claims and runs chunks of job `g` until none is left. The claim word holds the
 * job number, the job's chunk count and the next chunk, and a claim is a CAS on
 * it: a thread holding a stale job number can never claim a chunk of another job,
 * and the job's fields (written before the word was published) stay valid while a
 * claimed chunk is unfinished, because the caller waits for all of them. */
static void run_chunks(struct eg_cpu_pool *p, uint64_t g) {
    for (;;) {
        uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
        int64_t chunks = (int64_t)((c >> 16) & 0xffff), idx = (int64_t)(c & 0xffff);
        if ((c >> 32) != (g & 0xffffffffu) || idx >= chunks) return;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        int64_t lo, hi;
        chunk_range(p->n, chunks, idx, &lo, &hi);
        if (hi > lo) p->fn(p->arg, lo, hi);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel);
    }
}

static void *worker_main(void *p_) {
    struct eg_cpu_pool *p = p_;
    uint64_t seen = 0; /* the pool is created before its first job: a worker that starts late
                        * must still run job 1, so it waits for a change from 0, not from now */
    for (;;) {
        /* spin briefly (a following kernel usually comes within microseconds), then sleep */
        if (atomic_load_explicit(&p->gen, memory_order_acquire) == seen) {
            double t0 = now_us();
            for (int s = 0; atomic_load_explicit(&p->gen, memory_order_acquire) == seen; s++) {
                if ((s & 63) == 63) {
                    if (now_us() - t0 > SPIN_US) break;
                    sched_yield();
                } else {
                    cpu_relax();
                }
            }
        }
        if (atomic_load_explicit(&p->gen, memory_order_acquire) == seen) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        run_chunks(p, seen);
    }
    return NULL;
}

/* Starts the workers (threads - 1 of them). NULL when threads < 2 or on failure:
 * every job then runs serially, which is always correct. */
static struct eg_cpu_pool *pool_create(int threads) {
    if (threads < 2) return NULL;
    struct eg_cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->tid = calloc((size_t)threads, sizeof *p->tid);
    if (!p->tid) {
        free(p);
        return NULL;
    }
    p->pid = getpid();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->tid[i], NULL, worker_main, p) != 0) break;
        p->nworkers++;
    }
    return p;
}

void eg_cpu_pool_destroy(eg_cpu_ctx *c) {
    struct eg_cpu_pool *p = c->pool;
    if (!p || p->pid != getpid()) return; /* a forked child has none of the parent's workers */
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->tid);
    free(p);
    c->pool = NULL;
}

void eg_cpu_parallel(eg_cpu_ctx *c, int par, int64_t n, eg_cpu_range_fn fn, void *arg) {
    if (n <= 0) return;
    if (par && c->pool && c->pool->pid != getpid()) c->pool = NULL; /* forked: start our own workers */
    if (par && c->threads > 1 && n > 1 && !c->pool && !c->pool_failed) {
        c->pool = pool_create(c->threads);
        c->pool_failed = c->pool == NULL;
    }
    struct eg_cpu_pool *p = c->pool;
    if (!par || !p || p->nworkers == 0 || n < 2 || atomic_exchange(&p->busy, 1)) {
        fn(arg, 0, n);
        return;
    }
    int64_t chunks = 4 * (int64_t)c->threads;
    if (chunks > n) chunks = n;
    if (chunks > 0xffff) chunks = 0xffff;
    uint64_t g = atomic_load(&p->gen) + 1;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->done, 0);
    atomic_store_explicit(&p->claim, (g & 0xffffffffu) << 32 | (uint64_t)chunks << 16, memory_order_release);
    atomic_store_explicit(&p->gen, g, memory_order_seq_cst); /* publishes the job */
    pthread_mutex_lock(&p->mu);
    if (p->sleepers) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p, g);
    for (int s = 0; atomic_load_explicit(&p->done, memory_order_acquire) < chunks; s++) {
        if ((s & 63) == 63)
            sched_yield();
        else
            cpu_relax();
    }
    atomic_store(&p->busy, 0);
}
