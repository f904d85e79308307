/* cmd_show.c — `engram show DIR [RUN]`: final metrics as mean ± sd over seeds, filtered,
 * sorted and selected; or one run in full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char show_usage[] =
    "usage: engram show DIR [RUN_ID] [--out ROOT] [--where COND]... [--sort KEY] [--best METRIC]\n"
    "                   [--metrics LIST] [--width N] [--json | --csv]\n"
    "\n"
    "Print the final metrics of the experiment in DIR (results/<experiment>, or just the\n"
    "experiment name under ROOT) as mean ± sd over seeds, grouped by the swept parameters,\n"
    "with the number of runs per group and their statuses. Only parameters that vary among\n"
    "the shown runs are columns; '-' marks a parameter the spec left to the model's default.\n"
    "  RUN_ID          one run instead (its id or a unique prefix): status, resolved config,\n"
    "                  metrics, series, artifacts, weights and the end of its log\n"
    "  --where COND    only runs where COND holds: KEY OP VALUE, OP one of == != >= <= > <\n"
    "                  (params.beta>=1, variant==gmm, status!=ok, wall_s<10); repeat it or join\n"
    "                  with ' and ' for several; KEY is any column or constant ('params.' optional)\n"
    "  --sort KEY      order the groups by a metric (best first by its goal) or a parameter\n"
    "                  (ascending); +KEY ascending, -KEY descending\n"
    "  --best METRIC   only the best group by the metric's declared goal (METRIC:max or :min for\n"
    "                  a metric without one), and its run ids\n"
    "  --metrics LIST  only these metrics, in this order: comma-separated names, without the\n"
    "                  shared prefix, or globs (--metrics 'success,train/*')\n"
    "  --width N       table width in columns (default: the terminal's, else $COLUMNS, else 100)\n"
    "  --json          the same numbers as JSON, at full precision: {\"goals\": {...}, \"groups\":\n"
    "                  [{\"params\": {...}, \"defaulted\": [...], \"ok\": k, \"total\": n, \"run_ids\": [...],\n"
    "                  \"metrics\": {\"NAME\": {\"mean\", \"sd\", \"n\"}}}]}\n"
    "  --csv           one row per group: the parameters, ok, total, and NAME:mean, NAME:sd, NAME:n\n";

/* the value of option `name` at argv[*i] (cli_opt_value); NULL when arg is another option,
 * *missing set when it is this one without a value */
static const char *opt_arg(int argc, char **argv, int *i, const char *name, int *missing) {
    if (!cli_is_opt(argv[*i], name)) return NULL;
    const char *v = cli_opt_value(argc, argv, i, argv[*i], strlen(name));
    *missing = v == NULL;
    return v;
}

int cmd_show(int argc, char **argv) {
    char dir[4096], err[4096] = "";
    const char *pos[2] = {NULL, NULL}, *out = "results";
    const char **where = calloc((size_t)argc + 1, sizeof *where);
    int n_pos = 0, json = 0, csv = 0, rc = 0;
    eg_show_opts o = {.struct_size = sizeof o, .where = where};
    if (!where) {
        fprintf(stderr, "engram show: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc && !rc; i++) {
        const char *arg = argv[i], *v;
        int missing = 0;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(show_usage, stdout);
            free(where);
            return 0;
        }
        if (!strcmp(arg, "--json")) json = 1;
        else if (!strcmp(arg, "--csv")) csv = 1;
        else if ((v = opt_arg(argc, argv, &i, "--out", &missing))) out = v;
        else if ((v = opt_arg(argc, argv, &i, "--where", &missing))) where[o.n_where++] = v;
        else if ((v = opt_arg(argc, argv, &i, "--sort", &missing))) o.sort = v;
        else if ((v = opt_arg(argc, argv, &i, "--best", &missing))) o.best = v;
        else if ((v = opt_arg(argc, argv, &i, "--metrics", &missing))) o.metrics = v;
        else if ((v = opt_arg(argc, argv, &i, "--width", &missing))) {
            char *end;
            long w = strtol(v, &end, 10);
            if (!*v || *end || w < 40 || w > 10000) rc = cli_usage_error("show", "--width needs 40..10000 columns, got '%s'", v);
            o.width = (int)w;
        } else if (missing)
            rc = cli_usage_error("show", "%s needs a value", arg);
        else if (arg[0] == '-' && arg[1])
            rc = cli_usage_error("show", "unknown option '%s'", arg);
        else if (n_pos < 2)
            pos[n_pos++] = arg;
        else
            rc = cli_usage_error("show", "unexpected argument '%s' (DIR and at most one RUN_ID)", arg);
    }
    if (!rc && !n_pos) rc = cli_usage_error("show", "missing the experiment directory (e.g. results/quickstart)");
    if (!rc && json && csv) rc = cli_usage_error("show", "--json or --csv, not both");
    if (!rc && pos[1] && (o.n_where || o.sort || o.best || o.metrics || json || csv))
        rc = cli_usage_error("show", "a RUN_ID shows one run: --where, --sort, --best, --metrics, --json and --csv "
                                     "are for the table");
    struct stat st;
    if (!rc) {
        cli_exp_dir(pos[0], out, dir, sizeof dir);
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "engram show: '%s' is not an experiment directory\n", dir);
            rc = 2;
        }
    }
    if (!rc) {
        o.format = json ? "json" : csv ? "csv" : "table";
        eg_status s = pos[1] ? eg_results_show_run(dir, pos[1], stdout, err, sizeof err)
                             : eg_results_show_with(dir, &o, stdout, err, sizeof err);
        if (s != EG_OK) {
            fprintf(stderr, "engram show: %s\n", err);
            rc = s == EG_ERR_INVALID || s == EG_ERR_NOTFOUND ? 2 : 1;
        }
    }
    free(where);
    return rc;
}
