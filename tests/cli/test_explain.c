/*
 * test_explain.c - `automl explain` through the binary: the table of a
 * tree model on the labelled penguins (every input column, the impurity
 * column, the same output for the same seed), and the errors for
 * unlabelled data and bad options.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Runs automl with `args`; stdout and stderr go to files named by `tag`. */
static int automl(const char *args, const char *tag)
{
    char cmd[4096];
    int status;

    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s > '%s.out' 2> '%s.err'",
             AML_SOURCE_DIR, AML_BINARY, args, tag, tag);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char *output(const char *tag, const char *ext)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s.%s", tag, ext);
    return slurp(path);
}

static void expect(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("output does not contain '%s':\n%s", needle, text);
}

#define MODEL "tests/fixtures/model/v2_clf.model"

static void test_cli_explain(void **state)
{
    char a[512], b[512], c[512];
    char *one, *two, *err;

    (void)state;
    snprintf(a, sizeof(a), "%s/a", aml_test_tmpdir());
    snprintf(b, sizeof(b), "%s/b", aml_test_tmpdir());
    snprintf(c, sizeof(c), "%s/c", aml_test_tmpdir());
    assert_int_equal(
        automl("explain " MODEL " examples/penguins/penguins.csv --seed 3", a), 0);
    assert_int_equal(automl("explain " MODEL
                            " examples/penguins/penguins.csv --seed=3 --repeats 5",
                            b),
                     0);
    one = output(a, "out");
    two = output(b, "out");
    assert_string_equal(one, two); /* the default is 5 repeats; the seed fixes shuffles */
    expect(one, "344 rows, accuracy");
    expect(one, "over 5 repeats (seed 3)");
    expect(one, "impurity");
    expect(one, "flipper_length_mm");
    expect(one, "island");
    expect(one, "sex");
    expect(one, "(1 member)");
    free(one);
    free(two);

    /* The prediction file has no species column. */
    assert_int_equal(automl("explain " MODEL " examples/penguins/new_penguins.csv", c),
                     2);
    err = output(c, "err");
    expect(err, "no column 'species' (the target)");
    free(err);
    assert_int_equal(
        automl("explain " MODEL " examples/penguins/penguins.csv --repeats 0", c), 2);
    err = output(c, "err");
    expect(err, "--repeats must be 1 to 1000");
    free(err);
    assert_int_equal(automl("explain " MODEL, c), 2);
    assert_int_equal(automl("explain examples/penguins/penguins.csv "
                            "examples/penguins/penguins.csv",
                            c),
                     2);
    err = output(c, "err");
    expect(err, "not an automl model file");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_explain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
