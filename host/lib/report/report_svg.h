/* report_svg.h — line plots as SVG text: axes with nice ticks (Heckbert's "nice
 * numbers"), a log axis by decades, lines with error bars or a ±sd band, dashed
 * lines, a legend, the Okabe–Ito colour-blind-safe palette. Small on purpose: what
 * a report needs, nothing more; tests/unit/test_report_svg.c pins the ticks. */
#ifndef EG_REPORT_SVG_H
#define EG_REPORT_SVG_H

#include <stdio.h>

typedef struct rp_line {
    const char *label;
    int n;
    const double *x, *y;
    const double *err; /* ± per point (NULL: none; NAN entries: none there) */
    int band;          /* draw err as a shaded band instead of error bars */
    int dashed;
} rp_line;

typedef struct rp_plot {
    const char *title, *xlabel, *ylabel;
    int xlog; /* log10 x axis */
    rp_line *lines;
    int n_lines;
} rp_plot;

/* up to max ticks at 1, 2 or 5 x 10^k covering [lo, hi]; returns the count */
int rp_nice_ticks(double lo, double hi, int max, double *ticks);
/* 1 when every x of every line is > 0 and they span more than two decades */
int rp_wants_log(const rp_plot *p);
/* the plot as a standalone <svg> element (width x height pixels) */
void rp_plot_svg(FILE *out, const rp_plot *p, int width, int height);

#endif
