/*
 * progress.h - what `automl run` shows while it searches.
 *
 * On a terminal: one status line redrawn in place (trials done / budget,
 * elapsed and estimated time left, the best score and its learner), with
 * failures printed as lines above it.  Elsewhere (CI logs, pipes): one
 * plain line per trial.  --quiet prints neither; NO_COLOR (any non-empty
 * value, see no-color.org) or TERM=dumb turn colours off.
 */
#ifndef AML_CLI_PROGRESS_H
#define AML_CLI_PROGRESS_H

#include <stdio.h>

#include "aml.h"
#include "runner.h"

typedef struct cli_progress {
    FILE *out;
    int live;  /* redraw one line in place */
    int color; /* ANSI colours on the live line */
    int quiet;
    long budget; /* trials the run aims for; 0 when unknown */
    const char *metric;
    const aml_space *space;
    double t0, last_draw;
    int drawn; /* a status line is on screen */
} cli_progress;

void cli_progress_init(cli_progress *p, FILE *out, long budget, const char *metric,
                       const aml_space *space, int quiet);
/* One finished (or interrupted) trial, in trial-number order. */
void cli_progress_trial(cli_progress *p, const aml_trial_result *r,
                        const aml_run_summary *s);
/* Prints a line of its own (above the live line, which is then redrawn). */
void cli_progress_line(cli_progress *p, const char *fmt, ...) AML_PRINTF(2, 3);
/* Draws the final state (s may be NULL) and ends the live line. */
void cli_progress_end(cli_progress *p, const aml_run_summary *s);

#endif
