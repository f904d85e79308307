/* test_spec_limits.c — the spec loader's limits and the structures that keep it
 * linear (docs/spec.md "Limits"): the hash maps, the event pre-scan (depth, alias
 * expansion), numbers that do not fit, the run-count product with its overflow,
 * seeds, many keys loaded in linear time, and run ids that the faster expansion
 * must leave unchanged. Each limit is tested at its value and one past it. */
#include <math.h>
#include <time.h>

#include "spec/spec_internal.h"
#include "test_spec_util.h"

#define HEAD "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a growable string */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s) {
    size_t len = strlen(s);
    if (b->n + len + 1 > b->cap) {
        b->cap = 2 * (b->n + len + 1);
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, len + 1);
    b->n += len;
}

static eg_status load(const char *name, const char *text, const char *const *ov, int n_ov, eg_spec **s, char *err) {
    *s = NULL;
    err[0] = 0;
    return spec_load_text(name, text, ov, n_ov, s, err, 4096);
}

static void test_map(void) {
    spec_map m = {0};
    char keys[5000][16];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "k.%d", i);
        CHECK(spec_map_put(&m, keys[i], i) == EG_OK);
    }
    int ok = 1;
    for (int i = 0; i < 5000; i++)
        ok &= spec_map_get(&m, keys[i]) == i;
    CHECK(ok);
    CHECK(spec_map_get(&m, "k.5000") == -1);
    CHECK(spec_map_getn(&m, "k.12xyz", 4) == 12);
    for (int i = 0; i < 5000; i += 2)
        spec_map_del(&m, keys[i]);
    ok = 1;
    for (int i = 0; i < 5000; i++)
        ok &= spec_map_get(&m, keys[i]) == (i % 2 ? i : -1);
    CHECK(ok);
    CHECK(m.live == 2500);
    CHECK(spec_map_put(&m, keys[0], 7) == EG_OK && spec_map_get(&m, keys[0]) == 7);
    spec_map_free(&m);

    spec_hcount c = {0};
    for (int i = 0; i < 1000; i++)
        CHECK(spec_hcount_add(&c, (uint64_t)i * 0x9e3779b97f4a7c15ull, 1) == EG_OK);
    CHECK(spec_hcount_add(&c, 5 * 0x9e3779b97f4a7c15ull, -1) == EG_OK);
    CHECK(spec_hcount_get(&c, 5 * 0x9e3779b97f4a7c15ull) == 0);
    CHECK(spec_hcount_get(&c, 6 * 0x9e3779b97f4a7c15ull) == 1);
    CHECK(spec_hcount_get(&c, 12345) == 0);
    spec_hcount_free(&c);
}

static void test_numbers(void) {
    CHECK(eg_scalar_overflow("1e400"));
    CHECK(eg_scalar_overflow("-1e400"));
    CHECK(eg_scalar_overflow("99999999999999999999"));
    CHECK(eg_scalar_overflow("-9223372036854775809"));
    CHECK(!eg_scalar_overflow("-9223372036854775808"));
    CHECK(!eg_scalar_overflow("9223372036854775807"));
    CHECK(eg_scalar_overflow("0xffffffffffffffffff"));
    CHECK(!eg_scalar_overflow("1e-400")); /* rounds to 0 */
    CHECK(!eg_scalar_overflow(".inf"));
    CHECK(!eg_scalar_overflow("1e308"));
    CHECK(!eg_scalar_overflow("abc"));
}

static void test_prescan(void) {
    char err[4096];
    spec_ctx ctx = {"x.yaml", NULL, 0, err, sizeof err, NULL, NULL, NULL};
    buf b = {0};
    /* 64 levels pass, 65 do not */
    for (int i = 0; i < 64; i++)
        put(&b, "[");
    for (int i = 0; i < 64; i++)
        put(&b, "]");
    CHECK(spec_prescan(&ctx, b.p, b.n, "x.yaml", 0) == EG_OK);
    b.n = 0;
    for (int i = 0; i < 65; i++)
        put(&b, "[");
    for (int i = 0; i < 65; i++)
        put(&b, "]");
    err[0] = 0;
    CHECK(spec_prescan(&ctx, b.p, b.n, "x.yaml", 0) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "x.yaml:1:65: nested deeper than 64 levels");
    /* an alias to a deep anchor counts its depth where it is used */
    b.n = 0;
    put(&b, "a: &a ");
    for (int i = 0; i < 40; i++)
        put(&b, "[");
    for (int i = 0; i < 40; i++)
        put(&b, "]");
    put(&b, "\nb: ");
    for (int i = 0; i < 30; i++)
        put(&b, "[");
    put(&b, "*a");
    for (int i = 0; i < 30; i++)
        put(&b, "]");
    put(&b, "\n");
    err[0] = 0;
    CHECK(spec_prescan(&ctx, b.p, b.n, "x.yaml", 0) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "alias *a nests deeper than 64 levels");
    /* billion laughs: 10^9 nodes in 10 lines, refused at once */
    const char *laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                         "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                         "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    double t0 = now_s();
    err[0] = 0;
    CHECK(spec_prescan(&ctx, laughs, strlen(laughs), "x.yaml", 0) == EG_ERR_SPEC);
    CHECK(now_s() - t0 < 1.0);
    CHECK_STR_CONTAINS(err, "x.yaml:6:36: ");
    CHECK_STR_CONTAINS(err, "more than 1000000 YAML nodes");
    /* an override's position is its argument */
    err[0] = 0;
    b.n = 0;
    put(&b, "params.x=");
    for (int i = 0; i < 100; i++)
        put(&b, "[");
    const char *ov[1] = {b.p};
    spec_ctx octx = {"x.yaml", ov, 1, err, sizeof err, NULL, NULL, NULL};
    CHECK(spec_prescan(&octx, ov[0] + 9, strlen(ov[0] + 9), eg_spec_cmdline, 1) == EG_ERR_SPEC);
    CHECK_STR_CONTAINS(err, "<command line>: override 'params.x=[[[");
    free(b.p);
}

static void test_cfg_build(void) {
    const char *keys[3] = {"a", "b.c", "d"};
    eg_value v[3] = {{0}};
    for (int i = 0; i < 3; i++)
        CHECK(eg_scalar_resolve(i == 1 ? "2.5" : "x", 0, &v[i]) == EG_OK);
    const eg_value *vp[3] = {&v[0], &v[1], &v[2]};
    eg_cfg c;
    CHECK(eg_cfg_from_sorted(&c, keys, vp, 3) == EG_OK);
    CHECK(c.n == 3 && c.cap == 3);
    CHECK(eg_cfg_get(&c, "b.c") && eg_cfg_get(&c, "b.c")->f == 2.5);
    CHECK(eg_cfg_set(&c, "e", &v[0]) == EG_OK && c.cap > c.n);
    eg_cfg_shrink(&c);
    CHECK(c.cap == c.n && c.n == 4 && eg_cfg_get(&c, "e"));
    eg_cfg_free(&c);
    for (int i = 0; i < 3; i++)
        eg_value_free(&v[i]);
}

/* a grid with `axes` axes of `len` values each */
static char *grid_spec(int axes, int len, const char *extra) {
    buf b = {0};
    put(&b, HEAD);
    put(&b, extra ? extra : "");
    put(&b, "sweep:\n  grid:\n");
    char line[64];
    for (int a = 0; a < axes; a++) {
        snprintf(line, sizeof line, "    params.w%d: [", a);
        put(&b, line);
        for (int i = 0; i < len; i++) {
            snprintf(line, sizeof line, "%s%d", i ? ", " : "", i);
            put(&b, line);
        }
        put(&b, "]\n");
    }
    return b.p;
}

static void test_runs(void) {
    char err[4096];
    eg_spec *s;
    /* 2^64 and 10^19 runs: refused, no wrap-around (params.w* are unknown: never reached) */
    char *t = grid_spec(64, 2, NULL);
    CHECK(load("r64.yaml", t, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "r64.yaml: sweep: expands to more than 100000 runs");
    free(t);
    t = grid_spec(19, 10, NULL);
    CHECK(load("r19.yaml", t, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "expands to more than 100000 runs (1 cases x more than 100000 grid");
    free(t);
    /* grid x seeds past the limit, each factor under it */
    buf b = {0};
    put(&b, HEAD "seeds: [");
    char num[32];
    for (int i = 0; i < 1001; i++) {
        snprintf(num, sizeof num, "%s%d", i ? ", " : "", i);
        put(&b, num);
    }
    put(&b, "]\nsweep: {grid: {params.beta: [");
    for (int i = 0; i < 100; i++) {
        snprintf(num, sizeof num, "%s%d", i ? ", " : "", i + 1);
        put(&b, num);
    }
    put(&b, "]}}\n");
    CHECK(load("r100100.yaml", b.p, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "(1 cases x 100 grid x 1 zip x 1001 seeds)");
    /* exactly the limit: 1000 seeds x 100 betas */
    b.n = 0;
    put(&b, HEAD "seeds: [");
    for (int i = 0; i < 1000; i++) {
        snprintf(num, sizeof num, "%s%d", i ? ", " : "", i);
        put(&b, num);
    }
    put(&b, "]\nsweep: {grid: {params.beta: [");
    for (int i = 0; i < 100; i++) {
        snprintf(num, sizeof num, "%s%d", i ? ", " : "", i + 1);
        put(&b, num);
    }
    put(&b, "]}}\n");
    double t0 = now_s();
    eg_status st = load("r100000.yaml", b.p, NULL, 0, &s, err);
    double dt = now_s() - t0;
    CHECK_MSG(st == EG_OK, "%s", err);
    if (s) {
        CHECK(eg_spec_run_count(s) == 100000);
        CHECK(s->n_swept == 2 && !strcmp(s->swept_keys[0], "params.beta") && !strcmp(s->swept_keys[1], "seed"));
        CHECK(run_num(s, 99999, "params.beta") == 100.0 && run_num(s, 99999, "seed") == 999.0);
        CHECK(s->runs[5].cfg.n == s->runs[5].cfg.cap); /* shrunk */
        eg_spec_free(s);
    }
    fprintf(stderr, "100000 runs loaded in %.2f s\n", dt);
    CHECK(dt < 120.0); /* seconds in a release build; sanitizers are slower */
    /* 100 001 seeds: refused before any duplicate search */
    b.n = 0;
    put(&b, HEAD "seeds: [");
    for (int i = 0; i < 100001; i++) {
        snprintf(num, sizeof num, "%s%d", i ? ", " : "", i % 50000);
        put(&b, num);
    }
    put(&b, "]\n");
    CHECK(load("s100001.yaml", b.p, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "s100001.yaml:5:8: seeds: 100001 seeds; a spec expands to at most 100000 runs");
    /* duplicates found by sorting, reported at the first repeat in the order written */
    CHECK(load("sdup.yaml", HEAD "seeds: [5, 3, 9, 3, 5]\n", NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "sdup.yaml:5:18: seeds: seed 3 is listed twice");
    free(b.p);
}

static void test_keys(void) {
    char err[4096];
    eg_spec *s;
    /* 100 000 keys load (and are refused as unknown parameters) in linear time; one more is too many */
    buf b = {0};
    put(&b, HEAD "params:\n");
    char line[64];
    for (int i = 0; i < 100000 - 4; i++) { /* HEAD has 4 keys */
        snprintf(line, sizeof line, "  k%d: 1\n", (i * 7919) % 100000);
        put(&b, line);
    }
    double t0 = now_s();
    CHECK(load("k100000.yaml", b.p, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    double dt = now_s() - t0;
    CHECK_STR_CONTAINS(err, "unknown parameter");
    fprintf(stderr, "100000 keys loaded in %.2f s\n", dt);
    CHECK(dt < 60.0);
    put(&b, "  one_more: 1\n");
    CHECK(load("k100001.yaml", b.p, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "k100001.yaml:100002:3: params.one_more: more than 100000 keys");
    /* an override that removes a big mapping in one pass, then sets a key in it */
    const char *ov[2] = {"params=null", "params={beta: 2}"};
    t0 = now_s();
    b.n = 0;
    put(&b, HEAD "params:\n");
    for (int i = 0; i < 50000; i++) {
        snprintf(line, sizeof line, "  k%d: {x: 1}\n", i);
        put(&b, line);
    }
    CHECK_MSG(load("kov.yaml", b.p, ov, 2, &s, err) == EG_OK, "%s", err);
    CHECK(now_s() - t0 < 60.0);
    if (s) {
        CHECK(run_num(s, 0, "params.beta") == 2.0);
        eg_spec_free(s);
    }
    /* overrides: the same key replaced in place, a parent replaced by a child and back */
    const char *ov2[4] = {"params.vae.latent=5", "params.vae=null", "params.vae.hidden=7", "seed=3"};
    CHECK(load("kov2.yaml", HEAD "seeds: [1, 2]\nparams: {vae: {latent: 4}, beta: 3}\n", ov2, 4, &s, err) == EG_OK);
    if (s) {
        CHECK(eg_spec_run_count(s) == 1);
        CHECK(run_num(s, 0, "params.vae.latent") == 16.0); /* back to its default */
        CHECK(run_num(s, 0, "params.vae.hidden") == 7.0);
        CHECK(run_num(s, 0, "params.beta") == 3.0);
        CHECK(run_num(s, 0, "seed") == 3.0);
        eg_spec_free(s);
    }
    /* a key too long, too deep by dots */
    b.n = 0;
    put(&b, "params.");
    for (int i = 0; i < 70; i++)
        put(&b, "a.");
    put(&b, "b=1");
    const char *ov3[1] = {b.p};
    CHECK(load("kdeep.yaml", HEAD, ov3, 1, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "is more than 64 dotted names deep");
    free(b.p);
}

static void test_values(void) {
    char err[4096];
    eg_spec *s;
    struct {
        const char *name, *yaml, *frag;
    } bad[] = {
        {"v1.yaml", HEAD "params: {beta: 1e400}\n", "v1.yaml:5:16: params.beta: number 1e400 is out of range"},
        {"v2.yaml", HEAD "params: {beta: -1e400}\n", "v2.yaml:5:16: params.beta: number -1e400 is out of range"},
        {"v3.yaml", HEAD "params: {count: 99999999999999999999}\n", "v3.yaml:5:17: params.count: number 9999"},
        {"v4.yaml", HEAD "params: {beta: .inf}\n",
         "v4.yaml:5:16: params.beta: .inf is infinite; expected a finite "
         "number > 0"},
        {"v5.yaml", "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve, probe: .inf}\n",
         "task.probe: .inf is infinite; expected a finite "
         "number >= 0"},
        {"v6.yaml", HEAD "params: {sigma: .nan}\n", "v6.yaml:5:17: params.sigma: .nan is not a number"},
        {"v7.yaml", HEAD "params: {label: \"a\\0b\"}\n", "v7.yaml:5:17: params.label: a value cannot contain a NUL"},
        {"v8.yaml", HEAD "params: {\"be\\0ta\": 1}\n", "v8.yaml:5:10: params: a key cannot contain a NUL"},
        {"v9.yaml", HEAD "params: {dims: [2, 1e999]}\n", "v9.yaml:5:20: params.dims: number 1e999 is out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(load(bad[i].name, bad[i].yaml, NULL, 0, &s, err) == EG_ERR_SPEC && !s, "%s: %s", bad[i].name, err);
        CHECK_STR_CONTAINS(err, bad[i].frag);
    }
    /* an unranged float takes infinity when written so */
    CHECK(load("vok.yaml", HEAD "params: {weights: [.inf, -.inf, 1e-400]}\n", NULL, 0, &s, err) == EG_OK);
    if (s) {
        const eg_value *w = eg_cfg_get(&s->runs[0].cfg, "params.weights");
        CHECK(w && w->n_items == 3 && isinf(w->items[0].f) && w->items[2].f == 0.0);
        eg_spec_free(s);
    }
    /* experiment names: 100 characters pass, 101 do not */
    char name[256], text[1024];
    memset(name, 'x', 101);
    name[101] = 0;
    snprintf(text, sizeof text, "experiment: %s\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
             name);
    CHECK(load("n101.yaml", text, NULL, 0, &s, err) == EG_ERR_SPEC && !s);
    CHECK_STR_CONTAINS(err, "n101.yaml:1:13: experiment: 'xxxx");
    CHECK_STR_CONTAINS(err, "at most 100 characters");
    name[100] = 0;
    snprintf(text, sizeof text, "experiment: %s\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
             name);
    CHECK(load("n100.yaml", text, NULL, 0, &s, err) == EG_OK);
    eg_spec_free(s);
}

/* the canonical text of a float (in every run id) is the shortest that reads back: the
 * faster search gives what trying 1..17 digits in turn gave */
static void test_float_text(void) {
    uint64_t x = 0x243f6a8885a308d3ull;
    int same = 1, n = 0;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double f;
        if (i % 3 == 0) {
            memcpy(&f, &x, sizeof f); /* any bit pattern */
            if (!isfinite(f)) continue;
        } else if (i % 3 == 1)
            f = (double)(x % 100000) / 1000.0; /* short decimals */
        else
            f = ldexp((double)(x >> 11), (int)(x % 200) - 100);
        char ref[40], got[64];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(ref, sizeof ref, "%.*g", prec, f);
            if (strtod(ref, NULL) == f) break;
        }
        eg_value v = {0};
        v.kind = EG_VAL_FLOAT;
        v.f = f;
        eg_value_canonical(&v, got, sizeof got);
        /* canonical adds ".0" where %g has no '.' (before the exponent) */
        char want[48];
        const char *e = strchr(ref, 'e');
        if (strchr(ref, '.'))
            snprintf(want, sizeof want, "%s", ref);
        else if (e)
            snprintf(want, sizeof want, "%.*s.0%s", (int)(e - ref), ref, e);
        else
            snprintf(want, sizeof want, "%s.0", ref);
        if (strcmp(got, want) != 0 && same) fprintf(stderr, "%.17g: %s, expected %s\n", f, got, want);
        same &= strcmp(got, want) == 0;
        n++;
    }
    CHECK_MSG(same, "float texts differ");
    CHECK(n > 250000);
}

/* ids are a contract (results are found by them): the faster expansion keeps them */
static void test_ids(void) {
    char err[4096];
    eg_spec *s;
    CHECK(load("id.yaml",
               HEAD "seeds: [0, 1]\nsweep: {grid: {params.beta: [1, 2.5]}, cases: [{params.variant: gmm}, "
                    "{params.vae.latent: 3}]}\n",
               NULL, 0, &s, err) == EG_OK);
    if (!s) return;
    CHECK(eg_spec_run_count(s) == 8);
    for (int r = 0; r < s->n_runs; r++) {
        char id[17];
        eg_spec_run_id(&s->runs[r].cfg, "spec_model", id);
        CHECK_MSG(!strcmp(id, s->runs[r].id), "run %d: %s vs %s", r, id, s->runs[r].id);
    }
    CHECK(s->n_swept == 4);
    CHECK(!strcmp(s->swept_keys[0], "params.beta") && !strcmp(s->swept_keys[1], "params.vae.latent") &&
          !strcmp(s->swept_keys[2], "params.variant") && !strcmp(s->swept_keys[3], "seed"));
    CHECK(!strcmp(run_str(s, 7, "params.variant"), "mchn") && run_num(s, 7, "params.vae.latent") == 3.0);
    eg_spec_free(s);
    /* the minimal spec's id, as every release since run ids were introduced computes it */
    CHECK(load("id0.yaml", HEAD, NULL, 0, &s, err) == EG_OK);
    if (s) {
        CHECK_MSG(!strcmp(s->runs[0].id, "0a12c2c7842904ef"), "id %s", s->runs[0].id);
        eg_spec_free(s);
    }
}

int main(void) {
    if (spec_setup() != 0) return eg_test_skip("the spec_model fixture plugin is not built");
    test_map();
    test_numbers();
    test_prescan();
    test_cfg_build();
    test_runs();
    test_keys();
    test_values();
    test_float_text();
    test_ids();
    spec_cleanup();
    return eg_test_finish();
}
