/* ds_common.h — private helpers shared by the dataset sources: typed access to
 * the resolved `data.*` options (falling back to the source's schema default
 * when a key is absent), split resolution, error formatting and chunked reads
 * through zlib (which reads gzip and raw files alike). Not part of the SDK. */
#ifndef EG_DS_COMMON_H
#define EG_DS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include <zlib.h>

#include "engram/source.h"

/* the sources, defined one per file */
extern const eg_data_source eg_src_fashion_mnist;
extern const eg_data_source eg_src_mnist;
extern const eg_data_source eg_src_digits;
extern const eg_data_source eg_src_cifar10;
extern const eg_data_source eg_src_hdf5;
extern const eg_data_source eg_src_random_patterns;

/* writable views of a dataset made by eg_dataset_alloc */
static inline float *ds_x(eg_dataset *d) {
    return (float *)d->x;
}
static inline int32_t *ds_y(eg_dataset *d) {
    return (int32_t *)d->y;
}

/* formats err and returns st */
eg_status ds_fail(char *err, size_t cap, eg_status st, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* option access and split resolution: eg_source_text/int/float/split (engram/source.h) */

/* Philox stream id of a generator, from its name ("sines/train"): FNV-1a over the bytes with
 * offset basis 1469598103934665603 (not FNV's standard 14695981039346656037: a digit short, kept
 * because it fixes every generated dataset's numbers). Independent of the run's named streams. */
uint64_t ds_stream_id(const char *name);

/* 1 when path names an existing directory */
int ds_is_dir(const char *path);

/* HDF5 file opened read-only with HDF5's own error-stack printing silenced (our
 * messages replace it). Returns the file, or a negative id with err filled and
 * printing restored; close with ds_h5_close. */
typedef struct ds_h5_quiet {
    H5E_auto2_t fn;
    void *data;
} ds_h5_quiet;
hid_t ds_h5_open(const char *path, ds_h5_quiet *q, char *err, size_t cap);
void ds_h5_close(hid_t file, ds_h5_quiet *q);

/* Read up to `want` bytes into a buffer grown as data arrives (so a lying header
 * cannot make us allocate more than the file holds). *buf is malloc'ed (free it);
 * *got bytes were read. Returns EG_OK (short reads are not errors here: the
 * caller reports truncation), EG_ERR_IO with a zlib message, or EG_ERR_NOMEM. */
eg_status ds_read_grow(gzFile f, const char *path, uint64_t offset, uint64_t want, uint8_t **buf, uint64_t *got,
                       char *err, size_t cap);
/* read exactly up to n bytes into buf (n small); returns bytes read or -1 on a zlib error (err filled) */
int64_t ds_read(gzFile f, const char *path, uint64_t offset, void *buf, uint64_t n, char *err, size_t cap);
/* after ds_read returned -1: EG_ERR_FORMAT for corrupt gzip data, else EG_ERR_IO */
eg_status ds_read_status(gzFile f);
/* " (offsets count decompressed bytes)" for gzip files, "" for raw ones */
const char *ds_gz_note(gzFile f);

#endif
