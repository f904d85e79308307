/* test_scope.c — scopes release everything they allocated: arenas return to
 * their marks, the tape is truncated, repeated training steps stop calling
 * backend->alloc after the first, persistent tensors survive, and every backend
 * allocation is freed by eg_ctx_destroy. Runs under valgrind in
 * unit/scope_valgrind. */
#include <string.h>

#include "core/core_internal.h"
#include "test_tensor_util.h"

/* a counting wrapper around the CPU backend's allocator */
static eg_backend_desc counting;
static const eg_backend_desc *real;
static int64_t n_alloc, n_free;

static eg_status count_alloc(void *ctx, size_t bytes, void **p) {
    eg_status st = real->alloc(ctx, bytes, p);
    if (st == EG_OK) n_alloc++;
    return st;
}
static void count_free(void *ctx, void *p) {
    n_free++;
    real->free(ctx, p);
}

static int tape_len(const eg_ctx *ctx) {
    int n = 0;
    for (const eg_node *p = ctx->tape; p; p = p->prev) n++;
    return n;
}

/* one training step of a small MLP: forward, loss, backward */
static void step(eg_ctx *ctx, eg_tensor *w1, eg_tensor *w2, int i) {
    eg_tensor *x = eg_full(ctx, EG_F32, EG_DIMS(16, 8), 0.01 * (i % 7));
    eg_tensor *h = eg_tanh(eg_matmul(x, w1));
    eg_tensor *y = eg_softmax(eg_matmul(h, w2), -1);
    eg_tensor *loss = eg_mean_all(eg_square(eg_sub(y, eg_scalar(ctx, EG_F32, 0.25))));
    eg_backward(loss);
}

int main(void) {
    eg_ctx *probe = tu_open();
    if (!probe) {
        CHECK(probe != NULL);
        return eg_test_finish();
    }
    eg_ctx_destroy(probe);
    real = tu_backend->desc;
    counting = *real;
    counting.alloc = count_alloc;
    counting.free = count_free;
    eg_backend wrapped = *tu_backend;
    wrapped.desc = &counting;
    eg_ctx *ctx = NULL;
    CHECK(eg_ctx_create(&wrapped, &ctx) == EG_OK);
    if (!ctx) return eg_test_finish();

    /* marks: open, allocate, close -> back to the mark */
    size_t dev0 = eg__arena_used(&ctx->dev), host0 = eg__arena_used(&ctx->host);
    int tape0 = tape_len(ctx);
    eg_scope *s = eg_scope_open(ctx);
    CHECK(ctx->depth == 1);
    eg_tensor *a = eg_full(ctx, EG_F32, EG_DIMS(100, 100), 1.0);
    eg_requires_grad(a, 1);
    eg_tensor *b = eg_sum_all(eg_mul(a, a));
    CHECK(eg__arena_used(&ctx->dev) > dev0 && eg__arena_used(&ctx->host) > host0);
    CHECK(tape_len(ctx) == tape0 + 2);
    CHECK(eg_backward(b) == EG_OK && eg_grad(a) != NULL);
    CHECK(fabs(eg_item(b) - 10000.0) < 1e-3);
    /* nested scopes: closing the outer one closes the inner one too */
    eg_scope *inner = eg_scope_open(ctx);
    eg_tensor *c = eg_scale(a, 3.0);
    (void)c;
    CHECK(ctx->depth == 2);
    eg_scope_close(s);
    CHECK(ctx->depth == 0);
    eg_scope_close(inner); /* already closed: a no-op */
    CHECK(eg__arena_used(&ctx->dev) == dev0 && eg__arena_used(&ctx->host) == host0);
    CHECK(tape_len(ctx) == tape0);

    /* a scoped leaf's gradient lives in the scope current at backward time */
    eg_scope *outer = eg_scope_open(ctx);
    eg_tensor *leaf = eg_full(ctx, EG_F64, EG_DIMS(3), 2.0);
    eg_requires_grad(leaf, 1);
    eg_tensor *loss = eg_sum_all(eg_square(leaf));
    eg_scope *bw = eg_scope_open(ctx);
    CHECK(eg_backward(loss) == EG_OK);
    CHECK(eg_grad(leaf) != NULL && fabs(eg_item(eg_grad(leaf)) - 4.0) < 1e-12);
    eg_scope_close(bw);
    CHECK(eg_grad(leaf) == NULL);
    eg_scope *again = eg_scope_open(ctx); /* a new scope at the same depth does not revive it */
    CHECK(eg_grad(leaf) == NULL);
    eg_scope_close(again);
    CHECK(eg_backward(loss) == EG_OK && fabs(eg_item(eg_grad(leaf)) - 4.0) < 1e-12);
    eg_scope_close(outer);

    /* persistent tensors survive scopes; their gradients are persistent and accumulate */
    eg_tensor *w1 = eg_param(ctx, EG_F32, EG_DIMS(8, 32));
    eg_tensor *w2 = eg_param(ctx, EG_F32, EG_DIMS(32, 4));
    eg_fill(w1, 0.05);
    eg_fill(w2, -0.02);
    eg_scope *s1 = eg_scope_open(ctx);
    step(ctx, w1, w2, 0);
    eg_scope_close(s1);
    CHECK(eg_grad(w1) != NULL && eg_grad(w2) != NULL);
    float w1v[256];
    CHECK(eg_to_host_f32(w1, w1v) == EG_OK && w1v[0] == 0.05f && w1v[255] == 0.05f);

    /* steady state: after warm-up, 200 steps allocate nothing from the backend
     * and leave both arenas exactly where they were */
    size_t dmark = eg__arena_used(&ctx->dev), hmark = eg__arena_used(&ctx->host);
    int64_t allocs_before = n_alloc;
    size_t reserved = ctx->dev.reserved;
    for (int i = 0; i < 200; i++) {
        eg_scope *st = eg_scope_open(ctx);
        step(ctx, w1, w2, i);
        eg_scope_close(st);
    }
    CHECK_MSG(n_alloc == allocs_before, "backend allocations grew from %lld to %lld", (long long)allocs_before,
              (long long)n_alloc);
    CHECK(ctx->dev.reserved == reserved);
    CHECK(eg__arena_used(&ctx->dev) == dmark && eg__arena_used(&ctx->host) == hmark);
    CHECK(eg_ctx_status(ctx) == EG_OK);

    /* a step larger than the first chunk grows the arena once, then reuses it */
    for (int k = 0; k < 3; k++) {
        int64_t before = n_alloc;
        eg_scope *big = eg_scope_open(ctx);
        eg_tensor *t = eg_zeros(ctx, EG_F32, EG_DIMS(3, 1 << 21)); /* 24 MiB */
        eg_tensor *u = eg_add_scalar(t, 1.0);
        CHECK(fabs(eg_item(eg_sum_all(u)) - 3.0 * (1 << 21)) < 1.0);
        eg_scope_close(big);
        if (k > 0) CHECK_MSG(n_alloc == before, "repeat %d allocated %lld times", k, (long long)(n_alloc - before));
    }

    /* ops with no scope open go to the root scope (freed by eg_ctx_destroy) */
    size_t root0 = eg__arena_used(&ctx->dev);
    eg_tensor *r = eg_full(ctx, EG_F32, EG_DIMS(1000), 1.0);
    CHECK(eg__arena_used(&ctx->dev) > root0 && eg_item(r) == 1.0);

    /* eg_tensor_free on a scoped tensor is a no-op; on a persistent one it releases memory */
    int64_t frees = n_free;
    eg_tensor_free(r);
    CHECK(n_free == frees);
    eg_tensor *p = eg_persistent(ctx, EG_F64, EG_DIMS(5));
    eg_tensor_free(p);
    CHECK(n_free == frees + 1);

    eg_ctx_destroy(ctx);
    CHECK_MSG(n_alloc == n_free, "backend allocations %lld, frees %lld", (long long)n_alloc, (long long)n_free);
    tu_close(NULL);
    return eg_test_finish();
}
