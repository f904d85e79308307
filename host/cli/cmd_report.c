/* cmd_report.c — `engram report DIR... [-o OUT] [--open]`: the static HTML report of
 * one experiment (OUT/index.html, default DIR/report), or of several (a page per
 * experiment in OUT/<name>/ and an index page, default ./report). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: engram report DIR... [-o OUT] [--out ROOT] [--open]\n"
    "\n"
    "Write a self-contained HTML report (no server, no network; opens from file://) of each\n"
    "experiment DIR (results/<experiment>, or the experiment's name under ROOT): its header\n"
    "(spec, versions, device, runs ok/failed), the summary table of `engram show` (sortable,\n"
    "best values marked by each metric's goal), every metric against every swept numeric\n"
    "parameter, every curve against its step, every picture the runs stored, and the runs\n"
    "that did not finish with their log's tail.\n"
    "  -o OUT   where it goes: OUT/index.html (default DIR/report; with several DIRs a page\n"
    "           per experiment in OUT/<name>/ and an index, default ./report)\n"
    "  --open   open the page in the desktop's browser (xdg-open) when there is one\n";

static const char *base_name(const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *s = dir + n;
    while (s > dir && s[-1] != '/')
        s--;
    return s;
}

static void open_page(const char *path) {
    pid_t pid = fork();
    if (pid == 0) {
        execlp("xdg-open", "xdg-open", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "engram report: no browser to open it with; open %s yourself\n", path);
}

int cmd_report(int argc, char **argv) {
    const char *out = NULL, *root = NULL;
    int open = 0, n = 0;
    char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    if (!dirs) {
        fprintf(stderr, "engram report: out of memory\n");
        return 1;
    }
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            free(dirs);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) rc = cli_usage_error("report", "%s needs a value", a);
            else *(a[1] == 'o' ? &out : &root) = argv[++i];
        } else if (!strcmp(a, "--open")) {
            open = 1;
        } else if (a[0] == '-') {
            rc = cli_usage_error("report", "unknown option '%s'", a);
        } else {
            dirs[n++] = (char *)a;
        }
    }
    if (!rc && n == 0) rc = cli_usage_error("report", "missing the experiment directory (e.g. results/quickstart)");
    char (*exp)[4096] = rc ? NULL : calloc((size_t)n, sizeof *exp);
    if (!rc && !exp) {
        fprintf(stderr, "engram report: out of memory\n");
        rc = 1;
    }
    for (int i = 0; !rc && i < n; i++) {
        struct stat st;
        cli_exp_dir(dirs[i], root, exp[i], sizeof exp[i]);
        if (stat(exp[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "engram report: '%s' is not an experiment directory\n", exp[i]);
            rc = 2;
        }
    }
    char outdir[4096], page[4200], err[4096] = "";
    if (!rc) {
        if (out) snprintf(outdir, sizeof outdir, "%s", out);
        else if (n == 1) snprintf(outdir, sizeof outdir, "%s/report", exp[0]);
        else snprintf(outdir, sizeof outdir, "report");
    }
    for (int i = 0; !rc && i < n; i++) {
        char one[4200];
        if (n == 1) snprintf(one, sizeof one, "%s", outdir);
        else snprintf(one, sizeof one, "%s/%s", outdir, base_name(exp[i]));
        if (eg_report_experiment(exp[i], one, err, sizeof err) != EG_OK) {
            fprintf(stderr, "engram report: %s\n", err);
            rc = 1;
        }
    }
    if (!rc && n > 1) { /* the index page */
        snprintf(page, sizeof page, "%s/index.html", outdir);
        FILE *f = fopen(page, "w");
        if (!f) {
            fprintf(stderr, "engram report: cannot write %s\n", page);
            rc = 1;
        } else {
            fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>engram report</title>"
                       "</head><body style=\"font-family:sans-serif\"><h1>engram report</h1><ul>\n");
            for (int i = 0; i < n; i++)
                fprintf(f, "<li><a href=\"%s/index.html\">%s</a> (%s)</li>\n", base_name(exp[i]), base_name(exp[i]),
                        exp[i]);
            fprintf(f, "</ul></body></html>\n");
            if (fclose(f) != 0) rc = 1;
        }
    }
    if (!rc) {
        snprintf(page, sizeof page, "%s/index.html", outdir);
        printf("report: %s\n", page);
        if (open) open_page(page);
    }
    free(exp);
    free(dirs);
    return rc;
}
