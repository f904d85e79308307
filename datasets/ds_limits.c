/* ds_limits.c — size caps, regular-file opening, streamed measuring and the
 * non-finite scan shared by the file readers (ds_limits.h). */
#define _GNU_SOURCE
#include "ds_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds_common.h"

uint64_t ds_max_items(uint64_t dim, int labelled) {
    uint64_t per = dim * sizeof(float) + (labelled ? sizeof(int32_t) : 0);
    return dim == 0 || dim > DS_MAX_DECODED ? 0 : DS_MAX_DECODED / per;
}

eg_status ds_check_decoded(const char *path, const char *what, uint64_t n, uint64_t dim, int labelled, char *err,
                           size_t cap) {
    if (n <= ds_max_items(dim, labelled)) return EG_OK;
    return ds_fail(err, cap, EG_ERR_FORMAT,
                   "%s: %llu %s of %llu values each would load as more than %llu GiB of float32 data, the limit "
                   "on a loaded dataset",
                   path, (unsigned long long)n, what, (unsigned long long)dim,
                   (unsigned long long)(DS_MAX_DECODED >> 30));
}

int ds_exists(const char *path) {
    struct stat st;
    return path && *path && (lstat(path, &st) == 0 || errno != ENOENT);
}

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

eg_status ds_open_regular(const char *path, int *fd, uint64_t *size, char *err, size_t cap) {
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0)
        return ds_fail(err, cap, errno == ENOENT ? EG_ERR_NOTFOUND : EG_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const char *why = fstat(*fd, &st) == 0 ? kind_of(st.st_mode) : strerror(errno);
        close(*fd);
        *fd = -1;
        return ds_fail(err, cap, EG_ERR_IO, "%s: not a regular file (%s)", path, why);
    }
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
    if (size) *size = (uint64_t)st.st_size;
    return EG_OK;
}

eg_status ds_check_regular(const char *path, uint64_t *size, char *err, size_t cap) {
    int fd = -1;
    eg_status st = ds_open_regular(path, &fd, size, err, cap);
    if (fd >= 0) close(fd);
    return st;
}

gzFile ds_gzopen(const char *path, char *err, size_t cap) {
    int fd = -1;
    if (ds_open_regular(path, &fd, NULL, err, cap) != EG_OK) return NULL;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        ds_fail(err, cap, EG_ERR_NOMEM, "%s: cannot open: out of memory", path);
        return NULL;
    }
    gzbuffer(f, 1 << 17);
    return f;
}

eg_status ds_measure(gzFile f, const char *path, uint64_t offset, uint64_t want, uint64_t *got, char *err,
                     size_t cap) {
    static _Thread_local uint8_t scratch[1 << 16];
    *got = 0;
    while (*got < want) {
        uint64_t n = want - *got < sizeof scratch ? want - *got : sizeof scratch;
        int64_t r = ds_read(f, path, offset + *got, scratch, n, err, cap);
        if (r < 0) return ds_read_status(f);
        *got += (uint64_t)r;
        if ((uint64_t)r < n) break;
    }
    return EG_OK;
}

eg_status ds_restart(gzFile f, const char *path, uint64_t offset, char *err, size_t cap) {
    if (gzrewind(f) != 0 || (offset && gzseek(f, (z_off_t)offset, SEEK_SET) != (z_off_t)offset))
        return ds_fail(err, cap, EG_ERR_IO, "%s: cannot seek back to byte offset %llu", path,
                       (unsigned long long)offset);
    return EG_OK;
}

eg_status ds_read_scaled(gzFile f, const char *path, uint64_t offset, float *out, uint64_t n, float div, char *err,
                         size_t cap) {
    uint8_t buf[1 << 14];
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < sizeof buf ? n - done : sizeof buf;
        int64_t r = ds_read(f, path, offset + done, buf, k, err, cap);
        if (r < 0) return ds_read_status(f);
        if ((uint64_t)r < k) /* the file changed since it was measured */
            return ds_fail(err, cap, EG_ERR_IO, "%s: truncated at byte offset %llu while reading (file changed?)",
                           path, (unsigned long long)(offset + done + (uint64_t)r));
        for (uint64_t i = 0; i < k; i++)
            out[done + i] = (float)buf[i] / div;
        done += k;
    }
    return EG_OK;
}

uint64_t ds_first_nonfinite(const float *x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

eg_status ds_check_finite(const char *path, const char *name, const char *opt, const float *x, uint64_t n,
                          uint64_t cols, char *err, size_t cap) {
    uint64_t i = ds_first_nonfinite(x, n);
    if (i == n) return EG_OK;
    if (cols == 0) cols = 1;
    return ds_fail(err, cap, EG_ERR_FORMAT,
                   "%s: dataset '%s' (data.%s) element %llu (row %llu, col %llu) is %s (NaN and inf are refused; "
                   "float64 values beyond the float32 range read as inf)",
                   path, name, opt, (unsigned long long)i, (unsigned long long)(i / cols),
                   (unsigned long long)(i % cols), isnan(x[i]) ? "NaN" : x[i] > 0 ? "+inf" : "-inf");
}
