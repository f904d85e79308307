/* test_cfg.c — the config map, value parsing and canonical text, the YAML
 * rendering, SHA-256 against FIPS 180-2 vectors, did-you-mean, task schemas. */
#include <stdlib.h>
#include <string.h>

#include "base/cfg.h"
#include "check.h"
#include "base/sha256.h"
#include "spec/spec.h"
#include "spec/task_kinds.h"

static void canon_is(const char *text, const char *want) {
    eg_value v;
    char buf[256] = "";
    CHECK_MSG(eg_value_parse(text, &v) == EG_OK, "parse '%s'", text);
    eg_value_canonical(&v, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, want), "canonical of '%s' is '%s', want '%s'", text, buf, want);
    eg_value_free(&v);
}

static void test_values(void) {
    eg_value v;
    CHECK(eg_value_parse("4", &v) == EG_OK && v.kind == EG_VAL_INT && v.i == 4 && v.f == 4.0 && !strcmp(v.s, "4"));
    eg_value_free(&v);
    CHECK(eg_value_parse("-1e-3", &v) == EG_OK && v.kind == EG_VAL_FLOAT && v.f == -1e-3);
    eg_value_free(&v);
    CHECK(eg_value_parse("true", &v) == EG_OK && v.kind == EG_VAL_BOOL && v.b == 1);
    eg_value_free(&v);
    CHECK(eg_value_parse("yes", &v) == EG_OK && v.kind == EG_VAL_STRING); /* YAML 1.2: only true/false */
    eg_value_free(&v);
    CHECK(eg_value_parse("'4'", &v) == EG_OK && v.kind == EG_VAL_STRING && !strcmp(v.s, "4"));
    eg_value_free(&v);
    CHECK(eg_value_parse("", &v) == EG_OK && v.kind == EG_VAL_NULL);
    eg_value_free(&v);
    CHECK(eg_value_parse("~", &v) == EG_OK && v.kind == EG_VAL_NULL);
    eg_value_free(&v);
    CHECK(eg_value_parse("0x10", &v) == EG_OK && v.kind == EG_VAL_INT && v.i == 16);
    eg_value_free(&v);
    CHECK(eg_value_parse("-.inf", &v) == EG_OK && v.kind == EG_VAL_FLOAT && v.f < -1e308);
    eg_value_free(&v);
    CHECK(eg_value_parse("[1, 2.5, x]", &v) == EG_OK && v.kind == EG_VAL_LIST && v.n_items == 3 &&
          v.items[0].kind == EG_VAL_INT && v.items[1].kind == EG_VAL_FLOAT && v.items[2].kind == EG_VAL_STRING);
    eg_value_free(&v);
    CHECK(eg_value_parse("a: b", &v) == EG_ERR_INVALID);
    CHECK(eg_value_parse("[1,", &v) == EG_ERR_INVALID);

    canon_is("1", "1");
    canon_is("1.0", "1.0");
    canon_is("0.1", "0.1");
    canon_is("1e-5", "1.0e-05");
    canon_is("2.5e10", "2.5e+10");
    canon_is("mchn", "\"mchn\"");
    canon_is("\"a\\\"b\"", "\"a\\\"b\"");
    canon_is("[1, 2.5, x]", "[1, 2.5, \"x\"]");
    canon_is("false", "false");
    canon_is(".nan", "nan");
}

static void set_text(eg_cfg *c, const char *key, const char *text) {
    eg_value v;
    CHECK(eg_value_parse(text, &v) == EG_OK);
    CHECK(eg_cfg_set(c, key, &v) == EG_OK);
    eg_value_free(&v);
}

static void test_map(void) {
    eg_cfg c;
    eg_cfg_init(&c);
    set_text(&c, "task.corrupt.sigma", "0.5");
    set_text(&c, "params.beta", "8");
    set_text(&c, "data.source", "fashion-mnist");
    set_text(&c, "database", "x");
    set_text(&c, "task.kind", "retrieve");
    set_text(&c, "params.beta", "4"); /* replaces */
    set_text(&c, "experiment", "e");
    CHECK(c.n == 6);
    for (int i = 1; i < c.n; i++)
        CHECK(strcmp(c.keys[i - 1], c.keys[i]) < 0);
    CHECK(eg_cfg_get(&c, "params.beta")->i == 4);
    CHECK(eg_cfg_get(&c, "params") == NULL);

    const char *ex[] = {"experiment", "data"};
    char *canon = eg_cfg_canonical(&c, ex, 2);
    CHECK_MSG(canon &&
                  !strcmp(canon, "database=\"x\"\nparams.beta=4\ntask.corrupt.sigma=0.5\ntask.kind=\"retrieve\"\n"),
              "canonical:\n%s", canon);
    free(canon);

    char *yaml = eg_cfg_to_yaml(&c);
    const char *want = "data:\n"
                       "  source: fashion-mnist\n"
                       "database: x\n"
                       "experiment: e\n"
                       "params:\n"
                       "  beta: 4\n"
                       "task:\n"
                       "  corrupt:\n"
                       "    sigma: 0.5\n"
                       "  kind: retrieve\n";
    CHECK_MSG(yaml && !strcmp(yaml, want), "yaml:\n%s", yaml);
    free(yaml);

    eg_cfg d;
    CHECK(eg_cfg_copy(&d, &c) == EG_OK && d.n == c.n);
    eg_cfg_remove(&d, "database");
    eg_cfg_remove(&d, "absent");
    CHECK(d.n == c.n - 1 && eg_cfg_get(&d, "database") == NULL && eg_cfg_get(&c, "database") != NULL);
    eg_cfg_free(&d);

    /* strings that would read back as something else are quoted */
    eg_cfg q;
    eg_cfg_init(&q);
    eg_value s = {0};
    s.kind = EG_VAL_STRING;
    const char *texts[] = {"1", "true", "no", "", "a b", "-x", "x: y"};
    char key[16];
    for (int i = 0; i < 7; i++) {
        s.s = (char *)texts[i];
        snprintf(key, sizeof key, "k%d", i);
        eg_cfg_set(&q, key, &s);
    }
    yaml = eg_cfg_to_yaml(&q);
    CHECK_MSG(
        yaml && !strcmp(yaml, "k0: \"1\"\nk1: \"true\"\nk2: \"no\"\nk3: \"\"\nk4: \"a b\"\nk5: \"-x\"\nk6: \"x: y\"\n"),
        "%s", yaml);
    free(yaml);
    eg_cfg_free(&q);
    eg_cfg_free(&c);
}

static void sha_is(const char *msg, size_t n, const char *want) {
    uint8_t d[32];
    char hex[65];
    eg_sha256_sum(msg, n, d);
    eg_sha256_hex(d, hex, 64);
    CHECK_MSG(!strcmp(hex, want), "sha256 = %s, want %s", hex, want);
}

static void test_sha256(void) {
    sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_is(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a', fed in uneven pieces */
    eg_sha256 s;
    eg_sha256_init(&s);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        eg_sha256_update(&s, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    char hex[65];
    eg_sha256_final(&s, d);
    eg_sha256_hex(d, hex, 64);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    eg_sha256_hex(d, hex, 16);
    CHECK(!strcmp(hex, "cdc76e5c9914fb92"));
}

static void test_did_you_mean(void) {
    const char *params[] = {"variant", "beta", "sigma", "n", "update", "steps", "tol"};
    CHECK(eg_did_you_mean("betta", params, 7) && !strcmp(eg_did_you_mean("betta", params, 7), "beta"));
    CHECK(eg_did_you_mean("setps", params, 7) && !strcmp(eg_did_you_mean("setps", params, 7), "steps"));
    CHECK(eg_did_you_mean("Variant", params, 7) && !strcmp(eg_did_you_mean("Variant", params, 7), "variant"));
    CHECK(eg_did_you_mean("learning_rate", params, 7) == NULL);
    CHECK(eg_did_you_mean("m", params, 7) == NULL);
    const char *ds[] = {"fashion-mnist", "mnist", "digits", "cifar10", "hdf5", "random-patterns"};
    CHECK(eg_did_you_mean("fasion-mnist", ds, 6) && !strcmp(eg_did_you_mean("fasion-mnist", ds, 6), "fashion-mnist"));
    CHECK(eg_did_you_mean("cifar-10", ds, 6) && !strcmp(eg_did_you_mean("cifar-10", ds, 6), "cifar10"));
    const char *task[] = {"memories", "corrupt.kind", "corrupt.sigma"};
    CHECK(eg_did_you_mean("sigma", task, 3) && !strcmp(eg_did_you_mean("sigma", task, 3), "corrupt.sigma"));
}

static void test_tasks(void) {
    int n = 0;
    const eg_param_spec *p = eg_task_schema(NULL, "retrieve", &n);
    CHECK(p != NULL && n == 10);
    const char *keys[] = {"memories",      "queries",      "blocks",           "tolerance", "corrupt.kind",
                          "corrupt.sigma", "corrupt.size", "corrupt.fraction", "corrupt.p", "corrupt.pixels"};
    for (int i = 0; i < n && i < 10; i++)
        CHECK(!strcmp(p[i].key, keys[i]) && p[i].default_value && p[i].doc);
    CHECK(eg_task_schema(NULL, "nope", &n) == NULL && n == 0);
    CHECK(eg_task_def_count() >= 1 && eg_task_def_find("retrieve") == eg_task_def_at(0));
    /* the retrieve rule: queries <= memories */
    eg_cfg c;
    eg_cfg_init(&c);
    set_text(&c, "task.memories", "5");
    set_text(&c, "task.queries", "5");
    const char *key = NULL;
    char msg[256];
    CHECK(eg_task_def_find("retrieve")->check(&c, &key, msg, sizeof msg) == 0);
    set_text(&c, "task.queries", "6");
    CHECK(eg_task_def_find("retrieve")->check(&c, &key, msg, sizeof msg) == 1 && key && !strcmp(key, "task.queries"));
    eg_cfg_free(&c);
}

int main(void) {
    test_values();
    test_map();
    test_sha256();
    test_did_you_mean();
    test_tasks();
    return eg_test_finish();
}
