/*
 * test_hgb.c - tests for learners/hgb.c and learners/hgb_tree.c
 * (gradient_boosting).
 *
 * Three kinds of checks:
 *  - tiny cases computed by hand in the comments (one split: its threshold,
 *    leaf values -G/(H+lambda), missing-value direction, logistic and
 *    absolute-error leaves, sparse features' default bins);
 *  - XGBoost 1.7 `hist` as a reference on data with <= 200 distinct values
 *    per feature, where both bin the same way and grow the same trees
 *    (tests/fixtures/gen_hgb.py:
 *        /usr/bin/python3 tests/fixtures/gen_hgb.py tests/fixtures);
 *  - properties: monotone training loss, early stopping, determinism over
 *    seeds and thread counts (dense and sparse features), save/load, corrupt model files,
 * and edge cases (one feature, constant feature, duplicated rows, separable classes, a
 * one-sample class, zero weights, more features than rows).
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_gradient_boosting;

/* ---- helpers ------------------------------------------------------------- */

/* Sets "name=value" pairs: numbers become ints or reals, anything else a word. */
static void hgb_set(aml_learner *l, const char *name, const char *value)
{
    aml_value v = {.kind = AML_VAL_STR, .str = value};
    char *end;

    v.i = strtoll(value, &end, 10);
    if (*end == '\0') {
        v.kind = AML_VAL_INT;
    } else {
        v.real = strtod(value, &end);
        if (*end == '\0')
            v.kind = AML_VAL_REAL;
    }
    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

/* A learner with params given as a NULL-terminated list name, value, ... */
static aml_learner *hgb_make(aml_task task, const char *const *params)
{
    aml_learner *l = NULL;
    size_t i;

    assert_int_equal(aml_learner_new(&l, &aml_learner_gradient_boosting, task), AML_OK);
    for (i = 0; params && params[i]; i += 2)
        hgb_set(l, params[i], params[i + 1]);
    return l;
}

static int hgb_fit_seed(aml_learner *l, const aml_matrix *X, const double *y,
                        const double *w, int k, uint64_t seed, int threads)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    return aml_learner_fit(l, X, y, w, k, &rng, threads);
}

static void hgb_fit_ok(aml_learner *l, const aml_matrix *X, const double *y,
                       const double *w, int k)
{
    assert_int_equal(hgb_fit_seed(l, X, y, w, k, 42, 1), AML_OK);
}

/* Predictions of l on X into a fresh array. */
static double *hgb_pred(const aml_learner *l, const aml_matrix *X)
{
    double *out = malloc(X->rows * (size_t)aml_learner_outputs(l) * sizeof(double) + 8);

    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, X, out), AML_OK);
    return out;
}

/* Deterministic pseudo-random data: x uniform in [0,1), a fixed LCG. */
static double hgb_u(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* n x p features and y = a smooth function + noise (regression) or its sign. */
static void hgb_synth(aml_matrix *X, double **y, size_t n, size_t p, int cls, uint64_t s)
{
    size_t i, j;

    assert_int_equal(aml_matrix_init(X, n, p), AML_OK);
    *y = malloc(n * sizeof(double));
    assert_non_null(*y);
    for (i = 0; i < n; i++) {
        double *r = aml_matrix_row(X, i), t;

        for (j = 0; j < p; j++)
            r[j] = hgb_u(&s);
        t = sin(6 * r[0]) + 2 * r[1 % p] * r[1 % p] - r[2 % p] + 0.3 * (hgb_u(&s) - 0.5);
        (*y)[i] = cls ? (double)(t > 0.3) : t;
    }
}

static double hgb_mse(const double *a, const double *b, size_t n)
{
    double s = 0;
    size_t i;

    for (i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s / (double)n;
}

/* A fixture file split into features and its last column. */
typedef struct hgb_data {
    aml_matrix X;
    double *y, *raw;
} hgb_data;

static void hgb_read(hgb_data *d, const char *name)
{
    size_t rows, cols, i;

    aml_test_read_matrix(aml_test_fixture(name), &d->raw, &rows, &cols);
    assert_int_equal(aml_matrix_init(&d->X, rows, cols - 1), AML_OK);
    d->y = malloc(rows * sizeof(double));
    assert_non_null(d->y);
    for (i = 0; i < rows; i++) {
        memcpy(aml_matrix_row(&d->X, i), d->raw + i * cols, (cols - 1) * sizeof(double));
        d->y[i] = d->raw[i * cols + cols - 1];
    }
}

static void hgb_data_free(hgb_data *d)
{
    aml_matrix_dispose(&d->X);
    free(d->y);
    free(d->raw);
}

/* ---- hand-computed cases ------------------------------------------------- */

/*
 * x = 1,2,3,4, y = 0,0,10,10, one stump, learning_rate 1, min_child_weight 0.
 * Base = mean = 5, g = f - y = 5,5,-5,-5, h = 1.  The bins are the four
 * values with edges 1.5, 2.5, 3.5.  Best split x <= 2.5: G_L = 10, H_L = 2,
 * G_R = -10, H_R = 2.  lambda 0: leaves -10/2 = -5 and +5, predictions 0 and
 * 10.  lambda 1: leaves -10/3 and 10/3, predictions 1.6667 and 8.3333.
 */
static void test_stump_hand(void **state)
{
    double Xd[] = {1, 2, 3, 4}, y[] = {0, 0, 10, 10}, q[] = {2.49, 2.51, -100, 100};
    aml_matrix X = {4, 1, Xd}, Q = {4, 1, q};
    const char *p0[] = {"n_estimators",
                        "1",
                        "max_depth",
                        "1",
                        "learning_rate",
                        "1",
                        "min_child_weight",
                        "0",
                        "l2_regularization",
                        "0",
                        NULL};
    const char *p1[] = {"n_estimators",     "1", "max_depth", "1", "learning_rate", "1",
                        "min_child_weight", "0", NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p0);
    double *out, imp;

    (void)state;
    hgb_fit_ok(l, &X, y, NULL, 0);
    out = hgb_pred(l, &Q);
    assert_close(out[0], 0, 1e-12);
    assert_close(out[1], 10, 1e-12);
    assert_close(out[2], 0, 1e-12);
    assert_close(out[3], 10, 1e-12);
    assert_int_equal(aml_learner_importance(l, &imp), AML_OK);
    assert_close(imp, 1.0, 1e-12);
    free(out);
    aml_learner_free(l);
    l = hgb_make(AML_TASK_REGRESSION, p1);
    hgb_fit_ok(l, &X, y, NULL, 0);
    out = hgb_pred(l, &Q);
    assert_close(out[0], 5 - 10.0 / 3, 1e-12);
    assert_close(out[1], 5 + 10.0 / 3, 1e-12);
    free(out);
    aml_learner_free(l);
}

/*
 * Missing values: x = 1,2,3,4,NaN,NaN, y = 0,0,10,10,0,0, one stump,
 * lambda 0, learning_rate 1.  Base 20/6; the split x <= 2.5 with the
 * missing rows on the left leaves both sides pure: left rows 1,2,NaN,NaN
 * predict 0, right rows 3,4 predict 10.  So NaN -> 0 at predict.
 */
static void test_missing_hand(void **state)
{
    double Xd[] = {1, 2, 3, 4, NAN, NAN}, y[] = {0, 0, 10, 10, 0, 0};
    double q[] = {NAN, 3.5, 1.0};
    aml_matrix X = {6, 1, Xd}, Q = {3, 1, q};
    const char *p[] = {"n_estimators",
                       "1",
                       "max_depth",
                       "1",
                       "learning_rate",
                       "1",
                       "min_child_weight",
                       "0",
                       "l2_regularization",
                       "0",
                       NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
    double *out;

    (void)state;
    hgb_fit_ok(l, &X, y, NULL, 0);
    out = hgb_pred(l, &Q);
    assert_close(out[0], 0, 1e-12);
    assert_close(out[1], 10, 1e-12);
    assert_close(out[2], 0, 1e-12);
    free(out);
    aml_learner_free(l);
}

/*
 * Sparse features (one code on >= half the rows): their default bin is the
 * node total minus the other bins.  Stumps, lambda 0, learning_rate 1,
 * min_child_weight 0, on one feature each:
 *  - x = 1 on 2 of 10 rows, else 0 (default 0); y = 3 where x = 1, else 1.
 *    Base 1.4, g = 0.4 (8 rows), -1.6 (2 rows).  Split x <= 0.5: left
 *    G = 3.2 (the default bin: 0 - (-3.2)), H = 8, leaf -0.4, predicts 1;
 *    right G = -3.2, H = 2, leaf 1.6, predicts 3.
 *  - x = 1,2,3,4 and NaN on 6 rows (default: the missing code); y = 2 for
 *    x = 1, 2 and 5 otherwise.  Base 4.4, g = 2.4 (2 rows), -0.6 (8 rows).
 *    x <= 2.5 with the missing rows right is pure: left G = 4.8, H = 2,
 *    predicts 2; right (the missing bin: 0 - 4.8 - (-1.2)) = -3.6 plus -1.2,
 *    H = 8, predicts 5.  So NaN -> 5.
 */
static void test_sparse_hand(void **state)
{
    double xa[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, ya[10], qa[] = {0, 1, 0.49, 0.51};
    double xb[] = {NAN, 1, NAN, 2, NAN, 3, NAN, 4, NAN, NAN}, yb[10];
    double qb[] = {NAN, 1.5, 2.49, 2.51, 100};
    aml_matrix Xa = {10, 1, xa}, Xb = {10, 1, xb}, Qa = {4, 1, qa}, Qb = {5, 1, qb};
    const char *p[] = {"n_estimators",
                       "1",
                       "max_depth",
                       "1",
                       "learning_rate",
                       "1",
                       "min_child_weight",
                       "0",
                       "l2_regularization",
                       "0",
                       NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
    double *out, wa[] = {1, 3, 1, 3}, wb[] = {5, 2, 2, 5, 5};
    int i;

    (void)state;
    for (i = 0; i < 10; i++) {
        ya[i] = xa[i] == 1 ? 3 : 1;
        yb[i] = xb[i] <= 2 ? 2 : 5; /* NaN compares false: 5 */
    }
    hgb_fit_ok(l, &Xa, ya, NULL, 0);
    out = hgb_pred(l, &Qa);
    for (i = 0; i < 4; i++)
        assert_close(out[i], wa[i], 1e-9);
    free(out);
    hgb_fit_ok(l, &Xb, yb, NULL, 0);
    out = hgb_pred(l, &Qb);
    for (i = 0; i < 5; i++)
        assert_close(out[i], wb[i], 1e-9);
    free(out);
    aml_learner_free(l);
}

/*
 * Binary logistic stump: x = 0,0,1,1, y = 0,0,1,1, lambda 1,
 * learning_rate 0.5.  Base = logit(0.5) = 0, p = 0.5, g = p - y =
 * 0.5,0.5,-0.5,-0.5, h = 0.25.  Left G = 1, H = 0.5: value -1/1.5 * 0.5 =
 * -1/3; right +1/3.  P(class 1) = sigmoid(-1/3) = 0.4174297935 and
 * sigmoid(1/3) = 0.5825702065.
 */
static void test_logistic_hand(void **state)
{
    double Xd[] = {0, 0, 1, 1}, y[] = {0, 0, 1, 1};
    aml_matrix X = {4, 1, Xd};
    const char *p[] = {"n_estimators",     "1", "max_depth", "1", "learning_rate", "0.5",
                       "min_child_weight", "0", NULL};
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, p);
    double *out;

    (void)state;
    hgb_fit_ok(l, &X, y, NULL, 2);
    out = hgb_pred(l, &X);
    assert_close(out[1], 0.4174297935, 1e-9);
    assert_close(out[0], 1 - 0.4174297935, 1e-9);
    assert_close(out[7], 0.5825702065, 1e-9);
    free(out);
    aml_learner_free(l);
}

/*
 * absolute_error stump: x = 1,2,3,4, y = 0,0,10,10, lambda 0, rate 1.
 * Base = weighted median = 0 (the lower median: first value whose
 * cumulative weight reaches half).  g = sign(0 - y) = 0,0,-1,-1, h = 1;
 * the split x <= 2.5 gains 1/2 (0 + 4/2 - 4/4) = 0.5.  Leaves take the
 * median residual: left 0, right 10.  Predictions 0, 0, 10, 10.
 */
static void test_absolute_hand(void **state)
{
    double Xd[] = {1, 2, 3, 4}, y[] = {0, 0, 10, 10};
    aml_matrix X = {4, 1, Xd};
    const char *p[] = {"n_estimators",
                       "1",
                       "max_depth",
                       "1",
                       "learning_rate",
                       "1",
                       "min_child_weight",
                       "0",
                       "l2_regularization",
                       "0",
                       "loss",
                       "absolute_error",
                       NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
    double *out;

    (void)state;
    hgb_fit_ok(l, &X, y, NULL, 0);
    out = hgb_pred(l, &X);
    assert_close(out[0], 0, 1e-12);
    assert_close(out[1], 0, 1e-12);
    assert_close(out[2], 10, 1e-12);
    assert_close(out[3], 10, 1e-12);
    free(out);
    aml_learner_free(l);
}

/*
 * Quantile bins: x = y = 1..8 with max_bins 2 has one edge, at the
 * quantile 8/2 = 4 rows: the midpoint of the 4th and 5th values, 4.5.  A
 * stump (lambda 0, rate 1) then predicts the side means 2.5 and 6.5, also
 * for 4.49 / 4.51 outside the training values.
 */
static void test_max_bins_hand(void **state)
{
    double Xd[] = {1, 2, 3, 4, 5, 6, 7, 8}, q[] = {4.49, 4.51};
    aml_matrix X = {8, 1, Xd}, Q = {2, 1, q};
    const char *p[] = {"n_estimators",
                       "1",
                       "max_depth",
                       "1",
                       "learning_rate",
                       "1",
                       "min_child_weight",
                       "0",
                       "l2_regularization",
                       "0",
                       "max_bins",
                       "2",
                       NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
    double *out;

    (void)state;
    hgb_fit_ok(l, &X, Xd, NULL, 0);
    out = hgb_pred(l, &Q);
    assert_close(out[0], 2.5, 1e-12);
    assert_close(out[1], 6.5, 1e-12);
    free(out);
    aml_learner_free(l);
}

/*
 * Leaf-wise growth: y = 0,0,10,10,30,30,100,110 on x = 1..8.  With
 * max_leaves 2 a single tree has two values, with 3 three (the best-first
 * second split), depth-wise with depth 2 four (lambda 0: with lambda 1
 * splitting 100 from 110 would not pay).
 */
static size_t hgb_distinct(const double *v, size_t n)
{
    size_t i, j, d = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i && fabs(v[j] - v[i]) > 1e-9; j++)
            ;
        d += j == i;
    }
    return d;
}

static void test_max_leaves(void **state)
{
    double Xd[] = {1, 2, 3, 4, 5, 6, 7, 8}, y[] = {0, 0, 10, 10, 30, 30, 100, 110};
    aml_matrix X = {8, 1, Xd};
    const char *leaves[] = {"2", "3", "0"};
    size_t want[] = {2, 3, 4}, k;

    (void)state;
    for (k = 0; k < 3; k++) {
        const char *p[] = {"n_estimators",      "1", "max_depth",  "2",
                           "min_child_weight",  "0", "max_leaves", leaves[k],
                           "l2_regularization", "0", NULL};
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
        double *out;

        hgb_fit_ok(l, &X, y, NULL, 0);
        out = hgb_pred(l, &X);
        assert_int_equal(hgb_distinct(out, 8), want[k]);
        free(out);
        aml_learner_free(l);
    }
}

/* ---- against XGBoost ----------------------------------------------------- */

static const char *const hgb_xgb_params[] = {"n_estimators",  "50",  "max_depth", "3",
                                             "learning_rate", "0.1", NULL};

/*
 * Regression: training predictions agree with XGBoost's to float32
 * rounding (XGBoost predicts in float32), and so does the test RMSE.
 */
static void test_xgb_regression(void **state)
{
    hgb_data tr, te;
    double *xgb, *sc, *out, rmse;
    size_t r, c, i;
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, hgb_xgb_params);

    (void)state;
    hgb_read(&tr, "hgb_reg_train.csv");
    hgb_read(&te, "hgb_reg_test.csv");
    aml_test_read_matrix(aml_test_fixture("hgb_reg_xgb.csv"), &xgb, &r, &c);
    aml_test_read_matrix(aml_test_fixture("hgb_reg_score.csv"), &sc, &r, &c);
    hgb_fit_ok(l, &tr.X, tr.y, NULL, 0);
    out = hgb_pred(l, &tr.X);
    for (i = 0; i < tr.X.rows; i++)
        assert_close(out[i], xgb[i], 1e-4);
    free(out);
    out = hgb_pred(l, &te.X);
    rmse = sqrt(hgb_mse(out, te.y, te.X.rows));
    /* Within 2% of XGBoost's test RMSE (thresholds sit elsewhere between values). */
    assert_true(fabs(rmse - sc[0]) <= 0.02 * sc[0]);
    free(out);
    free(xgb);
    free(sc);
    hgb_data_free(&tr);
    hgb_data_free(&te);
    aml_learner_free(l);
}

/* Binary: XGBoost's training probabilities, and its training logloss curve. */
static void test_xgb_binary(void **state)
{
    hgb_data tr, te;
    double *xgb, *sc, *curve, *out, acc = 0;
    size_t r, c, i;
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, hgb_xgb_params);

    (void)state;
    hgb_read(&tr, "hgb_clf_train.csv");
    hgb_read(&te, "hgb_clf_test.csv");
    aml_test_read_matrix(aml_test_fixture("hgb_clf_xgb.csv"), &xgb, &r, &c);
    aml_test_read_matrix(aml_test_fixture("hgb_clf_score.csv"), &sc, &r, &c);
    aml_test_read_matrix(aml_test_fixture("hgb_clf_curve.csv"), &curve, &r, &c);
    hgb_fit_ok(l, &tr.X, tr.y, NULL, 2);
    out = hgb_pred(l, &tr.X);
    for (i = 0; i < tr.X.rows; i++)
        assert_close(out[2 * i + 1], xgb[i], 1e-5);
    {
        /* Final training logloss = the last point of XGBoost's curve. */
        double ll = 0;

        for (i = 0; i < tr.X.rows; i++)
            ll -= log(out[2 * i + (size_t)tr.y[i]]);
        assert_close(ll / (double)tr.X.rows, curve[2 * 49 + 1], 1e-4);
    }
    free(out);
    out = hgb_pred(l, &te.X);
    for (i = 0; i < te.X.rows; i++)
        acc += (out[2 * i + 1] > 0.5) == (te.y[i] == 1);
    acc /= (double)te.X.rows;
    assert_true(fabs(acc - sc[0]) <= 0.03);
    free(out);
    free(xgb);
    free(sc);
    free(curve);
    hgb_data_free(&tr);
    hgb_data_free(&te);
    aml_learner_free(l);
}

/* The training RMSE curve after 1, 10, 25 and 50 rounds matches XGBoost's. */
static void test_xgb_curve(void **state)
{
    hgb_data tr;
    double *curve;
    const char *rounds[] = {"1", "10", "25", "50"};
    size_t r, c, k;

    (void)state;
    hgb_read(&tr, "hgb_reg_train.csv");
    aml_test_read_matrix(aml_test_fixture("hgb_reg_curve.csv"), &curve, &r, &c);
    for (k = 0; k < 4; k++) {
        const char *p[] = {"n_estimators", rounds[k], "max_depth", "3", NULL};
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
        double *out;
        size_t at = (size_t)atoi(rounds[k]) - 1;

        hgb_fit_ok(l, &tr.X, tr.y, NULL, 0);
        out = hgb_pred(l, &tr.X);
        assert_close(sqrt(hgb_mse(out, tr.y, tr.X.rows)), curve[2 * at + 1], 1e-4);
        free(out);
        aml_learner_free(l);
    }
    free(curve);
    hgb_data_free(&tr);
}

/* ---- properties ---------------------------------------------------------- */

/* Squared error: the training loss never rises as rounds are added. */
static void test_monotone_loss(void **state)
{
    aml_matrix X;
    double *y, prev = INFINITY;
    const char *rounds[] = {"1", "2", "5", "10", "20", "40"};
    size_t k;

    (void)state;
    hgb_synth(&X, &y, 300, 4, 0, 7);
    for (k = 0; k < 6; k++) {
        const char *p[] = {"n_estimators", rounds[k], NULL};
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
        double *out, mse;

        hgb_fit_ok(l, &X, y, NULL, 0);
        out = hgb_pred(l, &X);
        mse = hgb_mse(out, y, X.rows);
        assert_true(mse < prev);
        prev = mse;
        free(out);
        aml_learner_free(l);
    }
    aml_matrix_dispose(&X);
    free(y);
}

static size_t hgb_saved_size(const aml_learner *l)
{
    aml_writer w;
    size_t n;

    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    n = w.len;
    aml_writer_dispose(&w);
    return n;
}

/* Early stopping on pure noise stops long before 500 rounds. */
static void test_early_stopping(void **state)
{
    aml_matrix X;
    double *y;
    uint64_t s = 99;
    size_t i;
    const char *p[] = {"n_estimators", "500", "early_stopping", "true", NULL};
    const char *q[] = {"n_estimators", "500", NULL};
    aml_learner *a = hgb_make(AML_TASK_REGRESSION, p);
    aml_learner *b = hgb_make(AML_TASK_REGRESSION, q);

    (void)state;
    hgb_synth(&X, &y, 400, 3, 0, 3);
    for (i = 0; i < X.rows; i++)
        y[i] = hgb_u(&s);
    hgb_fit_ok(a, &X, y, NULL, 0);
    hgb_fit_ok(b, &X, y, NULL, 0);
    /* Each round's tree costs at least one node of 37 bytes. */
    assert_true(hgb_saved_size(a) + 400 * 37 < hgb_saved_size(b));
    aml_learner_free(a);
    aml_learner_free(b);
    aml_matrix_dispose(&X);
    free(y);
}

/* Same seed, same model, bit for bit; subsampling makes the seed matter. */
static void test_seed_determinism(void **state)
{
    aml_matrix X;
    double *y, *o1, *o2, *o3;
    const char *p[] = {"n_estimators",     "20",  "subsample", "0.7",
                       "colsample_bytree", "0.6", NULL};
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);

    (void)state;
    hgb_synth(&X, &y, 300, 5, 0, 11);
    assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 0, 1, 1), AML_OK);
    o1 = hgb_pred(l, &X);
    assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 0, 1, 1), AML_OK);
    o2 = hgb_pred(l, &X);
    assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 0, 2, 1), AML_OK);
    o3 = hgb_pred(l, &X);
    assert_memory_equal(o1, o2, X.rows * sizeof(double));
    assert_true(memcmp(o1, o3, X.rows * sizeof(double)) != 0);
    free(o1);
    free(o2);
    free(o3);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    free(y);
}

/* 1, 2 and 3 threads give bit-identical models (multiclass, early stopping). */
static void test_thread_determinism(void **state)
{
    aml_matrix X;
    double *y, *ref = NULL;
    const char *p[] = {"n_estimators",   "15",   "subsample",  "0.8",
                       "early_stopping", "true", "max_leaves", "20",
                       "max_depth",      "8",    NULL};
    int t;
    size_t i;

    (void)state;
    hgb_synth(&X, &y, 6000, 6, 0, 5);
    for (i = 0; i < X.rows; i++)
        y[i] = y[i] < 0 ? 0 : (y[i] < 1 ? 1 : 2);
    for (t = 1; t <= 3; t++) {
        aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, p);
        double *o;

        assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 3, 9, t), AML_OK);
        o = hgb_pred(l, &X);
        if (ref) {
            assert_memory_equal(o, ref, X.rows * 3 * sizeof(double));
            free(o);
        } else {
            ref = o;
        }
        aml_learner_free(l);
    }
    free(ref);
    aml_matrix_dispose(&X);
    free(y);
}

/*
 * The other parallel paths, 1 thread against 2: split finding over 300
 * features, and on 250000 rows (past the 200000-row bin-edge sample) the
 * gradient and score loops, with subsample so that rows outside the tree
 * are scored through the codes.  Also: the sampled edges still find the
 * step of y = [x > 0.5].
 */
static void hgb_same_over_threads(const aml_matrix *X, const double *y,
                                  const char *const *p)
{
    double *o[2];
    int t;

    for (t = 0; t < 2; t++) {
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);

        assert_int_equal(hgb_fit_seed(l, X, y, NULL, 0, 3, t + 1), AML_OK);
        o[t] = hgb_pred(l, X);
        aml_learner_free(l);
    }
    assert_memory_equal(o[0], o[1], X->rows * sizeof(double));
    free(o[0]);
    free(o[1]);
}

static void test_thread_determinism_wide_long(void **state)
{
    aml_matrix X, Q;
    double *y, q[] = {0.25, 0.75}, *o;
    size_t i, n = 250000;
    const char *pw[] = {"n_estimators", "3", "colsample_bytree", "0.9", NULL};
    const char *pl[] = {"n_estimators", "2", "subsample", "0.5", "max_depth", "2", NULL};
    aml_learner *l;

    (void)state;
    hgb_synth(&X, &y, 400, 300, 0, 41);
    hgb_same_over_threads(&X, y, pw);
    aml_matrix_dispose(&X);
    free(y);
    assert_int_equal(aml_matrix_init(&X, n, 1), AML_OK);
    y = malloc(n * sizeof(double));
    assert_non_null(y);
    for (i = 0; i < n; i++) {
        X.data[i] = (double)((i * 7919) % n) / (double)n;
        y[i] = X.data[i] > 0.5;
    }
    hgb_same_over_threads(&X, y, pl);
    {
        const char *ps[] = {"n_estimators",
                            "1",
                            "max_depth",
                            "1",
                            "learning_rate",
                            "1",
                            "min_child_weight",
                            "0",
                            "l2_regularization",
                            "0",
                            NULL};

        l = hgb_make(AML_TASK_REGRESSION, ps);
    }
    hgb_fit_ok(l, &X, y, NULL, 0);
    Q = (aml_matrix){2, 1, q};
    o = hgb_pred(l, &Q);
    /* Edges sit every ~1/255: the stump is off by at most that share of rows. */
    assert_true(o[0] < 0.02 && o[1] > 0.98);
    free(o);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    free(y);
}

/*
 * Sparse and dense features together (one-hot-like columns, columns mostly
 * missing, continuous ones), 1, 2 and 3 threads: bit-identical models,
 * over row-parallel and node-parallel histogram builds.
 */
static void test_thread_determinism_sparse(void **state)
{
    aml_matrix X;
    double *y, *o[3];
    size_t i, j, n = 8000, p = 30;
    uint64_t s = 77;
    const char *pr[] = {"n_estimators",     "8",   "subsample", "0.8",
                        "colsample_bytree", "0.8", NULL};
    int t;

    (void)state;
    assert_int_equal(aml_matrix_init(&X, n, p), AML_OK);
    y = malloc(n * sizeof(double));
    assert_non_null(y);
    for (i = 0; i < n; i++) {
        double *r = aml_matrix_row(&X, i);

        for (j = 0; j < p; j++) {
            double u = hgb_u(&s);

            r[j] = j < 10 ? (double)(u < 0.1) : (j < 20 && u < 0.7 ? NAN : hgb_u(&s));
        }
        y[i] = r[0] + 2 * r[3] - (isnan(r[12]) ? 1 : r[12]) + sin(5 * r[25]) +
               0.1 * hgb_u(&s);
    }
    for (t = 0; t < 3; t++) {
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, pr);

        assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 0, 5, t + 1), AML_OK);
        o[t] = hgb_pred(l, &X);
        aml_learner_free(l);
    }
    assert_memory_equal(o[0], o[1], n * sizeof(double));
    assert_memory_equal(o[0], o[2], n * sizeof(double));
    for (t = 0; t < 3; t++)
        free(o[t]);
    aml_matrix_dispose(&X);
    free(y);
}

/* Saves, loads, predicts the same; every truncation and some bit flips fail cleanly. */
static void test_save_load(void **state)
{
    aml_matrix X;
    double *y, *o1, *o2, imp[4];
    const char *p[] = {"n_estimators", "5", "max_depth", "3", NULL};
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, p), *m = NULL;
    aml_writer w;
    aml_reader r;
    size_t i, cut;

    (void)state;
    hgb_synth(&X, &y, 200, 4, 0, 13);
    for (i = 0; i < X.rows; i++)
        y[i] = y[i] < 0 ? 0 : (y[i] < 1 ? 1 : 2);
    hgb_fit_ok(l, &X, y, NULL, 3);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&m, &r), AML_OK);
    o1 = hgb_pred(l, &X);
    o2 = hgb_pred(m, &X);
    assert_memory_equal(o1, o2, X.rows * 3 * sizeof(double));
    assert_int_equal(aml_learner_importance(m, imp), AML_OK);
    assert_close(imp[0] + imp[1] + imp[2] + imp[3], 1.0, 1e-12);
    aml_learner_free(m);
    for (cut = 0; cut < w.len; cut++) {
        aml_reader_init(&r, w.data, cut);
        assert_int_equal(aml_learner_load(&m, &r), AML_EFORMAT);
        assert_null(m);
    }
    /* Flip each byte in turn: load fails with EFORMAT or loads a model that predicts. */
    for (cut = 0; cut < w.len; cut++) {
        int rc;

        w.data[cut] ^= 0x5a;
        aml_reader_init(&r, w.data, w.len);
        rc = aml_learner_load(&m, &r);
        assert_true(rc == AML_OK || rc == AML_EFORMAT);
        if (rc == AML_OK) {
            rc = aml_learner_predict(m, &X, o2);
            assert_true(rc == AML_OK || rc == AML_EFORMAT || rc == AML_EINVAL);
            aml_learner_free(m);
        }
        w.data[cut] ^= 0x5a;
    }
    aml_writer_dispose(&w);
    free(o1);
    free(o2);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    free(y);
}

/* ---- edge cases ---------------------------------------------------------- */

/* One feature, and a constant feature beside it: importance all on the other. */
static void test_one_and_constant_feature(void **state)
{
    aml_matrix X, X2;
    double *y, *o, imp[2];
    size_t i;
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, NULL);

    (void)state;
    hgb_synth(&X, &y, 200, 1, 0, 17);
    hgb_fit_ok(l, &X, y, NULL, 0);
    o = hgb_pred(l, &X);
    assert_true(hgb_mse(o, y, X.rows) < 0.05);
    free(o);
    assert_int_equal(aml_matrix_init(&X2, 200, 2), AML_OK);
    for (i = 0; i < 200; i++) {
        X2.data[2 * i] = 3.0;
        X2.data[2 * i + 1] = X.data[i];
    }
    hgb_fit_ok(l, &X2, y, NULL, 0);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    assert_true(imp[0] == 0.0);
    assert_close(imp[1], 1.0, 1e-12);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    aml_matrix_dispose(&X2);
    free(y);
}

/*
 * Duplicating every row equals weighting each row by 2: the gradient and
 * hessian sums, hence splits and leaves, are the same (min_child_weight
 * and lambda act on weighted sums in both).
 */
static void test_duplicates_vs_weights(void **state)
{
    aml_matrix X, X2;
    double *y, *y2, *w, *o1, *o2;
    size_t i, n = 150, p = 3;
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, NULL);

    (void)state;
    hgb_synth(&X, &y, n, p, 0, 19);
    assert_int_equal(aml_matrix_init(&X2, 2 * n, p), AML_OK);
    y2 = malloc(2 * n * sizeof(double));
    w = malloc(n * sizeof(double));
    for (i = 0; i < 2 * n; i++) {
        memcpy(aml_matrix_row(&X2, i), aml_matrix_row(&X, i % n), p * sizeof(double));
        y2[i] = y[i % n];
    }
    for (i = 0; i < n; i++)
        w[i] = 2.0;
    hgb_fit_ok(l, &X, y, w, 0);
    o1 = hgb_pred(l, &X);
    hgb_fit_ok(l, &X2, y2, NULL, 0);
    o2 = hgb_pred(l, &X);
    for (i = 0; i < n; i++)
        assert_close(o1[i], o2[i], 1e-9);
    free(o1);
    free(o2);
    free(y2);
    free(w);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    aml_matrix_dispose(&X2);
    free(y);
}

/* Separable classes are learnt exactly; probabilities sum to 1. */
static void test_separable(void **state)
{
    aml_matrix X;
    double *y, *o;
    size_t i;
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, NULL);

    (void)state;
    hgb_synth(&X, &y, 200, 2, 1, 23);
    for (i = 0; i < X.rows; i++)
        y[i] = X.data[2 * i] > 0.5;
    hgb_fit_ok(l, &X, y, NULL, 2);
    o = hgb_pred(l, &X);
    for (i = 0; i < X.rows; i++) {
        assert_close(o[2 * i] + o[2 * i + 1], 1.0, 1e-12);
        assert_true((o[2 * i + 1] > 0.5) == (y[i] == 1));
    }
    free(o);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    free(y);
}

/* A class with one sample, and a class with none: finite probabilities summing to 1. */
static void test_rare_classes(void **state)
{
    aml_matrix X;
    double *y, *o;
    size_t i;
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, NULL);

    (void)state;
    hgb_synth(&X, &y, 100, 3, 1, 29);
    y[17] = 2; /* the only row of class 2; class 3 never occurs */
    hgb_fit_ok(l, &X, y, NULL, 4);
    o = hgb_pred(l, &X);
    for (i = 0; i < X.rows; i++) {
        double s = o[4 * i] + o[4 * i + 1] + o[4 * i + 2] + o[4 * i + 3];

        assert_true(isfinite(s));
        assert_close(s, 1.0, 1e-12);
        assert_true(o[4 * i + 3] < 1e-6);
    }
    free(o);
    /* Two classes of which only the first occurs: it gets probability ~1. */
    for (i = 0; i < X.rows; i++)
        y[i] = 0;
    hgb_fit_ok(l, &X, y, NULL, 2);
    o = hgb_pred(l, &X);
    for (i = 0; i < X.rows; i++)
        assert_true(o[2 * i] > 1 - 1e-9 && o[2 * i + 1] >= 0);
    free(o);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    free(y);
}

/*
 * Rows of weight 0 change nothing for the other rows: same model on the
 * weighted rows as a fit without the zero-weight rows.  Features take two
 * decimals so the bins are the distinct values either way.
 */
static void test_zero_weights(void **state)
{
    aml_matrix X, Xs;
    double *y, *ys, *w, *o1, *o2;
    size_t i, k = 0, n = 200;
    aml_learner *l = hgb_make(AML_TASK_REGRESSION, NULL);

    (void)state;
    hgb_synth(&X, &y, n, 2, 0, 31);
    w = malloc(n * sizeof(double));
    ys = malloc(n * sizeof(double));
    assert_int_equal(aml_matrix_init(&Xs, n / 2, 2), AML_OK);
    for (i = 0; i < n; i++) {
        X.data[2 * i] = round(X.data[2 * i] * 100) / 100;
        X.data[2 * i + 1] = round(X.data[2 * i + 1] * 100) / 100;
        w[i] = i % 2 ? 0.0 : 1.0;
        if (w[i] > 0) {
            memcpy(aml_matrix_row(&Xs, k), aml_matrix_row(&X, i), 2 * sizeof(double));
            ys[k++] = y[i];
        } else {
            y[i] = 1e6; /* junk that weight 0 must hide */
        }
    }
    hgb_fit_ok(l, &X, y, w, 0);
    o1 = hgb_pred(l, &Xs);
    hgb_fit_ok(l, &Xs, ys, NULL, 0);
    o2 = hgb_pred(l, &Xs);
    for (i = 0; i < n / 2; i++)
        assert_close(o1[i], o2[i], 1e-9);
    free(o1);
    free(o2);
    free(w);
    free(ys);
    aml_learner_free(l);
    aml_matrix_dispose(&X);
    aml_matrix_dispose(&Xs);
    free(y);
}

/* More features than rows; loss variants on outliers stay finite and learn. */
static void test_wide_and_losses(void **state)
{
    aml_matrix X;
    double *y, *o;
    const char *losses[] = {"squared_error", "absolute_error", "huber"};
    size_t i, k;

    (void)state;
    hgb_synth(&X, &y, 20, 50, 0, 37);
    y[3] = 1000; /* an outlier */
    for (k = 0; k < 3; k++) {
        const char *p[] = {"loss", losses[k], "min_child_weight", "0", NULL};
        aml_learner *l = hgb_make(AML_TASK_REGRESSION, p);
        double mad = 0;

        hgb_fit_ok(l, &X, y, NULL, 0);
        o = hgb_pred(l, &X);
        for (i = 0; i < X.rows; i++) {
            assert_true(isfinite(o[i]));
            mad += i == 3 ? 0 : fabs(o[i] - y[i]);
        }
        /* Away from the outlier, the robust losses fit the rest closely. */
        if (k > 0)
            assert_true(mad / 19 < 0.5);
        free(o);
        aml_learner_free(l);
    }
    aml_matrix_dispose(&X);
    free(y);
}

/* Bad input: labels, weights, predict before fit, feature count. */
static void test_errors(void **state)
{
    double Xd[] = {1, 2, 3, 4}, y[] = {0, 1, 2, 1}, w[] = {1, -1, 1, 1};
    aml_matrix X = {4, 1, Xd}, X2 = {2, 2, Xd};
    aml_learner *l = hgb_make(AML_TASK_CLASSIFICATION, NULL);
    double out[8];
    aml_value bad = {.kind = AML_VAL_INT, .i = 256};

    (void)state;
    assert_int_equal(aml_learner_predict(l, &X, out), AML_EINVAL);
    assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 2, 1, 1), AML_EINVAL);
    assert_int_equal(hgb_fit_seed(l, &X, y, w, 3, 1, 1), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_bins", &bad), AML_EINVAL);
    assert_int_equal(hgb_fit_seed(l, &X, y, NULL, 3, 1, 1), AML_OK);
    assert_int_equal(aml_learner_predict(l, &X2, out), AML_EINVAL);
    aml_learner_free(l);
}

/* The registry lists the type, and every parameter has a doc line and a valid default. */
static void test_params(void **state)
{
    const aml_learner_type *t = aml_learner_type_find("gradient_boosting");
    const aml_param_def *d;
    char buf[128];

    (void)state;
    assert_ptr_equal(t, &aml_learner_gradient_boosting);
    for (d = t->params; d->name; d++) {
        assert_non_null(d->doc);
        assert_true(strlen(d->doc) > 10);
        assert_null(aml_param_check(d, &d->def, buf, sizeof(buf)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stump_hand),
        cmocka_unit_test(test_missing_hand),
        cmocka_unit_test(test_sparse_hand),
        cmocka_unit_test(test_logistic_hand),
        cmocka_unit_test(test_absolute_hand),
        cmocka_unit_test(test_max_bins_hand),
        cmocka_unit_test(test_max_leaves),
        cmocka_unit_test(test_xgb_regression),
        cmocka_unit_test(test_xgb_binary),
        cmocka_unit_test(test_xgb_curve),
        cmocka_unit_test(test_monotone_loss),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_seed_determinism),
        cmocka_unit_test(test_thread_determinism),
        cmocka_unit_test(test_thread_determinism_wide_long),
        cmocka_unit_test(test_thread_determinism_sparse),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_one_and_constant_feature),
        cmocka_unit_test(test_duplicates_vs_weights),
        cmocka_unit_test(test_separable),
        cmocka_unit_test(test_rare_classes),
        cmocka_unit_test(test_zero_weights),
        cmocka_unit_test(test_wide_and_losses),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
