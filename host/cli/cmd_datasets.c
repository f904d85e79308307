/* cmd_datasets.c — `engram datasets`: dataset sources, their options and splits. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_params.h"
#include "engram/source.h"

static const char usage[] = "usage: engram datasets [SOURCE]\n"
                            "\n"
                            "Print every dataset source compiled into engram (or only SOURCE): its data.* options\n"
                            "with types, defaults and docs, and the values data.split accepts.\n";

int cmd_datasets(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse("datasets", argc, argv, 0, 1, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    const char *only = a.n_positional ? a.positional[0] : NULL;
    int shown = 0;
    for (int i = 0; i < eg_data_source_count(); i++) {
        const eg_data_source *s = eg_data_source_at(i);
        if (only && strcmp(only, s->name) != 0) continue;
        printf("%s%s\n  %s\n  data.split: %s\n", shown ? "\n" : "", s->name, s->summary ? s->summary : "",
               s->splits ? s->splits : "");
        cli_print_params(stdout, "data.", s->options, s->n_options);
        shown++;
    }
    if (only && !shown) {
        const char *names[64];
        int n = 0;
        for (int i = 0; i < eg_data_source_count() && n < 64; i++)
            names[n++] = eg_data_source_at(i)->name;
        const char *guess = eg_did_you_mean(only, names, n);
        fprintf(stderr, "engram: unknown dataset source '%s'%s%s%s\n", only, guess ? "; did you mean '" : "",
                guess ? guess : "", guess ? "'?" : "");
        cli_args_free(&a);
        return 2;
    }
    cli_args_free(&a);
    return 0;
}
