/*
 * test_cgen.c - the C source writer (learners/cgen.c) and every learner's
 * emit_c slot.
 *
 * The writer's text is checked literally.  The learners are checked end to
 * end: each one is fitted on a fixture, its emit_c function and a small
 * driver are written to a file, compiled with the system's cc (the test
 * skips when there is none), run on the fixture's rows, and its outputs
 * compared with the learner's predict: bit for bit where the arithmetic is
 * the same, to 1e-12 where predict sums through BLAS.
 */
#include "testutil.h"

#include "aml.h"
#include "cgen.h"
#include "frame.h"
#include "learner.h"
#include "prep.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a learner's exported outputs must agree with its predict. */
enum { EXACT = 1, BLAS = 0 };
#define BLAS_TOL 1e-12

static aml_cgen *new_gen(void)
{
    aml_cgen *g = NULL;

    assert_int_equal(aml_cgen_new(&g), 0);
    return g;
}

static void test_doubles_are_exact_literals(void **state)
{
    double v[] = {3.0, -0.0, 0.1, 1e300, INFINITY, -INFINITY, NAN, -2.5e-310};
    aml_cgen *g = new_gen();
    const char *text;

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_doubles(g, "v", v, 8), 0);
    text = aml_cgen_text(g, NULL);
    /* Integers become double literals, so -0.0 keeps its sign; the subnormal
     * prints its own 17 digits. */
    assert_string_equal(text,
                        "static const double v[8] = {\n"
                        "    3.0, -0.0, 0.10000000000000001, 1.0000000000000001e+300,\n"
                        "    INFINITY, -INFINITY, NAN, -2.5000000000000171e-310};\n");
    aml_cgen_free(g);
}

static void test_empty_arrays_and_ints(void **state)
{
    int v[] = {-1, 0, 7};
    aml_cgen *g = new_gen();

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_doubles(g, "e", NULL, 0), 0);
    assert_int_equal(aml_cgen_ints(g, "i", v, 3), 0);
    assert_string_equal(aml_cgen_text(g, NULL), "static const double e[1] = {0.0};\n"
                                                "static const int i[3] = {\n"
                                                "    -1, 0, 7};\n");
    aml_cgen_free(g);
}

static void test_strings_are_escaped(void **state)
{
    aml_cgen *g = new_gen();
    size_t len;

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_string(g, "a\"b\\c?\?=\n\x01"
                                        "9\xc3\xa9"),
                     0);
    /* The octal escapes take three digits, so the '9' stays a character. */
    assert_string_equal(aml_cgen_text(g, &len),
                        "\"a\\\"b\\\\c\\?\\?=\\012\\0019\\303\\251\"");
    assert_int_equal(len, strlen(aml_cgen_text(g, NULL)));
    aml_cgen_free(g);
}

static void test_names_are_unique(void **state)
{
    aml_cgen *g = new_gen();
    char a[32], b[32], tiny[4];

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_name(g, "tree", a, sizeof(a)), 0);
    assert_int_equal(aml_cgen_name(g, "tree", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    /* A name that does not fit fails, and the failure sticks. */
    assert_int_equal(aml_cgen_name(g, "forest", tiny, sizeof(tiny)), AML_EINVAL);
    assert_true(aml_cgen_printf(g, "x") < 0);
    assert_true(aml_cgen_save(g, "/nonexistent/never") < 0);
    aml_cgen_free(g);
}

static void test_long_text_grows(void **state)
{
    aml_cgen *g = new_gen();
    size_t len, i;

    AML_UNUSED(state);
    for (i = 0; i < 2000; i++)
        assert_int_equal(aml_cgen_printf(g, "%05zu;", i), 0);
    assert_non_null(aml_cgen_text(g, &len));
    assert_int_equal(len, 12000);
    assert_memory_equal(aml_cgen_text(g, NULL) + 11994, "01999;", 6);
    aml_cgen_free(g);
}

static void test_save_writes_the_text(void **state)
{
    aml_cgen *g = new_gen();
    char path[512], buf[64];
    FILE *f;
    size_t n;

    AML_UNUSED(state);
    snprintf(path, sizeof(path), "%s/saved.c", aml_test_tmpdir());
    aml_cgen_printf(g, "int x = %d;\n", 42);
    assert_int_equal(aml_cgen_save(g, path), 0);
    assert_non_null(f = fopen(path, "rb"));
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, "int x = 42;\n", 12);
    aml_cgen_free(g);
}

static void test_learner_without_slot(void **state)
{
    aml_learner_type fake = {.name = "fake"};
    aml_learner l = {.type = &fake};
    aml_cgen *g = new_gen();

    AML_UNUSED(state);
    assert_int_equal(aml_learner_emit_c(&l, g, "f"), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "'fake'"));
    aml_cgen_free(g);
}

/* ---- learners end to end ------------------------------------------------ */

typedef struct emit_case {
    const char *learner;
    aml_task task;
    const char *fixture;
    const char *params; /* "name=value;..." (numbers or words) */
    int exact;
    int holes; /* put NaN in a few cells (gradient boosting's missing side) */
} emit_case;

static int have_cc(void)
{
    return system("cc --version >/dev/null 2>&1") == 0;
}

static void set_params(aml_learner *l, const char *params)
{
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof(buf), "%s", params);
    for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '='), *end;
        aml_value v = {0};

        assert_non_null(eq);
        *eq = '\0';
        v.real = strtod(eq + 1, &end);
        v.kind = *end ? AML_VAL_STR : AML_VAL_REAL;
        if (v.kind == AML_VAL_STR)
            v.str = eq + 1;
        else if (v.real == floor(v.real) && !strchr(eq + 1, '.'))
            v.kind = AML_VAL_INT, v.i = (long long)v.real;
        if (aml_learner_set_param(l, tok, &v) < 0)
            fail_msg("%s: %s", tok, aml_error_message());
    }
}

/* Writes fn's source with a driver reading rows of p hex doubles from stdin. */
static void write_program(aml_cgen *g, const char *path, size_t p, int outs)
{
    aml_cgen_printf(g,
                    "int main(void)\n{\n"
                    "    double x[%zu], out[%d];\n    size_t j;\n    int c;\n\n"
                    "    for (;;) {\n"
                    "        for (j = 0; j < %zu; j++)\n"
                    "            if (scanf(\"%%lf\", &x[j]) != 1)\n"
                    "                return 0;\n"
                    "        model(x, out);\n"
                    "        for (c = 0; c < %d; c++)\n"
                    "            printf(\"%%a%%c\", out[c], c + 1 < %d ? ' ' : '\\n');\n"
                    "    }\n}\n",
                    p + 1, outs, p, outs, outs);
    assert_int_equal(aml_cgen_save(g, path), 0);
}

/* Compiles src to exe with nothing but cc and libm; warnings are errors. */
static void compile(const char *src, const char *exe)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd), "cc -std=c99 -O2 -Wall -Wextra -Werror -o %s %s -lm", exe,
             src);
    if (system(cmd) != 0)
        fail_msg("cannot compile %s", src);
}

/* Runs exe on X's rows (hex doubles) and reads rows x outs outputs back. */
static double *run_program(const char *exe, const aml_matrix *X, int outs)
{
    char in[1100], outp[1100], cmd[4096];
    size_t i, j, n = X->rows * (size_t)outs;
    double *got = malloc(n * sizeof(double));
    FILE *f;

    snprintf(in, sizeof(in), "%s.in", exe);
    snprintf(outp, sizeof(outp), "%s.out", exe);
    assert_non_null(f = fopen(in, "w"));
    for (i = 0; i < X->rows; i++)
        for (j = 0; j < X->cols; j++)
            fprintf(f, "%a%c", aml_matrix_row(X, i)[j], j + 1 < X->cols ? ' ' : '\n');
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s < %s > %s", exe, in, outp);
    assert_int_equal(system(cmd), 0);
    assert_non_null(f = fopen(outp, "r"));
    for (i = 0; i < n; i++)
        if (fscanf(f, "%lf", &got[i]) != 1)
            fail_msg("%s: output %zu of %zu missing", exe, i, n);
    fclose(f);
    return got;
}

/* Exact: the same bits (NaN matches NaN).  BLAS: within BLAS_TOL relative. */
static void compare(const emit_case *c, const double *want, const double *got, size_t n)
{
    double worst = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        double err = fabs(want[i] - got[i]) / fmax(1.0, fabs(want[i]));

        if (c->exact && memcmp(&want[i], &got[i], sizeof(double)) != 0 &&
            !(isnan(want[i]) && isnan(got[i])))
            fail_msg("%s (%s): output %zu is %.17g, predict gives %.17g", c->learner,
                     c->params, i, got[i], want[i]);
        if (!(err <= BLAS_TOL))
            fail_msg("%s (%s): output %zu is %.17g, predict gives %.17g", c->learner,
                     c->params, i, got[i], want[i]);
        worst = fmax(worst, err);
    }
    if (!c->exact)
        print_message("    %s (%s): largest relative difference %.3g\n", c->learner,
                      c->params, worst);
}

/* Fixtures "x...,y,w": the last column read as y is the weight. */
static double *split_weights(const char *fixture, aml_matrix *X, double **y)
{
    size_t i, j, p = X->cols - 1;
    double *w = *y;

    if (!strstr(fixture, "svmnb_"))
        return NULL;
    *y = malloc(X->rows * sizeof(double));
    for (i = 0; i < X->rows; i++) {
        (*y)[i] = aml_matrix_row(X, i)[p];
        for (j = 0; j < p; j++)
            X->data[i * p + j] = X->data[i * X->cols + j];
    }
    X->cols = p;
    return w;
}

/* Every 7th row gets a NaN in column (row mod p). */
static void punch_holes(aml_matrix *X)
{
    size_t i;

    for (i = 0; i < X->rows; i += 7)
        aml_matrix_row(X, i)[i % X->cols] = NAN;
}

static void check_case(const emit_case *c, int index)
{
    const aml_learner_type *type = aml_learner_type_find(c->learner);
    aml_learner *l = NULL;
    aml_matrix X;
    aml_cgen *g = new_gen();
    double *y, *w, *want, *got, mx = 0;
    char src[512], exe[512];
    aml_rng rng;
    size_t i;
    int outs;

    assert_non_null(type);
    aml_test_read_xy(c->fixture, &X, &y);
    w = split_weights(c->fixture, &X, &y);
    if (c->holes)
        punch_holes(&X);
    for (i = 0; i < X.rows; i++)
        mx = fmax(mx, y[i]);
    aml_rng_init(&rng, 42, (uint64_t)index);
    assert_int_equal(aml_learner_new(&l, type, c->task), 0);
    set_params(l, c->params);
    if (aml_learner_fit(l, &X, y, w, (int)mx + 1, &rng, 1) < 0)
        fail_msg("%s: %s", c->learner, aml_error_message());
    outs = aml_learner_outputs(l);
    want = aml_test_predict(l, &X);
    aml_cgen_printf(g, "#include <math.h>\n#include <stddef.h>\n#include <stdio.h>\n\n");
    if (aml_learner_emit_c(l, g, "model") < 0)
        fail_msg("%s: %s", c->learner, aml_error_message());
    snprintf(src, sizeof(src), "%s/case%d.c", aml_test_tmpdir(), index);
    snprintf(exe, sizeof(exe), "%s/case%d", aml_test_tmpdir(), index);
    write_program(g, src, X.cols, outs);
    compile(src, exe);
    got = run_program(exe, &X, outs);
    compare(c, want, got, X.rows * (size_t)outs);
    free(got), free(want), free(y), free(w);
    aml_matrix_dispose(&X);
    aml_learner_free(l);
    aml_cgen_free(g);
}

#define CLF AML_TASK_CLASSIFICATION
#define REG AML_TASK_REGRESSION

static const emit_case cases[] = {
    {"logistic_regression", CLF, "linear_clf3.csv", "C=0.5", BLAS, 0},
    {"logistic_regression", CLF, "svmnb_clf2_train.csv", "penalty=l1", BLAS, 0},
    {"ridge", REG, "linear_reg.csv", "alpha=0.3", BLAS, 0},
    {"lasso", REG, "linear_reg.csv", "alpha=0.05", BLAS, 0},
    {"elastic_net", REG, "linear_reg.csv", "alpha=0.05;l1_ratio=0.3", BLAS, 0},
    {"linear_svm", CLF, "svmnb_clf2_train.csv", "C=0.7", BLAS, 0},
    {"linear_svm", CLF, "linear_clf3.csv", "loss=hinge", BLAS, 0},
    {"svm", CLF, "svmnb_clf3_train.csv", "kernel=rbf;C=2", BLAS, 0},
    {"svm", CLF, "svmnb_clf2_train.csv", "kernel=poly;degree=3;gamma=0.5", BLAS, 0},
    {"svm", CLF, "svmnb_clf2_train.csv", "kernel=sigmoid;gamma=0.05", BLAS, 0},
    {"svm", CLF, "svmnb_clf3_train.csv", "kernel=linear;platt=train", BLAS, 0},
    {"naive_bayes", CLF, "svmnb_clf3_train.csv", "var_smoothing=1e-9", EXACT, 0},
    {"knn", CLF, "trees_knn_clf_train.csv", "k=7", EXACT, 0},
    {"knn", CLF, "trees_knn_clf_train.csv", "k=5;weights=distance", EXACT, 0},
    {"knn", REG, "trees_knn_reg_train.csv", "k=4;metric=manhattan;weights=distance",
     EXACT, 0},
    {"knn", REG, "trees_knn_reg_train.csv", "k=9", EXACT, 0},
    {"decision_tree", CLF, "trees_knn_clf_train.csv", "max_depth=6", EXACT, 0},
    {"decision_tree", REG, "trees_knn_reg_train.csv", "min_samples_leaf=3", EXACT, 0},
    {"random_forest", CLF, "forest_clf_train.csv", "n_estimators=25", EXACT, 0},
    {"random_forest", REG, "forest_reg_train.csv", "n_estimators=20", EXACT, 0},
    {"extra_trees", CLF, "forest_clf_train.csv", "n_estimators=15", EXACT, 0},
    {"extra_trees", REG, "forest_reg_train.csv", "n_estimators=15", EXACT, 0},
    {"adaboost", CLF, "trees_knn_clf_train.csv", "n_estimators=30", EXACT, 0},
    {"adaboost", CLF, "svmnb_clf2_train.csv", "n_estimators=20;max_depth=2", EXACT, 0},
    {"adaboost", REG, "trees_knn_reg_train.csv", "n_estimators=25", EXACT, 0},
    {"gradient_boosting", CLF, "hgb_clf_train.csv", "n_estimators=40", EXACT, 1},
    {"gradient_boosting", CLF, "trees_knn_clf_train.csv", "n_estimators=20", EXACT, 1},
    {"gradient_boosting", REG, "hgb_reg_train.csv", "n_estimators=40;max_leaves=8", EXACT,
     1},
    {"mlp", CLF, "mlp_clf_train.csv", "hidden_layer_sizes=16x8;max_iter=60", BLAS, 0},
    {"mlp", CLF, "svmnb_clf3_train.csv", "activation=tanh;max_iter=60", BLAS, 0},
    {"mlp", REG, "mlp_reg_train.csv", "hidden_layer_sizes=32;max_iter=60", BLAS, 0},
};

static void test_every_learner(void **state)
{
    const aml_learner_type *const *t;
    size_t i;

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], (int)i);
    /* Every registered learner kind is among the cases. */
    for (t = aml_learner_types; *t; t++) {
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            if (strcmp(cases[i].learner, (*t)->name) == 0)
                break;
        if (i == sizeof(cases) / sizeof(cases[0]))
            fail_msg("learner %s has no C export case", (*t)->name);
    }
}

/* ---- preprocessing ------------------------------------------------------- */

/*
 * A driver for a prep function: one cell per line, numeric as a hex double
 * (or nan), categorical as "=text" or "-" for missing.
 */
static void write_prep_program(aml_cgen *g, const char *path, size_t n_in, size_t width)
{
    aml_cgen_printf(
        g,
        "int main(void)\n{\n"
        "    static char text[%zu][256];\n"
        "    double num[%zu], x[%zu];\n"
        "    const char *cat[%zu];\n    size_t i;\n\n"
        "    for (;;) {\n"
        "        for (i = 0; i < %zu; i++) {\n"
        "            if (!fgets(text[i], 256, stdin))\n                return 0;\n"
        "            text[i][strcspn(text[i], \"\\n\")] = '\\0';\n"
        "            num[i] = strtod(text[i], NULL);\n"
        "            cat[i] = text[i][0] == '=' ? text[i] + 1 : NULL;\n"
        "        }\n"
        "        prep(num, cat, x);\n"
        "        for (i = 0; i < %zu; i++)\n"
        "            printf(\"%%a%%c\", x[i], i + 1 < %zu ? ' ' : '\\n');\n"
        "    }\n}\n",
        n_in + 1, n_in + 1, width + 1, n_in + 1, n_in, width, width);
    assert_int_equal(aml_cgen_save(g, path), 0);
}

/* Runs the prep program on every row of f; returns rows x width values. */
static double *run_prep_program(const char *exe, const aml_frame *f, size_t width)
{
    char in[1100], outp[1100], cmd[4096];
    size_t i, j, n = aml_frame_rows(f) * width;
    double *got = malloc(n * sizeof(double));
    FILE *fp;

    snprintf(in, sizeof(in), "%s.in", exe);
    snprintf(outp, sizeof(outp), "%s.out", exe);
    assert_non_null(fp = fopen(in, "w"));
    for (i = 0; i < aml_frame_rows(f); i++)
        for (j = 0; j < aml_frame_cols(f); j++) {
            int32_t code;

            if (aml_frame_type(f, j) == AML_COL_NUMERIC)
                fprintf(fp, "%a\n", aml_frame_real(f, j)[i]);
            else if ((code = aml_frame_codes(f, j)[i]) < 0)
                fprintf(fp, "-\n");
            else
                fprintf(fp, "=%s\n", aml_frame_level(f, j, (size_t)code));
        }
    fclose(fp);
    snprintf(cmd, sizeof(cmd), "%s < %s > %s", exe, in, outp);
    assert_int_equal(system(cmd), 0);
    assert_non_null(fp = fopen(outp, "r"));
    for (i = 0; i < n; i++)
        if (fscanf(fp, "%lf", &got[i]) != 1)
            fail_msg("%s: output %zu of %zu missing", exe, i, n);
    fclose(fp);
    return got;
}

/* Fits on the first 12 rows (so later rows hold unseen levels), compares all 18. */
static void check_prep(const aml_prep_options *o, int index)
{
    size_t rows[12], i, width;
    aml_frame *f = NULL;
    aml_prep *p = NULL;
    aml_matrix want;
    aml_cgen *g = new_gen();
    char src[512], exe[512];
    double *got;

    assert_int_equal(aml_frame_read_csv(&f, aml_test_fixture("prep_data.csv"), NULL), 0);
    for (i = 0; i < 12; i++)
        rows[i] = i;
    assert_int_equal(aml_prep_fit(&p, f, rows, 12, o), 0);
    assert_int_equal(aml_prep_transform(p, f, NULL, 0, &want), 0);
    width = aml_prep_width(p);
    aml_cgen_printf(g, "#include <math.h>\n#include <stddef.h>\n#include <stdio.h>\n"
                       "#include <stdlib.h>\n#include <string.h>\n\n");
    assert_int_equal(aml_prep_emit_c(p, g, "prep", NULL), 0);
    snprintf(src, sizeof(src), "%s/prep%d.c", aml_test_tmpdir(), index);
    snprintf(exe, sizeof(exe), "%s/prep%d", aml_test_tmpdir(), index);
    write_prep_program(g, src, aml_prep_n_inputs(p), width);
    compile(src, exe);
    got = run_prep_program(exe, f, width);
    for (i = 0; i < aml_frame_rows(f) * width; i++)
        if (memcmp(&got[i], &want.data[i], sizeof(double)) != 0)
            fail_msg("options %d: value %zu (row %zu) is %.17g, transform gives %.17g",
                     index, i, i / width, got[i], want.data[i]);
    free(got);
    aml_matrix_dispose(&want);
    aml_prep_free(p);
    aml_frame_free(f);
    aml_cgen_free(g);
}

static void test_prep_every_option(void **state)
{
    static const aml_prep_options opts[] = {
        {0},
        {.scale = AML_SCALE_STANDARD},
        {.scale = AML_SCALE_ROBUST, .impute = AML_IMPUTE_MEDIAN, .max_levels = 2},
        {.scale = AML_SCALE_MINMAX,
         .impute = AML_IMPUTE_MOST_FREQUENT,
         .missing_indicator = 1},
        {.impute = AML_IMPUTE_CONSTANT,
         .impute_value = -1.5,
         .missing_indicator = 1,
         .encode = AML_ENCODE_ORDINAL},
        {.impute = AML_IMPUTE_MOST_FREQUENT,
         .encode = AML_ENCODE_ORDINAL,
         .scale = AML_SCALE_STANDARD},
    };
    size_t i;

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        check_prep(&opts[i], (int)i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_are_exact_literals),
        cmocka_unit_test(test_empty_arrays_and_ints),
        cmocka_unit_test(test_strings_are_escaped),
        cmocka_unit_test(test_names_are_unique),
        cmocka_unit_test(test_long_text_grows),
        cmocka_unit_test(test_save_writes_the_text),
        cmocka_unit_test(test_learner_without_slot),
        cmocka_unit_test(test_every_learner),
        cmocka_unit_test(test_prep_every_option),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
