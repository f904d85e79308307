/* spec_adaptive.c — adaptive search: sweep.adaptive. (stub) */
#include "spec_internal.h"

eg_status spec_check_adaptive_ent(const spec_ctx *ctx, const spec_ent *e) {
    return spec_fail_at(ctx, e->v.file, e->kline, e->kcol, e->key, "sweep.adaptive is not implemented yet");
}

eg_status spec_check_adaptive(const spec_ctx *ctx, const spec_ents *ents) {
    (void)ctx, (void)ents;
    return EG_OK;
}
