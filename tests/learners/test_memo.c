/*
 * test_memo.c - the search-wide memo (learners/memo.c) and kNN's use of it
 * (learners/knn.c): predictions through the memo must be the bits predict
 * gives without it, for every k, vote weighting, metric, search path (k-d
 * tree and brute force), sample weights and ties.
 *
 * The expected values are predictions of the same fitted model with no
 * memo, whose own correctness test_knn.c checks against scikit-learn and
 * hand computations; the memo's counters show the searches were shared.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"
#include "memo.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the memo itself ------------------------------------------------------ */

static aml_memo_key key_of(uint64_t a)
{
    aml_memo_key k = {{a, 2, 3, 4, 5, 6, 7, 8}};

    return k;
}

static void *blob_of(size_t bytes, unsigned char v)
{
    unsigned char *b = malloc(bytes);

    assert_non_null(b);
    memset(b, v, bytes);
    return b;
}

/* Levels: a deeper entry answers shallower lookups and replaces a shallower one. */
static void test_memo_levels_and_references(void **state)
{
    aml_memo *m = NULL;
    aml_memo_entry *a, *b, *c, *f;
    aml_memo_key k1 = key_of(1), k2 = key_of(2);
    aml_memo_stats st;

    (void)state;
    assert_int_equal(aml_memo_new(&m, 1 << 20), AML_OK);
    assert_null(aml_memo_find(m, &k1, 1));
    assert_int_equal(aml_memo_put(m, &k1, 5, blob_of(100, 0xa5), 100, &a), AML_OK);
    assert_int_equal(aml_memo_level(a), 5);
    /* Level 3 and 5 are answered by the level-5 entry, 6 and another key are not. */
    assert_ptr_equal(f = aml_memo_find(m, &k1, 3), a);
    aml_memo_release(m, f);
    assert_ptr_equal(f = aml_memo_find(m, &k1, 5), a);
    aml_memo_release(m, f);
    assert_null(aml_memo_find(m, &k1, 6));
    assert_null(aml_memo_find(m, &k2, 1));
    /* A deeper entry replaces it; the holder of `a` still reads its blob. */
    assert_int_equal(aml_memo_put(m, &k1, 10, blob_of(200, 0x3c), 200, &b), AML_OK);
    assert_int_equal(((const unsigned char *)aml_memo_blob(a))[99], 0xa5);
    aml_memo_release(m, a);
    assert_ptr_equal(f = aml_memo_find(m, &k1, 5), b);
    aml_memo_release(m, f);
    /* A shallower one arriving late (a concurrent miss) is not stored but usable. */
    assert_int_equal(aml_memo_put(m, &k1, 4, blob_of(50, 0x11), 50, &c), AML_OK);
    assert_int_equal(((const unsigned char *)aml_memo_blob(c))[49], 0x11);
    assert_ptr_equal(f = aml_memo_find(m, &k1, 1), b);
    aml_memo_release(m, f);
    aml_memo_release(m, c);
    aml_memo_release(m, b);
    aml_memo_stats_get(m, &st);
    assert_int_equal(st.stored, 2);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.bytes, 200);
    aml_memo_free(m);
    aml_memo_free(NULL);
}

/* The cap: a blob that does not fit is handed back unstored; a replacement may fit. */
static void test_memo_cap(void **state)
{
    aml_memo *m = NULL;
    aml_memo_entry *e;
    aml_memo_key k1 = key_of(1), k2 = key_of(2);
    aml_memo_stats st;

    (void)state;
    assert_int_equal(aml_memo_new(&m, 100), AML_OK);
    assert_int_equal(aml_memo_put(m, &k1, 1, blob_of(101, 1), 101, &e), AML_OK);
    assert_non_null(aml_memo_blob(e));
    aml_memo_release(m, e);
    assert_null(aml_memo_find(m, &k1, 1));
    assert_int_equal(aml_memo_put(m, &k1, 1, blob_of(60, 2), 60, &e), AML_OK);
    aml_memo_release(m, e);
    /* 60 + 60 > 100: the second key is refused ... */
    assert_int_equal(aml_memo_put(m, &k2, 1, blob_of(60, 3), 60, &e), AML_OK);
    aml_memo_release(m, e);
    assert_null(aml_memo_find(m, &k2, 1));
    /* ... but replacing the 60 bytes of k1 by 90 fits (90 <= 100). */
    assert_int_equal(aml_memo_put(m, &k1, 2, blob_of(90, 4), 90, &e), AML_OK);
    aml_memo_release(m, e);
    aml_memo_stats_get(m, &st);
    assert_int_equal(st.stored, 2);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.bytes, 90);
    aml_memo_free(m);
}

/* The hash: equal bytes alike, any flipped bit or length changes both words. */
static void test_memo_hash(void **state)
{
    unsigned char buf[77];
    uint64_t h0[2] = {0, 0}, h[2];
    size_t len, bit;

    (void)state;
    for (len = 0; len < sizeof(buf); len++)
        buf[len] = (unsigned char)(len * 37 + 1);
    aml_memo_hash(buf, sizeof(buf), h0);
    h[0] = h[1] = 0;
    aml_memo_hash(buf, sizeof(buf), h);
    assert_memory_equal(h, h0, sizeof(h));
    assert_true(h0[0] != h0[1]);
    for (bit = 0; bit < 8 * sizeof(buf); bit += 5) {
        buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
        h[0] = h[1] = 0;
        aml_memo_hash(buf, sizeof(buf), h);
        assert_true(h[0] != h0[0] && h[1] != h0[1]);
        buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
    }
    /* Prefixes of every length (the 32-byte lanes, 8-byte words, tail bytes). */
    for (len = 0; len < sizeof(buf); len++) {
        h[0] = h[1] = 0;
        aml_memo_hash(buf, len, h);
        assert_true(h[0] != h0[0] && h[1] != h0[1]);
    }
}

/* ---- kNN through the memo --------------------------------------------------- */

/* A data set: training rows X (n x p), queries Q (nq x p), targets, weights. */
typedef struct memo_data {
    aml_matrix X, Q;
    double *y, *w;
    aml_task task;
    int n_classes;
} memo_data;

/* Room for n training rows and nq queries of p features. */
static void memo_data_alloc(memo_data *d, size_t n, size_t nq, size_t p)
{
    d->X = (aml_matrix){n, p, malloc(n * p * sizeof(double))};
    d->Q = (aml_matrix){nq, p, malloc(nq * p * sizeof(double))};
    d->y = malloc(n * sizeof(double));
    d->w = malloc(n * sizeof(double));
    assert_true(d->X.data && d->Q.data && d->y && d->w);
}

static void memo_data_free(memo_data *d)
{
    free(d->X.data);
    free(d->Q.data);
    free(d->y);
    free(d->w);
}

/* Predictions of (k, weights, metric) fitted at `threads`, through memo m or none. */
static double *predict_with(const memo_data *d, long long k, const char *weights,
                            const char *metric, const double *w, int threads, aml_memo *m)
{
    size_t outs = d->task == AML_TASK_CLASSIFICATION ? (size_t)d->n_classes : 1;
    double *out = malloc(d->Q.rows * outs * sizeof(double));
    aml_learner *l = aml_test_knn(d->task, k, weights, metric);
    aml_rng rng;

    assert_non_null(out);
    aml_rng_init(&rng, 42, 0);
    assert_int_equal(aml_learner_fit(l, &d->X, d->y, w, d->n_classes, &rng, threads),
                     AML_OK);
    aml_memo_set_current(m);
    assert_int_equal(aml_learner_predict(l, &d->Q, out), AML_OK);
    aml_memo_set_current(NULL);
    aml_learner_free(l);
    return out;
}

/*
 * For one metric, the k of a search in the order a grid takes them, then
 * k = 51 beyond the memo's 50 (recomputed, replacing the entry), then a
 * small k again (served by the deeper entry), and k above the row count:
 * each with both weightings, with and without sample weights, at 1 and 2
 * threads, must predict the bits of the memo-less predict.  Returns the
 * memo's counters.
 */
static aml_memo_stats check_identity(const memo_data *d, const char *metric, size_t cap)
{
    static const long long ks[] = {1, 3, 9, 41, 50, 51, 5, 100000};
    static const char *const ws[] = {"uniform", "distance"};
    size_t outs = d->task == AML_TASK_CLASSIFICATION ? (size_t)d->n_classes : 1;
    size_t bytes = d->Q.rows * outs * sizeof(double), i, j;
    aml_memo *m = NULL;
    aml_memo_stats st;

    assert_int_equal(aml_memo_new(&m, cap), AML_OK);
    for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        for (j = 0; j < 4; j++) {
            const double *w = j >= 2 ? d->w : NULL;
            double *ref = predict_with(d, ks[i], ws[j % 2], metric, w, 1, NULL);
            double *o1 = predict_with(d, ks[i], ws[j % 2], metric, w, 1, m);
            double *o2 = predict_with(d, ks[i], ws[j % 2], metric, w, 2, m);

            assert_memory_equal(o1, ref, bytes);
            assert_memory_equal(o2, ref, bytes);
            free(ref);
            free(o1);
            free(o2);
        }
    aml_memo_stats_get(m, &st);
    aml_memo_free(m);
    return st;
}

/* Checks both metrics with a large cap: the searches were shared as designed. */
static void check_both_metrics(const memo_data *d)
{
    const char *metrics[] = {"euclidean", "manhattan"};
    int i;

    for (i = 0; i < 2; i++) {
        aml_memo_stats st = check_identity(d, metrics[i], (size_t)1 << 30);

        /* Misses: the first k (stored at 50), k = 51 (replaces), k = n (replaces). */
        assert_int_equal(st.misses, 3);
        assert_int_equal(st.stored, 3);
        assert_int_equal(st.hits, 8 * 4 * 2 - 3);
        assert_int_equal(st.refused, 0);
        assert_int_equal(st.bytes, d->Q.rows * d->X.rows * 16);
    }
}

/* Standardises the columns of a (n x p) in place, as the pipeline's scaler would. */
static void standardise(double *a, size_t n, size_t p)
{
    size_t i, j;

    for (j = 0; j < p; j++) {
        double mean = 0, var = 0;

        for (i = 0; i < n; i++)
            mean += a[i * p + j];
        mean /= (double)n;
        for (i = 0; i < n; i++)
            var += (a[i * p + j] - mean) * (a[i * p + j] - mean);
        var = var > 0 ? sqrt(var / (double)n) : 1.0;
        for (i = 0; i < n; i++)
            a[i * p + j] = (a[i * p + j] - mean) / var;
    }
}

/*
 * A shared data set's first n_train rows for training, the next n_query as
 * queries; the last column is the target.  Returns 0 when it is absent.
 */
static int load_shared(memo_data *d, const char *name, size_t n_train, size_t n_query,
                       int scale)
{
    const char *path = aml_test_shared(name);
    double *raw;
    size_t rows, cols, p, i;

    if (!path)
        return 0;
    aml_test_read_matrix(path, &raw, &rows, &cols);
    assert_true(rows >= n_train + n_query);
    p = cols - 1;
    if (scale)
        standardise(raw, n_train + n_query, cols);
    memo_data_alloc(d, n_train, n_query, p);
    for (i = 0; i < n_train + n_query; i++) {
        double *row = i < n_train ? d->X.data + i * p : d->Q.data + (i - n_train) * p;

        memcpy(row, raw + i * cols, p * sizeof(double));
        if (i < n_train) {
            d->y[i] = raw[i * cols + p];
            d->w[i] = (double)(i % 4); /* a quarter weigh 0 */
        }
    }
    free(raw);
    return 1;
}

/*
 * wine_quality_white (11 features, many duplicate rows), standardised:
 * regression on the quality score.  Fit picks the k-d tree for k = 1 and
 * brute force for the larger k, so the memo's first entry (k = 1, stored
 * 50 deep) comes from the tree and serves brute-force models: the two
 * paths' exact distances must agree to the bit.
 */
static void test_memo_knn_wine(void **state)
{
    memo_data d = {.task = AML_TASK_REGRESSION};

    (void)state;
    if (!load_shared(&d, "wine_quality_white.csv", 1000, 150, 1))
        skip();
    /* (The target is standardised with the features: any finite target
     * will do for a regression.) */
    check_both_metrics(&d);
    memo_data_free(&d);
}

/*
 * digits (64 integer pixel columns, class 0..9), raw: integer distances
 * tie everywhere.  As with wine, the k-d tree (k = 1) fills the memo and
 * brute force (euclidean through the product form, the exact re-check
 * deciding) reads it.
 */
static void test_memo_knn_digits(void **state)
{
    memo_data d = {.task = AML_TASK_CLASSIFICATION, .n_classes = 10};

    (void)state;
    if (!load_shared(&d, "digits.csv", 700, 120, 0))
        skip();
    check_both_metrics(&d);
    memo_data_free(&d);
}

/*
 * Synthetic ties: rows are copies of 11 base rows (values in {0, 1}), so
 * runs of dozens of equal distances (the copies of one base row, and base
 * rows equally far) straddle every k and the memo's K; the lower training
 * row must win everywhere.  Predict searches by brute force here (the k-d
 * tree cannot prune among ties), with p = 3 and, past the tree's 64
 * features, p = 70; the real data sets above have their k = 1 entries
 * found by the k-d tree and read back by brute-force models.
 */
static void make_ties(memo_data *d, size_t p)
{
    size_t n = 400, nq = 60, i, j;

    d->task = AML_TASK_CLASSIFICATION;
    d->n_classes = 3;
    memo_data_alloc(d, n, nq, p);
    for (i = 0; i < n + nq; i++) {
        double *row = i < n ? d->X.data + i * p : d->Q.data + (i - n) * p;
        unsigned h = (unsigned)((i % 11) * 2654435761u);

        for (j = 0; j < p; j++)
            row[j] = (double)((h >> (j % 29)) & 1u);
        if (i < n) {
            d->y[i] = (double)(i % 3);
            d->w[i] = (double)(i % 5);
        }
    }
}

static void test_memo_knn_ties(void **state)
{
    memo_data d = {0};

    (void)state;
    make_ties(&d, 3);
    check_both_metrics(&d);
    memo_data_free(&d);
    make_ties(&d, 70);
    check_both_metrics(&d);
    memo_data_free(&d);
}

/* Under the cap nothing is stored: every predict searches and still agrees. */
static void test_memo_knn_cap(void **state)
{
    memo_data d = {0};
    aml_memo_stats st;

    (void)state;
    make_ties(&d, 70);
    /* 60 queries x 50 neighbours x 16 bytes = 48000 bytes: a cap of 47000 refuses. */
    st = check_identity(&d, "euclidean", 47000);
    assert_int_equal(st.stored, 0);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 8 * 4 * 2);
    assert_int_equal(st.refused, 8 * 4 * 2);
    memo_data_free(&d);
}

/*
 * Folds missing on one key at once, on two threads sharing a memo (both
 * search, the first to publish wins): every answer is the memo-less one.
 * The models are fitted first; the threads only predict (no assertions
 * off the main thread).
 */
static void test_memo_knn_concurrent(void **state)
{
    enum { N_MODELS = 8 };
    memo_data d = {0};
    aml_memo *m = NULL;
    aml_learner *l[N_MODELS];
    double *ref[N_MODELS], *out[N_MODELS];
    int rc[N_MODELS], t;
    aml_rng rng;

    (void)state;
    make_ties(&d, 70);
    for (t = 0; t < N_MODELS; t++) {
        ref[t] = predict_with(&d, 1 + 2 * (t % 4), "distance", "euclidean", d.w, 1, NULL);
        out[t] = malloc(d.Q.rows * 3 * sizeof(double));
        assert_non_null(out[t]);
        l[t] = aml_test_knn(d.task, 1 + 2 * (t % 4), "distance", "euclidean");
        aml_rng_init(&rng, 42, 0);
        assert_int_equal(aml_learner_fit(l[t], &d.X, d.y, d.w, 3, &rng, 1), AML_OK);
    }
    assert_int_equal(aml_memo_new(&m, (size_t)1 << 30), AML_OK);
#pragma omp parallel for num_threads(2) schedule(static, 1)
    for (t = 0; t < N_MODELS; t++) {
        aml_memo_set_current(m);
        rc[t] = aml_learner_predict(l[t], &d.Q, out[t]);
        aml_memo_set_current(NULL);
    }
    for (t = 0; t < N_MODELS; t++) {
        assert_int_equal(rc[t], AML_OK);
        assert_memory_equal(out[t], ref[t], d.Q.rows * 3 * sizeof(double));
        aml_learner_free(l[t]);
        free(ref[t]);
        free(out[t]);
    }
    aml_memo_free(m);
    memo_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_levels_and_references),
        cmocka_unit_test(test_memo_cap),
        cmocka_unit_test(test_memo_hash),
        cmocka_unit_test(test_memo_knn_wine),
        cmocka_unit_test(test_memo_knn_digits),
        cmocka_unit_test(test_memo_knn_ties),
        cmocka_unit_test(test_memo_knn_cap),
        cmocka_unit_test(test_memo_knn_concurrent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
