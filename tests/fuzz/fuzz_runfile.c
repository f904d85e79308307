/* fuzz_runfile.c — the readers of run files: what resume, `engram collect`, `engram
 * show DIR RUN`, init_from and the summary read do with a file found in runs/.
 * Each input is dropped into an experiment directory as runs/<id>.h5. As in
 * engram itself, the file is first read whole in a guarded child (a crash inside
 * HDF5 1.10 there is the library's, and engram's answer to it is to ignore the
 * file: the input is then done); engram's own reading code then runs in this
 * process, where ASan and UBSan watch it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "results/results_impl.h"
#include "results/results_guard.h"

static char g_exp[512], g_runs[600], g_file[700];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *tmp = getenv("TMPDIR");
    snprintf(g_exp, sizeof g_exp, "%s/engram-fuzz-runfile-%ld", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    snprintf(g_runs, sizeof g_runs, "%s/runs", g_exp);
    snprintf(g_file, sizeof g_file, "%s/0123456789abcdef.h5", g_runs);
    mkdir(g_exp, 0700);
    mkdir(g_runs, 0700);
    setenv("ENGRAM_GUARD_STALL_S", "0.5", 0); /* a hang inside HDF5 is the guard's to stop, fast */
    return 0;
}

static int ignore(void *ctx, int i, eg_status st, char **vals) {
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_exp[0]) LLVMFuzzerInitialize(NULL, NULL);
    FILE *f = fopen(g_file, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    char sum[700];
    snprintf(sum, sizeof sum, "%s/summary.h5", g_exp);
    remove(sum);
    setenv("ENGRAM_GUARD", "on", 1);
    const char *one = g_file;
    eg_status vetted = EG_ERR_IO;
    if (eg_results_vet_many(&one, 1, &vetted) != EG_OK || vetted == EG_ERR_FORMAT) {
        /* the guarded batch readers must survive it too */
        const char *names[2] = {"status", "run_id"};
        eg_results_attrs_many(&one, 1, 2, names, 64, ignore, NULL);
        return 0;
    }
    setenv("ENGRAM_GUARD", "off", 1); /* engram's own code, in this process */
    char err[4096], status[64];
    eg_results_run_status(g_file, status, sizeof status);
    const char *names[4] = {"status", "model_build_id", "spec", "data_shape"};
    char b0[64], b1[64], b2[256], b3[64], *bufs[4] = {b0, b1, b2, b3};
    eg_results_run_attrs(g_file, 4, names, bufs, 64);
    if (eg_results_collect(g_exp, err, sizeof err) == EG_OK) {
        eg_sum_table t = {0};
        if (eg_summary_read(sum, &t, err, sizeof err) == EG_OK) eg_summary_free(&t);
        else eg_summary_free(&t);
    }
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        eg_results_show_run(g_exp, "0123456789abcdef", sink, err, sizeof err);
        fclose(sink);
    }
    int ndim;
    int64_t shape[6];
    float *w = NULL;
    if (eg_results_read_weight(g_file, "memories", &ndim, shape, &w, err, sizeof err) == EG_OK) free(w);
    return 0;
}
