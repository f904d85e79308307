/* run_params.c — a model's whole parameter set saved to, and loaded from, the run file's
 * /weights (eg_save_params / eg_load_params), each tensor under "<prefix><name>". */
#include <stdio.h>

#include "engram/plugin.h"

eg_status eg_save_params(eg_run *run, const char *prefix, const eg_params *ps) {
    char name[256];
    for (int i = 0; i < eg_params_count(ps); i++) {
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", eg_params_name(ps, i));
        eg_status st = eg_save_tensor(run, name, eg_params_get(ps, i));
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

static void shape_str(const eg_tensor *t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < eg_ndim(t) && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, k ? ", %lld" : "%lld", (long long)eg_dim(t, k));
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

eg_status eg_load_params(eg_run *run, const char *prefix, eg_params *ps) {
    char name[256];
    for (int i = 0; i < eg_params_count(ps); i++) {
        eg_tensor *dst = eg_params_get(ps, i);
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", eg_params_name(ps, i));
        eg_tensor *t = eg_load_tensor(run, name, eg_dtype_of(dst));
        if (!t) return EG_ERR_NOTFOUND; /* eg_load_tensor explained it */
        int same = eg_ndim(t) == eg_ndim(dst);
        for (int k = 0; same && k < eg_ndim(t); k++)
            same = eg_dim(t, k) == eg_dim(dst, k);
        if (!same) {
            char have[96], want[96];
            shape_str(t, have, sizeof have);
            shape_str(dst, want, sizeof want);
            eg_tensor_free(t);
            return eg_run_fail(run, EG_ERR_SPEC,
                               "init_from: weight '%s' has shape %s, this run's model expects %s: give this run the "
                               "same size parameters as the run that saved it",
                               name, have, want);
        }
        eg_assign(dst, t);
        eg_tensor_free(t);
    }
    return eg_ctx_status(eg_run_ctx(run));
}
