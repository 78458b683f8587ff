/*
 * test_folds.c - trials/folds.c: partition and balance properties of
 * k-fold and stratified k-fold, determinism per seed, and the errors.
 *
 * The properties are checked directly rather than against scikit-learn,
 * whose shuffles use a different generator (and whose StratifiedKFold
 * allocates classes differently), so no fixture applies.
 */
#include "testutil.h"

#include "aml.h"
#include "folds.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int *assign(size_t n, int k, int stratified, const double *y, int n_classes,
                   uint64_t seed)
{
    int *fold_of = malloc((n ? n : 1) * sizeof(*fold_of));
    size_t i;

    assert_non_null(fold_of);
    for (i = 0; i < n; i++)
        fold_of[i] = -1;
    assert_int_equal(aml_folds_assign(fold_of, n, k, stratified, y, n_classes, seed), 0);
    return fold_of;
}

/* Every row in [0, k), every fold non-empty, sizes within one; returns min size. */
static size_t check_partition(const int *fold_of, size_t n, int k)
{
    size_t *size = calloc((size_t)k, sizeof(*size));
    size_t i, lo = n, hi = 0;
    int f;

    assert_non_null(size);
    for (i = 0; i < n; i++) {
        assert_in_range(fold_of[i], 0, k - 1);
        size[fold_of[i]]++;
    }
    for (f = 0; f < k; f++) {
        lo = size[f] < lo ? size[f] : lo;
        hi = size[f] > hi ? size[f] : hi;
    }
    assert_true(lo >= 1);
    assert_true(hi - lo <= 1);
    assert_int_equal(lo, n / (size_t)k);
    free(size);
    return lo;
}

/* Labels with unequal classes: class c gets weights[c] rows, interleaved. */
static double *make_labels(size_t n, int n_classes, const int *weights)
{
    double *y = malloc(n * sizeof(*y));
    int total = 0, c;
    size_t i;

    assert_non_null(y);
    for (c = 0; c < n_classes; c++)
        total += weights[c];
    for (i = 0; i < n; i++) {
        int r = (int)((i * 7919u) % (size_t)total);

        for (c = 0; r >= weights[c]; c++)
            r -= weights[c];
        y[i] = c;
    }
    return y;
}

static void test_folds_kfold_partition(void **state)
{
    static const size_t ns[] = {2, 3, 10, 11, 100, 1003};
    static const int ks[] = {2, 3, 5, 7, 10};
    size_t a, b;

    (void)state;
    for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
        for (b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
            int *fold_of;

            if ((size_t)ks[b] > ns[a])
                continue;
            fold_of = assign(ns[a], ks[b], 0, NULL, 0, 42);
            check_partition(fold_of, ns[a], ks[b]);
            free(fold_of);
        }
}

/* k = n: leave-one-out, every fold exactly one row. */
static void test_folds_kfold_leave_one_out(void **state)
{
    int *fold_of = assign(9, 9, 0, NULL, 0, 7);
    int seen[9] = {0};
    int i;

    (void)state;
    for (i = 0; i < 9; i++)
        seen[fold_of[i]]++;
    for (i = 0; i < 9; i++)
        assert_int_equal(seen[i], 1);
    free(fold_of);
}

/* Rows are shuffled: the assignment is not the contiguous 0..0 1..1 split. */
static void test_folds_kfold_shuffled(void **state)
{
    int *fold_of = assign(100, 5, 0, NULL, 0, 1);
    size_t i, changes = 0;

    (void)state;
    for (i = 1; i < 100; i++)
        changes += fold_of[i] != fold_of[i - 1];
    assert_true(changes > 20); /* contiguous blocks would give 4 */
    free(fold_of);
}

static void test_folds_deterministic(void **state)
{
    static const int w[] = {5, 2, 1};
    double *y = make_labels(300, 3, w);
    int strat;

    (void)state;
    for (strat = 0; strat <= 1; strat++) {
        int *a = assign(300, 4, strat, y, 3, 123);
        int *b = assign(300, 4, strat, y, 3, 123);
        int *c = assign(300, 4, strat, y, 3, 124);

        assert_memory_equal(a, b, 300 * sizeof(int));
        assert_memory_not_equal(a, c, 300 * sizeof(int));
        free(a);
        free(b);
        free(c);
    }
    free(y);
}

/* Per-class counts in each fold are floor or ceil of count / k. */
static void check_stratified(const int *fold_of, const double *y, size_t n, int k,
                             int n_classes)
{
    int *per = calloc((size_t)k * (size_t)n_classes, sizeof(*per));
    int *count = calloc((size_t)n_classes, sizeof(*count));
    size_t i;
    int c, f;

    assert_non_null(per);
    assert_non_null(count);
    check_partition(fold_of, n, k);
    for (i = 0; i < n; i++) {
        per[fold_of[i] * n_classes + (int)y[i]]++;
        count[(int)y[i]]++;
    }
    for (c = 0; c < n_classes; c++)
        for (f = 0; f < k; f++) {
            int got = per[f * n_classes + c];

            assert_in_range(got, count[c] / k, (count[c] + k - 1) / k);
        }
    free(per);
    free(count);
}

static void test_folds_stratified_balance(void **state)
{
    /* Unequal classes: class 3 holds 1/58 of the rows, so for n = 61 or 122
     * it has fewer rows than k (and for n = 5 none); class 4 is empty. */
    static const int w[] = {30, 20, 7, 1, 0};
    static const size_t ns[] = {5, 61, 122, 1000, 1001};
    static const int ks[] = {2, 3, 5, 10};
    size_t a, b;
    uint64_t seed;

    (void)state;
    for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        double *y = make_labels(ns[a], 5, w);

        for (b = 0; b < sizeof(ks) / sizeof(ks[0]); b++)
            for (seed = 0; seed < 3; seed++) {
                int *fold_of;

                if ((size_t)ks[b] > ns[a])
                    continue;
                fold_of = assign(ns[a], ks[b], 1, y, 5, seed);
                check_stratified(fold_of, y, ns[a], ks[b], 5);
                free(fold_of);
            }
        free(y);
    }
}

/*
 * Hand case: 4 rows of class 0 and 2 of class 1, k = 3.  Class 0 fills
 * positions 0-3 (folds 0 1 2 0), class 1 positions 4-5 (folds 1 2), so the
 * fold sizes are 2 2 2 and class 1 never lands in fold 0, whatever the
 * shuffle inside each class.
 */
static void test_folds_stratified_hand(void **state)
{
    const double y[] = {1, 0, 0, 1, 0, 0};
    uint64_t seed;

    (void)state;
    for (seed = 0; seed < 20; seed++) {
        int *fold_of = assign(6, 3, 1, y, 2, seed);

        assert_int_not_equal(fold_of[0], 0);
        assert_int_not_equal(fold_of[3], 0);
        assert_int_not_equal(fold_of[0], fold_of[3]);
        check_stratified(fold_of, y, 6, 3, 2);
        free(fold_of);
    }
}

/* Within a class the rows are shuffled, not dealt in row order. */
static void test_folds_stratified_shuffled(void **state)
{
    double y[200];
    int *fold_of;
    size_t i, in_order = 0;

    (void)state;
    for (i = 0; i < 200; i++)
        y[i] = (double)(i % 2);
    fold_of = assign(200, 4, 1, y, 2, 5);
    /* Dealt in row order, class 0 (rows 0 2 4 ...) would go 0 1 2 3 0 1 ... */
    for (i = 0; i < 100; i++)
        in_order += fold_of[2 * i] == (int)(i % 4);
    assert_true(in_order < 60);
    free(fold_of);
}

static void test_folds_errors(void **state)
{
    const double y[] = {0, 1, 0, 1};
    const double bad[] = {0, 1, 2, 1};
    const double frac[] = {0, 0.5, 0, 1};
    int fold_of[4];

    (void)state;
    aml_error_clear();
    assert_int_equal(aml_folds_assign(fold_of, 4, 1, 0, NULL, 0, 1), AML_EINVAL);
    assert_true(strlen(aml_error_message()) > 0);
    assert_int_equal(aml_folds_assign(fold_of, 4, 0, 0, NULL, 0, 1), AML_EINVAL);
    assert_int_equal(aml_folds_assign(fold_of, 4, -3, 1, y, 2, 1), AML_EINVAL);
    aml_error_clear();
    assert_int_equal(aml_folds_assign(fold_of, 4, 5, 0, NULL, 0, 1), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "4 rows"));
    assert_int_equal(aml_folds_assign(fold_of, 0, 2, 0, NULL, 0, 1), AML_EINVAL);
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 1, NULL, 2, 1), AML_EINVAL);
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 1, y, 0, 1), AML_EINVAL);
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 1, bad, 2, 1), AML_EINVAL);
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 1, frac, 2, 1), AML_EINVAL);
    /* The same labels are fine with enough classes, and without stratifying. */
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 1, bad, 3, 1), AML_OK);
    assert_int_equal(aml_folds_assign(fold_of, 4, 2, 0, frac, 2, 1), AML_OK);
}

/*
 * Group folds by hand: group sizes 0:4, 1:3, 2:2, 3:1 (rows 0-9, groups
 * 0,0,0,0,1,1,1,2,2,3).  Largest first to the lightest fold, k = 2:
 * g0 -> fold 0 (4), g1 -> fold 1 (3), g2 -> fold 1 (5), g3 -> fold 0 (5).
 */
static void test_folds_group(void **state)
{
    static const int group[10] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3};
    static const int want[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0};
    int fold_of[10], i;

    (void)state;
    assert_int_equal(aml_folds_group(fold_of, 10, 2, group), AML_OK);
    for (i = 0; i < 10; i++)
        assert_int_equal(fold_of[i], want[i]);
    assert_int_equal(aml_folds_group(fold_of, 10, 5, group), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "4 groups"));
}

/*
 * Time series by hand: 10 rows, order keys 9..0 (row i has key 9 - i), k = 3:
 * test size 10 / 4 = 2, first block 4 rows (keys 0-3: rows 6-9) train
 * only, then keys 4-5 fold 0 (rows 4, 5), 6-7 fold 1, 8-9 fold 2.
 * With ties, keys 0,0,1,1,1,1,2,2,3,3 and k = 2: test size 3, cuts at
 * 4 and 7; the cut at 4 splits the run of 1s and moves to 6, the cut at 7
 * splits the 2s and moves to 8: fold 0 is rows 6-7, fold 1 rows 8-9.
 * With k = 3 (cuts 4, 6, 8) the first cut moves to 6 and leaves fold 0
 * empty: an error.
 */
static void test_folds_time_series(void **state)
{
    static const double tied[10] = {0, 0, 1, 1, 1, 1, 2, 2, 3, 3};
    static const int want_tied[10] = {-1, -1, -1, -1, -1, -1, 0, 0, 1, 1};
    double order[10];
    int fold_of[10], i;

    (void)state;
    for (i = 0; i < 10; i++)
        order[i] = 9 - i;
    assert_int_equal(aml_folds_time_series(fold_of, 10, 3, order), AML_OK);
    for (i = 0; i < 10; i++)
        assert_int_equal(fold_of[i], order[i] < 4 ? -1 : (int)(order[i] - 4) / 2);
    assert_int_equal(aml_folds_time_series(fold_of, 10, 2, tied), AML_OK);
    for (i = 0; i < 10; i++)
        assert_int_equal(fold_of[i], want_tied[i]);
    assert_int_equal(aml_folds_time_series(fold_of, 10, 3, tied), AML_EINVAL);
    assert_int_equal(aml_folds_time_series(fold_of, 3, 3, order), AML_EINVAL);
}

/* Holdout: 10 rows per class, fraction 0.3 -> 3 of each class validate. */
static void test_folds_holdout(void **state)
{
    double y[20];
    int fold_of[20], i, held[2] = {0, 0};

    (void)state;
    for (i = 0; i < 20; i++)
        y[i] = i % 2;
    assert_int_equal(aml_folds_holdout(fold_of, 20, 0.3, 1, y, 2, 7), AML_OK);
    for (i = 0; i < 20; i++) {
        assert_true(fold_of[i] == 0 || fold_of[i] == -1);
        held[(int)y[i]] += fold_of[i] == 0;
    }
    assert_int_equal(held[0], 3);
    assert_int_equal(held[1], 3);
    assert_int_equal(aml_folds_holdout(fold_of, 20, 0.3, 0, NULL, 0, 7), AML_OK);
    for (i = 0, held[0] = 0; i < 20; i++)
        held[0] += fold_of[i] == 0;
    assert_int_equal(held[0], 6);
}

static int collect(void *payload, const char *line)
{
    char *buf = payload;

    strncat(buf, line, 1000 - strlen(buf) - 2);
    strcat(buf, "\n");
    return 0;
}

/* A stratified 3-fold plan over labels y (class indices) naming the classes. */
static aml_folds_plan stratified_3(const double *y, const char *const *names,
                                   int n_classes)
{
    aml_folds_plan p = {.kind = AML_CV_AUTO,
                        .k = 3,
                        .stratified = 1,
                        .y = y,
                        .n_classes = n_classes,
                        .classes = names};

    return p;
}

/* Class counts a:6, b:2, c:1 (y = 0 x6, 1 x2, 2 x1). */
static void test_folds_check(void **state)
{
    static const double y[9] = {0, 0, 0, 0, 0, 0, 1, 1, 2};
    static const char *const names[] = {"a", "b", "c"};
    aml_folds_plan p = stratified_3(y, names, 3);
    char warn[1000] = "";

    (void)state;
    /* A one-row class cannot be stratified. */
    assert_int_equal(aml_folds_check(&p, 9, collect, warn), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "class 'c' has a single row"));
    /* Without stratifying it works, with a warning for b and c. */
    p.stratified = 0;
    assert_int_equal(aml_folds_check(&p, 9, collect, warn), AML_OK);
    assert_string_equal(warn, "class 'b' has 2 rows, fewer than the 3 folds: some "
                              "validation folds will not hold it\n"
                              "class 'c' has 1 row, fewer than the 3 folds: some "
                              "validation folds will not hold it\n");
    /* Every class smaller than the folds: the largest count (6) is suggested. */
    p.stratified = 1;
    p.n_classes = 2;
    p.k = 7;
    assert_int_equal(aml_folds_check(&p, 8, NULL, NULL), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "largest fold count that works is "
                                                "cv.folds: 6"));
    p.k = 9;
    assert_int_equal(aml_folds_check(&p, 8, NULL, NULL), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "use cv.folds: 8 at most"));
}

/*
 * A long class label is quoted shortened: its first 40 bytes (backed off to
 * 39 here, so as not to split the two-byte 'é' at bytes 39-40) and "...",
 * in the error and in the warning alike, whose advice stays on the line.
 */
static void test_folds_long_label(void **state)
{
    static const double y[7] = {0, 0, 0, 0, 0, 0, 1};
    char label[160], want[256], warn[1000] = "", buf[AML_QUOTE_MAX + 4];
    const char *names[] = {"a", label};
    aml_folds_plan p = stratified_3(y, names, 2);

    (void)state;
    memset(label, 'x', 39);
    snprintf(label + 39, sizeof(label) - 39, "\xc3\xa9%0100d", 0); /* é, 100 zeros */
    assert_int_equal(aml_folds_check(&p, 7, collect, warn), AML_EINVAL);
    snprintf(want, sizeof(want), "class '%.39s...' has a single row: a stratified plan",
             label);
    assert_non_null(strstr(aml_error_message(), want));
    p.stratified = 0;
    assert_int_equal(aml_folds_check(&p, 7, collect, warn), AML_OK);
    snprintf(want, sizeof(want),
             "class '%.39s...' has 1 row, fewer than the 3 folds: some validation "
             "folds will not hold it\n",
             label);
    assert_string_equal(warn, want);

    /* At most 40 bytes stay whole; 41 ASCII bytes keep 40. */
    label[40] = '\0';
    label[39] = 'x';
    assert_ptr_equal(aml_quote_short(label, buf), label);
    label[40] = 'z';
    label[41] = '\0';
    assert_string_equal(aml_quote_short(label, buf),
                        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_kfold_partition),
        cmocka_unit_test(test_folds_kfold_leave_one_out),
        cmocka_unit_test(test_folds_kfold_shuffled),
        cmocka_unit_test(test_folds_deterministic),
        cmocka_unit_test(test_folds_stratified_balance),
        cmocka_unit_test(test_folds_stratified_hand),
        cmocka_unit_test(test_folds_stratified_shuffled),
        cmocka_unit_test(test_folds_errors),
        cmocka_unit_test(test_folds_group),
        cmocka_unit_test(test_folds_time_series),
        cmocka_unit_test(test_folds_holdout),
        cmocka_unit_test(test_folds_check),
        cmocka_unit_test(test_folds_long_label),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
