/* cli_templates.h — the files `engram new-plugin` writes (host/cli/templates/<kind>/,
 * embedded by CMakeLists.txt as cli_templates.c): "model/plugin.c" and so on. */
#ifndef EG_CLI_TEMPLATES_H
#define EG_CLI_TEMPLATES_H

#include <stddef.h>

typedef struct cli_template {
    const char *name;          /* relative to templates/: "<kind>/<file>" */
    const unsigned char *data; /* size bytes, then a 0 */
    size_t size;
} cli_template;

extern const cli_template cli_templates[];
extern const int cli_n_templates;

#endif
