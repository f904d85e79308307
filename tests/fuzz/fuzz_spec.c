/* fuzz_spec.c — the experiment spec loader (eg_spec_load): YAML, the limits, the
 * flattening, the command-line overrides, the checks, the sweep expansion, the
 * validation of every run and the run ids, includes, interpolation, multirun
 * overrides, random search and the --explain trace. The input up to its first 0xFF byte is
 * the spec file; after it, one override per line ("params.beta=4"). The model the
 * corpus names, spec_model, is the schema fixture tests/fixtures/spec_model.c, put
 * on the plugin path as engram-model-spec_model.so when it is built
 * ($ENGRAM_TEST_PLUGINS, else BUILD/test-plugins beside this binary); without it
 * the loader stops at "cannot load model", after the YAML and override stages.
 * Errors go to the loader's message buffer: nothing is printed. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engram/host.h"
#include "fuzz_common.h"

#define MAX_OVERRIDES 64

static char g_plugdir[512], g_link[700];

static void cleanup(void) {
    if (g_link[0]) unlink(g_link);
    if (g_plugdir[0]) rmdir(g_plugdir);
}

static int find_fixture(char *out, size_t cap) {
    const char *dir = getenv("ENGRAM_TEST_PLUGINS");
    if (dir && *dir) {
        snprintf(out, cap, "%s/spec_model.so", dir);
        if (access(out, R_OK) == 0) return 1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/'); /* BUILD/tests/fuzz/<exe> */
    if (!slash) return 0;
    *slash = 0;
    snprintf(out, cap, "%s/../../test-plugins/spec_model.so", exe);
    return access(out, R_OK) == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_plugdir, sizeof g_plugdir, "%s/engram-fuzz-spec-%ld", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    char fixture[PATH_MAX + 64];
    if (mkdir(g_plugdir, 0700) == 0 && find_fixture(fixture, sizeof fixture)) {
        snprintf(g_link, sizeof g_link, "%s/engram-model-spec_model.so", g_plugdir);
        if (symlink(fixture, g_link) != 0) g_link[0] = 0;
    }
    const char *old = getenv("ENGRAM_PLUGIN_PATH");
    char path[2048];
    snprintf(path, sizeof path, "%s%s%s", g_plugdir, old && *old ? ":" : "", old ? old : "");
    setenv("ENGRAM_PLUGIN_PATH", path, 1);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_plugdir[0]) LLVMFuzzerInitialize(NULL, NULL);
    const uint8_t *ff = memchr(data, 0xFF, size);
    size_t spec_len = ff ? (size_t)(ff - data) : size;
    const char *path = fuzz_write_tmp(data, spec_len, ".yaml");
    if (!path) return 0;
    char *ov_text = ff ? fuzz_strndup(ff + 1, size - spec_len - 1) : NULL;
    const char *ov[MAX_OVERRIDES];
    int n_ov = 0;
    for (char *line = ov_text, *next; line && n_ov < MAX_OVERRIDES; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        ov[n_ov++] = line;
    }
    eg_spec *spec = NULL;
    char err[4096];
    if (eg_spec_load(path, ov, n_ov, &spec, err, sizeof err) == EG_OK) {
        /* what `engram plan` reads of each run */
        for (int r = 0; r < eg_spec_run_count(spec); r++) {
            const eg_run_plan *p = eg_spec_run(spec, r);
            char *yaml = eg_cfg_yaml(eg_run_plan_config(p));
            free(yaml);
            char cell[256];
            for (int k = 0; k < eg_spec_swept_count(spec); k++)
                eg_cfg_value_text(eg_run_plan_config(p), eg_spec_swept_key(spec, k), cell, sizeof cell);
        }
        /* and what `engram plan --explain` reads: the trace of a few keys */
        static const char *const keys[] = {"params.beta", "params", "data.source", "sweep"};
        for (int k = 0; k < 4; k++)
            free(eg_spec_explain(spec, keys[k]));
        eg_spec_free(spec);
    }
    free(ov_text);
    return 0;
}
