/*
 * store_read.c - reading the trials store: ranked and filtered trial
 * lists, typed trial records for resume and reports, the study listing,
 * and the CSV and JSON exports (see store.h).
 *
 * Speed.  A ranked `--top 20` over 100k trials must answer in well under
 * a second, so the JSON columns (two correlated subqueries per row) are
 * computed only for the rows that survive the LIMIT: an inner query picks
 * the trial ids by sort key over the bare trial table, and the outer query
 * joins back for the JSON.  The sort key folds the study's direction into
 * a bound factor (score * -1 when greater is better), so one statement
 * serves both directions.
 *
 * Text formats.  Every byte of JSON comes from SQLite's json_object and
 * json_group_array, and every CSV cell is quoted in SQL (replace() doubles
 * the quotes), so nothing is escaped by hand in C.  CSV numbers are
 * written with printf('%.17g'), which reads back to the same double.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* ---- trial lists ----------------------------------------------------------------- */

/* ?1 study, ?2 limit (-1: none), ?3 status or NULL, ?4 learner or NULL, ?5 factor. */
#define PICK_FILTER                                                                      \
    " FROM trial AS t WHERE t.study_id = ?1 AND (?3 IS NULL OR t.status = ?3)"           \
    " AND (?4 IS NULL OR t.learner = ?4)"
/* Ok trials with a score first: full-resource ones, then by resource, larger
 * first (successive halving), each best first in the study's direction; then
 * the rest.  Trial numbers break ties in both groups. */
#define PICK_RANKED                                                                      \
    "SELECT t.id, t.number,"                                                             \
    " CASE WHEN t.status = 'ok' AND t.score IS NOT NULL THEN 0 ELSE 1 END AS k0,"        \
    " CASE WHEN t.status = 'ok' THEN -coalesce(t.resource, 1) END AS kr,"                \
    " CASE WHEN t.status = 'ok' THEN t.score * ?5 END AS k1" PICK_FILTER                 \
    " ORDER BY k0, kr, k1, t.number LIMIT ?2"
#define PICK_BY_NUMBER                                                                   \
    "SELECT t.id, t.number, 0 AS k0, 0 AS kr, 0 AS k1" PICK_FILTER                       \
    " ORDER BY t.number LIMIT ?2"

/* clang-format off */
#define TRIAL_COLUMNS                                                                    \
    "t.number AS number, t.learner AS learner,"                                          \
    " " STORE_PARAMS_JSON("t") " AS params,"                                             \
    " t.status AS status, t.score AS score,"                                             \
    " " STORE_FOLDS_JSON("t") " AS fold_scores,"                                         \
    " t.message AS message, t.t_start AS t_start, t.t_end AS t_end,"                     \
    " t.t_end - t.t_start AS seconds, t.resource AS resource"
/* clang-format on */
#define TRIALS_FROM(pick)                                                                \
    " FROM (" pick ") AS k JOIN trial AS t ON t.id = k.id"                               \
    " ORDER BY k.k0, k.kr, k.k1, k.number"

static const char *const trials_sql[2] = {
    "SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_BY_NUMBER),
    "SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_RANKED),
};

/* The same rows as JSON: an array of objects, or the first object. */
#define JSON_OBJECT_SQL                                                                  \
    "json_object('number', number, 'learner', learner, 'status', status,"                \
    " 'score', score, 'seconds', seconds, 'params', json(params),"                       \
    " 'fold_scores', json(fold_scores), 'message', message,"                             \
    " 't_start', t_start, 't_end', t_end, 'resource', resource)"
static const char *const trials_json_sql[2] = {
    "SELECT json_group_array(" JSON_OBJECT_SQL
    ") FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_BY_NUMBER) ")",
    "SELECT json_group_array(" JSON_OBJECT_SQL
    ") FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_RANKED) ")",
};
static const char *const trials_json_one_sql[2] = {
    "SELECT coalesce((SELECT " JSON_OBJECT_SQL
    " FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_BY_NUMBER) ") LIMIT 1), 'null')",
    "SELECT coalesce((SELECT " JSON_OBJECT_SQL
    " FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_RANKED) ") LIMIT 1), 'null')",
};

/* A CSV cell: empty for NULL, quoted (quotes doubled) when it needs it. */
#define CSV_TEXT(x)                                                                      \
    "CASE WHEN " x " IS NULL THEN '' WHEN instr(" x ", '\"') OR instr(" x ", ',')"       \
    " OR instr(" x ", char(10)) OR instr(" x ", char(13))"                               \
    " THEN '\"' || replace(" x ", '\"', '\"\"') || '\"' ELSE " x " END"
#define CSV_REAL(x) "CASE WHEN " x " IS NULL THEN '' ELSE printf('%.17g', " x ") END"
#define TRIALS_CSV_HEADER                                                                \
    "number,learner,status,score,seconds,params,fold_scores,message,t_start,t_end,"      \
    "resource"
/* clang-format off */
#define CSV_ROW_SQL                                                                      \
    "number"                                                                             \
    " || ',' || " CSV_TEXT("learner")                                                    \
    " || ',' || status"                                                                  \
    " || ',' || " CSV_REAL("score")                                                      \
    " || ',' || " CSV_REAL("seconds")                                                    \
    " || ',' || " CSV_TEXT("params")                                                     \
    " || ',' || " CSV_TEXT("fold_scores")                                                \
    " || ',' || " CSV_TEXT("message")                                                    \
    " || ',' || " CSV_REAL("t_start")                                                    \
    " || ',' || " CSV_REAL("t_end")                                                     \
    " || ',' || " CSV_REAL("resource")
/* clang-format on */
static const char *const trials_csv_sql[2] = {
    "SELECT " CSV_ROW_SQL " FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_BY_NUMBER) ")",
    "SELECT " CSV_ROW_SQL " FROM (SELECT " TRIAL_COLUMNS TRIALS_FROM(PICK_RANKED) ")",
};

static void store_trial_row(sqlite3_stmt *st, aml_trial_row *row)
{
    row->number = (long)sqlite3_column_int64(st, 0);
    row->learner = store_column_text(st, 1);
    row->params_json = store_column_text(st, 2);
    row->status = store_status_parse(store_column_text(st, 3));
    row->has_score = sqlite3_column_type(st, 4) != SQLITE_NULL;
    row->score = store_column_real(st, 4);
    row->fold_scores_json = store_column_text(st, 5);
    row->message = store_column_text(st, 6);
    row->t_start = store_column_real(st, 7);
    row->t_end = store_column_real(st, 8);
    row->resource = store_column_real(st, 10);
}

/* Steps `st` and hands each row to cb; returns cb's first non-zero answer. */
static int store_walk_trials(aml_store *s, sqlite3_stmt *st, aml_trial_cb cb,
                             void *payload)
{
    aml_trial_row row;
    int step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int stop;

        store_trial_row(st, &row);
        if ((stop = cb(&row, payload)) != 0)
            return stop;
    }
    return step == SQLITE_DONE ? 0 : store_sqlite_fail(s);
}

static int store_check_status(aml_store *s, const char *status)
{
    static const char *const names[] = {"running", "ok", "failed", "interrupted"};

    if (!status)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(status, names[i]) == 0)
            return 0;
    return store_fail(s, AML_EINVAL,
                      "status '%s' is none of running, ok, failed, interrupted", status);
}

/* Reads the study's direction for the ranking factor. */
static int store_study_direction(aml_store *s, long long id, int *gib)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_prepare(s, "SELECT greater_is_better FROM study WHERE id = ?1",
                            &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *gib = sqlite3_column_int(st, 0) != 0;
    else
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}

/* Checks the query, finds its study and prepares one of the two-variant statements. */
static int store_trials_prepare(aml_store *s, const aml_trial_query *q,
                                const char *const sql[2], sqlite3_stmt **out)
{
    static const aml_trial_query all = {NULL, 0, 0, NULL, NULL};
    long long study_id;
    int rc, gib = 0;

    q = q ? q : &all;
    *out = NULL;
    if (q->top < 0)
        return store_fail(s, AML_EINVAL, "top must be >= 0, not %ld", q->top);
    if ((rc = store_check_status(s, q->status)) < 0 ||
        (rc = aml_store_study_find(s, &study_id, q->study)) < 0 ||
        (rc = store_study_direction(s, study_id, &gib)) < 0 ||
        (rc = store_prepare(s, sql[q->ranked != 0], out)) < 0)
        return rc;
    sqlite3_bind_int64(*out, 1, study_id);
    sqlite3_bind_int64(*out, 2, q->top > 0 ? q->top : -1); /* LIMIT -1: no limit */
    sqlite3_bind_text(*out, 3, q->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(*out, 4, q->learner, -1, SQLITE_STATIC);
    if (q->ranked)
        sqlite3_bind_double(*out, 5, gib ? -1.0 : 1.0);
    return 0;
}

int aml_store_trials(aml_store *s, const aml_trial_query *q, aml_trial_cb cb,
                     void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;

    assert(s && cb);
    if ((rc = store_trials_prepare(s, q, trials_sql, &st)) < 0)
        return rc;
    rc = store_walk_trials(s, st, cb, payload);
    sqlite3_finalize(st);
    return rc;
}

/* Hands each row's first column, as text, to cb. */
static int store_walk_text(aml_store *s, sqlite3_stmt *st, aml_text_cb cb, void *payload)
{
    int step, stop;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = store_column_text(st, 0);

        if ((stop = cb(text ? text : "", payload)) != 0)
            return stop;
    }
    return step == SQLITE_DONE ? 0 : store_sqlite_fail(s);
}

int aml_store_export_trials(aml_store *s, const aml_trial_query *q, aml_store_format fmt,
                            aml_text_cb cb, void *payload)
{
    const char *const *sql = fmt == AML_STORE_CSV    ? trials_csv_sql
                             : fmt == AML_STORE_JSON ? trials_json_sql
                                                     : trials_json_one_sql;
    sqlite3_stmt *st = NULL;
    int rc;

    assert(s && cb);
    if ((rc = store_trials_prepare(s, q, sql, &st)) < 0)
        return rc;
    if (fmt == AML_STORE_CSV)
        rc = cb(TRIALS_CSV_HEADER, payload);
    if (rc == 0)
        rc = store_walk_text(s, st, cb, payload);
    sqlite3_finalize(st);
    return rc;
}

/* ---- typed trial records ----------------------------------------------------------- */

/*
 * Three statements walked side by side, all in trial-number order: the
 * trials, their parameters and their folds.  One pass each instead of two
 * queries per trial keeps a 100k-trial resume quick.
 */
static const char records_trial_sql[] =
    "SELECT id, number, learner, status, score, message, t_start, t_end, resource"
    " FROM trial WHERE study_id = ?1 ORDER BY number";
static const char records_param_sql[] =
    "SELECT t.number, p.name, p.value_real, p.value_int, p.value_text"
    " FROM trial AS t JOIN trial_param AS p ON p.trial_id = t.id"
    " WHERE t.study_id = ?1 ORDER BY t.number, p.position";
static const char records_fold_sql[] =
    "SELECT t.number, f.score FROM trial AS t JOIN trial_fold AS f ON f.trial_id = t.id"
    " WHERE t.study_id = ?1 ORDER BY t.number, f.fold";

typedef struct records_walk {
    sqlite3_stmt *trial, *param, *fold;
    int param_step, fold_step; /* SQLITE_ROW while the cursor has a row */
    aml_param *params;
    double *folds;
    char **strings; /* copies of the current trial's parameter names and words */
    size_t cap_params, cap_folds, cap_strings, n_strings;
} records_walk;

static int records_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    void *p;
    size_t n = *cap ? *cap : 8;

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

static void records_value(sqlite3_stmt *st, aml_value *v)
{
    memset(v, 0, sizeof(*v));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
        v->kind = AML_VAL_INT;
        v->i = sqlite3_column_int64(st, 3);
    } else if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        v->kind = AML_VAL_STR;
        v->str = store_column_text(st, 4);
    } else {
        v->kind = AML_VAL_REAL; /* a non-finite real was stored as all NULL */
        v->real = store_column_real(st, 2);
    }
}

/*
 * Gathers the parameters of trial `number` from the parameter cursor.  A
 * column's text is valid only until its cursor steps, and the cursor steps
 * past each row here, so names and string values are copied (into
 * w->strings, freed after the callback).
 */
static int records_params(records_walk *w, long number, size_t *n)
{
    int rc;

    *n = 0;
    while (w->param_step == SQLITE_ROW && sqlite3_column_int64(w->param, 0) == number) {
        aml_param *p;

        if ((rc = records_grow((void **)&w->params, &w->cap_params, *n + 1,
                               sizeof(*w->params))) < 0 ||
            (rc = records_grow((void **)&w->strings, &w->cap_strings, 2 * (*n + 1),
                               sizeof(*w->strings))) < 0)
            return rc;
        p = &w->params[*n];
        records_value(w->param, &p->value);
        w->strings[2 * *n] = aml_strdup(store_column_text(w->param, 1));
        w->strings[2 * *n + 1] =
            p->value.kind == AML_VAL_STR ? aml_strdup(p->value.str) : NULL;
        (*n)++;
        w->n_strings = 2 * *n;
        if (!w->strings[2 * *n - 2] ||
            (p->value.kind == AML_VAL_STR && !w->strings[2 * *n - 1]))
            return AML_ENOMEM;
        p->name = w->strings[2 * *n - 2];
        if (p->value.kind == AML_VAL_STR)
            p->value.str = w->strings[2 * *n - 1];
        w->param_step = sqlite3_step(w->param);
    }
    return 0;
}

static void records_free_strings(records_walk *w)
{
    for (size_t i = 0; i < w->n_strings; i++) {
        free(w->strings[i]);
        w->strings[i] = NULL;
    }
    w->n_strings = 0;
}

static int records_folds(records_walk *w, long number, size_t *k)
{
    int rc;

    *k = 0;
    while (w->fold_step == SQLITE_ROW && sqlite3_column_int64(w->fold, 0) == number) {
        if ((rc = records_grow((void **)&w->folds, &w->cap_folds, *k + 1,
                               sizeof(*w->folds))) < 0)
            return rc;
        w->folds[(*k)++] = store_column_real(w->fold, 1);
        w->fold_step = sqlite3_step(w->fold);
    }
    return 0;
}

static void records_close(records_walk *w)
{
    sqlite3_finalize(w->trial);
    sqlite3_finalize(w->param);
    sqlite3_finalize(w->fold);
    records_free_strings(w);
    free(w->params);
    free(w->folds);
    free(w->strings);
}

static int records_open(aml_store *s, records_walk *w, long long study_id)
{
    int rc;

    memset(w, 0, sizeof(*w));
    if ((rc = store_prepare(s, records_trial_sql, &w->trial)) < 0 ||
        (rc = store_prepare(s, records_param_sql, &w->param)) < 0 ||
        (rc = store_prepare(s, records_fold_sql, &w->fold)) < 0)
        return rc;
    sqlite3_bind_int64(w->trial, 1, study_id);
    sqlite3_bind_int64(w->param, 1, study_id);
    sqlite3_bind_int64(w->fold, 1, study_id);
    w->param_step = sqlite3_step(w->param);
    w->fold_step = sqlite3_step(w->fold);
    return 0;
}

/* Builds one record from the cursors and hands it to cb. */
static int records_emit(records_walk *w, aml_trial_record_cb cb, void *payload)
{
    sqlite3_stmt *t = w->trial;
    aml_trial_record r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.id = sqlite3_column_int64(t, 0);
    r.number = (long)sqlite3_column_int64(t, 1);
    r.learner = store_column_text(t, 2);
    r.status = store_status_parse(store_column_text(t, 3));
    r.score = store_column_real(t, 4);
    r.message = store_column_text(t, 5);
    r.t_start = store_column_real(t, 6);
    r.t_end = store_column_real(t, 7);
    r.resource = store_column_real(t, 8);
    rc = records_params(w, r.number, &r.n_params);
    if (rc == 0)
        rc = records_folds(w, r.number, &r.k);
    if (rc == 0) {
        r.params = w->params;
        r.fold_scores = w->folds;
        rc = cb(&r, payload);
    }
    records_free_strings(w);
    return rc;
}

int aml_store_trial_records(aml_store *s, long long study_id, aml_trial_record_cb cb,
                            void *payload)
{
    records_walk w;
    int rc, step = SQLITE_DONE;

    assert(s && cb);
    if ((rc = records_open(s, &w, study_id)) < 0)
        goto out;
    while (rc == 0 && (step = sqlite3_step(w.trial)) == SQLITE_ROW)
        rc = records_emit(&w, cb, payload);
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    if (rc == 0 && ((w.param_step != SQLITE_DONE && w.param_step != SQLITE_ROW) ||
                    (w.fold_step != SQLITE_DONE && w.fold_step != SQLITE_ROW)))
        rc = store_sqlite_fail(s);
out:
    records_close(&w);
    return rc;
}

/* ---- studies ------------------------------------------------------------------------
 */

/* The best score takes max() or min() by the study's direction; both skip NULL. */
#define STUDY_COUNT(cond)                                                                \
    "(SELECT count(*) FROM trial AS t WHERE t.study_id = s.id" cond ")"
/* clang-format off */
#define STUDY_COLUMNS                                                                    \
    "s.id AS id, s.name AS name, s.task AS task, s.metric AS metric,"                    \
    " s.greater_is_better AS greater_is_better,"                                         \
    " " STUDY_COUNT("") " AS n,"                                                         \
    " " STUDY_COUNT(" AND t.status = 'ok'") " AS n_ok,"                                  \
    " CASE WHEN s.greater_is_better"                                                     \
    "   THEN (SELECT max(t.score) FROM trial AS t"                                       \
    "          WHERE t.study_id = s.id AND t.status = 'ok' AND t.resource IS NULL)"      \
    "   ELSE (SELECT min(t.score) FROM trial AS t"                                       \
    "          WHERE t.study_id = s.id AND t.status = 'ok' AND t.resource IS NULL)"      \
    "   END AS best,"                                                                    \
    " " STUDY_COUNT(" AND t.status = 'failed'") " AS n_failed,"                          \
    " " STUDY_COUNT(" AND t.status = 'running'") " AS n_run,"                            \
    " " STUDY_COUNT(" AND t.status = 'interrupted'") " AS n_int,"                        \
    " s.spec_text AS spec_text, s.spec_hash AS spec_hash,"                               \
    " s.spec_canonical AS spec_canonical, s.stop_reason AS stop_reason,"                 \
    " s.run_pid AS run_pid, s.run_host AS run_host, s.seed AS seed,"                     \
    " s.created_at AS created_at, s.updated_at AS updated_at,"                           \
    " s.spec_path AS spec_path"
/* clang-format on */

static const char studies_sql[] =
    "SELECT " STUDY_COLUMNS " FROM study AS s ORDER BY s.created_at, s.id";
static const char study_one_sql[] =
    "SELECT " STUDY_COLUMNS " FROM study AS s WHERE s.id = ?1";

static void store_study_row(sqlite3_stmt *st, aml_study_row *row)
{
    memset(row, 0, sizeof(*row));
    row->id = sqlite3_column_int64(st, 0);
    row->name = store_column_text(st, 1);
    row->task = store_column_text(st, 2);
    row->metric = store_column_text(st, 3);
    row->greater_is_better = sqlite3_column_int(st, 4) != 0;
    row->n_trials = (long)sqlite3_column_int64(st, 5);
    row->n_ok = (long)sqlite3_column_int64(st, 6);
    row->has_best = sqlite3_column_type(st, 7) != SQLITE_NULL;
    row->best = store_column_real(st, 7);
    row->n_failed = (long)sqlite3_column_int64(st, 8);
    row->n_running = (long)sqlite3_column_int64(st, 9);
    row->n_interrupted = (long)sqlite3_column_int64(st, 10);
    row->spec_text = store_column_text(st, 11);
    row->spec_hash = store_column_text(st, 12);
    row->spec_canonical = store_column_text(st, 13);
    row->stop_reason = store_column_text(st, 14);
    row->run_pid = sqlite3_column_int64(st, 15);
    row->run_host = store_column_text(st, 16);
    row->run_alive = store_runner_alive(row->run_pid, row->run_host);
    row->seed = (unsigned long long)sqlite3_column_int64(st, 17);
    row->created_at = store_column_real(st, 18);
    row->updated_at = store_column_real(st, 19);
    row->spec_path = store_column_text(st, 20);
}

static int store_walk_studies(aml_store *s, sqlite3_stmt *st, aml_study_cb cb,
                              void *payload)
{
    aml_study_row row;
    int rc = 0, step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_study_row(st, &row);
        if ((rc = cb(&row, payload)) != 0)
            return rc;
    }
    return step == SQLITE_DONE ? 0 : store_sqlite_fail(s);
}

int aml_store_studies(aml_store *s, aml_study_cb cb, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;

    assert(s && cb);
    if ((rc = store_prepare(s, studies_sql, &st)) < 0)
        return rc;
    rc = store_walk_studies(s, st, cb, payload);
    sqlite3_finalize(st);
    return rc;
}

int aml_store_study_read(aml_store *s, long long study_id, aml_study_cb cb, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc, seen = 0;

    assert(s && cb);
    if ((rc = store_prepare(s, study_one_sql, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, study_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        aml_study_row row;

        seen = 1;
        store_study_row(st, &row);
        rc = cb(&row, payload);
    }
    sqlite3_finalize(st);
    if (!seen && rc == 0)
        rc = store_fail(s, AML_EINVAL, "no study with id %lld in %s", study_id, s->path);
    return rc;
}

#define STUDIES_SELECT                                                                   \
    "SELECT " STUDY_COLUMNS " FROM study AS s ORDER BY s.created_at, s.id"
#define STUDY_JSON_SQL                                                                   \
    "json_object('name', name, 'task', task, 'metric', metric,"                          \
    " 'greater_is_better', greater_is_better, 'trials', n, 'ok', n_ok,"                  \
    " 'failed', n_failed, 'interrupted', n_int, 'running', n_run, 'best', best,"         \
    " 'stop_reason', stop_reason, 'spec_hash', spec_hash, 'seed', seed,"                 \
    " 'created_at', created_at, 'updated_at', updated_at)"
#define STUDY_FIELDS                                                                     \
    "SELECT name, task, metric, greater_is_better, n, n_ok, n_failed, n_int, n_run,"     \
    " best, stop_reason, spec_hash, seed, created_at, updated_at FROM (" STUDIES_SELECT  \
    ")"
#define STUDIES_CSV_HEADER                                                               \
    "name,task,metric,greater_is_better,trials,ok,failed,interrupted,running,best,"      \
    "stop_reason,spec_hash,seed,created_at,updated_at"
static const char studies_json_sql[] =
    "SELECT json_group_array(" STUDY_JSON_SQL ") FROM (" STUDY_FIELDS ")";
/* clang-format off */
static const char studies_csv_sql[] =
    "SELECT " CSV_TEXT("name")
    " || ',' || task || ',' || metric || ',' || greater_is_better"
    " || ',' || n || ',' || n_ok || ',' || n_failed || ',' || n_int || ',' || n_run"
    " || ',' || " CSV_REAL("best")
    " || ',' || " CSV_TEXT("stop_reason")
    " || ',' || " CSV_TEXT("spec_hash")
    " || ',' || seed"
    " || ',' || " CSV_REAL("created_at")
    " || ',' || " CSV_REAL("updated_at")
    " FROM (" STUDY_FIELDS ")";
/* clang-format on */

int aml_store_export_studies(aml_store *s, aml_store_format fmt, aml_text_cb cb,
                             void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    assert(s && cb);
    if ((rc = store_prepare(s, fmt == AML_STORE_CSV ? studies_csv_sql : studies_json_sql,
                            &st)) < 0)
        return rc;
    if (fmt == AML_STORE_CSV)
        rc = cb(STUDIES_CSV_HEADER, payload);
    if (rc == 0)
        rc = store_walk_text(s, st, cb, payload);
    sqlite3_finalize(st);
    return rc;
}
