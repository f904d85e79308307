/* grad/reduce — finite-difference checks of reductions along each axis (with
 * and without keepdim), whole-tensor reductions, softmax and log-softmax. */
#include "grad_harness.h"

static int g_axis, g_keep;

#define RED(nm, expr)                                         \
    static eg_tensor *f_##nm(eg_tensor *const *x, void *u) {  \
        (void)u;                                              \
        return expr;                                          \
    }
RED(sum, eg_sum(x[0], g_axis, g_keep))
RED(mean, eg_mean(x[0], g_axis, g_keep))
RED(max, eg_max(x[0], g_axis, g_keep))
RED(min, eg_min(x[0], g_axis, g_keep))
RED(logsumexp, eg_logsumexp(x[0], g_axis, g_keep))
RED(sumsq, eg_sumsq(x[0], g_axis, g_keep))
RED(softmax, eg_softmax(x[0], g_axis))
RED(log_softmax, eg_log_softmax(x[0], g_axis))
RED(sum_all, eg_sum_all(x[0]))
RED(mean_all, eg_mean_all(x[0]))
/* a reduction feeding a broadcast: x - mean(x) normalised */
RED(center, eg_div(eg_sub(x[0], eg_mean(x[0], -1, 1)), eg_add_scalar(eg_sum(eg_square(x[0]), -1, 1), 1.0)))

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    struct {
        const char *name;
        gh_fn f;
    } cases[] = {{"sum", f_sum},       {"mean", f_mean},           {"max", f_max},
                 {"min", f_min},       {"logsumexp", f_logsumexp}, {"softmax", f_softmax},
                 {"log_softmax", f_log_softmax}, {"sumsq", f_sumsq}};
    const int64_t shape[3] = {2, 3, 4};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int axis = -1; axis < 3; axis++)
            for (int keep = 0; keep < 2; keep++) {
                g_axis = axis;
                g_keep = keep;
                char name[64];
                snprintf(name, sizeof name, "%s/axis%d/keep%d", cases[k].name, axis, keep);
                /* distinct values so max/min have a unique winner far from ties */
                double v[24];
                for (int i = 0; i < 24; i++) v[i] = 0.1 * (double)((i * 7) % 24) - 1.2;
                gh_in in = gh_f64(3, shape, 0, 0);
                in.vals = v;
                gh_check(ctx, name, cases[k].f, NULL, 1, &in);
                if (cases[k].f == f_softmax || cases[k].f == f_log_softmax) break; /* no keepdim */
            }
    gh_in in = gh_f64(3, shape, -2, 2);
    gh_check(ctx, "sum_all", f_sum_all, NULL, 1, &in);
    gh_check(ctx, "mean_all", f_mean_all, NULL, 1, &in);
    gh_check(ctx, "center", f_center, NULL, 1, &in);
    /* max gradient goes to the first maximum on ties (finite differences cannot check this) */
    eg_scope *s = eg_scope_open(ctx);
    double tv[4] = {1, 3, 3, 0};
    eg_tensor *t = eg_from_host(ctx, EG_F64, EG_DIMS(4), tv);
    eg_requires_grad(t, 1);
    CHECK(eg_backward(eg_max(t, 0, 0)) == EG_OK);
    double g[4] = {-1, -1, -1, -1};
    eg_to_host_f64(eg_grad(t), g);
    CHECK(g[0] == 0 && g[1] == 1 && g[2] == 0 && g[3] == 0);
    eg_scope_close(s);
    gh_close(ctx);
    return eg_test_finish();
}
