/* test_retrieval_score.c — the retrieve task's blocks, scoring, energy series,
 * grid and errors (engram/retrieval.h), on an in-process run context built
 * around a tiny hand-made dataset (run_internal.h), so every metric has a
 * value known in advance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engram/retrieval.h"
#include "registry/loader.h"
#include "results/results_impl.h"
#include "run/run_internal.h"

static eg_ctx *ctx;

/* 9 items of 1 x 2 x 2 pixels, dyadic values so distances are exact; item 2 duplicates item 0 */
static float items[9 * 4] = {
    0.125f, 0.25f,  0.375f, 0.5f,   /* 0 */
    0.875f, 0.75f,  0.625f, 0.5f,   /* 1 */
    0.125f, 0.25f,  0.375f, 0.5f,   /* 2 = 0 */
    0.5f,   0.125f, 0.875f, 0.125f, /* 3 */
    0.25f,  0.875f, 0.125f, 0.75f,  /* 4 */
    0.625f, 0.625f, 0.25f,  0.375f, /* 5 */
    0.375f, 0.375f, 0.375f, 0.375f, /* 6 */
    0.75f,  0.125f, 0.5f,   0.875f, /* 7 */
    0.5f,   0.625f, 0.75f,  0.875f, /* 8 */
};

typedef struct fixture {
    eg_run run;
    eg_cfg cfg;
    eg_dataset ds;
    eg_run_split split;
} fixture;

static void set(eg_cfg *c, const char *key, const char *text) {
    eg_value v;
    CHECK(eg_value_parse(text, &v) == EG_OK);
    CHECK(eg_cfg_set(c, key, &v) == EG_OK);
    eg_value_free(&v);
}

/* a run over `items` with task.memories = 3, queries = 2 and the given blocks / corruption */
static void setup(fixture *f, const char *blocks, const char *kind) {
    memset(f, 0, sizeof *f);
    eg_cfg_init(&f->cfg);
    set(&f->cfg, "seed", "4");
    set(&f->cfg, "data.split", "all");
    set(&f->cfg, "task.kind", "retrieve");
    set(&f->cfg, "task.memories", "3");
    set(&f->cfg, "task.queries", "2");
    set(&f->cfg, "task.blocks", blocks);
    set(&f->cfg, "task.tolerance", "0.5");
    set(&f->cfg, "task.corrupt.kind", kind);
    set(&f->cfg, "task.corrupt.sigma", "0.3");
    f->ds.source = "test-items", f->ds.split = "all";
    f->ds.n = 9, f->ds.dim = 4, f->ds.channels = 1, f->ds.height = 2, f->ds.width = 2, f->ds.x = items;
    f->split.split = "all", f->split.ds = &f->ds;
    f->run.cfg = &f->cfg;
    f->run.ctx = ctx;
    f->run.record = eg_record_new();
    f->run.splits = &f->split;
    f->run.n_splits = 1;
}

static void teardown(fixture *f) {
    eg_record_free(f->run.record);
    eg_cfg_free(&f->cfg);
    eg_ctx_clear_error(ctx);
}

static double metric(const fixture *f, const char *name) {
    const eg_record *r = f->run.record;
    for (int i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metric_names[i], name) == 0) return r->metric_values[i];
    return NAN;
}

static eg_tensor *rows_of(const float *v, int64_t n) {
    return eg_from_f32(ctx, EG_F32, EG_DIMS(n, 4), v);
}

static void test_metrics(void) {
    fixture f;
    setup(&f, "0", "none");
    eg_retrieval r = eg_retrieval_begin(&f.run);
    CHECK(r.status == EG_OK && r.blocks == 3 && r.memories == 3 && r.queries == 2 && r.dim == 4);
    eg_scope *s = eg_scope_open(ctx);
    float q0[8], m1[12];
    CHECK(eg_to_host_f32(eg_retrieval_queries(&r, 0), q0) == EG_OK); /* kind none: the clean items */
    CHECK(memcmp(q0, items, sizeof q0) == 0);
    CHECK(eg_to_host_f32(eg_retrieval_memories(&r, 1), m1) == EG_OK);
    CHECK(memcmp(m1, items + 12, sizeof m1) == 0);
    /* block 0: query 0 ends on item 0 (duplicated as item 2: still success);
     * query 1 ends halfway between items 1 and 0: a tie, a failure (distance^2 0.21875) */
    float b0[8] = {0.125f, 0.25f, 0.375f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    float st0[2] = {1, 2};
    CHECK(eg_retrieval_score(&r, 0, rows_of(b0, 2), eg_from_f32(ctx, EG_F32, EG_DIMS(2), st0)) == EG_OK);
    float e0[2] = {1, 2}, e1[2] = {0, 0};
    eg_retrieval_energy(&r, 0, eg_from_f32(ctx, EG_F32, EG_DIMS(2), e0));
    eg_retrieval_energy(&r, 1, eg_from_f32(ctx, EG_F32, EG_DIMS(2), e1));
    /* block 1: query 0 (item 3) ends near it (0.015625); query 1 (item 4) ends on item 5 (0.359375) */
    float b1[8] = {0.5f, 0.125f, 0.875f, 0.25f, 0.625f, 0.625f, 0.25f, 0.375f};
    CHECK(eg_retrieval_score(&r, 1, rows_of(b1, 2), eg_scalar(ctx, EG_F32, 3)) == EG_OK);
    float e2[2] = {3, 4};
    eg_retrieval_energy(&r, 0, eg_from_f32(ctx, EG_F32, EG_DIMS(2), e2));
    eg_scope_close(s);
    CHECK(eg_retrieval_end(&r) == EG_OK);
    CHECK_NEAR(metric(&f, "retrieval/success"), 0.5, 1e-12, 0);
    /* tolerance 0.5: distances 0, 0.468, 0.125, 0.599 */
    CHECK_NEAR(metric(&f, "retrieval/within_tol"), 0.75, 1e-12, 0);
    CHECK_NEAR(metric(&f, "retrieval/mse"), (0 + 0.21875 + 0.015625 + 0.359375) / 16, 1e-9, 0);
    CHECK_NEAR(metric(&f, "retrieval/steps"), (1 + 2 + 3 + 3) / 4.0, 1e-12, 0);
    /* energy series: step 0 = mean(1, 2, 3, 4), step 1 = mean(0, 0) */
    const eg_record *rec = f.run.record;
    const eg_rec_series *es = NULL;
    for (int i = 0; i < rec->n_series; i++)
        if (strcmp(rec->series[i].name, "retrieval/energy") == 0) es = &rec->series[i];
    CHECK(es && es->n == 2);
    if (es && es->n == 2) {
        const eg_series_row *row = es->rows;
        CHECK(row[0].step == 0 && row[1].step == 1);
        CHECK_NEAR(row[0].value, 2.5, 1e-12, 0);
        CHECK_NEAR(row[1].value, 0.0, 1e-12, 0);
    }
    /* grid: block 0, rows of (query, retrieved, target), uint8 [6, 2, 2, 1] */
    const eg_rec_tensor *g = NULL;
    for (int i = 0; i < rec->n_artifacts; i++)
        if (strcmp(rec->artifacts[i].name, "retrieval/grid") == 0) g = &rec->artifacts[i];
    CHECK(g != NULL);
    if (g) {
        CHECK(g->ndim == 4 && g->shape[0] == 6 && g->shape[1] == 2 && g->shape[2] == 2 && g->shape[3] == 1);
        CHECK(strcmp(g->kind, "image-grid") == 0);
        const uint8_t *p = g->data;
        CHECK(p[0] == 32 && p[3] == 128);                    /* query 0 = item 0: 0.125, 0.5 */
        CHECK(p[4] == 32 && p[8] == 32);                     /* retrieved, target */
        CHECK(p[12] == 223 && p[16] == 128 && p[20] == 223); /* query 1 = item 1, retrieved 0.5, target */
    }
    teardown(&f);
}

static void test_errors(void) {
    fixture f;
    setup(&f, "2", "none");
    eg_retrieval r = eg_retrieval_begin(&f.run);
    CHECK(r.status == EG_OK && r.blocks == 2);
    eg_scope *s = eg_scope_open(ctx);
    float bad[12] = {0};
    CHECK(eg_retrieval_score(&r, 0, rows_of(bad, 3), NULL) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(f.run.fail_msg, "eg_retrieval_score: expected final states [2, k]");
    CHECK(eg_retrieval_score(&r, 1, rows_of(bad, 2), NULL) == EG_ERR_INVALID); /* sticky */
    eg_scope_close(s);
    CHECK(eg_retrieval_end(&r) == EG_ERR_INVALID);
    CHECK(isnan(metric(&f, "retrieval/success"))); /* nothing written after an error */
    teardown(&f);

    setup(&f, "4", "none"); /* 9 items hold 3 blocks of 3 */
    r = eg_retrieval_begin(&f.run);
    CHECK(r.status == EG_ERR_SPEC && r.blocks == 0);
    CHECK_STR_CONTAINS(f.run.fail_msg, "task.blocks: expected 0 (all) to 3");
    CHECK(eg_retrieval_end(&r) == EG_ERR_SPEC);
    teardown(&f);

    setup(&f, "0", "none");
    r = eg_retrieval_begin(&f.run);
    CHECK(eg_retrieval_end(&r) == EG_ERR_INTERNAL); /* the plugin never scored */
    CHECK_STR_CONTAINS(f.run.fail_msg, "no block was scored");
    teardown(&f);
}

/* block b's corrupted queries do not depend on how many blocks are evaluated */
static void test_block_determinism(void) {
    float a[8], b[8], c[8];
    fixture f;
    setup(&f, "2", "noise");
    eg_retrieval r = eg_retrieval_begin(&f.run);
    eg_scope *s = eg_scope_open(ctx);
    CHECK(eg_to_host_f32(eg_retrieval_queries(&r, 1), a) == EG_OK);
    CHECK(eg_to_host_f32(eg_retrieval_queries(&r, 0), c) == EG_OK);
    eg_scope_close(s);
    eg_retrieval_end(&r); /* unscored: fails, frees */
    teardown(&f);
    setup(&f, "3", "noise");
    r = eg_retrieval_begin(&f.run);
    s = eg_scope_open(ctx);
    CHECK(eg_to_host_f32(eg_retrieval_queries(&r, 1), b) == EG_OK);
    eg_scope_close(s);
    eg_retrieval_end(&r);
    teardown(&f);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, items + 12, sizeof a) != 0); /* noisy */
    /* blocks 0 and 1 differ in their noise, not only in their items */
    int same_noise = 1;
    for (int i = 0; i < 8; i++)
        same_noise &= fabsf((a[i] - items[12 + i]) - (c[i] - items[i])) < 1e-6f;
    CHECK(!same_noise);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(2, &be);
    if (!ctx) return eg_test_finish();
    test_metrics();
    test_errors();
    test_block_determinism();
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
