/* runner_exec.c — the body of one run (in its child process, or in-process):
 * backend + context, create -> [load] -> [fit] -> eval -> save, the run's
 * status, its root attributes, and the atomic write of its run file. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engram/source.h"
#include "run/run_internal.h"
#include "runner_internal.h"

void eg_run_file_path(const char *out_root, const char *experiment, const char *id, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s/runs/%s.h5", out_root, experiment, id);
}

static const char *cfg_str(const eg_cfg *c, const char *key, const char *dflt) {
    const eg_value *v = eg_cfg_get(c, key);
    return v && v->kind == EG_VAL_STRING && v->s ? v->s : dflt;
}

void eg_run_init_path(const char *out_root, const eg_cfg *cfg, char *buf, size_t cap) {
    const char *init = cfg_str(cfg, "init_from", "");
    size_t len = strlen(init);
    buf[0] = 0;
    if (!*init) return;
    if (strchr(init, '/') || (len > 3 && strcmp(init + len - 3, ".h5") == 0))
        snprintf(buf, cap, "%s", init);
    else
        eg_run_file_path(out_root, cfg_str(cfg, "experiment", "default"), init, buf, cap);
}

/* what produced the runs, set by the runner before any child starts (children inherit it) */
static char provenance_spec[4096], provenance_cmdline[8192];
static const char *const *provenance_overrides;
static int provenance_n_overrides;

void eg_runner_set_provenance(const char *spec_path, const char *command_line, const char *const *overrides,
                              int n_overrides) {
    provenance_overrides = overrides;
    provenance_n_overrides = n_overrides;
    char *full = spec_path ? realpath(spec_path, NULL) : NULL;
    snprintf(provenance_spec, sizeof provenance_spec, "%s", full ? full : spec_path ? spec_path : "");
    free(full);
    snprintf(provenance_cmdline, sizeof provenance_cmdline, "%s", command_line ? command_line : "");
}

/* attribute `name` = the build id of the plugin file at path (nothing when path is NULL) */
static void build_id_attr(eg_record *rec, const char *name, const char *path) {
    char id[17], err[512];
    if (path && eg_plugin_build_id(path, id, err, sizeof err) == EG_OK) eg_record_attr_str(rec, name, id);
}

/* Root attributes every run file carries (also used for files the parent writes). */
static void base_attrs(eg_record *rec, const eg_run_plan *plan, const eg_model_plugin *model) {
    eg_record_config(rec, &plan->cfg);
    eg_record_attr_str(rec, "engram_version", EG_VERSION);
    eg_record_attr_str(rec, "git_commit", EG_GIT_COMMIT);
    eg_record_attr_str(rec, "model", model ? model->desc->name : cfg_str(&plan->cfg, "model", ""));
    eg_record_attr_str(rec, "model_version", model && model->desc->version ? model->desc->version : "");
    static const char *const meta[][2] = {{"license", "model_license"}, {"url", "model_url"}, {"authors", "model_authors"}};
    for (int i = 0; i < 3 && model; i++) {
        const char *v = eg_model_meta(model->desc, meta[i][0]);
        if (v && *v) eg_record_attr_str(rec, meta[i][1], v);
    }
    build_id_attr(rec, "model_build_id", model ? model->path : NULL);
    const eg_value *src = eg_cfg_get(&plan->cfg, "data.source");
    if (src && src->kind == EG_VAL_STRING) /* a data plugin's file; built-in sources are engram's own */
        build_id_attr(rec, "data_build_id", eg_data_source_origin(eg_data_source_find(src->s)));
    if (provenance_spec[0]) eg_record_attr_str(rec, "spec", provenance_spec);
    if (provenance_cmdline[0]) eg_record_attr_str(rec, "command_line", provenance_cmdline);
    eg_record_attr_strs(rec, "overrides", provenance_overrides, provenance_n_overrides);
    eg_record_attr_str(rec, "run_id", plan->id);
    eg_record_attr_int(rec, "run_index", plan->index);
    const eg_value *seed = eg_cfg_get(&plan->cfg, "seed");
    eg_record_attr_int(rec, "seed", seed && seed->kind == EG_VAL_INT ? seed->i : 0);
}

static void time_attrs(eg_record *rec, double start_wall, double end_wall, double wall_s) {
    char buf[64];
    eg_iso_time(start_wall, buf, sizeof buf);
    eg_record_attr_str(rec, "start_time", buf);
    eg_iso_time(end_wall, buf, sizeof buf);
    eg_record_attr_str(rec, "end_time", buf);
    eg_record_attr_num(rec, "wall_s", wall_s);
}

/* Called by the runner (parent) for runs whose child could not record them: a
 * crash, a kill after a timeout. `log` is the tail of the child's output. */
eg_status eg_run_write_failure(const eg_run_plan *plan, const eg_model_plugin *model, const char *out_root,
                               const char *status, const char *message, const char *log, double start_wall,
                               double wall_s, char *err, size_t cap) {
    eg_record *rec = eg_record_new();
    if (!rec) {
        snprintf(err, cap, "out of memory");
        return EG_ERR_NOMEM;
    }
    base_attrs(rec, plan, model);
    char live[4200];
    eg_run_file_path(out_root, cfg_str(&plan->cfg, "experiment", "default"), plan->id, live, sizeof live - 8);
    size_t live_len = strlen(live);
    if (live_len > 3) { /* a crashed child leaves its snapshot: the failure file replaces it */
        memcpy(live + live_len - 3, ".live.h5", 9);
        unlink(live);
    }
    eg_record_attr_str(rec, "backend", cfg_str(&plan->cfg, "backend", ""));
    eg_record_attr_str(rec, "device", "");
    eg_record_attr_str(rec, "error", message);
    time_attrs(rec, start_wall, start_wall + wall_s, wall_s);
    eg_record_status(rec, status);
    if (log && *log) eg_record_log(rec, log, strlen(log));
    char line[2200];
    int n = snprintf(line, sizeof line, "%sengram: run %s %s: %s\n",
                     log && *log && log[strlen(log) - 1] != '\n' ? "\n" : "", plan->id, status, message);
    eg_record_log(rec, line, (size_t)(n > 0 ? n : 0));
    char path[4096];
    eg_run_file_path(out_root, cfg_str(&plan->cfg, "experiment", "default"), plan->id, path, sizeof path);
    eg_status st = eg_record_write(rec, path, err, cap);
    eg_record_free(rec);
    return st;
}

/* /log = everything the run printed (its eg_run_log lines, plugin and library
 * messages), at most the last CAPTURE_MAX bytes */
#define CAPTURE_MAX (4u << 20)
static void attach_capture(eg_record *rec, int fd) {
    fflush(stdout);
    fflush(stderr);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end <= 0) return;
    off_t start = end > (off_t)CAPTURE_MAX ? end - (off_t)CAPTURE_MAX : 0;
    char *buf = malloc((size_t)(end - start));
    if (!buf) return;
    ssize_t got = pread(fd, buf, (size_t)(end - start), start);
    if (got > 0) eg_record_log(rec, buf, (size_t)got);
    free(buf);
}

/* CPU seconds of this process so far, all its threads */
static double cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return NAN;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static eg_status setup(eg_run *run, const eg_run_opts *o, char *err, size_t cap) {
    const char *bname = cfg_str(run->cfg, "backend", "auto");
    eg_status st = eg_backend_open_start(bname, o->threads, &run->backend, err, cap);
    if (st != EG_OK) return st;
    st = eg_ctx_create(run->backend, &run->ctx);
    if (st != EG_OK) {
        snprintf(err, cap, "could not create a context on backend %s: %s", bname, eg_strerror(st));
        return st;
    }
    return EG_OK;
}

static void teardown(eg_run *run) {
    for (int i = 0; i < run->n_splits; i++) {
        eg_dataset_free(run->splits[i].ds);
        free(run->splits[i].split);
    }
    free(run->splits);
    for (int i = 0; i < run->n_lists; i++) {
        free(run->lists[i].key);
        free(run->lists[i].values);
    }
    free(run->lists);
    if (run->ctx) eg_ctx_destroy(run->ctx);
    if (run->backend) eg_backend_close(run->backend);
    eg_record_free(run->record);
}

/* create -> [load] -> [fit] -> eval -> save; the first failing status */
static eg_status lifecycle(eg_run *run) {
    const eg_model_desc *d = run->model->desc;
    void *self = NULL;
    eg_status st = d->create(run, &self);
    if (st != EG_OK) return st;
    if (run->init_path[0]) {
        if (!d->load)
            st = eg_run_fail(run, EG_ERR_UNSUPPORTED, "init_from given but model '%s' cannot load weights", d->name);
        else
            st = d->load(self, run);
    }
    if (st == EG_OK && d->fit) st = d->fit(self, run);
    if (st == EG_OK) st = d->eval(self, run);
    if (st == EG_OK && d->save) st = d->save(self, run);
    if (st == EG_OK && run->fail_status != EG_OK) st = run->fail_status; /* eg_run_fail but returned OK */
    if (st == EG_OK && run->ctx && eg_ctx_status(run->ctx) != EG_OK) {
        eg_status cs = eg_ctx_status(run->ctx);
        st = eg_run_fail(run, cs, "%s", eg_ctx_message(run->ctx)[0] ? eg_ctx_message(run->ctx) : eg_strerror(cs));
    }
    d->destroy(self);
    return st;
}

int eg_run_execute(const eg_run_plan *plan, const eg_run_opts *o) {
    eg_run run_s, *run = &run_s;
    memset(run, 0, sizeof *run);
    run->plan = plan;
    run->cfg = &plan->cfg;
    run->model = o->model;
    run->progress_fd = o->progress_fd;
    run->capture_fd = o->capture_fd;
    run->deadline = o->deadline;
    run->t0 = eg_monotonic();
    double cpu0 = cpu_now();
    run->record = eg_record_new();
    double start_wall = eg_wall_now();
    if (!run->record) {
        fprintf(stderr, "engram: run %s: out of memory\n", plan->id);
        return EG_RUN_EXIT_NOWRITE;
    }
    if (o->install_signals) eg_run_install_signals();
    eg_run_init_path(o->out_root, run->cfg, run->init_path, sizeof run->init_path);
    /* the live snapshot carries what the final file will: config, ids, provenance */
    base_attrs(run->record, plan, o->model);
    eg_record_status(run->record, "running");
    eg_run_file_path(o->out_root, cfg_str(run->cfg, "experiment", "default"), plan->id, run->live_path,
                     sizeof run->live_path);
    size_t lp = strlen(run->live_path);
    if (lp > 3 && lp + 6 < sizeof run->live_path) memcpy(run->live_path + lp - 3, ".live.h5", 9);
    else run->live_path[0] = 0;
    run->last_live = run->t0;
    eg_run_asha_init(&run->asha, o->adaptive, o->out_root, cfg_str(run->cfg, "experiment", "default"), plan->id);

    char err[2048] = "";
    eg_status st = setup(run, o, err, sizeof err);
    if (st != EG_OK)
        eg_run_fail(run, st, "%s", err);
    else {
        eg_run_log(run, "run %s (index %d): model %s %s on %s (%s), seed %llu", plan->id, plan->index,
                   o->model->desc->name, o->model->desc->version ? o->model->desc->version : "",
                   run->backend->desc->name,
                   run->backend->desc->device_name ? run->backend->desc->device_name(run->backend->instance) : "",
                   (unsigned long long)eg_run_seed(run));
        st = lifecycle(run);
    }
    int cancelled = st == EG_ERR_CANCELLED || run->fail_status == EG_ERR_CANCELLED;
    /* pruned: a rung of sweep.adaptive stopped it (the plugin returned as on a cancel) */
    int pruned = cancelled && run->asha.pruned;
    int timed_out = !pruned && cancelled && run->deadline > 0 && eg_monotonic() >= run->deadline;
    const char *status = "ok";
    int code = EG_RUN_EXIT_OK;
    char pruned_msg[600] = "";
    if (pruned) {
        status = "pruned", code = EG_RUN_EXIT_PRUNED;
        eg_run_asha_reason(&run->asha, pruned_msg, sizeof pruned_msg);
    } else if (timed_out) {
        status = "timeout", code = EG_RUN_EXIT_TIMEOUT;
        snprintf(run->fail_msg, sizeof run->fail_msg, "timeout: the deadline passed before the run finished");
        eg_run_log(run, "error: %s", run->fail_msg);
    } else if (cancelled && eg_run_cancel_requested()) {
        fprintf(stderr, "engram: run %s interrupted\n", plan->id);
        if (run->live_path[0]) unlink(run->live_path);
        teardown(run);
        return EG_RUN_EXIT_INTERRUPTED; /* no partial run file */
    } else if (st == EG_ERR_DIVERGED || eg_record_has_nonfinite(run->record)) {
        status = "diverged", code = EG_RUN_EXIT_DIVERGED;
        eg_run_log(run, "run diverged: NaN or Inf in a metric or curve%s%s", run->fail_msg[0] ? ": " : "",
                   run->fail_msg);
    } else if (st != EG_OK) {
        status = "failed", code = EG_RUN_EXIT_FAILED;
        if (!run->fail_msg[0]) eg_run_fail(run, st, "%s", eg_strerror(st));
    }
    char warn[600];
    if (eg_run_asha_unseen(&run->asha, warn, sizeof warn)) eg_run_log(run, "%s", warn);
    if (run->asha.pruned && !pruned)
        eg_run_log(run, "adaptive: the run ended before it checked the pruning decision (eg_run_check): status %s",
                   status);

    eg_record *rec = run->record;
    if (run->capture_fd >= 0) attach_capture(rec, run->capture_fd);
    /* base_attrs went in when the run started (the live snapshots carry them too) */
    eg_record_attr_str(rec, "backend", run->backend ? run->backend->desc->name : cfg_str(run->cfg, "backend", ""));
    eg_record_attr_str(
        rec, "device",
        run->backend && run->backend->desc->device_name ? run->backend->desc->device_name(run->backend->instance) : "");
    build_id_attr(rec, "backend_build_id", run->backend ? run->backend->path : NULL);
    eg_record_attr_int(rec, "threads", o->threads);
    if (code != EG_RUN_EXIT_OK && !pruned && run->fail_msg[0]) eg_record_attr_str(rec, "error", run->fail_msg);
    if (pruned) eg_run_asha_attrs(&run->asha, rec);
    double cpu = cpu_now() - cpu0;
    if (isfinite(cpu)) eg_record_attr_num(rec, "cpu_s", cpu);
    double wall = eg_monotonic() - run->t0;
    time_attrs(rec, start_wall, start_wall + wall, wall);
    eg_record_status(rec, status);

    char path[4096];
    eg_run_file_path(o->out_root, cfg_str(run->cfg, "experiment", "default"), plan->id, path, sizeof path);
    st = eg_record_write(rec, path, err, sizeof err);
    if (st != EG_OK) {
        fprintf(stderr, "engram: run %s: could not write %s: %s\n", plan->id, path, err);
        code = EG_RUN_EXIT_NOWRITE;
    } else if (code != EG_RUN_EXIT_OK) {
        fprintf(stderr, "engram: run %s %s: %s\n", plan->id, status,
                pruned            ? pruned_msg
                : run->fail_msg[0] ? run->fail_msg
                                   : (code == EG_RUN_EXIT_DIVERGED ? "NaN or Inf" : status));
    }
    if (run->live_path[0]) unlink(run->live_path);
    teardown(run);
    return code;
}
