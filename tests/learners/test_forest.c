/*
 * test_forest.c - tests for learners/forest.c (random_forest, extra_trees).
 *
 * Forests draw their random numbers with our generator, so their trees
 * cannot equal scikit-learn's.  The fixtures of tests/fixtures/gen_forest.py
 *
 *     /usr/bin/python3 tests/fixtures/gen_forest.py tests/fixtures
 *
 * give scikit-learn's mean test score over 20 seeds per case; we compare
 * our mean over a few seeds with it.  Exact checks come from properties:
 * without bootstrap and random features every tree is the CART tree; the
 * out-of-bag score equals a recomputation from the trees and their
 * bootstrap samples; a fit is bit-identical for any thread count.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "learner.h"
#include "tree_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const aml_learner_type aml_learner_random_forest, aml_learner_extra_trees;
extern const aml_learner_type aml_learner_decision_tree;

#define RF (&aml_learner_random_forest)
#define ET (&aml_learner_extra_trees)
#define CLF AML_TASK_CLASSIFICATION
#define REG AML_TASK_REGRESSION

typedef struct data {
    aml_matrix X;
    double *y;
} data;

/* Reads a fixture whose last column is y (has_y) or that has none. */
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

/* Sets "name=value" parameters: a number when it parses as one, else a word. */
static aml_learner *make(const aml_learner_type *type, aml_task task, const char *params)
{
    aml_learner *l = NULL;
    char buf[256], *tok, *save = NULL;

    assert_int_equal(aml_learner_new(&l, type, task), AML_OK);
    snprintf(buf, sizeof(buf), "%s", params ? params : "");
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '='), *end;
        aml_value v = {.kind = AML_VAL_STR};

        assert_non_null(eq);
        *eq = '\0';
        v.str = eq + 1;
        v.i = strtoll(v.str, &end, 10);
        if (*end == '\0') {
            v.kind = AML_VAL_INT;
        } else {
            v.real = strtod(v.str, &end);
            if (*end == '\0')
                v.kind = AML_VAL_REAL;
        }
        assert_int_equal(aml_learner_set_param(l, tok, &v), AML_OK);
    }
    return l;
}

static void fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                int n_classes, uint64_t seed, int threads)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    assert_int_equal(aml_learner_fit(l, X, y, w, n_classes, &rng, threads), AML_OK);
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

static int same_blob(const aml_learner *a, const aml_learner *b)
{
    aml_writer wa, wb;
    int same;

    blob(a, &wa);
    blob(b, &wb);
    same = wa.len == wb.len && memcmp(wa.data, wb.data, wa.len) == 0;
    aml_writer_dispose(&wa);
    aml_writer_dispose(&wb);
    return same;
}

/* Test accuracy (classification) or RMSE. */
static double score(const aml_learner *l, const data *te)
{
    double *p = predict(l, &te->X), s = 0;
    size_t i, C = (size_t)aml_learner_outputs(l);

    for (i = 0; i < te->X.rows; i++) {
        if (l->task == CLF) {
            size_t c, best = 0;

            for (c = 1; c < C; c++)
                best = p[i * C + c] > p[i * C + best] ? c : best;
            s += (double)best == te->y[i];
        } else {
            s += (p[i] - te->y[i]) * (p[i] - te->y[i]);
        }
    }
    free(p);
    s /= (double)te->X.rows;
    return l->task == CLF ? s : sqrt(s);
}

/* ---- every tree is the CART tree ---------------------------------------- */

static void check_equals_cart(const aml_learner_type *type, aml_task task)
{
    const char *kind = task == CLF ? "clf" : "reg";
    char name[64];
    data tr, te;
    aml_learner *f, *t;
    double *pf, *pt, *one;
    size_t k, m;

    snprintf(name, sizeof(name), "trees_knn_%s_train.csv", kind);
    data_read(&tr, name, 1);
    snprintf(name, sizeof(name), "trees_knn_%s_test.csv", kind);
    data_read(&te, name, 0);
    f = make(type, task,
             "n_estimators=4 bootstrap=false max_features=1.0 min_samples_leaf=2");
    t = make(&aml_learner_decision_tree, task, "min_samples_leaf=2");
    fit(f, &tr.X, tr.y, NULL, 3, 1, 2);
    fit(t, &tr.X, tr.y, NULL, 3, 2, 1);
    pf = predict(f, &te.X);
    pt = predict(t, &te.X);
    m = te.X.rows * (size_t)aml_learner_outputs(t);
    one = malloc(m * sizeof(double));
    assert_int_equal(aml_forest_n_trees(f), 4);
    for (k = 0; k < 4; k++) {
        aml_tree_predict(aml_forest_tree(f, k), &te.X, one);
        assert_memory_equal(one, pt, m * sizeof(double));
    }
    /* The mean of four equal trees: exact up to the sum's rounding. */
    for (k = 0; k < m; k++)
        assert_close(pf[k], pt[k], 1e-15 * fmax(1, fabs(pt[k])));
    free(one);
    free(pf);
    free(pt);
    aml_learner_free(f);
    aml_learner_free(t);
    data_free(&tr);
    data_free(&te);
}

static void test_forest_equals_cart(void **state)
{
    check_equals_cart(RF, CLF);
    check_equals_cart(RF, REG);
}

/* ---- determinism, save and load ----------------------------------------- */

static void check_threads(const aml_learner_type *type, aml_task task, const char *params)
{
    data tr;
    aml_learner *a = make(type, task, params), *b = make(type, task, params);
    aml_learner *c = make(type, task, params), *d = make(type, task, params);

    data_read(&tr, task == CLF ? "forest_clf_train.csv" : "forest_reg_train.csv", 1);
    fit(a, &tr.X, tr.y, NULL, 3, 11, 1);
    fit(b, &tr.X, tr.y, NULL, 3, 11, 2);
    fit(c, &tr.X, tr.y, NULL, 3, 11, 3);
    fit(d, &tr.X, tr.y, NULL, 3, 12, 2);
    assert_true(same_blob(a, b));
    assert_true(same_blob(a, c));
    assert_false(same_blob(a, d)); /* the seed matters */
    aml_learner_free(a);
    aml_learner_free(b);
    aml_learner_free(c);
    aml_learner_free(d);
    data_free(&tr);
}

static void test_forest_threads_bit_identical(void **state)
{
    check_threads(RF, CLF, "n_estimators=12 oob_score=true");
    check_threads(RF, REG, "n_estimators=12 max_features=0.5");
    check_threads(ET, CLF, "n_estimators=12");
    check_threads(ET, REG, "n_estimators=12 bootstrap=true max_depth=5");
}

static void check_save_load(const aml_learner_type *type, aml_task task)
{
    data tr, te;
    aml_learner *l = make(type, task, "n_estimators=7 oob_score=true"), *back = NULL;
    aml_writer w, w2;
    aml_reader r;
    double *a, *b, ia[8], ib[8];
    size_t m, len;

    data_read(&tr, task == CLF ? "forest_clf_train.csv" : "forest_reg_train.csv", 1);
    data_read(&te, task == CLF ? "forest_clf_test.csv" : "forest_reg_test.csv", 1);
    fit(l, &tr.X, tr.y, NULL, 3, 5, 2);
    blob(l, &w);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, w.len);
    assert_ptr_equal(back->type, type);
    a = predict(l, &te.X);
    b = predict(back, &te.X);
    m = te.X.rows * (size_t)aml_learner_outputs(l);
    assert_memory_equal(a, b, m * sizeof(double));
    assert_int_equal(aml_learner_importance(l, ia), AML_OK);
    assert_int_equal(aml_learner_importance(back, ib), AML_OK);
    assert_memory_equal(ia, ib, tr.X.cols * sizeof(double));
    assert_true(aml_forest_oob_score(back) == aml_forest_oob_score(l) ||
                isnan(aml_forest_oob_score(l)));
    blob(back, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(w2.data, w.data, w.len);
    /* Every truncation fails cleanly (prefixes cut inside the trees). */
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
    aml_learner_free(l);
    aml_learner_free(back);
    data_free(&tr);
    data_free(&te);
}

static void test_forest_save_load(void **state)
{
    check_save_load(RF, CLF);
    check_save_load(RF, REG);
    check_save_load(ET, CLF);
    check_save_load(ET, REG);
}

/* ---- out-of-bag score --------------------------------------------------- */

/* Recomputes the OOB score from the trees and their bootstrap counts. */
static double oob_by_hand(const aml_learner *l, const data *tr)
{
    size_t n = tr->X.rows, C = (size_t)aml_learner_outputs(l), i, c, t;
    double *sum = calloc(n * C, sizeof(double)), *one = malloc(C * sizeof(double));
    unsigned *counts = malloc(n * sizeof(unsigned));
    size_t *seen = calloc(n, sizeof(size_t));
    double s = 0, mean = 0, tot = 0;

    for (t = 0; t < aml_forest_n_trees(l); t++) {
        assert_int_equal(aml_forest_inbag(l, t, counts, n), AML_OK);
        for (i = 0, c = 0; i < n; i++)
            c += counts[i];
        assert_int_equal(c, n); /* n draws */
        for (i = 0; i < n; i++) {
            aml_matrix row = {1, tr->X.cols, tr->X.data + i * tr->X.cols};

            if (counts[i])
                continue;
            aml_tree_predict(aml_forest_tree(l, t), &row, one);
            for (c = 0; c < C; c++)
                sum[i * C + c] += one[c];
            seen[i]++;
        }
    }
    for (i = 0; i < n; i++)
        mean += tr->y[i] / (double)n;
    for (i = 0; i < n; i++) {
        double k = seen[i] ? (double)seen[i] : 1.0;

        if (C > 1) { /* the first most probable class */
            size_t best = 0;

            for (c = 1; c < C; c++)
                best = sum[i * C + c] / k > sum[i * C + best] / k ? c : best;
            s += (double)best == tr->y[i];
        } else {
            s += (tr->y[i] - sum[i] / k) * (tr->y[i] - sum[i] / k);
            tot += (tr->y[i] - mean) * (tr->y[i] - mean);
        }
    }
    free(sum);
    free(one);
    free(counts);
    free(seen);
    return C > 1 ? s / (double)n : 1.0 - s / tot;
}

static void check_oob(const aml_learner_type *type, aml_task task, const char *params)
{
    data tr, te;
    aml_learner *l = make(type, task, params);
    double oob, test;

    data_read(&tr, task == CLF ? "forest_clf_train.csv" : "forest_reg_train.csv", 1);
    data_read(&te, task == CLF ? "forest_clf_test.csv" : "forest_reg_test.csv", 1);
    fit(l, &tr.X, tr.y, NULL, 3, 9, 2);
    oob = aml_forest_oob_score(l);
    assert_close(oob, oob_by_hand(l, &tr), 1e-12);
    test = score(l, &te);
    if (task == CLF) {
        /* An honest estimate: near the held-out accuracy (about 0.77). */
        assert_true(fabs(oob - test) < 0.08);
    } else {
        /* R^2 of friedman1 forests is about 0.8. */
        assert_true(oob > 0.6 && oob < 0.95);
    }
    aml_learner_free(l);
    data_free(&tr);
    data_free(&te);
}

static void test_forest_oob_score(void **state)
{
    aml_learner *l = make(RF, CLF, "n_estimators=3");
    data tr;

    check_oob(RF, CLF, "n_estimators=30 oob_score=true");
    check_oob(RF, REG, "n_estimators=30 oob_score=true");
    check_oob(ET, CLF, "n_estimators=30 oob_score=true bootstrap=true");
    /* Not asked for: NaN. */
    data_read(&tr, "forest_clf_train.csv", 1);
    fit(l, &tr.X, tr.y, NULL, 3, 9, 1);
    assert_true(isnan(aml_forest_oob_score(l)));
    aml_learner_free(l);
    data_free(&tr);
}

/* ---- scikit-learn's scores ---------------------------------------------- */

typedef struct score_case {
    const aml_learner_type *type;
    aml_task task;
    const char *params;
} score_case;

static void test_forest_sklearn_scores(void **state)
{
    /* The rows of forest_scores.csv, in order (see gen_forest.py). */
    static const score_case cases[] = {
        {RF, CLF, "n_estimators=50"},
        {RF, CLF, "n_estimators=50 max_depth=4 min_samples_leaf=3"},
        {ET, CLF, "n_estimators=50"},
        {ET, CLF, "n_estimators=50 criterion=entropy bootstrap=true"},
        {RF, REG, "n_estimators=50"},
        {RF, REG, "n_estimators=50 max_features=0.5 min_samples_split=6"},
        {ET, REG, "n_estimators=50"},
        {ET, REG, "n_estimators=50 max_features=log2 max_depth=6"},
    };
    data ctr, cte, rtr, rte, sk;
    size_t i;
    uint64_t seed;

    data_read(&ctr, "forest_clf_train.csv", 1);
    data_read(&cte, "forest_clf_test.csv", 1);
    data_read(&rtr, "forest_reg_train.csv", 1);
    data_read(&rte, "forest_reg_test.csv", 1);
    data_read(&sk, "forest_scores.csv", 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const data *tr = cases[i].task == CLF ? &ctr : &rtr;
        const data *te = cases[i].task == CLF ? &cte : &rte;
        double mean = 0, want = sk.X.data[i * 3 + 1];

        for (seed = 1; seed <= 4; seed++) {
            aml_learner *l = make(cases[i].type, cases[i].task, cases[i].params);

            fit(l, &tr->X, tr->y, NULL, 3, seed, 2);
            mean += score(l, te) / 4;
            aml_learner_free(l);
        }
        if (getenv("AML_TEST_VERBOSE"))
            print_message("case %zu: ours %.4f, scikit-learn %.4f\n", i, mean, want);
        /* Accuracy within 0.025 (sd over seeds about 0.012); RMSE within 4%. */
        if (cases[i].task == CLF)
            assert_close(mean, want, 0.025);
        else
            assert_close(mean, want, 0.04 * want);
    }
    data_free(&ctr);
    data_free(&cte);
    data_free(&rtr);
    data_free(&rte);
    data_free(&sk);
}

/* ---- the edge cases --------------------------------------------- */

static void test_forest_one_feature_and_constant(void **state)
{
    /* x0 separates the classes at 3.5; x1 is constant. */
    double x[] = {1, 7, 2, 7, 3, 7, 4, 7, 5, 7, 6, 7}, y[] = {0, 0, 0, 1, 1, 1};
    double q[] = {0, 7, 10, 7}, p[4], imp[2];
    aml_matrix X = {6, 2, x}, Q = {2, 2, q}, X1 = {6, 1, NULL};
    double x1[6] = {1, 2, 3, 4, 5, 6}, q1[2] = {0, 10};
    aml_matrix Q1 = {2, 1, q1};
    aml_learner *l = make(ET, CLF, "n_estimators=20");

    fit(l, &X, y, NULL, 2, 1, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    /* Without bootstrap every tree separates the training rows. */
    assert_close(p[0], 1.0, 0);
    assert_close(p[3], 1.0, 0);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    assert_close(imp[0], 1.0, 1e-15);
    assert_close(imp[1], 0.0, 0);
    aml_learner_free(l);

    X1.data = x1;
    l = make(RF, REG, "n_estimators=10");
    fit(l, &X1, y, NULL, 0, 1, 1);
    assert_int_equal(aml_learner_predict(l, &Q1, p), AML_OK);
    assert_true(p[0] >= 0 && p[0] < 0.5 && p[1] > 0.5 && p[1] <= 1);
    aml_learner_free(l);
}

static void test_forest_duplicates_and_tiny_class(void **state)
{
    /* Rows repeated three times; class 2 has a single row at x = 10. */
    double x[] = {1, 1, 1, 2, 2, 2, 5, 5, 5, 6, 6, 6, 10}, y[13];
    double q = 10, p[3];
    aml_matrix X = {13, 1, x}, Q = {1, 1, &q};
    aml_learner *l = make(ET, CLF, "n_estimators=10");
    size_t i;

    for (i = 0; i < 13; i++)
        y[i] = i < 6 ? 0 : (i < 12 ? 1 : 2);
    fit(l, &X, y, NULL, 3, 4, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[2], 1.0, 0);
    assert_close(p[0] + p[1] + p[2], 1.0, 1e-15);
    aml_learner_free(l);
}

static void test_forest_zero_weights_drop_rows(void **state)
{
    /* extra_trees without bootstrap: rows of weight 0 take no part, so the
     * forest equals the one fitted on the other rows (same draws). */
    data tr, te, sub;
    double *w, *a, *b;
    aml_learner *l1 = make(ET, REG, "n_estimators=5"),
                *l2 = make(ET, REG, "n_estimators=5");
    size_t i, m = 0, p;

    data_read(&tr, "forest_reg_train.csv", 1);
    data_read(&te, "forest_reg_test.csv", 1);
    p = tr.X.cols;
    w = malloc(tr.X.rows * sizeof(double));
    sub.X.data = malloc(tr.X.rows * p * sizeof(double));
    sub.y = malloc(tr.X.rows * sizeof(double));
    for (i = 0; i < tr.X.rows; i++) {
        w[i] = i % 3 == 0 ? 0.0 : 1.0;
        if (w[i] > 0) {
            memcpy(sub.X.data + m * p, tr.X.data + i * p, p * sizeof(double));
            sub.y[m++] = tr.y[i];
        }
    }
    sub.X.rows = m;
    sub.X.cols = p;
    fit(l1, &tr.X, tr.y, w, 0, 3, 2);
    fit(l2, &sub.X, sub.y, NULL, 0, 3, 1);
    a = predict(l1, &te.X);
    b = predict(l2, &te.X);
    assert_memory_equal(a, b, te.X.rows * sizeof(double));
    free(a);
    free(b);
    free(w);
    aml_learner_free(l1);
    aml_learner_free(l2);
    data_free(&tr);
    data_free(&te);
    data_free(&sub);
}

static void test_forest_more_features_than_rows(void **state)
{
    double x[5 * 20], y[5] = {0, 1, 0, 1, 1}, p[5 * 2], imp[20], s = 0;
    aml_matrix X = {5, 20, x};
    aml_learner *l = make(RF, CLF, "n_estimators=15");
    aml_rng rng;
    size_t i;

    aml_rng_init(&rng, 3, 0);
    for (i = 0; i < 100; i++)
        x[i] = aml_rng_uniform(&rng);
    fit(l, &X, y, NULL, 2, 1, 2);
    assert_int_equal(aml_learner_predict(l, &X, p), AML_OK);
    for (i = 0; i < 5; i++)
        assert_close(p[2 * i] + p[2 * i + 1], 1.0, 1e-15);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    for (i = 0; i < 20; i++)
        s += imp[i];
    assert_close(s, 1.0, 1e-12);
    aml_learner_free(l);
}

static void test_forest_separable(void **state)
{
    /* Two well separated clusters on x0; x1 noise. */
    double x[40], y[20], p[40];
    aml_matrix X = {20, 2, x};
    aml_learner *l = make(RF, CLF, "n_estimators=25 max_features=1.0");
    size_t i;

    for (i = 0; i < 20; i++) {
        x[2 * i] = i < 10 ? (double)i : 100.0 + (double)i;
        x[2 * i + 1] = (double)((i * 7) % 5);
        y[i] = i < 10 ? 0 : 1;
    }
    fit(l, &X, y, NULL, 2, 2, 2);
    assert_int_equal(aml_learner_predict(l, &X, p), AML_OK);
    /* Every bootstrap sample with both classes splits them on x0, between 9
     * and 110; all trees agree on the training rows. */
    for (i = 0; i < 20; i++)
        assert_true(p[2 * i + (size_t)y[i]] > 0.9);
    aml_learner_free(l);
}

static void test_forest_extra_thresholds_uniform(void **state)
{
    /* Rows x = 0 (class 0) and x = 1 (class 1); a stump's threshold is
     * uniform on [0, 1), so x = 0.25 goes left (class 0) with probability
     * 0.75.  2000 trees: standard error 0.0097. */
    double x[] = {0, 1}, y[] = {0, 1}, q = 0.25, p[2];
    aml_matrix X = {2, 1, x}, Q = {1, 1, &q};
    aml_learner *l = make(ET, CLF, "n_estimators=2000 max_depth=1");

    fit(l, &X, y, NULL, 2, 8, 2);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_OK);
    assert_close(p[0], 0.75, 0.04);
    aml_learner_free(l);
}

static void test_forest_max_features_words(void **state)
{
    /* 16 features: sqrt, log2 and 0.25 all try 4 per node, so the forests
     * are the same. */
    double x[60 * 16], y[60], *a, *b, *c;
    aml_matrix X = {60, 16, x};
    aml_learner *ls = make(RF, REG, "n_estimators=5 max_features=sqrt");
    aml_learner *ll = make(RF, REG, "n_estimators=5 max_features=log2");
    aml_learner *lf = make(RF, REG, "n_estimators=5 max_features=0.25");
    aml_learner *ld = make(RF, CLF, "n_estimators=5"); /* default: sqrt */
    aml_learner *lq = make(RF, CLF, "n_estimators=5 max_features=0.25");
    aml_rng rng;
    size_t i;

    aml_rng_init(&rng, 4, 0);
    for (i = 0; i < 60 * 16; i++)
        x[i] = aml_rng_uniform(&rng);
    for (i = 0; i < 60; i++)
        y[i] = x[i * 16] + x[i * 16 + 3] > 1.0;
    fit(ls, &X, y, NULL, 0, 6, 1);
    fit(ll, &X, y, NULL, 0, 6, 1);
    fit(lf, &X, y, NULL, 0, 6, 1);
    a = predict(ls, &X);
    b = predict(ll, &X);
    c = predict(lf, &X);
    assert_memory_equal(a, c, 60 * sizeof(double));
    assert_memory_equal(b, c, 60 * sizeof(double));
    free(a);
    free(b);
    free(c);
    fit(ld, &X, y, NULL, 2, 6, 1);
    fit(lq, &X, y, NULL, 2, 6, 1);
    a = predict(ld, &X);
    b = predict(lq, &X);
    assert_memory_equal(a, b, 120 * sizeof(double));
    free(a);
    free(b);
    aml_learner_free(ls);
    aml_learner_free(ll);
    aml_learner_free(lf);
    aml_learner_free(ld);
    aml_learner_free(lq);
}

static void test_forest_importance(void **state)
{
    /* y depends on x2 only. */
    double x[200 * 4], y[200], imp[4], s = 0;
    aml_matrix X = {200, 4, x};
    aml_learner *l = make(RF, REG, "n_estimators=20");
    aml_rng rng;
    size_t i;

    aml_rng_init(&rng, 5, 0);
    for (i = 0; i < 800; i++)
        x[i] = aml_rng_uniform(&rng);
    for (i = 0; i < 200; i++)
        y[i] = 10 * x[i * 4 + 2];
    fit(l, &X, y, NULL, 0, 1, 2);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    for (i = 0; i < 4; i++) {
        assert_true(imp[i] >= 0);
        s += imp[i];
    }
    assert_close(s, 1.0, 1e-12);
    assert_true(imp[2] > 0.9);
    aml_learner_free(l);
}

static void test_forest_bad_input(void **state)
{
    aml_learner *l = NULL;
    aml_value cube = {.kind = AML_VAL_STR, .str = "cube"};
    aml_value yes = {.kind = AML_VAL_STR, .str = "yes"};
    aml_value zero = {.kind = AML_VAL_INT, .i = 0};
    aml_value big = {.kind = AML_VAL_REAL, .real = 1.5};
    double x[] = {1, 2, NAN, 4}, y[] = {0, 1, 0, 1}, w0[] = {0, 0, 0, 0}, p[2];
    aml_matrix X = {4, 1, x}, Q = {1, 1, x};
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_learner_new(&l, RF, CLF), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "max_features", &cube), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "max_features", &big), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "bootstrap", &yes), AML_EINVAL);
    assert_int_equal(aml_learner_set_param(l, "n_estimators", &zero), AML_EINVAL);
    assert_int_equal(aml_learner_random_forest.set_param(l, "max_features", &cube),
                     AML_EINVAL);
    assert_int_equal(aml_learner_predict(l, &Q, p), AML_EINVAL); /* before fit */
    assert_int_equal(aml_learner_fit(l, &X, y, NULL, 2, &rng, 1), AML_EINVAL); /* NaN */
    x[2] = 3;
    assert_int_equal(aml_learner_fit(l, &X, y, w0, 2, &rng, 1), AML_EINVAL);
    aml_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forest_equals_cart),
        cmocka_unit_test(test_forest_threads_bit_identical),
        cmocka_unit_test(test_forest_save_load),
        cmocka_unit_test(test_forest_oob_score),
        cmocka_unit_test(test_forest_sklearn_scores),
        cmocka_unit_test(test_forest_one_feature_and_constant),
        cmocka_unit_test(test_forest_duplicates_and_tiny_class),
        cmocka_unit_test(test_forest_zero_weights_drop_rows),
        cmocka_unit_test(test_forest_more_features_than_rows),
        cmocka_unit_test(test_forest_separable),
        cmocka_unit_test(test_forest_extra_thresholds_uniform),
        cmocka_unit_test(test_forest_max_features_words),
        cmocka_unit_test(test_forest_importance),
        cmocka_unit_test(test_forest_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
