/* cmd_status.c — `engram status DIR|SPEC`: where a sweep stands (runner_status.c). */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage[] =
    "usage: engram status DIR|SPEC [key=value ...] [--out ROOT] [--json]\n"
    "\n"
    "How far a sweep is, across every shard and Slurm submission writing into the experiment\n"
    "directory: its runs counted done (ok, pruned), running (a live snapshot), pending and failed\n"
    "(failed, diverged, timeout), the array jobs of `engram submit` as squeue sees them, and an\n"
    "ETA (mean wall time of the done runs x runs left / runs running). With DIR the sweep is\n"
    "what its submissions listed and its run files hold; with SPEC (and overrides) it is the\n"
    "spec's whole plan, in ROOT/<experiment>.\n"
    "Exit codes: 0, 2 bad usage or spec.\n";

int cmd_status(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse("status", argc, argv, CLI_OUT | CLI_JSON, 2, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    if (a.n_positional < 1) {
        cli_args_free(&a);
        return cli_usage_error("status", "missing the experiment directory or spec");
    }
    struct stat st;
    char dir[4096];
    eg_spec *spec = NULL;
    if (stat(a.positional[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        if (a.n_overrides) {
            cli_args_free(&a);
            return cli_usage_error("status", "overrides need a spec, not a directory");
        }
        snprintf(dir, sizeof dir, "%s", a.positional[0]);
    } else {
        if (!(spec = cli_load_spec(&a))) {
            cli_args_free(&a);
            return EG_EXIT_USAGE;
        }
        snprintf(dir, sizeof dir, "%s/%s", a.out, eg_spec_experiment(spec));
    }
    rc = eg_runner_status(dir, spec, a.json, stdout) == 0 ? 0 : 1;
    eg_spec_free(spec);
    cli_args_free(&a);
    return rc;
}
