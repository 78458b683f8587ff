/*
 * test_tree.c - tests for learners/tree.c.
 *
 * Predictions are compared with scikit-learn 1.2 DecisionTreeClassifier /
 * DecisionTreeRegressor on the fixtures written by
 * tests/fixtures/gen_trees_knn.py:
 *
 *     /usr/bin/python3 tests/fixtures/gen_trees_knn.py tests/fixtures
 *
 * That script checks each case gives the same predictions for 30
 * random_states, so the fixtures do not hang on how ties between features
 * are broken.  The small cases are computed by hand in the comments.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_decision_tree;

typedef struct tree_data {
    aml_matrix X;
    double *y;
    double *raw;
} tree_data;

/* Tree settings; zero fields keep the defaults. */
typedef struct tree_opts {
    const char *criterion;
    long long max_depth, min_samples_split, min_samples_leaf;
    double max_features;
} tree_opts;

static void tree_data_read(tree_data *d, const char *name, int has_y)
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

static void tree_data_free(tree_data *d)
{
    free(d->X.data);
    free(d->y);
    free(d->raw);
}

static void set_int(aml_learner *l, const char *name, long long v)
{
    aml_value x = {.kind = AML_VAL_INT, .i = v};

    if (v)
        assert_int_equal(aml_learner_set_param(l, name, &x), AML_OK);
}

static aml_learner *tree_make(aml_task task, const tree_opts *o)
{
    aml_learner *l = NULL;
    aml_value crit = {.kind = AML_VAL_STR, .str = o->criterion};
    aml_value mf = {.kind = AML_VAL_REAL, .real = o->max_features};

    assert_int_equal(aml_learner_new(&l, &aml_learner_decision_tree, task), AML_OK);
    if (o->criterion)
        assert_int_equal(aml_learner_set_param(l, "criterion", &crit), AML_OK);
    set_int(l, "max_depth", o->max_depth);
    set_int(l, "min_samples_split", o->min_samples_split);
    set_int(l, "min_samples_leaf", o->min_samples_leaf);
    if (o->max_features > 0)
        assert_int_equal(aml_learner_set_param(l, "max_features", &mf), AML_OK);
    return l;
}

static void tree_fit_seed(aml_learner *l, const aml_matrix *X, const double *y,
                          const double *w, int n_classes, uint64_t seed)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, n_classes, &rng, 1), AML_OK);
}

/* ---- scikit-learn fixtures ---------------------------------------------- */

typedef struct tree_case {
    const char *name;
    tree_opts opts;
    int weighted;
} tree_case;

static void check_case(aml_task task, const tree_case *c)
{
    const char *kind = task == AML_TASK_CLASSIFICATION ? "clf" : "reg";
    tree_data tr, te, ex, w;
    char name[128];
    aml_learner *l;
    double *out;
    size_t i;

    snprintf(name, sizeof(name), "trees_knn_%s_train.csv", kind);
    tree_data_read(&tr, name, 1);
    snprintf(name, sizeof(name), "trees_knn_%s_test.csv", kind);
    tree_data_read(&te, name, 0);
    snprintf(name, sizeof(name), "tree_%s_%s.csv", kind, c->name);
    tree_data_read(&ex, name, 0);
    tree_data_read(&w, "trees_knn_weights.csv", 0);
    assert_true(w.X.rows >= tr.X.rows);

    l = tree_make(task, &c->opts);
    tree_fit_seed(l, &tr.X, tr.y, c->weighted ? w.X.data : NULL, 3, 7);
    assert_int_equal(ex.X.rows, te.X.rows);
    assert_int_equal(ex.X.cols, (size_t)aml_learner_outputs(l));
    out = malloc(ex.X.rows * ex.X.cols * sizeof(double));
    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, &te.X, out), AML_OK);
    for (i = 0; i < ex.X.rows * ex.X.cols; i++)
        assert_close(out[i], ex.X.data[i], 1e-12);

    free(out);
    aml_learner_free(l);
    tree_data_free(&tr);
    tree_data_free(&te);
    tree_data_free(&ex);
    tree_data_free(&w);
}

static void test_tree_sklearn_classification(void **state)
{
    static const tree_case cases[] = {
        {"depth3_gini", {.max_depth = 3}, 0},
        {"depth4_entropy", {.max_depth = 4, .criterion = "entropy"}, 0},
        {"leaf5", {.min_samples_leaf = 5}, 0},
        {"split20_leaf4", {.min_samples_split = 20, .min_samples_leaf = 4}, 0},
        {"depth3_weighted", {.max_depth = 3}, 1},
        {"leaf5_entropy_weighted", {.min_samples_leaf = 5, .criterion = "entropy"}, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(AML_TASK_CLASSIFICATION, &cases[i]);
}

static void test_tree_sklearn_regression(void **state)
{
    static const tree_case cases[] = {
        {"depth3", {.max_depth = 3}, 0},
        {"leaf5", {.min_samples_leaf = 5}, 0},
        {"split12_leaf3_depth6",
         {.min_samples_split = 12, .min_samples_leaf = 3, .max_depth = 6},
         0},
        {"depth4_weighted", {.max_depth = 4}, 1},
        {"leaf5_weighted", {.min_samples_leaf = 5}, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(AML_TASK_REGRESSION, &cases[i]);
}

/* ---- hand-computed cases ------------------------------------------------ */

/* One feature x = 1, 2, 3, 4 with classes 0, 0, 1, 1 and targets 1, 1, 5, 7. */
static double line_x[] = {1, 2, 3, 4};
static double line_c[] = {0, 0, 1, 1};
static double line_t[] = {1, 1, 5, 7};
static const aml_matrix line = {4, 1, line_x};
static const tree_opts defaults = {0};

static void predict1(aml_learner *l, double q, double *out)
{
    aml_matrix Q = {1, 1, &q};

    assert_int_equal(aml_learner_predict(l, &Q, out), AML_OK);
}

static void test_tree_hand_threshold(void **state)
{
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults);
    double p[2];

    /* The only pure split is between 2 and 3: threshold 2.5, and x <= 2.5
     * goes left. */
    tree_fit_seed(l, &line, line_c, NULL, 2, 1);
    predict1(l, 2.5, p);
    assert_close(p[0], 1.0, 0);
    predict1(l, nextafter(2.5, 3.0), p);
    assert_close(p[1], 1.0, 0);
    aml_learner_free(l);
}

static void test_tree_hand_regression(void **state)
{
    tree_opts o = {.max_depth = 1};
    aml_learner *l = tree_make(AML_TASK_REGRESSION, &o);
    double v;

    /* Proxy S_l^2/W_l + S_r^2/W_r for the three cuts:
     *   after x=1: 1 + 13^2/3 = 57.33;  after x=2: 2^2/2 + 12^2/2 = 74;
     *   after x=3: 7^2/3 + 7^2 = 65.33.  Best is after 2: leaves 1 and 6. */
    tree_fit_seed(l, &line, line_t, NULL, 0, 1);
    predict1(l, 0, &v);
    assert_close(v, 1.0, 1e-15);
    predict1(l, 2.6, &v);
    assert_close(v, 6.0, 1e-15);
    aml_learner_free(l);
}

static void test_tree_zero_weight_rows_dropped(void **state)
{
    double x[] = {1, 2, 3, 4, 5}, y[] = {0, 0, 1, 1, 0}, w[] = {1, 1, 1, 1, 0}, p[2];
    aml_matrix X = {5, 1, x};
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults);

    /* Without row 5 the tree is the 2.5 split above, so x = 5 is class 1;
     * with row 5 counted it would be a pure class-0 leaf. */
    tree_fit_seed(l, &X, y, w, 2, 1);
    predict1(l, 5, p);
    assert_close(p[1], 1.0, 0);
    aml_learner_free(l);
}

static void test_tree_weighted_fractions(void **state)
{
    tree_opts o = {.min_samples_leaf = 3};
    double w[] = {1, 2, 3, 4}, p[2];
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &o);

    /* 4 rows < 2 * min_samples_leaf: one leaf, class weights 3 and 7 of 10. */
    tree_fit_seed(l, &line, line_c, w, 2, 1);
    predict1(l, 0, p);
    assert_close(p[0], 0.3, 1e-15);
    assert_close(p[1], 0.7, 1e-15);
    aml_learner_free(l);
}

static void test_tree_min_samples_split(void **state)
{
    tree_opts o = {.min_samples_split = 5};
    double v;
    aml_learner *l = tree_make(AML_TASK_REGRESSION, &o);

    /* 4 rows < min_samples_split 5: the mean, (1 + 1 + 5 + 7) / 4 = 3.5. */
    tree_fit_seed(l, &line, line_t, NULL, 0, 1);
    predict1(l, 3, &v);
    assert_close(v, 3.5, 1e-15);
    aml_learner_free(l);
}

static void test_tree_importance_hand(void **state)
{
    /* Rows (x0, x1, y): (0,0,0) (0,1,1) (1,0,1) (1,1,1).  Root: classes 1
     * and 3 of 4, gini 6/16, weighted 4 * 6/16 = 1.5.  x0 and x1 both leave
     * a pure side and a (1, 1) side of weighted gini 2 * 0.5 = 1; the first
     * feature wins: decrease 1.5 - 1 = 0.5 for x0.  Its left child (0,0,0)
     * (0,1,1) splits on x1 into pure leaves: decrease 1 for x1.  Normalised:
     * 1/3 and 2/3, which survive save and load. */
    double x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 1}, imp[2];
    aml_matrix X = {4, 2, x};
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults), *back = NULL;
    aml_writer w;
    aml_reader r;

    tree_fit_seed(l, &X, y, NULL, 2, 1);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    assert_close(imp[0], 1.0 / 3, 1e-15);
    assert_close(imp[1], 2.0 / 3, 1e-15);
    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    imp[0] = imp[1] = -1;
    assert_int_equal(aml_learner_importance(back, imp), AML_OK);
    assert_close(imp[0], 1.0 / 3, 1e-15);
    assert_close(imp[1], 2.0 / 3, 1e-15);
    aml_writer_dispose(&w);
    aml_learner_free(back);
    aml_learner_free(l);
}

/* ---- max_features and the rng ------------------------------------------- */

static void save_blob(const aml_learner *l, aml_writer *w)
{
    aml_writer_init(w);
    assert_int_equal(aml_learner_save(l, w), AML_OK);
}

static int same_tree(double max_features, uint64_t seed_a, uint64_t seed_b)
{
    tree_opts o = {.max_features = max_features};
    tree_data tr;
    aml_learner *a, *b;
    aml_writer wa, wb;
    int same;

    tree_data_read(&tr, "trees_knn_clf_train.csv", 1);
    a = tree_make(AML_TASK_CLASSIFICATION, &o);
    b = tree_make(AML_TASK_CLASSIFICATION, &o);
    tree_fit_seed(a, &tr.X, tr.y, NULL, 3, seed_a);
    tree_fit_seed(b, &tr.X, tr.y, NULL, 3, seed_b);
    save_blob(a, &wa);
    save_blob(b, &wb);
    same = wa.len == wb.len && memcmp(wa.data, wb.data, wa.len) == 0;
    aml_writer_dispose(&wa);
    aml_writer_dispose(&wb);
    aml_learner_free(a);
    aml_learner_free(b);
    tree_data_free(&tr);
    return same;
}

static void test_tree_max_features_rng(void **state)
{
    /* 0.34 of 6 features = 2 candidates per node, drawn with the rng. */
    assert_true(same_tree(0.34, 5, 5));
    assert_false(same_tree(0.34, 5, 6));
    /* All features: the rng is not used. */
    assert_true(same_tree(1.0, 5, 6));
}

static void test_tree_ties_first_feature(void **state)
{
    /* Both features split the rows into {0, 1} and {2, 3}: feature 0 at 2.5
     * and feature 1 at 25.  The first feature wins the tie, so (2, 30) goes
     * left on x0 <= 2.5 and gets class 0 (x1 would send it right). */
    double x[] = {1, 10, 2, 20, 3, 30, 4, 40}, q[] = {2, 30}, p[2];
    aml_matrix X = {4, 2, x}, Q = {1, 2, q};
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults);

    tree_fit_seed(l, &X, line_c, NULL, 2, 1);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 1.0, 0);
    aml_learner_free(l);
}

static void test_tree_max_features_limits_candidates(void **state)
{
    /* x0 separates the classes, x1 (1, 3, 2, 4) does not.  With one candidate
     * feature per node (0.5 of 2) a stump sometimes gets only x1, and then
     * row (2, 3) lands in a mixed leaf; with both features it never does. */
    double x[] = {1, 1, 2, 3, 3, 2, 4, 4}, q[] = {2, 3}, p[2];
    aml_matrix X = {4, 2, x}, Q = {1, 2, q};
    tree_opts half = {.max_depth = 1, .max_features = 0.5};
    tree_opts all = {.max_depth = 1};
    int pure = 0, mixed = 0;
    uint64_t seed;

    for (seed = 1; seed <= 16; seed++) {
        aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &half);

        tree_fit_seed(l, &X, line_c, NULL, 2, seed);
        assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
        pure += p[0] == 1.0;
        mixed += p[0] < 1.0;
        aml_learner_free(l);

        l = tree_make(AML_TASK_CLASSIFICATION, &all);
        tree_fit_seed(l, &X, line_c, NULL, 2, seed);
        assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
        assert_close(p[0], 1.0, 0);
        aml_learner_free(l);
    }
    assert_true(pure > 0);
    assert_true(mixed > 0);
}

/* ---- code paths agree ---------------------------------------------------- */

/*
 * Two-valued features take a shortcut (tree_build.c sums the rarer value's
 * rows from a list); a third value in a row of weight 0 makes the same
 * features go through the histogram instead.  Rows of weight 0 take no
 * part, so both trees must be the same (sums may round differently).
 */
static void check_sparse_path(aml_task task)
{
    enum { N = 400, P = 6 };
    double *x = malloc((N + 1) * P * sizeof(double)), y[N + 1], w[N + 1], *a, *b;
    aml_matrix X = {N, P, x}, X1 = {N + 1, P, x};
    aml_learner *la = tree_make(task, &defaults), *lb = tree_make(task, &defaults);
    aml_rng rng;
    size_t i, j, C = task == AML_TASK_CLASSIFICATION ? 2 : 1;

    aml_rng_init(&rng, 77, 0);
    for (i = 0; i < N; i++) {
        for (j = 0; j < P; j++)
            x[i * P + j] = aml_rng_uniform(&rng) < 0.1 + 0.1 * (double)j;
        y[i] = x[i * P] + x[i * P + 1] + (aml_rng_uniform(&rng) < 0.2);
        if (task == AML_TASK_CLASSIFICATION)
            y[i] = y[i] >= 1;
        w[i] = 1;
    }
    for (j = 0; j < P; j++)
        x[N * P + j] = 2;
    y[N] = 0;
    w[N] = 0;
    tree_fit_seed(la, &X, y, NULL, 2, 1);
    tree_fit_seed(lb, &X1, y, w, 2, 1);
    a = malloc(N * C * sizeof(double));
    b = malloc(N * C * sizeof(double));
    assert_int_equal(aml_learner_predict(la, &X, a), AML_OK);
    assert_int_equal(aml_learner_predict(lb, &X, b), AML_OK);
    for (i = 0; i < N * C; i++)
        assert_close(a[i], b[i], 1e-12);
    free(a);
    free(b);
    free(x);
    aml_learner_free(la);
    aml_learner_free(lb);
}

static void test_tree_sparse_path_agrees(void **state)
{
    check_sparse_path(AML_TASK_CLASSIFICATION);
    check_sparse_path(AML_TASK_REGRESSION);
}

/* ---- errors ------------------------------------------------------------- */

static void test_tree_bad_params(void **state)
{
    aml_learner *l = NULL;
    aml_value zero = {.kind = AML_VAL_REAL, .real = 0.0};
    aml_value big = {.kind = AML_VAL_REAL, .real = 1.5};
    aml_value one = {.kind = AML_VAL_INT, .i = 1};
    aml_value neg = {.kind = AML_VAL_INT, .i = -1};
    aml_value mse = {.kind = AML_VAL_STR, .str = "mse"};

    assert_int_equal(aml_learner_new(&l, &aml_learner_decision_tree, AML_TASK_REGRESSION),
                     AML_OK);
    assert_int_equal(aml_learner_set_param(l, "max_features", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_features", &big), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "min_samples_split", &one), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "min_samples_leaf", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_depth", &neg), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "criterion", &mse), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "criterion", &one), AML_EINVAL);
    assert_int_equal(aml_learner_decision_tree.set_param(l, "max_features", &zero),
                     AML_EINVAL);
    /* max_features = 1 given as an integer is converted, and accepted. */
    assert_int_equal(aml_learner_set_param(l, "max_features", &one), AML_OK);
    aml_learner_free(l);
}

static void test_tree_bad_fit(void **state)
{
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults);
    double bad_y[] = {0, 0.5, 1, 1}, zero_w[] = {0, 0, 0, 0}, neg_w[] = {1, 1, -1, 1};
    double q = 1, p[2];
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_decision_tree.predict(l, &(aml_matrix){1, 1, &q}, p),
                     AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &line, bad_y, NULL, 2, &rng, 1), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &line, line_c, zero_w, 2, &rng, 1), AML_EINVAL);
    assert_int_equal(aml_learner_fit(l, &line, line_c, neg_w, 2, &rng, 1), AML_EINVAL);
    aml_learner_free(l);
}

/* ---- model files -------------------------------------------------------- */

static void test_tree_save_load(void **state)
{
    tree_opts o = {.min_samples_leaf = 2, .max_features = 0.5};
    tree_data tr, te;
    aml_learner *l, *back = NULL;
    aml_writer w, w2;
    aml_reader r;
    double *a, *b;
    size_t n;

    tree_data_read(&tr, "trees_knn_clf_train.csv", 1);
    tree_data_read(&te, "trees_knn_clf_test.csv", 0);
    l = tree_make(AML_TASK_CLASSIFICATION, &o);
    tree_fit_seed(l, &tr.X, tr.y, NULL, 3, 3);
    save_blob(l, &w);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, w.len);
    assert_ptr_equal(back->type, &aml_learner_decision_tree);

    n = te.X.rows * 3;
    a = malloc(n * sizeof(double));
    b = malloc(n * sizeof(double));
    assert_int_equal(aml_learner_predict(l, &te.X, a), AML_OK);
    assert_int_equal(aml_learner_predict(back, &te.X, b), AML_OK);
    assert_memory_equal(a, b, n * sizeof(double));
    save_blob(back, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(w2.data, w.data, w.len);

    free(a);
    free(b);
    aml_writer_dispose(&w);
    aml_writer_dispose(&w2);
    aml_learner_free(l);
    aml_learner_free(back);
    tree_data_free(&tr);
    tree_data_free(&te);
}

/*
 * Layout of the hand tree's blob: name (4 + 13), task, n_classes (4 + 4),
 * n_features (8) = 33 bytes; criterion (1), max_depth, min_samples_split,
 * min_samples_leaf (3 x 8), max_features (8), n_out (4), p (8), n_nodes (4),
 * n_leaves (4) = 53 bytes; then per node arrays of n = 3: feature (i32),
 * threshold (f64), left, right, value (i32), then the leaf values and the
 * p = 1 feature importances (f64).
 */
#define BLOB_ARRAYS (33 + 53)
#define BLOB_FEATURE(i) (BLOB_ARRAYS + 4 * (i))
#define BLOB_LEFT(i) (BLOB_ARRAYS + 12 * 3 + 4 * (i))
#define BLOB_RIGHT(i) (BLOB_ARRAYS + 16 * 3 + 4 * (i))
#define BLOB_VALUE(i) (BLOB_ARRAYS + 20 * 3 + 4 * (i))

static int32_t get_i32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static void put_i32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;

    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

/* Loads blob with the int32 at `at` replaced by v; returns the load's code. */
static int load_patched(const aml_writer *w, size_t at, int32_t v)
{
    unsigned char *copy = malloc(w->len);
    aml_learner *back = NULL;
    aml_reader r;
    int rc;

    assert_non_null(copy);
    memcpy(copy, w->data, w->len);
    put_i32(copy + at, v);
    aml_reader_init(&r, copy, w->len);
    rc = aml_learner_load(&back, &r);
    if (rc == AML_OK)
        aml_learner_free(back);
    else
        assert_null(back);
    free(copy);
    return rc;
}

static void test_tree_corrupt_model(void **state)
{
    aml_learner *l = tree_make(AML_TASK_CLASSIFICATION, &defaults);
    aml_learner *back = NULL;
    aml_writer w;
    aml_reader r;
    size_t len;

    tree_fit_seed(l, &line, line_c, NULL, 2, 1);
    save_blob(l, &w);
    /* The hand tree: root 0 splits on feature 0 into leaves 1 and 2. */
    assert_int_equal(w.len, BLOB_ARRAYS + 24 * 3 + 2 * 2 * 8 + 8);
    assert_int_equal(get_i32(w.data + BLOB_FEATURE(0)), 0);
    assert_int_equal(get_i32(w.data + BLOB_LEFT(0)), 1);
    assert_int_equal(get_i32(w.data + BLOB_RIGHT(0)), 2);
    assert_int_equal(load_patched(&w, BLOB_LEFT(0), 1), AML_OK); /* unchanged */

    assert_int_equal(load_patched(&w, BLOB_LEFT(0), 0), AML_EFORMAT);    /* cycle */
    assert_int_equal(load_patched(&w, BLOB_LEFT(0), 3), AML_EFORMAT);    /* past end */
    assert_int_equal(load_patched(&w, BLOB_LEFT(0), -1), AML_EFORMAT);   /* missing */
    assert_int_equal(load_patched(&w, BLOB_RIGHT(0), 1), AML_EFORMAT);   /* shared */
    assert_int_equal(load_patched(&w, BLOB_FEATURE(0), 1), AML_EFORMAT); /* p = 1 */
    assert_int_equal(load_patched(&w, BLOB_FEATURE(1), 0), AML_EFORMAT); /* no kids */
    assert_int_equal(load_patched(&w, BLOB_VALUE(2), 2), AML_EFORMAT);   /* 2 leaves */
    assert_int_equal(load_patched(&w, BLOB_VALUE(0), 0), AML_EFORMAT);   /* split */
    assert_int_equal(load_patched(&w, BLOB_ARRAYS - 8, 4), AML_EFORMAT); /* n_nodes */
    assert_int_equal(load_patched(&w, BLOB_ARRAYS - 4, 3), AML_EFORMAT); /* n_leaves */

    for (len = 0; len < w.len; len++) {
        aml_reader_init(&r, w.data, len);
        assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
        assert_null(back);
    }
    aml_writer_dispose(&w);
    aml_learner_free(l);
}

/* Any single corrupted byte either fails to load or gives a working model. */
static void test_tree_corrupt_bytes_never_crash(void **state)
{
    tree_opts o = {.max_depth = 4};
    tree_data tr, te;
    aml_learner *l, *back;
    aml_writer w;
    aml_reader r;
    double *out;
    size_t i, loaded = 0;

    tree_data_read(&tr, "trees_knn_clf_train.csv", 1);
    tree_data_read(&te, "trees_knn_clf_test.csv", 0);
    l = tree_make(AML_TASK_CLASSIFICATION, &o);
    tree_fit_seed(l, &tr.X, tr.y, NULL, 3, 1);
    save_blob(l, &w);
    out = malloc(te.X.rows * 3 * sizeof(double));
    assert_non_null(out);
    for (i = 0; i < w.len; i++) {
        w.data[i] ^= 0xa5;
        aml_reader_init(&r, w.data, w.len);
        if (aml_learner_load(&back, &r) == AML_OK) {
            int rc = aml_learner_predict(back, &te.X, out);

            assert_true(rc == AML_OK || rc == AML_EINVAL || rc == AML_EFORMAT);
            aml_learner_free(back);
            loaded++;
        }
        w.data[i] ^= 0xa5;
    }
    /* Thresholds and leaf values load fine when changed: the test did run. */
    assert_true(loaded > 0);
    free(out);
    aml_writer_dispose(&w);
    aml_learner_free(l);
    tree_data_free(&tr);
    tree_data_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_sklearn_classification),
        cmocka_unit_test(test_tree_sklearn_regression),
        cmocka_unit_test(test_tree_hand_threshold),
        cmocka_unit_test(test_tree_hand_regression),
        cmocka_unit_test(test_tree_zero_weight_rows_dropped),
        cmocka_unit_test(test_tree_weighted_fractions),
        cmocka_unit_test(test_tree_min_samples_split),
        cmocka_unit_test(test_tree_ties_first_feature),
        cmocka_unit_test(test_tree_importance_hand),
        cmocka_unit_test(test_tree_max_features_rng),
        cmocka_unit_test(test_tree_max_features_limits_candidates),
        cmocka_unit_test(test_tree_sparse_path_agrees),
        cmocka_unit_test(test_tree_bad_params),
        cmocka_unit_test(test_tree_bad_fit),
        cmocka_unit_test(test_tree_save_load),
        cmocka_unit_test(test_tree_corrupt_model),
        cmocka_unit_test(test_tree_corrupt_bytes_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
