/* task_data.c — the built-in task kinds' rules that depend on the data (tasks.h):
 * what eg_retrieval_begin refuses, and what the classify, cluster and segment kinds
 * need from the source, checked on a config and a loaded dataset. */
#include <stdio.h>
#include <string.h>

#include "tasks.h"

int eg_retrieve_problem(int64_t memories, int64_t queries, int64_t blocks, const eg_corruption *c, const eg_dataset *ds,
                        const char **key, char *msg, size_t cap) {
    const char *src = ds->source ? ds->source : "the dataset";
    if (memories < 1) {
        *key = "task.memories";
        snprintf(msg, cap, "expected at least 1 item per block, got %lld", (long long)memories);
        return 1;
    }
    if (queries < 1 || queries > memories) {
        *key = "task.queries";
        snprintf(msg, cap, "expected 1 to task.memories (%lld) queries per block, got %lld", (long long)memories,
                 (long long)queries);
        return 1;
    }
    int64_t full = ds->n / memories;
    if (full < 1) {
        *key = "task.memories";
        snprintf(msg, cap, "%s has %lld items, fewer than one block of task.memories = %lld", src, (long long)ds->n,
                 (long long)memories);
        return 1;
    }
    if (blocks < 0 || blocks > full) {
        *key = "task.blocks";
        snprintf(msg, cap, "expected 0 (all) to %lld, the full blocks of task.memories = %lld items in %s; got %lld",
                 (long long)full, (long long)memories, src, (long long)blocks);
        return 1;
    }
    return eg_corruption_problem(c, ds, key, msg, cap);
}

static int64_t cfg_int(const eg_cfg *c, const char *key, int64_t dflt) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind == EG_VAL_INT ? v->i : dflt;
}

static const char *cfg_str(const eg_cfg *c, const char *key) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind == EG_VAL_STRING && v->s ? v->s : NULL;
}

/* 1 when name is one of the '|'-separated splits */
static int is_split(const char *splits, const char *name) {
    size_t len = strlen(name);
    for (const char *p = splits; p && *p;) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, name, len) == 0) return 1;
        p += n + (p[n] == '|');
    }
    return 0;
}

static int split_problem(const eg_cfg *run, const char *key, const eg_dataset *ds, const char *splits, const char **bad,
                         char *msg, size_t cap) {
    const char *name = cfg_str(run, key);
    if (!splits || !name || is_split(splits, name)) return 0;
    *bad = key;
    char list[512];
    size_t len = 0;
    for (const char *p = splits; *p && len + 3 < sizeof list; p++)
        len += (size_t)snprintf(list + len, sizeof list - len, *p == '|' ? ", " : "%c", *p);
    list[len < sizeof list ? len : sizeof list - 1] = 0;
    snprintf(msg, cap, "expected one of %s (the splits of %s), got '%s'", list, ds->source ? ds->source : "the source",
             name);
    return 1;
}

int eg_task_data_problem(const eg_cfg *run, const eg_dataset *ds, const char *splits, const char **key, char *msg,
                         size_t cap) {
    const char *kind = cfg_str(run, "task.kind");
    if (!kind) return 0;
    if (strcmp(kind, "retrieve") == 0) {
        eg_corruption c = eg_corruption_from_cfg(run);
        return eg_retrieve_problem(cfg_int(run, "task.memories", 100), cfg_int(run, "task.queries", 10),
                                   cfg_int(run, "task.blocks", 0), &c, ds, key, msg, cap);
    }
    if (strcmp(kind, "classify") == 0 || strcmp(kind, "cluster") == 0)
        return split_problem(run, "task.train_split", ds, splits, key, msg, cap) ||
               split_problem(run, "task.test_split", ds, splits, key, msg, cap);
    if (strcmp(kind, "segment") == 0 && !ds->groups) {
        *key = "data.source";
        snprintf(msg, cap,
                 "task.kind segment scores each item's pixel groups against the true ones, but %s has no "
                 "ground-truth groups",
                 ds->source ? ds->source : "the data");
        return 1;
    }
    return 0;
}
