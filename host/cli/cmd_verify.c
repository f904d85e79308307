/* cmd_verify.c — `engram verify DIR`: check an experiment's run files and summary. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char verify_usage[] =
    "usage: engram verify DIR [--quarantine] [--out ROOT]\n"
    "\n"
    "Check every run file of DIR/runs/ and DIR/summary.h5 against each other: each file\n"
    "reads whole (in a child process, so a malformed file cannot crash engram), holds the run\n"
    "its name says (run_id attribute, /config digest), has a status, and has finite metrics\n"
    "when its status is ok; the summary is up to date, has one row per run file, and the\n"
    "same status and metric values. Prints one line per problem. Exit code 0: no problem,\n"
    "1: problems found, 2: DIR is not an experiment directory. `engram run` computes again\n"
    "the runs whose files it cannot read; --quarantine moves every unsound run file to\n"
    "DIR/quarantine/ (kept, not deleted), so that the next `engram run` computes those runs\n"
    "too; `engram collect` rebuilds the summary.\n";

int cmd_verify(int argc, char **argv) {
    char dir[4096], err[4096] = "";
    int move = 0, n = 0;
    for (int i = 0; i < argc; i++) /* --quarantine anywhere; the rest is `verify DIR [--out ROOT]` */
        if (strcmp(argv[i], "--quarantine") == 0) move = 1;
        else argv[n++] = argv[i];
    int rc = cli_exp_dir_arg("verify", n, argv, verify_usage, dir, sizeof dir);
    if (rc) return rc < 0 ? 0 : rc;
    int files = 0, problems = 0;
    eg_status st = eg_results_verify(dir, move, stdout, &files, &problems, err, sizeof err);
    if (st != EG_OK) {
        fprintf(stderr, "engram verify: %s\n", err);
        return st == EG_ERR_NOTFOUND ? 2 : 1;
    }
    printf("verify %s: %d run file%s, %d problem%s\n", dir, files, files == 1 ? "" : "s", problems,
           problems == 1 ? "" : "s");
    return problems ? 1 : 0;
}
