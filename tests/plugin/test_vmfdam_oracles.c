/* test_vmfdam_oracles.c — the vmfdam plugin against known answers
 * (reference/model-vmfdam.md §10): the log-normalizer tau(beta) and its
 * derivative for N = 2 .. 3072 and beta = 1e-3 .. 1e4 against 40-digit mpmath
 * values (log(hyp0f1(N/2, beta^2/4)) and besseli(N/2, beta)/besseli(N/2-1, beta),
 * computed independently and pasted below), the reference code's Debye formula,
 * the AltOneNorm Sinkhorn, the forward pass and loss of the tiny example,
 * preprocessing, the split bookkeeping, selection and the growth schedule.
 * The plugin's code is linked into this test (see eg_link_plugin_code), which calls it directly. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry/loader.h"
#include "vmfdam.h"

static eg_ctx *ctx;

/* {N, beta, tau, A = tau'}: mpmath, 40 digits */
static const double tau_table[][4] = {
    {2, 1e-3, 0.00000024999998437500174, 0.00049999993750001042},
    {2, 0.1, 0.0024984392338762434, 0.049937603987938919},
    {2, 1, 0.23591435850717865, 0.44638996589653451},
    {2, 6, 4.2081851250759772, 0.91235930435291526},
    {2, 18, 15.643025194320088, 0.97181287331801638},
    {2, 100, 96.779732689942584, 0.99498737300516877},
    {2, 1000, 995.62730888986946, 0.99949987487480428},
    {2, 1e4, 9994.4759037814323, 0.99994999874987498},
    {3, 1e-3, 0.00000016666666111111146, 0.00033333331111111323},
    {3, 0.1, 0.0016661114635804605, 0.03331113225398961},
    {3, 1, 0.16143936157119563, 0.3130352854993313},
    {3, 6, 3.5150872059807706, 0.83334562183354314},
    {3, 18, 14.41648106154389, 0.94444444444444491},
    {3, 100, 94.701682633451963, 0.99},
    {3, 1000, 992.39909754045792, 0.999},
    {3, 1e4, 9990.0965124474639, 0.9999},
    {4, 1e-3, 0.00000012499999739583344, 0.00024999998958333398},
    {4, 0.1, 0.0012497396917860537, 0.024989589839412659},
    {4, 1, 0.12249919306911403, 0.24019372387008974},
    {4, 6, 3.0178514439838341, 0.7627260757491918},
    {4, 18, 13.417208606765828, 0.91789357431330151},
    {4, 100, 92.862684452163302, 0.98503788000815684},
    {4, 1000, 989.41220054121779, 0.99850037537549303},
    {4, 1e4, 9985.9586605875158, 0.99985000375037505},
    {5, 1e-3, 0.000000099999998571428614, 0.00019999999428571454},
    {5, 0.1, 0.00099985718516993658, 0.019994288252748486},
    {5, 1, 0.098612288668109691, 0.19452804946532511},
    {5, 6, 2.6396332147183983, 0.69998230482063453},
    {5, 18, 12.567563178475887, 0.89215686274509752},
    {5, 100, 91.18507440027848, 0.9801010101010101},
    {5, 1000, 986.58895404981031, 0.998001001001001},
    {5, 1e4, 9981.9846843591555, 0.9998000100010001},
    {10, 1e-3, 0.000000049999999791666669, 9.9999999166666679e-5},
    {10, 0.1, 0.00049997916865055342, 0.0099991667856950677},
    {10, 1, 0.049793627086355341, 0.099178382399712559},
    {10, 6, 1.5952070233894574, 0.47897344259399051},
    {10, 18, 9.5767248036267299, 0.77541728908055564},
    {10, 100, 84.22930108441023, 0.95579517288124742},
    {10, 1000, 973.938926332887, 0.99550788285570415},
    {10, 1e4, 9963.5843848061216, 0.99955007875787308},
    {36, 1e-3, 0.000000013888888883812541, 2.7777777757472385e-5},
    {36, 0.1, 0.00013888838125876134, 0.00277775747266668},
    {36, 1, 0.013883817235051677, 0.027757500539564582},
    {36, 6, 0.49363094710806662, 0.16248761603875725},
    {36, 18, 4.0823997854241242, 0.41657365977912151},
    {36, 100, 62.331666163773769, 0.83947714639549719},
    {36, 1000, 923.33947582863975, 0.9826445091296082},
    {36, 1e4, 9883.174242258396, 0.99825144389335404},
    {100, 1e-3, 0.000000004999999999754902, 9.9999999990196078e-6},
    {100, 0.1, 0.000049999975490227501, 0.0009999990196097285},
    {100, 1, 0.0049997549333780309, 0.0099990197963354615},
    {100, 6, 0.17968380970223335, 0.05978968897758466},
    {100, 18, 1.5952817402695409, 0.17461340446450319},
    {100, 100, 37.821596784319632, 0.61956561418538863},
    {100, 1000, 834.47639586093527, 0.95170085470763675},
    {100, 1e4, 9721.5791255855016, 0.99506200487848212},
    {784, 1e-3, 0.00000000063775510204029886, 1.2755102040795628e-6},
    {784, 0.1, 0.0000063775509686611453, 0.00012755101833828257},
    {784, 1, 0.00063775458457174207, 0.0012755081342075693},
    {784, 6, 0.022958513084202271, 0.0076526141823433266},
    {784, 18, 0.20657836905862408, 0.022947124774112316},
    {784, 100, 6.3268881656841709, 0.12554555905699528},
    {784, 1000, 436.83961275690959, 0.68228923230605237},
    {784, 1e4, 8603.2780687938654, 0.9616141881516842},
    {3072, 1e-3, 0.00000000016276041666665805, 3.2552083333329886e-7},
    {3072, 0.1, 0.000001627604165804892, 3.2552083298862347e-5},
    {3072, 1, 0.00016276040804892122, 0.00032552079886235399},
    {3072, 6, 0.0058593638314570605, 0.0019531175543236176},
    {3072, 18, 0.05273347038478198, 0.0058591739789907428},
    {3072, 100, 1.6267436055705681, 0.032517685112884769},
    {3072, 1000, 155.16282403329716, 0.2968513470574797},
    {3072, 1e4, 6533.7826125533005, 0.85816368320634506},
};

static void test_tau(void) {
    double worst = 0, worst_d = 0;
    for (size_t i = 0; i < sizeof tau_table / sizeof *tau_table; i++) {
        double t, d;
        vmf_tau_exact(tau_table[i][0], tau_table[i][1], &t, &d);
        double e = fabs(t / tau_table[i][2] - 1), ed = fabs(d / tau_table[i][3] - 1);
        CHECK_MSG(e < 1e-12, "tau(N=%g, beta=%g) = %.17g, mpmath %.17g", tau_table[i][0], tau_table[i][1], t,
                  tau_table[i][2]);
        CHECK_MSG(ed < 1e-12, "tau'(N=%g, beta=%g) = %.17g, mpmath %.17g", tau_table[i][0], tau_table[i][1], d,
                  tau_table[i][3]);
        worst = fmax(worst, e), worst_d = fmax(worst_d, ed);
    }
    printf("tau: worst relative error %.2e, derivative %.2e over %zu (N, beta) pairs\n", worst, worst_d,
           sizeof tau_table / sizeof *tau_table);
    /* a dense sweep: finite-difference derivative and monotonicity, N = 2..40 and a few large */
    int bad = 0;
    for (int N = 2; N <= 800; N += N < 40 ? 1 : 97)
        for (double b = 1e-3; b <= 1e4; b *= 1.7) {
            double t0, t1, t2, d;
            double h = 1e-5 * b;
            vmf_tau_exact(N, b, &t0, &d);
            vmf_tau_exact(N, b - h, &t1, NULL);
            vmf_tau_exact(N, b + h, &t2, NULL);
            double fd = (t2 - t1) / (2 * h);
            if (!(fabs(fd - d) <= 1e-6 * d + 1e-12 * t0 / b) || !(t2 > t0 && t0 > t1) || !(d > 0 && d < 1)) {
                if (bad++ < 5) fprintf(stderr, "N=%d beta=%g: tau %.17g tau' %.17g fd %.17g\n", N, b, t0, d, fd);
            }
        }
    CHECK_MSG(bad == 0, "%d (N, beta) points failed the finite-difference/monotonicity check", bad);
    /* the notes' oracles (§10) */
    double t, d;
    vmf_tau_exact(784, 391, &t, NULL);
    CHECK_NEAR(t, 88.1879418184, 1e-9, 0);
    vmf_tau_exact(784, 32, &t, NULL);
    CHECK_NEAR(t, 0.652519813134, 1e-11, 0);
    vmf_tau_exact(784, 10, &t, &d);
    CHECK_NEAR(t, 0.0637703366186, 1e-12, 0);
    CHECK_NEAR(d, 0.01275303283, 1e-11, 0);
    vmf_tau_exact(36, 10, &t, NULL);
    CHECK_NEAR(t, 1.34231064859, 1e-10, 0);
    /* beyond the series range: asymptotic expansions (mpmath values) */
    vmf_tau_exact(784, 2.5e5, &t, &d);
    CHECK_NEAR(t, 247350.42586734812, 1e-6, 0);
    CHECK_NEAR(d, 0.99843522305014428, 1e-9, 0);
    /* even in beta, 0 at 0 */
    vmf_tau_exact(10, 0, &t, &d);
    CHECK(t == 0 && d == 0);
    /* the reference code's formula */
    const double dbg[][3] = {{784, 1, 6.377504130e-4},  {784, 6, 0.0229583629558}, {784, 10, 0.0637699198344},
                             {784, 14, 0.124979313074}, {784, 18, 0.206577021382}, {784, 32, 0.652515580328},
                             {784, 100, 6.32684991417}, {784, 391, 88.1876911670}, {784, 1000, 436.839308925},
                             {36, 1, 0.0138359703},     {36, 10, 1.33902984072},   {3, 1, -0.0249314019}};
    for (size_t i = 0; i < sizeof dbg / sizeof *dbg; i++) {
        vmf_tau_debye(dbg[i][0], dbg[i][1], &t, NULL);
        CHECK_MSG(fabs(t - dbg[i][2]) <= 2e-10 * fmax(1, fabs(dbg[i][2])) + 1e-10, "debye(N=%g, beta=%g) = %.12g",
                  dbg[i][0], dbg[i][1], t);
    }
    vmf_tau_debye(784, 100, NULL, &d);
    CHECK_NEAR(d, 0.1255448582, 1e-10, 0);
    /* ln Omega_N(0) and ln Omega_784(beta) = ln Omega_784(0) + tau */
    CHECK_NEAR(vmf_log_omega0(784), -1497.24089896263384, 1e-10, 0);
    CHECK_NEAR(vmf_log_omega0(36), -12.2067883242877404, 1e-12, 0);
    CHECK_NEAR(vmf_log_omega0(3), 2.531024246969, 1e-12, 0);
    vmf_tau_exact(784, 100, &t, NULL);
    CHECK_NEAR(vmf_log_omega0(784) + t, -1490.91401079694967, 1e-9, 0);
    vmf_tau_exact(784, 1, &t, NULL);
    CHECK_NEAR(vmf_log_omega0(784) + t, -1497.24026120804927, 1e-10, 0);
}

static eg_tensor *mat(int64_t r, int64_t c, const double *v) {
    return eg_from_host(ctx, EG_F64, EG_DIMS(r, c), v);
}

/* Sinkhorn oracles: P = 2, P_max = 4, G = [1, 1, 0.5], p_q = [.45, .45, .1] */
static void test_sinkhorn(void) {
    const double g0[9] = {1, 2, 1, 3, 1, 1, 1, 1, 1}, G[3] = {1, 1, 0.5}, col[3] = {1.125, 1.125, 0.25};
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *rows = mat(3, 1, G), *cols = mat(1, 3, col);
    eg_tensor *g = eg_persistent(ctx, EG_F64, EG_DIMS(3, 3));
    double out[9], rs[3];
    eg_assign(g, mat(3, 3, g0));
    CHECK(vmf_sinkhorn(g, rows, cols, 1) == 1);
    CHECK(eg_to_host_f64(g, out) == EG_OK);
    const double one[9] = {.2766393443, .6490384615, .1013513514, .6639344262, .2596153846,
                           .0810810811, .1844262295, .2163461538, .0675675676};
    for (int i = 0; i < 9; i++)
        CHECK_NEAR(out[i], one[i], 1e-10, 0);
    eg_assign(g, mat(3, 3, g0));
    CHECK(vmf_sinkhorn(g, rows, cols, 10) == 7);
    CHECK(eg_to_host_f64(eg_sum(g, 1, 0), rs) == EG_OK);
    CHECK_NEAR(rs[0], 1.0000000352, 1e-10, 0);
    CHECK_NEAR(rs[1], 0.9999999607, 1e-10, 0);
    CHECK_NEAR(rs[2], 0.5000000041, 1e-10, 0);
    CHECK(eg_to_host_f64(eg_sum(g, 0, 0), rs) == EG_OK);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(rs[i], col[i], 1e-14, 0);
    CHECK(eg_to_host_f64(g, out) == EG_OK);
    const double fix[9] = {.268461386584, .633553153148, .097985460268, .660071852046, .259621820285,
                           .080306327669, .196466761369, .231825026567, .071708212064};
    for (int i = 0; i < 9; i++)
        CHECK_NEAR(out[i], fix[i], 2e-7, 0);
    /* K caps the passes; an already converged input takes one pass */
    eg_assign(g, mat(3, 3, fix));
    CHECK(vmf_sinkhorn(g, rows, cols, 10) == 1);
    eg_assign(g, mat(3, 3, g0));
    CHECK(vmf_sinkhorn(g, rows, cols, 3) == 3);
    eg_tensor_free(g);
    eg_scope_close(s);
}

/* §10 "forward pass, loss and gradients": N = 4, x = e1, w1 = e1, w2 = e2, beta 3, ς 0.5, C = 2, s = 0.1 */
static void tiny_model(vmf_model *m, int debye) {
    memset(m, 0, sizeof *m);
    const double pq[3] = {.45, .45, .10};
    m->cfg.varsigma = 0.5, m->cfg.debye = debye, m->cfg.beta_trainable = 1, m->hidden_max = 4;
    CHECK(vmf_alloc(m, ctx, EG_F64, 4, 2, 2, pq) == EG_OK);
    const double w[8] = {1, 0, 0, 0, 0, 1, 0, 0};
    const double g[9] = {.268461386584, .633553153148, .097985460268, .660071852046, .259621820285,
                         .080306327669, .196466761369, .231825026567, .071708212064};
    eg_scope *s = eg_scope_open(ctx);
    eg_assign(m->par.w, mat(2, 4, w));
    eg_assign(m->par.g, mat(3, 3, g));
    eg_scope_close(s);
    eg_fill(m->par.beta, 3.0);
    m->par.G[0] = m->par.G[1] = 1, m->par.G[2] = 0.5;
    CHECK(vmf_sync_targets(m) == EG_OK);
}

static void test_forward(void) {
    vmf_model m;
    tiny_model(&m, 0);
    eg_scope *s = eg_scope_open(ctx);
    const double x[4] = {1, 0, 0, 0};
    const int32_t y[1] = {0}; /* targets [0.9333, 0.0333] + extra 0.0333 */
    vmf_parts parts;
    eg_tensor *out = vmf_forward_ex(&m, mat(1, 4, x), NULL, &parts);
    eg_tensor *T = vmf_targets(ctx, EG_F64, y, 1, 2, 0.1);
    double h[2], o[3], t[3];
    CHECK(eg_to_host_f64(T, t) == EG_OK);
    CHECK_NEAR(t[0], 0.9 + 0.1 / 3, 1e-7, 0);
    CHECK_NEAR(t[1], 0.1 / 3, 1e-7, 0);
    CHECK_NEAR(t[2], 0.1 / 3, 1e-7, 0);
    CHECK(eg_to_host_f64(parts.h, h) == EG_OK);
    CHECK_NEAR(h[0], 0.530896673384465, 1e-12, 0);
    CHECK_NEAR(h[1], -0.969103326615535, 1e-12, 0);
    CHECK(eg_to_host_f64(out, o) == EG_OK);
    CHECK_NEAR(o[0], -0.101567551534, 1e-10, 0);
    CHECK_NEAR(o[1], 0.341929493223, 1e-10, 0);
    CHECK_NEAR(o[2], -1.313794035025, 1e-10, 0);
    CHECK(eg_item(eg_argmax(out, 1)) == 1);
    eg_tensor *L = vmf_loss_supervised(out, T);
    CHECK_NEAR(eg_item(L), 0.127191866159, 1e-10, 0);
    CHECK(eg_backward(L) == EG_OK);
    CHECK_NEAR(eg_item(eg_grad(m.par.beta)), 0.185585290693, 1e-10, 0);
    double gw[8], gg[9];
    CHECK(eg_to_host_f64(eg_grad(m.par.w), gw) == EG_OK);
    /* raw gradients -ς beta R_mu x; tangent parts: 0 for w1 (x || w1), -0.397275360516 e1 for w2 */
    CHECK_NEAR(gw[0], -1.5 * 0.517795731466, 1e-10, 0);
    CHECK_NEAR(gw[4], -0.397275360516, 1e-10, 0);
    for (int i = 1; i < 4; i++) {
        CHECK_NEAR(gw[i], 0, 1e-15, 0);
        CHECK_NEAR(gw[4 + i], 0, 1e-15, 0);
    }
    CHECK(eg_to_host_f64(eg_grad(m.par.g), gg) == EG_OK);
    const double want[9] = {-1.75676026, -0.04026671, -0.21087143, -0.39198620, -0.00898472,
                            -0.04705178, -1.03311104, -0.02367994, -0.12400873};
    double gdot = 0, gv[9];
    CHECK(eg_to_host_f64(m.par.g, gv) == EG_OK);
    for (int i = 0; i < 9; i++) {
        CHECK_NEAR(gg[i], want[i], 1e-8, 0);
        gdot -= gv[i] * gg[i];
    }
    CHECK_NEAR(gdot, 1.0, 1e-9, 0);
    /* responsibilities R_gamma = e^{h_gamma - c} sum_y (T_y/S_y) g_gamma,y; the null unit's e is e0 */
    double R[2], R0;
    eg_tensor *wt = eg_div(T, parts.s);
    CHECK(eg_to_host_f64(eg_mul(parts.e, eg_matmul_nt(wt, eg_narrow(m.par.g, 0, 0, 2))), R) == EG_OK);
    R0 = eg_item(eg_mul(parts.e0, eg_matmul_nt(wt, eg_narrow(m.par.g, 0, 2, 1))));
    CHECK_NEAR(R[0], 0.517795731466, 1e-10, 0);
    CHECK_NEAR(R[1], 0.264850240344, 1e-10, 0);
    CHECK_NEAR(R[0] + R[1] + R0, 1.0, 1e-12, 0);
    eg_scope_close(s);
    vmf_release(&m);

    /* the reference code's tau: loss and dL/dbeta */
    tiny_model(&m, 1);
    s = eg_scope_open(ctx);
    out = vmf_forward_ex(&m, mat(1, 4, x), NULL, NULL);
    L = vmf_loss_supervised(out, vmf_targets(ctx, EG_F64, y, 1, 2, 0.1));
    CHECK_NEAR(eg_item(L), 0.0357778066652, 1e-10, 0);
    CHECK(eg_backward(L) == EG_OK);
    CHECK_NEAR(eg_item(eg_grad(m.par.beta)), 0.192365179309, 1e-10, 0);
    eg_scope_close(s);
    vmf_release(&m);
}

/* huge exponents: the stable evaluation stays finite where a naive exp over- or underflows */
static void test_stable(void) {
    vmf_model m;
    tiny_model(&m, 0);
    m.cfg.varsigma = 1.0;
    eg_fill(m.par.beta, 3000.0);
    eg_scope *s = eg_scope_open(ctx);
    const double x[8] = {1, 0, 0, 0, 0, 0, 0, 1}; /* the second item is orthogonal to both memories */
    double o[6], tau;
    CHECK(eg_to_host_f64(vmf_forward_ex(&m, mat(2, 4, x), NULL, NULL), o) == EG_OK);
    vmf_tau_exact(4, 3000, &tau, NULL);
    double h1 = 3000 - tau; /* h2 = -tau ~ -2990: e^{h2} underflows, harmlessly */
    CHECK(h1 > 5 && h1 < 20);
    CHECK_NEAR(o[0], h1 + log(.268461386584 + .196466761369 * exp(-h1)), 1e-9, 0);
    CHECK_NEAR(o[2], h1 + log(.097985460268 + .071708212064 * exp(-h1)), 1e-9, 0);
    /* item 2: m = 0, so h = -tau for both memories and only the null unit survives */
    CHECK_NEAR(o[3], log(.196466761369), 1e-9, 0);
    CHECK_NEAR(o[5], log(.071708212064), 1e-9, 0);
    eg_scope_close(s);
    vmf_release(&m);
}

static void test_preprocess(void) {
    const float x[8] = {1, 2, 3, 6, 0.5f, 0.5f, 0.5f, 0.5f};
    float o[8];
    vmf_preprocess(x, 2, 4, 1, o);
    /* mean 3: (-2, -1, 0, 3)/sqrt(14); a constant item becomes the zero vector */
    CHECK_NEAR(o[0], -2 / sqrt(14.0), 1e-7, 0);
    CHECK_NEAR(o[3], 3 / sqrt(14.0), 1e-7, 0);
    for (int i = 4; i < 8; i++)
        CHECK(o[i] == 0.0f);
    vmf_preprocess(x, 1, 4, 0, o);
    CHECK_NEAR(o[3], 6 / sqrt(50.0), 1e-7, 0);
    CHECK(vmf_patches_per_image(28, 28, 6, 2) == 144);
    CHECK(vmf_patches_per_image(8, 8, 3, 1) == 36);
    float img[16], pt[4 * 9];
    for (int i = 0; i < 16; i++)
        img[i] = (float)i;
    vmf_extract_patches(img, 1, 1, 4, 4, 3, 1, pt);   /* 2 x 2 patches of 3 x 3 */
    CHECK(pt[0] == 0 && pt[8] == 10);                 /* patch (0,0): rows 0..2, cols 0..2 */
    CHECK(pt[9] == 1 && pt[27] == 5 && pt[35] == 15); /* (0,1) starts at 1, (1,1) ends at 15 */
    double pq[4];
    const double counts[3] = {1, 1, 2};
    vmf_class_prior(counts, 3, 0.2, pq);
    CHECK_NEAR(pq[0], 0.8 * 0.25 + 0.05, 1e-15, 0);
    CHECK_NEAR(pq[2], 0.8 * 0.5 + 0.05, 1e-15, 0);
    CHECK_NEAR(pq[3], 0.05, 1e-15, 0);
}

/* §10 split bookkeeping: P = 100, P_max = 1000, all split */
/* vmf_split_select's count, or -1 when it fails */
static int64_t selected(const double *lambda, int64_t p, int64_t p_max, double fraction, double thres,
                        unsigned char *mask) {
    int64_t count = -1;
    return vmf_split_select(lambda, p, p_max, fraction, thres, mask, &count) == EG_OK ? count : -1;
}

static void test_split(void) {
    vmf_model m;
    memset(&m, 0, sizeof m);
    double pq[11];
    for (int y = 0; y < 11; y++)
        pq[y] = y < 10 ? 0.9 / 10 + 0.1 / 11 : 0.1 / 11;
    m.hidden_max = 1000;
    CHECK(vmf_alloc(&m, ctx, EG_F64, 6, 10, 100, pq) == EG_OK);
    eg_rng rng = eg_rng_make(3, 4);
    eg_scope *s = eg_scope_open(ctx);
    eg_tensor *W0 = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(100, 6), 0, 1);
    W0 = eg_mul(W0, eg_rsqrt(eg_sum(eg_square(W0), 1, 1)));
    eg_tensor *U0 = eg_rand_normal(ctx, &rng, EG_F64, EG_DIMS(100, 6), 0, 1);
    U0 = eg_mul(U0, eg_rsqrt(eg_sum(eg_square(U0), 1, 1)));
    eg_assign(m.par.w, W0), eg_assign(m.split.u, U0);
    eg_assign(m.par.g, eg_rand_uniform(ctx, &rng, EG_F64, EG_DIMS(101, 11), 0.5, 1.5));
    eg_fill(m.opt.vw, 0.25);
    double w0[600], u0[600], g0[101 * 11];
    CHECK(eg_to_host_f64(m.par.w, w0) == EG_OK && eg_to_host_f64(m.split.u, u0) == EG_OK &&
          eg_to_host_f64(m.par.g, g0) == EG_OK);
    eg_scope_close(s);
    for (int i = 0; i < 100; i++)
        m.par.G[i] = 1;
    m.par.G[100] = 0.1;
    CHECK(vmf_sync_targets(&m) == EG_OK);
    unsigned char mask[100];
    double lambda[100];
    for (int i = 0; i < 100; i++)
        lambda[i] = -1.0 - i;
    CHECK(selected(lambda, 100, 1000, 1.0, -0.001, mask) == 100);
    rng = eg_rng_make(3, 5);
    CHECK(vmf_split_apply(&m, mask, 0.25, &rng) == EG_OK);
    CHECK(m.hidden == 200);
    for (int i = 0; i < 200; i++)
        CHECK_MSG(fabs(m.par.G[i] - 1.0) < 1e-15, "G[%d] = %g", i, m.par.G[i]);
    CHECK_NEAR(m.par.G[200], 0.2, 1e-15, 0);
    double cols[11], w[1200], g[201 * 11], vw[1200];
    CHECK(eg_to_host_f64(m.par.cols, cols) == EG_OK);
    for (int y = 0; y < 11; y++)
        CHECK_NEAR(cols[y], 200.2 * pq[y], 1e-12, 0);
    CHECK(eg_to_host_f64(m.par.w, w) == EG_OK && eg_to_host_f64(m.par.g, g) == EG_OK &&
          eg_to_host_f64(m.opt.vw, vw) == EG_OK);
    /* unit 7: original normalize(w + u/4) at row 7, copy normalize(w - u/4) at row 100 + 7 */
    for (int sgn = 0; sgn < 2; sgn++) {
        double v[6], n2 = 0;
        for (int i = 0; i < 6; i++)
            v[i] = w0[7 * 6 + i] + (sgn ? -0.25 : 0.25) * u0[7 * 6 + i], n2 += v[i] * v[i];
        int row = sgn ? 107 : 7;
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(w[row * 6 + i], v[i] / sqrt(n2), 1e-14, 0);
    }
    /* g rows halved, duplicated, times P'/P = 2: unchanged values; the null row x2, last */
    for (int y = 0; y < 11; y++) {
        CHECK_NEAR(g[7 * 11 + y], g0[7 * 11 + y], 1e-15, 0);
        CHECK_NEAR(g[107 * 11 + y], g0[7 * 11 + y], 1e-15, 0);
        CHECK_NEAR(g[200 * 11 + y], 2 * g0[100 * 11 + y], 1e-15, 0);
    }
    CHECK(vw[7 * 6] == 0.25 && vw[107 * 6] == 0.0); /* new copies start with zero velocity */
    vmf_release(&m);

    /* selection: k = min(round(f P), P, P_max - P); lambda_(k+1) over P_max with zeros for unused units */
    double lam[6] = {-5, -0.5, 0.2, -3, -0.0005, -2};
    unsigned char mk[6];
    CHECK(selected(lam, 6, 100, 1.0, -0.001, mk) == 4); /* all below -0.001 */
    CHECK(mk[0] && mk[1] && !mk[2] && mk[3] && !mk[4] && mk[5]);
    CHECK(selected(lam, 6, 8, 1.0, -0.001, mk) == 2); /* k = 2: the two most negative */
    CHECK(mk[0] && mk[3] && !mk[5]);
    CHECK(selected(lam, 6, 100, 0.5, -0.001, mk) == 3); /* k = 3 */
    CHECK(mk[0] && mk[3] && mk[5] && !mk[1]);
    CHECK(selected(lam, 6, 100, 1.0, -10, mk) == 0);
    CHECK(selected(lam, 6, 6, 1.0, -0.001, mk) == 0); /* already at P_max */
}

/* a selection whose scratch cannot be allocated (P_max values to sort) is an error of the
 * stage, not "split 0 units": vmf_split_select says EG_ERR_NOMEM, and vmf_split_units
 * (what the growth stage calls) fails the context with a message and splits nothing */
static void test_split_nomem(void) {
    const int64_t huge = INT64_MAX / 4; /* 2^61 doubles: more than any allocation can hold */
    double lam[3] = {-1, -2, -3};
    unsigned char mk[3];
    int64_t count = -1;
    CHECK(vmf_split_select(lam, 3, huge, 1.0, -0.001, mk, &count) == EG_ERR_NOMEM);
    CHECK(count == 0);
    vmf_model m;
    memset(&m, 0, sizeof m);
    const double pq[3] = {0.4, 0.4, 0.2};
    CHECK(vmf_alloc(&m, ctx, EG_F64, 4, 2, 3, pq) == EG_OK);
    m.hidden_max = huge;
    int64_t grown = -1;
    eg_status st = vmf_split_units(&m, lam, 1.0, -0.001, 0.25, eg_rng_make(3, 6), &grown);
    CHECK(st == EG_ERR_NOMEM && st < 0);
    CHECK(eg_ctx_status(ctx) == EG_ERR_NOMEM);
    CHECK_STR_CONTAINS(eg_ctx_message(ctx), "out of memory choosing which of the 3 units split");
    CHECK(grown == 0 && m.hidden == 3);
    eg_ctx_clear_error(ctx);
    vmf_release(&m);
}

static void test_schedule(void) {
    int64_t s[32];
    int n = vmf_growth_schedule(100, 1250, 1.0, s, 32);
    CHECK(n == 5 && s[0] == 100 && s[1] == 200 && s[2] == 400 && s[3] == 800 && s[4] == 1250);
    n = vmf_growth_schedule(100, 1625, 1.0, s, 32);
    CHECK(n == 6 && s[4] == 1600 && s[5] == 1625);
    n = vmf_growth_schedule(100, 2000, 1.0, s, 32);
    CHECK(n == 6 && s[5] == 2000);
    n = vmf_growth_schedule(100, 1000, 1.0, s, 32);
    CHECK(n == 5 && s[4] == 1000); /* 4 splits for P_max <= 1600 */
    n = vmf_growth_schedule(100, 300, 0.5, s, 32);
    CHECK(n == 4 && s[1] == 150 && s[2] == 225 && s[3] == 300);
}

int main(void) {
    eg_backend *be = NULL;
    ctx = eg_test_cpu_ctx(1, &be);
    if (!ctx) return eg_test_finish();
    test_tau();
    test_sinkhorn();
    test_forward();
    test_stable();
    test_preprocess();
    test_split();
    test_split_nomem();
    test_schedule();
    CHECK_MSG(eg_ctx_status(ctx) == EG_OK, "context error: %s", eg_ctx_message(ctx));
    eg_ctx_destroy(ctx);
    eg_backend_close(be);
    return eg_test_finish();
}
