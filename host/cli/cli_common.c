/* cli_common.c — argument parsing shared by the `engram` subcommands. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "engram%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'engram%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
    return 2;
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 1000000) return -1;
    *out = (int)v;
    return 0;
}

/* value of an option given as "--opt V" or "--opt=V" (or "-jN"); NULL when missing */
const char *cli_opt_value(int argc, char **argv, int *i, const char *arg, size_t name_len) {
    if (arg[name_len] == '=') return arg + name_len + 1;
    if (arg[name_len] != 0) return arg + name_len; /* -j4 */
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

int cli_is_opt(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 &&
           (arg[n] == 0 || arg[n] == '=' || (name[1] != '-' && arg[n] >= '0' && arg[n] <= '9'));
}

/* "stale", "failed", "pruned", "all" or a comma list of them */
static int parse_rerun(const char *v, unsigned *bits) {
    *bits = 0;
    char buf[64];
    if (!*v || strlen(v) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "stale")) *bits |= EG_RERUN_STALE;
        else if (!strcmp(w, "failed")) *bits |= EG_RERUN_FAILED;
        else if (!strcmp(w, "pruned")) *bits |= EG_RERUN_PRUNED;
        else if (!strcmp(w, "all")) *bits |= EG_RERUN_ALL;
        else return -1;
    }
    return *bits ? 0 : -1;
}

int cli_parse(const char *cmd, int argc, char **argv, unsigned allowed, int max_positional, const char *usage,
              cli_args *a) {
    memset(a, 0, sizeof *a);
    a->out = "results";
    a->jobs = 1;
    a->overrides = calloc((size_t)argc + 1, sizeof *a->overrides);
    if (!a->overrides) {
        fprintf(stderr, "engram%s%s: out of memory\n", cmd ? " " : "", cmd ? cmd : "");
        return 2;
    }
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (!only_positional && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            fputs(usage, stdout);
            return 1;
        }
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && arg[0] == '-' && arg[1]) {
            if ((allowed & CLI_OUT) && cli_is_opt(arg, "--out")) {
                if (!(v = cli_opt_value(argc, argv, &i, arg, 5)) || !*v)
                    return cli_usage_error(cmd, "--out needs a directory");
                a->out = v;
            } else if ((allowed & CLI_JOBS) && (cli_is_opt(arg, "-j") || cli_is_opt(arg, "--jobs"))) {
                size_t n = arg[1] == 'j' ? 2 : 6;
                if (!(v = cli_opt_value(argc, argv, &i, arg, n)) || parse_int(v, &a->jobs) || a->jobs < 1)
                    return cli_usage_error(cmd, "-j needs a number of concurrent runs >= 1, got '%s'", v ? v : "");
            } else if ((allowed & CLI_TIMEOUT) && cli_is_opt(arg, "--timeout")) {
                char *end;
                if (!(v = cli_opt_value(argc, argv, &i, arg, 9))) return cli_usage_error(cmd, "--timeout needs seconds");
                a->timeout = strtod(v, &end);
                if (!*v || *end || !(a->timeout > 0))
                    return cli_usage_error(cmd, "--timeout needs a positive number of seconds, got '%s'", v);
            } else if (max_positional > 1 && (strcmp(arg, "-m") == 0 || strcmp(arg, "--multirun") == 0)) {
                /* Hydra's multirun flag (run, plan): engram always expands a sweep, so a no-op */
            } else if ((allowed & CLI_FAIL_FAST) && strcmp(arg, "--fail-fast") == 0) {
                a->fail_fast = 1;
            } else if ((allowed & CLI_NO_FORK) && strcmp(arg, "--no-fork") == 0) {
                a->no_fork = 1;
            } else if ((allowed & CLI_PLAIN) && strcmp(arg, "--plain") == 0) {
                a->plain = 1;
            } else if ((allowed & CLI_PLAIN) && cli_is_opt(arg, "--progress-every")) {
                char *end;
                if (!(v = cli_opt_value(argc, argv, &i, arg, 16)))
                    return cli_usage_error(cmd, "--progress-every needs seconds");
                a->progress_every = strtod(v, &end);
                if (!*v || *end || !(a->progress_every > 0))
                    return cli_usage_error(cmd, "--progress-every needs a positive number of seconds, got '%s'", v);
            } else if ((allowed & CLI_CSV) && strcmp(arg, "--csv") == 0) {
                a->csv = 1;
            } else if ((allowed & CLI_RERUN) && cli_is_opt(arg, "--rerun")) {
                if (!(v = cli_opt_value(argc, argv, &i, arg, 7)) || parse_rerun(v, &a->rerun))
                    return cli_usage_error(cmd, "--rerun needs stale, failed, pruned or all (or a list: stale,failed), got '%s'",
                                           v ? v : "");
            } else if ((allowed & CLI_RESOLVED) && strcmp(arg, "--resolved") == 0) {
                a->resolved = 1;
            } else if ((allowed & CLI_MIX_SPECS) && strcmp(arg, "--mix-specs") == 0) {
                a->mix_specs = 1;
            } else if ((allowed & CLI_FORCE) && strcmp(arg, "--force") == 0) {
                a->force = 1;
            } else if ((allowed & CLI_JSON) && strcmp(arg, "--json") == 0) {
                a->json = 1;
            } else if ((allowed & CLI_RUNS) && cli_is_opt(arg, "--gpus-per-run")) {
                if (!(v = cli_opt_value(argc, argv, &i, arg, 14)) || parse_int(v, &a->gpus_per_run) ||
                    a->gpus_per_run < 1)
                    return cli_usage_error(cmd, "--gpus-per-run needs a number of devices >= 1, got '%s'", v ? v : "");
            } else if ((allowed & CLI_RUNS) && strcmp(arg, "--no-collect") == 0) {
                a->no_collect = 1;
            } else if ((allowed & CLI_RUNS) && cli_is_opt(arg, "--runs")) {
                if (!(v = cli_opt_value(argc, argv, &i, arg, 6)) || !*v)
                    return cli_usage_error(cmd, "--runs needs a file of run ids");
                a->runs_file = v;
            } else if ((allowed & CLI_SHARD) && cli_is_opt(arg, "--shard") &&
                       (v = cli_opt_value(argc, argv, &i, arg, 7)) && strcmp(v, "slurm") == 0) {
                a->shard_slurm = 1;
            } else if ((allowed & CLI_SHARD) && cli_is_opt(arg, "--shard")) {
                char extra;
                if (!v ||
                    sscanf(v, "%d/%d%c", &a->shard_i, &a->shard_n, &extra) != 2 || a->shard_n < 1 || a->shard_i < 0 ||
                    a->shard_i >= a->shard_n)
                    return cli_usage_error(cmd, "--shard needs i/n with 0 <= i < n (e.g. --shard 0/4), got '%s'",
                                           v ? v : "");
            } else {
                return cli_usage_error(cmd, "unknown option '%s'", arg);
            }
            continue;
        }
        /* an override: key=value, or Hydra's removal ~key (not a path: no '/') */
        int removal = arg[0] == '~' && arg[1] && !strchr(arg, '/');
        if (max_positional > 1 && a->n_positional >= 1 && (strchr(arg, '=') || removal)) {
            a->overrides[a->n_overrides++] = arg;
            continue;
        }
        if (a->n_positional >= (max_positional > 1 ? 1 : max_positional))
            return cli_usage_error(cmd, "unexpected argument '%s'%s", arg,
                                   max_positional > 1 ? " (overrides look like key=value)" : "");
        a->positional[a->n_positional++] = arg;
    }
    return 0;
}

void cli_args_free(cli_args *a) {
    free(a->overrides);
    a->overrides = NULL;
}

eg_spec *cli_load_spec(const cli_args *a) {
    eg_spec *spec = NULL;
    char err[4096] = "";
    eg_status st = eg_spec_load(a->positional[0], a->overrides, a->n_overrides, &spec, err, sizeof err);
    if (st != EG_OK) {
        fprintf(stderr, "engram: %s\n", err[0] ? err : eg_strerror(st));
        return NULL;
    }
    return spec;
}

void cli_exp_dir(const char *arg, const char *out, char *buf, size_t cap) {
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, cap, "%s", arg);
        return;
    }
    char alt[4096];
    snprintf(alt, sizeof alt, "%s/%s", out, arg);
    if (!strchr(arg, '/') && stat(alt, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(buf, cap, "%s", alt);
    else
        snprintf(buf, cap, "%s", arg);
}

int cli_exp_dir_args(const char *cmd, int argc, char **argv, unsigned extra, const char *usage, char *dir, size_t cap,
                     cli_args *a) {
    int rc = cli_parse(cmd, argc, argv, CLI_OUT | extra, 1, usage, a);
    if (rc) {
        cli_args_free(a);
        return rc == 1 ? -1 : rc;
    }
    if (a->n_positional < 1) {
        cli_args_free(a);
        return cli_usage_error(cmd, "missing the experiment directory (e.g. results/quickstart)");
    }
    cli_exp_dir(a->positional[0], a->out, dir, cap);
    cli_args_free(a);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "engram %s: '%s' is not an experiment directory\n", cmd, dir);
        return 2;
    }
    return 0;
}

int cli_exp_dir_arg(const char *cmd, int argc, char **argv, const char *usage, char *dir, size_t cap) {
    cli_args a;
    return cli_exp_dir_args(cmd, argc, argv, 0, usage, dir, cap, &a);
}

size_t cli_sh_append(char *buf, size_t len, size_t cap, const char *w) {
    if (len >= cap) return len;
    int plain = *w != 0;
    for (const char *c = w; *c; c++)
        plain &= (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 strchr("-_./=,:@+%", *c) != NULL;
    if (plain) return len + (size_t)snprintf(buf + len, cap - len, " %s", w);
    len += (size_t)snprintf(buf + len, cap - len, " '");
    for (const char *c = w; *c && len + 5 < cap; c++) {
        if (*c == '\'') len += (size_t)snprintf(buf + len, cap - len, "'\\''");
        else buf[len++] = *c, buf[len] = 0;
    }
    if (len < cap) len += (size_t)snprintf(buf + len, cap - len, "'");
    return len;
}

void cli_command_line(int argc, char **argv, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "engram");
    for (int i = 0; i < argc && len < cap; i++) /* argv[0] is the command's name ("run") */
        len = cli_sh_append(buf, len, cap, argv[i]);
}
