/* cmd_collect.c — `engram collect DIR [SRC...]`: copy SRC's runs in, rebuild DIR/summary.h5. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char collect_usage[] =
    "usage: engram collect DIR [SRC ...] [--out ROOT]\n"
    "\n"
    "Rebuild DIR/summary.h5 (one row per run: run id, status, seed, swept parameters, final\n"
    "metrics, and external links /runs/<id>) from DIR/runs/*.h5. With SRC directories (other\n"
    "experiment directories of the same sweep: shards run with --shard on other machines,\n"
    "node-local scratch), their run files are first copied into DIR/runs: each run DIR lacks,\n"
    "and each SRC finished that DIR did not (a finished run in DIR is never replaced).\n"
    "`engram run` collects at its end; Slurm array tasks leave it to a collect job.\n";

int cmd_collect(int argc, char **argv) {
    const char *dirs[64], *out = "results";
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(collect_usage, stdout);
            return 0;
        }
        if (cli_is_opt(argv[i], "--out")) {
            if (!(out = cli_opt_value(argc, argv, &i, argv[i], 5)) || !*out)
                return cli_usage_error("collect", "--out needs a directory");
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("collect", "unknown option '%s'", argv[i]);
        else if (n == 64)
            return cli_usage_error("collect", "at most 63 source directories at a time");
        else
            dirs[n++] = argv[i];
    }
    if (n < 1) return cli_usage_error("collect", "missing the experiment directory");
    char dir[4096], err[4096] = "";
    cli_exp_dir(dirs[0], out, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_usage_error("collect", "'%s' is not an experiment directory", dirs[0]);
    for (int i = 1; i < n; i++) {
        char src[4096];
        int copied = 0;
        cli_exp_dir(dirs[i], out, src, sizeof src);
        if (eg_results_merge(dir, src, &copied, err, sizeof err) != EG_OK) {
            fprintf(stderr, "engram collect: %s\n", err);
            return 1;
        }
        fprintf(stderr, "engram: %d run file%s copied from %s\n", copied, copied == 1 ? "" : "s", src);
    }
    if (eg_results_collect(dir, err, sizeof err) != EG_OK) {
        fprintf(stderr, "engram collect: %s\n", err);
        return 1;
    }
    fprintf(stderr, "engram: wrote %s/summary.h5\n", dir);
    return 0;
}
