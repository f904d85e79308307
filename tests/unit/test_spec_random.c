/* test_spec_random.c — the command-line multirun rewrite (spec_multirun_rewrite: the
 * exact spec text each Hydra form stands for, plain overrides left alone) and random
 * search goldens: the first samples of each distribution for sweep.random.seed 0, which
 * pin the documented Philox mapping (tests/cli/spec_random.py recomputes them in
 * Python), the redraw of a repeated sample, and the run limit counting the samples. */
#include "test_spec_util.h" /* first: it defines _GNU_SOURCE */

#include "spec/spec_internal.h"

#define HEAD "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"

static const char *const golden_rewrites[][2] = {
    {"params.beta=1,2,3", "sweep.grid.params.beta=[1, 2, 3]"},
    {"params.beta= 1 , 2 ", "sweep.grid.params.beta=[1, 2]"},
    {"params.label='x,y',z", "sweep.grid.params.label=['x,y', z]"},
    {"params.label=\"x,y\",z", "sweep.grid.params.label=[\"x,y\", z]"},
    {"params.label=a\\,b,c", "sweep.grid.params.label=['a,b', c]"},
    {"params.label=a\\,b", "params.label='a,b'"},
    {"params.label=it's\\,ok", "params.label='it''s,ok'"},
    {"params.dims=[1,2],[3]", "sweep.grid.params.dims=[[1,2], [3]]"},
    {"params.count=range(1,7,2)", "sweep.grid.params.count=[1, 3, 5]"},
    {"params.count=range(3)", "sweep.grid.params.count=[0, 1, 2]"},
    {"params.count=range(3,0,-1)", "sweep.grid.params.count=[3, 2, 1]"},
    {"params.count=range(1, stop=4)", "sweep.grid.params.count=[1, 2, 3]"},
    {"params.sigma=range(0,1,0.25)", "sweep.grid.params.sigma=[0.0, 0.25, 0.5, 0.75]"},
    {"params.sigma=range(0.5,2.5)", "sweep.grid.params.sigma=[0.5, 1.5]"},
    {"params.sigma=range(0,0.3,0.1)", "sweep.grid.params.sigma=[0.0, 0.1, 0.2]"},
    {"params.variant=choice(mchn, 'g,mm')", "sweep.grid.params.variant=[mchn, 'g,mm']"},
    {"params.beta=uniform(0.1, 1)", "sweep.random.space.params.beta={uniform: [0.1, 1]}"},
    {"params.beta=interval(0,1)", "sweep.random.space.params.beta={uniform: [0, 1]}"},
    {"params.beta=loguniform(1e-3,10)", "sweep.random.space.params.beta={loguniform: [1e-3, 10]}"},
    {"params.count=randint(1,5)", "sweep.random.space.params.count={randint: [1, 5]}"},
    {"params.beta=normal(0,1)", "sweep.random.space.params.beta={normal: [0, 1]}"},
    {"params.beta=quniform(0,1,0.1)", "sweep.random.space.params.beta={quniform: [0, 1, 0.1]}"},
    {"seed=0,1,2", "seeds=[0, 1, 2]"},
    {"seeds=range(2)", "seeds=[0, 1]"},
    {"+params.beta=2", "params.beta=2"},
    {"++params.beta=1,2", "sweep.grid.params.beta=[1, 2]"},
    {"~params.beta", "params.beta="},
    {"~params.beta=", "params.beta="},
};

/* overrides that are not a sweep: no rewrite */
static const char *const plain[] = {
    "params.beta=2", "params.dims=[1, 2]", "task.corrupt={kind: mask, size: 10}", "params.label='a,b'",
    "params.label=\"a,b\"", "params.label=f (x)", "params.label=a)b", "params.beta=", "params.beta",
    "sweep.grid.params.beta=[1,2]", "params.dims=[1,2", "params.label=it's",
};

static void test_rewrites(void) {
    char err[1024];
    for (size_t k = 0; k < sizeof golden_rewrites / sizeof *golden_rewrites; k++) {
        const char *arg = golden_rewrites[k][0];
        spec_ctx ctx = {.path = "t.yaml", .overrides = &arg, .n_overrides = 1, .err = err, .cap = sizeof err};
        char *out = NULL;
        err[0] = 0;
        eg_status st = spec_multirun_rewrite(&ctx, 0, arg, &out);
        CHECK_MSG(st == EG_OK && out && !strcmp(out, golden_rewrites[k][1]), "%s -> %s (want %s) %s", arg,
                  out ? out : "(none)", golden_rewrites[k][1], err);
        free(out);
    }
    for (size_t k = 0; k < sizeof plain / sizeof *plain; k++) {
        const char *arg = plain[k];
        spec_ctx ctx = {.path = "t.yaml", .overrides = &arg, .n_overrides = 1, .err = err, .cap = sizeof err};
        char *out = NULL;
        eg_status st = spec_multirun_rewrite(&ctx, 0, arg, &out);
        CHECK_MSG(st == EG_OK && !out, "%s stays a plain override (got %s)", arg, out ? out : "none");
        free(out);
    }
}

static eg_spec *load(const char *name, const char *text, const char *const *ov, int n_ov, char *err, size_t cap) {
    eg_spec *s = NULL;
    err[0] = 0;
    eg_status st = spec_load_text(name, text, ov, n_ov, &s, err, cap);
    return st == EG_OK ? s : NULL;
}

static void text_of(const eg_spec *s, int r, const char *key, char *buf, size_t cap) {
    eg_cfg_value_text(eg_run_plan_config(eg_spec_run(s, r)), key, buf, cap);
}

/* the first samples for sweep.random.seed 0: a change here changes every stored random-search run id */
static void test_goldens(void) {
    static const char spec[] = HEAD "sweep:\n  random:\n    n: 3\n    space:\n"
                                    "      params.sigma: {uniform: [0, 1]}\n"
                                    "      params.count: {randint: [1, 10]}\n"
                                    "      params.beta: {normal: [5, 1]}\n"
                                    "      params.weights: {quniform: [0, 1, 0.05]}\n"
                                    "      params.variant: {choice: [mchn, gmm, dense]}\n";
    static const char *const want[3][5] = {{"0.72011", "1", "3.62788", "[0.7]", NULL},
                                           {"0.28546", "7", "3.885", "[0.95]", NULL},
                                           {"0.178254", "3", "6.26943", "[0.25]", NULL}};
    static const char *const keys[] = {"params.sigma", "params.count", "params.beta", "params.weights"};
    char err[2048], got[128];
    eg_spec *s = load("golden.yaml", spec, NULL, 0, err, sizeof err);
    CHECK_MSG(s && eg_spec_run_count(s) == 3, "golden spec: %s", err);
    for (int r = 0; s && r < 3; r++)
        for (int k = 0; k < 4; k++) {
            text_of(s, r, keys[k], got, sizeof got);
            CHECK_MSG(!strcmp(got, want[r][k]), "sample %d %s = %s, want %s", r, keys[k], got, want[r][k]);
        }
    eg_spec_free(s);
}

static void test_redraw_and_limits(void) {
    char err[2048], got[64];
    eg_spec *s = load("perm.yaml", HEAD "sweep:\n  random:\n    n: 4\n    seed: 2\n    space:\n"
                                        "      params.count: {randint: [1, 4]}\n",
                      NULL, 0, err, sizeof err);
    int seen[5] = {0};
    for (int r = 0; s && r < 4; r++) {
        text_of(s, r, "params.count", got, sizeof got);
        int v = atoi(got);
        if (v >= 1 && v <= 4) seen[v]++;
    }
    CHECK_MSG(s && seen[1] == 1 && seen[2] == 1 && seen[3] == 1 && seen[4] == 1,
              "randint [1, 4] with n = 4 draws each value once (a repeat is drawn again): %s", err);
    eg_spec_free(s);
    const char *ov[] = {"seeds=[0, 1]"};
    s = load("big.yaml", HEAD "sweep:\n  random:\n    n: 100000\n    space:\n      params.beta: {uniform: [1, 2]}\n",
             ov, 1, err, sizeof err);
    CHECK_MSG(!s && strstr(err, "x 100000 random x 1 zip x 2 seeds"), "100000 samples x 2 seeds: %s", err);
    eg_spec_free(s);
}

int main(void) {
    if (spec_setup() != 0) return eg_test_finish() + 1;
    test_rewrites();
    test_goldens();
    test_redraw_and_limits();
    spec_cleanup();
    return eg_test_finish();
}
