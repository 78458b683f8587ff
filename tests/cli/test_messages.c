/*
 * test_messages.c - what `automl run` says when it cannot give what was
 * asked, and the mistakes it refuses before any trial: each case runs the
 * binary on the example's penguins data with a spec written here.
 */
#include "testutil.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halving_all_partial),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
