/* spec_read.c — reading one spec file (the spec, or a file it includes) into memory,
 * at most SPEC_MAX_BYTES, refusing a directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_internal.h"

eg_status spec_read_file(const char *path, const char *what, char **text, size_t *len, char *err, size_t cap) {
    *text = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    memset(&st, 0, sizeof st);
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        f = NULL;
        errno = EISDIR;
    }
    if (!f) {
        snprintf(err, cap, "cannot read %s '%s': %s", what, path, strerror(errno));
        return EG_ERR_IO;
    }
    size_t n = 0, capb = 4096;
    int too_big = f && S_ISREG(st.st_mode) && st.st_size > (off_t)SPEC_MAX_BYTES;
    char *buf = too_big ? NULL : malloc(capb);
    while (buf) {
        if (n > SPEC_MAX_BYTES) { /* also for a pipe or a file that grows: read no further */
            too_big = 1;
            break;
        }
        if (n + 1 >= capb) {
            char *grown = realloc(buf, capb * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            capb *= 2;
        }
        size_t got = fread(buf + n, 1, capb - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (too_big) {
        free(buf);
        snprintf(err, cap, "%s: the %s is larger than %u MiB (%u bytes); a spec names data, it does not hold it",
                 path, what, SPEC_MAX_BYTES >> 20, SPEC_MAX_BYTES);
        return EG_ERR_SPEC;
    }
    if (!buf) {
        snprintf(err, cap, "cannot read %s '%s': out of memory", what, path);
        return EG_ERR_NOMEM;
    }
    if (bad) {
        free(buf);
        snprintf(err, cap, "cannot read %s '%s': %s", what, path, strerror(e));
        return EG_ERR_IO;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return EG_OK;
}
