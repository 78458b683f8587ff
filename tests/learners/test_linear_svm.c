/*
 * test_linear_svm.c - linear SVM (liblinear's dual coordinate descent)
 * against scikit-learn 1.2's LinearSVC.
 *
 * Expected decision values, labels and coefficients come from
 * tests/fixtures/gen_linear2.py (LinearSVC at tol 1e-10).  Our raw decision
 * values come from aml_linear_svm_decision (declared here: it is not part of
 * the learner interface).  Both solvers stop on a dual criterion, so they
 * agree to about the tolerance, not to rounding: decisions are compared to
 * 1e-4.  The label we predict is the argmax of the Platt-calibrated
 * probabilities, which must equal LinearSVC.predict on these fixtures.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_linear_svm;
#define SVM (&aml_learner_linear_svm)

int aml_linear_svm_decision(const aml_learner *l, const aml_matrix *X, double *out);

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

static void set_word(aml_learner *l, const char *name, const char *x)
{
    aml_value v = {.kind = AML_VAL_STR, .str = x};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static aml_learner *fit(const dataset *d, const double *w, int n_classes, double C,
                        const char *loss, double tol)
{
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, SVM, AML_TASK_CLASSIFICATION), AML_OK);
    set_real(l, "C", C);
    set_word(l, "loss", loss);
    set_real(l, "tol", tol);
    set_int(l, "max_iter", 1000000);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, n_classes, NULL, 1), AML_OK);
    assert_int_equal(aml_learner_outputs(l), n_classes);
    return l;
}

static double *decision(const aml_learner *l, const aml_matrix *X)
{
    int k = l->n_classes == 2 ? 1 : l->n_classes;
    double *D = calloc(X->rows * (size_t)k + 1, sizeof(double));

    assert_non_null(D);
    assert_int_equal(aml_linear_svm_decision(l, X, D), AML_OK);
    return D;
}

static int argmax(const double *v, int k)
{
    int c, best = 0;

    for (c = 1; c < k; c++)
        if (v[c] > v[best])
            best = c;
    return best;
}

/* Decision values to 1e-4, labels exactly, probabilities sane. */
static void check_case(const aml_learner *l, const dataset *d, const char *c)
{
    char name[128];
    int k = l->n_classes == 2 ? 1 : l->n_classes, kk = l->n_classes, j;
    size_t rows, cols, i;
    double *want, *D = decision(l, &d->X), *P = aml_test_predict(l, &d->X);

    snprintf(name, sizeof(name), "%s_dec.csv", c);
    aml_test_read_matrix(aml_test_fixture(name), &want, &rows, &cols);
    assert_int_equal(rows, d->X.rows);
    assert_int_equal(cols, (size_t)k + 1);
    for (i = 0; i < rows; i++) {
        double sum = 0.0;

        for (j = 0; j < k; j++)
            assert_close(D[i * k + j], want[i * cols + j], 1e-4);
        for (j = 0; j < kk; j++) {
            assert_true(P[i * kk + j] >= 0.0 && P[i * kk + j] <= 1.0);
            sum += P[i * kk + j];
        }
        assert_close(sum, 1.0, 1e-12);
        assert_int_equal(argmax(P + i * kk, kk), (int)want[i * cols + k]);
    }
    free(want), free(D), free(P);
}

static void run_case(const char *data, const char *wname, int n_classes, double C,
                     const char *loss, const char *c)
{
    dataset d;
    double *w = NULL;
    aml_learner *l;

    load_data(data, &d);
    if (wname)
        w = load_column(wname, d.X.rows);
    l = fit(&d, w, n_classes, C, loss, 1e-10);
    check_case(l, &d, c);
    aml_learner_free(l);
    free(w);
    free_data(&d);
}

static void test_binary_squared_hinge(void **state)
{
    run_case("linear_clf2.csv", NULL, 2, 1.0, "squared_hinge", "svm_sqh_clf2_c1");
}

static void test_binary_hinge(void **state)
{
    run_case("linear_clf2.csv", NULL, 2, 0.5, "hinge", "svm_hinge_clf2_c05");
}

static void test_binary_weighted(void **state)
{
    run_case("linear_clf2.csv", "linear_clf2_w.csv", 2, 0.3, "squared_hinge",
             "svm_sqh_clf2_w_c03");
}

static void test_multiclass_squared_hinge(void **state)
{
    run_case("linear_clf3.csv", NULL, 3, 1.0, "squared_hinge", "svm_sqh_clf3_c1");
}

static void test_multiclass_hinge(void **state)
{
    run_case("linear_clf3.csv", NULL, 3, 2.0, "hinge", "svm_hinge_clf3_c2");
}

/* Perfectly separable classes: every row right, confidently. */
static void test_separable(void **state)
{
    dataset d;
    aml_learner *l;
    double *P;
    size_t i;

    run_case("linear_sep.csv", NULL, 2, 1.0, "squared_hinge", "svm_sqh_sep_c1");
    load_data("linear_sep.csv", &d);
    l = fit(&d, NULL, 2, 1.0, "squared_hinge", 1e-10);
    P = aml_test_predict(l, &d.X);
    for (i = 0; i < d.X.rows; i++)
        assert_true(P[2 * i + (int)d.y[i]] > 0.9);
    free(P);
    aml_learner_free(l);
    free_data(&d);
}

/* Class 2 has a single row. */
static void test_class_with_one_sample(void **state)
{
    run_case("linear_one.csv", NULL, 3, 1.0, "squared_hinge", "svm_sqh_one_c1");
}

/* 40 features, 20 rows. */
static void test_more_features_than_rows(void **state)
{
    run_case("linear_wide_clf.csv", NULL, 2, 1.0, "hinge", "svm_hinge_wide_c1");
}

/*
 * One feature, by symmetry: x = -2, -1, 1, 2 with labels 0, 0, 1, 1 is
 * symmetric under x -> -x with the labels swapped, so the unique optimum
 * has b = 0 (the bias feature would break the symmetry), and
 * squared hinge with C = 1: the rows at +-1 and +-2; with w alone,
 * minimise w^2/2 + 2 (1 - w)^2 + 2 max(0, 1 - 2w)^2.  For w >= 1/2 the last
 * term is 0 and the minimiser is w = 4/5 (w + 4(w - 1) = 0).
 */
static void test_one_feature(void **state)
{
    double x[4] = {-2, -1, 1, 2}, y[4] = {0, 0, 1, 1}, e[2] = {0, 1}, D[2];
    dataset d = {{4, 1, x}, y};
    aml_matrix E = {2, 1, e};
    aml_learner *l = fit(&d, NULL, 2, 1.0, "squared_hinge", 1e-12);

    assert_int_equal(aml_linear_svm_decision(l, &E, D), AML_OK);
    assert_close(D[0], 0.0, 1e-9);
    assert_close(D[1] - D[0], 0.8, 1e-9);
    aml_learner_free(l);
}

/*
 * A constant column of 1 duplicates the bias feature; the objective is
 * strictly convex and symmetric in the two, so their weights are equal.
 * Probes: x = 0 gives b, x = e_c gives b + w_c.
 */
static void test_constant_feature(void **state)
{
    dataset d;
    aml_matrix X1, E;
    size_t i, j, p;
    aml_learner *l;
    double *D;

    load_data("linear_clf2.csv", &d);
    p = d.X.cols;
    X1 = (aml_matrix){d.X.rows, p + 1, malloc(d.X.rows * (p + 1) * sizeof(double))};
    E = (aml_matrix){2, p + 1, calloc(2 * (p + 1), sizeof(double))};
    for (i = 0; i < d.X.rows; i++) {
        for (j = 0; j < p; j++)
            X1.data[i * (p + 1) + j] = d.X.data[i * p + j];
        X1.data[i * (p + 1) + p] = 1.0;
    }
    E.data[(p + 1) + p] = 1.0;
    free(d.X.data);
    d.X = X1;
    l = fit(&d, NULL, 2, 1.0, "squared_hinge", 1e-12);
    D = decision(l, &E);
    assert_close(D[1] - D[0], D[0], 1e-6);
    free(D), free(E.data);
    aml_learner_free(l);
    free_data(&d);
}

/*
 * Mostly-zero data take the compressed-row path: linear_clf2 plus ten
 * all-zero columns (a third of the entries non-zero) must still match the
 * fixture, with zero weights on the added columns.
 */
static void test_sparse_rows(void **state)
{
    dataset d;
    aml_matrix X1, E;
    size_t i, j, p, q = 15;
    aml_learner *l;
    double *D;

    load_data("linear_clf2.csv", &d);
    p = d.X.cols;
    X1 = (aml_matrix){d.X.rows, q, calloc(d.X.rows * q, sizeof(double))};
    E = (aml_matrix){2, q, calloc(2 * q, sizeof(double))};
    for (i = 0; i < d.X.rows; i++)
        for (j = 0; j < p; j++)
            X1.data[i * q + j] = d.X.data[i * p + j];
    E.data[q + 12] = 1.0;
    free(d.X.data);
    d.X = X1;
    l = fit(&d, NULL, 2, 1.0, "squared_hinge", 1e-10);
    check_case(l, &d, "svm_sqh_clf2_c1");
    D = decision(l, &E);
    assert_true(D[1] == D[0]);
    free(D), free(E.data);
    aml_learner_free(l);
    free_data(&d);
}

/* Duplicated rows = weight 2; weight 0 = row dropped (same dual problem). */
static void test_duplicates_and_zero_weights(void **state)
{
    dataset d, dd;
    size_t n, p, i;
    double *w, *a, *b;
    aml_learner *l1, *l2;

    load_data("linear_clf2.csv", &d);
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
    l1 = fit(&dd, NULL, 2, 0.3, "squared_hinge", 1e-10);
    l2 = fit(&dd, w, 2, 0.3, "squared_hinge", 1e-10);
    a = decision(l1, &d.X);
    b = decision(l2, &d.X);
    for (i = 0; i < n; i++)
        assert_close(a[i], b[i], 1e-6);
    free(a), free(b);
    aml_learner_free(l1), aml_learner_free(l2);
    free(dd.X.data), free(dd.y), free(w);
    free_data(&d);
}

/* Same generator state, same model bit for bit; NULL generator too. */
static void test_deterministic(void **state)
{
    dataset d;
    aml_learner *l[4];
    aml_rng r;
    double *P[4];
    int i;

    load_data("linear_clf3.csv", &d);
    for (i = 0; i < 4; i++) {
        assert_int_equal(aml_learner_new(&l[i], SVM, AML_TASK_CLASSIFICATION), AML_OK);
        aml_rng_init(&r, 42, 7);
        assert_int_equal(aml_learner_fit(l[i], &d.X, d.y, NULL, 3, i < 2 ? &r : NULL, 1),
                         AML_OK);
        P[i] = aml_test_predict(l[i], &d.X);
    }
    assert_memory_equal(P[0], P[1], d.X.rows * 3 * sizeof(double));
    assert_memory_equal(P[2], P[3], d.X.rows * 3 * sizeof(double));
    for (i = 0; i < 4; i++)
        free(P[i]), aml_learner_free(l[i]);
    free_data(&d);
}

static void test_save_load(void **state)
{
    dataset d;
    aml_learner *l;

    load_data("linear_clf3.csv", &d);
    l = fit(&d, NULL, 3, 1.0, "hinge", 1e-4);
    aml_test_learner_roundtrip(l, &d.X);
    aml_learner_free(l);
    free_data(&d);
    load_data("linear_clf2.csv", &d);
    l = fit(&d, NULL, 2, 1.0, "squared_hinge", 1e-4);
    aml_test_learner_roundtrip(l, &d.X);
    aml_learner_free(l);
    free_data(&d);
}

/* Importance: |w| summed over the one-vs-rest vectors, from the fixture. */
static void test_importance(void **state)
{
    dataset d;
    aml_learner *l;
    double *imp, *want, acc[5] = {0}, s = 0.0;
    size_t rows, cols, i, j;

    load_data("linear_clf3.csv", &d);
    l = fit(&d, NULL, 3, 1.0, "squared_hinge", 1e-10);
    imp = aml_test_learner_importance(l);
    aml_test_read_matrix(aml_test_fixture("svm_sqh_clf3_c1_coef.csv"), &want, &rows,
                         &cols);
    for (i = 0; i < rows; i++)
        for (j = 0; j < 5; j++)
            acc[j] += fabs(want[i * cols + j]);
    for (j = 0; j < 5; j++)
        s += acc[j];
    for (j = 0; j < 5; j++)
        assert_close(imp[j], acc[j] / s, 1e-4);
    free(imp), free(want);
    aml_learner_free(l);
    free_data(&d);
}

static void test_params_and_errors(void **state)
{
    double x[3] = {1, 2, 3}, y[3] = {0, 1, 1}, w[3] = {0, 0, 0};
    aml_matrix X = {3, 1, x};
    aml_learner *l = NULL;
    aml_value v = {.kind = AML_VAL_STR, .str = "log"};

    assert_int_equal(aml_learner_new(&l, SVM, AML_TASK_CLASSIFICATION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "loss", &v), AML_EINVAL);
    v = (aml_value){.kind = AML_VAL_REAL, .real = 0.0};
    assert_int_equal(aml_learner_set_param(l, "C", &v), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &X, y, w, 2, NULL, 1), AML_EINVAL);
    y[1] = 2;
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 2, NULL, 1), AML_EINVAL);
    assert_int_equal(aml_learner_predict(l, &X, w), AML_EINVAL);
    aml_learner_free(l);
    assert_non_null(aml_learner_param_find(SVM, "loss")->doc);
    assert_int_equal(aml_learner_new(&l, SVM, AML_TASK_REGRESSION), AML_EINVAL);
    assert_ptr_equal(aml_learner_type_find("linear_svm"), SVM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_squared_hinge),
        cmocka_unit_test(test_binary_hinge),
        cmocka_unit_test(test_binary_weighted),
        cmocka_unit_test(test_multiclass_squared_hinge),
        cmocka_unit_test(test_multiclass_hinge),
        cmocka_unit_test(test_separable),
        cmocka_unit_test(test_class_with_one_sample),
        cmocka_unit_test(test_more_features_than_rows),
        cmocka_unit_test(test_one_feature),
        cmocka_unit_test(test_constant_feature),
        cmocka_unit_test(test_sparse_rows),
        cmocka_unit_test(test_duplicates_and_zero_weights),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_importance),
        cmocka_unit_test(test_params_and_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
