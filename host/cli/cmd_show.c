/* cmd_show.c — `engram show DIR`: final metrics as mean ± sd over seeds. */
#include <stdio.h>

#include "cli.h"

static const char show_usage[] =
    "usage: engram show DIR [--out ROOT]\n"
    "\n"
    "Print the final metrics of the experiment in DIR (results/<experiment>, or just the\n"
    "experiment name under ROOT) as mean ± sd over seeds, grouped by the swept parameters,\n"
    "with the number of runs per group and their statuses.\n";

int cmd_show(int argc, char **argv) {
    char dir[4096], err[4096] = "";
    int rc = cli_exp_dir_arg("show", argc, argv, show_usage, dir, sizeof dir);
    if (rc) return rc < 0 ? 0 : rc;
    if (eg_results_show(dir, stdout, err, sizeof err) != EG_OK) {
        fprintf(stderr, "engram show: %s\n", err);
        return 1;
    }
    return 0;
}
