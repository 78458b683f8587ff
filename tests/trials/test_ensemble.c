/*
 * test_ensemble.c - trials/ensemble.c against small cases computed by hand
 * (each computation is written out beside its test).
 */
#include "testutil.h"

#include "aml.h"
#include "ensemble.h"
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12

/* Fills a 2-class probability matrix from P(class 1) per row. */
static void binary(const double *p1, size_t n, double *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = isnan(p1[i]) ? NAN : 1.0 - p1[i];
        out[2 * i + 1] = p1[i];
    }
}

static aml_ensemble_problem problem(const aml_ensemble_candidate *cand, size_t m,
                                    size_t n, const double *y, int n_classes,
                                    const char *metric)
{
    aml_ensemble_problem p = {cand, m, n, y, n_classes, aml_metric_find(metric)};

    assert_non_null(p.metric);
    return p;
}

/*
 * Binary case, accuracy, y = 0 1 0 1; P(class 1) per row:
 *   A: .2 .9 .4 .4 -> 0 1 0 0, accuracy .75 (row 3 wrong)
 *   B: .6 .8 .1 .9 -> 1 1 0 1, accuracy .75 (row 0 wrong)
 *   C: .3 .3 .7 .7 -> 0 0 1 1, accuracy .5
 * Step 1: A and B tie at .75 -> A (lowest index).
 * Step 2: A+A = A (.75); A+B = .4 .85 .25 .65 -> 0 1 0 1 (1.0);
 *         A+C = .25 .6 .55 .55 -> 0 1 1 1 (.75)  -> B, 1.0.
 * Later steps cannot beat 1.0, so the kept prefix stays {A, B}.
 */
static const double bin_y[] = {0, 1, 0, 1};
static const double bin_a[] = {.2, .9, .4, .4};
static const double bin_b[] = {.6, .8, .1, .9};
static const double bin_c[] = {.3, .3, .7, .7};

static void test_ensemble_binary(void **state)
{
    double a[8], b[8], c[8], w[3], score;
    aml_ensemble_candidate cand[3] = {{a, 2}, {b, 2}, {c, 2}};
    aml_ensemble_problem p = problem(cand, 3, 4, bin_y, 2, "accuracy");
    aml_ensemble_options o = {2, 0, 0, 0, 0.0, 0};
    int counts[3], s;

    (void)state;
    binary(bin_a, 4, a);
    binary(bin_b, 4, b);
    binary(bin_c, 4, c);
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);
    assert_close(w[0], 0.5, TOL);
    assert_close(w[1], 0.5, TOL);
    assert_close(w[2], 0.0, TOL);
    assert_close(score, 1.0, TOL);

    /* one step: the best single, A (tie with B) */
    o.steps = 1;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1] + counts[2], 0);
    assert_close(score, 0.75, TOL);

    /* more steps keep the shortest best prefix */
    for (s = 3; s <= 8; s++) {
        o.steps = s;
        assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
        assert_int_equal(counts[0], 1);
        assert_int_equal(counts[1], 1);
        assert_int_equal(counts[2], 0);
        assert_close(score, 1.0, TOL);
    }
}

/*
 * Regression, rmse, y = 1 2 3 4:
 *   A = y + 1 (rmse 1), B = y - 2 (rmse 2), C = 2.5 (rmse sqrt(5/4) = 1.118).
 * Step 1: A (1).
 * Step 2: A+A 1; A+B = y - .5 -> .5; A+C = 2.25 2.75 3.25 3.75 -> .75 -> B.
 * Step 3 (sum 2y - 1): +A = 3y / 3 = y -> 0 (the biases cancel);
 *   +B = y - 1 -> 1; +C -> not 0.  So A twice, B once: weights 2/3, 1/3.
 * Step 4 (sum 3y): +A = y + .25 -> .25, +B = y - .5 -> .5, worse: prefix 3.
 */
static const double reg_y[] = {1, 2, 3, 4};
static const double reg_a[] = {2, 3, 4, 5};
static const double reg_b[] = {-1, 0, 1, 2};
static const double reg_c[] = {2.5, 2.5, 2.5, 2.5};

static void test_ensemble_regression(void **state)
{
    aml_ensemble_candidate cand[3] = {{reg_a, 1}, {reg_b, 1}, {reg_c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {2, 0, 0, 0, 0.0, 0};
    double w[3], score;
    int counts[3];

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_close(score, 0.5, TOL);

    o.steps = 3;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);
    assert_close(w[0], 2.0 / 3.0, TOL);
    assert_close(w[1], 1.0 / 3.0, TOL);
    assert_close(score, 0.0, TOL);

    o.steps = 10;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);
    assert_close(score, 0.0, TOL);
}

/*
 * The distinct cap on the regression case.  Cap 1: step 1 takes A (rmse 1);
 * then only A may enter again, A + A = A (1, not better), so the prefix is
 * A alone.  Cap 2 allows the uncapped A, A, B (rmse 0).  init above the cap
 * is refused.
 */
static void test_ensemble_max_distinct(void **state)
{
    aml_ensemble_candidate cand[3] = {{reg_a, 1}, {reg_b, 1}, {reg_c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {10, 0, 1, 0, 0.0, 0};
    double w[3], score;
    int counts[3];

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 0);
    assert_int_equal(counts[2], 0);
    assert_close(score, 1.0, TOL);
    o.max_distinct = 2;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_close(score, 0.0, TOL);
    o.init = 2;
    o.max_distinct = 1;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), AML_EINVAL);
}

/*
 * Sorted initialisation on the regression case.  Singles ranked: A (1),
 * C (1.118), B (2).  init 2 starts from A + C (rmse .75); step 3 from the
 * sum 4.5 5.5 6.5 7.5:
 *   +A = (6.5 8.5 10.5 12.5) / 3, errors 7/6 5/6 1/2 1/6 -> sqrt(84/144) = .764
 *   +B = (3.5 5.5 7.5 9.5) / 3, errors 1/6 -1/6 -1/2 -5/6 -> sqrt(36/144) = .5
 *   +C = (7 8 9 10) / 3, errors 4/3 2/3 0 -2/3 -> sqrt(24/36) = .816
 * -> B, .5: counts 1 1 1.  init 1 is plain greedy: counts 2 1 0.
 */
static void test_ensemble_init(void **state)
{
    aml_ensemble_candidate cand[3] = {{reg_a, 1}, {reg_b, 1}, {reg_c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {3, 2, 0, 0, 0.0, 0};
    double score;
    int counts[3];

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 1);
    assert_close(score, 0.5, TOL);

    /* init 2 with two steps keeps both initial members: .75 */
    o.steps = 2;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 0);
    assert_int_equal(counts[2], 1);
    assert_close(score, 0.75, TOL);

    o.steps = 3;
    o.init = 1;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);
}

/*
 * Ties go to the lowest index.  y = 1 2 3 4, c0 = y - 1, c1 = c2 = y + 1:
 * step 1 all three score rmse 1 -> c0; step 2 c0+c0 1, c0+c1 = c0+c2 = y
 * -> 0, tie -> c1.
 */
static void test_ensemble_ties(void **state)
{
    static const double lo[] = {0, 1, 2, 3};
    aml_ensemble_candidate cand[3] = {{lo, 1}, {reg_a, 1}, {reg_a, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {2, 0, 0, 0, 0.0, 0};
    double score;
    int counts[3];

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);
    assert_close(score, 0.0, TOL);
}

/*
 * NaN rows are dropped for every candidate alike.  The binary case plus
 * row 4 (y 0; A .9, B NaN, C .9) and row 5 (NaN everywhere).  Were row 4
 * kept for A alone, A would score 3/5 and B 3/4, and one step would pick
 * B; dropped consistently, A and B tie at 3/4 -> A.  Two steps: A + B,
 * accuracy 1.0 on rows 0..3 (the weighted average is NaN-free there).
 */
static void test_ensemble_nan_rows(void **state)
{
    double pa[6], pb[6], pc[6], a[12], b[12], c[12], score;
    static const double y[] = {0, 1, 0, 1, 0, 0};
    double y4[6] = {0, 1, 0, 1, 0, 0};
    aml_ensemble_candidate cand[3] = {{a, 2}, {b, 2}, {c, 2}};
    aml_ensemble_problem p = problem(cand, 3, 6, y, 2, "accuracy");
    aml_ensemble_options o = {1, 0, 0, 0, 0.0, 0};
    int counts[3];

    (void)state;
    memcpy(pa, bin_a, sizeof(bin_a));
    memcpy(pb, bin_b, sizeof(bin_b));
    memcpy(pc, bin_c, sizeof(bin_c));
    pa[4] = .9, pb[4] = NAN, pc[4] = .9;
    pa[5] = pb[5] = pc[5] = NAN;
    binary(pa, 6, a);
    binary(pb, 6, b);
    binary(pc, 6, c);
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 0);
    assert_close(score, 0.75, TOL);

    o.steps = 2;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_close(score, 1.0, TOL);

    /* a NaN in one class column only also drops the row: row 4 now has
     * y 1, A (.1, NaN), B and C P(class 1) .9.  Were it kept, A would score
     * 3/5 (the argmax of (.1, NaN) is class 0) and B 4/5, and one step
     * would pick B. */
    y4[4] = 1;
    pb[4] = .9;
    binary(pb, 6, b);
    a[2 * 4] = .1;
    a[2 * 4 + 1] = NAN;
    p.y = y4;
    o.steps = 1;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 0);
    assert_close(score, 0.75, TOL);
}

/*
 * Honest CV estimate.  y = 0 0 0 0, folds 0 0 1 1, rmse, S = 3; the
 * candidates are their own errors:
 *   A:  1  1  1  1
 *   B: -1 -1  0  0
 *   C:  0  0 -2 -2
 * Fold 0 held out, select on rows 2 3 (A 1, B 0, C -2): B scores 0 and
 * nothing beats 0 later -> B alone; on rows 0 1 B scores 1.
 * Fold 1 held out, select on rows 0 1 (A 1, B -1, C 0): C alone; on rows
 * 2 3 C scores 2.  Estimate (1 + 2) / 2 = 1.5.
 * Selection on all rows (optimistic): B (sqrt(1/2); A 1, C sqrt(2)), then
 * B+A = 0 0 .5 .5 -> sqrt(1/8) (B+B sqrt(1/2), B+C sqrt(5/8)), then sum
 * 0 0 1 1 +A = (1 1 2 2)/3 -> sqrt(10/36), +B = (-1 -1 1 1)/3 -> 1/3,
 * +C = (0 0 -1 -1)/3 -> sqrt(1/18) -> C: counts 1 1 1, rmse sqrt(1/18).
 */
static void test_ensemble_cv(void **state)
{
    static const double y[] = {0, 0, 0, 0};
    static const double a[] = {1, 1, 1, 1}, b[] = {-1, -1, 0, 0}, c[] = {0, 0, -2, -2};
    aml_ensemble_candidate cand[3] = {{a, 1}, {b, 1}, {c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, y, 0, "rmse");
    aml_ensemble_options o = {3, 0, 0, 0, 0.0, 0};
    int fold_of[] = {0, 0, 1, 1}, counts[3];
    double folds[2], score;

    (void)state;
    assert_int_equal(aml_ensemble_select_cv(&p, &o, fold_of, 2, folds, &score), 0);
    assert_close(folds[0], 1.0, TOL);
    assert_close(folds[1], 2.0, TOL);
    assert_close(score, 1.5, TOL);

    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 1);
    assert_close(score, sqrt(1.0 / 18.0), TOL);

    /* a row outside every fold only ever selects: fold 1 held out now
     * selects on rows 0 1 3 (A 1 1 1, B -1 -1 0, C 0 0 -2): B sqrt(2/3),
     * A 1, C sqrt(4/3) -> B; then B+C = (-.5 -.5 -1) -> sqrt(1/2), B+A =
     * (0 0 .5) -> sqrt(1/12) -> A; then sum (0 0 1): +C (0 0 -1)/3 ->
     * sqrt(1/27), +B (-1 -1 1)/3 -> 1/3, +A (1 1 2)/3 -> sqrt(6/27) -> C:
     * weights 1/3 each; on row 2 the average is (1 + 0 - 2) / 3 = -1/3.
     * Fold 0 selects on rows 2 3 as before: 1.  Mean (1 + 1/3) / 2 = 2/3. */
    fold_of[3] = -1;
    assert_int_equal(aml_ensemble_select_cv(&p, &o, fold_of, 2, folds, &score), 0);
    assert_close(folds[0], 1.0, TOL);
    assert_close(folds[1], 1.0 / 3.0, TOL);
    assert_close(score, 2.0 / 3.0, TOL);
}

/*
 * Weighted average: weights 1 0 3 on two rows of two outputs; the NaN of
 * the zero-weight candidate does not reach the result.
 *   row 0: (1 * (1, 2) + 3 * (5, 6)) / 4 = (4, 5)
 *   row 1: (1 * (3, 4) + 3 * (7, 8)) / 4 = (6, 7)
 * Voting (equal weights 1 1) of the first and last: (3, 4), (5, 6).
 */
static void test_ensemble_average(void **state)
{
    static const double x0[] = {1, 2, 3, 4}, x1[] = {NAN, NAN, NAN, NAN};
    static const double x2[] = {5, 6, 7, 8};
    aml_ensemble_candidate cand[3] = {{x0, 2}, {x1, 2}, {x2, 2}};
    const aml_ensemble_candidate vote[2] = {{x0, 2}, {x2, 2}};
    double w[3] = {1, 0, 3}, eq[2] = {1, 1}, out[4];

    (void)state;
    assert_int_equal(aml_ensemble_average(cand, 3, 2, w, out), 0);
    assert_close(out[0], 4, TOL);
    assert_close(out[1], 5, TOL);
    assert_close(out[2], 6, TOL);
    assert_close(out[3], 7, TOL);
    assert_int_equal(aml_ensemble_average(vote, 2, 2, eq, out), 0);
    assert_close(out[0], 3, TOL);
    assert_close(out[1], 4, TOL);
    assert_close(out[2], 5, TOL);
    assert_close(out[3], 6, TOL);

    w[0] = w[2] = 0;
    assert_int_equal(aml_ensemble_average(cand, 3, 2, w, out), AML_EINVAL);
    w[0] = -1;
    assert_int_equal(aml_ensemble_average(cand, 3, 2, w, out), AML_EINVAL);
    w[0] = NAN;
    assert_int_equal(aml_ensemble_average(cand, 3, 2, w, out), AML_EINVAL);
    assert_int_equal(aml_ensemble_average(cand, 0, 2, eq, out), AML_EINVAL);
    cand[1].outputs = 1;
    w[0] = 1;
    assert_int_equal(aml_ensemble_average(cand, 3, 2, w, out), AML_EINVAL);
}

static void expect_einval(int rc)
{
    assert_int_equal(rc, AML_EINVAL);
    assert_true(strlen(aml_error_message()) > 0);
    aml_error_clear();
}

/*
 * Bagged selection, the regression case above with 4 steps and bags of 2
 * of the 3 candidates (bag_fraction 2/3).  Selection within each pair, by
 * hand as above:
 *   {A, B}: A (1), B (.5), A (0), then A -> .25 or B -> .5, worse: A A B,
 *           weights (2/3, 1/3, 0), counts (2, 1, 0).
 *   {A, C}: A (1), C (.75); step 3 +A = (2y + 4.5) / 3 -> .764, +C = (y + 6) / 3
 *           -> .816; step 4 from A A C: +A -> .800, +C = (2y + 7) / 4 -> .75,
 *           equal, not better: prefix A C, weights (1/2, 0, 1/2), counts (1, 0, 1).
 *   {B, C}: C (1.118); step 2 C again (C + B = (y + .5) / 2 -> 1.146);
 *           step 3 +B = (y + 3) / 3 -> 1.0; step 4 +C = (y + 5.5) / 4 -> .976:
 *           C C B C, weights (0, 1/4, 3/4), counts (0, 1, 3).
 * So the bagged weights are (a w_AB + b w_AC + c w_BC) / bags for bag
 * counts a + b + c = bags, whichever pairs the generator drew.
 */
static const double bag_w[3][3] = {{2.0 / 3, 1.0 / 3, 0}, {0.5, 0, 0.5}, {0, 0.25, 0.75}};
static const int bag_c[3][3] = {{2, 1, 0}, {1, 0, 1}, {0, 1, 3}};

/* Finds bag counts (a, b, c) that explain w and counts; returns 0 when none does. */
static int bag_explain(int bags, const double *w, const int *counts, int *abc)
{
    for (int a = 0; a <= bags; a++)
        for (int b = 0; a + b <= bags; b++) {
            int c = bags - a - b, ok = 1;

            for (int j = 0; j < 3; j++) {
                double wj = (a * bag_w[0][j] + b * bag_w[1][j] + c * bag_w[2][j]) / bags;

                ok &= fabs(w[j] - wj) < TOL;
                ok &= counts[j] == a * bag_c[0][j] + b * bag_c[1][j] + c * bag_c[2][j];
            }
            if (ok) {
                abc[0] = a, abc[1] = b, abc[2] = c;
                return 1;
            }
        }
    return 0;
}

static void test_ensemble_bagged(void **state)
{
    aml_ensemble_candidate cand[3] = {{reg_a, 1}, {reg_b, 1}, {reg_c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {4, 0, 0, 60, 2.0 / 3, 7};
    double w[3], w2[3], avg[4], score, score2;
    int counts[3], counts2[3], abc[3];

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_true(bag_explain(60, w, counts, abc));
    /* 60 uniform draws of one pair in three: each pair about 20 times. */
    for (int j = 0; j < 3; j++)
        assert_true(abc[j] >= 8 && abc[j] <= 32);
    /* The score is that of the averaged weights. */
    assert_int_equal(aml_ensemble_average(cand, 3, 4, w, avg), 0);
    assert_close(score, p.metric->score(reg_y, avg, 4, 0), TOL);
    /* The same seed draws the same bags. */
    assert_int_equal(aml_ensemble_select(&p, &o, counts2, w2, &score2), 0);
    assert_memory_equal(w, w2, sizeof(w));
    assert_memory_equal(counts, counts2, sizeof(counts));
    assert_true(score == score2);

    /* Bags of every candidate are the plain selection: A A B. */
    o.bag_fraction = 1.0;
    o.bags = 5;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_close(w[0], 2.0 / 3, TOL);
    assert_close(w[1], 1.0 / 3, TOL);
    assert_close(w[2], 0.0, TOL);
    assert_int_equal(counts[0], 10);
    assert_int_equal(counts[1], 5);
    assert_close(score, 0.0, TOL);
}

/*
 * The cap on distinct members applies to the bags' union: with bags of one
 * candidate each (bag_fraction 1/3), bag b's selection is its candidate
 * alone (a repeat never scores strictly better, so the prefix is 1), the
 * weights are the shares of bags that drew each, and max_distinct 1 keeps
 * only the heaviest (ties: the lower index), at weight 1.
 */
static void test_ensemble_bagged_cap(void **state)
{
    aml_ensemble_candidate cand[3] = {{reg_a, 1}, {reg_b, 1}, {reg_c, 1}};
    aml_ensemble_problem p = problem(cand, 3, 4, reg_y, 0, "rmse");
    aml_ensemble_options o = {4, 0, 0, 10, 1.0 / 3, 3};
    double w[3], score;
    int counts[3], capped[3], heavy = 0;

    (void)state;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, w, &score), 0);
    assert_int_equal(counts[0] + counts[1] + counts[2], 10);
    for (int j = 0; j < 3; j++) {
        assert_close(w[j], counts[j] / 10.0, TOL);
        if (counts[j] > counts[heavy])
            heavy = j;
    }
    o.max_distinct = 1;
    assert_int_equal(aml_ensemble_select(&p, &o, capped, w, &score), 0);
    for (int j = 0; j < 3; j++) {
        assert_close(w[j], j == heavy ? 1.0 : 0.0, TOL);
        assert_int_equal(capped[j], j == heavy ? counts[j] : 0);
    }
    assert_close(score, p.metric->score(reg_y, cand[heavy].oof, 4, 0), TOL);
}
static void test_ensemble_bad_input(void **state)
{
    double a[8], b[8], score, folds[2];
    static const double nan4[] = {NAN, NAN, NAN, NAN};
    aml_ensemble_candidate cand[2] = {{a, 2}, {b, 2}};
    aml_ensemble_problem p = problem(cand, 2, 4, bin_y, 2, "accuracy");
    aml_ensemble_options o = {2, 0, 0, 0, 0.0, 0};
    int counts[2], fold_of[] = {0, 0, 1, 1};

    (void)state;
    binary(bin_a, 4, a);
    binary(bin_b, 4, b);
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);

    p.m = 0; /* no candidates */
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    p.m = 2;
    cand[1].outputs = 1; /* mismatched outputs */
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    expect_einval(aml_ensemble_select_cv(&p, &o, fold_of, 2, folds, &score));
    cand[1].outputs = 2;
    o.steps = 0;
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    o.steps = 2;
    o.init = 3; /* more initial members than candidates */
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    o.init = 0;
    o.bags = -1;
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    o.bags = 2; /* bags need a fraction in (0, 1] */
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    o.bag_fraction = 1.5;
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
    o.bag_fraction = 0.5;
    assert_int_equal(aml_ensemble_select(&p, &o, counts, NULL, &score), 0);
    o.bags = 0;
    expect_einval(aml_ensemble_select_cv(&p, &o, fold_of, 1, folds, &score));
    fold_of[0] = 2; /* fold outside 0..k-1 */
    expect_einval(aml_ensemble_select_cv(&p, &o, fold_of, 2, folds, &score));
    fold_of[0] = fold_of[1] = -1; /* fold 0 empty */
    expect_einval(aml_ensemble_select_cv(&p, &o, fold_of, 2, folds, &score));
    p.y = nan4; /* no usable row */
    expect_einval(aml_ensemble_select(&p, &o, counts, NULL, &score));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensemble_binary),
        cmocka_unit_test(test_ensemble_regression),
        cmocka_unit_test(test_ensemble_max_distinct),
        cmocka_unit_test(test_ensemble_init),
        cmocka_unit_test(test_ensemble_ties),
        cmocka_unit_test(test_ensemble_nan_rows),
        cmocka_unit_test(test_ensemble_cv),
        cmocka_unit_test(test_ensemble_average),
        cmocka_unit_test(test_ensemble_bagged),
        cmocka_unit_test(test_ensemble_bagged_cap),
        cmocka_unit_test(test_ensemble_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
