/* progress.c — the sweep display. On a terminal: a status block redrawn in
 * place (runs done/total, failures, ETA, and one line per active run with its
 * progress "epoch 3/40, 12s/epoch, ETA 7m24s"), with failure lines printed above
 * it. Otherwise one plain line per finished run ("[3/12] run 3f2a... ok 1.2s") and,
 * every plain_every seconds, one line per running run with the same progress text,
 * so Slurm and nohup logs show it. A run's ETA is its own rate (seconds per unit
 * since its first report) times the units left; the sweep's ETA uses the finished
 * runs' mean time, or the running runs' ETAs while none has finished. */
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
    double first_t; /* when the first progress report came, and its count */
    long long first_done;
} disp_slot;

struct eg_display {
    int tty, total, skipped, n_slots;
    int finished, n_failed, n_pruned, elsewhere;
    double t0, last_draw, run_time_sum, plain_every, last_plain;
    int drawn_lines; /* lines of the status block currently on screen */
    char exp_dir[1024];
    disp_slot *slots;
};

eg_display *eg_display_new(int tty, int total, int skipped, int slots, const char *exp_dir, double plain_every_s) {
    eg_display *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->tty = tty;
    d->total = total;
    d->skipped = skipped;
    d->n_slots = slots > 0 ? slots : 1;
    d->slots = calloc((size_t)d->n_slots, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    d->t0 = eg_monotonic();
    d->plain_every = plain_every_s > 0 ? plain_every_s : 30;
    d->last_plain = d->t0;
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

/* seconds left of a running run from its own rate, < 0 when unknown */
static double slot_eta(const disp_slot *s, double now, double *per_unit) {
    *per_unit = -1;
    if (s->total <= 0 || s->done <= s->first_done || now <= s->first_t) {
        /* one report so far: the rate since the run started */
        if (s->total > 0 && s->done > 0 && now > s->start) *per_unit = (now - s->start) / (double)s->done;
    } else {
        *per_unit = (now - s->first_t) / (double)(s->done - s->first_done);
    }
    return *per_unit >= 0 ? *per_unit * (double)(s->total - s->done) : -1;
}

/* "epoch 3/40, 12s/epoch, ETA 7m24s (1m10s)" of a running run */
static void slot_text(const disp_slot *s, double now, char *buf, size_t cap) {
    char t[32], eta[32], rate[48] = "";
    fmt_duration(now - s->start, t, sizeof t);
    if (s->total <= 0) {
        snprintf(buf, cap, "starting (%s)", t);
        return;
    }
    double per = 0, left = slot_eta(s, now, &per);
    if (per >= 0) {
        if (per >= 1) snprintf(rate, sizeof rate, ", %.0fs/%s", per, s->unit);
        else if (per > 0) snprintf(rate, sizeof rate, ", %.1f %s/s", 1.0 / per, s->unit);
    }
    if (left >= 0) fmt_duration(left, eta, sizeof eta);
    else snprintf(eta, sizeof eta, "?");
    snprintf(buf, cap, "%s %lld/%lld%s, ETA %s (%s)", s->unit, s->done, s->total, rate, eta, t);
}

/* the sweep's time left */
static void sweep_eta(const eg_display *d, double now, char *buf, size_t cap) {
    snprintf(buf, cap, "?");
    if (d->finished > 0) { /* mean run time so far, remaining runs spread over the slots */
        double mean = d->run_time_sum / d->finished;
        fmt_duration(mean * (d->total - d->finished) / d->n_slots, buf, cap);
        return;
    }
    double worst = -1, per; /* none finished: the running runs' own ETAs */
    int unknown = 0, active = 0;
    for (int i = 0; i < d->n_slots; i++)
        if (d->slots[i].active) {
            double left = slot_eta(&d->slots[i], now, &per);
            active++;
            if (left < 0) unknown = 1;
            else if (left > worst) worst = left;
        }
    /* only when every run not yet started fits into the slots of the running ones */
    if (active && !unknown && d->total <= d->n_slots) fmt_duration(worst, buf, cap);
}

void eg_display_draw(eg_display *d, int force) {
    if (!d) return;
    double now = eg_monotonic();
    if (!d->tty) { /* plain: a line per running run every plain_every seconds */
        if (now - d->last_plain < d->plain_every) return;
        d->last_plain = now;
        char text[256];
        for (int i = 0; i < d->n_slots; i++)
            if (d->slots[i].active) {
                slot_text(&d->slots[i], now, text, sizeof text);
                fprintf(stderr, "run %s: %s\n", d->slots[i].id, text);
            }
        fflush(stderr);
        return;
    }
    if (!force && now - d->last_draw < 0.2) return;
    d->last_draw = now;
    clear_block(d);
    int active = 0;
    for (int i = 0; i < d->n_slots; i++)
        active += d->slots[i].active;
    char eta[32], elapsed[32];
    fmt_duration(now - d->t0, elapsed, sizeof elapsed);
    sweep_eta(d, now, eta, sizeof eta);
    char pruned[32] = "";
    if (d->n_pruned) snprintf(pruned, sizeof pruned, ", %d pruned", d->n_pruned);
    fprintf(stderr, "runs %d/%d done, %d failed%s, %d running, %s elapsed, ETA %s\n", d->finished, d->total,
            d->n_failed, pruned, active, elapsed, eta);
    int lines = 1;
    for (int i = 0; i < d->n_slots; i++) {
        disp_slot *s = &d->slots[i];
        if (!s->active) continue;
        char text[256];
        slot_text(s, now, text, sizeof text);
        fprintf(stderr, "  %s  %s\n", s->id, text);
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
    if (s->total <= 0 || strcmp(s->unit, unit) != 0 || done < s->done) /* a first report, or a new phase */
        s->first_t = eg_monotonic(), s->first_done = done;
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
    int pruned = strcmp(status, "pruned") == 0; /* sweep.adaptive stopped it: an outcome, not a failure */
    int bad = strcmp(status, "ok") != 0 && !interrupted && !pruned;
    d->n_failed += bad;
    d->n_pruned += pruned;
    clear_block(d);
    if (pruned)
        fprintf(stderr, "[%d/%d] run %s pruned %.1fs%s%s\n", d->finished, d->total, run_id, wall_s,
                message && *message ? ": " : "", message && *message ? message : "");
    else if (bad)
        fprintf(stderr, "run %s %s: %s%s%s%s\n", run_id, status, message && *message ? message : status,
                path && *path ? " (see " : "", path && *path ? path : "", path && *path ? " /log)" : "");
    else if (!d->tty)
        fprintf(stderr, "[%d/%d] run %s %s %.1fs\n", d->finished, d->total, run_id, status, wall_s);
    eg_display_draw(d, 1);
}

void eg_display_left(eg_display *d, const char *run_id, long pid, int finished) {
    if (!d) return;
    d->total--;
    d->elsewhere++;
    clear_block(d);
    char who[64] = "another engram process";
    if (pid > 0) snprintf(who, sizeof who, "another engram process (pid %ld)", pid);
    fprintf(stderr, "run %s %s %s on this experiment: not run here\n", run_id,
            finished ? "was just finished by" : "is being computed by", who);
    eg_display_draw(d, 1);
}

void eg_display_end(eg_display *d, int interrupted) {
    if (!d) return;
    clear_block(d);
    char t[32];
    fmt_duration(eg_monotonic() - d->t0, t, sizeof t);
    char skipped[128] = "";
    if (d->skipped) snprintf(skipped, sizeof skipped, ", %d skipped (already done)", d->skipped);
    if (d->elsewhere)
        snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), ", %d left to another engram process",
                 d->elsewhere);
    char pruned[48] = "";
    if (d->n_pruned) snprintf(pruned, sizeof pruned, ", %d pruned (sweep.adaptive)", d->n_pruned);
    fprintf(stderr, "engram: %s: %d of %d run%s finished, %d not ok%s%s, %s; results in %s\n",
            interrupted ? "interrupted" : "done", d->finished, d->total, d->total == 1 ? "" : "s", d->n_failed, pruned,
            skipped, t, d->exp_dir);
    fflush(stderr);
}
