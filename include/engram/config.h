/* engram/config.h — reading a resolved configuration: a flat map from dotted keys
 * ("data.path", "params.beta") to typed values, as the spec loader resolved them.
 * A data source's loader gets one (the run's data.* keys); the type is opaque. */
#ifndef ENGRAM_CONFIG_H
#define ENGRAM_CONFIG_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_cfg eg_cfg;

/* 1 when key is set to something other than null */
EG_API int eg_cfg_has(const eg_cfg *c, const char *key);
/* the text of a scalar as written ("4", "1e-3", "mchn", "/data/x.h5"); NULL when the key
 * is absent, null or a list */
EG_API const char *eg_cfg_text(const eg_cfg *c, const char *key);
/* EG_OK with *out set; EG_ERR_NOTFOUND when absent or null; EG_ERR_INVALID when the
 * value is of another type (a float is not an int; an int is a float) */
EG_API eg_status eg_cfg_int(const eg_cfg *c, const char *key, int64_t *out);
EG_API eg_status eg_cfg_float(const eg_cfg *c, const char *key, double *out);

#ifdef __cplusplus
}
#endif
#endif
