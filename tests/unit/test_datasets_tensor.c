/* test_datasets_tensor.c — eg_dataset_rows / eg_dataset_gather / eg_dataset_labels
 * on the CPU backend: exact values, float64 conversion, and range errors recorded
 * on the context (sticky) instead of crashing. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "engram/source.h"
#include "registry/loader.h"

int main(void) {
    char err[1024] = "";
    eg_backend *b = NULL;
    if (eg_backend_open_start("cpu", 1, &b, err, sizeof err) != EG_OK) {
        char why[1200];
        snprintf(why, sizeof why, "cpu backend unavailable: %s", err);
        return eg_test_skip(why);
    }
    eg_ctx *ctx = NULL;
    CHECK(eg_ctx_create(b, &ctx) == EG_OK);
    if (!ctx) return eg_test_finish();

    eg_dataset *ds = eg_dataset_alloc("test", "all", 5, 1, 2, 3, 1); /* 5 items of 6 floats */
    CHECK(ds != NULL);
    if (!ds) return eg_test_finish();
    for (int i = 0; i < 30; i++)
        ((float *)ds->x)[i] = (float)i + 0.25f;
    for (int i = 0; i < 5; i++)
        ((int32_t *)ds->y)[i] = 10 * i;
    ds->n_classes = 50;

    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *r = eg_dataset_rows(ctx, ds, EG_F32, 1, 3);
    CHECK(eg_ndim(r) == 2 && eg_dim(r, 0) == 3 && eg_dim(r, 1) == 6);
    float got[30];
    CHECK(eg_to_host_f32(r, got) == EG_OK);
    CHECK(memcmp(got, ds->x + 6, 18 * sizeof(float)) == 0);

    eg_tensor *r64 = eg_dataset_rows(ctx, ds, EG_F64, 4, 1);
    double g64[6];
    CHECK(eg_dtype_of(r64) == EG_F64 && eg_to_host_f64(r64, g64) == EG_OK);
    for (int k = 0; k < 6; k++)
        CHECK(g64[k] == (double)ds->x[24 + k]);

    const int64_t idx[4] = {4, 0, 4, 2};
    eg_tensor *g = eg_dataset_gather(ctx, ds, EG_F32, idx, 4);
    CHECK(eg_dim(g, 0) == 4 && eg_dim(g, 1) == 6);
    CHECK(eg_to_host_f32(g, got) == EG_OK);
    for (int i = 0; i < 4; i++)
        CHECK(memcmp(got + 6 * i, ds->x + 6 * idx[i], 6 * sizeof(float)) == 0);

    eg_tensor *l = eg_dataset_labels(ctx, ds, 2, 3);
    int32_t lab[3] = {0};
    CHECK(eg_dtype_of(l) == EG_I32 && eg_numel(l) == 3);
    CHECK(eg_to_host(l, lab) == EG_OK);
    CHECK(lab[0] == 20 && lab[1] == 30 && lab[2] == 40);
    CHECK(eg_ctx_status(ctx) == EG_OK);

    /* errors: recorded on the context, the first one wins, nothing crashes */
    const int64_t bad_idx[2] = {1, 5};
    eg_tensor *bad = eg_dataset_gather(ctx, ds, EG_F32, bad_idx, 2);
    CHECK(bad != NULL);
    CHECK(eg_ctx_status(ctx) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "index 5 (position 1) out of range");
    eg_ctx_clear_error(ctx);
    CHECK(eg_dataset_rows(ctx, ds, EG_F32, 3, 3) != NULL);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "rows [3, 6) out of range");
    eg_ctx_clear_error(ctx);
    const int32_t *labels = ds->y;
    ds->y = NULL; /* pretend unlabelled */
    CHECK(eg_dataset_labels(ctx, ds, 0, 1) != NULL);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "has no labels");
    eg_ctx_clear_error(ctx);
    eg_scope_close(s);

    ds->y = labels; /* so eg_dataset_free releases them */
    eg_dataset_free(ds);
    eg_ctx_destroy(ctx);
    eg_backend_close(b);
    return eg_test_finish();
}
