/*
 * test_explain.c - permutation and impurity importance on synthetic sets
 * whose answer can be reasoned out, the prep's output-to-input mapping,
 * and reading labelled data.
 */
#include "testutil.h"

#include "aml.h"
#include "explain.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const colours[] = {"blue", "green", "red"};

/*
 * Writes n rows of x, noise (uniform on [0, 1)), colour (one of three) and
 * the target column y; returns the path.  Kind 0: y = "hi" when x > 0.5
 * else "lo"; kind 1: y = 10 when colour is red else 0.
 */
static const char *write_set(const char *name, size_t n, int kind, int with_target)
{
    static char path[512];
    aml_rng rng;
    FILE *f;
    size_t i;

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(with_target ? "x,noise,colour,y\n" : "x,noise,colour\n", f);
    aml_rng_init(&rng, 17, (uint64_t)kind);
    for (i = 0; i < n; i++) {
        double x = aml_rng_uniform(&rng), noise = aml_rng_uniform(&rng);
        const char *c = colours[aml_rng_below(&rng, 3)];

        fprintf(f, "%.6f,%.6f,%s", x, noise, c);
        if (with_target && kind == 0)
            fprintf(f, ",%s", x > 0.5 ? "hi" : "lo");
        else if (with_target)
            fprintf(f, ",%d", strcmp(c, "red") == 0 ? 10 : 0);
        fputc('\n', f);
    }
    fclose(f);
    return path;
}

static char *class_names[] = {"hi", "lo"};

/* A data set of the file's inputs and target, built as dataset.c would. */
static void make_dataset(aml_dataset *d, const char *path, int kind)
{
    static const char *const inputs[] = {"x", "noise", "colour"};
    static const char *const target[] = {"y"};
    aml_csv_options opt = {0}, topt = {0};
    aml_frame *t = NULL;
    size_t i;

    memset(d, 0, sizeof(*d));
    opt.only = inputs;
    opt.n_only = 3;
    topt.only = target;
    topt.n_only = 1;
    if (aml_frame_read_csv(&d->features, path, &opt) < 0 ||
        aml_frame_read_csv(&t, path, &topt) < 0)
        fail_msg("%s", aml_error_message());
    d->n = aml_frame_rows(d->features);
    d->y = calloc(d->n, sizeof(double));
    d->target = "y";
    d->task = kind == 0 ? AML_TASK_CLASSIFICATION : AML_TASK_REGRESSION;
    d->n_classes = kind == 0 ? 2 : 0;
    d->classes = class_names;
    for (i = 0; i < d->n; i++) {
        if (kind == 0) /* levels sorted: "hi" 0, "lo" 1, as the class order */
            d->y[i] = (double)aml_frame_codes(t, 0)[i];
        else
            d->y[i] = aml_frame_real(t, 0)[i];
    }
    aml_frame_free(t);
}

static aml_model *fit(const aml_dataset *d, const char *learner, const char *metric)
{
    aml_space *s = aml_space_new();
    aml_model *m = NULL;
    aml_config c;

    assert_non_null(aml_space_add_learner(s, learner));
    assert_int_equal(aml_config_init(&c, s, 0), 0);
    if (aml_model_fit(&m, d, s, &c, 0, metric, 0.5, 1, 1) < 0)
        fail_msg("%s", aml_error_message());
    aml_config_dispose(&c);
    aml_space_free(s);
    return m;
}

static size_t input_index(const aml_perm_importance *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->n_inputs; i++)
        if (strcmp(p->names[i], name) == 0)
            return i;
    fail_msg("no input %s", name);
    return 0;
}

/*
 * y = [x > 0.5]: the tree's first split on x at the class boundary makes
 * both sides pure, so CART splits once, on x, and never looks at noise or
 * colour.  Shuffling noise or colour then changes no prediction: their
 * importance is exactly 0 (every repeat, so std 0 too).  Shuffling x
 * gives each row the class of a random other row: about half the rows
 * change class, so accuracy drops by about 0.5 (> 0.3 with 300 rows).
 * The impurity importance is all on x.
 */
static void test_explain_tree_threshold(void **state)
{
    const char *path = write_set("threshold.csv", 300, 0, 1);
    aml_dataset d;
    aml_model *m;
    aml_frame *f = NULL;
    aml_perm_importance p, again;
    double *y = NULL, before[300], imp[3];
    size_t i, ix, in, ic;
    int n_trees;

    (void)state;
    make_dataset(&d, path, 0);
    m = fit(&d, "decision_tree", "accuracy");
    if (aml_explain_read(&f, &y, m, path) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_frame_rows(f), 300);
    assert_memory_equal(y, d.y, 300 * sizeof(double));
    memcpy(before, aml_frame_real(f, (size_t)aml_frame_find(f, "x")), sizeof(before));

    assert_int_equal(aml_explain_permutation(&p, m, f, y, 5, 42), 0);
    assert_string_equal(p.metric->name, "accuracy");
    assert_true(p.baseline == 1.0);
    ix = input_index(&p, "x");
    in = input_index(&p, "noise");
    ic = input_index(&p, "colour");
    assert_true(p.mean[ix] > 0.3 && p.mean[ix] < 0.7);
    assert_true(p.std[ix] > 0);
    assert_true(p.mean[in] == 0.0 && p.std[in] == 0.0);
    assert_true(p.mean[ic] == 0.0 && p.std[ic] == 0.0);
    /* The frame is restored, and the seed fixes the result. */
    assert_memory_equal(before, aml_frame_real(f, (size_t)aml_frame_find(f, "x")),
                        sizeof(before));
    assert_int_equal(aml_explain_permutation(&again, m, f, y, 5, 42), 0);
    assert_memory_equal(p.mean, again.mean, p.n_inputs * sizeof(double));
    assert_memory_equal(p.std, again.std, p.n_inputs * sizeof(double));
    aml_perm_importance_dispose(&again);

    assert_int_equal(aml_explain_impurity(m, imp, &n_trees), 0);
    assert_int_equal(n_trees, 1);
    for (i = 0; i < 3; i++)
        assert_true(imp[i] == (i == ix ? 1.0 : 0.0));

    aml_perm_importance_dispose(&p);
    free(y);
    aml_frame_free(f);
    aml_model_free(m);
    aml_frame_free(d.features);
    free(d.y);
}

/*
 * y = 10 for red rows, else 0: a regression forest's trees split on the
 * one-hot "red" column (one of colour's three), after which every leaf is
 * pure.  Mapped back, colour carries (nearly) all the impurity importance,
 * and shuffling it costs the most RMSE (about 10 * sqrt(2 p (1 - p)) with
 * p = 1/3 red rows, ~6.7), while x and noise cost little.
 */
static void test_explain_onehot_forest(void **state)
{
    const char *path = write_set("colour.csv", 240, 1, 1);
    aml_dataset d;
    aml_model *m;
    aml_frame *f = NULL;
    aml_perm_importance p;
    double *y = NULL, imp[3];
    size_t ix, in, ic;
    int n_trees;

    (void)state;
    make_dataset(&d, path, 1);
    m = fit(&d, "random_forest", "rmse");
    if (aml_explain_read(&f, &y, m, path) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_explain_permutation(&p, m, f, y, 3, 1), 0);
    assert_string_equal(p.metric->name, "rmse");
    ix = input_index(&p, "x");
    in = input_index(&p, "noise");
    ic = input_index(&p, "colour");
    assert_true(p.mean[ic] > 4);
    assert_true(fabs(p.mean[ix]) < 0.1 * p.mean[ic]);
    assert_true(fabs(p.mean[in]) < 0.1 * p.mean[ic]);

    assert_int_equal(aml_explain_impurity(m, imp, &n_trees), 0);
    assert_int_equal(n_trees, 1);
    assert_true(imp[ic] > 0.9);
    assert_close(imp[0] + imp[1] + imp[2], 1.0, 1e-12);

    aml_perm_importance_dispose(&p);
    free(y);
    aml_frame_free(f);
    aml_model_free(m);
    aml_frame_free(d.features);
    free(d.y);
}

/*
 * One-hot columns and missing indicators map back onto their input column:
 * x (gappy) gives x and its indicator, colour its two levels, z (gappy) z
 * and its indicator.
 */
static void test_prep_output_input(void **state)
{
    const size_t rows[4] = {0, 1, 2, 3}, want[6] = {0, 0, 1, 1, 2, 2};
    aml_prep_options o = {0};
    aml_frame *f = NULL;
    aml_prep *p = NULL;
    char path[512];
    FILE *out;
    size_t j;

    (void)state;
    snprintf(path, sizeof(path), "%s/map.csv", aml_test_tmpdir());
    out = fopen(path, "w");
    assert_non_null(out);
    fputs("x,colour,z\n1,red,\n2,blue,3\n,red,4\n4,red,5\n", out);
    fclose(out);
    assert_int_equal(aml_frame_read_csv(&f, path, NULL), 0);
    o.missing_indicator = 1;
    if (aml_prep_fit(&p, f, rows, 4, &o) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_prep_width(p), 6);
    for (j = 0; j < 6; j++)
        assert_int_equal(aml_prep_output_input(p, j), want[j]);
    aml_prep_free(p);
    aml_frame_free(f);
}

/* No linear or kNN member has impurity importance. */
static void test_explain_no_trees(void **state)
{
    const char *path = write_set("knn.csv", 60, 1, 1);
    aml_dataset d;
    aml_model *m;
    double imp[3] = {1, 1, 1};
    int n_trees = -1;

    (void)state;
    make_dataset(&d, path, 1);
    m = fit(&d, "ridge", "rmse");
    assert_int_equal(aml_explain_impurity(m, imp, &n_trees), 0);
    assert_int_equal(n_trees, 0);
    assert_true(imp[0] == 0 && imp[1] == 0 && imp[2] == 0);
    assert_false(aml_explain_is_tree("ridge"));
    assert_true(aml_explain_is_tree("gradient_boosting"));
    aml_model_free(m);
    aml_frame_free(d.features);
    free(d.y);
}

/* Unlabelled data, unknown classes and missing targets. */
static void test_explain_read_errors(void **state)
{
    const char *path = write_set("train.csv", 60, 0, 1);
    char bad[512];
    aml_dataset d;
    aml_model *m;
    aml_frame *f = NULL;
    double *y = NULL;
    FILE *out;

    (void)state;
    make_dataset(&d, path, 0);
    m = fit(&d, "decision_tree", "accuracy");
    path = write_set("nolabel.csv", 10, 0, 0);
    assert_int_equal(aml_explain_read(&f, &y, m, path), AML_EINVAL);
    assert_null(f);
    assert_non_null(strstr(aml_error_message(), "no column 'y'"));

    snprintf(bad, sizeof(bad), "%s/odd.csv", aml_test_tmpdir());
    out = fopen(bad, "w");
    assert_non_null(out);
    fputs("y,x,noise,colour\nhi,0.9,0.1,red\nNA,0.2,0.3,red\nlo,0.1,0.5,blue\n", out);
    fclose(out);
    if (aml_explain_read(&f, &y, m, bad) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_frame_rows(f), 2); /* the NA row dropped */
    assert_true(y[0] == 0 && y[1] == 1);
    aml_frame_free(f);
    free(y);

    out = fopen(bad, "w");
    fputs("y,x,noise,colour\nhi,0.9,0.1,red\nmid,0.2,0.3,red\n", out);
    fclose(out);
    assert_int_equal(aml_explain_read(&f, &y, m, bad), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "odd.csv:3: class 'mid'"));
    aml_model_free(m);
    aml_frame_free(d.features);
    free(d.y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_tree_threshold),
        cmocka_unit_test(test_explain_onehot_forest),
        cmocka_unit_test(test_prep_output_input),
        cmocka_unit_test(test_explain_no_trees),
        cmocka_unit_test(test_explain_read_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
