/*
 * test_explain.c - `automl explain` through the binary: the table of a
 * tree model on the labelled penguins (every input column, the impurity
 * column, the same output for the same seed), and the errors for
 * unlabelled data and bad options; inputs so large the model or its
 * metric overflows (a clear refusal, or an infinite importance).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

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
    return aml_cli_read(path);
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
    expect(err, "option --repeats takes a positive integer up to 1000, not '0'");
    free(err);
    /* -1 is refused with the same words as 0 (not "non-negative") */
    assert_int_equal(
        automl("explain " MODEL " examples/penguins/penguins.csv --repeats -1", c), 2);
    err = output(c, "err");
    expect(err, "option --repeats takes a positive integer up to 1000, not '-1'");
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

/* Row i of a smooth set: y = 3a + b + a little noise. */
static void smooth_row(int i, double *a, double *b, double *c)
{
    *a = sin(i);
    *b = cos(1.7 * i);
    *c = sin(0.3 * i + 1);
}

/* DIR/name: rows first..first+n-1 of the smooth set; row `odd` gets a = big. */
static void write_smooth(const char *name, int first, int n, int odd, double big)
{
    FILE *f = fopen(aml_cli_at(name), "w");

    assert_non_null(f);
    fputs("a,b,c,y\n", f);
    for (int i = first; i < first + n; i++) {
        double a, b, c, y;

        smooth_row(i, &a, &b, &c);
        if (i - first == odd)
            a = big;
        y = 3 * a + b + (odd < 0 ? 0.01 * sin(5.0 * i) : 0);
        fprintf(f, "%.17g,%.17g,%.17g,%.17g\n", a, b, c, isfinite(y) ? y : 0.0);
    }
    fclose(f);
}

/* DIR/name: n rows of the smooth set whose a is big, -big, big, ... and y =
 * sign (3a + b). */
static void write_alternating(const char *name, int n, double big, double sign)
{
    FILE *f = fopen(aml_cli_at(name), "w");

    assert_non_null(f);
    fputs("a,b,c,y\n", f);
    for (int i = 0; i < n; i++) {
        double a, b, c;

        smooth_row(i, &a, &b, &c);
        a = i % 2 ? -big : big;
        fprintf(f, "%.17g,%.17g,%.17g,%.17g\n", a, b, c, sign * (3 * a + b));
    }
    fclose(f);
}

/*
 * A ridge model of y = 3a + b (trained on values within [-1, 1]) meets
 * inputs near the top of the double range.  Before, every importance was
 * printed as nan.  Now:
 *  - a = 1e306 on a row: the prediction (about 3e306) is finite, and so is
 *    rmse although the error's square is not (trials/metric.c scales the
 *    sum; before, this was refused as an overflow);
 *  - a = 1e308: 3e308 overflows the prediction itself: refused, naming
 *    the row's line (line 2: the first data row);
 *  - a = 5e307, -5e307, ... with y = 3a + b (about +-1.5e308): unshuffled,
 *    the errors are the model's small bias times a, finite.  Shuffling a
 *    puts -5e307 on about half the rows whose y is +1.5e308 (and the other
 *    way round): errors about 3e308, beyond DBL_MAX, on half of the 20 rows,
 *    so rmse is about 3e308 sqrt(1/2) = 2.1e308 > DBL_MAX (1.8e308), truly
 *    not finite: importance inf, std "-", and a footnote.  Shuffling b or c
 *    leaves a in place: finite;
 *  - the same with y = -(3a + b): every error is about 3e308, rmse too,
 *    beyond DBL_MAX unshuffled: refused, saying the errors overflow.
 */
static void test_cli_explain_overflow(void **state)
{
    char *out, *err;

    (void)state;
    aml_cli_dir_setup("explain_overflow", NULL);
    write_smooth("train.csv", 0, 120, -1, 0);
    {
        FILE *f = fopen(aml_cli_at("spec.yaml"), "w");

        assert_non_null(f);
        fputs("study: h\ndata: {train: train.csv, target: y}\ncv: {folds: 3, seed: 1}\n"
              "metric: rmse\nsearch: {strategy: random, trials: 2, seed: 1}\n"
              "learners:\n  ridge: {}\nstore: h.db\noutput: h.model\n",
              f);
        fclose(f);
    }
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);

    write_smooth("big.csv", 200, 20, 0, 1e306);
    assert_int_equal(aml_cli_run("explain h.model big.csv"), 0);
    out = aml_cli_read(aml_cli_at("out.txt"));
    assert_null(strstr(out, "nan"));
    assert_null(strstr(out, "inf"));
    free(out);

    write_alternating("over.csv", 20, 5e307, -1.0);
    assert_int_equal(aml_cli_run("explain h.model over.csv"), 2);
    err = aml_cli_read(aml_cli_at("err.txt"));
    expect(err, "over.csv: the model's rmse on these rows is not finite");
    expect(err, "the errors overflow");
    assert_null(strstr(err, "nan"));
    free(err);

    write_smooth("inf.csv", 200, 20, 0, 1e308);
    assert_int_equal(aml_cli_run("explain h.model inf.csv"), 2);
    err = aml_cli_read(aml_cli_at("err.txt"));
    expect(err, "inf.csv: the model's prediction is not finite for 1 of 20 rows (the "
                "first on line 2)");
    free(err);

    write_alternating("shuf.csv", 20, 5e307, 1.0);
    assert_int_equal(aml_cli_run("explain h.model shuf.csv"), 0);
    out = aml_cli_read(aml_cli_at("out.txt"));
    expect(out, "\na              inf       -\n");
    expect(out, "inf: with the column shuffled the model's rmse is no longer a finite");
    assert_null(strstr(out, "nan"));
    free(out);
}

/* Code points of s up to byte offset `bytes` (UTF-8). */
static size_t columns_to(const char *s, size_t bytes)
{
    size_t n = 0;

    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Where the number after `name` starts on its line, in terminal columns. */
static size_t number_column(const char *text, const char *name)
{
    char needle[64];
    const char *line, *p;

    snprintf(needle, sizeof(needle), "\n%s ", name);
    line = strstr(text, needle);
    assert_non_null(line);
    line++;
    for (p = line + strlen(name); *p == ' '; p++)
        ;
    return columns_to(line, (size_t)(p - line));
}

/* Tables align by characters, not bytes: a column named größe lines up. */
static void test_cli_table_unicode(void **state)
{
    char *out, *text;
    size_t len;

    (void)state;
    aml_cli_dir_setup("explain_unicode", NULL);
    write_smooth("train.csv", 0, 120, -1, 0);
    out = aml_cli_read(aml_cli_at("train.csv"));
    len = strlen(out);
    text = malloc(len + 8);
    assert_non_null(text);
    snprintf(text, len + 8,
             "gr\xc3\xb6\xc3\x9f"
             "e%s",
             out + 1); /* "a,..." -> "größe,..." */
    free(out);
    {
        FILE *f = fopen(aml_cli_at("train.csv"), "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        f = fopen(aml_cli_at("spec.yaml"), "w");
        assert_non_null(f);
        fputs("study: u\ndata: {train: train.csv, target: y}\ncv: {folds: 3, seed: 1}\n"
              "metric: rmse\nsearch: {strategy: random, trials: 2, seed: 1}\n"
              "learners:\n  ridge: {}\nstore: u.db\noutput: u.model\n",
              f);
        fclose(f);
    }
    free(text);
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    assert_int_equal(aml_cli_run("explain u.model train.csv"), 0);
    out = aml_cli_read(aml_cli_at("out.txt"));
    assert_int_equal(number_column(out, "gr\xc3\xb6\xc3\x9f"
                                        "e"),
                     number_column(out, "b"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_explain),
        cmocka_unit_test(test_cli_explain_overflow),
        cmocka_unit_test(test_cli_table_unicode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
