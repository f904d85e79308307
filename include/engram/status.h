/* engram/status.h — status codes shared by libengram, backends and plugins.
 * Every fallible call returns eg_status: 0 on success, a negative code on failure.
 * Codes are only ever appended; their numeric values are part of the ABI. */
#ifndef ENGRAM_STATUS_H
#define ENGRAM_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eg_status {
    EG_OK = 0,
    EG_ERR_NOMEM = -1,        /* host or device allocation failed */
    EG_ERR_INVALID = -2,      /* invalid argument (shape, dtype, range) */
    EG_ERR_UNSUPPORTED = -3,  /* backend or plugin does not implement this */
    EG_ERR_IO = -4,           /* file could not be read or written */
    EG_ERR_FORMAT = -5,       /* file contents malformed (magic, size, truncation) */
    EG_ERR_ABI = -6,          /* plugin ABI version mismatch or bad descriptor */
    EG_ERR_LOAD = -7,         /* dlopen/dlsym failure */
    EG_ERR_BACKEND = -8,      /* backend runtime failure (driver, cuBLAS, LAPACK) */
    EG_ERR_SPEC = -9,         /* experiment spec or override invalid */
    EG_ERR_NOTFOUND = -10,    /* named thing (model, dataset, key, file) absent */
    EG_ERR_CANCELLED = -11,   /* run cancelled or deadline passed */
    EG_ERR_DIVERGED = -12,    /* NaN or Inf where a finite number was required */
    EG_ERR_UNAVAILABLE = -13, /* backend present but cannot run here (no device) */
    EG_ERR_INTERNAL = -14     /* broken invariant: a bug in engram */
} eg_status;

/* Short constant description of a status code ("out of memory"). Never NULL. */
EG_API const char *eg_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif
