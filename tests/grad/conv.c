/* grad/conv — finite-difference checks of conv2d, conv_transpose2d, conv1d,
 * conv_transpose1d (input, weight and bias; stride, padding, dilation,
 * output padding) and of nearest and bilinear upsampling. */
#include "grad_harness.h"

static eg_conv_opts g_o;
static int64_t g_oh, g_ow;
static int g_mode, g_align;

static eg_tensor *f_conv2d(eg_tensor *const *x, void *u) { (void)u; return eg_conv2d(x[0], x[1], x[2], &g_o); }
static eg_tensor *f_convt2d(eg_tensor *const *x, void *u) { (void)u; return eg_conv_transpose2d(x[0], x[1], x[2], &g_o); }
static eg_tensor *f_conv1d(eg_tensor *const *x, void *u) { (void)u; return eg_conv1d(x[0], x[1], x[2], &g_o); }
static eg_tensor *f_convt1d(eg_tensor *const *x, void *u) { (void)u; return eg_conv_transpose1d(x[0], x[1], x[2], &g_o); }
static eg_tensor *f_conv2d_twice(eg_tensor *const *x, void *u) {
    (void)u;
    return eg_conv2d(eg_tanh(eg_conv2d(x[0], x[1], NULL, &g_o)), x[1], NULL, &g_o);
}
static eg_tensor *f_up(eg_tensor *const *x, void *u) {
    (void)u;
    return eg_upsample2d(x[0], g_oh, g_ow, (eg_upsample_mode)g_mode, g_align);
}

int main(void) {
    eg_ctx *ctx = gh_open();
    if (!ctx) {
        CHECK(ctx != NULL);
        return eg_test_finish();
    }
    struct {
        int s, p, d, op;
    } cs[] = {{1, 0, 1, 0}, {2, 1, 1, 1}, {1, 2, 2, 0}, {2, 0, 1, 1}};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        eg_conv_opts o = {{cs[k].s, cs[k].s}, {cs[k].p, cs[k].p}, {cs[k].d, cs[k].d}, {0, 0}};
        g_o = o;
        char name[64];
        snprintf(name, sizeof name, "conv2d/s%d_p%d_d%d", cs[k].s, cs[k].p, cs[k].d);
        gh_in c2[3] = {gh_f64(4, (const int64_t[]){2, 3, 6, 5}, -1, 1), gh_f64(4, (const int64_t[]){4, 3, 3, 2}, -1, 1),
                       gh_f64(1, (const int64_t[]){4}, -1, 1)};
        gh_check(ctx, name, f_conv2d, NULL, 3, c2);
        g_o.output_pad[0] = g_o.output_pad[1] = cs[k].op;
        snprintf(name, sizeof name, "conv_transpose2d/s%d_p%d_d%d_op%d", cs[k].s, cs[k].p, cs[k].d, cs[k].op);
        gh_in t2[3] = {gh_f64(4, (const int64_t[]){2, 3, 4, 3}, -1, 1), gh_f64(4, (const int64_t[]){3, 2, 3, 2}, -1, 1),
                       gh_f64(1, (const int64_t[]){2}, -1, 1)};
        gh_check(ctx, name, f_convt2d, NULL, 3, t2);
        eg_conv_opts o1 = {{1, cs[k].s}, {0, cs[k].p}, {1, cs[k].d}, {0, 0}};
        g_o = o1;
        snprintf(name, sizeof name, "conv1d/s%d_p%d_d%d", cs[k].s, cs[k].p, cs[k].d);
        gh_in c1[3] = {gh_f64(3, (const int64_t[]){2, 3, 9}, -1, 1), gh_f64(3, (const int64_t[]){4, 3, 3}, -1, 1),
                       gh_f64(1, (const int64_t[]){4}, -1, 1)};
        gh_check(ctx, name, f_conv1d, NULL, 3, c1);
        g_o.output_pad[1] = cs[k].op;
        snprintf(name, sizeof name, "conv_transpose1d/s%d_p%d_d%d_op%d", cs[k].s, cs[k].p, cs[k].d, cs[k].op);
        gh_in t1[3] = {gh_f64(3, (const int64_t[]){2, 3, 5}, -1, 1), gh_f64(3, (const int64_t[]){3, 2, 3}, -1, 1),
                       gh_f64(1, (const int64_t[]){2}, -1, 1)};
        gh_check(ctx, name, f_convt1d, NULL, 3, t1);
    }
    /* the same weight used twice without bias: both weight gradients accumulate into one buffer */
    memset(&g_o, 0, sizeof g_o);
    g_o.pad[0] = g_o.pad[1] = 1;
    gh_in nb[2] = {gh_f64(4, (const int64_t[]){1, 2, 4, 4}, -1, 1), gh_f64(4, (const int64_t[]){2, 2, 3, 3}, -1, 1)};
    gh_check(ctx, "conv2d/twice", f_conv2d_twice, NULL, 2, nb);
    /* upsampling */
    struct {
        int mode, align;
        int64_t oh, ow;
    } us[] = {{EG_UPSAMPLE_NEAREST, 0, 6, 8}, {EG_UPSAMPLE_NEAREST, 0, 5, 7}, {EG_UPSAMPLE_BILINEAR, 0, 6, 8},
              {EG_UPSAMPLE_BILINEAR, 1, 5, 7}, {EG_UPSAMPLE_BILINEAR, 0, 2, 3}};
    for (size_t k = 0; k < sizeof us / sizeof us[0]; k++) {
        g_mode = us[k].mode;
        g_align = us[k].align;
        g_oh = us[k].oh;
        g_ow = us[k].ow;
        char name[64];
        snprintf(name, sizeof name, "upsample2d/%s_align%d_%lldx%lld", g_mode ? "bilinear" : "nearest", g_align,
                 (long long)g_oh, (long long)g_ow);
        gh_in in = gh_f64(4, (const int64_t[]){2, 2, 3, 4}, -1, 1);
        gh_check(ctx, name, f_up, NULL, 1, &in);
    }
    gh_close(ctx);
    return eg_test_finish();
}
