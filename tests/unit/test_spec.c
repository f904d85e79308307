/* test_spec.c — bad specs and bad overrides: each must be refused with
 * EG_ERR_SPEC (EG_ERR_IO for a missing file), no spec returned, and a message
 * naming the place (file:line:col, or the override) and what was expected. */
#include "test_spec_util.h"

/* the lines every case starts from (model = the schema fixture) */
#define HEAD "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n"

typedef struct bad_case {
    const char *name;
    const char *yaml;
    const char *ov[3];
    int n_ov;
    const char *frag[3];
} bad_case;

static const bad_case cases[] = {
    /* YAML syntax */
    {"b01.yaml", HEAD "params: {beta: [1, 2}\n", {0}, 0, {"b01.yaml:5:21: ", "YAML syntax error: "}},
    {"b02.yaml",
     HEAD "modle: x\n",
     {0},
     0,
     {"b02.yaml:5:1: modle: unknown top-level key 'modle'; did you mean 'model'?"}},
    {"b03.yaml",
     HEAD "params:\n  betta: 3\n",
     {0},
     0,
     {"b03.yaml:6:10: params.betta: unknown parameter 'betta' for model spec_model; did you mean 'beta'?"}},
    /* types */
    {"b04.yaml", HEAD "params: {beta: abc}\n", {0}, 0, {"b04.yaml:5:16: params.beta: expected a number, got 'abc'"}},
    {"b05.yaml", HEAD "params: {count: 2.5}\n", {0}, 0, {"b05.yaml:5:17: params.count: expected an integer, got 2.5"}},
    {"b06.yaml",
     HEAD "params: {count: 11}\n",
     {0},
     0,
     {"b06.yaml:5:17: params.count: 11 is out of range; expected in [1, 10]"}},
    {"b07.yaml",
     HEAD "params: {variant: mhcn}\n",
     {0},
     0,
     {"b07.yaml:5:19: params.variant: expected one of mchn, gmm, dense, got 'mhcn'; did you mean 'mchn'?"}},
    /* model and data */
    {"b08.yaml",
     "experiment: t\nmodel: nosuchmodel\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b08.yaml:2:8: model: cannot load model 'nosuchmodel': ", "no model plugin named 'nosuchmodel'"}},
    {"b09.yaml",
     "experiment: t\nmodel: $M\ndata: {source: fasion-mnist}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b09.yaml:3:16: data.source: unknown dataset 'fasion-mnist'; did you mean 'fashion-mnist'?"}},
    {"b10.yaml",
     "experiment: t\nmodel: $M\ndata: {source: fashion-mnist, split: val}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b10.yaml:3:38: data.split: ", "expected one of test, train, got 'val'"}},
    /* required keys */
    {"b11.yaml",
     "model: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b11.yaml: experiment: required"}},
    {"b12.yaml",
     "experiment: t\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b12.yaml: model: required"}},
    {"b13.yaml",
     "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {memories: 10}\n",
     {0},
     0,
     {"b13.yaml: task.kind: required", "model spec_model supports: retrieve"}},
    /* duplicate key, nested and dotted */
    {"b14.yaml",
     HEAD "params:\n  beta: 1\nparams.beta: 2\n",
     {0},
     0,
     {"b14.yaml:7:1: params.beta: set twice (first at ", "b14.yaml:6:3)"}},
    /* sweeps */
    {"b15.yaml",
     HEAD "sweep:\n  zip:\n    params.beta: [1, 2, 3]\n    params.sigma: [0.1, 0.2]\n",
     {0},
     0,
     {"b15.yaml:8:5: sweep.zip: params.beta has 3 values but params.sigma has 2"}},
    {"b16.yaml",
     HEAD "sweep: {grid: {params.beta: []}}\n",
     {0},
     0,
     {"b16.yaml:5:29: sweep.grid.params.beta: empty list; a sweep axis needs at least one value"}},
    {"b17.yaml",
     HEAD "sweep: {cases: []}\n",
     {0},
     0,
     {"b17.yaml:5:16: sweep.cases: empty list; a sweep axis needs at least one value"}},
    {"b18.yaml",
     HEAD "sweep: {gird: {params.beta: [1]}}\n",
     {0},
     0,
     {"b18.yaml:5:16: sweep.gird.params.beta: unknown sweep form 'gird'; did you mean 'grid'?"}},
    {"b19.yaml",
     HEAD "sweep: {grid: {params.betta: [1, 2]}}\n",
     {0},
     0,
     {"b19.yaml:5:31: params.betta: unknown parameter 'betta' for model spec_model; did you mean 'beta'?"}},
    /* cross-key rule of the retrieve task */
    {"b20.yaml",
     "experiment: t\nmodel: $M\ndata: {source: random-patterns}\n"
     "task: {kind: retrieve, memories: 5, queries: 10}\n",
     {0},
     0,
     {"b20.yaml:4:46: task.queries: 10 queries per block exceed task.memories = 5"}},
    /* overrides */
    {"b21.yaml", HEAD, {"params.beta"}, 1, {"<command line>: override 'params.beta': expected KEY=VALUE"}},
    {"b22.yaml", HEAD, {"=3"}, 1, {"<command line>: override '=3': empty key"}},
    {"b23.yaml",
     HEAD,
     {"params.beta=2", "params.betta=3"},
     2,
     {"<command line>: override 'params.betta=3': unknown parameter 'betta' for model spec_model; did you mean "
      "'beta'?"}},
    {"b24.yaml",
     "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: classify}\n",
     {0},
     0,
     {"b24.yaml:4:14: task.kind: task kind 'classify' is not supported by model spec_model (it supports: "
      "retrieve)"}},
    {"b26.yaml",
     HEAD "params: {flag: yes}\n",
     {0},
     0,
     {"b26.yaml:5:16: params.flag: expected true or false, got 'yes'"}},
    {"b27.yaml",
     "experiment: my exp\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b27.yaml:1:13: experiment: 'my exp' is not a valid name"}},
    {"b28.yaml",
     HEAD "sweep: {grid: {model: [a, b]}}\n",
     {0},
     0,
     {"b28.yaml:5:16: sweep.grid.model: 'model' cannot be swept"}},
    {"b29.yaml",
     HEAD "sweep: {grid: {params.beta: [1, 1.0]}}\n",
     {0},
     0,
     {"b29.yaml: sweep: runs 0 and 1 resolve to the same configuration"}},
    {"b30.yaml",
     "experiment: t\nmodel: $M\ndata: {source: fashion-mnist, pth: /x}\ntask: {kind: retrieve}\n",
     {0},
     0,
     {"b30.yaml:3:36: data.pth: unknown option 'pth' for dataset fashion-mnist; did you mean 'path'?"}},
    {"b31.yaml", HEAD "backend: gpu\n", {0}, 0, {"b31.yaml:5:10: backend: no backend plugin named 'gpu'"}},
    {"b32.yaml", HEAD, {"params.beta=[1,"}, 1, {"<command line>: override 'params.beta=[1,': YAML syntax error: "}},
    {"b33.yaml",
     HEAD "seed: 1\nseeds: [1, 2]\n",
     {0},
     0,
     {"b33.yaml:6:1: seeds: give either seed (one) or seeds (a list), not both"}},
    {"b34.yaml", HEAD "timeout: -1\n", {0}, 0, {"b34.yaml:5:10: timeout: -1 is out of range; expected >= 0"}},
    {"b35.yaml",
     "experiment: t\nmodel: $M\ndata: {source: random-patterns}\ntask: {kind: retrieve, memorys: 10}\n",
     {0},
     0,
     {"b35.yaml:4:33: task.memorys: unknown option 'memorys' for task retrieve of model spec_model; did you mean "
      "'memories'?"}},
    {"b36.yaml", HEAD "params: {dims: [1, x]}\n", {0}, 0, {"b36.yaml:5:20: params.dims: expected integers, got 'x'"}},
    {"b37.yaml",
     HEAD "sweep:\n  cases:\n    - {params.variant: gmm}\n    - {params.betta: 2}\n",
     {0},
     0,
     {"b37.yaml:8:22: params.betta: unknown parameter 'betta'"}},
    {"b38.yaml",
     HEAD "sweep: {grid: {params.beta: [1, abc]}}\n",
     {0},
     0,
     {"b38.yaml:5:33: params.beta: expected a number, got 'abc'"}},
    {"b39.yaml",
     HEAD "sweep: {grid: {params.beta: 3}}\n",
     {0},
     0,
     {"b39.yaml:5:29: sweep.grid.params.beta: expected a list of values"}},
    {"b40.yaml", "- a\n- b\n", {0}, 0, {"b40.yaml:1:1: the spec must be a mapping"}},
    {"b41.yaml", "", {0}, 0, {"b41.yaml:1:1: the spec is empty"}},
    {"b42.yaml",
     HEAD,
     {"sweep.cases=[{params.count: 0}]"},
     1,
     {"<command line>: override 'sweep.cases=[{params.count: 0}]': params.count: 0 is out of range; expected in "
      "[1, 10]"}},
    {"b43.yaml", "experiment: t\nmodel: $M\ntask: {kind: retrieve}\n", {0}, 0, {"b43.yaml: data.source: required"}},
    {"b44.yaml",
     HEAD,
     {"params..beta=3"},
     1,
     {"<command line>: override 'params..beta=3': malformed key 'params..beta'"}},
    {"b45.yaml", HEAD "params: 3\n", {0}, 0, {"b45.yaml:5:9: params: expected a mapping of keys to values"}},
    {"b46.yaml", HEAD "params: {beta: 0}\n", {0}, 0, {"b46.yaml:5:16: params.beta: 0 is out of range; expected > 0"}},
    {"b47.yaml", HEAD "params: {weights: [a]}\n", {0}, 0, {"b47.yaml:5:20: params.weights: expected numbers, got 'a'"}},
    {"b48.yaml",
     HEAD,
     {"paramz.beta=3"},
     1,
     {"<command line>: override 'paramz.beta=3': unknown top-level key 'paramz'; did you mean 'params'?"}},
    {"b49.yaml",
     HEAD "params: {vae: {latentt: 3}}\n",
     {0},
     0,
     {"b49.yaml:5:25: params.vae.latentt: unknown parameter 'vae.latentt' for model spec_model; did you mean "
      "'vae.latent'?"}},
    {"b50.yaml", HEAD "seeds: []\n", {0}, 0, {"b50.yaml:5:8: seeds: empty list"}},
};

int main(void) {
    if (spec_setup() != 0) return eg_test_finish() + 1;
    int n = (int)(sizeof cases / sizeof *cases);
    for (int i = 0; i < n; i++) {
        const bad_case *c = &cases[i];
        char err[4096] = "";
        eg_spec *s = (eg_spec *)0x1;
        eg_status st = spec_load_text(c->name, c->yaml, c->ov, c->n_ov, &s, err, sizeof err);
        CHECK_MSG(st == EG_ERR_SPEC, "%s: status %d, err '%s'", c->name, st, err);
        CHECK_MSG(s == NULL, "%s: a spec was returned", c->name);
        for (int j = 0; j < 3 && c->frag[j]; j++)
            CHECK_STR_CONTAINS(err, c->frag[j]);
        if (s && s != (eg_spec *)0x1) eg_spec_free(s);
    }

    /* a missing file is an I/O error naming the file and errno's text */
    char err[1024] = "", path[700];
    eg_spec *s = NULL;
    snprintf(path, sizeof path, "%s/nope.yaml", spec_dir);
    CHECK(eg_spec_load(path, NULL, 0, &s, err, sizeof err) == EG_ERR_IO);
    CHECK(s == NULL);
    CHECK_STR_CONTAINS(err, "cannot read spec '");
    CHECK_STR_CONTAINS(err, "nope.yaml': No such file or directory");
    /* so is a directory */
    CHECK(eg_spec_load(spec_dir, NULL, 0, &s, err, sizeof err) == EG_ERR_IO);
    CHECK_STR_CONTAINS(err, "Is a directory");

    /* the good base loads: the bad cases fail for their own reason */
    CHECK(spec_load_text("good.yaml", HEAD, NULL, 0, &s, err, sizeof err) == EG_OK);
    if (s) {
        CHECK(s->n_runs == 1);
        eg_spec_free(s);
    } else
        fprintf(stderr, "good.yaml: %s\n", err);

    spec_cleanup();
    return eg_test_finish();
}
