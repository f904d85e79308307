/* cmd_show.c — `engram show DIR`: final metrics as mean ± sd over seeds. */
#include <stdio.h>

#include "cli.h"

static const char show_usage[] =
    "usage: engram show DIR [--out ROOT] [--json | --csv]\n"
    "\n"
    "Print the final metrics of the experiment in DIR (results/<experiment>, or just the\n"
    "experiment name under ROOT) as mean ± sd over seeds, grouped by the swept parameters,\n"
    "with the number of runs per group and their statuses.\n"
    "  --json   the same numbers as JSON, at full precision: {\"groups\": [{\"params\": {...},\n"
    "           \"ok\": k, \"total\": n, \"metrics\": {\"NAME\": {\"mean\", \"sd\", \"n\"}}}]}\n"
    "  --csv    one row per group: the parameters, ok, total, and NAME:mean, NAME:sd, NAME:n\n";

int cmd_show(int argc, char **argv) {
    char dir[4096], err[4096] = "";
    cli_args a;
    int rc = cli_exp_dir_args("show", argc, argv, CLI_JSON | CLI_CSV, show_usage, dir, sizeof dir, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (a.json && a.csv) return cli_usage_error("show", "--json or --csv, not both");
    if (eg_results_show_as(dir, a.json ? "json" : a.csv ? "csv" : "table", stdout, err, sizeof err) != EG_OK) {
        fprintf(stderr, "engram show: %s\n", err);
        return 1;
    }
    return 0;
}
