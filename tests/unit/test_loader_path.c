/* test_loader_path.c — the plugin search path honours every ENGRAM_PLUGIN_PATH
 * entry however many there are (it once kept 60 entries in 64 slots plus four
 * fixed directories, leaving no NULL terminator), finds a plugin behind 100
 * empty directories, lists them all when nothing is found, and scans them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "registry/loader.h"

enum { N_EMPTY = 100 };

/* "/nonexistent/engram-0:...:/nonexistent/engram-99" (+ ":tail" when tail is set) */
static char *long_path(const char *tail) {
    size_t cap = N_EMPTY * 32 + (tail ? strlen(tail) : 0) + 2;
    char *p = malloc(cap);
    size_t off = 0;
    for (int i = 0; i < N_EMPTY; i++)
        off += (size_t)snprintf(p + off, cap - off, "%s/nonexistent/engram-%d", i ? ":" : "", i);
    if (tail) snprintf(p + off, cap - off, ":%s", tail);
    return p;
}

int main(void) {
    const char *plugins = getenv("ENGRAM_PLUGIN_PATH");
    if (!plugins || !*plugins) return eg_test_skip("ENGRAM_PLUGIN_PATH is not set (run through ctest)");
    char *dirs = strdup(plugins);
    char err[8192] = "";

    /* a plugin behind 100 directories that do not exist, in a directory of its own (a link
     * named engram-model-hopfield.so), so finding it there and not in the build tree's
     * fallback directory shows that the 101st entry was searched */
    char own[] = "/tmp/eg-loader-XXXXXX", link[4200], target[4200];
    CHECK(mkdtemp(own) != NULL);
    char *first = strtok(dirs, ":");
    snprintf(target, sizeof target, "%s/engram-model-hopfield.so", first ? first : ".");
    snprintf(link, sizeof link, "%s/engram-model-hopfield.so", own);
    CHECK(symlink(target, link) == 0);
    char *path = long_path(own);
    setenv("ENGRAM_PLUGIN_PATH", path, 1);
    eg_model_plugin *m = NULL;
    eg_status st = eg_model_open("hopfield", &m, err, sizeof err);
    CHECK_MSG(st == EG_OK, "open hopfield behind %d empty entries: %s", N_EMPTY, err);
    if (st == EG_OK) {
        CHECK_MSG(strcmp(m->path, link) == 0, "found as %s, want %s (entry %d)", m->path, link, N_EMPTY + 1);
        eg_model_close(m);
    }
    char **names = NULL;
    int n = eg_plugin_scan("model", &names);
    int hop = 0;
    for (int i = 0; i < n; i++) {
        hop |= strcmp(names[i], "hopfield") == 0;
        free(names[i]);
    }
    free(names);
    CHECK_MSG(n >= 6 && hop, "scan behind %d empty entries found %d models (hopfield %d)", N_EMPTY, n, hop);
    free(path);

    /* nothing found: the message lists every directory, the last entry included */
    path = long_path(NULL);
    setenv("ENGRAM_PLUGIN_PATH", path, 1);
    m = (eg_model_plugin *)1;
    st = eg_model_open("no-such-model", &m, err, sizeof err);
    CHECK(st == EG_ERR_NOTFOUND);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(err, "/nonexistent/engram-0,");
    CHECK_STR_CONTAINS(err, "/nonexistent/engram-99,");
    free(path);
    free(dirs);
    unlink(link);
    rmdir(own);
    return eg_test_finish();
}
