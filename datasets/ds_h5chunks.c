/* ds_h5chunks.c — the stored chunks of a chunked HDF5 dataset, checked before HDF5
 * decodes them: HDF5 1.10 copies a whole chunk's worth of bytes out of whatever a
 * chunk decodes to, so a chunk that decodes short (corrupt, or stored with its
 * filters skipped) overruns its buffer inside H5Dread. Every allocated chunk is read
 * raw (H5Dread_chunk) and decoded here, counting bytes without keeping them, for the
 * filters engram reads: deflate, shuffle and fletcher32; the decoded size must be
 * exactly the chunk's. Unfiltered chunks must be stored at exactly the chunk's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ds_common.h"
#include "ds_limits.h"

#define DS_H5_MAX_FILTERS 8

typedef struct h5_pipeline {
    int n;
    H5Z_filter_t id[DS_H5_MAX_FILTERS];
} h5_pipeline;

/* the filters of dcpl, each one engram can decode */
static eg_status read_pipeline(hid_t dcpl, const char *path, const char *opt, const char *name, h5_pipeline *p,
                               char *err, size_t cap) {
    int n = H5Pget_nfilters(dcpl), deflates = 0;
    if (n < 0 || n > DS_H5_MAX_FILTERS)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s) has %d filters (at most %d are read)",
                       path, name, opt, n, DS_H5_MAX_FILTERS);
    p->n = n;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0, cd[8], config = 0;
        size_t ncd = 8;
        char fname[64] = "";
        p->id[i] = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof fname, fname, &config);
        deflates += p->id[i] == H5Z_FILTER_DEFLATE;
        if ((p->id[i] != H5Z_FILTER_DEFLATE && p->id[i] != H5Z_FILTER_SHUFFLE && p->id[i] != H5Z_FILTER_FLETCHER32) ||
            deflates > 1)
            return ds_fail(err, cap, EG_ERR_FORMAT,
                           "%s: dataset '%s' (data.%s) uses HDF5 filter %d (%s)%s; engram reads chunks compressed "
                           "with deflate (gzip), shuffle and fletcher32 only",
                           path, name, opt, (int)p->id[i], fname[0] ? fname : "unnamed",
                           deflates > 1 ? " a second time" : "");
    }
    return EG_OK;
}

/* bytes deflate data of n bytes decodes to, counting up to limit + 1; -1 when it is not deflate data */
static int64_t inflated_size(const uint8_t *data, uint64_t n, uint64_t limit) {
    static _Thread_local uint8_t out[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return -1;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    uint64_t total = 0;
    int r = Z_OK;
    while (r == Z_OK && total <= limit) {
        z.next_out = out;
        z.avail_out = sizeof out;
        r = inflate(&z, Z_NO_FLUSH);
        total += sizeof out - z.avail_out;
        if (r == Z_BUF_ERROR || (r == Z_OK && z.avail_in == 0 && z.avail_out != 0)) break; /* input ends early */
    }
    inflateEnd(&z);
    return r == Z_STREAM_END || total > limit ? (int64_t)total : -1;
}

/* the decoded size of one raw chunk (filters applied in reverse, skipping those in mask); -1 when corrupt */
static int64_t decoded_size(const h5_pipeline *p, unsigned mask, const uint8_t *raw, uint64_t n, uint64_t want) {
    uint64_t cur = n;
    for (int i = p->n - 1; i >= 0; i--) {
        if (mask & (1u << i)) continue;
        if (p->id[i] == H5Z_FILTER_FLETCHER32) {
            if (cur < 4) return -1;
            cur -= 4;
        } else if (p->id[i] == H5Z_FILTER_DEFLATE) {
            if (cur > n) return -1; /* only raw bytes are kept: deflate must see them (trimmed) */
            int64_t got = inflated_size(raw, cur, want);
            if (got < 0) return -1;
            cur = (uint64_t)got;
        }
    }
    return (int64_t)cur;
}

/* the next chunk origin in row-major order over the grid; 0 after the last */
static int next_origin(int rank, const hsize_t *dims, const hsize_t *cd, hsize_t *at) {
    for (int k = rank - 1; k >= 0; k--) {
        at[k] += cd[k];
        if (at[k] < dims[k]) return 1;
        at[k] = 0;
    }
    return 0;
}

static const char *origin_text(int rank, const hsize_t *at, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < rank && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%llu", k ? ", " : "", (unsigned long long)at[k]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

/* Without filters HDF5's lookups report the layout's chunk size, not the stored one, so
 * the stored sizes come from the chunk index: one at a time (H5Dget_chunk_info scans the
 * index up to the chunk: quadratic, so for at most DS_H5_EXACT_CHUNKS chunks), else their
 * sum only (H5Dget_storage_size). Each must be exactly `want`. */
static eg_status check_unfiltered(hid_t d, const char *path, const char *opt, const char *name, int rank,
                                  uint64_t want, char *err, size_t cap) {
    hid_t fs = H5Dget_space(d);
    hsize_t n = 0;
    eg_status st = EG_OK;
    if (fs < 0 || H5Dget_num_chunks(d, fs, &n) < 0)
        st = ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s): its chunk index cannot be read", path, name,
                     opt);
    char where[128];
    for (hsize_t i = 0; !st && n <= DS_H5_EXACT_CHUNKS && i < n; i++) {
        hsize_t at[DS_H5_MAX_RANK] = {0}, size = 0;
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        if (H5Dget_chunk_info(d, fs, i, at, &mask, &addr, &size) < 0 || size != want)
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.%s): the chunk at %s stores %llu bytes, not the %llu of its values "
                         "(corrupt)",
                         path, name, opt, origin_text(rank, at, where, sizeof where), (unsigned long long)size,
                         (unsigned long long)want);
    }
    if (!st && n > DS_H5_EXACT_CHUNKS && H5Dget_storage_size(d) != n * want)
        st = ds_fail(err, cap, EG_ERR_FORMAT,
                     "%s: dataset '%s' (data.%s): its %llu chunks store %llu bytes, not %llu x %llu (corrupt)", path,
                     name, opt, (unsigned long long)n, (unsigned long long)H5Dget_storage_size(d),
                     (unsigned long long)n, (unsigned long long)want);
    if (fs >= 0) H5Sclose(fs);
    return st;
}

eg_status ds_h5_check_chunks(hid_t d, hid_t dcpl, const char *path, const char *opt, const char *name,
                             const ds_h5_info *in, size_t elem, char *err, size_t cap) {
    h5_pipeline p = {0};
    eg_status st = read_pipeline(dcpl, path, opt, name, &p, err, cap);
    if (st) return st;
    hsize_t cd[DS_H5_MAX_RANK], at[DS_H5_MAX_RANK] = {0};
    H5Pget_chunk(dcpl, DS_H5_MAX_RANK, cd);
    uint64_t want = elem, grid = 1;
    for (int k = 0; k < in->rank; k++) {
        want *= cd[k];
        uint64_t cells = (in->dims[k] + cd[k] - 1) / cd[k];
        grid = grid > DS_H5_MAX_CHUNKS / cells ? DS_H5_MAX_CHUNKS + 1 : grid * cells;
    }
    if (grid > DS_H5_MAX_CHUNKS)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) is split into more than %llu chunks (the most engram checks)", path,
                       name, opt, (unsigned long long)DS_H5_MAX_CHUNKS);
    if (p.n == 0) return check_unfiltered(d, path, opt, name, in->rank, want, err, cap);
    uint64_t raw_max = want + want / 64 + 1024; /* deflate's worst expansion is far smaller */
    uint8_t *raw = NULL;
    uint64_t raw_cap = 0;
    char where[128];
    do {
        /* a lookup in the chunk index (H5Dget_chunk_info_by_coord would scan all of it); it fails
           for a chunk never written, which H5Dread fills with the fill value (its lookup fails alike) */
        hsize_t size = 0;
        if (H5Dget_chunk_storage_size(d, at, &size) < 0 || size == 0) continue;
        if (size > raw_max) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.%s): the chunk at %s stores %llu bytes for %llu of values (corrupt)",
                         path, name, opt, origin_text(in->rank, at, where, sizeof where), (unsigned long long)size,
                         (unsigned long long)want);
            break;
        }
        if (size > raw_cap) {
            uint8_t *grown = realloc(raw, size);
            if (!grown) {
                st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory checking the chunks of '%s'", path, name);
                break;
            }
            raw = grown;
            raw_cap = size;
        }
        uint32_t fmask = 0;
        int64_t got = size && H5Dread_chunk(d, H5P_DEFAULT, at, &fmask, raw) >= 0
                          ? decoded_size(&p, fmask, raw, size, want)
                          : -1;
        if (got != (int64_t)want) {
            st = ds_fail(err, cap, EG_ERR_FORMAT,
                         "%s: dataset '%s' (data.%s): the chunk at %s (%llu bytes stored) does not decode to the %llu "
                         "bytes of its values (corrupt data, or filters skipped)",
                         path, name, opt, origin_text(in->rank, at, where, sizeof where), (unsigned long long)size,
                         (unsigned long long)want);
            break;
        }
    } while (next_origin(in->rank, in->dims, cd, at));
    free(raw);
    return st;
}
