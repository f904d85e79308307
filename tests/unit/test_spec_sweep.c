/* test_spec_sweep.c — sweep expansion (count and order), resolved configs
 * (defaults, normalised types), run-id goldens and their invariance under
 * nesting / dotted keys / key order / 1 vs 1.0, overrides, swept keys. */
#include "test_spec_util.h"

/* Regression goldens: ids of runs 0, 1 and 23 of golden_spec and of the
 * invariance spec (first computed by this code and cross-checked with Python's
 * hashlib on the canonical text). A resolved run holds every schema key, so
 * these change when a default or a key of the fixture, the retrieve task or the
 * random-patterns source changes, or when the canonical form changes: then
 * every stored run id changes too, which is what they guard. */
#define GOLDEN_ID_0 "d6e254d2f6818b7b"
#define GOLDEN_ID_1 "9853c01161953bcc"
#define GOLDEN_ID_23 "68ac19573965c19e"
#define GOLDEN_ID_A "742355676544f411"

#define HEAD "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"

static eg_spec *load(const char *name, const char *text, const char *const *ov, int n_ov) {
    char err[4096] = "";
    eg_spec *s = NULL;
    eg_status st = spec_load_text(name, text, ov, n_ov, &s, err, sizeof err);
    CHECK_MSG(st == EG_OK && s, "%s: %s", name, err);
    return st == EG_OK ? s : NULL;
}

static const char *golden_spec = "experiment: golden\n"
                                 "model: $M\n"
                                 "seeds: [0, 1]\n"
                                 "data: {source: random-patterns, n: 20, dim: 8}\n"
                                 "params: {beta: 2}\n"
                                 "task: {kind: retrieve, memories: 10, queries: 2}\n"
                                 "sweep:\n"
                                 "  grid:\n"
                                 "    params.beta: [0.5, 1, 2]\n"
                                 "    task.corrupt.sigma: [0.1, 0.2]\n"
                                 "  cases:\n"
                                 "    - {params.variant: mchn}\n"
                                 "    - {params.variant: gmm, params.sigma: 1.5}\n";

static void test_order(void) {
    eg_spec *s = load("golden.yaml", golden_spec, NULL, 0);
    if (!s) return;
    /* 2 cases x (3 x 2 grid) x 2 seeds; index = ((case * 6 + grid) * 1 + zip) * 2 + seed,
     * grid index = beta * 2 + sigma (the last axis written varies fastest) */
    CHECK(s->n_runs == 24);
    const double betas[3] = {0.5, 1, 2}, sigmas[2] = {0.1, 0.2};
    const char *variants[2] = {"mchn", "gmm"};
    for (int r = 0; r < s->n_runs; r++) {
        int seed = r % 2, grid = (r / 2) % 6, c = r / 12;
        CHECK(s->runs[r].index == r);
        CHECK_MSG(!strcmp(run_str(s, r, "params.variant"), variants[c]), "run %d variant %s", r,
                  run_str(s, r, "params.variant"));
        CHECK_NEAR(run_num(s, r, "params.beta"), betas[grid / 2], 0, 0);
        CHECK_NEAR(run_num(s, r, "task.corrupt.sigma"), sigmas[grid % 2], 0, 0);
        CHECK_NEAR(run_num(s, r, "seed"), seed, 0, 0);
        CHECK_NEAR(run_num(s, r, "params.sigma"), c ? 1.5 : 0.5, 0, 0); /* the case's value, else the default */
    }
    /* a fully resolved run: every schema key, normalised types */
    const eg_cfg *c0 = &s->runs[0].cfg;
    /* 7 top-level + data (source + 5 options) + 11 params + task (kind + 10 built-in + 1 of the model) */
    CHECK_MSG(c0->n == 7 + 6 + 11 + 12, "resolved run has %d keys", c0->n);
    CHECK(eg_cfg_get(c0, "params.beta")->kind == EG_VAL_FLOAT);
    CHECK(eg_cfg_get(c0, "params.count")->kind == EG_VAL_INT && eg_cfg_get(c0, "params.count")->i == 3);
    CHECK(eg_cfg_get(c0, "params.file")->kind == EG_VAL_STRING && !strcmp(eg_cfg_get(c0, "params.file")->s, ""));
    CHECK(eg_cfg_get(c0, "params.dims")->kind == EG_VAL_LIST && eg_cfg_get(c0, "params.dims")->n_items == 2);
    CHECK(eg_cfg_get(c0, "params.weights")->items[0].kind == EG_VAL_FLOAT);
    CHECK(eg_cfg_get(c0, "params.flag")->kind == EG_VAL_BOOL);
    CHECK(eg_cfg_get(c0, "task.tolerance")->kind == EG_VAL_FLOAT && eg_cfg_get(c0, "task.tolerance")->f == 2.0);
    CHECK(!strcmp(eg_cfg_get(c0, "task.corrupt.kind")->s, "noise"));
    CHECK(eg_cfg_get(c0, "task.probe") != NULL);
    CHECK(!strcmp(eg_cfg_get(c0, "data.split")->s, "all"));
    CHECK(eg_cfg_get(c0, "data.n")->i == 20);
    CHECK(!strcmp(eg_cfg_get(c0, "backend")->s, "auto"));
    CHECK(!strcmp(eg_cfg_get(c0, "init_from")->s, ""));
    CHECK(eg_cfg_get(c0, "timeout")->kind == EG_VAL_FLOAT && eg_cfg_get(c0, "timeout")->f == 0);
    CHECK(eg_cfg_get(c0, "seeds") == NULL && eg_cfg_get(c0, "sweep.grid.params.beta") == NULL);
    CHECK(!strcmp(s->experiment, "golden"));
    /* positions survive: the grid value 0.5 was written at line 9, column 19 */
    const eg_value *b = eg_cfg_get(c0, "params.beta");
    CHECK_MSG(b->line == 9 && b->col == 19, "params.beta at %d:%d", b->line, b->col);
    CHECK(b->file && strstr(b->file, "golden.yaml"));
    /* swept keys, sorted */
    const char *want[] = {"params.beta", "params.sigma", "params.variant", "seed", "task.corrupt.sigma"};
    CHECK_MSG(s->n_swept == 5, "n_swept %d", s->n_swept);
    for (int i = 0; i < 5 && i < s->n_swept; i++)
        CHECK(!strcmp(s->swept_keys[i], want[i]));
    /* run ids: 16 hex, all distinct, and regression goldens */
    for (int r = 0; r < s->n_runs; r++) {
        CHECK(strlen(s->runs[r].id) == 16 && strspn(s->runs[r].id, "0123456789abcdef") == 16);
        for (int q = 0; q < r; q++)
            CHECK(strcmp(s->runs[r].id, s->runs[q].id) != 0);
    }
    printf("golden ids: %s %s %s\n", s->runs[0].id, s->runs[1].id, s->runs[23].id);
    CHECK(!strcmp(s->runs[0].id, GOLDEN_ID_0));
    CHECK(!strcmp(s->runs[1].id, GOLDEN_ID_1));
    CHECK(!strcmp(s->runs[23].id, GOLDEN_ID_23));
    /* the base keeps the spec as written, sweep included */
    CHECK(eg_cfg_get(&s->base, "sweep.grid.params.beta") != NULL);
    CHECK(eg_cfg_get(&s->base, "sweep.cases.2.params.sigma") != NULL);
    eg_spec_free(s);
}

/* one config written five ways: nested, dotted, reordered, 1 vs 1.0, defaults spelled out, overrides */
static void test_id_invariance(void) {
    const char *a = "experiment: a\n"
                    "model: $M\n"
                    "params:\n"
                    "  beta: 2\n"
                    "  vae:\n"
                    "    latent: 32\n"
                    "task:\n"
                    "  kind: retrieve\n"
                    "  corrupt: {kind: mask, size: 10}\n"
                    "data:\n"
                    "  source: random-patterns\n";
    const char *b = "task.corrupt.size: 10\n"
                    "data.source: random-patterns\n"
                    "params.vae.latent: 32\n"
                    "params.beta: 2.0\n"
                    "task: {corrupt.kind: mask, kind: retrieve}\n"
                    "experiment: b\n"
                    "description: experiment, description and timeout do not enter the id\n"
                    "timeout: 30\n"
                    "model: $M\n";
    const char *c = "experiment: c\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"
                    "params: {count: 3, variant: mchn, sigma: 0.5, weights: 0.5}\nseed: 0\nbackend: auto\n";
    const char *ov[] = {"params.vae.latent=32", "params.beta=2", "task.corrupt={kind: mask, size: 10}"};
    eg_spec *sa = load("ida.yaml", a, NULL, 0), *sb = load("idb.yaml", b, NULL, 0), *sc = load("idc.yaml", c, ov, 3);
    if (sa && sb && sc) {
        CHECK(sa->n_runs == 1 && sb->n_runs == 1 && sc->n_runs == 1);
        CHECK_MSG(!strcmp(sa->runs[0].id, sb->runs[0].id), "%s vs %s", sa->runs[0].id, sb->runs[0].id);
        CHECK_MSG(!strcmp(sa->runs[0].id, sc->runs[0].id), "%s vs %s", sa->runs[0].id, sc->runs[0].id);
        printf("invariant id: %s\n", sa->runs[0].id);
        CHECK(!strcmp(sa->runs[0].id, GOLDEN_ID_A));
        /* the resolved config as YAML loads back to the same id */
        char *yaml = eg_cfg_to_yaml(&sa->runs[0].cfg);
        CHECK(yaml != NULL);
        if (yaml) {
            /* the fixture is named by path in the spec; the YAML carries that path */
            FILE *f = fopen(spec_write("roundtrip.yaml", ""), "w");
            if (f) {
                fputs(yaml, f);
                fclose(f);
            }
            char err[2048] = "", path[700];
            eg_spec *sr = NULL;
            snprintf(path, sizeof path, "%s/roundtrip.yaml", spec_dir);
            CHECK_MSG(eg_spec_load(path, NULL, 0, &sr, err, sizeof err) == EG_OK, "%s\n%s", err, yaml);
            if (sr) {
                CHECK(!strcmp(sr->runs[0].id, sa->runs[0].id));
                eg_spec_free(sr);
            }
            free(yaml);
        }
    }
    /* an override that changes a value changes the id; one that restates it does not */
    const char *ov2[] = {"params.beta=4"};
    const char *ov3[] = {"params.beta=2.0", "description=other"};
    eg_spec *s2 = load("ida2.yaml", a, ov2, 1), *s3 = load("ida3.yaml", a, ov3, 2);
    if (sa && s2 && s3) {
        CHECK(eg_cfg_get(&s2->runs[0].cfg, "params.beta")->f == 4.0);
        CHECK(eg_cfg_get(&s2->runs[0].cfg, "params.beta")->kind == EG_VAL_FLOAT);
        CHECK(strcmp(s2->runs[0].id, sa->runs[0].id) != 0);
        CHECK(!strcmp(s3->runs[0].id, sa->runs[0].id));
        CHECK(!strcmp(eg_cfg_get(&s3->runs[0].cfg, "description")->s, "other"));
    }
    eg_spec_free(sa);
    eg_spec_free(sb);
    eg_spec_free(sc);
    eg_spec_free(s2);
    eg_spec_free(s3);
}

static void test_overrides(void) {
    /* seeds and a grid axis given on the command line */
    const char *ov[] = {"seeds=[3, 4]", "sweep.grid.params.beta=[1, 2, 4]"};
    eg_spec *s = load("ov1.yaml", HEAD "seed: 7\n", ov, 2);
    if (s) {
        CHECK(s->n_runs == 6);
        CHECK_NEAR(run_num(s, 0, "params.beta"), 1, 0, 0);
        CHECK_NEAR(run_num(s, 0, "seed"), 3, 0, 0);
        CHECK_NEAR(run_num(s, 1, "seed"), 4, 0, 0);
        CHECK_NEAR(run_num(s, 5, "params.beta"), 4, 0, 0);
        const eg_value *v = eg_cfg_get(&s->runs[0].cfg, "params.beta");
        CHECK(v->file && !strcmp(v->file, "<command line>") && v->line == 2);
        eg_spec_free(s);
    }
    /* an override replaces an axis of the file, keeping its place in the grid order */
    const char *ov2[] = {"sweep.grid.params.beta=[8]", "sweep.grid.params.count=", "params.sigma=1"};
    eg_spec *t = load("ov2.yaml",
                      HEAD "sweep:\n  grid:\n    params.beta: [1, 2]\n    params.count: [1, 2]\n"
                           "    params.variant: [mchn, gmm]\n",
                      ov2, 3);
    if (t) {
        CHECK(t->n_runs == 2); /* beta [8] x variant [mchn, gmm]; the count axis was removed */
        CHECK_NEAR(run_num(t, 1, "params.beta"), 8, 0, 0);
        CHECK(!strcmp(run_str(t, 1, "params.variant"), "gmm"));
        CHECK_NEAR(run_num(t, 0, "params.count"), 3, 0, 0);
        CHECK_NEAR(run_num(t, 0, "params.sigma"), 1, 0, 0);
        CHECK(t->n_swept == 1 && !strcmp(t->swept_keys[0], "params.variant"));
        eg_spec_free(t);
    }
    /* zip pairs values; cases given on the command line */
    const char *ov3[] = {"sweep.cases=[{params.flag: true}, {params.flag: false, data.n: 50}]"};
    eg_spec *z =
        load("zip.yaml", HEAD "sweep:\n  zip:\n    params.beta: [1, 2, 3]\n    params.count: [4, 5, 6]\n", ov3, 1);
    if (z) {
        CHECK(z->n_runs == 6);
        for (int r = 0; r < z->n_runs && r < 6; r++) {
            CHECK_NEAR(run_num(z, r, "params.beta"), 1 + r % 3, 0, 0);
            CHECK_NEAR(run_num(z, r, "params.count"), 4 + r % 3, 0, 0);
            CHECK(eg_cfg_get(&z->runs[r].cfg, "params.flag")->b == (r < 3));
            CHECK_NEAR(run_num(z, r, "data.n"), r < 3 ? 100 : 50, 0, 0);
        }
        eg_spec_free(z);
    }
}

int main(void) {
    if (spec_setup() != 0) return eg_test_finish() + 1;
    test_order();
    test_id_invariance();
    test_overrides();
    spec_cleanup();
    return eg_test_finish();
}
