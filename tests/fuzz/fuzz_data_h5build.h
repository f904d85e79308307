/* fuzz_data_h5build.h — the HDF5 fuzz targets' input: not an HDF5 file but a recipe
 * for one, built here through the HDF5 C API, so every file's metadata (superblock,
 * object headers, B-trees, heaps) is well formed while everything engram checks is
 * fuzzed: each dataset's presence, element type (floats, integers of both byte
 * orders, string, compound, enum), rank 0..5, dims (zero, small, huge), layout
 * (contiguous, compact, chunked with shuffle/deflate/fletcher32), values (written
 * from the input: NaN, inf, labels out of range...), or chunks written raw with
 * any payload and filter mask (short chunks, skipped filters).
 * Why not raw files: libhdf5 1.10.8 itself crashes or leaks while parsing corrupt
 * metadata, before any check of engram's can run (H5Fopen, H5Lexists on a corrupt
 * local heap; tests/hostile/data/libhdf5/). Set EG_FUZZ_HDF5_RAW=1 to fuzz raw files
 * anyway, to look for those.
 * Recipe, per dataset, bytes read in order (0 once the input is used up):
 *   flags: bit0 present, bit1 huge dims, bits2-3 layout (0 contiguous, 1 compact,
 *          2-3 chunked), bit4 shuffle, bit5 deflate, bit6 fletcher32, bit7 raw chunks
 *   type, rank (% 6), dims (1 byte % 17 each, or 2 bytes << 8 when huge), chunk dims
 *   (1 + byte % 8 each, when chunked), then either the values (elements x size bytes
 *   from the input, cycled; at most 64 KiB in at most 1024 chunks, else nothing is
 *   written) or, with bit7 and small dims,
 *   up to 3 raw chunks: chunk number, filter mask, length / 4, payload. */
#ifndef EG_FUZZ_DATA_H5BUILD_H
#define EG_FUZZ_DATA_H5BUILD_H
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_data.h"

typedef struct fz_in {
    const uint8_t *all, *p;
    size_t size, left;
} fz_in;

static inline unsigned fz_u8(fz_in *f) {
    if (!f->left) return 0;
    f->left--;
    return *f->p++;
}

/* n bytes from the input, cycled over all of it (zeros for an empty input) */
static inline void fz_fill(fz_in *f, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = f->left ? (uint8_t)fz_u8(f) : f->size ? f->all[i % f->size] : 0;
}

static inline hid_t fz_type(unsigned sel) {
    static const hid_t *const plain[] = {&H5T_IEEE_F32LE_g, &H5T_IEEE_F64LE_g, &H5T_IEEE_F32BE_g,
                                         &H5T_STD_I8LE_g,   &H5T_STD_U8LE_g,   &H5T_STD_I16BE_g,
                                         &H5T_STD_I32LE_g,  &H5T_STD_I64LE_g,  &H5T_STD_U64LE_g};
    unsigned n = sizeof plain / sizeof *plain;
    if (sel % 12 < n) return H5Tcopy(*plain[sel % 12]);
    if (sel % 12 == n) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 4);
        return t;
    }
    if (sel % 12 == n + 1) {
        hid_t t = H5Tcreate(H5T_COMPOUND, 8);
        H5Tinsert(t, "a", 0, H5T_IEEE_F32LE);
        H5Tinsert(t, "b", 4, H5T_STD_I32LE);
        return t;
    }
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    signed char v0 = 0, v1 = 1;
    H5Tenum_insert(t, "a", &v0);
    H5Tenum_insert(t, "b", &v1);
    return t;
}

static inline void fz_raw_chunks(fz_in *f, hid_t d, int rank, const hsize_t *dims, const hsize_t *cd) {
    int n = (int)(fz_u8(f) % 4);
    for (int c = 0; c < n; c++) {
        hsize_t at[8];
        unsigned pick = fz_u8(f);
        for (int k = rank - 1; k >= 0; k--) {
            hsize_t cells = (dims[k] + cd[k] - 1) / cd[k];
            if (!cells) return; /* an empty dataset has no chunks */
            at[k] = (pick % cells) * cd[k];
            pick /= (unsigned)cells;
        }
        uint32_t mask = fz_u8(f) % 8;
        size_t len = (size_t)fz_u8(f) * 4;
        uint8_t buf[1024];
        fz_fill(f, buf, len);
        H5Dwrite_chunk(d, H5P_DEFAULT, mask, at, len, buf);
    }
}

/* the chunks a write of the whole dataset touches (a write of 64 KiB into 1-byte chunks is slow) */
static inline uint64_t fz_cells(int rank, const hsize_t *dims, const hsize_t *cd) {
    uint64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= cd[k] ? (dims[k] + cd[k] - 1) / cd[k] : 1;
    return n;
}

/* one dataset `name` of file from the recipe (or none) */
static inline void fz_dataset(hid_t file, const char *name, fz_in *f) {
    unsigned flags = fz_u8(f);
    if (!(flags & 1)) return;
    hid_t ty = fz_type(fz_u8(f));
    int rank = (int)(fz_u8(f) % 6), layout = (int)(flags >> 2 & 3);
    hsize_t dims[8], cd[8];
    uint64_t elems = 1;
    for (int k = 0; k < rank; k++) {
        unsigned lo = fz_u8(f);
        dims[k] = flags & 2 ? (hsize_t)(lo | fz_u8(f) << 8) << 8 : lo % 17;
        elems = dims[k] && elems > ((uint64_t)1 << 40) / dims[k] ? (uint64_t)1 << 40 : elems * dims[k];
    }
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (layout == 1) H5Pset_layout(dcpl, H5D_COMPACT);
    if (layout >= 2 && rank > 0) {
        for (int k = 0; k < rank; k++) {
            cd[k] = 1 + fz_u8(f) % 8;
            if (dims[k] && cd[k] > dims[k]) cd[k] = dims[k];
        }
        H5Pset_chunk(dcpl, rank, cd);
        if (flags & 16) H5Pset_shuffle(dcpl);
        if (flags & 32) H5Pset_deflate(dcpl, 1);
        if (flags & 64) H5Pset_fletcher32(dcpl);
    }
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(file, name, ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        size_t bytes = (size_t)elems * H5Tget_size(ty);
        if (layout >= 2 && rank > 0 && (flags & 128)) {
            /* raw chunks only into small dims: H5Dwrite_chunk itself crashes on some huge 5-d ones */
            if (!(flags & 2))
                fz_raw_chunks(f, d, rank, dims, cd);
        } else if (elems && bytes <= 65536 && fz_cells(rank, dims, layout >= 2 ? cd : dims) <= 1024) {
            uint8_t *buf = malloc(bytes);
            if (buf) {
                fz_fill(f, buf, bytes);
                H5Dwrite(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
                free(buf);
            }
        }
        H5Dclose(d);
    }
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Tclose(ty);
}

/* writes the HDF5 file of the recipe to path with datasets names[0..n) (in order);
 * returns 0, or -1 when it cannot be created */
static inline int fz_build_h5(const char *path, const uint8_t *data, size_t size, const char *const *names, int n) {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the recipe may ask for what HDF5 refuses */
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) return -1;
    fz_in f = {data, data, size, size};
    for (int i = 0; i < n; i++)
        fz_dataset(file, names[i], &f);
    H5Fclose(file);
    return 0;
}
/* the file an HDF5 target loads: the input's recipe (after its first byte) built as
 * <scratch>/<file>, or the input itself with EG_FUZZ_HDF5_RAW set; NULL when none */
static inline const char *fz_h5_input(const uint8_t *data, size_t size, const char *file, const char *const *names,
                                      int n) {
    if (getenv("EG_FUZZ_HDF5_RAW")) return fuzz_data_put(file, data, size);
    const char *path = fuzz_data_put(file, NULL, 0);
    return path && size && fz_build_h5(path, data + 1, size - 1, names, n) == 0 ? path : NULL;
}
#endif
