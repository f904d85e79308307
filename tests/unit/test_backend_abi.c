/* test_backend_abi.c — the backend loader refuses plugins built for another
 * ABI (major differs, minor newer, descriptor too short) and files without the
 * entry symbol, naming the file and both versions; the real CPU backend loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h"

static void refused(const char *dir, const char *name, eg_status want, const char *const *needles, int n) {
    char path[4096], err[4096] = "";
    snprintf(path, sizeof path, "%s/%s.so", dir, name);
    eg_backend *b = (eg_backend *)1;
    eg_status st = eg_backend_open(path, &b, err, sizeof err);
    CHECK_MSG(st == want, "%s: status %d (%s), want %d; message: %s", name, st, eg_strerror(st), want, err);
    CHECK(b == NULL);
    CHECK_STR_CONTAINS(err, path);
    for (int i = 0; i < n; i++)
        CHECK_STR_CONTAINS(err, needles[i]);
    if (st == EG_OK && b) eg_backend_close(b);
}

int main(void) {
    const char *dir = getenv("ENGRAM_TEST_PLUGINS");
    if (!dir || !*dir) return eg_test_skip("ENGRAM_TEST_PLUGINS is not set (run through ctest)");
    char host[32], newer[32];
    snprintf(host, sizeof host, "%d.%d", EG_BACKEND_ABI_MAJOR, EG_BACKEND_ABI_MINOR);
    snprintf(newer, sizeof newer, "%d.%d", EG_BACKEND_ABI_MAJOR, EG_BACKEND_ABI_MINOR + 7);

    const char *major[] = {"99.0", host, "major"};
    refused(dir, "abi_backend_wrong_major", EG_ERR_ABI, major, 3);
    const char *minor[] = {newer, host, "newer", "upgrade"};
    refused(dir, "abi_backend_newer_minor", EG_ERR_ABI, minor, 4);
    const char *shortd[] = {"24 bytes", "smaller"};
    refused(dir, "abi_backend_truncated", EG_ERR_ABI, shortd, 2);
    /* a model plugin is not a backend: its entry symbol is missing */
    const char *noentry[] = {"eg_backend_entry", "not an engram plugin"};
    refused(dir, "faulty_model", EG_ERR_LOAD, noentry, 2);

    /* unknown name: the search path is listed */
    char err[4096] = "";
    eg_backend *b = NULL;
    CHECK(eg_backend_open("no-such-backend", &b, err, sizeof err) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "engram-backend-no-such-backend.so");
    CHECK_STR_CONTAINS(err, "ENGRAM_PLUGIN_PATH");

    /* the CPU backend passes the same checks and starts */
    err[0] = 0;
    CHECK_MSG(eg_backend_open_start("cpu", 1, &b, err, sizeof err) == EG_OK, "cpu: %s", err);
    if (b) {
        CHECK(strcmp(b->desc->name, "cpu") == 0);
        CHECK(b->desc->abi_major == EG_BACKEND_ABI_MAJOR);
        eg_backend_close(b);
    }
    return eg_test_finish();
}
