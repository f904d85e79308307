/* test_backend_ops.c — conformance of every available backend: memory, fill, gemm,
 * unary (+ backward), binary with broadcasting, reductions, softmax (+ backward),
 * each against a double-precision reference, in F32 and F64.
 * Tolerances per kernel: the table at the top of backend_ops.h. Layout, rand,
 * conv, upsample and syev are in test_backend_layout.c and test_backend_conv.c. */
#include "backend_ops.h"

/* ------------------------------------------------------------------ memory */

static void test_memory(tb *t) {
    eg_dtype dt = t->dt;
    int64_t n = 1000;
    double *h = randv(n, -5, 5);
    void *a = dev_from(t, dt, h, n), *b = dev_alloc(t, (size_t)n * dt_size(dt));
    CHECK(t->d->copy(t->ctx, b, a, (size_t)n * dt_size(dt)) == EG_OK);
    double *got = to_host(t, dt, b, n);
    cmp(t, "upload/copy/download", got, h, n, tol_exact());
    free(got);
    eg_status st = t->d->fill(t->ctx, dt, b, 17, -2.5);
    if (st_ok(t, st, "fill")) {
        got = to_host(t, dt, b, n);
        double *ref = malloc((size_t)n * sizeof *ref);
        for (int64_t i = 0; i < n; i++)
            ref[i] = i < 17 ? -2.5 : h[i];
        cmp(t, "fill 17 of 1000", got, ref, n, tol_exact());
        free(got);
        free(ref);
    }
    CHECK(t->d->sync(t->ctx) == EG_OK);
    dev_free(t, a);
    dev_free(t, b);
    free(h);
    if (dt == EG_F32) { /* once per backend: I32 fill, out-of-memory is a status */
        void *ip = dev_alloc(t, 40000 * 4);
        CHECK(t->d->fill(t->ctx, EG_I32, ip, 40000, 7) == EG_OK);
        int32_t *hi = malloc(40000 * 4);
        t->d->download(t->ctx, hi, ip, 40000 * 4);
        int ok = 1;
        for (int i = 0; i < 40000; i++)
            ok &= hi[i] == 7;
        CHECK_MSG(ok, "%s: fill I32", t->name);
        free(hi);
        dev_free(t, ip);
        void *huge = NULL;
        st = t->d->alloc(t->ctx, (size_t)1 << 62, &huge);
        CHECK_MSG(st == EG_ERR_NOMEM, "%s: alloc(2^62) returned %s, want out of memory", t->name, eg_strerror(st));
        if (st == EG_OK) t->d->free(t->ctx, huge);
    }
}

/* ------------------------------------------------------------------ gemm */

/* element (i, p) of op(X) for X stored row-major with leading dim ld */
static double at(const double *x, int tr, int64_t ld, int64_t i, int64_t p) {
    return tr ? x[p * ld + i] : x[i * ld + p];
}

static void gemm_case(tb *t, int ta, int tb_, int64_t m, int64_t n, int64_t k, double alpha, double beta, int64_t batch,
                      int sa0, int sb0, int pad) {
    eg_dtype dt = t->dt;
    int64_t lda = (ta ? m : k) + pad, ldb = (tb_ ? k : n) + pad, ldc = n + pad;
    int64_t ra = ta ? k : m, rb = tb_ ? n : k; /* stored rows */
    int64_t sza = ra * lda, szb = rb * ldb, szc = m * ldc;
    int64_t na = sa0 ? sza : sza * batch, nb = sb0 ? szb : szb * batch, nc = szc * batch;
    double *A = randv(na, -1, 1), *B = randv(nb, -1, 1), *C = randv(nc, -1, 1);
    void *da = dev_from(t, dt, A, na), *db = dev_from(t, dt, B, nb), *dc = dev_from(t, dt, C, nc);
    eg_gemm_args g = {dt, ta,  tb_,           m,  n,   k,   alpha, beta, da, lda, sa0 ? 0 : sza,
                      db, ldb, sb0 ? 0 : szb, dc, ldc, szc, batch};
    char what[160];
    snprintf(what, sizeof what, "gemm %c%c m=%lld n=%lld k=%lld a=%g b=%g batch=%lld%s%s pad=%d", ta ? 'T' : 'N',
             tb_ ? 'T' : 'N', (long long)m, (long long)n, (long long)k, alpha, beta, (long long)batch,
             sa0 ? " strideA=0" : "", sb0 ? " strideB=0" : "", pad);
    if (st_ok(t, t->d->gemm(t->ctx, &g), what)) {
        double *got = to_host(t, dt, dc, nc), *ref = malloc((size_t)nc * sizeof *ref), scale = 1e-300;
        memcpy(ref, C, (size_t)nc * sizeof *ref);
        for (int64_t bi = 0; bi < batch; bi++) {
            const double *a = A + (sa0 ? 0 : bi * sza), *b = B + (sb0 ? 0 : bi * szb);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    double s = 0, sabs = 0;
                    for (int64_t p = 0; p < k; p++) {
                        double v = at(a, ta, lda, i, p) * at(b, tb_, ldb, p, j);
                        s += v;
                        sabs += fabs(v);
                    }
                    double *c = &ref[bi * szc + i * ldc + j];
                    double bound = fabs(alpha) * sabs + fabs(beta * *c);
                    *c = alpha * s + (beta == 0 ? 0 : beta * *c);
                    if (bound > scale) scale = bound;
                }
        }
        cmp_scaled(t, what, got, ref, nc, tol_gemm(dt), scale);
        free(got);
        free(ref);
    }
    dev_free(t, da), dev_free(t, db), dev_free(t, dc);
    free(A), free(B), free(C);
}

static void test_gemm(tb *t) {
    /* {10, 100, 784}, {10, 784, 100}: the quickstart's thin products, split by columns over threads */
    static const int64_t shapes[][3] = {{1, 1, 1},    {3, 7, 17},    {17, 33, 7},    {130, 3, 33},
                                        {64, 130, 65}, {1, 130, 1}, {10, 100, 784}, {10, 784, 100}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tr = 0; tr < 2; tr++) {
                gemm_case(t, ta, tr, shapes[s][0], shapes[s][1], shapes[s][2], 1.0, 0.0, 1, 0, 0, 0);
                gemm_case(t, ta, tr, shapes[s][0], shapes[s][1], shapes[s][2], 0.5, -1.5, 1, 0, 0, 3);
            }
    gemm_case(t, 0, 1, 7, 5, 33, 1.0, 0.0, 3, 0, 0, 0);   /* strided batch */
    gemm_case(t, 1, 0, 7, 5, 33, 2.0, 1.0, 4, 1, 0, 1);   /* A broadcast */
    gemm_case(t, 0, 0, 17, 3, 8, 1.0, 0.0, 5, 0, 1, 0);   /* B broadcast */
    gemm_case(t, 1, 1, 9, 11, 13, -1.0, 0.5, 2, 0, 0, 2); /* both transposed, padded, batched */
    gemm_case(t, 0, 0, 4, 6, 0, 1.0, 0.5, 2, 0, 0, 0);    /* k = 0: C = beta C */
    for (int ta = 0; ta < 2; ta++)
        for (int tr = 0; tr < 2; tr++) {
            gemm_case(t, ta, tr, 3, 130, 5, 0.5, -1.5, 4, 0, 0, 1);    /* many tiny products, n > 64 */
            gemm_case(t, ta, tr, 4, 5, 70, 1.0, 0.0, 500, tr, ta, 0);  /* a large batch of tiny ones */
            gemm_case(t, ta, tr, 33, 17, 65, 1.0, 1.0, 3, ta, !ta, 2); /* batched, large enough for BLAS */
        }
    /* invalid leading dimension is a status, not a crash */
    double h[16] = {0};
    void *p = dev_from(t, t->dt, h, 16);
    eg_gemm_args g = {t->dt, 0, 0, 4, 4, 4, 1, 0, p, 2, 0, p, 4, 0, p, 4, 0, 1};
    eg_status st = t->d->gemm(t->ctx, &g);
    if (!(st == EG_ERR_UNSUPPORTED && t->dt == EG_F64))
        CHECK_MSG(st == EG_ERR_INVALID, "%s: gemm with lda < k returned %s", t->name, eg_strerror(st));
    dev_free(t, p);
}

/* ------------------------------------------------------------------ unary */

typedef struct un_case {
    eg_unary_op op;
    const char *name;
    double lo, hi, a, b;
} un_case;

static const un_case UN[] = {
    {EG_UN_COPY, "copy", -3, 3, 0, 0},
    {EG_UN_NEG, "neg", -3, 3, 0, 0},
    {EG_UN_AFFINE, "affine", -3, 3, 1.5, -.25},
    {EG_UN_EXP, "exp", -3, 3, 0, 0},
    {EG_UN_LOG, "log", 0.2, 3, 0, 0},
    {EG_UN_SQRT, "sqrt", 0.2, 3, 0, 0},
    {EG_UN_RSQRT, "rsqrt", 0.2, 3, 0, 0},
    {EG_UN_RECIP, "recip", 0.3, 3, 0, 0},
    {EG_UN_SQUARE, "square", -3, 3, 0, 0},
    {EG_UN_ABS, "abs", -3, 3, 0, 0},
    {EG_UN_SIGN, "sign", -3, 3, 0, 0},
    {EG_UN_SIGMOID, "sigmoid", -8, 8, 0, 0},
    {EG_UN_TANH, "tanh", -4, 4, 0, 0},
    {EG_UN_RELU, "relu", -3, 3, 0, 0},
    {EG_UN_ELU, "elu", -3, 3, 0.7, 0},
    {EG_UN_SOFTPLUS, "softplus", -20, 20, 0, 0},
    {EG_UN_POW, "pow", 0.2, 3, 2.5, 0},
    {EG_UN_CLAMP, "clamp", -3, 3, -0.5, 0.8},
    {EG_UN_STEP, "step", -3, 3, 0.3, 0},
    {EG_UN_LOG1P, "log1p", -0.5, 3, 0, 0},
    {EG_UN_SIN, "sin", -4, 4, 0, 0},
    {EG_UN_COS, "cos", -4, 4, 0, 0},
};

static double un_ref(eg_unary_op op, double x, double a, double b) {
    switch (op) {
    case EG_UN_COPY: return x;
    case EG_UN_NEG: return -x;
    case EG_UN_AFFINE: return a * x + b;
    case EG_UN_EXP: return exp(x);
    case EG_UN_LOG: return log(x);
    case EG_UN_SQRT: return sqrt(x);
    case EG_UN_RSQRT: return 1 / sqrt(x);
    case EG_UN_RECIP: return 1 / x;
    case EG_UN_SQUARE: return x * x;
    case EG_UN_ABS: return fabs(x);
    case EG_UN_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case EG_UN_SIGMOID: return 1 / (1 + exp(-x));
    case EG_UN_TANH: return tanh(x);
    case EG_UN_RELU: return x > 0 ? x : 0;
    case EG_UN_ELU: return x > 0 ? x : a * (exp(x) - 1);
    case EG_UN_SOFTPLUS: return log(1 + exp(x));
    case EG_UN_POW: return pow(x, a);
    case EG_UN_CLAMP: return fmin(fmax(x, a), b);
    case EG_UN_STEP: return x > a ? 1 : 0;
    case EG_UN_LOG1P: return log(1 + x);
    case EG_UN_SIN: return sin(x);
    case EG_UN_COS: return cos(x);
    default: return NAN;
    }
}

/* analytic derivative f'(x) */
static double un_deriv(eg_unary_op op, double x, double a, double b) {
    switch (op) {
    case EG_UN_COPY: return 1;
    case EG_UN_NEG: return -1;
    case EG_UN_AFFINE: return a;
    case EG_UN_EXP: return exp(x);
    case EG_UN_LOG: return 1 / x;
    case EG_UN_SQRT: return 0.5 / sqrt(x);
    case EG_UN_RSQRT: return -0.5 * pow(x, -1.5);
    case EG_UN_RECIP: return -1 / (x * x);
    case EG_UN_SQUARE: return 2 * x;
    case EG_UN_ABS: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case EG_UN_SIGN: return 0;
    case EG_UN_SIGMOID: return exp(-x) / ((1 + exp(-x)) * (1 + exp(-x)));
    case EG_UN_TANH: return 1 / (cosh(x) * cosh(x));
    case EG_UN_RELU: return x > 0 ? 1 : 0;
    case EG_UN_ELU: return x > 0 ? 1 : a * exp(x);
    case EG_UN_SOFTPLUS: return 1 / (1 + exp(-x));
    case EG_UN_POW: return a * pow(x, a - 1);
    case EG_UN_CLAMP: return x >= a && x <= b ? 1 : 0;
    case EG_UN_STEP: return 0;
    case EG_UN_LOG1P: return 1 / (1 + x);
    case EG_UN_SIN: return cos(x);
    case EG_UN_COS: return -sin(x);
    default: return NAN;
    }
}

static void test_unary(tb *t) {
    static const int64_t sizes[] = {1, 7, 33, 130, 40000};
    eg_dtype dt = t->dt;
    for (size_t c = 0; c < sizeof UN / sizeof *UN; c++) {
        const un_case *u = &UN[c];
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            int64_t n = sizes[s];
            double *x = randv(n, u->lo, u->hi);
            if (u->op == EG_UN_RECIP)
                for (int64_t i = 0; i < n; i++)
                    x[i] = i % 2 ? -x[i] : x[i];
            void *dx_ = dev_from(t, dt, x, n), *dy_ = dev_alloc(t, (size_t)n * dt_size(dt));
            char what[96];
            snprintf(what, sizeof what, "unary %s n=%lld", u->name, (long long)n);
            double *ref = malloc((size_t)n * sizeof *ref);
            for (int64_t i = 0; i < n; i++)
                ref[i] = un_ref(u->op, x[i], u->a, u->b);
            if (st_ok(t, t->d->unary(t->ctx, u->op, dt, n, dx_, dy_, u->a, u->b), what)) {
                double *got = to_host(t, dt, dy_, n);
                cmp(t, what, got, ref, n, tol_unary(dt));
                free(got);
            }
            /* backward, with y = f(x) supplied; overwrite and accumulate */
            for (int acc = 0; acc < 2; acc++) {
                double *g = randv(n, -1, 1), *d0 = randv(n, -1, 1), *yv = malloc((size_t)n * sizeof *yv);
                memcpy(yv, ref, (size_t)n * sizeof *yv);
                void *gy = dev_from(t, dt, g, n), *gd = dev_from(t, dt, d0, n), *yy = dev_from(t, dt, yv, n);
                snprintf(what, sizeof what, "unary_backward %s n=%lld acc=%d", u->name, (long long)n, acc);
                if (st_ok(t, t->d->unary_backward(t->ctx, u->op, dt, n, dx_, yy, gy, gd, u->a, u->b, acc), what)) {
                    double *got = to_host(t, dt, gd, n), *r = malloc((size_t)n * sizeof *r);
                    for (int64_t i = 0; i < n; i++)
                        r[i] = (acc ? d0[i] : 0) + g[i] * un_deriv(u->op, x[i], u->a, u->b);
                    cmp(t, what, got, r, n, tol_unary(dt));
                    free(got), free(r);
                }
                dev_free(t, gy), dev_free(t, gd), dev_free(t, yy);
                free(g), free(d0), free(yv);
            }
            dev_free(t, dx_), dev_free(t, dy_);
            free(x), free(ref);
        }
    }
    eg_status st = t->d->unary(t->ctx, EG_UN_COUNT, t->dt, 0, NULL, NULL, 0, 0);
    CHECK_MSG(st == EG_ERR_INVALID || (st == EG_ERR_UNSUPPORTED && t->dt == EG_F64), "%s: unary op out of range: %s",
              t->name, eg_strerror(st));
}

/* ------------------------------------------------------------------ binary */

static const char *BIN_NAMES[] = {"add", "sub", "mul", "div", "max", "min", "pow", "eq", "gt", "ge"};

static double bin_ref(eg_binary_op op, double x, double y) {
    switch (op) {
    case EG_BIN_ADD: return x + y;
    case EG_BIN_SUB: return x - y;
    case EG_BIN_MUL: return x * y;
    case EG_BIN_DIV: return x / y;
    case EG_BIN_MAX: return x > y ? x : y;
    case EG_BIN_MIN: return x < y ? x : y;
    case EG_BIN_POW: return pow(x, y);
    case EG_BIN_EQ: return x == y;
    case EG_BIN_GT: return x > y;
    case EG_BIN_GE: return x >= y;
    default: return NAN;
    }
}

/* out shape `shp`; a and b have shapes sa/sb (1 where broadcast); transpose_a walks a
 * through the strides of its reversed-axes layout (a non-contiguous operand). */
static void bin_case(tb *t, int nd, const int64_t *shp, const int64_t *sha, const int64_t *shb, int transpose_a) {
    eg_dtype dt = t->dt;
    int64_t na = 1, nb = 1, no = 1;
    for (int d = 0; d < nd; d++)
        na *= sha[d], nb *= shb[d], no *= shp[d];
    int64_t sta[EG_MAX_DIMS], stb[EG_MAX_DIMS], ca = 1, cb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        sta[d] = sha[d] == 1 ? 0 : ca;
        stb[d] = shb[d] == 1 ? 0 : cb;
        ca *= sha[d];
        cb *= shb[d];
    }
    if (transpose_a) { /* a stored with axes reversed */
        int64_t c = 1;
        for (int d = 0; d < nd; d++) {
            sta[d] = sha[d] == 1 ? 0 : c;
            c *= sha[d];
        }
    }
    char shape_s[96] = "";
    for (int d = 0; d < nd; d++)
        snprintf(shape_s + strlen(shape_s), sizeof shape_s - strlen(shape_s), "%s%lld/%lld/%lld", d ? "," : "",
                 (long long)shp[d], (long long)sha[d], (long long)shb[d]);
    for (int op = 0; op < EG_BIN_COUNT; op++) {
        int cmp_op = op == EG_BIN_EQ || op == EG_BIN_GT || op == EG_BIN_GE;
        double *A = randv(na, op == EG_BIN_POW ? 0.5 : -2, 2), *B = randv(nb, -2, 2);
        for (int64_t i = 0; i < nb; i++) {
            if (op == EG_BIN_DIV && fabs(B[i]) < 0.25) B[i] = 0.25 + B[i];
            if (cmp_op || op == EG_BIN_MAX || op == EG_BIN_MIN) B[i] = floor(B[i] * 2) / 2; /* ties happen */
        }
        if (cmp_op || op == EG_BIN_MAX || op == EG_BIN_MIN)
            for (int64_t i = 0; i < na; i++)
                A[i] = floor(A[i] * 2) / 2;
        void *da = dev_from(t, dt, A, na), *db = dev_from(t, dt, B, nb), *dout = dev_alloc(t, (size_t)no * dt_size(dt));
        eg_bcast_args p = {.dtype = dt, .op = (eg_binary_op)op, .ndim = nd, .a = da, .b = db, .out = dout};
        for (int d = 0; d < nd; d++)
            p.shape[d] = shp[d], p.stride_a[d] = sta[d], p.stride_b[d] = stb[d];
        char what[192];
        snprintf(what, sizeof what, "binary %s out/a/b=[%s]%s", BIN_NAMES[op], shape_s,
                 transpose_a ? " a transposed" : "");
        if (st_ok(t, t->d->binary(t->ctx, &p), what)) {
            double *got = to_host(t, dt, dout, no), *ref = malloc((size_t)no * sizeof *ref);
            for (int64_t i = 0; i < no; i++) {
                int64_t rem = i, ia = 0, ib = 0;
                for (int d = nd - 1; d >= 0; d--) {
                    int64_t k = rem % shp[d];
                    rem /= shp[d];
                    ia += k * sta[d];
                    ib += k * stb[d];
                }
                ref[i] = bin_ref((eg_binary_op)op, A[ia], B[ib]);
            }
            cmp(t, what, got, ref, no, tol_binary(dt));
            free(got), free(ref);
        }
        dev_free(t, da), dev_free(t, db), dev_free(t, dout);
        free(A), free(B);
    }
}

static void test_binary(tb *t) {
    struct {
        int nd;
        int64_t o[4], a[4], b[4];
        int tr;
    } cs[] = {
        {1, {1}, {1}, {1}, 0},                              /* one element */
        {1, {130}, {130}, {130}, 0},                        /* same shape */
        {3, {3, 7, 17}, {3, 7, 17}, {1, 1, 1}, 0},          /* b scalar */
        {3, {3, 7, 17}, {1, 1, 1}, {3, 7, 17}, 0},          /* a scalar */
        {3, {3, 7, 17}, {3, 7, 17}, {1, 1, 17}, 0},         /* row broadcast (last axis) */
        {3, {3, 7, 17}, {3, 7, 17}, {3, 7, 1}, 0},          /* column broadcast */
        {3, {3, 7, 17}, {3, 7, 17}, {3, 1, 17}, 0},         /* middle axis */
        {3, {3, 7, 17}, {1, 7, 17}, {3, 7, 17}, 0},         /* first axis, on a */
        {3, {3, 7, 17}, {1, 7, 1}, {3, 1, 17}, 0},          /* both broadcast (outer product) */
        {4, {2, 1, 5, 33}, {2, 1, 5, 33}, {1, 1, 5, 1}, 0}, /* size-1 axis in the output */
        {4, {2, 3, 5, 7}, {2, 3, 5, 7}, {2, 1, 5, 1}, 1},   /* non-contiguous a */
        {2, {130, 300}, {130, 300}, {1, 300}, 0},           /* big: threaded */
        {2, {300, 130}, {300, 130}, {300, 1}, 0},
        {1, {100000}, {100000}, {1}, 0}, /* one long row split over threads */
        {2, {2, 50000}, {1, 50000}, {2, 50000}, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++)
        bin_case(t, cs[i].nd, cs[i].o, cs[i].a, cs[i].b, cs[i].tr);
}

/* ------------------------------------------------------------------ reduce / softmax */

static const int64_t RS[][3] = {{1, 1, 1}, {3, 7, 1},      {1, 1000, 1},  {5, 17, 3},   {2, 130, 33}, {1, 1, 17},
                                {7, 1, 5}, {1, 100000, 1}, {200, 300, 1}, {4, 50, 300}, {3, 33, 130}};

static void test_reduce(tb *t) {
    static const char *names[] = {"sum", "max", "logsumexp", "min", "sumsq"};
    eg_dtype dt = t->dt;
    for (size_t s = 0; s < sizeof RS / sizeof *RS; s++) {
        int64_t O = RS[s][0], L = RS[s][1], I = RS[s][2], n = O * L * I;
        double *x = randv(n, -3, 3);
        void *dx = dev_from(t, dt, x, n), *dy = dev_alloc(t, (size_t)(O * I) * dt_size(dt));
        for (int op = 0; op < EG_RED_COUNT; op++) {
            char what[96];
            snprintf(what, sizeof what, "reduce %s [%lld,%lld,%lld]", names[op], (long long)O, (long long)L,
                     (long long)I);
            if (!st_ok(t, t->d->reduce(t->ctx, (eg_reduce_op)op, dt, O, L, I, dx, dy), what)) continue;
            double *got = to_host(t, dt, dy, O * I), *ref = malloc((size_t)(O * I) * sizeof *ref);
            for (int64_t o = 0; o < O; o++)
                for (int64_t i = 0; i < I; i++) {
                    int additive = op == EG_RED_SUM || op == EG_RED_SUMSQ;
                    double acc = additive ? 0 : op == EG_RED_MIN ? INFINITY : -INFINITY;
                    for (int64_t j = 0; j < L; j++) {
                        double v = x[(o * L + j) * I + i];
                        if (op == EG_RED_SUMSQ) v *= v;
                        acc = additive ? acc + v : op == EG_RED_MIN ? fmin(acc, v) : fmax(acc, v);
                    }
                    if (op == EG_RED_LOGSUMEXP) {
                        double s2 = 0;
                        for (int64_t j = 0; j < L; j++)
                            s2 += exp(x[(o * L + j) * I + i] - acc);
                        acc += log(s2);
                    }
                    ref[o * I + i] = acc;
                }
            /* a sum of L terms: allow L * eps-relative slack on the magnitude */
            tol tl = tol_reduce(dt);
            if (op == EG_RED_SUM) tl.atol *= sqrt((double)L);
            if (op == EG_RED_SUMSQ) tl.atol *= 3 * sqrt((double)L); /* terms up to 9 */
            cmp(t, what, got, ref, O * I, tl);
            free(got), free(ref);
        }
        dev_free(t, dx), dev_free(t, dy);
        free(x);
    }
    /* empty axis: the identities */
    void *dy = dev_alloc(t, 3 * dt_size(dt));
    if (st_ok(t, t->d->reduce(t->ctx, EG_RED_SUM, dt, 3, 0, 1, dy, dy), "reduce sum over empty axis")) {
        double *got = to_host(t, dt, dy, 3), ref[3] = {0, 0, 0};
        cmp(t, "reduce sum over empty axis", got, ref, 3, tol_exact());
        free(got);
    }
    dev_free(t, dy);
}

static void test_softmax(tb *t) {
    eg_dtype dt = t->dt;
    for (size_t s = 0; s < sizeof RS / sizeof *RS; s++)
        for (int lg = 0; lg < 2; lg++)
            for (int big = 0; big < 2; big++) {
                int64_t O = RS[s][0], L = RS[s][1], I = RS[s][2], n = O * L * I;
                if (big && n > 5000) continue;
                double *x = randv(n, big ? -300 : -4, big ? 300 : 4); /* big: e^x overflows unshifted */
                void *dx = dev_from(t, dt, x, n), *dy = dev_alloc(t, (size_t)n * dt_size(dt));
                double *ref = malloc((size_t)n * sizeof *ref);
                for (int64_t o = 0; o < O; o++)
                    for (int64_t i = 0; i < I; i++) {
                        double m = -INFINITY, z = 0;
                        for (int64_t j = 0; j < L; j++)
                            m = fmax(m, x[(o * L + j) * I + i]);
                        for (int64_t j = 0; j < L; j++)
                            z += exp(x[(o * L + j) * I + i] - m);
                        for (int64_t j = 0; j < L; j++) {
                            int64_t k = (o * L + j) * I + i;
                            ref[k] = lg ? x[k] - m - log(z) : exp(x[k] - m) / z;
                        }
                    }
                char what[112];
                snprintf(what, sizeof what, "%s [%lld,%lld,%lld]%s", lg ? "log_softmax" : "softmax", (long long)O,
                         (long long)L, (long long)I, big ? " |x|<=300" : "");
                if (st_ok(t, t->d->softmax(t->ctx, lg, dt, O, L, I, dx, dy), what)) {
                    double *got = to_host(t, dt, dy, n);
                    tol tl = tol_softmax(dt);
                    if (lg && big) tl.atol *= 300; /* absolute error scales with |x| */
                    cmp(t, what, got, ref, n, tl);
                    free(got);
                }
                /* backward: y = the (rounded) reference output, random dy */
                double *g = randv(n, -1, 1), *gx = malloc((size_t)n * sizeof *gx);
                void *dyy = dev_from(t, dt, ref, n), *dg = dev_from(t, dt, g, n),
                     *dgx = dev_alloc(t, (size_t)n * dt_size(dt));
                for (int64_t o = 0; o < O; o++)
                    for (int64_t i = 0; i < I; i++) {
                        double s2 = 0;
                        for (int64_t j = 0; j < L; j++) {
                            int64_t k = (o * L + j) * I + i;
                            s2 += lg ? g[k] : g[k] * ref[k];
                        }
                        for (int64_t j = 0; j < L; j++) {
                            int64_t k = (o * L + j) * I + i;
                            gx[k] = lg ? g[k] - exp(ref[k]) * s2 : ref[k] * (g[k] - s2);
                        }
                    }
                snprintf(what + strlen(what), sizeof what - strlen(what), " backward");
                if (st_ok(t, t->d->softmax_backward(t->ctx, lg, dt, O, L, I, dyy, dg, dgx), what)) {
                    double *got = to_host(t, dt, dgx, n);
                    tol tl = tol_softmax(dt);
                    tl.atol *= sqrt((double)L);
                    cmp(t, what, got, gx, n, tl);
                    free(got);
                }
                dev_free(t, dx), dev_free(t, dy), dev_free(t, dyy), dev_free(t, dg), dev_free(t, dgx);
                free(x), free(ref), free(g), free(gx);
            }
}

static void suite(tb *t) {
    test_memory(t);
    test_gemm(t);
    test_unary(t);
    test_binary(t);
    test_reduce(t);
    test_softmax(t);
}

int main(void) {
    return tb_main("backend ops", suite);
}
