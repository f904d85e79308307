/* fuzz_data.h — what the data-reader fuzz targets (fuzz_data_<reader>.c) share: a
 * scratch directory for the files a source reads (created once per process,
 * emptied at exit), and loading a source the way a run's preflight does
 * (eg_data_check_load on a hand-built data.* config), freeing everything. */
#ifndef EG_FUZZ_DATA_H
#define EG_FUZZ_DATA_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "base/cfg.h"
#include "engram/source.h"

static char fuzz_data_root[512];
static char fuzz_data_made[8][600];
static int fuzz_data_nmade;

static void fuzz_data_cleanup(void) {
    for (int i = 0; i < fuzz_data_nmade; i++)
        unlink(fuzz_data_made[i]);
    if (fuzz_data_root[0]) rmdir(fuzz_data_root);
}

/* "<TMPDIR>/engram-fuzz-<pid>.d", made on the first call */
static inline const char *fuzz_data_dir(void) {
    if (!fuzz_data_root[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_data_root, sizeof fuzz_data_root, "%s/engram-fuzz-%ld.d", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        mkdir(fuzz_data_root, 0700);
        atexit(fuzz_data_cleanup);
    }
    return fuzz_data_root;
}

/* writes n bytes as <dir>/<name> (replacing it); returns its path (static) or NULL */
static inline const char *fuzz_data_put(const char *name, const uint8_t *data, size_t n) {
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", fuzz_data_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    size_t put = n ? fwrite(data, 1, n, f) : 0;
    if (fclose(f) != 0 || put != n) return NULL;
    int known = 0;
    for (int i = 0; i < fuzz_data_nmade; i++)
        known |= strcmp(fuzz_data_made[i], path) == 0;
    if (!known && fuzz_data_nmade < 8) snprintf(fuzz_data_made[fuzz_data_nmade++], sizeof fuzz_data_made[0], "%s", path);
    return path;
}

static inline void fuzz_data_set(eg_cfg *c, const char *key, const char *text) {
    eg_value v = {0};
    v.kind = EG_VAL_STRING;
    v.s = (char *)text;
    eg_cfg_set(c, key, &v);
}

/* loads data.source = source with the given NULL-terminated "data.key", "value" pairs
 * through the preflight's entry point; every outcome but a crash or a leak is fine
 * (EG_FUZZ_VERBOSE=1 prints each outcome, for triage) */
static inline void fuzz_data_load(const char *source, ...) {
    eg_cfg c;
    eg_cfg_init(&c);
    fuzz_data_set(&c, "data.source", source);
    va_list ap;
    va_start(ap, source);
    for (const char *k; (k = va_arg(ap, const char *));)
        fuzz_data_set(&c, k, va_arg(ap, const char *));
    va_end(ap);
    char err[4096];
    eg_dataset *ds = NULL;
    eg_status st = eg_data_check_load(&c, &ds, err, sizeof err);
    if (st == EG_OK && (!ds || ds->n < 1)) abort(); /* an ok load has items */
    if (getenv("EG_FUZZ_VERBOSE")) fprintf(stderr, "%s: %s\n", source, st == EG_OK ? "loaded" : err); /* triage */
    eg_dataset_free(ds);
    eg_cfg_free(&c);
}
/* HDF5 targets: HDF5 1.10.8 itself leaks object-header memory when H5Fopen fails on
 * some corrupt files (H5Fopen -> H5G_mkroot -> H5O_msg_exists -> H5O_protect; corpus
 * regress-h5fopen-leak*): libhdf5's leak, not engram's, so leaks allocated inside
 * libhdf5 are suppressed. What engram could leak there instead, an HDF5 object it
 * left open, is checked after every input: none may remain. */
#define FUZZ_DATA_HDF5_TARGET                                                              \
    const char *__lsan_default_suppressions(void);                                         \
    const char *__lsan_default_suppressions(void) { return "leak:libhdf5\n"; }            \
    static void fuzz_data_h5_none_open(void) {                                            \
        if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) abort(); /* left open */ \
    }
#endif
