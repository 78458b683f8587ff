/*
 * progress.c - the run's progress display (see progress.h).
 *
 * The live line is rewritten with a carriage return and "erase to end of
 * line" (ESC [ K), cut to the terminal's width so it never wraps (a
 * wrapped line cannot be redrawn in place).  Redraws are limited to ten a
 * second: a search of fast trials would otherwise spend its time writing
 * to the terminal.  Every trial is still counted; the last state is drawn
 * before anything else is printed.
 */
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_REDRAW_S 0.1
#define PROGRESS_BAR 16

static int progress_width(const cli_progress *p)
{
    struct winsize ws;

    if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 80;
}

void cli_progress_init(cli_progress *p, FILE *out, long budget, const char *metric,
                       const aml_space *space, int quiet)
{
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

    memset(p, 0, sizeof(*p));
    p->out = out;
    p->quiet = quiet;
    p->live = !quiet && isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);
    p->color = p->live && !(no_color && *no_color);
    p->budget = budget;
    p->metric = metric;
    p->space = space;
    p->t0 = aml_now();
}

static void format_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);

    if (!isfinite(s) || s < 0)
        snprintf(buf, len, "?");
    else if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* Builds the status line (plain text; colour codes added around the best). */
static void progress_draw(cli_progress *p, const aml_run_summary *s)
{
    char line[512], bar[PROGRESS_BAR + 1], el[32], left[32], best[160] = "",
                                                             failed[48] = "";
    double elapsed = aml_now() - p->t0;
    long ran = s->n_trials - s->n_resumed;
    int fill = 0, width = progress_width(p);

    if (p->budget > 0)
        fill = (int)(PROGRESS_BAR * (double)s->n_trials / (double)p->budget);
    fill = fill > PROGRESS_BAR ? PROGRESS_BAR : fill;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(PROGRESS_BAR - fill));
    bar[PROGRESS_BAR] = '\0';
    format_duration(el, sizeof(el), elapsed);
    format_duration(left, sizeof(left),
                    p->budget > 0 && ran > 0
                        ? elapsed / (double)ran * (double)(p->budget - s->n_trials)
                        : NAN);
    if (s->has_best)
        snprintf(best, sizeof(best), "  best %s %.4f %s #%ld", p->metric, s->best.score,
                 p->space->learners[s->best.config.learner].name, s->best.number);
    if (s->n_failed)
        snprintf(failed, sizeof(failed), "  %ld failed", s->n_failed);
    snprintf(line, sizeof(line), "[%s] %ld/%ld  %s  ~%s left%s%s", bar, s->n_trials,
             p->budget, el, left, best, failed);
    if ((int)strlen(line) >= width)
        line[width - 1] = '\0';
    fprintf(p->out, "\r\033[K%s%s%s", p->color ? "\033[1m" : "", line,
            p->color ? "\033[0m" : "");
    fflush(p->out);
    p->drawn = 1;
    p->last_draw = aml_now();
}

static void progress_clear(cli_progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", p->out);
    p->drawn = 0;
}

void cli_progress_line(cli_progress *p, const char *fmt, ...)
{
    va_list ap;

    if (p->quiet)
        return;
    progress_clear(p);
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}

/* The plain one-line-per-trial log (CI, pipes). */
static void progress_log(cli_progress *p, const aml_trial_result *r,
                         const aml_run_summary *s)
{
    const char *learner = p->space->learners[r->config.learner].name;
    char params[512], best[32] = "-";
    size_t at = 0;

    /* A partial evaluation (successive halving) says how much of the budget it had. */
    if (!aml_resource_full(r->config.resource))
        at = (size_t)snprintf(params, sizeof(params),
                              "resource %.4g: ", r->config.resource);
    aml_config_format(&r->config, params + at, sizeof(params) - at);
    if (s->has_best) /* only a full evaluation can be the best */
        snprintf(best, sizeof(best), "%.4f", s->best.score);
    if (r->status == AML_TRIAL_OK)
        fprintf(p->out, "trial %4ld  %-20s %s %.4f  best %s  %.2fs  %s\n", r->number,
                learner, p->metric, r->score, best, r->t_end - r->t_start, params);
    else if (r->status == AML_TRIAL_INTERRUPTED)
        fprintf(p->out, "trial %4ld  %-20s interrupted  (%s)\n", r->number, learner,
                params);
    else
        fprintf(p->out, "trial %4ld  %-20s failed: %s  (%s)\n", r->number, learner,
                r->message, params);
    fflush(p->out);
}

void cli_progress_trial(cli_progress *p, const aml_trial_result *r,
                        const aml_run_summary *s)
{
    const char *learner = p->space->learners[r->config.learner].name;
    int last = p->budget > 0 && s->n_trials >= p->budget;

    if (p->quiet)
        return;
    if (!p->live) {
        progress_log(p, r, s);
        return;
    }
    if (r->status == AML_TRIAL_FAILED)
        cli_progress_line(p, "%strial %ld %s failed:%s %s", p->color ? "\033[31m" : "",
                          r->number, learner, p->color ? "\033[0m" : "", r->message);
    if (last || !p->drawn || aml_now() - p->last_draw >= PROGRESS_REDRAW_S)
        progress_draw(p, s);
}

void cli_progress_end(cli_progress *p, const aml_run_summary *s)
{
    if (p->live && s && s->n_trials > s->n_resumed)
        progress_draw(p, s); /* the last redraw may have been skipped */
    if (p->live && p->drawn) {
        fputc('\n', p->out); /* keep the final state on screen */
        fflush(p->out);
    }
    p->drawn = 0;
}
