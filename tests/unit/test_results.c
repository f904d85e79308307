/* test_results.c — run files and summary.h5: write records, read them back with
 * the HDF5 C API (and h5py/pandas when available), failing writes leave nothing,
 * collect builds the swept-columns-only table with NaN for missing metrics. */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "test_results_common.h"

typedef struct {
    const char *id, *beta, *variant;
    int seed, index;
    const char *status;
    double success, mse; /* NaN: not recorded */
} run_def;

/* beta and variant swept; sigma, source, flag, layers constant; run_index reverses the id order */
static const run_def RUNS[4] = {
    {"r0", "0.5", "mchn", 0, 3, "ok", 0.8, 0.1},
    {"r1", "0.5", "mchn", 1, 2, "ok", 0.9, NAN},
    {"r2", "8.0", "gmm", 0, 1, "ok", 0.7, 0.2},
    {"r3", "8.0", "gmm", 1, 0, "failed", NAN, NAN},
};

static float big_value(int64_t k) {
    return (float)((k % 97) * 0.25 - 3.0);
}

static eg_record *make_record(const run_def *d) {
    eg_cfg c;
    eg_cfg_init(&c);
    cfg_put(&c, "model", "hopfield");
    cfg_put(&c, "backend", "cpu");
    cfg_put(&c, "params.beta", d->beta);
    cfg_put(&c, "params.variant", d->variant);
    cfg_put(&c, "params.flag", "true");
    cfg_put(&c, "params.layers", "[64, 32]");
    cfg_put(&c, "params.steps", "3");
    cfg_put(&c, "task.corrupt.sigma", "0.6");
    cfg_put(&c, "data.source", "fashion-mnist");
    char seed[16];
    snprintf(seed, sizeof seed, "%d", d->seed);
    cfg_put(&c, "seed", seed);
    eg_record *r = eg_record_new();
    eg_record_config(r, &c);
    eg_cfg_free(&c);
    eg_record_attr_str(r, "run_id", d->id);
    eg_record_attr_int(r, "run_index", d->index);
    eg_record_attr_str(r, "engram_version", "0.1.0");
    eg_record_attr_str(r, "device", "test dévice"); /* UTF-8 */
    eg_record_attr_num(r, "wall_s", 1.25);
    eg_record_status(r, d->status);
    if (!isnan(d->success)) eg_record_metric(r, "retrieval/success", d->success);
    eg_record_metric_goal(r, "retrieval/success", "max");
    if (!isnan(d->mse)) eg_record_metric(r, "retrieval/mse", d->mse);
    for (int k = 0; k < 3; k++)
        eg_record_series(r, "train/energy", k * 10, -1.0 - k, 0.5 * k);
    eg_record_series(r, "loss", 0, 2.0, 0.1);
    float w[6] = {1, 2, 3, 4, 5, 6};
    int64_t ws[2] = {2, 3};
    CHECK(eg_record_weight(r, "w", 2, ws, w) == EG_OK);
    uint8_t px[2 * 4 * 4];
    for (int k = 0; k < 32; k++)
        px[k] = (uint8_t)(k * 7);
    int64_t as[4] = {2, 4, 4, 1};
    CHECK(eg_record_artifact(r, "retrieval_grid", "grid", 4, as, px) == EG_OK);
    eg_record_log(r, "line one\n", 9);
    eg_record_log(r, "line two\n", 9);
    return r;
}

static int attr_str(hid_t obj, const char *name, char *buf, size_t cap) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a), mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5T_CSET_UTF8);
    char *s = NULL;
    int ok = H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0 && H5Tget_cset(t) == H5T_CSET_UTF8 &&
             H5Aread(a, mt, &s) >= 0;
    if (ok) snprintf(buf, cap, "%s", s), H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

static double dset_double(hid_t f, const char *path) {
    double v = NAN;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) return NAN;
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(d);
    return v;
}

static char *dset_text(hid_t f, const char *path) {
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    char *s = NULL, *out = NULL;
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0) out = strdup(s), H5free_memory(s);
    H5Tclose(mt);
    H5Dclose(d);
    return out;
}

static void check_run_file(const char *path) {
    char buf[256];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0) return;
    CHECK(attr_str(f, "format_version", buf, sizeof buf) == 0 && strcmp(buf, "1") == 0);
    CHECK(attr_str(f, "status", buf, sizeof buf) == 0 && strcmp(buf, "ok") == 0);
    CHECK(attr_str(f, "device", buf, sizeof buf) == 0 && strcmp(buf, "test dévice") == 0);
    CHECK(attr_str(f, "data.source", buf, sizeof buf) == 0 && strcmp(buf, "fashion-mnist") == 0);
    CHECK(attr_str(f, "params.variant", buf, sizeof buf) == 0 && strcmp(buf, "mchn") == 0);
    /* numbers keep their types */
    hid_t a = H5Aopen(f, "params.beta", H5P_DEFAULT), t = H5Aget_type(a);
    double beta = 0;
    CHECK(H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 8);
    H5Aread(a, H5T_NATIVE_DOUBLE, &beta);
    CHECK_NEAR(beta, 0.5, 0, 0);
    H5Tclose(t), H5Aclose(a);
    a = H5Aopen(f, "params.steps", H5P_DEFAULT), t = H5Aget_type(a);
    int64_t steps = 0;
    CHECK(H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 8);
    H5Aread(a, H5T_NATIVE_INT64, &steps);
    CHECK(steps == 3);
    H5Tclose(t), H5Aclose(a);
    a = H5Aopen(f, "params.flag", H5P_DEFAULT), t = H5Aget_type(a);
    CHECK(H5Tget_class(t) == H5T_ENUM && H5Tget_size(t) == 1); /* h5py reads it as bool */
    int8_t flag = 0;
    H5Aread(a, t, &flag);
    CHECK(flag == 1);
    H5Tclose(t), H5Aclose(a);
    a = H5Aopen(f, "params.layers", H5P_DEFAULT);
    hid_t sp = H5Aget_space(a);
    int64_t layers[2] = {0, 0};
    CHECK(H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_npoints(sp) == 2);
    H5Aread(a, H5T_NATIVE_INT64, layers);
    CHECK(layers[0] == 64 && layers[1] == 32);
    H5Sclose(sp), H5Aclose(a);
    /* /config, /log */
    char *cfg = dset_text(f, "config");
    CHECK_STR_CONTAINS(cfg, "params:\n");
    CHECK_STR_CONTAINS(cfg, "variant: mchn");
    CHECK_STR_CONTAINS(cfg, "sigma: 0.6");
    free(cfg);
    char *log = dset_text(f, "log");
    CHECK(log && strcmp(log, "line one\nline two\n") == 0);
    free(log);
    /* metrics, nested under their '/' groups */
    CHECK_NEAR(dset_double(f, "metrics/retrieval/success"), 0.8, 0, 0);
    CHECK_NEAR(dset_double(f, "metrics/retrieval/mse"), 0.1, 0, 0);
    /* a series: compound (step, value, wall_s) */
    hid_t d = H5Dopen2(f, "series/train/energy", H5P_DEFAULT);
    struct {
        int64_t step;
        double value, wall_s;
    } rows[3];
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof rows[0]);
    H5Tinsert(mt, "step", 0, H5T_NATIVE_INT64);
    H5Tinsert(mt, "value", 8, H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "wall_s", 16, H5T_NATIVE_DOUBLE);
    sp = H5Dget_space(d);
    CHECK(H5Sget_simple_extent_npoints(sp) == 3);
    CHECK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    CHECK(rows[2].step == 20);
    CHECK_NEAR(rows[2].value, -3.0, 0, 0);
    CHECK_NEAR(rows[1].wall_s, 0.5, 0, 0);
    H5Sclose(sp), H5Tclose(mt), H5Dclose(d);
    /* weights: small one contiguous, big one chunked + shuffle + gzip */
    d = H5Dopen2(f, "weights/w", H5P_DEFAULT);
    float w[6];
    CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0 && w[5] == 6.0f);
    hid_t dcpl = H5Dget_create_plist(d);
    CHECK(H5Pget_layout(dcpl) != H5D_CHUNKED);
    H5Pclose(dcpl), H5Dclose(d);
    d = H5Dopen2(f, "weights/big", H5P_DEFAULT);
    dcpl = H5Dget_create_plist(d);
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) == 2);
    hsize_t chunk[2] = {0, 0};
    H5Pget_chunk(dcpl, 2, chunk);
    CHECK(chunk[1] == 600 && chunk[0] * chunk[1] * 4 <= (1u << 20) && chunk[0] >= 100);
    H5Pclose(dcpl), H5Dclose(d);
    /* artifact with its kind */
    d = H5Dopen2(f, "artifacts/retrieval_grid", H5P_DEFAULT);
    sp = H5Dget_space(d);
    hsize_t dims[4];
    CHECK(H5Sget_simple_extent_ndims(sp) == 4);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    CHECK(dims[0] == 2 && dims[1] == 4 && dims[2] == 4 && dims[3] == 1);
    uint8_t px[32];
    H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px);
    CHECK(px[31] == (uint8_t)(31 * 7));
    CHECK(attr_str(d, "kind", buf, sizeof buf) == 0 && strcmp(buf, "grid") == 0);
    H5Sclose(sp), H5Dclose(d);
    H5Fclose(f);
}

static void test_write_and_read(const char *exp) {
    char path[512], err[512];
    for (int k = 0; k < 4; k++) {
        eg_record *r = make_record(&RUNS[k]);
        if (k == 0) {
            /* 600 x 600 float32 = 1.44 MB: compressed */
            float *big = malloc(600 * 600 * sizeof(float));
            for (int64_t j = 0; j < 600 * 600; j++)
                big[j] = big_value(j);
            int64_t bs[2] = {600, 600};
            CHECK(eg_record_weight(r, "big", 2, bs, big) == EG_OK);
            free(big);
        }
        CHECK(!eg_record_has_nonfinite(r));
        snprintf(path, sizeof path, "%s/runs/%s.h5", exp, RUNS[k].id);
        eg_status st = eg_record_write(r, path, err, sizeof err);
        CHECK_MSG(st == EG_OK, "%s", err);
        eg_record_free(r);
    }
    snprintf(path, sizeof path, "%s/runs", exp);
    CHECK(count_named(path, ".h5") == 4);
    CHECK(count_named(path, ".tmp-") == 0);
    snprintf(path, sizeof path, "%s/runs/r0.h5", exp);
    check_run_file(path);

    char status[32];
    CHECK(eg_results_run_status(path, status, sizeof status) == EG_OK && strcmp(status, "ok") == 0);
    snprintf(path, sizeof path, "%s/runs/r3.h5", exp);
    CHECK(eg_results_run_status(path, status, sizeof status) == EG_OK && strcmp(status, "failed") == 0);
    snprintf(path, sizeof path, "%s/runs/nope.h5", exp);
    CHECK(eg_results_run_status(path, status, sizeof status) == EG_ERR_NOTFOUND);

    /* weights back through the API */
    snprintf(path, sizeof path, "%s/runs/r0.h5", exp);
    int ndim = 0;
    int64_t shape[6];
    float *data = NULL;
    CHECK(eg_results_read_weight(path, "big", &ndim, shape, &data, err, sizeof err) == EG_OK);
    CHECK(ndim == 2 && shape[0] == 600 && shape[1] == 600);
    int same = data != NULL;
    for (int64_t j = 0; same && j < 600 * 600; j++)
        same = data[j] == big_value(j);
    CHECK(same);
    free(data);
    CHECK(eg_results_read_weight(path, "missing", &ndim, shape, &data, err, sizeof err) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "/weights/missing");
    CHECK(data == NULL);
}

static void test_nonfinite(void) {
    eg_record *r = eg_record_new();
    eg_record_metric(r, "a", 1.0);
    eg_record_series(r, "s", 0, 1.0, 0.0);
    CHECK(!eg_record_has_nonfinite(r));
    eg_record_series(r, "s", 1, INFINITY, 0.1);
    CHECK(eg_record_has_nonfinite(r));
    eg_record_free(r);
    r = eg_record_new();
    eg_record_metric(r, "a", NAN);
    CHECK(eg_record_has_nonfinite(r));
    eg_record_free(r);
}

static void test_failing_writes(const char *exp) {
    char path[600], dir[512], err[1024];
    eg_record *r = make_record(&RUNS[0]);
    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/missing-dir/r0.h5", exp);
    err[0] = 0;
    CHECK(eg_record_write(r, path, err, sizeof err) == EG_ERR_IO);
    CHECK_STR_CONTAINS(err, "cannot write run file");
    CHECK_STR_CONTAINS(err, path);
    CHECK(access(path, F_OK) != 0);
    /* an unwritable directory (root ignores permissions: skip that case) */
    if (geteuid() != 0) {
        snprintf(dir, sizeof dir, "%s/readonly", exp);
        mkdir(dir, 0555);
        snprintf(path, sizeof path, "%s/r0.h5", dir);
        CHECK(eg_record_write(r, path, err, sizeof err) == EG_ERR_IO);
        CHECK_STR_CONTAINS(err, path);
        CHECK_STR_CONTAINS(err, "Permission denied");
        CHECK(count_named(dir, "r0") == 0);
        chmod(dir, 0755);
    }
    eg_record_free(r);
    /* a failure half-way through HDF5 (metric 'a' is both a dataset and a group) removes the temp file */
    snprintf(dir, sizeof dir, "%s/midway", exp);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/x.h5", dir);
    r = eg_record_new();
    eg_record_metric(r, "a", 1);
    eg_record_metric(r, "a/b", 2);
    CHECK(eg_record_write(r, path, err, sizeof err) == EG_ERR_IO);
    CHECK_STR_CONTAINS(err, path);
    CHECK_STR_CONTAINS(err, "/metrics/a/b");
    CHECK(count_named(dir, "x.h5") == 0);
    eg_record_free(r);
    /* an invalid name is refused before anything is written */
    r = eg_record_new();
    eg_record_metric(r, "bad//name", 1);
    CHECK(eg_record_write(r, path, err, sizeof err) == EG_ERR_INVALID);
    CHECK_STR_CONTAINS(err, "bad//name");
    CHECK(count_named(dir, "x.h5") == 0);
    int64_t shape[1] = {1};
    float one = 1;
    CHECK(eg_record_weight(r, "", 1, shape, &one) == EG_ERR_INVALID);
    eg_record_free(r);
    /* rewriting a run replaces it */
    r = eg_record_new();
    eg_record_metric(r, "m", 1);
    /* a refused tensor is the caller's business: the record still writes */
    int64_t bad_shape[2] = {2, -1};
    CHECK(eg_record_weight(r, "neg", 2, bad_shape, &one) == EG_ERR_INVALID);
    CHECK(eg_record_artifact(r, "x/../y", "grid", 1, shape, (const uint8_t *)"a") == EG_ERR_INVALID);
    CHECK(eg_record_write(r, path, err, sizeof err) == EG_OK);
    eg_record_metric(r, "m", 2);
    CHECK(eg_record_write(r, path, err, sizeof err) == EG_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_NEAR(dset_double(f, "metrics/m"), 2, 0, 0);
    H5Fclose(f);
    CHECK(count_named(dir, ".tmp-") == 0);
    eg_record_free(r);
}

typedef struct {
    char *id;
} id_row;

static void test_collect(const char *exp) {
    char path[512], err[512];
    /* junk the collector must ignore: an abandoned temp file and an unreadable file */
    snprintf(path, sizeof path, "%s/runs/zz.h5.tmp-4242", exp);
    FILE *j = fopen(path, "w");
    fputs("partial", j);
    fclose(j);
    snprintf(path, sizeof path, "%s/runs/corrupt.h5", exp);
    j = fopen(path, "w");
    fputs("not hdf5", j);
    fclose(j);
    CHECK_MSG(eg_results_collect(exp, err, sizeof err) == EG_OK, "%s", err);
    remove(path);
    snprintf(path, sizeof path, "%s/summary.h5", exp);
    CHECK(access(path, F_OK) == 0);
    CHECK(count_named(exp, ".tmp-") == 0);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    hid_t d = H5Dopen2(f, "summary", H5P_DEFAULT), t = H5Dget_type(d), sp = H5Dget_space(d);
    /* run_index differs between runs but is not a parameter: an info column before the metrics */
    const char *expect[] = {"run_id",    "status",        "seed",             "params.beta", "params.variant",
                            "run_index", "retrieval/mse", "retrieval/success"};
    int nm = H5Tget_nmembers(t);
    CHECK_MSG(nm == 8, "%d columns", nm);
    for (int k = 0; k < nm && k < 8; k++) {
        char *name = H5Tget_member_name(t, (unsigned)k);
        CHECK_MSG(strcmp(name, expect[k]) == 0, "column %d is %s, expected %s", k, name, expect[k]);
        H5free_memory(name);
    }
    CHECK(H5Tget_member_class(t, 3) == H5T_FLOAT && H5Tget_member_class(t, 4) == H5T_STRING);
    CHECK(H5Tget_member_class(t, 2) == H5T_INTEGER);
    CHECK(H5Sget_simple_extent_npoints(sp) == 4);
    /* rows ordered by run_index: r3, r2, r1, r0 */
    struct {
        char *id;
        int64_t seed;
        double beta, mse, success;
    } rows[4];
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof rows[0]);
    H5Tinsert(mt, "run_id", 0, st);
    H5Tinsert(mt, "seed", 8, H5T_NATIVE_INT64);
    H5Tinsert(mt, "params.beta", 16, H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "retrieval/mse", 24, H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "retrieval/success", 32, H5T_NATIVE_DOUBLE);
    CHECK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    const char *order[4] = {"r3", "r2", "r1", "r0"};
    for (int k = 0; k < 4; k++)
        CHECK_MSG(strcmp(rows[k].id, order[k]) == 0, "row %d is %s", k, rows[k].id);
    CHECK(rows[0].seed == 1 && rows[1].seed == 0);
    CHECK_NEAR(rows[1].beta, 8.0, 0, 0);
    CHECK_NEAR(rows[3].beta, 0.5, 0, 0);
    CHECK(isnan(rows[0].mse) && isnan(rows[0].success)); /* failed run: no metrics */
    CHECK(isnan(rows[2].mse));                           /* r1 never recorded mse */
    CHECK_NEAR(rows[2].success, 0.9, 0, 0);
    CHECK_NEAR(rows[1].mse, 0.2, 0, 0);
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, rows);
    H5Tclose(mt), H5Tclose(st), H5Sclose(sp), H5Tclose(t), H5Dclose(d);
    /* external links resolve relative to summary.h5, whatever the working directory */
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir("/") == 0);
    char buf[64] = "";
    for (int k = 0; k < 4; k++) {
        char link[64];
        snprintf(link, sizeof link, "runs/%s", RUNS[k].id);
        hid_t o = H5Oopen(f, link, H5P_DEFAULT);
        CHECK_MSG(o >= 0, "link %s", link);
        if (o < 0) continue;
        hid_t a = H5Aopen(o, "run_id", H5P_DEFAULT);
        hid_t s = H5Tcopy(H5T_C_S1);
        H5Tset_size(s, H5T_VARIABLE);
        H5Tset_cset(s, H5T_CSET_UTF8); /* HDF5 does not convert ASCII <-> UTF-8 */
        char *v = NULL;
        H5Aread(a, s, &v);
        CHECK(v && strcmp(v, RUNS[k].id) == 0);
        if (v) snprintf(buf, sizeof buf, "%s", v), H5free_memory(v);
        H5Tclose(s), H5Aclose(a), H5Oclose(o);
    }
    CHECK(chdir(cwd) == 0);
    H5Fclose(f);
    (void)buf;

    /* no runs directory: an error naming it */
    CHECK(eg_results_collect("/nonexistent-eg-dir", err, sizeof err) == EG_ERR_NOTFOUND);
    CHECK_STR_CONTAINS(err, "/nonexistent-eg-dir/runs");
}

static const char *PY =
    "import sys, h5py, numpy as np, pandas as pd\n"
    "exp = sys.argv[1]\n"
    "df = pd.DataFrame(h5py.File(exp + '/summary.h5')['summary'][()])\n"
    "assert list(df.columns) == ['run_id', 'status', 'seed', 'params.beta', 'params.variant', 'run_index',\n"
    "                            'retrieval/mse', 'retrieval/success'], list(df.columns)\n"
    "df = df.apply(lambda c: c.str.decode('utf-8') if c.dtype == object else c)\n"
    "assert list(df.run_id) == ['r3', 'r2', 'r1', 'r0'], list(df.run_id)\n"
    "assert list(df.status) == ['failed', 'ok', 'ok', 'ok']\n"
    "assert list(df['params.beta']) == [8.0, 8.0, 0.5, 0.5]\n"
    "assert list(df['params.variant']) == ['gmm', 'gmm', 'mchn', 'mchn']\n"
    "assert df['retrieval/mse'].isna().tolist() == [True, False, True, False]\n"
    "assert abs(df.groupby('params.beta')['retrieval/success'].mean()[0.5] - 0.85) < 1e-12\n"
    "with h5py.File(exp + '/summary.h5') as s:\n"
    "    assert s['runs/r2'].attrs['params.variant'] == 'gmm'\n"
    "    assert list(s.attrs['swept']) == ['params.beta', 'params.variant']\n"
    "    assert list(s.attrs['info']) == ['run_index'], list(s.attrs['info'])\n"
    "    assert list(s.attrs['goals']) == ['none', 'max'], list(s.attrs['goals'])\n"
    "    c = s['constants'].attrs\n"
    "    assert c['device'] == 'test d\\u00e9vice' and c['wall_s'] == 1.25 and c['params.steps'] == 3, dict(c)\n"
    "    assert 'params.beta' not in c and 'run_index' not in c and 'seed' not in c\n"
    "f = h5py.File(exp + '/runs/r0.h5')\n"
    "assert f.attrs['params.beta'] == 0.5 and f.attrs['seed'] == 0 and f.attrs['status'] == 'ok'\n"
    "assert f.attrs['params.flag'] is True or f.attrs['params.flag'] == np.bool_(True)\n"
    "assert list(f.attrs['params.layers']) == [64, 32]\n"
    "assert f.attrs['device'] == 'test d\\u00e9vice'\n"
    "assert f['metrics/retrieval/success'][()] == 0.8\n"
    "s = pd.DataFrame(f['series/train/energy'][()])\n"
    "assert list(s.columns) == ['step', 'value', 'wall_s'] and list(s.value) == [-1.0, -2.0, -3.0]\n"
    "assert 'variant: mchn' in f['config'].asstr()[()]\n"
    "assert f['log'].asstr()[()] == 'line one\\nline two\\n'\n"
    "assert f['weights/big'].shape == (600, 600) and f['weights/big'].compression == 'gzip'\n"
    "assert f['weights/big'][1, 2] == np.float32((602 % 97) * 0.25 - 3.0)\n"
    "assert f['artifacts/retrieval_grid'].attrs['kind'] == 'grid'\n"
    "assert f['artifacts/retrieval_grid'].dtype == np.uint8\n"
    "print('python: ok')\n";

static void test_python(const char *exp) {
    if (system("/usr/bin/python3 -c 'import h5py, pandas' >/dev/null 2>&1") != 0) {
        printf("skipping the h5py/pandas check: /usr/bin/python3 cannot import h5py and pandas\n");
        return;
    }
    char script[512], cmd[1200];
    snprintf(script, sizeof script, "%s/check.py", exp);
    FILE *f = fopen(script, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(PY, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", script, exp);
    CHECK_MSG(system(cmd) == 0, "python check of %s failed", exp);
}

int main(void) {
    char *exp = make_exp_dir();
    CHECK(exp != NULL);
    if (!exp) return eg_test_finish();
    test_write_and_read(exp);
    test_nonfinite();
    test_failing_writes(exp);
    test_collect(exp);
    test_python(exp);
    rm_rf(exp);
    free(exp);
    return eg_test_finish();
}
