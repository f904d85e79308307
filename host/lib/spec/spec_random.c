/* spec_random.c — random search: sweep.random. (stub) */
#include "spec_internal.h"

eg_status spec_check_random_ent(const spec_ctx *ctx, const spec_ent *e) {
    return spec_fail_at(ctx, e->v.file, e->kline, e->kcol, e->key, "sweep.random is not implemented yet");
}

eg_status spec_check_random(const spec_ctx *ctx, const spec_ents *ents) {
    (void)ctx, (void)ents;
    return EG_OK;
}
