/* test_@NAME@.c — the @NAME@ source against what its definition implies: values in
 * {-1, +1}, the same patterns for the same seed, children equal to the parent at
 * overlap 1, and the agreement of two children near (1 + overlap^2)/2 (within 5
 * standard errors). A test that can fail: it checks numbers, not that something ran.
 * Run: ctest --test-dir build */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "@NAME@.h"

static int failed, passed;
static void check(int ok, const char *what, double got, double want) {
    printf("%s %s: got %.6g, want %.6g\n", ok ? "ok  " : "FAIL", what, got, want);
    ok ? passed++ : failed++;
}

/* fraction of bits on which items a and b agree */
static double agreement(const float *x, int64_t dim, int64_t a, int64_t b) {
    int64_t same = 0;
    for (int64_t j = 0; j < dim; j++)
        same += x[a * dim + j] == x[b * dim + j];
    return (double)same / (double)dim;
}

int main(void) {
    const int64_t n = 40, dim = 4000;
    float *x = malloc((size_t)(n * dim) * sizeof *x), *y = malloc((size_t)(n * dim) * sizeof *y);
    if (!x || !y) return 1;
    const double overlaps[3] = {0.0, 0.6, 1.0};
    for (int k = 0; k < 3; k++) {
        double o = overlaps[k], want = 0.5 * (1 + o * o), sum = 0;
        @NAME@_generate(n, dim, o, 7, x);
        int pm = 1;
        for (int64_t i = 0; i < n * dim; i++)
            pm &= x[i] == 1.0f || x[i] == -1.0f;
        check(pm, "every value is +1 or -1", pm, 1);
        for (int64_t i = 1; i < n; i++)
            sum += agreement(x, dim, 0, i);
        double mean = sum / (double)(n - 1), se = sqrt(want * (1 - want) / (double)(dim * (n - 1)));
        char what[96];
        snprintf(what, sizeof what, "overlap %g: agreement of item 0 with the others", o);
        check(fabs(mean - want) <= 5 * se + 1e-12, what, mean, want);
    }
    @NAME@_generate(n, dim, 0.6, 7, x);
    @NAME@_generate(n, dim, 0.6, 7, y);
    check(memcmp(x, y, (size_t)(n * dim) * sizeof *x) == 0, "seed 7 twice: the same patterns", 1, 1);
    @NAME@_generate(n, dim, 0.6, 8, y);
    check(memcmp(x, y, (size_t)(n * dim) * sizeof *x) != 0, "seed 8: other patterns", 0, 0);
    /* the descriptor the host will read */
    const eg_data_desc *d = eg_data_entry();
    check(d->abi_major == EG_DATA_ABI_MAJOR && strcmp(d->source->name, "@NAME@") == 0,
          "eg_data_entry names the source @NAME@", d->abi_major, EG_DATA_ABI_MAJOR);
    free(x);
    free(y);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
