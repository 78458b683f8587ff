/*
 * test_ridge.c - ridge regression against scikit-learn 1.2 and by hand.
 *
 * Expected values come from tests/fixtures/gen_linear.py (Ridge with the
 * cholesky solver; LinearRegression for the singular alpha = 0 case).
 * Coefficients are read back from our opaque model through predictions:
 * f(0) is the intercept and f(e_j) - f(0) the j-th coefficient.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_ridge;
#define RIDGE (&aml_learner_ridge)

typedef struct dataset {
    aml_matrix X;
    double *y;
} dataset;

/* Splits a "x0..,y" CSV (a fixture name, or a path with a '/') into X and y. */
static void load_data(const char *name, dataset *d)
{
    double *raw;
    size_t rows, cols, i, j;

    aml_test_read_matrix(strchr(name, '/') ? name : aml_test_fixture(name), &raw, &rows,
                         &cols);
    d->X.rows = rows;
    d->X.cols = cols - 1;
    d->X.data = malloc(rows * (cols - 1) * sizeof(double));
    d->y = malloc(rows * sizeof(double));
    assert_non_null(d->X.data);
    assert_non_null(d->y);
    for (i = 0; i < rows; i++) {
        for (j = 0; j + 1 < cols; j++)
            d->X.data[i * (cols - 1) + j] = raw[i * cols + j];
        d->y[i] = raw[i * cols + cols - 1];
    }
    free(raw);
}

static void free_data(dataset *d)
{
    free(d->X.data);
    free(d->y);
}

static aml_learner *fit(const dataset *d, const double *w, double alpha)
{
    aml_learner *l = NULL;
    aml_value v = {.kind = AML_VAL_REAL, .real = alpha};

    assert_int_equal(aml_learner_new(&l, RIDGE, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "alpha", &v), AML_OK);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, 0, NULL, 1), AML_OK);
    assert_int_equal(aml_learner_outputs(l), 1);
    return l;
}

static double *predict(const aml_learner *l, const aml_matrix *X)
{
    double *out = calloc(X->rows ? X->rows : 1, sizeof(double));

    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, X, out), AML_OK);
    return out;
}

/* Predictions on the first rows of X match the fixture to 1e-8. */
static void check_pred(const aml_learner *l, const aml_matrix *X, const char *pred_name)
{
    double *want, *got;
    size_t rows, cols, i;
    aml_matrix head = *X;

    aml_test_read_matrix(aml_test_fixture(pred_name), &want, &rows, &cols);
    assert_int_equal(cols, 1);
    assert_true(rows <= X->rows);
    head.rows = rows;
    got = predict(l, &head);
    for (i = 0; i < rows; i++)
        assert_close(got[i], want[i], 1e-8);
    free(got);
    free(want);
}

/* Coefficients and intercept ("c0..,b" fixture) read back via predictions. */
static void check_coefs(const aml_learner *l, size_t p, const char *coef_name)
{
    aml_matrix E = {p + 1, p, calloc((p + 1) * p, sizeof(double))};
    double *want, *f;
    size_t rows, cols, j;

    assert_non_null(E.data);
    for (j = 0; j < p; j++)
        E.data[(j + 1) * p + j] = 1.0; /* row 0 is x = 0, row j + 1 is e_j */
    f = predict(l, &E);
    aml_test_read_matrix(aml_test_fixture(coef_name), &want, &rows, &cols);
    assert_int_equal(rows, 1);
    assert_int_equal(cols, p + 1);
    for (j = 0; j < p; j++)
        assert_close(f[j + 1] - f[0], want[j], 1e-8);
    assert_close(f[0], want[p], 1e-8);
    free(f), free(want), free(E.data);
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

static void test_matches_sklearn(void **state)
{
    dataset d;
    aml_learner *l;

    load_data("linear_reg.csv", &d);
    l = fit(&d, NULL, 1.0);
    check_pred(l, &d.X, "linear_reg_a1_pred.csv");
    check_coefs(l, d.X.cols, "linear_reg_a1_coef.csv");
    aml_learner_free(l);
    free_data(&d);
}

static void test_weighted_matches_sklearn(void **state)
{
    dataset d;
    aml_learner *l;
    double *w;

    load_data("linear_reg.csv", &d);
    w = load_column("linear_reg_w.csv", d.X.rows);
    l = fit(&d, w, 10.0);
    check_pred(l, &d.X, "linear_reg_w_a10_pred.csv");
    check_coefs(l, d.X.cols, "linear_reg_w_a10_coef.csv");
    aml_learner_free(l);
    free(w);
    free_data(&d);
}

/*
 * alpha = 0 with a constant column: the centred column is exactly zero, so
 * Cholesky fails and the SVD fallback gives the minimum-norm solution,
 * which is sklearn LinearRegression's (coefficient 0 on that column).
 */
static void test_singular_falls_back_to_least_squares(void **state)
{
    dataset d, c;
    aml_learner *l;
    size_t i, j, n, p;

    load_data("linear_reg.csv", &d);
    n = d.X.rows, p = d.X.cols;
    c.X.rows = n, c.X.cols = p + 1, c.y = d.y;
    c.X.data = malloc(n * (p + 1) * sizeof(double));
    assert_non_null(c.X.data);
    for (i = 0; i < n; i++) {
        for (j = 0; j < p; j++)
            c.X.data[i * (p + 1) + j] = d.X.data[i * p + j];
        c.X.data[i * (p + 1) + p] = 2.0;
    }
    l = fit(&c, NULL, 0.0);
    check_pred(l, &c.X, "linear_reg_const_ols_pred.csv");
    check_coefs(l, p + 1, "linear_reg_const_ols_coef.csv");
    aml_learner_free(l);
    free(c.X.data);
    free_data(&d);
}

/*
 * By hand: x = 0, 1, 2, 3 and y = 1, 3, 5, 7.  Centred: xc = -1.5, -0.5,
 * 0.5, 1.5 (sum xc^2 = 5), yc = -3, -1, 1, 3 (sum xc yc = 10).
 * alpha = 0: beta = 10 / 5 = 2, b = 4 - 1.5 * 2 = 1.
 * alpha = 5: beta = 10 / (5 + 5) = 1, b = 4 - 1.5 * 1 = 2.5, so f(10) = 12.5.
 */
static void test_by_hand(void **state)
{
    double x[4] = {0, 1, 2, 3}, y[4] = {1, 3, 5, 7}, q[2] = {10, -1}, out[2];
    dataset d = {{4, 1, x}, y};
    aml_matrix Q = {2, 1, q};
    aml_learner *l;

    l = fit(&d, NULL, 0.0);
    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
    assert_close(out[0], 21.0, 1e-12);
    assert_close(out[1], -1.0, 1e-12);
    aml_learner_free(l);

    l = fit(&d, NULL, 5.0);
    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
    assert_close(out[0], 12.5, 1e-12);
    assert_close(out[1], 1.5, 1e-12);
    aml_learner_free(l);
}

/* A row of weight zero is the same as no row at all. */
static void test_zero_weight_drops_rows(void **state)
{
    dataset d, tail;
    aml_learner *a, *b;
    double *w, *pa, *pb;
    size_t i, n, drop = 12;

    load_data("linear_reg.csv", &d);
    n = d.X.rows;
    w = malloc(n * sizeof(double));
    assert_non_null(w);
    for (i = 0; i < n; i++)
        w[i] = i < drop ? 0.0 : 1.0;
    tail.X.rows = n - drop, tail.X.cols = d.X.cols;
    tail.X.data = d.X.data + drop * d.X.cols;
    tail.y = d.y + drop;
    a = fit(&d, w, 2.0);
    b = fit(&tail, NULL, 2.0);
    pa = predict(a, &d.X);
    pb = predict(b, &d.X);
    for (i = 0; i < n; i++)
        assert_close(pa[i], pb[i], 1e-10);
    free(pa), free(pb), free(w);
    aml_learner_free(a), aml_learner_free(b);
    free_data(&d);
}

static void test_bad_weights(void **state)
{
    double x[3] = {0, 1, 2}, y[3] = {1, 2, 4}, neg[3] = {1, -1, 1}, zero[3] = {0};
    aml_matrix X = {3, 1, x};
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, RIDGE, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_fit(l, &X, y, neg, 0, NULL, 1), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &X, y, zero, 0, NULL, 1), AML_EINVAL);
    aml_learner_free(l);
}

static void test_save_load(void **state)
{
    dataset d;
    aml_learner *l, *back = NULL;
    aml_writer w;
    aml_reader r;
    double *p1, *p2;

    load_data("linear_reg.csv", &d);
    l = fit(&d, NULL, 0.4);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, r.len);
    assert_ptr_equal(back->type, RIDGE);
    assert_int_equal(back->n_features, d.X.cols);
    p1 = predict(l, &d.X);
    p2 = predict(back, &d.X);
    assert_memory_equal(p1, p2, d.X.rows * sizeof(double));
    aml_learner_free(back);

    back = NULL;
    aml_reader_init(&r, w.data, w.len - 1);
    assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
    assert_null(back);

    free(p1), free(p2);
    aml_writer_dispose(&w);
    aml_learner_free(l);
    free_data(&d);
}

static void test_bad_params_rejected(void **state)
{
    aml_learner *l = NULL;
    aml_value neg = {.kind = AML_VAL_REAL, .real = -1.0};
    aml_value word = {.kind = AML_VAL_STR, .str = "auto"};
    aml_value zero = {.kind = AML_VAL_INT, .i = 0};

    assert_int_equal(aml_learner_new(&l, RIDGE, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "alpha", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "alpha", &word), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "lambda", &zero), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "lambda"));
    assert_int_equal(aml_learner_set_param(l, "alpha", &zero), AML_OK);
    aml_learner_free(l);
}

static void test_param_table(void **state)
{
    const aml_param_def *a = aml_learner_param_find(RIDGE, "alpha");

    assert_ptr_equal(aml_learner_type_find("ridge"), RIDGE);
    assert_true(RIDGE->flags & AML_LEARNER_WANTS_SCALING);
    assert_non_null(a);
    assert_true(a->lo == 0.0 && !a->lo_open && a->def.real == 1.0);
    assert_true(a->search_lo == 1e-3 && a->search_hi == 1e3 && a->search_log);
    assert_non_null(a->doc);
}

static void test_classification_rejected(void **state)
{
    aml_learner *l = (aml_learner *)&l;

    assert_int_equal(aml_learner_new(&l, RIDGE, AML_TASK_CLASSIFICATION), AML_EINVAL);
    assert_null(l);
}

static void test_real_diabetes(void **state)
{
    const char *path = aml_test_shared("diabetes.csv");
    dataset d;
    aml_learner *l;

    if (!path)
        skip();
    load_data(path, &d);
    l = fit(&d, NULL, 0.3);
    check_pred(l, &d.X, "linear_diabetes_a03_pred.csv");
    check_coefs(l, d.X.cols, "linear_diabetes_a03_coef.csv");
    aml_learner_free(l);
    free_data(&d);
}

/* No features: the prediction is the weighted mean (1 + 2 + 2 * 6) / 4 = 3.75. */
static void test_intercept_only(void **state)
{
    double y[3] = {1, 2, 6}, w[3] = {1, 1, 2}, out[3];
    dataset d = {{3, 0, NULL}, y};
    aml_learner *l = fit(&d, w, 1.0);
    int i;

    assert_int_equal(aml_learner_predict(l, &d.X, out), AML_OK);
    for (i = 0; i < 3; i++)
        assert_close(out[i], 3.75, 1e-14);
    aml_learner_free(l);
}

/* Importance = |coef| / sum |coef|, from the alpha = 1 fixture. */
static void test_importance(void **state)
{
    dataset d;
    aml_learner *l;
    double imp[4], *want, s = 0.0;
    size_t rows, cols, j;

    load_data("linear_reg.csv", &d);
    l = fit(&d, NULL, 1.0);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    aml_test_read_matrix(aml_test_fixture("linear_reg_a1_coef.csv"), &want, &rows, &cols);
    for (j = 0; j < 4; j++)
        s += fabs(want[j]);
    for (j = 0; j < 4; j++)
        assert_close(imp[j], fabs(want[j]) / s, 1e-9);
    free(want);
    aml_learner_free(l);
    free_data(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_sklearn),
        cmocka_unit_test(test_weighted_matches_sklearn),
        cmocka_unit_test(test_singular_falls_back_to_least_squares),
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_zero_weight_drops_rows),
        cmocka_unit_test(test_bad_weights),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bad_params_rejected),
        cmocka_unit_test(test_param_table),
        cmocka_unit_test(test_classification_rejected),
        cmocka_unit_test(test_intercept_only),
        cmocka_unit_test(test_real_diabetes),
        cmocka_unit_test(test_importance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
