/*
 * test_logreg.c - logistic regression against scikit-learn 1.2.
 *
 * Expected probabilities and coefficients come from
 * tests/fixtures/gen_linear.py (LogisticRegression, lbfgs, converged to
 * machine precision; see the script).  Coefficients are recovered from our
 * opaque model through its predictions: at x = 0 and x = e_j the log
 * probabilities differ by the weights (details at recover_coefs).
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_logistic_regression;
#define LR (&aml_learner_logistic_regression)

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

static aml_learner *fit(const dataset *d, const double *w, int n_classes, double C)
{
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    set_real(l, "C", C);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, n_classes, NULL, 1), AML_OK);
    assert_int_equal(aml_learner_outputs(l), n_classes);
    return l;
}

static double *predict(const aml_learner *l, const aml_matrix *X)
{
    double *out = calloc(X->rows * (size_t)aml_learner_outputs(l), sizeof(double));

    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, X, out), AML_OK);
    return out;
}

/* Probabilities for the rows of X match sklearn's predict_proba; rows sum to one. */
static void check_proba(const aml_learner *l, const aml_matrix *X, const char *pred_name)
{
    double *P = predict(l, X), *want;
    size_t rows, cols, i, j;

    aml_test_read_matrix(aml_test_fixture(pred_name), &want, &rows, &cols);
    assert_int_equal(rows, X->rows);
    assert_int_equal(cols, aml_learner_outputs(l));
    for (i = 0; i < rows; i++) {
        double sum = 0.0;

        for (j = 0; j < cols; j++) {
            assert_close(P[i * cols + j], want[i * cols + j], 1e-5);
            sum += P[i * cols + j];
        }
        assert_close(sum, 1.0, 1e-12);
    }
    free(P);
    free(want);
}

/*
 * Recovers weights and intercepts from predictions at 0 and at each e_j.
 * log p_c(x) = z_c(x) - lse(x), so c_cj = log p_c(e_j) - log p_c(0) equals
 * W_cj minus a term common to all classes.  Binary: W_j = logit p1(e_j) -
 * logit p1(0), b = logit p1(0).  Multinomial: at the optimum sum_c W_cj = 0
 * (the penalty gradient cancels the loss gradient, whose class sum is 0)
 * and sum_c b_c = 0 (zero start, every gradient's intercept part sums to 0),
 * so centring over classes gives W_cj and b_c.  Output: k x (p + 1).
 */
static void recover_coefs(const aml_learner *l, size_t p, double *coef)
{
    int k = aml_learner_outputs(l), c;
    aml_matrix E = {p + 1, p, calloc((p + 1) * p, sizeof(double))};
    double *P;
    size_t j;

    assert_non_null(E.data);
    for (j = 0; j < p; j++)
        E.data[(j + 1) * p + j] = 1.0; /* row 0 is x = 0, row j + 1 is e_j */
    P = predict(l, &E);
    if (k == 2) {
        double b = log(P[1] / P[0]);

        for (j = 0; j < p; j++)
            coef[j] = log(P[2 * (j + 1) + 1] / P[2 * (j + 1)]) - b;
        coef[p] = b;
    } else {
        for (j = 0; j <= p; j++) {
            size_t row = j < p ? j + 1 : 0;
            double mean = 0.0;

            for (c = 0; c < k; c++)
                mean += (log(P[row * k + c]) - (j < p ? log(P[c]) : 0.0)) / k;
            for (c = 0; c < k; c++)
                coef[c * (p + 1) + j] =
                    log(P[row * k + c]) - (j < p ? log(P[c]) : 0.0) - mean;
        }
    }
    free(P);
    free(E.data);
}

static void check_coefs(const aml_learner *l, size_t p, const char *coef_name)
{
    double *want, *got;
    size_t rows, cols, i;

    aml_test_read_matrix(aml_test_fixture(coef_name), &want, &rows, &cols);
    assert_int_equal(cols, p + 1);
    got = calloc(rows * cols, sizeof(double));
    assert_non_null(got);
    recover_coefs(l, p, got);
    for (i = 0; i < rows * cols; i++)
        assert_close(got[i], want[i], 1e-5);
    free(got);
    free(want);
}

static void test_binary_matches_sklearn(void **state)
{
    dataset d;
    aml_learner *l;

    load_data("linear_clf2.csv", &d);
    l = fit(&d, NULL, 2, 1.0);
    check_proba(l, &d.X, "linear_clf2_c1_pred.csv");
    check_coefs(l, d.X.cols, "linear_clf2_c1_coef.csv");
    aml_learner_free(l);
    free_data(&d);
}

static void test_binary_weighted_matches_sklearn(void **state)
{
    dataset d;
    aml_learner *l;
    double *w;

    load_data("linear_clf2.csv", &d);
    w = load_column("linear_clf2_w.csv", d.X.rows);
    l = fit(&d, w, 2, 0.3);
    check_proba(l, &d.X, "linear_clf2_w_c03_pred.csv");
    check_coefs(l, d.X.cols, "linear_clf2_w_c03_coef.csv");
    aml_learner_free(l);
    free(w);
    free_data(&d);
}

static void test_multinomial_matches_sklearn(void **state)
{
    dataset d;
    aml_learner *l;

    load_data("linear_clf3.csv", &d);
    l = fit(&d, NULL, 3, 0.5);
    check_proba(l, &d.X, "linear_clf3_c05_pred.csv");
    check_coefs(l, d.X.cols, "linear_clf3_c05_coef.csv");
    aml_learner_free(l);
    free_data(&d);
}

/* A tighter tol moves the answer closer still: 1e-7 on probabilities. */
static void test_tight_tol(void **state)
{
    dataset d;
    aml_learner *l = NULL;
    double *P, *want;
    size_t rows, cols, i;

    load_data("linear_clf3.csv", &d);
    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    set_real(l, "C", 0.5);
    set_real(l, "tol", 1e-10);
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 3, NULL, 1), AML_OK);
    P = predict(l, &d.X);
    aml_test_read_matrix(aml_test_fixture("linear_clf3_c05_pred.csv"), &want, &rows,
                         &cols);
    for (i = 0; i < rows * cols; i++)
        assert_close(P[i], want[i], 1e-7);
    free(P);
    free(want);
    aml_learner_free(l);
    free_data(&d);
}

/* Weight 2 on a row is the same objective as that row written twice. */
static void test_integer_weights_equal_duplicates(void **state)
{
    dataset d, dup;
    aml_learner *a, *b;
    double *w, *pa, *pb;
    size_t n, p, i, extra = 15;

    load_data("linear_clf3.csv", &d);
    n = d.X.rows, p = d.X.cols;
    w = malloc(n * sizeof(double));
    dup.X.rows = n + extra, dup.X.cols = p;
    dup.X.data = malloc((n + extra) * p * sizeof(double));
    dup.y = malloc((n + extra) * sizeof(double));
    assert_true(w && dup.X.data && dup.y);
    memcpy(dup.X.data, d.X.data, n * p * sizeof(double));
    memcpy(dup.X.data + n * p, d.X.data, extra * p * sizeof(double));
    memcpy(dup.y, d.y, n * sizeof(double));
    memcpy(dup.y + n, d.y, extra * sizeof(double));
    for (i = 0; i < n; i++)
        w[i] = i < extra ? 2.0 : 1.0;
    a = fit(&d, w, 3, 2.0);
    b = fit(&dup, NULL, 3, 2.0);
    pa = predict(a, &d.X);
    pb = predict(b, &d.X);
    for (i = 0; i < n * 3; i++)
        assert_close(pa[i], pb[i], 1e-6);
    free(pa), free(pb), free(w);
    aml_learner_free(a), aml_learner_free(b);
    free_data(&d), free_data(&dup);
}

static void roundtrip(const char *data, int n_classes)
{
    dataset d;
    aml_learner *l, *back = NULL;
    aml_writer w;
    aml_reader r;
    double *p1, *p2;

    load_data(data, &d);
    l = fit(&d, NULL, n_classes, 0.7);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, r.len);
    assert_ptr_equal(back->type, LR);
    assert_int_equal(back->n_classes, n_classes);
    assert_int_equal(back->n_features, d.X.cols);
    p1 = predict(l, &d.X);
    p2 = predict(back, &d.X);
    assert_memory_equal(p1, p2, d.X.rows * n_classes * sizeof(double));

    /* Every truncation of the file is a clean format error. */
    aml_learner_free(back);
    back = NULL;
    aml_reader_init(&r, w.data, w.len - 3);
    assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
    assert_null(back);

    free(p1), free(p2);
    aml_writer_dispose(&w);
    aml_learner_free(l);
    free_data(&d);
}

static void test_save_load_binary(void **state)
{
    roundtrip("linear_clf2.csv", 2);
}

static void test_save_load_multinomial(void **state)
{
    roundtrip("linear_clf3.csv", 3);
}

static void test_bad_params_rejected(void **state)
{
    aml_learner *l = NULL;
    aml_value zero = {.kind = AML_VAL_REAL, .real = 0.0};
    aml_value neg = {.kind = AML_VAL_REAL, .real = -1.0};
    aml_value izero = {.kind = AML_VAL_INT, .i = 0};
    aml_value word = {.kind = AML_VAL_STR, .str = "big"};
    aml_value ok = {.kind = AML_VAL_REAL, .real = 1e-3};

    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "C", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "C", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "C", &word), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "tol", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_iter", &izero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "penalty", &ok), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "penalty"));
    assert_int_equal(aml_learner_set_param(l, "C", &ok), AML_OK);
    aml_learner_free(l);
}

static void test_param_table(void **state)
{
    const aml_param_def *c = aml_learner_param_find(LR, "C");
    const aml_param_def *mi = aml_learner_param_find(LR, "max_iter");
    const aml_param_def *t = aml_learner_param_find(LR, "tol");

    assert_ptr_equal(aml_learner_type_find("logistic_regression"), LR);
    assert_true(LR->flags & AML_LEARNER_WANTS_SCALING);
    assert_non_null(c), assert_non_null(mi), assert_non_null(t);
    assert_true(c->lo_open && c->lo == 0.0 && c->def.real == 1.0 && c->search_log);
    assert_true(c->search_lo == 1e-3 && c->search_hi == 1e3);
    assert_int_equal(mi->kind, AML_VAL_INT);
    assert_int_equal(mi->def.i, 1000);
    assert_true(t->def.real == 1e-6 && t->lo_open);
    assert_non_null(c->doc), assert_non_null(mi->doc), assert_non_null(t->doc);
}

static void test_regression_rejected(void **state)
{
    aml_learner *l = (aml_learner *)&l;

    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_REGRESSION), AML_EINVAL);
    assert_null(l);
    assert_non_null(strstr(aml_error_message(), "regression"));
}

/* Hitting max_iter is not an error: the partial model is returned. */
static void test_max_iter_keeps_model(void **state)
{
    dataset d;
    aml_learner *l = NULL;
    aml_value one = {.kind = AML_VAL_INT, .i = 1};
    double *P, *want, diff = 0.0;
    size_t rows, cols, i;

    load_data("linear_clf3.csv", &d);
    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "max_iter", &one), AML_OK);
    set_real(l, "C", 0.5);
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 3, NULL, 1), AML_OK);
    P = predict(l, &d.X);
    aml_test_read_matrix(aml_test_fixture("linear_clf3_c05_pred.csv"), &want, &rows,
                         &cols);
    for (i = 0; i < rows * cols; i++) {
        assert_true(P[i] > 0.0 && P[i] < 1.0);
        diff = fmax(diff, fabs(P[i] - want[i]));
    }
    assert_true(diff > 1e-3); /* one step is not the optimum */
    free(P), free(want);
    aml_learner_free(l);
    free_data(&d);
}

static void test_bad_inputs(void **state)
{
    dataset d;
    aml_learner *l = NULL;
    double saved;

    load_data("linear_clf2.csv", &d);
    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);

    saved = d.y[4];
    d.y[4] = 2.0; /* not a class of a binary problem */
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 2, NULL, 1), AML_EINVAL);
    d.y[4] = saved;

    d.X.data[7] = NAN;
    assert_int_equal(aml_learner_fit(l, &d.X, d.y, NULL, 2, NULL, 1), AML_ENUMERIC);
    assert_non_null(strstr(aml_error_message(), "loss"));
    aml_learner_free(l);
    free_data(&d);
}

/* Extreme separation: scores far beyond exp's range stay finite. */
static void test_separable_extreme_scale(void **state)
{
    double X[8] = {-3e3, 1, -1e3, 0, 1e3, 1, 3e3, 0}, y[4] = {0, 0, 1, 1}, P[8];
    aml_matrix M = {4, 2, X};
    aml_learner *l = NULL;
    int i;

    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    set_real(l, "C", 1e3);
    assert_int_equal(aml_learner_fit(l, &M, y, NULL, 2, NULL, 1), AML_OK);
    assert_int_equal(aml_learner_predict(l, &M, P), AML_OK);
    for (i = 0; i < 4; i++) {
        assert_true(isfinite(P[2 * i]) && isfinite(P[2 * i + 1]));
        assert_true(P[2 * i + (int)y[i]] > 0.99);
    }
    aml_learner_free(l);
}

/* StandardScaler: population sd; a constant column becomes 0. */
static void standardise(aml_matrix *X)
{
    size_t i, j, n = X->rows, p = X->cols;

    for (j = 0; j < p; j++) {
        double mean = 0.0, var = 0.0, sd;

        for (i = 0; i < n; i++)
            mean += X->data[i * p + j] / n;
        for (i = 0; i < n; i++)
            var += (X->data[i * p + j] - mean) * (X->data[i * p + j] - mean) / n;
        sd = var > 0.0 ? sqrt(var) : 1.0;
        for (i = 0; i < n; i++)
            X->data[i * p + j] = (X->data[i * p + j] - mean) / sd;
    }
}

/* A shared real data set, standardised, against coefficients and 50 rows. */
static void real_case(const char *file, int n_classes, double C, const char *coef,
                      const char *pred)
{
    const char *path = aml_test_shared(file);
    dataset d;
    aml_learner *l;
    aml_matrix head;

    if (!path)
        skip();
    load_data(path, &d);
    standardise(&d.X);
    l = fit(&d, NULL, n_classes, C);
    check_coefs(l, d.X.cols, coef);
    head = d.X;
    head.rows = 50;
    check_proba(l, &head, pred);
    aml_learner_free(l);
    free_data(&d);
}

static void test_real_wdbc(void **state)
{
    real_case("breast_cancer_wdbc.csv", 2, 1.0, "linear_wdbc_c1_coef.csv",
              "linear_wdbc_c1_pred.csv");
}

static void test_real_digits(void **state)
{
    real_case("digits.csv", 10, 0.1, "linear_digits_c01_coef.csv",
              "linear_digits_c01_pred.csv");
}

/*
 * No features: only the unpenalised intercepts remain, and at the optimum
 * the predicted probabilities equal the class frequencies (the intercept
 * gradient is sum_i (p_k - [y_i = k])).  Binary y = 0,1,1,1 gives 1/4, 3/4;
 * y = 0,1,1,2,2,2 gives 1/6, 2/6, 3/6.
 */
static void test_intercept_only(void **state)
{
    double y2[4] = {0, 1, 1, 1}, y3[6] = {0, 1, 1, 2, 2, 2}, P[18];
    aml_matrix X2 = {4, 0, NULL}, X3 = {6, 0, NULL};
    dataset d2 = {X2, y2}, d3 = {X3, y3};
    aml_learner *l;
    int i;

    l = fit(&d2, NULL, 2, 1.0);
    assert_int_equal(aml_learner_predict(l, &X2, P), AML_OK);
    assert_close(P[0], 0.25, 1e-6);
    assert_close(P[1], 0.75, 1e-6);
    aml_learner_free(l);

    l = fit(&d3, NULL, 3, 1.0);
    assert_int_equal(aml_learner_predict(l, &X3, P), AML_OK);
    for (i = 0; i < 6; i++) {
        assert_close(P[3 * i], 1.0 / 6, 1e-6);
        assert_close(P[3 * i + 1], 2.0 / 6, 1e-6);
        assert_close(P[3 * i + 2], 3.0 / 6, 1e-6);
    }
    aml_learner_free(l);
}

/* ------------------------------------------------------------------------
 * Penalties l1, elasticnet, none (fixtures: gen_linear2.py; saga at tol
 * 1e-12 for l1/elasticnet, lbfgs for none).  sklearn's saga stops on the
 * relative change of the weights, so its probabilities are trusted to
 * about 1e-6; we compare at 1e-4 as the issue asks, and coefficients of the
 * (unique) binary solutions too.
 */

static aml_learner *fit_pen(const dataset *d, const double *w, int n_classes, double C,
                            const char *penalty, double l1_ratio)
{
    aml_learner *l = NULL;
    aml_value pen = {.kind = AML_VAL_STR, .str = penalty};
    aml_value iters = {.kind = AML_VAL_INT, .i = 100000};

    assert_int_equal(aml_learner_new(&l, LR, AML_TASK_CLASSIFICATION), AML_OK);
    set_real(l, "C", C);
    set_real(l, "l1_ratio", l1_ratio);
    set_real(l, "tol", 1e-8);
    assert_int_equal(aml_learner_set_param(l, "penalty", &pen), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "max_iter", &iters), AML_OK);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, n_classes, NULL, 1), AML_OK);
    return l;
}

static void check_proba_tol(const aml_learner *l, const aml_matrix *X, const char *name,
                            double tol)
{
    double *P = predict(l, X), *want;
    size_t rows, cols, i;

    aml_test_read_matrix(aml_test_fixture(name), &want, &rows, &cols);
    assert_int_equal(rows, X->rows);
    assert_int_equal(cols, aml_learner_outputs(l));
    for (i = 0; i < rows * cols; i++)
        assert_close(P[i], want[i], tol);
    free(P), free(want);
}

static void pen_case(const char *data, const char *wname, int n_classes, double C,
                     const char *penalty, double l1_ratio, const char *c)
{
    char name[128];
    dataset d;
    double *w = NULL;
    aml_learner *l;

    load_data(data, &d);
    if (wname)
        w = load_column(wname, d.X.rows);
    l = fit_pen(&d, w, n_classes, C, penalty, l1_ratio);
    snprintf(name, sizeof(name), "%s_pred.csv", c);
    check_proba_tol(l, &d.X, name, 1e-4);
    if (n_classes == 2) {
        double coef[64], *want;
        size_t rows, cols, j;

        snprintf(name, sizeof(name), "%s_coef.csv", c);
        aml_test_read_matrix(aml_test_fixture(name), &want, &rows, &cols);
        recover_coefs(l, d.X.cols, coef);
        for (j = 0; j < cols; j++) {
            assert_close(coef[j], want[j], 1e-4);
            if (want[j] == 0.0 && j + 1 < cols) /* L1 zeros are exact in both */
                assert_true(fabs(coef[j]) < 1e-9);
        }
        free(want);
    }
    aml_learner_free(l);
    free(w);
    free_data(&d);
}

static void test_l1_binary(void **state)
{
    pen_case("linear_clf2.csv", NULL, 2, 0.5, "l1", 0.5, "logreg_l1_clf2_c05");
}

static void test_elasticnet_binary_weighted(void **state)
{
    pen_case("linear_clf2.csv", "linear_clf2_w.csv", 2, 0.3, "elasticnet", 0.4,
             "logreg_en_clf2_w_c03");
}

static void test_l1_multinomial(void **state)
{
    pen_case("linear_clf3.csv", NULL, 3, 0.3, "l1", 0.5, "logreg_l1_clf3_c03");
}

static void test_elasticnet_multinomial(void **state)
{
    pen_case("linear_clf3.csv", NULL, 3, 1.0, "elasticnet", 0.5, "logreg_en_clf3_c1");
}

static void test_no_penalty(void **state)
{
    pen_case("linear_clf2.csv", NULL, 2, 1.0, "none", 0.5, "logreg_none_clf2");
}

/* Class 2 has one row (L1, multinomial). */
static void test_class_with_one_sample(void **state)
{
    pen_case("linear_one.csv", NULL, 3, 1.0, "l1", 0.5, "logreg_l1_one_c1");
}

/* 40 features, 20 rows (elastic net). */
static void test_more_features_than_rows(void **state)
{
    pen_case("linear_wide_clf.csv", NULL, 2, 1.0, "elasticnet", 0.5, "logreg_en_wide_c1");
}

/* elasticnet with l1_ratio 1 is l1; with l1_ratio 0 it is l2 (lbfgs fixture). */
static void test_elasticnet_limits(void **state)
{
    dataset d;
    aml_learner *a, *b;
    double *pa, *pb;
    size_t i;

    load_data("linear_clf3.csv", &d);
    a = fit_pen(&d, NULL, 3, 0.3, "elasticnet", 1.0);
    b = fit_pen(&d, NULL, 3, 0.3, "l1", 0.25);
    pa = predict(a, &d.X), pb = predict(b, &d.X);
    for (i = 0; i < 3 * d.X.rows; i++)
        assert_close(pa[i], pb[i], 1e-7);
    free(pa), free(pb);
    aml_learner_free(a), aml_learner_free(b);
    a = fit_pen(&d, NULL, 3, 0.5, "elasticnet", 0.0);
    check_proba_tol(a, &d.X, "linear_clf3_c05_pred.csv", 1e-5);
    aml_learner_free(a);
    free_data(&d);
}

/*
 * A constant column: the loss gradient along it is c times the intercept
 * gradient, zero at the optimum, so its weight is 0 under any penalty and
 * the other weights match the fit without it.
 */
static void test_constant_feature(void **state)
{
    static const char *const pens[2] = {"l2", "l1"};
    dataset d, d2;
    size_t i, j, n, p;
    int t;

    load_data("linear_clf2.csv", &d);
    n = d.X.rows, p = d.X.cols;
    d2.X = (aml_matrix){n, p + 1, malloc(n * (p + 1) * sizeof(double))};
    d2.y = d.y;
    for (i = 0; i < n; i++) {
        for (j = 0; j < p; j++)
            d2.X.data[i * (p + 1) + j] = d.X.data[i * p + j];
        d2.X.data[i * (p + 1) + p] = 2.0;
    }
    for (t = 0; t < 2; t++) {
        aml_learner *a = fit_pen(&d, NULL, 2, 0.5, pens[t], 0.5);
        aml_learner *b = fit_pen(&d2, NULL, 2, 0.5, pens[t], 0.5);
        double ca[8], cb[8];

        recover_coefs(a, p, ca);
        recover_coefs(b, p + 1, cb);
        assert_true(fabs(cb[p]) < 1e-6);
        for (j = 0; j < p; j++)
            assert_close(cb[j], ca[j], 1e-6);
        aml_learner_free(a), aml_learner_free(b);
    }
    free(d2.X.data);
    free_data(&d);
}

/* Weight-0 rows are the same as dropped rows; one feature is enough here. */
static void test_zero_weights_drop_rows(void **state)
{
    double x[6] = {-1, 0, 1, 2, 5, -7}, y[6] = {0, 1, 0, 1, 0, 1};
    double w[6] = {1, 1, 1, 1, 0, 0}, c1[2], c2[2];
    dataset full = {{6, 1, x}, y}, part = {{4, 1, x}, y};
    aml_learner *a = fit_pen(&full, w, 2, 2.0, "elasticnet", 0.3);
    aml_learner *b = fit_pen(&part, NULL, 2, 2.0, "elasticnet", 0.3);

    recover_coefs(a, 1, c1);
    recover_coefs(b, 1, c2);
    assert_close(c1[0], c2[0], 1e-7);
    assert_close(c1[1], c2[1], 1e-7);
    aml_learner_free(a), aml_learner_free(b);
}

/* Separable data with L1: finite, confident, right. */
static void test_l1_separable(void **state)
{
    dataset d;
    aml_learner *l;
    double *P;
    size_t i;

    load_data("linear_sep.csv", &d);
    l = fit_pen(&d, NULL, 2, 10.0, "l1", 0.5);
    P = predict(l, &d.X);
    for (i = 0; i < d.X.rows; i++)
        assert_true(P[2 * i + (int)d.y[i]] > 0.9);
    free(P);
    aml_learner_free(l);
    free_data(&d);
}

static void test_l1_deterministic_and_saved(void **state)
{
    dataset d;
    aml_learner *a, *b, *back = NULL;
    aml_writer w;
    aml_reader r;
    double *pa, *pb, imp[5], s = 0.0;
    int j;

    load_data("linear_clf3.csv", &d);
    a = fit_pen(&d, NULL, 3, 0.3, "elasticnet", 0.6);
    b = fit_pen(&d, NULL, 3, 0.3, "elasticnet", 0.6);
    pa = predict(a, &d.X), pb = predict(b, &d.X);
    assert_memory_equal(pa, pb, 3 * d.X.rows * sizeof(double));
    free(pb);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(a, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, r.len);
    pb = predict(back, &d.X);
    assert_memory_equal(pa, pb, 3 * d.X.rows * sizeof(double));
    assert_int_equal(aml_learner_importance(back, imp), AML_OK);
    for (j = 0; j < 5; j++) {
        assert_true(imp[j] >= 0.0);
        s += imp[j];
    }
    assert_close(s, 1.0, 1e-12);
    free(pa), free(pb);
    aml_writer_dispose(&w);
    aml_learner_free(a), aml_learner_free(b), aml_learner_free(back);
    free_data(&d);
}

/* penalty: four words accepted, three searched by default, numbers refused. */
static void test_penalty_param(void **state)
{
    const aml_param_def *d = aml_learner_param_find(LR, "penalty");
    aml_value none = {.kind = AML_VAL_STR, .str = "none"};
    aml_value bad = {.kind = AML_VAL_STR, .str = "l3"};
    aml_value num = {.kind = AML_VAL_REAL, .real = 1.0};
    char buf[128];
    int i;

    assert_non_null(d);
    assert_non_null(d->doc);
    assert_string_equal(d->def.str, "l2");
    assert_null(aml_param_check(d, &none, buf, sizeof(buf)));
    assert_non_null(aml_param_check(d, &bad, buf, sizeof(buf)));
    assert_non_null(aml_param_check(d, &num, buf, sizeof(buf)));
    for (i = 0; d->choices[i]; i++)
        assert_true(strcmp(d->choices[i], "none") != 0);
    assert_int_equal(i, 3);
    d = aml_learner_param_find(LR, "l1_ratio");
    assert_true(d && d->lo == 0.0 && d->hi == 1.0 && d->def.real == 0.5 && d->doc);
}

/*
 * Mostly-zero X takes the compressed-row path: the fixtures' data plus ten
 * all-zero columns (at most 1/3 of the entries non-zero) give the same
 * probabilities, and weights of exactly 0 on the added columns.
 */
static void sparse_case(const char *data, int n_classes, double C, const char *pred)
{
    dataset d;
    aml_matrix X1;
    size_t i, j, p, q;
    aml_learner *l;
    double *c;

    load_data(data, &d);
    p = d.X.cols, q = p + 10;
    X1 = (aml_matrix){d.X.rows, q, calloc(d.X.rows * q, sizeof(double))};
    for (i = 0; i < d.X.rows; i++)
        for (j = 0; j < p; j++)
            X1.data[i * q + j] = d.X.data[i * p + j];
    free(d.X.data);
    d.X = X1;
    l = fit(&d, NULL, n_classes, C);
    check_proba(l, &d.X, pred);
    c = calloc((size_t)n_classes * (q + 1), sizeof(double));
    recover_coefs(l, q, c);
    for (i = 0; i < (size_t)(n_classes == 2 ? 1 : n_classes); i++)
        for (j = p; j < q; j++)
            assert_true(fabs(c[i * (q + 1) + j]) < 1e-12);
    free(c);
    aml_learner_free(l);
    free_data(&d);
}

static void test_sparse_rows(void **state)
{
    sparse_case("linear_clf2.csv", 2, 1.0, "linear_clf2_c1_pred.csv");
    sparse_case("linear_clf3.csv", 3, 0.5, "linear_clf3_c05_pred.csv");
}

/* Importance = |w| / sum |w| for the binary L2 fixture. */
static void test_importance(void **state)
{
    dataset d;
    aml_learner *l;
    double imp[5], *want, s = 0.0;
    size_t rows, cols, j;

    load_data("linear_clf2.csv", &d);
    l = fit(&d, NULL, 2, 1.0);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    aml_test_read_matrix(aml_test_fixture("linear_clf2_c1_coef.csv"), &want, &rows,
                         &cols);
    for (j = 0; j < 5; j++)
        s += fabs(want[j]);
    for (j = 0; j < 5; j++)
        assert_close(imp[j], fabs(want[j]) / s, 1e-6);
    free(want);
    aml_learner_free(l);
    free_data(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_matches_sklearn),
        cmocka_unit_test(test_binary_weighted_matches_sklearn),
        cmocka_unit_test(test_multinomial_matches_sklearn),
        cmocka_unit_test(test_tight_tol),
        cmocka_unit_test(test_integer_weights_equal_duplicates),
        cmocka_unit_test(test_save_load_binary),
        cmocka_unit_test(test_save_load_multinomial),
        cmocka_unit_test(test_bad_params_rejected),
        cmocka_unit_test(test_param_table),
        cmocka_unit_test(test_regression_rejected),
        cmocka_unit_test(test_max_iter_keeps_model),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_separable_extreme_scale),
        cmocka_unit_test(test_intercept_only),
        cmocka_unit_test(test_real_wdbc),
        cmocka_unit_test(test_real_digits),
        cmocka_unit_test(test_l1_binary),
        cmocka_unit_test(test_elasticnet_binary_weighted),
        cmocka_unit_test(test_l1_multinomial),
        cmocka_unit_test(test_elasticnet_multinomial),
        cmocka_unit_test(test_no_penalty),
        cmocka_unit_test(test_class_with_one_sample),
        cmocka_unit_test(test_more_features_than_rows),
        cmocka_unit_test(test_elasticnet_limits),
        cmocka_unit_test(test_constant_feature),
        cmocka_unit_test(test_zero_weights_drop_rows),
        cmocka_unit_test(test_l1_separable),
        cmocka_unit_test(test_l1_deterministic_and_saved),
        cmocka_unit_test(test_importance),
        cmocka_unit_test(test_penalty_param),
        cmocka_unit_test(test_sparse_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
