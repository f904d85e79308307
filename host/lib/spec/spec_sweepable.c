/* spec_sweepable.c — the valid top-level keys, and which keys a sweep may set (a grid or
 * zip axis, a case, a random-search key): a leaf that spec_check.c and spec_random.c
 * both call, so the rule is written once. */
#include <stdio.h>
#include <string.h>

#include "spec_internal.h"

const char *const eg_spec_top_keys[] = {"experiment", "description", "model", "backend", "seeds",     "seed",
                                        "data",       "params",      "task",  "sweep",   "init_from", "timeout"};
const int eg_spec_n_top_keys = (int)(sizeof eg_spec_top_keys / sizeof *eg_spec_top_keys);

static const char *const sections[3] = {"data", "params", "task"};

static eg_status ent_fail(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *msg) {
    const char *file = e->v.file ? e->v.file : eg_intern(ctx->path);
    return spec_fail_at(ctx, file, e->kline, e->kcol, key, "%s", msg);
}

eg_status spec_unknown_top(const spec_ctx *ctx, const spec_ent *e, const char *key, const char *top) {
    char msg[600];
    const char *best = eg_did_you_mean(top, eg_spec_top_keys, eg_spec_n_top_keys);
    if (!strcmp(top, "include"))
        snprintf(msg, sizeof msg, "include is read where a file is loaded (a spec's or an included file's top "
                 "level); on the command line, choose an included group's option with GROUP=OPTION");
    else if (best)
        snprintf(msg, sizeof msg, "unknown top-level key '%s'; did you mean '%s'?", top, best);
    else {
        char all[300];
        spec_join(eg_spec_top_keys, eg_spec_n_top_keys, ", ", all, sizeof all);
        snprintf(msg, sizeof msg, "unknown top-level key '%s'; valid keys: %s", top, all);
    }
    return ent_fail(ctx, e, key, msg);
}

eg_status spec_check_sweepable(const spec_ctx *ctx, const spec_ent *e, const char *k, const char *full,
                               const char *seed_hint) {
    char top[64], msg[400];
    spec_first_seg(k, top, sizeof top);
    if (!spec_str_in(top, eg_spec_top_keys, eg_spec_n_top_keys)) return spec_unknown_top(ctx, e, full, top);
    if (!strcmp(top, "experiment") || !strcmp(top, "description") || !strcmp(top, "model")) {
        snprintf(msg, sizeof msg,
                 "'%s' cannot be swept (one spec is one experiment of one model); sweepable: "
                 "backend, init_from, timeout, data.*, params.*, task.*",
                 top);
        return ent_fail(ctx, e, full, msg);
    }
    if (!strcmp(top, "seed") || !strcmp(top, "seeds")) {
        snprintf(msg, sizeof msg, "seeds are not a sweep axis here; list them at the top level (seeds: [0, 1, 2])%s",
                 seed_hint ? seed_hint : "");
        return ent_fail(ctx, e, full, msg);
    }
    if (!strcmp(top, "sweep")) return ent_fail(ctx, e, full, "a sweep cannot set sweep keys");
    if (spec_str_in(top, sections, 3) && !strcmp(k, top)) {
        snprintf(msg, sizeof msg, "name a key inside %s (e.g. %s.<key>), not the whole section", top, top);
        return ent_fail(ctx, e, full, msg);
    }
    return EG_OK;
}
