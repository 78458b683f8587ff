/*
 * test_linear_cd.c - lasso and elastic net against scikit-learn 1.2.
 *
 * Expected coefficients and predictions come from
 * tests/fixtures/gen_linear2.py (Lasso / ElasticNet run to tol 1e-12; one
 * Lasso at the defaults).  Coefficients are read from our opaque model
 * through predictions at x = 0 (the intercept) and x = e_j (intercept plus
 * coefficient j).  Edge cases are checked against hand computations written
 * out beside them, or against an equivalent problem (duplicated rows versus
 * weight 2, zero-weight rows versus dropped rows).
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_lasso, aml_learner_elastic_net;
#define LASSO (&aml_learner_lasso)
#define ENET (&aml_learner_elastic_net)

typedef struct dataset {
    aml_matrix X;
    double *y;
} dataset;

/* Splits a "x0..,y" fixture CSV into X and y. */
static void load_data(const char *name, dataset *d)
{
    aml_test_read_xy(name, &d->X, &d->y);
}

static void free_data(dataset *d)
{
    free(d->X.data);
    free(d->y);
}

static double *load_column(const char *name, size_t want_rows)
{
    double *v;
    size_t rows, cols;

    aml_test_read_matrix(aml_test_fixture(name), &v, &rows, &cols);
    assert_int_equal(rows, want_rows);
    assert_int_equal(cols, 1);
    return v;
}

static void set_real(aml_learner *l, const char *name, double x)
{
    aml_value v = {.kind = AML_VAL_REAL, .real = x};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static void set_int(aml_learner *l, const char *name, long long x)
{
    aml_value v = {.kind = AML_VAL_INT, .i = x};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

/* A fit at tight tolerance: alpha, l1_ratio (< 0: lasso). */
static aml_learner *fit(const dataset *d, const double *w, double alpha, double l1_ratio,
                        double tol)
{
    aml_learner *l = NULL;

    assert_int_equal(
        aml_learner_new(&l, l1_ratio < 0.0 ? LASSO : ENET, AML_TASK_REGRESSION), AML_OK);
    set_real(l, "alpha", alpha);
    if (l1_ratio >= 0.0)
        set_real(l, "l1_ratio", l1_ratio);
    set_real(l, "tol", tol);
    set_int(l, "max_iter", 1000000);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, 0, NULL, 1), AML_OK);
    return l;
}

/* coef (p + 1): coefficients then intercept, from predictions at 0 and e_j. */
static void recover(const aml_learner *l, size_t p, double *coef)
{
    aml_matrix E = {p + 1, p, calloc((p + 1) * p + 1, sizeof(double))};
    double *P;
    size_t j;

    assert_non_null(E.data);
    for (j = 0; j < p; j++)
        E.data[(j + 1) * p + j] = 1.0;
    P = aml_test_predict(l, &E);
    for (j = 0; j < p; j++)
        coef[j] = P[j + 1] - P[0];
    coef[p] = P[0];
    free(P);
    free(E.data);
}

/* Coefficients and training predictions match the case's fixtures to tol. */
static void check_case(const aml_learner *l, const dataset *d, const char *c, double tol)
{
    char name[128];
    size_t p = d->X.cols, rows, cols, i;
    double *want, *got = calloc(p + 1, sizeof(double)), *P;

    snprintf(name, sizeof(name), "%s_coef.csv", c);
    aml_test_read_matrix(aml_test_fixture(name), &want, &rows, &cols);
    assert_int_equal(cols, p + 1);
    recover(l, p, got);
    for (i = 0; i <= p; i++)
        assert_close(got[i], want[i], tol);
    free(want);
    snprintf(name, sizeof(name), "%s_pred.csv", c);
    aml_test_read_matrix(aml_test_fixture(name), &want, &rows, &cols);
    assert_int_equal(rows, d->X.rows);
    P = aml_test_predict(l, &d->X);
    for (i = 0; i < rows; i++)
        assert_close(P[i], want[i], tol);
    free(P), free(want), free(got);
}

static void run_case(const char *data, const char *wname, double alpha, double l1_ratio,
                     const char *c)
{
    dataset d;
    double *w = NULL;
    aml_learner *l;

    load_data(data, &d);
    if (wname)
        w = load_column(wname, d.X.rows);
    l = fit(&d, w, alpha, l1_ratio, 1e-12);
    check_case(l, &d, c, 1e-6);
    aml_learner_free(l);
    free(w);
    free_data(&d);
}

static void test_lasso_matches_sklearn(void **state)
{
    run_case("linear_reg.csv", NULL, 0.5, -1.0, "lasso_reg_a05");
}

static void test_lasso_weighted_matches_sklearn(void **state)
{
    run_case("linear_reg.csv", "linear_reg_w.csv", 2.0, -1.0, "lasso_reg_w_a2");
}

static void test_enet_matches_sklearn(void **state)
{
    run_case("linear_reg.csv", NULL, 0.3, 0.7, "enet_reg_a03_r07");
}

static void test_enet_weighted_matches_sklearn(void **state)
{
    run_case("linear_reg.csv", "linear_reg_w.csv", 0.1, 0.2, "enet_reg_w_a01_r02");
}

/* More features (40) than rows (20). */
static void test_wide_matches_sklearn(void **state)
{
    run_case("linear_wide.csv", NULL, 0.1, -1.0, "lasso_wide_a01");
    run_case("linear_wide.csv", NULL, 0.5, 0.5, "enet_wide_a05_r05");
}

/*
 * Default parameters (alpha 1, tol 1e-4): scikit-learn stops early by its
 * duality-gap rule; mirroring the rule, we stop at the same sweep.
 */
static void test_lasso_default_stopping(void **state)
{
    dataset d;
    aml_learner *l = NULL;

    load_data("linear_reg.csv", &d);
    assert_int_equal(aml_learner_new(&l, LASSO, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 0, NULL, 1), AML_OK);
    check_case(l, &d, "lasso_reg_default", 1e-9);
    aml_learner_free(l);
    free_data(&d);
}

/*
 * One feature, by hand.  x = 1,2,3,4, y = 1,3,2,5: xc = -1.5,-.5,.5,1.5,
 * yc = -1.75,.25,-.75,2.25, xc.yc / n = 5.5 / 4 = 1.375, var x = 1.25.
 * Lasso alpha .5: beta = (1.375 - .5) / 1.25 = 0.7, b = 2.75 - .7 * 2.5 = 1.
 * Enet alpha .5, l1_ratio .5: beta = (1.375 - .25) / (1.25 + .25) = 0.75,
 * b = 2.75 - .75 * 2.5 = 0.875.  alpha 2 (> 1.375): beta = 0, b = 2.75.
 */
static void test_one_feature(void **state)
{
    double x[4] = {1, 2, 3, 4}, y[4] = {1, 3, 2, 5}, c[2];
    dataset d = {{4, 1, x}, y};
    aml_learner *l;

    l = fit(&d, NULL, 0.5, -1.0, 1e-10);
    recover(l, 1, c);
    assert_close(c[0], 0.7, 1e-12);
    assert_close(c[1], 1.0, 1e-12);
    aml_learner_free(l);
    l = fit(&d, NULL, 0.5, 0.5, 1e-10);
    recover(l, 1, c);
    assert_close(c[0], 0.75, 1e-12);
    assert_close(c[1], 0.875, 1e-12);
    aml_learner_free(l);
    l = fit(&d, NULL, 2.0, -1.0, 1e-10);
    recover(l, 1, c);
    assert_true(c[0] == 0.0);
    assert_close(c[1], 2.75, 1e-12);
    aml_learner_free(l);
}

/* Copies X with one more column filled with v. */
static aml_matrix widen(const aml_matrix *X, double v)
{
    aml_matrix W = {X->rows, X->cols + 1,
                    malloc(X->rows * (X->cols + 1) * sizeof(double))};
    size_t i, j;

    assert_non_null(W.data);
    for (i = 0; i < X->rows; i++) {
        for (j = 0; j < X->cols; j++)
            W.data[i * W.cols + j] = X->data[i * X->cols + j];
        W.data[i * W.cols + X->cols] = v;
    }
    return W;
}

/*
 * A constant column centres to zero, so it cannot change the fit: its
 * coefficient is 0 and the rest match the fixture without it.
 */
static void test_constant_feature(void **state)
{
    dataset d, d2;
    aml_learner *l;
    double c[6], *imp;
    size_t j;

    load_data("linear_reg.csv", &d);
    d2.X = widen(&d.X, 3.0);
    d2.y = d.y;
    l = fit(&d2, NULL, 0.5, 0.5, 1e-12);
    recover(l, 5, c);
    assert_true(c[4] == 0.0);
    imp = aml_test_learner_importance(l);
    assert_true(imp[4] == 0.0);
    free(imp);
    aml_learner_free(l);
    l = fit(&d2, NULL, 0.5, -1.0, 1e-12);
    recover(l, 5, c);
    {
        double *want;
        size_t rows, cols;

        aml_test_read_matrix(aml_test_fixture("lasso_reg_a05_coef.csv"), &want, &rows,
                             &cols);
        for (j = 0; j < 4; j++)
            assert_close(c[j], want[j], 1e-6);
        assert_close(c[5] + 3.0 * c[4], want[4], 1e-6);
        free(want);
    }
    aml_learner_free(l);
    free(d2.X.data);
    free_data(&d);
}

/* Duplicating every row equals weight 2 on every row; zero weights equal dropping. */
static void test_duplicates_and_zero_weights(void **state)
{
    dataset d, dd;
    size_t n, p, i;
    double *w, a[5], b[5];
    aml_learner *l1, *l2;

    load_data("linear_reg.csv", &d);
    n = d.X.rows, p = d.X.cols;
    dd.X = (aml_matrix){2 * n, p, malloc(2 * n * p * sizeof(double))};
    dd.y = malloc(2 * n * sizeof(double));
    w = malloc(2 * n * sizeof(double));
    memcpy(dd.X.data, d.X.data, n * p * sizeof(double));
    memcpy(dd.X.data + n * p, d.X.data, n * p * sizeof(double));
    memcpy(dd.y, d.y, n * sizeof(double));
    memcpy(dd.y + n, d.y, n * sizeof(double));
    for (i = 0; i < n; i++)
        w[i] = 2.0, w[n + i] = 0.0;
    l1 = fit(&dd, NULL, 0.4, 0.6, 1e-13);
    l2 = fit(&d, w, 0.4, 0.6, 1e-13);
    recover(l1, p, a);
    recover(l2, p, b);
    for (i = 0; i <= p; i++)
        assert_close(a[i], b[i], 1e-9);
    aml_learner_free(l2);
    /* Weight 2 on the first copy and 0 on the second = duplicated rows. */
    l2 = fit(&dd, w, 0.4, 0.6, 1e-13);
    recover(l2, p, b);
    for (i = 0; i <= p; i++)
        assert_close(a[i], b[i], 1e-9);
    aml_learner_free(l1), aml_learner_free(l2);
    free(dd.X.data), free(dd.y), free(w);
    free_data(&d);
}

static void test_deterministic(void **state)
{
    dataset d;
    aml_learner *l1, *l2;
    double *p1, *p2;

    load_data("linear_wide.csv", &d);
    l1 = fit(&d, NULL, 0.1, 0.5, 1e-4);
    l2 = fit(&d, NULL, 0.1, 0.5, 1e-4);
    p1 = aml_test_predict(l1, &d.X);
    p2 = aml_test_predict(l2, &d.X);
    assert_memory_equal(p1, p2, d.X.rows * sizeof(double));
    free(p1), free(p2);
    aml_learner_free(l1), aml_learner_free(l2);
    free_data(&d);
}

static void test_save_load(void **state)
{
    dataset d;
    aml_learner *l;

    load_data("linear_reg.csv", &d);
    l = fit(&d, NULL, 0.3, 0.7, 1e-8);
    aml_test_learner_roundtrip(l, &d.X);
    aml_learner_free(l);
    l = fit(&d, NULL, 0.5, -1.0, 1e-8);
    aml_test_learner_roundtrip(l, &d.X);
    aml_learner_free(l);
    free_data(&d);
}

/* Importance is |coef| / sum |coef|, from the fixture's coefficients. */
static void test_importance(void **state)
{
    dataset d;
    aml_learner *l;
    double *imp, *want, s = 0.0;
    size_t rows, cols, j;

    load_data("linear_reg.csv", &d);
    l = fit(&d, NULL, 0.5, -1.0, 1e-12);
    imp = aml_test_learner_importance(l);
    aml_test_read_matrix(aml_test_fixture("lasso_reg_a05_coef.csv"), &want, &rows, &cols);
    for (j = 0; j < 4; j++)
        s += fabs(want[j]);
    for (j = 0; j < 4; j++)
        assert_close(imp[j], fabs(want[j]) / s, 1e-6);
    free(imp), free(want);
    aml_learner_free(l);
    free_data(&d);
}

static void test_params_and_errors(void **state)
{
    double x[3] = {1, 2, 3}, y[3] = {1, 2, 4}, w[3] = {0, 0, 0};
    aml_matrix X = {3, 1, x};
    aml_learner *l = NULL;
    aml_value v = {.kind = AML_VAL_REAL, .real = 0.5};

    assert_int_equal(aml_learner_new(&l, LASSO, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "l1_ratio", &v), AML_EINVAL);
    v.real = -1.0;
    assert_int_equal(aml_learner_set_param(l, "alpha", &v), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &X, y, w, 0, NULL, 1), AML_EINVAL);
    w[1] = -1.0;
    assert_int_equal(aml_learner_fit(l, &X, y, w, 0, NULL, 1), AML_EINVAL);
    assert_null(aml_learner_param_find(LASSO, "l1_ratio"));
    assert_non_null(aml_learner_param_find(ENET, "l1_ratio"));
    assert_non_null(aml_learner_param_find(ENET, "alpha")->doc);
    aml_learner_free(l);
    assert_int_equal(aml_learner_new(&l, ENET, AML_TASK_CLASSIFICATION), AML_EINVAL);
    assert_null(l);
    assert_ptr_equal(aml_learner_type_find("lasso"), LASSO);
    assert_ptr_equal(aml_learner_type_find("elastic_net"), ENET);
}

/* max_iter = 1: one sweep, the model is kept and predicts finite values. */
static void test_max_iter_keeps_model(void **state)
{
    dataset d;
    aml_learner *l = NULL;
    double *P;
    size_t i;

    load_data("linear_wide.csv", &d);
    assert_int_equal(aml_learner_new(&l, ENET, AML_TASK_REGRESSION), AML_OK);
    set_int(l, "max_iter", 1);
    set_real(l, "alpha", 0.01);
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 0, NULL, 1), AML_OK);
    P = aml_test_predict(l, &d.X);
    for (i = 0; i < d.X.rows; i++)
        assert_true(isfinite(P[i]));
    free(P);
    aml_learner_free(l);
    free_data(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lasso_matches_sklearn),
        cmocka_unit_test(test_lasso_weighted_matches_sklearn),
        cmocka_unit_test(test_enet_matches_sklearn),
        cmocka_unit_test(test_enet_weighted_matches_sklearn),
        cmocka_unit_test(test_wide_matches_sklearn),
        cmocka_unit_test(test_lasso_default_stopping),
        cmocka_unit_test(test_one_feature),
        cmocka_unit_test(test_constant_feature),
        cmocka_unit_test(test_duplicates_and_zero_weights),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_importance),
        cmocka_unit_test(test_params_and_errors),
        cmocka_unit_test(test_max_iter_keeps_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
