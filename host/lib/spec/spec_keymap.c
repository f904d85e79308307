/* spec_keymap.c — the hash maps that keep loading a spec linear: a map from a
 * string to an int (open addressing, linear probing, FNV-1a) and a counting set
 * of 64-bit hashes (how many live keys lie under a prefix). Keys are not copied:
 * the caller keeps each key alive while it is in the map, or removes it first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

static const char tomb[] = ""; /* a removed slot: lookups probe past it */
#define IS_TOMB(k) ((k) == tomb)

uint64_t spec_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

void spec_map_free(spec_map *m) {
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static eg_status map_grow(spec_map *m) {
    size_t cap = m->cap ? 2 * m->cap : 64;
    while (cap < 4 * (size_t)m->live + 64)
        cap *= 2;
    spec_map_slot *s = calloc(cap, sizeof *s);
    if (!s) return EG_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        const spec_map_slot *o = &m->slot[i];
        if (!o->key || IS_TOMB(o->key)) continue;
        size_t j = o->hash & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = *o;
    }
    free(m->slot);
    m->slot = s;
    m->cap = cap;
    m->used = m->live;
    return EG_OK;
}

static spec_map_slot *map_slot(const spec_map *m, const char *key, size_t n, uint64_t h) {
    if (!m->cap) return NULL;
    for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        spec_map_slot *s = &m->slot[j];
        if (!s->key) return NULL;
        if (!IS_TOMB(s->key) && s->hash == h && strncmp(s->key, key, n) == 0 && s->key[n] == 0) return s;
    }
}

int spec_map_getn(const spec_map *m, const char *key, size_t n) {
    const spec_map_slot *s = map_slot(m, key, n, spec_hash(key, n));
    return s ? s->val : -1;
}

int spec_map_get(const spec_map *m, const char *key) {
    return spec_map_getn(m, key, strlen(key));
}

eg_status spec_map_put(spec_map *m, const char *key, int val) {
    size_t n = strlen(key);
    uint64_t h = spec_hash(key, n);
    spec_map_slot *s = map_slot(m, key, n, h);
    if (s) {
        s->key = key;
        s->val = val;
        return EG_OK;
    }
    if (2 * (m->used + 1) > m->cap) { /* load <= 1/2, tombstones included */
        eg_status st = map_grow(m);
        if (st != EG_OK) return st;
    }
    size_t j = h & (m->cap - 1);
    while (m->slot[j].key)
        j = (j + 1) & (m->cap - 1);
    m->slot[j] = (spec_map_slot){key, h, val};
    m->used++;
    m->live++;
    return EG_OK;
}

void spec_map_del(spec_map *m, const char *key) {
    size_t n = strlen(key);
    spec_map_slot *s = map_slot(m, key, n, spec_hash(key, n));
    if (!s) return;
    s->key = tomb;
    m->live--;
}

/* ---- counting set of hashes ---- */

void spec_hcount_free(spec_hcount *c) {
    free(c->slot);
    memset(c, 0, sizeof *c);
}

static eg_status hc_grow(spec_hcount *c) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    spec_hc_slot *s = calloc(cap, sizeof *s);
    if (!s) return EG_ERR_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slot[i].count) continue; /* entries back at 0 are dropped */
        size_t j = c->slot[i].hash & (cap - 1);
        while (s[j].seen)
            j = (j + 1) & (cap - 1);
        s[j] = c->slot[i];
        used++;
    }
    free(c->slot);
    c->slot = s;
    c->cap = cap;
    c->used = used;
    return EG_OK;
}

/* a slot never used has seen == 0; one whose count fell back to 0 stays in its chain */
static spec_hc_slot *hc_find(const spec_hcount *c, uint64_t h) {
    if (!c->cap) return NULL;
    for (size_t j = h & (c->cap - 1);; j = (j + 1) & (c->cap - 1)) {
        spec_hc_slot *s = &c->slot[j];
        if (!s->count && !s->seen) return NULL;
        if (s->seen && s->hash == h) return s;
    }
}

eg_status spec_hcount_add(spec_hcount *c, uint64_t h, int delta) {
    spec_hc_slot *s = hc_find(c, h);
    if (s) {
        s->count += delta;
        return EG_OK;
    }
    if (delta <= 0) return EG_OK;
    if (2 * (c->used + 1) > c->cap) {
        eg_status st = hc_grow(c);
        if (st != EG_OK) return st;
    }
    size_t j = h & (c->cap - 1);
    while (c->slot[j].seen)
        j = (j + 1) & (c->cap - 1);
    c->slot[j] = (spec_hc_slot){h, delta, 1};
    c->used++;
    return EG_OK;
}

long spec_hcount_get(const spec_hcount *c, uint64_t h) {
    const spec_hc_slot *s = hc_find(c, h);
    return s ? s->count : 0;
}
