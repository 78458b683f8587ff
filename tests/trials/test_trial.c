/*
 * test_trial.c - out-of-fold predictions of one trial (aml_cv_fold_oof):
 * which rows each plan fills, that the matrix keeps the class count when a
 * training fold lacks a class, and that the fold scores recomputed from the
 * OOF rows equal the scores aml_cv_fold reports.  The plans come from the
 * small fixtures of tests/fixtures/bad (also used by test_badinput.c).
 */
#include "testutil.h"

#include "aml.h"
#include "search.h"
#include "spec.h"
#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct oof_case {
    aml_spec *spec;
    aml_dataset *d;
    aml_cv cv;
    aml_config c;
    double *oof;
} oof_case;

/* Loads a fixture's spec, data and plan, and trial 0 of a random search over it. */
static void case_load(oof_case *t, const char *name)
{
    aml_search *search = NULL;
    char path[4096];
    size_t i;

    memset(t, 0, sizeof(*t));
    snprintf(path, sizeof(path), "%s/fixtures/bad/%s", AML_TEST_DIR, name);
    if (aml_spec_load(&t->spec, path, aml_test_vocab()) < 0 ||
        aml_dataset_load(&t->d, t->spec) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_cv_init(&t->cv, t->d, t->spec->space,
                                 aml_metric_find("accuracy"), t->spec->folds,
                                 t->spec->stratified, t->spec->cv_seed, t->spec->seed),
                     0);
    assert_int_equal(
        aml_search_new(&search, aml_search_type_find("random"), t->spec->space, 5), 0);
    assert_int_equal(aml_search_ask(search, 0, &t->c), 0);
    aml_search_free(search);
    t->oof = malloc(aml_cv_oof_size(&t->cv) * sizeof(double));
    assert_non_null(t->oof);
    for (i = 0; i < aml_cv_oof_size(&t->cv); i++)
        t->oof[i] = NAN;
}

static void case_free(oof_case *t)
{
    free(t->oof);
    aml_config_dispose(&t->c);
    aml_cv_dispose(&t->cv);
    aml_dataset_free(t->d);
    aml_spec_free(t->spec);
}

/*
 * Runs split s twice, with and without OOF (same score, bit for bit), and
 * checks the score against the accuracy recomputed from the OOF rows of
 * the split's validation rows: first most probable class, as the metric.
 */
static void check_split(oof_case *t, int s)
{
    const size_t *valid = t->cv.rows + t->cv.start[s];
    size_t nv = t->cv.start[s + 1] - t->cv.start[s], right = 0;
    int outs = aml_cv_outputs(&t->cv);
    const double *block = t->oof + (size_t)(s / t->cv.per_repeat) * t->d->n * outs;
    double with = NAN, without = NAN, acc;
    char msg[256];

    assert_int_equal(
        aml_cv_fold_oof(&t->cv, &t->c, 0, s, &with, msg, sizeof(msg), t->oof), 0);
    assert_int_equal(aml_cv_fold(&t->cv, &t->c, 0, s, &without, msg, sizeof(msg)), 0);
    assert_memory_equal(&with, &without, sizeof(double));
    for (size_t i = 0; i < nv; i++) {
        const double *p = block + valid[i] * (size_t)outs;
        int best = 0;

        for (int j = 1; j < outs; j++)
            best = p[j] > p[best] ? j : best;
        right += best == (int)t->d->y[valid[i]];
    }
    acc = (double)right / (double)nv;
    assert_memory_equal(&acc, &with, sizeof(double));
}

/* Rows of OOF block `r` whose first value is a number. */
static size_t filled_rows(const oof_case *t, int r)
{
    int outs = aml_cv_outputs(&t->cv);
    const double *block = t->oof + (size_t)r * t->d->n * outs;
    size_t m = 0;

    for (size_t i = 0; i < t->d->n; i++) {
        int finite = 1;

        for (int j = 0; j < outs; j++)
            finite &= isfinite(block[i * (size_t)outs + j]) != 0;
        /* A row is filled whole or not at all. */
        if (!finite)
            for (int j = 0; j < outs; j++)
                assert_true(isnan(block[i * (size_t)outs + j]));
        m += finite;
    }
    return m;
}

/* Holdout 0.3 of small_class.csv (10 rows): 3 validation rows filled, 7 NaN. */
static void test_trial_oof_holdout(void **state)
{
    oof_case t;

    (void)state;
    case_load(&t, "holdout_ok.yaml");
    assert_int_equal(aml_cv_repeats(&t.cv), 1);
    assert_int_equal(aml_cv_outputs(&t.cv), 2);
    assert_int_equal(aml_cv_oof_size(&t.cv), 10 * 2);
    check_split(&t, 0);
    assert_int_equal(filled_rows(&t, 0), 3);
    case_free(&t);
}

/* 2 repeats x 2 folds: two blocks of n x 2, every row filled in each. */
static void test_trial_oof_repeated(void **state)
{
    oof_case t;

    (void)state;
    case_load(&t, "repeated_ok.yaml");
    assert_int_equal(aml_cv_repeats(&t.cv), 2);
    assert_int_equal(aml_cv_oof_size(&t.cv), t.d->n * 2 * 2);
    check_split(&t, 0);
    assert_int_equal(filled_rows(&t, 0), t.cv.start[1]);
    assert_int_equal(filled_rows(&t, 1), 0);
    for (int s = 1; s < 4; s++)
        check_split(&t, s);
    assert_int_equal(filled_rows(&t, 0), t.d->n);
    assert_int_equal(filled_rows(&t, 1), t.d->n);
    case_free(&t);
}

/*
 * one_row_class.csv: class 'c' has one row, so with 3 k-fold folds the
 * fold validating that row trains without 'c'.  Every fold still writes
 * rows of 3 values, and every row is filled.
 */
static void test_trial_oof_missing_class(void **state)
{
    oof_case t;

    (void)state;
    case_load(&t, "one_row_class_kfold.yaml");
    assert_int_equal(t.d->n_classes, 3);
    assert_int_equal(aml_cv_outputs(&t.cv), 3);
    for (int s = 0; s < t.cv.k; s++)
        check_split(&t, s);
    assert_int_equal(filled_rows(&t, 0), t.d->n);
    case_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trial_oof_holdout),
        cmocka_unit_test(test_trial_oof_repeated),
        cmocka_unit_test(test_trial_oof_missing_class),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
