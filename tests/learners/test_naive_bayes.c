/*
 * test_naive_bayes.c - tests for learners/naive_bayes.c.
 *
 * Probabilities are compared with scikit-learn 1.2 GaussianNB (two and
 * three classes, var_smoothing 1e-9 and 1e-2, with and without sample
 * weights, some of them 0) on fixtures written by
 *
 *     /usr/bin/python3 tests/fixtures/gen_svm_nb_mlp.py tests/fixtures
 *
 * The edge cases are computed by hand in the comments.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_naive_bayes;

/* Training fixture: x0..x3, y, w. */
typedef struct nb_data {
    aml_matrix X, T;
    double *y, *w, *raw, *traw;
} nb_data;

static void nb_data_read(nb_data *d, int classes)
{
    char name[64];
    size_t rows, cols, i;

    snprintf(name, sizeof(name), "svmnb_clf%d_train.csv", classes);
    aml_test_read_matrix(aml_test_fixture(name), &d->raw, &rows, &cols);
    assert_int_equal(cols, 6);
    d->X.rows = rows, d->X.cols = 4;
    d->X.data = malloc(rows * 4 * sizeof(double));
    d->y = malloc(rows * sizeof(double));
    d->w = malloc(rows * sizeof(double));
    for (i = 0; i < rows; i++) {
        memcpy(d->X.data + i * 4, d->raw + i * 6, 4 * sizeof(double));
        d->y[i] = d->raw[i * 6 + 4];
        d->w[i] = d->raw[i * 6 + 5];
    }
    snprintf(name, sizeof(name), "svmnb_clf%d_test.csv", classes);
    aml_test_read_matrix(aml_test_fixture(name), &d->traw, &rows, &cols);
    d->T.rows = rows, d->T.cols = cols, d->T.data = d->traw;
}

static void nb_data_free(nb_data *d)
{
    free(d->X.data);
    free(d->y);
    free(d->w);
    free(d->raw);
    free(d->traw);
}

static aml_learner *nb_make(double vs)
{
    aml_learner *l = NULL;
    aml_value v = {.kind = AML_VAL_REAL, .real = vs};

    assert_int_equal(
        aml_learner_new(&l, &aml_learner_naive_bayes, AML_TASK_CLASSIFICATION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "var_smoothing", &v), AML_OK);
    return l;
}

static void nb_fit_ok(aml_learner *l, const aml_matrix *X, const double *y,
                      const double *w, int k)
{
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, k, &rng, 1), AML_OK);
}

static void check_fixture(int classes, double vs, const char *vtag, int weighted)
{
    nb_data d;
    aml_learner *l = nb_make(vs);
    double *ex, *out;
    size_t rows, cols, i;
    char name[64];

    nb_data_read(&d, classes);
    snprintf(name, sizeof(name), "nb_clf%d_%s%s_proba.csv", classes, vtag,
             weighted ? "_w" : "");
    aml_test_read_matrix(aml_test_fixture(name), &ex, &rows, &cols);
    nb_fit_ok(l, &d.X, d.y, weighted ? d.w : NULL, classes);
    assert_int_equal(rows, d.T.rows);
    assert_int_equal(cols, (size_t)classes);
    out = malloc(rows * cols * sizeof(double));
    assert_int_equal(aml_learner_predict(l, &d.T, out), AML_OK);
    for (i = 0; i < rows * cols; i++)
        assert_true(fabs(out[i] - ex[i]) <= 1e-10);
    free(out);
    free(ex);
    aml_learner_free(l);
    nb_data_free(&d);
}

static void test_nb_sklearn(void **state)
{
    int c, weighted;

    for (c = 2; c <= 3; c++)
        for (weighted = 0; weighted <= 1; weighted++) {
            check_fixture(c, 1e-9, "vs9", weighted);
            check_fixture(c, 1e-2, "vs2", weighted);
        }
}

static void predict1(aml_learner *l, double x, double *out)
{
    aml_matrix Q = {1, 1, &x};

    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
}

/*
 * x = 0, 2 (class 0) and 4, 6 (class 1), var_smoothing 0: means 1 and 5,
 * variances 1 and 1, priors 1/2.  At x = 2 the log-likelihoods differ by
 * (9 - 1) / 2 = 4, so p0 = 1 / (1 + e^-4); at x = 3 they tie.
 */
static void test_nb_hand(void **state)
{
    double x[] = {0, 2, 4, 6}, y[] = {0, 0, 1, 1}, p[2];
    aml_matrix X = {4, 1, x};
    aml_learner *l = nb_make(0.0);

    nb_fit_ok(l, &X, y, NULL, 2);
    predict1(l, 2.0, p);
    assert_close(p[0], 1.0 / (1.0 + exp(-4.0)), 1e-14);
    assert_close(p[0] + p[1], 1.0, 1e-15);
    predict1(l, 3.0, p);
    assert_close(p[0], 0.5, 1e-14);
    aml_learner_free(l);
}

/*
 * Weights 3, 1 on class 0 (x = 0, 4) and 1, 1 on class 1 (x = 10, 12):
 * mean0 = 1, var0 = (3 * 1 + 9) / 4 = 3; mean1 = 11, var1 = 1; priors 4/6
 * and 2/6.  A row of weight 0 (x = 100 in class 1) changes nothing.
 */
static void test_nb_weights(void **state)
{
    double x[] = {0, 4, 10, 12, 100}, y[] = {0, 0, 1, 1, 1}, w[] = {3, 1, 1, 1, 0};
    aml_matrix X = {5, 1, x};
    aml_learner *l = nb_make(0.0);
    double p[2], j0, j1;

    nb_fit_ok(l, &X, y, w, 2);
    predict1(l, 5.0, p);
    j0 = log(4.0 / 6) - 0.5 * log(2 * 3.14159265358979323846 * 3) - 0.5 * 16 / 3.0;
    j1 = log(2.0 / 6) - 0.5 * log(2 * 3.14159265358979323846 * 1) - 0.5 * 36;
    assert_close(p[0], 1.0 / (1.0 + exp(j1 - j0)), 1e-13);
    aml_learner_free(l);
}

/*
 * Edge cases: a class with one sample (variance epsilon only), a constant
 * feature, all features constant, duplicated rows, an absent class (its
 * probability is 0), and more features than rows.  Probabilities must be
 * finite and sum to 1.
 */
static void check_rows_sum(aml_learner *l, const aml_matrix *T, int k)
{
    double *out = malloc(T->rows * (size_t)k * sizeof(double));
    size_t i;
    int c;

    assert_int_equal(aml_learner_predict(l, T, out), AML_OK);
    for (i = 0; i < T->rows; i++) {
        double s = 0;

        for (c = 0; c < k; c++) {
            assert_true(isfinite(out[i * k + c]) && out[i * k + c] >= 0);
            s += out[i * k + c];
        }
        assert_close(s, 1.0, 1e-12);
    }
    free(out);
}

static void test_nb_edges(void **state)
{
    /* Column 1 is constant; class 2 has one row; class 3 is absent. */
    double x[] = {0, 5, 1, 5, 2, 5, 3, 5, 3, 5, 9, 5}, y[] = {0, 0, 1, 1, 1, 2};
    double c[] = {7, 7, 7, 7}, cy[] = {0, 1, 0, 1}, p[4];
    double wide[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, wy[] = {0, 1};
    aml_matrix X = {6, 2, x}, C = {4, 1, c}, W = {2, 9, wide};
    aml_learner *l = nb_make(1e-9);

    nb_fit_ok(l, &X, y, NULL, 4);
    check_rows_sum(l, &X, 4);
    {
        aml_matrix q = {1, 2, x + 10};
        assert_int_equal(aml_learner_predict(l, &q, p), AML_OK);
        assert_true(p[3] == 0.0);
        assert_true(p[2] > 0.99); /* x = 9 is the one-sample class's own row */
    }
    aml_learner_free(l);

    /* All features constant: epsilon = var_smoothing, classes tie at the prior 1/2. */
    l = nb_make(1e-9);
    nb_fit_ok(l, &C, cy, NULL, 2);
    predict1(l, 7.0, p);
    assert_close(p[0], 0.5, 1e-12);
    aml_learner_free(l);

    l = nb_make(1e-9);
    nb_fit_ok(l, &W, wy, NULL, 2);
    check_rows_sum(l, &W, 2);
    aml_learner_free(l);
}

static void test_nb_bad_input(void **state)
{
    double x[] = {0, 1}, y[] = {0, 2}, w[] = {0, 0};
    aml_matrix X = {2, 1, x};
    aml_learner *l = nb_make(1e-9);
    aml_rng rng;
    double out[2];
    aml_value v = {.kind = AML_VAL_REAL, .real = -1};

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_predict(l, &X, out), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 2, &rng, 1), AML_EINVAL);
    y[1] = 1;
    assert_int_equal(aml_learner_fit(l, &X, y, w, 2, &rng, 1), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "var_smoothing", &v), AML_EINVAL);
    aml_learner_free(l);
}

static void test_nb_save_load(void **state)
{
    nb_data d;
    aml_learner *l = nb_make(1e-9), *back = NULL;
    aml_writer w;
    aml_reader r;
    double *a, *b;
    size_t n;

    nb_data_read(&d, 3);
    nb_fit_ok(l, &d.X, d.y, d.w, 3);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    n = d.T.rows * 3;
    a = malloc(n * sizeof(double));
    b = malloc(n * sizeof(double));
    assert_int_equal(aml_learner_predict(l, &d.T, a), AML_OK);
    assert_int_equal(aml_learner_predict(back, &d.T, b), AML_OK);
    assert_memory_equal(a, b, n * sizeof(double));
    /* A truncated model fails cleanly. */
    aml_learner_free(back);
    aml_reader_init(&r, w.data, w.len - 9);
    assert_true(aml_learner_load(&back, &r) < 0);
    assert_null(back);
    assert_int_equal(aml_learner_importance(l, a), AML_EINVAL);
    free(a);
    free(b);
    aml_writer_dispose(&w);
    aml_learner_free(l);
    nb_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nb_sklearn),   cmocka_unit_test(test_nb_hand),
        cmocka_unit_test(test_nb_weights),   cmocka_unit_test(test_nb_edges),
        cmocka_unit_test(test_nb_bad_input), cmocka_unit_test(test_nb_save_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
