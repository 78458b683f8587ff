/*
 * test_deadline.c - cooperative deadlines (search.trial_timeout): every
 * learner with a long loop stops with AML_ETIMEOUT once its thread's
 * deadline has passed, and fits normally without one.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_deadline_basics(void **state)
{
    (void)state;
    aml_deadline_set(0);
    assert_int_equal(aml_deadline_check(), AML_OK);
    aml_deadline_set(now() + 3600);
    assert_int_equal(aml_deadline_check(), AML_OK);
    aml_deadline_set(now() - 1);
    aml_error_clear();
    assert_int_equal(aml_deadline_check(), AML_ETIMEOUT);
    assert_string_equal(aml_error_message(), "stopped at the trial's time limit");
    assert_true(aml_deadline_passed(aml_deadline_get()));
    aml_deadline_set(-5); /* negative: none */
    assert_true(aml_deadline_get() == 0.0);
    assert_int_equal(aml_deadline_check(), AML_OK);
}

static void *other_thread(void *arg)
{
    *(int *)arg = aml_deadline_check();
    return NULL;
}

/* A deadline belongs to the thread that set it. */
static void test_deadline_is_per_thread(void **state)
{
    pthread_t t;
    int rc = -100;

    (void)state;
    aml_deadline_set(now() - 1);
    assert_int_equal(pthread_create(&t, NULL, other_thread, &rc), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, AML_OK);
    aml_deadline_set(0);
}

typedef struct fit_case {
    const char *learner;
    const char *param, *value; /* one parameter to set, or NULL */
    aml_task task;
} fit_case;

static int fit(const fit_case *c, const aml_matrix *X, const double *y, int k)
{
    const aml_learner_type *t = aml_learner_type_find(c->learner);
    aml_learner *l = NULL;
    aml_rng rng;
    int rc;

    assert_non_null(t);
    assert_int_equal(aml_learner_new(&l, t, c->task), 0);
    if (c->param) {
        aml_value v = {.kind = AML_VAL_STR, .str = c->value};

        assert_int_equal(aml_learner_set_param(l, c->param, &v), 0);
    }
    aml_rng_init(&rng, 1, 2);
    rc = aml_learner_fit(l, X, y, NULL, k, &rng, 1);
    aml_learner_free(l);
    return rc;
}

static void test_deadline_stops_learners(void **state)
{
    static const fit_case cases[] = {
        {"random_forest", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"extra_trees", NULL, NULL, AML_TASK_REGRESSION},
        {"gradient_boosting", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"gradient_boosting", NULL, NULL, AML_TASK_REGRESSION},
        {"adaboost", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"mlp", NULL, NULL, AML_TASK_REGRESSION},
        {"svm", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"logistic_regression", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"logistic_regression", "penalty", "l1", AML_TASK_CLASSIFICATION},
        {"linear_svm", NULL, NULL, AML_TASK_CLASSIFICATION},
        {"lasso", NULL, NULL, AML_TASK_REGRESSION},
        {"elastic_net", NULL, NULL, AML_TASK_REGRESSION},
        {"bagging", "base", "knn", AML_TASK_CLASSIFICATION},
        {"boosting", "base", "knn", AML_TASK_REGRESSION},
    };
    aml_matrix Xc, Xr;
    double *yc, *yr;

    (void)state;
    aml_test_read_xy("forest_clf_train.csv", &Xc, &yc);
    aml_test_read_xy("forest_reg_train.csv", &Xr, &yr);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fit_case *c = &cases[i];
        int cls = c->task == AML_TASK_CLASSIFICATION;
        const aml_matrix *X = cls ? &Xc : &Xr;
        const double *y = cls ? yc : yr;
        int rc;

        aml_deadline_set(now() - 1);
        aml_error_clear();
        rc = fit(c, X, y, 3);
        aml_deadline_set(0);
        if (rc != AML_ETIMEOUT || !strstr(aml_error_message(), "time limit"))
            fail_msg("%s: rc %d, message '%s'", c->learner, rc, aml_error_message());
        if ((rc = fit(c, X, y, 3)) != 0)
            fail_msg("%s without a deadline: rc %d, %s", c->learner, rc,
                     aml_error_message());
    }
    free(Xc.data);
    free(yc);
    free(Xr.data);
    free(yr);
}

/* An SVM's prediction (a trial's validation rows) stops at the deadline too. */
static void test_deadline_stops_svm_predict(void **state)
{
    const aml_learner_type *t = aml_learner_type_find("svm");
    aml_learner *l = NULL;
    aml_matrix X;
    double *y, *out;
    aml_rng rng;

    (void)state;
    aml_test_read_xy("forest_clf_train.csv", &X, &y);
    assert_int_equal(aml_learner_new(&l, t, AML_TASK_CLASSIFICATION), 0);
    aml_rng_init(&rng, 1, 2);
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 3, &rng, 1), 0);
    out = calloc(X.rows * 3, sizeof(double));
    assert_non_null(out);
    aml_deadline_set(now() - 1);
    assert_int_equal(aml_learner_predict(l, &X, out), AML_ETIMEOUT);
    aml_deadline_set(0);
    assert_int_equal(aml_learner_predict(l, &X, out), 0);
    free(out);
    aml_learner_free(l);
    free(X.data);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_basics),
        cmocka_unit_test(test_deadline_is_per_thread),
        cmocka_unit_test(test_deadline_stops_learners),
        cmocka_unit_test(test_deadline_stops_svm_predict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
