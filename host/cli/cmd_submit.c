/* cmd_submit.c — `engram submit SPEC --slurm`: the runs of a sweep that are not finished,
 * as one Slurm job array (DIR/slurm/<submission>/job.sh) plus a job that collects the
 * summary when the array has ended. docs/cluster.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: engram submit SPEC [key=value ...] --slurm [--tasks N | --runs-per-task K] [-j J]\n"
    "                     [--partition P] [--time T] [--mem M] [--cpus-per-task C] [--gpus-per-run G]\n"
    "                     [--sbatch \"--opt=v ...\"] [--max-requeue R] [--out ROOT] [--dry-run]\n"
    "\n"
    "Plan SPEC's sweep and submit the runs that are not finished (never run, failed, diverged,\n"
    "timeout, stale) as one Slurm job array. Each array task runs\n"
    "  engram run SPEC [key=value ...] --runs DIR/slurm/<submission>/runs.txt --shard slurm --no-collect\n"
    "on its share of the list; a task stopped by the time limit's warning (--signal=B:TERM@120),\n"
    "by preemption or by `scancel --signal=TERM --batch` stops its runs cleanly and requeues\n"
    "itself (at most R times, default 3); a task cancelled with scancel stays cancelled. A second\n"
    "job, started when the array has ended (afterany), rebuilds DIR/summary.h5.\n"
    "\n"
    "  --slurm            submit to Slurm (the one scheduler engram knows today; required)\n"
    "  --tasks N          array tasks (default: one per run, at most 1000)\n"
    "  --runs-per-task K  array tasks of about K runs each\n"
    "  -j J               runs at a time in each task (default 1); each task asks for J x C cores\n"
    "  --cpus-per-task C  cores per run (default 1)\n"
    "  --partition P, --time T, --mem M   sbatch's options of those names (--mem per task)\n"
    "  --gpus-per-run G   GPUs per run: each task asks for J x G (--gres=gpu:N); engram run gives\n"
    "                     each of its runs its own G devices (CUDA_VISIBLE_DEVICES)\n"
    "  --sbatch \"...\"     more sbatch options, written into the script as they are\n"
    "  --dry-run          print the batch script; write and submit nothing\n"
    "\n"
    "The list of run ids is what runs: a task whose spec (or a file it includes) has changed\n"
    "so that a listed run is no longer planned refuses to run (exit 2), so an edit never changes\n"
    "a running sweep. `engram status DIR` shows the sweep and its jobs.\n"
    "Exit codes: 0 submitted (or nothing left to run), 1 sbatch failed, 2 bad spec or usage.\n";

typedef struct submit_opts {
    int slurm, tasks, runs_per_task, cpus, gpus, max_requeue, dry_run;
    const char *partition, *time, *mem, *extra;
} submit_opts;

static int take_value(int argc, char **argv, int *i, const char *name, const char **v) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') {
        *v = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n]) return 0;
    *v = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

static int positive(const char *v, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || x < 1 || x > 100000) return -1;
    *out = (int)x;
    return 0;
}

/* takes submit's own options out of argv (the others are cli_parse's); 0 or 2 */
static int take_options(int *argc, char **argv, submit_opts *so) {
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        const char *v = NULL;
        if (i > 0 && !strcmp(argv[i], "--slurm")) {
            so->slurm = 1;
        } else if (i > 0 && !strcmp(argv[i], "--dry-run")) {
            so->dry_run = 1;
        } else if (i > 0 && take_value(*argc, argv, &i, "--tasks", &v)) {
            if (positive(v, &so->tasks)) return cli_usage_error("submit", "--tasks needs a number >= 1");
        } else if (i > 0 && take_value(*argc, argv, &i, "--runs-per-task", &v)) {
            if (positive(v, &so->runs_per_task)) return cli_usage_error("submit", "--runs-per-task needs a number >= 1");
        } else if (i > 0 && take_value(*argc, argv, &i, "--cpus-per-task", &v)) {
            if (positive(v, &so->cpus)) return cli_usage_error("submit", "--cpus-per-task needs a number >= 1");
        } else if (i > 0 && take_value(*argc, argv, &i, "--gpus-per-run", &v)) {
            if (positive(v, &so->gpus)) return cli_usage_error("submit", "--gpus-per-run needs a number >= 1");
        } else if (i > 0 && take_value(*argc, argv, &i, "--max-requeue", &v)) {
            char *end;
            so->max_requeue = v ? (int)strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || so->max_requeue < 0)
                return cli_usage_error("submit", "--max-requeue needs a number >= 0");
        } else if (i > 0 && (take_value(*argc, argv, &i, "--partition", &v) ? (so->partition = v, 1)
                             : take_value(*argc, argv, &i, "--time", &v)    ? (so->time = v, 1)
                             : take_value(*argc, argv, &i, "--mem", &v)     ? (so->mem = v, 1)
                             : take_value(*argc, argv, &i, "--sbatch", &v)  ? (so->extra = v, 1)
                                                                            : 0)) {
            if (!v || !*v) return cli_usage_error("submit", "%s needs a value", argv[i]);
            if (strpbrk(v, "\n\r")) return cli_usage_error("submit", "a value with a line break would break the batch script");
        } else {
            argv[n++] = argv[i];
        }
    }
    *argc = n;
    if (so->tasks && so->runs_per_task) return cli_usage_error("submit", "give --tasks or --runs-per-task, not both");
    return 0;
}

static int write_text(const char *path, const char *text, char *err, size_t cap) {
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        if (f) unlink(tmp);
        return -1;
    }
    return 0;
}

/* a growing text: the batch script, the run list */
typedef struct text {
    char *s;
    size_t len, cap;
    int oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = t->oom ? 0 : vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (t->oom || n < 0) return;
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t nc = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *q = realloc(t->s, nc);
        if (!q) {
            t->oom = 1;
            return;
        }
        t->s = q;
        t->cap = nc;
    }
}

/* " word" shell-quoted onto t */
static void put_word(text *t, const char *w) {
    char buf[8192];
    buf[0] = 0;
    cli_sh_append(buf, 0, sizeof buf, w);
    put(t, "%s", buf);
}

static int finished(const char *state) {
    return !strcmp(state, "ok") || !strcmp(state, "pruned");
}

/* the batch script of one submission */
static void write_script(text *t, const cli_args *a, const submit_opts *so, const char *engram, const char *spec_abs,
                         const char *out_abs, const char *sub_abs, const char *exp, int n_tasks, int n_runs,
                         const char *cmdline) {
    int j = a->jobs > 0 ? a->jobs : 1, cpus = so->cpus ? so->cpus : 1;
    put(t, "#!/bin/bash\n# written by: %s\n# %d run%s of experiment '%s' in %d array task%s\n", cmdline, n_runs,
        n_runs == 1 ? "" : "s", exp, n_tasks, n_tasks == 1 ? "" : "s");
    put(t, "#SBATCH --job-name=engram-%s\n#SBATCH --array=0-%d\n", exp, n_tasks - 1);
    put(t, "#SBATCH --output=%s/task-%%a.out\n#SBATCH --open-mode=append\n", sub_abs);
    put(t, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", j * cpus);
    put(t, "#SBATCH --requeue\n#SBATCH --signal=B:TERM@120\n");
    if (so->time) put(t, "#SBATCH --time=%s\n", so->time);
    if (so->partition) put(t, "#SBATCH --partition=%s\n", so->partition);
    if (so->mem) put(t, "#SBATCH --mem=%s\n", so->mem);
    if (so->gpus) put(t, "#SBATCH --gres=gpu:%d\n", j * so->gpus);
    if (so->extra) {
        char *copy = strdup(so->extra), *save = NULL;
        for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save))
            put(t, "#SBATCH %s\n", w);
        free(copy);
    }
    put(t, "\n# engram stops its runs cleanly on SIGTERM and requeues this task unless it was cancelled\n");
    put(t, "export ENGRAM_SLURM_REQUEUE=1 ENGRAM_SLURM_MAX_REQUEUE=%d\n", so->max_requeue >= 0 ? so->max_requeue : 3);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) {
        put(t, "cd");
        put_word(t, cwd);
        put(t, " || exit 1\n");
    }
    put(t, "exec");
    put_word(t, engram);
    put(t, " run");
    put_word(t, spec_abs);
    for (int i = 0; i < a->n_overrides; i++)
        put_word(t, a->overrides[i]);
    put(t, " --out");
    put_word(t, out_abs);
    put(t, " --runs");
    char list[PATH_MAX + 1024];
    snprintf(list, sizeof list, "%s/runs.txt", sub_abs);
    put_word(t, list);
    put(t, " --shard slurm --no-collect --plain -j %d", j);
    if (so->gpus) put(t, " --gpus-per-run %d", so->gpus);
    put(t, "\n");
}

/* "123" from sbatch --parsable's "123" or "123;cluster" */
static int job_id_of(const char *out, char *id, size_t cap) {
    size_t n = strspn(out, "0123456789");
    if (n == 0 || n >= cap) return -1;
    memcpy(id, out, n);
    id[n] = 0;
    return 0;
}

static int sbatch(const char *const *argv, char *id, size_t cap) {
    char out[1024], err[4096];
    int st = eg_proc_capture(argv, 60, out, sizeof out, err, sizeof err);
    if (st == -1) {
        fprintf(stderr, "engram submit: cannot run sbatch: %s (is Slurm's client installed and on PATH?)\n",
                strerror(errno));
        return -1;
    }
    if (st != 0 || job_id_of(out, id, cap) != 0) {
        fprintf(stderr, "engram submit: sbatch failed%s: %s", st == -2 ? " (killed after 60 s)" : "",
                err[0] ? err : out[0] ? out : "no message\n");
        return -1;
    }
    return 0;
}

int cmd_submit(int argc, char **argv) {
    submit_opts so = {0};
    so.max_requeue = -1;
    char cmdline[8192];
    cli_command_line(argc, argv, cmdline, sizeof cmdline); /* before take_options takes its options out */
    int rc = take_options(&argc, argv, &so);
    if (rc) return rc;
    cli_args a;
    rc = cli_parse("submit", argc, argv, CLI_OUT | CLI_JOBS, 2, usage, &a);
    if (rc) {
        cli_args_free(&a);
        return rc == 1 ? 0 : rc;
    }
    if (a.n_positional < 1) {
        cli_args_free(&a);
        return cli_usage_error("submit", "missing the experiment spec (a YAML file)");
    }
    if (!so.slurm) {
        cli_args_free(&a);
        return cli_usage_error("submit", "say which scheduler: --slurm (the only one engram knows today)");
    }
    eg_spec *spec = cli_load_spec(&a);
    if (!spec) {
        cli_args_free(&a);
        return EG_EXIT_USAGE;
    }
    int n = eg_spec_run_count(spec), n_todo = 0, n_done = 0;
    const eg_run_plan **plans = calloc((size_t)n + 1, sizeof *plans);
    const eg_run_plan **todo = calloc((size_t)n + 1, sizeof *todo);
    char(*states)[32] = calloc((size_t)n + 1, sizeof *states);
    text list = {0}, script = {0};
    char spec_abs[PATH_MAX], out_abs[PATH_MAX], engram[PATH_MAX], exp_dir[PATH_MAX + 256], sub[PATH_MAX + 512];
    char err[4096] = "";
    rc = EG_EXIT_USAGE;
    if (!plans || !todo || !states) {
        fprintf(stderr, "engram submit: out of memory planning %d runs\n", n);
        goto done;
    }
    for (int i = 0; i < n; i++)
        plans[i] = eg_spec_run(spec, i);
    eg_runner_run_states(a.out, (const eg_run_plan *const *)plans, n, states);
    for (int i = 0; i < n; i++) { /* the same config twice in a plan is one run */
        int dup = 0;
        for (int k = 0; k < n_todo && !dup; k++)
            dup = !strcmp(eg_run_plan_id(todo[k]), eg_run_plan_id(plans[i]));
        if (finished(states[i]))
            n_done++;
        else if (!dup)
            todo[n_todo++] = plans[i];
    }
    if (n_todo == 0) {
        fprintf(stderr, "engram submit: nothing to submit: all %d run%s of %s are finished\n", n, n == 1 ? "" : "s",
                a.positional[0]);
        rc = 0;
        goto done;
    }
    int tasks = so.tasks ? so.tasks : so.runs_per_task ? (n_todo + so.runs_per_task - 1) / so.runs_per_task : n_todo;
    if (tasks > n_todo) tasks = n_todo;
    if (tasks > 1000) tasks = 1000; /* Slurm's default MaxArraySize is 1001 */
    if (!realpath(a.positional[0], spec_abs)) {
        fprintf(stderr, "engram submit: %s: %s\n", a.positional[0], strerror(errno));
        goto done;
    }
    if (so.dry_run && a.out[0] != '/') { /* --dry-run creates nothing, not even --out */
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
        snprintf(out_abs, sizeof out_abs, "%.2048s/%.2000s", cwd, a.out);
    } else if (so.dry_run)
        snprintf(out_abs, sizeof out_abs, "%s", a.out);
    else if (eg_mkdirs(a.out, err, sizeof err) != 0 || !realpath(a.out, out_abs)) {
        fprintf(stderr, "engram submit: --out %s: %s\n", a.out, err[0] ? err : strerror(errno));
        goto done;
    }
    ssize_t el = readlink("/proc/self/exe", engram, sizeof engram - 1);
    if (el <= 0) {
        fprintf(stderr, "engram submit: cannot find the engram executable (/proc/self/exe)\n");
        goto done;
    }
    engram[el] = 0;
    snprintf(exp_dir, sizeof exp_dir, "%s/%s", out_abs, eg_spec_experiment(spec));
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
    for (int k = 0;; k++) { /* a fresh folder per submission */
        snprintf(sub, sizeof sub, "%s/slurm/%s%s%.0d", exp_dir, stamp, k ? "-" : "", k);
        struct stat st;
        if (so.dry_run || stat(sub, &st) != 0) break;
    }
    put(&list, "# engram submit: %d of the %d runs of %s (the others are finished)\n", n_todo, n, spec_abs);
    for (int i = 0; i < n_todo; i++)
        put(&list, "%s\n", eg_run_plan_id(todo[i]));
    write_script(&script, &a, &so, engram, spec_abs, out_abs, sub, eg_spec_experiment(spec), tasks, n_todo, cmdline);
    if (list.oom || script.oom) {
        fprintf(stderr, "engram submit: out of memory writing the batch script\n");
        goto done;
    }
    if (so.dry_run) {
        fputs(script.s, stdout);
        fprintf(stderr, "engram submit: --dry-run: %d run%s in %d task%s would be submitted from %s\n", n_todo,
                n_todo == 1 ? "" : "s", tasks, tasks == 1 ? "" : "s", sub);
        rc = 0;
        goto done;
    }
    char path[PATH_MAX + 1200];
    if (eg_mkdirs(sub, err, sizeof err) != 0) {
        fprintf(stderr, "engram submit: %s\n", err);
        rc = 1;
        goto done;
    }
    snprintf(path, sizeof path, "%s/runs.txt", sub);
    int bad = write_text(path, list.s, err, sizeof err);
    snprintf(path, sizeof path, "%s/job.sh", sub);
    bad = bad || write_text(path, script.s, err, sizeof err);
    if (bad) {
        fprintf(stderr, "engram submit: %s\n", err);
        rc = 1;
        goto done;
    }
    char job[64], cjob[64], dep[128], out_opt[PATH_MAX + 1300], wrap[PATH_MAX * 3];
    const char *sb[] = {"sbatch", "--parsable", path, NULL};
    if (sbatch(sb, job, sizeof job) != 0) {
        rc = 1;
        goto done;
    }
    snprintf(path, sizeof path, "%s/job_id", sub);
    snprintf(dep, sizeof dep, "%s\n", job);
    write_text(path, dep, err, sizeof err);
    /* the summary, once every task has ended (however) */
    snprintf(dep, sizeof dep, "--dependency=afterany:%s", job);
    snprintf(out_opt, sizeof out_opt, "--output=%s/collect.out", sub);
    snprintf(wrap, sizeof wrap, "--wrap=exec '%s' collect '%s'", engram, exp_dir);
    char jname[300];
    snprintf(jname, sizeof jname, "--job-name=engram-collect-%s", eg_spec_experiment(spec));
    const char *sc[] = {"sbatch", "--parsable", "--kill-on-invalid-dep=yes", "--ntasks=1", "--cpus-per-task=1",
                        dep, out_opt, jname, wrap, so.partition ? "-p" : NULL, so.partition, NULL};
    int collect_ok = sbatch(sc, cjob, sizeof cjob) == 0;
    if (collect_ok) {
        snprintf(path, sizeof path, "%s/collect_job_id", sub);
        snprintf(dep, sizeof dep, "%s\n", cjob);
        write_text(path, dep, err, sizeof err);
    }
    printf("%s\n", job);
    fprintf(stderr,
            "engram submit: job array %s: %d run%s in %d task%s (%d of %d finished already); %s%s%s\n"
            "  batch script %s/job.sh; `engram status %s` follows it\n",
            job, n_todo, n_todo == 1 ? "" : "s", tasks, tasks == 1 ? "" : "s", n_done, n,
            collect_ok ? "job " : "the summary job could not be submitted: run `engram collect` at the end",
            collect_ok ? cjob : "", collect_ok ? " collects the summary when it ends" : "", sub, exp_dir);
    rc = 0;
done:
    free(list.s);
    free(script.s);
    free(plans);
    free(todo);
    free(states);
    eg_spec_free(spec);
    cli_args_free(&a);
    return rc;
}
