/* cmd_datasets.c — `engram datasets`: dataset sources (built in and plugins), their
 * options, splits and item shape, where each came from; data plugins that do not load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_params.h"
#include "engram/host.h"
#include "engram/source.h"

static const char usage[] =
    "usage: engram datasets [SOURCE]\n"
    "\n"
    "Print every dataset source (or only SOURCE: a name, or the path of a data plugin): its\n"
    "data.* options with types, defaults and docs, the values data.split accepts, the shape of an\n"
    "item and where it comes from: built into engram, or a data plugin (engram-data-<name>.so on\n"
    "the plugin search path). Data plugins that are found but do not load are listed with the\n"
    "reason (exit 1 when SOURCE is one of them).\n";

static void print_source(const eg_data_source *s, int first) {
    const char *origin = eg_data_source_origin(s);
    printf("%s%s\n  %s\n  data.split: %s\n  item shape: %s\n", first ? "" : "\n", s->name, s->summary ? s->summary : "",
           s->splits ? s->splits : "", s->shape ? s->shape : "set by its options");
    char id[17] = "?", err[512];
    if (origin && eg_plugin_build_id(origin, id, err, sizeof err) != EG_OK) snprintf(id, sizeof id, "?");
    if (origin)
        printf("  from %s (build id %s, version %s%s%s%s%s)\n", origin, id, s->version ? s->version : "?",
               s->license ? ", license " : "", s->license ? s->license : "", s->authors ? ", by " : "",
               s->authors ? s->authors : "");
    else
        printf("  built into engram %s\n", eg_engram_version());
    cli_print_params(stdout, "data.", s->options, s->n_options);
}

/* data plugins on the search path that do not load: one line each; returns how many */
static int print_broken(const char *only) {
    char **names = NULL;
    int n = eg_plugin_scan("data", &names), bad = 0;
    for (int i = 0; i < n; i++) {
        const eg_data_source *s = NULL;
        char err[2048];
        if (only && strcmp(only, names[i]) != 0) {
        } else if (eg_data_source_lookup(names[i], &s, err, sizeof err) != EG_OK) {
            fprintf(stderr, "engram: %s\n", err);
            bad++;
        } else if (!eg_data_source_origin(s) && eg_plugin_locate("data", names[i], err, sizeof err) == EG_OK) {
            fprintf(stderr, "engram: %s: ignored, the built-in source '%s' has that name\n", err, names[i]);
        }
        free(names[i]);
    }
    free(names);
    return bad;
}

int cmd_datasets(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse("datasets", argc, argv, 0, 1, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    const char *only = a.n_positional ? a.positional[0] : NULL;
    int shown = 0;
    if (only && strchr(only, '/')) { /* a plugin file */
        const eg_data_source *s = NULL;
        char err[2048];
        int rc = eg_data_source_lookup(only, &s, err, sizeof err) == EG_OK ? 0 : 1;
        if (rc == 0) print_source(s, 1);
        else fprintf(stderr, "engram: %s\n", err);
        cli_args_free(&a);
        return rc;
    }
    for (int i = 0; i < eg_data_source_count(); i++) {
        const eg_data_source *s = eg_data_source_at(i);
        if (only && strcmp(only, s->name) != 0) continue;
        print_source(s, shown == 0);
        shown++;
    }
    if (print_broken(only) && only && !shown) {
        cli_args_free(&a);
        return 1;
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
