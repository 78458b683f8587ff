/*
 * test_dataset.c - loading a spec's training table.
 *
 * The spec is filled in by hand (no YAML), pointing at hand-written
 * fixtures in tests/fixtures/csv/ds_*.csv; expected values are read off
 * those files and explained next to each case.
 */
#include "testutil.h"

#include "aml.h"
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char train_path[4096];

/* A spec for fixture `name`; positions are made up so messages can be checked. */
static aml_spec make_spec(const char *name, const char *target, aml_spec_task task)
{
    aml_spec s;

    memset(&s, 0, sizeof(s));
    snprintf(train_path, sizeof(train_path), "%s/fixtures/csv/%s", AML_TEST_DIR, name);
    s.path = "spec.yaml";
    s.train = train_path;
    s.target = (char *)target;
    s.task = task;
    s.pos_target.line = 3;
    s.pos_target.col = 11;
    s.pos_drop.line = 5;
    s.pos_drop.col = 9;
    return s;
}

static aml_dataset *load_ok(const aml_spec *s)
{
    aml_dataset *d = NULL;

    if (aml_dataset_load(&d, s) != 0)
        fail_msg("%s: %s", s->train, aml_error_message());
    assert_non_null(d);
    return d;
}

static void load_fails(const aml_spec *s, int code, const char *want)
{
    aml_dataset *d = (aml_dataset *)1;

    assert_int_equal(aml_dataset_load(&d, s), code);
    assert_null(d);
    assert_string_equal(aml_error_message(), want);
}

static void assert_classes(const aml_dataset *d, const char *const *labels, int k)
{
    int i;

    assert_int_equal(d->task, AML_TASK_CLASSIFICATION);
    assert_int_equal(d->n_classes, k);
    for (i = 0; i < k; i++)
        assert_string_equal(d->classes[i], labels[i]);
}

static void assert_y(const aml_dataset *d, const double *y, size_t n)
{
    size_t i;

    assert_int_equal(d->n, n);
    for (i = 0; i < n; i++)
        assert_true(d->y[i] == y[i]);
}

/*
 * ds_classes.csv: label = 1, 0, 1.0, NA, 2, "", 0.0.  Two rows lack a
 * label; the rest are integers with 3 distinct values, so the task is
 * classification, "1" and "1.0" are one class, classes "0" "1" "2".
 */
static void test_dataset_numeric_classes(void **state)
{
    static const char *const labels[] = {"0", "1", "2"};
    static const double y[] = {1, 0, 1, 2, 0};
    static const double f1[] = {0.5, 1.5, 2.5, 4.5, 6.5};
    aml_spec s = make_spec("ds_classes.csv", "label", AML_SPEC_TASK_INFER);
    aml_dataset *d = load_ok(&s);
    size_t i;

    assert_classes(d, labels, 3);
    assert_y(d, y, 5);
    assert_int_equal(d->dropped_rows, 2);
    assert_string_equal(d->target, "label");
    assert_int_equal(aml_frame_cols(d->features), 2);
    assert_int_equal(aml_frame_rows(d->features), 5);
    assert_int_equal(aml_frame_find(d->features, "label"), -1);
    for (i = 0; i < 5; i++)
        assert_true(aml_frame_real(d->features, 0)[i] == f1[i]);
    assert_int_equal(aml_frame_line(d->features, 3), 6); /* "4.5,green,2" */
    aml_dataset_free(d);
    aml_dataset_free(NULL);
}

static void test_dataset_drop_columns(void **state)
{
    static char *drop[] = {"color"};
    aml_spec s = make_spec("ds_classes.csv", "label", AML_SPEC_TASK_INFER);
    aml_dataset *d;

    s.drop = drop;
    s.n_drop = 1;
    d = load_ok(&s);
    assert_int_equal(aml_frame_cols(d->features), 1);
    assert_string_equal(aml_frame_name(d->features, 0), "f1");
    aml_dataset_free(d);
}

/* Text labels: b, a, NA, b -> classes "a" "b", y = 1 0 1, one row dropped. */
static void test_dataset_text_classes(void **state)
{
    static const char *const labels[] = {"a", "b"};
    static const double y[] = {1, 0, 1};
    aml_spec s = make_spec("ds_text.csv", "species", AML_SPEC_TASK_INFER);
    aml_dataset *d = load_ok(&s);

    assert_classes(d, labels, 2);
    assert_y(d, y, 3);
    assert_int_equal(d->dropped_rows, 1);
    aml_dataset_free(d);
}

/* y = 0.5, 1.25, 2, 0.1, 1e-7: not all integers, so regression. */
static void test_dataset_regression(void **state)
{
    static const double y[] = {0.5, 1.25, 2, 0.1, 1e-7};
    aml_spec s = make_spec("ds_regression.csv", "y", AML_SPEC_TASK_INFER);
    aml_dataset *d = load_ok(&s);

    assert_int_equal(d->task, AML_TASK_REGRESSION);
    assert_int_equal(d->n_classes, 0);
    assert_null(d->classes);
    assert_y(d, y, 5);
    aml_dataset_free(d);
}

/* The same values as forced classes: sorted numerically, shortest text. */
static void test_dataset_forced_classes(void **state)
{
    static const char *const labels[] = {"1e-07", "0.1", "0.5", "1.25", "2"};
    static const double y[] = {2, 3, 4, 1, 0};
    aml_spec s = make_spec("ds_regression.csv", "y", AML_SPEC_TASK_CLASSIFICATION);
    aml_dataset *d = load_ok(&s);

    assert_classes(d, labels, 5);
    assert_y(d, y, 5);
    aml_dataset_free(d);
}

/* 11 distinct integers (0..10) is one more than the classification limit. */
static void test_dataset_many_integers(void **state)
{
    aml_spec s = make_spec("ds_ints.csv", "y", AML_SPEC_TASK_INFER);
    aml_dataset *d = load_ok(&s);

    assert_int_equal(d->task, AML_TASK_REGRESSION);
    aml_dataset_free(d);

    s.task = AML_SPEC_TASK_CLASSIFICATION;
    d = load_ok(&s);
    assert_int_equal(d->n_classes, 11);
    assert_string_equal(d->classes[10], "10");
    assert_true(d->y[10] == 10.0);
    aml_dataset_free(d);
}

static void test_dataset_errors(void **state)
{
    static char *unknown[] = {"zzz"};
    static char *target[] = {"label"};
    char want[8400];
    aml_spec s = make_spec("ds_classes.csv", "nope", AML_SPEC_TASK_INFER);

    snprintf(want, sizeof(want), "spec.yaml:3:11: target 'nope' is not a column of %s",
             train_path);
    load_fails(&s, AML_EINVAL, want);

    s.target = "label";
    s.drop = unknown;
    s.n_drop = 1;
    snprintf(want, sizeof(want), "spec.yaml:5:9: drop: 'zzz' is not a column of %s",
             train_path);
    load_fails(&s, AML_EINVAL, want);

    s.drop = target;
    load_fails(&s, AML_EINVAL, "spec.yaml:5:9: cannot drop the target 'label'");

    s = make_spec("ds_single.csv", "t", AML_SPEC_TASK_INFER);
    snprintf(want, sizeof(want),
             "spec.yaml:3:11: target 't' has a single class ('yes') in %s; "
             "classification needs at least two",
             train_path);
    load_fails(&s, AML_EINVAL, want);

    /* Regression forces the target numeric: the first text cell is reported. */
    s = make_spec("ds_text.csv", "species", AML_SPEC_TASK_REGRESSION);
    snprintf(want, sizeof(want), "%s:2:2: column 'species': 'b' is not a number",
             train_path);
    load_fails(&s, AML_EFORMAT, want);

    s = make_spec("no_such.csv", "y", AML_SPEC_TASK_INFER);
    assert_int_equal(aml_dataset_load(&(aml_dataset *){NULL}, &s), AML_EIO);
}

/*
 * penguins.csv (CATALOG.md): species Adelie 152 / Chinstrap 68 / Gentoo
 * 124 with no missing value; sex has 11 NA, so 333 rows remain with it as
 * the target (165 female and 168 male, counted with Python's csv module).
 */
static void test_dataset_penguins(void **state)
{
    static const char *const species[] = {"Adelie", "Chinstrap", "Gentoo"};
    static const char *const sexes[] = {"female", "male"};
    const char *path = aml_test_shared("penguins.csv");
    aml_spec s = make_spec("unused", "species", AML_SPEC_TASK_INFER);
    size_t i, counts[3] = {0, 0, 0};
    aml_dataset *d;

    if (!path)
        skip();
    s.train = (char *)path;
    d = load_ok(&s);
    assert_classes(d, species, 3);
    assert_int_equal(d->n, 344);
    assert_int_equal(d->dropped_rows, 0);
    assert_int_equal(aml_frame_cols(d->features), 7);
    for (i = 0; i < d->n; i++)
        counts[(int)d->y[i]]++;
    assert_int_equal(counts[0], 152);
    assert_int_equal(counts[1], 68);
    assert_int_equal(counts[2], 124);
    aml_dataset_free(d);

    s.target = "sex";
    d = load_ok(&s);
    assert_classes(d, sexes, 2);
    assert_int_equal(d->n, 333);
    assert_int_equal(d->dropped_rows, 11);
    for (i = 0, counts[1] = 0; i < d->n; i++)
        counts[1] += d->y[i] == 1.0;
    assert_int_equal(counts[1], 168);
    aml_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_numeric_classes),
        cmocka_unit_test(test_dataset_drop_columns),
        cmocka_unit_test(test_dataset_text_classes),
        cmocka_unit_test(test_dataset_regression),
        cmocka_unit_test(test_dataset_forced_classes),
        cmocka_unit_test(test_dataset_many_integers),
        cmocka_unit_test(test_dataset_errors),
        cmocka_unit_test(test_dataset_penguins),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
