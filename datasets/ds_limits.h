/* ds_limits.h — the limits every file reader enforces before it allocates, and the
 * checks they share (docs/spec.md, "Limits and validation"):
 *   - a loaded dataset (float32 items + int32 labels) is at most DS_MAX_DECODED bytes,
 *     checked against the sizes a header claims before anything is allocated;
 *   - only regular files are opened (a FIFO, device or directory is refused without
 *     blocking), and a missing file, a symlink loop or a permission error is named;
 *   - gzip/raw streams are measured (decoded without storing) up to the size the header
 *     declares before the dataset is allocated, so a gzip bomb costs time, not memory;
 *   - NaN and inf in float data are refused with the index of the first one;
 *   - HDF5 datasets: numeric class and element size, rank, dims, decoded size from the
 *     dims (never from the stored size), stored bytes against the file's size, external
 *     and virtual storage and external links refused. Not part of the SDK. */
#ifndef EG_DS_LIMITS_H
#define EG_DS_LIMITS_H

#include <hdf5.h>
#include <stdint.h>
#include <zlib.h>

#include "engram/status.h"

/* the largest dataset a reader builds: 4 GiB of float32 items plus int32 labels */
#define DS_MAX_DECODED ((uint64_t)4 << 30)
/* labels are below this (n_classes = the largest label + 1) */
#define DS_MAX_CLASSES (1 << 20)
/* the longest line of a CSV source, in bytes */
#define DS_MAX_LINE 4096

/* EG_OK when n items of dim values each (plus n labels when labelled) fit DS_MAX_DECODED
 * without overflow; else EG_ERR_FORMAT naming path, the claim and the limit */
eg_status ds_check_decoded(const char *path, const char *what, uint64_t n, uint64_t dim, int labelled, char *err,
                           size_t cap);
/* the most items of dim values (+ a label) that fit DS_MAX_DECODED */
uint64_t ds_max_items(uint64_t dim, int labelled);

/* 1 when something (a file, a directory, a dangling link...) is at path */
int ds_exists(const char *path);
/* Opens path read-only without blocking (O_NONBLOCK, so a FIFO does not wait for a
 * writer) and refuses anything but a regular file: EG_OK with *fd open (close it), or
 * EG_ERR_NOTFOUND / EG_ERR_IO with *fd = -1 and err naming the path and the reason.
 * *size (may be NULL) gets the file's size. */
eg_status ds_open_regular(const char *path, int *fd, uint64_t *size, char *err, size_t cap);
/* opens a regular file (ds_open_regular) for gzread, which reads gzip and raw files
 * alike; NULL with err filled naming the path and the reason */
gzFile ds_gzopen(const char *path, char *err, size_t cap);
/* the same check, closing the file again (for readers that open by name: HDF5) */
eg_status ds_check_regular(const char *path, uint64_t *size, char *err, size_t cap);

/* Decodes (without keeping) up to `want` bytes of f from decompressed byte `offset`;
 * *got gets how many there were. EG_OK (the caller reports truncation), or the zlib
 * error as ds_read reports it. */
eg_status ds_measure(gzFile f, const char *path, uint64_t offset, uint64_t want, uint64_t *got, char *err,
                     size_t cap);
/* after a measure: back to decompressed byte `offset` (rewinding; gzseek reads forward) */
eg_status ds_restart(gzFile f, const char *path, uint64_t offset, char *err, size_t cap);
/* reads exactly n bytes (the measure said they are there) scaled to floats: out[i] = b / div */
eg_status ds_read_scaled(gzFile f, const char *path, uint64_t offset, float *out, uint64_t n, float div, char *err,
                         size_t cap);

/* index of the first NaN or inf of x[0..n), or n when there is none */
uint64_t ds_first_nonfinite(const float *x, uint64_t n);
/* EG_OK, or EG_ERR_FORMAT "path: dataset 'name' (data.opt) element i (row r, col c) is NaN"
 * for the first non-finite value of x (rows of `cols` values) */
eg_status ds_check_finite(const char *path, const char *name, const char *opt, const float *x, uint64_t n,
                          uint64_t cols, char *err, size_t cap);

/* ---- HDF5 datasets ---- */
#define DS_H5_MAX_RANK 4
/* deflate's largest expansion: decoded bytes per stored byte */
#define DS_H5_MAX_RATIO 1032
/* decoded bytes allowed beyond MAX_RATIO x stored (a small dataset of fill values) */
#define DS_H5_SLACK ((uint64_t)1 << 20)
/* the largest chunk HDF5 would decompress in one piece */
#define DS_H5_MAX_CHUNK ((uint64_t)256 << 20)
/* the most chunks (cells of the chunk grid) a dataset may be split into */
#define DS_H5_MAX_CHUNKS ((uint64_t)1 << 20)
/* up to this many stored chunks of an unfiltered dataset are size-checked one by one */
#define DS_H5_EXACT_CHUNKS 8192

typedef struct ds_h5_info {
    int rank;
    hsize_t dims[DS_H5_MAX_RANK];
    H5T_class_t cls;
    uint64_t elems; /* product of dims */
} ds_h5_info;

/* Opens dataset `name` (option data.<opt>) without following external links; on failure
 * err says what the file holds instead. Returns the dataset or a negative id. */
hid_t ds_h5_dataset(hid_t file, const char *path, const char *opt, const char *name, eg_status *st, char *err,
                    size_t cap);
/* Checks dataset d before it is read: float or integer values (integers only with
 * int_only) of a plain element size, rank 1..max_rank, no zero dims, at most max_elems
 * elements, stored in the file itself (no external or virtual storage), its stored bytes
 * within the file (file_size) and its decoded size at most DS_H5_MAX_RATIO x stored +
 * DS_H5_SLACK, chunks at most DS_H5_MAX_CHUNK and each stored chunk decoding to
 * exactly its size (ds_h5_check_chunks). Fills info. */
eg_status ds_h5_inspect(hid_t d, const char *path, const char *opt, const char *name, uint64_t file_size,
                        int max_rank, int int_only, uint64_t max_elems, ds_h5_info *info, char *err, size_t cap);
/* Chunked dataset d (creation properties dcpl, elements of elem bytes): filters only
 * deflate, shuffle, fletcher32; at most DS_H5_MAX_CHUNKS chunks; every stored chunk read
 * raw and decoded here (bytes counted, not kept) to exactly its chunk's size, since
 * HDF5 1.10 overruns its buffer on a chunk that decodes short. */
eg_status ds_h5_check_chunks(hid_t d, hid_t dcpl, const char *path, const char *opt, const char *name,
                             const ds_h5_info *in, size_t elem, char *err, size_t cap);
/* reads all of d as memtype (elements of elem_size bytes) into buf, in slabs of rows of
 * at most 16 MiB; an integer memtype fails on values beyond its range (no clamping) */
eg_status ds_h5_read(hid_t d, const char *path, const char *opt, const char *name, const ds_h5_info *info,
                     hid_t memtype, size_t elem_size, void *buf, char *err, size_t cap);

#endif
