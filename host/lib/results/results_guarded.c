/* results_guarded.c — batch reads of run files in a guarded child (results_guard.h):
 * the root attributes resume, init_from and the spec-clash check need, and the deep
 * check (`vet`) that `engram report`, `engram show RUN` and `engram verify` run
 * before reading a file in full. A file that kills the child is reported
 * (EG_ERR_FORMAT, with a warning naming it) and skipped; the batch goes on after it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results_guard.h"
#include "results_impl.h"

#define VET_MAX_DATASET ((uint64_t)64 << 20)
#define HEAD_BYTES 64 /* the shared `done` counter, then the statuses */

/* ---- one guarded batch: item i's result at slot i, resumable after a crash ---- */

typedef struct batch {
    int n, next;         /* items; the first item the current child starts at */
    volatile int *done;  /* shared: items finished by the children so far */
    eg_status *st;       /* shared: per item */
    char *vals;          /* shared: per item, n_names * cap bytes */
    const char *const *paths;
    int n_names;
    const char *const *names;
    size_t cap;
} batch;

static void read_attrs(batch *b, int i) {
    char *bufs[64];
    for (int k = 0; k < b->n_names && k < 64; k++)
        bufs[k] = b->vals + ((size_t)i * (size_t)b->n_names + (size_t)k) * b->cap;
    b->st[i] = eg_results_run_attrs(b->paths[i], b->n_names, b->names, bufs, b->cap);
}

/* every object, attribute and dataset of the file, read in full */
static herr_t vet_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    herr_t rc = -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t sz = t >= 0 ? H5Tget_size(t) : 0;
    if (n >= 0 && sz > 0 && (uint64_t)n * sz <= (64u << 20)) {
        void *buf = calloc((size_t)n + 1, sz);
        if (buf) {
            rc = H5Aread(a, t, buf);
            if (rc >= 0) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf); /* any variable-length part, compounds' too */
            free(buf);
        }
    }
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

static herr_t vet_object(hid_t root, const char *name, const H5O_info_t *info, void *data) {
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0) return -1;
    herr_t rc = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, vet_attr, NULL);
    if (rc >= 0 && info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
        hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        size_t sz = t >= 0 ? H5Tget_size(t) : 0;
        /* a dataset over VET_MAX_DATASET (large weights) is not read here: only a run's own
         * process reads it, where a crash fails that run alone */
        rc = n >= 0 && sz > 0 && (uint64_t)n * sz > VET_MAX_DATASET ? 0 : -1;
        if (n >= 0 && sz > 0 && (uint64_t)n * sz <= VET_MAX_DATASET) {
            void *buf = malloc((size_t)n * sz + 1);
            if (buf) {
                rc = H5Dread(o, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
                if (rc >= 0) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf); /* a summary's compound rows hold strings */
                free(buf);
            }
        }
        if (sp >= 0) H5Sclose(sp);
        if (t >= 0) H5Tclose(t);
    }
    H5Oclose(o);
    return rc < 0 ? -1 : 0;
}

static void vet_one(batch *b, int i) {
    eg_h5_quiet q;
    eg_h5_quiet_begin(&q);
    struct stat st;
    b->st[i] = EG_ERR_NOTFOUND;
    if (stat(b->paths[i], &st) == 0) {
        /* a file that does not open counts as unreadable whatever the cause (HDF5 seldom
         * says whether it was the format or the OS); the report lists its run as failed
         * and warns at the top of the page (report.c), so the page never passes for whole */
        b->st[i] = EG_ERR_FORMAT;
        hid_t f = S_ISREG(st.st_mode) ? H5Fopen(b->paths[i], H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
        if (f >= 0) {
            if (H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, vet_object, NULL) >= 0) b->st[i] = EG_OK;
            H5Fclose(f);
        }
    }
    eg_h5_quiet_end(&q);
}

typedef struct batch_job {
    batch *b;
    void (*one)(batch *b, int i);
} batch_job;

static eg_status batch_child(void *ctx, char *err, size_t cap) {
    batch_job *j = ctx;
    for (int i = j->b->next; i < j->b->n; i++) {
        if (!eg_guard_skipped(j->b->paths[i])) {
            eg_guard_enter(j->b->paths[i]);
            j->one(j->b, i);
            eg_guard_leave();
        }
        *j->b->done = i + 1;
    }
    return EG_OK;
}

/* runs one() over every item in guarded children, starting again after each file
 * that kills one; 0, or -1 when no child could run (then every st is EG_ERR_IO) */
static int batch_run(batch *b, void (*one)(batch *b, int i)) {
    batch_job j = {b, one};
    for (int i = 0; i < b->n; i++)
        b->st[i] = eg_guard_skipped(b->paths[i]) ? EG_ERR_FORMAT : EG_ERR_IO;
    while (b->next < b->n) {
        eg_guard_outcome o;
        eg_status st = eg_guard_run(batch_child, &j, &o);
        if (st == EG_OK) break;
        if (!o.crashed) return -1; /* fork failed: nothing was read */
        int bad = *b->done;        /* the item the child was at */
        if (bad >= b->n) break;
        char msg[4400];
        eg_guard_describe(&o, msg, sizeof msg);
        if (!o.culprit[0]) snprintf(msg, sizeof msg, "%s: reading it killed the reading process (%s)", b->paths[bad], o.reason);
        fprintf(stderr, "engram: warning: %s; it is ignored\n", msg);
        eg_guard_skip(b->paths[bad]);
        b->st[bad] = EG_ERR_FORMAT;
        b->next = bad + 1;
        *b->done = b->next;
    }
    return 0;
}

static eg_status batch_open(batch *b, const char *const *paths, int n, int n_names, const char *const *names,
                            size_t cap) {
    memset(b, 0, sizeof *b);
    b->n = n, b->paths = paths, b->n_names = n_names, b->names = names, b->cap = cap;
    size_t bytes = HEAD_BYTES + (size_t)n * sizeof(eg_status) + (size_t)n * (size_t)n_names * cap;
    void *mem = eg_guard_shared(bytes);
    if (!mem) return EG_ERR_NOMEM;
    b->done = mem;
    b->st = (eg_status *)((char *)mem + HEAD_BYTES);
    b->vals = (char *)(b->st + n);
    return EG_OK;
}

static void batch_close(batch *b) {
    size_t bytes = HEAD_BYTES + (size_t)b->n * sizeof(eg_status) + (size_t)b->n * (size_t)b->n_names * b->cap;
    eg_guard_unshare((void *)b->done, bytes);
}

eg_status eg_results_attrs_many(const char *const *paths, int n, int n_names, const char *const *names,
                                size_t cap, eg_attrs_fn got, void *ctx) {
    if (n <= 0) return EG_OK;
    if (n_names > 64 || cap == 0) return EG_ERR_INVALID;
    batch b;
    if (batch_open(&b, paths, n, n_names, names, cap) != EG_OK) return EG_ERR_NOMEM;
    eg_status rc = batch_run(&b, read_attrs) == 0 ? EG_OK : EG_ERR_IO;
    char *vals[64];
    for (int i = 0; rc == EG_OK && i < n; i++) {
        for (int k = 0; k < n_names; k++) {
            vals[k] = b.vals + ((size_t)i * (size_t)n_names + (size_t)k) * cap;
            vals[k][cap - 1] = 0;
        }
        if (got(ctx, i, b.st[i], vals) != 0) break;
    }
    batch_close(&b);
    return rc;
}

eg_status eg_results_vet_many(const char *const *paths, int n, eg_status *st) {
    if (n <= 0) return EG_OK;
    batch b;
    if (batch_open(&b, paths, n, 0, NULL, 1) != EG_OK) return EG_ERR_NOMEM;
    eg_status rc = batch_run(&b, vet_one) == 0 ? EG_OK : EG_ERR_IO;
    memcpy(st, b.st, (size_t)n * sizeof *st);
    batch_close(&b);
    return rc;
}
