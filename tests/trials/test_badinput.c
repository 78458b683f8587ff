/*
 * test_badinput.c - the bad-input suite: every file of tests/fixtures/bad/
 * (a spec and the CSV it names) goes through what `automl run` does before
 * its first trial: the spec (aml_spec_load), the data (aml_dataset_load)
 * and the fold plan (aml_cv_init).  Each case expects either one exact
 * error line (the fixture directory stripped from its paths) or success
 * checked by a function that reads the expected values off the CSV text
 * (written out in the comment of each check).
 */
#include "testutil.h"

#include "aml.h"
#include "dataset.h"
#include "metric.h"
#include "search.h"
#include "spec.h"
#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*check_fn)(const aml_spec *s, const aml_dataset *d, const aml_cv *cv);

typedef struct bad_case {
    const char *spec;   /* file in tests/fixtures/bad */
    const char *expect; /* the error line, or NULL when the case must load */
    check_fn check;     /* for cases that load */
} bad_case;

/* ------------------------------------------------- checks of good cases */

static long column(const aml_dataset *d, const char *name)
{
    long j = aml_frame_find(d->features, name);

    if (j < 0)
        fail_msg("no column '%s'", name);
    return j;
}

/* x = 1,5 2,25 -0,5 3 4,75 1e-3 with decimal commas and ';'. */
static void check_semicolon_decimal(const aml_spec *s, const aml_dataset *d,
                                    const aml_cv *cv)
{
    static const double x[] = {1.5, 2.25, -0.5, 3, 4.75, 0.001};
    const double *v = aml_frame_real(d->features, (size_t)column(d, "x"));
    size_t i;

    (void)s;
    (void)cv;
    for (i = 0; i < 6; i++)
        assert_true(v[i] == x[i]);
}

/* pipe.csv / tab.tsv: x = 1.5 2 3 4 5 6, z text with levels a b. */
static void check_xz(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(aml_frame_cols(d->features), 2);
    assert_true(aml_frame_real(d->features, (size_t)column(d, "x"))[0] == 1.5);
    assert_int_equal(aml_frame_n_levels(d->features, (size_t)column(d, "z")), 2);
    assert_int_equal(d->n_classes, 2);
}

/* Labels "good, fine" and "bad ""x""": two classes, no phantom third. */
static void check_quoted_labels(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->n_classes, 2);
    assert_string_equal(d->classes[0], "bad \"x\"");
    assert_string_equal(d->classes[1], "good, fine");
}

/* BOM, CRLF, no final newline: the first name is "id2", 6 rows. */
static void check_bom_crlf(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_string_equal(aml_frame_name(d->features, 0), "id2");
    assert_int_equal(d->n, 6);
}

/* Six data rows, then a blank and a space-only line. */
static void check_six_rows(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->n, 6);
}

/* "x, c, y": names and cells lose the space after the comma. */
static void check_spaces(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    long c = column(d, "c");

    (void)s;
    (void)cv;
    assert_string_equal(aml_frame_level(d->features, (size_t)c, 0), "blue");
    assert_string_equal(aml_frame_level(d->features, (size_t)c, 1), "red");
}

/* country: NA is Namibia (its own list holds only ""); row 4 is missing. */
static void check_namibia(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    long c = column(d, "country");
    const int32_t *codes = aml_frame_codes(d->features, (size_t)c);

    (void)s;
    (void)cv;
    assert_int_equal(aml_frame_n_levels(d->features, (size_t)c), 2);
    assert_string_equal(aml_frame_level(d->features, (size_t)c, 0), "NA");
    assert_int_equal(codes[0], 0);
    assert_int_equal(codes[3], -1);
}

/* Targets "", NA, ?: three rows dropped and counted; 9 remain. */
static void check_missing_target(const aml_spec *s, const aml_dataset *d,
                                 const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->dropped_rows, 3);
    assert_int_equal(d->n, 9);
}

/* Labels 1, 1.0, 0, 0.0: two classes "0" and "1". */
static void check_one_point_zero(const aml_spec *s, const aml_dataset *d,
                                 const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->n_classes, 2);
    assert_string_equal(d->classes[0], "0");
    assert_string_equal(d->classes[1], "1");
    assert_true(d->y[1] == 1.0 && d->y[3] == 0.0);
}

/*
 * useless.csv, 12 rows: row = 1..12 (a row counter), const = 7, empty
 * (no value), name = name0..name11 (unique text), kept_const = k (listed
 * under keep), x = (7i) mod 5.  Dropped: row, const, empty, name.
 */
static void check_useless(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    static const char *const names[] = {"row", "const", "empty", "name"};
    static const char *const why[] = {"unique ID per row", "constant", "all missing",
                                      "unique ID per row"};
    size_t i;

    (void)s;
    (void)cv;
    assert_int_equal(d->n_dropped_cols, 4);
    for (i = 0; i < 4; i++) {
        assert_string_equal(d->dropped_cols[i].name, names[i]);
        assert_string_equal(d->dropped_cols[i].reason, why[i]);
    }
    assert_int_equal(aml_frame_cols(d->features), 2);
    column(d, "kept_const");
    column(d, "x");
}

/*
 * useless_gaps.csv, 14 rows, rows 4 and 9 without a target: row = 1..14 is
 * still a row counter (its gaps are the dropped rows); measure = 10 row,
 * distinct integers spread wider than the file's rows, is kept.
 */
static void check_useless_gaps(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->n, 12);
    assert_int_equal(d->dropped_rows, 2);
    assert_int_equal(d->n_dropped_cols, 1);
    assert_string_equal(d->dropped_cols[0].name, "row");
    assert_string_equal(d->dropped_cols[0].reason, "unique ID per row");
    assert_int_equal(aml_frame_cols(d->features), 1);
    column(d, "measure");
}

/* zip codes listed categorical: three levels, sorted as text. */
static void check_zip(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    long z = column(d, "zip");

    (void)s;
    (void)cv;
    assert_int_equal(aml_frame_type(d->features, (size_t)z), AML_COL_CATEGORICAL);
    assert_int_equal(aml_frame_n_levels(d->features, (size_t)z), 3);
    assert_string_equal(aml_frame_level(d->features, (size_t)z, 0), "10115");
}

/* 1e-3 3e+05 -2.5E2 .5 +7 6 are numbers. */
static void check_exponents(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    static const double x[] = {0.001, 300000, -250, 0.5, 7, 6};
    const double *v = aml_frame_real(d->features, 0);
    size_t i;

    (void)s;
    (void)cv;
    assert_int_equal(aml_frame_type(d->features, 0), AML_COL_NUMERIC);
    for (i = 0; i < 6; i++)
        assert_true(v[i] == x[i]);
}

/* b = 2 inf 4 5 6 7 with inf declared missing for b only. */
static void check_inf_declared(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    const double *b = aml_frame_real(d->features, (size_t)column(d, "b"));

    (void)s;
    (void)cv;
    assert_true(b[0] == 2.0 && isnan(b[1]) && b[2] == 4.0);
}

/* groups a (rows 0 1 4) and b (rows 2 3 5): each group in one fold; g is no input. */
static void check_groups(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    assert_int_equal(aml_frame_find(d->features, "g"), -1);
    assert_int_equal(cv->k, 2);
    assert_int_equal(cv->fold_of[0], cv->fold_of[1]);
    assert_int_equal(cv->fold_of[0], cv->fold_of[4]);
    assert_int_equal(cv->fold_of[2], cv->fold_of[3]);
    assert_int_equal(cv->fold_of[2], cv->fold_of[5]);
    assert_true(cv->fold_of[0] != cv->fold_of[2]);
}

/* Class b has 3 rows for 4 folds: one warning naming it; a (7 rows) is fine. */
static void check_small_class(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(d->n_warnings, 1);
    assert_string_equal(d->warnings[0], "class 'b' has 3 rows, fewer than the 4 folds: "
                                        "some validation folds will not hold it");
}

/* One row of class c, kfold: allowed with a warning (c: 1 row < 3 folds). */
static void check_one_row_kfold(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    assert_int_equal(cv->k, 3);
    assert_int_equal(d->n_warnings, 1);
    assert_non_null(strstr(d->warnings[0], "class 'c' has 1 row"));
}

/*
 * ts.csv dates (text, ISO order): rows by date are 1 (01-01), 2, 0, 4,
 * 3, 5.  k = 2: test size 6 / 3 = 2; rows 1, 2 train only, rows 0, 4
 * fold 0, rows 3, 5 fold 1.  t stays an input.
 */
static void check_ts(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    static const int want[6] = {0, -1, -1, 1, 0, 1};
    size_t i;

    (void)s;
    column(d, "t");
    assert_int_equal(cv->k, 2);
    for (i = 0; i < 6; i++)
        assert_int_equal(cv->fold_of[i], want[i]);
}

/* small_class.csv (a: 7, b: 3), 0.3 holdout stratified: 2 a + 1 b validate. */
static void check_holdout(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)d;
    assert_int_equal(cv->k, 1);
    assert_int_equal(cv->start[1], 3);
}

/* 2 repeats x 2 folds: 4 splits, each row validated once per repeat. */
static void check_repeated(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    assert_int_equal(cv->k, 4);
    assert_int_equal(cv->start[2], d->n);
    assert_int_equal(cv->start[4], 2 * d->n);
}

/* Three preprocess dimensions appended to the learner. */
static void check_pre(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    const aml_space_learner *l = &s->space->learners[0];

    (void)d;
    (void)cv;
    assert_true(l->n_dims >= 3);
    assert_string_equal(l->dims[l->n_dims - 3].name, "preprocess.impute");
    assert_string_equal(l->dims[l->n_dims - 1].name, "preprocess.balance");
    assert_int_equal(l->dims[l->n_dims - 1].n_choices, 3);
}

/* ----------------------------------------------------------- the table */

/* comma_text.csv: x is "1,2"-style decimal commas without data.decimal: a warning. */
static void check_comma_text(const aml_spec *s, const aml_dataset *d, const aml_cv *cv)
{
    (void)s;
    (void)cv;
    assert_int_equal(aml_frame_type(d->features, (size_t)column(d, "x")),
                     AML_COL_CATEGORICAL);
    assert_int_equal(d->n_warnings, 1);
    assert_non_null(strstr(d->warnings[0], "column 'x' holds numbers written with ',' "
                                           "decimals"));
    assert_non_null(strstr(d->warnings[0], "set data.decimal: \",\""));
}

static const bad_case cases[] = {
    {"empty.yaml", "empty.csv:1:1: empty file", NULL},
    {"header_only.yaml", "header_only.csv:2:1: no data rows", NULL},
    {"dup_header.yaml", "dup_header.csv:1:3: duplicate column name 'a'", NULL},
    {"ragged.yaml", "ragged.csv:3:1: expected 3 fields, found 2", NULL},
    {"unterminated.yaml", "unterminated.csv:2:2: quoted field is never closed", NULL},
    {"unknown_target.yaml",
     "unknown_target.yaml:4:11: target 'label' is not a column of "
     "pipe.csv",
     NULL},
    {"single.yaml",
     "single.yaml:4:11: target 'y' has a single class ('x') in single.csv; "
     "classification "
     "needs at least two",
     NULL},
    {"infnum.yaml",
     "infnum.csv:3:2: column 'b': 'inf' is not a number; list it under data.missing to "
     "read "
     "it as missing",
     NULL},
    {"nanword.yaml",
     "nanword.csv:3:2: column 'b': 'NaN' is not a number; list it under data.missing to "
     "read it as missing",
     NULL},
    {"inf_declared.yaml", NULL, check_inf_declared},
    {"semicolon_decimal.yaml", NULL, check_semicolon_decimal},
    /* Forced ',' on a ';' file: one header field, two in "1,5;a;0". */
    {"forced_delimiter.yaml", "semicolon_decimal.csv:2:1: expected 1 fields, found 2",
     NULL},
    {"pipe.yaml", NULL, check_xz},
    {"tab.yaml", NULL, check_xz},
    {"quoted_labels.yaml", NULL, check_quoted_labels},
    {"bom_crlf.yaml", NULL, check_bom_crlf},
    {"trailing_blank.yaml", NULL, check_six_rows},
    {"spaces.yaml", NULL, check_spaces},
    {"namibia.yaml", NULL, check_namibia},
    {"missing_target.yaml", NULL, check_missing_target},
    {"one_point_zero.yaml", NULL, check_one_point_zero},
    {"useless.yaml", NULL, check_useless},
    {"useless_gaps.yaml", NULL, check_useless_gaps},
    {"zip.yaml", NULL, check_zip},
    {"exponents.yaml", NULL, check_exponents},
    {"groups_too_few.yaml",
     "groups_too_few.yaml:5:36: cv.folds is 3 but the cv.group column holds only 2 "
     "groups; use cv.folds: 2 at most",
     NULL},
    {"groups_ok.yaml", NULL, check_groups},
    {"one_row_class.yaml",
     "one_row_class.yaml:5:13: class 'c' has a single row: a stratified plan needs at "
     "least 2 rows of every class "
     "(remove it, or use cv.kind: kfold)",
     NULL},
    {"one_row_class_kfold.yaml", NULL, check_one_row_kfold},
    {"small_class.yaml", NULL, check_small_class},
    {"too_many_folds.yaml",
     "too_many_folds.yaml:5:26: cv.folds is 5 but there are only 4 rows; use cv.folds: 4 "
     "at most",
     NULL},
    {"every_class_small.yaml",
     "every_class_small.yaml:5:13: every class has fewer rows than the 3 folds; the "
     "largest fold count that works is "
     "cv.folds: 2",
     NULL},
    {"ts_ok.yaml", NULL, check_ts},
    {"ts_no_order.yaml",
     "ts_no_order.yaml:5:12: cv.kind time_series needs cv.order: COLUMN", NULL},
    {"ts_bad_order.yaml",
     "ts_bad_order.yaml:5:32: cv.order: 'when' is not an input column of ts.csv", NULL},
    {"holdout_ok.yaml", NULL, check_holdout},
    {"repeated_ok.yaml", NULL, check_repeated},
    {"bad_kind.yaml",
     "bad_kind.yaml:5:12: unknown kind 'loo'; known kinds: kfold, stratified, repeated, "
     "group, time_series, holdout",
     NULL},
    {"kind_and_stratified.yaml",
     "kind_and_stratified.yaml:5:19: give cv.kind or cv.stratified, not both", NULL},
    {"repeats_wrong_kind.yaml",
     "repeats_wrong_kind.yaml:5:19: 'repeats' applies to cv.kind repeated only", NULL},
    {"bad_fraction.yaml",
     "bad_fraction.yaml:5:31: 'fraction' must be a number between 0 and 1, not '1.5'",
     NULL},
    {"bad_delimiter.yaml",
     "bad_delimiter.yaml:5:14: 'delimiter' must be \",\", \";\", \"|\" or tab, not ':'",
     NULL},
    {"bad_decimal.yaml",
     "bad_decimal.yaml:5:12: 'decimal' must be \".\" or \",\", not '''", NULL},
    {"bad_missing.yaml",
     "bad_missing.yaml:5:16: 'x' must be a list, like [a, b], not 'NA'", NULL},
    {"unknown_keep.yaml",
     "unknown_keep.yaml:5:9: keep: 'nothere' is not a column of tiny.csv", NULL},
    {"pre_unknown.yaml",
     "pre_unknown.yaml:6:3: unknown parameter 'colour' for preprocess; its parameters: "
     "impute, impute_value, missing_indicator, encode, max_levels, scale, dedup, balance",
     NULL},
    {"pre_bad_value.yaml", NULL, NULL}, /* message checked by prefix below */
    {"pre_ok.yaml", NULL, check_pre},
    {"comma_text.yaml", NULL, check_comma_text},
    /* Files the run writes must not be files it reads, nor each other. */
    {"out_is_train.yaml",
     "out_is_train.yaml:8:9: output 'tiny.csv' is the training data: it would be "
     "overwritten",
     NULL},
    {"out_is_store.yaml",
     "out_is_store.yaml:8:9: output 's.db' is the store: it would be overwritten", NULL},
    {"out_is_spec.yaml",
     "out_is_spec.yaml:8:9: output 'out_is_spec.yaml' is the spec itself: it would be "
     "overwritten",
     NULL},
    {"out_no_dir.yaml",
     "out_no_dir.yaml:8:9: output 'nodir/m.model': its directory does "
     "not exist",
     NULL},
    {"store_is_train.yaml",
     "store_is_train.yaml:7:8: store 'tiny.csv' is the training data: it would be "
     "overwritten",
     NULL},
};

/* --------------------------------------------------------------- driver */

static char bad_dir[4096];

/* The message with every "bad_dir/" removed, so expectations are portable. */
static void strip_dir(char *out, size_t len, const char *msg)
{
    size_t dl = strlen(bad_dir), o = 0;

    while (*msg && o + 1 < len) {
        if (strncmp(msg, bad_dir, dl) == 0 && msg[dl] == '/') {
            msg += dl + 1;
            continue;
        }
        out[o++] = *msg++;
    }
    out[o] = '\0';
}

/* Spec, data, plan: returns 0 with everything loaded, else the code. */
static int run_case(const bad_case *c, aml_spec **s, aml_dataset **d, aml_cv *cv)
{
    char path[8192];
    int rc;

    snprintf(path, sizeof(path), "%s/%s", bad_dir, c->spec);
    if ((rc = aml_spec_load(s, path, aml_test_vocab())) < 0 ||
        (rc = aml_dataset_load(d, *s)) < 0)
        return rc;
    return aml_cv_init(cv, *d, (*s)->space, aml_metric_default((*d)->task), (*s)->folds,
                       (*s)->stratified, (*s)->cv_seed, (*s)->seed);
}

static void test_bad_inputs(void **state)
{
    size_t i;

    (void)state;
    snprintf(bad_dir, sizeof(bad_dir), "%s/fixtures/bad", AML_TEST_DIR);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_case *c = &cases[i];
        aml_spec *s = NULL;
        aml_dataset *d = NULL;
        aml_cv cv;
        char got[2048];
        int rc;

        memset(&cv, 0, sizeof(cv));
        aml_error_clear();
        rc = run_case(c, &s, &d, &cv);
        strip_dir(got, sizeof(got), aml_error_message());
        if (c->expect && (rc >= 0 || strcmp(got, c->expect) != 0))
            fail_msg("%s: rc %d\n  got:    %s\n  wanted: %s", c->spec, rc, got,
                     c->expect);
        if (!c->expect && c->check && rc < 0)
            fail_msg("%s: rc %d: %s", c->spec, rc, got);
        if (!c->expect && !c->check && (rc >= 0 || !strstr(got, "preprocess:")))
            fail_msg("%s: rc %d: %s", c->spec, rc, got);
        if (c->check)
            c->check(s, d, &cv);
        aml_cv_dispose(&cv);
        aml_dataset_free(d);
        aml_spec_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
