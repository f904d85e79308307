/* ds_common.c — option access, split resolution and chunked zlib reads for the dataset sources. */
#include "ds_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

eg_status ds_fail(char *err, size_t cap, eg_status st, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return st;
}

static const eg_param_spec *find_opt(const eg_data_source *src, const char *key) {
    for (int i = 0; src && i < src->n_options; i++)
        if (strcmp(src->options[i].key, key) == 0) return &src->options[i];
    return NULL;
}

/* "data.<key>" into buf */
static const char *full_key(const char *key, char *buf, size_t cap) {
    snprintf(buf, cap, "data.%s", key);
    return buf;
}

/* the schema default text with YAML quotes removed */
static const char *default_text(const eg_data_source *src, const char *key, char *buf, size_t cap) {
    const eg_param_spec *o = find_opt(src, key);
    if (!o || !o->default_value) return "";
    const char *d = o->default_value;
    size_t n = strlen(d);
    if (n >= 2 && (d[0] == '"' || d[0] == '\'') && d[n - 1] == d[0]) {
        snprintf(buf, cap, "%.*s", (int)(n - 2), d + 1);
        return buf;
    }
    return d;
}

const char *eg_source_text(const eg_cfg *c, const eg_data_source *src, const char *key) {
    char k[128];
    const char *text = c ? eg_cfg_text(c, full_key(key, k, sizeof k)) : NULL;
    if (text) return text;
    static _Thread_local char buf[512];
    return default_text(src, key, buf, sizeof buf);
}

eg_status eg_source_int(const eg_cfg *c, const eg_data_source *src, const char *key, int64_t *out, char *err, size_t cap) {
    char k[128], buf[128];
    if (c && eg_cfg_int(c, full_key(key, k, sizeof k), out) == EG_OK) return EG_OK;
    const char *text = c ? eg_cfg_text(c, k) : NULL;
    if (!text) text = default_text(src, key, buf, sizeof buf);
    char *end = NULL;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (!*text || errno || *end)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.%s: expected an integer, got '%s'", key, text);
    *out = x;
    return EG_OK;
}

eg_status eg_source_float(const eg_cfg *c, const eg_data_source *src, const char *key, double *out, char *err,
                       size_t cap) {
    char k[128], buf[128];
    if (c && eg_cfg_float(c, full_key(key, k, sizeof k), out) == EG_OK) return EG_OK;
    const char *text = c ? eg_cfg_text(c, k) : NULL;
    if (!text) text = default_text(src, key, buf, sizeof buf);
    char *end = NULL;
    errno = 0;
    double x = strtod(text, &end);
    if (!*text || errno || *end)
        return ds_fail(err, cap, EG_ERR_SPEC, "data.%s: expected a number, got '%s'", key, text);
    *out = x;
    return EG_OK;
}

/* 1 when `word` is one of the '|'-separated `list` */
static int in_list(const char *word, const char *list) {
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

eg_status eg_source_split(const eg_cfg *c, const eg_data_source *src, const char *split, const char **out, char *err,
                   size_t cap) {
    const char *s = split && *split ? split : NULL;
    if (!s) {
        const char *v = c ? eg_cfg_text(c, "data.split") : NULL;
        if (v && *v) s = v;
    }
    if (!s) {
        const eg_param_spec *o = find_opt(src, "split");
        if (o && o->default_value && *o->default_value) s = o->default_value;
    }
    if (!s) s = "all";
    /* return the matching static string of the splits list when possible */
    if (!in_list(s, src->splits))
        return ds_fail(err, cap, EG_ERR_SPEC, "data.split: '%s' is not a split of %s (expected %s)", s, src->name,
                       src->splits);
    static const char *const known[] = {"train", "test", "all"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(s, known[i]) == 0) s = known[i];
    *out = s;
    return EG_OK;
}

int ds_is_dir(const char *path) {
    struct stat st;
    return path && *path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

uint64_t ds_stream_id(const char *name) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

const char *ds_gz_note(gzFile f) {
    if (gzdirect(f)) return "";
    int code = Z_OK;
    gzerror(f, &code);
    return code == Z_BUF_ERROR ? " (offsets count decompressed bytes; the gzip stream itself ends early)"
                               : " (offsets count decompressed bytes)";
}

/* the zlib error of f as text, for messages (without zlib's own "path: " prefix) */
static const char *zerr(gzFile f, const char *path) {
    int code = 0;
    const char *m = gzerror(f, &code);
    if (code == Z_ERRNO) return strerror(errno);
    if (!m || !*m) return "read error";
    size_t n = strlen(path);
    return strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ' ? m + n + 2 : m;
}

eg_status ds_read_status(gzFile f) {
    int code = Z_OK;
    gzerror(f, &code);
    return code == Z_DATA_ERROR ? EG_ERR_FORMAT : EG_ERR_IO;
}

int64_t ds_read(gzFile f, const char *path, uint64_t offset, void *buf, uint64_t n, char *err, size_t cap) {
    uint64_t got = 0;
    while (got < n) {
        uint64_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(f, (uint8_t *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int code = Z_OK;
            gzerror(f, &code);
            if (code == Z_DATA_ERROR)
                ds_fail(err, cap, EG_ERR_FORMAT,
                        "%s: corrupt gzip data (reading from decompressed byte offset %llu): %s", path,
                        (unsigned long long)(offset + got), zerr(f, path));
            else
                ds_fail(err, cap, EG_ERR_IO, "%s: read error at byte offset %llu: %s", path,
                        (unsigned long long)(offset + got), zerr(f, path));
            return -1;
        }
        if (r == 0) break;
        got += (uint64_t)r;
    }
    /* a gzip stream cut short reads as a short read plus Z_BUF_ERROR: report it as truncation (the caller does) */
    return (int64_t)got;
}

eg_status ds_read_grow(gzFile f, const char *path, uint64_t offset, uint64_t want, uint8_t **buf, uint64_t *got,
                       char *err, size_t cap) {
    uint64_t have = 0, size = want < (1u << 22) ? want : (1u << 22);
    uint8_t *b = malloc(size ? size : 1);
    *buf = NULL;
    *got = 0;
    if (!b)
        return ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory reading %llu bytes", path, (unsigned long long)want);
    for (;;) {
        int64_t r = ds_read(f, path, offset + have, b + have, size - have, err, cap);
        if (r < 0) {
            free(b);
            return ds_read_status(f);
        }
        have += (uint64_t)r;
        if (have < size || size == want) break; /* end of data, or all we wanted */
        uint64_t next = size * 2 < want ? size * 2 : want;
        uint8_t *nb = realloc(b, next);
        if (!nb) {
            free(b);
            return ds_fail(err, cap, EG_ERR_NOMEM, "%s: out of memory reading %llu bytes", path,
                           (unsigned long long)want);
        }
        b = nb;
        size = next;
    }
    *buf = b;
    *got = have;
    return EG_OK;
}

hid_t ds_h5_open(const char *path, ds_h5_quiet *q, char *err, size_t cap) {
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ds_fail(err, cap, EG_ERR_FORMAT,
                "%s: not an HDF5 file, or it cannot be opened (on a cluster file system try "
                "HDF5_USE_FILE_LOCKING=FALSE)",
                path);
        H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
    }
    return file;
}

void ds_h5_close(hid_t file, ds_h5_quiet *q) {
    if (file >= 0) H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}
