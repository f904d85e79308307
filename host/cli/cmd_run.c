/* cmd_run.c — `engram run SPEC [key=value ...]`. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: engram run SPEC [key=value ...] [--out ROOT] [-j N] [--timeout S] [--fail-fast]\n"
    "                  [--shard i/n|slurm] [--runs FILE] [--rerun stale|failed|pruned|all] [--force]\n"
    "\n"
    "Validate SPEC (a YAML experiment spec) with the overrides applied, expand its sweep,\n"
    "skip runs already finished with status ok, execute the others in child processes,\n"
    "then rebuild ROOT/<experiment>/summary.h5.\n"
    "\n"
    "  key=value       override a spec value by its dotted key (params.beta=4, seeds=[0,1])\n"
    "  --out ROOT      results root (default: ./results)\n"
    "  -j N            run N runs at a time; cores are divided among them (default 1)\n"
    "  --timeout S     stop each run after S seconds (status timeout); overrides the spec's timeout\n"
    "  --fail-fast     stop the sweep at the first run that fails, diverges or times out\n"
    "  --shard i/n     run only the plan entries whose index % n == i (GNU parallel, several machines)\n"
    "  --shard slurm   i and n from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT; the default inside a\n"
    "                  Slurm array task (ENGRAM_SLURM_SHARD=0 turns it off). SLURM_CPUS_PER_TASK caps the\n"
    "                  cores that -j divides\n"
    "  --runs FILE     run only the runs whose ids FILE lists (one per line, as `engram submit` writes),\n"
    "                  sharded by their position in it; an id the spec no longer plans is an error\n"
    "  --gpus-per-run G  each concurrent run gets its own G of the devices CUDA_VISIBLE_DEVICES lists\n"
    "                  (Slurm sets it for the task's GPUs; 0, 1, ... when unset)\n"
    "  --no-collect    do not rebuild summary.h5 at the end (array tasks; `engram collect` does it)\n"
    "  --no-fork       run in this process, one after another (debugging; a crash ends engram)\n"
    "  --plain         plain log lines even on a terminal\n"
    "  --rerun WHAT    which finished runs run again: stale (written by another build of the\n"
    "                  model plugin), failed (failed, diverged, timeout), pruned (stopped early by\n"
    "                  sweep.adaptive), all, or a list such as stale,failed (the default); runs never run\n"
    "                  always run; an old file stays until its new one is written\n"
    "  --force         the same as --rerun all\n"
    "  --mix-specs     add runs to an experiment directory that holds runs of another spec file\n"
    "                  (without it, that is an error: two specs with one experiment name)\n"
    "  --progress-every S  without a terminal (or with --plain): a progress line per running run\n"
    "                  every S seconds (default 30): its phase, rate and ETA\n"
    "\n"
    "A run that crashes, times out or yields NaN is recorded with that status and its log, and\n"
    "the sweep goes on. Runs recorded as failed, diverged or timeout are run again by a re-run;\n"
    "runs pruned by sweep.adaptive (status pruned) are finished, like ok.\n"
    "-m / --multirun (Hydra's flag) is accepted and changes nothing: a sweep is always expanded.\n"
    "Ctrl-C or SIGTERM stops the running children cleanly (no partial run files).\n"
    "Exit codes: 0 all runs ok, 1 some run not ok, 2 bad spec or usage (nothing run), 130 interrupted.\n";

int cmd_run(int argc, char **argv) {
    cli_args a;
    unsigned allowed = CLI_OUT | CLI_JOBS | CLI_TIMEOUT | CLI_FAIL_FAST | CLI_SHARD | CLI_NO_FORK | CLI_PLAIN |
                       CLI_FORCE | CLI_RERUN | CLI_MIX_SPECS | CLI_RUNS;
    int rc = cli_parse("run", argc, argv, allowed, 2, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    if (a.n_positional < 1) {
        cli_args_free(&a);
        return cli_usage_error("run", "missing the experiment spec (a YAML file)");
    }
    if ((rc = cli_slurm_shard("run", &a)) != 0) {
        cli_args_free(&a);
        return rc;
    }
    eg_spec *spec = cli_load_spec(&a);
    if (!spec) {
        cli_args_free(&a);
        return EG_EXIT_USAGE;
    }
    if (eg_spec_run_count(spec) == 0) {
        fprintf(stderr, "engram: %s: the sweep expands to no runs\n", a.positional[0]);
        eg_spec_free(spec);
        cli_args_free(&a);
        return EG_EXIT_USAGE;
    }
    char cmdline[8192];
    cli_command_line(argc, argv, cmdline, sizeof cmdline);
    eg_runner_opts o = {a.out,     a.jobs,    a.timeout,           a.fail_fast, a.shard_i,
                        a.shard_n, a.no_fork, a.plain ? 0 : -1,    cmdline, a.progress_every,
                        a.force,   a.rerun,   a.mix_specs,         a.runs_file,
                        a.no_collect, a.gpus_per_run};
    rc = eg_runner_run(spec, &o);
    eg_spec_free(spec);
    cli_args_free(&a);
    return rc;
}
