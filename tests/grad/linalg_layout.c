/* grad/linalg_layout — finite-difference checks of matrix products (every
 * transpose combination, alpha, batched and shared operands), layout ops and
 * gathers/scatters. */
#include "grad_harness.h"

static int g_ta, g_tb, g_axis;

#define OP(nm, expr)                                          \
    static eg_tensor *f_##nm(eg_tensor *const *x, void *u) {  \
        (void)u;                                              \
        return expr;                                          \
    }
OP(matmul, eg_matmul(x[0], x[1]))
OP(matmul_nt, eg_matmul_nt(x[0], x[1]))
OP(matmul_tn, eg_matmul_tn(x[0], x[1]))
OP(gemm, eg_gemm(x[0], x[1], g_ta, g_tb, -0.7))
OP(reshape, eg_sin(eg_reshape(x[0], EG_DIMS(4, -1))))
OP(flatten, eg_sin(eg_flatten(x[0], 1)))
OP(transpose, eg_mul(eg_transpose(x[0], 0, 2), eg_transpose(x[0], 2, 0)))
OP(permute, eg_sin(eg_permute(x[0], (const int[]){1, 2, 0})))
OP(narrow, eg_narrow(x[0], g_axis, 1, eg_dim(x[0], g_axis) - 1))
OP(concat, eg_concat((eg_tensor *const[]){x[0], eg_square(x[1]), x[0]}, 3, g_axis))
OP(expand, eg_mul(eg_expand(x[0], EG_DIMS(2, 3, 4)), x[1]))
OP(index_select, eg_index_select(x[0], g_axis, x[1]))
OP(take_along, eg_take_along(x[0], g_axis, x[1]))
OP(index_add, eg_index_add(x[0], g_axis, x[1], x[2]))
OP(cast, eg_cast(eg_cast(x[0], EG_F64), EG_F64))

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    /* plain and batched products */
    struct {
        const char *name;
        gh_fn f;
        int na, nb;
        int64_t sa[3], sb[3];
    } mm[] = {
        {"matmul/2d", f_matmul, 2, 2, {3, 4}, {4, 5}},
        {"matmul/batched", f_matmul, 3, 3, {2, 3, 4}, {2, 4, 5}},
        {"matmul/shared_b", f_matmul, 3, 2, {2, 3, 4}, {4, 5}},
        {"matmul/shared_a", f_matmul, 2, 3, {3, 4}, {2, 4, 5}},
        {"matmul_nt/2d", f_matmul_nt, 2, 2, {3, 4}, {5, 4}},
        {"matmul_nt/shared_b", f_matmul_nt, 3, 2, {2, 3, 4}, {5, 4}},
        {"matmul_nt/batched", f_matmul_nt, 3, 3, {2, 3, 4}, {2, 5, 4}},
        {"matmul_tn/2d", f_matmul_tn, 2, 2, {4, 3}, {4, 5}},
        {"matmul_tn/shared_b", f_matmul_tn, 3, 2, {2, 4, 3}, {4, 5}},
        {"matmul_tn/shared_a", f_matmul_tn, 2, 3, {4, 3}, {2, 4, 5}},
    };
    for (size_t k = 0; k < sizeof mm / sizeof mm[0]; k++) {
        gh_in in[2] = {gh_f64(mm[k].na, mm[k].sa, -1, 1), gh_f64(mm[k].nb, mm[k].sb, -1, 1)};
        gh_check(ctx, mm[k].name, mm[k].f, NULL, 2, in);
    }
    for (g_ta = 0; g_ta < 2; g_ta++)
        for (g_tb = 0; g_tb < 2; g_tb++) {
            char name[64];
            snprintf(name, sizeof name, "gemm/ta%d/tb%d", g_ta, g_tb);
            int64_t sa[3] = {2, g_ta ? 4 : 3, g_ta ? 3 : 4}, sb[2] = {g_tb ? 5 : 4, g_tb ? 4 : 5};
            gh_in in[2] = {gh_f64(3, sa, -1, 1), gh_f64(2, sb, -1, 1)};
            gh_check(ctx, name, f_gemm, NULL, 2, in);
        }
    /* layout */
    const int64_t s234[3] = {2, 3, 4};
    gh_in x = gh_f64(3, s234, -1, 1);
    gh_check(ctx, "reshape", f_reshape, NULL, 1, &x);
    gh_check(ctx, "flatten", f_flatten, NULL, 1, &x);
    const int64_t s232[3] = {2, 3, 2};
    gh_in xt = gh_f64(3, s232, -1, 1);
    gh_check(ctx, "transpose", f_transpose, NULL, 1, &xt);
    gh_check(ctx, "permute", f_permute, NULL, 1, &x);
    for (g_axis = 0; g_axis < 3; g_axis++) {
        char name[64];
        snprintf(name, sizeof name, "narrow/axis%d", g_axis);
        gh_check(ctx, name, f_narrow, NULL, 1, &x);
        snprintf(name, sizeof name, "concat/axis%d", g_axis);
        int64_t sb[3] = {2, 3, 4};
        sb[g_axis] = 1;
        gh_in cc[2] = {x, gh_f64(3, sb, -1, 1)};
        gh_check(ctx, name, f_concat, NULL, 2, cc);
    }
    gh_in ex[2] = {gh_f64(2, (const int64_t[]){3, 1}, -1, 1), gh_const(gh_f64(3, s234, -1, 1))};
    gh_check(ctx, "expand", f_expand, NULL, 2, ex);
    /* gathers: repeated indices accumulate */
    int32_t idx[5] = {2, 0, 2, 1, 2};
    for (g_axis = 0; g_axis < 3; g_axis++) {
        char name[64];
        int32_t id[5];
        for (int i = 0; i < 5; i++) id[i] = idx[i] % (int32_t)s234[g_axis];
        snprintf(name, sizeof name, "index_select/axis%d", g_axis);
        gh_in is[2] = {x, gh_i32(1, (const int64_t[]){5}, id)};
        gh_check(ctx, name, f_index_select, NULL, 2, is);
        /* index_add: src has 5 rows along the axis */
        int64_t ss[3] = {2, 3, 4};
        ss[g_axis] = 5;
        snprintf(name, sizeof name, "index_add/axis%d", g_axis);
        gh_in ia[3] = {gh_const(x), gh_i32(1, (const int64_t[]){5}, id), gh_f64(3, ss, -1, 1)};
        gh_check(ctx, name, f_index_add, NULL, 3, ia);
    }
    /* take_along: per-row picks along axis 1 of [2,3,4] (index [2, 5]) and axis 2 (index [2,3,2]) */
    int32_t t1[10] = {0, 2, 2, 1, 0, 1, 1, 2, 0, 0};
    g_axis = 1;
    gh_in ta1[2] = {x, gh_i32(2, (const int64_t[]){2, 5}, t1)};
    gh_check(ctx, "take_along/axis1", f_take_along, NULL, 2, ta1);
    int32_t t2[12] = {3, 0, 1, 1, 2, 3, 0, 0, 3, 2, 1, 3};
    g_axis = 2;
    gh_in ta2[2] = {x, gh_i32(3, (const int64_t[]){2, 3, 2}, t2)};
    gh_check(ctx, "take_along/axis2", f_take_along, NULL, 2, ta2);
    gh_check(ctx, "cast", f_cast, NULL, 1, &x);
    /* f64 -> f32 -> f64: gradient is exactly the upstream one (rounded) */
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *c = eg_full(ctx, EG_F64, EG_DIMS(3), 0.25);
    eg_requires_grad(c, 1);
    eg_tensor *w = eg_from_host(ctx, EG_F64, EG_DIMS(3), (const double[]){1.5, -2, 4});
    CHECK(eg_backward(eg_sum_all(eg_mul(eg_cast(eg_cast(c, EG_F32), EG_F64), w))) == EG_OK);
    double g[3] = {0};
    eg_to_host_f64(eg_grad(c), g);
    CHECK(g[0] == 1.5 && g[1] == -2 && g[2] == 4);
    eg_scope_close(s);
    gh_close(ctx);
    return eg_test_finish();
}
