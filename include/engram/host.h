/* engram/host.h — the host API: driving engram from a program. Load a spec and
 * its plan, run it, read the results, and list plugins and task kinds. The
 * `engram` executable (host/cli) is written against this header and the rest of
 * the SDK only; so can a scheduler or a binding. Handles are opaque and read
 * through accessors; eg_runner_opts, eg_model_plugin and eg_task_def are plain
 * read-only data. The host API follows the SDK's version rule (docs/architecture.md). */
#ifndef ENGRAM_HOST_H
#define ENGRAM_HOST_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "export.h"
#include "plugin.h"
#include "source.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- which engram ---- */
EG_API const char *eg_engram_version(void);    /* "0.1.0" */
EG_API const char *eg_engram_git_commit(void); /* 12 hex chars, or "unknown" */

/* ---- specs and their plans (docs/spec.md) ---- */
typedef struct eg_spec eg_spec;
typedef struct eg_run_plan eg_run_plan;

/* Load, override (argv-style "key=value"), validate and expand. Runs are ordered
 * cases x grid x zip x seeds. On failure: EG_ERR_SPEC (EG_ERR_IO for an unreadable
 * file) with err = "file:line:col: key: what was expected[; did you mean 'x'?]",
 * "<command line>: override 'ARG': ..." for an override, "file: key: ..." for a missing key. */
EG_API eg_status eg_spec_load(const char *path, const char *const *overrides, int n_overrides, eg_spec **out, char *err,
                              size_t cap);
EG_API void eg_spec_free(eg_spec *s);
EG_API const char *eg_spec_path(const eg_spec *s);
EG_API const char *eg_spec_experiment(const eg_spec *s);
EG_API int eg_spec_run_count(const eg_spec *s);
EG_API const eg_run_plan *eg_spec_run(const eg_spec *s, int i); /* NULL out of range */
/* keys whose value differs between runs (seed included when varied) */
EG_API int eg_spec_swept_count(const eg_spec *s);
EG_API const char *eg_spec_swept_key(const eg_spec *s, int k);
/* What set `key` (a run key "params.beta", or a section "params.vae"): each place in the
 * order applied (included files, the spec, overrides; the last wins), the sweep axes that
 * set it, and its values in the runs. malloc'ed text, NULL out of memory.
 * `engram plan SPEC --explain KEY` prints it. */
EG_API char *eg_spec_explain(const eg_spec *s, const char *key);

EG_API const char *eg_run_plan_id(const eg_run_plan *p); /* 16 hex chars of the canonical config's hash */
EG_API int eg_run_plan_index(const eg_run_plan *p);      /* position in the plan */
/* the fully resolved config: experiment, model, backend, seed, data.*, params.*, task.*, ... */
EG_API const eg_cfg *eg_run_plan_config(const eg_run_plan *p);

/* canonical text of a config value ("1.0", "[1, 2]", true), strings unquoted; "-" when absent */
EG_API void eg_cfg_value_text(const eg_cfg *c, const char *key, char *buf, size_t cap);
/* the config as nested YAML (what a run file's /config holds); malloc'ed, NULL out of memory */
EG_API char *eg_cfg_yaml(const eg_cfg *c);

/* Runs argv[0] (searched on PATH; no shell) with stdin from /dev/null and puts its stdout
 * (NUL-terminated, cut at cap - 1) into out and its stderr into err_out (either may be
 * NULL); killed after timeout_s seconds. Its exit status (0..255), -1 when it could not be
 * started (errno ENOENT: not installed), -2 when killed by the limit or a signal. The host's
 * commands use it for sbatch, squeue and scontrol (docs/cluster.md). */
EG_API int eg_proc_capture(const char *const *argv, double timeout_s, char *out, size_t cap, char *err_out,
                           size_t err_cap);

/* mkdir -p: 0, or -1 with err naming the directory that could not be made */
EG_API int eg_mkdirs(const char *path, char *err, size_t cap);

/* closest candidate within a small edit distance, or NULL */
EG_API const char *eg_did_you_mean(const char *word, const char *const *candidates, int n);

/* ---- running a plan: one child process per run ---- */
enum { EG_EXIT_OK = 0, EG_EXIT_RUNS_FAILED = 1, EG_EXIT_USAGE = 2, EG_EXIT_INTERRUPTED = 130 };

typedef struct eg_runner_opts {
    const char *out_root; /* results root ("results") */
    int jobs;             /* concurrent runs, >= 1 */
    double timeout_s;     /* > 0 overrides every run's `timeout`; 0 = the spec's */
    int fail_fast;        /* stop at the first run that is not ok */
    int shard_i, shard_n; /* run plan entries with index % shard_n == shard_i; shard_n <= 1 = all */
    int no_fork;          /* run in this process, one after another (debugging) */
    int display;          /* -1 auto (terminal when stderr is a tty), 0 plain lines, 1 terminal */
    const char *command_line; /* recorded in every run file (command_line), NULL = not recorded */
    double progress_every_s;  /* plain display: a progress line per running run this often (0 = 30 s) */
    int force;                /* run every run again, even those whose file says ok and is current */
    unsigned rerun;           /* which finished runs run again: EG_RERUN_* bits; 0 = stale | failed.
                                 Runs without a file always run; force = EG_RERUN_ALL */
    int mix_specs;            /* add runs to an experiment directory that holds runs of another spec file */
    const char *runs_file;    /* NULL, or a file of run ids (one per line, '#' comments): run only those, in
                                 that order, sharded by their position in it; an id the spec does not plan is
                                 an error (exit 2: the spec changed since the list was written) */
    int no_collect;           /* leave summary.h5 alone at the end (array tasks: `engram collect` builds it) */
    int gpus_per_run;         /* > 0: each concurrent run gets its own this many of the devices that
                                 CUDA_VISIBLE_DEVICES lists (0, 1, ... when it is unset) */
} eg_runner_opts;
enum { EG_RERUN_STALE = 1, EG_RERUN_FAILED = 2, EG_RERUN_ALL = 7, EG_RERUN_PRUNED = 8 }; /* ALL includes pruned */

/* Validate (models, backends, init_from), skip finished runs, execute, collect.
 * Returns an EG_EXIT_* code; messages go to stderr. */
EG_API int eg_runner_run(const eg_spec *spec, const eg_runner_opts *opts);
/* `engram status`: the runs of exp_dir (with spec's plan when spec is not NULL, and the run
 * lists of exp_dir/slurm/<submission>/runs.txt) counted done / running / pending / failed,
 * the submissions' Slurm jobs (squeue), the ETA; text or one JSON object to out. 0, or -1
 * out of memory. */
EG_API int eg_runner_status(const char *exp_dir, const eg_spec *spec, int json, FILE *out);
/* One run's state on disk: "ok", "failed", "diverged", "timeout", "pruned" (stopped by
 * sweep.adaptive: finished, like ok), "pending" (no file), or
 * "stale": ok, but written by another build of its model plugin (model_build_id differs
 * from the plugin file's now, or was not recorded); the runner runs stale runs again. */
EG_API void eg_runner_run_state(const char *out_root, const eg_run_plan *plan, char *buf, size_t cap);
/* The same for n runs at once, states[i] for plans[i]: the run files are read in one child
 * process, so a malformed file found there cannot crash the caller (it reads as pending,
 * with a warning, and its run is computed again). */
EG_API void eg_runner_run_states(const char *out_root, const eg_run_plan *const *plans, int n, char (*states)[32]);
/* Probe a backend in a short-lived child (the caller stays free of BLAS threads and GPU
 * contexts): 1 available, 0 unavailable, -1 cannot be loaded; reason gets the backend's
 * reason or the loader's message, resolved its name ("auto" -> "cuda" or "cpu"). With
 * summary non-NULL an available backend is also started so the summary names its device. */
EG_API int eg_backend_probe(const char *name, char *resolved, size_t rcap, char *summary, size_t scap, char *reason,
                            size_t cap);

/* ---- results (docs/results.md) ---- */
/* rebuild <exp_dir>/summary.h5 from the run files <exp_dir>/runs/<id>.h5 */
EG_API eg_status eg_results_collect(const char *exp_dir, char *err, size_t cap);
/* the run files of src_dir/runs copied into exp_dir/runs (`engram collect DIR SRC...`): each run
 * exp_dir lacks, and each that src_dir finished (ok, pruned) and exp_dir did not; *copied
 * counts them. EG_ERR_IO with err when src_dir has no runs/ or a copy fails. */
EG_API eg_status eg_results_merge(const char *exp_dir, const char *src_dir, int *copied, char *err, size_t cap);
/* `engram verify`: checks every run file of exp_dir (readable whole, holds the run its
 * name says, has a status, finite metrics when ok) and summary.h5 against them (fresh,
 * one row per sound file, same status and metrics), one "problem: ..." line per finding
 * on out; with move_unsound, each unsound run file is moved to exp_dir/quarantine/ (so
 * `engram run` computes its run again). EG_OK when the checks ran (verdict: *n_problems == 0). */
EG_API eg_status eg_results_verify(const char *exp_dir, int move_unsound, FILE *out, int *n_files, int *n_problems,
                                   char *err, size_t cap);
/* the static HTML report of one experiment directory into out_dir (index.html and its
 * pictures; created when missing; pictures of unchanged runs are reused) */
EG_API eg_status eg_report_experiment(const char *exp_dir, const char *out_dir, char *err, size_t cap);
/* print final metrics as mean ± sd over seeds, grouped by swept parameters */
EG_API eg_status eg_results_show(const char *exp_dir, FILE *out, char *err, size_t cap);
/* the same numbers as "table" (the text above), "json" ({"groups": [{"params", "ok", "total",
 * "metrics": {name: {"mean", "sd", "n"}}}]}, full precision, null for none) or "csv" (a
 * row per group; per metric NAME:mean, NAME:sd, NAME:n columns) */
EG_API eg_status eg_results_show_as(const char *exp_dir, const char *format, FILE *out, char *err, size_t cap);
/* What `engram show` prints (docs/results.md). Zero-initialise, set struct_size to
 * sizeof(eg_show_opts) and the fields you need: fields appended in later versions read as unset
 * when an older caller's struct_size does not reach them. */
typedef struct eg_show_opts {
    size_t struct_size;
    const char *format;           /* "table" (NULL), "json" or "csv" */
    const char *const *where;     /* conditions on runs, all must hold: "params.beta>=1", "variant==gmm" */
    int n_where;
    const char *sort;             /* a metric (best first by its goal) or parameter; "+KEY" ascending, "-KEY" descending */
    const char *best;             /* a metric: only the best group by its goal ("NAME:max", "NAME:min" without one) */
    const char *metrics;          /* comma-separated metric names (full, without the shared prefix, or a glob) */
    int width;                    /* the table's width in columns; 0: the terminal's, else $COLUMNS, else 100 */
} eg_show_opts;
/* EG_ERR_INVALID (err says why) for a condition, sort key or metric that names nothing */
EG_API eg_status eg_results_show_with(const char *exp_dir, const eg_show_opts *opts, FILE *out, char *err, size_t cap);
/* one run of exp_dir by its id or a unique prefix: status, resolved config, metrics, series,
 * artifacts and weights, the log's tail; EG_ERR_NOTFOUND / EG_ERR_INVALID (ambiguous) */
EG_API eg_status eg_results_show_run(const char *exp_dir, const char *run, FILE *out, char *err, size_t cap);

/* ---- plugins ---- */
typedef struct eg_model_plugin {
    void *dl;
    char *path;
    const eg_model_desc *desc;
} eg_model_plugin;
/* by name ("hopfield") on the search path, or by path (contains '/'); the ABI is checked */
EG_API eg_status eg_model_open(const char *name_or_path, eg_model_plugin **out, char *err, size_t cap);
/* a descriptor field appended after 1.0, read only when the plugin's descriptor has it:
 * "license", "url" or "authors"; NULL when the plugin predates it or did not say */
EG_API const char *eg_model_meta(const eg_model_desc *d, const char *field);
EG_API void eg_model_close(eg_model_plugin *m);
/* A data-source plugin loaded, its ABI checked. `source` is a full-size copy of the
 * plugin's eg_data_source (fields it predates are NULL); `desc` is the plugin's own.
 * Most callers want eg_data_source_find (engram/source.h), which opens these. */
typedef struct eg_data_plugin {
    void *dl;
    char *path;
    const eg_data_desc *desc;
    eg_data_source source;
} eg_data_plugin;
/* by name (engram-data-<name>.so on the search path) or by path (contains '/') */
EG_API eg_status eg_data_plugin_open(const char *name_or_path, eg_data_plugin **out, char *err, size_t cap);
EG_API void eg_data_plugin_close(eg_data_plugin *p);
/* names of the plugins on the search path of kind "backend", "model" or "data"; returns the
 * count, names malloc'ed into *names (free each and the array) */
EG_API int eg_plugin_scan(const char *kind, char ***names);
/* The build id of a plugin file: the first 16 hex characters of the SHA-256 of its
 * bytes, so any rebuild that changes the code changes it (and a rebuild that does not,
 * does not). Run files record it for the model, the backend and a data plugin
 * (model_build_id, backend_build_id, data_build_id); `engram describe` and
 * `engram datasets` show it. Cached per path and file size/mtime within a process. */
EG_API eg_status eg_plugin_build_id(const char *path, char out[17], char *err, size_t cap);
/* the file the search path gives for plugin `name` of `kind` (without opening it):
 * EG_OK with path filled, or EG_ERR_NOTFOUND with the directories searched in path */
EG_API eg_status eg_plugin_locate(const char *kind, const char *name, char *path, size_t cap);

/* ---- backends (a run gets its context from the host; a tool or a plugin's test opens one) ---- */
/* open and start the backend `name` ("cpu", "cuda", "auto" = cuda when available, else cpu,
 * or a path to its .so) with `threads` CPU threads (0 = the backend's default) */
EG_API eg_status eg_backend_open_start(const char *name, int threads, eg_backend **out, char *err, size_t cap);
EG_API void eg_backend_close(eg_backend *b); /* shutdown, dlclose */

/* ---- task kinds (eg_task_def: engram/plugin.h) ---- */
/* the built-in kinds */
EG_API int eg_task_def_count(void);
EG_API const eg_task_def *eg_task_def_at(int i);
EG_API const eg_task_def *eg_task_def_find(const char *name);
/* the kind `name` as model d sees it: a built-in kind, else one d defines (ABI 1.3
 * task_kinds, read by its task_def_size); NULL when neither */
EG_API const eg_task_def *eg_model_task_def(const eg_model_desc *d, const char *name);
/* the i-th kind d defines (0 <= i < eg_model_task_def_count(d)); 0 / NULL for plugins before 1.3 */
EG_API int eg_model_task_def_count(const eg_model_desc *d);
EG_API const eg_task_def *eg_model_task_def_at(const eg_model_desc *d, int i);
/* what a model's descriptor must hold about task kinds: every kind it lists in `tasks` is
 * built in or defined by it; a kind it defines has a name no built-in kind has and a
 * valid schema. EG_ERR_ABI with err naming the plugin and the kind otherwise. */
EG_API eg_status eg_model_check_tasks(const eg_model_desc *d, char *err, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
