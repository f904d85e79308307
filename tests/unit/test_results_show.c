/* test_results_show.c — `engram show`: 2 groups x 3 seeds, mean ± sd computed by hand,
 * failures counted, the common "retrieval/" prefix dropped, 100-column limit. */
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "test_results_common.h"

static void write_run(const char *exp, const char *id, int index, const char *beta, int seed, const char *status,
                      double success, double mse) {
    eg_cfg c;
    eg_cfg_init(&c);
    cfg_put(&c, "model", "hopfield");
    cfg_put(&c, "params.beta", beta);
    cfg_put(&c, "params.variant", "mchn");
    char s[16];
    snprintf(s, sizeof s, "%d", seed);
    cfg_put(&c, "seed", s);
    eg_record *r = eg_record_new();
    eg_record_config(r, &c);
    eg_cfg_free(&c);
    eg_record_attr_str(r, "run_id", id);
    eg_record_attr_int(r, "run_index", index);
    eg_record_status(r, status);
    if (!isnan(success)) eg_record_metric(r, "retrieval/success", success);
    if (!isnan(mse)) eg_record_metric(r, "retrieval/mse", mse);
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/runs/%s.h5", exp, id);
    CHECK_MSG(eg_record_write(r, path, err, sizeof err) == EG_OK, "%s", err);
    eg_record_free(r);
}

static char *show(const char *exp, eg_status *st) {
    char *buf = NULL, err[512] = "";
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    *st = eg_results_show(exp, out, err, sizeof err);
    fclose(out);
    if (*st != EG_OK) fprintf(stderr, "show: %s\n", err);
    return buf;
}

/* the table line whose first field is `first` */
static const char *line_starting(const char *text, const char *first) {
    for (const char *p = text; p && *p;) {
        const char *q = p;
        while (*q == ' ')
            q++;
        if (strncmp(q, first, strlen(first)) == 0 && q[strlen(first)] == ' ') return p;
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

static int max_line_width(const char *text) {
    int w = 0, best = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            if (w > best) best = w;
            w = 0;
        } else if (((unsigned char)*p & 0xC0) != 0x80)
            w++;
    }
    return w > best ? w : best;
}

static void test_two_groups(void) {
    char *exp = make_exp_dir();
    /* beta 0.5: success 0.8 0.9 1.0 -> 0.9 ± 0.1; mse 0.1 0.2 0.3 -> 0.2 ± 0.1 */
    write_run(exp, "a0", 0, "0.5", 0, "ok", 0.8, 0.1);
    write_run(exp, "a1", 1, "0.5", 1, "ok", 0.9, 0.2);
    write_run(exp, "a2", 2, "0.5", 2, "ok", 1.0, 0.3);
    /* beta 8: success 0.5 0.7 -> 0.6 ± sqrt(0.02) = 0.14; mse only 0.4 -> "0.4 ± -"; one failed run */
    write_run(exp, "b0", 3, "8.0", 0, "ok", 0.5, 0.4);
    write_run(exp, "b1", 4, "8.0", 1, "ok", 0.7, NAN);
    write_run(exp, "b2", 5, "8.0", 2, "failed", NAN, NAN);
    eg_status st;
    char *out = show(exp, &st); /* no summary.h5 yet: show collects first */
    CHECK(st == EG_OK);
    printf("%s", out ? out : "");
    char sum[512];
    snprintf(sum, sizeof sum, "%s/summary.h5", exp);
    CHECK(access(sum, F_OK) == 0);
    CHECK_STR_CONTAINS(out, "6 runs in 2 groups, 5 ok");
    CHECK_STR_CONTAINS(out, "(retrieval/...)");
    CHECK_STR_CONTAINS(out, "mean ± sd over seeds");
    /* header: parameter without "params.", metrics without "retrieval/" */
    const char *hdr = line_starting(out, "beta");
    CHECK(hdr != NULL);
    if (hdr) {
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(strchr(hdr, '\n') - hdr), hdr);
        CHECK_STR_CONTAINS(line, " runs ");
        CHECK_STR_CONTAINS(line, "mse");
        CHECK_STR_CONTAINS(line, "success");
        CHECK_STR_CONTAINS(line, "failures");
        CHECK(strstr(line, "retrieval/") == NULL);
        CHECK(strstr(line, "variant") == NULL); /* constant: not a column */
        CHECK(strstr(line, "seed") == NULL);
        CHECK(strstr(line, "mse") < strstr(line, "success")); /* metrics sorted by name */
    }
    const char *g1 = line_starting(out, "0.5"), *g2 = line_starting(out, "8");
    CHECK(g1 != NULL && g2 != NULL && g1 < g2);
    if (g1 && g2) {
        char l1[256], l2[256];
        snprintf(l1, sizeof l1, "%.*s", (int)(strchr(g1, '\n') - g1), g1);
        snprintf(l2, sizeof l2, "%.*s", (int)(strchr(g2, '\n') - g2), g2);
        CHECK_STR_CONTAINS(l1, " 3/3 ");
        CHECK_STR_CONTAINS(l1, "0.2 ± 0.1");
        CHECK_STR_CONTAINS(l1, "0.9 ± 0.1");
        CHECK(strstr(l1, "failed") == NULL);
        CHECK_STR_CONTAINS(l2, " 2/3 ");
        CHECK_STR_CONTAINS(l2, "0.4 ± -");
        CHECK_STR_CONTAINS(l2, "0.6 ± 0.14");
        CHECK_STR_CONTAINS(l2, "1 failed");
        /* aligned: both rows and the header have the metric columns at the same place */
        CHECK(strstr(l1, "± 0.1") - l1 > 0);
        const char *p1 = strstr(l1, "0.9 ± 0.1"), *p2 = strstr(l2, "0.6 ± 0.14");
        CHECK(p1 && p2 && (p1 - l1) + strlen("0.9 ± 0.1") == (p2 - l2) + strlen("0.6 ± 0.14")); /* right-aligned */
    }
    CHECK(max_line_width(out) <= 100);
    free(out);

    /* a new run makes the summary stale: show collects again */
    sleep(1);
    write_run(exp, "c0", 6, "20.0", 0, "diverged", NAN, NAN);
    out = show(exp, &st);
    CHECK(st == EG_OK);
    CHECK_STR_CONTAINS(out, "7 runs in 3 groups, 5 ok");
    CHECK_STR_CONTAINS(out, "1 diverged");
    CHECK(line_starting(out, "20") != NULL);
    free(out);
    rm_rf(exp);
    free(exp);
}

/* many long metric names: the table is split into blocks that fit 100 columns */
static void test_wide(void) {
    char *exp = make_exp_dir();
    for (int k = 0; k < 4; k++) {
        eg_cfg c;
        eg_cfg_init(&c);
        cfg_put(&c, "params.beta", k < 2 ? "1.5" : "2.5");
        cfg_put(&c, "seed", k % 2 ? "1" : "0");
        eg_record *r = eg_record_new();
        eg_record_config(r, &c);
        eg_cfg_free(&c);
        char id[16], name[64], path[512], err[256];
        snprintf(id, sizeof id, "w%d", k);
        eg_record_attr_str(r, "run_id", id);
        for (int m = 0; m < 12; m++) {
            snprintf(name, sizeof name, "%s/a_rather_long_metric_name_%02d", m % 2 ? "eval" : "train", m);
            eg_record_metric(r, name, 1000.0 * m + k);
        }
        snprintf(path, sizeof path, "%s/runs/%s.h5", exp, id);
        CHECK_MSG(eg_record_write(r, path, err, sizeof err) == EG_OK, "%s", err);
        eg_record_free(r);
    }
    eg_status st;
    char *out = show(exp, &st);
    CHECK(st == EG_OK);
    printf("%s", out ? out : "");
    CHECK(max_line_width(out) <= 100);
    /* different prefixes: kept in the headers; every metric appears once per block header */
    CHECK_STR_CONTAINS(out, "train/a_rather_long_metric_name_00");
    CHECK_STR_CONTAINS(out, "eval/a_rather_long_metric_name_11");
    /* metric 11 of beta=2.5: values 11002, 11003 -> 11002.5 ± 0.71 */
    CHECK_STR_CONTAINS(out, "11002.5 ± 0.71");
    int blocks = 0;
    for (const char *p = out; (p = line_starting(p, "beta")); p++)
        blocks++;
    CHECK_MSG(blocks >= 3, "%d blocks", blocks);
    free(out);
    rm_rf(exp);
    free(exp);
}

/* an experiment whose runs/ is empty: an empty table, not an error */
static void test_empty(void) {
    char *exp = make_exp_dir();
    eg_status st;
    char *out = show(exp, &st);
    CHECK(st == EG_OK);
    CHECK_STR_CONTAINS(out, "0 runs in 0 groups, 0 ok");
    free(out);
    rm_rf(exp);
    free(exp);
}

int main(void) {
    test_empty();
    test_two_groups();
    test_wide();
    char err[256];
    CHECK(eg_results_show("/nonexistent-eg-dir", stdout, err, sizeof err) != EG_OK);
    CHECK_STR_CONTAINS(err, "/nonexistent-eg-dir");
    return eg_test_finish();
}
