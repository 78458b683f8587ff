/*
 * cmd_query.c - `automl trials`, `automl best` and `automl studies`: read
 * the store, never write it (it is opened read-only, so they can run while
 * a search writes).
 */
#include "cli.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct query_args {
    const char *db;
    const char *study;
    long top;
    int all;
} query_args;

static int query_parse(query_args *q, int argc, char **argv, const char *cmd, int takes_top)
{
    cli_args a = {argc, argv, 0};
    const char *v;

    memset(q, 0, sizeof(*q));
    for (a.i = 0; a.i < argc; a.i++) {
        if (cli_opt(&a, "--study", &v)) {
            if (!v)
                return -1;
            q->study = v;
        } else if (takes_top && cli_opt(&a, "--top", &v)) {
            if (cli_parse_long("--top", v, &q->top) < 0)
                return -1;
        } else if (takes_top && cli_opt(&a, "--all", NULL)) {
            q->all = 1;
        } else if (argv[a.i][0] == '-' || q->db) {
            cli_error("%s: unexpected argument '%s' (see automl --help)", cmd, argv[a.i]);
            return -1;
        } else {
            q->db = argv[a.i];
        }
    }
    if (!q->db) {
        cli_error("%s: which database? (see automl --help)", cmd);
        return -1;
    }
    return 0;
}

static int trials_row(const aml_trial_row *row, void *payload)
{
    cli_table *t = payload;
    char score[64];

    cli_format_score(score, sizeof(score), row->has_score, row->score);
    cli_table_add(t, "%ld", row->number);
    cli_table_add(t, "%s", row->learner);
    cli_table_add(t, "%s", aml_trial_status_name(row->status));
    cli_table_add(t, "%s", score);
    if (row->t_end > 0)
        cli_table_add(t, "%.2f", row->t_end - row->t_start);
    else
        cli_table_add(t, "-");
    if (row->status == AML_TRIAL_FAILED && row->message)
        cli_table_add(t, "%s  [%s]", row->params_json ? row->params_json : "{}",
                      row->message);
    else
        cli_table_add(t, "%s", row->params_json ? row->params_json : "{}");
    return 0;
}

int cli_trials(int argc, char **argv)
{
    aml_trial_query q = {0};
    aml_store *s = NULL;
    cli_table *t;
    query_args qa;
    int rc;

    if (query_parse(&qa, argc, argv, "trials", 1) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    q.study = qa.study;
    q.top = qa.top;
    q.ranked = !qa.all;
    t = cli_table_new(6);
    cli_table_add(t, "trial");
    cli_table_add(t, "learner");
    cli_table_add(t, "status");
    cli_table_add(t, "score");
    cli_table_add(t, "seconds");
    cli_table_add(t, "params");
    cli_table_align_right(t, 0);
    cli_table_align_right(t, 3);
    cli_table_align_right(t, 4);
    rc = aml_store_trials(s, &q, trials_row, t);
    if (rc == 0)
        cli_table_print(t, stdout);
    cli_table_free(t);
    aml_store_free(s);
    return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

static int best_row(const aml_trial_row *row, void *payload)
{
    int *found = payload;

    if (row->status != AML_TRIAL_OK || !row->has_score)
        return 0;
    printf("trial    %ld\n", row->number);
    printf("learner  %s\n", row->learner);
    printf("score    %.6f\n", row->score);
    printf("folds    %s\n", row->fold_scores_json ? row->fold_scores_json : "[]");
    printf("params   %s\n", row->params_json ? row->params_json : "{}");
    printf("seconds  %.2f\n", row->t_end - row->t_start);
    *found = 1;
    return 1;
}

int cli_best(int argc, char **argv)
{
    aml_trial_query q = {0};
    aml_store *s = NULL;
    query_args qa;
    int rc, found = 0;

    if (query_parse(&qa, argc, argv, "best", 0) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    q.study = qa.study;
    q.top = 1;
    q.ranked = 1;
    rc = aml_store_trials(s, &q, best_row, &found);
    aml_store_free(s);
    if (rc < 0)
        return cli_fail(rc);
    if (!found) {
        cli_error("best: the study has no successful trial");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
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
    cli_table_add(t, "%s", best);
    return 0;
}

int cli_studies(int argc, char **argv)
{
    aml_store *s = NULL;
    cli_table *t;
    query_args qa;
    int rc;

    if (query_parse(&qa, argc, argv, "studies", 0) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_store_open(&s, qa.db, 1)) < 0)
        return cli_fail(rc);
    t = cli_table_new(6);
    cli_table_add(t, "study");
    cli_table_add(t, "task");
    cli_table_add(t, "metric");
    cli_table_add(t, "trials");
    cli_table_add(t, "ok");
    cli_table_add(t, "best");
    cli_table_align_right(t, 3);
    cli_table_align_right(t, 4);
    cli_table_align_right(t, 5);
    rc = aml_store_studies(s, studies_row, t);
    if (rc == 0)
        cli_table_print(t, stdout);
    cli_table_free(t);
    aml_store_free(s);
    return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
