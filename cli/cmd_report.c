/*
 * cmd_report.c - `automl report DB [--study S] --out report.html`: one
 * self-contained HTML page (inline CSS and SVG, no network) about a study:
 * the best score so far, every trial's score coloured by learner, score
 * against each numeric hyperparameter, the leaderboard, and the ensemble
 * the study ended with (method, honest score beside the best trial's,
 * members and weights).
 *
 * The page is built in memory (cli_buf) from the store's typed trial
 * records, then written to a temporary file and renamed, so a reader never
 * sees half a report.  A tiny inline script marks the page with the number
 * of charts it holds (data-charts on <html>), its width against the
 * window's once laid out (data-width, "scrollWidth/clientWidth": the page
 * must not scroll sideways) and any script error (data-error), which the
 * headless-browser tests read back.  Each learner has its own colour.
 */
#include "build.h"
#include "cli.h"
#include "outfile.h"
#include "model_job.h"
#include "spec.h"
#include "store.h"
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_TOP 20
#define REPORT_W 760
#define REPORT_H 300
#define REPORT_SMALL_W 360
#define REPORT_SMALL_H 230
/* Scatter charts show at most about this many points (every k-th trial), so
 * a 100k-trial study still gives a page a browser opens at once. */
#define REPORT_MAX_POINTS 4000

/*
 * One colour per learner of the registry, by its place there, so a learner
 * keeps its colour from one report to the next: Okabe and Ito's eight
 * (distinguishable with the common colour deficiencies) and eight darker or
 * paler ones chosen apart from them and from each other (Paul Tol's indigo,
 * green, wine, olive and purple; a brown, a grey and a pink).
 */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#F0E442", "#000000",
                                      "#332288", "#117733", "#882255", "#999933",
                                      "#AA4499", "#8C564B", "#888888", "#FFB6DB"};
#define PALETTE_N (sizeof(palette) / sizeof(palette[0]))

/* The colour of learner `name`: its registry index's (more learners than colours
 * would share, in registry order). */
static const char *learner_colour(const char *name)
{
    size_t i;

    for (i = 0; aml_learner_types[i]; i++)
        if (strcmp(aml_learner_types[i]->name, name) == 0)
            return palette[i % PALETTE_N];
    return palette[PALETTE_N - 1];
}

typedef struct rep_param {
    char *name;
    double value; /* NaN for words */
} rep_param;

typedef struct rep_trial {
    long number;
    size_t learner;
    aml_trial_status status;
    double score;
    size_t first_param, n_params;
} rep_trial;

typedef struct report {
    rep_trial *t;
    size_t n, cap;
    rep_param *p;
    size_t np, capp;
    char **learners;
    size_t nl;
    /* the study */
    char *name, *metric, *task, *stop_reason, *spec_hash;
    char *spec_path, *spec_text; /* of the last run, for the ensemble's settings */
    int gib;
    int any_partial; /* some trial ran on part of the budget (halving, bohb) */
    long n_ok, n_failed, n_other;
    size_t stride; /* plot every stride-th trial in scatter charts */
} report;

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 64;
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (!(p = aml_reallocarray(*arr, n, size)))
        return AML_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* The index of a learner name, added on first sight. */
static int rep_learner(report *r, const char *name, size_t *out)
{
    char **l;

    for (size_t i = 0; i < r->nl; i++) {
        if (strcmp(r->learners[i], name) == 0) {
            *out = i;
            return 0;
        }
    }
    if (!(l = aml_reallocarray(r->learners, r->nl + 1, sizeof(*l))))
        return AML_ENOMEM;
    r->learners = l;
    if (!(l[r->nl] = aml_strdup(name)))
        return AML_ENOMEM;
    *out = r->nl++;
    return 0;
}

static int rep_record(const aml_trial_record *rec, void *payload)
{
    report *r = payload;
    rep_trial *t;
    int rc;

    if ((rc = grow((void **)&r->t, &r->cap, r->n + 1, sizeof(*r->t))) < 0 ||
        (rc = grow((void **)&r->p, &r->capp, r->np + rec->n_params, sizeof(*r->p))) < 0)
        return rc;
    t = &r->t[r->n];
    t->number = rec->number;
    t->status = rec->status;
    t->score = rec->status == AML_TRIAL_OK ? rec->score : NAN;
    t->first_param = r->np;
    t->n_params = rec->n_params;
    r->any_partial |= !isnan(rec->resource);
    if ((rc = rep_learner(r, rec->learner, &t->learner)) < 0)
        return rc;
    r->n++;
    for (size_t i = 0; i < rec->n_params; i++) {
        rep_param *p = &r->p[r->np];

        p->value = aml_value_as_real(&rec->params[i].value);
        if (!(p->name = aml_strdup(rec->params[i].name)))
            return AML_ENOMEM;
        r->np++;
    }
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? aml_strdup(s) : NULL;
}

static int rep_study(const aml_study_row *row, void *payload)
{
    report *r = payload;

    r->gib = row->greater_is_better;
    r->n_ok = row->n_ok;
    r->n_failed = row->n_failed;
    r->n_other = row->n_running + row->n_interrupted;
    if (!(r->name = dup_or_null(row->name)) || !(r->metric = dup_or_null(row->metric)) ||
        !(r->task = dup_or_null(row->task)))
        return AML_ENOMEM;
    r->stop_reason = dup_or_null(row->run_alive ? "running" : row->stop_reason);
    r->spec_hash = dup_or_null(row->spec_hash);
    r->spec_path = dup_or_null(row->spec_path);
    r->spec_text = dup_or_null(row->spec_text);
    return 0;
}

static void rep_dispose(report *r)
{
    for (size_t i = 0; i < r->np; i++)
        free(r->p[i].name);
    for (size_t i = 0; i < r->nl; i++)
        free(r->learners[i]);
    free(r->p);
    free(r->t);
    free(r->learners);
    free(r->spec_path);
    free(r->spec_text);
    free(r->name);
    free(r->metric);
    free(r->task);
    free(r->stop_reason);
    free(r->spec_hash);
}

/* ---- charts --------------------------------------------------------------------------
 */

static int better(const report *r, double a, double b)
{
    return r->gib ? a > b : a < b;
}

static void chart_best_so_far(const report *r, cli_buf *b, double *xs, double *ys)
{
    double best = NAN;
    svg_chart c;
    char title[128];

    for (size_t i = 0; i < r->n; i++) {
        double s = r->t[i].score;

        if (isfinite(s) && (isnan(best) || better(r, s, best)))
            best = s;
        xs[i] = (double)r->t[i].number;
        ys[i] = best;
    }
    snprintf(title, sizeof(title), "Best %s so far (grey: every ok trial)", r->metric);
    /* The axes fit every trial's score (the best so far is one of them),
     * so the curve shows how far the search climbed above a typical trial. */
    for (size_t i = 0; i < r->n; i++)
        ys[r->n + i] = r->t[i].score;
    svg_begin(&c, b, REPORT_W, REPORT_H, title, "trial", r->metric, xs, ys + r->n, r->n,
              0);
    for (size_t i = 0; i < r->n; i += r->stride)
        svg_point(&c, xs[i], ys[r->n + i], "#c8c8c8", NULL);
    svg_steps(&c, xs, ys, r->n, "#0072B2");
    svg_end(&c);
}

static void chart_scores(const report *r, cli_buf *b, double *xs, double *ys)
{
    svg_chart c;
    char tip[160];

    for (size_t i = 0; i < r->n; i++) {
        xs[i] = (double)r->t[i].number;
        ys[i] = r->t[i].score;
    }
    svg_begin(&c, b, REPORT_W, REPORT_H, "Score of every trial, by learner", "trial",
              r->metric, xs, ys, r->n, 0);
    for (size_t i = 0; i < r->n; i += r->stride) {
        snprintf(tip, sizeof(tip), "trial %ld, %s: %.6g", r->t[i].number,
                 r->learners[r->t[i].learner], r->t[i].score);
        svg_point(&c, xs[i], ys[i], learner_colour(r->learners[r->t[i].learner]), tip);
    }
    svg_end(&c);
    /* The legend is HTML beside the chart: it wraps instead of covering points. */
    cli_buf_puts(b, "<p class=\"legend\">");
    for (size_t l = 0; l < r->nl; l++) {
        cli_buf_printf(b, "<span style=\"color:%s\">&#9679;</span> ",
                       learner_colour(r->learners[l]));
        cli_buf_html(b, r->learners[l]);
        cli_buf_puts(b, " &nbsp; ");
    }
    cli_buf_puts(b, "</p>\n");
}

/* Gathers (value, score) of learner l's parameter `name` over ok trials; returns n. */
static size_t param_points(const report *r, size_t l, const char *name, double *xs,
                           double *ys, int *distinct)
{
    size_t n = 0;

    *distinct = 0;
    for (size_t i = 0; i < r->n; i++) {
        const rep_trial *t = &r->t[i];

        if (t->learner != l || !isfinite(t->score))
            continue;
        for (size_t j = 0; j < t->n_params; j++) {
            const rep_param *p = &r->p[t->first_param + j];

            if (strcmp(p->name, name) != 0 || !isfinite(p->value))
                continue;
            *distinct |= n > 0 && p->value != xs[0];
            xs[n] = p->value;
            ys[n++] = t->score;
        }
    }
    return n;
}

/* One small chart per numeric parameter of each learner that took 2+ values. */
static int chart_params(const report *r, cli_buf *b, double *xs, double *ys)
{
    char title[160], tip[96];
    int charts = 0;

    for (size_t l = 0; l < r->nl; l++) {
        for (size_t i = 0; i < r->n; i++) {
            const rep_trial *t = &r->t[i];

            if (t->learner != l)
                continue;
            for (size_t j = 0; j < t->n_params; j++) {
                const char *name = r->p[t->first_param + j].name;
                int distinct;
                size_t n = param_points(r, l, name, xs, ys, &distinct);
                svg_chart c;

                if (n < 2 || !distinct)
                    continue;
                snprintf(title, sizeof(title), "%s: %s", r->learners[l], name);
                svg_begin(&c, b, REPORT_SMALL_W, REPORT_SMALL_H, title, name, r->metric,
                          xs, ys, n, 1);
                for (size_t k = 0; k < n; k += r->stride) {
                    snprintf(tip, sizeof(tip), "%s = %.6g: %.6g", name, xs[k], ys[k]);
                    svg_point(&c, xs[k], ys[k], learner_colour(r->learners[l]), tip);
                }
                svg_end(&c);
                charts++;
            }
            break; /* a learner's trials share one parameter list */
        }
    }
    return charts;
}

/* ---- the page --------------------------------------------------------------------- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"generator\" content=\"automl " AML_VERSION "\">\n"
    "<script>\n"
    "window.addEventListener('error', function (e) {\n"
    "  document.documentElement.setAttribute('data-error', String(e.message));\n"
    "});\n"
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  document.documentElement.setAttribute('data-charts',\n"
    "    String(document.querySelectorAll('svg.chart').length));\n"
    "});\n"
    "window.addEventListener('load', function () {\n"
    "  var d = document.documentElement;\n"
    "  d.setAttribute('data-width', d.scrollWidth + '/' + d.clientWidth);\n"
    "});\n"
    "</script>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em "
    "auto;max-width:800px;color:#222}\n"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid "
    "#ddd}\n"
    "svg.chart{display:block;margin:.5em 0}svg text{font-size:11px;fill:#333}\n"
    "svg text.title{font-weight:600;font-size:12px}\n"
    "svg .grid{stroke:#eee}svg .frame{fill:none;stroke:#999}\n"
    ".small{display:flex;flex-wrap:wrap;gap:8px}\n"
    "table{border-collapse:collapse;font-size:13px}td,th{padding:2px "
    "8px;text-align:left}\n"
    "tr:nth-child(even){background:#f6f6f6}td.num{text-align:right}\n"
    "td{overflow-wrap:anywhere}\n"
    "code{font-size:12px}.note{color:#666}\n"
    "</style>\n";

static void page_summary(const report *r, cli_buf *b)
{
    cli_buf_puts(b, "<title>automl report: ");
    cli_buf_html(b, r->name);
    cli_buf_puts(b, "</title>\n</head>\n<body>\n<h1>Study ");
    cli_buf_html(b, r->name);
    cli_buf_puts(b, "</h1>\n<p>");
    cli_buf_html(b, r->task);
    cli_buf_puts(b, ", metric <b>");
    cli_buf_html(b, r->metric);
    cli_buf_printf(b,
                   "</b> (%s is better); %zu trials: %ld ok, %ld failed, %ld unfinished",
                   r->gib ? "higher" : "lower", r->n, r->n_ok, r->n_failed, r->n_other);
    if (r->stop_reason) {
        cli_buf_puts(b, "; stopped: ");
        cli_buf_html(b, r->stop_reason);
    }
    if (r->spec_hash) {
        cli_buf_puts(b, "; search <code>");
        cli_buf_html(b, r->spec_hash);
        cli_buf_puts(b, "</code>");
    }
    cli_buf_puts(b, ".</p>\n");
    if (r->stride > 1)
        cli_buf_printf(b,
                       "<p class=\"note\">Scatter charts show every %zu-th trial; the "
                       "best-so-far line uses them all.</p>\n",
                       r->stride);
}

typedef struct board {
    cli_buf b;
    int resource; /* show the resource column */
} board;

static int board_row(const aml_trial_row *row, void *payload)
{
    board *bd = payload;

    cli_buf_printf(&bd->b, "<tr><td class=\"num\">%ld</td><td>", row->number);
    cli_buf_html(&bd->b, row->learner);
    cli_buf_printf(&bd->b, "</td><td class=\"num\">%.6g</td>", row->score);
    if (bd->resource && isnan(row->resource))
        cli_buf_puts(&bd->b, "<td class=\"num\">full</td>");
    else if (bd->resource)
        cli_buf_printf(&bd->b, "<td class=\"num\">%.3g (partial)</td>", row->resource);
    cli_buf_printf(&bd->b, "<td class=\"num\">%.2f</td><td><code>",
                   row->t_end - row->t_start);
    cli_buf_html(&bd->b, row->params_json ? row->params_json : "{}");
    cli_buf_puts(&bd->b, "</code></td></tr>\n");
    return 0;
}

/*
 * The best ok trials.  Under successive halving or BOHB some ran on a
 * fraction of the budget (trial.resource): a resource column says which,
 * and the ranking puts every full trial before any partial one.
 */
static int page_leaderboard(const report *r, aml_store *s, cli_buf *b)
{
    aml_trial_query q = {r->name, REPORT_TOP, 1, "ok", NULL};
    board bd = {{0}, r->any_partial};
    char *rows;
    int rc;

    cli_buf_printf(b,
                   "<h2>Leaderboard (best %d)</h2>\n<table>\n<tr><th>trial</th>"
                   "<th>learner</th><th>",
                   REPORT_TOP);
    cli_buf_html(b, r->metric);
    cli_buf_puts(b, bd.resource ? "</th><th>resource</th>" : "</th>");
    cli_buf_puts(b, "<th>seconds</th><th>parameters</th></tr>\n");
    rc = aml_store_trials(s, &q, board_row, &bd);
    if (!(rows = cli_buf_take(&bd.b)))
        return rc < 0 ? rc : AML_ENOMEM;
    cli_buf_puts(b, rows);
    free(rows);
    cli_buf_puts(b, "</table>\n");
    if (bd.resource)
        cli_buf_puts(b, "<p class=\"note\">resource: the fraction of the budget a "
                        "trial was evaluated with (successive halving); partial "
                        "trials rank after every full one, their scores are not "
                        "comparable with full ones, and no model is built from "
                        "them.</p>\n");
    return rc;
}

static const rep_trial *rep_find(const report *r, long number)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->t[i].number == number)
            return &r->t[i];
    return NULL;
}

/* One member row: trial, learner, CV score, weight with a bar. */
static void ensemble_member_row(const report *r, cli_buf *b, long trial, double weight,
                                int has_weight)
{
    const rep_trial *t = rep_find(r, trial);
    char score[32];

    cli_format_score(score, sizeof(score), t != NULL, t ? t->score : 0.0);
    cli_buf_printf(b, "<tr><td>%ld</td><td>", trial);
    cli_buf_html(b, t ? r->learners[t->learner] : "?");
    cli_buf_printf(b, "</td><td>%s</td>", score);
    if (has_weight)
        cli_buf_printf(b,
                       "<td>%.3f <span style=\"display:inline-block;height:0.8em;"
                       "width:%.0fpx;background:#4477aa\"></span></td></tr>\n",
                       weight, 200.0 * weight);
    else
        cli_buf_puts(b, "<td>(meta-learner)</td></tr>\n");
}

#define REPORT_MAX_MEMBERS 1000 /* ensemble.size's bound */

static void ensemble_members(const report *r, cli_buf *b, const char *json)
{
    static long trials[REPORT_MAX_MEMBERS];
    static double weights[REPORT_MAX_MEMBERS];
    size_t n = cli_ensemble_members(json, trials, weights, REPORT_MAX_MEMBERS);

    for (size_t i = 0; i < n; i++)
        ensemble_member_row(r, b, trials[i], isnan(weights[i]) ? 0.0 : weights[i],
                            !isnan(weights[i]));
}

typedef struct ens_page {
    const report *r;
    cli_buf *b;
} ens_page;

static void html_names(cli_buf *b, char *const *names, size_t n, const char *def)
{
    if (n == 0) {
        cli_buf_puts(b, "<b>");
        cli_buf_html(b, def);
        cli_buf_puts(b, "</b>");
    }
    for (size_t i = 0; i < n; i++) {
        cli_buf_puts(b, i ? ", <b>" : "<b>");
        cli_buf_html(b, names[i]);
        cli_buf_puts(b, "</b>");
    }
}

/*
 * Names the stack's meta-learner(s).  The store keeps the spec text of the
 * study's last run, the run that built the ensemble: its ensemble section
 * says which learners, with the same default as trials/build.c.
 */
static void stack_learners(const report *r, cli_buf *b)
{
    const char *metrics[32], *strategies[16], *def;
    aml_spec_vocab vocab;
    aml_spec *spec = NULL;
    const aml_spec_ensemble *e;

    cli_spec_vocab(&vocab, metrics, 32, strategies, 16);
    if (!r->spec_text || aml_spec_load_text(&spec, r->spec_path ? r->spec_path : "spec",
                                            r->spec_text, &vocab) < 0) {
        cli_buf_puts(b, "<p>Meta-learner: not known (the study keeps no readable "
                        "spec).</p>\n");
        return;
    }
    e = &spec->ensemble;
    def = aml_build_default_meta(r->task && strcmp(r->task, "regression") == 0
                                     ? AML_TASK_REGRESSION
                                     : AML_TASK_CLASSIFICATION);
    cli_buf_puts(b, e->n_meta > 1 ? "<p>Meta-learners " : "<p>Meta-learner ");
    html_names(b, e->meta, e->meta ? e->n_meta : 0, def);
    if (e->layers == 2) {
        cli_buf_puts(b, ", then final learner ");
        html_names(b, e->final ? &e->final : NULL, e->final ? 1 : 0, def);
    }
    cli_buf_puts(b, e->passthrough ? " over the members' out-of-fold outputs and the "
                                     "original inputs.</p>\n"
                                   : " over the members' out-of-fold outputs.</p>\n");
    aml_spec_free(spec);
}

static int ensemble_section(const aml_ensemble_info *e, void *payload)
{
    ens_page *pg = payload;
    char ens[32], best[32];

    cli_format_score(ens, sizeof(ens), isfinite(e->score), e->score);
    cli_format_score(best, sizeof(best), isfinite(e->best_trial_score),
                     e->best_trial_score);
    cli_buf_puts(pg->b, "<p>Method <b>");
    cli_buf_html(pg->b, e->method);
    cli_buf_puts(pg->b, "</b>: ");
    if (e->fallback_from) {
        char f[32], s1[32];

        cli_format_score(f, sizeof(f), isfinite(e->fallback_score), e->fallback_score);
        cli_format_score(s1, sizeof(s1), isfinite(e->single_score), e->single_score);
        cli_buf_html(pg->b, e->fallback_from);
        cli_buf_printf(
            pg->b,
            " scored %s, no better than the best single trial chosen the same way (%s; "
            "both cross-validated with no selection on the rows scored), so "
            "the model is that trial alone (CV score %s).</p>\n",
            f, s1, best);
    } else if (strcmp(e->method, "none") == 0) {
        cli_buf_printf(pg->b, "the best trial alone (CV score %s).</p>\n", best);
    } else if (isfinite(e->single_score)) {
        char s1[32];

        cli_format_score(s1, sizeof(s1), 1, e->single_score);
        cli_buf_html(pg->b, pg->r->metric);
        cli_buf_printf(pg->b,
                       " %s, estimated by cross-validation with no selection on the rows "
                       "it is scored on, against %s for the best single trial chosen the "
                       "same way; the ensemble is kept (the best trial's own CV score, "
                       "%s, was selected on the rows it is scored on).</p>\n",
                       ens, s1, best);
    } else {
        cli_buf_html(pg->b, pg->r->metric);
        cli_buf_printf(pg->b,
                       " %s, estimated by cross-validation with no selection on the rows "
                       "it is scored on, against %s for the best single trial.</p>\n",
                       ens, best);
    }
    if (!e->fallback_from && strcmp(e->method, "stacking") == 0)
        stack_learners(pg->r, pg->b);
    cli_buf_puts(pg->b, "<table>\n<tr><th>trial</th><th>learner</th><th>CV score</th>"
                        "<th>weight</th></tr>\n");
    ensemble_members(pg->r, pg->b, e->members_json);
    cli_buf_puts(pg->b, "</table>\n");
    return 1; /* found */
}

static int page_ensemble(const report *r, aml_store *s, long long id, cli_buf *b)
{
    ens_page pg = {r, b};
    int rc;

    cli_buf_puts(b, "<h2 id=\"ensemble\">Ensemble</h2>\n");
    rc = aml_store_ensemble_read(s, id, ensemble_section, &pg);
    if (rc == 0)
        cli_buf_puts(b, "<p class=\"note\">No ensemble yet: the study's search has not "
                        "finished (automl run builds it at the end).</p>\n");
    return rc < 0 ? rc : 0;
}

static int page_build(report *r, aml_store *s, long long id, cli_buf *b)
{
    size_t n = r->n ? r->n : 1;
    /* ys holds two series for the best-so-far chart. */
    double *xs = aml_mallocarray(n, sizeof(double)),
           *ys = aml_mallocarray(2 * n, sizeof(double));
    int rc = AML_ENOMEM;

    if (!xs || !ys)
        goto out;
    r->stride = (r->n + REPORT_MAX_POINTS - 1) / REPORT_MAX_POINTS;
    r->stride = r->stride ? r->stride : 1;
    cli_buf_puts(b, page_head);
    page_summary(r, b);
    cli_buf_puts(b, "<h2>Best so far</h2>\n");
    chart_best_so_far(r, b, xs, ys);
    cli_buf_puts(b, "<h2>Trials</h2>\n");
    chart_scores(r, b, xs, ys);
    cli_buf_puts(b,
                 "<h2>Score against each hyperparameter</h2>\n<div class=\"small\">\n");
    if (chart_params(r, b, xs, ys) == 0)
        cli_buf_puts(
            b, "<p class=\"note\">No numeric hyperparameter took two values.</p>\n");
    cli_buf_puts(b, "</div>\n");
    if ((rc = page_leaderboard(r, s, b)) < 0)
        goto out;
    if ((rc = page_ensemble(r, s, id, b)) < 0)
        goto out;
    cli_buf_puts(b, "</body>\n</html>\n");
out:
    free(xs);
    free(ys);
    return rc;
}

/* Writes through a temporary file, so the report appears whole or not at all. */
static int write_atomic(const char *path, const char *text)
{
    return aml_outfile_write(path, text, strlen(text), 0);
}

static int report_parse(int argc, char **argv, const char **db, const char **study,
                        const char **out)
{
    cli_args a = {argc, argv, 0, "report"};

    *db = *study = *out = NULL;
    for (a.i = 0; a.i < argc; a.i++) {
        if (cli_opt(&a, "--study", study) || cli_opt(&a, "--out", out)) {
            if (!*study && !*out)
                return -1;
        } else if (argv[a.i][0] == '-' || *db) {
            cli_error("report: unexpected argument '%s' (usage: automl report DB "
                      "[--study S] --out FILE.html)",
                      argv[a.i]);
            return -1;
        } else {
            *db = argv[a.i];
        }
    }
    if (!*db || !*out) {
        cli_error("report: usage: automl report DB [--study S] --out FILE.html");
        return -1;
    }
    if (cli_check_out(*out) < 0) {
        cli_fail_in("report", AML_EINVAL);
        return -1;
    }
    return 0;
}

int cli_report(int argc, char **argv)
{
    const char *db, *study, *out;
    report r = {0};
    cli_buf b = {0};
    aml_store *s = NULL;
    long long id;
    char *html = NULL;
    int rc;

    if (report_parse(argc, argv, &db, &study, &out) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, db, 1)) < 0 ||
        (rc = aml_store_study_find(s, &id, study)) < 0 ||
        (rc = aml_store_study_read(s, id, rep_study, &r)) < 0 ||
        (rc = aml_store_trial_records(s, id, rep_record, &r)) < 0 ||
        (rc = page_build(&r, s, id, &b)) < 0)
        goto out;
    if (!(html = cli_buf_take(&b)))
        rc = aml_error_set(AML_ENOMEM, "out of memory building the report");
    else if ((rc = write_atomic(out, html)) == 0)
        printf("report on study %s (%zu trials) written to %s\n", r.name, r.n, out);
out:
    free(html);
    cli_buf_dispose(&b);
    rep_dispose(&r);
    aml_store_free(s);
    return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
