/* cmd_collect.c — `engram collect DIR`: rebuild DIR/summary.h5. */
#include <stdio.h>

#include "cli.h"

static const char collect_usage[] =
    "usage: engram collect DIR [--out ROOT]\n"
    "\n"
    "Rebuild DIR/summary.h5 (one row per run: run id, status, seed, swept parameters, final\n"
    "metrics, and external links /runs/<id>) from DIR/runs/*.h5. Use it to merge the shards\n"
    "of a sweep run with --shard on several machines. `engram run` collects at its end.\n";

int cmd_collect(int argc, char **argv) {
    char dir[4096], err[4096] = "";
    int rc = cli_exp_dir_arg("collect", argc, argv, collect_usage, dir, sizeof dir);
    if (rc) return rc < 0 ? 0 : rc;
    if (eg_results_collect(dir, err, sizeof err) != EG_OK) {
        fprintf(stderr, "engram collect: %s\n", err);
        return 1;
    }
    fprintf(stderr, "engram: wrote %s/summary.h5\n", dir);
    return 0;
}
