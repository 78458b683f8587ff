/*
 * test_metric.c - trials/metric.c against scikit-learn 1.2 and hand
 * computations.
 *
 * The fixtures tests/fixtures/metrics_<case>.csv and their _expected.csv
 * twins come from tests/fixtures/gen_metrics.py (command in its header):
 * binary, binary with heavy score ties, three classes with ties, four
 * classes with one absent from y and unnormalised rows, regression, and a
 * constant regression target.  Every metric is compared to 1e-12.
 */
#include "testutil.h"

#include "aml.h"
#include "metric.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12

static double score(const char *name, const double *y, const double *pred, size_t n,
                    int k)
{
    const aml_metric *m = aml_metric_find(name);

    assert_non_null(m);
    return m->score(y, pred, n, k);
}

/* ---------------------------------------------------------------- fixtures */

static const char *const class_metrics[] = {"accuracy", "balanced_accuracy", "f1",
                                            "roc_auc", "log_loss"};
static const char *const reg_metrics[] = {"rmse", "mae", "r2"};

/* Scores one fixture case; k == 0 marks regression. */
static void check_case(const char *name, int k)
{
    const char *const *names = k ? class_metrics : reg_metrics;
    size_t n_names = k ? 5 : 3;
    char path[256];
    double *data, *want, *y, *pred;
    size_t rows, cols, wrows, wcols, i, j;
    size_t width = k ? (size_t)k : 1;

    snprintf(path, sizeof(path), "metrics_%s.csv", name);
    aml_test_read_matrix(aml_test_fixture(path), &data, &rows, &cols);
    snprintf(path, sizeof(path), "metrics_%s_expected.csv", name);
    aml_test_read_matrix(aml_test_fixture(path), &want, &wrows, &wcols);
    assert_int_equal(cols, 1 + width);
    assert_int_equal(wrows, 1);
    assert_int_equal(wcols, n_names);
    assert_true(rows >= 20);

    y = malloc(rows * sizeof(*y));
    pred = malloc(rows * width * sizeof(*pred));
    assert_non_null(y);
    assert_non_null(pred);
    for (i = 0; i < rows; i++) {
        y[i] = data[i * cols];
        for (j = 0; j < width; j++)
            pred[i * width + j] = data[i * cols + 1 + j];
    }
    for (j = 0; j < n_names; j++) {
        double got = score(names[j], y, pred, rows, k);

        if (!(fabs(got - want[j]) <= TOL * fmax(1.0, fabs(want[j]))) &&
            !(isnan(got) && isnan(want[j])))
            fprintf(stderr, "case %s, metric %s\n", name, names[j]);
        assert_close(got, want[j], TOL);
    }
    free(y);
    free(pred);
    free(data);
    free(want);
}

static void test_metric_sklearn_binary(void **state)
{
    (void)state;
    check_case("binary", 2);
}

static void test_metric_sklearn_binary_ties(void **state)
{
    (void)state;
    check_case("binary_ties", 2);
}

static void test_metric_sklearn_multi3_ties(void **state)
{
    (void)state;
    check_case("multi3_ties", 3);
}

static void test_metric_sklearn_multi4_absent(void **state)
{
    (void)state;
    check_case("multi4_absent", 4);
}

static void test_metric_sklearn_regression(void **state)
{
    (void)state;
    check_case("regression", 0);
    check_case("regression_const", 0);
}

/* ------------------------------------------------------------ hand cases */

/*
 * y = 0 0 1 1, class-1 scores 0.1 0.4 0.35 0.8.  Positive/negative pairs:
 * 0.35 beats 0.1 but not 0.4; 0.8 beats both; AUC = 3/4.
 */
static void test_metric_auc_hand(void **state)
{
    const double y[] = {0, 0, 1, 1};
    const double p[] = {0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8};

    (void)state;
    assert_close(score("roc_auc", y, p, 4, 2), 0.75, TOL);
}

/*
 * Ties: y = 0 1 0 1, scores 0.5 0.5 0.2 0.9.  Pairs: (0.5 vs 0.5) = 1/2,
 * (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1; AUC = 3.5/4.
 * Reversing the row order must not change it.
 */
static void test_metric_auc_ties_hand(void **state)
{
    const double y[] = {0, 1, 0, 1};
    const double p[] = {0.5, 0.5, 0.5, 0.5, 0.8, 0.2, 0.1, 0.9};
    const double yr[] = {1, 0, 1, 0};
    const double pr[] = {0.1, 0.9, 0.8, 0.2, 0.5, 0.5, 0.5, 0.5};

    (void)state;
    assert_close(score("roc_auc", y, p, 4, 2), 0.875, TOL);
    assert_close(score("roc_auc", yr, pr, 4, 2), 0.875, TOL);
}

/*
 * Three classes, rows (y; p0 p1 p2):
 *   0; .6 .3 .1   1; .2 .5 .3   2; .1 .2 .7   0; .3 .4 .3
 * One-vs-rest AUCs: class 0 scores (.6 .2 .1 .3), positives .6 .3 vs
 * negatives .2 .1 -> 4/4 = 1.  Class 1 scores (.3 .5 .2 .4), positive .5
 * beats all three -> 1.  Class 2 scores (.1 .3 .7 .3), positive .7 beats
 * all -> 1.  Mean 1.  Swapping class 1's score down to .1 makes class 1's
 * AUC 0 (it is below all negatives .3 .2 .4): mean 2/3.
 */
static void test_metric_auc_multiclass_hand(void **state)
{
    const double y[] = {0, 1, 2, 0};
    double p[] = {0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.3, 0.4, 0.3};

    (void)state;
    assert_close(score("roc_auc", y, p, 4, 3), 1.0, TOL);
    p[4] = 0.1;
    assert_close(score("roc_auc", y, p, 4, 3), 2.0 / 3.0, TOL);
}

/*
 * Binary AUC is undefined when y lacks a class.  A multiclass gap (class 2
 * of 3 absent) is left out of the mean: rows (.5 .3 .2) (.2 .5 .3)
 * (.6 .2 .2) (.1 .1 .8), y = 0 1 0 1.  Class 0: positives .5 .6 beat both
 * negatives .2 .1 -> 1.  Class 1: positive .5 beats .3 and .2, .1 beats
 * neither -> 1/2.  Mean (1 + 1/2) / 2 = 0.75.
 */
static void test_metric_auc_missing_class(void **state)
{
    const double y1[] = {1, 1, 1};
    const double p1[] = {0.2, 0.8, 0.6, 0.4, 0.5, 0.5};
    const double y3[] = {0, 1, 0, 1};
    const double p3[] = {0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.6, 0.2, 0.2, 0.1, 0.1, 0.8};

    (void)state;
    aml_error_clear();
    assert_true(isnan(score("roc_auc", y1, p1, 3, 2)));
    assert_int_equal(aml_error_code(), AML_EINVAL);
    assert_close(score("roc_auc", y3, p3, 4, 3), 0.75, TOL);
}

/*
 * Label metrics, k = 3, argmax ties to the lowest index:
 *   y     0  0  1  2
 *   rows  (.5 .5 0) -> 0, (.2 .4 .4) -> 1, (.1 .6 .3) -> 1, (.3 .3 .3) -> 0
 * accuracy 2/4.  Recalls: class 0 1/2, class 1 1/1, class 2 0/1 -> balanced
 * accuracy 1/2.  F1: class 0 p = 1/2 r = 1/2 f = 1/2; class 1 p = 1/2 r = 1
 * f = 2/3; class 2 p undefined (0) f = 0 -> macro (1/2 + 2/3) / 3 = 7/18.
 */
static void test_metric_labels_hand(void **state)
{
    const double y[] = {0, 0, 1, 2};
    const double p[] = {0.5, 0.5, 0, 0.2, 0.4, 0.4, 0.1, 0.6, 0.3, 0.3, 0.3, 0.3};

    (void)state;
    assert_close(score("accuracy", y, p, 4, 3), 0.5, TOL);
    assert_close(score("balanced_accuracy", y, p, 4, 3), 0.5, TOL);
    assert_close(score("f1", y, p, 4, 3), 7.0 / 18.0, TOL);
}

/*
 * Multiclass roc_auc on a fold that lacks a class (a rare class, fewer rows
 * than folds): k = 3, y = 0 0 1 1, class 2 absent.  Rows (p0 p1 p2):
 * (.6 .3 .1) (.4 .4 .2) (.3 .5 .2) (.5 .2 .3).
 * Class 0 vs rest: positives .6 .4 against negatives .3 .5: pairs .6>.3,
 * .6>.5, .4>.3 win, .4<.5 loses -> 3/4.  Class 1: positives .5 .2 against
 * .3 .4: .5 wins twice, .2 loses twice -> 2/4.  Class 2 has no positive:
 * left out.  Macro over the present classes: (3/4 + 1/2) / 2 = 0.625.
 * (Before, the fold was NaN and every trial of such a study failed.)
 * One class alone in y is undefined (NaN, with the reason); so is binary
 * AUC with one class.
 */
static void test_metric_roc_auc_absent_class(void **state)
{
    const double y[] = {0, 0, 1, 1};
    const double p[] = {.6, .3, .1, .4, .4, .2, .3, .5, .2, .5, .2, .3};
    const double y1[] = {1, 1};
    const double yb[] = {0, 0};
    const double pb[] = {.7, .3, .4, .6};

    (void)state;
    assert_close(score("roc_auc", y, p, 4, 3), 0.625, TOL);
    assert_true(isnan(score("roc_auc", y1, p, 2, 3)));
    assert_non_null(strstr(aml_error_message(), "class 1 is the only class in y"));
    assert_true(isnan(score("roc_auc", yb, pb, 2, 2)));
    assert_non_null(strstr(aml_error_message(), "y holds one class only"));
}

/*
 * A class predicted but absent from y (class 3 of k = 4): balanced accuracy
 * ignores it, F1 counts it as 0.  y = 0 1 1, predictions 0 3 1.
 * Balanced accuracy: recalls 1 and 1/2 -> 3/4.  F1: class 0 1; class 1
 * p = 1 r = 1/2 f = 2/3; class 3 0 -> (1 + 2/3 + 0) / 3 = 5/9.
 */
static void test_metric_predicted_only_class(void **state)
{
    const double y[] = {0, 1, 1};
    const double p[] = {0.7, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.5, 0.1, 0.6, 0.2, 0.1};

    (void)state;
    assert_close(score("balanced_accuracy", y, p, 3, 4), 0.75, TOL);
    assert_close(score("f1", y, p, 3, 4), 5.0 / 9.0, TOL);
}

/*
 * log loss: y = 1 0 with rows (.2 .8) (.6 .4): (-ln .8 - ln .6) / 2.
 * Unnormalised rows are renormalised: (.1 .4) gives the same .8.
 * A zero probability is clipped: y = 0 on (0 1) costs -ln(1e-15 / s) where
 * s = 1e-15 + (1 - 1e-15), which is 1 to within an ulp.
 */
static void test_metric_log_loss_hand(void **state)
{
    const double y[] = {1, 0};
    const double p[] = {0.2, 0.8, 0.6, 0.4};
    const double unnorm[] = {0.1, 0.4, 0.6, 0.4};
    const double y0[] = {0};
    const double sure[] = {0.0, 1.0};
    double want = (-log(0.8) - log(0.6)) / 2.0;

    (void)state;
    assert_close(score("log_loss", y, p, 2, 2), want, TOL);
    assert_close(score("log_loss", y, unnorm, 2, 2), want, TOL);
    assert_close(score("log_loss", y0, sure, 1, 2), -log(1e-15), TOL);
}

/*
 * y = 1 2 3, pred = 1 3 5: errors 0 1 2.  rmse = sqrt(5/3), mae = 1.
 * r2: ss_res = 5, mean 2, ss_tot = 2 -> 1 - 5/2 = -1.5.
 */
static void test_metric_regression_hand(void **state)
{
    const double y[] = {1, 2, 3};
    const double p[] = {1, 3, 5};

    (void)state;
    assert_close(score("rmse", y, p, 3, 0), sqrt(5.0 / 3.0), TOL);
    assert_close(score("mae", y, p, 3, 0), 1.0, TOL);
    assert_close(score("r2", y, p, 3, 0), -1.5, TOL);
}

/*
 * The hand case above at the ends of the double range, where the plain sums
 * overflow (or underflow) though every score is finite.
 *
 * Scaled by 1e300: errors 0, 1e300, 2e300 (squares overflow): rmse =
 * sqrt(5/3) 1e300, mae = 1e300, r2 = 1 - 5e600 / 2e600 = -1.5.  Scaled by
 * 1e-170 (squares underflow to zero): sqrt(5/3) 1e-170, 1e-170, -1.5.
 */
static void test_metric_regression_extreme(void **state)
{
    const double scales[] = {1e300, 1e-170};

    (void)state;
    for (int i = 0; i < 2; i++) {
        const double c = scales[i];
        const double y[] = {1 * c, 2 * c, 3 * c};
        const double p[] = {1 * c, 3 * c, 5 * c};

        assert_close(score("rmse", y, p, 3, 0) / c, sqrt(5.0 / 3.0), TOL);
        assert_close(score("mae", y, p, 3, 0) / c, 1.0, TOL);
        assert_close(score("r2", y, p, 3, 0), -1.5, TOL);
    }
}

/*
 * Near DBL_MAX (1.797e308) even a difference or the sum of y overflows.
 *
 * y = 1.2e308, -1.2e308 and six 0, pred = -y: errors +-2.4e308 (beyond
 * DBL_MAX) and six 0.  rmse = sqrt(2 (2.4e308)^2 / 8) = 2.4e308 / 2 =
 * 1.2e308; mae = 2 (2.4e308) / 8 = 6e307; mean 0, ss_tot = 2 (1.2e308)^2,
 * ss_res = 2 (2.4e308)^2 = 4 ss_tot, r2 = 1 - 4 = -3.
 *
 * y = 1.5e308 1.5e308 1e308 1e308 (sum 5e308 overflows), pred = 1e308
 * 1.5e308 1.5e308 1e308: errors 5e307 0 -5e307 0.  rmse = sqrt(2 (5e307)^2
 * / 4) = 5e307 / sqrt(2); mae = 1e308 / 4 = 2.5e307; mean 1.25e308,
 * deviations +-2.5e307, ss_tot = 4 (2.5e307)^2 = 2.5e615, ss_res =
 * 2 (5e307)^2 = 5e615, r2 = 1 - 2 = -1.
 *
 * Infinite or NaN inputs still give infinite or NaN scores.
 */
static void test_metric_regression_near_max(void **state)
{
    const double y1[] = {1.2e308, -1.2e308, 0, 0, 0, 0, 0, 0};
    const double p1[] = {-1.2e308, 1.2e308, 0, 0, 0, 0, 0, 0};
    const double y2[] = {1.5e308, 1.5e308, 1e308, 1e308};
    const double p2[] = {1e308, 1.5e308, 1.5e308, 1e308};
    const double yi[] = {1, 2}, pi[] = {1, INFINITY}, pn[] = {1, NAN};

    (void)state;
    assert_close(score("rmse", y1, p1, 8, 0), 1.2e308, TOL);
    assert_close(score("mae", y1, p1, 8, 0), 6e307, TOL);
    assert_close(score("r2", y1, p1, 8, 0), -3.0, TOL);
    assert_close(score("rmse", y2, p2, 4, 0), 5e307 / sqrt(2.0), TOL);
    assert_close(score("mae", y2, p2, 4, 0), 2.5e307, TOL);
    assert_close(score("r2", y2, p2, 4, 0), -1.0, TOL);
    assert_true(isinf(score("rmse", yi, pi, 2, 0)));
    assert_true(isinf(score("mae", yi, pi, 2, 0)));
    assert_true(isnan(score("rmse", yi, pn, 2, 0)));
    assert_true(isnan(score("r2", yi, pn, 2, 0)));
}

/* sklearn 1.2 r2: constant y -> 1 if perfect else 0; under two rows NaN. */
static void test_metric_r2_degenerate(void **state)
{
    const double y[] = {2, 2, 2};
    const double exact[] = {2, 2, 2};
    const double off[] = {2, 2, 2.5};

    (void)state;
    assert_close(score("r2", y, exact, 3, 0), 1.0, TOL);
    assert_close(score("r2", y, off, 3, 0), 0.0, TOL);
    assert_true(isnan(score("r2", y, exact, 1, 0)));
    assert_close(score("r2", off, off, 3, 0), 1.0, TOL);
}

/* ------------------------------------------------------------ bad inputs */

static void test_metric_bad_labels(void **state)
{
    const double frac[] = {0, 1.5};
    const double high[] = {0, 2};
    const double neg[] = {-1, 0};
    const double p[] = {0.5, 0.5, 0.5, 0.5};
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++) {
        const char *name = class_metrics[i];

        aml_error_clear();
        assert_true(isnan(score(name, frac, p, 2, 2)));
        assert_int_equal(aml_error_code(), AML_EINVAL);
        assert_true(isnan(score(name, high, p, 2, 2)));
        assert_true(isnan(score(name, neg, p, 2, 2)));
        /* fewer than two classes, and no rows at all */
        assert_true(isnan(score(name, neg, p, 2, 1)));
        assert_true(isnan(score(name, frac, p, 0, 2)));
    }
    for (i = 0; i < 3; i++)
        assert_true(isnan(score(reg_metrics[i], frac, p, 0, 0)));
}

/* A NaN score cannot be ranked: AUC refuses it. */
static void test_metric_auc_nan_score(void **state)
{
    const double y[] = {0, 1};
    const double p[] = {0.5, NAN, 0.5, 0.5};

    (void)state;
    aml_error_clear();
    assert_true(isnan(score("roc_auc", y, p, 2, 2)));
    assert_int_equal(aml_error_code(), AML_EINVAL);
}

/*
 * The AUC sort buffer is allocated before the inputs are read, so a row
 * count whose buffer size overflows fails cleanly: NaN and AML_ENOMEM.
 */
static void test_metric_auc_alloc_failure(void **state)
{
    const double y[] = {0, 1};
    const double p[] = {0.5, 0.5, 0.5, 0.5};

    (void)state;
    aml_error_clear();
    assert_true(isnan(score("roc_auc", y, p, SIZE_MAX / 4, 2)));
    assert_int_equal(aml_error_code(), AML_ENOMEM);
}

/* ----------------------------------------------------------------- table */

static void test_metric_table(void **state)
{
    static const char *const names[] = {
        "accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "rmse", "mae",
        "r2"};
    static const int greater[] = {1, 1, 1, 1, 0, 0, 0, 1};
    size_t i;

    (void)state;
    for (i = 0; aml_metrics[i]; i++) {
        assert_true(i < 8);
        assert_string_equal(aml_metrics[i]->name, names[i]);
        assert_int_equal(aml_metrics[i]->greater_is_better, greater[i]);
        assert_ptr_equal(aml_metric_find(names[i]), aml_metrics[i]);
        assert_int_equal(
            aml_metrics[i]->tasks,
            AML_TASK_BIT(i < 5 ? AML_TASK_CLASSIFICATION : AML_TASK_REGRESSION));
    }
    assert_int_equal(i, 8);
    assert_null(aml_metric_find("auc"));
    assert_null(aml_metric_find(NULL));
    assert_string_equal(aml_metric_default(AML_TASK_CLASSIFICATION)->name, "accuracy");
    assert_string_equal(aml_metric_default(AML_TASK_REGRESSION)->name, "rmse");
}

static void test_metric_better(void **state)
{
    const aml_metric *acc = aml_metric_find("accuracy");
    const aml_metric *rmse = aml_metric_find("rmse");

    (void)state;
    assert_true(aml_metric_better(acc, 0.9, 0.8));
    assert_false(aml_metric_better(acc, 0.8, 0.9));
    assert_false(aml_metric_better(acc, 0.8, 0.8));
    assert_true(aml_metric_better(rmse, 0.8, 0.9));
    assert_false(aml_metric_better(rmse, 0.9, 0.8));
    assert_false(aml_metric_better(acc, NAN, 0.1));
    assert_false(aml_metric_better(rmse, NAN, NAN));
    assert_true(aml_metric_better(acc, 0.0, NAN));
    assert_true(aml_metric_better(rmse, 1e300, NAN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_sklearn_binary),
        cmocka_unit_test(test_metric_sklearn_binary_ties),
        cmocka_unit_test(test_metric_sklearn_multi3_ties),
        cmocka_unit_test(test_metric_sklearn_multi4_absent),
        cmocka_unit_test(test_metric_roc_auc_absent_class),
        cmocka_unit_test(test_metric_sklearn_regression),
        cmocka_unit_test(test_metric_auc_hand),
        cmocka_unit_test(test_metric_auc_ties_hand),
        cmocka_unit_test(test_metric_auc_multiclass_hand),
        cmocka_unit_test(test_metric_auc_missing_class),
        cmocka_unit_test(test_metric_labels_hand),
        cmocka_unit_test(test_metric_predicted_only_class),
        cmocka_unit_test(test_metric_log_loss_hand),
        cmocka_unit_test(test_metric_regression_hand),
        cmocka_unit_test(test_metric_regression_extreme),
        cmocka_unit_test(test_metric_regression_near_max),
        cmocka_unit_test(test_metric_r2_degenerate),
        cmocka_unit_test(test_metric_bad_labels),
        cmocka_unit_test(test_metric_auc_nan_score),
        cmocka_unit_test(test_metric_auc_alloc_failure),
        cmocka_unit_test(test_metric_table),
        cmocka_unit_test(test_metric_better),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
