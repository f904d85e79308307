/* cmd_list.c — `engram list`: models, backends with availability, dataset sources. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engram/source.h"

static const char usage[] = "usage: engram list\n"
                            "\n"
                            "Print the model plugins (name, version, summary, the file it was loaded from), the\n"
                            "backend plugins (available here, or the reason they are not, and their file) and the\n"
                            "dataset sources. Plugins are searched on ENGRAM_PLUGIN_PATH, then next to the\n"
                            "executable (plugins/, ../lib/engram), in ~/.local/lib/engram, the build tree and the\n"
                            "install libdir; the first file of a name wins.\n";

int cmd_list(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse("list", argc, argv, 0, 0, usage, &a);
    cli_args_free(&a);
    if (rc) return rc == 1 ? 0 : rc;
    char **names = NULL;
    char err[2048];
    int n = eg_plugin_scan("model", &names);
    printf("models:\n");
    if (n == 0) printf("  (none found; set ENGRAM_PLUGIN_PATH)\n");
    for (int i = 0; i < n; i++) {
        eg_model_plugin *m = NULL;
        if (eg_model_open(names[i], &m, err, sizeof err) == EG_OK) {
            printf("  %-12s %-8s %s\n", m->desc->name, m->desc->version ? m->desc->version : "",
                   m->desc->summary ? m->desc->summary : "");
            printf("  %-12s %-8s from %s\n", "", "", m->path);
            eg_model_close(m);
        } else {
            printf("  %-12s %-8s cannot be loaded: %s\n", names[i], "-", err);
        }
        free(names[i]);
    }
    free(names);

    n = eg_plugin_scan("backend", &names);
    printf("backends:\n");
    if (n == 0) printf("  (none found; set ENGRAM_PLUGIN_PATH)\n");
    for (int i = 0; i < n; i++) {
        char resolved[64] = "", summary[256] = "", reason[1024] = "";
        int avail =
            eg_backend_probe(names[i], resolved, sizeof resolved, summary, sizeof summary, reason, sizeof reason);
        if (avail == 1)
            printf("  %-12s available      %s\n", names[i], summary);
        else if (avail == 0)
            printf("  %-12s unavailable    %s\n", names[i], reason);
        else
            printf("  %-12s cannot be loaded: %s\n", names[i], reason);
        char path[4096];
        if (eg_plugin_locate("backend", names[i], path, sizeof path) == EG_OK)
            printf("  %-12s %-14s from %s\n", "", "", path);
        free(names[i]);
    }
    free(names);

    printf("dataset sources (see `engram datasets`):\n");
    for (int i = 0; i < eg_data_source_count(); i++) {
        const eg_data_source *s = eg_data_source_at(i);
        const char *origin = eg_data_source_origin(s);
        printf("  %-16s %s\n", s->name, s->summary ? s->summary : "");
        if (origin) printf("  %-16s from %s\n", "", origin);
    }
    n = eg_plugin_scan("data", &names);
    for (int i = 0; i < n; i++) {
        const eg_data_source *s = NULL;
        char err[2048];
        if (eg_data_source_lookup(names[i], &s, err, sizeof err) != EG_OK)
            printf("  %-16s %s\n", names[i], err);
        free(names[i]);
    }
    free(names);
    return 0;
}
