/* run_adaptive.c — adaptive search inside a run: ASHA's rungs (stop-based asynchronous
 * successive halving, as Ray Tune's ASHA scheduler and Optuna's SuccessiveHalvingPruner
 * apply it). The rule, per rung r and series value v of this run at the first step >= r:
 *   1. v not finite: pruned (nothing recorded);
 *   2. v is recorded: <exp>/adaptive/<metric>/rung-<r>/<run id>, atomically;
 *   3. the values the other runs recorded there: with fewer than min_peers of them the
 *      run goes on; else cutoff = their (1 - 1/eta) quantile (goal max; the 1/eta
 *      quantile for goal min), and the run is pruned when v is below (above) it.
 * Recording before reading means two runs deciding at once see each other's value more
 * often than neither does. Values of pruned runs stay: they are what later runs meet. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engram/host.h"
#include "run_adaptive.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double eg_asha_cutoff(double *v, int n, double eta, int goal_max, int min_peers) {
    if (n < 1 || n < min_peers) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double q = goal_max ? 1.0 - 1.0 / eta : 1.0 / eta;
    double pos = q * (double)(n - 1);
    int lo = (int)floor(pos);
    if (lo < 0) lo = 0;
    if (lo >= n - 1) return v[n - 1];
    double frac = pos - (double)lo;
    return v[lo] + frac * (v[lo + 1] - v[lo]);
}

/* the shortest text that reads back as x ("5", "2.5") */
static void number_text(double x, char *buf, size_t cap) {
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, cap, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

static void rung_dir(const eg_run_asha *a, double rung, char *buf, size_t cap) {
    char r[40];
    number_text(rung, r, sizeof r);
    snprintf(buf, cap, "%s/rung-%s", a->dir, r);
}

static int active(const eg_run_asha *a) {
    return a->cfg && a->cfg->on && a->dir[0];
}

void eg_run_asha_init(eg_run_asha *a, const eg_adaptive *cfg, const char *out_root, const char *experiment,
                      const char *run_id) {
    memset(a, 0, sizeof *a);
    if (!cfg || !cfg->on) return;
    a->cfg = cfg;
    snprintf(a->id, sizeof a->id, "%s", run_id);
    int n = snprintf(a->dir, sizeof a->dir, "%s/%s/adaptive/%s", out_root, experiment, cfg->metric);
    if (n < 0 || (size_t)n + 64 >= sizeof a->dir) a->dir[0] = 0; /* too long: no rung can be recorded */
    for (int i = 0; a->dir[0] && i < cfg->n_rungs; i++) {
        char dir[4200], path[4300];
        rung_dir(a, cfg->rungs[i], dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s", dir, a->id);
        unlink(path); /* an earlier attempt's value: this attempt records its own */
    }
}

/* write "<value> <step>\n" to rung_dir/<id> via a temporary file; 0 or -1 with err */
static int record(const eg_run_asha *a, const char *dir, double value, int64_t step, char *err, size_t cap) {
    if (eg_mkdirs(dir, err, cap) != 0) return -1;
    char path[4300], tmp[4400], line[96];
    snprintf(path, sizeof path, "%s/%s", dir, a->id);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int len = snprintf(line, sizeof line, "%.17g %lld\n", value, (long long)step);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, cap, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = write(fd, line, (size_t)len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) ok = 0, saved = errno;
    if (ok && rename(tmp, path) != 0) ok = 0, saved = errno;
    if (!ok) {
        unlink(tmp);
        snprintf(err, cap, "cannot write %s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

static int is_run_id(const char *name) {
    if (strlen(name) != 16) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* the finite values other runs recorded in dir (malloc'ed into *out); their count, or -1 */
static int peers(const eg_run_asha *a, const char *dir, double **out) {
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, cap = 0;
    double *v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_run_id(e->d_name) || !strcmp(e->d_name, a->id)) continue; /* temporary files, this run */
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        double x = NAN;
        if (f) {
            if (fscanf(f, "%lf", &x) != 1) x = NAN;
            fclose(f);
        }
        if (!isfinite(x)) continue; /* unreadable or removed meanwhile */
        if (n == cap) {
            int nc = cap ? 2 * cap : 64;
            double *g = realloc(v, (size_t)nc * sizeof *g);
            if (!g) {
                free(v);
                closedir(d);
                return -1;
            }
            v = g, cap = nc;
        }
        v[n++] = x;
    }
    closedir(d);
    *out = v;
    return n;
}

static const char *unit_of(const eg_run_asha *a) {
    return a->cfg->unit[0] ? a->cfg->unit : EG_ADAPTIVE_DEFAULT_UNIT;
}

/* "2/3" for eta 3 (goal max) */
static void quantile_text(const eg_adaptive *c, char *buf, size_t cap) {
    char e[40];
    number_text(c->eta, e, sizeof e);
    if (c->goal_max)
        snprintf(buf, cap, "1 - 1/%s", e);
    else
        snprintf(buf, cap, "1/%s", e);
}

void eg_run_asha_reason(const eg_run_asha *a, char *buf, size_t cap) {
    char r[40], q[64];
    number_text(a->rung, r, sizeof r);
    quantile_text(a->cfg, q, sizeof q);
    if (!isfinite(a->value))
        snprintf(buf, cap, "at %s %lld (rung %s): %s is %g", unit_of(a), (long long)a->step, r, a->cfg->metric,
                 a->value);
    else
        snprintf(buf, cap, "at %s %lld (rung %s): %s %.6g %s cutoff %.6g, the %s quantile of %d other run%s", unit_of(a),
                 (long long)a->step, r, a->cfg->metric, a->value, a->cfg->goal_max ? "<" : ">", a->cutoff, q, a->peers,
                 a->peers == 1 ? "" : "s");
}

/* append one line to the caller's log text */
static void say(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t cap, const char *fmt, ...) {
    size_t len = strlen(msg);
    if (len + 2 >= cap) return;
    if (len) msg[len++] = '\n', msg[len] = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + len, cap - len, fmt, ap);
    va_end(ap);
}

static int prune(eg_run_asha *a, double rung, int64_t step, double value, double cutoff, int n, char *msg,
                 size_t cap) {
    a->pruned = 1;
    a->rung = rung, a->step = step, a->value = value, a->cutoff = cutoff, a->peers = n;
    char why[600];
    eg_run_asha_reason(a, why, sizeof why);
    say(msg, cap, "adaptive: pruned %s", why);
    return 1;
}

int eg_run_asha_point(eg_run_asha *a, const char *name, int64_t step, double value, char *msg, size_t cap) {
    msg[0] = 0;
    if (!active(a) || a->pruned || strcmp(name, a->cfg->metric) != 0) return a->pruned;
    const eg_adaptive *c = a->cfg;
    a->seen = 1;
    /* a step may pass several rungs at once: each is decided in turn, the first prune ends it */
    while (a->next < c->n_rungs && (double)step >= c->rungs[a->next]) {
        double rung = c->rungs[a->next++];
        char dir[4200], err[4600], r[40];
        number_text(rung, r, sizeof r);
        if (!isfinite(value)) return prune(a, rung, step, value, NAN, 0, msg, cap);
        rung_dir(a, rung, dir, sizeof dir);
        if (record(a, dir, value, step, err, sizeof err) != 0) {
            if (!a->io_warned) say(msg, cap, "adaptive: warning: %s; the run goes on without being compared", err);
            a->io_warned = 1;
            continue;
        }
        double *vals = NULL;
        int n = peers(a, dir, &vals);
        double cutoff = n > 0 ? eg_asha_cutoff(vals, n, c->eta, c->goal_max, c->min_peers) : NAN;
        free(vals);
        if (n < 0) n = 0;
        if (!isnan(cutoff) && (c->goal_max ? value < cutoff : value > cutoff)) return prune(a, rung, step, value, cutoff, n, msg, cap);
        if (isnan(cutoff))
            say(msg, cap, "adaptive: rung %s at %s %lld: %s %.6g recorded; %d other run%s there (min_peers %d): goes on",
                       r, unit_of(a), (long long)step, c->metric, value, n, n == 1 ? "" : "s", c->min_peers);
        else
            say(msg, cap, "adaptive: rung %s at %s %lld: %s %.6g passes the cutoff %.6g of %d other run%s", r,
                       unit_of(a), (long long)step, c->metric, value, cutoff, n, n == 1 ? "" : "s");
    }
    return 0;
}

int eg_run_asha_unseen(const eg_run_asha *a, char *buf, size_t cap) {
    if (!active(a) || a->seen) return 0;
    snprintf(buf, cap,
             "adaptive: warning: the run never logged the series '%s' that sweep.adaptive.metric names, so it was "
             "compared at no rung and never pruned (check the name against the run's /series)",
             a->cfg->metric);
    return 1;
}

void eg_run_asha_attrs(const eg_run_asha *a, eg_record *rec) {
    if (!active(a) || !a->pruned) return;
    char why[600];
    eg_run_asha_reason(a, why, sizeof why);
    eg_record_attr_str(rec, "pruned", why);
    eg_record_attr_num(rec, "pruned_rung", a->rung);
    eg_record_attr_int(rec, "pruned_step", a->step);
    eg_record_attr_num(rec, "pruned_value", a->value);
    eg_record_attr_num(rec, "pruned_cutoff", a->cutoff);
    eg_record_attr_int(rec, "pruned_peers", a->peers);
}
