/* spec_multirun.c — Hydra's command-line multirun ("key=a,b,c") as spec keys. (stub) */
#include <stdlib.h>

#include "spec_internal.h"

eg_status spec_multirun_rewrite(const spec_ctx *ctx, int i, const char *arg, char **out) {
    (void)ctx, (void)i, (void)arg;
    *out = NULL;
    return EG_OK;
}
