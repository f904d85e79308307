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
 * A job is [0, n) cut into one contiguous chunk per thread (the caller runs chunk 0),
 * so a kernel's split, and hence its floating-point results, depend only on n and
 * the thread count. A kernel called while the pool is busy (another host thread on
 * the same backend instance) runs serially instead of waiting. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_internal.h"

#define SPIN_US 50

struct eg_cpu_pool {
    int nworkers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sleepers;           /* workers blocked on cv (under mu) */
    _Atomic uint64_t gen;   /* bumped once per job; workers wait for a change */
    _Atomic int remaining;  /* workers still running the current job */
    _Atomic int busy;       /* a job is being dispatched */
    _Atomic int stop;
    /* the current job */
    eg_cpu_range_fn fn;
    void *arg;
    int64_t n;
    int chunks;
};

typedef struct worker_arg {
    struct eg_cpu_pool *p;
    int index; /* chunk index: 1 .. nworkers */
} worker_arg;

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
static void chunk_range(int64_t n, int chunks, int i, int64_t *lo, int64_t *hi) {
    int64_t q = n / chunks, r = n % chunks;
    *lo = i * q + (i < r ? i : r);
    *hi = *lo + q + (i < r);
}

static void *worker_main(void *p_) {
    worker_arg *wa = p_;
    struct eg_cpu_pool *p = wa->p;
    uint64_t seen = atomic_load(&p->gen);
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
        if (wa->index < p->chunks) {
            int64_t lo, hi;
            chunk_range(p->n, p->chunks, wa->index, &lo, &hi);
            if (hi > lo) p->fn(p->arg, lo, hi);
        }
        atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_acq_rel);
    }
    free(wa);
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
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < threads - 1; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        wa->p = p;
        wa->index = i + 1;
        if (pthread_create(&p->tid[i], NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
        p->nworkers++;
    }
    return p;
}

void eg_cpu_pool_destroy(eg_cpu_ctx *c) {
    struct eg_cpu_pool *p = c->pool;
    if (!p) return;
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
    if (par && c->threads > 1 && n > 1 && !c->pool && !c->pool_failed) {
        c->pool = pool_create(c->threads);
        c->pool_failed = c->pool == NULL;
    }
    struct eg_cpu_pool *p = c->pool;
    if (!par || !p || p->nworkers == 0 || n < 2 || atomic_exchange(&p->busy, 1)) {
        fn(arg, 0, n);
        return;
    }
    int chunks = p->nworkers + 1;
    if (chunks > n) chunks = (int)n;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunks = chunks;
    atomic_store(&p->remaining, p->nworkers);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_seq_cst); /* publishes the job */
    pthread_mutex_lock(&p->mu);
    if (p->sleepers) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    int64_t lo, hi;
    chunk_range(n, chunks, 0, &lo, &hi);
    fn(arg, lo, hi);
    for (int s = 0; atomic_load_explicit(&p->remaining, memory_order_acquire) > 0; s++) {
        if ((s & 63) == 63) sched_yield();
        else cpu_relax();
    }
    atomic_store(&p->busy, 0);
}
