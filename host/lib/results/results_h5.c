/* results_h5.c — small HDF5 helpers for the results layer: the string and
 * boolean types, typed attributes, text datasets, quiet error handling. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_impl.h"

hid_t eg_h5_str_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* h5py writes numpy bool as this enum and reads it back as bool */
hid_t eg_h5_bool_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t < 0) return t;
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

/* The first error of a quiet section, kept when it happens: later cleanup calls (H5Sclose
 * and the like) clear the stack before a caller asks. An OS error inside HDF5 ("file
 * write failed: ..., errno = 28, error message = 'No space left on device', ...") is
 * kept as its strerror text. */
static char g_first_error[256];

static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data) {
    char *buf = data;
    if (e->desc && !buf[0]) {
        const char *en = strstr(e->desc, "errno = ");
        if (en && atoi(en + 8) > 0)
            snprintf(buf, 256, "%s", strerror(atoi(en + 8)));
        else if (n == 0)
            snprintf(buf, 256, "%s", e->desc);
    }
    return 0;
}

static herr_t keep_first_error(hid_t stack, void *data) {
    if (!g_first_error[0]) {
        char tmp[256] = "";
        H5Ewalk2(stack, H5E_WALK_UPWARD, first_error, tmp); /* innermost first: the OS error, when there is one */
        snprintf(g_first_error, sizeof g_first_error, "%s", tmp);
    }
    return 0;
}

void eg_h5_quiet_begin(eg_h5_quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, keep_first_error, NULL);
    g_first_error[0] = 0;
}

void eg_h5_error_reset(void) {
    g_first_error[0] = 0;
}

void eg_h5_quiet_end(const eg_h5_quiet *q) {
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

void eg_h5_last_error(char *buf, size_t cap) {
    char tmp[256] = "";
    if (g_first_error[0])
        snprintf(tmp, sizeof tmp, "%s", g_first_error);
    else
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, tmp);
    /* a failure can leave HDF5's stack empty (a call that failed before pushing, or one
     * cleared since): say so rather than a bare "HDF5 error" */
    snprintf(buf, cap, "%s", tmp[0] ? tmp : "HDF5 refused the call (no reason given)");
}

int eg_fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- attributes ---- */

static herr_t write_attr_raw(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t space, const void *buf) {
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t rc = H5Awrite(a, mtype, buf);
    H5Aclose(a);
    return rc;
}

herr_t eg_h5_write_attr(hid_t obj, const char *name, const eg_rval *v) {
    herr_t rc = -1;
    hid_t space, str = -1, bt = -1;
    if (v->kind == EG_RV_LIST) {
        hsize_t n = (hsize_t)v->n;
        space = H5Screate_simple(1, &n, NULL);
    } else
        space = H5Screate(H5S_SCALAR);
    if (space < 0) return -1;
    switch (v->kind) {
    case EG_RV_INT: rc = write_attr_raw(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, &v->i); break;
    case EG_RV_FLOAT: rc = write_attr_raw(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &v->f); break;
    case EG_RV_BOOL: {
        int8_t b = v->i != 0;
        bt = eg_h5_bool_type();
        rc = write_attr_raw(obj, name, bt, bt, space, &b);
        break;
    }
    case EG_RV_STR: {
        const char *s = v->s ? v->s : "";
        str = eg_h5_str_type();
        rc = write_attr_raw(obj, name, str, str, space, &s);
        break;
    }
    case EG_RV_LIST:
        if (v->item == EG_RV_INT)
            rc = write_attr_raw(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, v->iv);
        else if (v->item == EG_RV_FLOAT)
            rc = write_attr_raw(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, v->fv);
        else if (v->item == EG_RV_BOOL) {
            int8_t *b = malloc((size_t)v->n + 1);
            rc = b ? -1 : EG_H5_NOMEM;
            if (b) {
                for (int k = 0; k < v->n; k++)
                    b[k] = v->iv[k] != 0;
                bt = eg_h5_bool_type();
                rc = write_attr_raw(obj, name, bt, bt, space, b);
                free(b);
            }
        } else {
            str = eg_h5_str_type();
            rc = write_attr_raw(obj, name, str, str, space, v->sv);
        }
        break;
    }
    if (str >= 0) H5Tclose(str);
    if (bt >= 0) H5Tclose(bt);
    H5Sclose(space);
    return rc;
}

static int is_bool_enum(hid_t t) {
    if (H5Tget_nmembers(t) != 2 || H5Tget_size(t) != 1) return 0;
    char *a = H5Tget_member_name(t, 0), *b = H5Tget_member_name(t, 1);
    int ok = a && b && strcmp(a, "FALSE") == 0 && strcmp(b, "TRUE") == 0;
    H5free_memory(a);
    H5free_memory(b);
    return ok;
}

/* read n strings of an attribute (vlen or fixed) into malloc'ed copies; EG_H5_NOMEM when
 * out of memory */
static herr_t read_strings(hid_t a, hid_t ftype, size_t n, char **out) {
    herr_t rc;
    int oom = 0;
    if (H5Tis_variable_str(ftype) > 0) {
        hid_t mt = eg_h5_str_type(); /* HDF5 converts no string between ASCII and UTF-8: match the file */
        H5Tset_cset(mt, H5Tget_cset(ftype));
        char **tmp = calloc(n ? n : 1, sizeof(char *));
        oom = !tmp;
        rc = tmp ? H5Aread(a, mt, tmp) : -1;
        for (size_t k = 0; rc >= 0 && k < n; k++)
            out[k] = strdup(tmp[k] ? tmp[k] : "");
        if (rc >= 0) {
            hid_t sp = H5Aget_space(a);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, tmp);
            H5Sclose(sp);
        }
        free(tmp);
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(ftype);
        hid_t mt = H5Tcopy(ftype);
        char *buf = calloc(n ? n : 1, len + 1);
        oom = !buf;
        rc = buf ? H5Aread(a, mt, buf) : -1;
        for (size_t k = 0; rc >= 0 && k < n; k++)
            out[k] = strndup(buf + k * len, len);
        free(buf);
        H5Tclose(mt);
    }
    for (size_t k = 0; rc >= 0 && k < n; k++)
        if (!out[k]) rc = -1, oom = 1;
    return oom ? EG_H5_NOMEM : rc;
}

herr_t eg_h5_read_attr(hid_t obj, const char *name, eg_rval *out) {
    memset(out, 0, sizeof *out);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cls = H5Tget_class(ft);
    H5S_class_t scls = H5Sget_simple_extent_type(sp);
    hssize_t np = scls == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(sp);
    size_t n = np > 0 ? (size_t)np : 0;
    int scalar = scls == H5S_SCALAR;
    herr_t rc = -1;
    int oom = 0; /* an allocation failed: EG_H5_NOMEM, never "a type we do not read" */
    eg_rv_kind item = 0;
    int64_t *iv = NULL;
    double *fv = NULL;
    char **sv = NULL;
    if (cls == H5T_INTEGER || (cls == H5T_ENUM && is_bool_enum(ft))) {
        item = cls == H5T_ENUM ? EG_RV_BOOL : EG_RV_INT;
        iv = calloc(n ? n : 1, sizeof *iv);
        oom = !iv;
        if (iv && cls == H5T_INTEGER)
            rc = n ? H5Aread(a, H5T_NATIVE_INT64, iv) : 0;
        else if (iv) {
            int8_t *b = calloc(n ? n : 1, 1);
            hid_t bt = eg_h5_bool_type();
            oom = !b;
            rc = b && n ? H5Aread(a, bt, b) : (b ? 0 : -1);
            for (size_t k = 0; rc >= 0 && k < n; k++)
                iv[k] = b[k] != 0;
            H5Tclose(bt);
            free(b);
        }
    } else if (cls == H5T_FLOAT) {
        item = EG_RV_FLOAT;
        fv = calloc(n ? n : 1, sizeof *fv);
        oom = !fv;
        rc = fv ? (n ? H5Aread(a, H5T_NATIVE_DOUBLE, fv) : 0) : -1;
    } else if (cls == H5T_STRING) {
        item = EG_RV_STR;
        sv = calloc(n ? n : 1, sizeof *sv);
        rc = sv ? (n ? read_strings(a, ft, n, sv) : 0) : EG_H5_NOMEM;
        oom = rc == EG_H5_NOMEM;
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Aclose(a);
    if (rc >= 0 && scalar && n == 1) {
        out->kind = item;
        if (iv) out->i = iv[0], out->f = (double)iv[0];
        if (fv) out->f = fv[0];
        if (sv) out->s = sv[0], sv[0] = NULL;
        free(iv);
        free(fv);
        free(sv);
        return 0;
    }
    if (rc < 0) {
        free(iv);
        free(fv);
        if (sv)
            for (size_t k = 0; k < n; k++)
                free(sv[k]);
        free(sv);
        return oom ? EG_H5_NOMEM : -1;
    }
    /* a 1-d (or flattened) list, with its canonical text */
    out->kind = EG_RV_LIST;
    out->item = item;
    out->n = (int)n;
    out->iv = iv;
    out->fv = fv;
    out->sv = sv;
    size_t cap = 4;
    for (size_t k = 0; k < n; k++)
        cap += (sv ? strlen(sv[k]) : 32) + 2;
    out->s = malloc(cap);
    if (!out->s) {
        eg_rval_free(out);
        return EG_H5_NOMEM;
    }
    size_t len = 0;
    out->s[len++] = '[';
    for (size_t k = 0; k < n; k++) {
        char buf[64];
        eg_rval one = {.kind = item};
        if (item == EG_RV_INT || item == EG_RV_BOOL) one.i = iv[k];
        if (item == EG_RV_FLOAT) one.f = fv[k];
        if (item != EG_RV_STR) eg_rval_text(&one, buf, sizeof buf);
        len += (size_t)snprintf(out->s + len, cap - len, "%s%s", k ? ", " : "", item == EG_RV_STR ? sv[k] : buf);
    }
    snprintf(out->s + len, cap - len, "]");
    return 0;
}

herr_t eg_h5_read_attr_str(hid_t obj, const char *name, char *buf, size_t cap) {
    eg_rval v;
    herr_t rc = eg_h5_read_attr(obj, name, &v);
    if (rc < 0) return rc;
    rc = -1;
    if (v.kind == EG_RV_STR) {
        snprintf(buf, cap, "%s", v.s ? v.s : "");
        rc = 0;
    }
    eg_rval_free(&v);
    return rc;
}

/* ---- text datasets ---- */

herr_t eg_h5_write_text(hid_t loc, const char *name, const char *text) {
    hid_t st = eg_h5_str_type(), sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = -1;
    if (d >= 0) {
        const char *s = text ? text : "";
        rc = H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
        if (H5Dclose(d) < 0) rc = -1;
    }
    H5Sclose(sp);
    H5Tclose(st);
    return rc;
}

char *eg_h5_read_text(hid_t loc, const char *name, int *oom) {
    if (oom) *oom = 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = eg_h5_str_type();
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *s = NULL;
            if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0) {
                out = strdup(s ? s : "");
                if (!out && oom) *oom = 1;
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
            }
            H5Tclose(mt);
        } else {
            size_t len = H5Tget_size(ft);
            char *buf = calloc(1, len + 1);
            if (!buf && oom) *oom = 1;
            if (buf && H5Dread(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
                out = buf;
            else
                free(buf);
        }
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    return out;
}

int eg_h5_read_metric(hid_t d, double *x) {
    *x = NAN;
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    int ok = sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1 && (cls == H5T_FLOAT || cls == H5T_INTEGER) &&
             H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0;
    if (!ok) *x = NAN;
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    return ok;
}
