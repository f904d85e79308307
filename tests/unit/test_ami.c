/* test_ami.c — adjusted mutual information of the nem plugin (plugins/nem/nem_ami.c,
 * compiled into this test: pure host code) against values computed with
 * sklearn 1.2.1's adjusted_mutual_info_score (average_method 'arithmetic' and
 * 'max'), including the table of the N-EM notes §1.13; symmetry, permutation
 * invariance, the single-cluster special case and the group-0 mask. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "plugins/nem/nem_ami.c"

static int64_t parse(const char *s, int32_t *out) {
    int64_t n = 0;
    for (; *s; s++)
        out[n++] = *s - '0';
    return n;
}

typedef struct ami_case {
    const char *truth, *pred;
    double arith, max;
} ami_case;

/* reference values: sklearn.metrics.adjusted_mutual_info_score (sklearn 1.2.1) */
static const ami_case cases[] = {
    {"0011", "0011", 1, 1},
    {"0011", "1100", 1, 1},
    {"0000", "0123", 0, 0},
    {"0123", "0000", 0, 0},
    {"0011", "0012", 0.571428571429, 0.400000000000},
    {"000111", "001122", 0.298792458171, 0.225042283198},
    {"111222333", "112223333", 0.408670509722, 0.398630622972},
    {"0001112223", "0120120120", -0.409192744846, -0.357710863005},
    {"00000111112222233333", "01234012340123401234", -0.374605336829, -0.339811854800},
    {"0101010101", "0011001100", -0.098466594719, -0.096897813637},
    {"0", "0", 1, 1},
    {"0000", "0000", 1, 1},
    {"01", "01", 0, 0}, /* MI equals its expectation: 0 (the denominator is clamped to eps) */
    {"03103333131203200021233201111010303123302301313323011130320332323020001120013012230113113233223023101203020330"
     "300002303233111011130312012020132210311302232333212232332230123212102230323002023223000120",
     "12221000022000120010211100011210012111000121100120221112001022022211000221100211201111122201211110220110002121"
     "202011100000010221112110121100112122122011121112010112020202000012001210000010222002022011",
     -0.004813874517, -0.004307478762},
    {"111111111111111111111111111111111111111122222222222222222222222222222222222222223333333333333333333333333333"
     "333333333333",
     "120111111111011210111211121111121111111122222222222222222222222222222222222222220000000000000002020022001000"
     "000000000200",
     0.643832938115, 0.639059872864},
};

int main(void) {
    int32_t t[256], p[256], q[256];
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int64_t n = parse(cases[c].truth, t);
        CHECK(parse(cases[c].pred, p) == n);
        double a = nem_ami(t, p, n, NEM_AMI_ARITHMETIC), m = nem_ami(t, p, n, NEM_AMI_MAX);
        CHECK_MSG(fabs(a - cases[c].arith) < 1e-9, "case %zu arithmetic: %.12f, sklearn %.12f", c, a, cases[c].arith);
        CHECK_MSG(fabs(m - cases[c].max) < 1e-9, "case %zu max: %.12f, sklearn %.12f", c, m, cases[c].max);
        /* symmetric */
        CHECK_NEAR(nem_ami(p, t, n, NEM_AMI_MAX), m, 1e-12, 0);
        CHECK_NEAR(nem_ami(p, t, n, NEM_AMI_ARITHMETIC), a, 1e-12, 0);
        /* invariant to renaming labels (a permutation and a shift to other values) */
        for (int64_t i = 0; i < n; i++)
            q[i] = (p[i] * 7 + 3) % 11 + 20;
        CHECK_NEAR(nem_ami(t, q, n, NEM_AMI_MAX), m, 1e-12, 0);
    }
    /* masking: pixels of true group 0 do not change the score, whatever they are predicted as */
    int64_t n = parse("111222333", t);
    parse("112223333", p);
    int32_t tm[15], pm[15];
    memcpy(tm, t, sizeof(int32_t) * 9), memcpy(pm, p, sizeof(int32_t) * 9);
    const int32_t extra_t[6] = {0, 0, 0, 0, 0, 0}, extra_p[6] = {1, 2, 3, 1, 2, 0};
    memcpy(tm + 9, extra_t, sizeof extra_t), memcpy(pm + 9, extra_p, sizeof extra_p);
    CHECK_NEAR(nem_ami_masked(tm, pm, 15, NEM_AMI_MAX), 0.398630622972, 1e-9, 0);
    CHECK_NEAR(nem_ami_masked(tm, pm, 15, NEM_AMI_ARITHMETIC), 0.408670509722, 1e-9, 0);
    CHECK(fabs(nem_ami(tm, pm, 15, NEM_AMI_MAX) - 0.398630622972) > 0.01);   /* unmasked differs */
    CHECK_NEAR(nem_ami_masked(extra_t, extra_p, 6, NEM_AMI_MAX), 1.0, 0, 0); /* nothing left: 1 */
    (void)n;
    return eg_test_finish();
}
