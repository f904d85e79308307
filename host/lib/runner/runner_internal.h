/* runner_internal.h — pieces shared by runner*.c and progress.c. */
#ifndef EG_RUNNER_INTERNAL_H
#define EG_RUNNER_INTERNAL_H

#include <stddef.h>

#include "engram/data.h"
#include "engram/host.h"
#include "spec/spec.h"

/* eg_mkdirs (mkdir -p): engram/host.h */
/* remove stale <id>.h5.tmp-<pid> files of the given runs */
/* removes the temp files of dead writers and the stale live snapshots of the runs about to start */
void eg_runner_clean_tmp(const char *runs_dir, const eg_run_plan *const *runs, int n);
/* the spec file, command line and overrides every run file records (spec, command_line,
 * overrides); the overrides must outlive the sweep */
/* 1 when exp_dir already holds runs of another spec file (its path into other), else 0 */
int eg_runner_spec_clash(const char *exp_dir, const char *spec_path, char *other, size_t cap);
void eg_runner_set_provenance(const char *spec_path, const char *command_line, const char *const *overrides,
                              int n_overrides);

/* --runs FILE (runner_runlist.c): into mine the runs of spec whose ids FILE lists, in its
 * order, those at positions p with p % shard_n == shard_i; -1 (message printed) when FILE
 * cannot be read, a line is not an id or an id is not planned */
int eg_runner_select_listed(const eg_spec *spec, const char *file, int shard_i, int shard_n, eg_run_plan **mine,
                            int *n_mine);

/* ---- the preflight (runner_preflight.c, runner_init_from.c) ---- */
/* the model plugins the runs use, each opened once */
typedef struct eg_model_cache {
    char **names;
    eg_model_plugin **plugins;
    int n;
} eg_model_cache;
void eg_model_cache_free(eg_model_cache *mc);
/* Everything that makes `engram run` exit 2 before anything is written: models[i] = the
 * model of mine[i] (opened into mc), backends probed, init_from checked, each distinct data
 * config loaded once and every run checked against it. The first problem goes to stderr
 * at the spec's FILE:LINE:COL of the key it is about. 0, or -1. */
int eg_runner_preflight(const eg_spec *spec, const eg_runner_opts *o, eg_run_plan **mine, int n_mine,
                        eg_model_cache *mc, const eg_model_plugin **models);

/* init_from files, each read once per invocation */
typedef struct eg_init_cache eg_init_cache;
eg_init_cache *eg_init_cache_new(void);
void eg_init_cache_free(eg_init_cache *c);
/* run p's init_from (0 when it has none): the file exists and says ok, its model is one
 * model m loads from, and m can load weights; else -1 with err at init_from's position */
int eg_init_check_file(eg_init_cache *c, const eg_spec *s, const char *out_root, const eg_run_plan *p,
                       const eg_model_plugin *m, char *err, size_t cap);
/* the init run's items (its data_shape) against ds, this run's loaded data; a file that
 * does not record data_shape passes */
int eg_init_check_shape(eg_init_cache *c, const eg_spec *s, const char *out_root, const eg_run_plan *p,
                        const eg_dataset *ds, char *err, size_t cap);

/* ---- the sweep display (progress.c) ---- */
typedef struct eg_display eg_display;

/* total: runs this invocation executes; skipped: finished runs not re-run; slots: -j */
/* plain_every_s: without a terminal, a progress line per running run this often (<= 0: 30 s) */
/* NULL when out of memory */
eg_display *eg_display_new(int tty, int total, int skipped, int slots, const char *exp_dir, double plain_every_s);
void eg_display_free(eg_display *d);
void eg_display_start(eg_display *d, int slot, const char *run_id);
void eg_display_progress(eg_display *d, int slot, long long done, long long total, const char *unit);
/* a run ended: status "ok" | "failed" | "diverged" | "timeout" | "pruned" | "interrupted"; message for
 * failures (and a pruned run's reason) */
void eg_display_finish(eg_display *d, int slot, const char *run_id, const char *status, double wall_s,
                       const char *message, const char *path);
/* a free-standing message line (keeps the status block intact on a terminal) */
void eg_display_note(eg_display *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a run of the plan that another engram process on the experiment holds (finished: it
 * finished it meanwhile): not run here, and not counted in the total */
void eg_display_left(eg_display *d, const char *run_id, long pid, int finished);
/* redraw the terminal status block (rate-limited unless force) */
void eg_display_draw(eg_display *d, int force);
/* erase the status block and print the closing line */
void eg_display_end(eg_display *d, int interrupted);

#endif
