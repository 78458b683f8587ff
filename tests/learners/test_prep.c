/*
 * test_prep.c - the preprocessing pipeline.
 *
 * The main expectations come from scikit-learn (tests/fixtures/gen_prep.py:
 * SimpleImputer + StandardScaler and OneHotEncoder(handle_unknown='ignore')
 * through a ColumnTransformer fitted on rows 0-11 of prep_data.csv and
 * applied to all 18 rows).  The cases scikit-learn handles differently
 * (a column with no training value, a missing level in training) are
 * computed by hand in comments.
 */
#include "testutil.h"

#include "aml.h"
#include "codec.h"
#include "frame.h"
#include "matrix.h"
#include "prep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ROWS 18
#define N_TRAIN 12
#define WIDTH 9 /* x1, color: blue green red, x2, size: L M S, const */

static aml_frame *read_frame(const char *path)
{
    aml_frame *f = NULL;

    if (aml_frame_read_csv(&f, path, NULL) != 0)
        fail_msg("%s: %s", path, aml_error_message());
    return f;
}

static aml_frame *read_fixture(const char *name)
{
    return read_frame(aml_test_fixture(name));
}

static aml_prep *fit_train(const aml_frame *f, int scale)
{
    size_t rows[N_TRAIN], i;
    aml_prep_options opt = {.scale = scale};
    aml_prep *p = NULL;

    for (i = 0; i < N_TRAIN; i++)
        rows[i] = i;
    if (aml_prep_fit(&p, f, rows, N_TRAIN, &opt) != 0)
        fail_msg("fit: %s", aml_error_message());
    return p;
}

/* Compares m (rows picked by `rows`, NULL for all) with an expected file. */
static void assert_matches(const aml_matrix *m, const char *expected, const size_t *rows)
{
    double *want;
    size_t n, cols, i, j;

    aml_test_read_matrix(aml_test_fixture(expected), &want, &n, &cols);
    assert_int_equal(cols, m->cols);
    assert_int_equal(rows ? m->rows : n, m->rows);
    for (i = 0; i < m->rows; i++)
        for (j = 0; j < cols; j++)
            assert_close(aml_matrix_row(m, i)[j], want[(rows ? rows[i] : i) * cols + j],
                         1e-12);
    free(want);
}

static void check_sklearn(int scale, const char *expected)
{
    aml_frame *f = read_fixture("prep_data.csv");
    aml_prep *p = fit_train(f, scale);
    aml_matrix m;

    assert_int_equal(aml_prep_width(p), WIDTH);
    assert_int_equal(aml_prep_transform(p, f, NULL, 0, &m), 0);
    assert_int_equal(m.rows, N_ROWS);
    assert_matches(&m, expected, NULL);
    aml_matrix_dispose(&m);
    aml_prep_free(p);
    aml_frame_free(f);
}

static void test_prep_sklearn_scaled(void **state)
{
    check_sklearn(1, "prep_scaled.csv");
}

static void test_prep_sklearn_plain(void **state)
{
    check_sklearn(0, "prep_plain.csv");
}

static void test_prep_schema(void **state)
{
    static const char *const names[] = {"x1", "color", "x2", "size", "const"};
    static const int types[] = {0, 1, 0, 1, 0};
    aml_frame *f = read_fixture("prep_data.csv");
    aml_prep *p = fit_train(f, 1);
    size_t i;

    assert_int_equal(aml_prep_n_inputs(p), 5);
    for (i = 0; i < 5; i++) {
        assert_string_equal(aml_prep_input_name(p, i), names[i]);
        assert_int_equal(aml_prep_input_type(p, i), types[i]);
    }
    aml_prep_free(p);
    aml_frame_free(f);
}

/* Columns matched by name: another order and an extra column give the same matrix. */
static void test_prep_permuted(void **state)
{
    aml_frame *f = read_fixture("prep_data.csv");
    aml_frame *g = read_fixture("prep_permuted.csv");
    aml_prep *p = fit_train(f, 1);
    aml_matrix m;

    assert_int_equal(aml_prep_transform(p, g, NULL, 0, &m), 0);
    assert_matches(&m, "prep_scaled.csv", NULL);
    aml_matrix_dispose(&m);
    aml_prep_free(p);
    aml_frame_free(g);
    aml_frame_free(f);
}

static void test_prep_row_subset(void **state)
{
    static const size_t rows[] = {17, 3, 13, 3};
    aml_frame *f = read_fixture("prep_data.csv");
    aml_prep *p = fit_train(f, 1);
    aml_matrix m;

    assert_int_equal(aml_prep_transform(p, f, rows, 4, &m), 0);
    assert_int_equal(m.rows, 4);
    assert_matches(&m, "prep_scaled.csv", rows);
    aml_matrix_dispose(&m);
    aml_prep_free(p);
    aml_frame_free(f);
}

static aml_prep *save_load(const aml_prep *p, aml_writer *w)
{
    aml_reader r;
    aml_prep *q = NULL;

    aml_writer_init(w);
    assert_int_equal(aml_prep_save(p, w), 0);
    aml_reader_init(&r, w->data, w->len);
    assert_int_equal(aml_prep_load(&q, &r), 0);
    assert_int_equal(r.pos, w->len);
    return q;
}

/* A loaded pipeline transforms bit for bit like the one that was saved. */
static void test_prep_save_load(void **state)
{
    aml_frame *f = read_fixture("prep_data.csv");
    aml_frame *g = read_fixture("prep_permuted.csv");
    aml_prep *p = fit_train(f, 1), *q;
    aml_matrix a, b;
    aml_writer w;
    size_t i;

    q = save_load(p, &w);
    assert_int_equal(aml_prep_width(q), WIDTH);
    assert_int_equal(aml_prep_n_inputs(q), 5);
    assert_string_equal(aml_prep_input_name(q, 3), "size");
    assert_int_equal(aml_prep_transform(p, f, NULL, 0, &a), 0);
    assert_int_equal(aml_prep_transform(q, g, NULL, 0, &b), 0);
    assert_memory_equal(a.data, b.data, sizeof(double) * N_ROWS * WIDTH);
    aml_matrix_dispose(&a);
    aml_matrix_dispose(&b);

    /* Every truncation is a format error, never a crash. */
    for (i = 0; i < w.len; i++) {
        aml_reader r;
        aml_prep *t = (aml_prep *)1;

        aml_reader_init(&r, w.data, i);
        assert_int_equal(aml_prep_load(&t, &r), AML_EFORMAT);
        assert_null(t);
    }
    aml_writer_dispose(&w);
    aml_prep_free(q);
    aml_prep_free(p);
    aml_prep_free(NULL);
    aml_frame_free(g);
    aml_frame_free(f);
}

/* Hand-made encodings: layout u32 1, u8 scale, u64 n, then the inputs. */
static int load_bytes(const aml_writer *w)
{
    aml_reader r;
    aml_prep *p = NULL;
    int rc;

    aml_reader_init(&r, w->data, w->len);
    rc = aml_prep_load(&p, &r);
    aml_prep_free(p);
    return rc;
}

static void test_prep_load_rejects(void **state)
{
    aml_writer w;

    /* levels out of order */
    aml_writer_init(&w);
    aml_put_u32(&w, 1);
    aml_put_u8(&w, 0);
    aml_put_u64(&w, 1);
    aml_put_str(&w, "c");
    aml_put_u8(&w, 1);
    aml_put_u64(&w, 2);
    aml_put_str(&w, "b");
    aml_put_str(&w, "a");
    assert_int_equal(load_bytes(&w), AML_EFORMAT);
    aml_writer_dispose(&w);

    /* unknown column type */
    aml_writer_init(&w);
    aml_put_u32(&w, 1);
    aml_put_u8(&w, 0);
    aml_put_u64(&w, 1);
    aml_put_str(&w, "c");
    aml_put_u8(&w, 7);
    assert_int_equal(load_bytes(&w), AML_EFORMAT);
    aml_writer_dispose(&w);

    /* a zero scale */
    aml_writer_init(&w);
    aml_put_u32(&w, 1);
    aml_put_u8(&w, 1);
    aml_put_u64(&w, 1);
    aml_put_str(&w, "c");
    aml_put_u8(&w, 0);
    aml_put_f64(&w, 1.5);
    aml_put_f64(&w, 0.0);
    assert_int_equal(load_bytes(&w), AML_EFORMAT);
    aml_writer_dispose(&w);

    /* a count far beyond the bytes present, and an unknown version */
    aml_writer_init(&w);
    aml_put_u32(&w, 1);
    aml_put_u8(&w, 0);
    aml_put_u64(&w, UINT64_C(1) << 40);
    assert_int_equal(load_bytes(&w), AML_EFORMAT);
    w.data[0] = 2;
    assert_int_equal(load_bytes(&w), AML_EFORMAT);
    aml_writer_dispose(&w);
}

/*
 * prep_allmissing.csv, fitted on rows 0-1 with scaling:
 *   a: 1, 2 -> mean 1.5, population sd 0.5;
 *   z: no value in training -> impute 0, variance 0 -> scale 1;
 *   c: training levels {x} (row 1 is missing) -> one column.
 * Row 0: (1-1.5)/0.5 = -1, 0, 1.  Row 1: 1, 0, 0 (missing level).
 * Row 2: (3-1.5)/0.5 = 3, (5-0)/1 = 5, 0 ('y' was never seen).
 */
static void test_prep_by_hand(void **state)
{
    static const double want[3][3] = {{-1, 0, 1}, {1, 0, 0}, {3, 5, 0}};
    static const size_t rows[] = {0, 1};
    char path[4096];
    aml_prep_options opt = {.scale = 1};
    aml_frame *f;
    aml_prep *p = NULL;
    aml_matrix m;
    size_t i, j;

    snprintf(path, sizeof(path), "%s/fixtures/csv/prep_allmissing.csv", AML_TEST_DIR);
    f = read_frame(path);
    assert_int_equal(aml_prep_fit(&p, f, rows, 2, &opt), 0);
    assert_int_equal(aml_prep_width(p), 3);
    assert_int_equal(aml_prep_transform(p, f, NULL, 0, &m), 0);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            assert_close(aml_matrix_row(&m, i)[j], want[i][j], 1e-15);
    aml_matrix_dispose(&m);
    aml_prep_free(p);
    aml_frame_free(f);
}

static void test_prep_errors(void **state)
{
    static const size_t bad_rows[] = {0, 18};
    aml_frame *f = read_fixture("prep_data.csv");
    aml_prep *p = fit_train(f, 1), *q = (aml_prep *)1;
    char path[4096], want[4200];
    aml_frame *g;
    aml_matrix m;

    assert_int_equal(aml_prep_fit(&q, f, bad_rows, 0, NULL), AML_EINVAL);
    assert_null(q);
    assert_int_equal(aml_prep_fit(&q, f, bad_rows, 2, NULL), AML_EINVAL);
    assert_int_equal(aml_prep_transform(p, f, bad_rows, 2, &m), AML_EINVAL);
    assert_null(m.data);

    snprintf(path, sizeof(path), "%s/fixtures/csv/prep_no_x2.csv", AML_TEST_DIR);
    g = read_frame(path);
    assert_int_equal(aml_prep_transform(p, g, NULL, 0, &m), AML_EINVAL);
    snprintf(want, sizeof(want), "column 'x2' is missing from %s", path);
    assert_string_equal(aml_error_message(), want);
    aml_frame_free(g);

    snprintf(path, sizeof(path), "%s/fixtures/csv/prep_color_numeric.csv", AML_TEST_DIR);
    g = read_frame(path);
    assert_int_equal(aml_prep_transform(p, g, NULL, 0, &m), AML_EINVAL);
    snprintf(want, sizeof(want),
             "column 'color' is numeric in %s but was categorical in training", path);
    assert_string_equal(aml_error_message(), want);
    aml_frame_free(g);

    aml_prep_free(p);
    aml_frame_free(f);
}

/* ------------------------------------------------------------ options */

/* Fits rows 0-11 of prep_data.csv with `opt`, compares all 18 rows with a fixture. */
static void check_options(const aml_prep_options *opt, size_t width, const char *expected)
{
    aml_frame *f = read_fixture("prep_data.csv");
    size_t rows[N_TRAIN], i;
    aml_prep *p = NULL, *q;
    aml_matrix m;
    aml_writer w;

    for (i = 0; i < N_TRAIN; i++)
        rows[i] = i;
    assert_int_equal(aml_prep_fit(&p, f, rows, N_TRAIN, opt), 0);
    assert_int_equal(aml_prep_width(p), width);
    q = save_load(p, &w); /* the saved pipeline must do the same */
    assert_int_equal(aml_prep_transform(q, f, NULL, 0, &m), 0);
    assert_matches(&m, expected, NULL);
    aml_matrix_dispose(&m);
    aml_writer_dispose(&w);
    aml_prep_free(q);
    aml_prep_free(p);
    aml_frame_free(f);
}

/* scikit-learn fixtures from tests/fixtures/gen_prep_options.py. */
static void test_prep_sklearn_options(void **state)
{
    aml_prep_options a = {.impute = AML_IMPUTE_MEDIAN, .scale = AML_SCALE_ROBUST};
    aml_prep_options b = {.impute = AML_IMPUTE_MOST_FREQUENT, .scale = AML_SCALE_MINMAX};
    aml_prep_options c = {.impute = AML_IMPUTE_CONSTANT,
                          .impute_value = -1.0,
                          .missing_indicator = 1,
                          .scale = AML_SCALE_STANDARD};

    (void)state;
    check_options(&a, WIDTH, "prep_median_robust.csv");
    check_options(&b, WIDTH, "prep_mode_minmax.csv");
    /* x1 has gaps in training: one indicator column; x2 and const have none. */
    check_options(&c, WIDTH + 1, "prep_const_indicator.csv");
}

/*
 * Training counts (rows 0-11 of prep_data.csv): color red 5, blue 4,
 * green 3; size M 5, S 4, L 3.  max_levels 2 keeps {blue, red} and
 * {M, S} (sorted), each with an "other" column: width 1+3+1+3+1 = 9.
 * Row 1 (green, S): color other; row 12 (purple, M): color other (never
 * seen); row 13 (NA, XL): color all zeros, size other; row 14 (green, NA):
 * color other, size all zeros.
 * Ordinal, levels sorted: color blue 0, green 1, red 2; size L 0, M 1,
 * S 2; unseen and missing give -1: row 12 (purple) -1, row 13 (NA, XL)
 * -1 -1, row 14 (green, NA) 1 -1.
 */
static void test_prep_levels_by_hand(void **state)
{
    static const double capped[4][6] = {
        {0, 0, 1, 0, 1, 0}, {0, 0, 1, 1, 0, 0}, {0, 0, 0, 0, 0, 1}, {0, 0, 1, 0, 0, 0}};
    static const size_t capped_rows[4] = {1, 12, 13, 14};
    static const double ordinal[4][2] = {{1, 2}, {-1, 1}, {-1, -1}, {1, -1}};
    aml_prep_options cap = {.max_levels = 2}, ord = {.encode = AML_ENCODE_ORDINAL};
    aml_frame *f = read_fixture("prep_data.csv");
    size_t rows[N_TRAIN], i, j;
    aml_prep *p = NULL;
    aml_matrix m;

    (void)state;
    for (i = 0; i < N_TRAIN; i++)
        rows[i] = i;
    assert_int_equal(aml_prep_fit(&p, f, rows, N_TRAIN, &cap), 0);
    assert_int_equal(aml_prep_width(p), 9);
    assert_int_equal(aml_prep_transform(p, f, capped_rows, 4, &m), 0);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 3; j++) {
            assert_true(aml_matrix_row(&m, i)[1 + j] == capped[i][j]);
            assert_true(aml_matrix_row(&m, i)[5 + j] == capped[i][3 + j]);
        }
    aml_matrix_dispose(&m);
    aml_prep_free(p);

    assert_int_equal(aml_prep_fit(&p, f, rows, N_TRAIN, &ord), 0);
    assert_int_equal(aml_prep_width(p), 5);
    assert_int_equal(aml_prep_transform(p, f, capped_rows, 4, &m), 0);
    for (i = 0; i < 4; i++) {
        assert_true(aml_matrix_row(&m, i)[1] == ordinal[i][0]);
        assert_true(aml_matrix_row(&m, i)[3] == ordinal[i][1]);
    }
    aml_matrix_dispose(&m);
    aml_prep_free(p);
    aml_frame_free(f);
}

static aml_frame *write_and_read(const char *name, const char *text)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return read_frame(path);
}

/*
 * Leakage: rows 8 and 9 (validation) hold extreme values and an unseen
 * level.  A pipeline fitted on rows 0-7 of the full table must equal, bit
 * for bit, one fitted on a table that holds rows 0-7 only, for every
 * imputer and scaler: no statistic of the validation rows reaches it.
 * Hand check for standard scaling with mean imputation: x = 1..7 and NA,
 * mean 4 (the NA is imputed with it), population sd sqrt(28/8) = 1.8708;
 * row 0 gives (1 - 4) / 1.8708 = -1.60357.
 */
static void test_prep_leakage(void **state)
{
    static const char *train = "x,c\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\nNA,b\n";
    aml_frame *full = write_and_read("leak_full.csv", "x,c\n1,a\n2,b\n3,a\n4,b\n5,a\n"
                                                      "6,b\n7,a\nNA,b\n1e300,zz\n-1e300,"
                                                      "zz\n");
    aml_frame *part = write_and_read("leak_part.csv", train);
    static const size_t rows[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int impute, scale;

    (void)state;
    for (impute = 0; impute <= AML_IMPUTE_CONSTANT; impute++) {
        for (scale = 0; scale <= AML_SCALE_ROBUST; scale++) {
            aml_prep_options o = {
                .scale = scale, .impute = impute, .missing_indicator = 1};
            aml_prep *a = NULL, *b = NULL;
            aml_matrix ma, mb;

            assert_int_equal(aml_prep_fit(&a, full, rows, 8, &o), 0);
            assert_int_equal(aml_prep_fit(&b, part, rows, 8, &o), 0);
            assert_int_equal(aml_prep_width(a), aml_prep_width(b));
            assert_int_equal(aml_prep_transform(a, full, rows, 8, &ma), 0);
            assert_int_equal(aml_prep_transform(b, part, NULL, 0, &mb), 0);
            assert_memory_equal(ma.data, mb.data, sizeof(double) * 8 * ma.cols);
            if (impute == AML_IMPUTE_MEAN && scale == AML_SCALE_STANDARD)
                assert_close(aml_matrix_row(&ma, 0)[0], -3.0 / sqrt(3.5), 1e-12);
            aml_matrix_dispose(&ma);
            aml_matrix_dispose(&mb);
            aml_prep_free(a);
            aml_prep_free(b);
        }
    }
    aml_frame_free(full);
    aml_frame_free(part);
}

static void test_prep_option_set(void **state)
{
    aml_prep_options o = {.scale = AML_SCALE_STANDARD};
    aml_value v = {.kind = AML_VAL_STR, .str = "auto"};

    (void)state;
    assert_int_equal(aml_prep_option_set(&o, "scale", &v), 0);
    assert_int_equal(o.scale, AML_SCALE_STANDARD); /* auto keeps the learner's default */
    v.str = "robust";
    assert_int_equal(aml_prep_option_set(&o, "scale", &v), 0);
    assert_int_equal(o.scale, AML_SCALE_ROBUST);
    v.str = "smote";
    assert_int_equal(aml_prep_option_set(&o, "balance", &v), 0);
    assert_int_equal(o.balance, AML_BALANCE_SMOTE);
    v.str = "sideways";
    assert_int_equal(aml_prep_option_set(&o, "encode", &v), AML_EINVAL);
    assert_int_equal(aml_prep_option_set(&o, "colour", &v), AML_EINVAL);
    v.kind = AML_VAL_INT;
    v.i = 7;
    assert_int_equal(aml_prep_option_set(&o, "max_levels", &v), 0);
    assert_int_equal(o.max_levels, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prep_sklearn_scaled),
        cmocka_unit_test(test_prep_sklearn_options),
        cmocka_unit_test(test_prep_levels_by_hand),
        cmocka_unit_test(test_prep_leakage),
        cmocka_unit_test(test_prep_option_set),
        cmocka_unit_test(test_prep_sklearn_plain),
        cmocka_unit_test(test_prep_schema),
        cmocka_unit_test(test_prep_permuted),
        cmocka_unit_test(test_prep_row_subset),
        cmocka_unit_test(test_prep_save_load),
        cmocka_unit_test(test_prep_load_rejects),
        cmocka_unit_test(test_prep_by_hand),
        cmocka_unit_test(test_prep_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
