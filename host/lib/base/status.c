/* status.c — descriptions of eg_status codes. */
#include "engram/status.h"

const char *eg_strerror(int status) {
    switch (status) {
    case EG_OK: return "ok";
    case EG_ERR_NOMEM: return "out of memory";
    case EG_ERR_INVALID: return "invalid argument";
    case EG_ERR_UNSUPPORTED: return "not supported";
    case EG_ERR_IO: return "input/output error";
    case EG_ERR_FORMAT: return "malformed file";
    case EG_ERR_ABI: return "plugin ABI mismatch";
    case EG_ERR_LOAD: return "plugin could not be loaded";
    case EG_ERR_BACKEND: return "backend failure";
    case EG_ERR_SPEC: return "invalid experiment spec";
    case EG_ERR_NOTFOUND: return "not found";
    case EG_ERR_CANCELLED: return "cancelled";
    case EG_ERR_DIVERGED: return "diverged (NaN or Inf)";
    case EG_ERR_UNAVAILABLE: return "unavailable here";
    case EG_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}
