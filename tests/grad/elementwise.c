/* grad/elementwise — finite-difference checks of every differentiable unary and
 * binary op, binary ops also with broadcasting in both directions. */
#include "grad_harness.h"

#define UN(nm, expr)                                                 \
    static eg_tensor *f_##nm(eg_tensor *const *x, void *u) {         \
        (void)u;                                                     \
        return expr;                                                 \
    }
UN(scale, eg_scale(x[0], -1.7))
UN(add_scalar, eg_add_scalar(x[0], 0.3))
UN(affine, eg_affine(x[0], 2.5, -1.0))
UN(neg, eg_neg(x[0]))
UN(exp, eg_exp(x[0]))
UN(ln, eg_ln(x[0]))
UN(log1p, eg_log1p(x[0]))
UN(sqrt, eg_sqrt(x[0]))
UN(rsqrt, eg_rsqrt(x[0]))
UN(recip, eg_recip(x[0]))
UN(square, eg_square(x[0]))
UN(pow, eg_pow(x[0], 2.7))
UN(abs, eg_abs(x[0]))
UN(clamp, eg_clamp(x[0], -0.5, 0.4))
UN(sin, eg_sin(x[0]))
UN(cos, eg_cos(x[0]))
UN(sigmoid, eg_sigmoid(x[0]))
UN(tanh, eg_tanh(x[0]))
UN(relu, eg_relu(x[0]))
UN(elu, eg_elu(x[0], 0.8))
UN(softplus, eg_softplus(x[0]))
UN(add, eg_add(x[0], x[1]))
UN(sub, eg_sub(x[0], x[1]))
UN(mul, eg_mul(x[0], x[1]))
UN(div, eg_div(x[0], x[1]))
UN(maximum, eg_maximum(x[0], x[1]))
UN(minimum, eg_minimum(x[0], x[1]))
/* the same tensor on both sides, and a chain reusing an intermediate */
UN(mul_self, eg_mul(x[0], x[0]))
UN(reuse, eg_add(eg_mul(eg_sin(x[0]), x[1]), eg_square(eg_sin(x[0]))))

typedef struct {
    const char *name;
    gh_fn f;
    double lo, hi, gap;
} unary_case;

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    const int64_t s34[2] = {3, 4};
    unary_case un[] = {
        {"scale", f_scale, -2, 2, 0},       {"add_scalar", f_add_scalar, -2, 2, 0}, {"affine", f_affine, -2, 2, 0},
        {"neg", f_neg, -2, 2, 0},           {"exp", f_exp, -2, 2, 0},               {"ln", f_ln, 0.2, 3, 0},
        {"log1p", f_log1p, -0.5, 3, 0},     {"sqrt", f_sqrt, 0.2, 3, 0},           {"rsqrt", f_rsqrt, 0.2, 3, 0},
        {"recip", f_recip, -2, 2, 0.3},     {"square", f_square, -2, 2, 0},        {"pow", f_pow, 0.2, 2, 0},
        {"abs", f_abs, -2, 2, 0.05},        {"sin", f_sin, -3, 3, 0},              {"cos", f_cos, -3, 3, 0},
        {"sigmoid", f_sigmoid, -4, 4, 0},   {"tanh", f_tanh, -3, 3, 0},            {"relu", f_relu, -2, 2, 0.05},
        {"elu", f_elu, -2, 2, 0.05},        {"softplus", f_softplus, -4, 4, 0},
    };
    for (size_t k = 0; k < sizeof un / sizeof un[0]; k++) {
        gh_in in = gh_gap(gh_f64(2, s34, un[k].lo, un[k].hi), un[k].gap);
        gh_check(ctx, un[k].name, un[k].f, NULL, 1, &in);
    }
    /* clamp: values on both sides of each bound, none within eps of it */
    double cv[8] = {-1.2, -0.7, -0.45, -0.1, 0.0, 0.3, 0.45, 1.5};
    gh_in cin = gh_f64(1, (const int64_t[]){8}, 0, 0);
    cin.vals = cv;
    gh_check(ctx, "clamp", f_clamp, NULL, 1, &cin);

    /* binary ops: same shape, [3,4] with [4], [2,1,3] with [4,1], scalar with [3,4] */
    struct {
        const char *name;
        gh_fn f;
        double lo, hi, gap_b;
    } bin[] = {{"add", f_add, -2, 2, 0},         {"sub", f_sub, -2, 2, 0},         {"mul", f_mul, -2, 2, 0},
               {"div", f_div, -2, 2, 0.4},       {"maximum", f_maximum, -2, 2, 0}, {"minimum", f_minimum, -2, 2, 0}};
    struct {
        int na, nb;
        int64_t sa[3], sb[3];
    } shapes[] = {{2, 2, {3, 4}, {3, 4}}, {2, 1, {3, 4}, {4}}, {3, 2, {2, 1, 3}, {4, 1}}, {0, 2, {0}, {3, 4}},
                  {1, 3, {3}, {2, 4, 1}}};
    for (size_t k = 0; k < sizeof bin / sizeof bin[0]; k++)
        for (size_t q = 0; q < sizeof shapes / sizeof shapes[0]; q++) {
            char name[64];
            snprintf(name, sizeof name, "%s/case%zu", bin[k].name, q);
            gh_in in[2] = {gh_f64(shapes[q].na, shapes[q].sa, bin[k].lo, bin[k].hi),
                           gh_gap(gh_f64(shapes[q].nb, shapes[q].sb, bin[k].lo, bin[k].hi), bin[k].gap_b)};
            gh_check(ctx, name, bin[k].f, NULL, 2, in);
        }
    gh_in self = gh_f64(2, s34, -2, 2);
    gh_check(ctx, "mul_self", f_mul_self, NULL, 1, &self);
    gh_in re[2] = {gh_f64(2, s34, -2, 2), gh_f64(1, (const int64_t[]){4}, -2, 2)};
    gh_check(ctx, "reuse", f_reuse, NULL, 2, re);
    gh_close(ctx);
    return eg_test_finish();
}
