/* cli.h — the `engram` subcommands and their shared argument parsing. */
#ifndef EG_CLI_H
#define EG_CLI_H

#include "engram/host.h"

int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_datasets(int argc, char **argv);
/* "engram run spec.yaml 'a=b c'": the words of the command, shell-quoted where needed */
void cli_command_line(int argc, char **argv, char *buf, size_t cap);
/* appends " WORD" to buf (len long), shell-quoted where needed; the new length (>= cap when cut) */
size_t cli_sh_append(char *buf, size_t len, size_t cap, const char *w);
int cmd_show(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_new_plugin(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);


/* options a command accepts */
enum {
    CLI_OUT = 1,
    CLI_JOBS = 2,
    CLI_TIMEOUT = 4,
    CLI_FAIL_FAST = 8,
    CLI_SHARD = 16,
    CLI_NO_FORK = 32,
    CLI_JSON = 64,
    CLI_PLAIN = 128,
    CLI_FORCE = 256,
    CLI_CSV = 512,
    CLI_RERUN = 1024,
    CLI_MIX_SPECS = 2048,
    CLI_RESOLVED = 4096,
    CLI_RUNS = 8192
};

typedef struct cli_args {
    const char *positional[4];
    int n_positional;
    const char **overrides; /* "key=value" arguments */
    int n_overrides;
    const char *out;
    int jobs;
    double timeout;
    int fail_fast, shard_i, shard_n, no_fork, json, plain, force, csv;
    unsigned rerun; /* --rerun: EG_RERUN_* bits, 0 = not given */
    int mix_specs, resolved;
    int shard_slurm;       /* --shard slurm: the shard from SLURM_ARRAY_TASK_ID / _COUNT */
    const char *runs_file; /* --runs FILE */
    int no_collect;        /* --no-collect */
    int gpus_per_run;      /* --gpus-per-run G */
    double progress_every; /* seconds between plain progress lines (0 = the default, 30) */
} cli_args;

/* the shard of this Slurm array task into a->shard_i/shard_n: with --shard slurm (an
 * error outside an array task), or by default when SLURM_ARRAY_TASK_ID is set and no
 * --shard was given (ENGRAM_SLURM_SHARD=0 turns that off); 0, or 2 after a usage error */
int cli_slurm_shard(const char *cmd, cli_args *a);

/* whether argv's arg is the option name ("--out", "--out=x"; "-j4" for a one-letter one) */
int cli_is_opt(const char *arg, const char *name);
/* the value of option arg (its name name_len long): after '=', attached ("-j4"), or the next
 * argument (advancing *i); NULL when there is none */
const char *cli_opt_value(int argc, char **argv, int *i, const char *arg, size_t name_len);
/* parse argv[1..] of a subcommand; returns 0, 1 when --help was printed, or 2 after a usage error */
int cli_parse(const char *cmd, int argc, char **argv, unsigned allowed, int max_positional, const char *usage,
              cli_args *a);
void cli_args_free(cli_args *a);
/* "engram CMD: message" + "Try 'engram CMD --help'."; returns 2 */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* load the spec with overrides; prints the error and returns NULL on failure */
eg_spec *cli_load_spec(const cli_args *a);
/* an experiment directory from DIR (or <out>/DIR when DIR is not a directory) */
void cli_exp_dir(const char *arg, const char *out, char *buf, size_t cap);
/* parse `CMD DIR [--out ROOT]` into an existing experiment directory: 0, -1 after --help, 2 on error */
int cli_exp_dir_arg(const char *cmd, int argc, char **argv, const char *usage, char *dir, size_t cap);
/* the same, also allowing the options in `extra` (CLI_*), which land in *a (freed by the callee) */
int cli_exp_dir_args(const char *cmd, int argc, char **argv, unsigned extra, const char *usage, char *dir, size_t cap,
                     cli_args *a);

#endif
