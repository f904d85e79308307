/* main.c — `engram`: dispatch argv to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: engram COMMAND [ARGS]\n"
                            "\n"
                            "Experiments on associative memories and latent-variable models.\n"
                            "\n"
                            "commands:\n"
                            "  run SPEC [key=value ...]   validate, plan and execute an experiment spec, then collect\n"
                            "  plan SPEC [key=value ...]  list the runs of a spec: index, run id, swept values, state\n"
                            "  list                       models, backends (with availability) and dataset sources\n"
                            "  describe MODEL [--json]    a model's parameters, tasks and metrics\n"
                            "  datasets                   dataset sources (built in and plugins), options, splits, shapes\n"
                            "  show DIR                   final metrics of an experiment, mean ± sd over seeds\n"
                            "  report DIR... [-o OUT]     a static HTML report: table, plots, curves, pictures\n"
                            "  collect DIR [SRC...]       rebuild DIR/summary.h5 from DIR/runs/*.h5 (after copying SRC's runs in)\n"
"  submit SPEC --slurm [...]  submit the unfinished runs as a Slurm job array (docs/cluster.md)\n"
                            "  status DIR|SPEC            done / running / pending / failed runs, the Slurm jobs, the ETA\n"
                            "  verify DIR                 check DIR's run files and summary against each other\n"
                            "  new-plugin NAME [--kind model|data] [--dir D]\n"
                            "                             write a small working plugin project to build out of tree\n"
                            "\n"
                            "options:\n"
                            "  -h, --help                 this help (`engram COMMAND --help` for a command's)\n"
                            "  --version                  engram's version and git commit\n"
                            "\n"
                            "Plugins are found on ENGRAM_PLUGIN_PATH, then next to the executable, in\n"
                            "~/.local/lib/engram and in the install libdir. Results go to ./results/<experiment>/\n"
                            "unless --out ROOT is given.\n"
                            "Exit codes: 0 success, 1 some run failed, 2 bad spec or usage, 130 interrupted.\n";

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
} command;

static const command commands[] = {
    {"run", cmd_run},           {"plan", cmd_plan}, {"list", cmd_list},       {"describe", cmd_describe},
    {"datasets", cmd_datasets}, {"show", cmd_show}, {"report", cmd_report}, {"collect", cmd_collect}, {"verify", cmd_verify}, {"new-plugin", cmd_new_plugin},
    {"submit", cmd_submit},     {"status", cmd_status},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *sub[] = {argv[2], "--help", NULL};
                    return commands[i].fn(2, sub);
                }
        }
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("engram %s (git %s; model ABI %d.%d, backend ABI %d.%d)\n", eg_engram_version(), eg_engram_git_commit(),
               EG_MODEL_ABI_MAJOR, EG_MODEL_ABI_MINOR, EG_BACKEND_ABI_MAJOR, EG_BACKEND_ABI_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    const char *names[sizeof commands / sizeof *commands];
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        names[i] = commands[i].name;
    const char *guess = eg_did_you_mean(cmd, names, (int)(sizeof commands / sizeof *commands));
    fprintf(stderr, "engram: unknown command '%s'%s%s%s\nTry 'engram --help'.\n", cmd, guess ? "; did you mean '" : "",
            guess ? guess : "", guess ? "'?" : "");
    return 2;
}
