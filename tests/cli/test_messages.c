/*
 * test_messages.c - what `automl run` says when it cannot give what was
 * asked, and the mistakes it refuses before any trial: each case runs the
 * binary on the example's penguins data with a spec written here.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes DIR/name.yaml: penguins, target `target`, then the text `rest`. */
static void write_spec(const char *name, const char *target, const char *rest)
{
    char file[64];
    FILE *f;

    snprintf(file, sizeof(file), "%s.yaml", name);
    f = fopen(aml_cli_at(file), "w");
    assert_non_null(f);
    fprintf(f, "study: %s\ndata: {train: penguins.csv, target: %s}\nstore: %s.db\n%s",
            name, target, name, rest);
    fclose(f);
}

static void setup(void)
{
    aml_cli_dir_setup("messages", "examples/penguins/penguins.csv", NULL);
}

/*
 * Halving with a budget too small for a full evaluation: 6 trials, all
 * partial (no default seeds).  The message says so and how many trials the
 * first full evaluation needs (the dry run's 12 here), and that number
 * holds: the study resumed with 12 trials has a model.
 */
static void test_halving_all_partial(void **state)
{
    (void)state;
    setup();
    write_spec("h", "species",
               "cv: {folds: 3, seed: 1}\n"
               "search: {strategy: halving, trials: 6, seed: 1, defaults_first: false}\n"
               "learners: {knn: {}, decision_tree: {}}\noutput: h.model\n");
    assert_int_equal(aml_cli_run("run h.yaml --quiet"), 1);
    aml_cli_expect_in("err.txt", "automl: all 6 ok trials were partial evaluations of "
                                 "halving");
    aml_cli_expect_in("err.txt", "none came within 6 trials, so there is no model");
    aml_cli_expect_in("err.txt", "raise search.trials (the first full evaluation needs "
                                 "about");
    {
        char *err = aml_cli_read(aml_cli_at("err.txt"));
        char spec[256];
        long need = 0;
        const char *p = strstr(err, "needs about ");

        assert_non_null(p);
        need = strtol(p + strlen("needs about "), NULL, 10);
        assert_true(need > 6 && need < 60);
        free(err);
        snprintf(
            spec, sizeof(spec),
            "cv: {folds: 3, seed: 1}\n"
            "search: {strategy: halving, trials: %ld, seed: 1, defaults_first: false}\n"
            "learners: {knn: {}, decision_tree: {}}\noutput: h.model\n",
            need);
        write_spec("h", "species", spec);
    }
    assert_int_equal(aml_cli_run("run h.yaml --quiet"), 0);
    aml_cli_expect_in("out.txt", "written to");
}

/*
 * Options of classification only on a regression (target body_mass_g) are
 * refused before any trial, at their place in the spec (line:col counted
 * from the text: the spec's first three lines come from write_spec), and
 * nothing is written.  Before, balance failed every trial at run time and a
 * stratified plan silently became plain k-fold.
 */
static void test_classification_options_on_regression(void **state)
{
    (void)state;
    setup();
    write_spec("b", "body_mass_g",
               "search: {trials: 2}\nlearners: {ridge: {}}\n"
               "preprocess: {balance: [none, smote]}\n");
    assert_int_equal(aml_cli_run("run b.yaml"), 2);
    aml_cli_expect_in("err.txt", "b.yaml:6:14: preprocess: balance 'smote' applies to "
                                 "classification only, and this is a regression task");
    assert_int_equal(access(aml_cli_at("b.db"), F_OK), -1);

    write_spec("k", "body_mass_g",
               "cv: {kind: stratified}\nsearch: {trials: 2}\nlearners: {ridge: {}}\n");
    assert_int_equal(aml_cli_run("run k.yaml"), 2);
    aml_cli_expect_in("err.txt", "k.yaml:4:12: cv: a stratified plan needs classes, and "
                                 "this is a regression task (use cv.kind: kfold)");
    write_spec("k", "body_mass_g",
               "cv: {stratified: true}\nsearch: {trials: 2}\nlearners: {ridge: {}}\n");
    assert_int_equal(aml_cli_run("run k.yaml"), 2);
    aml_cli_expect_in("err.txt", "k.yaml:4:18: cv: a stratified plan needs classes");
    assert_int_equal(access(aml_cli_at("k.db"), F_OK), -1);

    /* balance: none and a plain plan are fine on a regression. */
    write_spec("n", "body_mass_g",
               "cv: {folds: 3}\nsearch: {trials: 2}\nlearners: {ridge: {}}\n"
               "preprocess: {balance: none}\n");
    assert_int_equal(aml_cli_run("run n.yaml --quiet"), 0);
}

/*
 * Small wordings: one input column is singular; an ensemble that cannot be
 * built names its method once ("no voting ensemble", not "no ensemble
 * ensemble"); --top 0 and export --method none --size are refused.
 */
static void test_small_wordings(void **state)
{
    sqlite3 *db = NULL;

    (void)state;
    setup();
    {
        /* every input dropped but body_mass_g */
        FILE *f = fopen(aml_cli_at("one.yaml"), "w");

        assert_non_null(f);
        fputs("study: one\ndata: {train: penguins.csv, target: species, drop: [island, "
              "bill_length_mm, bill_depth_mm, flipper_length_mm, sex, year]}\n"
              "store: one.db\ncv: {folds: 3}\nsearch: {trials: 2}\n"
              "learners: {knn: {}}\nensemble: {method: voting, size: 2}\n",
              f);
        fclose(f);
    }
    assert_int_equal(aml_cli_run("run one.yaml"), 0);
    aml_cli_expect_in("out.txt", "344 rows, 1 input column, target");

    /* A study whose stored out-of-fold predictions are gone: no ensemble. */
    assert_int_equal(sqlite3_open(aml_cli_at("one.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM trial_oof", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(aml_cli_run("export one.db --out again.model"), 0);
    aml_cli_expect_in("err.txt", "warning: no voting ensemble (");

    assert_int_equal(aml_cli_run("trials one.db --top 0"), 2);
    aml_cli_expect_in("err.txt", "--top takes a count of at least 1 (--all lists every "
                                 "trial)");
    assert_int_equal(aml_cli_run("export one.db --method none --size 5 --out x.model"),
                     2);
    aml_cli_expect_in("err.txt", "export: --size does not apply to --method none");
}

/*
 * A stacking meta-learner that cannot do the task is an error at its name
 * (line 7; columns counted from the text), not at the section's line:1.
 */
static void test_meta_task_position(void **state)
{
    (void)state;
    setup();
    write_spec("m", "body_mass_g",
               "cv: {folds: 2}\nsearch: {trials: 2}\nlearners: {ridge: {}}\n"
               "ensemble: {method: stacking, meta: [ridge, logistic_regression]}\n");
    assert_int_equal(aml_cli_run("run m.yaml --quiet"), 2);
    aml_cli_expect_in("err.txt", "m.yaml:7:44: ensemble: meta-learner "
                                 "'logistic_regression' does not do regression");
    write_spec("m", "body_mass_g",
               "cv: {folds: 2}\nsearch: {trials: 2}\nlearners: {ridge: {}}\n"
               "ensemble: {method: stacking, layers: 2, final: logistic_regression}\n");
    assert_int_equal(aml_cli_run("run m.yaml --quiet"), 2);
    aml_cli_expect_in("err.txt", "m.yaml:7:48: ensemble: meta-learner "
                                 "'logistic_regression' does not do regression");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halving_all_partial),
        cmocka_unit_test(test_classification_options_on_regression),
        cmocka_unit_test(test_small_wordings),
        cmocka_unit_test(test_meta_task_position),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
