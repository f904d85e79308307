/* test_vmfdam_teacher.c — the `teacher-student` dataset source (datasets/teacher_student.c).
 * The vMF sampler is checked by its sufficient statistic: for x ~ vMF(w*, kappa)
 * on S^{N-1}, E[x.w*] = A_N(kappa) = I_{N/2}(kappa)/I_{N/2-1}(kappa) and
 * Var[x.w*] = A_N'(kappa) (values from mpmath); the sample mean must fall within
 * 4 standard errors, for N = 3, 20 and 100. Also: unit vectors, labels mu mod C
 * of the generating teacher (recovered as the nearest teacher at high kappa), the
 * teacher split, determinism in the seed, and independent train/test draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/cfg.h"
#include "engram/source.h"

static void set(eg_cfg *c, const char *key, const char *text) {
    eg_value v;
    CHECK(eg_value_parse(text, &v) == EG_OK);
    eg_cfg_set(c, key, &v);
    eg_value_free(&v);
}

static eg_dataset *load(int64_t n, int64_t dim, int64_t teachers, int64_t classes, double beta, int64_t seed,
                        const char *split) {
    const eg_data_source *s = eg_data_source_find("teacher-student");
    CHECK(s != NULL);
    if (!s) return NULL;
    eg_cfg c;
    eg_cfg_init(&c);
    char t[64];
    snprintf(t, sizeof t, "%lld", (long long)n), set(&c, "data.n", t), set(&c, "data.n_test", t);
    snprintf(t, sizeof t, "%lld", (long long)dim), set(&c, "data.dim", t);
    snprintf(t, sizeof t, "%lld", (long long)teachers), set(&c, "data.teachers", t);
    snprintf(t, sizeof t, "%lld", (long long)classes), set(&c, "data.classes", t);
    snprintf(t, sizeof t, "%.17g", beta), set(&c, "data.beta", t);
    snprintf(t, sizeof t, "%lld", (long long)seed), set(&c, "data.seed", t);
    eg_dataset *ds = NULL;
    char err[1024] = "";
    eg_status st = s->load(&c, split, &ds, err, sizeof err);
    CHECK_MSG(st == EG_OK, "load: %s", err);
    eg_cfg_free(&c);
    return ds;
}

/* mean and variance of the overlap with the generating teacher (classes = teachers, so the
 * label is the teacher's index); how often that teacher is also the nearest one */
static void stats(const eg_dataset *d, const eg_dataset *t, int64_t classes, double *mean, double *var, double *agree) {
    double s = 0, s2 = 0;
    int64_t ok = 0;
    for (int64_t i = 0; i < d->n; i++) {
        double best = -2, n2 = 0;
        int64_t arg = 0;
        for (int64_t j = 0; j < d->dim; j++)
            n2 += (double)d->x[i * d->dim + j] * d->x[i * d->dim + j];
        CHECK_NEAR(n2, 1.0, 1e-5, 0);
        for (int64_t k = 0; k < t->n; k++) {
            double dot = 0;
            for (int64_t j = 0; j < d->dim; j++)
                dot += (double)d->x[i * d->dim + j] * t->x[k * t->dim + j];
            if (dot > best) best = dot, arg = k;
        }
        double own = 0;
        for (int64_t j = 0; j < d->dim; j++)
            own += (double)d->x[i * d->dim + j] * t->x[d->y[i] * t->dim + j];
        s += own, s2 += own * own;
        ok += d->y[i] == (int32_t)(arg % classes);
    }
    *mean = s / (double)d->n;
    *var = s2 / (double)d->n - *mean * *mean;
    *agree = (double)ok / (double)d->n;
}

int main(void) {
    /* {N, kappa, A_N(kappa), A_N'(kappa)} from mpmath */
    const double cases[][4] = {{20, 30, 0.728668115976597, 0.007552969974},
                               {3, 5, 0.800090803982019, 0.03981838379},
                               {100, 200, 0.782214662378048, 0.0009439640837}};
    const int64_t n = 3000;
    for (int c = 0; c < 3; c++) {
        int64_t dim = (int64_t)cases[c][0];
        /* two teachers, two classes: the label names the generating teacher */
        eg_dataset *t = load(n, dim, 2, 2, cases[c][1], 5, "teacher");
        eg_dataset *d = load(n, dim, 2, 2, cases[c][1], 5, "train");
        if (!t || !d) return eg_test_finish();
        CHECK(t->n == 2 && t->y[0] == 0 && t->y[1] == 1 && d->n == n && d->n_classes == 2);
        double mean, var, agree;
        stats(d, t, 2, &mean, &var, &agree);
        double se = sqrt(cases[c][3] / (double)n);
        printf("N = %g, kappa = %g: mean cosine %.5f (A_N %.5f, se %.5f), variance %.5f (A' %.5f), labels %.4f\n",
               cases[c][0], cases[c][1], mean, cases[c][2], se, var, cases[c][3], agree);
        CHECK_MSG(fabs(mean - cases[c][2]) < 4 * se, "N = %g: mean cosine %g vs A_N %g", cases[c][0], mean,
                  cases[c][2]);
        CHECK_MSG(fabs(var / cases[c][3] - 1) < 0.15, "N = %g: variance %g vs A' %g", cases[c][0], var, cases[c][3]);
        if (cases[c][0] >= 20) CHECK(agree > 0.99);
        eg_dataset_free(t), eg_dataset_free(d);
    }
    /* kappa = 0: uniform on the sphere, the cosine with a fixed direction has mean 0 and variance 1/N */
    eg_dataset *t = load(n, 10, 1, 1, 0.0, 3, "teacher"), *d = load(n, 10, 1, 1, 0.0, 3, "train");
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        double dot = 0;
        for (int j = 0; j < 10; j++)
            dot += (double)d->x[i * 10 + j] * t->x[j];
        s += dot, s2 += dot * dot;
    }
    CHECK_MSG(fabs(s / n) < 4 * sqrt(0.1 / n), "uniform: mean cosine %g", s / n);
    CHECK_MSG(fabs(s2 / n / 0.1 - 1) < 0.1, "uniform: variance %g (1/N = 0.1)", s2 / n);
    eg_dataset_free(t), eg_dataset_free(d);
    /* labels mu mod C, determinism, independent splits */
    eg_dataset *a = load(200, 16, 7, 3, 50, 9, "train"), *b = load(200, 16, 7, 3, 50, 9, "train");
    eg_dataset *e = load(200, 16, 7, 3, 50, 10, "train"), *f = load(200, 16, 7, 3, 50, 9, "test");
    eg_dataset *tt = load(200, 16, 7, 3, 50, 9, "teacher");
    CHECK(memcmp(a->x, b->x, 200 * 16 * sizeof(float)) == 0 && memcmp(a->y, b->y, 200 * sizeof(int32_t)) == 0);
    CHECK(memcmp(a->x, e->x, 200 * 16 * sizeof(float)) != 0);
    CHECK(memcmp(a->x, f->x, 200 * 16 * sizeof(float)) != 0);
    for (int k = 0; k < 7; k++)
        CHECK(tt->y[k] == k % 3);
    int used[3] = {0};
    for (int i = 0; i < 200; i++) {
        CHECK(a->y[i] >= 0 && a->y[i] < 3);
        used[a->y[i] % 3]++;
    }
    CHECK(used[0] && used[1] && used[2]);
    eg_dataset_free(a), eg_dataset_free(b), eg_dataset_free(e), eg_dataset_free(f), eg_dataset_free(tt);
    return eg_test_finish();
}
