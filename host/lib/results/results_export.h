/* results_export.h — `engram show --json` and `--csv` of a view (results_export.c). */
#ifndef EG_RESULTS_EXPORT_H
#define EG_RESULTS_EXPORT_H

#include <stdio.h>

#include "results_view.h"

void eg_show_print_json(const eg_show_view *v, const char *dir, FILE *out);
void eg_show_print_csv(const eg_show_view *v, FILE *out);
/* a JSON string literal (also used by `engram show DIR RUN`) */
void eg_json_str(FILE *out, const char *s);
void eg_json_num(FILE *out, double v);

#endif
