/*
 * test_runner.c - the parallel search loop: determinism across thread
 * counts, failed trials, grid exhaustion, what reaches the store, and
 * resuming a study from the store.
 */
#include "testutil.h"

#include "aml.h"
#include "runner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define MAX_SEEN 64

typedef struct seen {
    long n;
    long number[MAX_SEEN];
    int status[MAX_SEEN];
    double score[MAX_SEEN];
    size_t learner[MAX_SEEN];
    char message[MAX_SEEN][AML_TRIAL_MESSAGE_MAX];
} seen;

static void on_trial(const aml_trial_result *r, const aml_run_summary *s, void *payload)
{
    seen *v = payload;

    (void)s;
    assert_true(v->n < MAX_SEEN);
    v->number[v->n] = r->number;
    v->status[v->n] = r->status;
    v->score[v->n] = r->score;
    v->learner[v->n] = r->config.learner;
    memcpy(v->message[v->n], r->message, AML_TRIAL_MESSAGE_MAX);
    v->n++;
}

static void run_spec(const aml_spec *spec, const aml_dataset *d, int threads, seen *out,
                     aml_run_summary *summary)
{
    const aml_metric *m =
        spec->metric ? aml_metric_find(spec->metric) : aml_metric_default(d->task);
    aml_run_options opt = {0};

    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = threads;
    opt.budget.max_trials = spec->trials;
    opt.budget.max_seconds = spec->time_budget;
    opt.budget.patience = spec->patience;
    opt.budget.trial_seconds = spec->trial_timeout;
    opt.metric = m;
    memset(out, 0, sizeof(*out));
    assert_int_equal(aml_run_search(summary, d, spec->space,
                                    aml_search_type_find(spec->strategy), &opt, on_trial,
                                    out),
                     0);
}

/* The same spec and seed give bit-identical trials at 1, 2 and 3 threads. */
static void test_runner_deterministic_across_threads(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s1, s2, s3;
    static seen a, b, c;
    long i;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 1, &a, &s1);
    run_spec(spec, d, 2, &b, &s2);
    run_spec(spec, d, 3, &c, &s3);

    assert_int_equal(a.n, 20);
    assert_int_equal(b.n, 20);
    assert_int_equal(c.n, 20);
    for (i = 0; i < a.n; i++) {
        assert_int_equal(a.number[i], i); /* reported in trial order */
        assert_int_equal(a.status[i], AML_TRIAL_OK);
        assert_int_equal(a.learner[i], b.learner[i]);
        assert_int_equal(a.learner[i], c.learner[i]);
        assert_memory_equal(&a.score[i], &b.score[i], sizeof(double));
        assert_memory_equal(&a.score[i], &c.score[i], sizeof(double));
    }
    assert_int_equal(s1.reason, AML_STOP_TRIALS);
    assert_true(s1.has_best);
    assert_int_equal(s1.best.number, s2.best.number);
    /* Penguins are easy: the best 4-fold accuracy of 20 trials is high. */
    assert_true(s1.best.score > 0.95);
    aml_run_summary_dispose(&s1);
    aml_run_summary_dispose(&s2);
    aml_run_summary_dispose(&s3);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* The best trial is the one with the highest score, the first on ties. */
static void test_runner_best_is_max(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long i, best = -1;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 2, &a, &s);
    for (i = 0; i < a.n; i++)
        if (best < 0 || a.score[i] > a.score[best])
            best = i;
    assert_int_equal(s.best.number, a.number[best]);
    assert_memory_equal(&s.best.score, &a.score[best], sizeof(double));
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* Trials whose score is NaN fail with a reason, and the search goes on. */
static void test_runner_failed_trials_recorded(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/tiny_auc.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long i;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(a.n, 6);
    assert_int_equal(s.n_failed, 6);
    assert_false(s.has_best);
    for (i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], AML_TRIAL_FAILED);
        assert_true(isnan(a.score[i]));
        assert_non_null(strstr(a.message[i], "score is NaN"));
    }
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * One fixed configuration: trial 0 is the best and no later trial beats it
 * (equal scores are no improvement).  With patience 3 the budget is checked
 * after the first batch of AML_RUN_BATCH = 8 trials, when 7 trials have
 * passed without improvement: the search stops there, far short of its 40.
 */
static void test_runner_patience_stops(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/patience.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long i;

    (void)state;
    assert_int_equal(spec->patience, 3);
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(s.reason, AML_STOP_PATIENCE);
    assert_int_equal(a.n, AML_RUN_BATCH);
    assert_int_equal(s.n_trials, AML_RUN_BATCH);
    assert_int_equal(s.since_best, AML_RUN_BATCH - 1);
    assert_true(s.has_best);
    assert_int_equal(s.best.number, 0);
    for (i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], AML_TRIAL_OK);
        assert_memory_equal(&a.score[i], &a.score[0], sizeof(double));
    }
    aml_run_summary_dispose(&s);

    /* Without patience the same search runs to its trial budget (12 here). */
    spec->patience = 0;
    spec->trials = 12;
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(s.reason, AML_STOP_TRIALS);
    assert_int_equal(a.n, 12);
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * A trial timeout of 1e-9 s: on one thread each trial's fold 0 runs, then
 * its folds 1 and 2 see it past the limit and are skipped, so every trial
 * fails "timed out" and the search still runs all 5.
 */
static void test_runner_trial_timeout(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/timeout.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long i;

    (void)state;
    assert_true(spec->trial_timeout == 1e-9);
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 1, &a, &s);
    assert_int_equal(s.reason, AML_STOP_TRIALS);
    assert_int_equal(a.n, 5);
    assert_int_equal(s.n_failed, 5);
    assert_false(s.has_best);
    for (i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], AML_TRIAL_FAILED);
        assert_true(isnan(a.score[i]));
        assert_string_equal(a.message[i], "timed out after 1e-09s");
    }
    aml_run_summary_dispose(&s);

    /* Without the timeout the same trials succeed. */
    spec->trial_timeout = 0;
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(s.n_ok, 5);
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * A fold that is fitting stops at the trial timeout: the network below would
 * train for 1e8 epochs (no tolerance, no patience), so without the learners'
 * deadline check this test would never end (ctest's timeout fails it).
 */
static void test_runner_trial_timeout_stops_fit(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/timeout_fit.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 2, &a, &s);
    assert_true(a.n >= 1);
    assert_int_equal(s.n_ok, 0);
    for (long i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], AML_TRIAL_FAILED);
        assert_string_equal(a.message[i], "timed out after 1s");
    }
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * A time budget of 1e-9 s is spent by the first check after a batch (or at
 * the very first check): the run stops for time, having done a whole number
 * of batches (0 or 1 of 8), never the 20 trials it asked for.
 */
static void test_runner_time_budget(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/patience.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;

    (void)state;
    spec->patience = 0;
    spec->trials = 20;
    spec->time_budget = 1e-9;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(s.reason, AML_STOP_TIME);
    assert_true(a.n == 0 || a.n == AML_RUN_BATCH);
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * Grid over 3 ridge alphas + 2x2 knn + 3 trees = 10 points: a budget of
 * 12 stops at 10 with the space exhausted; RMSE is lower-is-better.
 */
static void test_runner_grid_exhausts(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/regression.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long i;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(d->task, AML_TASK_REGRESSION);
    run_spec(spec, d, 2, &a, &s);
    assert_int_equal(a.n, 10);
    assert_int_equal(s.reason, AML_STOP_EXHAUSTED);
    for (i = 0; i < a.n; i++) {
        assert_int_equal(a.status[i], AML_TRIAL_OK);
        assert_true(s.best.score <= a.score[i]);
    }
    aml_run_summary_dispose(&s);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* ---- resume ----------------------------------------------------------------------- */

/* Runs the spec against a store with a trial budget; returns the run's code. */
static int run_stored(const aml_spec *spec, const aml_dataset *d, aml_store *st,
                      long long study, long budget, seen *out, aml_run_summary *summary)
{
    aml_run_options opt = {0};

    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = 2;
    opt.budget.max_trials = budget;
    opt.metric = aml_metric_find(spec->metric);
    opt.store = st;
    opt.study_id = study;
    memset(out, 0, sizeof(*out));
    return aml_run_search(summary, d, spec->space, aml_search_type_find(spec->strategy),
                          &opt, on_trial, out);
}

typedef struct stored {
    long n;
    long number[MAX_SEEN];
    int status[MAX_SEEN];
    double score[MAX_SEEN];
} stored;

static int stored_cb(const aml_trial_record *r, void *payload)
{
    stored *x = payload;

    assert_true(x->n < MAX_SEEN);
    x->number[x->n] = r->number;
    x->status[x->n] = r->status;
    x->score[x->n] = r->score;
    x->n++;
    return 0;
}

static void read_stored(aml_store *st, long long study, stored *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(aml_store_trial_records(st, study, stored_cb, out), 0);
}

static void assert_same_trials(const stored *a, const stored *b)
{
    assert_int_equal(a->n, b->n);
    for (long i = 0; i < a->n; i++) {
        assert_int_equal(a->number[i], b->number[i]);
        assert_int_equal(a->status[i], b->status[i]);
        assert_memory_equal(&a->score[i], &b->score[i], sizeof(double));
    }
}

static void exec_sql(aml_store *st, const char *name, const char *sql)
{
    char path[600];
    sqlite3 *db = NULL;

    (void)st;
    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/*
 * A run stopped after 8 trials and resumed to 20 ends with the trials of an
 * uninterrupted 20-trial run, bit for bit; the resumed run evaluates and
 * reports only trials 8..19, and a second resume evaluates nothing.
 */
static void test_runner_resume_continues(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s_full, s_part, s_rest;
    static seen a, b, c;
    static stored full, resumed;
    long long id_a, id_b;
    aml_store *st_a = aml_test_fresh_store("resume_a.db", &id_a);
    aml_store *st_b = aml_test_fresh_store("resume_b.db", &id_b);

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_stored(spec, d, st_a, id_a, 20, &a, &s_full), 0);
    assert_int_equal(run_stored(spec, d, st_b, id_b, 8, &b, &s_part), 0);
    assert_int_equal(b.n, 8);
    aml_run_summary_dispose(&s_part);

    assert_int_equal(run_stored(spec, d, st_b, id_b, 20, &c, &s_rest), 0);
    assert_int_equal(c.n, 12);
    assert_int_equal(c.number[0], 8);
    assert_int_equal(s_rest.n_resumed, 8);
    assert_int_equal(s_rest.n_trials, 20);
    assert_int_equal(s_rest.reason, AML_STOP_TRIALS);
    assert_int_equal(s_rest.best.number, s_full.best.number);
    assert_memory_equal(&s_rest.best.score, &s_full.best.score, sizeof(double));
    read_stored(st_a, id_a, &full);
    read_stored(st_b, id_b, &resumed);
    assert_same_trials(&full, &resumed);
    aml_run_summary_dispose(&s_rest);

    /* Everything is done: nothing is evaluated again, the best is the same. */
    assert_int_equal(run_stored(spec, d, st_b, id_b, 20, &c, &s_rest), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(s_rest.n_resumed, 20);
    assert_int_equal(s_rest.best.number, s_full.best.number);
    aml_run_summary_dispose(&s_rest);
    aml_run_summary_dispose(&s_full);
    aml_store_free(st_a);
    aml_store_free(st_b);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * Trials a killed process left running (here: a whole batch, 8..15, set
 * back by hand as a SIGKILL after recording them would leave it) are
 * interrupted by the claim, re-run under the same numbers and end as in
 * the uninterrupted run.
 */
static void test_runner_resume_requeues(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s_full, s;
    static seen a, b;
    static stored before, after;
    long long id;
    long n_int = 0;
    aml_store *st = aml_test_fresh_store("requeue.db", &id);

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_stored(spec, d, st, id, 20, &a, &s_full), 0);
    read_stored(st, id, &before);
    exec_sql(st, "requeue.db",
             "DELETE FROM trial_fold WHERE trial_id IN (SELECT id FROM trial WHERE number"
             " BETWEEN 8 AND 15);"
             "UPDATE trial SET status = 'running', score = NULL, t_end = NULL"
             " WHERE number BETWEEN 8 AND 15;");
    assert_int_equal(aml_store_study_claim(st, id, &n_int), 0);
    assert_int_equal(n_int, 8);
    assert_int_equal(run_stored(spec, d, st, id, 20, &b, &s), 0);
    assert_int_equal(b.n, 8);
    for (long i = 0; i < 8; i++)
        assert_int_equal(b.number[i], 8 + i);
    assert_int_equal(s.n_resumed, 12);
    read_stored(st, id, &after);
    assert_same_trials(&before, &after);
    assert_int_equal(s.best.number, s_full.best.number);
    aml_run_summary_dispose(&s);
    aml_run_summary_dispose(&s_full);
    aml_store_free(st);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* A stored trial that the strategy would not propose again: the run refuses. */
static void test_runner_resume_refuses_changed_search(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s;
    static seen a;
    long long id;
    aml_store *st = aml_test_fresh_store("changed.db", &id);

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_stored(spec, d, st, id, 8, &a, &s), 0);
    aml_run_summary_dispose(&s);
    exec_sql(st, "changed.db", "UPDATE trial SET learner = 'svm' WHERE number = 3");
    assert_int_equal(run_stored(spec, d, st, id, 16, &a, &s), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "trial 3: the search now proposes"));
    assert_non_null(strstr(aml_error_message(), "the search changed"));
    assert_int_equal(a.n, 0);
    aml_run_summary_dispose(&s);
    aml_store_free(st);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/*
 * Grid search keeps a cursor: a study stopped after 4 of its 10 points and
 * resumed (the replay asks points 0..3 again, which moves the cursor) ends
 * with the same 10 trials as an uninterrupted run, and with the space
 * exhausted.  A mixed batch (4 stored, 4 new) is evaluated in part.
 */
static void test_runner_resume_grid(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/regression.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s_full, s;
    static seen a, b;
    static stored full, resumed;
    long long id_a, id_b;
    aml_store *st_a = aml_test_fresh_store("grid_a.db", &id_a);
    aml_store *st_b = aml_test_fresh_store("grid_b.db", &id_b);

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_stored(spec, d, st_a, id_a, 12, &a, &s_full), 0);
    assert_int_equal(a.n, 10);
    assert_int_equal(run_stored(spec, d, st_b, id_b, 4, &b, &s), 0);
    aml_run_summary_dispose(&s);
    assert_int_equal(run_stored(spec, d, st_b, id_b, 12, &b, &s), 0);
    assert_int_equal(b.n, 6);
    assert_int_equal(b.number[0], 4);
    assert_int_equal(s.n_resumed, 4);
    assert_int_equal(s.reason, AML_STOP_EXHAUSTED);
    assert_int_equal(s.best.number, s_full.best.number);
    read_stored(st_a, id_a, &full);
    read_stored(st_b, id_b, &resumed);
    assert_same_trials(&full, &resumed);
    aml_run_summary_dispose(&s);
    aml_run_summary_dispose(&s_full);
    aml_store_free(st_a);
    aml_store_free(st_b);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* ---- out-of-fold predictions ------------------------------------------------------ */

typedef struct oof_trials {
    long n;
    long long id[MAX_SEEN];
    int status[MAX_SEEN];
    size_t k[MAX_SEEN];
    double folds[MAX_SEEN][8];
} oof_trials;

static int oof_trials_cb(const aml_trial_record *r, void *payload)
{
    oof_trials *x = payload;

    assert_true(x->n < MAX_SEEN && r->k <= 8);
    x->id[x->n] = r->id;
    x->status[x->n] = r->status;
    x->k[x->n] = r->k;
    memcpy(x->folds[x->n], r->fold_scores, r->k * sizeof(double));
    x->n++;
    return 0;
}

/* fold_of[row] of repeat 0, as the store holds it (study_fold). */
static void read_study_folds(const char *name, long long study, int *fold_of, size_t n)
{
    char path[600];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t seen_rows = 0;

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT row, fold FROM study_fold"
                           " WHERE study_id = ?1 AND repeat = 0 ORDER BY row",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, study);
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_int64(st, 0), (long long)seen_rows);
        assert_true(seen_rows < n);
        fold_of[seen_rows++] = sqlite3_column_int(st, 1);
    }
    assert_int_equal(seen_rows, n);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/*
 * Accuracy of fold f recomputed from the OOF blob: the rows study_fold puts
 * in fold f, each predicted as its first most probable class (the argmax
 * the metric uses), counted right over the fold's row count.
 */
static double oof_fold_accuracy(const double *oof, int outputs, const int *fold_of,
                                const double *y, size_t n, int f)
{
    size_t right = 0, rows = 0;

    for (size_t i = 0; i < n; i++) {
        const double *p = oof + i * (size_t)outputs;
        int best = 0;

        if (fold_of[i] != f)
            continue;
        for (int j = 1; j < outputs; j++)
            if (p[j] > p[best])
                best = j;
        rows++;
        right += best == (int)y[i];
    }
    return (double)right / (double)rows;
}

/*
 * After a stored run every ok trial has one OOF blob of n x classes
 * probabilities; each fold's accuracy recomputed from it equals the stored
 * trial_fold score exactly; a second run at 1 thread stores the same bytes.
 */
static void test_runner_oof_stored(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary sum;
    static seen a;
    static oof_trials t, t1;
    long long id, id1;
    aml_store *st = aml_test_fresh_store("oof_a.db", &id),
              *st1 = aml_test_fresh_store("oof_b.db", &id1);
    int *fold_of;
    long n_ok = 0;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_stored(spec, d, st, id, 16, &a, &sum), 0);
    aml_run_summary_dispose(&sum);
    assert_int_equal(aml_store_trial_records(st, id, oof_trials_cb, &t), 0);
    assert_int_equal(t.n, 16);
    fold_of = calloc(d->n, sizeof(*fold_of));
    assert_non_null(fold_of);
    read_study_folds("oof_a.db", id, fold_of, d->n);
    for (long i = 0; i < t.n; i++) {
        double *oof = NULL;
        size_t n = 0;
        int outs = 0;

        if (t.status[i] != AML_TRIAL_OK) {
            assert_int_equal(aml_store_oof_load(st, t.id[i], 0, &oof, &n, &outs),
                             AML_EINVAL);
            continue;
        }
        n_ok++;
        assert_int_equal(aml_store_oof_load(st, t.id[i], 0, &oof, &n, &outs), 0);
        assert_int_equal(n, d->n);
        assert_int_equal(outs, d->n_classes);
        for (size_t r = 0; r < n; r++) {
            double sum_p = 0.0;

            for (int j = 0; j < outs; j++)
                sum_p += oof[r * (size_t)outs + j];
            assert_close(sum_p, 1.0, 1e-9); /* k-fold: every row is predicted once */
        }
        assert_int_equal(t.k[i], 4);
        for (int f = 0; f < 4; f++) {
            double acc = oof_fold_accuracy(oof, outs, fold_of, d->y, n, f);

            assert_memory_equal(&acc, &t.folds[i][f], sizeof(double));
        }
        free(oof);
        /* No second repeat in a k-fold plan. */
        assert_int_equal(aml_store_oof_load(st, t.id[i], 1, &oof, &n, &outs), AML_EINVAL);
    }
    assert_true(n_ok >= 10);

    /* Determinism: the same trials at another thread count store the same blobs. */
    {
        aml_run_options opt = {0};

        opt.folds = spec->folds;
        opt.stratified = spec->stratified;
        opt.cv_seed = spec->cv_seed;
        opt.seed = spec->seed;
        opt.threads = 1;
        opt.budget.max_trials = 16;
        opt.metric = aml_metric_find(spec->metric);
        opt.store = st1;
        opt.study_id = id1;
        assert_int_equal(aml_run_search(&sum, d, spec->space,
                                        aml_search_type_find(spec->strategy), &opt, NULL,
                                        NULL),
                         0);
        aml_run_summary_dispose(&sum);
    }
    assert_int_equal(aml_store_trial_records(st1, id1, oof_trials_cb, &t1), 0);
    assert_int_equal(t1.n, t.n);
    for (long i = 0; i < t.n; i++) {
        double *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        int ox = 0, oy = 0;

        if (t.status[i] != AML_TRIAL_OK)
            continue;
        assert_int_equal(aml_store_oof_load(st, t.id[i], 0, &x, &nx, &ox), 0);
        assert_int_equal(aml_store_oof_load(st1, t1.id[i], 0, &y, &ny, &oy), 0);
        assert_int_equal(nx * (size_t)ox, ny * (size_t)oy);
        assert_memory_equal(x, y, nx * (size_t)ox * sizeof(double));
        free(x);
        free(y);
    }
    free(fold_of);
    aml_store_free(st);
    aml_store_free(st1);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_deterministic_across_threads),
        cmocka_unit_test(test_runner_best_is_max),
        cmocka_unit_test(test_runner_failed_trials_recorded),
        cmocka_unit_test(test_runner_grid_exhausts),
        cmocka_unit_test(test_runner_patience_stops),
        cmocka_unit_test(test_runner_trial_timeout),
        cmocka_unit_test(test_runner_trial_timeout_stops_fit),
        cmocka_unit_test(test_runner_time_budget),
        cmocka_unit_test(test_runner_resume_continues),
        cmocka_unit_test(test_runner_resume_requeues),
        cmocka_unit_test(test_runner_resume_refuses_changed_search),
        cmocka_unit_test(test_runner_resume_grid),
        cmocka_unit_test(test_runner_oof_stored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
