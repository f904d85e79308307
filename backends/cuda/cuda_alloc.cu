/* cuda_alloc.cu — the caching device allocator and the instance's scratch buffer.
 *
 * Size classes: class 0 is 512 bytes; above that four classes per power of two
 * (2^p * 5/4, 6/4, 7/4, 8/4), so a request wastes at most 25%. A freed block is
 * pushed on its class's free list and handed out again by the next request of that
 * class: a training loop that allocates the same shapes every step reaches a steady
 * state with no cudaMalloc / cudaFree at all. Reuse needs no event: all work of the
 * instance runs on one stream, so the new owner's kernels queue behind the old one's.
 *
 * Live blocks are kept in an open-addressing table (pointer -> class) so free() knows
 * the class. When cudaMalloc fails, every cached block is released and the request
 * retried once; a second failure is EG_ERR_NOMEM. */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

#define MIN_SHIFT 9                       /* class 0: 512 bytes */
#define MAX_BYTES ((size_t)1 << 47)       /* more than 128 TiB cannot succeed on any device */
#define KEY_EMPTY ((uintptr_t)0)
#define KEY_TOMB ((uintptr_t)1)

/* class of a request and the size it is rounded up to */
static int size_class(size_t bytes) {
    if (bytes <= ((size_t)1 << MIN_SHIFT)) return 0;
    int p = 63 - __builtin_clzll((unsigned long long)(bytes - 1)); /* 2^p < bytes <= 2^(p+1) */
    size_t quarter = (size_t)1 << (p - 2);
    int k = (int)((bytes - ((size_t)1 << p) + quarter - 1) / quarter); /* 1..4 */
    return (p - MIN_SHIFT) * 4 + k;
}
static size_t class_bytes(int cls) {
    if (cls == 0) return (size_t)1 << MIN_SHIFT;
    int p = (cls - 1) / 4 + MIN_SHIFT, k = (cls - 1) % 4 + 1;
    return ((size_t)1 << p) + (size_t)k * ((size_t)1 << (p - 2));
}

void eg_cuda_heap_init(eg_cuda_heap *h) {
    memset(h, 0, sizeof *h);
}

static size_t slot_of(uintptr_t key, size_t cap) {
    uint64_t z = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* pointers are 256-aligned: mix the bits */
    return (size_t)(z >> 17) & (cap - 1);
}

/* insert key -> cls; 0 on success, -1 if the table could not grow */
static int table_put(eg_cuda_heap *h, uintptr_t key, int cls) {
    if ((h->used + h->tomb + 1) * 2 > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 256;
        while ((h->used + 1) * 2 > ncap)
            ncap *= 2;
        uintptr_t *nk = (uintptr_t *)calloc(ncap, sizeof *nk);
        unsigned char *nc = (unsigned char *)malloc(ncap);
        if (!nk || !nc) {
            free(nk), free(nc);
            return -1;
        }
        for (size_t i = 0; i < h->cap; i++) {
            if (h->keys[i] <= KEY_TOMB) continue;
            size_t s = slot_of(h->keys[i], ncap);
            while (nk[s] != KEY_EMPTY)
                s = (s + 1) & (ncap - 1);
            nk[s] = h->keys[i];
            nc[s] = h->cls[i];
        }
        free(h->keys), free(h->cls);
        h->keys = nk, h->cls = nc, h->cap = ncap, h->tomb = 0;
    }
    size_t s = slot_of(key, h->cap);
    while (h->keys[s] > KEY_TOMB)
        s = (s + 1) & (h->cap - 1);
    if (h->keys[s] == KEY_TOMB) h->tomb--;
    h->keys[s] = key;
    h->cls[s] = (unsigned char)cls;
    h->used++;
    return 0;
}

/* remove key; its class, or -1 when the pointer is not a live block of this heap */
static int table_take(eg_cuda_heap *h, uintptr_t key) {
    if (!h->cap) return -1;
    size_t s = slot_of(key, h->cap);
    while (h->keys[s] != KEY_EMPTY) {
        if (h->keys[s] == key) {
            h->keys[s] = KEY_TOMB;
            h->tomb++;
            h->used--;
            return h->cls[s];
        }
        s = (s + 1) & (h->cap - 1);
    }
    return -1;
}

static int push(eg_cuda_stack *st, void *p) {
    if (st->n == st->cap) {
        int ncap = st->cap ? st->cap * 2 : 8;
        void **nv = (void **)realloc(st->v, (size_t)ncap * sizeof *nv);
        if (!nv) return -1;
        st->v = nv, st->cap = ncap;
    }
    st->v[st->n++] = p;
    return 0;
}

void eg_cuda_heap_release_cached(eg_cuda_ctx *c) {
    eg_cuda_heap *h = &c->heap;
    for (int k = 0; k < EG_CUDA_NCLASS; k++) {
        for (int i = 0; i < h->free_list[k].n; i++)
            cudaFree(h->free_list[k].v[i]); /* synchronises the device: queued users are done */
        h->free_list[k].n = 0;
    }
    h->cached_bytes = 0;
    (void)cudaGetLastError();
}

eg_status eg_cuda_heap_alloc(eg_cuda_ctx *c, size_t bytes, void **ptr) {
    eg_cuda_heap *h = &c->heap;
    *ptr = NULL;
    if (bytes > MAX_BYTES) return EG_ERR_NOMEM;
    int cls = size_class(bytes ? bytes : 1);
    if (cls >= EG_CUDA_NCLASS) return EG_ERR_NOMEM;
    size_t cb = class_bytes(cls);
    void *p = NULL;
    eg_cuda_stack *fl = &h->free_list[cls];
    if (fl->n > 0) {
        p = fl->v[--fl->n];
        h->cached_bytes -= cb;
    } else {
        cudaError_t e = cudaMalloc(&p, cb);
        if (e == cudaErrorMemoryAllocation) { /* give the cache back to the driver and try once more */
            (void)cudaGetLastError();
            eg_cuda_heap_release_cached(c);
            e = cudaMalloc(&p, cb);
        }
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            if (e == cudaErrorMemoryAllocation) return EG_ERR_NOMEM; /* an ordinary status, not worth a log line */
            return eg_cuda_err(c, e, __FILE__, __LINE__, "cudaMalloc");
        }
    }
    if (table_put(h, (uintptr_t)p, cls) != 0) {
        cudaFree(p);
        return EG_ERR_NOMEM;
    }
    h->live_bytes += cb;
    if (h->live_bytes > h->peak_bytes) h->peak_bytes = h->live_bytes;
    *ptr = p;
    return EG_OK;
}

void eg_cuda_heap_free(eg_cuda_ctx *c, void *ptr) {
    eg_cuda_heap *h = &c->heap;
    int cls = table_take(h, (uintptr_t)ptr);
    if (cls < 0) {
        eg_cuda_fail(c, EG_ERR_INVALID, __FILE__, __LINE__, "free of %p, which this backend did not allocate", ptr);
        return;
    }
    size_t cb = class_bytes(cls);
    h->live_bytes -= cb;
    if (push(&h->free_list[cls], ptr) != 0) { /* no host memory for the list: give it back */
        cudaFree(ptr);
        return;
    }
    h->cached_bytes += cb;
}

void eg_cuda_heap_destroy(eg_cuda_ctx *c) {
    eg_cuda_heap *h = &c->heap;
    eg_cuda_heap_release_cached(c);
    for (size_t i = 0; i < h->cap; i++)
        if (h->keys[i] > KEY_TOMB) cudaFree((void *)h->keys[i]);
    for (int k = 0; k < EG_CUDA_NCLASS; k++)
        free(h->free_list[k].v);
    free(h->keys), free(h->cls);
    memset(h, 0, sizeof *h);
    (void)cudaGetLastError();
}

eg_status eg_cuda_scratch(eg_cuda_ctx *c, size_t bytes, void **p) {
    if (bytes <= c->scratch_cap && c->scratch) {
        *p = c->scratch;
        return EG_OK;
    }
    size_t cap = c->scratch_cap ? c->scratch_cap : ((size_t)1 << 20);
    while (cap < bytes)
        cap *= 2;
    if (c->scratch) eg_cuda_heap_free(c, c->scratch); /* queued users still run first: one stream */
    c->scratch = NULL, c->scratch_cap = 0;
    void *q = NULL;
    eg_status st = eg_cuda_heap_alloc(c, cap, &q);
    if (st != EG_OK && cap > bytes) st = eg_cuda_heap_alloc(c, cap = bytes, &q);
    if (st != EG_OK) return st;
    c->scratch = q, c->scratch_cap = cap;
    *p = q;
    return EG_OK;
}
