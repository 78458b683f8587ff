/*
 * test_svm.c - tests for learners/svm.c.
 *
 * Decision values, support vectors and dual coefficients are compared
 * with scikit-learn 1.2 SVC (tol=1e-10, so both sides sit at the exact
 * optimum) for the rbf, linear, poly and sigmoid kernels, with sample
 * weights (some 0), and one-vs-one for three classes; fixtures from
 *
 *     /usr/bin/python3 tests/fixtures/gen_svm_nb_mlp.py tests/fixtures
 *
 * scikit-learn's binary decision_function and dual_coef_ are the negation
 * of LIBSVM's (and ours), its intercept_ equals our rho.  Probabilities are
 * checked for their properties (rows sum to 1, ordered like the decision
 * values), since scikit-learn draws its Platt folds from another generator.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_svm;
/* Test hooks of svm.c. */
int aml_svm_decision(const aml_learner *l, const aml_matrix *X, double *out);
int aml_svm_support(const aml_learner *l, size_t *n_sv, const int64_t **rows,
                    const double **coef);

typedef struct sv_data {
    aml_matrix X, T;
    double *y, *w, *raw, *traw;
} sv_data;

static void sv_data_read(sv_data *d, int classes)
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

static void sv_data_free(sv_data *d)
{
    free(d->X.data);
    free(d->y);
    free(d->w);
    free(d->raw);
    free(d->traw);
}

static void set_str(aml_learner *l, const char *name, const char *s)
{
    aml_value v = {.kind = AML_VAL_STR, .str = s};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static void set_real(aml_learner *l, const char *name, double x)
{
    aml_value v = {.kind = AML_VAL_REAL, .real = x};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static aml_learner *sv_make(const char *kernel, double C)
{
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, &aml_learner_svm, AML_TASK_CLASSIFICATION),
                     AML_OK);
    set_str(l, "kernel", kernel);
    set_real(l, "C", C);
    set_real(l, "tol", 1e-10);
    return l;
}

static void sv_fit_ok(aml_learner *l, const aml_matrix *X, const double *y,
                      const double *w, int k)
{
    aml_rng rng;

    aml_rng_init(&rng, 7, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, k, &rng, 1), AML_OK);
}

/* Compares decision values, predicted labels and the support set with a fixture. */
static void check_binary(aml_learner *l, const sv_data *d, const char *tag)
{
    double *dec, *sv, *ex;
    size_t rows, cols, svr, svc, n_sv, i, j;
    const int64_t *row;
    const double *coef;
    char name[64];

    snprintf(name, sizeof(name), "svm_clf2_%s_dec.csv", tag);
    aml_test_read_matrix(aml_test_fixture(name), &ex, &rows, &cols);
    dec = malloc(rows * sizeof(double));
    assert_int_equal(aml_svm_decision(l, &d->T, dec), AML_OK);
    for (i = 0; i < rows; i++) {
        assert_close(dec[i], -ex[i * 2], 1e-5);
        assert_int_equal(dec[i] > 0 ? 0 : 1, (int)ex[i * 2 + 1]);
    }
    snprintf(name, sizeof(name), "svm_clf2_%s_sv.csv", tag);
    aml_test_read_matrix(aml_test_fixture(name), &sv, &svr, &svc);
    assert_int_equal(aml_svm_support(l, &n_sv, &row, &coef), AML_OK);
    assert_int_equal(n_sv, svr);
    /* Both list class 0's vectors first, each class in row order. */
    for (j = 0; j < n_sv; j++) {
        assert_int_equal(row[j], (int64_t)sv[j * 3]);
        assert_close(coef[j], -sv[j * 3 + 1], 1e-5);
    }
    free(dec);
    free(sv);
    free(ex);
}

static void test_svm_sklearn_binary(void **state)
{
    sv_data d;
    aml_learner *l;

    sv_data_read(&d, 2);
    l = sv_make("rbf", 1.0); /* gamma scale */
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    check_binary(l, &d, "rbf");
    aml_learner_free(l);

    l = sv_make("linear", 0.5);
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    check_binary(l, &d, "lin");
    aml_learner_free(l);

    l = sv_make("poly", 0.5);
    set_real(l, "gamma", 0.5);
    set_real(l, "coef0", 1.0);
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    check_binary(l, &d, "poly");
    aml_learner_free(l);

    l = sv_make("sigmoid", 1.0);
    set_real(l, "gamma", 0.1);
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    check_binary(l, &d, "sig");
    aml_learner_free(l);
    sv_data_free(&d);
}

static void test_svm_sklearn_weights(void **state)
{
    sv_data d;
    aml_learner *l = sv_make("rbf", 2.0);
    double *ex, *dec;
    size_t rows, cols, i;

    sv_data_read(&d, 2);
    set_real(l, "gamma", 0.3);
    sv_fit_ok(l, &d.X, d.y, d.w, 2);
    aml_test_read_matrix(aml_test_fixture("svm_clf2_w_dec.csv"), &ex, &rows, &cols);
    dec = malloc(rows * sizeof(double));
    assert_int_equal(aml_svm_decision(l, &d.T, dec), AML_OK);
    for (i = 0; i < rows; i++) {
        assert_close(dec[i], -ex[i * 2], 1e-5);
        assert_int_equal(dec[i] > 0 ? 0 : 1, (int)ex[i * 2 + 1]);
    }
    free(ex);
    free(dec);
    aml_learner_free(l);
    sv_data_free(&d);
}

/* Three classes: one-vs-one decision values and votes (ties to the lower class). */
static void test_svm_sklearn_ovo(void **state)
{
    sv_data d;
    aml_learner *l = sv_make("rbf", 10.0);
    double *ex, *dec, *prob;
    size_t rows, cols, i, j;

    sv_data_read(&d, 3);
    set_real(l, "gamma", 0.5);
    sv_fit_ok(l, &d.X, d.y, NULL, 3);
    aml_test_read_matrix(aml_test_fixture("svm_clf3_dec.csv"), &ex, &rows, &cols);
    dec = malloc(rows * 3 * sizeof(double));
    prob = malloc(rows * 3 * sizeof(double));
    assert_int_equal(aml_svm_decision(l, &d.T, dec), AML_OK);
    assert_int_equal(aml_learner_predict(l, &d.T, prob), AML_OK);
    for (i = 0; i < rows; i++) {
        int votes[3] = {0, 0, 0}, best = 0;

        for (j = 0; j < 3; j++)
            assert_close(dec[i * 3 + j], ex[i * 4 + j], 1e-5);
        votes[dec[i * 3] > 0 ? 0 : 1]++;
        votes[dec[i * 3 + 1] > 0 ? 0 : 2]++;
        votes[dec[i * 3 + 2] > 0 ? 1 : 2]++;
        for (j = 1; j < 3; j++)
            if (votes[j] > votes[best])
                best = (int)j;
        assert_int_equal(best, (int)ex[i * 4 + 3]);
        assert_close(prob[i * 3] + prob[i * 3 + 1] + prob[i * 3 + 2], 1.0, 1e-12);
    }
    free(ex);
    free(dec);
    free(prob);
    aml_learner_free(l);
    sv_data_free(&d);
}

/* Binary probabilities: sum to 1 and P(class 0) increases with the decision value. */
static void test_svm_probabilities(void **state)
{
    sv_data d;
    aml_learner *l = sv_make("rbf", 1.0);
    size_t n, i, j;
    double *dec, *prob;
    int platt;

    sv_data_read(&d, 2);
    n = d.T.rows;
    dec = malloc(n * sizeof(double));
    prob = malloc(n * 2 * sizeof(double));
    for (platt = 0; platt < 2; platt++) {
        set_str(l, "platt", platt ? "train" : "cv");
        sv_fit_ok(l, &d.X, d.y, NULL, 2);
        assert_int_equal(aml_svm_decision(l, &d.T, dec), AML_OK);
        assert_int_equal(aml_learner_predict(l, &d.T, prob), AML_OK);
        for (i = 0; i < n; i++) {
            assert_close(prob[2 * i] + prob[2 * i + 1], 1.0, 1e-12);
            for (j = 0; j < n; j++)
                if (dec[i] > dec[j])
                    assert_true(prob[2 * i] >= prob[2 * j]);
        }
    }
    free(dec);
    free(prob);
    aml_learner_free(l);
    sv_data_free(&d);
}

/* Importance of the linear kernel: |w| from scikit-learn's dual coefficients. */
static void test_svm_importance(void **state)
{
    sv_data d;
    aml_learner *l = sv_make("linear", 0.5);
    double *sv, w[4] = {0, 0, 0, 0}, imp[4], total = 0;
    size_t svr, svc, j, c;

    sv_data_read(&d, 2);
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    aml_test_read_matrix(aml_test_fixture("svm_clf2_lin_sv.csv"), &sv, &svr, &svc);
    for (j = 0; j < svr; j++)
        for (c = 0; c < 4; c++)
            w[c] += sv[j * 3 + 1] * d.X.data[(size_t)sv[j * 3] * 4 + c];
    for (c = 0; c < 4; c++)
        total += fabs(w[c]);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    for (c = 0; c < 4; c++)
        assert_close(imp[c], fabs(w[c]) / total, 1e-6);
    aml_learner_free(l);
    l = sv_make("rbf", 1.0);
    sv_fit_ok(l, &d.X, d.y, NULL, 2);
    assert_int_equal(aml_learner_importance(l, imp), AML_EINVAL);
    aml_learner_free(l);
    free(sv);
    sv_data_free(&d);
}

/* Fits, predicts on the training rows, checks rows sum to 1; returns accuracy. */
static double fit_check(aml_learner *l, const aml_matrix *X, const double *y,
                        const double *w, int k)
{
    double *p = malloc(X->rows * (size_t)k * sizeof(double)), s, acc = 0;
    size_t i;
    int c, best;

    sv_fit_ok(l, X, y, w, k);
    assert_int_equal(aml_learner_predict(l, X, p), AML_OK);
    for (i = 0; i < X->rows; i++) {
        for (c = 0, s = 0, best = 0; c < k; c++) {
            assert_true(isfinite(p[i * k + c]) && p[i * k + c] >= 0);
            s += p[i * k + c];
            best = p[i * k + c] > p[i * k + best] ? c : best;
        }
        assert_close(s, 1.0, 1e-12);
        acc += best == (int)y[i];
    }
    free(p);
    return acc / (double)X->rows;
}

static void test_svm_edges(void **state)
{
    /* One feature, separable: 0..4 class 0, 10..14 class 1. */
    double x1[10], y1[10], w1[10], dup[20], ydup[10];
    double wide[3 * 12], ywide[3] = {0, 1, 2}, const2[20];
    aml_matrix X1 = {10, 1, x1}, D = {10, 2, dup}, W = {3, 12, wide}, K = {10, 2, const2};
    aml_learner *l = sv_make("rbf", 10.0);
    size_t i;

    for (i = 0; i < 10; i++) {
        x1[i] = i < 5 ? (double)i : 5.0 + (double)i;
        y1[i] = i < 5 ? 0 : 1;
        w1[i] = i % 3 == 0 ? 0.0 : 1.0; /* zero weights */
        dup[2 * i] = (double)(i / 2);   /* each row twice */
        dup[2 * i + 1] = (double)(i / 2 % 2);
        ydup[i] = (i / 2) % 2;
        const2[2 * i] = x1[i];
        const2[2 * i + 1] = 3.0; /* a constant feature */
    }
    assert_true(fit_check(l, &X1, y1, NULL, 2) == 1.0);
    assert_true(fit_check(l, &X1, y1, w1, 2) == 1.0);
    assert_true(fit_check(l, &K, y1, NULL, 2) == 1.0);
    fit_check(l, &D, ydup, NULL, 2);
    /* A class with one sample, and an absent class 3 (probability 0). */
    y1[9] = 2;
    fit_check(l, &X1, y1, NULL, 4);
    /* More features than rows. */
    for (i = 0; i < 36; i++)
        wide[i] = sin((double)i * 1.7);
    fit_check(l, &W, ywide, NULL, 3);
    {
        /* One row per class: every pair's decision separates its two rows. */
        double dec[9];

        assert_int_equal(aml_svm_decision(l, &W, dec), AML_OK);
        assert_true(dec[0] > 0 && dec[1] > 0 && dec[3 + 0] < 0 && dec[3 + 2] > 0);
        assert_true(dec[6 + 1] < 0 && dec[6 + 2] < 0);
    }
    aml_learner_free(l);
    l = sv_make("linear", 1.0);
    fit_check(l, &K, y1, NULL, 4);
    aml_learner_free(l);
}

static void test_svm_save_load_determinism(void **state)
{
    sv_data d;
    aml_learner *l = sv_make("poly", 1.0), *l2 = sv_make("poly", 1.0), *back = NULL;
    aml_writer w;
    aml_reader r;
    size_t n;
    double *a, *b, *c;

    sv_data_read(&d, 3);
    sv_fit_ok(l, &d.X, d.y, d.w, 3);
    sv_fit_ok(l2, &d.X, d.y, d.w, 3);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    n = d.T.rows * 3;
    a = malloc(n * sizeof(double));
    b = malloc(n * sizeof(double));
    c = malloc(n * sizeof(double));
    assert_int_equal(aml_learner_predict(l, &d.T, a), AML_OK);
    assert_int_equal(aml_learner_predict(back, &d.T, b), AML_OK);
    assert_int_equal(aml_learner_predict(l2, &d.T, c), AML_OK);
    assert_memory_equal(a, b, n * sizeof(double));
    assert_memory_equal(a, c, n * sizeof(double));
    aml_learner_free(back);
    aml_reader_init(&r, w.data, w.len - 5);
    assert_true(aml_learner_load(&back, &r) < 0);
    assert_null(back);
    free(a);
    free(b);
    free(c);
    aml_writer_dispose(&w);
    aml_learner_free(l);
    aml_learner_free(l2);
    sv_data_free(&d);
}

static void test_svm_bad_params(void **state)
{
    aml_learner *l = sv_make("rbf", 1.0);
    aml_value neg = {.kind = AML_VAL_REAL, .real = -1},
              word = {.kind = AML_VAL_STR, .str = "wide"};
    double x[] = {0, 1}, y[] = {0, 5}, out[4];
    aml_matrix X = {2, 1, x};
    aml_rng rng;

    assert_int_equal(aml_learner_set_param(l, "C", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "gamma", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "gamma", &word), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "kernel", &word), AML_EINVAL);
    set_str(l, "gamma", "auto");
    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_predict(l, &X, out), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 2, &rng, 1), AML_EINVAL);
    aml_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svm_sklearn_binary),
        cmocka_unit_test(test_svm_sklearn_weights),
        cmocka_unit_test(test_svm_sklearn_ovo),
        cmocka_unit_test(test_svm_probabilities),
        cmocka_unit_test(test_svm_importance),
        cmocka_unit_test(test_svm_edges),
        cmocka_unit_test(test_svm_save_load_determinism),
        cmocka_unit_test(test_svm_bad_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
