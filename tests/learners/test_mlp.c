/*
 * test_mlp.c - tests for learners/mlp.c.
 *
 * A weight-for-weight comparison with scikit-learn is impossible (the
 * initialisation and shuffling draw from other generators), so: the
 * back-propagated gradient is checked against central finite differences;
 * test accuracy / R^2 must come near scikit-learn 1.2's MLPClassifier /
 * MLPRegressor (hidden 32, mean over 5 seeds) on the data sets written by
 *
 *     /usr/bin/python3 tests/fixtures/gen_svm_nb_mlp.py tests/fixtures
 *
 * and the training loss must fall with more epochs; fits are bit-identical
 * for a seed; models round-trip; and the edge cases fit to finite outputs.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_mlp;
/* Test hooks of mlp.c. */
double aml_mlp_loss_grad(aml_learner *l, const aml_matrix *X, const double *y,
                         const double *w, double *grad);
double *aml_mlp_params(aml_learner *l, size_t *n);

typedef struct mlp_data {
    aml_matrix X;
    double *y, *raw;
} mlp_data;

static void mlp_data_read(mlp_data *d, const char *name)
{
    size_t rows, cols, i, p;

    aml_test_read_matrix(aml_test_fixture(name), &d->raw, &rows, &cols);
    p = cols - 1;
    d->X.rows = rows, d->X.cols = p;
    d->X.data = malloc(rows * p * sizeof(double));
    d->y = malloc(rows * sizeof(double));
    for (i = 0; i < rows; i++) {
        memcpy(d->X.data + i * p, d->raw + i * cols, p * sizeof(double));
        d->y[i] = d->raw[i * cols + p];
    }
}

static void mlp_data_free(mlp_data *d)
{
    free(d->X.data);
    free(d->y);
    free(d->raw);
}

static void set_str(aml_learner *l, const char *name, const char *s)
{
    aml_value v = {.kind = AML_VAL_STR, .str = s};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static void set_num(aml_learner *l, const char *name, double x)
{
    aml_value v = {.kind = AML_VAL_REAL, .real = x};

    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static aml_learner *mlp_make(aml_task task, const char *layers, const char *act)
{
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, &aml_learner_mlp, task), AML_OK);
    set_str(l, "hidden_layer_sizes", layers);
    set_str(l, "activation", act);
    return l;
}

static void mlp_fit_ok(aml_learner *l, const aml_matrix *X, const double *y,
                       const double *w, int k, uint64_t seed)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, k, &rng, 1), AML_OK);
}

/* ---- gradient ------------------------------------------------------------ */

/* Deterministic pseudo-data: 12 rows, 3 features. */
static void toy(double *x, double *yc, double *yr, double *w)
{
    int i;

    for (i = 0; i < 36; i++)
        x[i] = sin(1.3 * i + 0.4) * 1.5;
    for (i = 0; i < 12; i++) {
        yc[i] = i % 3;
        yr[i] = x[3 * i] - 2 * x[3 * i + 1] * x[3 * i + 2];
        w[i] = i == 4 ? 0.0 : 0.5 + 0.1 * i;
    }
}

static void check_gradient(aml_task task, int k, const char *layers, const char *act)
{
    double x[36], yc[12], yr[12], w[12], *grad, *par;
    const double *y;
    aml_matrix X = {12, 3, x};
    aml_learner *l = mlp_make(task, layers, act);
    size_t n, j;

    toy(x, yc, yr, w);
    if (k == 2)
        for (j = 0; j < 12; j++)
            yc[j] = yc[j] > 0;
    y = task == AML_TASK_CLASSIFICATION ? yc : yr;
    set_num(l, "max_iter", 3);
    set_num(l, "alpha", 0.3);
    mlp_fit_ok(l, &X, y, w, k, 3);
    par = aml_mlp_params(l, &n);
    grad = malloc(n * sizeof(double));
    assert_true(isfinite(aml_mlp_loss_grad(l, &X, y, w, grad)));
    for (j = 0; j < n; j++) {
        double keep = par[j], h = 1e-6, fp, fm, g = 0;
        double *tmp = malloc(n * sizeof(double));

        par[j] = keep + h;
        fp = aml_mlp_loss_grad(l, &X, y, w, tmp);
        par[j] = keep - h;
        fm = aml_mlp_loss_grad(l, &X, y, w, tmp);
        par[j] = keep;
        g = (fp - fm) / (2 * h);
        if (fabs(g - grad[j]) > 1e-6 * fmax(1.0, fabs(g)))
            fail_msg("%s %s: d/dparam %zu: finite difference %.10g, backprop %.10g",
                     layers, act, j, g, grad[j]);
        free(tmp);
    }
    free(grad);
    aml_learner_free(l);
}

static void test_mlp_gradient(void **state)
{
    check_gradient(AML_TASK_CLASSIFICATION, 3, "5", "tanh");
    check_gradient(AML_TASK_CLASSIFICATION, 3, "4x5x3", "tanh");
    check_gradient(AML_TASK_CLASSIFICATION, 2, "6x4", "tanh");
    check_gradient(AML_TASK_REGRESSION, 1, "5x4", "tanh");
    /* relu: h is far below any pre-activation's distance from its kink here */
    check_gradient(AML_TASK_CLASSIFICATION, 3, "7x5", "relu");
    check_gradient(AML_TASK_REGRESSION, 1, "6", "relu");
}

/* ---- convergence against scikit-learn's scores ----------------------------- */

static double score(aml_learner *l, const mlp_data *te, int k)
{
    size_t i, n = te->X.rows, out = k ? (size_t)k : 1;
    double *p = malloc(n * out * sizeof(double)), s = 0, ss = 0, mean = 0;
    int c;

    assert_int_equal(aml_learner_predict(l, &te->X, p), AML_OK);
    for (i = 0; i < n; i++)
        mean += te->y[i] / (double)n;
    for (i = 0; i < n; i++) {
        if (k) {
            int best = 0;

            for (c = 1; c < k; c++)
                best = p[i * k + c] > p[i * k + best] ? c : best;
            s += best == (int)te->y[i];
        } else {
            s += (p[i] - te->y[i]) * (p[i] - te->y[i]);
            ss += (te->y[i] - mean) * (te->y[i] - mean);
        }
    }
    free(p);
    return k ? s / (double)n : 1.0 - s / ss;
}

static void test_mlp_sklearn_scores(void **state)
{
    mlp_data tr, te;
    double *ref, acc = 0, r2 = 0;
    size_t rows, cols;
    uint64_t seed;

    aml_test_read_matrix(aml_test_fixture("mlp_ref.csv"), &ref, &rows, &cols);
    mlp_data_read(&tr, "mlp_clf_train.csv");
    mlp_data_read(&te, "mlp_clf_test.csv");
    for (seed = 0; seed < 3; seed++) {
        aml_learner *l = mlp_make(AML_TASK_CLASSIFICATION, "32", "relu");

        set_num(l, "max_iter", 300);
        mlp_fit_ok(l, &tr.X, tr.y, NULL, 3, seed);
        acc += score(l, &te, 3) / 3;
        aml_learner_free(l);
    }
    mlp_data_free(&tr);
    mlp_data_free(&te);
    mlp_data_read(&tr, "mlp_reg_train.csv");
    mlp_data_read(&te, "mlp_reg_test.csv");
    for (seed = 0; seed < 3; seed++) {
        aml_learner *l = mlp_make(AML_TASK_REGRESSION, "32", "relu");

        set_num(l, "max_iter", 500);
        mlp_fit_ok(l, &tr.X, tr.y, NULL, 0, seed);
        r2 += score(l, &te, 0) / 3;
        aml_learner_free(l);
    }
    print_message("mlp: accuracy %.3f (scikit-learn %.3f), R^2 %.3f (%.3f)\n", acc,
                  ref[0], r2, ref[1]);
    assert_true(acc >= ref[0] - 0.05);
    assert_true(r2 >= ref[1] - 0.08);
    mlp_data_free(&tr);
    mlp_data_free(&te);
    free(ref);
}

/* The full-data loss after 1, 10 and 100 epochs from the same seed falls. */
static void test_mlp_loss_decreases(void **state)
{
    mlp_data tr;
    double prev = INFINITY, *grad;
    long long epochs[] = {1, 10, 100};
    int i;

    mlp_data_read(&tr, "mlp_clf_train.csv");
    for (i = 0; i < 3; i++) {
        aml_learner *l = mlp_make(AML_TASK_CLASSIFICATION, "16x8", "tanh");
        size_t n;
        double loss;

        set_num(l, "max_iter", (double)epochs[i]);
        mlp_fit_ok(l, &tr.X, tr.y, NULL, 3, 11);
        aml_mlp_params(l, &n);
        grad = malloc(n * sizeof(double));
        loss = aml_mlp_loss_grad(l, &tr.X, tr.y, NULL, grad);
        assert_true(loss < prev);
        prev = loss;
        free(grad);
        aml_learner_free(l);
    }
    mlp_data_free(&tr);
}

/* ---- determinism, save/load -------------------------------------------------- */

static void test_mlp_determinism_save_load(void **state)
{
    mlp_data tr;
    aml_learner *a = mlp_make(AML_TASK_CLASSIFICATION, "8x8", "relu");
    aml_learner *b = mlp_make(AML_TASK_CLASSIFICATION, "8x8", "relu");
    aml_learner *c = mlp_make(AML_TASK_CLASSIFICATION, "8x8", "relu"), *back = NULL;
    size_t n = 0, nb = 0;
    double *pa, *pb, *pc;
    aml_writer w;
    aml_reader r;

    mlp_data_read(&tr, "mlp_clf_train.csv");
    set_str(a, "early_stopping", "true");
    set_str(b, "early_stopping", "true");
    set_str(c, "early_stopping", "true");
    set_num(a, "batch_size", 32);
    set_num(b, "batch_size", 32);
    set_num(c, "batch_size", 32);
    mlp_fit_ok(a, &tr.X, tr.y, NULL, 3, 5);
    mlp_fit_ok(b, &tr.X, tr.y, NULL, 3, 5);
    mlp_fit_ok(c, &tr.X, tr.y, NULL, 3, 6);
    pa = aml_mlp_params(a, &n);
    pb = aml_mlp_params(b, &nb);
    assert_int_equal(n, nb);
    assert_memory_equal(pa, pb, n * sizeof(double));
    assert_memory_not_equal(pa, aml_mlp_params(c, &nb), n * sizeof(double));

    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(a, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    pa = malloc(tr.X.rows * 3 * sizeof(double));
    pb = malloc(tr.X.rows * 3 * sizeof(double));
    assert_int_equal(aml_learner_predict(a, &tr.X, pa), AML_OK);
    assert_int_equal(aml_learner_predict(back, &tr.X, pb), AML_OK);
    assert_memory_equal(pa, pb, tr.X.rows * 3 * sizeof(double));
    aml_learner_free(back);
    aml_reader_init(&r, w.data, w.len - 3);
    assert_true(aml_learner_load(&back, &r) < 0);
    assert_null(back);
    assert_int_equal(aml_learner_importance(a, pa), AML_EINVAL);
    pc = pa;
    free(pc);
    free(pb);
    aml_writer_dispose(&w);
    aml_learner_free(a);
    aml_learner_free(b);
    aml_learner_free(c);
    mlp_data_free(&tr);
}

/* ---- edge cases and parameters -------------------------------------------- */

/* Fits and checks every output is finite (and rows sum to 1); returns train accuracy. */
static double fit_finite(aml_learner *l, const aml_matrix *X, const double *y,
                         const double *w, int k)
{
    size_t out = k ? (size_t)k : 1, i;
    double *p = malloc(X->rows * out * sizeof(double)), acc = 0;
    int c;

    mlp_fit_ok(l, X, y, w, k, 1);
    assert_int_equal(aml_learner_predict(l, X, p), AML_OK);
    for (i = 0; i < X->rows; i++) {
        double s = 0;
        int best = 0;

        for (c = 0; c < (int)out; c++) {
            assert_true(isfinite(p[i * out + c]));
            s += p[i * out + c];
            best = p[i * out + c] > p[i * out + best] ? c : best;
        }
        if (k)
            assert_close(s, 1.0, 1e-12);
        acc += best == (int)y[i];
    }
    free(p);
    return acc / (double)X->rows;
}

static void test_mlp_edges(void **state)
{
    double x1[20], y1[20], w1[20], yr[20], x2[40], wide[3 * 30], yw[3] = {0, 1, 2};
    aml_matrix X1 = {20, 1, x1}, X2 = {20, 2, x2}, W = {3, 30, wide};
    aml_learner *l = mlp_make(AML_TASK_CLASSIFICATION, "16", "relu");
    size_t i;

    set_num(l, "learning_rate_init", 0.05);
    for (i = 0; i < 20; i++) {
        x1[i] = (double)(i % 10) / 5.0 - 1.0; /* each value twice: duplicated rows */
        y1[i] = x1[i] > 0;                    /* separable */
        w1[i] = i < 3 ? 0.0 : 1.0;
        yr[i] = i == 0 ? 1e6 : 2 * x1[i]; /* row 0 weighs 0 below */
        x2[2 * i] = x1[i];
        x2[2 * i + 1] = 4.0; /* constant feature */
    }
    assert_true(fit_finite(l, &X1, y1, NULL, 2) == 1.0);
    assert_true(fit_finite(l, &X2, y1, w1, 2) >= 0.85);
    y1[19] = 2; /* a class with one sample, and an absent class 3 */
    fit_finite(l, &X1, y1, NULL, 4);
    for (i = 0; i < 90; i++)
        wide[i] = cos(0.7 * (double)i);
    assert_true(fit_finite(l, &W, yw, NULL, 3) == 1.0); /* more features than rows */
    aml_learner_free(l);

    /* Regression: a zero-weight row with an absurd target leaves the fit alone. */
    l = mlp_make(AML_TASK_REGRESSION, "8x8", "tanh");
    set_num(l, "max_iter", 300);
    fit_finite(l, &X1, yr, w1, 0);
    {
        double q = 0.6, p;
        aml_matrix Q = {1, 1, &q};

        assert_int_equal(aml_learner_predict(l, &Q, &p), AML_OK);
        assert_true(fabs(p - 1.2) < 0.5);
    }
    aml_learner_free(l);
}

static void test_mlp_params(void **state)
{
    aml_learner *l = NULL;
    const char *bad[] = {"0", "64x", "x64", "1x2x3x4", "abc", "64x-1", "99999", "64 "};
    aml_value v = {.kind = AML_VAL_STR};
    aml_value num = {.kind = AML_VAL_INT, .i = 48};
    double x[] = {0, 1}, y[] = {0, 1}, out[4];
    aml_matrix X = {2, 1, x};
    size_t i;

    assert_int_equal(aml_learner_new(&l, &aml_learner_mlp, AML_TASK_CLASSIFICATION),
                     AML_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v.str = bad[i];
        assert_int_equal(aml_learner_set_param(l, "hidden_layer_sizes", &v), AML_EINVAL);
    }
    v.str = "64x32x16";
    assert_int_equal(aml_learner_set_param(l, "hidden_layer_sizes", &v), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "hidden_layer_sizes", &num), AML_OK);
    v.str = "auto";
    assert_int_equal(aml_learner_set_param(l, "batch_size", &v), AML_OK);
    v.str = "maybe";
    assert_int_equal(aml_learner_set_param(l, "early_stopping", &v), AML_EINVAL);
    assert_int_equal(aml_learner_predict(l, &X, out), AML_EINVAL);
    fit_finite(l, &X, y, NULL, 2);
    aml_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_gradient),
        cmocka_unit_test(test_mlp_sklearn_scores),
        cmocka_unit_test(test_mlp_loss_decreases),
        cmocka_unit_test(test_mlp_determinism_save_load),
        cmocka_unit_test(test_mlp_edges),
        cmocka_unit_test(test_mlp_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
