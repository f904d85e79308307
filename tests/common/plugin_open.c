/* plugin_open.c — dlopen a model plugin of the build for tests that call its
 * internal functions (plugins are MODULE libraries, so tests cannot link them). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

void *eg_test_open_model(const char *name) {
    const char *dirs[2] = {getenv("ENGRAM_PLUGIN_PATH"), getenv("ENGRAM_BUILD")};
    char path[4096];
    for (int i = 0; i < 2; i++) {
        if (!dirs[i]) continue;
        snprintf(path, sizeof path, i == 0 ? "%s/engram-model-%s.so" : "%s/plugins/engram-model-%s.so", dirs[i], name);
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (dl) return dl;
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    }
    return NULL;
}
