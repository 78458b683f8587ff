/*
 * test_stack.c - the stacked meta-model: a hand-computed ridge stack and
 * its honest out-of-fold estimate, a logistic stack, two layers,
 * passthrough, save/load round trips and bad input.
 */
#include "testutil.h"

#include "aml.h"
#include "prep.h"
#include "stack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ridge_only[] = {"ridge"};
static const char *const logreg_only[] = {"logistic_regression"};

/*
 * Eight rows, two members, y = 2 z1 - z2.  The centred columns
 * (+-1 patterns below, mean 3) are orthogonal with sum of squares 8, so
 * ridge (alpha 1, the default, intercept unpenalised) solves
 * (Zc'Zc + I) beta = Zc'yc one column at a time:
 *     beta1 = 8 * 2 / (8 + 1) = 16/9,  beta2 = 8 * -1 / 9 = -8/9,
 *     b = ymean - beta . zmean = 3 - 3 (16/9 - 8/9) = 1/3.
 * Each half of the rows (folds 0 and 1) has the same pattern with sums of
 * squares 4: beta = (8/5, -4/5), b = 3 - 3 (4/5) = 3/5.
 */
static const double z_pattern[8][2] = {{1, 1}, {-1, 1}, {1, -1}, {-1, -1},
                                       {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};

static void ridge_problem(double *Z, double *y, int *fold_of)
{
    int i;

    for (i = 0; i < 8; i++) {
        Z[2 * i] = 3 + z_pattern[i][0];
        Z[2 * i + 1] = 3 + z_pattern[i][1];
        y[i] = 2 * Z[2 * i] - Z[2 * i + 1];
        fold_of[i] = i / 4;
    }
}

static void test_stack_ridge_hand_computed(void **state)
{
    aml_stack_options o = {1, ridge_only, 1, NULL, 0};
    double Z[16], y[8], oof[8], pred[2];
    const double Znew[4] = {5, 1, 3, 3};
    int fold_of[8], i;
    aml_stack *s = NULL;
    aml_rng rng;

    (void)state;
    ridge_problem(Z, y, fold_of);
    aml_rng_init(&rng, 1, 0);
    if (aml_stack_fit(&s, &o, AML_TASK_REGRESSION, 0, Z, 8, 2, NULL, y, fold_of, 2, &rng,
                      1, oof) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_stack_outputs(s), 1);
    assert_int_equal(aml_stack_layers(s), 1);
    assert_int_equal(aml_stack_inputs(s), 2);
    assert_int_equal(aml_stack_n_meta(s), 1);
    assert_null(aml_stack_prep(s));
    assert_null(aml_stack_final(s));
    assert_int_equal(aml_stack_meta(s, 0)->n_features, 2);

    /* At (5, 1): 1/3 + 5 * 16/9 - 8/9 = 1/3 + 8; at (3, 3): the intercept plus 24/9. */
    assert_int_equal(aml_stack_predict(s, Znew, NULL, NULL, 2, pred), 0);
    assert_close(pred[0], 1.0 / 3 + 8, 1e-12);
    assert_close(pred[1], 3.0, 1e-12);

    /*
     * Honest estimate: each half predicted by the fit on the other,
     * 3/5 + 8/5 z1 - 4/5 z2 at (4,4), (2,4), (4,2), (2,2).
     */
    for (i = 0; i < 8; i++) {
        const double want[4] = {19.0 / 5, 3.0 / 5, 27.0 / 5, 11.0 / 5};

        assert_close(oof[i], want[i % 4], 1e-12);
    }
    aml_stack_free(s);
}

/*
 * Two members of a binary problem (q = 4 probability columns): member 0
 * knows the class (0.9 for the true class), member 1 is noise.  A logistic
 * meta-learner learns to follow member 0: every training and every honest
 * out-of-fold row is classified right, rows are probabilities.
 */
static void clf_problem(double *Z, double *y, int *fold_of, size_t n)
{
    aml_rng rng;
    size_t i;

    aml_rng_init(&rng, 42, 0);
    for (i = 0; i < n; i++) {
        double noise = aml_rng_uniform(&rng);

        y[i] = (double)(i % 2);
        Z[4 * i] = y[i] ? 0.1 : 0.9;
        Z[4 * i + 1] = 1 - Z[4 * i];
        Z[4 * i + 2] = noise;
        Z[4 * i + 3] = 1 - noise;
        fold_of[i] = (int)(i % 3);
    }
}

static void check_probabilities(const double *p, size_t n, int k)
{
    size_t i;
    int c;

    for (i = 0; i < n; i++) {
        double sum = 0;

        for (c = 0; c < k; c++) {
            assert_true(p[i * k + c] >= 0 && p[i * k + c] <= 1);
            sum += p[i * k + c];
        }
        assert_close(sum, 1.0, 1e-12);
    }
}

static void test_stack_logistic(void **state)
{
    aml_stack_options o = {1, logreg_only, 1, NULL, 0};
    double Z[4 * 60], y[60], oof[2 * 60], pred[2 * 60];
    int fold_of[60];
    aml_stack *s = NULL;
    aml_rng rng;
    size_t i;

    (void)state;
    clf_problem(Z, y, fold_of, 60);
    aml_rng_init(&rng, 1, 0);
    if (aml_stack_fit(&s, &o, AML_TASK_CLASSIFICATION, 2, Z, 60, 4, NULL, y, fold_of, 3,
                      &rng, 1, oof) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_stack_outputs(s), 2);
    assert_int_equal(aml_stack_predict(s, Z, NULL, NULL, 60, pred), 0);
    check_probabilities(pred, 60, 2);
    check_probabilities(oof, 60, 2);
    for (i = 0; i < 60; i++) {
        assert_true((pred[2 * i + 1] > 0.5) == (y[i] == 1));
        assert_true((oof[2 * i + 1] > 0.5) == (y[i] == 1));
    }
    aml_stack_free(s);
}

/* Saves s, loads it back, checks the copy predicts bit for bit, and every cut fails. */
static void round_trip(const aml_stack *s, const double *Z, const aml_frame *f, size_t n)
{
    size_t K = (size_t)aml_stack_outputs(s), cut;
    double *p1 = calloc(n * K, sizeof(double)), *p2 = calloc(n * K, sizeof(double));
    aml_stack *back = NULL;
    aml_writer w;
    aml_reader r;

    aml_writer_init(&w);
    assert_int_equal(aml_stack_save(s, &w), 0);
    aml_reader_init(&r, w.data, w.len);
    if (aml_stack_load(&back, &r) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(r.pos, w.len);
    assert_int_equal(aml_stack_layers(back), aml_stack_layers(s));
    assert_int_equal(aml_stack_passthrough(back), aml_stack_passthrough(s));
    assert_int_equal(aml_stack_predict(s, Z, f, NULL, n, p1), 0);
    assert_int_equal(aml_stack_predict(back, Z, f, NULL, n, p2), 0);
    assert_memory_equal(p1, p2, n * K * sizeof(double));
    aml_stack_free(back);

    for (cut = 0; cut < w.len; cut++) {
        aml_reader_init(&r, w.data, cut);
        back = NULL;
        assert_int_equal(aml_stack_load(&back, &r), AML_EFORMAT);
        assert_null(back);
    }
    aml_writer_dispose(&w);
    free(p1);
    free(p2);
}

/*
 * Two layers over a noise-free linear problem: layer 1 (ridge and knn) is
 * cross-fitted over the 3 folds, the final ridge learns from those
 * out-of-fold outputs (2 columns).  The targets are linear in Z with a
 * spread far larger than the ridge penalty, so the stack is close.
 */
static void test_stack_two_layers(void **state)
{
    static const char *const meta[] = {"ridge", "knn"};
    aml_stack_options o = {2, meta, 2, "ridge", 0};
    double Z[2 * 90], y[90], oof[90], pred[90], sse = 0, ss = 0, mean = 0;
    int fold_of[90];
    aml_stack *s = NULL;
    aml_rng rng;
    size_t i;

    (void)state;
    aml_rng_init(&rng, 7, 0);
    for (i = 0; i < 90; i++) {
        Z[2 * i] = 100 * aml_rng_uniform(&rng);
        Z[2 * i + 1] = 100 * aml_rng_uniform(&rng);
        y[i] = 2 * Z[2 * i] - Z[2 * i + 1];
        fold_of[i] = (int)(i % 3);
        mean += y[i] / 90;
    }
    if (aml_stack_fit(&s, &o, AML_TASK_REGRESSION, 0, Z, 90, 2, NULL, y, fold_of, 3, &rng,
                      1, oof) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_stack_layers(s), 2);
    assert_int_equal(aml_stack_n_meta(s), 2);
    assert_non_null(aml_stack_final(s));
    assert_int_equal(aml_stack_final(s)->n_features, 2);
    assert_string_equal(aml_stack_meta(s, 1)->type->name, "knn");
    assert_int_equal(aml_stack_predict(s, Z, NULL, NULL, 90, pred), 0);
    for (i = 0; i < 90; i++) {
        sse += (oof[i] - y[i]) * (oof[i] - y[i]);
        ss += (y[i] - mean) * (y[i] - mean);
    }
    assert_true(sse < 0.01 * ss); /* honest R^2 above 0.99 */
    round_trip(s, Z, NULL, 90);

    /* Two layers need two folds inside each honest fit's training rows. */
    aml_stack_free(s);
    for (i = 0; i < 90; i++)
        fold_of[i] = (int)(i % 2);
    assert_int_equal(aml_stack_fit(&s, &o, AML_TASK_REGRESSION, 0, Z, 90, 2, NULL, y,
                                   fold_of, 2, &rng, 1, oof),
                     AML_EINVAL);
    assert_null(s);
    /* Without the honest estimate two folds are enough. */
    assert_int_equal(aml_stack_fit(&s, &o, AML_TASK_REGRESSION, 0, Z, 90, 2, NULL, y,
                                   fold_of, 2, &rng, 1, NULL),
                     0);
    aml_stack_free(s);
}

/*
 * Passthrough: the members know nothing (Z constant noise), the class is
 * the categorical input column and x a numeric one.  A logistic stack that
 * sees the inputs classifies every row; the prep one-hot encodes the two
 * levels, so layer 1 reads q + 1 + 2 columns.
 */
static aml_frame *passthrough_frame(double *y, size_t n)
{
    char path[512];
    aml_frame *f = NULL;
    FILE *out;
    size_t i;

    snprintf(path, sizeof(path), "%s/pass.csv", aml_test_tmpdir());
    out = fopen(path, "w");
    assert_non_null(out);
    fputs("x,colour\n", out);
    for (i = 0; i < n; i++) {
        y[i] = (double)(i % 2);
        fprintf(out, "%zu,%s\n", i % 7, y[i] ? "red" : "blue");
    }
    fclose(out);
    if (aml_frame_read_csv(&f, path, NULL) < 0)
        fail_msg("%s", aml_error_message());
    return f;
}

static void test_stack_passthrough(void **state)
{
    aml_stack_options o = {1, logreg_only, 1, NULL, 1};
    double Z[2 * 40], y[40], oof[2 * 40], pred[2 * 40];
    aml_frame *f = passthrough_frame(y, 40);
    const size_t rows[2] = {3, 0};
    int fold_of[40];
    aml_stack *s = NULL;
    aml_rng rng;
    size_t i;

    (void)state;
    for (i = 0; i < 40; i++) {
        Z[2 * i] = 0.5;
        Z[2 * i + 1] = 0.5;
        fold_of[i] = (int)(i % 4);
    }
    aml_rng_init(&rng, 3, 0);
    if (aml_stack_fit(&s, &o, AML_TASK_CLASSIFICATION, 2, Z, 40, 2, f, y, fold_of, 4,
                      &rng, 1, oof) < 0)
        fail_msg("%s", aml_error_message());
    assert_true(aml_stack_passthrough(s));
    assert_non_null(aml_stack_prep(s));
    assert_int_equal(aml_prep_width(aml_stack_prep(s)), 3);
    assert_int_equal(aml_stack_meta(s, 0)->n_features, 2 + 3);
    assert_int_equal(aml_stack_predict(s, Z, f, NULL, 40, pred), 0);
    for (i = 0; i < 40; i++) {
        assert_true((pred[2 * i + 1] > 0.5) == (y[i] == 1));
        assert_true((oof[2 * i + 1] > 0.5) == (y[i] == 1));
    }
    /* Frame rows picked by index: row 3 (red) and row 0 (blue). */
    assert_int_equal(aml_stack_predict(s, Z, f, rows, 2, pred), 0);
    assert_true(pred[1] > 0.5 && pred[3] < 0.5);
    round_trip(s, Z, f, 40);

    /* Without a frame there is nothing to pass through. */
    assert_int_equal(aml_stack_predict(s, Z, NULL, NULL, 40, pred), AML_EINVAL);
    aml_stack_free(s);
    aml_frame_free(f);
}

static void expect_fit_error(const aml_stack_options *o, aml_task task, int n_classes,
                             const double *Z, size_t n, size_t q, const double *y,
                             const int *fold_of, int k, const char *needle)
{
    aml_stack *s = NULL;
    aml_rng rng;

    aml_rng_init(&rng, 1, 0);
    assert_int_equal(aml_stack_fit(&s, o, task, n_classes, Z, n, q, NULL, y, fold_of, k,
                                   &rng, 1, NULL),
                     AML_EINVAL);
    assert_null(s);
    if (!strstr(aml_error_message(), needle))
        fail_msg("'%s' does not mention '%s'", aml_error_message(), needle);
}

static void test_stack_bad_input(void **state)
{
    static const char *const unknown[] = {"no_such_learner"};
    static const char *const clf_only[] = {"logistic_regression"};
    aml_stack_options o = {1, ridge_only, 1, NULL, 0};
    double Z[16], y[8];
    int fold_of[8], k;
    const aml_task aml_reg = AML_TASK_REGRESSION;

    (void)state;
    ridge_problem(Z, y, fold_of);
    expect_fit_error(&o, aml_reg, 0, Z, 8, 0, y, fold_of, 2, "q = 0");
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 1, "1 folds");
    fold_of[5] = 2;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "row 5 is in fold 2");
    fold_of[5] = -1;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "row 5 is in fold -1");
    fold_of[5] = 1;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, NULL, 2, "folds");
    Z[3] = NAN;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "row 1");
    Z[3] = 4;
    o.passthrough = 1;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "passthrough");
    o.passthrough = 0;
    o.layers = 3;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "layers");
    o.layers = 2;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "final");
    o.layers = 1;
    o.meta = unknown;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "no_such_learner");
    o.meta = clf_only;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "does not do regression");
    o.n_meta = 0;
    expect_fit_error(&o, aml_reg, 0, Z, 8, 2, y, fold_of, 2, "layer-1 learners");
    o.n_meta = 1;
    for (k = 0; k < 8; k++)
        y[k] = (double)(k % 2);
    y[2] = 2; /* class 2 of 2 */
    expect_fit_error(&o, AML_TASK_CLASSIFICATION, 2, Z, 8, 2, y, fold_of, 2, "row 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_ridge_hand_computed),
        cmocka_unit_test(test_stack_logistic),
        cmocka_unit_test(test_stack_two_layers),
        cmocka_unit_test(test_stack_passthrough),
        cmocka_unit_test(test_stack_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
