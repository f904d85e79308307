/* test_abi.c — the model plugin loader refuses plugins built for another ABI,
 * plugins without the entry symbol and plugins that cannot be linked, with a
 * message naming the file and both versions (or dlerror's text verbatim). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h"

static const char *dir;

static void fixture(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s.so", dir, name);
}

static void refused(const char *name, eg_status want, const char *const *needles, int n) {
    char path[4096], err[4096] = "", needle[4200];
    fixture(path, sizeof path, name);
    eg_model_plugin *m = (eg_model_plugin *)1;
    eg_status st = eg_model_open(path, &m, err, sizeof err);
    CHECK_MSG(st == want, "%s: status %d (%s), want %d; message: %s", name, st, eg_strerror(st), want, err);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(err, path);
    for (int i = 0; i < n; i++) {
        snprintf(needle, sizeof needle, "%s", needles[i]);
        CHECK_STR_CONTAINS(err, needle);
    }
    if (st == EG_OK && m) eg_model_close(m);
}

int main(void) {
    dir = getenv("ENGRAM_TEST_PLUGINS");
    if (!dir || !*dir) return eg_test_skip("ENGRAM_TEST_PLUGINS is not set (run through ctest)");
    char majors[64], minors[64], host[64];
    snprintf(host, sizeof host, "%d.%d", EG_MODEL_ABI_MAJOR, EG_MODEL_ABI_MINOR);

    /* major differs: both versions named */
    snprintf(majors, sizeof majors, "99.0");
    const char *wrong_major[] = {majors, host, "major"};
    refused("abi_wrong_major", EG_ERR_ABI, wrong_major, 3);

    /* minor newer than the host's: both versions named, and the advice to upgrade */
    snprintf(minors, sizeof minors, "%d.%d", EG_MODEL_ABI_MAJOR, EG_MODEL_ABI_MINOR + 7);
    const char *newer_minor[] = {minors, host, "newer", "upgrade"};
    refused("abi_newer_minor", EG_ERR_ABI, newer_minor, 4);

    /* no entry symbol */
    const char *no_entry[] = {"eg_model_entry", "not an engram plugin"};
    refused("abi_no_entry", EG_ERR_LOAD, no_entry, 2);

    /* unresolved symbol: dlopen(RTLD_NOW) fails, its message is shown verbatim */
    const char *undefined[] = {"undefined symbol", "eg_fixture_symbol_that_does_not_exist"};
    refused("abi_undefined_symbol", EG_ERR_LOAD, undefined, 2);

    /* a missing file is named */
    char err[4096] = "";
    eg_model_plugin *m = NULL;
    CHECK(eg_model_open("/nonexistent/dir/engram-model-x.so", &m, err, sizeof err) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "/nonexistent/dir/engram-model-x.so");

    /* a good plugin of the same ABI loads, with its descriptor intact */
    char path[4096];
    fixture(path, sizeof path, "faulty_model");
    eg_status st = eg_model_open(path, &m, err, sizeof err);
    CHECK_MSG(st == EG_OK, "faulty_model: %s", err);
    if (st == EG_OK) {
        CHECK(strcmp(m->desc->name, "faulty") == 0);
        CHECK(m->desc->abi_major == EG_MODEL_ABI_MAJOR);
        CHECK(m->desc->n_params == 5);
        eg_model_close(m);
    }

    /* eg_check_abi directly: an older minor is accepted, a too-small descriptor is not */
    CHECK(eg_check_abi("p.so", "model", EG_MODEL_ABI_MAJOR, 0, EG_MODEL_ABI_MAJOR, EG_MODEL_ABI_MINOR + 1, 200, 100,
                       err, sizeof err) == EG_OK);
    CHECK(eg_check_abi("p.so", "model", EG_MODEL_ABI_MAJOR, 0, EG_MODEL_ABI_MAJOR, 0, 50, 100, err, sizeof err) ==
          EG_ERR_ABI);
    CHECK_STR_CONTAINS(err, "p.so");
    return eg_test_finish();
}
