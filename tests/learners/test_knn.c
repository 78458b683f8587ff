/*
 * test_knn.c - tests for learners/knn.c.
 *
 * Predictions are compared with scikit-learn 1.2 KNeighborsClassifier /
 * KNeighborsRegressor (algorithm='brute', k = 7, both weightings, both
 * metrics) on the fixtures written by tests/fixtures/gen_trees_knn.py:
 *
 *     /usr/bin/python3 tests/fixtures/gen_trees_knn.py tests/fixtures
 *
 * The small cases (sample weights, exact matches, ties, k above the number
 * of rows, the metric) are computed by hand in the comments.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_knn;

/* A fixture split into features and (for training files) the last column. */
typedef struct knn_data {
    aml_matrix X;
    double *y;
    double *raw;
} knn_data;

static void knn_data_read(knn_data *d, const char *name, int has_y)
{
    size_t rows, cols, i;

    aml_test_read_matrix(aml_test_fixture(name), &d->raw, &rows, &cols);
    d->X.rows = rows;
    d->X.cols = cols - (size_t)has_y;
    d->X.data = malloc(rows * d->X.cols * sizeof(double));
    d->y = malloc(rows * sizeof(double));
    assert_non_null(d->X.data);
    assert_non_null(d->y);
    for (i = 0; i < rows; i++) {
        memcpy(d->X.data + i * d->X.cols, d->raw + i * cols, d->X.cols * sizeof(double));
        d->y[i] = has_y ? d->raw[i * cols + cols - 1] : 0;
    }
}

static void knn_data_free(knn_data *d)
{
    free(d->X.data);
    free(d->y);
    free(d->raw);
}

static void knn_fit_ok(aml_learner *l, const aml_matrix *X, const double *y,
                       const double *w, int n_classes)
{
    aml_rng rng;

    aml_rng_init(&rng, 42, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, n_classes, &rng, 1), AML_OK);
}

/* ---- scikit-learn fixtures ---------------------------------------------- */

static void check_fixture(aml_task task, const char *weights, const char *metric)
{
    const char *kind = task == AML_TASK_CLASSIFICATION ? "clf" : "reg";
    knn_data tr, te, ex;
    char name[128];
    aml_learner *l;
    double *out;
    size_t i;

    snprintf(name, sizeof(name), "trees_knn_%s_train.csv", kind);
    knn_data_read(&tr, name, 1);
    snprintf(name, sizeof(name), "trees_knn_%s_test.csv", kind);
    knn_data_read(&te, name, 0);
    snprintf(name, sizeof(name), "knn_%s_%s_%s.csv", kind, weights, metric);
    knn_data_read(&ex, name, 0);

    l = aml_test_knn(task, 7, weights, metric);
    knn_fit_ok(l, &tr.X, tr.y, NULL, 3);
    assert_int_equal(ex.X.rows, te.X.rows);
    assert_int_equal(ex.X.cols, (size_t)aml_learner_outputs(l));
    out = malloc(ex.X.rows * ex.X.cols * sizeof(double));
    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, &te.X, out), AML_OK);
    for (i = 0; i < ex.X.rows * ex.X.cols; i++)
        assert_close(out[i], ex.X.data[i], 1e-9);

    free(out);
    aml_learner_free(l);
    knn_data_free(&tr);
    knn_data_free(&te);
    knn_data_free(&ex);
}

static void test_knn_sklearn_classification(void **state)
{
    check_fixture(AML_TASK_CLASSIFICATION, "uniform", "euclidean");
    check_fixture(AML_TASK_CLASSIFICATION, "distance", "euclidean");
    check_fixture(AML_TASK_CLASSIFICATION, "uniform", "manhattan");
    check_fixture(AML_TASK_CLASSIFICATION, "distance", "manhattan");
}

static void test_knn_sklearn_regression(void **state)
{
    check_fixture(AML_TASK_REGRESSION, "uniform", "euclidean");
    check_fixture(AML_TASK_REGRESSION, "distance", "euclidean");
    check_fixture(AML_TASK_REGRESSION, "uniform", "manhattan");
    check_fixture(AML_TASK_REGRESSION, "distance", "manhattan");
}

/* ---- hand-computed cases ------------------------------------------------ */

/* One feature: x = 0, 1, 2, 4 with classes 0, 1, 1, 0 and targets 0, 10, 20, 40. */
static double line_x[] = {0, 1, 2, 4};
static double line_c[] = {0, 1, 1, 0};
static double line_t[] = {0, 10, 20, 40};
static const aml_matrix line = {4, 1, line_x};

static void predict1(aml_learner *l, double q, double *out)
{
    aml_matrix Q = {1, 1, &q};

    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
}

static void test_knn_hand_votes(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "uniform", "euclidean");
    double p[2];

    /* q = 1.5: distances 1.5, 0.5, 0.5, 2.5; nearest rows 1, 2, 0 -> 1, 1, 0. */
    knn_fit_ok(l, &line, line_c, NULL, 2);
    predict1(l, 1.5, p);
    assert_close(p[0], 1.0 / 3, 1e-15);
    assert_close(p[1], 2.0 / 3, 1e-15);
    aml_learner_free(l);

    /* distance: weights 2, 2, 1/1.5 -> p0 = (2/3) / (4 + 2/3) = 1/7. */
    l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "distance", "euclidean");
    knn_fit_ok(l, &line, line_c, NULL, 2);
    predict1(l, 1.5, p);
    assert_close(p[0], 1.0 / 7, 1e-15);
    assert_close(p[1], 6.0 / 7, 1e-15);
    /* q = 4 hits row 3 exactly: it takes all the weight -> class 0. */
    predict1(l, 4, p);
    assert_close(p[0], 1.0, 0);
    assert_close(p[1], 0.0, 0);
    aml_learner_free(l);
}

static void test_knn_hand_sample_weights(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "uniform", "euclidean");
    double w[] = {3, 1, 1, 1}, p[2];

    /* q = 1.5: rows 1, 2, 0 vote 1, 1, 3 -> class 1 gets 2/5, class 0 3/5. */
    knn_fit_ok(l, &line, line_c, w, 2);
    predict1(l, 1.5, p);
    assert_close(p[0], 0.6, 1e-15);
    assert_close(p[1], 0.4, 1e-15);
    aml_learner_free(l);

    /* k = 10 > 4 rows: all rows vote, 3 + 1 for class 0 and 1 + 1 for class 1. */
    l = aml_test_knn(AML_TASK_CLASSIFICATION, 10, "uniform", "euclidean");
    knn_fit_ok(l, &line, line_c, w, 2);
    predict1(l, 100, p);
    assert_close(p[0], 4.0 / 6, 1e-15);
    assert_close(p[1], 2.0 / 6, 1e-15);
    aml_learner_free(l);

    /* q = 1.5, k = 3: rows 1, 2, 0 all weigh 0, so they vote plainly: 2/3 for 1. */
    w[0] = w[1] = w[2] = 0;
    l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "distance", "euclidean");
    knn_fit_ok(l, &line, line_c, w, 2);
    predict1(l, 1.5, p);
    assert_close(p[0], 1.0 / 3, 1e-15);
    assert_close(p[1], 2.0 / 3, 1e-15);
    aml_learner_free(l);
}

static void test_knn_hand_regression(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_REGRESSION, 3, "uniform", "euclidean");
    double v;

    /* q = 1.5: rows 1, 2, 0 -> (10 + 20 + 0) / 3 = 10. */
    knn_fit_ok(l, &line, line_t, NULL, 0);
    predict1(l, 1.5, &v);
    assert_close(v, 10.0, 1e-14);
    aml_learner_free(l);

    /* distance: (2 * 10 + 2 * 20 + (2/3) * 0) / (14/3) = 180 / 14. */
    l = aml_test_knn(AML_TASK_REGRESSION, 3, "distance", "manhattan");
    knn_fit_ok(l, &line, line_t, NULL, 0);
    predict1(l, 1.5, &v);
    assert_close(v, 180.0 / 14, 1e-14);
    aml_learner_free(l);
}

static void test_knn_ties_lower_index(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 1, "uniform", "euclidean");
    double p[2];

    /* q = 3 is at distance 1 from rows 2 (class 1) and 3 (class 0): row 2 wins. */
    knn_fit_ok(l, &line, line_c, NULL, 2);
    predict1(l, 3, p);
    assert_close(p[1], 1.0, 0);
    aml_learner_free(l);

    l = aml_test_knn(AML_TASK_CLASSIFICATION, 1, "uniform", "manhattan");
    knn_fit_ok(l, &line, line_c, NULL, 2);
    predict1(l, 3, p);
    assert_close(p[1], 1.0, 0);
    aml_learner_free(l);
}

static void test_knn_metric_changes_neighbour(void **state)
{
    /* A = (0, 3) class 0, B = (2, 2) class 1, query (0, 0): manhattan 3 vs 4
     * picks A; euclidean 3 vs sqrt(8) = 2.83 picks B. */
    double x[] = {0, 3, 2, 2}, y[] = {0, 1}, q[] = {0, 0}, p[2];
    aml_matrix X = {2, 2, x}, Q = {1, 2, q};
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 1, "uniform", "manhattan");

    knn_fit_ok(l, &X, y, NULL, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 1.0, 0);
    aml_learner_free(l);

    l = aml_test_knn(AML_TASK_CLASSIFICATION, 1, "uniform", "euclidean");
    knn_fit_ok(l, &X, y, NULL, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[1], 1.0, 0);
    aml_learner_free(l);
}

/* More queries than one block (256 rows) must give the row-by-row answers. */
static void test_knn_many_queries(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_REGRESSION, 2, "distance", "euclidean");
    size_t n = 600, i;
    double *q = malloc(n * sizeof(double)), *out = malloc(n * sizeof(double)), v;
    aml_matrix Q = {n, 1, q};

    assert_non_null(q);
    assert_non_null(out);
    for (i = 0; i < n; i++)
        q[i] = -1.0 + 6.0 * (double)i / (double)n;
    knn_fit_ok(l, &line, line_t, NULL, 0);
    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
    for (i = 0; i < n; i += 37) {
        predict1(l, q[i], &v);
        assert_true(v == out[i]);
    }
    /* Row 300 is q = 2 exactly: row 2 alone, 20. */
    assert_close(out[300], 20.0, 0);
    free(q);
    free(out);
    aml_learner_free(l);
}

/*
 * Near ties the product form cannot tell apart: every coordinate is 1e8
 * except the first, 1e8 + o, with the offsets o a permutation of 1..n
 * (o = 1 + (7 i + 5) mod n), and the query is all 1e8.  The exact squared
 * distances are o^2 (1e8 + o - 1e8 = o exactly), so the nearest rows have
 * o = 1, 2, 3, while ||q||^2 + ||t||^2 - 2 q.t errs by about p u 2 ||q||^2
 * ~ 1e4 here and cannot order them.  With y = o, k = 1 predicts 1; k = 3
 * with distance weights predicts (1 + 2 / 2 + 3 / 3) / (1 + 1/2 + 1/3) =
 * 3 / (11/6) = 18/11.  p = 70 is searched by brute force, p = 20 by the
 * k-d tree or brute force (whichever fit picks); n = 30 keeps the near
 * misses in their list, n = 200 overflows it into a full exact scan.
 */
static void check_near_ties(size_t n, size_t p)
{
    double *X = malloc(n * p * sizeof(double)), *y = malloc(n * sizeof(double));
    double *q = malloc(p * sizeof(double)), out;
    aml_matrix M = {n, p, X}, Q = {1, p, q};
    aml_learner *l1 = aml_test_knn(AML_TASK_REGRESSION, 1, "uniform", "euclidean");
    aml_learner *l3 = aml_test_knn(AML_TASK_REGRESSION, 3, "distance", "euclidean");
    size_t i, j;

    assert_non_null(X);
    assert_non_null(y);
    assert_non_null(q);
    for (j = 0; j < p; j++)
        q[j] = 1e8;
    for (i = 0; i < n; i++) {
        y[i] = (double)(1 + (7 * i + 5) % n);
        for (j = 0; j < p; j++)
            X[i * p + j] = j == 0 ? 1e8 + y[i] : 1e8;
    }
    knn_fit_ok(l1, &M, y, NULL, 0);
    assert_int_equal(aml_learner_predict(l1, &Q, &out), AML_OK);
    assert_close(out, 1.0, 0);
    knn_fit_ok(l3, &M, y, NULL, 0);
    assert_int_equal(aml_learner_predict(l3, &Q, &out), AML_OK);
    assert_close(out, 18.0 / 11.0, 1e-14);
    aml_learner_free(l1);
    aml_learner_free(l3);
    free(X);
    free(y);
    free(q);
}

static void test_knn_exact_near_ties(void **state)
{
    check_near_ties(30, 70);
    check_near_ties(200, 70);
    check_near_ties(30, 20);
    check_near_ties(200, 20);
}

/* No features at all: every row is at distance 0, so all k vote. */
static void test_knn_no_features(void **state)
{
    double y[] = {0, 1, 1}, q, p[2];
    aml_matrix X = {3, 0, y}, Q = {1, 0, &q};
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 2, "distance", "euclidean");

    /* k = 2: rows 0 and 1 (lower indices win the tie), one vote each. */
    knn_fit_ok(l, &X, y, NULL, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 0.5, 1e-15);
    assert_close(p[1], 0.5, 1e-15);
    aml_learner_free(l);
}

/*
 * Many rows (two distance tiles of 2048 training rows, three query blocks
 * of 64) on integer data, where every distance is exact, so ties are real:
 * 3 dense columns in -2..2 and `hot` one-hot columns.  With 10 (13
 * features) predict searches the k-d tree; with 17 (20 features, each
 * indicator in a 17th of the rows) it takes the brute-force path with the
 * split dense + sparse product.  The reference below scans all rows and
 * keeps the k nearest, lower index first on ties.  Two threads must give
 * the same bits as one.
 */
static void ref_votes(const double *X, const double *y, size_t n, size_t p,
                      const double *q, int manhattan, size_t k, double *p3)
{
    size_t *best = malloc(k * sizeof(size_t)), len = 0, i, j, c;
    double *bd = malloc(k * sizeof(double));

    for (i = 0; i < n; i++) {
        double d = 0;

        for (j = 0; j < p; j++)
            d += manhattan ? fabs(X[i * p + j] - q[j])
                           : (X[i * p + j] - q[j]) * (X[i * p + j] - q[j]);
        /* insertion into the sorted list; equal distances keep the earlier row */
        for (c = len; c > 0 && bd[c - 1] > d; c--)
            if (c < k)
                bd[c] = bd[c - 1], best[c] = best[c - 1];
        if (c < k) {
            bd[c] = d, best[c] = i;
            len += len < k;
        }
    }
    p3[0] = p3[1] = p3[2] = 0;
    for (c = 0; c < len; c++)
        p3[(size_t)y[best[c]]] += 1.0 / (double)len;
    free(best);
    free(bd);
}

static void check_big(int manhattan, size_t hot)
{
    size_t n = 3000, nq = 150, p = 3 + hot, i, j, c;
    double *X = malloc(n * p * sizeof(double)), *y = malloc(n * sizeof(double));
    double *Q = malloc(nq * p * sizeof(double)), *o1 = malloc(nq * 3 * sizeof(double));
    double *o2 = malloc(nq * 3 * sizeof(double)), ref[3];
    aml_matrix Xm = {n, p, X}, Qm = {nq, p, Q};
    const char *metric = manhattan ? "manhattan" : "euclidean";
    aml_learner *l1 = aml_test_knn(AML_TASK_CLASSIFICATION, 7, "uniform", metric);
    aml_learner *l2 = aml_test_knn(AML_TASK_CLASSIFICATION, 7, "uniform", metric);
    aml_rng rng;

    for (i = 0; i < n + nq; i++) {
        double *row = i < n ? X + i * p : Q + (i - n) * p;
        unsigned h = (unsigned)(i * 2654435761u);

        for (j = 0; j < 3; j++)
            row[j] = (double)((h >> (4 * j)) % 5) - 2.0;
        for (j = 3; j < p; j++)
            row[j] = (h >> 20) % hot == j - 3;
        if (i < n)
            y[i] = (double)((h >> 12) % 3);
    }
    knn_fit_ok(l1, &Xm, y, NULL, 3);
    aml_rng_init(&rng, 42, 0);
    assert_int_equal(aml_learner_fit(l2, &Xm, y, NULL, 3, &rng, 2), AML_OK);
    assert_int_equal(aml_learner_predict(l1, &Qm, o1), AML_OK);
    assert_int_equal(aml_learner_predict(l2, &Qm, o2), AML_OK);
    assert_memory_equal(o1, o2, nq * 3 * sizeof(double));
    for (i = 0; i < nq; i++) {
        ref_votes(X, y, n, p, Q + i * p, manhattan, 7, ref);
        for (c = 0; c < 3; c++)
            assert_close(o1[i * 3 + c], ref[c], 1e-12);
    }
    aml_learner_free(l1);
    aml_learner_free(l2);
    free(X);
    free(y);
    free(Q);
    free(o1);
    free(o2);
}

static void test_knn_tiles_threads_sparse(void **state)
{
    check_big(0, 10);
    check_big(1, 10);
    check_big(0, 17);
    check_big(1, 17);
}

/*
 * The fused AVX-512 kernel (dense euclidean data of at most 32 features,
 * brute force) only screens, like the BLAS tile it replaces: exact
 * distances choose, so both must predict the same bits.  AML_KNN_GENERIC=1
 * at fit turns the kernel off.  Data: random values rounded to 1/8 (so
 * exact ties occur) in p = 16 and 32 columns, the near ties of
 * check_near_ties scaled into 20 columns, and 6 such columns beside 40
 * one-hot ones (the sparse split: the kernel computes the dense part and
 * screens the tile after the sparse part); 1000 rows, 130 queries (two
 * blocks and a partial group of 8 queries), k from 1 to 60.  On a CPU
 * without AVX-512 both runs take the BLAS path and agree trivially.
 */
static void check_fused(size_t p, int near)
{
    size_t n = 1000, nq = 130, i, j, c, kk;
    double *X = malloc((n + nq) * p * sizeof(double)), *y = malloc(n * sizeof(double));
    double *o[2];
    aml_matrix Xm = {n, p, X}, Qm = {nq, p, X + n * p};
    static const long long ks[] = {1, 5, 60};
    unsigned h = 12345;

    assert_non_null(X);
    assert_non_null(y);
    for (i = 0; i < (n + nq) * p; i++) {
        h = h * 1103515245u + 12345u;
        X[i] =
            near == 1 ? 1e8 + (double)(h >> 16 & 7) : (double)(h >> 16 & 63) / 8.0 - 4.0;
        /* near == 2: columns 6 .. p-1 one-hot, each set in 1 row of p - 6 */
        if (near == 2 && i % p >= 6)
            X[i] = (double)(X[i - i % p] * 8.0 + 32.0 == (double)(i % p - 6));
    }
    for (i = 0; i < n; i++)
        y[i] = (double)(i % 3);
    for (kk = 0; kk < 3; kk++)
        for (c = 0; c < 2; c++) {
            for (j = 0; j < 2; j++) {
                aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, ks[kk],
                                              c ? "distance" : "uniform", "euclidean");

                if (j)
                    setenv("AML_KNN_GENERIC", "1", 1);
                knn_fit_ok(l, &Xm, y, NULL, 3);
                unsetenv("AML_KNN_GENERIC");
                o[j] = aml_test_predict(l, &Qm);
                aml_learner_free(l);
            }
            assert_memory_equal(o[0], o[1], nq * 3 * sizeof(double));
            free(o[0]);
            free(o[1]);
        }
    free(X);
    free(y);
}

static void test_knn_fused_matches_blas(void **state)
{
    check_fused(16, 0);
    check_fused(32, 0);
    check_fused(20, 1);
    check_fused(46, 2);
}

/* ---- errors and model files --------------------------------------------- */

static void test_knn_bad_params(void **state)
{
    aml_learner *l = NULL;
    aml_value zero = {.kind = AML_VAL_INT, .i = 0};
    aml_value foo = {.kind = AML_VAL_STR, .str = "foo"};
    aml_value half = {.kind = AML_VAL_REAL, .real = 2.5};

    assert_int_equal(aml_learner_new(&l, &aml_learner_knn, AML_TASK_REGRESSION), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "k", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "k", &half), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "k", &foo), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "weights", &foo), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "metric", &foo), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "p", &zero), AML_EINVAL);
    /* The type's own slot refuses too, for callers that skip the generic layer. */
    assert_int_equal(aml_learner_knn.set_param(l, "k", &zero), AML_EINVAL);
    aml_learner_free(l);
}

static void test_knn_bad_fit_and_predict(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "uniform", "euclidean");
    double bad_y[] = {0, 1, 2, 0}, bad_w[] = {1, -1, 1, 1}, q[] = {1, 2}, p[4];
    aml_matrix Q = {1, 2, q};
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    /* The type's own predict refuses an unfitted model. */
    assert_int_equal(aml_learner_knn.predict(l, &(aml_matrix){1, 1, q}, p), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &line, bad_y, NULL, 2, &rng, 1), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &line, line_c, bad_w, 2, &rng, 1), AML_EINVAL);
    knn_fit_ok(l, &line, line_c, NULL, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_EINVAL);
    aml_learner_free(l);
}

static void save_blob(const aml_learner *l, aml_writer *w)
{
    aml_writer_init(w);
    assert_int_equal(aml_learner_save(l, w), AML_OK);
}

static void test_knn_save_load(void **state)
{
    knn_data tr, te;
    aml_learner *l, *back = NULL;
    aml_writer w, w2;
    aml_reader r;
    double *a, *b;
    size_t n;

    knn_data_read(&tr, "trees_knn_clf_train.csv", 1);
    knn_data_read(&te, "trees_knn_clf_test.csv", 0);
    l = aml_test_knn(AML_TASK_CLASSIFICATION, 9, "distance", "manhattan");
    knn_fit_ok(l, &tr.X, tr.y, NULL, 3);
    save_blob(l, &w);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, w.len);
    assert_ptr_equal(back->type, &aml_learner_knn);

    n = te.X.rows * 3;
    a = malloc(n * sizeof(double));
    b = malloc(n * sizeof(double));
    assert_int_equal(aml_learner_predict(l, &te.X, a), AML_OK);
    assert_int_equal(aml_learner_predict(back, &te.X, b), AML_OK);
    assert_memory_equal(a, b, n * sizeof(double));
    /* Saving the loaded model gives the same bytes. */
    save_blob(back, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(w2.data, w.data, w.len);

    free(a);
    free(b);
    aml_writer_dispose(&w);
    aml_writer_dispose(&w2);
    aml_learner_free(l);
    aml_learner_free(back);
    knn_data_free(&tr);
    knn_data_free(&te);
}

static void test_knn_corrupt_model(void **state)
{
    aml_learner *l = aml_test_knn(AML_TASK_CLASSIFICATION, 3, "uniform", "euclidean");
    aml_learner *back = NULL;
    aml_writer w;
    aml_reader r;
    size_t len, lab;

    knn_fit_ok(l, &line, line_c, NULL, 2);
    save_blob(l, &w);
    /* Every truncation is an error. */
    for (len = 0; len < w.len; len++) {
        aml_reader_init(&r, w.data, len);
        assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
        assert_null(back);
    }
    /* Layout: name (4 + 3), task (4), n_classes (4), n_features (8) = 23 bytes,
     * then k (8), weights (1), metric (1), n_out (4), n (8), p (8), X (4 x 8),
     * y (4 x 8).  y[1] = 1.0 is 00 .. 00 f0 3f; make it 2.0 (00 .. 00 00 40),
     * a class outside 0..1. */
    lab = 23 + 8 + 1 + 1 + 4 + 8 + 8 + 4 * 8 + 8;
    assert_int_equal(w.data[lab + 7], 0x3f);
    w.data[lab + 6] = 0;
    w.data[lab + 7] = 0x40;
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
    w.data[lab + 6] = 0xf0;
    w.data[lab + 7] = 0x3f;
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    aml_learner_free(back);
    w.data[23 + 8] = 7; /* weights = 7 */
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
    aml_writer_dispose(&w);
    aml_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knn_sklearn_classification),
        cmocka_unit_test(test_knn_sklearn_regression),
        cmocka_unit_test(test_knn_hand_votes),
        cmocka_unit_test(test_knn_hand_sample_weights),
        cmocka_unit_test(test_knn_hand_regression),
        cmocka_unit_test(test_knn_ties_lower_index),
        cmocka_unit_test(test_knn_metric_changes_neighbour),
        cmocka_unit_test(test_knn_many_queries),
        cmocka_unit_test(test_knn_no_features),
        cmocka_unit_test(test_knn_exact_near_ties),
        cmocka_unit_test(test_knn_tiles_threads_sparse),
        cmocka_unit_test(test_knn_bad_params),
        cmocka_unit_test(test_knn_bad_fit_and_predict),
        cmocka_unit_test(test_knn_fused_matches_blas),
        cmocka_unit_test(test_knn_save_load),
        cmocka_unit_test(test_knn_corrupt_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
