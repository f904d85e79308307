/* strset.c — see strset.h. */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t slot_of(char *const *slots, size_t cap, const char *s) {
    size_t i = (size_t)fnv1a(s) & (cap - 1);
    while (slots[i] && strcmp(slots[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(eg_id_set *set) {
    size_t cap = set->cap ? set->cap * 2 : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i]) slots[slot_of(slots, cap, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return 0;
}

int eg_id_set_add(eg_id_set *set, const char *s) {
    if ((set->n + 1) * 2 > set->cap && grow(set) != 0) return -1; /* load factor <= 1/2 */
    size_t i = slot_of(set->slots, set->cap, s);
    if (set->slots[i]) return 0;
    if (!(set->slots[i] = strdup(s))) return -1;
    set->n++;
    return 1;
}

int eg_id_set_has(const eg_id_set *set, const char *s) {
    return set->cap && set->slots[slot_of(set->slots, set->cap, s)] != NULL;
}

void eg_id_set_free(eg_id_set *set) {
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof *set);
}
