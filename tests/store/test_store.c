/*
 * test_store.c - tests for store/store.c, the SQLite trials store.
 *
 * Each test works on its own database file in aml_test_tmpdir().  Expected
 * values are written out by hand next to each check; the raw-SQL checks go
 * through a separate plain sqlite3 connection, so they see what a user of the
 * sqlite3 shell would see, not what the store's own reader returns.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "aml.h"
#include "store.h"

/* ---- helpers ------------------------------------------------------------------ */

static const char *db_path(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    return path;
}

/* Removes a database with its WAL and shared-memory files. */
static void remove_db(const char *path)
{
    char side[600];

    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static aml_store *open_fresh(const char *name)
{
    aml_store *s = NULL;
    const char *path = db_path(name);

    remove_db(path);
    assert_int_equal(aml_store_open(&s, path, 0), 0);
    assert_non_null(s);
    return s;
}

static long long make_study(aml_store *s, const char *name, int greater_is_better)
{
    aml_study_info info = {name,
                           "metric: accuracy\n",
                           "classification",
                           greater_is_better ? "accuracy" : "rmse",
                           greater_is_better,
                           42,
                           NULL,
                           NULL};
    long long id = 0;

    assert_int_equal(aml_store_study_create(s, &id, &info, 0), 0);
    assert_true(id > 0);
    return id;
}

/* Records trial `number` and finishes it (status RUNNING leaves it running). */
static long long add_trial(aml_store *s, long long study, long number,
                           aml_trial_status status, double score)
{
    aml_param p = {"alpha", {AML_VAL_REAL, 0.25, 0, NULL}};
    long long id = 0;

    assert_int_equal(aml_store_trial_begin(s, &id, study, number, "ridge", &p, 1, 100.0),
                     0);
    if (status != AML_TRIAL_RUNNING)
        assert_int_equal(
            aml_store_trial_finish(s, id, status, score, NULL, 0, NULL, 101.5), 0);
    return id;
}

/* Collects trial numbers (and the last row's fields) from aml_store_trials. */
typedef struct collect {
    long numbers[32];
    int n;
    int stop_after; /* 0: never stop */
    aml_trial_status status[32];
    int has_score[32];
    double score[32];
    char params[32][128];
    char folds[32][128];
    char message[32][64];
    int folds_null[32], message_null[32];
    double t_end[32];
} collect;

static void copy_or_mark(char *dst, size_t cap, int *is_null, const char *src)
{
    *is_null = src == NULL;
    snprintf(dst, cap, "%s", src ? src : "");
}

static int collect_cb(const aml_trial_row *row, void *payload)
{
    collect *c = payload;
    int i = c->n++;

    assert_true(i < 32);
    c->numbers[i] = row->number;
    c->status[i] = row->status;
    c->has_score[i] = row->has_score;
    c->score[i] = row->score;
    c->t_end[i] = row->t_end;
    snprintf(c->params[i], sizeof(c->params[i]), "%s", row->params_json);
    copy_or_mark(c->folds[i], sizeof(c->folds[i]), &c->folds_null[i],
                 row->fold_scores_json);
    copy_or_mark(c->message[i], sizeof(c->message[i]), &c->message_null[i], row->message);
    return (c->stop_after && c->n == c->stop_after) ? 7 : 0;
}

static void query(aml_store *s, const char *study, long top, int ranked, collect *c)
{
    aml_trial_query q = {study, top, ranked, NULL, NULL};

    memset(c, 0, sizeof(*c));
    assert_int_equal(aml_store_trials(s, &q, collect_cb, c), 0);
}

static void assert_numbers(const collect *c, const long *want, int n)
{
    assert_int_equal(c->n, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(c->numbers[i], want[i]);
}

/* Appends every row of a raw query as "a|b|c;" to a buffer. */
typedef struct textbuf {
    char text[1024];
} textbuf;

static int textbuf_cb(void *payload, int ncol, char **values, char **names)
{
    textbuf *b = payload;
    size_t len = strlen(b->text);

    for (int i = 0; i < ncol; i++) {
        snprintf(b->text + len, sizeof(b->text) - len, "%s%s", i ? "|" : "",
                 values[i] ? values[i] : "NULL");
        len = strlen(b->text);
    }
    snprintf(b->text + len, sizeof(b->text) - len, ";");
    return 0;
}

static void raw_query(const char *path, const char *sql, textbuf *b)
{
    sqlite3 *db = NULL;
    char *err = NULL;

    memset(b, 0, sizeof(*b));
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    if (sqlite3_exec(db, sql, textbuf_cb, b, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- status names, schema ---------------------------------------------------------- */

static void test_store_status_names(void **state)
{
    assert_string_equal(aml_trial_status_name(AML_TRIAL_RUNNING), "running");
    assert_string_equal(aml_trial_status_name(AML_TRIAL_OK), "ok");
    assert_string_equal(aml_trial_status_name(AML_TRIAL_FAILED), "failed");
    assert_string_equal(aml_trial_status_name(AML_TRIAL_INTERRUPTED), "interrupted");
}

static void test_store_schema_pragmas(void **state)
{
    aml_store *s = open_fresh("pragmas.db");
    textbuf b;

    aml_store_free(s);
    /* WAL is persistent in the file; user_version is the schema version. */
    raw_query(db_path("pragmas.db"), "PRAGMA journal_mode; PRAGMA user_version", &b);
    assert_string_equal(b.text, "wal;5;");
    raw_query(db_path("pragmas.db"),
              "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')"
              " ORDER BY name",
              &b);
    assert_string_equal(b.text, "ensemble;leaderboard;study;study_fold;trial;trial_fold;trial_oof;"
                                "trial_param;trial_params;");

    /* Reopening an existing store (read-write and read-only) succeeds. */
    assert_int_equal(aml_store_open(&s, db_path("pragmas.db"), 0), 0);
    aml_store_free(s);
    assert_int_equal(aml_store_open(&s, db_path("pragmas.db"), 1), 0);
    aml_store_free(s);
    aml_store_free(NULL);
}

/* ---- studies ------------------------------------------------------------------------
 */

static void test_store_study_create_find(void **state)
{
    aml_store *s = open_fresh("studies.db");
    aml_study_info dup = {"alpha", NULL, "regression", "rmse", 0, 1, NULL, NULL};
    long long a, b, id = -1;
    char want[600];

    /* An empty store has no study to default to. */
    assert_int_equal(aml_store_study_find(s, &id, NULL), AML_EINVAL);
    snprintf(want, sizeof(want), "no studies in %s", db_path("studies.db"));
    assert_string_equal(aml_error_message(), want);

    a = make_study(s, "alpha", 1);
    assert_int_equal(aml_store_study_find(s, &id, NULL), 0); /* the only study */
    assert_int_equal(id, a);
    b = make_study(s, "beta", 0);
    assert_true(b != a);
    assert_int_equal(aml_store_study_find(s, &id, NULL), 0); /* the newest */
    assert_int_equal(id, b);
    assert_int_equal(aml_store_study_find(s, &id, "alpha"), 0);
    assert_int_equal(id, a);

    assert_int_equal(aml_store_study_find(s, &id, "gamma"), AML_EINVAL);
    snprintf(want, sizeof(want), "no study 'gamma' in %s", db_path("studies.db"));
    assert_string_equal(aml_error_message(), want);
    assert_string_equal(aml_store_errmsg(s), want);

    assert_int_equal(aml_store_study_create(s, &id, &dup, 0), AML_EINVAL);
    snprintf(want, sizeof(want),
             "study 'alpha' already exists in %s (use --fresh to replace it)",
             db_path("studies.db"));
    assert_string_equal(aml_error_message(), want);
    assert_string_equal(aml_store_errmsg(s), want);
    assert_int_equal(id, 0);
    aml_store_free(s);
}

static void test_store_study_replace(void **state)
{
    aml_store *s = open_fresh("replace.db");
    aml_study_info info = {"alpha", "seed: 7\n", "regression", "rmse", 0, 7, NULL, NULL};
    double folds[2] = {0.5, 0.75};
    long long old_id, new_id, other, tid, id;
    textbuf b;

    old_id = make_study(s, "alpha", 1);
    other = make_study(s, "other", 1);
    tid = add_trial(s, old_id, 1, AML_TRIAL_RUNNING, 0);
    assert_int_equal(aml_store_trial_finish(s, tid, AML_TRIAL_OK, 0.6, folds, 2, NULL, 2),
                     0);
    add_trial(s, other, 1, AML_TRIAL_OK, 0.3);

    assert_int_equal(aml_store_study_create(s, &new_id, &info, 1), 0);
    assert_int_equal(aml_store_study_find(s, &id, "alpha"), 0);
    assert_int_equal(id, new_id);
    aml_store_free(s);

    /* Cascade: alpha's trial, parameter and folds are gone; other's stay
     * (one trial with one parameter and no folds). */
    raw_query(db_path("replace.db"),
              "SELECT (SELECT count(*) FROM study), (SELECT count(*) FROM trial),"
              " (SELECT count(*) FROM trial_param), (SELECT count(*) FROM trial_fold),"
              " (SELECT metric || ',' || greater_is_better || ',' || seed || ','"
              "  || spec_text FROM study WHERE name = 'alpha')",
              &b);
    assert_string_equal(b.text, "2|1|1|0|rmse,0,7,seed: 7\n;");
}

/* ---- trials -------------------------------------------------------------------------
 */

static void test_store_trial_nan_and_inf_fail(void **state)
{
    aml_store *s = open_fresh("nan.db");
    long long st = make_study(s, "s", 1), t1, t2, t3, t4;
    collect c;
    textbuf b;

    t1 = add_trial(s, st, 1, AML_TRIAL_RUNNING, 0);
    t2 = add_trial(s, st, 2, AML_TRIAL_RUNNING, 0);
    t3 = add_trial(s, st, 3, AML_TRIAL_RUNNING, 0);
    t4 = add_trial(s, st, 4, AML_TRIAL_RUNNING, 0);
    assert_int_equal(aml_store_trial_finish(s, t1, AML_TRIAL_OK, NAN, NULL, 0, NULL, 5),
                     0);
    assert_int_equal(
        aml_store_trial_finish(s, t2, AML_TRIAL_OK, INFINITY, NULL, 0, "diverged", 5), 0);
    assert_int_equal(
        aml_store_trial_finish(s, t3, AML_TRIAL_OK, -INFINITY, NULL, 0, NULL, 5), 0);
    assert_int_equal(aml_store_trial_finish(s, t4, AML_TRIAL_OK, 0.0, NULL, 0, NULL, 5),
                     0);

    query(s, "s", 0, 0, &c);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.status[0], AML_TRIAL_FAILED);
    assert_int_equal(c.has_score[0], 0);
    assert_true(isnan(c.score[0]));
    assert_string_equal(c.message[0], "score is NaN");
    assert_int_equal(c.status[1], AML_TRIAL_FAILED);
    assert_string_equal(c.message[1], "diverged"); /* the caller's reason is kept */
    assert_string_equal(c.message[2], "score is infinite");
    /* A real 0.0 score is a score: has_score 1, no message. */
    assert_int_equal(c.status[3], AML_TRIAL_OK);
    assert_int_equal(c.has_score[3], 1);
    assert_true(c.score[3] == 0.0);
    assert_int_equal(c.message_null[3], 1);
    aml_store_free(s);

    raw_query(db_path("nan.db"),
              "SELECT number, status, typeof(score) FROM trial ORDER BY number", &b);
    assert_string_equal(b.text, "1|failed|null;2|failed|null;3|failed|null;4|ok|real;");
}

static void test_store_running_trial_reads_back(void **state)
{
    aml_store *s = open_fresh("running.db");
    long long st = make_study(s, "s", 0);
    collect c;

    add_trial(s, st, 1, AML_TRIAL_RUNNING, 0);
    query(s, NULL, 0, 0, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.status[0], AML_TRIAL_RUNNING);
    assert_int_equal(c.has_score[0], 0);
    assert_true(isnan(c.score[0]));
    assert_true(isnan(c.t_end[0]));
    assert_int_equal(c.folds_null[0], 1); /* no fold rows: NULL, not "[]" */
    assert_int_equal(c.message_null[0], 1);
    aml_store_free(s);
}

static double sql_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    double v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Fold assignments: every (repeat, row) once, replaced on a second save. */
static void test_store_folds(void **state)
{
    aml_store *s = open_fresh("folds.db");
    long long st = make_study(s, "s", 1);
    const int folds[2 * 4] = {0, 1, 1, 0, 1, 0, 0, 1};
    const size_t lines[4] = {2, 3, 5, 6}; /* line 4 held a row without a target */
    textbuf b;

    (void)state;
    assert_int_equal(aml_store_folds_save(s, st, folds, lines, 4, 1), 0);
    assert_int_equal(aml_store_folds_save(s, st, folds, lines, 4, 2), 0);
    aml_store_free(s);
    raw_query(
        db_path("folds.db"),
        "SELECT group_concat(repeat || ':' || row || ':' || line || ':' || fold, ' ')"
        " FROM (SELECT * FROM study_fold ORDER BY repeat, row)",
        &b);
    assert_string_equal(
        b.text, "0:0:2:0 0:1:3:1 0:2:5:1 0:3:6:0 1:0:2:1 1:1:3:0 1:2:5:0 1:3:6:1;");
}

/*
 * Out-of-fold predictions round-trip bit for bit (NaN, -0.0, subnormals
 * included), are stored little-endian (checked byte by byte with SQL's
 * hex()), are replaced per (trial, repeat), and go when the trial is
 * re-queued or its study replaced.
 */
static void test_store_oof(void **state)
{
    aml_store *s = open_fresh("oof.db");
    long long st = make_study(s, "s", 1), id = 0, id2 = 0;
    aml_param p = {"alpha", {AML_VAL_REAL, 0.25, 0, NULL}};
    /* 3 rows x 2 outputs. */
    const double v[6] = {1.0, -0.0, NAN, 0.25, 5e-324, -1e300};
    const double w[2] = {0.5, 0.75};
    double *got = NULL;
    size_t n = 0;
    int outs = 0;
    textbuf b;

    (void)state;
    assert_int_equal(aml_store_trial_begin(s, &id, st, 0, "ridge", &p, 1, 1.0), 0);
    assert_int_equal(aml_store_oof_save(s, id, 0, 2, v, 3), 0);
    assert_int_equal(aml_store_oof_save(s, id, 1, 1, w, 2), 0);
    assert_int_equal(aml_store_oof_load(s, id, 0, &got, &n, &outs), 0);
    assert_int_equal(n, 3);
    assert_int_equal(outs, 2);
    assert_memory_equal(got, v, sizeof(v));
    free(got);
    assert_int_equal(aml_store_oof_load(s, id, 1, &got, &n, &outs), 0);
    assert_int_equal(n, 2);
    assert_int_equal(outs, 1);
    assert_memory_equal(got, w, sizeof(w));
    free(got);
    assert_int_equal(aml_store_oof_load(s, id, 2, &got, &n, &outs), AML_EINVAL);
    assert_null(got);
    assert_int_equal(aml_store_oof_save(s, id, 0, 0, v, 3), AML_EINVAL);

    /* 1.0 is 0x3FF0000000000000: little-endian, its bytes run 00 .. F0 3F. */
    raw_query(db_path("oof.db"),
              "SELECT outputs, length(data), substr(hex(data), 1, 16) FROM trial_oof"
              " ORDER BY repeat",
              &b);
    assert_string_equal(b.text, "2|48|000000000000F03F;1|16|000000000000E03F;");

    /* Saving again replaces; a second trial's rows are its own. */
    assert_int_equal(aml_store_oof_save(s, id, 1, 2, v, 3), 0);
    assert_int_equal(aml_store_trial_begin(s, &id2, st, 1, "ridge", &p, 1, 1.0), 0);
    assert_int_equal(aml_store_oof_save(s, id2, 0, 1, w, 2), 0);
    assert_int_equal(aml_store_oof_load(s, id, 1, &got, &n, &outs), 0);
    assert_int_equal(n * (size_t)outs, 6);
    assert_memory_equal(got, v, sizeof(v));
    free(got);

    /* Re-queueing trial 1 (left running) drops its OOF; replacing the study drops all. */
    assert_int_equal(aml_store_trial_begin(s, &id2, st, 1, "ridge", &p, 1, 2.0), 0);
    raw_query(db_path("oof.db"), "SELECT count(*) FROM trial_oof", &b);
    assert_string_equal(b.text, "2;");
    {
        aml_study_info info = {"s", NULL, "regression", "rmse", 0, 3, NULL, NULL};

        assert_int_equal(aml_store_study_create(s, &st, &info, 1), 0);
    }
    aml_store_free(s);
    raw_query(db_path("oof.db"), "SELECT count(*) FROM trial_oof", &b);
    assert_string_equal(b.text, "0;");
}

/* How long a trial took is its own run time, not its wait in the batch. */
static void test_store_trial_timing(void **state)
{
    aml_store *s = open_fresh("timing.db");
    long long st = make_study(s, "s", 1), a = 0, b = 0;
    aml_param p = {"alpha", {AML_VAL_REAL, 0.25, 0, NULL}};
    sqlite3 *db;

    (void)state;
    /* Both recorded as running at t = 100 (one batch). */
    assert_int_equal(aml_store_trial_begin(s, &a, st, 0, "ridge", &p, 1, 100.0), 0);
    assert_int_equal(aml_store_trial_begin(s, &b, st, 1, "ridge", &p, 1, 100.0), 0);
    /* a ran from 100 to 103; b waited and ran from 103 to 104.5. */
    assert_int_equal(aml_store_trial_finish_timed(s, a, AML_TRIAL_OK, 0.5, NULL, 0, NULL,
                                                  100.0, 103.0),
                     0);
    assert_int_equal(aml_store_trial_finish_timed(s, b, AML_TRIAL_OK, 0.6, NULL, 0, NULL,
                                                  103.0, 104.5),
                     0);
    aml_store_free(s);

    assert_int_equal(sqlite3_open(db_path("timing.db"), &db), SQLITE_OK);
    assert_true(sql_double(db, "SELECT seconds FROM trial_params WHERE number = 0") ==
                3.0);
    assert_true(sql_double(db, "SELECT seconds FROM trial_params WHERE number = 1") ==
                1.5);
    sqlite3_close(db);
}

static void test_store_fold_scores_round_trip(void **state)
{
    aml_store *s = open_fresh("folds.db");
    long long st = make_study(s, "s", 1), tid;
    /* 0.8125 = 13/16 is exact in binary; NaN and +inf must come back as null. */
    double folds[5] = {0.9, 0.85, NAN, 0.8125, INFINITY};
    double refolds[2] = {0.5, 0.25};
    collect c;
    textbuf b;

    tid = add_trial(s, st, 1, AML_TRIAL_RUNNING, 0);
    assert_int_equal(
        aml_store_trial_finish(s, tid, AML_TRIAL_OK, 0.854, folds, 5, NULL, 9.0), 0);
    query(s, "s", 0, 0, &c);
    assert_string_equal(c.folds[0], "[0.9,0.85,null,0.8125,null]");
    assert_close(c.score[0], 0.854, 0);
    assert_close(c.t_end[0], 9.0, 0);

    /* Finishing again replaces the folds: last call wins, no stale fold 2..4. */
    assert_int_equal(
        aml_store_trial_finish(s, tid, AML_TRIAL_OK, 0.375, refolds, 2, NULL, 10.0), 0);
    query(s, "s", 0, 0, &c);
    assert_string_equal(c.folds[0], "[0.5,0.25]");
    aml_store_free(s);

    raw_query(db_path("folds.db"),
              "SELECT fold, typeof(score), score FROM trial_fold ORDER BY fold", &b);
    assert_string_equal(b.text, "0|real|0.5;1|real|0.25;");
}

static void test_store_params_json(void **state)
{
    aml_store *s = open_fresh("params.db");
    long long st = make_study(s, "s", 1), tid;
    /* Proposal order, not alphabetical order, is kept. */
    aml_param p[3] = {
        {"C", {AML_VAL_REAL, 0.5, 0, NULL}},
        {"kernel", {AML_VAL_STR, 0, 0, "rbf"}},
        {"k", {AML_VAL_INT, 0, 3, NULL}},
    };
    /* A string with a quote and a backslash, a real that is integral. */
    aml_param q[2] = {
        {"path", {AML_VAL_STR, 0, 0, "a\"b\\c"}},
        {"w", {AML_VAL_REAL, 2.0, 0, NULL}},
    };
    collect c;
    textbuf b;

    assert_int_equal(aml_store_trial_begin(s, &tid, st, 1, "svm", p, 3, 1.0), 0);
    assert_int_equal(aml_store_trial_begin(s, &tid, st, 2, "svm", q, 2, 1.0), 0);
    assert_int_equal(aml_store_trial_begin(s, &tid, st, 3, "svm", NULL, 0, 1.0), 0);
    query(s, "s", 0, 0, &c);
    assert_string_equal(c.params[0], "{\"C\":0.5,\"kernel\":\"rbf\",\"k\":3}");
    /* SQLite escapes: "a\"b\\c"; it prints the real 2.0 as 2.0, keeping its type. */
    assert_string_equal(c.params[1], "{\"path\":\"a\\\"b\\\\c\",\"w\":2.0}");
    assert_string_equal(c.params[2], "{}");
    aml_store_free(s);

    /* Each value sits in its own typed column, the others NULL. */
    raw_query(db_path("params.db"),
              "SELECT name, typeof(value_real), typeof(value_int), typeof(value_text)"
              " FROM trial_param WHERE trial_id = 1 ORDER BY position",
              &b);
    assert_string_equal(b.text, "C|real|null|null;kernel|null|null|text;"
                                "k|null|integer|null;");
}

/*
 * Ranking fixture, seven trials of one study:
 *   #1 ok 0.7   #2 failed (NaN)   #3 ok 0.9   #4 running
 *   #5 ok 0.9   #6 ok 0.5         #7 failed with a finite 0.95
 * plus #8 ok whose score a raw UPDATE sets to NULL.
 */
static void fill_ranking(aml_store *s, long long st, const char *path)
{
    long long t8;
    sqlite3 *db;
    char sql[128];

    add_trial(s, st, 1, AML_TRIAL_OK, 0.7);
    add_trial(s, st, 2, AML_TRIAL_OK, NAN);
    add_trial(s, st, 3, AML_TRIAL_OK, 0.9);
    add_trial(s, st, 4, AML_TRIAL_RUNNING, 0);
    add_trial(s, st, 5, AML_TRIAL_OK, 0.9);
    add_trial(s, st, 6, AML_TRIAL_OK, 0.5);
    add_trial(s, st, 7, AML_TRIAL_FAILED, 0.95);
    t8 = add_trial(s, st, 8, AML_TRIAL_OK, 0.1);

    /* Another writer could leave an ok trial without a score; it must not rank. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "UPDATE trial SET score = NULL WHERE id = %lld", t8);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_store_ranking_both_directions(void **state)
{
    aml_store *s = open_fresh("rank.db");
    long long up = make_study(s, "up", 1), down = make_study(s, "down", 0);
    /* Greater is better: 0.9 (#3, then #5 by number), 0.7, 0.5; the rest by number. */
    static const long want_up[] = {3, 5, 1, 6, 2, 4, 7, 8};
    /* Smaller is better: 0.5, 0.7, 0.9 (#3 before #5); the rest unchanged. */
    static const long want_down[] = {6, 1, 3, 5, 2, 4, 7, 8};
    static const long want_number[] = {1, 2, 3, 4, 5, 6, 7, 8};
    collect c;

    fill_ranking(s, up, db_path("rank.db"));
    fill_ranking(s, down, db_path("rank.db"));
    query(s, "up", 0, 1, &c);
    assert_numbers(&c, want_up, 8);
    query(s, "down", 0, 1, &c);
    assert_numbers(&c, want_down, 8);
    query(s, "down", 0, 0, &c);
    assert_numbers(&c, want_number, 8);
    aml_store_free(s);
}

static void test_store_top_n(void **state)
{
    aml_store *s = open_fresh("top.db");
    long long up = make_study(s, "up", 1);
    static const long want_ranked[] = {3, 5};
    static const long want_number[] = {1, 2, 3};
    aml_trial_query bad = {"up", -1, 0, NULL, NULL};
    collect c;

    fill_ranking(s, up, db_path("top.db"));
    query(s, "up", 2, 1, &c);
    assert_numbers(&c, want_ranked, 2);
    query(s, "up", 3, 0, &c);
    assert_numbers(&c, want_number, 3);
    query(s, "up", 100, 1, &c);
    assert_int_equal(c.n, 8);
    assert_int_equal(aml_store_trials(s, &bad, collect_cb, &c), AML_EINVAL);

    /* A non-zero callback answer stops the walk and is returned. */
    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    assert_int_equal(aml_store_trials(s, NULL, collect_cb, &c), 7);
    assert_int_equal(c.n, 2);
    aml_store_free(s);
}

/* ---- views through raw SQL ------------------------------------------------------------
 */

static void test_store_views_raw_sql(void **state)
{
    aml_store *s = open_fresh("views.db");
    long long st = make_study(s, "s", 0), other = make_study(s, "o", 1), tid;
    aml_param p[3] = {
        {"C", {AML_VAL_REAL, 0.5, 0, NULL}},
        {"kernel", {AML_VAL_STR, 0, 0, "rbf"}},
        {"k", {AML_VAL_INT, 0, 3, NULL}},
    };
    double folds[2] = {0.25, 0.75};
    textbuf b;

    assert_int_equal(aml_store_trial_begin(s, &tid, st, 1, "svm", p, 3, 10.0), 0);
    assert_int_equal(
        aml_store_trial_finish(s, tid, AML_TRIAL_OK, 0.5, folds, 2, NULL, 12.5), 0);
    add_trial(s, st, 2, AML_TRIAL_OK, 0.25);
    add_trial(s, st, 3, AML_TRIAL_OK, NAN);
    add_trial(s, st, 4, AML_TRIAL_OK, 0.25);
    add_trial(s, other, 1, AML_TRIAL_OK, 0.125);
    aml_store_free(s);

    raw_query(db_path("views.db"),
              "SELECT study, number, learner, status, params, fold_scores"
              " FROM trial_params WHERE study = 's' AND number = 1",
              &b);
    assert_string_equal(b.text, "s|1|svm|ok|{\"C\":0.5,\"kernel\":\"rbf\",\"k\":3}"
                                "|[0.25,0.75];");

    /* rmse, smaller is better: 0.25 (#2 then #4 by number), then 0.5 (#1), the
     * failed #3 absent; 12.5 - 10.0 = 2.5 s; add_trial runs 100.0 -> 101.5. */
    raw_query(db_path("views.db"),
              "SELECT rank, number, score, seconds FROM leaderboard WHERE study = 's'",
              &b);
    assert_string_equal(b.text, "1|2|0.25|1.5;2|4|0.25|1.5;3|1|0.5|2.5;");
    raw_query(db_path("views.db"),
              "SELECT study, rank, number FROM leaderboard WHERE study = 'o'", &b);
    assert_string_equal(b.text, "o|1|1;");
}

/* ---- studies listing
 * -------------------------------------------------------------------- */

typedef struct studies_seen {
    char text[512];
} studies_seen;

static int studies_cb(const aml_study_row *row, void *payload)
{
    studies_seen *seen = payload;
    size_t len = strlen(seen->text);

    snprintf(seen->text + len, sizeof(seen->text) - len, "%s,%s,%s,%d,%ld,%ld,%d,%g;",
             row->name, row->task, row->metric, row->greater_is_better, row->n_trials,
             row->n_ok, row->has_best, row->has_best ? row->best : -1.0);
    return 0;
}

static void test_store_studies_listing(void **state)
{
    aml_store *s = open_fresh("list.db");
    long long up = make_study(s, "up", 1), down = make_study(s, "down", 0);
    studies_seen seen = {{0}};

    make_study(s, "empty", 1);
    fill_ranking(s, up, db_path("list.db"));
    fill_ranking(s, down, db_path("list.db"));
    assert_int_equal(aml_store_studies(s, studies_cb, &seen), 0);
    /* Each ranking study: 8 trials, ok with score #1 #3 #5 #6 plus #8 ok with NULL
     * = 5 ok; best 0.9 when greater is better, 0.5 when smaller is. */
    assert_string_equal(seen.text, "up,classification,accuracy,1,8,5,1,0.9;"
                                   "down,classification,rmse,0,8,5,1,0.5;"
                                   "empty,classification,accuracy,1,0,0,0,-1;");
    aml_store_free(s);
}

/* ---- transactions and concurrency
 * --------------------------------------------------------- */

static void test_store_rollback_and_commit(void **state)
{
    aml_store *s = open_fresh("tx.db");
    long long st = make_study(s, "s", 1);
    collect c;

    assert_int_equal(aml_store_begin(s), 0);
    add_trial(s, st, 1, AML_TRIAL_OK, 0.5);
    assert_int_equal(aml_store_rollback(s), 0);
    query(s, "s", 0, 0, &c);
    assert_int_equal(c.n, 0);

    assert_int_equal(aml_store_begin(s), 0);
    add_trial(s, st, 1, AML_TRIAL_OK, 0.5);
    add_trial(s, st, 2, AML_TRIAL_OK, 0.6);
    assert_int_equal(aml_store_commit(s), 0);
    query(s, "s", 0, 0, &c);
    assert_int_equal(c.n, 2);

    /* COMMIT with no transaction is SQLite's error, reported as a store error. */
    assert_int_equal(aml_store_commit(s), AML_ESTORE);
    assert_non_null(strstr(aml_store_errmsg(s), "no transaction is active"));
    aml_store_free(s);
}

static void test_store_wal_reader_during_write(void **state)
{
    const char *path = db_path("wal.db");
    aml_store *w = open_fresh("wal.db"), *r = NULL;
    long long st = make_study(w, "s", 1);
    sqlite3 *raw = NULL;
    collect c;

    add_trial(w, st, 1, AML_TRIAL_OK, 0.5);

    /* The writer holds an open write transaction with an uncommitted trial. */
    assert_int_equal(aml_store_begin(w), 0);
    add_trial(w, st, 2, AML_TRIAL_OK, 0.6);
    assert_int_equal(aml_store_open(&r, path, 1), 0);
    query(r, "s", 0, 0, &c); /* sees the committed state only, without waiting */
    assert_int_equal(c.n, 1);
    assert_int_equal(aml_store_commit(w), 0);
    query(r, "s", 0, 0, &c);
    assert_int_equal(c.n, 2);

    /* Even an EXCLUSIVE writer (which in rollback-journal mode would lock readers
     * out until the busy timeout) leaves a WAL reader alone. */
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "BEGIN EXCLUSIVE; DELETE FROM trial WHERE number = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    query(r, "s", 0, 0, &c);
    assert_int_equal(c.n, 2);
    assert_int_equal(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    query(r, "s", 0, 0, &c);
    assert_int_equal(c.n, 1);
    sqlite3_close(raw);
    aml_store_free(r);
    aml_store_free(w);
}

/* ---- failures
 * ------------------------------------------------------------------------------ */

static void test_store_readonly_missing(void **state)
{
    const char *path = db_path("missing.db");
    aml_store *s = (aml_store *)&s; /* must be reset to NULL */
    char want[600];

    remove_db(path);
    assert_int_equal(aml_store_open(&s, path, 1), AML_EIO);
    assert_null(s);
    snprintf(want, sizeof(want), "%s: no such database", path);
    assert_string_equal(aml_error_message(), want);
    assert_int_equal(access(path, F_OK), -1); /* not created */
}

static void test_store_not_a_database(void **state)
{
    static const char junk[] = "name,score\nthis is a CSV file, not SQLite\n";
    const char *path = db_path("junk.db");
    aml_store *s = NULL;
    char back[128] = {0};
    FILE *f;

    write_file(path, junk);
    assert_int_equal(aml_store_open(&s, path, 0), AML_ESTORE);
    assert_null(s);
    assert_non_null(strstr(aml_error_message(), path));
    assert_non_null(strstr(aml_error_message(), "file is not a database"));
    assert_int_equal(aml_store_open(&s, path, 1), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "file is not a database"));

    /* The file is left exactly as it was. */
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof(back) - 1, f), strlen(junk));
    fclose(f);
    assert_string_equal(back, junk);
}

static void make_raw_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    remove_db(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_store_version_and_foreign_db(void **state)
{
    aml_store *s = NULL;
    textbuf b;

    make_raw_db(db_path("future.db"), "CREATE TABLE x (a); PRAGMA user_version = 99");
    assert_int_equal(aml_store_open(&s, db_path("future.db"), 0), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "schema version 99 is newer"));
    assert_non_null(strstr(aml_error_message(), db_path("future.db")));
    assert_int_equal(aml_store_open(&s, db_path("future.db"), 1), AML_ESTORE);

    /* Someone else's database: refused and left without our tables. */
    make_raw_db(db_path("foreign.db"), "CREATE TABLE study (x)");
    assert_int_equal(aml_store_open(&s, db_path("foreign.db"), 0), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "not an automl store"));
    raw_query(db_path("foreign.db"), "SELECT count(*) FROM sqlite_schema", &b);
    assert_string_equal(b.text, "1;");

    /* An empty SQLite file has no schema: read-only cannot create one. */
    write_file(db_path("empty.db"), "");
    assert_int_equal(aml_store_open(&s, db_path("empty.db"), 1), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "not an automl store"));
    assert_int_equal(aml_store_open(&s, db_path("empty.db"), 0), 0);
    aml_store_free(s);
}

static void test_store_write_errors(void **state)
{
    aml_store *s = open_fresh("errors.db"), *ro = NULL;
    long long st = make_study(s, "s", 1), id;
    aml_param noname = {NULL, {AML_VAL_INT, 0, 1, NULL}};
    char prefix[600];

    snprintf(prefix, sizeof(prefix), "%s: ", db_path("errors.db"));
    add_trial(s, st, 1, AML_TRIAL_RUNNING, 0);

    /* A finished trial number cannot begin again (a running one is re-queued,
     * see test_store_claim_and_requeue). */
    assert_int_equal(aml_store_trial_finish(s, 1, AML_TRIAL_OK, 0.5, NULL, 0, NULL, 2),
                     0);
    assert_int_equal(aml_store_trial_begin(s, &id, st, 1, "ridge", NULL, 0, 1),
                     AML_EINVAL);
    assert_non_null(
        strstr(aml_error_message(), "trial 1 of the study has already finished"));
    assert_string_equal(aml_store_errmsg(s), aml_error_message());

    /* SQLite's own messages are prefixed by the path: a CHECK on the parameter table. */
    assert_int_equal(aml_store_trial_begin(s, &id, st, 3, "ridge", NULL, 0, 1), 0);
    {
        aml_param dup[2] = {{"a", {AML_VAL_INT, 0, 1, NULL}},
                            {"a", {AML_VAL_INT, 0, 2, NULL}}};

        assert_int_equal(aml_store_trial_begin(s, &id, st, 4, "ridge", dup, 2, 1),
                         AML_ESTORE);
        assert_int_equal(strncmp(aml_error_message(), prefix, strlen(prefix)), 0);
        assert_non_null(strstr(aml_error_message(), "UNIQUE constraint failed"));
    }

    /* Unknown study: the foreign key refuses it. */
    assert_int_equal(aml_store_trial_begin(s, &id, st + 100, 1, "ridge", NULL, 0, 1),
                     AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "FOREIGN KEY constraint failed"));

    /* Caller mistakes are AML_EINVAL and write nothing. */
    assert_int_equal(aml_store_trial_begin(s, &id, st, 2, "ridge", &noname, 1, 1),
                     AML_EINVAL);
    assert_int_equal(
        aml_store_trial_finish(s, 1, AML_TRIAL_RUNNING, 0.5, NULL, 0, NULL, 2),
        AML_EINVAL);
    assert_int_equal(aml_store_trial_finish(s, 999, AML_TRIAL_OK, 0.5, NULL, 0, NULL, 2),
                     AML_EINVAL);

    /* A read-only handle refuses writes with SQLite's message. */
    assert_int_equal(aml_store_open(&ro, db_path("errors.db"), 1), 0);
    assert_int_equal(aml_store_trial_begin(ro, &id, st, 5, "ridge", NULL, 0, 1),
                     AML_ESTORE);
    assert_non_null(strstr(aml_store_errmsg(ro), "readonly"));
    aml_store_free(ro);
    aml_store_free(s);
}

/* ---- schema 2: migration, resume, filters, exports -----------------------------------
 */

/* Loads the version-1 fixture with plain sqlite3 into `path`. */
static void make_v1_db(const char *path)
{
    FILE *f = fopen(aml_test_fixture("store/store_v1.sql"), "rb");
    char sql[16384];
    size_t n;

    assert_non_null(f);
    n = fread(sql, 1, sizeof(sql) - 1, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(sql) - 1);
    sql[n] = '\0';
    make_raw_db(path, sql);
}

/*
 * A version-1 file opened read-write is upgraded in place: every row kept
 * (ids too, so parameters and folds stay attached), the new columns NULL,
 * 'interrupted' admitted, cascades still firing.  Read-only refuses first.
 */
static void test_store_migrate_v1(void **state)
{
    const char *path = db_path("v1.db");
    aml_store *s = NULL;
    long long id = 0;
    textbuf b;

    make_v1_db(path);
    assert_int_equal(aml_store_open(&s, path, 1), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "schema version 1 is older than 5"));

    assert_int_equal(aml_store_open(&s, path, 0), 0);
    raw_query(path,
              "PRAGMA user_version; PRAGMA foreign_key_check; PRAGMA integrity_check",
              &b);
    assert_string_equal(b.text, "5;ok;");
    /* Version 4's table is there and empty: old trials have no OOF. */
    raw_query(path, "SELECT count(*) FROM trial_oof", &b);
    assert_string_equal(b.text, "0;");
    /* Version 5: old trials were full evaluations, and no ensemble exists. */
    raw_query(path, "SELECT count(*) FROM trial WHERE resource IS NOT NULL", &b);
    assert_string_equal(b.text, "0;");
    raw_query(path, "SELECT count(*) FROM ensemble", &b);
    assert_string_equal(b.text, "0;");
    /* The view renders the old rows as before (plus seconds). */
    raw_query(
        path,
        "SELECT trial_id, study, number, learner, status, score, params, fold_scores,"
        " message, seconds FROM trial_params ORDER BY trial_id",
        &b);
    assert_string_equal(b.text,
                        "10|old|0|knn|ok|0.9|{\"k\":5,\"weights\":\"distance\"}|"
                        "[0.8,1.0]|NULL|1.0;"
                        "11|old|1|ridge|failed|NULL|{\"alpha\":0.25}|NULL|singular|0.5;"
                        "12|old|2|knn|running|NULL|{\"k\":7,\"weights\":\"uniform\"}|"
                        "NULL|NULL|NULL;"
                        "20|other|0|ridge|ok|1.5|{\"alpha\":2.0}|[1.5]|NULL|1.0;");
    raw_query(
        path,
        "SELECT name, spec_text, spec_hash, stop_reason, run_pid FROM study ORDER BY id;"
        "SELECT count(*) FROM sqlite_schema WHERE name = 'trial_by_score'",
        &b);
    assert_string_equal(b.text,
                        "old|study: old\n|NULL|NULL|NULL;other|NULL|NULL|NULL|NULL;1;");

    /* The dead run's trial is interrupted by a claim; the old leaderboard still ranks. */
    assert_int_equal(aml_store_study_find(s, &id, "old"), 0);
    assert_int_equal(aml_store_study_claim(s, id, NULL), 0);
    raw_query(path,
              "SELECT status FROM trial WHERE id = 12;"
              "SELECT study, rank, number FROM leaderboard",
              &b);
    assert_string_equal(b.text, "interrupted;old|1|0;other|1|0;");

    /* Foreign keys are on again after the rebuild: replacing a study cascades. */
    {
        aml_study_info info = {"other", NULL, "regression", "rmse", 0, 3, NULL, NULL};

        assert_int_equal(aml_store_study_create(s, &id, &info, 1), 0);
    }
    raw_query(path,
              "SELECT count(*) FROM trial_param WHERE trial_id = 20;"
              "SELECT count(*) FROM trial_fold WHERE trial_id = 20",
              &b);
    assert_string_equal(b.text, "0;0;");
    aml_store_free(s);

    /* Reopening does not migrate again. */
    assert_int_equal(aml_store_open(&s, path, 1), 0);
    aml_store_free(s);
}

/* A dead process's running trials become interrupted and re-run under the same row. */
static void test_store_claim_and_requeue(void **state)
{
    const char *path = db_path("claim.db");
    aml_store *s = open_fresh("claim.db");
    long long st = make_study(s, "s", 1), t0, t1, again = 0;
    aml_param p2[2] = {{"k", {AML_VAL_INT, 0, 9, NULL}}, {"w", {AML_VAL_STR, 0, 0, "d"}}};
    char host[256], sql[600];
    long n = -1;
    textbuf b;

    t0 = add_trial(s, st, 0, AML_TRIAL_OK, 0.5);
    t1 = add_trial(s, st, 1, AML_TRIAL_RUNNING, 0);
    assert_int_equal(aml_store_study_claim(s, st, &n), 0);
    assert_int_equal(n, 1);
    raw_query(path,
              "SELECT number, status, message IS NOT NULL FROM trial ORDER BY number;"
              "SELECT run_pid > 0, run_host IS NOT NULL, stop_reason FROM study",
              &b);
    assert_string_equal(b.text, "0|ok|0;1|interrupted|1;1|1|NULL;");

    /* Re-queue: the same row, new parameters, old ones gone; finished rows refuse. */
    assert_int_equal(aml_store_trial_begin(s, &again, st, 1, "knn", p2, 2, 200.0), 0);
    assert_int_equal(again, t1);
    raw_query(path,
              "SELECT learner, status, t_start, message FROM trial WHERE number = 1;"
              "SELECT params FROM trial_params WHERE number = 1",
              &b);
    assert_string_equal(b.text, "knn|running|200.0|NULL;{\"k\":9,\"w\":\"d\"};");
    assert_int_equal(aml_store_trial_begin(s, &again, st, 0, "knn", NULL, 0, 1),
                     AML_EINVAL);
    assert_int_equal(again, 0);
    (void)t0;

    /* Interrupting by hand (SIGINT) stores no score and no folds. */
    {
        double folds[2] = {0.1, 0.2};

        assert_int_equal(aml_store_trial_finish(s, t1, AML_TRIAL_INTERRUPTED, 0.7, folds,
                                                2, "interrupted", 201.0),
                         0);
    }
    raw_query(path,
              "SELECT status, score, message FROM trial WHERE number = 1;"
              "SELECT count(*) FROM trial_fold",
              &b);
    assert_string_equal(b.text, "interrupted|NULL|interrupted;0;");

    /* Release stores the stop reason and frees the study. */
    assert_int_equal(aml_store_study_release(s, st, "budget"), 0);
    raw_query(path, "SELECT run_pid, run_host, stop_reason FROM study", &b);
    assert_string_equal(b.text, "NULL|NULL|budget;");

    /* A live process on this host (our parent) holding it: refused. */
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    host[sizeof(host) - 1] = '\0';
    snprintf(sql, sizeof(sql), "UPDATE study SET run_pid = %ld, run_host = '%s'",
             (long)getppid(), host);
    raw_query(path, sql, &b);
    assert_int_equal(aml_store_study_claim(s, st, &n), AML_ESTORE);
    assert_non_null(strstr(aml_error_message(), "is being run by process"));
    /* ...but one on another host cannot be checked and is taken as gone. */
    raw_query(path, "UPDATE study SET run_host = 'elsewhere.invalid'", &b);
    assert_int_equal(aml_store_study_claim(s, st, &n), 0);
    assert_int_equal(n, 0);
    aml_store_free(s);
}

/* Filters by status and learner, and a bad status named. */
static void test_store_filters(void **state)
{
    aml_store *s = open_fresh("filters.db");
    long long st = make_study(s, "s", 1), id;
    aml_trial_query q = {"s", 0, 1, "ok", NULL};
    static const long want_ok[] = {2, 0};
    static const long want_knn[] = {3};
    collect c;

    add_trial(s, st, 0, AML_TRIAL_OK, 0.5);
    add_trial(s, st, 1, AML_TRIAL_FAILED, NAN);
    add_trial(s, st, 2, AML_TRIAL_OK, 0.7);
    assert_int_equal(aml_store_trial_begin(s, &id, st, 3, "knn", NULL, 0, 1), 0);

    memset(&c, 0, sizeof(c));
    assert_int_equal(aml_store_trials(s, &q, collect_cb, &c), 0);
    assert_numbers(&c, want_ok, 2);
    q.status = NULL;
    q.learner = "knn";
    memset(&c, 0, sizeof(c));
    assert_int_equal(aml_store_trials(s, &q, collect_cb, &c), 0);
    assert_numbers(&c, want_knn, 1);
    q.learner = "ridge";
    q.status = "running";
    memset(&c, 0, sizeof(c));
    assert_int_equal(aml_store_trials(s, &q, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    q.status = "done";
    assert_int_equal(aml_store_trials(s, &q, collect_cb, &c), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "status 'done' is none of"));
    aml_store_free(s);
}

typedef struct lines {
    char text[4096];
    int n;
} lines;

static int lines_cb(const char *text, void *payload)
{
    lines *l = payload;
    size_t len = strlen(l->text);

    snprintf(l->text + len, sizeof(l->text) - len, "%s\n", text);
    l->n++;
    return 0;
}

/*
 * CSV and JSON come from SQLite: the expected texts are written out by hand
 * from the rows inserted (RFC 4180 quoting: a cell holding a comma, quote or
 * newline is quoted and its quotes doubled; %.17g numbers).
 */
static void test_store_exports(void **state)
{
    aml_store *s = open_fresh("export.db");
    long long st = make_study(s, "s", 0), id;
    aml_param p = {"alpha", {AML_VAL_REAL, 0.25, 0, NULL}};
    aml_trial_query q = {"s", 0, 1, NULL, NULL};
    double folds[2] = {1.5, 2.5};
    lines l;

    assert_int_equal(aml_store_trial_begin(s, &id, st, 0, "ridge", &p, 1, 100.0), 0);
    assert_int_equal(
        aml_store_trial_finish(s, id, AML_TRIAL_OK, 2.0, folds, 2, NULL, 101.5), 0);
    assert_int_equal(aml_store_trial_begin(s, &id, st, 1, "ridge", NULL, 0, 100.0), 0);
    assert_int_equal(aml_store_trial_finish(s, id, AML_TRIAL_FAILED, NAN, NULL, 0,
                                            "bad \"x\", y", 100.25),
                     0);

    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_trials(s, &q, AML_STORE_CSV, lines_cb, &l), 0);
    assert_string_equal(
        l.text, "number,learner,status,score,seconds,params,fold_scores,message,"
                "t_start,t_end,resource\n"
                "0,ridge,ok,2,1.5,\"{\"\"alpha\"\":0.25}\",\"[1.5,2.5]\",,100,101.5,\n"
                "1,ridge,failed,,0.25,{},,\"bad \"\"x\"\", y\",100,100.25,\n");

    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_trials(s, &q, AML_STORE_JSON, lines_cb, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(
        l.text,
        "[{\"number\":0,\"learner\":\"ridge\",\"status\":\"ok\",\"score\":2.0,"
        "\"seconds\":1.5,\"params\":{\"alpha\":0.25},\"fold_scores\":[1.5,2.5],"
        "\"message\":null,\"t_start\":100.0,\"t_end\":101.5,\"resource\":null},"
        "{\"number\":1,\"learner\":\"ridge\",\"status\":\"failed\",\"score\":null,"
        "\"seconds\":0.25,\"params\":{},\"fold_scores\":null,"
        "\"message\":\"bad \\\"x\\\", y\",\"t_start\":100.0,\"t_end\":100.25,"
        "\"resource\":null}]\n");

    /* The best as one object; a study with no trial matching gives null. */
    q.top = 1;
    q.status = "ok";
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_trials(s, &q, AML_STORE_JSON_ONE, lines_cb, &l), 0);
    assert_non_null(strstr(l.text, "{\"number\":0,"));
    q.learner = "knn";
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_trials(s, &q, AML_STORE_JSON_ONE, lines_cb, &l), 0);
    assert_string_equal(l.text, "null\n");
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_trials(s, &q, AML_STORE_JSON, lines_cb, &l), 0);
    assert_string_equal(l.text, "[]\n");

    /* Studies: best is the min for rmse; one failed trial. */
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_studies(s, AML_STORE_CSV, lines_cb, &l), 0);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.text, "\ns,classification,rmse,0,2,1,1,0,0,2,,,42,"));
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_store_export_studies(s, AML_STORE_JSON, lines_cb, &l), 0);
    assert_non_null(strstr(l.text, "[{\"name\":\"s\",\"task\":\"classification\","
                                   "\"metric\":\"rmse\",\"greater_is_better\":0,"
                                   "\"trials\":2,\"ok\":1,\"failed\":1,"));
    aml_store_free(s);
}

typedef struct records {
    int n;
    long number[8];
    aml_trial_status status[8];
    double score[8];
    size_t n_params[8], k[8];
    char text[8][256];
} records;

static int records_cb(const aml_trial_record *r, void *payload)
{
    records *x = payload;
    int i = x->n++;
    size_t len = 0;

    assert_true(i < 8);
    x->number[i] = r->number;
    x->status[i] = r->status;
    x->score[i] = r->score;
    x->n_params[i] = r->n_params;
    x->k[i] = r->k;
    for (size_t j = 0; j < r->n_params; j++) {
        const aml_value *v = &r->params[j].value;

        len += (size_t)snprintf(x->text[i] + len, sizeof(x->text[i]) - len,
                                "%s=", r->params[j].name);
        if (v->kind == AML_VAL_INT)
            len += (size_t)snprintf(x->text[i] + len, sizeof(x->text[i]) - len, "i%lld;",
                                    v->i);
        else if (v->kind == AML_VAL_STR)
            len += (size_t)snprintf(x->text[i] + len, sizeof(x->text[i]) - len, "s%s;",
                                    v->str);
        else
            len += (size_t)snprintf(x->text[i] + len, sizeof(x->text[i]) - len, "r%.17g;",
                                    v->real);
    }
    for (size_t f = 0; f < r->k; f++)
        len += (size_t)snprintf(x->text[i] + len, sizeof(x->text[i]) - len, "f%g;",
                                r->fold_scores[f]);
    return 0;
}

/* Typed records come back exactly: kinds, exact reals, NaN for NULL, folds in order. */
static void test_store_records(void **state)
{
    aml_store *s = open_fresh("records.db");
    long long st = make_study(s, "s", 1), other = make_study(s, "o", 1), id;
    aml_param p[3] = {{"C", {AML_VAL_REAL, 0.1, 0, NULL}},
                      {"k", {AML_VAL_INT, 0, -3, NULL}},
                      {"w", {AML_VAL_STR, 0, 0, "distance"}}};
    aml_param bad = {"x", {AML_VAL_REAL, INFINITY, 0, NULL}};
    double folds[3] = {0.5, NAN, 0.25};
    records r;

    add_trial(s, other, 0, AML_TRIAL_OK, 0.9); /* another study: not walked */
    assert_int_equal(aml_store_trial_begin(s, &id, st, 1, "knn", p, 3, 1), 0);
    assert_int_equal(
        aml_store_trial_finish(s, id, AML_TRIAL_OK, 0.375, folds, 3, NULL, 2), 0);
    assert_int_equal(aml_store_trial_begin(s, &id, st, 0, "lr", &bad, 1, 1), 0);
    assert_int_equal(aml_store_trial_begin(s, &id, st, 2, "lr", NULL, 0, 1), 0);

    memset(&r, 0, sizeof(r));
    assert_int_equal(aml_store_trial_records(s, st, records_cb, &r), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.number[0], 0);
    assert_int_equal(r.status[0], AML_TRIAL_RUNNING);
    assert_true(isnan(r.score[0]));
    assert_string_equal(r.text[0], "x=rnan;");
    assert_int_equal(r.number[1], 1);
    assert_int_equal(r.status[1], AML_TRIAL_OK);
    assert_true(r.score[1] == 0.375);
    assert_string_equal(r.text[1],
                        "C=r0.10000000000000001;k=i-3;w=sdistance;f0.5;fnan;f0.25;");
    assert_int_equal(r.n_params[2], 0);
    assert_int_equal(r.k[2], 0);
    aml_store_free(s);
}

/* Two processes write different studies of one file at once: both finish, nothing lost.
 */
static void writer_child(const char *path, const char *name)
{
    aml_store *s = NULL;
    long long st = 0, ids[8];
    aml_study_info info = {name, NULL, "regression", "rmse", 0, 1, NULL, NULL};

    if (aml_store_open(&s, path, 0) < 0 || aml_store_study_create(s, &st, &info, 0) < 0)
        _exit(1);
    for (long b = 0; b < 60; b++) {
        if (aml_store_begin(s) < 0)
            _exit(2);
        for (int i = 0; i < 8; i++)
            if (aml_store_trial_begin(s, &ids[i], st, b * 8 + i, "ridge", NULL, 0, 1) < 0)
                _exit(3);
        if (aml_store_commit(s) < 0 || aml_store_begin(s) < 0)
            _exit(4);
        for (int i = 0; i < 8; i++)
            if (aml_store_trial_finish(s, ids[i], AML_TRIAL_OK, 1.0 + i, NULL, 0, NULL,
                                       2) < 0)
                _exit(5);
        if (aml_store_commit(s) < 0)
            _exit(6);
    }
    aml_store_free(s);
    _exit(0);
}

static void test_store_two_writer_processes(void **state)
{
    const char *path = db_path("two.db");
    aml_store *s = open_fresh("two.db");
    pid_t a, b;
    int sa = -1, sb = -1;
    textbuf t;

    aml_store_free(s); /* schema created once, before the race */
    if ((a = fork()) == 0)
        writer_child(path, "a");
    if ((b = fork()) == 0)
        writer_child(path, "b");
    assert_true(a > 0 && b > 0);
    assert_int_equal(waitpid(a, &sa, 0), a);
    assert_int_equal(waitpid(b, &sb, 0), b);
    assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
    assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
    raw_query(path,
              "SELECT s.name, count(*), sum(t.status = 'ok') FROM trial t"
              " JOIN study s ON s.id = t.study_id GROUP BY s.name ORDER BY s.name;"
              "PRAGMA integrity_check",
              &t);
    assert_string_equal(t.text, "a|480|480;b|480|480;ok;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_trial_timing),
        cmocka_unit_test(test_store_folds),
        cmocka_unit_test(test_store_status_names),
        cmocka_unit_test(test_store_schema_pragmas),
        cmocka_unit_test(test_store_oof),
        cmocka_unit_test(test_store_study_create_find),
        cmocka_unit_test(test_store_study_replace),
        cmocka_unit_test(test_store_trial_nan_and_inf_fail),
        cmocka_unit_test(test_store_running_trial_reads_back),
        cmocka_unit_test(test_store_fold_scores_round_trip),
        cmocka_unit_test(test_store_params_json),
        cmocka_unit_test(test_store_ranking_both_directions),
        cmocka_unit_test(test_store_top_n),
        cmocka_unit_test(test_store_views_raw_sql),
        cmocka_unit_test(test_store_studies_listing),
        cmocka_unit_test(test_store_rollback_and_commit),
        cmocka_unit_test(test_store_wal_reader_during_write),
        cmocka_unit_test(test_store_readonly_missing),
        cmocka_unit_test(test_store_not_a_database),
        cmocka_unit_test(test_store_version_and_foreign_db),
        cmocka_unit_test(test_store_write_errors),
        cmocka_unit_test(test_store_migrate_v1),
        cmocka_unit_test(test_store_claim_and_requeue),
        cmocka_unit_test(test_store_filters),
        cmocka_unit_test(test_store_exports),
        cmocka_unit_test(test_store_records),
        cmocka_unit_test(test_store_two_writer_processes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
