/* loader.h — finding and opening backend, model and data-source plugins with dlopen.
 * Search order: ENGRAM_PLUGIN_PATH (':'-separated directories), <exe dir>/plugins,
 * <exe dir>/../lib/engram, ~/.local/lib/engram, the build tree's plugin directory
 * (EG_BUILD_PLUGIN_DIR), then the install libdir (EG_INSTALL_PLUGIN_DIR). Files: engram-backend-<name>.so,
 * engram-model-<name>.so, engram-data-<name>.so. Opened with RTLD_NOW | RTLD_LOCAL. */
#ifndef EG_LOADER_H
#define EG_LOADER_H

#include <stddef.h>

#include "engram/backend.h"
#include "engram/host.h"
#include "engram/plugin.h"

/* A backend plugin loaded and initialised. */
struct eg_backend {
    void *dl;
    char *path;
    const eg_backend_desc *desc;
    void *instance;
};

/* Validate a descriptor's versions against the host's; err names the file and both versions. */
eg_status eg_check_abi(const char *path, const char *kind, uint32_t major, uint32_t minor, uint32_t host_major,
                       uint32_t host_minor, uint32_t struct_size, uint32_t min_size, char *err, size_t cap);

/* Open a backend by name ("cpu", "cuda") or path (contains '/'), check its ABI. Does not init. */
eg_status eg_backend_open(const char *name_or_path, eg_backend **out, char *err, size_t cap);
/* available()? then init(). reason filled when unavailable (EG_ERR_UNAVAILABLE). */
eg_status eg_backend_start(eg_backend *b, const eg_backend_config *cfg, char *err, size_t cap);
/* eg_backend_close: engram/host.h (shutdown if started, dlclose) */
/* eg_backend_open_start: engram/host.h */

/* eg_model_plugin, eg_model_open, eg_model_close, eg_plugin_scan: engram/host.h */

/* d's init_from_models when its descriptor has the field, else NULL */
const char *eg_model_init_from_models(const eg_model_desc *d);
/* 1 when a run of model d may start from the weights of a run of `model` (init_from):
 * model is d itself, or one d lists in init_from_models (read when its descriptor has it) */
int eg_model_loads_from(const eg_model_desc *d, const char *model);

#endif
