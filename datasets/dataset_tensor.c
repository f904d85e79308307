/* dataset_tensor.c — the data.h views that turn a dataset's host rows into
 * tensors on the run's backend (rows, gathered rows, labels). Range errors are
 * recorded on the context (sticky) and a zero placeholder is returned. */
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"

/* records "what" on ctx (first error wins) and returns a placeholder [rows, cols] tensor */
static eg_tensor *bad(eg_ctx *ctx, eg_dtype dt, int64_t rows, int64_t cols, const char *what) {
    eg_ctx_fail(ctx, EG_ERR_INVALID, "%s", what);
    return eg_zeros(ctx, dt, EG_DIMS(rows > 0 ? rows : 0, cols > 0 ? cols : 1));
}

eg_tensor *eg_dataset_rows(eg_ctx *ctx, const eg_dataset *ds, eg_dtype dt, int64_t start, int64_t count) {
    if (!ds || !ds->x) return bad(ctx, dt, count, ds ? ds->dim : 1, "eg_dataset_rows: dataset has no data");
    if (start < 0 || count < 0 || start > ds->n || count > ds->n - start) {
        eg_ctx_fail(ctx, EG_ERR_INVALID,
                    "eg_dataset_rows: rows [%lld, %lld) out of range (dataset %s/%s has %lld items)", (long long)start,
                    (long long)(start + count), ds->source, ds->split, (long long)ds->n);
        return eg_zeros(ctx, dt, EG_DIMS(count > 0 ? count : 0, ds->dim));
    }
    return eg_from_f32(ctx, dt, EG_DIMS(count, ds->dim), ds->x + start * ds->dim);
}

eg_tensor *eg_dataset_gather(eg_ctx *ctx, const eg_dataset *ds, eg_dtype dt, const int64_t *idx, int64_t count) {
    if (!ds || !ds->x || count < 0 || (count > 0 && !idx))
        return bad(ctx, dt, count, ds ? ds->dim : 1, "eg_dataset_gather: no data, no indices or a negative count");
    for (int64_t i = 0; i < count; i++)
        if (idx[i] < 0 || idx[i] >= ds->n) {
            eg_ctx_fail(ctx, EG_ERR_INVALID,
                        "eg_dataset_gather: index %lld (position %lld) out of range (dataset %s/%s has %lld items)",
                        (long long)idx[i], (long long)i, ds->source, ds->split, (long long)ds->n);
            return eg_zeros(ctx, dt, EG_DIMS(count, ds->dim));
        }
    float *buf = malloc(count > 0 ? (size_t)count * (size_t)ds->dim * sizeof(float) : 1);
    if (!buf) {
        eg_ctx_fail(ctx, EG_ERR_NOMEM, "eg_dataset_gather: out of memory for %lld rows of %lld floats",
                    (long long)count, (long long)ds->dim);
        return eg_zeros(ctx, dt, EG_DIMS(count, ds->dim));
    }
    for (int64_t i = 0; i < count; i++)
        memcpy(buf + i * ds->dim, ds->x + idx[i] * ds->dim, (size_t)ds->dim * sizeof(float));
    eg_tensor *t = eg_from_f32(ctx, dt, EG_DIMS(count, ds->dim), buf);
    free(buf);
    return t;
}

eg_tensor *eg_dataset_labels(eg_ctx *ctx, const eg_dataset *ds, int64_t start, int64_t count) {
    if (!ds || !ds->y) {
        eg_ctx_fail(ctx, EG_ERR_INVALID, "eg_dataset_labels: dataset %s/%s has no labels", ds ? ds->source : "?",
                    ds ? ds->split : "?");
        return eg_zeros(ctx, EG_I32, EG_DIMS(count > 0 ? count : 0));
    }
    if (start < 0 || count < 0 || start > ds->n || count > ds->n - start) {
        eg_ctx_fail(ctx, EG_ERR_INVALID,
                    "eg_dataset_labels: labels [%lld, %lld) out of range (dataset %s/%s has %lld items)",
                    (long long)start, (long long)(start + count), ds->source, ds->split, (long long)ds->n);
        return eg_zeros(ctx, EG_I32, EG_DIMS(count > 0 ? count : 0));
    }
    return eg_from_host(ctx, EG_I32, EG_DIMS(count), ds->y + start);
}
