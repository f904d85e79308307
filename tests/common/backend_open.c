/* backend_open.c — the CPU backend and a context on it, for tests that need one. */
#include <stdio.h>

#include "check.h"
#include "registry/loader.h"

eg_ctx *eg_test_cpu_ctx(int threads, eg_backend **be) {
    char err[512] = "";
    eg_ctx *ctx = NULL;
    *be = NULL;
    if (eg_backend_open_start("cpu", threads, be, err, sizeof err) != EG_OK) {
        fprintf(stderr, "cpu backend: %s\n", err);
        CHECK(0);
        return NULL;
    }
    CHECK(eg_ctx_create(*be, &ctx) == EG_OK);
    return ctx;
}
