/*
 * svg.c - inline SVG charts for the report (see svg.h).
 *
 * Ticks follow Heckbert's "nice numbers" (Graphics Gems, 1990): the tick
 * step is 1, 2 or 5 times a power of ten, chosen so about five ticks span
 * the range.  Coordinates are written with two decimals; everything a
 * user controls (titles, learner names, tooltips) goes through
 * cli_buf_html, so no name can break the markup.
 */
#include "svg.h"

#include <math.h>
#include <stdio.h>

#define SVG_TICKS 5

/* A nice number near x: 1, 2, 5 or 10 times a power of ten (rounded or ceiling). */
static double nice_number(double x, int round)
{
    double e = floor(log10(x)), f = x / pow(10.0, e), nf;

    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10.0, e);
}

static void axis_fit(svg_axis *a, const double *v, size_t n, int log_ok)
{
    double lo = INFINITY, hi = -INFINITY;
    int all_pos = 1;

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
        all_pos &= v[i] > 0;
    }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    a->log = log_ok && all_pos && lo > 0 && hi / lo >= 100;
    if (a->log) {
        lo = log10(lo);
        hi = log10(hi);
    }
    if (hi - lo < 1e-12) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 0.5;

        lo -= pad;
        hi += pad;
    }
    a->lo = lo - (hi - lo) * 0.04;
    a->hi = hi + (hi - lo) * 0.04;
}

static double px(const svg_chart *c, double x)
{
    double v = c->x.log ? log10(x) : x;

    return c->ml + (v - c->x.lo) / (c->x.hi - c->x.lo) * (c->w - c->ml - c->mr);
}

static double py(const svg_chart *c, double y)
{
    return c->h - c->mb - (y - c->y.lo) / (c->y.hi - c->y.lo) * (c->h - c->mt - c->mb);
}

static void tick_label(char *buf, size_t len, double v, int log)
{
    if (log)
        snprintf(buf, len, "%g", pow(10.0, v));
    else
        snprintf(buf, len, "%.4g", fabs(v) < 1e-12 ? 0.0 : v);
}

/* Ticks and grid lines of one axis (vertical: the y axis). */
static void axis_draw(svg_chart *c, const svg_axis *a, int vertical)
{
    double step = nice_number(nice_number(a->hi - a->lo, 0) / (SVG_TICKS - 1), 1);
    char label[32];

    if (a->log && step < 1)
        step = 1; /* one tick per decade at most */
    for (double t = ceil(a->lo / step) * step; t <= a->hi + step * 1e-9; t += step) {
        double p = vertical ? py(c, t) : px(c, a->log ? pow(10.0, t) : t);

        tick_label(label, sizeof(label), t, a->log);
        if (vertical)
            cli_buf_printf(c->out,
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                           "class=\"grid\"/><text x=\"%.2f\" y=\"%.2f\" "
                           "text-anchor=\"end\">%s</text>\n",
                           c->ml, p, c->w - c->mr, p, c->ml - 4, p + 4, label);
        else
            cli_buf_printf(c->out,
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                           "class=\"grid\"/><text x=\"%.2f\" y=\"%.2f\" "
                           "text-anchor=\"middle\">%s</text>\n",
                           p, c->mt, p, c->h - c->mb, p, c->h - c->mb + 14, label);
    }
}

static void svg_labels(svg_chart *c, const char *title, const char *xlabel,
                       const char *ylabel)
{
    cli_buf_printf(c->out, "<text x=\"%.2f\" y=\"14\" class=\"title\">", c->ml);
    cli_buf_html(c->out, title);
    cli_buf_printf(c->out, "</text>\n<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                   (c->ml + c->w - c->mr) / 2, c->h - 4);
    cli_buf_html(c->out, xlabel);
    cli_buf_printf(c->out,
                   "</text>\n<text transform=\"translate(12 %.2f) rotate(-90)\" "
                   "text-anchor=\"middle\">",
                   (c->mt + c->h - c->mb) / 2);
    cli_buf_html(c->out, ylabel);
    cli_buf_puts(c->out, "</text>\n");
}

void svg_begin(svg_chart *c, cli_buf *out, double w, double h, const char *title,
               const char *xlabel, const char *ylabel, const double *xs, const double *ys,
               size_t n, int xlog)
{
    c->out = out;
    c->w = w;
    c->h = h;
    c->ml = 56;
    c->mr = 12;
    c->mt = 24;
    c->mb = 34;
    axis_fit(&c->x, xs, n, xlog);
    axis_fit(&c->y, ys, n, 0);
    cli_buf_printf(out,
                   "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                   "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
                   w, h, w, h);
    axis_draw(c, &c->x, 0);
    axis_draw(c, &c->y, 1);
    cli_buf_printf(out,
                   "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                   "class=\"frame\"/>\n",
                   c->ml, c->mt, w - c->ml - c->mr, h - c->mt - c->mb);
    svg_labels(c, title, xlabel, ylabel);
}

void svg_point(svg_chart *c, double x, double y, const char *color, const char *tip)
{
    if (!isfinite(x) || !isfinite(y) || (c->x.log && x <= 0))
        return;
    if (!tip) {
        cli_buf_printf(c->out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2\" fill=\"%s\"/>\n",
                       px(c, x), py(c, y), color);
        return;
    }
    cli_buf_printf(c->out,
                   "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.2\" fill=\"%s\"><title>",
                   px(c, x), py(c, y), color);
    cli_buf_html(c->out, tip);
    cli_buf_puts(c->out, "</title></circle>\n");
}

void svg_steps(svg_chart *c, const double *xs, const double *ys, size_t n,
               const char *color)
{
    int started = 0;
    double last = NAN;

    cli_buf_printf(c->out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
                   color);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i]) || ys[i] == last)
            continue; /* a step is drawn only where the value changes */
        last = ys[i];
        if (started)
            cli_buf_printf(c->out, " H%.2f V%.2f", px(c, xs[i]), py(c, ys[i]));
        else
            cli_buf_printf(c->out, "M%.2f %.2f", px(c, xs[i]), py(c, ys[i]));
        started = 1;
    }
    if (started)
        cli_buf_printf(c->out, " H%.2f", c->w - c->mr);
    cli_buf_puts(c->out, "\"/>\n");
}

void svg_end(svg_chart *c)
{
    cli_buf_puts(c->out, "</svg>\n");
}
