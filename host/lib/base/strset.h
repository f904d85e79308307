/* strset.h — a set of strings (open addressing, FNV-1a), for checks that must stay
 * linear in the number of runs: duplicate run ids in a plan, files already seen. */
#ifndef EG_BASE_STRSET_H
#define EG_BASE_STRSET_H
#include <stddef.h>

typedef struct eg_id_set {
    char **slots;
    size_t cap, n;
} eg_id_set;

/* 1 when s was added, 0 when it was there already, -1 out of memory (s is copied) */
int eg_id_set_add(eg_id_set *set, const char *s);
int eg_id_set_has(const eg_id_set *set, const char *s);
void eg_id_set_free(eg_id_set *set);
#endif
