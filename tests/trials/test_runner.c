/*
 * test_runner.c - the parallel search loop: determinism across thread
 * counts, failed trials, grid exhaustion, and what reaches the store.
 */
#include "testutil.h"

#include "aml.h"
#include "runner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static aml_spec *load_spec(const char *name)
{
    const char *metrics[16], *strategies[8];
    aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
    aml_spec *spec = NULL;
    size_t i;

    for (i = 0; aml_metrics[i]; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i]; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    if (aml_spec_load(&spec, aml_test_fixture(name), &vocab) < 0)
        fail_msg("%s", aml_error_message());
    return spec;
}

static void run_spec(const aml_spec *spec, const aml_dataset *d, int threads, seen *out,
                     aml_run_summary *summary)
{
    const aml_metric *m = spec->metric ? aml_metric_find(spec->metric)
                                       : aml_metric_default(d->task);
    aml_run_options opt = {0};

    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = threads;
    opt.budget.max_trials = spec->trials;
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
    aml_spec *spec = load_spec("runner/penguins.yaml");
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
    aml_spec *spec = load_spec("runner/penguins.yaml");
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
    aml_spec *spec = load_spec("runner/tiny_auc.yaml");
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
 * Grid over 3 ridge alphas + 2x2 knn + 3 trees = 10 points: a budget of
 * 12 stops at 10 with the space exhausted; RMSE is lower-is-better.
 */
static void test_runner_grid_exhausts(void **state)
{
    aml_spec *spec = load_spec("runner/regression.yaml");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_deterministic_across_threads),
        cmocka_unit_test(test_runner_best_is_max),
        cmocka_unit_test(test_runner_failed_trials_recorded),
        cmocka_unit_test(test_runner_grid_exhausts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
