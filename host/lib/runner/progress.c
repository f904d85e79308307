/* progress.c — the sweep display. On a terminal: a status block redrawn in
 * place (runs done/total, failures, ETA, and one line per active run with its
 * progress "epoch 3/10"), with failure lines printed above it. Otherwise one
 * plain line per finished run ("[3/12] run 3f2a... ok 1.2s"). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_internal.h"
#include "runner_internal.h"

typedef struct disp_slot {
    char id[17];
    int active;
    long long done, total;
    char unit[32];
    double start;
} disp_slot;

struct eg_display {
    int tty, total, skipped, n_slots;
    int finished, n_failed;
    double t0, last_draw, run_time_sum;
    int drawn_lines; /* lines of the status block currently on screen */
    char exp_dir[1024];
    disp_slot *slots;
};

eg_display *eg_display_new(int tty, int total, int skipped, int slots, const char *exp_dir) {
    eg_display *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->tty = tty;
    d->total = total;
    d->skipped = skipped;
    d->n_slots = slots > 0 ? slots : 1;
    d->slots = calloc((size_t)d->n_slots, sizeof *d->slots);
    d->t0 = eg_monotonic();
    snprintf(d->exp_dir, sizeof d->exp_dir, "%s", exp_dir);
    if (skipped)
        fprintf(stderr, "engram: %d run%s already done in %s, %d to run\n", skipped, skipped == 1 ? "" : "s", exp_dir,
                total);
    else if (!tty)
        fprintf(stderr, "engram: %d run%s to run in %s\n", total, total == 1 ? "" : "s", exp_dir);
    return d;
}

void eg_display_free(eg_display *d) {
    if (!d) return;
    free(d->slots);
    free(d);
}

static void clear_block(eg_display *d) {
    if (!d->tty || d->drawn_lines == 0) return;
    /* cursor is at the start of the line after the block: go up and erase to the end of the screen */
    fprintf(stderr, "\033[%dA\r\033[J", d->drawn_lines);
    d->drawn_lines = 0;
}

static void fmt_duration(double s, char *buf, size_t cap) {
    if (s < 0) s = 0;
    if (s < 60)
        snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void eg_display_draw(eg_display *d, int force) {
    if (!d || !d->tty) return;
    double now = eg_monotonic();
    if (!force && now - d->last_draw < 0.2) return;
    d->last_draw = now;
    clear_block(d);
    int active = 0;
    for (int i = 0; i < d->n_slots; i++)
        active += d->slots[i].active;
    char eta[32] = "?", elapsed[32];
    fmt_duration(now - d->t0, elapsed, sizeof elapsed);
    if (d->finished > 0) {
        /* mean run time so far, remaining runs spread over the slots */
        double mean = d->run_time_sum / d->finished;
        int left = d->total - d->finished;
        fmt_duration(mean * left / d->n_slots, eta, sizeof eta);
    }
    fprintf(stderr, "runs %d/%d done, %d failed, %d running, %s elapsed, ETA %s\n", d->finished, d->total, d->n_failed,
            active, elapsed, eta);
    int lines = 1;
    for (int i = 0; i < d->n_slots; i++) {
        disp_slot *s = &d->slots[i];
        if (!s->active) continue;
        char t[32];
        fmt_duration(now - s->start, t, sizeof t);
        if (s->total > 0)
            fprintf(stderr, "  %s  %s %lld/%lld  (%s)\n", s->id, s->unit, s->done, s->total, t);
        else
            fprintf(stderr, "  %s  starting  (%s)\n", s->id, t);
        lines++;
    }
    d->drawn_lines = lines;
    fflush(stderr);
}

void eg_display_start(eg_display *d, int slot, const char *run_id) {
    if (!d || slot < 0 || slot >= d->n_slots) return;
    disp_slot *s = &d->slots[slot];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", run_id);
    s->active = 1;
    s->start = eg_monotonic();
}

void eg_display_progress(eg_display *d, int slot, long long done, long long total, const char *unit) {
    if (!d || slot < 0 || slot >= d->n_slots) return;
    disp_slot *s = &d->slots[slot];
    s->done = done;
    s->total = total;
    snprintf(s->unit, sizeof s->unit, "%s", unit);
}

void eg_display_note(eg_display *d, const char *fmt, ...) {
    if (d) clear_block(d);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (d) eg_display_draw(d, 1);
}

void eg_display_finish(eg_display *d, int slot, const char *run_id, const char *status, double wall_s,
                       const char *message, const char *path) {
    if (!d) return;
    if (slot >= 0 && slot < d->n_slots) d->slots[slot].active = 0;
    int interrupted = strcmp(status, "interrupted") == 0;
    if (!interrupted) {
        d->finished++;
        d->run_time_sum += wall_s;
    }
    int bad = strcmp(status, "ok") != 0 && !interrupted;
    d->n_failed += bad;
    clear_block(d);
    if (bad)
        fprintf(stderr, "run %s %s: %s (see %s /log)\n", run_id, status, message && *message ? message : status, path);
    else if (!d->tty)
        fprintf(stderr, "[%d/%d] run %s %s %.1fs\n", d->finished, d->total, run_id, status, wall_s);
    eg_display_draw(d, 1);
}

void eg_display_end(eg_display *d, int interrupted) {
    if (!d) return;
    clear_block(d);
    char t[32];
    fmt_duration(eg_monotonic() - d->t0, t, sizeof t);
    char skipped[64] = "";
    if (d->skipped) snprintf(skipped, sizeof skipped, ", %d skipped (already done)", d->skipped);
    fprintf(stderr, "engram: %s: %d of %d run%s finished, %d not ok%s, %s; results in %s\n",
            interrupted ? "interrupted" : "done", d->finished, d->total, d->total == 1 ? "" : "s", d->n_failed, skipped,
            t, d->exp_dir);
    fflush(stderr);
}
