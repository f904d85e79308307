/* arena.c — bump allocator over large chunks, reset to marks.
 * Used twice per context: device memory (chunks from backend->alloc, >= 16 MiB,
 * growing geometrically) and host memory for tensor headers and tape nodes.
 * Chunks are never returned before eg__arena_release, so repeating the same
 * allocation pattern after a reset allocates nothing from the provider. */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

void eg__arena_init(eg_arena *a, size_t align, size_t min_chunk, int (*get)(void *, size_t, void **),
                    void (*put)(void *, void *), void *user) {
    memset(a, 0, sizeof *a);
    a->align = align;
    a->min_chunk = min_chunk;
    a->get = get;
    a->put = put;
    a->user = user;
}

static size_t round_up(size_t x, size_t align) { return (x + align - 1) & ~(align - 1); }

static int add_chunk(eg_arena *a, size_t need) {
    size_t size = a->min_chunk;
    if (a->n > 0 && a->chunks[a->n - 1].size * 2 > size) size = a->chunks[a->n - 1].size * 2;
    if (need > size) size = round_up(need, a->align);
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 8;
        eg_arena_chunk *c = realloc(a->chunks, (size_t)cap * sizeof *c);
        if (!c) return 0;
        a->chunks = c;
        a->cap = cap;
    }
    void *p = NULL;
    if (a->get(a->user, size, &p) != 0 || !p) {
        /* geometric growth may overshoot what the device has left: retry with the need */
        size_t fallback = round_up(need ? need : a->align, a->align);
        if (fallback >= size || a->get(a->user, fallback, &p) != 0 || !p) return 0;
        size = fallback;
    }
    a->chunks[a->n].ptr = p;
    a->chunks[a->n].size = size;
    a->n++;
    a->reserved += size;
    a->grows++;
    return 1;
}

void *eg__arena_alloc(eg_arena *a, size_t bytes) {
    size_t need = round_up(bytes ? bytes : 1, a->align);
    if (a->n > 0 && a->chunks[a->cur].size - a->off >= need) {
        void *p = (char *)a->chunks[a->cur].ptr + a->off;
        a->off += need;
        return p;
    }
    /* the next kept chunk large enough (smaller ones are skipped until a reset) */
    for (int j = (a->n > 0 ? a->cur + 1 : 0); j < a->n; j++) {
        if (a->chunks[j].size >= need) {
            a->cur = j;
            a->off = need;
            return a->chunks[j].ptr;
        }
    }
    if (!add_chunk(a, need)) return NULL;
    a->cur = a->n - 1;
    a->off = need;
    return a->chunks[a->cur].ptr;
}

eg_arena_mark eg__arena_mark(const eg_arena *a) {
    eg_arena_mark m = {a->cur, a->off};
    return m;
}

void eg__arena_reset(eg_arena *a, eg_arena_mark m) {
    a->cur = m.chunk;
    a->off = m.off;
}

void eg__arena_release(eg_arena *a) {
    for (int i = 0; i < a->n; i++) a->put(a->user, a->chunks[i].ptr);
    free(a->chunks);
    a->chunks = NULL;
    a->n = a->cap = 0;
    a->cur = 0;
    a->off = 0;
    a->reserved = 0;
}

size_t eg__arena_used(const eg_arena *a) {
    size_t used = 0;
    for (int i = 0; i < a->cur && i < a->n; i++) used += a->chunks[i].size;
    return used + a->off;
}
