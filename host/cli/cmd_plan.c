/* cmd_plan.c — `engram plan SPEC [key=value ...]`: the runs a spec expands to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: engram plan SPEC [key=value ...] [--out ROOT] [--shard i/n|slurm] [--resolved]\n"
                            "                   [--explain KEY]\n"
                            "\n"
                            "Validate SPEC and print its runs: index, run id, the value of every swept parameter,\n"
                            "and the state of its run file under ROOT/<experiment>/runs: done (status ok), pending\n"
                            "(no file), stale (another build of the model plugin), pruned (stopped early by\n"
                            "sweep.adaptive: finished) or the recorded status (failed, diverged, timeout), which a\n"
                            "re-run repeats. -m / --multirun is accepted (Hydra's flag) and changes nothing.\n"
                            "  --resolved  instead, every run's fully resolved config (defaults filled) as one YAML\n"
                            "              document per run, exactly what the run will see and record in /config\n"
                            "  --explain KEY  instead, where KEY's value comes from: each file (included or the\n"
                            "              spec), line and override that set it, in the order applied (the last\n"
                            "              wins), the sweep axes that set it, and its values in the runs\n"
                            "Nothing is run or written. Exit code 2 when the spec is invalid.\n";

/* one YAML document per run: a comment naming it, then its resolved config */
static int print_resolved(const eg_spec *spec, const cli_args *a) {
    for (int r = 0; r < eg_spec_run_count(spec); r++) {
        const eg_run_plan *p = eg_spec_run(spec, r);
        if (a->shard_n > 1 && eg_run_plan_index(p) % a->shard_n != a->shard_i) continue;
        char *yaml = eg_cfg_yaml(eg_run_plan_config(p));
        if (!yaml) {
            fprintf(stderr, "engram plan: out of memory\n");
            return 1;
        }
        printf("--- # run %d of %d: %s\n%s", eg_run_plan_index(p), eg_spec_run_count(spec), eg_run_plan_id(p), yaml);
        free(yaml);
    }
    return 0;
}

/* takes "--explain KEY" / "--explain=KEY" out of argv (the other options are cli_parse's) */
static int take_explain(int *argc, char **argv, const char **key) {
    *key = NULL;
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strcmp(argv[i], "--explain")) {
            if (i + 1 >= *argc || !argv[i + 1][0]) return -1;
            *key = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--explain=", 10)) {
            if (!argv[i][10]) return -1;
            *key = argv[i] + 10;
            continue;
        }
        argv[n++] = argv[i];
    }
    *argc = n;
    return 0;
}

int cmd_plan(int argc, char **argv) {
    cli_args a;
    const char *explain = NULL;
    if (take_explain(&argc, argv, &explain) != 0)
        return cli_usage_error("plan", "--explain needs a key (e.g. --explain params.beta)");
    int rc = cli_parse("plan", argc, argv, CLI_OUT | CLI_SHARD | CLI_RESOLVED, 2, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    if (a.n_positional < 1) {
        cli_args_free(&a);
        return cli_usage_error("plan", "missing the experiment spec (a YAML file)");
    }
    if (a.shard_slurm && (rc = cli_slurm_shard("plan", &a)) != 0) { /* --shard slurm: this array task's share */
        cli_args_free(&a);
        return rc;
    }
    eg_spec *spec = cli_load_spec(&a);
    if (!spec) {
        cli_args_free(&a);
        return EG_EXIT_USAGE;
    }
    if (explain) {
        char *text = eg_spec_explain(spec, explain);
        if (text) fputs(text, stdout);
        else fprintf(stderr, "engram plan: out of memory\n");
        free(text);
        eg_spec_free(spec);
        cli_args_free(&a);
        return text ? 0 : 1;
    }
    if (a.resolved) {
        rc = print_resolved(spec, &a);
        eg_spec_free(spec);
        cli_args_free(&a);
        return rc;
    }
    int ns = eg_spec_swept_count(spec), nr = eg_spec_run_count(spec);
    /* column widths: index, id, each swept key, state */
    int *w = calloc((size_t)ns + 3, sizeof *w);
    char(*state)[32] = calloc((size_t)nr + 1, sizeof *state);
    char cell[256];
    w[0] = 5, w[1] = 16, w[ns + 2] = 7;
    for (int k = 0; k < ns; k++)
        w[k + 2] = (int)strlen(eg_spec_swept_key(spec, k));
    int counts[4] = {0}; /* done, pending, other, pruned */
    /* the states of this shard's runs, read in one go (other shards' files are not read) */
    const eg_run_plan **plans = calloc((size_t)nr + 1, sizeof *plans);
    int *at = calloc((size_t)nr + 1, sizeof *at), n_mine = 0;
    char(*mine)[32] = calloc((size_t)nr + 1, sizeof *mine);
    for (int r = 0; plans && at && mine && r < nr; r++) {
        const eg_run_plan *p = eg_spec_run(spec, r);
        if (a.shard_n > 1 && eg_run_plan_index(p) % a.shard_n != a.shard_i) continue;
        at[n_mine] = r;
        plans[n_mine++] = p;
    }
    if (plans && at && mine) {
        eg_runner_run_states(a.out, plans, n_mine, mine);
        for (int k = 0; k < n_mine; k++)
            memcpy(state[at[k]], mine[k], sizeof state[0]);
    }
    free(plans);
    free(at);
    free(mine);
    for (int r = 0; r < nr; r++) {
        const eg_run_plan *p = eg_spec_run(spec, r);
        if (a.shard_n > 1 && eg_run_plan_index(p) % a.shard_n != a.shard_i) continue;
        if (strcmp(state[r], "ok") == 0)
            snprintf(state[r], sizeof state[r], "done"), counts[0]++;
        else if (strcmp(state[r], "pruned") == 0)
            counts[3]++;
        else if (strcmp(state[r], "pending") == 0)
            counts[1]++;
        else
            counts[2]++;
        for (int k = 0; k < ns; k++) {
            eg_cfg_value_text(eg_run_plan_config(p), eg_spec_swept_key(spec, k), cell, sizeof cell);
            int len = (int)strlen(cell);
            if (len > w[k + 2]) w[k + 2] = len;
        }
    }
    printf("experiment %s: %d run%s (%s)\n", eg_spec_experiment(spec), nr, nr == 1 ? "" : "s",
           eg_spec_path(spec));
    printf("%-*s  %-*s", w[0], "index", w[1], "run id");
    for (int k = 0; k < ns; k++)
        printf("  %-*s", w[k + 2], eg_spec_swept_key(spec, k));
    printf("  %s\n", "state");
    for (int r = 0; r < nr; r++) {
        const eg_run_plan *p = eg_spec_run(spec, r);
        if (a.shard_n > 1 && eg_run_plan_index(p) % a.shard_n != a.shard_i) continue;
        printf("%-*d  %-*s", w[0], eg_run_plan_index(p), w[1], eg_run_plan_id(p));
        for (int k = 0; k < ns; k++) {
            eg_cfg_value_text(eg_run_plan_config(p), eg_spec_swept_key(spec, k), cell, sizeof cell);
            printf("  %-*s", w[k + 2], cell);
        }
        printf("  %s\n", state[r]);
    }
    char pruned[64] = "";
    if (counts[3]) snprintf(pruned, sizeof pruned, "%d pruned (sweep.adaptive), ", counts[3]);
    printf("%d done, %s%d pending, %d to re-run (failed, diverged, timeout, or stale: another build of the model "
           "plugin); results in %s/%s\n", counts[0], pruned, counts[1],
           counts[2], a.out, eg_spec_experiment(spec));
    free(w);
    free(state);
    eg_spec_free(spec);
    cli_args_free(&a);
    return 0;
}
