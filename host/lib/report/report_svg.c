/* report_svg.c — SVG line plots for the report (report_svg.h). */
#include "report_svg.h"

#include <math.h>
#include <string.h>

/* Okabe & Ito (2008), "Color Universal Design": distinguishable with every common
 * colour-vision deficiency */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                      "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
#define N_PALETTE 8

static double nice_num(double x, int round) {
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

int rp_nice_ticks(double lo, double hi, int max, double *ticks) {
    if (!(hi > lo)) { /* one value: a tick at it */
        ticks[0] = lo;
        return 1;
    }
    double step = nice_num(nice_num(hi - lo, 0) / (max > 1 ? max - 1 : 1), 1);
    double start = ceil(lo / step - 1e-9) * step;
    int n = 0;
    for (double t = start; t <= hi + step * 1e-9 && n < max + 2; t += step)
        ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

int rp_wants_log(const rp_plot *p) {
    double lo = INFINITY, hi = -INFINITY;
    for (int l = 0; l < p->n_lines; l++)
        for (int i = 0; i < p->lines[l].n; i++) {
            double x = p->lines[l].x[i];
            if (!(x > 0)) return 0;
            lo = fmin(lo, x), hi = fmax(hi, x);
        }
    return hi / lo > 100;
}

static void xml_text(FILE *out, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", out);
        else if (*s == '>') fputs("&gt;", out);
        else if (*s == '&') fputs("&amp;", out);
        else if (*s == '"') fputs("&quot;", out);
        else fputc(*s, out);
    }
}

static void tick_label(double v, int logx, char *buf, size_t cap) {
    if (logx) {
        double e = round(log10(v));
        if (e >= -3 && e <= 4) snprintf(buf, cap, "%g", pow(10, e));
        else snprintf(buf, cap, "1e%d", (int)e);
    } else {
        snprintf(buf, cap, "%g", v);
    }
}

typedef struct frame {
    double x0, x1, y0, y1; /* data range */
    double L, R, T, B;     /* pixel box */
    int logx;
} frame;

static double px(const frame *f, double x) {
    double a = f->logx ? log10(x) : x, lo = f->logx ? log10(f->x0) : f->x0, hi = f->logx ? log10(f->x1) : f->x1;
    return f->L + (hi > lo ? (a - lo) / (hi - lo) : 0.5) * (f->R - f->L);
}
static double py(const frame *f, double y) {
    return f->B - (f->y1 > f->y0 ? (y - f->y0) / (f->y1 - f->y0) : 0.5) * (f->B - f->T);
}

/* rows the legend takes below the plot (none for a single line) */
static int legend_rows(const rp_plot *p, double left, int width) {
    if (p->n_lines < 2) return 0;
    double lx = left;
    int rows = 1;
    for (int l = 0; l < p->n_lines; l++) {
        double w = 30 + 7.0 * (double)strlen(p->lines[l].label ? p->lines[l].label : "");
        if (lx + w > width - 8 && lx > left) lx = left, rows++;
        lx += w;
    }
    return rows;
}

void rp_plot_svg(FILE *out, const rp_plot *p, int width, int height) {
    height += 16 * legend_rows(p, 64, width); /* the plot keeps its size; the legend adds rows */
    frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY, 64, width - 16.0, 28,
               height - 68.0 - 16.0 * legend_rows(p, 64, width), 0};
    f.logx = p->xlog;
    for (int l = 0; l < p->n_lines; l++)
        for (int i = 0; i < p->lines[l].n; i++) {
            double x = p->lines[l].x[i], y = p->lines[l].y[i], e = p->lines[l].err ? p->lines[l].err[i] : NAN;
            if (!isfinite(x) || !isfinite(y) || (f.logx && !(x > 0))) continue;
            f.x0 = fmin(f.x0, x), f.x1 = fmax(f.x1, x);
            f.y0 = fmin(f.y0, isfinite(e) ? y - e : y), f.y1 = fmax(f.y1, isfinite(e) ? y + e : y);
        }
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height);
    fprintf(out, "<title>");
    xml_text(out, p->title);
    fprintf(out, "</title>\n<text x=\"%d\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">", width / 2);
    xml_text(out, p->title);
    fprintf(out, "</text>\n");
    if (!isfinite(f.x0) || !isfinite(f.y0)) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no finite values</text>\n</svg>\n", width / 2,
                height / 2);
        return;
    }
    /* y ticks; the range grows to the outer ticks so lines never touch the frame */
    double yt[16], xt[16];
    if (f.y1 - f.y0 <= 1e-12 * fabs(f.y0) || f.y1 == f.y0) { /* a constant: a band around it, in its scale */
        double pad = f.y0 != 0 ? 0.1 * fabs(f.y0) : 0.5;
        f.y0 -= pad, f.y1 += pad;
    }
    int ny = rp_nice_ticks(f.y0, f.y1, 6, yt);
    double ystep = ny > 1 ? yt[1] - yt[0] : 1;
    if (yt[0] > f.y0) f.y0 = yt[0] - ystep;
    else f.y0 = yt[0];
    if (yt[ny - 1] < f.y1) f.y1 = yt[ny - 1] + ystep;
    else f.y1 = yt[ny - 1];
    ny = rp_nice_ticks(f.y0, f.y1, 6, yt);
    int nx = 0;
    if (f.logx) {
        f.x0 = pow(10, floor(log10(f.x0) + 1e-9)), f.x1 = pow(10, ceil(log10(f.x1) - 1e-9));
        for (double d = f.x0; d <= f.x1 * 1.0001 && nx < 16; d *= 10)
            xt[nx++] = d;
    } else {
        nx = rp_nice_ticks(f.x0, f.x1, 7, xt);
        if (f.x1 > f.x0) f.x0 = fmin(f.x0, xt[0]), f.x1 = fmax(f.x1, xt[nx - 1]);
    }
    fprintf(out, "<g stroke=\"#ddd\" stroke-width=\"1\">\n");
    for (int i = 0; i < ny; i++)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f.L, py(&f, yt[i]), f.R,
                py(&f, yt[i]));
    for (int i = 0; i < nx; i++)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px(&f, xt[i]), f.T, px(&f, xt[i]),
                f.B);
    fprintf(out, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
            f.L, f.T, f.R - f.L, f.B - f.T);
    char lab[32];
    for (int i = 0; i < ny; i++) {
        tick_label(yt[i], 0, lab, sizeof lab);
        fprintf(out, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", f.L - 5,
                py(&f, yt[i]) + 4, lab);
    }
    for (int i = 0; i < nx; i++) {
        tick_label(xt[i], f.logx, lab, sizeof lab);
        fprintf(out, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px(&f, xt[i]),
                f.B + 16, lab);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (f.L + f.R) / 2, f.B + 34);
    xml_text(out, p->xlabel);
    fprintf(out, "%s</text>\n", f.logx ? " (log scale)" : "");
    fprintf(out, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
            (f.T + f.B) / 2, (f.T + f.B) / 2);
    xml_text(out, p->ylabel);
    fprintf(out, "</text>\n");
    /* lines: band or error bars, then the line and its markers */
    for (int l = 0; l < p->n_lines; l++) {
        const rp_line *ln = &p->lines[l];
        const char *col = palette[l % N_PALETTE];
        if (ln->err && ln->band && ln->n > 1) {
            fprintf(out, "<path fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" d=\"", col);
            int first = 1;
            for (int i = 0; i < ln->n; i++) {
                double e = isfinite(ln->err[i]) ? ln->err[i] : 0;
                if (!isfinite(ln->y[i])) continue;
                fprintf(out, "%s%.1f %.1f", first ? "M" : " L", px(&f, ln->x[i]), py(&f, ln->y[i] + e));
                first = 0;
            }
            for (int i = ln->n - 1; i >= 0; i--) {
                double e = isfinite(ln->err[i]) ? ln->err[i] : 0;
                if (isfinite(ln->y[i])) fprintf(out, " L%.1f %.1f", px(&f, ln->x[i]), py(&f, ln->y[i] - e));
            }
            fprintf(out, " Z\"/>\n");
        }
        fprintf(out, "<g class=\"line\" data-label=\"");
        xml_text(out, ln->label);
        fprintf(out, "\" stroke=\"%s\" fill=\"%s\">\n", col, col);
        if (ln->err && !ln->band)
            for (int i = 0; i < ln->n; i++)
                if (isfinite(ln->err[i]) && ln->err[i] > 0 && isfinite(ln->y[i])) {
                    double x = px(&f, ln->x[i]), a = py(&f, ln->y[i] - ln->err[i]), b = py(&f, ln->y[i] + ln->err[i]);
                    fprintf(out, "<path stroke-width=\"1.2\" d=\"M%.1f %.1f V%.1f M%.1f %.1f H%.1f M%.1f %.1f H%.1f\"/>\n",
                            x, a, b, x - 3, a, x + 3, x - 3, b, x + 3);
                }
        fprintf(out, "<polyline fill=\"none\" stroke-width=\"2\"%s points=\"",
                ln->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (int i = 0; i < ln->n; i++)
            if (isfinite(ln->y[i]) && isfinite(ln->x[i]) && (!f.logx || ln->x[i] > 0))
                fprintf(out, "%.1f,%.1f ", px(&f, ln->x[i]), py(&f, ln->y[i]));
        fprintf(out, "\"/>\n");
        if (ln->n <= 40)
            for (int i = 0; i < ln->n; i++)
                if (isfinite(ln->y[i]) && isfinite(ln->x[i]) && (!f.logx || ln->x[i] > 0))
                    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", px(&f, ln->x[i]), py(&f, ln->y[i]));
        fprintf(out, "</g>\n");
    }
    /* legend below the axis label, in rows */
    double lx = f.L, ly = f.B + 54;
    for (int l = 0; l < p->n_lines && p->n_lines > 1; l++) {
        const char *label = p->lines[l].label ? p->lines[l].label : "";
        double w = 30 + 7.0 * (double)strlen(label);
        if (lx + w > width - 8 && lx > f.L) lx = f.L, ly += 16;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", lx,
                ly - 4, lx + 20, ly - 4, palette[l % N_PALETTE],
                p->lines[l].dashed ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(out, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", lx + 24, ly);
        xml_text(out, label);
        fprintf(out, "</text>\n");
        lx += w;
    }
    fprintf(out, "</svg>\n");
}
