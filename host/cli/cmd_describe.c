/* cmd_describe.c — `engram describe MODEL [--json]` (in the manner of gst-inspect). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_params.h"

static const char usage[] =
    "usage: engram describe MODEL [--json]\n"
    "\n"
    "Print a model plugin's parameters (params.*: type, default, range or choices, unit, doc),\n"
    "the task kinds it supports and its extra task.* keys, and its metrics (goal, unit).\n"
    "MODEL is a plugin name (see `engram list`) or a path to a .so. No device is needed.\n"
    "  --json   the same as one JSON object\n";

static const char *goal_name(eg_goal g) {
    return g == EG_GOAL_MIN ? "min" : g == EG_GOAL_MAX ? "max" : "none";
}

static void print_text(const eg_model_plugin *m) {
    const eg_model_desc *d = m->desc;
    printf("model %s %s\n  %s\n", d->name, d->version ? d->version : "", d->summary ? d->summary : "");
    char id[17] = "", err[512];
    printf("  plugin %s (model ABI %u.%u, build id %s)\n", m->path, d->abi_major, d->abi_minor,
           eg_plugin_build_id(m->path, id, err, sizeof err) == EG_OK ? id : "?");
    static const char *const meta[] = {"license", "url", "authors"};
    for (int i = 0; i < 3; i++) {
        const char *v = eg_model_meta(d, meta[i]);
        printf("  %-8s %s\n", meta[i], v && *v ? v : "- (not said by the plugin)");
    }
    printf("\n");
    printf("parameters (params.*):\n");
    if (d->n_params == 0) printf("  (none)\n");
    cli_print_params(stdout, "", d->params, d->n_params);
    printf("\ntasks:");
    for (int i = 0; i < d->n_tasks; i++)
        printf("%s %s", i ? "," : "", d->tasks[i]);
    printf("%s\n", d->n_tasks ? "" : " (none)");
    for (int i = 0; i < d->n_tasks; i++) {
        const eg_task_def *k = eg_model_task_def(d, d->tasks[i]);
        if (!k) continue;
        printf("\ntask.kind: %s — %s%s\n", k->name, k->summary ? k->summary : "",
               eg_task_def_find(k->name) ? "" : " (defined by this plugin)");
        cli_print_params(stdout, "task.", k->params, k->n_params);
    }
    if (d->n_task_params > 0) {
        printf("\nmodel-specific task keys (task.*):\n");
        cli_print_params(stdout, "", d->task_params, d->n_task_params);
    }
    printf("\nmetrics:\n");
    if (d->n_metrics == 0) printf("  (none)\n");
    for (int i = 0; i < d->n_metrics; i++) {
        const eg_metric_spec *ms = &d->metrics[i];
        printf("  %-28s goal %-4s  unit %-10s %s\n", ms->name, goal_name(ms->goal),
               ms->unit && *ms->unit ? ms->unit : "-", ms->doc ? ms->doc : "");
    }
}

static void print_json(const eg_model_plugin *m) {
    const eg_model_desc *d = m->desc;
    printf("{\"name\": ");
    cli_json_str(stdout, d->name);
    printf(", \"version\": ");
    cli_json_str(stdout, d->version);
    printf(", \"summary\": ");
    cli_json_str(stdout, d->summary);
    printf(", \"plugin\": ");
    cli_json_str(stdout, m->path);
    char id[17] = "", err[512];
    printf(", \"build_id\": ");
    cli_json_str(stdout, eg_plugin_build_id(m->path, id, err, sizeof err) == EG_OK ? id : "");
    static const char *const meta[] = {"license", "url", "authors"};
    for (int i = 0; i < 3; i++) {
        printf(", \"%s\": ", meta[i]);
        const char *v = eg_model_meta(d, meta[i]);
        if (v)
            cli_json_str(stdout, v);
        else
            printf("null");
    }
    printf(", \"abi\": [%u, %u], \"params\": ", d->abi_major, d->abi_minor);
    cli_json_params(stdout, d->params, d->n_params);
    printf(", \"tasks\": [");
    for (int i = 0; i < d->n_tasks; i++) {
        if (i) printf(", ");
        cli_json_str(stdout, d->tasks[i]);
    }
    printf("], \"task_schemas\": {");
    for (int i = 0, n = 0; i < d->n_tasks; i++) {
        const eg_task_def *k = eg_model_task_def(d, d->tasks[i]);
        if (!k) continue;
        printf("%s", n++ ? ", " : "");
        cli_json_str(stdout, k->name);
        printf(": ");
        cli_json_params(stdout, k->params, k->n_params);
    }
    printf("}, \"task_params\": ");
    cli_json_params(stdout, d->task_params, d->task_params ? d->n_task_params : 0);
    printf(", \"metrics\": [");
    for (int i = 0; i < d->n_metrics; i++) {
        const eg_metric_spec *ms = &d->metrics[i];
        printf("%s{\"name\": ", i ? ", " : "");
        cli_json_str(stdout, ms->name);
        printf(", \"goal\": \"%s\", \"unit\": ", goal_name(ms->goal));
        cli_json_str(stdout, ms->unit);
        printf(", \"doc\": ");
        cli_json_str(stdout, ms->doc);
        printf("}");
    }
    printf("]}\n");
}

int cmd_describe(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse("describe", argc, argv, CLI_JSON, 1, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    if (a.n_positional < 1) {
        cli_args_free(&a);
        return cli_usage_error("describe", "missing the model name (see `engram list`)");
    }
    eg_model_plugin *m = NULL;
    char err[2048];
    eg_status st = eg_model_open(a.positional[0], &m, err, sizeof err);
    if (st != EG_OK) {
        char **names = NULL;
        int n = eg_plugin_scan("model", &names);
        const char *guess =
            st == EG_ERR_NOTFOUND ? eg_did_you_mean(a.positional[0], (const char *const *)names, n) : NULL;
        if (guess)
            fprintf(stderr, "engram: unknown model '%s'; did you mean '%s'?\n", a.positional[0], guess);
        else
            fprintf(stderr, "engram: %s\n", err);
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        cli_args_free(&a);
        return 2;
    }
    if (a.json)
        print_json(m);
    else
        print_text(m);
    eg_model_close(m);
    cli_args_free(&a);
    return 0;
}
