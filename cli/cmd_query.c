/*
 * cmd_query.c - `automl trials`, `automl best` and `automl studies`: read
 * the store, never write it.  The store is opened read-only, so these run
 * while a search writes the same file (WAL: no "database is locked").
 *
 * Formats: `table` (the default) is laid out here; `csv` and `json` come
 * out of SQLite whole (store.h, aml_store_export_*), so no value is escaped
 * in C and the text matches what the sqlite3 shell's json functions give.
 */
#include "cli.h"
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum query_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON } query_format;

typedef struct query_args {
    const char *db;
    const char *study;
    const char *status;
    const char *learner;
    long top;
    int all;
    query_format format;
} query_args;

/* Options each command accepts. */
enum { TAKES_TOP = 1, TAKES_FILTERS = 2, TAKES_STUDY = 4 };

static int query_format_parse(const char *v, query_format *out)
{
    if (v && strcmp(v, "table") == 0)
        *out = FORMAT_TABLE;
    else if (v && strcmp(v, "csv") == 0)
        *out = FORMAT_CSV;
    else if (v && strcmp(v, "json") == 0)
        *out = FORMAT_JSON;
    else {
        cli_error("--format takes table, csv or json, not '%s'", v ? v : "");
        return -1;
    }
    return 0;
}

/* Parses one option; returns 1 when taken, 0 when not this command's, -1 on error. */
static int query_option(query_args *q, cli_args *a, int takes)
{
    const char *v;

    if ((takes & TAKES_STUDY) && cli_opt(a, "--study", &v))
        return (q->study = v) ? 1 : -1;
    if (cli_opt(a, "--format", &v))
        return query_format_parse(v, &q->format) < 0 ? -1 : 1;
    if ((takes & TAKES_TOP) && cli_opt(a, "--top", &v)) {
        if (cli_parse_long(a, "--top", v, &q->top) < 0)
            return -1;
        if (q->top == 0) { /* 0 is "not given" inside: it would list every trial */
            cli_error("--top takes a count of at least 1 (--all lists every trial)");
            return -1;
        }
        return 1;
    }
    if ((takes & TAKES_TOP) && cli_opt(a, "--all", NULL))
        return q->all = 1;
    if ((takes & TAKES_FILTERS) && cli_opt(a, "--status", &v))
        return (q->status = v) ? 1 : -1;
    if ((takes & TAKES_FILTERS) && cli_opt(a, "--learner", &v))
        return (q->learner = v) ? 1 : -1;
    return 0;
}

static int query_parse(query_args *q, int argc, char **argv, const char *cmd, int takes)
{
    cli_args a = {argc, argv, 0, cmd};
    int taken;

    memset(q, 0, sizeof(*q));
    for (a.i = 0; a.i < argc; a.i++) {
        if ((taken = query_option(q, &a, takes)) < 0)
            return -1;
        if (taken)
            continue;
        if (argv[a.i][0] == '-' || q->db) {
            cli_error("%s: unexpected argument '%s' (see automl --help)", cmd, argv[a.i]);
            return -1;
        }
        q->db = argv[a.i];
    }
    if (!q->db) {
        cli_error("%s: which database? (see automl --help)", cmd);
        return -1;
    }
    return 0;
}

/* Writes one piece of SQLite-made text and a newline. */
static int print_text(const char *text, void *payload)
{
    (void)payload;
    fputs(text, stdout);
    fputc('\n', stdout);
    return 0;
}

/* The table, and whether it has the resource column. */
typedef struct trials_out {
    cli_table *t;
    int resource;
} trials_out;

/* Stops the walk at the first trial with a partial resource (successive halving). */
static int trials_any_resource(const aml_trial_row *row, void *payload)
{
    (void)payload;
    return row->resource == row->resource; /* not NaN: a resource was stored */
}

static int trials_row(const aml_trial_row *row, void *payload)
{
    trials_out *o = payload;
    cli_table *t = o->t;
    char score[64];

    cli_format_score(score, sizeof(score), row->has_score, row->score);
    cli_table_add(t, "%ld", row->number);
    cli_table_add(t, "%s", row->learner);
    cli_table_add(t, "%s", aml_trial_status_name(row->status));
    cli_table_add(t, "%s", score);
    if (o->resource && row->resource == row->resource)
        cli_table_add(t, "%.4g", row->resource);
    else if (o->resource)
        cli_table_add(t, "1");
    if (row->t_end > 0)
        cli_table_add(t, "%.2f", row->t_end - row->t_start);
    else
        cli_table_add(t, "-");
    if (row->status != AML_TRIAL_OK && row->message)
        cli_table_add(t, "%s  [%s]", row->params_json ? row->params_json : "{}",
                      row->message);
    else
        cli_table_add(t, "%s", row->params_json ? row->params_json : "{}");
    return 0;
}

/* A resource column comes after the score when any trial listed has one. */
static int trials_table(aml_store *s, const aml_trial_query *q)
{
    static const char *const head[] = {"trial",    "learner", "status", "score",
                                       "resource", "seconds", "params"};
    trials_out o = {NULL, 0};
    size_t cols, i;
    int rc;

    if ((rc = aml_store_trials(s, q, trials_any_resource, NULL)) < 0)
        return rc;
    o.resource = rc > 0;
    cols = o.resource ? 7 : 6;
    if (!(o.t = cli_table_new(cols)))
        return aml_error_set(AML_ENOMEM, "out of memory");
    for (i = 0; i < 7; i++)
        if (o.resource || i != 4)
            cli_table_add(o.t, "%s", head[i]);
    for (i = 0; i + 1 < cols; i++)
        if (i == 0 || i >= 3)
            cli_table_align_right(o.t, i);
    rc = aml_store_trials(s, q, trials_row, &o);
    if (rc == 0)
        cli_table_print(o.t, stdout);
    cli_table_free(o.t);
    return rc;
}

int cli_trials(int argc, char **argv)
{
    aml_trial_query q = {0};
    aml_store *s = NULL;
    query_args qa;
    int rc;

    if (query_parse(&qa, argc, argv, "trials", TAKES_TOP | TAKES_FILTERS | TAKES_STUDY) <
        0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    q.study = qa.study;
    q.top = qa.top;
    q.ranked = !qa.all;
    q.status = qa.status;
    q.learner = qa.learner;
    if (qa.format == FORMAT_TABLE)
        rc = trials_table(s, &q);
    else
        rc = aml_store_export_trials(
            s, &q, qa.format == FORMAT_CSV ? AML_STORE_CSV : AML_STORE_JSON, print_text,
            NULL);
    aml_store_free(s);
    return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

/* 1 when the top-ranked ok trial is a full evaluation (ranking puts those first), 2
 * when it is partial, 0 when there is none. */
static int best_full(const aml_trial_row *row, void *payload)
{
    *(int *)payload = row->resource != row->resource ? 1 : 2; /* NaN: full */
    return 1;
}

static int best_row(const aml_trial_row *row, void *payload)
{
    int *found = payload;

    printf("trial    %ld\n", row->number);
    printf("learner  %s\n", row->learner);
    printf("score    %.6f\n", row->score);
    printf("folds    %s\n", row->fold_scores_json ? row->fold_scores_json : "[]");
    printf("params   %s\n", row->params_json ? row->params_json : "{}");
    printf("seconds  %.2f\n", row->t_end - row->t_start);
    *found = 1;
    return 1;
}

/* Counts what a CSV or JSON export printed, to tell "no best" apart. */
typedef struct best_text {
    int lines;
    int null;
} best_text;

static int best_print(const char *text, void *payload)
{
    best_text *b = payload;

    b->lines++;
    b->null |= strcmp(text, "null") == 0;
    return print_text(text, NULL);
}

/* The first words of `best`'s ensemble line: what the model is and how it scored. */
static void best_ensemble_head(const aml_ensemble_info *e)
{
    char ens[32], best[32], f[32], s1[32];

    cli_format_score(ens, sizeof(ens), isfinite(e->score), e->score);
    cli_format_score(best, sizeof(best), isfinite(e->best_trial_score),
                     e->best_trial_score);
    if (e->fallback_from) {
        cli_format_score(f, sizeof(f), isfinite(e->fallback_score), e->fallback_score);
        cli_format_score(s1, sizeof(s1), isfinite(e->single_score), e->single_score);
        printf("ensemble none: %s scored %s, no better than the best single trial chosen "
               "the same "
               "way (%s; both cross-validated with no selection on the scored rows), so "
               "the model is that trial alone (CV score %s)",
               e->fallback_from, f, s1, best);
    } else if (strcmp(e->method, "none") == 0) {
        printf("ensemble none: the best trial alone (CV score %s)", best);
    } else if (isfinite(e->single_score)) {
        cli_format_score(s1, sizeof(s1), 1, e->single_score);
        printf("ensemble %s, %s vs %s for the best single trial chosen the same way "
               "(both cross-validated, no selection on the scored rows; the best trial's "
               "own CV score %s)",
               e->method, ens, s1, best);
    } else {
        printf("ensemble %s, %s (cross-validated, no selection on the scored rows; best "
               "trial %s)",
               e->method, ens, best);
    }
}

/* One line under `best`'s table: the ensemble the study ended with, if any. */
static int best_ensemble(const aml_ensemble_info *e, void *payload)
{
    long trials[64];
    double weights[64];
    size_t n = cli_ensemble_members(e->members_json, trials, weights, 64);

    (void)payload;
    best_ensemble_head(e);
    printf(", members:");
    for (size_t i = 0; i < n; i++) {
        if (isnan(weights[i]))
            printf(" %ld", trials[i]);
        else
            printf(" %ld x%.2f", trials[i], weights[i]);
    }
    printf(n == 64 ? " ...\n" : "\n");
    return 0;
}

static int best_print_ensemble(aml_store *s, const char *study)
{
    long long id;
    int rc;

    if ((rc = aml_store_study_find(s, &id, study)) < 0)
        return rc;
    return aml_store_ensemble_read(s, id, best_ensemble, NULL);
}

int cli_best(int argc, char **argv)
{
    aml_trial_query q = {0};
    aml_store *s = NULL;
    best_text bt = {0, 0};
    query_args qa;
    int rc, found = 0, full = 0;

    if (query_parse(&qa, argc, argv, "best", TAKES_STUDY) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    q.study = qa.study;
    q.top = 1;
    q.ranked = 1;
    q.status = "ok"; /* failed, running and NULL scores never rank as best */
    /* Nor do partial evaluations (successive halving): ranked after full ones. */
    if ((rc = aml_store_trials(s, &q, best_full, &full)) < 0 || full != 1) {
        aml_store_free(s);
        if (rc < 0)
            return cli_fail(rc);
        cli_error("best: the study has no successful %strial",
                  full ? "full-resource " : "");
        return CLI_EXIT_FAIL;
    }
    if (qa.format == FORMAT_TABLE) {
        rc = aml_store_trials(s, &q, best_row, &found);
        if (rc >= 0 && found) /* best_row stops the walk after one row */
            rc = best_print_ensemble(s, qa.study);
    } else
        rc = aml_store_export_trials(
            s, &q, qa.format == FORMAT_CSV ? AML_STORE_CSV : AML_STORE_JSON_ONE,
            best_print, &bt);
    aml_store_free(s);
    if (rc < 0)
        return cli_fail(rc);
    found |= qa.format == FORMAT_CSV ? bt.lines > 1 : bt.lines > 0 && !bt.null;
    if (!found) {
        cli_error("best: the study has no successful trial");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* What the study is doing: running (a live process holds it), or why it stopped. */
static const char *study_state(const aml_study_row *row)
{
    if (row->run_alive)
        return "running";
    if (row->run_pid)
        return "died"; /* its process is gone; `automl run` resumes it */
    return row->stop_reason ? row->stop_reason : "-";
}

static int studies_row(const aml_study_row *row, void *payload)
{
    cli_table *t = payload;
    char best[64];

    cli_format_score(best, sizeof(best), row->has_best, row->best);
    cli_table_add(t, "%s", row->name);
    cli_table_add(t, "%s", row->task);
    cli_table_add(t, "%s", row->metric);
    cli_table_add(t, "%ld", row->n_trials);
    cli_table_add(t, "%ld", row->n_ok);
    cli_table_add(t, "%ld", row->n_failed);
    cli_table_add(t, "%s", best);
    cli_table_add(t, "%s", study_state(row));
    return 0;
}

static int studies_table(aml_store *s)
{
    static const char *const head[] = {"study", "task",   "metric", "trials",
                                       "ok",    "failed", "best",   "state"};
    cli_table *t = cli_table_new(8);
    int rc;

    if (!t)
        return aml_error_set(AML_ENOMEM, "out of memory");
    for (size_t i = 0; i < 8; i++)
        cli_table_add(t, "%s", head[i]);
    for (size_t i = 3; i < 7; i++)
        cli_table_align_right(t, i);
    rc = aml_store_studies(s, studies_row, t);
    if (rc == 0)
        cli_table_print(t, stdout);
    cli_table_free(t);
    return rc;
}

int cli_studies(int argc, char **argv)
{
    aml_store *s = NULL;
    query_args qa;
    int rc;

    if (query_parse(&qa, argc, argv, "studies", 0) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    if (qa.format == FORMAT_TABLE)
        rc = studies_table(s);
    else
        rc = aml_store_export_studies(
            s, qa.format == FORMAT_CSV ? AML_STORE_CSV : AML_STORE_JSON, print_text,
            NULL);
    aml_store_free(s);
    return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
