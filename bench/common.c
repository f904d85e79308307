/* bench/common.c — options, timing, data, backend and PyTorch peer for the benchmarks. */
#include "core/core_internal.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry/loader.h"

#ifndef BENCH_SOURCE_DIR
#define BENCH_SOURCE_DIR "bench"
#endif

static void usage(FILE *f, const char *name, const char *what) {
    fprintf(f,
            "usage: %s [--seconds S] [--threads T] [--backend NAME] [--only CASE,...] [--no-peer]\n"
            "%s\n"
            "  --seconds S  target duration of each measurement (default 2, env BENCH_SECONDS)\n"
            "  --threads T  threads for engram's CPU backend, OpenBLAS and torch (default 2)\n"
            "  --backend NAME  engram backend to time: cpu (default) or cuda (env BENCH_BACKEND)\n"
            "  --only LIST  run only these cases (comma-separated names, as in the output)\n"
            "  --no-peer    skip the PyTorch peer\n"
            "env: BENCH_PYTHON (default /usr/bin/python3), BENCH_DIR (peer scripts, default %s)\n",
            name, what, BENCH_SOURCE_DIR);
}

int bench_parse(int argc, char **argv, const char *name, const char *what, bench_opts *o, int *status) {
    const char *env;
    o->seconds = 2.0;
    o->threads = 2;
    o->peer = 1;
    o->only = NULL;
    o->backend = (env = getenv("BENCH_BACKEND")) && *env ? env : "cpu";
    o->python = (env = getenv("BENCH_PYTHON")) && *env ? env : "/usr/bin/python3";
    o->dir = (env = getenv("BENCH_DIR")) && *env ? env : BENCH_SOURCE_DIR;
    if ((env = getenv("BENCH_SECONDS")) && *env) o->seconds = atof(env);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, name, what);
            *status = 0;
            return 1;
        } else if (!strcmp(a, "--no-peer")) {
            o->peer = 0;
        } else if (!strcmp(a, "--backend") && i + 1 < argc) {
            o->backend = argv[++i];
        } else if (!strcmp(a, "--only") && i + 1 < argc) {
            o->only = argv[++i];
        } else if ((!strcmp(a, "--seconds") || !strcmp(a, "--threads")) && i + 1 < argc) {
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || v <= 0) {
                fprintf(stderr, "%s: %s expects a positive number, got '%s'\n", name, a, argv[i]);
                *status = 2;
                return 1;
            }
            if (a[2] == 's') o->seconds = v;
            else o->threads = (int)v;
        } else {
            fprintf(stderr, "%s: unknown argument '%s'\n", name, a);
            usage(stderr, name, what);
            *status = 2;
            return 1;
        }
    }
    if (!(o->seconds > 0)) o->seconds = 2.0;
    return 0;
}

int bench_selected(const bench_opts *o, const char *name) {
    if (!o->only) return 1;
    size_t n = strlen(name);
    for (const char *s = o->only; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, name, n)) return 1;
        s += len;
        if (*s == ',') s++;
    }
    return 0;
}

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(bench_fn fn, void *arg, double seconds, int *reps, double *best) {
    double est = 0;
    for (int i = 0; i < 3; i++) { /* warm-up; the last call estimates one call's time */
        double t0 = bench_now();
        fn(arg);
        est = bench_now() - t0;
    }
    double nd = est > 0 ? seconds / est : 1e5;
    int n = nd < 5 ? 5 : nd > 1e5 ? 100000 : (int)nd;
    double *t = malloc(sizeof *t * (size_t)n);
    if (!t) return NAN;
    for (int i = 0; i < n; i++) {
        double t0 = bench_now();
        fn(arg);
        t[i] = bench_now() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    if (best) *best = t[0];
    free(t);
    if (reps) *reps = n;
    return med;
}

float bench_value(int64_t i, int64_t seed) {
    const int64_t p = 16777213; /* prime; every product below stays far inside int64 */
    int64_t t = i % p;
    int64_t v = ((t * t) % p * 7919 + t * 104729 + (seed + 1) * 1299709) % p;
    return (float)((double)v / (double)p);
}

void bench_fill(float *dst, int64_t n, int64_t seed) {
    for (int64_t i = 0; i < n; i++) dst[i] = bench_value(i, seed);
}

double bench_checksum(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}

void bench_result(const bench_opts *o, const char *case_name, double seconds) {
    printf("result: %s backend=%s seconds=%.6g\n", case_name, o->backend, seconds);
}

void bench_peer_print_info(const bench_peer *p) {
    char t[128], blas[512], env[256];
    bench_peer_str(p, "torch", t, sizeof t);
    bench_peer_str(p, "blas", blas, sizeof blas);
    bench_peer_str(p, "env", env, sizeof env);
    printf("# torch %s, %g threads, BLAS %s%s%s\n", t, bench_peer_num(p, "torch_threads"), blas, env[0] ? ", env " : "",
           env);
}

double bench_reldiff(double a, double b) {
    double d = fabs(b) > 1e-30 ? fabs(b) : 1e-30;
    return fabs(a - b) / d;
}

int bench_open(const bench_opts *o, eg_backend **backend, eg_ctx **ctx) {
    char err[512] = "";
    eg_status st = eg_backend_open_start(o->backend, o->threads, backend, err, sizeof err);
    if (st != EG_OK) {
        fprintf(stderr, "bench: cannot open the %s backend: %s (%s)\n", o->backend, err, eg_strerror(st));
        return 1;
    }
    st = eg_ctx_create(*backend, ctx);
    if (st != EG_OK) {
        fprintf(stderr, "bench: eg_ctx_create failed: %s\n", eg_strerror(st));
        eg_backend_close(*backend);
        return 1;
    }
    return 0;
}

void bench_close(eg_backend *backend, eg_ctx *ctx) {
    if (ctx) eg_ctx_destroy(ctx);
    if (backend) eg_backend_close(backend);
}

/* "model name" line of /proc/cpuinfo, or "unknown" */
static void cpu_model(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

void bench_print_env(const bench_opts *o, eg_ctx *ctx) {
    char cpu[256];
    struct utsname u;
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", localtime(&now));
    cpu_model(cpu, sizeof cpu);
    uname(&u);
    printf("# date: %s   host: %s %s\n", date, u.nodename, u.machine);
    printf("# cpu: %s, %ld online cores\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    if (ctx) {
        const eg_backend_desc *d = eg_ctx_backend_desc(ctx);
        printf("# engram backend: %s (%s)\n", d->name, d->device_name(eg_ctx_backend_instance(ctx)));
    }
    printf("# threads: %d   seconds per measurement: %g\n", o->threads, o->seconds);
    static const char *vars[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                 "OMP_NUM_THREADS",   "OMP_PROC_BIND",    "GOMP_SPINCOUNT"};
    printf("# env:");
    int any = 0;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v) {
            printf(" %s=%s", vars[i], v);
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " (no OPENBLAS_*/OMP_* variables set)");
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1) load = 0;
        fclose(f);
    }
    if (load > 0.5)
        printf("# WARNING: 1-minute load average %.2f before this benchmark: other processes compete for the\n"
               "#          cores, so figures are noisy (compare the 'best' columns, or rerun on a quiet machine)\n",
               load);
}

void bench_peer_run(const bench_opts *o, const char *script, const char *extra, bench_peer *p) {
    char cmd[2048];
    p->ok = 0;
    p->line[0] = 0;
    p->why[0] = 0;
    snprintf(cmd, sizeof cmd, "'%s' '%s/%s' --threads %d --seconds %g %s", o->python, o->dir, script, o->threads,
             o->seconds, extra ? extra : "");
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(p->why, sizeof p->why, "cannot run %.400s", cmd);
        return;
    }
    char line[sizeof p->line];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '{') {
            line[strcspn(line, "\n")] = 0;
            memcpy(p->line, line, sizeof line);
        } else {
            fputs("  [torch] ", stdout); /* the peer's own remarks pass through */
            fputs(line, stdout);
        }
    }
    int st = pclose(f);
    if (st != 0) {
        snprintf(p->why, sizeof p->why, "%.400s exited with status %d", cmd,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return;
    }
    if (!p->line[0]) {
        snprintf(p->why, sizeof p->why, "%.400s printed no JSON line", cmd);
        return;
    }
    char err[256];
    bench_peer_str(p, "error", err, sizeof err);
    if (err[0]) {
        snprintf(p->why, sizeof p->why, "peer: %s", err);
        return;
    }
    p->ok = 1;
}

/* pointer just past `"key":` (and spaces) in line, or NULL */
static const char *json_find(const char *line, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *s = strstr(line, pat);
    if (!s) return NULL;
    s += strlen(pat);
    while (*s == ' ') s++;
    return s;
}

double bench_peer_num(const bench_peer *p, const char *key) {
    const char *s = json_find(p->line, key);
    if (!s) return NAN;
    char *end;
    double v = strtod(s, &end);
    return end == s ? NAN : v;
}

void bench_peer_str(const bench_peer *p, const char *key, char *buf, size_t cap) {
    buf[0] = 0;
    const char *s = json_find(p->line, key);
    if (!s || *s != '"') return;
    s++;
    size_t n = 0;
    while (*s && *s != '"' && n + 1 < cap) {
        if (*s == '\\' && s[1]) s++;
        buf[n++] = *s++;
    }
    buf[n] = 0;
}
