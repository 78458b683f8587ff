/*
 * test_datasets.c - every shared data set (../shared/datasets) as it is,
 * end to end through the automl binary: a tiny default search (one
 * decision-tree trial of depth 2, 2-fold CV), the model written, then `predict` on
 * the training file itself (target and any dropped column present: they
 * are ignored with a note).  Skipped when the shared directory is absent.
 *
 * The expectation is that nothing fails: each file's quirks (see
 * ../shared/datasets/CATALOG.md: ", " separators, '?' gaps, CRLF, quoted
 * strings, ID columns, a '?' target) are the reader's to absorb.  The
 * predicted rows must number the file's data rows, counted here by an
 * independent line count (none of these files has a line break inside
 * quotes, and blank lines are not rows).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct shared_set {
    const char *file, *target;
} shared_set;

static const shared_set sets[] = {
    {"abalone.csv", "Rings"},
    {"adult.csv", "income"},
    {"auto_imports.csv", "price"},
    {"bank_marketing.csv", "y"},
    {"breast_cancer_wdbc.csv", "target"},
    {"california_housing.csv", "median_house_value"},
    {"credit_data.csv", "Status"},
    {"credit_g.csv", "class"},
    {"diabetes.csv", "target"},
    {"diamonds.csv", "price"},
    {"digits.csv", "target"},
    {"glass.csv", "Type"},
    {"horse_colic.csv", "outcome"},
    {"iris.csv", "Species"},
    {"letter.csv", "lettr"},
    {"mushroom.csv", "edibility"},
    {"penguins.csv", "species"},
    {"pima_diabetes.csv", "diabetes"},
    {"sonar.csv", "Class"},
    {"titanic.csv", "Survived"},
    {"wine.csv", "target"},
    {"wine_quality_white.csv", "quality"},
};

/* Non-blank lines of a file (CR, LF or CRLF endings). */
static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    int c, content = 0;

    assert_non_null(f);
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n' || c == '\r') {
            n += content;
            content = 0;
        } else if (c != ' ' && c != '\t') {
            content = 1;
        }
    }
    fclose(f);
    return n + (size_t)content;
}

static void fail_with_output(const char *what, const char *file)
{
    char *out = aml_cli_slurp(aml_cli_at("out.txt"), NULL),
         *err = aml_cli_slurp(aml_cli_at("err.txt"), NULL);

    fail_msg("%s %s:\nstdout:\n%s\nstderr:\n%s", what, file, out ? out : "",
             err ? err : "");
}

static void write_spec(const char *path, const shared_set *s, const char *extra)
{
    char spec[2048];
    FILE *f;

    snprintf(spec, sizeof(spec), "%s/spec.yaml", aml_cli_dir());
    f = fopen(spec, "w");
    assert_non_null(f);
    fprintf(f,
            "study: s\n"
            "data: {train: '%s', target: '%s'}\n"
            "cv: {folds: 2}\n"
            "search: {trials: 1, seed: 1}\n"
            "learners:\n  decision_tree: {max_depth: 2}\n"
            "%s"
            "store: s.db\noutput: s.model\n",
            path, s->target, extra);
    fclose(f);
}

static void run_one(const shared_set *s, const char *extra)
{
    const char *path = aml_test_shared(s->file);
    char args[4096], *pred;
    size_t lines, rows = 0;
    const char *p;

    if (!path)
        return;
    aml_cli_dir_setup("ds", NULL);
    lines = count_lines(path);
    write_spec(path, s, extra);
    if (aml_cli_run("run spec.yaml --quiet") != 0)
        fail_with_output("run failed on", s->file);
    snprintf(args, sizeof(args), "predict s.model '%s' --out pred.csv", path);
    if (aml_cli_run(args) != 0)
        fail_with_output("predict failed on", s->file);
    pred = aml_cli_slurp(aml_cli_at("pred.csv"), NULL);
    assert_non_null(pred);
    for (p = pred; *p; p++)
        rows += *p == '\n';
    free(pred);
    /* Header line in both files. */
    if (rows != lines)
        fail_msg("%s: %zu prediction lines for %zu input lines", s->file, rows, lines);
}

static void test_datasets_default_search(void **state)
{
    size_t i;

    (void)state;
    if (!aml_test_shared("CATALOG.md"))
        skip();
    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        run_one(&sets[i], "");
}

/* Searched preprocessing on two awkward files (text, gaps, imbalance). */
static void test_datasets_preprocess(void **state)
{
    static const char *const pre = "preprocess:\n"
                                   "  impute: [median, most_frequent]\n"
                                   "  missing_indicator: true\n"
                                   "  encode: {choice: [onehot, ordinal]}\n"
                                   "  max_levels: 8\n"
                                   "  scale: robust\n"
                                   "  dedup: true\n"
                                   "  balance: [smote, class_weight]\n";

    (void)state;
    if (!aml_test_shared("CATALOG.md"))
        skip();
    run_one(&sets[19], pre); /* titanic */
    run_one(&sets[12], pre); /* horse_colic */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datasets_default_search),
        cmocka_unit_test(test_datasets_preprocess),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
