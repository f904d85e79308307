/* test_report_svg.c — the report's plot maths: nice ticks (1, 2, 5 x 10^k covering the
 * range), when an axis goes logarithmic, column counts of picture grids, and an SVG that
 * keeps every point inside its frame. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report/report_png.h"
#include "report/report_svg.h"

static void ticks_are(double lo, double hi, int max, const double *want, int n) {
    double t[32];
    int got = rp_nice_ticks(lo, hi, max, t);
    CHECK_MSG(got == n, "[%g, %g]: %d ticks, want %d", lo, hi, got, n);
    for (int i = 0; i < n && i < got; i++)
        CHECK_MSG(fabs(t[i] - want[i]) < 1e-12 * fmax(1, fabs(want[i])), "[%g, %g] tick %d: %g, want %g", lo, hi, i,
                  t[i], want[i]);
}

int main(void) {
    ticks_are(0, 1, 6, (const double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6);
    ticks_are(0.2, 0.8, 6, (const double[]){0.2, 0.4, 0.6, 0.8}, 4);
    ticks_are(-3, 17, 6, (const double[]){0, 5, 10, 15}, 4);
    ticks_are(1.65, 2.58, 6, (const double[]){1.8, 2, 2.2, 2.4}, 4);
    ticks_are(0, 1e-7, 6, (const double[]){0, 2e-8, 4e-8, 6e-8, 8e-8, 1e-7}, 6);
    ticks_are(5, 5, 6, (const double[]){5}, 1);

    double x1[3] = {0.001, 0.1, 1}, y1[3] = {1, 2, 3}, x2[3] = {1, 2, 4};
    rp_line a = {"a", 3, x1, y1, NULL, 0, 0}, b = {"b", 3, x2, y1, NULL, 0, 0};
    rp_plot p = {"t", "x", "y", 0, &a, 1};
    CHECK(rp_wants_log(&p) == 1); /* 1000x */
    p.lines = &b;
    CHECK(rp_wants_log(&p) == 0); /* 4x */
    double x3[2] = {0, 10};
    rp_line c = {"c", 2, x3, y1, NULL, 0, 0};
    p.lines = &c;
    CHECK(rp_wants_log(&p) == 0); /* a zero: never logarithmic */

    CHECK(rp_grid_columns(30, 3) == 10 && rp_grid_columns(31, 3) == 11); /* columns of 3 */
    CHECK(rp_grid_columns(7, 0) == 7 && rp_grid_columns(45, 0) == 10);   /* rows of 10 */
    CHECK(rp_upscale(8, 8) == 8 && rp_upscale(28, 28) == 2 && rp_upscale(200, 200) == 1);

    /* every circle of a plot lies inside the plotted frame */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    double err[3] = {0.5, 0.1, NAN};
    rp_line d = {"d", 3, x2, y1, err, 0, 0};
    rp_plot q = {"title <&>", "x", "y", 0, &d, 1};
    rp_plot_svg(f, &q, 400, 300);
    fclose(f);
    CHECK_STR_CONTAINS(buf, "title &lt;&amp;&gt;");
    double L = 1e9, R = -1e9, T = 1e9, B = -1e9;
    const char *r = strstr(buf, "<rect x=\"");
    double rx, ry, rw, rh;
    CHECK(r && sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &rx, &ry, &rw, &rh) == 4);
    L = rx, R = rx + rw, T = ry, B = ry + rh;
    int circles = 0;
    for (const char *s = strstr(buf, "<circle"); s; s = strstr(s + 1, "<circle")) {
        double cx, cy;
        if (sscanf(s, "<circle cx=\"%lf\" cy=\"%lf\"", &cx, &cy) == 2) {
            circles++;
            CHECK_MSG(cx >= L && cx <= R && cy >= T && cy <= B, "point (%g, %g) outside [%g, %g] x [%g, %g]", cx, cy,
                      L, R, T, B);
        }
    }
    CHECK(circles == 3);
    free(buf);
    return eg_test_finish();
}
