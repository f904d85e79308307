/* ds_h5check.c — opening and checking an HDF5 dataset before it is read
 * (ds_limits.h): no external links followed, numeric values of a plain size,
 * rank and dims, the decoded size from the dims (capped, and bounded by the bytes
 * the file really stores), and reads in slabs of rows. */
#include <stdio.h>
#include <string.h>

#include "ds_common.h"
#include "ds_limits.h"

#define DS_H5_SLAB ((uint64_t)16 << 20)

/* ---- opening a dataset by name ---- */

typedef struct names_buf {
    char text[512];
    int count;
} names_buf;

static herr_t add_name(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g;
    (void)info;
    names_buf *b = op;
    size_t len = strlen(b->text);
    if (len < sizeof b->text - 8)
        snprintf(b->text + len, sizeof b->text - len, "%s%s", b->count ? ", " : "", name);
    else if (!strstr(b->text, "..."))
        snprintf(b->text + len, sizeof b->text - len, ", ...");
    b->count++;
    return 0;
}

/* refuses every external link (it would open another file, maybe a FIFO or a device) */
static herr_t deny_elink(const char *parent_file, const char *parent_group, const char *child_file,
                         const char *child_object, unsigned *acc_flags, hid_t fapl, void *op) {
    (void)parent_file, (void)parent_group, (void)child_object, (void)acc_flags, (void)fapl;
    snprintf(op, 256, "%s", child_file);
    return -1;
}

hid_t ds_h5_dataset(hid_t file, const char *path, const char *opt, const char *name, eg_status *st, char *err,
                    size_t cap) {
    char target[256] = "";
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl < 0 || H5Pset_elink_cb(dapl, deny_elink, target) < 0) {
        if (dapl >= 0) H5Pclose(dapl);
        *st = ds_fail(err, cap, EG_ERR_NOMEM, "%s: cannot set up the HDF5 access properties", path);
        return H5I_INVALID_HID;
    }
    int exists = H5Lexists(file, name, dapl) > 0;
    H5L_info_t li;
    hid_t d = H5I_INVALID_HID;
    if (exists && H5Lget_info(file, name, &li, dapl) >= 0 && li.type != H5L_TYPE_HARD && li.type != H5L_TYPE_SOFT) {
        *st = ds_fail(err, cap, EG_ERR_FORMAT,
                      "%s: '%s' (data.%s) is an external or user-defined link; engram reads datasets stored in the "
                      "file itself",
                      path, name, opt);
    } else if (exists && (d = H5Dopen2(file, name, dapl)) < 0) {
        *st = ds_fail(err, cap, EG_ERR_NOTFOUND, "%s: '%s' (data.%s) exists but is not a dataset (a group?)", path,
                      name, opt);
    } else if (!exists && target[0]) {
        *st = ds_fail(err, cap, EG_ERR_FORMAT,
                      "%s: '%s' (data.%s) goes through an external link to %s, which engram does not follow", path,
                      name, opt, target);
    } else if (!exists) {
        names_buf b = {"", 0};
        hsize_t idx = 0;
        H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, add_name, &b);
        *st = ds_fail(err, cap, EG_ERR_NOTFOUND, "%s: no dataset '%s' (data.%s) in the file (top-level objects: %s)",
                      path, name, opt, b.count ? b.text : "none");
    }
    H5Pclose(dapl);
    return d;
}

/* ---- checks before reading ---- */

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    case H5T_REFERENCE: return "reference";
    case H5T_TIME: return "time";
    default: return "non-numeric";
    }
}

/* "[3, 4, 5]" */
static const char *shape_text(const ds_h5_info *in, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < in->rank && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%llu", k ? ", " : "", (unsigned long long)in->dims[k]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

/* the type checks: numeric class (integer only with int_only), a plain element size and byte order */
static eg_status check_type(hid_t ty, const char *path, const char *opt, const char *name, int int_only,
                            H5T_class_t *cls, size_t *size, char *err, size_t cap) {
    *cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    *size = ty >= 0 ? H5Tget_size(ty) : 0;
    const char *want = int_only ? "integer labels" : "float or integer";
    if (*cls != H5T_INTEGER && (*cls != H5T_FLOAT || int_only))
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s) holds %s values (expected %s)", path, name,
                       opt, class_name(*cls), want);
    int plain = *cls == H5T_INTEGER ? (*size == 1 || *size == 2 || *size == 4 || *size == 8)
                                    : (*size == 2 || *size == 4 || *size == 8);
    H5T_order_t order = H5Tget_order(ty);
    if (!plain || (order != H5T_ORDER_LE && order != H5T_ORDER_BE))
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) holds %zu-byte %s values%s (expected %s values of 1, 2, 4 or 8 "
                       "bytes)",
                       path, name, opt, *size, class_name(*cls), plain ? " of an unusual byte order" : "", want);
    return EG_OK;
}

/* rank, dims and element count into in */
static eg_status check_shape(hid_t sp, const char *path, const char *opt, const char *name, int max_rank,
                             uint64_t max_elems, ds_h5_info *in, char *err, size_t cap) {
    char shape[200];
    int rank = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(sp) : 0;
    if (rank < 1 || rank > max_rank)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s) has rank %d (expected 1 to %d)", path,
                       name, opt, rank, max_rank);
    in->rank = rank;
    if (H5Sget_simple_extent_dims(sp, in->dims, NULL) != rank)
        return ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s): cannot read its dims", path, name, opt);
    in->elems = 1;
    for (int k = 0; k < rank; k++) {
        if (in->dims[k] == 0)
            return ds_fail(err, cap, EG_ERR_FORMAT, "%s: dataset '%s' (data.%s) is empty (shape %s)", path, name, opt,
                           shape_text(in, shape, sizeof shape));
        in->elems = in->elems > max_elems / in->dims[k] ? max_elems + 1 : in->elems * in->dims[k];
    }
    if (in->elems > max_elems)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) has shape %s: more than %llu values, the most a loaded dataset "
                       "holds (%llu GiB of float32)",
                       path, name, opt, shape_text(in, shape, sizeof shape), (unsigned long long)max_elems,
                       (unsigned long long)(DS_MAX_DECODED >> 30));
    return EG_OK;
}

/* where the values are: in the file (no external or virtual storage), their stored
 * bytes within the file, the decoded bytes bounded by the stored ones, chunks bounded */
static eg_status check_storage(hid_t d, hid_t dcpl, const char *path, const char *opt, const char *name,
                               uint64_t file_size, size_t elem, const ds_h5_info *in, char *err, size_t cap) {
    char shape[200];
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (layout == H5D_VIRTUAL || layout == H5D_LAYOUT_ERROR || (dcpl >= 0 && H5Pget_external_count(dcpl) != 0))
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) keeps its values outside the file (external or virtual storage), "
                       "which engram does not read",
                       path, name, opt);
    uint64_t stored = H5Dget_storage_size(d), decoded = in->elems * elem;
    if (stored > file_size)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) claims %llu stored bytes, more than the file's %llu (truncated or "
                       "corrupt)",
                       path, name, opt, (unsigned long long)stored, (unsigned long long)file_size);
    int packed = layout == H5D_CHUNKED; /* only chunks can be compressed */
    uint64_t bound = packed ? stored * DS_H5_MAX_RATIO + DS_H5_SLACK : stored + DS_H5_SLACK;
    if (decoded > bound)
        return ds_fail(err, cap, EG_ERR_FORMAT,
                       "%s: dataset '%s' (data.%s) of shape %s declares %llu bytes of values but stores %llu%s: "
                       "unwritten data (fill values) or a corrupt header",
                       path, name, opt, shape_text(in, shape, sizeof shape), (unsigned long long)decoded,
                       (unsigned long long)stored, packed ? " (more than deflate's 1032:1 could decode)" : "");
    if (packed) {
        hsize_t cd[DS_H5_MAX_RANK];
        int cr = H5Pget_chunk(dcpl, DS_H5_MAX_RANK, cd);
        uint64_t chunk = elem;
        for (int k = 0; k < cr && k < DS_H5_MAX_RANK; k++)
            chunk = cd[k] && chunk > DS_H5_MAX_CHUNK / cd[k] ? DS_H5_MAX_CHUNK + 1 : chunk * cd[k];
        if (cr != in->rank || chunk > DS_H5_MAX_CHUNK)
            return ds_fail(err, cap, EG_ERR_FORMAT,
                           "%s: dataset '%s' (data.%s) has chunks of more than %llu MiB (or of another rank), more "
                           "than engram decompresses at once",
                           path, name, opt, (unsigned long long)(DS_H5_MAX_CHUNK >> 20));
        return ds_h5_check_chunks(d, dcpl, path, opt, name, in, elem, err, cap);
    }
    return EG_OK;
}

eg_status ds_h5_inspect(hid_t d, const char *path, const char *opt, const char *name, uint64_t file_size,
                        int max_rank, int int_only, uint64_t max_elems, ds_h5_info *info, char *err, size_t cap) {
    hid_t ty = H5Dget_type(d), sp = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    H5T_class_t cls;
    size_t size = 0;
    memset(info, 0, sizeof *info);
    if (max_rank > DS_H5_MAX_RANK) max_rank = DS_H5_MAX_RANK;
    eg_status st = check_type(ty, path, opt, name, int_only, &cls, &size, err, cap);
    if (!st) st = check_shape(sp, path, opt, name, max_rank, max_elems, info, err, cap);
    if (!st) st = check_storage(d, dcpl, path, opt, name, file_size, size, info, err, cap);
    info->cls = cls;
    if (ty >= 0) H5Tclose(ty);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    return st;
}

/* integer reads fail on values out of the memory type's range instead of clamping them */
static H5T_conv_ret_t range_abort(H5T_conv_except_t kind, hid_t src, hid_t dst, void *s, void *t, void *op) {
    (void)src, (void)dst, (void)s, (void)t, (void)op;
    return kind == H5T_CONV_EXCEPT_RANGE_HI || kind == H5T_CONV_EXCEPT_RANGE_LOW ? H5T_CONV_ABORT
                                                                                  : H5T_CONV_UNHANDLED;
}

eg_status ds_h5_read(hid_t d, const char *path, const char *opt, const char *name, const ds_h5_info *info,
                     hid_t memtype, size_t elem_size, void *buf, char *err, size_t cap) {
    uint64_t rows = info->dims[0], row = info->elems / rows;
    uint64_t step = DS_H5_SLAB / (row * elem_size);
    if (step < 1) step = 1;
    hid_t fs = H5Dget_space(d), dxpl = H5P_DEFAULT;
    if (H5Tget_class(memtype) == H5T_INTEGER && (dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0)
        H5Pset_type_conv_cb(dxpl, range_abort, NULL);
    eg_status st = fs < 0 ? ds_fail(err, cap, EG_ERR_IO, "%s: dataset '%s' (data.%s): no dataspace", path, name, opt)
                          : EG_OK;
    for (uint64_t r = 0; r < rows && !st; r += step) {
        hsize_t start[DS_H5_MAX_RANK] = {0}, count[DS_H5_MAX_RANK];
        memcpy(count, info->dims, sizeof count);
        start[0] = r;
        count[0] = r + step < rows ? step : rows - r;
        hsize_t n = count[0] * row;
        hid_t ms = H5Screate_simple(1, &n, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(d, memtype, ms, fs, dxpl, (char *)buf + r * row * elem_size) < 0)
            st = ds_fail(err, cap, EG_ERR_IO,
                         "%s: reading dataset '%s' (data.%s) failed in rows %llu..%llu (corrupt data, or values "
                         "beyond the range of %s)",
                         path, name, opt, (unsigned long long)r, (unsigned long long)(r + count[0] - 1),
                         H5Tget_class(memtype) == H5T_INTEGER ? "int32" : "float32");
        if (ms >= 0) H5Sclose(ms);
    }
    if (fs >= 0) H5Sclose(fs);
    if (dxpl != H5P_DEFAULT && dxpl >= 0) H5Pclose(dxpl);
    return st;
}
