/*
 * test_frame.c - the CSV reader and the columnar frame.
 *
 * Each fixture in tests/fixtures/csv/ was written by hand (see README.md
 * there) to hold one quirk; the expected values below are read off the
 * fixture text.  Line numbers count physical lines of the file, 1-based,
 * including the line breaks inside quoted fields.
 */
#include "testutil.h"

#include "aml.h"
#include "frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fixture_path[4096];

static const char *csv_fixture(const char *name)
{
    snprintf(fixture_path, sizeof(fixture_path), "%s/fixtures/csv/%s", AML_TEST_DIR,
             name);
    return fixture_path;
}

static aml_frame *read_ok(const char *name, const aml_csv_options *opt)
{
    aml_frame *f = NULL;
    int rc = aml_frame_read_csv(&f, csv_fixture(name), opt);

    if (rc != 0)
        fail_msg("%s: rc %d: %s", name, rc, aml_error_message());
    assert_non_null(f);
    return f;
}

/* Reads a fixture that must fail with `code` and exactly "<path>:<rest>". */
static void read_fails(const char *name, const aml_csv_options *opt, int code,
                       const char *rest)
{
    aml_frame *f = (aml_frame *)1;
    char want[4200];
    int rc = aml_frame_read_csv(&f, csv_fixture(name), opt);

    snprintf(want, sizeof(want), "%s:%s", fixture_path, rest);
    assert_int_equal(rc, code);
    assert_null(f);
    assert_string_equal(aml_error_message(), want);
}

static void assert_levels(const aml_frame *f, size_t col, const char *const *levels,
                          size_t n)
{
    size_t k;

    assert_int_equal(aml_frame_type(f, col), AML_COL_CATEGORICAL);
    assert_null(aml_frame_real(f, col));
    assert_int_equal(aml_frame_n_levels(f, col), n);
    for (k = 0; k < n; k++)
        assert_string_equal(aml_frame_level(f, col, k), levels[k]);
}

static void assert_codes(const aml_frame *f, size_t col, const int32_t *codes)
{
    size_t i;

    for (i = 0; i < aml_frame_rows(f); i++)
        assert_int_equal(aml_frame_codes(f, col)[i], codes[i]);
}

/* NaN in `want` means missing. */
static void assert_reals(const aml_frame *f, size_t col, const double *want)
{
    const double *x = aml_frame_real(f, col);
    size_t i;

    assert_int_equal(aml_frame_type(f, col), AML_COL_NUMERIC);
    assert_null(aml_frame_codes(f, col));
    for (i = 0; i < aml_frame_rows(f); i++) {
        if (isnan(want[i]))
            assert_true(isnan(x[i]));
        else
            assert_true(x[i] == want[i]);
    }
}

static void assert_lines(const aml_frame *f, const size_t *lines)
{
    size_t i;

    for (i = 0; i < aml_frame_rows(f); i++)
        assert_int_equal(aml_frame_line(f, i), lines[i]);
}

/*
 * basic.csv: quoted comma, doubled quotes, a line break inside quotes
 * (row 3 spans lines 4-5), a space after a comma, and the default missing
 * tokens "", "NA" and "?".  Levels sort by byte: 'S' < 'p' < 's' < 't'.
 */
static void test_frame_basic(void **state)
{
    static const char *const names[] = {"Smith, John", "plain", "say \"hi\"",
                                        "two\nlines"};
    static const char *const colors[] = {"blue", "green", "red"};
    static const double id[] = {1, 2, 3, 4, 5};
    static const double score[] = {2.5, -1000, 4, NAN, NAN};
    static const int32_t name_codes[] = {0, 2, 3, 1, -1};
    static const int32_t color_codes[] = {2, 0, -1, 2, 1};
    static const size_t lines[] = {2, 3, 4, 6, 7};
    aml_frame *f = read_ok("basic.csv", NULL);

    assert_int_equal(aml_frame_rows(f), 5);
    assert_int_equal(aml_frame_cols(f), 4);
    assert_string_equal(aml_frame_path(f), csv_fixture("basic.csv"));
    assert_string_equal(aml_frame_name(f, 0), "id");
    assert_string_equal(aml_frame_name(f, 3), "color");
    assert_int_equal(aml_frame_find(f, "score"), 2);
    assert_int_equal(aml_frame_find(f, "nope"), -1);
    assert_reals(f, 0, id);
    assert_levels(f, 1, names, 4);
    assert_codes(f, 1, name_codes);
    assert_reals(f, 2, score);
    assert_levels(f, 3, colors, 3);
    assert_codes(f, 3, color_codes);
    assert_lines(f, lines);
    aml_frame_free(f);
}

/* A UTF-8 BOM, CRLF line ends (also inside quotes) and no final newline. */
static void test_frame_crlf_bom(void **state)
{
    static const char *const levels[] = {"p\r\nq", "x", "z"};
    static const double a[] = {1, 2, 3};
    static const int32_t codes[] = {1, 0, 2};
    static const size_t lines[] = {2, 3, 5};
    aml_frame *f = read_ok("crlf_bom.csv", NULL);

    assert_int_equal(aml_frame_rows(f), 3);
    assert_string_equal(aml_frame_name(f, 0), "a");
    assert_string_equal(aml_frame_name(f, 1), "b");
    assert_reals(f, 0, a);
    assert_levels(f, 1, levels, 3);
    assert_codes(f, 1, codes);
    assert_lines(f, lines);
    aml_frame_free(f);
}

/* Blank and blank-looking lines are skipped anywhere; line numbers stay physical. */
static void test_frame_blank_lines(void **state)
{
    static const double x[] = {1, 3}, y[] = {2, 4};
    static const size_t lines[] = {2, 4};
    aml_frame *f = read_ok("blank_lines.csv", NULL);

    assert_int_equal(aml_frame_rows(f), 2);
    assert_reals(f, 0, x);
    assert_reals(f, 1, y);
    assert_lines(f, lines);
    aml_frame_free(f);
}

/* Tab delimiter: spaces around unquoted cells go, inner spaces stay; "" is missing. */
static void test_frame_tabs(void **state)
{
    static const char *const levels[] = {"x y"};
    static const double a[] = {1, 2};
    static const int32_t codes[] = {0, -1};
    aml_csv_options opt = {.delimiter = '\t'};
    aml_frame *f = read_ok("tabs.tsv", &opt);

    assert_int_equal(aml_frame_cols(f), 2);
    assert_reals(f, 0, a);
    assert_levels(f, 1, levels, 1);
    assert_codes(f, 1, codes);
    aml_frame_free(f);
}

/* infnan.csv's inf/nan spellings declared missing, column by column. */
static const char *const w_missing[] = {"inf", "-INF"};
static const char *const x_missing[] = {"nan", "NaN"};
static const char *const y_missing[] = {"Infinity"};
static const aml_csv_colmissing infnan_missing[] = {
    {"w", w_missing, 2}, {"x", x_missing, 2}, {"y", y_missing, 1}};

/*
 * A column of numbers holding "inf" is an error naming its first such
 * cell (w, line 2, field 2), since reading it as text would lose 3.
 */
static void test_frame_infnan_error(void **state)
{
    (void)state;
    read_fails("infnan.csv", NULL, AML_EFORMAT,
               "2:2: column 'w': 'inf' is not a number; list it under data.missing to "
               "read it as missing");
}

/*
 * Declared missing per column, inf/nan read as gaps; hex stays text;
 * exponents, signs and ".5" are numbers.
 */
static void test_frame_infnan(void **state)
{
    static const char *const h[] = {"0x1A", "7", "8"};
    static const double v[] = {1, 2, 3}, n[] = {100, -0.5, 3};
    aml_csv_options opt = {.col_missing = infnan_missing, .n_col_missing = 3};
    aml_frame *f = read_ok("infnan.csv", &opt);

    (void)state;
    assert_reals(f, 0, v);
    assert_true(isnan(aml_frame_real(f, 1)[0]) && aml_frame_real(f, 1)[1] == 3.0 &&
                isnan(aml_frame_real(f, 1)[2]));
    assert_true(isnan(aml_frame_real(f, 2)[0]) && aml_frame_real(f, 2)[1] == 4.0 &&
                isnan(aml_frame_real(f, 2)[2]));
    assert_true(aml_frame_real(f, 3)[0] == 1.5 && isnan(aml_frame_real(f, 3)[1]) &&
                aml_frame_real(f, 3)[2] == 2.0);
    assert_reals(f, 4, n);
    assert_levels(f, 5, h, 3);
    aml_frame_free(f);
}

/* Forced numeric, an inf word is still refused when not declared missing. */
static void test_frame_force_numeric_infinity(void **state)
{
    static const char *const numeric[] = {"y", "not_a_column"};
    aml_csv_options opt = {.numeric = numeric,
                           .n_numeric = 2,
                           .col_missing = infnan_missing,
                           .n_col_missing = 2};

    (void)state;
    read_fails("infnan.csv", &opt, AML_EFORMAT,
               "3:4: column 'y': 'Infinity' is not a number; list it under data.missing "
               "to read it as missing");
}

/*
 * A number beyond a double (-1e999) would make strtod's -inf and turn the
 * column into text (then dropped as a row ID); it is an error naming the
 * cell, also in a column of nothing else, and with the column forced
 * numeric (predict).  An underflow (1e-999) is a number, 0.
 */
static void test_frame_overflow(void **state)
{
    static const char *const numeric[] = {"a"};
    aml_csv_options opt = {.numeric = numeric, .n_numeric = 1};

    (void)state;
    read_fails("overflow.csv", NULL, AML_EFORMAT,
               "3:1: column 'a': '-1e999' is too large for a number (beyond +-1.8e308)");
    read_fails("overflow.csv", &opt, AML_EFORMAT,
               "3:1: column 'a': '-1e999' is too large for a number (beyond +-1.8e308)");
    read_fails("overflow_alone.csv", NULL, AML_EFORMAT,
               "2:2: column 'u': '1E400' is too large for a number (beyond +-1.8e308)");
}

/* The cell's line counts the line break inside the quoted cell above it. */
static void test_frame_force_numeric_text(void **state)
{
    static const char *const numeric[] = {"b"};
    aml_csv_options opt = {.numeric = numeric, .n_numeric = 1};

    read_fails("not_number.csv", &opt, AML_EFORMAT,
               "5:2: column 'b': 'abc' is not a number");
}

static void test_frame_force_numeric_ok(void **state)
{
    static const char *const numeric[] = {"n"};
    static const double n[] = {100, -0.5, 3};
    aml_csv_options opt = {.numeric = numeric,
                           .n_numeric = 1,
                           .col_missing = infnan_missing,
                           .n_col_missing = 3};
    aml_frame *f = read_ok("infnan.csv", &opt);

    assert_reals(f, 4, n);
    aml_frame_free(f);
}

static void test_frame_force_categorical(void **state)
{
    static const char *const categorical[] = {"id"};
    static const char *const levels[] = {"1", "2", "3", "4", "5"};
    static const int32_t codes[] = {0, 1, 2, 3, 4};
    aml_csv_options opt = {.categorical = categorical, .n_categorical = 1};
    aml_frame *f = read_ok("basic.csv", &opt);

    assert_levels(f, 0, levels, 5);
    assert_codes(f, 0, codes);
    aml_frame_free(f);
}

/* With "NA" as the only token, "?" and "" become values: score turns categorical. */
static void test_frame_missing_tokens(void **state)
{
    static const char *const missing[] = {"NA"};
    static const char *const score[] = {"-1e3", "2.5", "4", "?"};
    static const char *const color[] = {"", "blue", "green", "red"};
    static const int32_t score_codes[] = {1, 0, 2, -1, 3};
    static const int32_t color_codes[] = {3, 1, 0, 3, 2};
    aml_csv_options opt = {.missing = missing, .n_missing = 1};
    aml_frame *f = read_ok("basic.csv", &opt);

    assert_levels(f, 2, score, 4);
    assert_codes(f, 2, score_codes);
    assert_levels(f, 3, color, 4);
    assert_codes(f, 3, color_codes);
    aml_frame_free(f);
}

static void test_frame_errors(void **state)
{
    read_fails("ragged_short.csv", NULL, AML_EFORMAT, "3:1: expected 3 fields, found 2");
    read_fails("ragged_long.csv", NULL, AML_EFORMAT, "4:1: expected 2 fields, found 3");
    read_fails("dup_header.csv", NULL, AML_EFORMAT, "1:3: duplicate column name 'a'");
    read_fails("empty_name.csv", NULL, AML_EFORMAT, "1:2: column 2 has an empty name");
    read_fails("empty.csv", NULL, AML_EFORMAT, "1:1: empty file");
    read_fails("header_only.csv", NULL, AML_EFORMAT, "2:1: no data rows");
    read_fails("unterminated.csv", NULL, AML_EFORMAT,
               "2:2: quoted field is never closed");
    read_fails("nul.csv", NULL, AML_EFORMAT, "2:2: NUL byte in a field");
    read_fails("no_such_file.csv", NULL, AML_EIO, " No such file or directory");
}

/* Reads text as the file "mem.csv" with decimal commas; rc and *out as the reader's. */
static int read_decimal_comma(const char *text, aml_frame **out)
{
    aml_csv_options opt = {.decimal = ','};
    FILE *fp = fmemopen((void *)text, strlen(text), "rb");
    int rc;

    assert_non_null(fp);
    rc = aml_frame_read_stream(out, fp, "mem.csv", &opt);
    fclose(fp);
    return rc;
}

/*
 * Decimal commas with the delimiter detected: a comma-separated header is
 * an error (every number would be split or read as text); a header of one
 * column reads "1,5" as 1.5; ';' files read as before.
 */
static void test_frame_decimal_comma_sniff(void **state)
{
    static const double one[] = {1.5, 2.25, -3};
    static const double semi[] = {1.5, 4};
    aml_frame *f = (aml_frame *)1;

    assert_int_equal(read_decimal_comma("a,b\n1,5\n", &f), AML_EFORMAT);
    assert_null(f);
    assert_string_equal(aml_error_message(),
                        "mem.csv:1: the header is separated by ',' but the decimal mark "
                        "is ','; decimal commas need a ';', tab or '|' delimiter (or "
                        "decimal: '.')");
    assert_int_equal(read_decimal_comma("x\n1,5\n2,25\n-3\n", &f), 0);
    assert_int_equal(aml_frame_cols(f), 1);
    assert_reals(f, 0, one);
    aml_frame_free(f);
    assert_int_equal(read_decimal_comma("x;y\n1,5;a\n4;b\n", &f), 0);
    assert_int_equal(aml_frame_cols(f), 2);
    assert_reals(f, 0, semi);
    aml_frame_free(f);
    assert_int_equal(aml_csv_sniff("a,b\n", 4, ','), 0);
    assert_int_equal(aml_csv_sniff("a,b\n", 4, '.'), ',');
}

static void test_frame_drop_filter(void **state)
{
    static const unsigned char keep[] = {0, 1, 0, 1, 1};
    static const size_t lines[] = {3, 6, 7};
    static const double score[] = {-1000, NAN, NAN};
    static const int32_t color_codes[] = {0, 2, 1};
    aml_frame *f = read_ok("basic.csv", NULL);

    assert_int_equal(aml_frame_drop(f, 1), 0);
    assert_int_equal(aml_frame_cols(f), 3);
    assert_string_equal(aml_frame_name(f, 1), "score");
    assert_int_equal(aml_frame_find(f, "name"), -1);
    assert_int_equal(aml_frame_drop(f, 3), AML_EINVAL);

    assert_int_equal(aml_frame_filter_rows(f, keep), 0);
    assert_int_equal(aml_frame_rows(f), 3);
    assert_lines(f, lines);
    assert_reals(f, 1, score);
    assert_int_equal(aml_frame_n_levels(f, 2), 3); /* levels are kept as they were */
    assert_codes(f, 2, color_codes);
    aml_frame_free(f);
    aml_frame_free(NULL);
}

/*
 * A file of several 64 KiB read chunks: the first row's CR is the last
 * byte of the first chunk (its LF starts the second), and every later row
 * carries a CRLF inside quotes, so row i (0-based) starts on line 2 + 2i.
 */
#define BIG_ROWS 12000
#define BIG_CHUNK (64 * 1024)

static void write_big_csv(const char *path)
{
    FILE *fp = fopen(path, "wb");
    size_t pad = BIG_CHUNK - 10, i; /* CR at 5 + 4 + pad: the chunk's last byte */
    char *x = malloc(pad + 1);

    assert_non_null(fp);
    assert_non_null(x);
    memset(x, 'x', pad);
    x[pad] = '\0';
    fprintf(fp, "n,t\r\n0,\"%s\"\r\n", x);
    for (i = 1; i < BIG_ROWS; i++)
        fprintf(fp, "%zu,\"a\r\n%zu\"\r\n", i * 3, i % 7);
    fclose(fp);
    free(x);
}

static void test_frame_chunks(void **state)
{
    char path[512];
    aml_frame *f = NULL;
    size_t i;

    snprintf(path, sizeof(path), "%s/big.csv", aml_test_tmpdir());
    write_big_csv(path);
    assert_int_equal(aml_frame_read_csv(&f, path, NULL), 0);
    assert_int_equal(aml_frame_rows(f), BIG_ROWS);
    assert_int_equal(aml_frame_n_levels(f, 1), 8); /* "a\r\n0".."a\r\n6" and the x run */
    assert_string_equal(aml_frame_level(f, 1, 0), "a\r\n0");
    for (i = 0; i < BIG_ROWS; i++) {
        assert_true(aml_frame_real(f, 0)[i] == (double)(i * 3));
        assert_int_equal(aml_frame_line(f, i), 2 + 2 * i - (i > 0));
        if (i > 0)
            assert_int_equal(aml_frame_codes(f, 1)[i], (int32_t)(i % 7));
    }
    assert_int_equal(aml_frame_codes(f, 1)[0], 7);
    aml_frame_free(f);
}

/*
 * penguins.csv against CATALOG.md: 344 rows, 8 columns, NA in 5 columns
 * with 11 in sex, species Adelie 152 / Chinstrap 68 / Gentoo 124.  The 2
 * NAs in each measurement column were counted with Python's csv module.
 */
static void test_frame_penguins(void **state)
{
    static const char *const names[] = {"species",
                                        "island",
                                        "bill_length_mm",
                                        "bill_depth_mm",
                                        "flipper_length_mm",
                                        "body_mass_g",
                                        "sex",
                                        "year"};
    static const int cat[] = {1, 1, 0, 0, 0, 0, 1, 0};
    static const size_t missing[] = {0, 0, 2, 2, 2, 2, 11, 0};
    const char *path = aml_test_shared("penguins.csv");
    size_t j, i, counts[3] = {0, 0, 0};
    aml_frame *f = NULL;

    if (!path)
        skip();
    assert_int_equal(aml_frame_read_csv(&f, path, NULL), 0);
    assert_int_equal(aml_frame_rows(f), 344);
    assert_int_equal(aml_frame_cols(f), 8);
    for (j = 0; j < 8; j++) {
        size_t n_missing = 0;

        assert_string_equal(aml_frame_name(f, j), names[j]);
        assert_int_equal(aml_frame_type(f, j), cat[j]);
        for (i = 0; i < 344; i++)
            n_missing +=
                cat[j] ? aml_frame_codes(f, j)[i] < 0 : isnan(aml_frame_real(f, j)[i]);
        assert_int_equal(n_missing, missing[j]);
    }
    assert_int_equal(aml_frame_n_levels(f, 0), 3);
    for (i = 0; i < 344; i++)
        counts[aml_frame_codes(f, 0)[i]]++;
    assert_int_equal(counts[0], 152);
    assert_int_equal(counts[1], 68);
    assert_int_equal(counts[2], 124);
    assert_string_equal(aml_frame_level(f, 0, 1), "Chinstrap");
    aml_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_basic),
        cmocka_unit_test(test_frame_crlf_bom),
        cmocka_unit_test(test_frame_blank_lines),
        cmocka_unit_test(test_frame_tabs),
        cmocka_unit_test(test_frame_infnan_error),
        cmocka_unit_test(test_frame_infnan),
        cmocka_unit_test(test_frame_force_numeric_infinity),
        cmocka_unit_test(test_frame_force_numeric_text),
        cmocka_unit_test(test_frame_force_numeric_ok),
        cmocka_unit_test(test_frame_force_categorical),
        cmocka_unit_test(test_frame_missing_tokens),
        cmocka_unit_test(test_frame_errors),
        cmocka_unit_test(test_frame_decimal_comma_sniff),
        cmocka_unit_test(test_frame_drop_filter),
        cmocka_unit_test(test_frame_chunks),
        cmocka_unit_test(test_frame_penguins),
        cmocka_unit_test(test_frame_overflow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
