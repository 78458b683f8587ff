/*
 * test_adaboost.c - tests for learners/adaboost.c.
 *
 * SAMME predictions are compared with scikit-learn 1.2's
 * AdaBoostClassifier(algorithm="SAMME") on the fixtures of
 * tests/fixtures/gen_forest.py:
 *
 *     /usr/bin/python3 tests/fixtures/gen_forest.py tests/fixtures
 *
 * AdaBoost.R2 draws its weighted bootstrap samples with our generator, so
 * its test RMSE is compared with scikit-learn's mean over 20 seeds; small
 * cases are computed by hand in the comments.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_adaboost;

#define CLF AML_TASK_CLASSIFICATION
#define REG AML_TASK_REGRESSION

typedef struct data {
    aml_matrix X;
    double *y;
} data;

static void data_read(data *d, const char *name, int has_y)
{
    double *raw;
    size_t rows, cols, i;

    aml_test_read_matrix(aml_test_fixture(name), &raw, &rows, &cols);
    d->X.rows = rows;
    d->X.cols = cols - (size_t)has_y;
    d->X.data = malloc(rows * d->X.cols * sizeof(double) + 1);
    d->y = calloc(rows + 1, sizeof(double));
    assert_non_null(d->X.data);
    assert_non_null(d->y);
    for (i = 0; i < rows; i++) {
        memcpy(d->X.data + i * d->X.cols, raw + i * cols, d->X.cols * sizeof(double));
        d->y[i] = has_y ? raw[i * cols + cols - 1] : 0;
    }
    free(raw);
}

static void data_free(data *d)
{
    free(d->X.data);
    free(d->y);
}

static void set(aml_learner *l, const char *name, aml_value v)
{
    assert_int_equal(aml_learner_set_param(l, name, &v), AML_OK);
}

static aml_learner *make(aml_task task, long long n_est, double lr, long long depth,
                         const char *loss)
{
    aml_learner *l = NULL;

    assert_int_equal(aml_learner_new(&l, &aml_learner_adaboost, task), AML_OK);
    if (n_est)
        set(l, "n_estimators", (aml_value){.kind = AML_VAL_INT, .i = n_est});
    if (lr > 0)
        set(l, "learning_rate", (aml_value){.kind = AML_VAL_REAL, .real = lr});
    if (depth)
        set(l, "max_depth", (aml_value){.kind = AML_VAL_INT, .i = depth});
    if (loss)
        set(l, "loss", (aml_value){.kind = AML_VAL_STR, .str = loss});
    return l;
}

static void fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                int n_classes, uint64_t seed)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, n_classes, &rng, 1), AML_OK);
}

static double *predict(const aml_learner *l, const aml_matrix *X)
{
    double *out = malloc(X->rows * (size_t)aml_learner_outputs(l) * sizeof(double) + 1);

    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, X, out), AML_OK);
    return out;
}

static void blob(const aml_learner *l, aml_writer *w)
{
    aml_writer_init(w);
    assert_int_equal(aml_learner_save(l, w), AML_OK);
}

/* ---- scikit-learn ------------------------------------------------------- */

static void check_samme(const char *name, long long n_est, double lr, long long depth)
{
    data tr, te, ex;
    aml_learner *l = make(CLF, n_est, lr, depth, NULL);
    double *p;
    size_t i;
    char file[64];

    data_read(&tr, "forest_clf_train.csv", 1);
    data_read(&te, "forest_clf_test.csv", 1);
    snprintf(file, sizeof(file), "adaboost_clf_%s.csv", name);
    data_read(&ex, file, 0);
    fit(l, &tr.X, tr.y, NULL, 3, 1);
    p = predict(l, &te.X);
    assert_int_equal(ex.X.rows, te.X.rows);
    for (i = 0; i < ex.X.rows * 3; i++)
        assert_close(p[i], ex.X.data[i], 1e-10);
    free(p);
    aml_learner_free(l);
    data_free(&tr);
    data_free(&te);
    data_free(&ex);
}

static void test_adaboost_samme_sklearn(void **state)
{
    check_samme("stumps", 50, 0, 0);
    check_samme("stumps_lr05", 40, 0.5, 0);
    check_samme("depth2_lr15", 30, 1.5, 2);
}

static double rmse(const aml_learner *l, const data *te)
{
    double *p = predict(l, &te->X), s = 0;
    size_t i;

    for (i = 0; i < te->X.rows; i++)
        s += (p[i] - te->y[i]) * (p[i] - te->y[i]);
    free(p);
    return sqrt(s / (double)te->X.rows);
}

static void test_adaboost_r2_sklearn_scores(void **state)
{
    /* Rows 8, 9, 10 of forest_scores.csv (see gen_forest.py). */
    static const struct {
        double lr;
        const char *loss;
    } cases[] = {{0, "linear"}, {0.5, "square"}, {0, "exponential"}};
    data tr, te, sk;
    size_t i;
    uint64_t seed;

    data_read(&tr, "forest_reg_train.csv", 1);
    data_read(&te, "forest_reg_test.csv", 1);
    data_read(&sk, "forest_scores.csv", 0);
    for (i = 0; i < 3; i++) {
        double mean = 0, want = sk.X.data[(8 + i) * 3 + 1];

        for (seed = 1; seed <= 5; seed++) {
            aml_learner *l = make(REG, 50, cases[i].lr, 0, cases[i].loss);

            fit(l, &tr.X, tr.y, NULL, 0, seed);
            mean += rmse(l, &te) / 5;
            aml_learner_free(l);
        }
        if (getenv("AML_TEST_VERBOSE"))
            print_message("%s: ours %.4f, scikit-learn %.4f\n", cases[i].loss, mean,
                          want);
        /* sd over seeds about 0.035, so 5% is about 3.5 sd of a 5-seed mean. */
        assert_close(mean, want, 0.05 * want);
    }
    data_free(&tr);
    data_free(&te);
    data_free(&sk);
}

/* ---- hand-computed cases ------------------------------------------------ */

static void test_adaboost_samme_perfect_stump(void **state)
{
    /* x = 1..4, classes 0, 0, 1, 1: the first stump is perfect, so boosting
     * stops with that one tree at weight 1.  Votes for x = 1: (1, 0), two
     * classes: d = 0 - 1 = -1, p = softmax(-d/2, d/2) = softmax(0.5, -0.5),
     * p0 = 1 / (1 + e^-1) = 0.7310585786300049. */
    double x[] = {1, 2, 3, 4}, y[] = {0, 0, 1, 1}, q[] = {1, 4}, p[4];
    aml_matrix X = {4, 1, x}, Q = {2, 1, q};
    aml_learner *l = make(CLF, 0, 0, 0, NULL);
    aml_writer w;

    fit(l, &X, y, NULL, 2, 1);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 0.7310585786300049, 1e-15);
    assert_close(p[1], 1 - 0.7310585786300049, 1e-15);
    assert_close(p[3], 0.7310585786300049, 1e-15);
    /* One tree was kept: the model holds n_trees = 1 (after 8 + 8 + 8 + 1 +
     * 4 + 8 bytes of parameters and sizes, following the 28-byte generic
     * header: name (4 + 8), task, n_classes (4 + 4), n_features (8)). */
    blob(l, &w);
    assert_int_equal(w.data[28 + 8 + 8 + 8 + 1 + 4 + 8], 1);
    assert_int_equal(w.data[28 + 8 + 8 + 8 + 1 + 4 + 8 + 1], 0);
    aml_writer_dispose(&w);
    aml_learner_free(l);
}

static void test_adaboost_samme_one_error(void **state)
{
    /* x = 1..5, classes 0, 0, 1, 1, 0 with one stump and weights 1/5:
     * the best stump (x <= 2.5 vs > 2.5, right side 2 of 3 class 1) errs
     * on x = 5 only: e = 0.2, alpha = log(0.8 / 0.2) + log(1) = log 4.
     * Weight of x = 5 becomes 0.2 * 4 = 0.8, the others 0.2: normalised,
     * x = 5 has 0.5 and rows 1-4 0.125 each.  n_estimators = 1 stops
     * here, so only the first tree votes: for x = 5 the votes are (0,
     * log 4) / log 4 = (0, 1), d = 1, p1 = 1 / (1 + e^-1). */
    double x[] = {1, 2, 3, 4, 5}, y[] = {0, 0, 1, 1, 0}, q = 5, p[2];
    aml_matrix X = {5, 1, x}, Q = {1, 1, &q};
    aml_learner *l = make(CLF, 1, 0, 0, NULL);

    fit(l, &X, y, NULL, 2, 1);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[1], 0.7310585786300049, 1e-15);
    aml_learner_free(l);
}

static void test_adaboost_r2_perfect_tree(void **state)
{
    /* 50 rows at x = 0 (y = 0) and 50 at x = 1 (y = 10): any bootstrap
     * sample holds both values (but with probability 2^-99), the tree is
     * perfect, the loss 0, and boosting stops with it at weight 1. */
    double x[100], y[100], q[] = {0, 1}, p[2];
    aml_matrix X = {100, 1, x}, Q = {2, 1, q};
    aml_learner *l = make(REG, 0, 0, 0, NULL);
    size_t i;

    for (i = 0; i < 100; i++) {
        x[i] = i < 50 ? 0 : 1;
        y[i] = i < 50 ? 0 : 10;
    }
    fit(l, &X, y, NULL, 0, 3);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 0, 0);
    assert_close(p[1], 10, 0);
    aml_learner_free(l);
}

static void test_adaboost_r2_zero_weight_never_drawn(void **state)
{
    /* y = x on 0..9, but row 9 has y = 1000 and weight 0: it is never in a
     * bootstrap sample, so no tree predicts anything near 1000. */
    double x[10], y[10], w[10], *p;
    aml_matrix X = {10, 1, x};
    aml_learner *l = make(REG, 20, 0, 0, "square");
    size_t i;

    for (i = 0; i < 10; i++) {
        x[i] = (double)i;
        y[i] = i == 9 ? 1000 : (double)i;
        w[i] = i == 9 ? 0 : 1;
    }
    fit(l, &X, y, w, 0, 5);
    p = predict(l, &X);
    for (i = 0; i < 10; i++)
        assert_true(p[i] >= 0 && p[i] <= 8);
    free(p);
    aml_learner_free(l);
}

static void test_adaboost_worse_than_chance(void **state)
{
    /* A constant feature: the stump is one leaf predicting class 0 (the
     * first of two equally weighted classes), error 0.5 >= 1 - 1/2, so the
     * first tree is dropped and the fit fails. */
    double x[] = {1, 1, 1, 1}, y[] = {0, 1, 0, 1};
    aml_matrix X = {4, 1, x};
    aml_learner *l = make(CLF, 0, 0, 0, NULL);
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 2, &rng, 1), AML_EINVAL);
    aml_learner_free(l);
}

/* ---- model files, importance, determinism ------------------------------- */

static void check_save_load(aml_task task)
{
    data tr, te;
    aml_learner *l = make(task, 25, 0.7, 0, NULL), *back = NULL, *again;
    aml_writer w, w2, w3;
    aml_reader r;
    double *a, *b, ia[8], ib[8], s = 0;
    size_t j, m, len;

    data_read(&tr, task == CLF ? "forest_clf_train.csv" : "forest_reg_train.csv", 1);
    data_read(&te, task == CLF ? "forest_clf_test.csv" : "forest_reg_test.csv", 1);
    fit(l, &tr.X, tr.y, NULL, 3, 4);
    blob(l, &w);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, w.len);
    a = predict(l, &te.X);
    b = predict(back, &te.X);
    m = te.X.rows * (size_t)aml_learner_outputs(l);
    assert_memory_equal(a, b, m * sizeof(double));
    assert_int_equal(aml_learner_importance(l, ia), AML_OK);
    assert_int_equal(aml_learner_importance(back, ib), AML_OK);
    assert_memory_equal(ia, ib, tr.X.cols * sizeof(double));
    for (j = 0; j < tr.X.cols; j++)
        s += ia[j];
    assert_close(s, 1.0, 1e-12);
    blob(back, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(w2.data, w.data, w.len);
    /* The same seed gives the same model. */
    again = make(task, 25, 0.7, 0, NULL);
    fit(again, &tr.X, tr.y, NULL, 3, 4);
    blob(again, &w3);
    assert_int_equal(w3.len, w.len);
    assert_memory_equal(w3.data, w.data, w.len);
    for (len = 0; len < w.len; len += 1 + len / 8) {
        aml_learner *cut = NULL;

        aml_reader_init(&r, w.data, len);
        assert_int_not_equal(aml_learner_load(&cut, &r), AML_OK);
        assert_null(cut);
    }
    free(a);
    free(b);
    aml_writer_dispose(&w);
    aml_writer_dispose(&w2);
    aml_writer_dispose(&w3);
    aml_learner_free(l);
    aml_learner_free(back);
    aml_learner_free(again);
    data_free(&tr);
    data_free(&te);
}

static void test_adaboost_save_load(void **state)
{
    check_save_load(CLF);
    check_save_load(REG);
}

static void test_adaboost_bad_params(void **state)
{
    aml_learner *l = NULL;
    aml_value zero = {.kind = AML_VAL_REAL, .real = 0};
    aml_value huber = {.kind = AML_VAL_STR, .str = "huber"};
    aml_value d0 = {.kind = AML_VAL_INT, .i = 0};
    double q = 1, p[2];

    assert_int_equal(aml_learner_new(&l, &aml_learner_adaboost, REG), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "learning_rate", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "loss", &huber), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_depth", &d0), AML_EINVAL);
    assert_int_equal(aml_learner_adaboost.set_param(l, "learning_rate", &zero),
                     AML_EINVAL);
    assert_int_equal(aml_learner_predict(l, &(aml_matrix){1, 1, &q}, p), AML_EINVAL);
    aml_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adaboost_samme_sklearn),
        cmocka_unit_test(test_adaboost_r2_sklearn_scores),
        cmocka_unit_test(test_adaboost_samme_perfect_stump),
        cmocka_unit_test(test_adaboost_samme_one_error),
        cmocka_unit_test(test_adaboost_r2_perfect_tree),
        cmocka_unit_test(test_adaboost_r2_zero_weight_never_drawn),
        cmocka_unit_test(test_adaboost_worse_than_chance),
        cmocka_unit_test(test_adaboost_save_load),
        cmocka_unit_test(test_adaboost_bad_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
