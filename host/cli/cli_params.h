/* cli_params.h — parameter schemas as text and JSON. */
#ifndef EG_CLI_PARAMS_H
#define EG_CLI_PARAMS_H

#include <stdio.h>

#include "engram/plugin.h"

const char *cli_type_name(eg_param_type t);
/* "[0, inf)" or "" when unbounded */
void cli_range_text(const eg_param_spec *p, char *buf, size_t cap);
/* one entry per parameter: key (with prefix), type, default, choices, range, unit, and the doc line */
void cli_print_params(FILE *f, const char *prefix, const eg_param_spec *ps, int n);
void cli_json_str(FILE *f, const char *s);
/* a JSON array of {key, type, default, required, min, max, min_exclusive, max_exclusive, choices, unit, doc} */
void cli_json_params(FILE *f, const eg_param_spec *ps, int n);

#endif
