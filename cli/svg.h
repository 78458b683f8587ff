/*
 * svg.h - small inline-SVG charts for the HTML report: scatter plots and
 * step lines on linear or log axes with "nice" ticks.
 */
#ifndef AML_CLI_SVG_H
#define AML_CLI_SVG_H

#include <stddef.h>

#include "cli.h"

typedef struct svg_axis {
    double lo, hi; /* data range shown (after padding and log) */
    int log;       /* log10 scale; lo and hi are then log10 values */
} svg_axis;

typedef struct svg_chart {
    cli_buf *out;
    double w, h;           /* pixels */
    double ml, mr, mt, mb; /* margins */
    svg_axis x, y;
} svg_chart;

/*
 * Starts a chart: fits both axes to the values (NaN skipped; a log axis
 * when `xlog` and every x > 0), writes <svg class="chart"> with the title,
 * the axes, ticks and labels.  End it with svg_end.
 */
void svg_begin(svg_chart *c, cli_buf *out, double w, double h, const char *title,
               const char *xlabel, const char *ylabel, const double *xs, const double *ys,
               size_t n, int xlog);
/* A point with a tooltip (plain text, escaped here); tip NULL: a small dot, no tooltip.
 */
void svg_point(svg_chart *c, double x, double y, const char *color, const char *tip);
/* A step line through (xs[i], ys[i]) in order (NaN points skipped). */
void svg_steps(svg_chart *c, const double *xs, const double *ys, size_t n,
               const char *color);
void svg_end(svg_chart *c);

#endif
